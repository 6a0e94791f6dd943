"""dse.analysis: Pareto fronts (ties, failed, pruned, infeasible), hypervolume, load_run on hand-made runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

try:
    from tests.analysis_helpers import T, make_run, standard_records, standard_trials
except ImportError:  # tests/ is not a package
    from analysis_helpers import T, make_run, standard_records, standard_trials  # type: ignore[no-redef]

import dse
from dse.analysis import (
    hypervolume,
    hypervolume_history,
    pareto_front,
    read_synthesis_records,
    resolve_objectives,
)
from dse.errors import ConfigError, RunFolderError


@pytest.fixture(scope="module")
def std_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("analysis") / "run", standard_trials(), standard_records())


# --------------------------------------------------------------------------- pure functions


def _frame() -> pd.DataFrame:
    rows = [  # number, state, acc, dsp, feasible
        (0, "COMPLETE", 0.90, 10, True),
        (1, "COMPLETE", 0.95, 40, True),
        (2, "COMPLETE", 0.95, 40, True),   # tie with 1: both kept
        (3, "COMPLETE", 0.85, 20, True),   # dominated by 0
        (4, "COMPLETE", 0.99, 5, False),   # would dominate all, but infeasible
        (5, "FAIL", None, None, None),
        (6, "PRUNED", 0.99, 1, None),      # pruned rows never count, even with values
        (7, "COMPLETE", 0.92, 10, None),   # no constraints recorded: feasible; dominates 0
        (8, "RUNNING", None, None, None),
        (9, "COMPLETE", 0.97, None, True),  # missing cost: left out
    ]
    return pd.DataFrame(rows, columns=["number", "state", "val_accuracy", "dsp", "feasible"])


def test_pareto_front_keeps_ties_and_drops_failed_pruned_infeasible() -> None:
    front = pareto_front(_frame(), [("val_accuracy", "maximize"), ("dsp", "minimize")])
    assert front["number"].tolist() == [1, 2, 7]  # sorted best accuracy first, ties by number


def test_pareto_front_without_the_feasibility_filter() -> None:
    front = pareto_front(_frame(), [("val_accuracy", "maximize"), ("dsp", "minimize")], feasible_only=False)
    assert front["number"].tolist() == [4]


def test_pareto_front_of_nothing_is_empty() -> None:
    frame = _frame()
    assert pareto_front(frame[frame["state"] == "FAIL"], [("val_accuracy", "maximize")]).empty
    assert pareto_front(frame.iloc[0:0], [("val_accuracy", "maximize")]).empty
    assert pareto_front(frame, [("lut", "minimize")]).empty  # unknown column


def test_resolve_objectives() -> None:
    assert resolve_objectives(["accuracy", "lut:min", ("bram", "minimize")]) == [
        ("val_accuracy", "maximize"), ("lut", "minimize"), ("bram_18k", "minimize")]
    assert resolve_objectives(["latency_ns:max"]) == [("latency_ns", "maximize")]
    with pytest.raises(ConfigError, match="unknown metric"):
        resolve_objectives(["speed"])
    with pytest.raises(ConfigError, match="direction"):
        resolve_objectives(["dsp:sideways"])


def test_hypervolume_exact_values() -> None:
    assert hypervolume([(1, 2), (2, 1)], (3, 3)) == pytest.approx(3.0)
    assert hypervolume([(1, 2), (2, 1), (2, 2)], (3, 3)) == pytest.approx(3.0)  # dominated point adds nothing
    assert hypervolume([(0, 0, 0)], (1, 2, 3)) == pytest.approx(6.0)
    assert hypervolume([(0.5, 0.5, 0.0), (0.0, 0.0, 0.5)], (1, 1, 1)) == pytest.approx(0.25 + 0.5 - 0.125)
    assert hypervolume([(4, 0)], (3, 3)) == 0.0
    assert hypervolume([], (1, 1)) == 0.0


def test_hypervolume_history_is_non_decreasing_and_ignores_failed() -> None:
    hist = hypervolume_history(_frame(), [("val_accuracy", "maximize"), ("dsp", "minimize")])
    assert hist["number"].tolist() == list(range(10))
    values = hist["hypervolume"].tolist()
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:], strict=False))
    assert values[5] == values[4] and values[6] == values[5]  # failed, pruned: no change
    assert 0 < values[-1] <= 1.21


def test_synthesis_records_are_read_defensively(tmp_path: Path) -> None:
    assert read_synthesis_records(tmp_path).empty  # no synthesis folder
    rec_dir = tmp_path / "synthesis" / "records"
    rec_dir.mkdir(parents=True)
    (rec_dir / "a.json").write_text(json.dumps({"trial": 3, "status": "ok", "measured": {"dsp": 5, "lut": "x"},
                                                "estimate_before": {"dsp": 6}}))
    (rec_dir / "b.json").write_text("{not json")
    (rec_dir / "c.json").write_text("[1, 2]")
    frame = read_synthesis_records(tmp_path)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["trial"] == 3 and row["measured_dsp"] == 5 and pd.isna(row["measured_lut"])
    assert row["before_dsp"] == 6 and pd.isna(row["after_dsp"])


# --------------------------------------------------------------------------- load_run


@pytest.mark.slow
def test_load_run_trials_pareto_and_synthesis(std_run: Path) -> None:
    run = dse.load_run(std_run)
    trials = run.trials
    assert trials["number"].tolist() == list(range(9))
    assert trials.set_index("number")["state"].to_dict()[8] == "RUNNING"
    assert run.counts() == {"COMPLETE": 6, "PRUNED": 1, "FAIL": 1, "RUNNING": 1, "WAITING": 0}
    assert sorted(run.pareto()["number"]) == [0, 1, 2, 7]
    assert sorted(trials[trials["on_front"]]["number"]) == [0, 1, 2, 7]
    assert sorted(run.pareto(["accuracy", "dsp"])["number"]) == [1, 2, 7]
    assert sorted(run.pareto(["accuracy", "dsp"], feasible_only=False)["number"]) == [4]
    # trial 7: measured in the study; trial 0: only in a synthesis record (merged); 3 timed out.
    by = trials.set_index("number")
    assert by.loc[7, "measured_dsp"] == 6 and by.loc[7, "firmware_accuracy"] == pytest.approx(0.915)
    assert by.loc[0, "measured_dsp"] == 9 and by.loc[0, "synthesized"]
    assert not by.loc[3, "synthesized"]
    assert len(run.synthesis) == 3 and set(run.synthesis["status"]) == {"ok", "timeout"}
    # with measured costs (0: 9 DSP, 7: 6 DSP) trial 7 still dominates trial 0
    assert sorted(run.pareto(["accuracy", "dsp"], measured=True)["number"]) == [1, 2, 7]
    table = run.front_table()
    assert {"dsp", "dsp_low", "dsp_high", "measured_dsp", "dsp_pct_of_part", "firmware_accuracy"} <= set(table)
    assert "run tiny" in run.summary()


@pytest.fixture(scope="module")
def std_loaded(std_run: Path) -> tuple[Any, bytes]:
    """``std_run`` loaded once, its trials, importances (fANOVA: seconds) and hypervolume history read, and
    the study's bytes from before the load."""
    before = (std_run / "study.db").read_bytes()
    run = dse.load_run(std_run)
    _ = run.trials, run.importances(), run.hypervolume_history()
    return run, before


