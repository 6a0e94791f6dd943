"""Cost rules of the hls4ml 1.3 kinds no shared report holds (issue 17): Cropping, Repack, LSTM/GRU, Embedding,
LayerNormalization, Transpose. Each hand case follows the kind's template (``templates/vivado/nnet_utils``)."""

from __future__ import annotations

import dataclasses

import pytest

from cost_models import LayerSpec, estimate
from cost_models.analytic import LayerContext, estimate_layer
from cost_models.hls_project import layers_from_structs, parse_parameters_h
from cost_models.layers import ConvGeometry, FixedType, Target, layers_from_dicts, layers_to_dicts
from cost_models.parts import get_part

VU9P = get_part("xcvu9p")
T = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2023.2")
D16 = FixedType(16, 6)


def one(layer: LayerSpec, pixels: int = 1):  # noqa: ANN201
    return estimate_layer(layer, LayerContext(VU9P, 5.0, D16, pixels))


def crop(io: str, one_d: bool = False) -> LayerSpec:
    g = ConvGeometry(in_width=8, in_height=1 if one_d else 8, n_chan=2, filt_width=1, filt_height=1, n_filt=2,
                     out_width=5, out_height=1 if one_d else 6, pad_top=0 if one_d else 1,
                     pad_bottom=0 if one_d else 1, pad_left=2, pad_right=1)
    return LayerSpec("crop", "cropping1d" if one_d else "cropping2d", g.in_pixels * 2, g.out_pixels * 2, D16,
                     io_type=io, conv=g)  # type: ignore[arg-type]


@pytest.mark.parametrize("one_d", [False, True])
def test_stream_cropping_reads_every_input_pixel(one_d: bool) -> None:
    layer = crop("io_stream", one_d)
    est, out_px = one(layer, pixels=layer.conv.in_pixels)  # type: ignore[union-attr]
    assert est.ii == (8 if one_d else 64)  # the cropped pixels are read (and dropped) too
    assert out_px == (5 if one_d else 30)
    assert est.latency_cycles > est.ii and est.dsp == 0 and est.lut > 0
    assert any("no synthesis data for cropping" in n for n in est.notes)


def test_parallel_cropping_is_wiring() -> None:
    est, out_px = one(crop("io_parallel"))
    assert (est.latency_cycles, est.dsp, est.lut, est.ff, out_px) == (0, 0, 0, 0, 1)


def test_cropping_round_trips_and_estimates() -> None:
    layers = [LayerSpec("in", "input", 128, 128, D16), crop("io_stream"),
              LayerSpec("fc", "dense", 60, 3, D16, weight=FixedType(8, 1), io_type="io_stream")]
    assert layers_from_dicts(layers_to_dicts(layers)) == layers
    est = estimate(layers, T)
    assert est.layers[0].ii == 64 and est.ii == pytest.approx(64, rel=0.05)  # the slowest stage
    # its output FIFO: 2 streams (channels) of depth 30 pixels
    assert est.layers[0].fifo_lut > 0


@pytest.mark.parametrize("in_px,n,pack,ii,out_px", [(1, 32, 8, 4, 4), (16, 32, 32, 16, 1), (4, 32, 8, 4, 4),
                                                    (2, 64, 4, 16, 16)])
def test_repack_ii_is_the_larger_pixel_count(in_px: int, n: int, pack: int, ii: int, out_px: int) -> None:
    est, px = one(LayerSpec("rp", "repack", n, n, D16, io_type="io_stream", out_pack=pack), pixels=in_px)
    assert (est.ii, px) == (ii, out_px)
    assert est.dsp == 0 and any("no synthesis data for repack" in n for n in est.notes)


