"""A real CNN through everything after the design: digits as 8x8x1 images, a QKeras CNN trained in process
(no Ray), its pre-training estimate against the trained one, the report's per-layer table, and the export of
a ready hls4ml project with image-shaped test-bench data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dse.analysis.report import write_report
from dse.analysis.run import load_run
from dse.commands.export import export_trial
from dse.design.candidate import Candidate
from dse.search import InProcessExecutor
from dse.search.driver import run_search
from dse.space import load_space
from dse.training.data import load_dataset
from dse.training.testbench import INPUT_FILE, read_dat
from dse.training.trial_runner import execute_trial
from tests.helpers import tiny_space_dict

pytestmark = pytest.mark.slow  # TensorFlow, QKeras and hls4ml


def cnn_space_file(tmp_path: Path) -> Path:
    d = tiny_space_dict()
    d["name"] = "tiny_cnn"
    d["data"]["shape"] = [8, 8, 1]
    d["model"] = {"type": "cnn", "hidden_layers": 0,
                  "conv": {"blocks": 1, "filters": [2, 4], "kernel_size": 3, "pooling": "max", "pool_size": 2,
                           "head": "flatten"}}
    d["quantization"]["weight_bits"] = [4, 6]
    d["hardware"]["reuse_factor"] = 1
    d["search"].update(n_trials=2, workers=1, proposals=2)
    d["constraints"] = ["lut <= 200000", "latency_ns <= 1000"]
    path = tmp_path / "cnn.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def test_a_trained_cnn_is_screened_reported_per_layer_and_exported(tmp_path: Path) -> None:
    from dse.training.train import configure_tensorflow

    configure_tensorflow(1)  # a no-op where an earlier test already started TensorFlow
    path = cnn_space_file(tmp_path)
    space = load_space(path)
    data = load_dataset(space.data)
    assert data.input_shape == (8, 8, 1)
    run_dir = tmp_path / "run"
    run_search(space, run_dir, source_text=path.read_text(), n_trials=2, workers=1, data=data,
               executor=InProcessExecutor(execute_trial))
    run = load_run(run_dir)
    done = run.trials[run.trials["state"] == "COMPLETE"]
    assert len(done) == 2, run.trials[["number", "state", "error"]]
    study = run.study
    assert study is not None
    for t in (t for t in study.trials if t.state.name == "COMPLETE"):
        cand = Candidate.from_dict(t.user_attrs["candidate"])
        assert cand.architecture == "cnn" and cand.short().startswith(f"c{cand.values('filters')[0]}k3-p2 | ")
        pre, post = t.user_attrs["pre_estimate"], t.user_attrs["estimate"]
        # the pre-training layer list is what hls4ml converts: latency and II do not move with training
        assert pre["latency_cycles"] == pytest.approx(post["latency_cycles"], rel=1e-6)
        assert pre["ii"] == pytest.approx(post["ii"], rel=1e-6)
        table = run.layer_table(t.number)
        assert {"conv0", "pool0", "out"} <= set(table["layer"])
        conv = table[table["layer"] == "conv0"].iloc[0]
        assert conv["kind"] == "conv2d" and conv["shape"] == f"3x3x1->{cand.values('filters')[0]} @36px"
        assert conv["multipliers"] > 0
    result = write_report(run_dir, html_report=False)
    assert "Where the cost goes, per layer" in result.files["report.md"].read_text()
    assert "conv0" in (run_dir / "front_layers.csv").read_text()
    best = int(run.pareto()["number"].iloc[0])
    out = tmp_path / "export"
    exported = export_trial(run_dir, best, out)
    assert "hls4ml_prj/" in exported.files and (out / "hls4ml_prj" / "firmware").is_dir()
    doc = yaml.safe_load((out / "hls4ml_config.yml").read_text())
    assert doc["IOType"] == "io_parallel" and "conv0" in doc["HLSConfig"]["LayerName"]
    tb = read_dat(out / "hls4ml_prj" / "tb_data" / INPUT_FILE)
    assert tb.shape[1] == 64  # one 8x8x1 image per line, as hls4ml's test bench reads it
    readme = (out / "README.md").read_text()
    assert "## Where the cost goes" in readme and "| conv0 | conv2d |" in readme
