"""Per-layer analytic rules: what hls4ml generates, counted in DSP, LUT, FF, BRAM_18K and cycles.

The rules follow the hls4ml 1.x Vivado/Vitis templates (``nnet_dense_latency.h``,
``nnet_dense_resource.h``, ``nnet_mult.h``, ``nnet_activation.h``, the ``conv_*_cl`` stream
wrappers) and what Vivado/Vitis HLS does with them:

* Latency strategy, io_parallel dense: every weight is a constant (``function_instantiate``),
  so a product with a zero weight disappears and the others are constant multiplications.
  The tool maps the "hard" constants to DSPs and the rest (few non-zero digits) to shift-add
  LUT logic; the share that lands on DSPs grows with the weight width (``dsp_share``).
  ``#pragma HLS ALLOCATION operation instances=mul limit=multiplier_limit`` caps the DSP
  multipliers at hls4ml's ``multiplier_limit``; when the cap binds, the products are
  time-multiplexed, which lengthens the schedule. ``PIPELINE II=reuse_factor``.
* Resource strategy with ReuseFactor 1: the weight array is reshaped into one word read at a constant
  index, so the tool folds the weights into constants as under the Latency strategy (the shared
  Resource designs at RF=1 have the DSP and LUT counts of their Latency twins); it takes that rule.
* Resource strategy: weights live in a ROM indexed by the reuse loop (not constants), so each of
  the ``block_factor = ceil(n_in*n_out/RF)`` multipliers is a generic multiplier (DSP unless an
  operand is very narrow); the reuse loop runs RF iterations at II=1.
* Products wider than the DSP ports take several DSPs (25x18 on DSP48E1, 27x18 on DSP48E2).
* The accumulation is an adder tree of depth ceil(log2(n_in)) (+1 for the bias); how many tree
  levels fit in one clock cycle follows from the adder delay and the clock period.

Units: dsp (DSP slices), lut (LUTs), ff (flip-flops), bram_18k (18 Kb blocks), latency and ii in
clock cycles. Every constant below is a physical quantity or a documented fit; see
docs/cost_model.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from cost_models.constants import (
    DEFAULT_CONSTANTS,
    Constants,
    ConstantSet,
    array_partition_limited,
    input_port_registered,
    part_speed,
    tool_family,
)
from cost_models.errors import UnknownLayerError
from cost_models.layers import CONV_KINDS, DEPTHWISE_KINDS, FixedType, LayerSpec, Target
from cost_models.parts import SEVEN_SERIES_FAMILIES, Part, resolve_part
from cost_models.stream import (
    DENSE_RESOURCE_REWIND_COPIES,
    STREAM_LATENCY_ITERATION_OVERHEAD,
    STREAM_PIXEL_MIN_II,
    STREAM_RESOURCE_PIXEL_OVERHEAD,
    STREAM_STAGE_LOGIC,
    VITIS_CALL_EXTRA_CYCLES,
    conv_control_registers,
    fifo_bram18,
    fifo_logic,
    parallel_channel_logic,
    parallel_input_channel,
    resource_product_registers,
    shift_register_luts,
)
from cost_models.weight_stats import MAX_DIGITS, WeightStats
from cost_models.weights import typical_weight_stats

__all__ = [
    "LayerEstimate",
    "analytic_totals",
    "LayerContext",
    "LayerRule",
    "RULES",
    "dsp_per_mult",
    "dsp_share",
    "effective_weight_bits",
    "estimate_layer",
    "multiplier_limit",
    "register_rule",
    "table_bits",
    "table_width",
]

# --- timing (ns): the HLS tools' operator delay model, as seen in csynth schedules -------------
CLOCK_UNCERTAINTY = 0.125
"""HLS default clock uncertainty: 12.5 % of the period is not available to logic."""
SOFTMAX_FIXED_NS = {"stable": 5.0, "latency": 4.0}
"""Softmax fixed path at UltraScale+ -2 speed (ns): table index, exp-table read, inverse-table read and the
multiply, plus (``stable``) the subtraction of the maximum. ``nnet_activation.h`` ``softmax_stable`` /
``softmax_latency``; the csynth per-layer rows at 5 ns on UltraScale+: ``latency`` 2 cycles at n=5
(Fiwo735), 3 at n=10 (mgrailoo); ``stable`` 4 at n=10 (k-diep, mbavier), 12 at 2 ns (Gabriele-bot ALVEO)."""
SOFTMAX_LEVEL_NS = {"stable": 3.1, "latency": 1.5}
"""Softmax per level of the ``ceil(log2 n)``-level trees (ns, UltraScale+ -2): one level of the sum tree,
plus (``stable``) one level of the max tree (a compare and a mux)."""
SOFTMAX_7SERIES_DELAY = 1.7
"""7-series parts (Zynq-7000, Artix/Kintex/Virtex-7): the softmax path (two table reads and a DSP multiply
around the trees) is slower than the adder factor of :func:`~cost_models.constants.part_speed` says
(1.9 for Zynq-7000): the per-layer rows put it at ~3.2x UltraScale+ -2 (ArgyKokk, Zynq-7000 -2, 3.33 ns:
13 / 16 / 20 cycles at n = 3 / 5 / 16; Gabriele-bot, Zynq-7000 -1, 5 ns: 13 cycles stable, 10 latency at n=5).
Used by the softmax rule only (the dense constants are fitted per tool family with the 1.9 factor)."""
SOFTMAX_STREAM_IO_CYCLES = 2
"""io_stream softmax: reading the input pack from its FIFO and writing the result around the pipelined body."""
SOFTMAX_LATENCY_LOGIC = 0.5
"""LUT and FF of the ``latency`` softmax relative to ``stable`` (no max tree, no subtraction): 460 / 862 LUT
and 648 / 1,143 FF in the same Gabriele-bot network (Zynq-7000, n=5) with either implementation."""
MAXIMUM_PARTITION_SIZE = 4096
"""hls4ml's build_prj.tcl: ``config_array_partition -maximum_size 4096``. A latency dense whose
n_in*n_out product array is larger is not completely partitioned: its products are produced by a
partly sequential loop over the inputs (observed: a few inputs per cycle) on fewer multipliers."""
UNPARTITIONED_INPUTS_PER_CYCLE = 3.5
BIG_ROM_ENTRIES = 32768
"""Resource strategy: ``ARRAY_RESHAPE variable=weights block factor=block_factor`` leaves a ROM of
``n_in * n_out / block_factor = ReuseFactor`` words, read once per reuse iteration (and the
``rf_gt_nin_rem0`` variant keeps an ``outidx[rufactor]`` index table of the same depth). With more
than this many words the tool does not pipeline the reuse loop (csynth rows of the shared Vivado HLS
2020.1 designs: RF 39,200 / 40,000 / 307,200 take 21-24 cycles per iteration, pipeline "none"; RF 28,
1,000, 2,000, 7,840 and 10,000 run at II=1, also with 78,400-109,760 weights); cycles per iteration
are fitted (``big_rom_ii``)."""
RESOURCE_ITERATION_NS = 3.0
"""Resource strategy: one reuse iteration's weight read and generic (DSP) multiply, unregistered, in ns
at speed 1.0; its registers scale with how much of the clock period it fills (csynth per-layer FF of
the shared Resource designs: few at 25 ns, operands and products registered at 5 ns on Zynq-7000)."""
PIXEL_MIN_II = 2
"""io_stream convolutions: cycles per output pixel at least (stream read + write handshake)."""

# --- multiplier binding ------------------------------------------------------------------------
DSP_SHARE_MID_BITS = 8.0
"""Weight width at which half of the constant products of a small layer go to DSPs."""
DSP_SHARE_SLOPE = 1.2
"""Steepness (per bit) of that transition: ~8 % at 6 bits, 50 % at 8 bits, ~92 % at 10 bits."""
DSP_SHARE_HALF_PRODUCTS = 600.0
"""Layer size (non-zero constant products) at which the DSP share has halved: in large layers many
products repeat a (shifted) constant of the same input and are shared in LUT logic."""
T_RELU_NS = 1.05
"""ReLU with rounding/saturation: a compare and a mux (ns at speed 1.0); registered only when it does not
fit the cycle."""
GENERIC_LUT_MAX_BITS = 4
"""A generic (non-constant) product with an operand this narrow or narrower is LUT logic."""
GENERIC_LUT_MAX_UNSIGNED_PRODUCT_BITS = 20
"""A generic (Resource-strategy) product of UNSIGNED data (the ``ap_ufixed`` output of a quantized ReLU)
whose operand widths add up to at most this is LUT logic. The csynth per-instance rows of the shared
projects: 8-bit weights x ufixed<8> (Vivado HLS 2019.1, two projects), 6 x ufixed<6> (2019.2) and
10 x ufixed<10> (Vitis HLS 2023.1) take 0 DSP; signed data of the same width (6 x fixed<6>, Vivado HLS
2020.1) and wider products (5-12 bit weights x 16-28 bit data) use DSPs. One exception: 4-bit weights x
ufixed<4> in one Vivado HLS 2020.1 project pack two products per DSP."""

# --- LUT / FF per unit -------------------------------------------------------------------------
LUT_PER_CONST_MULT_BITPROD = 0.1
"""A LUT-mapped constant product costs ~0.1 LUT per (weight bits x data bits): 1-2 small adders."""
LUT_PER_GENERIC_MULT_BITPROD = 0.6
"""A LUT-mapped generic product: an array multiplier, ~0.6 LUT per bit product."""
RELU_LUT_FACTOR = 1.6
"""ReLU (with rounding/saturation of the output type): ~1.6 LUT per (in bits + 2 x out bits) per element."""
RELU_FF_FACTOR = 1.4

SOFTMAX_LUT_PER_BIT = 9.0
SOFTMAX_FF_PER_BIT = 12.0
VITIS_STREAM_SOFTMAX_EXTRA_FF = 150.0
"""Vitis HLS io_stream softmax (``nnet_activation_stream.h`` ``softmax_stable``, one call per input vector, not
pipelined across calls): the csynth Register table holds one input word and one exp-table word per element
(abdennour LeNet-5, Vitis HLS 2023.2, n = 10: ``data_array`` 9 x 21 + 21, ``exp_res`` 9 x 17 + 17) plus this
much for the max, the selects, the sum and its inverse (125 + 36 + 18 + 16 there). The SOFTMAX_FF_PER_BIT rule
(12 FF per input bit and element) stays for Vivado HLS, whose stream rows hold it (Gabriele-bot, RishThakkar,
Spehic, pominiq: 120-260 FF per 16-bit element) and for io_parallel."""
BRAM18_BITS = 18 * 1024
TABLE_DEFAULT_WIDTH = 18
"""Bits of a lookup-table word when the layer states no ``table_t``: hls4ml's default ``ap_fixed<18,8>``."""
TABLE_DEFAULT_SIZE = 1024
"""Entries of a lookup table when the layer states no ``table_size``: hls4ml's default."""