def test_repack_fifo_is_one_stream_per_output_element() -> None:
    layers = [LayerSpec("in", "input", 256, 256, D16),
              LayerSpec("rp", "repack", 256, 256, D16, io_type="io_stream", out_pack=8),
              LayerSpec("act", "activation", 256, 256, D16, activation="relu", io_type="io_stream")]
    rows = estimate(layers, T).layers
    wide = estimate([layers[0], LayerSpec("rp", "repack", 256, 256, D16, io_type="io_stream", out_pack=16),
                     layers[2]], T).layers
    # 8 FIFOs of depth 32 vs 16 of depth 16: shift registers of (16 + 20) LUT each
    assert (rows[0].fifo_lut, wide[0].fifo_lut) == (8 * 36, 16 * 36)
    with pytest.raises(ValueError, match="out_pack"):
        LayerSpec("rp", "repack", 30, 30, D16, out_pack=8)


def rnn(kind: str = "lstm", steps: int = 5, n: int = 4, features: int = 3, rf: int = 1, static: bool = True,
        sequences: bool = False, io: str = "io_parallel") -> LayerSpec:
    return LayerSpec(kind, kind, steps * features, steps * n if sequences else n, D16, weight=FixedType(16, 6),  # type: ignore[arg-type]
                     accum=FixedType(16, 6), time_steps=steps, n_state=n, reuse_factor=rf, recurrent_reuse_factor=rf,
                     strategy="resource" if rf > 1 else "latency", recurrent_static=static, io_type=io,  # type: ignore[arg-type]
                     table=FixedType(18, 8), table_size=1024)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_recurrent_latency_scales_with_time_steps(kind: str) -> None:
    e5, _ = one(rnn(kind, steps=5))
    e10, _ = one(rnn(kind, steps=10))
    assert e10.latency_cycles == 2 * e5.latency_cycles  # the steps are serial: the state feeds the next one
    assert e10.dsp == e5.dsp  # one static cell whatever the sequence length
    assert e5.ii == e5.latency_cycles  # a static cell takes the whole sequence before the next input
    assert any(f"no synthesis data for {kind}" in n for n in e5.notes)


def test_lstm_has_more_gates_than_gru() -> None:
    lstm, _ = one(rnn("lstm"))
    gru, _ = one(rnn("gru"))
    # input 3 x 16 + recurrent 4 x 16 products vs 3 x 12 + 4 x 12; 12 element-wise products each
    assert lstm.multipliers == 3 * 16 + 4 * 16 + 12 and gru.multipliers == 3 * 12 + 4 * 12 + 12
    assert lstm.dsp > gru.dsp


def test_recurrent_dsp_follows_the_reuse_factor() -> None:
    e1, _ = one(rnn(features=4, rf=1))
    e4, _ = one(rnn(features=4, rf=4))
    assert e4.dsp < e1.dsp and e4.latency_cycles > e1.latency_cycles
    # Resource strategy: ceil(4 x 16 / 4) generic products per kernel, plus the 12 element-wise products
    assert e4.multipliers == 16 + 16 + 12


def test_non_static_unrolls_a_cell_per_step_under_io_parallel() -> None:
    static, _ = one(rnn(static=True))
    unrolled, _ = one(rnn(static=False))
    assert unrolled.dsp == 5 * static.dsp and unrolled.latency_cycles == static.latency_cycles
    assert unrolled.ii == 1  # one pipeline of cells: a new sequence every cycle at ReuseFactor 1
    stream, _ = one(rnn(static=False, io="io_stream"))
    assert stream.dsp == static.dsp  # io_stream loops over the steps on one cell either way


def test_recurrent_output_pixels_and_validation() -> None:
    assert one(rnn(sequences=True, io="io_stream"), pixels=5)[1] == 5
    assert one(rnn(sequences=False, io="io_stream"), pixels=5)[1] == 1
    layers = [LayerSpec("in", "input", 15, 15, D16), rnn(sequences=True)]
    assert layers_from_dicts(layers_to_dicts(layers)) == layers
    with pytest.raises(ValueError, match="time_steps"):
        LayerSpec("x", "lstm", 15, 4, D16)


