"""Cost rules of hls4ml's merge layers (``nnet_merge.h``, ``nnet_merge_stream.h``), Dot and io_stream's Clone,
and how the parameters.h path reads them (with the calls of ``myproject.cpp``)."""

from __future__ import annotations

import pytest

from cost_models import LayerSpec, Target, UnknownLayerError, estimate
from cost_models.analytic import LayerContext, analytic_totals, estimate_layer
from cost_models.hls_project import layers_from_structs, parse_defines_h, parse_parameters_h, parse_top_calls
from cost_models.layers import ConvGeometry, FixedType
from cost_models.parts import get_part

VU9P = get_part("xcvu9p")
T = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2023.2")
D16 = FixedType(16, 6)
R17 = FixedType(17, 7)


def merge(op: str | None, n: int, io: str = "io_parallel", rf: int = 1, t1: FixedType = D16,
          t2: FixedType = D16, result: FixedType = R17, **kw) -> LayerSpec:  # noqa: ANN003
    return LayerSpec("m", "merge", n, n, result, merge_op=op, input=t1, input2=t2, io_type=io,  # type: ignore[arg-type]
                     reuse_factor=rf, **kw)


def one(layer: LayerSpec, pixels: int = 1):  # noqa: ANN201
    return estimate_layer(layer, LayerContext(VU9P, 5.0, D16, pixels))[0]


def test_stream_add_of_8x8x16_loops_over_its_64_pixels() -> None:
    est = one(merge("add", 8 * 8 * 16, "io_stream"), pixels=64)
    assert est.ii == 64 and est.latency_cycles > 64 and est.dsp == 0
    assert est.lut == pytest.approx(16 * 17)  # one 17-bit adder per element of a pixel


def test_stream_merges_with_an_ii_pragma_take_the_reuse_factor() -> None:
    add = one(merge("add", 1024, "io_stream", rf=4), pixels=64)
    mul = one(merge("multiply", 1024, "io_stream", rf=4), pixels=64)
    assert add.ii == 64  # nnet_merge_stream.h: add is PIPELINE at II=1 whatever the ReuseFactor
    assert mul.ii == 64 * 4 and mul.dsp == 16 / 4  # PIPELINE II=reuse_factor: 4 multipliers shared


def test_parallel_multiply_uses_one_dsp_per_element_of_16_bit_data() -> None:
    est = one(merge("multiply", 100))
    assert est.dsp == 100 and est.multipliers == 100 and est.latency_cycles >= 1
    wide = one(merge("multiply", 10, t1=FixedType(32, 12), t2=FixedType(32, 12)))
    assert wide.dsp == 10 * 4  # 32 x 32 on the 27 x 18 ports of a DSP48E2


@pytest.mark.parametrize("t1,t2", [(FixedType(4, 1), D16), (FixedType(8, 0, False), FixedType(8, 2))])
def test_narrow_or_short_unsigned_products_are_luts(t1: FixedType, t2: FixedType) -> None:
    est = one(merge("multiply", 50, t1=t1, t2=t2))
    assert est.dsp == 0 and est.lut == pytest.approx(50 * t1.width * t2.width * 0.6)


def test_forced_fabric_multiply_has_no_dsp() -> None:
    assert one(merge("multiply", 50, mult_impl="lut")).dsp == 0
    assert one(merge("multiply", 50, t1=FixedType(4, 1), mult_impl="dsp")).dsp == 50


def test_add_average_max_have_no_dsp_and_cost_by_width() -> None:
    add, avg, mx, sub = (one(merge(op, 64)) for op in ("add", "average", "maximum", "subtract"))
    assert add.dsp == avg.dsp == mx.dsp == sub.dsp == 0
    assert add.lut == avg.lut == sub.lut == 64 * 17  # the *0.5 of average is a shift
    assert add.latency_cycles == 0 and add.ii == 1  # one adder fits the 5 ns cycle: no register
    aligned = one(merge("add", 64, t1=FixedType(8, 2), t2=FixedType(8, 6)))
    assert aligned.lut == 64 * (7 + 6)  # integer bits max(2, 6) + 1, fractional max(6, 2)
    assert mx.lut == pytest.approx(64 * (16 * 0.5 + 17))  # comparator + result mux


