"""Registers of io_stream stages counted from hls4ml's templates (``nnet_conv_stream.h``,
``nnet_pooling_stream.h``, ``nnet_dense_stream.h``, ``nnet_dense_resource.h``) and the csynth Register / Memory
tables of the shared reports, instead of a flat per-stage constant.

Hand counts (csynth module tables): jeanleos ``conv_2d_cl ... config2`` (Vivado HLS 2020.1, 3 channels, 3x3,
16-bit): counters 8 x 32, line buffers 6 x 64, pixel read 3 x 16; Alezander9 ``cnn_small`` conv1 (Vitis HLS
2023.1, 1 channel): counters 4 x 32, line buffers 2 x 64, pixel read 16.
"""

from __future__ import annotations

import dataclasses

import pytest

from cost_models import LayerSpec
from cost_models.analytic import LayerContext, estimate_layer
from cost_models.layers import ConvGeometry, FixedType
from cost_models.parts import get_part
from cost_models.stream import (
    DENSE_RESOURCE_REWIND_COPIES,
    LINE_BUFFER_SHIFT_REG_FF,
    conv_control_registers,
    pool_control_registers,
)

Z7 = get_part("xc7z020")
D16 = FixedType(16, 6)


def ctx(family: str, pixels: int = 1, data: FixedType = D16) -> LayerContext:
    return LayerContext(Z7, 5.0, data, pixels, family=family)


def conv(n_chan: int, n_filt: int = 4, k: int = 3, width: int = 32, strategy: str = "resource", rf: int = 0,
         impl: str = "linebuffer", one_d: bool = False) -> LayerSpec:
    kh = 1 if one_d else k
    g = ConvGeometry(in_height=1 if one_d else width, in_width=width, n_chan=n_chan, filt_height=kh, filt_width=k,
                     n_filt=n_filt, out_height=1 if one_d else width - k + 1, out_width=width - k + 1)
    n_in = kh * k * n_chan
    return LayerSpec("conv", "conv1d" if one_d else "conv2d", n_in, n_filt, D16, weight=FixedType(6, 1),
                     accum=FixedType(16, 6), reuse_factor=rf or n_in * n_filt, strategy=strategy,  # type: ignore[arg-type]
                     io_type="io_stream", conv=g, conv_implementation=impl)  # type: ignore[arg-type]


def test_conv_control_matches_the_hand_counts_of_the_csynth_tables() -> None:
    # jeanleos config2: 256 (counters and their loaded copies) + 384 (six shift registers) + 48 (pixel read)
    # + 130 (selects, storemerge, loop index, FSM); the csynth tables hold 814 of these registers
    vivado = conv_control_registers(3, 3, 16, "vivado_hls", encoded=False, two_d=True)
    assert vivado == 8 * 32 + 6 * LINE_BUFFER_SHIFT_REG_FF + 3 * 16 + 130
    assert vivado == pytest.approx(814, rel=0.05)
    # Alezander9 cnn_small conv1 (Vitis HLS 2023.1): 128 + 128 + 16 + the rest (30 in its tables)
    vitis = conv_control_registers(3, 1, 16, "vitis_hls", encoded=False, two_d=True)
    assert vitis == pytest.approx(128 + 128 + 16 + 30, abs=40)


def test_line_buffer_registers_grow_with_channels_and_kernel_rows() -> None:
    est = {c: estimate_layer(conv(c), ctx("vivado_hls"))[0].ff for c in (4, 8)}
    per_channel = (est[8] - est[4]) / 4
    # per added channel: its (filt_height - 1) shift registers, its pixel word, its 3x3 window words
    assert per_channel == 2 * LINE_BUFFER_SHIFT_REG_FF + 16 + 9 * 16
    k5 = estimate_layer(conv(4, k=5), ctx("vivado_hls"))[0].ff
    k3 = estimate_layer(conv(4, k=3), ctx("vivado_hls"))[0].ff
    assert k5 - k3 == 4 * 2 * LINE_BUFFER_SHIFT_REG_FF + (25 - 9) * 4 * 16  # two more rows of four channels