def emb(vocab: int, n_idx: int = 6, dim: int = 4, rf: int = 1, io: str = "io_parallel") -> LayerSpec:
    return LayerSpec("emb", "embedding", n_idx, n_idx * dim, D16, weight=FixedType(8, 2), vocab_size=vocab,
                     reuse_factor=rf, io_type=io)  # type: ignore[arg-type]


def test_small_embedding_is_a_lut_rom_per_lookup() -> None:
    est, out_px = one(emb(20))
    # 6 lookups of a 4 x 8 = 32-bit row from a 20-row table: one LUT6 per bit per copy
    assert (est.lut, est.bram_18k, est.dsp, out_px) == (6 * 32, 0, 0, 1)
    assert est.ii == 1 and est.latency_cycles == 1
    assert any("no synthesis data for embedding" in n for n in est.notes)


def test_large_embedding_is_a_dual_port_bram_rom() -> None:
    est, _ = one(emb(3000))
    # 3 dual-port copies of a 3,000 x 32-bit ROM: ceil(32/18) x ceil(3000/1024) = 6 BRAM_18K each
    assert est.bram_18k == 3 * 6
    shared, _ = one(emb(3000, rf=3))  # 2 lookups per cycle: one copy
    assert shared.bram_18k == 6 and shared.ii == 3


def test_stream_embedding_loops_over_the_indices() -> None:
    est, out_px = one(emb(20, rf=2, io="io_stream"))
    assert (est.ii, out_px, est.lut) == (12, 6, 32)  # 6 indices at II=2, one ROM
    with pytest.raises(ValueError, match="vocab_size"):
        LayerSpec("e", "embedding", 6, 24, D16)


def ln(rows: int = 4, dim: int = 8, rf: int = 1) -> LayerSpec:
    return LayerSpec("ln", "layernorm", rows * dim, rows * dim, D16, weight=FixedType(16, 6), bias=FixedType(16, 6),
                     accum=FixedType(16, 6), time_steps=rows, reuse_factor=rf, table=FixedType(18, 8),
                     table_size=4096)


def test_layernorm_runs_its_rows_through_one_unit() -> None:
    e4, _ = one(ln(rows=4))
    e8, _ = one(ln(rows=8))
    assert (e4.ii, e8.ii) == (4, 8)  # LAYERNORM_SEQ_LOOP: one row per cycle at ReuseFactor 1
    assert e8.latency_cycles == e4.latency_cycles + 4 and e8.dsp == e4.dsp
    # 4,096 x 18-bit inverse square root table: 4 BRAM_18K
    assert e4.bram_18k == 4
    assert any("no synthesis data for layernorm" in n for n in e4.notes)


def test_layernorm_products_follow_the_row_size() -> None:
    small, _ = one(ln(dim=8))
    big, _ = one(ln(dim=16))
    # squares and data_diff * deno_inver (16 x 16 bit: one DSP48E2 each), scale, the two 1/dim
    assert small.multipliers == 2 * 8 + 8 + 2 and big.multipliers == 2 * 16 + 16 + 2
    assert big.dsp > small.dsp and big.latency_cycles >= small.latency_cycles
    slow, _ = one(ln(rf=2))
    assert slow.ii == 8
    with pytest.raises(ValueError, match="time_steps"):
        LayerSpec("ln", "layernorm", 30, 30, D16, time_steps=4)


def test_stream_transpose_reads_all_then_writes_all() -> None:
    layer = LayerSpec("tr", "transpose", 12, 12, D16, io_type="io_stream", out_pack=4)
    est, out_px = one(layer, pixels=4)
    assert (est.ii, out_px) == (4 + 3, 3)
    assert est.ff >= 12 * 16  # the whole tensor in registers
    assert any("no synthesis data for transpose" in n for n in est.notes)
    par, px = one(dataclasses.replace(layer, io_type="io_parallel"))
    assert (par.latency_cycles, par.lut, px) == (0, 0, 1)


