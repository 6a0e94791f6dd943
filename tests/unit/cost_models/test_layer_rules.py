"""Cost rules of every layer kind: pooling and the other weight-free kinds, convolutions with their
ParallelizationFactor, io_stream dataflow (II of the slowest stage, FIFO BRAM), unknown kinds."""

from __future__ import annotations

import dataclasses

import pytest

from cost_models import Calibration, LayerSpec, Target, UnknownLayerError, estimate
from cost_models.analytic import RULES, LayerContext, LayerEstimate, estimate_layer
from cost_models.layers import LAYER_KINDS, ConvGeometry, FixedType, layers_from_dicts, layers_to_dicts
from cost_models.parts import get_part
from cost_models.stream import (
    STREAM_LATENCY_ITERATION_OVERHEAD,
    STREAM_PIXEL_MIN_II,
    STREAM_RESOURCE_PIXEL_OVERHEAD,
    VITIS_CALL_EXTRA_CYCLES,
    fifo_bram18,
)

VU9P = get_part("xcvu9p")
T = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2023.2")
D16 = FixedType(16, 6)


def geo(iw: int, ih: int, c: int, fw: int, fh: int, nf: int, ow: int, oh: int, s: int = 1) -> ConvGeometry:
    return ConvGeometry(in_width=iw, in_height=ih, n_chan=c, filt_width=fw, filt_height=fh, n_filt=nf,
                        out_width=ow, out_height=oh, stride_width=s, stride_height=s)


