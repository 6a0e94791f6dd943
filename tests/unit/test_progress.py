"""The progress display and the end-of-run lines say plainly when nothing feasible has been trained."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

from dse.commands.cli import _feasibility_lines
from dse.commands.progress import ProgressBar
from dse.search.driver import TrialSummary
from dse.space import load_space
from tests.search_fakes import space_file


def _space(tmp_path: Path) -> object:
    return load_space(space_file(tmp_path, constraints=["latency_ns <= 40", "lut <= 20000"]))


def test_lines_say_what_breaks_until_a_feasible_design_is_trained(tmp_path: Path) -> None:
    stream = io.StringIO()
    bar = ProgressBar(3, _space(tmp_path), stream=stream)
    values = {"accuracy": 0.8, "dsp": 2.0, "lut": 1900.0}
    bar.update(TrialSummary(0, "COMPLETE", values, False, "8 w3", {"latency_ns <= 40": 9.4}), 1, 3)
    bar.update(TrialSummary(1, "COMPLETE", values, False, "8 w2", {"latency_ns <= 40": 3.6, "lut <= 20000": 150.0}),
               2, 3)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("| no feasible design yet: latency_ns <= 40 broken by 1 of 1, closest +9.4")
    assert lines[1].endswith("| no feasible design yet: latency_ns <= 40 broken by 2 of 2, closest +3.6; "
                             "lut <= 20000 broken by 1 of 2, closest +150")
    bar.update(TrialSummary(2, "COMPLETE", {"accuracy": 0.7, "dsp": 1.0, "lut": 900.0}, True, "8 w2"), 3, 3)
    last = stream.getvalue().splitlines()[-1]
    assert "best #2: accuracy 0.7000" in last and "no feasible" not in last


def test_before_any_complete_trial_nothing_is_claimed(tmp_path: Path) -> None:
    bar = ProgressBar(3, _space(tmp_path), enabled=False)
    assert bar.best_text() == ""
    bar.consider(TrialSummary(0, "FAIL"))
    assert bar.best_text() == ""


def test_the_end_of_run_lines_name_an_infeasible_run_and_the_feasible_share(tmp_path: Path) -> None:
    space = _space(tmp_path)
    share = {"n_designs": 256, "share": 0.043, "per_budget": {"latency_ns <= 40": 0.043, "lut <= 20000": 0.83}}
    result = SimpleNamespace(n_complete=20, n_failed=0, n_pruned=0, n_feasible=0, feasible_share=share)
    lines = _feasibility_lines(result, space)
    assert lines[0].startswith("Nothing feasible was trained: none of the 20 complete trials meets every budget")
    assert lines[1] == ("Before training, about 4.3 % of 256 random designs of the space were expected to meet the "
                        "cost budgets (latency_ns <= 40: 4.3 %, lut <= 20000: 83 %).")
    result.n_feasible = 7
    assert _feasibility_lines(result, space)[0] == "7 of 20 complete trials meet every budget."