def test_unknown_operation_is_costed_as_add_with_a_note() -> None:
    est = one(merge(None, 64))
    assert est.lut == one(merge("add", 64)).lut and "costed as add" in est.notes[0]


def test_dot_shares_its_multipliers_under_the_reuse_factor() -> None:
    d1 = one(LayerSpec("d", "dot", 16, 1, FixedType(40, 12), input=D16, input2=D16, accum=FixedType(40, 12)))
    d4 = one(LayerSpec("d", "dot", 16, 1, FixedType(40, 12), input=D16, input2=D16, accum=FixedType(40, 12),
                       reuse_factor=4))
    assert (d1.dsp, d4.dsp) == (16, 4) and d4.ii == 4 and d4.latency_cycles > d1.latency_cycles


def test_clone_has_one_fifo_per_copy_and_loops_over_pixels() -> None:
    g = ConvGeometry(in_width=10, in_height=10, n_chan=2, filt_width=3, filt_height=3, n_filt=4, out_width=8,
                     out_height=8)
    io = "io_stream"
    layers = [LayerSpec("in", "input", 200, 200, D16, io_type=io),
              LayerSpec("conv", "conv2d", 18, 4, D16, weight=FixedType(8, 1), conv=g, io_type=io),
              LayerSpec("clone", "clone", 256, 3 * 256, D16, io_type=io),
              merge("add", 256, io), merge("add", 256, io)]
    _, rows = analytic_totals(layers, T)
    conv, clone = rows[0], rows[1]
    assert clone.ii == 64 and clone.dsp == 0
    assert clone.fifo_bram_18k == 3 * conv.fifo_bram_18k > 0  # 3 x 4 streams of depth 64 against 4
    assert estimate(layers, T).ii >= 64


def test_parallel_clone_is_free() -> None:
    est = one(LayerSpec("c", "clone", 64, 128, D16))
    assert (est.lut, est.ff, est.latency_cycles) == (0, 0, 0)


def test_merge_fields_round_trip_and_are_checked() -> None:
    layer = merge("minimum", 8, t2=FixedType(8, 0, False))
    assert LayerSpec.from_dict(layer.to_dict()) == layer
    assert layer.to_dict()["input2"] == "ap_ufixed<8,0>"
    with pytest.raises(ValueError, match="merge_op"):
        merge("concat", 8)


DEFINES = """
typedef nnet::array<ap_fixed<16,6>, 4*1> input_t;
typedef nnet::array<ap_fixed<12,4>, 4*1> layer2_t;
typedef nnet::array<ap_ufixed<8,0,AP_RND_CONV,AP_SAT>, 4*1> layer3_t;
typedef nnet::array<ap_fixed<20,8>, 4*1> mul_result_t;
typedef nnet::array<ap_fixed<20,8>, 4*1> result_t;
"""
PARAMS = """
// relu1
struct relu_config3 : nnet::activ_config {
    static const unsigned n_in = 256;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_stream;
    static const unsigned reuse_factor = 1;
};

// relu2
struct relu_config2 : nnet::activ_config {
    static const unsigned n_in = 256;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_stream;
    static const unsigned reuse_factor = 1;
};

// mul
struct config5 : nnet::merge_config {
    static const unsigned n_elem = 8*8*4;
    static const unsigned n_elem1 = 8*8*4;
    static const unsigned n_elem2 = 8*8*4;
    static const unsigned reuse_factor = 1;
};
"""
CPP = """
    nnet::relu<input_t, layer3_t, relu_config3>(inp, layer3_out); // relu1
    nnet::clone_stream<layer3_t, layer3_t, 256>(layer3_out, layer6_cpy1, layer6_cpy2); // clone_relu1
    nnet::relu<input_t, layer2_t, relu_config2>(inp_cpy2, layer2_out); // relu2
    nnet::multiply<layer3_t, layer2_t, result_t, config5>(layer6_cpy1, layer2_out, layer5_out); // mul
"""