def table_width(layer: LayerSpec) -> int:
    """Bits of one word of the layer's activation / softmax table (``table_t``)."""
    return layer.table.width if layer.table else TABLE_DEFAULT_WIDTH


def table_bits(layer: LayerSpec) -> int:
    """Bits of one copy of the layer's activation / softmax table: word bits x ``table_size`` entries."""
    return table_width(layer) * (layer.table_size or TABLE_DEFAULT_SIZE)


@dataclass(slots=True)
class LayerEstimate:
    """Analytic estimate of one layer (DSP slices, LUTs, FFs, 18 Kb BRAMs, cycles)."""

    name: str
    kind: str
    dsp: float = 0.0
    lut: float = 0.0
    ff: float = 0.0
    bram_18k: float = 0.0
    latency_cycles: float = 0.0
    ii: float = 1.0
    depth_cycles: float = 0.0
    """Pipeline depth (latency minus the time spent streaming pixels) for io_stream layers."""
    reuse_factor: int = 1
    multipliers: float = 0.0
    """Multiplications after removing zeros, per pass (per pixel for io_stream convolutions)."""
    notes: list[str] = field(default_factory=list)
    fifo_bram_18k: float = 0.0
    """io_stream: BRAM_18K of the FIFO carrying this layer's output to the next stage (not in ``bram_18k``,
    which is the layer's own logic, as in a csynth report's per-instance rows; the totals add both)."""
    fifo_lut: float = 0.0
    fifo_ff: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "dsp": round(self.dsp, 3), "lut": round(self.lut, 1),
            "ff": round(self.ff, 1), "bram_18k": round(self.bram_18k, 3),
            "latency_cycles": round(self.latency_cycles, 3), "ii": round(self.ii, 3),
            "reuse_factor": self.reuse_factor, "multipliers": round(self.multipliers, 3),
            "fifo_bram_18k": round(self.fifo_bram_18k, 3), "fifo_lut": round(self.fifo_lut, 1),
            "fifo_ff": round(self.fifo_ff, 1), "notes": list(self.notes),
        }


