"""Synthesis with a stand-in vendor tool: backends, failures recorded, selection, the loop on Ray with
recalibration and re-scoring, firmware accuracy, and resume.

The in-process runs (``main(["run", ...])``) join one Ray started for the module (``module_ray`` in
conftest.py), after the module's stand-in tool is on PATH so that its workers find the tool; the
SIGKILL test runs the CLI in a subprocess, which starts and stops its own Ray."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import yaml

from dse.commands.cli import main
from dse.errors import SynthesisError, ToolNotFoundError
from dse.store import RunFolder
from dse.synthesis.base import SynthesisBackend, get_backend, register_backend
from dse.synthesis.selection import Scored, select
from tests.helpers import STANDIN, FakeTool, install_fake_tool, tiny_space_dict

_spec = importlib.util.spec_from_file_location("fake_hls", STANDIN)
assert _spec is not None and _spec.loader is not None
fake_hls = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_hls)


# --------------------------------------------------------------------------- pure parts


def test_registry_refuses_duplicates_and_unknown_names() -> None:
    assert get_backend("vitis").name == "vitis" and get_backend("vivado").name == "vivado"
    with pytest.raises(SynthesisError, match="unknown synthesis backend"):
        get_backend("quartus")

    class Other(SynthesisBackend):
        name = "vitis"
        executable_names = ("x",)
        hls4ml_backend = "Vitis"

        def command(self, executable, job, project):  # pragma: no cover - never run
            return []

    with pytest.raises(ValueError, match="already registered"):
        register_backend(Other)


def test_missing_tool_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFoundError, match="vitis-run or vitis_hls"):
        get_backend("vitis").find_executable()
    with pytest.raises(ToolNotFoundError, match="vivado_hls"):
        get_backend("vivado").find_executable()


def S(n: int, obj: tuple[float, ...], width: float = 0.0, margin: float = 9.0, feasible: bool = True) -> Scored:
    return Scored(n, obj, width, margin, feasible)


def test_selection_front_first_then_doubt_and_constraints_never_twice() -> None:
    dirs = ["maximize", "minimize"]
    trials = [S(0, (0.9, 100), 0.1), S(1, (0.8, 50), 0.5), S(2, (0.7, 120), 2.0), S(3, (0.6, 200), 0.2, margin=0.01),
              S(4, (0.95, 300), 0.3, feasible=False)]
    assert select(trials, dirs, 2, set()) == [1, 0]  # the feasible front, most uncertain first
    assert select(trials, dirs, 4, set()) == [1, 0, 2, 3]  # then most uncertain, then nearest a budget
    # 0 and 1 done: the front of the rest is 2 (it dominates 3); then, alternating, the most uncertain (4,
    # infeasible by its estimate, which may be wrong) and the one nearest a budget (3)
    assert select(trials, dirs, 3, {1, 0}) == [2, 4, 3]
    assert 1 not in select(trials, dirs, 5, {1})
    assert select(trials, dirs, 0, set()) == [] and select([], dirs, 3, set()) == []


# --------------------------------------------------------------------------- the tool and Ray of the module


@pytest.fixture(scope="module")
def module_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeTool]:
    """The stand-in tool first on PATH for the whole module: put there before the module's Ray starts, it is
    on the PATH of the Ray workers too, where synthesis jobs find their tool."""
    with pytest.MonkeyPatch.context() as mp:
        yield install_fake_tool(tmp_path_factory.mktemp("tool") / "fakebin", mp)


@pytest.fixture
def fake_tool(module_tool: FakeTool) -> FakeTool:
    """The module's stand-in tool (this module's ``fake_tool``), each test starting with mode ok and no call logged."""
    module_tool.set_mode("ok")
    module_tool.calls_log.unlink(missing_ok=True)
    return module_tool


@pytest.fixture(scope="module")
def ray_with_tool(module_tool: FakeTool, module_ray: None) -> None:
    """The module's Ray, started with the stand-in tool on its workers' PATH (fixture order: tool first)."""


# --------------------------------------------------------------------------- with a trained run

SYNTH_SPACE = dict(quantization__weight_bits=[12, 16], quantization__activation_bits=[8, 10], model__width=[8, 16],
                   hardware__reuse_factor=[1, 2])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, ray_with_tool) -> Path:
    root = tmp_path_factory.mktemp("trained")
    space = root / "space.yaml"
    space.write_text(yaml.safe_dump(tiny_space_dict(**SYNTH_SPACE)))
    run_dir = root / "run"
    assert main(["run", str(space), "--run-dir", str(run_dir), "--n-trials", "2", "--workers", "2",
                 "--no-progress"]) == 0
    return run_dir


def job_for(run_dir: Path, tmp_path: Path, backend: str = "vitis", timeout: float = 120.0, trial: int = 0):
    from dse.synthesis.loop import make_job

    folder = RunFolder.open(run_dir)
    space = folder.load_space()
    space = space.model_copy(update={"synthesis": space.synthesis.model_copy(update={"backend": backend,
                                                                                   "timeout_s": timeout})})
    return make_job(folder, space, trial, job_root=tmp_path / "jobs")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["vitis", "vivado"])
def test_job_runs_the_tool_in_the_project_and_parses_its_reports(trained_run, tmp_path, fake_tool, backend) -> None:
    from dse.synthesis.runner import run_job

    job = job_for(trained_run, tmp_path, backend)
    out = run_job(job)
    assert out.status == "ok", out.error
    project = Path(job.job_dir) / "hls4ml_prj"
    truth = fake_hls.figures(fake_hls.read_layers(project))
    assert out.measured["dsp"] == truth["dsp"] > 0
    assert out.measured["lut"] == truth["lut"] and out.measured["ff"] == truth["ff"]
    assert out.measured["latency_cycles"] == truth["latency"] and out.measured["ii"] == truth["ii"]
    assert out.measured["latency_ns"] == pytest.approx(truth["latency"] * 5.0)
    assert out.tool_version == "2023.2" and out.tool == backend
    log = (Path(job.job_dir) / "synthesis.log").read_text()
    assert f"in {project}" in log  # ran in the project folder
    if backend == "vitis":
        opts = (project / "build_opt.tcl").read_text()
        assert "synth      1" in opts and "csim       0" in opts


@pytest.mark.slow
@pytest.mark.parametrize("mode,status", [("fail", "failed"), ("hang", "timeout"), ("noreport", "no_report"),
                                         ("garbage", "bad_report")])
def test_failures_are_recorded_not_raised(trained_run, tmp_path, fake_tool, mode, status) -> None:
    from dse.synthesis.runner import run_job

    fake_tool.set_mode(mode)
    # a tool that hangs is killed at the timeout, which the test waits out: 1 s; the others finish in well under 3 s
    out = run_job(job_for(trained_run, tmp_path, timeout=1.0 if mode == "hang" else 3.0))
    assert out.status == status, out.error
    assert out.error and not out.measured
    if mode == "fail":
        assert "Compilation errors" in out.log_tail
    if mode == "garbage":
        assert "_csynth.xml" in out.error  # names the file


@pytest.mark.slow
def test_transient_failure_is_retried(trained_run, tmp_path, fake_tool) -> None:
    from dse.synthesis.runner import run_job

    fake_tool.set_mode("flaky")
    out = run_job(job_for(trained_run, tmp_path), retries=1)
    assert out.status == "ok" and out.attempts == 2


@pytest.mark.slow
def test_firmware_accuracy_is_real(trained_run, tmp_path, fake_tool) -> None:
    from dse.synthesis.runner import run_job
    from dse.training.data import load_dataset

    folder = RunFolder.open(trained_run)
    data = load_dataset(folder.load_space().data)
    out = run_job(job_for(trained_run, tmp_path), test_data=data)
    assert out.status == "ok" and out.firmware_accuracy is not None, out.firmware_error
    qkeras = json.loads((folder.trial_dir(0) / "metrics.json").read_text())["test_accuracy"]
    assert abs(out.firmware_accuracy - qkeras) <= 0.05  # bit-accurate fixed point vs QKeras


@pytest.mark.slow
def test_cli_synth_one_trial(trained_run, tmp_path, fake_tool, capsys) -> None:
    run = tmp_path / "copy"
    shutil.copytree(trained_run, run)
    assert main(["synth", str(run), "--trial", "1", "--no-firmware"]) == 0
    rec = json.loads((run / "synthesis" / "records" / "00001.json").read_text())
    assert rec["status"] == "ok" and rec["measured"]["lut"] > 0 and rec["estimate_before"]["lut"] > 0
    assert main(["synth", str(run), "--trial", "1"]) == 2
    assert "already synthesized" in capsys.readouterr().err
    assert main(["synth", str(run), "--trial", "99"]) == 2
    assert main(["calibrate", str(run)]) == 0
    assert (run / "calibration.json").exists()


# --------------------------------------------------------------------------- the loop


def synth_space(tmp_path: Path, **extra: object) -> Path:
    d = tiny_space_dict(**SYNTH_SPACE)
    d["synthesis"] = {"backend": "vitis", "every": 2, "batch": 2, "timeout": 120, "concurrency": 2,
                      "firmware_accuracy": False, **extra}
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(d))
    return path


def rel_err(pred: float, true: float) -> float:
    return abs(pred - true) / max(true, 1.0)


@pytest.mark.slow
@pytest.mark.usefixtures("ray_with_tool")
def test_loop_selects_synthesizes_recalibrates_and_rescores(tmp_path, fake_tool) -> None:
    space = synth_space(tmp_path)
    run_dir = tmp_path / "run"
    argv = ["run", str(space), "--run-dir", str(run_dir), "--n-trials", "6", "--workers", "2", "--no-progress"]
    assert main(argv) == 0
    folder = RunFolder.open(run_dir)
    records = [json.loads(p.read_text()) for p in sorted((run_dir / "synthesis" / "records").glob("*.json"))]
    ok = [r for r in records if r["status"] == "ok"]
    assert len(ok) >= 4 and len({r["trial"] for r in records}) == len(records)  # never twice
    assert (run_dir / "calibration.json").exists()
    assert folder.study_name.startswith("dse-c")  # re-scored into a fresh study version
    study = optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())
    from dse.search import counts_toward_budget

    assert sum(counts_toward_budget(t) for t in study.trials) == 6
    by_number = {t.number: t for t in study.trials}
    for r in ok:  # measured figures replace estimates in the objectives
        t = by_number[r["trial"]]
        assert t.values[1] == pytest.approx(r["measured"]["dsp"]) and t.values[2] == pytest.approx(r["measured"]["lut"])
        assert t.user_attrs["measured"]["lut"] == r["measured"]["lut"]
    # the calibrated estimates are measurably closer to the tool's figures
    for metric in ("lut", "ff", "latency_cycles"):
        before = sum(rel_err(r["estimate_before"][metric], r["measured"][metric]) for r in ok) / len(ok)
        after = sum(rel_err(r["estimate_after"][metric], r["measured"][metric]) for r in ok) / len(ok)
        assert after < before, (metric, before, after)
    # the old study versions are kept; the trials table is of the current one
    names = optuna.get_all_study_names(folder.storage_url())
    assert "dse" in names and folder.study_name in names

    # resume with more trials: finished records are never redone
    before_records = {p.name: p.read_text() for p in (run_dir / "synthesis" / "records").glob("*.json")}
    argv[argv.index("--n-trials") + 1] = "8"
    assert main(argv) == 0
    after_records = {p.name: p.read_text() for p in (run_dir / "synthesis" / "records").glob("*.json")}
    for name, text in before_records.items():
        assert json.loads(after_records[name])["measured"] == json.loads(text)["measured"]
    study = optuna.load_study(study_name=RunFolder.open(run_dir).study_name, storage=folder.storage_url())
    assert sum(counts_toward_budget(t) for t in study.trials) == 8


@pytest.mark.slow
@pytest.mark.usefixtures("ray_with_tool")
def test_loop_goes_on_when_every_job_fails(tmp_path, fake_tool) -> None:
    fake_tool.set_mode("fail")
    run_dir = tmp_path / "run"
    assert main(["run", str(synth_space(tmp_path)), "--run-dir", str(run_dir), "--n-trials", "4", "--workers", "2",
                 "--no-progress"]) == 0
    records = [json.loads(p.read_text()) for p in (run_dir / "synthesis" / "records").glob("*.json")]
    assert records and all(r["status"] == "failed" for r in records)
    assert all("Compilation errors" in (run_dir / "synthesis" / "logs" / f"{r['trial']:05d}.log").read_text()
               for r in records)
    assert not (run_dir / "calibration.json").exists()
    folder = RunFolder.open(run_dir)
    study = optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())
    from dse.search import counts_toward_budget

    assert sum(counts_toward_budget(t) for t in study.trials) == 4


def test_run_with_missing_tool_fails_at_start(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(Path(shutil.which("python3") or "/usr/bin/python3").parent))
    run_dir = tmp_path / "run"
    assert main(["run", str(synth_space(tmp_path)), "--run-dir", str(run_dir), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "vitis-run" in err and "Traceback" not in err
    assert not run_dir.exists()


@pytest.mark.slow
def test_resume_after_sigkill_mid_synthesis_synthesizes_nothing_twice(tmp_path, fake_tool) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from dse.search import counts_toward_budget

    fake_tool.set_mode("slow")  # each job takes a few seconds: the kill lands while one runs
    space = synth_space(tmp_path, concurrency=1)
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "dse.commands.cli", "run", str(space), "--run-dir", str(run_dir), "--n-trials", "6",
           "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        runs = fake_tool.calls_log.read_text().splitlines() if fake_tool.calls_log.exists() else []
        records = list((run_dir / "synthesis" / "records").glob("*.json"))
        if runs and len(runs) > len(records):  # a job is running, its record not yet written
            break
    else:
        pytest.fail("no synthesis job started in time")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    before = {p.name: p.read_text() for p in (run_dir / "synthesis" / "records").glob("*.json")}
    fake_tool.set_mode("ok")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    records = {p.name: json.loads(p.read_text()) for p in (run_dir / "synthesis" / "records").glob("*.json")}
    for name, text in before.items():  # records written before the kill are kept as they were
        assert records[name] == json.loads(text) or records[name]["measured"] == json.loads(text)["measured"]
    tool_runs = [p.parent.name for p in map(Path, fake_tool.calls_log.read_text().splitlines())]
    for name in before:  # synthesized before the kill: never run again
        assert tool_runs.count(name.removesuffix(".json")) == 1, (name, tool_runs)
    for name in records:  # the job killed mid-run is run once more; nothing runs a third time
        assert 1 <= tool_runs.count(name.removesuffix(".json")) <= 2, (name, tool_runs)
    assert len(tool_runs) <= len(records) + 1
    folder = RunFolder.open(run_dir)
    study = optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())
    trained = [json.dumps(t.params, sort_keys=True) for t in study.trials if counts_toward_budget(t)]
    assert len(trained) == 6 and len(set(trained)) == 6
    params = [json.dumps(study.trials[int(r["trial"])].params, sort_keys=True) for r in records.values()]
    assert len(set(params)) == len(params)  # no design synthesized under two trial numbers
