"""``dse estimate`` on a model file + hls4ml_config.yml, and ``dse calibrate --reports``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from dse.commands.cli import main
from dse.design.candidate import Candidate
from dse.space import parse_space_text
from tests.helpers import SHARED_REPORTS, tiny_space_dict

CAND = Candidate.mlp(widths=(32,), weight_bits=(16, 16), bias_bits=(16, 16), activation_bits=(10,), sparsity=(0, 0),
                     reuse_factor=(1, 1), strategy="latency", learning_rate=0.01)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    from dse.training.model_builder import build_model

    root = tmp_path_factory.mktemp("est")
    space = parse_space_text(yaml.safe_dump(tiny_space_dict()))
    model = build_model(CAND, space, input_shape=16, n_classes=5)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.get_weights():
            w, b = layer.get_weights()
            layer.set_weights([rng.uniform(-0.9, 0.9, w.shape), b])
    model.save(root / "dense.h5")
    w, b = model.get_layer("fc0").get_weights()
    w[: w.shape[0] // 2] = 0.0  # half the first layer's weights are zero
    model.get_layer("fc0").set_weights([w, b])
    model.save(root / "sparse.h5")
    cfg = {"Backend": "Vitis", "Part": "xcvu9p-flga2104-2L-e", "ClockPeriod": 5, "IOType": "io_parallel",
           "HLSConfig": CAND.to_hls_config(space)}
    (root / "hls4ml_config.yml").write_text(yaml.safe_dump(cfg))
    return root


def run_estimate(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(["estimate", *argv])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err


@pytest.mark.slow
def test_estimate_prints_json_and_sees_the_zeros(model_files, capsys) -> None:
    cfg = str(model_files / "hls4ml_config.yml")
    code, dense, _ = run_estimate(capsys, "--model", str(model_files / "dense.h5"), "--hls-config", cfg)
    assert code == 0 and dense is not None
    for key in ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "latency_ns", "ii"):
        assert isinstance(dense[key], (int, float)), key
    assert dense["intervals"]["dsp"][0] <= dense["dsp"] <= dense["intervals"]["dsp"][1]
    assert [row["name"] for row in dense["layers"] if row["kind"] == "dense"] == ["fc0", "out"]
    code, sparse, _ = run_estimate(capsys, "--model", str(model_files / "sparse.h5"), "--hls-config", cfg)
    assert code == 0 and sparse is not None
    assert sparse["dsp"] < dense["dsp"] and sparse["lut"] <= dense["lut"]


@pytest.mark.slow
def test_estimate_honours_per_layer_reuse_factor(model_files, capsys, tmp_path) -> None:
    cfg = yaml.safe_load((model_files / "hls4ml_config.yml").read_text())
    cfg["HLSConfig"]["LayerName"]["fc0"]["ReuseFactor"] = 4
    path = tmp_path / "rf4.yml"
    path.write_text(yaml.safe_dump(cfg))
    code, out, _ = run_estimate(capsys, "--model", str(model_files / "dense.h5"), "--hls-config", str(path))
    assert code == 0 and out is not None
    fc0 = next(r for r in out["layers"] if r["name"] == "fc0")
    assert fc0["reuse_factor"] == 4


@pytest.mark.parametrize("content,words", [
    ("Part: [1\n", "YAML syntax error"),
    ("- a\n", "mapping"),
    ("HLSConfig: {Model: {}}\n", "Part"),
    ("Part: xc9nothing\nHLSConfig: {Model: {}}\n", "unknown FPGA part"),
    ("Part: xcvu9p\nBackend: Quartus\nHLSConfig: {Model: {}}\n", "Vitis or Vivado"),
    ("Part: xcvu9p\nClockPeriod: fast\nHLSConfig: {Model: {}}\n", "ClockPeriod"),
])
def test_bad_config_exit_2(tmp_path, capsys, content, words) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text(content)
    model = tmp_path / "m.h5"
    model.write_bytes(b"not a model")
    code, _, err = run_estimate(capsys, "--model", str(model), "--hls-config", str(cfg))
    assert code == 2 and words in err and "Traceback" not in err


@pytest.mark.slow  # loads TensorFlow to read the file
def test_bad_model_file_exit_2(tmp_path, capsys) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text("Part: xcvu9p-flga2104-2L-e\nHLSConfig: {Model: {Precision: fixed<16,6>, ReuseFactor: 1}}\n")
    model = tmp_path / "m.h5"
    model.write_bytes(b"not a model")
    code, _, err = run_estimate(capsys, "--model", str(model), "--hls-config", str(cfg))
    assert code == 2 and "cannot load a Keras model" in err and "Traceback" not in err
    code, _, err = run_estimate(capsys, "--model", str(tmp_path / "missing.h5"), "--hls-config", str(cfg))
    assert code == 2 and "not found" in err


@pytest.mark.slow
def test_calibrate_from_shared_reports(tmp_path, capsys) -> None:
    if not SHARED_REPORTS.is_dir():
        pytest.skip("shared reports absent")
    out = tmp_path / "cal.json"
    assert main(["calibrate", "--reports", str(SHARED_REPORTS), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data  # a real calibration file
    from cost_models import Calibration

    Calibration.load(out)
    assert main(["calibrate", "--reports", str(tmp_path / "nope"), "--out", str(out)]) == 2


@pytest.mark.slow
def test_estimate_uses_the_trained_weights(model_files, capsys, tmp_path) -> None:
    from dse.commands.estimate import load_keras_model

    cfg = str(model_files / "hls4ml_config.yml")
    code, est, _ = run_estimate(capsys, "--model", str(model_files / "dense.h5"), "--hls-config", cfg)
    assert code == 0 and est is not None and est["weights_known"] is True
    # The same architecture with power-of-two weights: no hard constants, so no DSP at all.
    model = load_keras_model(model_files / "dense.h5")
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if layer.get_weights():
            w, b = layer.get_weights()
            layer.set_weights([rng.choice([0.5, -0.25, 0.125], size=w.shape), b])
    model.save(tmp_path / "pow2.h5")
    code, pow2, _ = run_estimate(capsys, "--model", str(tmp_path / "pow2.h5"), "--hls-config", cfg)
    assert code == 0 and pow2 is not None
    def dense_dsp(e: dict) -> float:
        return sum(row["dsp"] for row in e["layers"] if row["kind"] == "dense")

    assert dense_dsp(pow2) == 0 < dense_dsp(est)  # (the softmax keeps its own multipliers)


@pytest.mark.slow
def test_weight_summary_same_from_model_and_from_written_project(model_files, tmp_path) -> None:
    import dataclasses

    import hls4ml

    from cost_models.hls_project import attach_weight_stats
    from dse.commands.estimate import load_keras_model, read_hls_config
    from dse.design.hls4ml_adapter import layer_specs_from_graph as layer_specs

    cfg = read_hls_config(model_files / "hls4ml_config.yml")
    model = load_keras_model(model_files / "sparse.h5")
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg["hls"], output_dir=str(tmp_path / "prj"), backend="Vitis", part=cfg["part"])
    hls_model.write()
    from_model = [s for s in layer_specs(hls_model) if s.kind == "dense"]
    index = {layer.name: layer.index for layer in hls_model.get_layers()}
    # the same layers, named like the project's config structs, read back from firmware/weights/wN.txt
    bare = [dataclasses.replace(s, name=f"config{index[s.name]}", weights=None) for s in from_model]
    from_files = attach_weight_stats(bare, tmp_path / "prj" / "firmware" / "weights")
    assert all(s.weights is not None for s in from_model)
    assert [s.weights for s in from_files] == [s.weights for s in from_model]