@dataclass(frozen=True)
class LayerContext:
    """What a layer rule needs to know beyond the layer: the part, the clock, the incoming data."""

    part: Part
    clock_period_ns: float
    data: FixedType
    stream_pixels: int = 1
    """io_stream: pixels per image of the incoming stream (1 for vectors)."""
    k: Constants = field(default_factory=Constants)
    """The tool family's fitted constants."""
    speed: float = 1.0
    """Delay factor of the part's fabric (1.0 = UltraScale+)."""
    partition_limited: bool = True
    """The tool honours ``config_array_partition -maximum_size`` (see :func:`array_partition_limited`)."""
    family: str = "vitis_hls"
    """The HLS tool family (``vivado_hls`` or ``vitis_hls``, :func:`cost_models.constants.tool_family`)."""
    t_eff: float = field(init=False, repr=False, compare=False)
    """Usable clock period in ns (period minus the default uncertainty), from ``clock_period_ns``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "t_eff", usable_period(self.clock_period_ns))


def usable_period(clock_period_ns: float) -> float:
    """The part of a clock period (ns) the HLS tool schedules logic into: the period minus its default
    uncertainty."""
    return clock_period_ns * (1.0 - CLOCK_UNCERTAINTY)


def multiplier_limit(n_in: int, n_out: int, n_zeros: int, reuse_factor: int) -> int:
    """hls4ml's ``DIV_ROUNDUP(n_in * n_out, reuse_factor) - n_zeros / reuse_factor`` (C integer division)."""
    limit = -(-(n_in * n_out) // reuse_factor) - n_zeros // reuse_factor
    return limit if limit > 1 else 1


def dsp_per_mult(a_bits: int, b_bits: int, part: Part) -> int:
    """DSP slices for one a_bits x b_bits product: ceil over the A x B ports, best orientation."""
    return _dsp_per_mult(a_bits, b_bits, part.dsp_a_bits, part.dsp_b_bits)


@lru_cache(maxsize=4096)
def _dsp_per_mult(a_bits: int, b_bits: int, pa: int, pb: int) -> int:
    one = math.ceil(a_bits / pa) * math.ceil(b_bits / pb)
    two = math.ceil(b_bits / pa) * math.ceil(a_bits / pb)
    return max(1, min(one, two))


def dsp_share(weight_bits: int, data_bits: int) -> float:
    """Share of constant (Latency strategy) products that the HLS tool binds to DSPs.

    A constant with few non-zero (canonical signed digit) bits is a shift-add in LUTs; the chance
    that a quantized weight is "hard" grows with its width. Products with 1-2 bit weights use
    hls4ml's binary/ternary products, and very narrow data makes every product LUT logic.
    """
    if weight_bits <= GENERIC_LUT_MAX_BITS or data_bits <= GENERIC_LUT_MAX_BITS:
        return 0.0  # a constant of <= 4 bits has at most 2 signed digits: always a shift-add
    return 1.0 / (1.0 + math.exp(-DSP_SHARE_SLOPE * (weight_bits - DSP_SHARE_MID_BITS)))


def effective_weight_bits(w: FixedType) -> int:
    """Significant bits of a trained weight: sign + fractional bits + one integer bit.

    Trained weights are mostly |w| < 2, so integer bits beyond the first are sign extension and do
    not make a constant harder to multiply by (ap_fixed<16,6> behaves like a 12-bit constant).
    """
    return min(w.width, w.fractional + 2) if w.signed else min(w.width, w.fractional + 1)


def _tree_cycles(levels: int, ctx: LayerContext, with_mult: bool = True) -> int:
    ns = ((ctx.k.t_mult_dsp_ns if with_mult else 0.0) + levels * ctx.k.t_add_ns) * ctx.speed
    return max(1, round(ns / ctx.t_eff))


def _cuts(path_ns: float, ctx: LayerContext) -> int:
    """Pipeline registers along a combinational path of ``path_ns`` (0 when it fits in one cycle)."""
    cuts = math.ceil(path_ns / ctx.t_eff - 1e-9) - 1
    return cuts if cuts > 0 else 0


_Products = tuple[float, float, int, bool]
"""The constant products of a latency-strategy layer, as the HLS tool builds them: ``hard``, the true
multiplications (constants with >= hard_digits CSD digits, after merging equal ones); ``lut_adders``, the adders
of the shift-add products (digits - 1 each) built in LUTs; ``weight_bits``, the significant bits of the widest
constant (multiplier operand width); ``from_values``, True when counted from trained weight values, False when
assumed from the type alone."""


def _products(layer: LayerSpec, n_in: int, n_out: int, nz: int, db: int, ctx: LayerContext) -> _Products:
    w = layer.weight or FixedType(16, 6)
    stats: WeightStats | None = layer.weights
    from_values = stats is not None and stats.n_nonzero > 0
    if stats is None or stats.n_nonzero == 0:
        stats = typical_weight_stats(w, n_in, n_out)
    if from_values:  # the trained matrix itself (repeated per pixel for an io_parallel convolution)
        n_w = layer.n_in * layer.n_out
        scale = (n_in * n_out) / (n_w if n_w > 1 else 1)
    else:  # typical values at the type, scaled to this layer's non-zero weights
        scale = nz / stats.n_nonzero if stats.n_nonzero else 0.0
    k = ctx.k
    share = k.share if k.share > 0.0 else 0.0  # clamped to [0, 1]
    share = share if share < 1.0 else 1.0
    hard_from = (k.hard_digits if k.hard_digits > 1 else 1) - 1
    to_lut = layer.mult_impl == "lut" or db < k.dsp_min_data_bits
    if layer.mult_impl == "dsp":
        hard_from = 1
    last = MAX_DIGITS if to_lut else hard_from
    # products with i + 1 CSD digits: the distinct ones plus the unmerged share of the repeats; those with
    # >= hard_from + 1 digits are true multiplications (unless bound to LUTs), the others i shift-adds each
    # (an empty bucket adds nothing: only the non-empty ones are listed)
    hard = adders = 0.0
    for i, u, repeats in stats.buckets:
        count = (u + share * repeats) * scale
        if i < last:
            adders += i * count
        else:
            hard += count
    wbits = (stats.max_bits + 1) if from_values and stats.max_bits else effective_weight_bits(w)
    return hard, adders, wbits if wbits > 1 else 1, from_values  # a plain tuple: _Products(...) costs more


def _mult_pass(layer: LayerSpec, ctx: LayerContext, n_in: int, n_out: int, n_zeros: int, rf: int,
               est: LayerEstimate) -> None:
    """Dense-style matrix-vector product (also one pixel of a convolution); fills ``est``."""
    w = layer.weight or FixedType(16, 6)
    acc = layer.accum or FixedType(max(16, w.width + ctx.data.width), 6)
    wb, db, ab = w.width, ctx.data.width, acc.width
    n_w = n_in * n_out
    nz = n_w - n_zeros if n_w > n_zeros else 0
    levels, growth = _tree_shape(n_in)
    est.reuse_factor = rf
    if layer.strategy == "resource" and rf > 1:
        per = dsp_per_mult(wb, db, ctx.part)
        # Weights in a ROM: block_factor generic multipliers, reuse loop of RF iterations (II=1).
        bf = -(-n_w // rf)
        narrow = min(wb, db) <= GENERIC_LUT_MAX_BITS or (
            not ctx.data.signed and wb + db <= GENERIC_LUT_MAX_UNSIGNED_PRODUCT_BITS)
        generic_lut = layer.mult_impl == "lut" or (layer.mult_impl == "auto" and narrow)
        est.multipliers = bf
        est.dsp = 0.0 if generic_lut else bf * per
        mult_lut = bf * wb * db * LUT_PER_GENERIC_MULT_BITPROD if generic_lut else 0.0
        if layer.store_weights_in_bram or rf >= 64:
            est.bram_18k = math.ceil(bf * wb / 36) * math.ceil(rf / 512)
            rom_lut = 0.0
        else:
            rom_lut = bf * wb * math.ceil(rf / 64)
        acc_levels = math.ceil(math.log2(max(1, bf // max(1, n_out)))) if bf > n_out else 0
        mux_lut = resource_mux_luts(n_in, n_out, rf, bf, db, ab)
        est.lut = mult_lut + rom_lut + bf * ab + mux_lut
        # registers: the accumulators, plus, when one reuse iteration (ROM read, multiply, accumulate) does
        # not fit in the clock period, each DSP multiplier's operands and product once per period the path
        # spans (csynth per-instance rows: ~65-110 FF per 16-bit multiplier at 5 ns on Zynq-7000 -1, where
        # the path spans ~1.7 periods; <= 11 per 32-bit multiplier at 25 ns, where it fits). A LUT-mapped
        # product of narrow operands is not registered per multiplier (1.6 FF per 4x2-bit one at 2 ns).
        # These rows are io_parallel (DATAFLOW) layers; io_stream stages keep the former rule, which their
        # csynth totals support (Berk-Bilgin, Gabriele-bot ALVEO CNN: the new rule halves their FF).
        t_iter = ctx.speed * (RESOURCE_ITERATION_NS + ctx.k.t_add_ns)
        spans = t_iter / ctx.t_eff
        if layer.io_type == "io_stream":  # the per-pixel product of a stream stage: the former rule, unchanged
            per_mult = (wb + db + ab) * min(1.0, spans)
        else:
            per_mult = 0.0 if generic_lut or spans <= 1.0 else (wb + db + ab) * spans
        if layer.io_type == "io_stream":
            # the accumulators, the returned and written outputs, the reuse-loop indices
            est.ff = resource_product_registers(n_out, ab, ctx.family) + bf * per_mult
        else:
            est.ff = n_out * ab + bf * per_mult
        iter_cycles = ctx.k.big_rom_ii if rf > BIG_ROM_ENTRIES else 1.0
        est.latency_cycles = rf * iter_cycles + _tree_cycles(acc_levels, ctx) + 2
        est.ii = rf * iter_cycles
        if iter_cycles > 1:
            est.notes.append(f"a weight ROM of {rf} words: reuse loop not pipelined, "
                             f"~{iter_cycles:g} cycles per iteration")
        return
    # Latency strategy: every weight is a constant; zeros vanish, equal constants of one input are
    # (partly) merged, few-digit constants are shift-adds in LUTs, hard ones go to DSPs under the
    # ALLOCATION limit (hls4ml's multiplier_limit), and the schedule follows the clock.
    k = ctx.k
    limit = _multiplier_limit(layer, n_in, n_out, n_zeros, rf)
    hard, lut_adders, pw, from_values = _products(layer, n_in, n_out, nz, db, ctx)
    if not from_values:
        est.notes.append("no trained weights: DSP/LUT from the weight type alone (typical trained values)")
    units = hard if hard < limit else float(limit)  # min(limit, hard)
    est.multipliers = nz
    part = ctx.part
    per_product = _dsp_per_mult(pw, db, part.dsp_a_bits, part.dsp_b_bits)  # dsp_per_mult(pw, db, part)
    est.dsp = float(round(units * per_product))
    acc_w = db + pw + levels - 1  # levels >= 1
    acc_w = acc_w if acc_w < ab else ab
    tree_adders = (nz - n_out if nz > n_out else 0) + n_out  # accumulation tree plus the bias add of each output
    mult_bits = lut_adders * (db + pw)
    tree_w = db + pw + growth
    tree_w = tree_w if tree_w < ab else ab
    lut = k.lut_per_adder_bit * (mult_bits + tree_adders * tree_w)
    slots = math.ceil(hard / limit) if hard > limit else 1
    lut_slots = 1
    if layer.mult_impl == "lut" and rf > 1:
        # forced fabric binding (BIND_OP impl=fabric) keeps the products ``mul`` operations, so hls4ml's
        # ALLOCATION limit time-multiplexes them as it would DSPs (ArgyKokk LUT_reuse10/100: the latency of
        # their DSP_ twins, 46-150 cycles, where an unlimited schedule gives 17-42)
        mul_ops, auto_adders, _, _ = _products(replace(layer, mult_impl="auto"), n_in, n_out, nz, db, ctx)
        lut_slots = math.ceil(mul_ops / limit) if mul_ops > limit else 1
        if lut_slots > 1:
            lut = fabric_shared_luts(auto_adders, limit, lut_slots, n_out, db, pw,
                                     k.lut_per_adder_bit * tree_adders * tree_w, k.lut_per_adder_bit)
    if slots > 1:
        lut += shared_dsp_mux_luts(units, slots, n_out, db)
    est.lut = lut
    t_add = k.t_add_ns
    t_mult = k.t_mult_dsp_ns if hard > 0 else (k.t_mult_lut_ns if lut_adders > 0 else 0.0)
    speed = ctx.speed
    path = speed * (t_mult + (levels - 1 + 1) * t_add)
    cuts = _cuts(path, ctx)
    latency = cuts + slots - 1 + lut_slots - 1
    product_regs = 0.0
    if n_w > MAXIMUM_PARTITION_SIZE and ctx.partition_limited and layer.io_type == "io_parallel" and slots == 1:
        seq = math.ceil(n_in / UNPARTITIONED_INPUTS_PER_CYCLE)
        latency += seq if lut_slots == 1 else 0  # the time-multiplexed schedule is already sequential
        est.dsp = min(units, hard / seq) * per_product
        # the product array (mult[n_in * n_out] of nnet_dense_latency.h) is not completely partitioned but
        # filled over the sequential cycles: each product is held in a register until the accumulation
        # reads it (csynth per-layer FF of the 561x20 and 196x56 layers of Vitis HLS 2021.1: ~1.06x and
        # ~0.79x n_in * n_out * accumulator bits at RF 1, x0.76 at RF 2); they replace the cut registers
        product_regs = float(n_w * acc_w)
        est.notes.append(f"{n_w} products > {MAXIMUM_PARTITION_SIZE}: not fully partitioned, {seq} extra cycles")
    est.latency_cycles = latency
    est.ii = latency + 1 if latency + 1 < rf else rf
    step = _cut_step(path, cuts, ctx)
    ff = k.ff_scale * _cut_registers(cuts, nz, n_out, acc_w, t_mult * speed, t_add * speed, step)
    ff = product_regs if product_regs > ff else ff  # the held products are the registers of the sequential schedule
    if rf >= 2:
        ff *= FF_REUSE_FACTOR
    est.ff = ff


def _multiplier_limit(layer: LayerSpec, n_in: int, n_out: int, n_zeros: int, rf: int) -> int:
    """The ``multiplier_limit`` hls4ml writes for this ``n_in x n_out`` product with ``n_zeros`` zero weights.

    A depthwise convolution (:mod:`cost_models.depthwise_rules`) is costed as ``n_chan`` products of ``kernel``
    inputs each (``n_in = kernel``, ``n_out = n_chan``), but hls4ml's depthwise mult config
    (``convolution_templates.py``: ``n_in = n_chan x kernel``, ``n_out = n_filt = n_chan``, ``n_zeros`` the
    zeros among the depthwise weights) gives ``DIV_ROUNDUP(kernel x n_chan x n_chan, reuse_factor) - n_zeros /
    reuse_factor``, ``n_chan`` times the layer's products over RF (hls4ml 1.0 wrote ``n_zeros = 0``: pominiq's
    ``config6_depthwise_mult``, 288 x 32 at RF 16, limit 576). So the ``ALLOCATION`` limit of
    ``depthwise_product_latency`` (``nnet_depthwise_product.h``) does not bind below RF ``n_chan`` and the
    products are not time-multiplexed (pominiq, Vivado HLS 2020.1: 1,170 DSP, where a limit of products / RF
    gives 477). Other layers: :func:`multiplier_limit` itself."""
    g = layer.conv
    if layer.kind in DEPTHWISE_KINDS and g is not None:
        return multiplier_limit(n_in * g.n_chan, n_out, n_zeros, rf)
    return multiplier_limit(n_in, n_out, n_zeros, rf)


def fabric_shared_luts(shift_add_adders: float, limit: int, slots: int, n_out: int, data_bits: int,
                       weight_bits: int, tree_luts: float, lut_per_adder_bit: float) -> float:
    """LUTs of a Latency-strategy dense whose products are forced into fabric (``mult_impl="lut"``) when
    hls4ml's ``ALLOCATION operation instances=mul limit=multiplier_limit`` binds.

    The pragma limits ``mul`` operations whatever resource implements them, so the "hard" constant products
    (those the tool would put on DSPs) share ``limit`` fabric multipliers over ``slots`` schedule slots, as
    they would share ``limit`` DSPs: each is a generic ``weight_bits x data_bits`` array multiplier (its
    constant operand now comes from the slot counter), with the operand multiplexers of
    :func:`shared_dsp_mux_luts`. The few-digit constants are shift-adds, not ``mul`` operations: they stay
    unshared (``shift_add_adders`` adders, as in the auto binding), and so does the accumulation tree
    (``tree_luts``). csynth per-layer rows of ArgyKokk's LUT_reuse100 designs (Vitis HLS 2021.1,
    Zynq-7000): each dense of 1,500 LUT or more takes 1.02-1.05x the LUTs of the same layer in its DSP_reuse100
    twin (16 layers, 6 networks; the three smallest, <= 332 LUT, 1.16-1.7x), where the former every product in
    LUTs rule gave 1.5-2.3x the csynth row for the 16 layers whose limit binds (now 1.07-1.53x, as the estimates
    of their DSP twins). Units: LUTs.
    """
    mult = limit * weight_bits * data_bits * LUT_PER_GENERIC_MULT_BITPROD
    return (lut_per_adder_bit * shift_add_adders * (data_bits + weight_bits) + tree_luts + mult
            + shared_dsp_mux_luts(limit, slots, n_out, data_bits))


@lru_cache(maxsize=4096)
def _tree_shape(n_in: int) -> tuple[int, float]:
    """Adder levels of the accumulation of ``n_in`` products plus the bias (``ceil(log2 n_in) + 1``), and the
    tree's :func:`tree_mean_growth` (bits)."""
    return (math.ceil(math.log2(n_in)) if n_in > 1 else 0) + 1, tree_mean_growth(n_in)


@lru_cache(maxsize=4096)
def tree_mean_growth(n: int) -> float:
    """Mean bit growth (bits above one product) of the adders of a balanced binary tree summing ``n`` products:
    an adder at level ``l`` adds two ``l - 1``-grown sums and is ``l`` bits wider than a product, and half the
    adders sit at level 1. The ``acc[jj] += mult[index]`` chain of ``nnet_dense_latency.h`` is balanced into
    such a tree by the HLS tool, and each adder is only as wide as its operands' range needs (the declared
    ``accum_t`` is an upper bound). Units: bits."""
    if n <= 1:
        return 1.0
    total = weighted = 0
    level, width = 1, n
    while width > 1:
        adders = width // 2
        total += adders
        weighted += adders * level
        width -= adders
        level += 1
    return weighted / total


def shared_dsp_mux_luts(units: float, slots: int, n_out: int, data_bits: int) -> float:
    """LUTs in front of the ``units`` DSPs that a Latency-strategy dense shares over ``slots`` schedule slots
    (the ``ALLOCATION`` limit binds).

    ``nnet_dense_latency.h`` multiplies ``cache = data[ii]`` by the ``n_out`` weights of input ``ii`` in turn, so
    a DSP can keep one input over up to ``n_out`` slots: its data operand needs a ``ceil(slots / n_out)``:1
    multiplexer (none while ``slots <= n_out``). Its constant operand is a function of the slot counter only,
    the same few functions for every DSP (shared LUTs, none at 2 slots): not counted. Units: LUTs. (Counting a
    full ``slots``:1 mux of both operands for every time-multiplexed product, as before, put the Latency
    designs at RF 16-64 of Gabriele-bot and Fiwo735 at 1.2-1.65x their csynth LUT.)
    """
    data_ways = -(-slots // max(1, n_out))
    return units * data_bits * (data_ways - 1) * MUX_LUT_PER_INPUT_BIT


MUX_LUT_PER_INPUT_BIT = 0.5
"""LUT6 per extra multiplexer input per bit (a LUT6 is a 4:1 mux of one bit: ~0.33, plus routing)."""


def resource_mux_luts(n_in: int, n_out: int, rf: int, bf: int, data_bits: int, acc_bits: int) -> float:
    """LUTs of the operand multiplexers of a Resource-strategy dense (``nnet_dense_resource.h``).

    Multiplier ``im`` handles weight ``w = ir + rf * im`` in reuse iteration ``ir``:

    * ``rf <= n_in`` (``dense_resource_rf_leq_nin``): its input ``data[in_index]`` changes every
      iteration (an ``rf``:1 mux per multiplier) but its ``out_index`` depends on ``im`` only: no
      accumulator mux.
    * ``rf > n_in``, ``rf % n_in == 0`` (``dense_resource_rf_gt_nin_rem0``): every multiplier reads the
      same ``data[in_index]`` (one ``n_in``:1 mux, shared) and writes ``rf / n_in`` accumulators in turn.
    * otherwise (``dense_resource_rf_gt_nin``): ``data[w % n_in]`` per multiplier (``n_in``:1 each) and
      ``mult[w / n_in]``: ``ceil(rf / n_in)`` accumulators each.

    A LUT6 is a 4:1 multiplexer of one bit. Units: LUTs.
    """
    if rf <= 1:
        return 0.0
    if rf <= n_in:
        return bf * data_bits * rf / 4.0
    acc_ways = min(n_out, -(-rf // n_in))
    # each accumulator is written at a run-time index (``acc[out_index] += ...``): its own update, hold and
    # bias-initialise logic, as the csynth rows show (below)
    updates = RUNTIME_INDEX_ACC_LUT_PER_BIT * n_out * acc_bits
    if rf % n_in == 0:
        return (data_bits * n_in + bf * acc_bits * acc_ways) / 4.0 + updates
    return bf * (data_bits * n_in + acc_bits * acc_ways) / 4.0 + updates


RUNTIME_INDEX_ACC_LUT_PER_BIT = 3.0
"""Resource dense with ``RF > n_in`` (``dense_resource_rf_gt_nin_rem0`` / ``_rf_gt_nin``): LUTs per accumulator
bit for the accumulators written at a run-time ``out_index`` (``acc`` is completely partitioned, so the write
becomes per-register update/hold logic next to the bias initialisation). csynth per-layer rows of Vivado HLS
2020.1 (mgrailoo, one multiplier): 2.3 / 2.7 / 3.6 LUT per accumulator bit beyond the operand muxes at
n_out = 10 / 100 / 200; Vitis HLS 2023.1 (Alezander9) shows ~8."""


FF_REUSE_FACTOR = 0.7
"""With II >= 2 the tool shares pipeline registers between the schedule's slots (observed ~0.7)."""


def _cut_step(path_ns: float, cuts: int, ctx: LayerContext) -> float:
    """Spacing (ns along the product + adder-tree path of ``path_ns``) of the ``cuts`` pipeline registers of
    a Latency-strategy product: where :func:`_cut_registers` counts the partial sums live at each cut.

    * Vitis HLS (2020.2 on): as soon as possible, one usable clock period (``t_eff``) after the other. Where
      a product and an adder do not fit in a period the first cut holds every product (twice where the
      product takes more than a period), and each later one the sums left after as many adder levels as
      fit in the periods before it: deeper into the tree than evenly spaced cuts, which stretch the
      path over the cuts. csynth per-layer rows of ArgyKokk's 110 Latency dense layers (Vitis HLS 2021.1,
      Zynq-7000, 3.33 and 5 ns, 1-9 cycles): FF = 0.9-1.5 x (non-zero products x accumulator bits) at
      5 ns and RF 1, 1.3-2.6 x at 3.33 ns, nearly independent of the layer's cycles. The spread of
      log(pred / true) over those layers, each placement at its best scale: 0.44 evenly spaced, 0.39 ASAP.
      The Vitis FF scale fitted on the design totals moves from 0.31 to 0.49, toward the 0.76-0.83 these
      layers alone want; k-diep's and kimhaneal's UltraScale+ layers keep it lower (csynth schedules them in
      1 cycle where the model gives 2-3, so their cut registers are over-counted).
    * Vivado HLS (up to 2020.1): evenly spaced (``path / (cuts + 1)``), the former rule. Its io_parallel
      designs (Fiwo735, fastmachinelearning ml4quantum, Gabriele-bot; Vivado HLS 2019.1-2020.1) hold more:
      with ASAP cuts their fitted FF scale is 4.55 (0.76 evenly spaced).
    """
    if ctx.family == "vitis_hls":
        return ctx.t_eff
    return path_ns / (cuts + 1)


def _cut_registers(cuts: int, nz: int, n_out: int, acc_w: int, t_mult_ns: float, t_add_ns: float,
                   step_ns: float) -> float:
    """Registered bits of a pipelined product + adder tree with ``cuts`` cuts, the ``j``-th at ``j x step_ns``
    along the path (:func:`_cut_step`).

    A cut after ``l`` adder levels holds the partial sums still live there: about
    ``nz / 2^l`` words (at least one per output) of the accumulator width. Units: FF.
    """
    if cuts <= 0:
        return 0.0
    per_out = nz / (n_out if n_out > 1 else 1)
    per_out = per_out if per_out > 1.0 else 1.0
    bits = 0.0
    for halving in _cut_halvings(cuts, t_mult_ns, t_add_ns, step_ns):
        live = per_out / halving
        live = n_out * (live if live > 1.0 else 1.0)
        bits += live * acc_w
    return bits + n_out * acc_w  # the layer's output register


@lru_cache(maxsize=4096)
def _cut_halvings(cuts: int, t_mult_ns: float, t_add_ns: float, step_ns: float) -> tuple[float, ...]:
    """``2^l`` for each of ``cuts`` cuts, the ``j``-th at ``j x step_ns`` (ns) along the path, ``l`` the adder
    levels (whole) the cut comes after: the factor by which the live partial sums have shrunk there."""
    out = []
    for j in range(1, cuts + 1):
        x = step_ns * j
        level = max(0.0, (x - t_mult_ns) / t_add_ns) if t_add_ns > 0 else 0.0
        out.append(2.0 ** math.floor(level))
    return tuple(out)


def _rule_dense(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    _mult_pass(layer, ctx, layer.n_in, layer.n_out, layer.n_zeros, layer.reuse_factor, est)
    if layer.io_type == "io_stream":
        # nnet_dense_stream.h: the input vector is read pixel by pixel (one read per cycle) before the product,
        # and the wrapper is not pipelined across calls: a Latency-strategy stage's II is its latency (csynth
        # rows: II == latency for the io_stream Latency dense instances of the shared reports); a Resource one
        # starts its next reuse loop a few cycles before the last result is out
        reads = max(1, ctx.stream_pixels)
        if layer.strategy == "resource" and layer.reuse_factor > 1:
            est.ff += DENSE_RESOURCE_REWIND_COPIES * layer.n_in * ctx.data.width
        if reads > 1:
            est.ff += stream_dense_input_registers(layer.n_in, ctx.data.width)
        est.latency_cycles += reads
        est.ii = max(est.ii, float(reads if layer.strategy == "resource" else est.latency_cycles))
        # the reads follow the upstream stage's writes, so in the dataflow only the last read and the product
        # add to the pipeline's latency (mbavier CNN: a 128x10 dense of 65 cycles after a 100-pixel stage,
        # 109 cycles in all, not 165)
        est.depth_cycles = est.latency_cycles - reads + 1
        return 1
    est.depth_cycles = est.latency_cycles
    return 1


def stream_dense_input_registers(n_in: int, data_bits: int) -> float:
    """FFs of the input copy of an io_stream dense whose input arrives over more than one pixel.

    ``nnet::dense`` of ``nnet_dense_stream.h`` (hls4ml 0.6 to 1.3) declares ``data_T::value_type data[n_in]`` with
    ``ARRAY_PARTITION complete`` and fills it in its ``DataPrepare`` loop (``PIPELINE``), one stream pixel per
    iteration, before the product reads every element at once: ``n_in`` registers of the data width. A vector
    that arrives as one pixel (``n_in / data_T::size == 1``) is read in one step and is not held. csynth
    per-instance rows of io_stream dense layers after a flatten, against the former estimate without this copy:
    RishThakkar 784-input Resource (Vivado HLS 2019.2) 51,155 FF where the rule gave 997 (the copy is 12,544);
    Gabriele-bot 400-input Resource (Vivado HLS 2020.1) 30,889 vs 3,860 (6,400); Spehic 800 x ufixed<4>
    18,464 vs 14,432 (3,200); Alezander9 53-input Resource (Vitis HLS 2023.1) 2,543 vs 400 (848); a
    79-input dense at 5 ns 3,365 vs 2,228 (1,264). Units: FF."""
    return float(n_in * data_bits)


def _rule_conv(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """Conv1D/Conv2D and their pointwise forms (hls4ml 1.3 ``nnet_conv{1,2}d_latency.h``,
    ``nnet_conv{1,2}d_resource.h``, ``nnet_conv{1,2}d_stream.h``, ``nnet_conv_stream.h``).

    io_parallel: the ``PartitionLoop`` runs ``n_partitions = out_pixels / ParallelizationFactor`` passes;
    each pass unrolls the products of ``PF`` output pixels (``PIPELINE II=reuse_factor rewind`` for Latency;
    a reuse loop of RF iterations for Resource, passes one after the other). So DSP and LUT follow PF, not
    the output size, and the passes set II and latency.
    io_stream: one matrix-vector unit fed by a line buffer (``LineBuffer``) or by per-element FIFOs of
    depth ``filt_height * out_width`` (``Encoded``); the loop over the INPUT pixels is pipelined at
    II=RF (Latency). A Resource product is not pipelined across pixels: each output pixel waits for its
    RF reuse iterations.
    """
    g = layer.conv
    out_px = g.out_pixels if g else 1
    in_px = g.in_pixels if g else out_px
    rf = layer.reuse_factor
    db = ctx.data.width
    if layer.io_type == "io_stream":
        _mult_pass(layer, ctx, layer.n_in, layer.n_out, layer.n_zeros, rf, est)
        depth = est.latency_cycles
        min_ii: float = STREAM_PIXEL_MIN_II.get(ctx.family, 1)
        if ctx.family == "vitis_hls":  # the compute_output_buffer call is not overlapped with the next pixel
            min_ii = max(min_ii, depth + VITIS_CALL_EXTRA_CYCLES)
        if layer.strategy == "resource" and (rf > 1 or ctx.family == "vivado_hls"):
            # the pixel loop is not pipelined: csynth counts every INPUT pixel at the longest iteration.
            # At RF 1 the product rule takes the Latency form, but dense_resource still runs its one-iteration
            # reuse loop: at least RF + 2 cycles, as the Resource form of _mult_pass counts it
            per_pixel = max(depth, rf + 2.0) + STREAM_RESOURCE_PIXEL_OVERHEAD.get(ctx.family, 0.0)
            est.ii = float(in_px * max(per_pixel, min_ii))
        elif layer.strategy == "resource":
            # Vitis HLS at RF 1 pipelines the pixel loop (the one-iteration reuse loop is flattened into it):
            # Alezander9 cnn_large, 2-3 cycles per input pixel
            est.ii = max(out_px * depth + max(0, in_px - out_px), float(in_px * min_ii))
        else:
            # PIPELINE II=RF is a ceiling: an iteration shorter than RF cycles sets the achieved II
            iteration = depth + STREAM_LATENCY_ITERATION_OVERHEAD
            est.ii = float(in_px * max(min(rf, iteration), min_ii))
        est.latency_cycles = est.ii + depth
        est.depth_cycles = depth
        est.ff += layer.n_in * db  # the kernel window registers
        if layer.strategy == "resource" and rf > 1 and ctx.family == "vitis_hls":
            est.ff += DENSE_RESOURCE_REWIND_COPIES * layer.n_in * db  # the reuse loop's phi/rewind window copies
        if g is not None:
            est.ff += conv_control_registers(g.filt_height, g.n_chan, db, ctx.family,
                                             layer.conv_implementation == "encoded", g.filt_height > 1)
            if layer.conv_implementation == "encoded":
                n_fifo = g.filt_width * g.filt_height * g.n_chan
                fifo_depth = g.filt_height * g.out_width
                est.bram_18k += n_fifo * fifo_bram18(fifo_depth, db)
                lut, ff = fifo_logic(fifo_depth, db)
                est.lut += n_fifo * lut
                est.ff += n_fifo * ff
            elif g.filt_height > 1:  # 2D line buffer: (filt_height - 1) rows per channel, SRLs
                est.lut += shift_register_luts(g.in_width, db, (g.filt_height - 1) * g.n_chan)
        return out_px
    pf = layer.parallelization_factor or out_px
    parts = max(1, out_px // pf)
    _mult_pass(layer, ctx, layer.n_in, layer.n_out * pf, layer.n_zeros * pf, rf, est)
    if parts > 1:
        est.notes.append(f"{parts} partitions of {pf} output pixel(s)")
        if layer.strategy == "resource":
            est.latency_cycles *= parts
            est.ii = est.latency_cycles
        else:
            est.latency_cycles += (parts - 1) * est.ii
            est.ii *= parts
    est.depth_cycles = est.latency_cycles
    return 1


def _elementwise_ii(layer: LayerSpec, ctx: LayerContext) -> tuple[float, float]:
    """(parallel width, ii) of an element-wise layer: io_stream handles one pixel per cycle."""
    if layer.io_type == "io_stream" and ctx.stream_pixels > 1:
        return max(1.0, layer.n_in / ctx.stream_pixels), float(ctx.stream_pixels)
    return float(layer.n_in), 1.0


RELU_LIKE = ("relu", "leaky_relu", "relu6", "thresholdedrelu")
PIECEWISE_ACTIVATIONS = (*RELU_LIKE, "hard_sigmoid", "hard_tanh", "binary_tanh", "ternary_tanh", "elu", "prelu")
"""Activations computed by compares, selects (and a constant product): no lookup table."""


def _rule_activation(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    act = (layer.activation or "relu").lower()
    width, ii = _elementwise_ii(layer, ctx)
    in_w, out_w = ctx.data.width, layer.result.width
    if act in LINEAR_ACTIVATIONS:
        est.latency_cycles = 0.0
        est.ii = ii
        return
    if act in PIECEWISE_ACTIVATIONS:
        est.lut = width * (in_w + 2 * out_w) * RELU_LUT_FACTOR
        if act in ("leaky_relu", "elu", "prelu") and layer.mult_impl != "lut":
            est.dsp = width * dsp_share(in_w, in_w)  # alpha * x is a constant product
        est.latency_cycles = float(round(T_RELU_NS * ctx.speed / ctx.t_eff))
        est.ff = width * (in_w + out_w) * RELU_FF_FACTOR if est.latency_cycles > 0 else 0.0
    else:  # table-based: sigmoid, tanh, softplus, selu, ...
        tbits = table_bits(layer)
        est.bram_18k = math.ceil(width / 2) * math.ceil(tbits / BRAM18_BITS)
        est.lut = width * (2 * in_w + out_w)
        est.ff = width * (in_w + out_w)
        est.latency_cycles = 3.0
    est.ii = ii
    est.latency_cycles += ii - 1
    est.depth_cycles = est.latency_cycles - (ii - 1)


def _rule_softmax(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    """``nnet_activation.h`` softmax: ``stable`` (max tree, subtract, exp table, sum tree, inverse table,
    multiply) or ``latency`` (the same without the max tree and the subtraction)."""
    n = max(1, layer.n_in)
    in_w = ctx.data.width
    levels = math.ceil(math.log2(n)) if n > 1 else 0
    impl = "latency" if layer.softmax_implementation == "latency" else "stable"
    tbits = table_bits(layer)
    est.bram_18k = n * math.ceil(tbits / BRAM18_BITS)  # one exp-table copy per element
    est.dsp = 0.0 if layer.mult_impl == "lut" else float(n)  # x_i * (1 / sum), 18-bit products
    logic = SOFTMAX_LATENCY_LOGIC if impl == "latency" else 1.0
    est.lut = n * in_w * SOFTMAX_LUT_PER_BIT * logic
    est.ff = n * in_w * SOFTMAX_FF_PER_BIT * logic
    speed = ctx.speed * (SOFTMAX_7SERIES_DELAY if ctx.part.family in SEVEN_SERIES_FAMILIES else 1.0)
    path = (SOFTMAX_FIXED_NS[impl] + levels * SOFTMAX_LEVEL_NS[impl]) * speed
    est.latency_cycles = float(max(1, math.ceil(path / ctx.t_eff)))
    est.ii = 1.0
    if layer.io_type == "io_stream":
        # nnet_activation_stream.h: read the pack, one pipelined iteration per call (not overlapped across
        # calls), write the result
        est.latency_cycles += SOFTMAX_STREAM_IO_CYCLES
        est.ii = est.latency_cycles
        if ctx.family == "vitis_hls":  # one register per element for the input and for its exp
            exp_bits = table_width(layer)
            est.ff = n * (in_w + exp_bits) * logic + VITIS_STREAM_SOFTMAX_EXTRA_FF
    est.depth_cycles = est.latency_cycles


def _rule_batchnorm(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    width, ii = _elementwise_ii(layer, ctx)
    wb = (layer.weight or FixedType(16, 6)).width
    db = ctx.data.width
    rf = layer.reuse_factor
    share = 0.0 if layer.mult_impl == "lut" else (1.0 if layer.mult_impl == "dsp" else dsp_share(wb, db))
    units = min(math.ceil(width / rf), share * width)
    est.dsp = units * dsp_per_mult(wb, db, ctx.part)
    est.lut = width * (1 - share) * wb * db * LUT_PER_CONST_MULT_BITPROD + width * layer.result.width
    est.ff = width * (layer.result.width + db)
    est.latency_cycles = float(_tree_cycles(1, ctx)) + ii - 1
    est.ii = max(ii, min(float(rf), est.latency_cycles + 1))
    est.depth_cycles = est.latency_cycles - (ii - 1)


LayerRule = Callable[[LayerSpec, LayerContext, LayerEstimate], "int | None"]
"""A cost rule: fills the :class:`LayerEstimate` of one layer and returns the pixels of its output
stream (``None``: the same as its input's)."""

RULES: dict[str, LayerRule] = {}
"""Layer kind -> cost rule. The rules of the matrix-product and activation layers live here; pooling,
padding, flatten/reshape and concatenate register theirs in :mod:`cost_models.layer_rules`."""


def register_rule(kind: str, rule: LayerRule) -> None:
    """Add the cost rule of a layer kind (a kind has one rule: a second registration is an error)."""
    if kind in RULES:
        raise ValueError(f"layer kind {kind!r} already has a cost rule")
    RULES[kind] = rule


def _rule_input(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    est.latency_cycles = 0.0  # the input port: no hardware


for _kind, _rule in (("input", _rule_input), ("dense", _rule_dense), ("conv1d", _rule_conv), ("conv2d", _rule_conv),
                     ("pointwise_conv1d", _rule_conv), ("pointwise_conv2d", _rule_conv),
                     ("activation", _rule_activation), ("softmax", _rule_softmax), ("batchnorm", _rule_batchnorm)):
    register_rule(_kind, _rule)


@dataclass
class _TargetSetup:
    """What :func:`analytic_totals` derives from a target and its constants, once: the part, the clock period
    (ns), the part's speed factor, whether the tool limits array partitioning, the tool family, and the
    layer contexts built so far. A :class:`LayerContext` is frozen and depends on nothing but these and the
    incoming data type and stream pixels, so layers (of any call) with equal ones share one."""

    part: Part
    period: float
    speed: float
    limited: bool
    family: str
    k: Constants
    input_registered: bool
    """io_parallel: the top function registers its input vector (:func:`input_port_registered`)."""
    contexts: dict[tuple[int, int, bool, int], LayerContext] = field(default_factory=dict)
    per_call: float = field(init=False)
    """io_parallel PIPELINE: the cycles each layer call adds to the top-level pipeline (a boundary register where
    a clock edge falls between two calls; a fraction where the tool chains them into one cycle)."""

    def __post_init__(self) -> None:
        self.per_call = min(1.0, self.k.t_boundary_ns * self.speed / usable_period(self.period))

    def context(self, data: FixedType, pixels: int) -> LayerContext:
        """The context of a layer whose input is ``data`` over ``pixels`` stream pixels (:func:`analytic_totals`
        looks its key up first, inline)."""
        key = (data.width, data.integer, data.signed, pixels)
        ctx = self.contexts.get(key)
        if ctx is None:
            if len(self.contexts) >= _MAX_CONTEXTS:
                self.contexts.clear()
            ctx = self.contexts[key] = LayerContext(self.part, self.period, data, pixels, self.k, self.speed,
                                                    self.limited, self.family)
        return ctx


_MAX_CONTEXTS = 4096
_SETUPS: dict[tuple[Target, int], _TargetSetup] = {}
"""Setups by (target, id of the constants); an entry holds its constants, so the id stays theirs."""


_LAST_SETUP: tuple[Target | None, Constants | None, _TargetSetup | None] = (None, None, None)
"""The target object, constants and setup of the last call (a search asks with the same objects, and hashing
a target costs more than the rest of the look-up)."""


def _target_setup(target: Target, k: Constants) -> _TargetSetup:
    """The (memoised) setup of ``target`` with constants ``k``."""
    global _LAST_SETUP
    last = _LAST_SETUP
    if last[0] is target and last[1] is k and last[2] is not None:
        return last[2]
    key = (target, id(k))
    setup = _SETUPS.get(key)
    if setup is None:
        if len(_SETUPS) >= 256:
            _SETUPS.clear()
        part = resolve_part(target.part)
        setup = _SETUPS[key] = _TargetSetup(part, float(target.clock_period_ns), part_speed(part, target.part),
                                            array_partition_limited(target), tool_family(target), k,
                                            input_port_registered(target))
    _LAST_SETUP = (target, k, setup)
    return setup


def _unknown_layer(layer: LayerSpec) -> UnknownLayerError:
    return UnknownLayerError(f"layer {layer.name!r}: no cost rule for layer kind {layer.kind!r}; "
                             f"kinds with a rule: {', '.join(sorted(RULES))}")


def estimate_layer(layer: LayerSpec, ctx: LayerContext) -> tuple[LayerEstimate, int]:
    """Analytic estimate of one layer, and the number of pixels of its output stream (1 for vectors).

    Raises :class:`~cost_models.errors.UnknownLayerError` (naming the layer and its kind) when no rule
    covers the layer's kind.
    """
    rule = RULES.get(layer.kind)
    if rule is None:
        raise _unknown_layer(layer)
    est = LayerEstimate(layer.name, layer.kind, reuse_factor=layer.reuse_factor)
    out = rule(layer, ctx, est)
    return est, ctx.stream_pixels if out is None else out


_DEFAULT_DATA = FixedType(16, 6)
_CONV = frozenset(CONV_KINDS)
"""CONV_KINDS as a set (a kind that is not there costs one hash look-up, not a scan)."""
IO_PARALLEL_IO_CYCLES = 1
"""io_parallel: the top-level function's input register (its output register is one more call boundary)."""


def analytic_totals(layers: Sequence[LayerSpec], target: Target,
                    constants: ConstantSet | Constants | None = None) -> tuple[dict[str, float], list[LayerEstimate]]:
    """Uncalibrated totals (keys of :data:`~cost_models.records.METRICS`) and per-layer estimates.

    ``constants``: the analytic model's constants (default: the shipped set, per tool family).
    """
    for layer in layers:
        if layer.strategy == "distributed_arithmetic":  # cost_models/distributed_arithmetic.py
            from cost_models.distributed_arithmetic import da_analytic_totals

            da_totals, da_rows = da_analytic_totals(layers, target)
            return da_totals, [LayerEstimate(**row) for row in da_rows]
    cs = constants if constants is not None else DEFAULT_CONSTANTS
    k = cs if isinstance(cs, Constants) else cs.for_target(target)
    setup = _target_setup(target, k)
    family = setup.family
    rows: list[LayerEstimate] = []
    dataflow_style = False  # parallel_dataflow(layers), computed in the loop
    data = _DEFAULT_DATA
    pixels = 1
    stream = False
    hw_layers: list[tuple[LayerSpec, int]] = []
    skips = False  # a layer names its inputs (a merge's skip connection)
    contexts = setup.contexts
    for layer in layers:
        kind = layer.kind
        if kind == "input":
            data = layer.result
            continue
        if layer.io_type == "io_stream":
            stream = True
        d = layer.input or data
        ctx = contexts.get((d.width, d.integer, d.signed, pixels)) or setup.context(d, pixels)  # its hit, inlined
        if not dataflow_style and (layer.strategy == "resource" or (kind in _CONV and layer.n_partitions > 1)):
            dataflow_style = True
        if layer.extra and "inputs" in layer.extra:
            skips = True
        rule = RULES.get(kind)
        if rule is None:
            raise _unknown_layer(layer)
        est = LayerEstimate(layer.name, kind)  # estimate_layer, inlined (a keyword argument costs more)
        est.reuse_factor = layer.reuse_factor
        out = rule(layer, ctx, est)
        if out is not None:
            pixels = out
        rows.append(est)
        hw_layers.append((layer, pixels))
        data = layer.result
    if stream:
        _stream_fifos(hw_layers, rows)
    dataflow = not stream and dataflow_style
    if dataflow and hw_layers:
        first = hw_layers[0][0]
        in_type = first.input or (layers[0].result if layers[0].kind == "input" else _DEFAULT_DATA)
        g0 = first.conv
        n_first = g0.in_pixels * g0.n_chan if g0 is not None and first.kind in CONV_KINDS else first.n_in
        _parallel_channels(hw_layers, rows, family, n_first * in_type.width if target.legacy_hls4ml else 0)
        _dataflow_registers(hw_layers, rows, in_type, target.legacy_hls4ml)
    if not stream and not dataflow and skips:
        _skip_registers(hw_layers, rows, setup.per_call)
    dsp = lut = ff = bram = 0.0
    ii = 1.0
    lat_sum = 0.0
    lat_max = 0.0
    depth_sum = 0.0
    for r in rows:
        dsp += r.dsp
        lut += r.lut + r.fifo_lut
        ff += r.ff + r.fifo_ff
        bram += r.bram_18k + r.fifo_bram_18k
        if r.ii > ii:
            ii = r.ii
        lat_sum += r.latency_cycles
        depth_sum += r.depth_cycles
        if r.latency_cycles > lat_max:
            lat_max = r.latency_cycles
    if stream:
        # Dataflow: layers overlap; the slowest streams the image, the others add their depth.
        latency = lat_max + max(0.0, depth_sum - _depth_of_slowest(rows, lat_max))
    elif dataflow:
        # io_parallel DATAFLOW: the processes run one after the other on one input, and each channel
        # between two of them adds a cycle (csynth: five processes of latency 0 -> 4 cycles, Kenny-Jia at
        # 25 ns; 7,841 + 0 + 501 + 57 -> 8,402, mgrailoo)
        n_proc = sum(1 for layer, _ in hw_layers if layer.kind not in PARALLEL_INPLACE_KINDS)
        latency = lat_sum + max(0, n_proc - 1)
        ii = max(ii, 1.0)
    else:
        # every call of the top-level pipeline (and its output) adds a boundary: a cycle at short
        # clock periods, a fraction where the tool chains consecutive layers into one cycle
        latency = lat_sum + setup.per_call * len(rows) + IO_PARALLEL_IO_CYCLES
        ii = max(ii, 1.0)
    if not stream:
        # the top-level function registers its input and output vectors
        hw = [layer for layer, _ in hw_layers]  # the layers but the input, in order
        if hw:
            first_in = hw[0].input or (layers[0].result if layers[0].kind == "input" else _DEFAULT_DATA)
            g0, g1 = hw[0].conv, hw[-1].conv
            n_first = g0.in_pixels * g0.n_chan if g0 is not None and hw[0].kind in CONV_KINDS else hw[0].n_in
            n_last = g1.out_pixels * g1.n_filt if g1 is not None and hw[-1].kind in CONV_KINDS else hw[-1].n_out
            # under DATAFLOW the first process reads the input port itself (or, hls4ml < 0.8, a channel
            # holds it): only the output is registered at the top (csynth "Register" row: 3 x 32 bits, Kenny-Jia)
            # the input vector is the ``_preg`` of an ``ap_vld`` port (none where the tool makes it ``ap_none``:
            # :func:`cost_models.constants.input_port_registered`)
            in_reg = 0 if dataflow or not setup.input_registered else n_first * first_in.width
            ff += in_reg + n_last * hw[-1].result.width
            if not dataflow:
                ff += _boundary_registers(hw, latency)
    totals = {"dsp": dsp, "lut": lut, "ff": ff, "bram_18k": bram, "latency_cycles": latency, "ii": ii}
    return totals, rows


def _skip_registers(hw_layers: Sequence[tuple[LayerSpec, int]], rows: Sequence[LayerEstimate],
                    per_call: float) -> None:
    """io_parallel ``PIPELINE``: the registers that hold a merge's skip input (a residual connection) until the
    other branch reaches the merge, added to the merge's row.

    The top function is one pipeline, so a vector computed ``span`` cycles before the layer that reads it is
    carried through ``ceil(span)`` pipeline registers; :func:`_boundary_registers` counts one of them. ``span``
    is the latency of the layers called between the writer and the merge (each plus its call boundary, as the
    model latency counts them; in-place reshapes add nothing). The writers come from ``extra["inputs"]``
    (``""``: the model input, read from cycle 0). Units: FF.
    """
    index = {layer.name: i for i, (layer, _) in enumerate(hw_layers)}
    for j, ((layer, _), row) in enumerate(zip(hw_layers, rows, strict=True)):
        names = layer.extra.get("inputs")
        if not names or layer.kind not in ("merge", "dot"):
            continue
        types = (layer.input or layer.result, layer.input2 or layer.input or layer.result)
        for name, t in zip(names.split(","), types, strict=False):
            i = index.get(name, -1 if name == "" else j - 1)
            span = sum(rows[m].latency_cycles + (0.0 if _holds_no_vector(hw_layers[m][0]) else per_call)
                       for m in range(i + 1, j))
            extra = max(0, math.ceil(span - 1e-9) - 1)
            if extra:
                bits = extra * layer.n_in * t.width
                row.ff += bits
                row.notes.append(f"a skip input held {extra} more cycles: {bits} FF")


def _boundary_registers(hw: Sequence[LayerSpec], latency: float) -> float:
    """Flip-flops of the top-level pipeline (io_parallel, ``PIPELINE`` style) between layer calls.

    The top function calls the layers one after the other inside one pipeline; wherever a clock edge
    falls between a layer and the next, the tool registers the whole output vector of the first in the top
    function (the csynth "Register" row, besides the layer instances' own registers). With ``latency``
    cycles over ``n`` layer boundaries, ``min(1, latency / n)`` of them get one. csynth "Register" rows
    against the layers' summed outputs (``n_out x result bits``): 0.96-0.97 of it in Vitis HLS 2021.1
    designs of 20-260 cycles (ArgyKokk jet_tagging, mnist), 0.97 in Vitis HLS 2022.1 (kimhaneal, 9 cycles),
    0.92 in Vitis HLS 2023.2 (k-diep, 10), 0.79-0.92 in Vivado HLS 2019.2 (Fiwo, 10-13 cycles); in designs
    of 1-2 cycles at 25 ns a fraction (Kenny-Jia). Linear activations (removed by hls4ml 1.3) and in-place
    reshapes hold no vector of their own; the last layer's output is the top function's output register.
    """
    bits = 0  # the output vectors of the inner layers that hold one (exact integer sum)
    inner = False
    for layer in hw[:-1]:
        if not _holds_no_vector(layer):
            inner = True
            # _output_elements(layer): n_out for a layer without geometry (the call costs more than the rest)
            bits += (layer.n_out if layer.conv is None else _output_elements(layer)) * layer.result.width
    if not inner:
        return 0.0
    frac = min(1.0, latency / len(hw))
    return frac * bits


INPLACE_STREAM_KINDS = ("flatten",)
"""io_stream kinds whose output shares its input's stream (hls4ml ``InplaceStreamFlatten``): no FIFO."""


def _stream_fifos(hw_layers: Sequence[tuple[LayerSpec, int]], rows: Sequence[LayerEstimate]) -> None:
    """io_stream stages: each stage's control logic (``STREAM_STAGE_LOGIC``) and the FIFO of each layer's
    output tensor, but the model's output port.

    hls4ml declares the stream with depth = its pixel count and one FIFO per element of a pixel
    (``StreamVariableConverter``); see :mod:`cost_models.stream` for the BRAM rule.
    """
    for i, ((layer, pixels), row) in enumerate(zip(hw_layers, rows, strict=True)):
        if layer.io_type != "io_stream":
            continue
        lut, ff = STREAM_STAGE_LOGIC.get(layer.kind, (0.0, 0.0))
        if layer.kind == "concatenate" and layer.out_pack is not None and layer.out_pack == layer.n_out:
            lut = ff = 0.0  # concatenate1d: two counted loops and one write; its output vector is its rule's
        row.lut += lut
        row.ff += ff
        if i == len(hw_layers) - 1 or layer.kind in INPLACE_STREAM_KINDS:
            continue
        depth = max(1, pixels)
        per_pixel = layer.conv.n_filt if layer.kind in CONV_KINDS and layer.conv else max(1, layer.n_out // depth)
        width = layer.result.width
        row.fifo_bram_18k = float(per_pixel * fifo_bram18(depth, width))
        lut, ff = fifo_logic(depth, width)
        row.fifo_lut = per_pixel * lut
        row.fifo_ff = per_pixel * ff


def parallel_dataflow(layers: Sequence[LayerSpec]) -> bool:
    """hls4ml's ``SetPipelineStyle`` at io_parallel: DATAFLOW when a layer uses the Resource strategy or a
    convolution runs in more than one partition (``n_partitions != 1``), else ``PIPELINE``."""
    return any(layer.strategy == "resource" or (layer.kind in CONV_KINDS and layer.n_partitions > 1)
               for layer in layers if layer.kind != "input")


PARALLEL_INPLACE_KINDS = ("flatten", "reshape")
"""io_parallel kinds hls4ml writes in place (``InplaceParallelReshape``): no array, no channel."""


def _output_elements(layer: LayerSpec) -> int:
    g = layer.conv
    if g is not None and layer.kind in CONV_KINDS:
        return g.out_pixels * g.n_filt
    return layer.n_out


def _parallel_channels(hw_layers: Sequence[tuple[LayerSpec, int]], rows: Sequence[LayerEstimate],
                       family: str, input_bits: int) -> None:
    """io_parallel DATAFLOW: one depth-2 channel per element of every layer's output array but the model's
    output port (:func:`cost_models.stream.parallel_channel_logic`), reported in ``fifo_lut`` / ``fifo_ff``,
    and the channel that carries the top function's input (``ARRAY_RESHAPE ... complete``: one word of
    ``input_bits``) into the region (:func:`cost_models.stream.parallel_input_channel`), on the first layer;
    ``input_bits`` 0 (projects of hls4ml 0.8 and later, :attr:`~cost_models.layers.Target.legacy_hls4ml`):
    the first process reads the top function's port itself, no channel."""
    if rows:
        bram, lut, ff = parallel_input_channel(input_bits, family)
        rows[0].fifo_bram_18k += bram
        rows[0].fifo_lut += lut
        rows[0].fifo_ff += ff
    for i, ((layer, _), row) in enumerate(zip(hw_layers, rows, strict=True)):
        if i == len(hw_layers) - 1 or layer.kind in PARALLEL_INPLACE_KINDS:
            continue
        n = _output_elements(layer)
        lut, ff = parallel_channel_logic(layer.result.width, family)
        row.fifo_lut += n * lut
        row.fifo_ff += n * ff


LINEAR_ACTIVATIONS = ("linear", "none")
"""Activations that compute nothing (hls4ml 1.3 removes them from the model)."""


def _holds_no_vector(layer: LayerSpec) -> bool:
    """True for an in-place reshape or a linear activation: no output vector of its own to register."""
    return layer.kind in PARALLEL_INPLACE_KINDS or (
        layer.kind == "activation" and (layer.activation or "").lower() in LINEAR_ACTIVATIONS)


def _output_register_bits(layer: LayerSpec) -> int:
    """Bits of a DATAFLOW process's output register: every element of its output array at the result
    width; a ReLU's signed result has a constant sign bit, which the tool does not register."""
    bits = layer.result.width
    if layer.kind == "activation" and (layer.activation or "relu").lower() in RELU_LIKE and layer.result.signed:
        bits -= 1
    return _output_elements(layer) * max(1, bits)


def _dataflow_registers(hw_layers: Sequence[tuple[LayerSpec, int]], rows: Sequence[LayerEstimate],
                        in_type: FixedType, legacy: bool) -> None:
    """io_parallel DATAFLOW (hls4ml's ``SetPipelineStyle``): the registers each layer process holds.

    * Every process writes its whole output array into registers before the channels take it (csynth
      per-instance rows: a 128x32-bit dense at RF 1 takes 4,098 FF = 128 x 32 + 2, Vitis HLS 2023.1 and
      Vivado HLS 2019.2; a 16-bit ReLU of n elements n x 15 + 2 at 5 ns, Vivado HLS 2020.1, and nothing
      else): at least ``n_out x result bits`` (cut registers that already hold the output are not counted
      twice); a ReLU exactly that. Linear activations (removed by hls4ml 1.3) and softmax keep their rule.
    * A Resource layer with RF > 1 keeps its accumulators (counted by the layer rule) *and* that output
      register, and reads its input at a run-time index (``data[in_index]`` in ``nnet_dense_resource.h``)
      for RF iterations while the channels deliver each element once: it copies the input into registers
      (``n_in x data bits``), unless it reads the top function's input port itself (the first process of
      an hls4ml >= 0.8 project).
    """
    for i, ((layer, _), row) in enumerate(zip(hw_layers, rows, strict=True)):
        act = (layer.activation or "relu").lower() if layer.kind == "activation" else ""
        if _holds_no_vector(layer) or layer.kind == "softmax":
            continue
        out_bits = float(_output_register_bits(layer))
        if act in RELU_LIKE:
            row.ff = out_bits  # compare and select: only the output is registered (csynth rows: n x 15 + 2)
            continue
        if layer.strategy == "resource" and layer.reuse_factor > 1 and layer.kind in ("dense", *CONV_KINDS):
            row.ff += out_bits
            if i > 0 or legacy:
                data = layer.input or (hw_layers[i - 1][0].result if i > 0 else in_type)
                g = layer.conv
                n_in = g.in_pixels * g.n_chan if g is not None and layer.kind in CONV_KINDS else layer.n_in
                # hls4ml < 0.8: the model input reaches the first process through the top function's entry
                # processes, and that process holds two copies of it (csynth rows: 27,509 FF ~ 2 x 12,544 +
                # 2 x 1,600 for a 784x100 16-bit layer; 11,975 ~ 2 x 4,704 + 2 x 1,200 for a 6-bit one)
                copies = 2 if i == 0 else 1
                row.ff += copies * n_in * data.width
        elif row.ff < out_bits:
            row.ff = out_bits


def _depth_of_slowest(rows: list[LayerEstimate], lat_max: float) -> float:
    for r in rows:
        if r.latency_cycles == lat_max:
            return r.depth_cycles
    return 0.0