def test_parameters_h_path_reads_the_calls() -> None:
    calls = parse_top_calls(CPP)
    assert [c["func"] for c in calls] == ["relu", "clone_stream", "relu", "multiply"]
    assert calls[3]["config"] == "config5" and calls[1]["config"] is None
    tds = parse_defines_h(DEFINES)
    layers = layers_from_structs(parse_parameters_h(PARAMS, tds), tds, calls=calls)
    assert [la.kind for la in layers] == ["activation", "clone", "activation", "merge"]
    clone, relu2, mul = layers[1], layers[2], layers[3]
    assert (clone.name, clone.n_in, clone.n_out, clone.io_type) == ("clone_relu1", 256, 512, "io_stream")
    assert relu2.input == FixedType(16, 6)  # a branch: it reads the model input, not the clone's copy type
    assert (mul.merge_op, mul.n_in, mul.input, mul.input2) == ("multiply", 256, FixedType(8, 0, False),
                                                                 FixedType(12, 4))
    without = layers_from_structs(parse_parameters_h(PARAMS, tds), tds)
    assert [la.kind for la in without] == ["activation", "activation", "merge"] and without[2].merge_op is None


HARD_AND_TRANSPOSE = """
// hard1
struct hard_tanh_config3 {
    static const unsigned n_in = 256;
    static const slope_t slope;
    static const shift_t shift;
    static const unsigned io_type = nnet::io_stream;
    static const unsigned reuse_factor = 1;
};
const slope_t hard_tanh_config3::slope = 1.0;

// permute_1
struct config4 {
    static const unsigned dims = 3;
    static const unsigned N = 256;
};
"""


def test_structs_without_an_nnet_base_are_read_or_refused() -> None:
    tds = parse_defines_h(DEFINES)
    structs = parse_parameters_h(HARD_AND_TRANSPOSE, tds)
    assert [(d["struct"], d["kind"]) for d in structs] == [("hard_tanh_config3", "activ_config"), ("config4", "")]
    hard = layers_from_structs(structs[:1], tds)[0]
    assert (hard.kind, hard.activation, hard.n_in) == ("activation", "hard_tanh", 256)
    calls = parse_top_calls("nnet::transpose<layer3_t, layer4_t, config4>(layer3_out, layer4_out); // permute_1")
    with pytest.raises(UnknownLayerError, match=r"config4.*permute_1.*without an nnet:: base.*nnet::transpose"):
        layers_from_structs(structs, tds, calls=calls)


def test_a_call_whose_struct_was_not_read_is_refused() -> None:
    tds = parse_defines_h(DEFINES)
    calls = parse_top_calls(CPP + "    nnet::einsum<layer5_t, layer6_t, config9>(layer5_out, layer6_out); // ein\n")
    with pytest.raises(UnknownLayerError, match=r"'config9' \(ein\): nnet::einsum"):
        layers_from_structs(parse_parameters_h(PARAMS, tds), tds, calls=calls)


SEPCONV = """
// sep
struct config5_depthwise : nnet::conv2d_config {
    static const unsigned in_height = 8;
    static const unsigned in_width = 8;
    static const unsigned n_chan = 4;
    static const unsigned filt_height = 3;
    static const unsigned filt_width = 3;
    static const unsigned n_filt = 4;
    static const unsigned out_height = 6;
    static const unsigned out_width = 6;
    static const unsigned reuse_factor = 1;
};

struct config5_pointwise : nnet::conv2d_config {
    static const unsigned in_height = 6;
    static const unsigned in_width = 6;
    static const unsigned n_chan = 4;
    static const unsigned filt_height = 1;
    static const unsigned filt_width = 1;
    static const unsigned n_filt = 8;
    static const unsigned out_height = 6;
    static const unsigned out_width = 6;
    static const unsigned reuse_factor = 1;
};

struct config5 {
    typedef config5_depthwise depthwise_config;
    typedef config5_pointwise pointwise_config;
};
"""


def test_a_separable_conv_struct_is_read_as_its_two_parts() -> None:
    tds = parse_defines_h(DEFINES)
    calls = parse_top_calls("nnet::separable_conv_2d_cl<input_t, layer2_t, config5>(inp, layer5_out, d5, p5, "
                            "db5, pb5); // sep")
    layers = layers_from_structs(parse_parameters_h(SEPCONV, tds), tds, calls=calls)
    assert [(la.name, la.kind) for la in layers] == [("config5_depthwise", "depthwise_conv2d"),
                                                     ("config5_pointwise", "pointwise_conv2d")]
