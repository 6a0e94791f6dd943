"""A short real study on Ray (real training, real hls4ml conversion, real SQLite storage), and resume
after the driver is killed with SIGKILL mid-study.

The in-process runs (``main``) join one Ray started for the module (``module_ray`` in conftest.py); the
runs in a subprocess (SIGKILL, Ctrl-C, second writer) start and stop their own, as the CLI does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest

from dse.commands.cli import main
from dse.store import STUDY_NAME, RunFolder

pytestmark = pytest.mark.slow


def load_study(run_dir: Path) -> optuna.Study:
    folder = RunFolder.open(run_dir)
    return optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())


def peek_study(run_dir: Path) -> optuna.Study | None:
    """The study as a reader sees it while a driver runs (read-only, no table creation), or None."""
    from dse.analysis import open_study_readonly

    try:
        return open_study_readonly(RunFolder.open(run_dir))
    except Exception:  # no meta.json yet
        return None


def trained_params(study: optuna.Study) -> list[str]:
    from dse.search import counts_toward_budget

    return [json.dumps(t.params, sort_keys=True) for t in study.trials if counts_toward_budget(t)]


@pytest.mark.usefixtures("module_ray")
def test_short_study_on_ray_writes_the_run_folder(tiny_space_file, tmp_path: Path, capsys) -> None:
    space = tiny_space_file()
    run_dir = tmp_path / "run"
    code = main(["run", str(space), "--run-dir", str(run_dir), "--n-trials", "4", "--workers", "2", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Pareto front" in out

    for name in ("meta.json", "space.yaml", "space.source.yaml", "versions.json", "study.db", "trials.csv",
                 "dse.log"):
        assert (run_dir / name).is_file(), name
    versions = json.loads((run_dir / "versions.json").read_text())
    assert versions["tensorflow"].startswith("2.15") and versions["hls4ml"].startswith("1.3")

    study = load_study(run_dir)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4
    nodes = {t.user_attrs["node"] for t in complete}
    assert nodes  # ran in Ray worker processes
    for t in complete:
        tdir = run_dir / "trials" / f"{t.number:05d}"
        for name in ("params.json", "metrics.json", "estimate.json", "layers.json", "hls_config.json", "model.h5"):
            assert (tdir / name).is_file(), (t.number, name)
        est = json.loads((tdir / "estimate.json").read_text())
        assert t.values[1] == pytest.approx(est["dsp"])  # objectives: accuracy, dsp, lut
        assert t.values[2] == pytest.approx(est["lut"])
        assert 0.0 < t.values[0] <= 1.0
        layers = json.loads((tdir / "layers.json").read_text())
        assert [layer["name"] for layer in layers if layer["kind"] == "dense"] == ["fc0", "out"]

    table = pd.read_csv(run_dir / "trials.csv")
    assert sorted(table["number"]) == [t.number for t in study.trials]
    assert (table["state"] == "COMPLETE").sum() == 4
    assert table["val_accuracy"].notna().all() and table["dsp"].notna().all()


def _run_cmd(space: Path, run_dir: Path, n_trials: int) -> list[str]:
    return [sys.executable, "-m", "dse.commands.cli", "run", str(space), "--run-dir", str(run_dir), "--n-trials",
            str(n_trials), "--workers", "1", "--no-progress"]


def kill_when(proc: subprocess.Popen, ready: Any, timeout: float = 300) -> Any:
    """Poll (as a reader would) until ``ready(run)`` returns something, then SIGKILL the driver's group."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        if proc.poll() is not None:
            assert proc.stderr is not None
            pytest.fail(f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        found = ready()
        if found:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return found
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the awaited state never came")


def test_resume_after_sigkill_loses_and_duplicates_nothing(tiny_space_file, tmp_path: Path) -> None:
    space = tiny_space_file(training__epochs=3)
    run_dir = tmp_path / "run"
    n_trials = 5
    proc = subprocess.Popen(_run_cmd(space, run_dir, n_trials), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def two_done_one_running() -> dict[int, tuple[float, ...]] | None:
        study = peek_study(run_dir)
        if study is None:
            return None
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        running = [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
        return {t.number: tuple(t.values) for t in done} if len(done) >= 2 and running else None

    finished_before = kill_when(proc, two_done_one_running)
    assert any(t.state == optuna.trial.TrialState.RUNNING for t in load_study(run_dir).trials)  # left by the kill

    # resume with the same command
    res = subprocess.run(_run_cmd(space, run_dir, n_trials), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]

    study = load_study(run_dir)
    by_state: dict[str, list[optuna.trial.FrozenTrial]] = {}
    for t in study.trials:
        by_state.setdefault(t.state.name, []).append(t)
    assert "RUNNING" not in by_state and "WAITING" not in by_state
    keys = trained_params(study)
    assert len(keys) == n_trials and len(set(keys)) == n_trials  # none lost, none trained twice
    # the trials finished before the kill are kept with the same values
    for number, values in finished_before.items():
        assert tuple(study.trials[number].values) == values
    # killed trials are marked failed-interrupted; those whose design was complete were redone, once
    interrupted = [t for t in by_state.get("FAIL", []) if t.user_attrs.get("interrupted")]
    for t in interrupted:
        retries = [c for c in study.trials if c.user_attrs.get("retry_of") == t.number]
        if "candidate" in t.user_attrs:  # fully proposed: its design is redone
            assert len(retries) == 1 and retries[0].params == t.params
        else:  # killed between ask and the last suggest: nothing to redo
            assert not retries
    table = pd.read_csv(run_dir / "trials.csv")
    assert sorted(table["number"]) == [t.number for t in study.trials]


def test_second_writer_exits_2_and_the_first_finishes(tiny_space_file, tmp_path: Path) -> None:
    space = tiny_space_file(training__epochs=3)
    run_dir = tmp_path / "run"
    first = subprocess.Popen(_run_cmd(space, run_dir, 3), start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (run_dir / "meta.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    second = subprocess.run(_run_cmd(space, run_dir, 6), capture_output=True, text=True, timeout=300)
    assert second.returncode == 2, second.stderr[-2000:]
    assert f"PID {first.pid}" in second.stderr and "Traceback" not in second.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    study = load_study(run_dir)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    assert len(set(trained_params(study))) == 3


@pytest.mark.usefixtures("module_ray")
def test_rerun_of_a_finished_study_adds_nothing(tiny_space_file, tmp_path: Path) -> None:
    space = tiny_space_file()
    run_dir = tmp_path / "run"
    argv = ["run", str(space), "--run-dir", str(run_dir), "--n-trials", "2", "--workers", "1", "--no-progress"]
    assert main(argv) == 0
    n = len(load_study(run_dir).trials)
    assert main(argv) == 0
    assert len(load_study(run_dir).trials) == n
    # more trials asked: the study goes on from where it was
    argv[argv.index("--n-trials") + 1] = "3"
    assert main(argv) == 0
    assert len(trained_params(load_study(run_dir))) == 3


@pytest.mark.usefixtures("module_ray")
def test_resume_with_a_different_space_is_refused(tiny_space_file, tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    assert main(["run", str(tiny_space_file()), "--run-dir", str(run_dir), "--n-trials", "1", "--workers", "1",
                 "--no-progress"]) == 0
    before = sorted(p.name for p in run_dir.iterdir())
    changed = tiny_space_file(model__width=[32, 64])
    assert main(["run", str(changed), "--run-dir", str(run_dir), "--no-progress"]) == 2
    assert "different search space" in capsys.readouterr().err
    assert sorted(p.name for p in run_dir.iterdir()) == before


@pytest.mark.usefixtures("module_ray")
def test_pruner_prunes_in_a_multi_objective_study(tiny_space_file, tmp_path: Path) -> None:
    space = tiny_space_file(training__pruner="median", training__epochs=6, model__width=[2, 16],
                            quantization__weight_bits=[2, 8])
    run_dir = tmp_path / "run"
    assert main(["run", str(space), "--run-dir", str(run_dir), "--n-trials", "10", "--workers", "2",
                 "--no-progress"]) == 0
    twins = optuna.load_study(study_name=f"{STUDY_NAME}-pruning", storage=RunFolder.open(run_dir).storage_url())
    reported = [t for t in twins.trials if t.intermediate_values]
    assert len(reported) >= 8  # every trial reported its epochs to the pruning study
    main_study = load_study(run_dir)
    assert len(trained_params(main_study)) == 10


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tiny_space_file, tmp_path: Path) -> None:
    space = tiny_space_file(training__epochs=4)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(_run_cmd(space, run_dir, 6), start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        time.sleep(0.5)
        assert proc.poll() is None, proc.stderr.read()[-2000:] if proc.stderr else ""
        study = peek_study(run_dir)
        if study is None:
            continue
        states = [t.state.name for t in study.trials]
        if "COMPLETE" in states and "RUNNING" in states:
            break
    else:
        pytest.fail("no trial finished in time")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Resume with: dse run" in err and "Traceback" not in err
    study = load_study(run_dir)
    states = [t.state.name for t in study.trials]
    assert "RUNNING" not in states
    assert any(t.user_attrs.get("interrupted") for t in study.trials)
    res = subprocess.run(_run_cmd(space, run_dir, 6), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(trained_params(load_study(run_dir))) == 6
