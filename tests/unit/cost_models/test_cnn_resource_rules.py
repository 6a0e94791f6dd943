"""Resource rules of CNN layers checked against hand counts from the hls4ml templates: the input copy of an
io_stream dense (``nnet_dense_stream.h``), the ALLOCATION limit of a depthwise product
(``convolution_templates.py``, ``nnet_depthwise_product.h``) and the single output pixel of an io_stream
``concatenate1d`` (``nnet_merge_stream.h``)."""

from __future__ import annotations

import dataclasses

import pytest

from cost_models import LayerSpec, Target
from cost_models.analytic import (
    LayerContext,
    _multiplier_limit,
    analytic_totals,
    estimate_layer,
    multiplier_limit,
    stream_dense_input_registers,
)
from cost_models.layers import ConvGeometry, FixedType
from cost_models.parts import get_part

VU9P = get_part("xcvu9p")
D16 = FixedType(16, 6)
T = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vivado", tool_version="2020.1")


def ctx(pixels: int, data: FixedType = D16) -> LayerContext:
    return LayerContext(VU9P, 5.0, data, pixels, family="vivado_hls")


def stream_dense(n_in: int, n_out: int, rf: int = 1, strategy: str = "latency") -> LayerSpec:
    return LayerSpec("fc", "dense", n_in, n_out, D16, weight=FixedType(6, 1), accum=FixedType(24, 10),
                     reuse_factor=rf, strategy=strategy, io_type="io_stream")  # type: ignore[arg-type]


def test_stream_dense_holds_an_input_that_arrives_over_several_pixels() -> None:
    # a flatten of 7x7x16 (49 pixels of 16) into a 784 -> 13 Resource dense at RF 784 (RishThakkar's layout)
    layer = stream_dense(784, 13, rf=784, strategy="resource")
    one_pixel, _ = estimate_layer(layer, ctx(1))
    pixels, _ = estimate_layer(layer, ctx(49))
    # DataPrepare copies every element into data[784] (ARRAY_PARTITION complete): 784 x 16 bits
    # (to float rounding: the two rewind copies of the Resource reuse loop now sit in both estimates)
    assert pixels.ff - one_pixel.ff == pytest.approx(784 * 16, abs=1e-6)
    assert stream_dense_input_registers(784, 16) == 784 * 16
    assert (pixels.dsp, pixels.lut) == (one_pixel.dsp, one_pixel.lut)  # registers only
    narrow, _ = estimate_layer(layer, ctx(49, FixedType(4, 0, signed=False)))
    narrow_one, _ = estimate_layer(layer, ctx(1, FixedType(4, 0, signed=False)))
    assert narrow.ff - narrow_one.ff == pytest.approx(784 * 4, abs=1e-6)  # at the data width


def test_io_parallel_dense_has_no_stream_input_copy() -> None:
    layer = dataclasses.replace(stream_dense(64, 8), io_type="io_parallel")
    a, _ = estimate_layer(layer, ctx(1))
    b, _ = estimate_layer(layer, ctx(16))
    assert a.ff == b.ff


def depthwise(n_chan: int, k: int, rf: int, real_zeros: int, io: str = "io_stream") -> LayerSpec:
    """A k x k depthwise conv as the cost model reads it (cost_models/depthwise_rules.py): one weight per window
    value, n_in = k*k*n_chan, n_out = n_chan, ``real_zeros`` of them zero."""
    g = ConvGeometry(in_width=15, in_height=15, n_chan=n_chan, filt_width=k, filt_height=k, n_filt=n_chan,
                     out_width=15 - k + 1, out_height=15 - k + 1)
    return LayerSpec("dw", "depthwise_conv2d", k * k * n_chan, n_chan, D16, weight=FixedType(16, 6),
                     accum=FixedType(16, 6), n_zeros=real_zeros, reuse_factor=rf, io_type=io,  # type: ignore[arg-type]
                     conv=g)


def test_depthwise_limit_is_hls4ml_s() -> None:
    dw = depthwise(32, 3, rf=16, real_zeros=20)
    # hls4ml: multiplier_limit = DIV_ROUNDUP(kernel_size * n_chan * n_filt, RF) - n_zeros / RF, n_zeros = the
    # zeros among the 3 x 3 x 32 depthwise weights: ceil(9216 / 16) - 20 // 16 = 575; the depthwise rule costs
    # n_chan products of kernel inputs (n_in 9, n_out 32)
    assert _multiplier_limit(dw, 9, 32, 20, 16) == 575
    plain = dataclasses.replace(dw, kind="conv2d")
    assert _multiplier_limit(plain, 9, 32, 20, 16) == multiplier_limit(9, 32, 20, 16) == 17  # other kinds: as is


def test_depthwise_products_are_not_time_multiplexed_below_rf_n_chan() -> None:
    # 288 - 20 = 268 products; the limit (575) does not bind, so RF 16 keeps the DSPs of RF 1 (pominiq's
    # sepconv, Vivado HLS 2020.1: 1,170 DSP in csynth, where a limit of products / RF gave 477)
    at_rf16, _ = estimate_layer(depthwise(32, 3, rf=16, real_zeros=20, io="io_parallel"), ctx(1))
    at_rf1, _ = estimate_layer(depthwise(32, 3, rf=1, real_zeros=20, io="io_parallel"), ctx(1))
    assert at_rf16.dsp == at_rf1.dsp > 0
    assert at_rf16.dsp > multiplier_limit(9, 32, 20, 16) * 2  # more than products / RF would allow


def test_io_parallel_depthwise_limit_scales_with_the_parallelization_factor() -> None:
    dw = dataclasses.replace(depthwise(8, 3, rf=4, real_zeros=3, io="io_parallel"), parallelization_factor=13)
    # _rule_conv multiplies the products (and their zeros) by PF: PF calls of DIV_ROUNDUP(9 x 8 x 8, 4) - 3 / 4
    assert _multiplier_limit(dw, 9, 8 * 13, 3 * 13, 4) == 13 * 144 - (3 * 13) // 4


def concat(n: int, flat: bool) -> LayerSpec:
    return LayerSpec("cat", "concatenate", n, n, D16, io_type="io_stream", out_pack=n if flat else None)


def test_stream_concatenate1d_writes_one_pixel_and_holds_it() -> None:
    est, pixels = estimate_layer(concat(79, flat=True), ctx(6))
    assert pixels == 1  # res.write(out_data) once, after reading both inputs
    assert est.ff == 79 * 16  # out_data: every element registered
    est2, pixels2 = estimate_layer(concat(96, flat=False), ctx(6))
    assert pixels2 == 6 and est2.ff == 96 * 16 / 6  # a channel concatenation keeps the pixels: one pixel held


def test_a_dense_after_concatenate1d_reads_one_pixel() -> None:
    inp = LayerSpec("in", "input", 78, 78, D16)
    g = ConvGeometry(in_width=13, in_height=6, n_chan=1, filt_width=1, filt_height=1, n_filt=1, out_width=13,
                     out_height=6)
    pad = LayerSpec("pad", "zeropadding2d", 78, 78, D16, io_type="io_stream", conv=g)  # a 78-pixel stream
    fc = stream_dense(79, 13)
    _, flat_rows = analytic_totals([inp, pad, concat(79, flat=True), fc], T)
    _, chan_rows = analytic_totals([inp, pad, concat(79, flat=False), fc], T)
    # behind concatenate1d the dense gets its 79 inputs in one pixel: no input copy; behind a channel
    # concatenation of a 78-pixel stream it would copy 79 x 16 bits
    assert chan_rows[-1].ff - flat_rows[-1].ff == 79 * 16