# hls4ml 1.3's structs for an LSTM (its two products and two activations first) and a transpose, trimmed
RNN_PARAMS = """
struct config2_1 : nnet::dense_config {
    static const unsigned n_in = 3;
    static const unsigned n_out = 16;
    static const unsigned strategy = nnet::latency;
    static const unsigned reuse_factor = 1;
    static const unsigned n_zeros = 5;
    typedef lstm_weight_t weight_t;
};

struct config2_2 : nnet::dense_config {
    static const unsigned n_in = 4;
    static const unsigned n_out = 16;
    static const unsigned strategy = nnet::latency;
    static const unsigned reuse_factor = 2;
    static const unsigned n_zeros = 7;
    typedef lstm_recurrent_weight_t weight_t;
};

struct sigmoid_config2_recr : nnet::activ_config {
    static const unsigned n_in = 12;
    static const unsigned table_size = 1024;
    typedef lstm_table_t table_t;
};

struct tanh_config2 : nnet::activ_config {
    static const unsigned n_in = 4;
    static const unsigned table_size = 512;
    typedef lstm_table_t table_t;
};

struct config2 : nnet::lstm_config {
    typedef lstm_accum_t accum_t;
    typedef lstm_weight_t weight_t;  // Matrix
    typedef lstm_recurrent_weight_t recurrent_weight_t;  // Matrix
    typedef config2_1 mult_config1;
    typedef config2_2 mult_config2;
    typedef sigmoid_config2_recr ACT_CONFIG_LSTM;
    typedef tanh_config2 ACT_CONFIG_T;
    static const unsigned n_in  = 3;
    static const unsigned n_out = 4;
    static const unsigned n_state = 4;
    static const unsigned n_sequence = 5;
    static const unsigned n_sequence_out = 5;
    static const unsigned reuse_factor = 1;
    static const bool use_static = false;
};

struct config4 {
    static const unsigned dims = 2;
    static const unsigned N = 20;
    static const unsigned* const from_shape;
    static const unsigned* const to_shape;
    static const unsigned* const perm;
    static const unsigned* const perm_strides;
};

unsigned config4_from_shape[2] = {5, 4};
unsigned config4_to_shape[2] = {4, 5};
unsigned config4_perm[2] = {1, 0};
unsigned config4_perm_strides[2] = {1, 4};
"""
RNN_TYPEDEFS = {"lstm_accum_t": "ap_fixed<18,8>", "lstm_weight_t": "ap_fixed<8,2>", "layer2_t": "ap_fixed<16,6>",
                "lstm_recurrent_weight_t": "ap_fixed<6,1>", "lstm_table_t": "ap_fixed<18,8>",
                "result_t": "ap_fixed<16,6>"}


def test_lstm_and_transpose_structs_become_two_layers() -> None:
    structs = parse_parameters_h(RNN_PARAMS, RNN_TYPEDEFS)
    layers = layers_from_structs(structs, RNN_TYPEDEFS, "io_stream")
    assert [(x.name, x.kind) for x in layers] == [("config2", "lstm"), ("config4", "transpose")]
    lstm, tr = layers
    assert (lstm.n_in, lstm.n_out, lstm.time_steps, lstm.n_state) == (15, 20, 5, 4)
    assert (lstm.reuse_factor, lstm.recurrent_reuse_factor, lstm.n_zeros, lstm.recurrent_n_zeros) == (1, 2, 5, 7)
    assert lstm.recurrent_static is False and (lstm.activation, lstm.recurrent_activation) == ("tanh", "sigmoid")
    assert (lstm.weight, lstm.recurrent_weight, lstm.accum) == (FixedType(8, 2), FixedType(6, 1), FixedType(18, 8))
    assert lstm.table_size == 512
    assert (tr.n_in, tr.out_pack) == (20, 5)
    est = estimate(layers, T)
    assert [r.kind for r in est.layers] == ["lstm", "transpose"]
    assert est.layers[1].ii == 5 + 4  # the LSTM's 5 output pixels in, 4 out


