"""The one place dse meets hls4ml: converting a Keras/QKeras model, naming hls4ml backends,
loading saved models with QKeras' custom objects, and reading the converted layers back for
the cost model.

The estimate (``layers_from_keras``), the synthesized project (dse.synthesis.project), the
firmware check and the export all convert through ``convert``, so the design that is
estimated is the design that is synthesized: same backend, part, clock, io_type and
HLSConfig. Conversion writes nothing and compiles nothing unless asked (~20 ms for an MLP).
hls4ml, TensorFlow and QKeras are imported lazily.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cost_models.depthwise_rules import depthwise_unsupported
from cost_models.layers import DEPTHWISE_KINDS, MERGE_OPS, WEIGHTED_KINDS, ConvGeometry, FixedType, LayerSpec, Target
from cost_models.weight_stats import WeightStats
from cost_models.weights import summarize_weights
from dse.errors import ConfigError

log = logging.getLogger(__name__)

HLS4ML_BACKENDS: dict[str, str] = {"vitis": "Vitis", "vivado": "Vivado", "vivadoaccelerator": "VivadoAccelerator",
                                   "quartus": "Quartus", "catapult": "Catapult", "oneapi": "oneAPI"}
"""dse's backend names (space file, cost-model targets) -> hls4ml's backend names (hls4ml 1.3)."""


def hls4ml_backend_name(backend: str) -> str:
    """``vitis`` -> ``Vitis`` (hls4ml's spelling); hls4ml's own spelling is accepted too."""
    key = backend.lower()
    if key not in HLS4ML_BACKENDS:
        raise ConfigError(f"unknown hls4ml backend {backend!r}; known: {', '.join(HLS4ML_BACKENDS.values())}")
    return HLS4ML_BACKENDS[key]


def dse_backend_name(backend: str) -> str:
    """``Vitis`` -> ``vitis`` (dse's spelling)."""
    return hls4ml_backend_name(backend).lower()


@dataclass(frozen=True)
class Hls4mlTarget:
    """Everything hls4ml needs besides the model and its HLSConfig. ``backend`` is dse's name."""

    backend: str
    part: str
    clock_period_ns: float
    io_type: str = "io_parallel"

    @classmethod
    def of_space(cls, space: Any, io_type: str | None = None) -> Hls4mlTarget:
        """The target of a ``SpaceConfig`` (its ``hardware`` section); ``io_type``: a candidate's
        (``Candidate.io_type``; a CNN space may search it), else the space's."""
        hw = space.hardware
        return cls(hw.backend, hw.part, float(hw.clock_period_ns), io_type or hw.io_type)

    @classmethod
    def of_cost_target(cls, target: Target, io_type: str = "io_parallel") -> Hls4mlTarget:
        return cls(target.backend, target.part, float(target.clock_period_ns), io_type)

    def config_document(self, hls_config: Mapping[str, Any]) -> dict[str, Any]:
        """The ``hls4ml_config.yml`` mapping (Backend, Part, ClockPeriod, IOType, HLSConfig)."""
        return {"Backend": hls4ml_backend_name(self.backend), "Part": self.part,
                "ClockPeriod": self.clock_period_ns, "IOType": self.io_type, "HLSConfig": dict(hls_config)}

    @classmethod
    def of_config_document(cls, doc: Mapping[str, Any]) -> Hls4mlTarget:
        return cls(dse_backend_name(str(doc.get("Backend", "Vitis"))), str(doc["Part"]),
                   float(doc.get("ClockPeriod", 5)), str(doc.get("IOType", "io_parallel")))


def convert(model: Any, hls_config: Mapping[str, Any], target: Hls4mlTarget,
            output_dir: str | Path | None = None) -> Any:
    """The hls4ml ``ModelGraph`` of ``model`` under ``hls_config`` for ``target``.

    With ``output_dir`` None the graph is made in a throw-away folder (for reading layers);
    otherwise the caller may ``write()``, ``compile()`` or ``build()`` it there.
    """
    import hls4ml

    kwargs = {"hls_config": dict(hls_config), "backend": hls4ml_backend_name(target.backend), "part": target.part,
              "clock_period": target.clock_period_ns, "io_type": target.io_type}
    if output_dir is not None:
        return hls4ml.converters.convert_from_keras_model(model, output_dir=str(output_dir), **kwargs)
    with tempfile.TemporaryDirectory(prefix="dse_hls_") as tmp:
        return hls4ml.converters.convert_from_keras_model(model, output_dir=tmp, **kwargs)


def custom_objects() -> dict[str, Any]:
    """QKeras' layers and quantizers: what ``tf.keras.models.load_model`` needs to read a saved dse model."""
    from qkeras.utils import _add_supported_quantized_objects

    co: dict[str, Any] = {}
    _add_supported_quantized_objects(co)
    return co


def load_keras_model(path: str | Path) -> Any:
    """Load a Keras/QKeras model (HDF5 or .keras) with QKeras' custom objects.

    Raises ``ConfigError`` when the file is missing or is not a model Keras can load.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"model file not found: {p}")
    import tensorflow as tf

    try:
        return tf.keras.models.load_model(p, custom_objects=custom_objects(), compile=False)
    except Exception as exc:  # Keras raises OSError, ValueError, … for bad files
        raise ConfigError(f"cannot load a Keras model from {p}: {exc}") from None


def load_keras_model_bytes(model_h5: bytes, folder: str | Path) -> Any:
    """Load a model from its HDF5 bytes (written to ``folder/model.h5`` first)."""
    path = Path(folder) / "model.h5"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model_h5)
    return load_keras_model(path)


# --------------------------------------------------------------------------- layers for the cost model

DA_STRATEGY = "distributed_arithmetic"


def _da_solution(layer: Any) -> dict[str, str]:
    """da4ml's solution of a distributed-arithmetic layer's trained weights (adder-graph cost and adder
    levels, as hls4ml's DA pass solves it while converting): what the DA cost rule reads after
    training (cost_models/distributed_arithmetic.py)."""
    import numpy as np

    from dse.design.da_trace import kernel_solution

    w = np.asarray(layer.weights["weight"].data, dtype=np.float64)
    kernel = w.reshape(-1, w.shape[-1])
    b = layer.weights.get("bias")
    bias = np.asarray(b.data, dtype=np.float64).ravel() if b is not None else np.zeros(kernel.shape[1])
    t = to_fixed(layer.get_input_variable().type.precision)
    cost, levels = kernel_solution(kernel, bias, (int(t.signed), t.integer - int(t.signed), t.width - t.integer))
    return {"da_cost": f"{cost:g}", "da_adder_levels": f"{levels:g}"}


_KIND = {"Dense": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d", "PointwiseConv1D": "pointwise_conv1d",
         "PointwiseConv2D": "pointwise_conv2d", "Activation": "activation", "ParametrizedActivation": "activation",
         "Softmax": "softmax", "BatchNormalization": "batchnorm", "Input": "input", "HardActivation": "activation",
         "TernaryTanh": "activation", "Pooling1D": "pooling1d", "Pooling2D": "pooling2d",
         "GlobalPooling1D": "global_pooling1d", "GlobalPooling2D": "global_pooling2d", "Reshape": "reshape",
         "Repack": "repack", "ZeroPadding1D": "zeropadding1d", "ZeroPadding2D": "zeropadding2d",
         "Concatenate": "concatenate", "Resize": "resize", "DepthwiseConv1D": "depthwise_conv1d",
         "DepthwiseConv2D": "depthwise_conv2d",
         "Merge": "merge", "Dot": "dot", "Clone": "clone", "Cropping1D": "cropping1d", "Cropping2D": "cropping2d",
         "LSTM": "lstm", "GRU": "gru", "Embedding": "embedding",
         "LayerNormalization": "layernorm", "Transpose": "transpose"}
"""hls4ml 1.3 layer classes (``hls4ml/model/layers.py``, ``backends/fpga/fpga_layers.py``) -> cost-model kinds."""
_SKIP = {"Input"}


def _attr(layer: Any, key: str, default: int = 1) -> int:
    v = layer.get_attr(key, default)
    return int(v) if v is not None else default


def to_fixed(precision: Any) -> FixedType:
    """An hls4ml precision type object -> ``FixedType``."""
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
    already applied), in the same order; they are quantized here exactly as the C++ does. Computed
    once per converted model (a few ms for an MLP).
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


def layer_specs_from_graph(hls_model: Any, io_type: str = "io_parallel",
                           da_layers: frozenset[str] = frozenset()) -> list[LayerSpec]:
    """The cost model's layer list of an hls4ml ``ModelGraph``: sizes, the types hls4ml resolved,
    zero weights, ReuseFactor (after hls4ml's snapping), strategy, ParallelizationFactor and conv
    implementation, per layer, and the type of the model's input on the first layer.

    This is the one function that reads layers back from hls4ml; a summary of the trained
    weight values belongs here too. It maps the same kinds as ``cost_models.hls_project.layers_from_structs``
    reads from the ``parameters.h`` hls4ml writes for this graph, so both give the same estimate. A layer
    class without a cost rule raises ``ValueError`` naming the layer.
    ``da_layers``: layers to describe as distributed arithmetic (converted as Latency, see
    ``layers_from_keras``), with da4ml's solution of their weights.
    """
    specs: list[LayerSpec] = []
    first_input: FixedType | None = None
    writer = {out: layer.name for layer in hls_model.get_layers() if layer.class_name not in _SKIP
              for out in layer.outputs}
    for layer in hls_model.get_layers():
        cls = layer.class_name
        kind = _KIND.get(cls)
        if kind is None:
            raise ValueError(f"layer {layer.name!r} of type {cls} is not supported by the cost model yet")
        result = to_fixed(layer.get_output_variable().type.precision)
        if cls in _SKIP:
            first_input = first_input or result
            continue
        spec = _spec(layer, kind, result, io_type, layer.name in da_layers)
        if kind in ("merge", "dot"):  # the layers that write its two inputs ("" for the model input)
            names = [writer.get(v, "") for v in layer.inputs[:2]]
            spec = dataclasses.replace(spec, extra={**spec.extra, "inputs": ",".join(names)})
        if specs and kind not in ("merge", "dot"):  # a branch: the layer reads another layer's output
            in_type = to_fixed(layer.get_input_variable().type.precision)
            if in_type != specs[-1].result:
                spec = dataclasses.replace(spec, input=in_type)
        specs.append(spec)
    if specs and first_input is not None:
        specs[0] = dataclasses.replace(specs[0], input=first_input)
    return specs


def _spec(layer: Any, kind: str, result: FixedType, io_type: str, da: bool = False) -> LayerSpec:
    rf = int(layer.get_attr("reuse_factor", 1))
    strategy = str(layer.get_attr("strategy", "latency")).lower()
    strategy = ("resource" if strategy.startswith("resource") else
                strategy if strategy == DA_STRATEGY else "latency")
    if da:
        strategy = DA_STRATEGY
    common: dict[str, Any] = {"name": layer.name, "result": result, "reuse_factor": rf, "strategy": strategy,
                              "io_type": io_type}
    if kind in WEIGHTED_KINDS:
        w = layer.weights["weight"]
        b = layer.weights.get("bias")
        accum = layer.get_attr("accum_t")
        conv = None
        pf = None
        impl = "linebuffer"
        if kind == "dense":
            n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
        else:
            fw = _attr(layer, "filt_width")
            fh = _attr(layer, "filt_height")
            nc, nf = _attr(layer, "n_chan"), _attr(layer, "n_filt")
            n_in, n_out = fw * fh * nc, nf
            if fw * fh == 1 and kind in ("conv1d", "conv2d"):
                kind = "pointwise_" + kind
            conv = ConvGeometry(
                in_width=_attr(layer, "in_width"), in_height=_attr(layer, "in_height"), n_chan=nc, filt_width=fw,
                filt_height=fh, n_filt=nf, out_width=_attr(layer, "out_width"), out_height=_attr(layer, "out_height"),
                stride_width=_attr(layer, "stride_width"), stride_height=_attr(layer, "stride_height"),
                pad_top=_attr(layer, "pad_top", 0), pad_bottom=_attr(layer, "pad_bottom", 0),
                pad_left=_attr(layer, "pad_left", 0), pad_right=_attr(layer, "pad_right", 0))
            parts = layer.get_attr("n_partitions")
            if parts:
                pf = conv.out_pixels // int(parts)
            impl = "encoded" if str(layer.get_attr("implementation", "")).lower() == "encoded" else "linebuffer"
        n_zeros = int(getattr(w, "nzeros", 0))
        stats = None
        extra: dict[str, str] = {}
        if kind in DEPTHWISE_KINDS:  # one weight per window value (cf. layers_from_structs): a column
            stats = weight_stats(w, n_in * n_out // max(1, conv.n_chan if conv else 1), 1)
        else:
            stats = weight_stats(w, n_in, n_out)
        if strategy == DA_STRATEGY:
            extra.update(_da_solution(layer))
        spec = LayerSpec(
            kind=kind, n_in=n_in, n_out=n_out, weight=to_fixed(w.type.precision),  # type: ignore[arg-type]
            bias=to_fixed(b.type.precision) if b is not None else None,
            accum=to_fixed(accum.precision) if accum is not None else None, n_zeros=n_zeros, extra=extra,
            conv=conv, weights=stats, parallelization_factor=pf, conv_implementation=impl, **common)  # type: ignore[arg-type]
        why = depthwise_unsupported(spec) if kind in DEPTHWISE_KINDS else None
        if why is not None:
            raise ValueError(why)
        return spec
    if kind in ("lstm", "gru"):
        return _recurrent_spec(layer, kind, common)
    if kind == "layernorm":  # seq_len rows normalized one by one (nnet_layernorm.h)
        n = int(layer.get_input_variable().size())
        scale, bias, accum, table = (layer.weights.get("scale"), layer.weights.get("bias"), layer.get_attr("accum_t"),
                                     layer.get_attr("table_t"))
        return LayerSpec(kind="layernorm", n_in=n, n_out=n, time_steps=int(layer.get_attr("seq_len", 1)),
                         weight=to_fixed(scale.type.precision) if scale is not None else None,
                         bias=to_fixed(bias.type.precision) if bias is not None else None,
                         accum=to_fixed(accum.precision) if accum is not None else None,
                         table=to_fixed(table.precision) if table is not None else None,
                         table_size=int(layer.get_attr("table_size", 1024)), **common)
    if kind == "embedding":  # n_in indices, each a row of n_out values (nnet_embed.h)
        n_idx = int(layer.get_attr("n_in"))
        emb = layer.weights["embeddings"]
        return LayerSpec(kind="embedding", n_in=n_idx, n_out=n_idx * int(layer.get_attr("n_out")),
                         vocab_size=int(layer.get_attr("vocab_size")), weight=to_fixed(emb.type.precision), **common)
    if kind in ("activation", "softmax"):
        n = int(layer.get_attr("n_in"))
        table = layer.get_attr("exp_table_t" if kind == "softmax" else "table_t")
        act = str(layer.get_attr("activation", "softmax" if kind == "softmax" else "linear")).lower()
        return LayerSpec(
            kind=kind, n_in=n, n_out=n, activation=act,  # type: ignore[arg-type]
            table_size=int(layer.get_attr("table_size", 1024)) if table is not None else None,
            table=to_fixed(table.precision) if table is not None else None,
            softmax_implementation=str(layer.get_attr("implementation", "stable")).lower() if kind == "softmax"  # type: ignore[arg-type]
            else "stable",
            accum=to_fixed(layer.get_attr("accum_t").precision) if layer.get_attr("accum_t") else None, **common)
    if kind == "batchnorm":
        n = int(layer.get_attr("n_in"))
        scale = layer.weights.get("scale")
        return LayerSpec(kind="batchnorm", n_in=n, n_out=n,
                         weight=to_fixed(scale.type.precision) if scale is not None else None, **common)
    n_in = int(layer.get_input_variable().size())
    n_out = int(layer.get_output_variable().size())
    accum = layer.get_attr("accum_t")
    acc = to_fixed(accum.precision) if accum is not None else None
    one_d = kind.endswith("1d")
    if kind in ("pooling1d", "pooling2d"):
        nf = _attr(layer, "n_filt")
        geo = ConvGeometry(
            in_width=_attr(layer, "n_in" if one_d else "in_width"), in_height=1 if one_d else _attr(layer, "in_height"),
            n_chan=nf, filt_width=_attr(layer, "pool_width"), filt_height=1 if one_d else _attr(layer, "pool_height"),
            n_filt=nf, out_width=_attr(layer, "n_out" if one_d else "out_width"),
            out_height=1 if one_d else _attr(layer, "out_height"), stride_width=_attr(layer, "stride_width"),
            stride_height=1 if one_d else _attr(layer, "stride_height"), pad_top=_attr(layer, "pad_top", 0),
            pad_bottom=_attr(layer, "pad_bottom", 0), pad_left=_attr(layer, "pad_left", 0),
            pad_right=_attr(layer, "pad_right", 0))
        impl = "encoded" if str(layer.get_attr("implementation", "")).lower() == "encoded" else "linebuffer"
        return LayerSpec(kind=kind, n_in=n_in, n_out=n_out, conv=geo, accum=acc,  # type: ignore[arg-type]
                         pool_op=_pool_op(layer), conv_implementation=impl, **common)  # type: ignore[arg-type]
    if kind in ("global_pooling1d", "global_pooling2d"):
        nf = _attr(layer, "n_filt")
        iw = _attr(layer, "n_in" if one_d else "in_width")
        ih = 1 if one_d else _attr(layer, "in_height")
        geo = ConvGeometry(in_width=iw, in_height=ih, n_chan=nf, filt_width=iw, filt_height=ih, n_filt=nf,
                           out_width=1, out_height=1, stride_width=iw, stride_height=ih)
        return LayerSpec(kind=kind, n_in=n_in, n_out=n_out, conv=geo, accum=acc,  # type: ignore[arg-type]
                         pool_op=_pool_op(layer), **common)  # type: ignore[arg-type]
    if kind in ("zeropadding1d", "zeropadding2d", "resize", "cropping1d", "cropping2d"):
        nc = _attr(layer, "n_chan")
        edge = "crop" if kind.startswith("cropping") else "pad"  # a cropping's margins go in the pad fields
        geo = ConvGeometry(
            in_width=_attr(layer, "in_width"), in_height=1 if one_d else _attr(layer, "in_height"), n_chan=nc,
            filt_width=1, filt_height=1, n_filt=nc, out_width=_attr(layer, "out_width"),
            out_height=1 if one_d else _attr(layer, "out_height"), pad_top=_attr(layer, f"{edge}_top", 0),
            pad_bottom=_attr(layer, f"{edge}_bottom", 0), pad_left=_attr(layer, f"{edge}_left", 0),
            pad_right=_attr(layer, f"{edge}_right", 0))
        return LayerSpec(kind=kind, n_in=n_in, n_out=n_out, conv=geo, **common)  # type: ignore[arg-type]
    if kind == "reshape":
        shape = list(layer.get_output_variable().shape)
        if len(shape) == 1:
            return LayerSpec(kind="flatten", n_in=n_in, n_out=n_out, **common)
        return LayerSpec(kind="reshape", n_in=n_in, n_out=n_out, **common)
    if kind in ("merge", "dot"):
        in1, in2 = (to_fixed(layer.get_input_variable(i).type.precision) for i in layer.inputs[:2])
        if kind == "dot":
            return LayerSpec(kind="dot", n_in=int(layer.get_input_variable(layer.inputs[0]).shape[0]), n_out=1,
                             accum=acc, input=in1, input2=in2, **common)
        op = str(layer.get_attr("op", "")).lower()
        return LayerSpec(kind="merge", n_in=n_out, n_out=n_out, input=in1, input2=in2,
                         merge_op=op if op in MERGE_OPS else None, **common)  # type: ignore[arg-type]
    if kind == "transpose":  # nnet_transpose.h: wiring under io_parallel, a buffer stage under io_stream
        shape = list(layer.get_output_variable().shape)
        return LayerSpec(kind="transpose", n_in=n_in, n_out=n_out, out_pack=int(shape[-1]) if shape else None,
                         **common)
    if kind == "repack":  # io_stream Reshape not in place (backends/fpga/passes/repack_stream.py)
        shape = list(layer.get_output_variable().shape)
        return LayerSpec(kind="repack", n_in=n_in, n_out=n_out, out_pack=int(shape[-1]) if shape else None, **common)
    if kind == "clone":  # io_stream: one stream per copy (backends/fpga/passes/clone.py)
        return LayerSpec(kind="clone", n_in=n_in, n_out=len(layer.outputs) * n_in, **common)
    if kind == "concatenate":
        n_in = sum(int(v.size()) for v in (layer.get_input_variable(i) for i in layer.inputs))
        flat = len(layer.get_output_variable().shape) == 1  # concatenate1d: one output pixel under io_stream
        return LayerSpec(kind="concatenate", n_in=n_in, n_out=n_out, out_pack=n_out if flat and n_out else None,
                         **common)
    raise ValueError(f"layer {layer.name!r}: no mapping for kind {kind!r}")  # _KIND and this function disagree


def _recurrent_spec(layer: Any, kind: str, common: dict[str, Any]) -> LayerSpec:
    """An hls4ml ``LSTM``/``GRU`` as ``recurrent_templates.py`` writes it: the input and recurrent kernels' types and
    zeros, the recurrent ReuseFactor, ``static``, the activations and their table."""
    steps, features = (int(v) for v in layer.get_input_variable().shape[-2:])
    n_state = int(layer.get_attr("n_out"))
    n_out = int(layer.get_output_variable().size())
    w, wr = layer.weights["weight"], layer.weights["recurrent_weight"]
    b = layer.weights.get("bias")
    accum, table = layer.get_attr("accum_t"), layer.get_attr("table_t")
    return LayerSpec(
        kind=kind, n_in=steps * features, n_out=n_out, weight=to_fixed(w.type.precision),  # type: ignore[arg-type]
        recurrent_weight=to_fixed(wr.type.precision), bias=to_fixed(b.type.precision) if b is not None else None,
        accum=to_fixed(accum.precision) if accum is not None else None, n_zeros=int(getattr(w, "nzeros", 0)),
        recurrent_n_zeros=int(getattr(wr, "nzeros", 0)), time_steps=steps, n_state=n_state,
        recurrent_reuse_factor=int(layer.get_attr("recurrent_reuse_factor", common["reuse_factor"])),
        recurrent_static=bool(layer.get_attr("static", True)),
        activation=str(layer.get_attr("activation", "tanh")).lower(),
        recurrent_activation=str(layer.get_attr("recurrent_activation", "sigmoid")).lower(),
        table=to_fixed(table.precision) if table is not None else None,
        table_size=int(layer.get_attr("table_size", 1024)), **common)


def _pool_op(layer: Any) -> str:
    return "average" if "average" in str(layer.get_attr("pool_op", "Max")).lower() else "max"


def layers_from_keras(model: Any, hls_config: Mapping[str, Any], target: Target | Hls4mlTarget,
                      io_type: str = "io_parallel") -> list[LayerSpec]:
    """Convert ``model`` with ``hls_config`` through hls4ml and read back its layer list.

    ``target`` is a cost-model ``Target`` (with ``io_type`` given separately) or an
    ``Hls4mlTarget`` (which carries its own io_type).
    """
    t = target if isinstance(target, Hls4mlTarget) else Hls4mlTarget.of_cost_target(target, io_type)
    config, da = _latency_in_place_of_da(hls_config)
    return layer_specs_from_graph(convert(model, config, t), t.io_type, da)


def _latency_in_place_of_da(hls_config: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """hls4ml's DA pass replaces a layer's weights by generated code while converting; for the layer
    list the model is converted with Latency in their place (same sizes and inferred types) and the
    names of the DA layers are returned."""
    import copy

    config = copy.deepcopy(dict(hls_config))
    model = config.get("Model") or {}
    default = str(model.get("Strategy", "latency")).lower()
    da = set()
    for name, cfg in (config.get("LayerName") or {}).items():
        if isinstance(cfg, dict) and str(cfg.get("Strategy", default)).lower() in (DA_STRATEGY, "da"):
            if "weight" in (cfg.get("Precision") or {}):
                da.add(name)
            cfg["Strategy"] = "Latency"
    if default in (DA_STRATEGY, "da"):
        model["Strategy"] = "Latency"
    return config, frozenset(da)
