"""io_stream memories: the FIFOs between dataflow stages and the shift-register line buffers.

hls4ml 1.3 (``backends/fpga/fpga_types.py``, ``StreamVariableConverter.convert``) declares every
io_stream tensor as ``hls::stream<nnet::array<T, n_chan>>`` with ``#pragma HLS STREAM depth=`` the
tensor's pixel count (``prod(shape) // shape[-1]``; 1 for a vector). The HLS tool splits the packed
array into one FIFO per element (``layer2_out_V_data_0_V`` … in the csynth FIFO table). Observed in the
FIFO tables of the shared csynth reports (Vivado HLS 2019.1-2020.1, Vitis HLS 2023.x): a FIFO of depth
<= 32 is shift registers (no BRAM); a deeper one takes ``ceil(bits / 18)`` BRAM_18K per 1,024 words
(the 1K x 18 aspect ratio: 676 x 16 -> 1, 35 x 24 -> 2, 64 x 400 -> 23).

Line buffers (``nnet_conv_stream.h``, ``nnet_pooling_stream.h``: ``ap_shift_reg<T, in_width>``
per kernel row and channel) are shift registers; the tool builds them from SRL32 LUTs.

Units: depth in words, width in bits, BRAM in 18 Kb blocks, LUT and FF counts.
"""

from __future__ import annotations

import math

__all__ = ["DENSE_RESOURCE_REWIND_COPIES", "FIFO_SRL_MAX_DEPTH", "LINE_BUFFER_SHIFT_REG_FF",
           "STREAM_LATENCY_ITERATION_OVERHEAD", "STREAM_PIXEL_MIN_II", "STREAM_POOL_7SERIES_PIXEL_II",
           "STREAM_RESOURCE_PIXEL_OVERHEAD", "STREAM_STAGE_LOGIC", "VITIS_CALL_EXTRA_CYCLES",
           "conv_control_registers", "fifo_bram18", "fifo_logic", "parallel_channel_logic", "parallel_input_channel",
           "pool_control_registers", "resource_product_registers", "shift_register_luts"]

STREAM_PIXEL_MIN_II: dict[str, int] = {"vivado_hls": 1, "vitis_hls": 2}
"""Fewest cycles per input pixel of an io_stream convolution, per tool family (csynth per-instance rows of the
shared projects: Vivado HLS 2019.2 reaches ~1 (1,033 cycles for 1,024 pixels)). Vitis HLS 2023.1-2024.1 does
not overlap the ``INLINE OFF`` ``compute_output_buffer_{1,2}d`` call of one pixel with the next: the pixel loop's
achieved II is that call's latency, at least 2 (loop tables: Alezander9 call latency 1 -> II 2, LeNet-5 conv1
call latency 3 -> II 3, conv2 6 -> 6). The rule takes the call's latency as the product depth +
:data:`VITIS_CALL_EXTRA_CYCLES` (the window shift and the output write), so Vitis HLS takes
``max(2, depth + 1)`` per pixel. A larger ReuseFactor sets the II."""

VITIS_CALL_EXTRA_CYCLES = 1.0
"""Vitis HLS: cycles of the ``compute_output_buffer`` call beyond the product's depth (the line-buffer shift and
the output write). Exact for 7 of the 8 io_stream conv rows of Alezander9 (25 and 5 ns), LeNet-5 and the
seanlipps Conv1D (2, 2, 2, 3, 2, 3, 3 per pixel); LeNet-5 conv2 takes 6 where depth + 1 is 4."""

FIFO_SRL_MAX_DEPTH = 32
"""A FIFO this deep or shallower is built from shift registers (SRL) or registers, not BRAM."""
BRAM18_WORDS_18 = 1024
"""Words of one BRAM_18K in its 1K x 18 configuration (the one the FIFO tables show)."""
FIFO_CONTROL_LUT = 40.0
"""LUTs of one FIFO's control logic (read/write pointers, full/empty), from the csynth FIFO tables."""
FIFO_CONTROL_FF = 40.0
SRL_DEPTH = 32
"""Words of one SRL32 LUT (one bit wide)."""