# a forked LSTM (nnet_lstm.h) some public hls4ml projects carry: its own lstm_config members and part structs
FORK_PARAMS = """
struct config1_lstm2 : nnet::lstm_config {
    static const unsigned length_x = N_INPUT_2_1;
    static const unsigned length_h = N_LAYER_2;
    static const unsigned timestep = N_INPUT_1_1;
    static const unsigned reuse_factor_tail = 1;
    typedef model_default_t bias_t;
    typedef model_default_t weight_t;
    typedef model_default_t accum_t;
};

struct config2_lstm2 : nnet::activ_config {
    static const unsigned n_in = N_LAYER_2;
    typedef ap_fixed<18,8> table_t;
};

struct config_x_lstm2 : nnet::dense_config {
    typedef model_default_t weight_t;
    static const unsigned reuse_factor = 9;
    static const unsigned n_in = N_INPUT_2_1;
    static const unsigned n_out = N_LAYER_2 * 4;
};

struct config_h_lstm2 : nnet::dense_config {
    typedef model_default_t weight_t;
    static const unsigned reuse_factor = 1;
    static const unsigned n_in = N_LAYER_2;
    static const unsigned n_out = N_LAYER_2 * 4;
};

struct config3 : nnet::dense_config {
    typedef model_default_t weight_t;
    static const unsigned reuse_factor = 1;
    static const unsigned n_in = N_LAYER_2;
    static const unsigned n_out = N_LAYER_3;
};
"""


def test_a_forked_lstm_struct_is_read_as_an_lstm() -> None:
    tds = {"model_default_t": "ap_fixed<16,6>"}
    consts = {"N_INPUT_1_1": 10, "N_INPUT_2_1": 3, "N_LAYER_2": 8, "N_LAYER_3": 2}
    layers = layers_from_structs(parse_parameters_h(FORK_PARAMS, tds, consts), tds, "io_parallel")
    assert [x.kind for x in layers] == ["lstm", "dense"]  # its products and activation are its parts
    lstm = layers[0]
    assert (lstm.time_steps, lstm.n_state, lstm.n_in, lstm.n_out) == (10, 8, 30, 8)
    assert (lstm.reuse_factor, lstm.recurrent_reuse_factor) == (9, 1)
    est, _ = one(lstm)
    assert any("forked" in n for n in est.notes) and any("no synthesis data for lstm" in n for n in est.notes)


def _older_lstm(i: int, n_in: str, n_out: str, seq: str, seq_out: str) -> str:
    """An LSTM as hls4ml 0.8 writes it: sizes as defines.h constants, no recurrent_weight_t."""
    mult = """
struct config{i}_{k} : nnet::dense_config {{
    static const unsigned n_in = {n};
    static const unsigned n_out = {o} * 4;
    static const unsigned strategy = nnet::latency;
    static const unsigned reuse_factor = 1;
    static const unsigned n_zeros = 0;
    typedef model_default_t weight_t;
}};
"""
    acts = """
struct sigmoid_config{i}_recr : nnet::activ_config {{
    static const unsigned n_in = {o} * 3;
    static const unsigned table_size = 1024;
    typedef table_t table_t;
}};

struct tanh_config{i} : nnet::activ_config {{
    static const unsigned n_in = {o};
    static const unsigned table_size = 1024;
    typedef table_t table_t;
}};

struct config{i} : nnet::lstm_config {{
    typedef model_default_t accum_t;
    typedef model_default_t weight_t;  // Matrix
    typedef config{i}_1 mult_config1;
    typedef config{i}_2 mult_config2;
    typedef sigmoid_config{i}_recr ACT_CONFIG_LSTM;
    typedef tanh_config{i} ACT_CONFIG_T;
    static const unsigned n_in  = {n};
    static const unsigned n_out = {o};
    static const unsigned n_state = {o};
    static const unsigned n_sequence = {s};
    static const unsigned n_sequence_out = {so};
    static const unsigned io_type = nnet::latency;
    static const unsigned reuse_factor = 1;
    static const bool use_static = true;
}};
"""
    return (mult.format(i=i, k=1, n=n_in, o=n_out) + mult.format(i=i, k=2, n=n_out, o=n_out)
            + acts.format(i=i, n=n_in, o=n_out, s=seq, so=seq_out))


