"""A trained, quantized MLP as da4ml traces it: constant matrix-vector products turned into shared
adder graphs (distributed arithmetic), written with the same rounding as QKeras and hls4ml.

``QuantizedMLP`` is plain numpy (no TensorFlow): :func:`mlp_from_keras` reads it from a dse QKeras
model, the benchmarks build it from random quantized weights. :func:`trace_mlp` returns da4ml's
``CombLogic`` (the whole network as one combinational adder graph); ``dse.synthesis.open_tools``
pipelines it for the clock and writes its Verilog.

Arithmetic, element by element (what the hls4ml firmware computes):

- input: ``fixed<W,I>`` of hls4ml's default precision, truncated and wrapped (``ap_fixed``'s default);
- dense: exact products and sums (hls4ml's ``auto`` accumulator is exact), plus the quantized bias;
- quantized ReLU ``ufixed<bits, integer, RND_CONV, SAT>``: round half to even (QKeras' ``tf.round``),
  saturate to ``[0, 2**integer - 2**-f]``;
- the output layer stays exact (its softmax/sigmoid is monotonic: argmax/threshold need no table).

da4ml is imported lazily; its first call on a machine JIT-compiles with numba (about 80 s, cached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ADDER_LEVELS_PER_NS", "DenseLayer", "QuantizedMLP", "kernel_solution", "latency_cutoff", "mlp_from_keras",
           "trace_mlp"]

ADDER_LEVELS_PER_NS = 1.0
"""Adder levels da4ml puts in one pipeline stage per ns of clock period (da4ml's own command line
defaults to 5 levels at 5 ns)."""

HARD_DC = 2
"""da4ml's delay constraint: adder depth above the minimum the solver may use (hls4ml 1.3's default)."""


@dataclass(frozen=True)
class DenseLayer:
    """One dense layer with its quantized (exactly representable) weights.

    ``kernel``: shape (n_in, n_out); ``bias``: shape (n_out,); ``relu``: (bits, integer bits) of the
    quantized ReLU after the layer, or None for a linear (output) layer."""

    name: str
    kernel: Any
    bias: Any
    relu: tuple[int, int] | None = None

    @property
    def n_in(self) -> int:
        return int(self.kernel.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.kernel.shape[1])


@dataclass(frozen=True)
class QuantizedMLP:
    """An MLP as the firmware computes it. ``input_kif``: (signed, integer bits without the sign,
    fractional bits) of the input type, e.g. (1, 5, 10) for ``fixed<16,6>``."""

    input_kif: tuple[int, int, int]
    layers: tuple[DenseLayer, ...]

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out


def kif_of_precision(text: str) -> tuple[int, int, int]:
    """``fixed<16,6>`` -> (1, 5, 10); ``ufixed<8,0>`` -> (0, 0, 8)."""
    m = re.match(r"^\s*(?:ap_)?(u?)fixed\s*<\s*(\d+)\s*,\s*(-?\d+)", text)
    if not m:
        raise ValueError(f"cannot read the fixed-point type {text!r} (expected e.g. fixed<16,6>)")
    signed = 0 if m.group(1) else 1
    width, integer = int(m.group(2)), int(m.group(3))
    return signed, integer - signed, width - integer


def latency_cutoff(clock_period_ns: float) -> float:
    """Adder levels per pipeline stage at the clock (at least 1)."""
    return max(1.0, float(int(clock_period_ns * ADDER_LEVELS_PER_NS)))


def mlp_from_keras(model: Any, hls_config: dict[str, Any]) -> QuantizedMLP:
    """The QuantizedMLP of a dse QKeras model (``QDense`` + ``QActivation(quantized_relu)`` layers,
    then an output activation); the input type is the hls4ml config's model-wide default."""
    import numpy as np

    precision = str(((hls_config.get("Model") or {}).get("Precision") or {}).get("default", "fixed<16,6>"))
    layers: list[DenseLayer] = []
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "QDense":
            kernel = layer.kernel
            if getattr(layer, "kernel_quantizer_internal", None) is not None:
                kernel = layer.kernel_quantizer_internal(kernel)
            bias = layer.bias if layer.use_bias else np.zeros(layer.units)
            if layer.use_bias and getattr(layer, "bias_quantizer_internal", None) is not None:
                bias = layer.bias_quantizer_internal(bias)
            layers.append(DenseLayer(layer.name, np.asarray(kernel, dtype=np.float64),
                                     np.asarray(bias, dtype=np.float64).ravel()))
        elif cls == "QActivation":
            q = layer.quantizer
            if type(q).__name__ != "quantized_relu" or not layers or layers[-1].relu is not None:
                raise ValueError(f"layer {layer.name!r}: only quantized_relu after a dense layer is supported "
                                 f"by the distributed-arithmetic path, got {q!r}")
            last = layers[-1]
            layers[-1] = DenseLayer(last.name, last.kernel, last.bias, (int(q.bits), int(q.integer)))
        elif cls in ("InputLayer", "Activation"):
            continue  # the output softmax/sigmoid is monotonic: the firmware's decision needs no table
        else:
            raise ValueError(f"layer {layer.name!r} ({cls}) is not supported by the distributed-arithmetic path")
    if not layers:
        raise ValueError("the model has no QDense layer")
    return QuantizedMLP(kif_of_precision(precision), tuple(layers))


