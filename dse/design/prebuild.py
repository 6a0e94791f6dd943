"""The cost model's layer list of a candidate before it is trained, built from its parameters alone.

What hls4ml would give for the QKeras model of ``dse.model_builder.build_model`` (checked against
the converted models: same names, sizes, types, ReuseFactors and strategies), without TensorFlow
or hls4ml (microseconds instead of ~20 ms plus a TensorFlow import in the driver):

- dense layers ``fc0 …``, ``out``: weights and biases ``fixed<bits, weight_integer_bits+1>``
  (``uint<1>`` for binary, ``int<2>`` for ternary); ``result``/``accum`` inferred as hls4ml's
  ``infer_precision`` does for ``auto`` (input + weight bits + ceil(log2 n_in), one more bit for
  the bias addition); the ReuseFactor snapped to a valid one under the Resource strategy (as
  hls4ml does), kept under Latency;
- ReLU activations ``relu0 …``: ``ufixed<activation_bits, activation_integer_bits>``; the output
  activation ``out_act`` at the model's default precision (softmax: 1024-entry tables);
- ``n_zeros``: the sparsity target's share of the weights plus the zeros expected from quantization
  (``expected_zero_share``), and ``weights``: expected CSD digit statistics when a model of them is
  given (``WeightModel``), else none (the cost model then assumes typical trained values).
"""

from __future__ import annotations

import math
from typing import Protocol

from cost_models.layers import FixedType, LayerSpec
from cost_models.reuse import snap_reuse_factor
from cost_models.weight_stats import WeightStats
from dse.design.candidate import Candidate
from dse.space import SpaceConfig

__all__ = ["WeightModel", "dense_result_type", "prebuild_layers", "snapped_reuse_factors"]

TABLE_SIZE = 1024
TABLE_TYPE = FixedType(18, 8)


class WeightModel(Protocol):
    """Expected statistics of trained weights of one type (see ``dse.search.screening.DigitModel``)."""

    def zero_share(self, wtype: FixedType, sparsity: float) -> float:
        """Expected share of the weights that are zero after training (pruned + quantized to zero)."""

    def stats(self, wtype: FixedType, n_in: int, n_out: int, n_nonzero: int) -> WeightStats | None:
        """Expected CSD statistics of ``n_nonzero`` trained non-zero weights of an n_in x n_out layer."""


def weight_type(cand: Candidate, layer: int, space: SpaceConfig) -> FixedType:
    """The hls4ml weight type of dense layer ``layer`` (as ``Candidate.weight_precision`` writes it)."""
    bits = cand.weight_bits[layer]
    if bits == "binary":
        return FixedType(1, 1, signed=False)
    if bits == "ternary":
        return FixedType(2, 2)
    return FixedType(int(bits), space.quantization.weight_integer_bits + 1)


def dense_result_type(inp: FixedType, weight: FixedType, bias: FixedType | None, n_in: int) -> FixedType:
    """hls4ml's ``auto`` accumulator/result type of a dense layer (``infer_precision``)."""
    log_ops = math.ceil(math.log2(n_in)) if n_in > 1 else 0
    integer = inp.integer + weight.integer + log_ops
    frac = inp.fractional + weight.fractional
    if bias is not None:
        integer = max(integer, bias.integer) + 1
        frac = max(frac, bias.fractional)
    return FixedType(integer + frac, integer, signed=inp.signed or weight.signed)


def snapped_reuse_factors(cand: Candidate, n_features: int, n_out: int) -> tuple[int, ...]:
    """The ReuseFactor hls4ml uses per dense layer: snapped to a valid one under the Resource strategy."""
    sizes = [n_features, *cand.widths, n_out]
    if cand.strategy.lower() != "resource":
        return tuple(cand.reuse_factor)
    return tuple(snap_reuse_factor(sizes[i], sizes[i + 1], rf) for i, rf in enumerate(cand.reuse_factor))


def prebuild_layers(cand: Candidate, space: SpaceConfig, n_features: int, n_classes: int,
                    weights: WeightModel | None = None) -> list[LayerSpec]:
    """The layer list hls4ml would produce for ``cand`` (see the module docstring)."""
    hw, q = space.hardware, space.quantization
    default = FixedType.parse(hw.default_precision)
    out_act = space.model.output_activation
    n_out = 1 if out_act == "sigmoid" else n_classes
    sizes = [n_features, *cand.widths, n_out]
    rfs = snapped_reuse_factors(cand, n_features, n_out)
    strategy = "resource" if cand.strategy.lower() == "resource" else "latency"
    layers: list[LayerSpec] = []
    inp = default
    for i, name in enumerate(cand.dense_names):
        n_i, n_o = sizes[i], sizes[i + 1]
        wt = weight_type(cand, i, space)
        bt = FixedType(cand.bias_bits[i], q.weight_integer_bits + 1)
        result = dense_result_type(inp, wt, bt, n_i)
        n_w = n_i * n_o
        sparsity = float(cand.sparsity[i])
        zero_share = weights.zero_share(wt, sparsity) if weights is not None else sparsity
        n_zeros = min(n_w, round(n_w * zero_share))
        stats = weights.stats(wt, n_i, n_o, n_w - n_zeros) if weights is not None and n_w > n_zeros else None
        layers.append(LayerSpec(name=name, kind="dense", n_in=n_i, n_out=n_o, result=result, weight=wt, bias=bt,
                                accum=result, n_zeros=n_zeros, reuse_factor=rfs[i], strategy=strategy,  # type: ignore[arg-type]
                                io_type=hw.io_type, weights=stats))  # type: ignore[arg-type]
        if i < cand.n_hidden:
            act = FixedType(cand.activation_bits[i], q.activation_integer_bits, signed=False)
            layers.append(LayerSpec(name=f"relu{i}", kind="activation", n_in=n_o, n_out=n_o, result=act,
                                    reuse_factor=cand.reuse_factor[i], io_type=hw.io_type,  # type: ignore[arg-type]
                                    activation="relu", table_size=TABLE_SIZE, table=TABLE_TYPE))
            inp = act
    if out_act == "softmax":
        layers.append(LayerSpec(name="out_act", kind="softmax", n_in=n_out, n_out=n_out, result=default,
                                accum=default, reuse_factor=cand.reuse_factor[-1], io_type=hw.io_type,  # type: ignore[arg-type]
                                activation="softmax", table_size=TABLE_SIZE, table=TABLE_TYPE))
    elif out_act == "sigmoid":
        layers.append(LayerSpec(name="out_act", kind="activation", n_in=n_out, n_out=n_out, result=default,
                                reuse_factor=cand.reuse_factor[-1], io_type=hw.io_type,  # type: ignore[arg-type]
                                activation="sigmoid", table_size=TABLE_SIZE, table=TABLE_TYPE))
    return layers