STREAM_RESOURCE_PIXEL_OVERHEAD: dict[str, float] = {"vivado_hls": 8.0, "vitis_hls": 2.0}
"""io_stream Resource-strategy convolution: cycles of one pixel-loop iteration beyond the product's reuse loop
(its RF iterations, the accumulation and the output), per tool family. ``conv_2d_buffer_cl`` pipelines the
pixel loop only for the Latency strategy, so under Resource the loop is sequential and its body holds the
product on the branch taken when a window completes; csynth reports such a loop's latency as trip count x
its LONGEST iteration (jeanleos+umons loop tables: ``ReadInputHeight_ReadInputWidth`` 1,156 trips of
``5 ~ 119`` cycles -> max 137,564; ``5 ~ 1164`` x 100 -> 116,400; not pipelined). So the stage costs every
INPUT pixel, not only the output pixels, at the product's latency + this overhead. Vivado HLS 2019.1-2020.1:
per input pixel minus the product rule's latency is 8 in the median of eight repositories (ChiRuiChen AE 8,
Deepcalo 15, Gabriele-bot PYNQ_IA 7, PokerML 2-8, Spehic 6-9, crimson1256 25-39, jeanleos 8-9, Berk-Bilgin
6-8); Vitis HLS 2023.1: 2, the stream read and write around the product (Alezander9 cnn_small, RF 36 and 252:
41 and 257 cycles per input pixel), one repository, and what the template alone implies."""

STREAM_LATENCY_ITERATION_OVERHEAD = 4.0
"""io_stream Latency-strategy convolution: cycles of one pixel-loop iteration beyond the product's pipeline depth
(the stream read, the line-buffer shift and window check, the output pack and write). ``conv_2d_buffer_cl``
asks ``PIPELINE II=reuse_factor``, but a target II longer than the iteration is not kept: the csynth loop tables
report the achieved II as the iteration latency (Gabriele-bot ALVEO, Vivado HLS 2020.1, RF 16: iteration 5,
achieved 5, target 16; iteration 9, achieved 9, target 16). So the per-pixel II is min(RF, product depth + this).
Value: the median over the shared rows with RF > 1 of per-pixel cycles minus the product rule's depth (PokerML
RF 128/256: 2-7, Gabriele-bot: 4 and 7)."""


STREAM_POOL_7SERIES_PIXEL_II: dict[str, int] = {"vivado_hls": 2}
"""Cycles per input pixel of an io_stream pooling stage on a 7-series part (Zynq-7000, Artix-7, Kintex-7,
Virtex-7), per tool family; 1 elsewhere. ``pooling2d_buffer_cl`` asks ``PIPELINE`` (II=1) on the pixel loop with
``compute_pool_buffer_2d`` inlined into it (the convolution keeps its window update in an ``INLINE OFF``
function and reaches 1 per pixel on the same parts). csynth rows, Vivado HLS 2019.2-2020.1: every io_stream
pooling stage on xc7z020 takes 2.00-2.06 cycles per input pixel (ChiRuiChen AE, PokerML, Spehic, jeanleos
x2, pominiq at 2.5 ns: six repositories; loop tables: ``achieved 2, target 1``), while the same PokerML
design on xczu5ev and the UltraScale+ designs (Gabriele-bot ALVEO xcu50 at 2 ns, PokerML xczu5ev) take 1.00.
Vitis HLS is left at 1: 2023.1 reaches 1 on xcvu13p/xcku040 and 2023.2 reports 2 (a memory dependency on
the line buffer) on xczu9eg, one repository each."""