def trace_mlp(mlp: QuantizedMLP, hard_dc: int = HARD_DC) -> Any:
    """da4ml's ``CombLogic`` of the whole network (input -> output logits)."""
    import numpy as np
    from da4ml.trace import FixedVariableArray, FixedVariableArrayInput, HWConfig, comb_trace

    options = {"hard_dc": hard_dc, "search_all_decompose_dc": True}
    inp = FixedVariableArrayInput(mlp.n_in, HWConfig(1, -1, -1), solver_options=options)
    k, i, f = mlp.input_kif
    x = inp.quantize(k, i, f)
    first = x
    for layer in mlp.layers:
        x = x @ np.asarray(layer.kernel, dtype=np.float64) + np.asarray(layer.bias, dtype=np.float64)
        if layer.relu is not None:
            bits, integer = layer.relu
            out = [_quantized_relu(v, bits, integer) for v in x._vars.ravel()]
            x = FixedVariableArray(np.array(out, dtype=object), x.solver_options)
    return comb_trace(first, x)


def kernel_solution(kernel: Any, bias: Any, input_kif: tuple[int, int, int], hard_dc: int = HARD_DC
                    ) -> tuple[float, float]:
    """da4ml's (adder-graph cost, adder levels) of one layer's constant matrix-vector product plus bias,
    as hls4ml 1.3's DA pass solves it (its ``da_kernel_cost``)."""
    import numpy as np
    from da4ml.trace import FixedVariableArray, HWConfig, comb_trace

    n_in = int(np.asarray(kernel).shape[0])
    k, i, f = (np.full(n_in, v) for v in input_kif)
    options = {"hard_dc": hard_dc, "search_all_decompose_dc": True}
    inp = FixedVariableArray.from_kif(k, i, f, HWConfig(1, -1, -1), solver_options=options)
    out = inp @ np.asarray(kernel, dtype=np.float64) + np.asarray(bias, dtype=np.float64)
    comb = comb_trace(inp, out)
    return float(comb.cost), float(comb.latency[1])


def _quantized_relu(v: Any, bits: int, integer: int) -> Any:
    """``ufixed<bits, integer, RND_CONV, SAT>`` of one traced value: round half to even, then clip."""
    frac = bits - integer
    t = 2.0 ** -frac
    if v.low == v.high:  # a constant (all weights of a neuron pruned): computed here exactly
        return type(v).from_const(_relu_const(float(v.low), bits, integer), hwconf=v.hwconf)
    step = float(v.step)
    if step < t:
        k, i, _ = v.kif
        lsb = v.quantize(k, i + 1, frac) - v.quantize(k, i + 1, frac - 1)  # 0 or t: the kept LSB
        v = v + (t / 2 - step) + lsb * (step / t)  # ties go up only when the kept LSB is odd
    return v.quantize(0, integer, frac, "SAT", "TRN")


def _relu_const(x: float, bits: int, integer: int) -> float:
    import numpy as np

    frac = bits - integer
    q = float(np.round(x * 2.0 ** frac))  # numpy rounds half to even, as tf.round
    return float(min(max(q, 0.0), 2.0 ** bits - 1)) / 2.0 ** frac
