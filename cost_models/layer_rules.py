"""Cost rules of the layers without (matrix) weights: pooling, global pooling, zero padding, cropping,
flatten/reshape, io_stream's Repack, concatenate, the element-wise merges (Add, Subtract, Multiply, Average,
Maximum, Minimum), Dot, io_stream's Clone, Embedding, LayerNormalization and Transpose (LSTM/GRU:
:mod:`cost_models.recurrent_rules`).

Each rule follows what hls4ml 1.3 generates for the kind (``templates/vivado/nnet_utils``) and is
registered in :data:`cost_models.analytic.RULES` under its kind, so a new kind is one function and one
entry of :data:`LAYER_RULES`. Units as in :mod:`cost_models.analytic`: DSP slices, LUTs, FFs, BRAM_18K,
clock cycles.
"""

from __future__ import annotations

import math

from cost_models.analytic import (
    BRAM18_BITS,
    GENERIC_LUT_MAX_BITS,
    GENERIC_LUT_MAX_UNSIGNED_PRODUCT_BITS,
    LUT_PER_CONST_MULT_BITPROD,
    LUT_PER_GENERIC_MULT_BITPROD,
    RULES,
    T_RELU_NS,
    LayerContext,
    LayerEstimate,
    LayerRule,
    dsp_per_mult,
    dsp_share,
    register_rule,
    table_bits,
)
from cost_models.layers import FixedType, LayerSpec
from cost_models.parts import SEVEN_SERIES_FAMILIES
from cost_models.stream import STREAM_POOL_7SERIES_PIXEL_II, pool_control_registers, shift_register_luts

__all__ = ["LAYER_RULES"]

MAX_LUT_PER_BIT = 1.5
"""A max of two words: a comparator (~0.5 LUT per bit on the carry chain) and a 2:1 mux (1 LUT per bit)."""
ADD_LUT_PER_BIT = 1.0
"""An adder: one LUT per bit on the carry chain."""
COPY_LUT_PER_BIT = 0.5
"""io_stream copy stages (padding, repack, concatenate): a 2:1 mux per output bit, two bits per LUT6."""
STREAM_COUNTER_FF = 40
"""FFs of an io_stream copy stage's pixel counters (observed 27-74 in the csynth rows of zero padding)."""
STREAM_STAGE_DEPTH = 2
"""Cycles from reading a pixel to writing it in a pipelined io_stream copy or compare stage."""


def _tree_levels(n: int) -> int:
    return math.ceil(math.log2(n)) if n > 1 else 0


def _compare_tree_cycles(levels: int, ctx: LayerContext) -> int:
    """Cycles of ``levels`` compare/add levels at the target clock (at least 1 when there is a level)."""
    if levels <= 0:
        return 0
    return max(1, math.ceil(levels * ctx.k.t_add_ns * ctx.speed / ctx.t_eff - 1e-9))


def _reduce_lut(op: str, window: int, width: int) -> float:
    """LUTs of one reduction over ``window`` words of ``width`` bits (max: compare + mux; average: adders)."""
    per_bit = MAX_LUT_PER_BIT if op == "max" else ADD_LUT_PER_BIT
    lut = (window - 1) * width * per_bit
    if op == "average" and window & (window - 1):  # not a power of two: a constant divide (multiply) in LUTs
        lut += width * width * 0.1
    return lut