STREAM_STAGE_LOGIC: dict[str, tuple[float, float]] = {
    "conv1d": (1500.0, 0.0), "conv2d": (1500.0, 0.0), "pointwise_conv1d": (1500.0, 0.0),
    "pointwise_conv2d": (1500.0, 0.0), "pooling1d": (1200.0, 0.0), "pooling2d": (1200.0, 0.0),
    "global_pooling1d": (500.0, 270.0), "global_pooling2d": (500.0, 270.0), "zeropadding1d": (250.0, 0.0),
    "zeropadding2d": (250.0, 0.0), "concatenate": (570.0, 300.0), "resize": (680.0, 0.0), "reshape": (300.0, 0.0),
    "batchnorm": (500.0, 0.0), "merge": (570.0, 300.0), "clone": (300.0, 0.0),
    "cropping1d": (250.0, 0.0), "cropping2d": (250.0, 0.0), "repack": (300.0, 0.0),
    "embedding": (300.0, 0.0), "layernorm": (500.0, 0.0),
    "transpose": (300.0, 0.0), "depthwise_conv1d": (1500.0, 0.0), "depthwise_conv2d": (1500.0, 0.0),
}
"""(LUT, FF) of an io_stream stage's own control beyond its datapath: the pixel and window counters
(``static`` 32-bit ``pX``/``pY``/``sX``/``sY`` in ``nnet_conv_stream.h`` / ``nnet_pooling_stream.h``), the
line-buffer addressing, the stream handshakes and the output pack. The values are the median
differences between the csynth per-instance rows of the shared io_stream CNN projects and the datapath
rules (``benchmarks/cnn_rules_check.py --layers``): read from the same data the validation uses, so
in-sample. ``merge`` (``nnet_merge_stream.h``: two stream reads, one write per pixel) takes the concatenate
stage's value and ``clone`` (``nnet::clone_stream``: one read, a write per copy) the reshape's: the shared
reports hold no merge or clone stage, so these two are assumptions. A depthwise conv stage
(``nnet_sepconv_stream.h``: the same ``static`` counters, line buffer and pack as ``nnet_conv_stream.h``) takes the
conv's, also an assumption. ``cropping`` takes the zero padding's
value (the same pixel loop, reading instead of writing the dropped pixels), ``repack`` the reshape's (it is the
stage hls4ml writes for an io_stream reshape), ``embedding`` the reshape's too (one read, a loop of writes),
``layernorm`` the batchnorm's, ``transpose`` the reshape's: assumptions too.

The FF of the convolution (conv, pointwise, depthwise) and pooling stages are 0 here: their rules count them from
the templates (:func:`conv_control_registers`, :func:`pool_control_registers`), where the former flat 2,000 and
650 FF were 2-5x the csynth Register tables of small stages (a 1-channel conv: 421-888 FF in all) and too few for
many channels (64 FF per line-buffer shift register)."""


LINE_BUFFER_SHIFT_REG_FF = 64.0
"""FF of one ``ap_shift_reg`` line buffer of ``conv_2d_buffer_cl`` (``nnet_conv2d_stream.h``: one per channel and
kernel row but the last), whatever its width and depth: the csynth Memory tables of ``shift_line_buffer`` list
64 FF for every one of them (Vivado HLS 2020.1: jeanleos 16-bit x 10-34 words, Gabriele-bot ALVEO 3- and 8-bit
x 11-28 words; Vitis HLS 2023.1-2023.2: Alezander9 16-bit x 15, abdennour 8-bit x 12-28), the data in SRL LUTs."""
CONV_COUNTER_BITS = 32
"""``static int pX, pY, sX, sY`` of ``compute_output_buffer_2d`` (``pX, sX`` of ``compute_output_buffer_1d``)."""
CONV_COUNTER_COPIES: dict[str, int] = {"vivado_hls": 2, "vitis_hls": 1}
"""Registers per counter: Vivado HLS 2020.1 keeps the static and a loaded copy (``pX_1``, ``pX_1_load_reg``: 8 x 32
FF in jeanleos and Gabriele-bot ALVEO ``compute_output_buffer_2d``); Vitis HLS 2023.x only the static (4 x 32 FF in
Alezander9 and abdennour)."""
CONV_CONTROL_EXTRA_FF: dict[str, float] = {"vivado_hls": 130.0, "vitis_hls": 60.0}
"""FF of the rest of a line-buffer conv stage's control: the window-complete compare's selects and ``storemerge``
(Vivado HLS 2020.1: 2 x 32 + 32, Vitis HLS 2023.2: 32), the flattened pixel-loop index, the FSM and handshakes
(csynth Register tables of ``conv_2d_cl`` and ``compute_output_buffer_2d``, jeanleos, Gabriele-bot ALVEO,
Alezander9, abdennour: 93-140 beyond the counters on Vivado HLS, 30-70 on Vitis HLS)."""
ENCODED_CONTROL_FF = 200.0
"""FF of an ``Encoded`` conv stage's control (``conv_2d_encoded_cl``: no static counters, the loop indices,
``pixel_idx`` and the weight index; Gabriele-bot PYNQ_IA, Vivado HLS 2020.1: 150-250 beyond the window and pack)."""
RESOURCE_INDEX_FF: dict[str, float] = {"vivado_hls": 250.0, "vitis_hls": 60.0}
"""FF of ``dense_resource``'s reuse-loop bookkeeping: Vivado HLS 2020.1 keeps 32-bit ``in_index``/``out_index``
copies and their compares (66 + 66 + 32 + 32 + the weight index and the ROM word: 240-270 FF in every
``dense_resource_rf_gt_nin_rem0`` table of jeanleos); Vitis HLS 2023.1 narrows them (``ir``, ``in_index``: 6-15 bits,
~60 FF in Alezander9)."""