@pytest.mark.slow
def test_load_run_is_read_only(std_run: Path, std_loaded: tuple[Any, bytes]) -> None:
    _, before = std_loaded
    assert (std_run / "study.db").read_bytes() == before


@pytest.mark.slow
def test_plot_helpers_return_figures(std_loaded: tuple[Any, bytes]) -> None:
    from matplotlib.figure import Figure

    run, _ = std_loaded
    for fig in (run.plot_pareto("dsp"), run.plot_pareto("lut"), run.plot_pareto("latency_ns"),
                run.plot_hypervolume(), run.plot_parity(), run.plot_importances()):
        assert isinstance(fig, Figure)
        assert fig.axes


@pytest.mark.slow
def test_importances_handle_too_few_trials(tmp_path: Path) -> None:
    run = dse.load_run(make_run(tmp_path / "one", [T(), T(state="FAIL")]))
    imp, problems = run.importances()
    assert imp.empty and "at least 2 complete trials" in problems["accuracy"]
    assert run.plot_importances().axes  # a figure that says why


def test_load_run_errors(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="no run folder"):
        dse.load_run(tmp_path / "missing")
    (tmp_path / "foreign").mkdir()
    with pytest.raises(RunFolderError, match="not a dse run folder"):
        dse.load_run(tmp_path / "foreign")
    newer = make_run(tmp_path / "newer", [T()])
    meta = json.loads((newer / "meta.json").read_text())
    meta["format"] = 99
    (newer / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(RunFolderError, match="Upgrade dse"):
        dse.load_run(newer)


def test_run_without_study_has_no_trials(tmp_path: Path) -> None:
    path = make_run(tmp_path / "empty", [])
    (path / "study.db").unlink()
    run = dse.load_run(path)
    assert run.trials.empty and run.pareto().empty and run.counts()["COMPLETE"] == 0



def test_measured_costs_decide_the_front_and_estimates_stay(tmp_path: Path) -> None:
    m = {"dsp": 5, "lut": 900, "ff": 1000, "bram_18k": 0, "latency_cycles": 10, "latency_ns": 50, "ii": 1}
    run = dse.load_run(make_run(tmp_path / "run", [
        T(acc=0.90, dsp=10, lut=1000, params={"width_0": 8}),
        T(acc=0.89, dsp=12, lut=1000, params={"width_0": 16}, measured=m),  # dominated until measured
    ]))
    assert run.pareto(measured=False)["number"].tolist() == [0]
    front = run.pareto()
    assert front["number"].tolist() == [0, 1]
    assert front.set_index("number").loc[1, "dsp"] == 12  # the estimate column is kept
    assert run.trials["on_front"].tolist() == [True, True]
