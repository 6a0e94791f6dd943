"""The hls4ml 1.3 kinds that exited 2 before (issue 17): Cropping, Repack, LSTM/GRU, Embedding, LayerNormalization,
Transpose. ``dse estimate --hls-project DIR`` on the project hls4ml writes (``write()``, no compile) gives the figures
of ``--model/--hls-config``, and neither exits 2."""

from __future__ import annotations

import pytest

from tests.integration.test_estimate_hls_project import _estimate, _same_figures, _write

IO_TYPES = ["io_parallel", "io_stream"]


def _both(tmp_path, capsys, name: str, model, io_type: str, **kw) -> tuple[dict, dict]:  # noqa: ANN001
    root = _write(tmp_path, f"{name}_{io_type}", model, io_type, **kw)
    capsys.readouterr()  # what hls4ml printed while writing the project (e.g. a snapped ReuseFactor)
    from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml"))
    from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
    _same_figures(from_project, from_model)
    # in-place reshapes (io_parallel, and io_stream flattens) are aliases in myproject.cpp: no struct, no row
    def kinds(result: dict) -> list[str]:
        return [r["kind"] for r in result["layers"] if r["kind"] not in ("flatten", "reshape")]

    assert kinds(from_project) == kinds(from_model)
    return from_model, from_project


def _rows(result: dict, kind: str) -> list[dict]:
    return [r for r in result["layers"] if r["kind"] == kind]


def _cropping():
    from tensorflow.keras import layers, models

    return models.Sequential([
        layers.Input((8, 8, 2), name="inp"),
        layers.Cropping2D(((1, 1), (2, 1)), name="crop"),
        layers.Conv2D(2, 3, name="conv"),
        layers.Reshape((4 * 3, 2), name="rs"),
        layers.Cropping1D((2, 1), name="crop1"),
        layers.Flatten(name="flat"),
        layers.Dense(3, name="out"),
    ])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", IO_TYPES)
def test_cropping_project_gives_the_model_figures(tmp_path, capsys, io_type) -> None:
    from_model, _ = _both(tmp_path, capsys, "crop", _cropping(), io_type)
    (c2,), (c1,) = _rows(from_model, "cropping2d"), _rows(from_model, "cropping1d")
    assert any("no synthesis data for cropping2d" in n for n in c2["notes"])
    if io_type == "io_stream":  # every input pixel is read: 8 x 8, then the 12 rows of the reshaped conv output
        assert (c2["ii"], c1["ii"]) == (64, 12)
        (rp,) = _rows(from_model, "repack")  # the Reshape of the 4 x 3 x 2 conv output to 12 x 2: 12 pixels
        assert rp["ii"] == 12 and rp["fifo_lut"] > 0
        assert any("no synthesis data for repack" in n for n in rp["notes"])
    else:
        assert c2["latency_cycles"] == 0 and c2["lut"] == 0


def _recurrent(kind: str, sequences: bool, features: int = 3):
    from tensorflow.keras import layers, models

    cell = layers.LSTM if kind == "lstm" else layers.GRU
    return models.Sequential([
        layers.Input((6, features), name="inp"),
        cell(4, return_sequences=sequences, name=kind),
        layers.Flatten(name="flat"),
        layers.Dense(2, name="out"),
    ])


@pytest.mark.slow
@pytest.mark.parametrize("kind,sequences,io_type", [("lstm", False, "io_parallel"), ("gru", True, "io_parallel"),
                                                    ("lstm", True, "io_stream"), ("gru", False, "io_stream")])
def test_recurrent_project_gives_the_model_figures(tmp_path, capsys, kind, sequences, io_type) -> None:
    from_model, from_project = _both(tmp_path, capsys, kind, _recurrent(kind, sequences), io_type)
    (row,) = _rows(from_project, kind)
    assert any(f"no synthesis data for {kind}" in n for n in row["notes"])
    assert any("6 time steps" in n for n in row["notes"]) and row["ii"] == row["latency_cycles"]  # static: one cell
    assert row["dsp"] > 0


@pytest.mark.slow
def test_recurrent_static_and_reuse_reach_the_estimate(tmp_path, capsys) -> None:
    """``Static: False`` unrolls a cell per time step (io_parallel); a ReuseFactor of 4 (valid for both 4 x 16
    products) shares the multipliers."""
    base, _ = _both(tmp_path, capsys, "lstm1", _recurrent("lstm", False, 4), "io_parallel")
    unrolled, _ = _both(tmp_path, capsys, "lstm2", _recurrent("lstm", False, 4), "io_parallel",
                        layer_config={"lstm": {"Static": False}})
    shared, _ = _both(tmp_path, capsys, "lstm3", _recurrent("lstm", False, 4), "io_parallel",
                      layer_config={"lstm": {"Strategy": "Resource", "ReuseFactor": 4}})
    (b,), (u,), (s,) = (_rows(r, "lstm") for r in (base, unrolled, shared))
    assert u["dsp"] == pytest.approx(6 * b["dsp"]) and u["latency_cycles"] == b["latency_cycles"]
    assert u["ii"] < b["ii"]
    assert s["reuse_factor"] == 4
    assert s["dsp"] < b["dsp"] and s["latency_cycles"] > b["latency_cycles"]


