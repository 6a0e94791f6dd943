"""The search core in seconds: the real driver, searcher, scorer, run folder and Optuna SQLite storage,
with the in-process executor and a fake trainer/synthesizer (no TensorFlow, no Ray).

Crashes are simulated with a BaseException raised at a chosen point of the loop: nothing in dse
catches it, so the run folder and the study are left as a kill -9 at that point would leave them
(the lock is released as the kernel would release it)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest
import yaml

from dse.commands.cli import main
from dse.errors import ConfigError
from dse.scoring import score
from dse.search import Driver, Searcher, counts_toward_budget, derive_seed, run_search
from dse.space import load_space
from dse.space.schema import DataConfig
from dse.store import RunFolder, RunLock, RunLockedError, atomic_write_text, read_lock_holder, validate_run_name
from tests.search_fakes import Crash, FakeSynthesizer, FakeTrainer, fake_executor, space_file

SYNTH = {"backend": "vitis", "every": 2, "batch": 2, "timeout": 60, "concurrency": 1, "firmware_accuracy": False}


def search(space_path: Path, run_dir: Path, n_trials: int, trainer: FakeTrainer | None = None,
           synth: FakeSynthesizer | None = None, workers: int = 2, **kw: Any) -> Any:
    return run_search(load_space(space_path), run_dir, source_text=space_path.read_text(), n_trials=n_trials,
                      workers=workers, data="fake data", executor=fake_executor(trainer, synth), **kw)


def study_of(run_dir: Path) -> optuna.Study:
    folder = RunFolder.open(run_dir)
    return optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())


def trained(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if counts_toward_budget(t)]


def assert_sound(run_dir: Path, n_trials: int, trainer: FakeTrainer) -> optuna.Study:
    """No design trained twice, none lost, none left running, trials.csv of the final study."""
    study = study_of(run_dir)
    assert all(n == 1 for n in trainer.calls.values()), trainer.calls
    assert {t.state.name for t in study.trials} <= {"COMPLETE", "FAIL", "PRUNED"}
    done = trained(study)
    assert len(done) == n_trials
    keys = [json.dumps(t.params, sort_keys=True) for t in done]
    assert len(set(keys)) == len(keys)  # no repeated params among trained trials
    for t in done:
        if t.state.name == "COMPLETE":
            assert (run_dir / "trials" / f"{t.number:05d}" / "record.json").is_file()
    table = pd.read_csv(run_dir / "trials.csv")
    assert sorted(table["number"]) == [t.number for t in study.trials]
    return study


# --------------------------------------------------------------------------- resume continues


@pytest.mark.slow
def test_more_trials_later_continue_the_search_without_repeating(tmp: Path) -> None:
    space = space_file(tmp)
    trainer = FakeTrainer()
    first = search(space, tmp / "run", 3, trainer)
    assert first.n_complete == 3 and not first.resumed
    before = {t.number: t.params for t in study_of(tmp / "run").trials}
    second = search(space, tmp / "run", 6, trainer)
    assert second.resumed and second.n_complete == 6
    study = assert_sound(tmp / "run", 6, trainer)
    for number, params in before.items():
        assert study.trials[number].params == params
    later = [t.params for t in trained(study) if t.number >= 3]
    assert all(p not in before.values() for p in later)
    assert sum(trainer.calls.values()) == 6


def test_sampler_seed_changes_on_resume_and_is_the_seed_for_a_fresh_run() -> None:
    assert derive_seed(7, 0, 0) == 7
    seeds = {derive_seed(7, v, n) for v in range(3) for n in range(5)}
    assert len(seeds) == 15


@pytest.mark.slow
@pytest.mark.parametrize("point", ["training", "before_tell", "after_tell", "csv"])
def test_resume_after_a_crash_in_the_trial_loop(tmp: Path, monkeypatch, point: str) -> None:
    space = space_file(tmp)
    n = 6
    trainer = FakeTrainer(crash_on_call=4 if point == "training" else None)
    real = {"before_tell": (Searcher, "tell_record"), "after_tell": (Driver, "after_trial"),
            "csv": (Driver, "write_trials_csv")}.get(point)
    with monkeypatch.context() as m:
        if real is not None:
            cls, name = real
            original = getattr(cls, name)
            calls = {"n": 0}

            def crashing(self: Any, *a: Any, **k: Any) -> Any:
                calls["n"] += 1
                if calls["n"] == 3:
                    if point == "before_tell":
                        raise Crash("killed after record.json, before the tell")
                    original(self, *a, **k)
                    raise Crash(f"killed after {name}")
                return original(self, *a, **k)

            m.setattr(cls, name, crashing)
        with pytest.raises(Crash):
            search(space, tmp / "run", n, trainer)
    trainer.crash_on_call = None
    study = study_of(tmp / "run")
    finished = {t.number: tuple(t.values) for t in study.trials if t.state.name == "COMPLETE"}
    assert any(t.state.name == "RUNNING" for t in study.trials) or point in ("after_tell", "csv")
    assert not RunLock(tmp / "run").acquire().release()  # the dead session's lock is free
    result = search(space, tmp / "run", n, trainer)
    study = assert_sound(tmp / "run", n, trainer)
    assert result.n_complete == n
    for number, values in finished.items():  # nothing finished is lost or changed
        assert tuple(study.trials[number].values) == values
    if point == "before_tell":  # finished from its record, not trained again
        recovered = study.trials[2]
        assert recovered.state.name == "COMPLETE" and "interrupted" not in recovered.user_attrs
    if point == "training":
        interrupted = [t for t in study.trials if t.user_attrs.get("interrupted")]
        assert interrupted
        for t in interrupted:
            retry = [r for r in study.trials if r.user_attrs.get("retry_of") == t.number]
            assert len(retry) == 1 and retry[0].params == t.params and retry[0].state.name == "COMPLETE"


@pytest.mark.slow
def test_ask_killed_before_the_params_were_complete_is_not_retried(tmp: Path, monkeypatch) -> None:
    """The flake of the old SIGKILL test: a trial killed between ask() and its last suggest has partial
    params; it is marked interrupted and not queued again (there is no design to redo)."""
    space = space_file(tmp)
    trainer = FakeTrainer()
    import dse.search.searcher as searcher_mod

    real_suggest = searcher_mod.suggest_candidate
    calls = {"n": 0}

    def suggest(trial: Any, sp: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            trial.suggest_categorical("width_0", [8, 16])
            raise Crash("killed mid-suggest")
        return real_suggest(trial, sp)

    with monkeypatch.context() as m:
        m.setattr(searcher_mod, "suggest_candidate", suggest)
        with pytest.raises(Crash):
            search(space, tmp / "run", 5, trainer)
    search(space, tmp / "run", 5, trainer)
    study = assert_sound(tmp / "run", 5, trainer)
    partial = study.trials[2]
    assert partial.state.name == "FAIL" and partial.user_attrs.get("interrupted")
    assert not any(t.user_attrs.get("retry_of") == 2 for t in study.trials)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["mid_synthesis", "before_rescore", "mid_rescore"])
def test_resume_after_a_crash_in_synthesis_or_rescore(tmp: Path, monkeypatch, fake_tool, point: str) -> None:
    space = space_file(tmp, synthesis=SYNTH)
    n = 6
    trainer, synth = FakeTrainer(), FakeSynthesizer(crash_on_call=2 if point == "mid_synthesis" else None)

    def crash(message: str) -> Any:
        def crashing(self: Any, *a: Any, **k: Any) -> Any:
            raise Crash(message)

        return crashing

    with monkeypatch.context() as m:
        if point == "before_rescore":
            m.setattr(Searcher, "rescore", crash("killed after the refit, before the re-score"))
        if point == "mid_rescore":
            m.setattr(RunFolder, "set_study_name", crash("killed with the new study version written, before "
                                                         "meta.json switched"))
        with pytest.raises(Crash):
            search(space, tmp / "run", n, trainer, synth)
    synth.crash_on_call = None
    folder = RunFolder.open(tmp / "run")
    if point == "mid_rescore":
        assert "dse-c1" in optuna.get_all_study_names(folder.storage_url()) and folder.study_name == "dse"
    result = search(space, tmp / "run", n, trainer, synth)
    study = assert_sound(tmp / "run", n, trainer)
    assert all(c == 1 for c in synth.calls.values()), synth.calls  # never synthesized twice
    records = sorted((tmp / "run" / "synthesis" / "records").glob("*.json"))
    assert len(records) == len(synth.calls) >= 2
    folder = RunFolder.open(tmp / "run")
    assert result.study_name == folder.study_name == study.study_name and study.study_name.startswith("dse-c")
    assert folder.meta["calibrated_records"] == sorted(synth.calls)
    for rec in map(lambda p: json.loads(p.read_text()), records):  # measured figures are in the final study
        t = study.trials[rec["trial"]]
        assert t.user_attrs["measured"]["lut"] == rec["measured"]["lut"]
        assert t.values[2] == pytest.approx(rec["measured"]["lut"]) and rec["estimate_after"]


@pytest.mark.slow
def test_end_of_run_reports_the_final_rescored_study(tmp: Path, fake_tool) -> None:
    space = space_file(tmp, synthesis=SYNTH)
    result = search(space, tmp / "run", 6, FakeTrainer(), FakeSynthesizer())
    folder = RunFolder.open(tmp / "run")
    assert folder.study_name.startswith("dse-c") and result.study_name == folder.study_name
    final = study_of(tmp / "run")
    first = optuna.load_study(study_name="dse", storage=folder.storage_url())
    assert len(first.trials) < len(final.trials)  # the first version stopped at the first re-score
    assert result.n_complete == sum(counts_toward_budget(t) and t.state.name == "COMPLETE" for t in final.trials)
    table = pd.read_csv(tmp / "run" / "trials.csv")
    assert len(table) == len(final.trials)
    synthesized = table[table["measured_lut"].notna()]
    assert len(synthesized) >= 2
    by_number = {r["number"]: r for r in result.pareto}
    for _, row in synthesized.iterrows():
        if row["number"] in by_number:  # the front shows measured figures, not estimates
            assert by_number[row["number"]]["lut"] == pytest.approx(row["measured_lut"])


# --------------------------------------------------------------------------- repeats


def two_design_space(tmp: Path, **extra: Any) -> Path:
    return space_file(tmp, model__width=[8, 16], quantization__weight_bits=4, quantization__activation_bits=6,
                      sparsity__target=0.0, hardware__reuse_factor=1, **extra)


@pytest.mark.slow
def test_repeated_designs_are_not_trained_again(tmp: Path, monkeypatch) -> None:
    import dse.search.searcher as searcher_mod

    monkeypatch.setattr(searcher_mod, "MAX_DUPLICATES_IN_A_ROW", 20)
    trainer = FakeTrainer()
    result = search(two_design_space(tmp), tmp / "run", 5, trainer)
    assert sum(trainer.calls.values()) == 2 == result.n_complete  # the space holds 2 designs
    study = study_of(tmp / "run")
    dups = [t for t in study.trials if "duplicate_of" in t.user_attrs]
    assert dups and result.n_duplicates == len(dups)
    for t in dups:
        original = study.trials[t.user_attrs["duplicate_of"]]
        assert t.params == original.params and "duplicate_of" not in original.user_attrs
        if t.state.name == "COMPLETE":
            assert t.values == original.values and t.constraints == original.constraints
        assert not (tmp / "run" / "trials" / f"{t.number:05d}").exists()
    assert all("duplicate_of" not in r or r["number"] for r in result.pareto)
    assert {r["number"] for r in result.pareto} <= {t.number for t in trained(study)}


def test_a_run_logs_info_to_its_file_and_leaves_the_callers_logging_as_it_was(tmp: Path) -> None:
    import logging

    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)  # e.g. logging.basicConfig(level=logging.WARNING) in a notebook
    try:
        search(space_file(tmp), tmp / "run", n_trials=2)
        assert root.level == logging.WARNING
        assert " INFO dse.search.driver: starting run " in (tmp / "run" / "dse.log").read_text()
    finally:
        root.setLevel(before)


def test_allow_repeats_trains_a_design_again(tmp: Path) -> None:
    trainer = FakeTrainer()
    search(two_design_space(tmp, search__allow_repeats=True), tmp / "run", 5, trainer)
    assert sum(trainer.calls.values()) == 5 and len(trainer.calls) <= 2


# --------------------------------------------------------------------------- scoring


def test_budget_confidence_judges_constraints_by_probability(tmp: Path) -> None:
    space = load_space(space_file(tmp, constraints=["lut <= 1000"]))
    metrics = {"val_accuracy": 0.9, "val_loss": 0.1}
    est = {"dsp": 2, "lut": 900, "ff": 10, "latency_ns": 20, "intervals": {"lut": [600, 1500]}}
    plain = score(space, metrics, est)
    assert plain.feasible and plain.margins == [-100] and plain.constraints == [-100]
    assert 0.5 < plain.probabilities[0] < 0.9

    strict = space.model_copy(update={"search": space.search.model_copy(update={"budget_confidence": 0.9})})
    s = score(strict, metrics, est)
    assert not s.feasible and s.constraints[0] == pytest.approx(0.9 - s.probabilities[0])
    measured = score(strict, metrics, est, measured={"lut": 950})
    assert measured.feasible and measured.probabilities == [1.0]  # a measured figure has no interval


def test_probabilities_are_stored_on_the_trial(tmp: Path) -> None:
    search(space_file(tmp, search__budget_confidence=0.8), tmp / "run", 2, FakeTrainer())
    for t in study_of(tmp / "run").trials:
        probs = t.user_attrs["constraint_probabilities"]
        assert len(probs) == 1 and 0.0 <= probs[0] <= 1.0
        assert t.constraints == {"latency_ns <= 1000": pytest.approx(0.8 - probs[0])}


# --------------------------------------------------------------------------- the lock


def test_second_writer_is_refused_naming_the_holder(tmp: Path, capsys) -> None:
    space = space_file(tmp)
    search(space, tmp / "run", 1, FakeTrainer())
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); from dse.store import RunLock; "
            "RunLock(sys.argv[2]).acquire(); print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(Path(__file__).parents[2]), str(tmp / "run")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=rf"PID {holder.pid} on {socket.gethostname()}, started 20"):
            search(space, tmp / "run", 3, FakeTrainer())
        assert read_lock_holder(tmp / "run")["pid"] == holder.pid  # type: ignore[index]
        # refused before the data set loads: a data file that cannot be read is never opened
        (tmp / "garbage.npz").write_bytes(b"not an npz file")
        unreadable = load_space(space).model_copy(
            update={"data": DataConfig(source="file", path=str(tmp / "garbage.npz"), label="y")})
        with pytest.raises(RunLockedError, match=rf"PID {holder.pid}"):
            run_search(unreadable, tmp / "run", n_trials=3, executor=fake_executor(FakeTrainer(), None))
        assert main(["run", str(space), "--run-dir", str(tmp / "run"), "--no-progress"]) == 2
        assert main(["synth", str(tmp / "run"), "--trial", "0"]) == 2
        assert main(["calibrate", str(tmp / "run")]) == 2
        err = capsys.readouterr().err
        assert err.count(f"PID {holder.pid}") == 3 and "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()
    assert read_lock_holder(tmp / "run") is None  # the kernel dropped the dead holder's lock
    assert len(study_of(tmp / "run").trials) == 1  # the refused writers changed nothing


def test_stale_lock_is_taken_over_with_a_warning(tmp: Path, caplog) -> None:
    space = space_file(tmp)
    search(space, tmp / "run", 1, FakeTrainer())
    (tmp / "run" / ".lock").write_text(json.dumps({"pid": 999999, "host": "gone", "started": "2020-01-01T00:00:00"}))
    with caplog.at_level("WARNING"):
        result = search(space, tmp / "run", 2, FakeTrainer())
    assert result.n_complete == 2
    assert "taking over the lock" in caplog.text and "999999" in caplog.text
    assert (tmp / "run" / ".lock").read_text() == ""  # released cleanly: no holder left behind


def test_readers_need_no_lock(tmp: Path) -> None:
    from dse.analysis import load_run

    space = space_file(tmp)
    search(space, tmp / "run", 2, FakeTrainer())
    with RunLock(tmp / "run"):
        run = load_run(tmp / "run")
        assert len(run.trials) == 2


def test_study_db_appears_complete(tmp: Path, monkeypatch) -> None:
    """Readers may open study.db at any time: it is created elsewhere and moved into place whole."""
    seen: list[set[str]] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith("study.db"):
            con = sqlite3.connect(src)
            seen.append({r[0] for r in con.execute("select name from sqlite_master where type='table'")})
            seen[-1].add(str(con.execute("select count(*) from alembic_version").fetchone()[0]))
            con.close()
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    search(space_file(tmp), tmp / "run", 1, FakeTrainer())
    assert len(seen) == 1 and {"trials", "studies", "alembic_version", "1"} <= seen[0]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "/abs", "a\\b"])
def test_bad_run_names_are_refused(tmp: Path, monkeypatch, capsys, name: str) -> None:
    monkeypatch.chdir(tmp)
    space = space_file(tmp)
    assert main(["run", str(space), "--name", name, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "run name" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp.iterdir()) == ["space.yaml"]
    with pytest.raises(ConfigError):
        validate_run_name(name)


@pytest.mark.parametrize("name", [".", ".."])
def test_bad_run_names_in_the_space_file_are_refused(tmp: Path, monkeypatch, capsys, name: str) -> None:
    monkeypatch.chdir(tmp)
    path = tmp / "s.yaml"
    d = yaml.safe_load(space_file(tmp).read_text())
    d["name"] = name
    path.write_text(yaml.safe_dump(d))
    assert main(["run", str(path), "--no-progress"]) == 2
    assert "run name" in capsys.readouterr().err
    assert not (tmp / "runs").exists()


def test_good_run_names_stay_inside_runs(tmp: Path) -> None:
    for name in ("quickstart", "v1.2", "a-b_c", "...x"):
        assert validate_run_name(name, tmp / "runs") == name


# --------------------------------------------------------------------------- file modes


@pytest.mark.slow
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_files_honour_the_umask(tmp: Path, umask: int, mode: int, fake_tool) -> None:
    old = os.umask(umask)
    try:
        atomic_write_text(tmp / "x.txt", "x")
        search(space_file(tmp, synthesis=SYNTH), tmp / "run", 4, FakeTrainer(), FakeSynthesizer())
    finally:
        os.umask(old)
    run = tmp / "run"
    files = [tmp / "x.txt", run / "meta.json", run / "trials.csv", run / "study.db", run / "calibration.json",
             run / "trials" / "00000" / "record.json", run / "trials" / "00000" / "model.h5",
             next((run / "synthesis" / "records").glob("*.json"))]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == mode, (f, oct(stat.S_IMODE(f.stat().st_mode)))


def test_layers_import_without_cycles_or_heavy_packages(imported_in_a_fresh_interpreter: dict[str, set[str]]) -> None:
    """Each layer imports on its own in a fresh interpreter (an import cycle fails here), and the search
    core pulls in neither TensorFlow nor Ray nor Optuna until it runs. The interpreter (tests/conftest.py)
    imports cost_models, then dse.synthesis.loop, dse.store, dse.scoring, dse.search, dse.commands.cli."""
    loaded = imported_in_a_fresh_interpreter["dse.commands.cli"]
    heavy = loaded & {"tensorflow", "ray", "optuna", "hls4ml"}
    assert not heavy, sorted(heavy)