def _rule_pooling(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """MaxPooling/AveragePooling 1D/2D (``nnet_pooling.h``, ``nnet_pooling_stream.h``).

    io_parallel: ``pooling{1,2}d_cl`` unrolls every output element's reduction over the pool window under
    ``PIPELINE II=reuse_factor``. io_stream: ``pooling{1,2}d_buffer_cl`` reads one INPUT pixel per
    iteration (``PIPELINE`` without an II: hls4ml 1.3's stream pooling ignores the ReuseFactor, so the
    stage's II is the input pixel count; on a 7-series part Vivado HLS reaches only 2 cycles per input pixel,
    :data:`cost_models.stream.STREAM_POOL_7SERIES_PIXEL_II`) into a line buffer of ``pool_height - 1`` rows of SRLs and
    reduces the window of each channel when a window completes; hls4ml requires pool size == stride and
    no padding there. The ``Encoded`` implementation keeps
    ``pool_h * pool_w * n_filt`` FIFOs of depth ``pool_height * out_width`` instead of the line buffer.
    """
    g = layer.conv
    assert g is not None  # LayerSpec requires the geometry of a pooling layer
    window = g.filt_width * g.filt_height
    op = layer.pool_op or "max"
    db = ctx.data.width
    acc = layer.accum.width if layer.accum is not None else db
    width = db if op == "max" else acc
    levels = _tree_levels(window)
    rf = max(1, layer.reuse_factor)
    est.reuse_factor = rf
    per_reduce = _reduce_lut(op, window, width)
    if layer.io_type == "io_stream":
        est.lut = g.n_chan * per_reduce
        if layer.conv_implementation == "encoded":
            est.lut += window * g.n_chan * width  # the window FIFOs' SRLs (depth pool_height * out_width)
        elif g.filt_height > 1:
            est.lut += shift_register_luts(g.in_width, db, (g.filt_height - 1) * g.n_chan)
        est.ff = g.n_chan * window * db + g.n_chan * layer.result.width  # kernel window + output pack
        est.ff += pool_control_registers(g.filt_height, g.n_chan, layer.conv_implementation == "encoded",
                                         layer.kind == "pooling2d")
        depth = STREAM_STAGE_DEPTH + _compare_tree_cycles(levels, ctx)
        seven_series = ctx.part.family in SEVEN_SERIES_FAMILIES
        per_pixel = STREAM_POOL_7SERIES_PIXEL_II.get(ctx.family, 1) if seven_series else 1
        est.ii = float(g.in_pixels * per_pixel)
        est.latency_cycles = est.ii + depth
        est.depth_cycles = float(depth)
        return g.out_pixels
    n = g.out_pixels * g.n_chan
    est.lut = n * per_reduce
    est.latency_cycles = float(_compare_tree_cycles(levels, ctx))
    est.ff = n * layer.result.width if est.latency_cycles > 0 else 0.0
    est.ii = float(rf)
    est.depth_cycles = est.latency_cycles
    return 1


def _rule_global_pooling(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """GlobalMax/GlobalAveragePooling 1D/2D (``global_pooling{1,2}d_cl`` of ``nnet_pooling.h`` and
    ``nnet_pooling_stream.h``).

    io_parallel: one reduction tree over all ``in_pixels`` per channel (``PIPELINE II=reuse_factor``).
    io_stream: one running max/sum per channel updated per input pixel, then one output write.
    """
    g = layer.conv
    assert g is not None
    op = layer.pool_op or "max"
    db = ctx.data.width
    acc = layer.accum.width if layer.accum is not None else db
    width = db if op == "max" else acc
    rf = max(1, layer.reuse_factor)
    est.reuse_factor = rf
    if layer.io_type == "io_stream":
        est.lut = g.n_chan * _reduce_lut(op, 2, width)
        est.ff = g.n_chan * width
        est.ii = float(g.in_pixels)  # one pixel per iteration; the ReuseFactor is not used here either
        est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
        est.depth_cycles = float(STREAM_STAGE_DEPTH)
        return 1
    est.lut = g.n_chan * _reduce_lut(op, g.in_pixels, width)
    est.latency_cycles = float(_compare_tree_cycles(_tree_levels(g.in_pixels), ctx))
    est.ff = g.n_chan * layer.result.width if est.latency_cycles > 0 else 0.0
    est.ii = float(rf)
    est.depth_cycles = est.latency_cycles
    return 1


def _rule_flatten(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    """Flatten: free. io_parallel arrays are reinterpreted in place (``InplaceParallelReshape``); under
    io_stream the output shares its input's stream (``InplaceStreamFlatten``): the next layer reads the
    pixels itself."""
    est.latency_cycles = 0.0
    est.ii = 1.0


def _rule_reshape(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int | None:
    """Reshape: free under io_parallel (in place); under io_stream a ``Repack`` stage
    (``nnet::repack_stream``, ``backends/fpga/passes/repack_stream.py``) reads every input pixel and writes
    the output pixels; output pixels from ``conv`` when given (else a vector: 1)."""
    if layer.io_type != "io_stream":
        est.latency_cycles = 0.0
        return None
    out_px = layer.conv.out_pixels if layer.conv is not None else 1
    in_px = max(1, ctx.stream_pixels)
    est.lut = layer.n_out * layer.result.width * COPY_LUT_PER_BIT / max(1, out_px)
    est.ff = layer.n_out * layer.result.width / max(1, out_px) + ctx.data.width * max(1, layer.n_in // in_px)
    est.ii = float(max(in_px, out_px))
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
    est.depth_cycles = float(STREAM_STAGE_DEPTH)
    return out_px


NO_SYNTHESIS_DATA = "no synthesis data for {kind}: the rule follows the template only"
"""The note of a rule that no shared csynth report checks (hls4ml 1.3 template only)."""


def _no_data(est: LayerEstimate, kind: str) -> None:
    est.notes.append(NO_SYNTHESIS_DATA.format(kind=kind))


def _rule_repack(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """io_stream Reshape that is not in place: hls4ml 1.3's ``Repack`` (``backends/fpga/passes/repack_stream.py``,
    ``nnet::repack_stream<in, out, N>`` of ``nnet_stream.h``, no config struct). Its loops are ``PIPELINE`` at
    II 1 over the input pixels (``N / data_T::size``) with an inner loop writing ``data_T::size / res_T::size``
    output pixels per input pixel, or gathering several input pixels per output pixel: one stream access per
    cycle on the side with more pixels, so II = max(input pixels, output pixels). The datapath is the copy
    of one output pixel (``out_pack`` elements) and, when output pixels gather several input pixels, the
    output pixel register. Its output FIFO (depth = output pixels) is counted by ``_stream_fifos``."""
    _no_data(est, "repack")
    pack = max(1, layer.out_pack or layer.n_out)
    out_px = max(1, layer.n_out // pack)
    in_px = max(1, ctx.stream_pixels)
    bits = pack * layer.result.width
    est.lut = bits * COPY_LUT_PER_BIT
    est.ff = float(bits if out_px < in_px else 0) + STREAM_COUNTER_FF
    est.ii = float(max(in_px, out_px))
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
    est.depth_cycles = float(STREAM_STAGE_DEPTH)
    return out_px


def _rule_zeropadding(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """ZeroPadding1D/2D (``nnet_padding.h``, ``nnet_padding_stream.h``), inserted by hls4ml for 'same'
    convolutions under io_stream. io_parallel: wiring (constant zeros), no cycles. io_stream: one
    iteration per OUTPUT (padded) pixel, writing zeros or copying the input pixel."""
    g = layer.conv
    assert g is not None
    if layer.io_type != "io_stream":
        est.latency_cycles = 0.0
        return 1
    bits = g.n_chan * layer.result.width
    est.lut = bits * COPY_LUT_PER_BIT
    est.ff = float(STREAM_COUNTER_FF)  # the pixel is not registered: written straight to the stream
    est.ii = float(g.out_pixels)
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
    est.depth_cycles = float(STREAM_STAGE_DEPTH)
    return g.out_pixels


ROM_LUT_MAX_WORDS = 64
"""A lookup table of at most this many words is a LUT ROM (one LUT6 per bit of the word: a 64 x 1 ROM), a deeper one
a BRAM ROM (the HLS tools' default binding of a small read-only array; an assumption, no shared report has one)."""
BRAM_ROM_READ_CYCLES = 2
"""A BRAM ROM read takes its address register and its output register (the BRAM primitive's read latency)."""


def _rule_embedding(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """Embedding (hls4ml 1.3 ``nnet_embed.h``, ``nnet_embed_stream.h``; ``embed_config`` with ``n_in``, ``n_out`` (the
    embedding size), ``vocab_size``): every input index reads one row of ``n_out`` values of the ``vocab_size x n_out``
    table at a run-time address, a ROM lookup (the table is not partitioned, by the template's comment).

    io_parallel: ``PIPELINE II=reuse_factor`` over the ``n_in`` lookups: ``ceil(n_in / RF)`` lookups per cycle, each
    on its own copy of a LUT ROM (tables of <= :data:`ROM_LUT_MAX_WORDS` rows) or on a port of a dual-port BRAM ROM
    (two lookups per copy). io_stream: one input pixel of ``n_in`` indices, then a loop at ``II=reuse_factor`` over
    them writing one output pixel (``n_out`` values) each: one lookup unit, II = ``n_in x RF``, ``n_in`` output
    pixels. No DSP."""
    _no_data(est, "embedding")
    n_idx = max(1, layer.n_in)
    dim = max(1, layer.n_out // n_idx)
    vocab = max(1, layer.vocab_size or 1)
    word = dim * (layer.weight or layer.result).width
    rf = max(1, layer.reuse_factor)
    est.reuse_factor = rf
    stream = layer.io_type == "io_stream"
    lookups = 1 if stream else -(-n_idx // rf)
    lut_rom = vocab <= ROM_LUT_MAX_WORDS
    if lut_rom:
        est.lut = lookups * word * math.ceil(vocab / ROM_LUT_MAX_WORDS)
        read = 1
    else:
        copies = -(-lookups // 2)
        est.bram_18k = float(copies * math.ceil(word / 18) * math.ceil(vocab / 1024))
        est.lut = lookups * ctx.data.width  # the address logic of each port
        read = BRAM_ROM_READ_CYCLES
    est.ff = float(lookups * word)  # the row read
    if stream:
        est.ii = float(n_idx * rf)
        est.latency_cycles = est.ii + read + STREAM_STAGE_DEPTH
        est.depth_cycles = float(read + STREAM_STAGE_DEPTH)
        return n_idx
    est.latency_cycles = float(read + (rf - 1))
    est.ii = float(rf)
    est.depth_cycles = est.latency_cycles
    return 1


LAYERNORM_TABLE_READ_CYCLES = 2
"""The inverse square root table read (a BRAM ROM: address and output registers)."""


def _rule_layernorm(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    """LayerNormalization (hls4ml 1.3 ``nnet_layernorm.h``, ``layernorm_config``: ``n_in``, ``seq_len``,
    ``table_size``, ``accum_t``, ``table_t``, ``scale_t``).

    ``layernormalize`` loops over the ``seq_len`` rows (``LAYERNORM_SEQ_LOOP``, ``PIPELINE``) calling ``layernorm_1d``
    (``PIPELINE II=reuse_factor``) on each row of ``dim = n_in / seq_len`` values: one row unit, so II = ``seq_len x
    RF`` and latency = a row's + ``(seq_len - 1) x RF``. A row: the sum (an adder tree of ``dim - 1`` adders at the
    accumulator width), the mean (a constant product ``* 1/dim``), ``dim`` differences and their squares (products
    of variables), the variance (a second tree, a constant product), the index into the ``table_size`` inverse
    square root table (a ROM), then per value ``data_diff * deno_inver`` (variables) ``* scale`` (a constant, bound
    as batchnorm's) ``+ bias``. Products of variables are bound as the merge rule's Multiply."""
    _no_data(est, "layernorm")
    rows = max(1, layer.time_steps or 1)
    dim = max(1, layer.n_in // rows)
    acc = layer.accum or FixedType(max(16, ctx.data.width + 6), ctx.data.integer + 4)
    rf = max(1, layer.reuse_factor)
    est.reuse_factor = rf
    k = ctx.k
    generic = 2 * dim  # the squares and data_diff * deno_inver
    if _lut_product(acc, acc, layer):
        est.lut += generic * acc.width * acc.width * LUT_PER_GENERIC_MULT_BITPROD
        t_mult = k.t_mult_lut_ns
    else:
        est.dsp += generic * dsp_per_mult(acc.width, acc.width, ctx.part)
        t_mult = k.t_mult_dsp_ns
    wb = (layer.weight or FixedType(16, 6)).width
    share = 0.0 if layer.mult_impl == "lut" else (1.0 if layer.mult_impl == "dsp" else dsp_share(wb, acc.width))
    est.dsp += dim * share * dsp_per_mult(wb, acc.width, ctx.part)
    est.lut += (dim * (1 - share) + 2) * wb * acc.width * LUT_PER_CONST_MULT_BITPROD  # scale, and the two 1/dim
    est.lut += (2 * (dim - 1) + 2 * dim) * acc.width * ADD_LUT_PER_BIT  # two trees, the differences, the bias
    est.multipliers = float(generic + dim + 2)
    tbits = table_bits(layer)
    est.bram_18k = float(math.ceil(tbits / BRAM18_BITS))
    est.ff = float(dim * (acc.width + layer.result.width))  # data_diff and the output row
    levels = _tree_levels(dim)
    row = (_op_cycles(levels * k.t_add_ns, ctx) + _op_cycles(t_mult, ctx, at_least=1)  # sum, mean
           + _op_cycles(k.t_add_ns + t_mult, ctx, at_least=1)  # difference, square
           + _op_cycles(levels * k.t_add_ns, ctx) + _op_cycles(t_mult, ctx, at_least=1)  # variance
           + LAYERNORM_TABLE_READ_CYCLES + 2 * _op_cycles(t_mult, ctx, at_least=1) + _op_cycles(k.t_add_ns, ctx))
    est.ii = float(rows * rf)
    est.latency_cycles = float(row + (rows - 1) * rf)
    est.depth_cycles = est.latency_cycles


MUX_LUT_PER_INPUT_BIT = 0.3
"""LUTs per input bit of a wide multiplexer (a LUT6 is a 4:1 mux; two levels of a tree share the F7/F8 muxes)."""


def _rule_transpose(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """Permute / Transpose (hls4ml 1.3 ``nnet_transpose.h``, ``nnet_transpose_stream.h``; a config struct without an
    ``nnet::`` base: ``dims``, ``N`` and the ``from_shape``/``to_shape``/``perm`` arrays).

    io_parallel: an unrolled copy at constant indices (wiring, no cycles). io_stream: two ``PIPELINE`` loops one after
    the other: the first reads every input pixel into a completely partitioned array of ``N`` registers, the second
    writes every output pixel, each element chosen among the ``out_pixels`` positions the loop index can select
    (a multiplexer): II = input pixels + output pixels; output pixels ``n_out // out_pack``."""
    _no_data(est, "transpose")
    if layer.io_type != "io_stream":
        est.latency_cycles = 0.0
        return 1
    pack = max(1, layer.out_pack or layer.n_out)
    out_px = max(1, layer.n_out // pack)
    in_px = max(1, ctx.stream_pixels)
    width = layer.result.width
    est.ff = float(layer.n_in * ctx.data.width) + STREAM_COUNTER_FF
    est.lut = pack * width * out_px * MUX_LUT_PER_INPUT_BIT if out_px > 1 else pack * width * COPY_LUT_PER_BIT
    est.ii = float(in_px + out_px)
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
    est.depth_cycles = float(STREAM_STAGE_DEPTH)
    return out_px


def _rule_cropping(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """Cropping1D/2D (hls4ml 1.3 ``nnet_cropping.h``, ``nnet_cropping_stream.h``; ``cropping{1,2}d_config`` with
    ``crop_*`` kept in the geometry's ``pad_*``). io_parallel: ``PIPELINE`` copies the kept elements (wiring, no
    cycles). io_stream: a ``PIPELINE`` function that reads EVERY input pixel (the cropped ones are read and
    dropped) and writes the kept ones: one stream read per cycle, so II = input pixels; the copied pixel is not
    registered (as zero padding)."""
    g = layer.conv
    assert g is not None
    _no_data(est, layer.kind)
    if layer.io_type != "io_stream":
        est.latency_cycles = 0.0
        return 1
    bits = g.n_chan * layer.result.width
    est.lut = bits * COPY_LUT_PER_BIT
    est.ff = float(STREAM_COUNTER_FF)
    est.ii = float(g.in_pixels)
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
    est.depth_cycles = float(STREAM_STAGE_DEPTH)
    return g.out_pixels


def _rule_resize(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int:
    """UpSampling (``resize_nearest`` of ``nnet_image.h``, ``nnet_image_stream.h``): io_parallel copies
    (wiring, no cycles); io_stream buffers one input row and writes every OUTPUT pixel."""
    g = layer.conv
    assert g is not None
    if layer.io_type != "io_stream":
        est.latency_cycles = 0.0
        return 1
    bits = g.n_chan * layer.result.width
    est.lut = bits * COPY_LUT_PER_BIT
    est.ff = float(bits * g.in_width)  # the row buffer
    est.ii = float(max(g.out_pixels, g.in_pixels))
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
    est.depth_cycles = float(STREAM_STAGE_DEPTH)
    return g.out_pixels


def _rule_concatenate(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> int | None:
    """Concatenate (``nnet_merge.h``, ``nnet_merge_stream.h``): io_parallel copies arrays (wiring, no cycles);
    io_stream reads one pixel of each input and writes the joined pixel per iteration.

    ``concatenate1d`` (vectors: ``out_pack == n_out``) is different under io_stream: ``ConcatLoop1`` and
    ``ConcatLoop2`` read every pixel of both inputs into one ``res_T out_data`` of ``n_elem1_0 + n_elem2_0``
    elements, written once: ONE output pixel, and the whole vector held in registers (csynth rows of
    Alezander9's pixel CNNs, Vitis HLS 2023.1: 1,266 and 1,058 FF for 79 x 16 bits, 578 for 43 x 16, 373 for
    25 x 16; the channel concatenation's stage control (``STREAM_STAGE_LOGIC``, 300 FF) is not added)."""
    if layer.io_type != "io_stream":
        est.latency_cycles = 0.0
        return None
    if layer.out_pack is not None and layer.out_pack == layer.n_out:
        vector_bits = layer.n_out * layer.result.width
        est.lut = vector_bits * COPY_LUT_PER_BIT
        est.ff = float(vector_bits)
        est.ii = float(max(1, ctx.stream_pixels))
        est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
        est.depth_cycles = float(STREAM_STAGE_DEPTH)
        return 1
    pixels = max(1, ctx.stream_pixels)
    bits = layer.n_out * layer.result.width / pixels
    est.lut = bits * COPY_LUT_PER_BIT
    est.ff = bits
    est.ii = float(pixels)
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH
    est.depth_cycles = float(STREAM_STAGE_DEPTH)
    return None


MERGE_RF_OPS = ("multiply", "average", "maximum", "minimum")
"""io_stream merges whose pixel loop is ``PIPELINE II=CONFIG_T::reuse_factor`` in ``nnet_merge_stream.h``
(``add`` and ``subtract`` are ``PIPELINE`` at II=1 whatever the ReuseFactor)."""


def _aligned(t1: FixedType, t2: FixedType, grow: int) -> int:
    """Bits of an operation on ``t1`` and ``t2`` with their binary points aligned, ``grow`` bits of growth
    (ap_fixed's exact result: 1 for a sum, 0 for a compare)."""
    return max(1, max(t1.integer, t2.integer) + grow + max(t1.fractional, t2.fractional))


def _lut_product(t1: FixedType, t2: FixedType, layer: LayerSpec) -> bool:
    """True when a product of two variables is LUT logic (else DSPs by width): the rule of the Resource-strategy
    generic products (:mod:`cost_models.analytic`): an operand of <= ``GENERIC_LUT_MAX_BITS`` bits, or an
    unsigned operand with the widths adding up to <= ``GENERIC_LUT_MAX_UNSIGNED_PRODUCT_BITS``, is LUT logic."""
    if layer.mult_impl != "auto":
        return layer.mult_impl == "lut"
    return min(t1.width, t2.width) <= GENERIC_LUT_MAX_BITS or (
        not (t1.signed and t2.signed) and t1.width + t2.width <= GENERIC_LUT_MAX_UNSIGNED_PRODUCT_BITS)


def _op_cycles(ns: float, ctx: LayerContext, at_least: int = 0) -> int:
    """Registers the tool puts on a path of ``ns`` (at speed 1.0) at the target clock: 0 when it fits a cycle
    (rounded as the activation rule rounds its compare-and-select)."""
    return max(at_least, round(ns * ctx.speed / ctx.t_eff))


def _rule_merge(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    """Add, Subtract, Multiply, Average, Maximum, Minimum (hls4ml 1.3 ``nnet_merge.h``, ``nnet_merge_stream.h``,
    ``merge_templates.py``: ``merge_config`` with ``n_elem``, ``n_elem1``, ``n_elem2``).

    io_parallel: one ``PIPELINE`` over the ``n_elem`` elements (``res[i] = data1[i % n_elem1] op
    data2[i % n_elem2]``; the ReuseFactor is not used): ``n_elem`` operators at once. ``add``/``subtract``:
    an adder of the aligned sum width; ``average``: the same adder (``* ap_ufixed<1,0>(0.5)`` is a shift);
    ``maximum``/``minimum``: a comparator and a 2:1 mux of the result width (as the max pooling rule);
    ``multiply``: a product of two variables, bound like the Resource-strategy generic products (DSPs by
    width, LUTs for narrow or short unsigned operands). Registers: the result vector when the operation does
    not fit in the cycle.
    io_stream: one pixel (``n_chan`` elements) per iteration: ``PIPELINE`` at II=1 for ``add``/``subtract``,
    ``II=reuse_factor`` for the others (so ``pixels x RF`` cycles, and a Multiply's DSPs shared over RF
    cycles); the stage control and the output FIFO are counted with the other stages
    (``STREAM_STAGE_LOGIC``, ``_stream_fifos``).
    """
    op = layer.merge_op or "add"
    if layer.merge_op is None:
        est.notes.append("merge operation unknown: costed as add")
    t1 = layer.input or ctx.data
    t2 = layer.input2 or t1
    out_w = layer.result.width
    n = max(1, layer.n_out)
    rf = max(1, layer.reuse_factor)
    est.reuse_factor = rf
    k = ctx.k
    lut_mult = False
    dsp_per = 0
    if op in ("add", "subtract", "average"):
        per_lut = _aligned(t1, t2, 1) * ADD_LUT_PER_BIT
        cycles = _op_cycles(k.t_add_ns, ctx)
    elif op in ("maximum", "minimum"):
        per_lut = _aligned(t1, t2, 0) * (MAX_LUT_PER_BIT - 1.0) + out_w * 1.0  # compare + select
        cycles = _op_cycles(T_RELU_NS, ctx)
    else:  # multiply
        lut_mult = _lut_product(t1, t2, layer)
        if lut_mult:
            per_lut = t1.width * t2.width * LUT_PER_GENERIC_MULT_BITPROD
            cycles = _op_cycles(k.t_mult_lut_ns, ctx)
        else:
            per_lut = 0.0
            dsp_per = dsp_per_mult(t1.width, t2.width, ctx.part)
            cycles = _op_cycles(k.t_mult_dsp_ns, ctx, at_least=1)
    if layer.io_type == "io_stream":
        pixels = max(1, ctx.stream_pixels)
        chan = max(1, n // pixels)
        step = rf if op in MERGE_RF_OPS else 1
        units = -(-chan // step) if op == "multiply" else chan  # II=RF lets the tool share the multipliers
        est.dsp = float(units * dsp_per)
        est.lut = units * per_lut if op == "multiply" else chan * per_lut
        est.ff = float(chan * out_w)  # the output pack
        depth = STREAM_STAGE_DEPTH + cycles
        est.ii = float(pixels * step)
        est.latency_cycles = est.ii + depth
        est.depth_cycles = float(depth)
        est.multipliers = float(units) if op == "multiply" else 0.0
        return
    est.dsp = float(n * dsp_per)
    est.multipliers = float(n) if op == "multiply" else 0.0
    est.lut = n * per_lut
    est.latency_cycles = float(cycles)
    est.ff = float(n * out_w) if cycles > 0 else 0.0
    est.ii = 1.0
    est.depth_cycles = est.latency_cycles


def _rule_dot(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    """Dot of two vectors (hls4ml 1.3 ``nnet_merge.h`` ``dot1d``, ``dot_config``; io_parallel only: hls4ml has
    no stream ``dot``): ``n_in`` products of two variables under ``ALLOCATION ... mul limit=
    multiplier_limit = DIV_ROUNDUP(n_in, reuse_factor)`` and ``PIPELINE II=reuse_factor``, then an adder tree
    of ``ceil(log2 n_in)`` levels at the accumulator width. Products bound as in :func:`_rule_merge`."""
    t1 = layer.input or ctx.data
    t2 = layer.input2 or t1
    n = max(1, layer.n_in)
    rf = max(1, layer.reuse_factor)
    est.reuse_factor = rf
    levels = _tree_levels(n)
    acc_w = layer.accum.width if layer.accum is not None else t1.width + t2.width + levels
    lut_mult = _lut_product(t1, t2, layer)
    limit = -(-n // rf)
    units = min(n, limit)
    slots = -(-n // units)
    if lut_mult:
        est.lut = n * t1.width * t2.width * LUT_PER_GENERIC_MULT_BITPROD
        t_mult = ctx.k.t_mult_lut_ns
    else:
        est.dsp = float(units * dsp_per_mult(t1.width, t2.width, ctx.part))
        t_mult = ctx.k.t_mult_dsp_ns
    est.multipliers = float(units)
    est.lut += (n - 1) * acc_w * ADD_LUT_PER_BIT
    cycles = _op_cycles(t_mult + levels * ctx.k.t_add_ns, ctx, at_least=1) + slots - 1
    est.latency_cycles = float(cycles)
    est.ii = float(min(rf, cycles + 1))
    est.ff = float(n * acc_w if cycles > 1 else 0) + layer.result.width
    est.depth_cycles = est.latency_cycles


def _rule_clone(layer: LayerSpec, ctx: LayerContext, est: LayerEstimate) -> None:
    """io_stream Clone (hls4ml 1.3 ``backends/fpga/passes/clone.py``, ``nnet_stream.h`` ``clone_stream``),
    inserted after a layer whose output feeds several layers: one ``PIPELINE`` iteration per pixel reads the
    pack and writes it to each copy's stream (wiring), so II = pixels. Its output FIFOs, one stream per copy
    (``n_out = copies * n_in``), are counted by ``_stream_fifos``; hls4ml writes no config struct for it, only
    the call in ``myproject.cpp``. io_parallel has no Clone (the arrays are read twice): free."""
    if layer.io_type != "io_stream":
        est.latency_cycles = 0.0
        return
    est.ii = float(max(1, ctx.stream_pixels))
    est.latency_cycles = est.ii + STREAM_STAGE_DEPTH - 1
    est.depth_cycles = float(STREAM_STAGE_DEPTH - 1)


LAYER_RULES: dict[str, LayerRule] = {
    "pooling1d": _rule_pooling, "pooling2d": _rule_pooling,
    "global_pooling1d": _rule_global_pooling, "global_pooling2d": _rule_global_pooling,
    "flatten": _rule_flatten, "reshape": _rule_reshape,
    "zeropadding1d": _rule_zeropadding, "zeropadding2d": _rule_zeropadding,
    "concatenate": _rule_concatenate, "resize": _rule_resize,
    "merge": _rule_merge, "dot": _rule_dot, "clone": _rule_clone,
    "cropping1d": _rule_cropping, "cropping2d": _rule_cropping, "repack": _rule_repack,
    "embedding": _rule_embedding, "layernorm": _rule_layernorm,
    "transpose": _rule_transpose,
}
"""The rules this module adds to :data:`cost_models.analytic.RULES`."""

for _kind, _rule in LAYER_RULES.items():
    if RULES.get(_kind) is not _rule:
        register_rule(_kind, _rule)