def conv_control_registers(filt_height: int, n_chan: int, data_bits: int, family: str, encoded: bool,
                           two_d: bool) -> float:
    """FF of an io_stream conv stage's control beyond its window and product (hls4ml ``nnet_conv_stream.h``).

    Line buffer (``conv_{1,2}d_buffer_cl``): the ``static int`` counters of ``compute_output_buffer_2d`` (four) or
    ``_1d`` (two), :data:`CONV_COUNTER_COPIES` registers of 32 bits each; the ``ap_shift_reg`` line buffers
    (``(filt_height - 1) x n_chan`` of them, :data:`LINE_BUFFER_SHIFT_REG_FF` each, 2D only); the pixel read from
    the stream (``n_chan`` words of ``data_bits``, ``tmp_data_V`` / ``layer_out_read`` in the Register tables); and
    :data:`CONV_CONTROL_EXTRA_FF`. ``Encoded`` (``conv_2d_encoded_cl``): the pixel read and
    :data:`ENCODED_CONTROL_FF` (its FIFOs are costed apart). Units: FF."""
    vitis = family == "vitis_hls"
    pixel = float(n_chan * data_bits)
    if encoded:
        return pixel + ENCODED_CONTROL_FF
    counters = (4 if two_d else 2) * CONV_COUNTER_BITS * CONV_COUNTER_COPIES["vitis_hls" if vitis else "vivado_hls"]
    lines = LINE_BUFFER_SHIFT_REG_FF * max(0, filt_height - 1) * n_chan if two_d else 0.0
    return counters + lines + pixel + CONV_CONTROL_EXTRA_FF["vitis_hls" if vitis else "vivado_hls"]


POOL_CONTROL_EXTRA_FF = 100.0
"""FF of a line-buffer pooling stage's control beyond its counters and line buffers: ``storemerge`` and the
window-complete selects, the flattened loop index, the FSM (csynth Register tables of ``pooling2d_cl``: Vivado HLS
2020.1 jeanleos 64 + 64 + ~30, Gabriele-bot ALVEO ~60-100 beyond the pixel read; Vitis HLS 2023.1 Alezander9
32 + ~30)."""
POOL_ENCODED_CONTROL_FF = 650.0
"""FF of an ``Encoded`` pooling stage (hls4ml 0.5 ``pooling2d_cl``: the window FIFOs' control, the loop indices),
beyond the window and the output pack: the former stage value (one repository, Gabriele-bot PYNQ_IA)."""


def pool_control_registers(filt_height: int, n_chan: int, encoded: bool, two_d: bool) -> float:
    """FF of an io_stream pooling stage's control beyond its window and output pack (``nnet_pooling_stream.h``).

    Line buffer (``pooling{1,2}d_buffer_cl``, ``compute_pool_buffer_{1,2}d`` inlined into the pipelined pixel
    loop): its ``static int`` counters (``pX, pY, sX, sY``; ``pX, sX`` in 1D), one 32-bit register each in both tool
    families (the csynth Register tables: no loaded copies, unlike the conv's ``INLINE OFF`` call); the
    ``ap_shift_reg`` line buffers, ``(pool_height - 1) x n_chan`` of :data:`LINE_BUFFER_SHIFT_REG_FF` (2D only; 512 FF
    for 8 channels in jeanleos and Alezander9, 1,024 for 16 in Gabriele-bot ALVEO); :data:`POOL_CONTROL_EXTRA_FF`.
    ``Encoded``: :data:`POOL_ENCODED_CONTROL_FF`. Units: FF."""
    if encoded:
        return POOL_ENCODED_CONTROL_FF
    counters = (4 if two_d else 2) * CONV_COUNTER_BITS
    lines = LINE_BUFFER_SHIFT_REG_FF * max(0, filt_height - 1) * n_chan if two_d else 0.0
    return counters + lines + POOL_CONTROL_EXTRA_FF