def pool(iw: int, ih: int, c: int, p: int, io: str, rf: int = 1, op: str = "max", one_d: bool = False) -> LayerSpec:
    g = geo(iw, 1 if one_d else ih, c, p, 1 if one_d else p, c, iw // p, 1 if one_d else ih // p, s=p)
    return LayerSpec("pool", "pooling1d" if one_d else "pooling2d", g.in_pixels * c, g.out_pixels * c, D16,
                     io_type=io, reuse_factor=rf, conv=g, pool_op=op)  # type: ignore[arg-type]


def conv(iw: int, ih: int, c: int, k: int, nf: int, io: str = "io_parallel", pf: int | None = None, rf: int = 1,
         strategy: str = "latency", impl: str = "linebuffer") -> LayerSpec:
    g = geo(iw, ih, c, k, k, nf, iw - k + 1, ih - k + 1)
    return LayerSpec("conv", "conv2d", k * k * c, nf, D16, weight=FixedType(16, 6), accum=FixedType(32, 12),
                     reuse_factor=rf, strategy=strategy, io_type=io, conv=g, parallelization_factor=pf,  # type: ignore[arg-type]
                     conv_implementation=impl)  # type: ignore[arg-type]


def one(layer: LayerSpec, pixels: int = 1, family: str = "vitis_hls"):  # noqa: ANN201
    return estimate_layer(layer, LayerContext(VU9P, 5.0, D16, pixels, family=family))


def test_every_kind_has_one_rule() -> None:
    assert set(LAYER_KINDS) <= set(RULES)


@pytest.mark.parametrize("iw,ih,c,p", [(8, 8, 4, 2), (26, 26, 16, 2), (12, 6, 3, 3)])
def test_stream_pooling_ii_is_the_input_pixel_count(iw: int, ih: int, c: int, p: int) -> None:
    est, out_px = one(pool(iw, ih, c, p, "io_stream"), pixels=iw * ih)
    assert est.ii == iw * ih  # one input pixel per cycle (ReuseFactor 1), not one per output pixel
    assert out_px == (iw // p) * (ih // p)
    assert est.latency_cycles > est.ii and est.dsp == 0


def test_stream_pooling_1d_loops_over_input_pixels() -> None:
    est, out_px = one(pool(64, 1, 8, 4, "io_stream", one_d=True), pixels=64)
    assert (est.ii, out_px) == (64, 16)


def test_stream_pooling_ignores_reuse_factor_as_hls4ml_13_does() -> None:
    # nnet_pooling_stream.h: '#pragma HLS PIPELINE' without II in pooling2d_buffer_cl; io_parallel: II=RF
    assert one(pool(8, 8, 4, 2, "io_stream", rf=4), pixels=64)[0].ii == 64
    assert one(pool(8, 8, 4, 2, "io_parallel", rf=4))[0].ii == 4


def test_parallel_pooling_scales_with_outputs_and_window() -> None:
    small = one(pool(8, 8, 4, 2, "io_parallel"))[0]
    wide = one(pool(8, 8, 8, 2, "io_parallel"))[0]
    assert wide.lut == pytest.approx(2 * small.lut)
    avg = one(pool(8, 8, 4, 2, "io_parallel", op="average"))[0]
    assert 0 < avg.lut < small.lut  # adders are cheaper than compare + mux


def test_io_parallel_conv_dsp_follows_parallelization_factor_not_output_size() -> None:
    base = one(conv(10, 10, 3, 3, 8, pf=1))[0]  # 64 output pixels, one per pass
    twice = one(conv(10, 10, 3, 3, 8, pf=2))[0]
    four = one(conv(10, 10, 3, 3, 8, pf=4))[0]
    bigger_image = one(conv(18, 18, 3, 3, 8, pf=1))[0]  # 256 output pixels, still one per pass
    assert base.dsp > 0
    assert twice.dsp == pytest.approx(2 * base.dsp, rel=0.05)
    assert four.dsp == pytest.approx(4 * base.dsp, rel=0.05)
    assert bigger_image.dsp == pytest.approx(base.dsp, rel=0.01)
    # n_partitions passes at II=RF: fewer passes, shorter II
    assert base.ii == 64 and twice.ii == 32 and four.ii == 16 and bigger_image.ii == 256


def test_io_parallel_conv_without_partitions_is_fully_unrolled() -> None:
    full = one(conv(6, 6, 2, 3, 4, pf=None))[0]
    all_pixels = one(conv(6, 6, 2, 3, 4, pf=16))[0]
    assert full.dsp == all_pixels.dsp and full.ii == all_pixels.ii == 1


def test_parallelization_factor_must_divide_the_output_pixels() -> None:
    with pytest.raises(ValueError, match="parallelization_factor 3 must divide the 64"):
        conv(10, 10, 3, 3, 8, pf=3)


def test_stream_conv_loops_over_input_pixels_at_ii_rf() -> None:
    # RF 8 exceeds the Vitis HLS output call (depth + 1) and is shorter than an iteration (depth + 4): II = RF
    est, out_px = one(conv(10, 10, 3, 3, 8, io="io_stream", rf=8), pixels=100)
    assert est.depth_cycles + VITIS_CALL_EXTRA_CYCLES <= 8 <= est.depth_cycles + STREAM_LATENCY_ITERATION_OVERHEAD
    assert out_px == 64 and est.ii == 100 * 8
    vivado = one(conv(10, 10, 3, 3, 8, io="io_stream"), pixels=100, family="vivado_hls")[0]
    assert vivado.ii == 100  # II=1 per input pixel
    vitis = one(conv(10, 10, 3, 3, 8, io="io_stream"), pixels=100, family="vitis_hls")[0]
    # Vitis HLS: the output call is not overlapped with the next pixel, at least 2 cycles (Alezander9 9x8: 2)
    assert vitis.ii == 100 * max(2, vitis.depth_cycles + VITIS_CALL_EXTRA_CYCLES) == 200


def test_encoded_conv_keeps_window_fifos_in_bram() -> None:
    # filt 3x3 x 4 channels = 36 FIFOs of depth filt_height * out_width = 3 * 62 words of 16 bits
    lb = one(conv(64, 64, 4, 3, 8, io="io_stream"), pixels=64 * 64)[0]
    enc = one(conv(64, 64, 4, 3, 8, io="io_stream", impl="encoded"), pixels=64 * 64)[0]
    assert enc.bram_18k - lb.bram_18k == 36 * fifo_bram18(3 * 62, 16) == 36


def test_fifo_bram_rule() -> None:
    assert fifo_bram18(32, 16) == 0  # shift registers
    assert fifo_bram18(676, 16) == 1
    assert fifo_bram18(35, 24) == 2
    assert fifo_bram18(64, 400) == 23
    assert fifo_bram18(2048, 16) == 2


def stream_cnn() -> list[LayerSpec]:
    c1 = conv(28, 28, 1, 3, 16, io="io_stream")
    relu = LayerSpec("relu", "activation", 26 * 26 * 16, 26 * 26 * 16, FixedType(8, 3), activation="relu",
                     io_type="io_stream")
    p = dataclasses.replace(pool(26, 26, 16, 2, "io_stream"), result=FixedType(8, 3))
    flat = LayerSpec("flat", "flatten", 13 * 13 * 16, 13 * 13 * 16, FixedType(8, 3), io_type="io_stream")
    fc = LayerSpec("fc", "dense", 13 * 13 * 16, 10, D16, weight=FixedType(8, 1), accum=FixedType(24, 10),
                   io_type="io_stream", strategy="resource", reuse_factor=2704)
    return [LayerSpec("in", "input", 784, 784, FixedType(8, 3)), c1, relu, p, flat, fc]


def test_stream_model_ii_is_the_slowest_stage_and_fifos_take_bram() -> None:
    est = estimate(stream_cnn(), T, Calibration())
    rows = {r.name: r for r in est.layers}
    assert est.analytic["ii"] == max(r.ii for r in est.layers)
    assert rows["pool"].ii == 26 * 26
    assert rows["fc"].ii >= 13 * 13  # the dense reads the flattened stream pixel by pixel
    # conv, relu: 16 FIFOs of 676 words -> 16 BRAM each; pool output (169 deep) 16; flatten: in place, no FIFO
    assert (rows["conv"].fifo_bram_18k, rows["relu"].fifo_bram_18k, rows["pool"].fifo_bram_18k) == (16, 16, 16)
    assert rows["flat"].fifo_bram_18k == 0 and rows["fc"].fifo_bram_18k == 0  # the model's output port
    assert est.analytic["bram_18k"] >= 48
    # latency adds the stages' depths to the slowest stage's stream
    assert est.analytic["latency_cycles"] > est.analytic["ii"]


def test_stream_dense_adds_only_its_product_to_the_pipeline_latency() -> None:
    # nnet_dense_stream.h reads the flattened input pixel by pixel as the upstream stage writes it: after the
    # upstream's last pixel, one read and the product remain (mbavier CNN: 109 cycles in all, not 165)
    layers = stream_cnn()
    fc = dataclasses.replace(layers[-1], strategy="latency", reuse_factor=1)
    layers = [*layers[:-1], fc]
    est = estimate(layers, T, Calibration())
    rows = {r.name: r for r in est.layers}
    reads = 13 * 13
    assert rows["fc"].latency_cycles > reads  # alone, the stage reads its 169 pixels, then multiplies
    assert rows["fc"].depth_cycles == rows["fc"].latency_cycles - reads + 1
    slowest = max(est.layers, key=lambda r: r.latency_cycles)
    others = sum(r.depth_cycles for r in est.layers if r is not slowest)
    assert est.analytic["latency_cycles"] == slowest.latency_cycles + others


def test_flatten_and_parallel_reshape_padding_concat_are_free() -> None:
    for kind, g in (("flatten", None), ("reshape", None), ("concatenate", None),
                    ("zeropadding2d", geo(8, 8, 4, 1, 1, 4, 10, 10))):
        e = one(LayerSpec("x", kind, 256, 400 if g else 256, D16, conv=g))[0]  # type: ignore[arg-type]
        assert (e.dsp, e.lut, e.ff, e.bram_18k, e.latency_cycles) == (0, 0, 0, 0, 0), kind


def test_stream_zeropadding_loops_over_output_pixels() -> None:
    e, px = one(LayerSpec("pad", "zeropadding2d", 256, 400, D16, io_type="io_stream",
                          conv=geo(8, 8, 4, 1, 1, 4, 10, 10)), pixels=64)
    assert (e.ii, px) == (100, 100)


def test_unknown_kind_is_an_error_naming_the_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = pool(8, 8, 4, 2, "io_parallel")
    monkeypatch.delitem(RULES, "pooling2d")
    with pytest.raises(UnknownLayerError, match="layer 'pool': no cost rule for layer kind 'pooling2d'"):
        estimate([layer], T)
    with pytest.raises(ValueError, match="unknown kind 'garnet'"):
        LayerSpec("g1", "garnet", 4, 4, D16)  # type: ignore[arg-type]


def test_new_fields_round_trip_and_old_dicts_load() -> None:
    layers = [*stream_cnn(), conv(10, 10, 3, 3, 8, pf=4, impl="encoded"),
              pool(8, 8, 4, 2, "io_parallel", op="average")]
    assert layers_from_dicts(layers_to_dicts(layers)) == layers
    old = {"name": "c", "kind": "conv2d", "n_in": 27, "n_out": 8, "result": "ap_fixed<16,6>",
           "conv": {"in_width": 10, "in_height": 10, "n_chan": 3, "filt_width": 3, "filt_height": 3, "n_filt": 8,
                    "out_width": 8, "out_height": 8, "stride_width": 1, "stride_height": 1}}
    spec = LayerSpec.from_dict(old)
    assert spec.parallelization_factor is None and spec.conv_implementation == "linebuffer"
    assert spec.conv is not None and spec.conv.pad_left == 0 and spec.n_partitions == 1


def test_pooling_needs_its_geometry() -> None:
    with pytest.raises(ValueError, match="needs its geometry"):
        LayerSpec("p", "pooling2d", 64, 16, D16)


def test_stream_resource_conv_pays_its_longest_iteration_for_every_input_pixel() -> None:
    # conv_2d_buffer_cl pipelines the pixel loop only under Latency; csynth counts a sequential loop as trip count
    # x its longest iteration (jeanleos loop table: 1,156 trips of 5 ~ 119 -> 137,564), so all 100 input pixels
    # pay the RF=72 reuse loop (its rule: 72 + accumulation + 2 = 75 cycles) plus the per-family overhead
    layer = conv(10, 10, 3, 3, 8, io="io_stream", rf=72, strategy="resource")
    vivado = one(layer, pixels=100, family="vivado_hls")[0]
    assert vivado.depth_cycles == 75
    assert vivado.ii == 100 * (75 + STREAM_RESOURCE_PIXEL_OVERHEAD["vivado_hls"])
    vitis = one(layer, pixels=100, family="vitis_hls")[0]
    assert vitis.ii == 100 * (75 + STREAM_RESOURCE_PIXEL_OVERHEAD["vitis_hls"]) < vivado.ii
    # RF 1: Vivado HLS still runs the one-iteration reuse loop sequentially; Vitis HLS pipelines the pixel loop
    rf1 = dataclasses.replace(layer, reuse_factor=1)
    rf1_loop = 1 + 2 + STREAM_RESOURCE_PIXEL_OVERHEAD["vivado_hls"]
    assert one(rf1, pixels=100, family="vivado_hls")[0].ii == 100 * rf1_loop
    vitis_rf1 = one(rf1, pixels=100, family="vitis_hls")[0]
    assert vitis_rf1.ii == 100 * max(2, vitis_rf1.depth_cycles + VITIS_CALL_EXTRA_CYCLES)


def floor(est: LayerEstimate, family: str) -> float:
    """Fewest cycles per input pixel: 1 (Vivado HLS), the compute_output_buffer call (Vitis HLS)."""
    base = float(STREAM_PIXEL_MIN_II[family])
    return max(base, est.depth_cycles + VITIS_CALL_EXTRA_CYCLES) if family == "vitis_hls" else base


@pytest.mark.parametrize("family", ["vivado_hls", "vitis_hls"])
def test_stream_latency_conv_ii_is_rf_or_the_shorter_iteration(family: str) -> None:
    # PIPELINE II=reuse_factor is a ceiling: csynth reports achieved II = the iteration latency when that is
    # shorter (Gabriele-bot ALVEO: iteration 5, achieved 5, target 16)
    layer = conv(10, 10, 3, 3, 8, io="io_stream", rf=64)
    est = one(layer, pixels=100, family=family)[0]
    iteration = est.depth_cycles + STREAM_LATENCY_ITERATION_OVERHEAD
    assert iteration < 64
    assert est.ii == 100 * max(iteration, floor(est, family))
    small = one(dataclasses.replace(layer, reuse_factor=2), pixels=100, family=family)[0]
    assert small.ii == 100 * max(2, floor(small, family))  # RF below the iteration: the target holds
    rf1 = one(dataclasses.replace(layer, reuse_factor=1), pixels=100, family=family)[0]
    assert rf1.ii == 100 * floor(rf1, family)


def test_vitis_stream_conv_pixel_takes_its_output_call() -> None:
    # Vitis HLS does not overlap the INLINE OFF compute_output_buffer_2d call with the next pixel: the loop's
    # achieved II is the call's latency, at least 2 (Alezander9: call 1 -> II 2; LeNet-5 conv1: call 3 -> II 3)
    small = one(conv(10, 10, 1, 3, 2, io="io_stream"), pixels=100, family="vitis_hls")[0]
    assert small.depth_cycles + VITIS_CALL_EXTRA_CYCLES <= 2 and small.ii == 200
    wide = dataclasses.replace(conv(10, 10, 16, 3, 16, io="io_stream"), weight=FixedType(18, 6))
    deep = estimate_layer(wide, LayerContext(get_part("xc7z020"), 3.0, FixedType(18, 6), 100, family="vitis_hls"))[0]
    assert deep.depth_cycles + VITIS_CALL_EXTRA_CYCLES > 2
    assert deep.ii == 100 * (deep.depth_cycles + VITIS_CALL_EXTRA_CYCLES)
    assert one(conv(10, 10, 1, 3, 2, io="io_stream"), pixels=100, family="vivado_hls")[0].ii == 100


def test_stream_pooling_takes_two_cycles_per_pixel_on_7_series_under_vivado_hls() -> None:
    # csynth rows of six repositories on xc7z020 (Vivado HLS 2019.2-2020.1): 2.00-2.06 cycles per input pixel;
    # the same design on xczu5ev: 1.00
    p = pool(8, 8, 4, 2, "io_stream")
    zynq = get_part("xc7z020")
    assert estimate_layer(p, LayerContext(zynq, 5.0, D16, 64, family="vivado_hls"))[0].ii == 128
    assert estimate_layer(p, LayerContext(VU9P, 5.0, D16, 64, family="vivado_hls"))[0].ii == 64
    assert estimate_layer(p, LayerContext(zynq, 5.0, D16, 64, family="vitis_hls"))[0].ii == 64