@pytest.mark.slow
def test_a_snapped_reuse_factor_leaves_the_json_alone(tmp_path, capsys) -> None:
    """ReuseFactor 4 is not valid for a 3 x 16 product: hls4ml prints a warning and takes 3 (the struct says 3);
    ``--model`` still prints JSON only on stdout, and both paths agree."""
    from_model, from_project = _both(tmp_path, capsys, "lstm_rf", _recurrent("lstm", False), "io_parallel",
                                     layer_config={"lstm": {"Strategy": "Resource", "ReuseFactor": 4}})
    assert _rows(from_model, "lstm")[0]["reuse_factor"] == 3 == _rows(from_project, "lstm")[0]["reuse_factor"]


def _embedding(vocab: int):
    from tensorflow.keras import layers, models

    return models.Sequential([
        layers.Input((6,), name="inp"),
        layers.Embedding(vocab, 4, input_length=6, name="emb"),
        layers.Flatten(name="flat"),
        layers.Dense(2, name="out"),
    ])


@pytest.mark.slow
@pytest.mark.parametrize("io_type,vocab", [("io_parallel", 20), ("io_parallel", 300), ("io_stream", 20)])
def test_embedding_project_gives_the_model_figures(tmp_path, capsys, io_type, vocab) -> None:
    from_model, _ = _both(tmp_path, capsys, f"emb{vocab}", _embedding(vocab), io_type)
    (row,) = _rows(from_model, "embedding")
    assert any("no synthesis data for embedding" in n for n in row["notes"])
    assert row["dsp"] == 0
    assert (row["bram_18k"] > 0) == (vocab > 64)  # a LUT ROM for 20 rows, BRAM for 300
    if io_type == "io_stream":
        assert row["ii"] == 6  # one lookup per index, one output pixel each


def _layernorm():
    from tensorflow.keras import layers, models

    return models.Sequential([
        layers.Input((4, 8), name="inp"),
        layers.LayerNormalization(name="ln"),
        layers.Flatten(name="flat"),
        layers.Dense(2, name="out"),
    ])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", IO_TYPES)
def test_layernorm_project_gives_the_model_figures(tmp_path, capsys, io_type) -> None:
    from_model, _ = _both(tmp_path, capsys, "ln", _layernorm(), io_type)
    (row,) = _rows(from_model, "layernorm")
    assert any("no synthesis data for layernorm" in n for n in row["notes"])
    assert row["ii"] == 4 and row["bram_18k"] >= 1  # 4 rows through one row unit; the 1/sqrt table


def _transpose():
    from tensorflow.keras import layers, models

    # hls4ml 1.3 reads a Permute's ``perm`` attribute, which a layer named "perm" would shadow
    return models.Sequential([
        layers.Input((4, 6), name="inp"),
        layers.Conv1D(3, 1, name="c0"),
        layers.Permute((2, 1), name="swap"),
        layers.Conv1D(2, 3, name="conv"),
        layers.Flatten(name="flat"),
        layers.Dense(2, name="out"),
    ])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", IO_TYPES)
def test_transpose_project_gives_the_model_figures(tmp_path, capsys, io_type) -> None:
    from_model, _ = _both(tmp_path, capsys, "tr", _transpose(), io_type)
    (row,) = _rows(from_model, "transpose")
    assert any("no synthesis data for transpose" in n for n in row["notes"])
    if io_type == "io_stream":  # 4 pixels of 3 in, 3 pixels of 4 out, one loop after the other
        assert row["ii"] == 7
    else:
        assert row["latency_cycles"] == 0 and row["lut"] == 0


def _mobilenet(dim: int = 2):
    """A MobileNet-style QKeras block: a depthwise conv, then a separable conv (hls4ml 1.3 splits it into
    ``sep_depthwise`` and ``sep_pointwise``). QKeras has no QDepthwiseConv1D: the 1D model has the separable conv."""
    from qkeras import QActivation, QDense, QDepthwiseConv2D, QSeparableConv1D, QSeparableConv2D
    from tensorflow.keras import layers, models

    q = "quantized_bits(8,0,alpha=1)"
    if dim == 1:
        return models.Sequential([
            layers.Input((12, 3), name="inp"),
            QSeparableConv1D(4, 3, depthwise_quantizer=q, pointwise_quantizer=q, bias_quantizer=q, name="sep"),
            QActivation("quantized_relu(8)", name="relu"),
            layers.Flatten(name="flat"),
            QDense(5, kernel_quantizer=q, bias_quantizer=q, name="out"),
        ])
    return models.Sequential([
        layers.Input((8, 8, 3), name="inp"),
        QDepthwiseConv2D(3, depthwise_quantizer=q, bias_quantizer=q, name="dw"),
        QActivation("quantized_relu(8)", name="relu1"),
        QSeparableConv2D(4, 3, depthwise_quantizer=q, pointwise_quantizer=q, bias_quantizer=q, name="sep"),
        QActivation("quantized_relu(8)", name="relu2"),
        layers.Flatten(name="flat"),
        QDense(5, kernel_quantizer=q, bias_quantizer=q, name="out"),
    ])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", IO_TYPES)
