"""Keras/QKeras model + hls4ml config → the cost model's layer list, as hls4ml itself resolves it.

The model is converted with hls4ml (no files are written, nothing is compiled: ~20 ms for
an MLP), so every type, every ReuseFactor (after hls4ml's own snapping of invalid values
for the Resource strategy) and every zero weight count is the one hls4ml would generate.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from typing import Any

from cost_models.layers import ConvGeometry, FixedType, LayerSpec, Target
from cost_models.weight_stats import WeightStats
from cost_models.weights import summarize_weights

log = logging.getLogger(__name__)

_KIND = {"Dense": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d", "Activation": "activation",
         "ParametrizedActivation": "activation", "Softmax": "softmax", "BatchNormalization": "batchnorm",
         "Input": "input", "HardActivation": "activation", "TernaryTanh": "activation"}
_SKIP = {"Input"}


def to_fixed(precision: Any) -> FixedType:
    """An hls4ml precision type object → ``FixedType``."""
    name = type(precision).__name__
    width = int(getattr(precision, "width", 0) or 0)
    if name == "XnorPrecisionType":
        return FixedType(1, 1, signed=False)
    if name == "FixedPrecisionType":
        return FixedType(width, int(precision.integer), bool(precision.signed))
    if name in ("IntegerPrecisionType", "ExponentPrecisionType"):
        return FixedType(width, width, bool(getattr(precision, "signed", True)))
    return FixedType.parse(str(precision))


def weight_stats(weight: Any, n_in: int, n_out: int) -> WeightStats | None:
    """The CSD summary of an hls4ml weight variable's values at its precision (None if unreadable).

    ``weight.data`` holds the values hls4ml writes to ``weights/wN.txt`` (QKeras quantizers
    already applied), in the same order; they are quantized here exactly as the C++ does.
    """
    data = getattr(weight, "data", None)
    if data is None:
        return None
    prec = weight.type.precision
    rounding = str(getattr(prec, "rounding_mode", "") or "TRN").split(".")[-1].replace("AP_", "")
    overflow = str(getattr(prec, "saturation_mode", "") or "WRAP").split(".")[-1].replace("AP_", "")
    try:
        return summarize_weights(data, to_fixed(prec), n_in, n_out, rounding, overflow)
    except ValueError as exc:
        log.info("no weight summary for %s: %s", getattr(weight, "name", "?"), exc)
        return None


def convert_with_hls4ml(model: Any, hls_config: Mapping[str, Any], target: Target, io_type: str = "io_parallel"
                        ) -> Any:
    """The hls4ml ``ModelGraph`` of ``model`` (written nowhere; a throw-away output folder)."""
    import hls4ml

    backend = "Vitis" if target.backend == "vitis" else "Vivado"
    with tempfile.TemporaryDirectory(prefix="dse_hls_") as tmp:
        return hls4ml.converters.convert_from_keras_model(
            model, hls_config=dict(hls_config), output_dir=tmp, backend=backend, part=target.part,
            clock_period=target.clock_period_ns, io_type=io_type)


def layer_specs(hls_model: Any, io_type: str = "io_parallel") -> list[LayerSpec]:
    """The layer list of an hls4ml ``ModelGraph``."""
    specs: list[LayerSpec] = []
    for layer in hls_model.get_layers():
        cls = layer.class_name
        kind = _KIND.get(cls)
        if kind is None:
            raise ValueError(f"layer {layer.name!r} of type {cls} is not supported by the cost model yet")
        if cls in _SKIP:
            continue
        result = to_fixed(layer.get_output_variable().type.precision)
        rf = int(layer.get_attr("reuse_factor", 1))
        strategy = str(layer.get_attr("strategy", "latency")).lower()
        strategy = "resource" if strategy.startswith("resource") else "latency"
        if kind in ("dense", "conv1d", "conv2d"):
            w = layer.weights["weight"]
            b = layer.weights.get("bias")
            accum = layer.get_attr("accum_t")
            conv = None
            if kind == "dense":
                n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
            else:
                fw = int(layer.get_attr("filt_width"))
                fh = int(layer.get_attr("filt_height", 1) or 1)
                nc, nf = int(layer.get_attr("n_chan")), int(layer.get_attr("n_filt"))
                n_in, n_out = fw * fh * nc, nf
                conv = ConvGeometry(
                    in_width=int(layer.get_attr("in_width")), in_height=int(layer.get_attr("in_height", 1) or 1),
                    n_chan=nc, filt_width=fw, filt_height=fh, n_filt=nf,
                    out_width=int(layer.get_attr("out_width")), out_height=int(layer.get_attr("out_height", 1) or 1),
                    stride_width=int(layer.get_attr("stride_width", 1) or 1),
                    stride_height=int(layer.get_attr("stride_height", 1) or 1))
            specs.append(LayerSpec(
                name=layer.name, kind=kind, n_in=n_in, n_out=n_out, result=result,  # type: ignore[arg-type]
                weight=to_fixed(w.type.precision), bias=to_fixed(b.type.precision) if b is not None else None,
                accum=to_fixed(accum.precision) if accum is not None else None,
                n_zeros=int(getattr(w, "nzeros", 0)), reuse_factor=rf, strategy=strategy,  # type: ignore[arg-type]
                io_type=io_type, conv=conv, weights=weight_stats(w, n_in, n_out)))  # type: ignore[arg-type]
        elif kind in ("activation", "softmax"):
            n = int(layer.get_attr("n_in"))
            table = layer.get_attr("table_t")
            specs.append(LayerSpec(
                name=layer.name, kind=kind, n_in=n, n_out=n, result=result,  # type: ignore[arg-type]
                reuse_factor=rf, strategy=strategy, io_type=io_type,  # type: ignore[arg-type]
                activation=str(layer.get_attr("activation", "softmax" if kind == "softmax" else "linear")).lower(),
                table_size=int(layer.get_attr("table_size", 1024)) if table is not None else None,
                table=to_fixed(table.precision) if table is not None else None,
                accum=to_fixed(layer.get_attr("accum_t").precision) if layer.get_attr("accum_t") else None))
        else:  # batchnorm
            n = int(layer.get_attr("n_in"))
            scale = layer.weights.get("scale")
            specs.append(LayerSpec(
                name=layer.name, kind="batchnorm", n_in=n, n_out=n, result=result,
                weight=to_fixed(scale.type.precision) if scale is not None else None,
                reuse_factor=rf, strategy=strategy, io_type=io_type))  # type: ignore[arg-type]
    return specs


def layers_from_keras(model: Any, hls_config: Mapping[str, Any], target: Target, io_type: str = "io_parallel"
                      ) -> list[LayerSpec]:
    """Convert ``model`` with ``hls_config`` through hls4ml and read back its layer list."""
    return layer_specs(convert_with_hls4ml(model, hls_config, target, io_type), io_type)
