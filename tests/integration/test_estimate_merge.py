"""Residual networks (Keras ``Add``, ``Multiply``, ``Average``; io_stream ``Clone`` stages): ``dse estimate
--hls-project DIR`` on the project hls4ml 1.3 writes gives the figures of ``--model/--hls-config``, where both
exited 2 before the merge rules."""

from __future__ import annotations

import pytest

from tests.integration.test_estimate_hls_project import _estimate, _same_figures, _write


def _residual():
    from qkeras import QActivation, QConv2D, QDense
    from tensorflow.keras import layers, models

    q = "quantized_bits(8,0,alpha=1)"
    inp = layers.Input((8, 8, 2), name="inp")
    x = QConv2D(4, 3, padding="same", kernel_quantizer=q, bias_quantizer=q, name="conv1")(inp)
    x = QActivation("quantized_relu(8)", name="relu1")(x)
    y = QConv2D(4, 3, padding="same", kernel_quantizer=q, bias_quantizer=q, name="conv2")(x)
    y = QActivation("quantized_relu(8)", name="relu2")(y)
    s = layers.Add(name="add")([x, y])
    t = QConv2D(4, 1, kernel_quantizer=q, bias_quantizer=q, name="conv3")(x)
    m = layers.Multiply(name="mul")([s, t])
    a = layers.Average(name="avg")([m, s])
    f = layers.Flatten(name="flat")(a)
    return models.Model(inp, QDense(5, kernel_quantizer=q, bias_quantizer=q, name="out")(f))


def _residual_mlp():
    from qkeras import QActivation, QDense
    from tensorflow.keras import layers, models

    q = "quantized_bits(8,0,alpha=1)"
    inp = layers.Input((16,), name="inp")

    def dense(name: str):  # noqa: ANN202
        return QDense(16, kernel_quantizer=q, bias_quantizer=q, name=name)

    x = QActivation("quantized_relu(8)", name="relu1")(dense("fc1")(inp))
    y = dense("fc3")(QActivation("quantized_relu(8)", name="relu2")(dense("fc2")(x)))
    s = layers.Add(name="add")([x, y])
    return models.Model(inp, QDense(5, kernel_quantizer=q, bias_quantizer=q, name="out")(s))


@pytest.mark.slow
def test_residual_mlp_holds_its_skip_input_in_the_pipeline(tmp_path, capsys) -> None:
    """io_parallel PIPELINE: relu1's output waits in registers while fc2, relu2 and fc3 run; both paths agree."""
    root = _write(tmp_path, "res_mlp", _residual_mlp(), "io_parallel")
    from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml"))
    from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
    _same_figures(from_project, from_model)
    rows = {r["name"]: r for r in from_model["layers"]}
    between = sum(rows[n]["latency_cycles"] for n in ("fc2", "relu2", "fc3"))
    assert between >= 2 and any("skip input held" in n for n in rows["add"]["notes"])
    held = rows["add"]["ff"]
    assert held >= 16 * 8 * (between - 1)  # 16 x 8-bit relu1 outputs through the branch's cycles


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_residual_project_gives_the_model_figures(tmp_path, capsys, io_type) -> None:
    root = _write(tmp_path, f"res_{io_type}", _residual(), io_type)
    from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml"))
    from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
    _same_figures(from_project, from_model)
    rows = {r["name"]: r for r in from_model["layers"]}
    prows = [r for r in from_project["layers"] if r["kind"] in ("merge", "clone")]
    assert [r["kind"] for r in from_model["layers"] if r["kind"] in ("merge", "clone")] == [r["kind"] for r in prows]
    assert rows["add"]["dsp"] == 0 and rows["avg"]["dsp"] == 0
    # ufixed<9,1> x fixed<19,4>: a 9 x 19 product of variables, one DSP48E2 each
    n_mul = 256 if io_type == "io_parallel" else 4
    assert rows["mul"]["dsp"] == n_mul
    if io_type == "io_stream":
        assert rows["add"]["ii"] == 64 and rows["mul"]["ii"] == 64
        clones = [r for r in from_model["layers"] if r["kind"] == "clone"]
        assert [c["name"] for c in clones] == ["clone_relu1", "clone_add"]
        # one FIFO per element of a pixel per copy: 3 x 4 and 2 x 4 streams of depth 64
        assert clones[0]["fifo_lut"] == pytest.approx(3 * clones[1]["fifo_lut"] / 2)