def test_a_small_conv_stage_is_not_charged_a_flat_2000_ff() -> None:
    # mbavier CNN conv1 (1 channel, 2 filters, 3x3, Latency RF 1, Vivado HLS 2019.2): 837 FF in csynth
    small = dataclasses.replace(conv(1, n_filt=2, width=10, strategy="latency", rf=1))
    ff = estimate_layer(small, ctx("vivado_hls"))[0].ff
    assert 400 < ff < 1200


def test_vitis_keeps_one_register_per_counter() -> None:
    vivado = conv_control_registers(3, 4, 16, "vivado_hls", encoded=False, two_d=True)
    vitis = conv_control_registers(3, 4, 16, "vitis_hls", encoded=False, two_d=True)
    assert vivado - vitis == 4 * 32 + 70  # the loaded copies and Vivado's wider selects


def test_conv1d_has_two_counters_and_no_line_buffer() -> None:
    assert conv_control_registers(1, 8, 16, "vitis_hls", encoded=False, two_d=False) == 2 * 32 + 8 * 16 + 60


def test_encoded_conv_has_no_line_buffer_or_counters() -> None:
    enc = conv_control_registers(3, 16, 16, "vivado_hls", encoded=True, two_d=True)
    line = conv_control_registers(3, 16, 16, "vivado_hls", encoded=False, two_d=True)
    assert enc < line
    assert enc == 16 * 16 + 200


def test_pooling_line_buffer_and_counters() -> None:
    # jeanleos pooling config7 (Vivado HLS 2020.1, 8 channels, 2x2): 512 FF of line buffers, 4 x 32 counters
    assert pool_control_registers(2, 8, encoded=False, two_d=True) == 8 * LINE_BUFFER_SHIFT_REG_FF + 128 + 100
    assert pool_control_registers(2, 8, encoded=False, two_d=False) == 64 + 100  # pooling1d: pX, sX only
    assert pool_control_registers(2, 8, encoded=True, two_d=True) == 650


def test_stream_resource_dense_holds_two_rewind_copies_of_its_input() -> None:
    def dense(rf: int) -> LayerSpec:
        return LayerSpec("fc", "dense", 400, 10, D16, weight=FixedType(5, 1), accum=FixedType(16, 6),
                         reuse_factor=rf, strategy="resource", io_type="io_stream")

    assert DENSE_RESOURCE_REWIND_COPIES == 2
    many, _ = estimate_layer(dense(40), ctx("vivado_hls", pixels=25))
    one, _ = estimate_layer(dense(40), ctx("vivado_hls", pixels=1))
    assert many.ff - one.ff == 400 * 16  # the DataPrepare copy only when the vector arrives over several pixels
    # Gabriele-bot PYNQ_IA dense (400 x 16 bits, RF 40): data (6,400) + phi and rewind copies (12,800)
    assert many.ff >= 3 * 400 * 16
    assert one.ff >= DENSE_RESOURCE_REWIND_COPIES * 400 * 16
    # at RF 1 the Resource strategy is costed in its Latency form (no reuse loop, no rewind copies)
    rf1, _ = estimate_layer(dense(1), ctx("vivado_hls", pixels=1))
    assert rf1.ff < DENSE_RESOURCE_REWIND_COPIES * 400 * 16 or rf1.multipliers == 4000


def test_vitis_resource_conv_copies_its_window_and_vivado_does_not() -> None:
    # RF = n_in x n_filt: one multiplier whatever the channels, so only the per-channel registers differ
    def per_channel(family: str) -> float:
        est = {c: estimate_layer(conv(c), ctx(family))[0].ff for c in (4, 8)}
        return (est[8] - est[4]) / 4

    base = 2 * LINE_BUFFER_SHIFT_REG_FF + 16 + 9 * 16  # shift registers, pixel word, window words
    assert per_channel("vivado_hls") == pytest.approx(base, abs=1e-9)
    # Alezander9 cnn_small conv1 (Vitis HLS 2023.1): dense_resource lists the window twice more
    assert per_channel("vitis_hls") == pytest.approx(base + DENSE_RESOURCE_REWIND_COPIES * 9 * 16, abs=1e-9)