def test_stacked_lstms_written_by_an_older_hls4ml() -> None:
    text = (_older_lstm(2, "N_INPUT_2_1", "N_OUT_2", "N_INPUT_1_1", "N_TIME_STEPS_2")
            + _older_lstm(3, "N_OUT_2", "N_OUT_3", "N_TIME_STEPS_2", "1"))
    tds = {"model_default_t": "ap_fixed<16,6>", "table_t": "ap_fixed<18,8>"}
    consts = {"N_INPUT_1_1": 20, "N_INPUT_2_1": 10, "N_OUT_2": 16, "N_TIME_STEPS_2": 20, "N_OUT_3": 8}
    layers = layers_from_structs(parse_parameters_h(text, tds, consts), tds, "io_parallel")
    assert [(x.kind, x.n_in, x.n_out, x.time_steps, x.n_state) for x in layers] == [
        ("lstm", 200, 320, 20, 16), ("lstm", 320, 8, 20, 8)]
    assert layers[0].recurrent_weight is None  # no recurrent_weight_t: the rule takes weight_t
    est = estimate(layers, T)
    assert [r.kind for r in est.layers] == ["lstm", "lstm"] and est.latency_cycles > 40


def test_a_transpose_written_by_an_older_hls4ml() -> None:
    """hls4ml before 1.3: ``nnet::transpose_config`` with depth, height, width and an in-struct perm."""
    text = """
// swap
struct config6 : nnet::transpose_config {
    static const unsigned depth = 1;
    static const unsigned height = 32;
    static const unsigned width = 8;
    static constexpr unsigned perm[3] = {0,2,1};
};
"""
    tds = {"layer6_t": "nnet::array<ap_fixed<16,6>, 32*1>"}
    (tr,) = layers_from_structs(parse_parameters_h(text, tds), tds)
    assert (tr.kind, tr.n_in, tr.out_pack, tr.io_type) == ("transpose", 256, 32, "io_stream")
    est, out_px = one(tr, pixels=32)
    assert (est.ii, out_px) == (32 + 8, 8)


def test_layernorm_structs_of_other_writers() -> None:
    """hls4ml 1.0-1.2 (sizes from defines.h, ``table_range``) and a transformer fork (``seq_len`` x ``embed_dim``,
    ``sum_t`` in place of ``accum_t``) are read as layernorms of the right size."""
    text = """
// ln_a
struct config2 : nnet::layernorm_config {
    static const unsigned n_in = N_INPUT_1_1*N_INPUT_2_1;
    static const unsigned seq_len = 4;
    static const unsigned table_size = 256;
    static constexpr double table_range = 1.0;
    static const unsigned reuse_factor = 1;
    typedef ln_t scale_t;
    typedef ln_t table_t;
};

// ln_b
struct config3 : nnet::layernorm_config {
    static const unsigned seq_len = 10;
    static const unsigned embed_dim = 12;
    static const unsigned table_size = 1024;
    static constexpr unsigned tiling_factor[3] = {1,1,1};
    typedef ln_t sum_t;
    typedef ln_t scale_t;
};
"""
    tds = {"ln_t": "ap_fixed<18,8>", "layer2_t": "ap_fixed<16,6>"}
    layers = layers_from_structs(parse_parameters_h(text, tds, {"N_INPUT_1_1": 4, "N_INPUT_2_1": 8}), tds)
    assert [(x.kind, x.n_in, x.time_steps, x.table_size) for x in layers] == [
        ("layernorm", 32, 4, 256), ("layernorm", 120, 10, 1024)]
    assert layers[1].accum == FixedType(18, 8)
