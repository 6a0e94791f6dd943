"""``dse estimate --hls-project DIR`` on projects hls4ml writes in the test (a QKeras CNN with pooling and
an MLP; ``hls_model.write()`` only, no synthesis): the same figures as ``--model/--hls-config``."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml

from dse.commands.cli import main
from tests.helpers import SHARED_REPORTS

FIGURES = ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "ii")
PART = "xcvu9p-flga2104-2L-e"


def _cnn(pool: str):
    from qkeras import QActivation, QConv2D, QDense
    from tensorflow.keras import layers, models

    q = "quantized_bits(8,0,alpha=1)"
    pooling = layers.MaxPooling2D if pool == "max" else layers.AveragePooling2D
    return models.Sequential([
        layers.Input((10, 10, 2), name="inp"),
        QConv2D(4, 3, kernel_quantizer=q, bias_quantizer=q, name="conv1"),
        QActivation("quantized_relu(8)", name="relu1"),
        pooling(2, name="pool1"),
        layers.Flatten(name="flat"),
        QDense(5, kernel_quantizer=q, bias_quantizer=q, name="out"),
        layers.Activation("softmax", name="sm"),
    ])


def _depthwise():
    from tensorflow.keras import layers, models

    return models.Sequential([
        layers.Input((10, 10, 3), name="inp"),
        layers.DepthwiseConv2D(3, name="dw"),
        layers.Activation("relu", name="relu1"),
        layers.Conv2D(4, 1, name="pw"),
        layers.GlobalAveragePooling2D(name="gap"),
        layers.Dense(5, name="out"),
    ])


def _mlp():
    from qkeras import QActivation, QDense
    from tensorflow.keras import layers, models

    q = "quantized_bits(8,0,alpha=1)"
    return models.Sequential([
        layers.Input((16,), name="inp"),
        QDense(32, kernel_quantizer=q, bias_quantizer=q, name="fc1"),
        QActivation("quantized_relu(8)", name="relu1"),
        QDense(5, kernel_quantizer=q, bias_quantizer=q, name="out"),
        layers.Activation("softmax", name="sm"),
    ])


def _write(tmp_path, name: str, model, io_type: str, strategy: str = "Latency", rf: int = 1,
           softmax: str | None = None, layer_config: dict | None = None):
    """A model file, its hls4ml_config.yml, and the project hls4ml writes for it (no synthesis). ``layer_config``:
    hls4ml ``LayerName`` settings merged per layer (``{"lstm": {"Static": False}}``)."""
    import hls4ml

    rng = np.random.default_rng(7)
    for layer in model.layers:
        if layer.get_weights():
            w, *rest = layer.get_weights()
            w = rng.uniform(-0.9, 0.9, w.shape)
            w[rng.random(w.shape) < 0.2] = 0.0  # some pruned weights
            layer.set_weights([w, *rest])
    root = tmp_path / name
    root.mkdir()
    model.save(root / "model.h5")
    hls = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    hls["Model"]["Strategy"] = strategy
    hls["Model"]["ReuseFactor"] = rf
    if softmax is not None:
        hls["LayerName"]["sm"]["Implementation"] = softmax
    for lname, settings in (layer_config or {}).items():
        hls["LayerName"][lname].update(settings)
    cfg = {"Backend": "Vitis", "Part": PART, "ClockPeriod": 5, "IOType": io_type, "HLSConfig": hls}
    (root / "hls4ml_config.yml").write_text(yaml.safe_dump(cfg))
    prj = root / "prj"
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=hls, output_dir=str(prj), backend="Vitis", part=PART, clock_period=5, io_type=io_type)
    hls_model.write()
    return root


def _estimate(capsys, *argv: str) -> dict:
    code = main(["estimate", *argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _same_figures(a: dict, b: dict) -> None:
    for key in FIGURES:
        assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-6), key
    assert a["analytic"] == pytest.approx(b["analytic"], rel=1e-6, abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("io_type,pool", [("io_parallel", "max"), ("io_stream", "max"), ("io_stream", "average")])
def test_cnn_project_gives_the_model_figures(tmp_path, capsys, io_type, pool) -> None:
    root = _write(tmp_path, f"cnn_{io_type}_{pool}", _cnn(pool), io_type)
    from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml"))
    from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
    _same_figures(from_project, from_model)
    kinds = [row["kind"] for row in from_project["layers"]]
    assert "pooling2d" in kinds and "conv2d" in kinds
    assert from_project["weights_known"] and from_model["weights_known"]
    assert from_project["target"]["part"] == PART and from_project["target"]["backend"] == "vitis"
    pool_row = next(r for r in from_project["layers"] if r["kind"] == "pooling2d")
    if io_type == "io_stream":  # the pooling stage loops over its 8 x 8 input pixels
        assert pool_row["ii"] == 64


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_depthwise_pointwise_global_pooling_project(tmp_path, capsys, io_type) -> None:
    root = _write(tmp_path, f"dw_{io_type}", _depthwise(), io_type)
    from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml"))
    from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
    _same_figures(from_project, from_model)
    kinds = [row["kind"] for row in from_project["layers"]]
    assert "pointwise_conv2d" in kinds and "global_pooling2d" in kinds


@pytest.mark.slow
@pytest.mark.parametrize("strategy,rf", [("Latency", 1), ("Resource", 4)])
def test_mlp_project_gives_the_model_figures(tmp_path, capsys, strategy, rf) -> None:
    root = _write(tmp_path, f"mlp_{strategy}", _mlp(), "io_parallel", strategy, rf)
    from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config", str(root / "hls4ml_config.yml"))
    from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
    _same_figures(from_project, from_model)
    assert [r["kind"] for r in from_project["layers"]] == [r["kind"] for r in from_model["layers"]]


@pytest.mark.slow
def test_softmax_latency_implementation_from_both_paths(tmp_path, capsys) -> None:
    # hls4ml's softmax `implementation` (nnet_activation.h softmax_latency: no max tree) reaches the cost model
    # from the ModelGraph and from parameters.h alike
    rows = {}
    for impl in ("stable", "latency"):
        root = _write(tmp_path, f"mlp_sm_{impl}", _mlp(), "io_parallel", softmax=impl)
        from_model = _estimate(capsys, "--model", str(root / "model.h5"), "--hls-config",
                               str(root / "hls4ml_config.yml"))
        from_project = _estimate(capsys, "--hls-project", str(root / "prj"))
        _same_figures(from_project, from_model)
        rows[impl] = next(r for r in from_project["layers"] if r["kind"] == "softmax")
    assert "softmax_implementation::latency" in (tmp_path / "mlp_sm_latency" / "prj" / "firmware" /
                                                 "parameters.h").read_text()
    assert rows["latency"]["latency_cycles"] < rows["stable"]["latency_cycles"]
    assert rows["latency"]["lut"] < rows["stable"]["lut"]


@pytest.mark.slow
def test_a_synthesis_report_in_the_folder_is_never_read(tmp_path, capsys) -> None:
    root = _write(tmp_path, "cnn", _cnn("max"), "io_stream")
    before = _estimate(capsys, "--hls-project", str(root / "prj"))
    # plant real csynth reports (another design's figures) and a vivado_synth.rpt where readers look for them
    report_dir = root / "prj" / "myproject_prj" / "solution1" / "syn" / "report"
    report_dir.mkdir(parents=True)
    xml = next(iter(sorted(SHARED_REPORTS.glob("**/syn/report/myproject_csynth.xml"))), None)
    if xml is not None:
        shutil.copy(xml, report_dir / "myproject_csynth.xml")
    (report_dir / "myproject_csynth.rpt").write_text("== Vivado HLS Report for 'myproject'\n* Version: 2019.2\n")
    (root / "prj" / "vivado_synth.rpt").write_text("| CLB LUTs | 99999999 |\n")
    after = _estimate(capsys, "--hls-project", str(root / "prj"))
    for key in (*FIGURES, "intervals", "layers"):
        assert after[key] == before[key], key


@pytest.mark.slow
def test_overrides_change_the_target(tmp_path, capsys) -> None:
    root = _write(tmp_path, "mlp", _mlp(), "io_parallel")
    base = _estimate(capsys, "--hls-project", str(root / "prj"))
    slow = _estimate(capsys, "--hls-project", str(root / "prj"), "--clock-period", "10", "--part", "xc7z020clg400-1",
                     "--backend", "vivado", "--tool-version", "2019.2")
    assert slow["target"] == {"part": "xc7z020clg400-1", "clock_period_ns": 10.0, "backend": "vivado",
                              "tool_version": "2019.2"}
    assert base["target"]["clock_period_ns"] == 5.0 and slow["tool_family"] == "vivado_hls"


@pytest.mark.slow
def test_accelerator_backend_project_estimates_as_its_base_backend(tmp_path, capsys) -> None:
    """hls4ml's VivadoAccelerator writes the same HLS core as Vivado (plus an AXI wrapper and board files): its
    project, on the board's part, gives the Vivado project's figures; the same project on a part the table lacks
    (an RFSoC xczu42dr) is estimated as a Zynq UltraScale+ device, without percentages of the part."""
    import hls4ml

    model = _mlp()
    projects = {}
    for backend, extra in (("VivadoAccelerator", {"board": "pynq-z2"}), ("Vivado", {"part": "xc7z020clg400-1"})):
        hls = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)
        prj = tmp_path / backend
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=hls, output_dir=str(prj), backend=backend, clock_period=5, io_type="io_parallel",
            **extra)
        hls_model.write()
        capsys.readouterr()  # hls4ml's own progress lines
        projects[backend] = _estimate(capsys, "--hls-project", str(prj))
    acc, base = projects["VivadoAccelerator"], projects["Vivado"]
    assert "Backend: VivadoAccelerator" in (tmp_path / "VivadoAccelerator" / "hls4ml_config.yml").read_text()
    assert acc["target"] == base["target"] == {"part": "xc7z020clg400-1", "clock_period_ns": 5.0, "backend": "vivado",
                                               "tool_version": None}
    _same_figures(acc, base)
    assert acc["percent_of_part"] == base["percent_of_part"] and acc["percent_of_part"]["dsp"] > 0
    rfsoc = _estimate(capsys, "--hls-project", str(tmp_path / "VivadoAccelerator"), "--part", "xczu42dr-ffve1156-2-e")
    zu9 = _estimate(capsys, "--hls-project", str(tmp_path / "VivadoAccelerator"), "--part", "xczu9eg-ffvb1156-2-e")
    _same_figures(rfsoc, zu9)
    assert rfsoc["percent_of_part"] == {} and zu9["percent_of_part"]
    assert any("costed as a zynquplus device" in n for n in rfsoc["notes"])
