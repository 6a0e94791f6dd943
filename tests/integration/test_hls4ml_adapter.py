"""The hls4ml adapter: backend names, model loading errors, and the proof that the estimate,
the synthesized project and the export convert the same design (same hls4ml call, same
resolved configuration, same layers)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dse.commands.cli import main
from dse.design.hls4ml_adapter import (
    Hls4mlTarget,
    dse_backend_name,
    hls4ml_backend_name,
    load_keras_model,
)
from dse.errors import ConfigError


def test_backend_names_round_trip() -> None:
    assert hls4ml_backend_name("vitis") == "Vitis" and hls4ml_backend_name("Vivado") == "Vivado"
    assert dse_backend_name("Vitis") == "vitis"
    with pytest.raises(ConfigError, match="unknown hls4ml backend 'vits'"):
        hls4ml_backend_name("vits")


def test_config_document_round_trip() -> None:
    target = Hls4mlTarget("vivado", "xcvu9p-flga2104-2L-e", 3.3, "io_parallel")
    doc = target.config_document({"Model": {"Precision": "fixed<16,6>"}})
    assert doc["Backend"] == "Vivado" and doc["ClockPeriod"] == 3.3
    assert Hls4mlTarget.of_config_document(doc) == target


def test_load_keras_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model file not found"):
        load_keras_model(tmp_path / "missing.h5")


@pytest.mark.slow
def test_estimate_project_and_export_convert_the_same_design(tmp_path: Path, tiny_space_dict, monkeypatch) -> None:
    import hls4ml

    from cost_models.layers import layers_from_dicts
    from dse.commands.export import export_trial
    from dse.design.hls4ml_adapter import layer_specs_from_graph, layers_from_keras
    from dse.store import RunFolder
    from dse.store.atomic import read_json
    from dse.synthesis.loop import make_job
    from dse.synthesis.project import write_hls4ml_project
    from dse.training.trial_runner import space_target

    space_file = tmp_path / "space.yaml"
    d = tiny_space_dict(search__workers=1)
    d["hardware"]["strategy"] = "resource"  # hls4ml snaps ReuseFactors: every path must agree
    d["hardware"]["reuse_factor"] = [3, 5]
    space_file.write_text(yaml.safe_dump(d))
    run_dir = tmp_path / "run"
    assert main(["run", str(space_file), "--run-dir", str(run_dir), "--n-trials", "1", "--no-progress"]) == 0

    seen: list[tuple[dict, object]] = []
    real = hls4ml.converters.convert_from_keras_model

    def spy(model, **kwargs):
        graph = real(model, **kwargs)
        seen.append((kwargs, graph))
        return graph

    monkeypatch.setattr(hls4ml.converters, "convert_from_keras_model", spy)
    folder = RunFolder.open(run_dir)
    space = folder.load_space()
    tdir = folder.trial_dir(0)
    # 1. the estimate, as the trial runner makes it (its result is also stored in layers.json)
    model = load_keras_model(tdir / "model.h5")
    estimated = layers_from_keras(model, read_json(tdir / "hls_config.json"), space_target(space),
                                  space.hardware.io_type)
    # 2. the synthesized project
    job = make_job(folder, space, 0, job_root=tmp_path / "jobs")
    write_hls4ml_project(job, hls4ml_backend_name(job.backend))
    # 3. the export
    export_trial(run_dir, 0, tmp_path / "export")
    assert len(seen) == 3

    calls = [{k: v for k, v in kwargs.items() if k != "output_dir"} for kwargs, _ in seen]
    assert calls[0] == calls[1] == calls[2]
    assert calls[0]["backend"] == "Vitis" and calls[0]["io_type"] == "io_parallel"

    def resolved(graph) -> dict:
        cfg = dict(graph.config.config)
        for k in ("OutputDir", "ProjectName", "Stamp", "KerasModel"):  # paths, and the loaded model object
            cfg.pop(k, None)
        return cfg

    configs = [resolved(graph) for _, graph in seen]
    assert configs[0] == configs[1] == configs[2]
    specs = [layer_specs_from_graph(graph, "io_parallel") for _, graph in seen]
    assert specs[0] == specs[1] == specs[2] == estimated
    assert layers_from_dicts(read_json(tdir / "layers.json")) == estimated  # what the search estimated
    assert {s.strategy for s in estimated if s.kind == "dense"} == {"resource"}