def test_depthwise_and_separable_project_gives_the_model_figures(tmp_path, capsys, io_type) -> None:
    """QDepthwiseConv2D and QSeparableConv2D (a depthwise + a pointwise conv in hls4ml 1.3), the depthwise one at
    ReuseFactor 9 (valid for its 27 x 3 mult struct)."""
    from_model, from_project = _both(tmp_path, capsys, "mobile", _mobilenet(), io_type,
                                     layer_config={"dw": {"ReuseFactor": 9}})
    dw, sep_dw = _rows(from_model, "depthwise_conv2d")
    assert len(_rows(from_model, "pointwise_conv2d")) == 1 and not _rows(from_model, "conv2d")
    assert from_model["weights_known"] and from_project["weights_known"]
    for row in (dw, sep_dw):
        assert any("no synthesis data for depthwise_conv2d" in n for n in row["notes"])
        assert not any("no trained weights" in n for n in row["notes"])
    assert dw["reuse_factor"] == 9
    if io_type == "io_stream":  # the stage loops over its 8 x 8 input pixels at PIPELINE II=RF, a ceiling: a pixel
        # whose product iteration is shorter than RF 9 runs at that (cost_models.stream, Latency conv rule)
        assert dw["ii"] % 64 == 0 and 64 * 2 <= dw["ii"] <= 64 * 9 and 0 < dw["multipliers"] <= 27
    else:  # ParallelizationFactor 1: 36 passes of one pixel's 3x3 x 3 products (some weights are zero)
        assert 0 < dw["multipliers"] <= 27 and any("36 partitions" in n for n in dw["notes"])
        assert 0 < sep_dw["multipliers"] <= 27 and any("16 partitions" in n for n in sep_dw["notes"])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", IO_TYPES)
def test_separable_conv1d_project_gives_the_model_figures(tmp_path, capsys, io_type) -> None:
    from_model, _ = _both(tmp_path, capsys, "sep1d", _mobilenet(1), io_type)
    (dw,), (pw,) = _rows(from_model, "depthwise_conv1d"), _rows(from_model, "pointwise_conv1d")
    assert any("no synthesis data for depthwise_conv1d" in n for n in dw["notes"])
    assert 0 < dw["multipliers"] <= 9 and pw["multipliers"] > 0


@pytest.mark.slow
def test_io_stream_resource_depthwise_gives_the_model_figures(tmp_path, capsys) -> None:
    """io_stream writes the DepthwiseDenseResource_* kernels: ceil(27 / RF) generic multipliers."""
    from_model, from_project = _both(tmp_path, capsys, "mobile_res", _mobilenet(), "io_stream", strategy="Resource",
                                     layer_config={"dw": {"ReuseFactor": 9}})
    dw = _rows(from_project, "depthwise_conv2d")[0]
    assert dw["reuse_factor"] == 9 and dw["multipliers"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("case", ["resource_io_parallel", "depth_multiplier_2"])
def test_what_hls4ml_writes_but_cannot_run_exits_2(tmp_path, capsys, case) -> None:
    """hls4ml 1.3 converts and writes an io_parallel Resource-strategy depthwise conv and a depth multiplier of 2,
    but its templates assert against both (nnet_sepconv2d.h: 'Resource strategy for DepthwiseConv2D is not
    supported'; nnet_sepconv2d*.h: 'only a depth multiplier of 1'): both estimate paths exit 2 and say so."""
    from tensorflow.keras import layers, models

    from dse.commands.cli import main
    from tests.integration.test_estimate_hls_project import _write

    if case == "resource_io_parallel":
        model, kw, why = _mobilenet(), {"strategy": "Resource"}, "no io_parallel Resource-strategy DepthwiseConv2D"
        marker = "Resource strategy for DepthwiseConv2D is not supported"
        kernel = "DepthwiseDenseResource"
    else:
        model = models.Sequential([layers.Input((8, 8, 3), name="inp"),
                                   layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw"),
                                   layers.Flatten(name="flat"), layers.Dense(2, name="out")])
        kw, why = {}, "depth multiplier of 1 only"
        marker, kernel = "only a depth multiplier of 1 is currently supported", "DepthwiseDenseLatency"
    root = _write(tmp_path, case, model, "io_parallel", **kw)
    firmware = root / "prj" / "firmware"
    assert kernel in (firmware / "parameters.h").read_text()  # what hls4ml wrote
    assert marker in (firmware / "nnet_utils" / "nnet_sepconv2d.h").read_text() + (
        firmware / "nnet_utils" / "nnet_sepconv2d_latency.h").read_text()
    capsys.readouterr()
    for argv in (["--hls-project", str(root / "prj")],
                 ["--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml")]):
        assert main(["estimate", *argv]) == 2
        err = capsys.readouterr().err
        assert why in err and "dw" in err  # the reason, naming the layer