DENSE_RESOURCE_REWIND_COPIES = 2
"""Copies of the input vector an io_stream Resource dense holds in registers (``nnet_dense_stream.h`` passes its
``data`` array to ``dense_resource``, whose reuse loop is ``PIPELINE II=1 rewind``): the csynth Register table of
``dense_wrapper`` (Gabriele-bot PYNQ_IA, Vivado HLS 2020.1, 400 x 16 bits, RF 40) lists ``data_V_read_phi_reg`` and
``data_V_read_rewind_reg``, 400 words each (12,800 FF); the rows without a module table agree (RishThakkar
784-input RF 196 / 784, Vivado HLS 2019.2: 24,000-36,000 FF above the rule without them, 2 x 12,544 expected;
Alezander9 53-input RF 1,272, Vitis HLS 2023.1: 1,723 above, 1,696 expected). A conv stage's static window
(``kernel_data``) is not copied under Vivado HLS (jeanleos, Gabriele-bot, ChiRuiChen Resource conv rows); under
Vitis HLS it is (Alezander9 ``cnn_small`` conv1, Vitis HLS 2023.1, RF 36: ``dense_resource`` lists the 9-word window
twice, ``ap_phi_reg_pp0_iter0_...`` and ``..._reg``, 288 FF; its conv2 row, RF 252, 36 words, sits 1,081 FF above
the rule without them, 1,152 expected). Units: copies of ``n_in x`` the data bits."""


def resource_product_registers(n_out: int, acc_bits: int, family: str) -> float:
    """FF of an io_stream ``dense_resource`` call (``nnet_dense_resource.h``) beyond its multipliers' operands.

    Vivado HLS 2020.1 (jeanleos ``dense_resource_rf_gt_nin_rem0`` tables): three words of the accumulator per
    output (``acc``, ``ap_return_preg``, ``res_write_assign``: 3 x 4 x 16 = 192 and 3 x 8 x 16 = 384 FF), plus
    :data:`RESOURCE_INDEX_FF`. Vitis HLS 2023.1 (Alezander9): ``acc`` and ``ap_return_preg``, two per output.
    Units: FF."""
    vitis = family == "vitis_hls"
    words = 2 if vitis else 3
    return float(words * n_out * acc_bits) + RESOURCE_INDEX_FF["vitis_hls" if vitis else "vivado_hls"]


def fifo_bram18(depth: int, width: int) -> int:
    """BRAM_18K blocks of one FIFO of ``depth`` words of ``width`` bits (0 when it is shift registers)."""
    if depth <= FIFO_SRL_MAX_DEPTH or width <= 0:
        return 0
    return math.ceil(width / 18) * math.ceil(depth / BRAM18_WORDS_18)


def fifo_logic(depth: int, width: int) -> tuple[float, float]:
    """(LUT, FF) of one FIFO: registers for depth <= 2, SRL LUTs up to 32 words, control logic otherwise."""
    if depth <= 2:
        return 0.0, float(width * depth)
    if depth <= FIFO_SRL_MAX_DEPTH:
        return float(width) + FIFO_CONTROL_LUT / 2, FIFO_CONTROL_FF / 2
    return FIFO_CONTROL_LUT, FIFO_CONTROL_FF


def shift_register_luts(depth: int, width: int, copies: int = 1) -> float:
    """LUTs of ``copies`` shift registers of ``depth`` words x ``width`` bits built from SRL32s."""
    if depth <= 0 or width <= 0 or copies <= 0:
        return 0.0
    return float(copies * width * math.ceil(depth / SRL_DEPTH))


PARALLEL_CHANNEL_LUT_OVER_WIDTH: dict[str, float] = {"vivado_hls": 12.0}
"""Vivado HLS: LUTs of one depth-2 channel beyond one per data bit (csynth FIFO tables of the shared
io_parallel DATAFLOW designs, Vivado HLS 2019.2-2020.1, 4 repositories: total FIFO LUT = sum of
(bits + 12) exactly, e.g. 133 x 16-bit + 128 x 15-bit + 1 x 256-bit -> 7,448)."""
PARALLEL_CHANNEL_FF: dict[str, float] = {"vivado_hls": 5.0}
"""FF of one depth-2 channel in Vivado HLS (the FIFO tables: 5, the SRL's control; the data sit in LUTs)."""
VITIS_REGISTER_FIFO_CONTROL_FF = 4.0
"""Vitis HLS: a FIFO of depth 1-2 is two registers of the word rounded up to a power of two, plus 4 control FF.
The FIFO tables of the shared Vitis HLS 2023.1-2024.1 reports (three repositories, 16 to 384 bits): 16 -> 36,
31 and 32 -> 68 (480 rows), 96 -> 260, 130 -> 516, 180 and 192 -> 516, 208 and 256 -> 516, 360 and 384 -> 1,028."""
VITIS_REGISTER_FIFO_LUT_PER_BIT = 1.25
"""Vitis HLS: LUTs per data bit of a FIFO of depth 1-2 (the output word multiplexer): 40 per 32-bit channel
(Kenny-Jia, 384 channels: 15,360 LUT), 1.39 per bit over six 180-384-bit FIFOs (Alezander9 cnn_small)."""


