"""The per-layer table (where latency, II and resources go) from the real cost model's breakdown, for an
MLP and for a streamed CNN (conv, activation, pooling, flatten, dense layers)."""

from __future__ import annotations

import dataclasses

import pytest

from cost_models import estimate
from cost_models.layers import ConvGeometry, FixedType, LayerSpec, Target, layers_to_dicts
from dse.analysis.layer_table import layer_display, layer_shape, layer_table
from dse.design.candidate import Candidate
from dse.design.prebuild import prebuild_layers
from dse.space import parse_space_text
from tests.helpers import tiny_space_dict

T = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2023.2")
D16 = FixedType(16, 6)


def stream_cnn() -> list[LayerSpec]:
    g = ConvGeometry(in_width=28, in_height=28, n_chan=1, filt_width=3, filt_height=3, n_filt=16, out_width=26,
                     out_height=26)
    c1 = LayerSpec("c0", "conv2d", 9, 16, D16, weight=FixedType(6, 1), accum=FixedType(32, 12), io_type="io_stream",
                   conv=g)
    relu = LayerSpec("relu_c0", "activation", 26 * 26 * 16, 26 * 26 * 16, FixedType(8, 3), activation="relu",
                     io_type="io_stream")
    pg = ConvGeometry(in_width=26, in_height=26, n_chan=16, filt_width=2, filt_height=2, n_filt=16, out_width=13,
                      out_height=13, stride_width=2, stride_height=2)
    pool = LayerSpec("p0", "pooling2d", 26 * 26 * 16, 13 * 13 * 16, FixedType(8, 3), io_type="io_stream", conv=pg,
                     pool_op="max")
    flat = LayerSpec("flatten", "flatten", 13 * 13 * 16, 13 * 13 * 16, FixedType(8, 3), io_type="io_stream")
    fc = LayerSpec("out", "dense", 13 * 13 * 16, 10, D16, weight=FixedType(8, 1), accum=FixedType(24, 10),
                   io_type="io_stream", strategy="resource", reuse_factor=2704)
    return [LayerSpec("in", "input", 784, 784, FixedType(8, 3)), c1, relu, pool, flat, fc]


def test_a_streamed_cnn_table_names_the_slowest_stage_and_adds_the_fifos() -> None:
    layers = stream_cnn()
    est = estimate(layers, T).to_dict()
    table = layer_table(est, layers_to_dicts(layers))
    assert table["layer"].tolist() == ["c0", "relu_c0", "p0", "flatten", "out"]
    assert table["kind"].tolist() == ["conv2d", "activation", "pooling2d", "flatten", "dense"]
    rows = {r["layer"]: r for r in table.to_dict("records")}
    assert rows["c0"]["shape"] == "3x3x1->16 @676px"
    assert rows["p0"]["shape"] == "2x2 pool @169px"
    assert rows["out"]["shape"] == "2704x10" and rows["out"]["reuse_factor"] == 2704
    by_name = {r["name"]: r for r in est["layers"]}
    # the output FIFO of a stage counts with the stage (the conv's 16 FIFOs of 676 words: 16 BRAM)
    assert rows["c0"]["bram_18k"] == pytest.approx(by_name["c0"]["bram_18k"] + by_name["c0"]["fifo_bram_18k"])
    assert rows["c0"]["bram_18k"] >= 16
    slowest = max(r["ii"] for r in est["layers"])
    assert [r["layer"] for r in table.to_dict("records") if r["sets_ii"]] == \
        [r["name"] for r in est["layers"] if r["ii"] == slowest]
    assert est["ii"] == pytest.approx(slowest)
    for share in ("lut_share", "latency_share"):
        assert table[share].sum() == pytest.approx(1.0)
    shown = layer_display(table)
    assert "flatten" not in shown["layer"].tolist()  # costs nothing: left out of the display
    assert any(v.endswith(" *") for v in shown["II"])


def test_an_mlp_table_follows_the_prebuild_layer_list() -> None:
    space = parse_space_text(__import__("yaml").safe_dump(tiny_space_dict()))
    cand = Candidate.mlp((16,), (6, 6), (6, 6), (6,), (0.0, 0.0), (1, 1), "latency", 0.005)
    layers = prebuild_layers(cand, space, 64, 10)
    est = estimate(layers, T).to_dict()
    table = layer_table(est, layers_to_dicts(layers))
    assert table["layer"].tolist() == [r["name"] for r in est["layers"]]
    assert table["layer"].tolist()[:3] == ["fc0", "relu0", "out"]
    row = table.iloc[0]
    assert row["shape"] == "64x16" and row["precision"].startswith("w ap_fixed<6,1>")
    assert row["multipliers"] > 0 and row["lut"] > 0
    assert not table["sets_ii"].any()  # every layer pipelined at II 1: none sets it
    # the dense layers hold the multiplications: most of the LUTs go there
    assert table.loc[table["kind"] == "dense", "lut_share"].sum() > 0.5


def test_without_the_layer_list_the_table_still_has_every_estimated_layer() -> None:
    est = estimate(stream_cnn(), T).to_dict()
    table = layer_table(est)
    assert len(table) == 5 and set(table["shape"]) == {""}
    assert len(layer_table({})) == 0 and len(layer_display(layer_table({}))) == 0


def test_layer_shapes_read_as_people_write_them() -> None:
    gp = ConvGeometry(in_width=6, in_height=6, n_chan=8, filt_width=6, filt_height=6, n_filt=8, out_width=1,
                      out_height=1)
    spec = LayerSpec("gap", "global_pooling2d", 288, 8, D16, conv=gp, pool_op="average")
    assert layer_shape(spec.to_dict()) == "global x8"
    one_d = ConvGeometry(in_width=64, in_height=1, n_chan=4, filt_width=5, filt_height=1, n_filt=8, out_width=60,
                         out_height=1)
    c1 = LayerSpec("c", "conv1d", 20, 8, D16, weight=FixedType(6, 1), conv=one_d)
    assert layer_shape(c1.to_dict()) == "5x4->8 @60px"
    assert layer_shape(dataclasses.replace(c1, kind="activation", conv=None, n_in=480, n_out=480).to_dict()) == "480"
