"""The depthwise conv rule (``cost_models/depthwise_rules.py``) on hand cases: what ``nnet_depthwise_product.h``
multiplies, the io_parallel partitions and the io_stream pixel loop, and what hls4ml 1.3 does not implement."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cost_models import ConvGeometry, FixedType, LayerSpec, Target, UnknownLayerError, analytic_totals
from cost_models.analytic import LayerContext, estimate_layer
from cost_models.constants import DEFAULT_CONSTANTS
from cost_models.depthwise_rules import depthwise_unsupported
from cost_models.parts import get_part
from cost_models.stream import fifo_logic
from cost_models.weights import summarize_weights

PART = "xcvu9p-flga2104-2L-e"
DATA = FixedType(8, 0, signed=False)
W = FixedType(8, 1)
GEO = ConvGeometry(in_width=10, in_height=10, n_chan=4, filt_width=3, filt_height=3, n_filt=4, out_width=8,
                   out_height=8)
KERNEL, CHANNELS = 9, 4


def _ctx(family: str = "vitis_hls", data: FixedType = DATA) -> LayerContext:
    target = Target(PART, 5.0, "vitis" if family == "vitis_hls" else "vivado")
    return LayerContext(get_part(PART), 5.0, data, 1, DEFAULT_CONSTANTS.for_target(target), family=family)


def _dw(**kw) -> LayerSpec:  # noqa: ANN003
    base = {"name": "dw", "kind": "depthwise_conv2d", "n_in": KERNEL * CHANNELS, "n_out": CHANNELS,
            "result": FixedType(16, 6), "weight": W, "accum": FixedType(20, 8), "conv": GEO}
    return LayerSpec(**{**base, **kw})  # type: ignore[arg-type]


def _conv(**kw) -> LayerSpec:  # noqa: ANN003
    """The ordinary Conv2D of the same geometry: every window value times every filter."""
    return dataclasses.replace(_dw(**kw), kind="conv2d")


def test_one_weight_per_window_value() -> None:
    dw = _dw(n_zeros=5)
    assert dw.n_weights == KERNEL * CHANNELS and dw.n_nonzero == KERNEL * CHANNELS - 5
    assert _conv().n_weights == KERNEL * CHANNELS * CHANNELS


def test_io_parallel_multiplies_channels_times_kernel_per_pixel() -> None:
    # ParallelizationFactor 1: 64 passes of one pixel, kernel x channels products each (nnet_sepconv2d_latency.h)
    est, _ = estimate_layer(_dw(parallelization_factor=1), _ctx())
    assert est.multipliers == KERNEL * CHANNELS
    assert any("64 partitions of 1 output pixel" in n for n in est.notes)
    assert any("no synthesis data for depthwise_conv2d" in n for n in est.notes)
    # the ordinary conv of the same geometry multiplies every window value by every filter: channels times more
    conv, _ = estimate_layer(_conv(parallelization_factor=1), _ctx())
    assert conv.multipliers == KERNEL * CHANNELS * CHANNELS
    assert est.lut + 100 * est.dsp < conv.lut + 100 * conv.dsp
    # every output pixel in one pass: 64 x the products, and one pass of latency
    full, _ = estimate_layer(_dw(parallelization_factor=64), _ctx())
    assert full.multipliers == 64 * KERNEL * CHANNELS
    assert full.latency_cycles < est.latency_cycles and full.ii == 1


def test_zeros_remove_products() -> None:
    est, _ = estimate_layer(_dw(parallelization_factor=1, n_zeros=10), _ctx())
    assert est.multipliers == KERNEL * CHANNELS - 10


def test_io_stream_ii_is_input_pixels_times_reuse_factor() -> None:
    for rf in (3, 4):  # above the Vitis HLS per-pixel floor (2 here), below the iteration's own II (depth + 4)
        est, out = estimate_layer(_dw(io_type="io_stream", reuse_factor=rf), _ctx())
        assert est.ii == GEO.in_pixels * rf and out == GEO.out_pixels
        assert est.multipliers == KERNEL * CHANNELS
        assert est.latency_cycles == est.ii + est.depth_cycles
    # at RF 1 the tool's floor per input pixel sets it (as for conv2d)
    est, _ = estimate_layer(_dw(io_type="io_stream"), _ctx("vivado_hls"))
    assert est.ii == GEO.in_pixels


def test_io_stream_window_holds_kernel_times_channels_values() -> None:
    # the same product and line buffer, with a window of 36 values instead of the 9 of one channel
    est, _ = estimate_layer(_dw(io_type="io_stream"), _ctx())
    one = dataclasses.replace(_dw(io_type="io_stream"), n_in=KERNEL, n_out=CHANNELS, kind="conv2d")
    conv_est, _ = estimate_layer(one, _ctx())
    assert est.ff - conv_est.ff == pytest.approx((KERNEL * CHANNELS - KERNEL) * DATA.width)
    assert est.lut == pytest.approx(conv_est.lut) and est.dsp == conv_est.dsp


def test_io_stream_resource_has_block_factor_multipliers() -> None:
    # DepthwiseDenseResource_*: ceil(n_in / RF) generic multipliers in a reuse loop of RF iterations
    dw = _dw(io_type="io_stream", strategy="resource", reuse_factor=4)
    est, _ = estimate_layer(dw, _ctx(data=FixedType(16, 6)))
    assert est.multipliers == -(-KERNEL * CHANNELS // 4) == 9
    assert est.dsp == 9  # 8 x 16-bit signed generic products: one DSP each
    narrow, _ = estimate_layer(dw, _ctx())  # unsigned 8-bit data (a quantized ReLU's) x 8-bit weights: LUT products
    assert narrow.dsp == 0 and narrow.multipliers == 9


def test_trained_powers_of_two_take_no_dsp() -> None:
    rng = np.random.default_rng(0)
    values = rng.choice([0.5, -0.25, 0.125, 1.0], size=KERNEL * CHANNELS)
    stats = summarize_weights(values, W, KERNEL * CHANNELS, 1)
    est, _ = estimate_layer(_dw(parallelization_factor=1, weights=stats), _ctx())
    assert est.dsp == 0 and est.multipliers == KERNEL * CHANNELS
    assert not any("no trained weights" in n for n in est.notes)


def test_what_hls4ml_does_not_implement_is_refused() -> None:
    with pytest.raises(UnknownLayerError, match="no io_parallel Resource-strategy DepthwiseConv2D"):
        estimate_layer(_dw(strategy="resource", reuse_factor=2), _ctx())
    geo2 = dataclasses.replace(GEO, n_filt=8)
    with pytest.raises(UnknownLayerError, match="depth multiplier of 1 only"):
        estimate_layer(_dw(conv=geo2, n_out=8, io_type="io_stream"), _ctx())
    assert "distributed arithmetic does not cover" in str(depthwise_unsupported(_dw(strategy="distributed_arithmetic")))
    assert depthwise_unsupported(_dw(io_type="io_stream", strategy="resource", reuse_factor=2)) is None


def test_a_depthwise_model_totals_count_the_output_tensor() -> None:
    # io_stream: the FIFO after the depthwise stage carries n_chan values per output pixel, 64 pixels deep
    inp = LayerSpec("in", "input", 400, 400, DATA)
    relu = LayerSpec("relu", "activation", 256, 256, FixedType(8, 0, signed=False), activation="relu",
                     io_type="io_stream")
    _, rows = analytic_totals([inp, _dw(io_type="io_stream", reuse_factor=4), relu], Target(PART))
    lut, ff = fifo_logic(GEO.out_pixels, 16)
    assert rows[0].kind == "depthwise_conv2d"
    assert (rows[0].fifo_lut, rows[0].fifo_ff) == (pytest.approx(CHANNELS * lut), pytest.approx(CHANNELS * ff))
    # io_parallel: 64 partitions make a DATAFLOW design; the depthwise output array is 64 x 4 channels
    relu_p = dataclasses.replace(relu, io_type="io_parallel")
    totals, rows = analytic_totals([inp, _dw(parallelization_factor=1), relu_p], Target(PART))
    assert totals["latency_cycles"] >= 64  # 64 passes one after the other
    assert rows[0].ff >= GEO.out_pixels * CHANNELS * 16  # its output array, registered by the process