def parallel_channel_logic(width: int, family: str) -> tuple[float, float]:
    """(LUT, FF) of one element channel between two processes of an io_parallel DATAFLOW design.

    hls4ml 1.3 (``backends/vivado/passes/pipeline_style.py``, ``SetPipelineStyle``) writes
    ``#pragma HLS DATAFLOW`` instead of ``PIPELINE`` at io_parallel when a layer uses the Resource strategy
    or a convolution has ``n_partitions != 1``. Each layer's output array is completely partitioned
    (``ARRAY_PARTITION ... complete``), so the tool makes one depth-2 FIFO per element between the
    processes (the csynth FIFO tables list ``layerN_out_K_V_U`` of depth 2, one per element).
    Vitis HLS builds it from registers (:data:`VITIS_REGISTER_FIFO_CONTROL_FF`,
    :data:`VITIS_REGISTER_FIFO_LUT_PER_BIT`): 40 LUT and 68 FF for a 32-bit element, 20 LUT and 36 FF for a
    16-bit one.
    """
    if family == "vitis_hls":
        pow2 = 1 << max(0, math.ceil(math.log2(max(1, width))))
        return VITIS_REGISTER_FIFO_LUT_PER_BIT * width, 2.0 * pow2 + VITIS_REGISTER_FIFO_CONTROL_FF
    return width + PARALLEL_CHANNEL_LUT_OVER_WIDTH["vivado_hls"], PARALLEL_CHANNEL_FF["vivado_hls"]


PARALLEL_WIDE_CHANNEL_BITS = 1024
"""A depth-2 io_parallel channel wider than this is a BRAM FIFO (one BRAM_18K per 18 bits), narrower ones are
shift registers (csynth FIFO tables: a 256-bit input channel is SRL, 4,704- and 6,272-bit ones take 262 and
349 BRAM_18K; the boundary in between is an assumption)."""


def parallel_input_channel(bits: int, family: str) -> tuple[float, float, float]:
    """(BRAM_18K, LUT, FF) of the channel that carries an io_parallel DATAFLOW model's input into the region.

    hls4ml reshapes the top function's input array into one word (``#pragma HLS ARRAY_RESHAPE ... complete``);
    in the DATAFLOW region the tool passes it to the first process through a depth-2 channel of that width
    (``<input>_V_c_U`` in the csynth FIFO tables of three shared Vivado HLS 2020.1 repositories: 256 bits ->
    268 LUT / 5 FF; 4,704 bits -> 262 BRAM_18K, 4,714 FF and ~4,600 LUT; 6,272 bits -> 349 BRAM_18K and
    6,282 FF). One repository passes it twice, one (Vivado HLS 2019.2 / Vitis HLS 2023.1) not at all: one
    copy is assumed.

    Which projects have it follows the hls4ml that wrote them, not the HLS tool: the three repositories with
    the channel were written by hls4ml older than 0.8 (their ``parameters.h`` lacks ``nnet_code_gen.h``; the
    one that passes it twice is older still, with the ``const_size_in_1``/``const_size_out_1`` ports of the
    top function and their ``Block_proc``), while Kenny-Jia+ToyVAE, written by hls4ml 1.0 (its
    ``hls4ml_config.yml``), has no input channel in either Vivado HLS 2019.2 or Vitis HLS 2023.1: its first
    ``dense_resource`` process reads the ``inputs`` port directly. :func:`cost_models.analytic.analytic_totals`
    therefore costs this channel only for :attr:`~cost_models.layers.Target.legacy_hls4ml` projects; what dse
    writes (hls4ml 1.3) has none, so a large io_parallel CNN's 4,096-bit input no longer costs 228 BRAM_18K.
    """
    if bits <= 0:
        return 0.0, 0.0, 0.0
    if bits <= PARALLEL_WIDE_CHANNEL_BITS:
        lut, ff = parallel_channel_logic(bits, family)
        return 0.0, lut, ff
    return float(math.ceil(bits / 18)), float(bits), float(bits + 10)