@pytest.mark.slow
def test_dot_project_and_graph_agree(tmp_path) -> None:
    """Keras ``Dot`` of two Dense branches (hls4ml ``dot1d``, io_parallel only; hls4ml 1.3's precision inference
    asserts on an ``auto`` accumulator, so the test sets it)."""
    import hls4ml
    from tensorflow.keras import layers, models

    from cost_models import Target, estimate, read_written_project
    from dse.design.hls4ml_adapter import layer_specs_from_graph

    a = layers.Input((8,), name="inp")
    model = models.Model(a, layers.Dot(axes=1, name="dot")([layers.Dense(8, name="d1")(a),
                                                              layers.Dense(8, name="d2")(a)]))
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    cfg["LayerName"]["dot"]["Precision"] = {"result": "fixed<32,12>", "accum": "fixed<32,12>"}
    hm = hls4ml.converters.convert_from_keras_model(model, hls_config=cfg, output_dir=str(tmp_path / "prj"),
                                                    backend="Vitis", part="xcvu9p-flga2104-2L-e")
    hm.write()
    from_project = read_written_project(tmp_path / "prj").layers
    from_graph = layer_specs_from_graph(hm)
    assert [la.kind for la in from_project] == ["dense", "dense", "dot"]
    # the second Dense reads the model input, not the first Dense's output: both paths say so
    assert from_project[1].input == from_graph[1].input == from_project[0].input
    target = Target(part="xcvu9p-flga2104-2L-e")
    e_project, e_graph = estimate(from_project, target), estimate(from_graph, target)
    assert e_project.totals() == pytest.approx(e_graph.totals())
    dot = next(r for r in e_project.layers if r.kind == "dot")
    assert dot.dsp == 8 * 4  # eight 36 x 36-bit products, 2 x 2 DSP48E2 ports each


def _flat_concat():
    from qkeras import QActivation, QConv2D, QDense
    from tensorflow.keras import layers, models

    q = "quantized_bits(8,0,alpha=1)"
    img = layers.Input((6, 6, 1), name="img")
    vec = layers.Input((4,), name="vec")
    x = QConv2D(2, 3, kernel_quantizer=q, bias_quantizer=q, name="conv")(img)
    x = layers.Flatten(name="flat")(QActivation("quantized_relu(8)", name="relu")(x))
    c = layers.Concatenate(name="cat")([x, vec])  # concatenate1d: 4 x 4 x 2 + 4 = 36 elements
    return models.Model([img, vec], QDense(3, kernel_quantizer=q, bias_quantizer=q, name="out")(c))


@pytest.mark.slow
def test_stream_concatenate1d_is_one_pixel_in_both_paths(tmp_path, capsys) -> None:
    """io_stream ``concatenate1d`` (``nnet_merge_stream.h``) writes one pixel of all 36 elements: both the
    project and the model path cost it so, and the dense behind it holds no input copy."""
    root = _write(tmp_path, "flat_concat", _flat_concat(), "io_stream")
    from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml"))
    from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
    _same_figures(from_project, from_model)
    for rows in (from_model["layers"], from_project["layers"]):
        cat = next(r for r in rows if r["kind"] == "concatenate")
        out = next(r for r in rows if r["kind"] == "dense")
        assert cat["ii"] == 16  # the 4 x 4 pixels of the flattened branch
        assert cat["ff"] >= 36 * 8  # the output vector held in registers
        assert out["ii"] >= 1
    # one input pixel: no DataPrepare copy. The same dense fed its 36 elements as one pixel by a plain input holds
    # the same registers; a copy would add 36 x the data width (>= 8 bits) on top of them.
    twin = _estimate(capsys, *_dense_twin(tmp_path, root))["layers"]
    alone = next(r for r in twin if r["kind"] == "dense")
    for rows in (from_model["layers"], from_project["layers"]):
        out = next(r for r in rows if r["kind"] == "dense")
        assert abs(out["ff"] - alone["ff"]) < 36 * 8, (out["ff"], alone["ff"])


def _dense_twin(tmp_path, root) -> tuple[str, ...]:
    """``--model/--hls-config`` of the flat-concat model's output dense alone, behind a 36-element input of the
    concatenation's type, with the same weights (io_stream: its input is one pixel)."""
    import yaml
    from qkeras import QDense
    from qkeras.utils import load_qmodel
    from tensorflow.keras import layers, models

    q = "quantized_bits(8,0,alpha=1)"
    src = load_qmodel(str(root / "model.h5")).get_layer("out")
    inp = layers.Input((36,), name="vec36")
    model = models.Model(inp, QDense(3, kernel_quantizer=q, bias_quantizer=q, name="out")(inp))
    model.get_layer("out").set_weights(src.get_weights())
    cfg = yaml.safe_load((root / "hls4ml_config.yml").read_text())
    cat_type = cfg["HLSConfig"]["LayerName"]["cat"]["Precision"]["result"]
    cfg["HLSConfig"]["LayerName"] = {"vec36": {"Precision": {"result": cat_type}},
                                     "out": cfg["HLSConfig"]["LayerName"]["out"]}
    twin = tmp_path / "twin"
    twin.mkdir()
    model.save(twin / "model.h5")
    (twin / "hls4ml_config.yml").write_text(yaml.safe_dump(cfg))
    return "--model", str(twin / "model.h5"), "--hls-config", str(twin / "hls4ml_config.yml")
