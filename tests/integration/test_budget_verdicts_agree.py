"""One design near its budget: the end-of-run summary (``dse run``), the report and the export give the
same verdict and the same probability, all from ``dse.scoring.budgets.Budget`` on the trial's view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    from tests.analysis_helpers import T, make_run
except ImportError:  # tests/ is not a package
    from analysis_helpers import T, make_run  # type: ignore[no-redef]

from dse.analysis import load_run
from dse.analysis.budget_report import space_budgets as report_budgets
from dse.analysis.report import markdown_table
from dse.analysis.report_tables import front_display
from dse.analysis.tables import format_pareto
from dse.commands.export import export_trial
from dse.scoring.budgets import budget_confidence, space_budgets, verdict
from dse.scoring.pareto import pareto_rows
from dse.store import RunFolder
from dse.store.study_reader import read_trials
from dse.store.trial_view import TrialStatus


@pytest.mark.slow
def test_summary_report_and_export_agree_on_a_near_budget_design(tmp_path: Path) -> None:
    # latency_ns <= 1000 (the tiny space's budget); trial 1: estimate 950, 80 % interval 760-1,188;
    # its accuracy puts it on the front beside trial 0 (fewer LUTs)
    # trial 2: the same estimate, but synthesized at 1,100 ns: the measured figure is certain (it breaks)
    run_dir = make_run(tmp_path / "run", [T(latency_ns=500.0, acc=0.90, lut=500.0),
                                          T(latency_ns=950.0, acc=0.95, lut=1000.0),
                                          T(latency_ns=950.0, acc=0.97, lut=1500.0, measured={"latency_ns": 1100.0})])
    folder = RunFolder.open(run_dir)
    space = folder.load_space()
    views = read_trials(folder)
    assert [v.status for v in views] == [TrialStatus.COMPLETE] * 3
    (budget,) = space_budgets(space)
    p = budget.probability_of(views[1].estimate, views[1].measured)
    assert p is not None and 0.1 < p < 0.9 and verdict(p, budget_confidence(space)) == "near budget"
    percent = f"{p * 100:.0f}%"

    # the end-of-run summary: what `dse run` prints (format_pareto of the front of the trial views)
    summary = format_pareto(pareto_rows(views, space), space)
    (line,) = [ln for ln in summary.splitlines() if ln.startswith("1 ")]
    assert f"near budget: latency_ns <= 1000 ({percent})" in line, summary

    # the report: its front table (the section "The Pareto front" of report.md), as build_sections makes it
    run = load_run(run_dir)
    budgets, confidence = report_budgets(run.space)
    table = front_display(run.front_table(), run.space, run.part.totals(), budgets, confidence)
    front = markdown_table(table)
    row = next(ln for ln in front.splitlines() if re.match(r"\|\s*1\s*\|", ln))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert percent in cells and "near budget" in cells, row

    # the export: the README's budget line and the warning
    result = export_trial(run_dir, 1, tmp_path / "out", write_project=False)
    (warning,) = result.budget_warnings
    assert f"{percent} chance to meet it: NEAR BUDGET" in warning
    assert f"- {warning}" in (tmp_path / "out" / "README.md").read_text()

    # the synthesized design breaks it everywhere (the measured figure, not the estimate)
    assert budget.probability_of(views[2].estimate, views[2].measured) == 0.0
    (line2,) = [ln for ln in summary.splitlines() if ln.startswith("2 ")]
    assert "breaks latency_ns <= 1000" in line2 and "near budget" not in line2, summary
    row2 = next(ln for ln in front.splitlines() if re.match(r"\|\s*2\s*\|", ln))
    assert "breaks" in [c.strip() for c in row2.strip("|").split("|")], row2
    (warning2,) = export_trial(run_dir, 2, tmp_path / "out2", write_project=False).budget_warnings
    assert warning2.startswith("latency_ns <= 1000: measured 1,100") and warning2.endswith("BREAKS it")

    # and the design inside its budget meets it everywhere
    assert export_trial(run_dir, 0, tmp_path / "out0", write_project=False).budget_warnings == []
    (line0,) = [ln for ln in summary.splitlines() if ln.startswith("0 ")]
    assert " meets " in f"{line0} "
    assert run.trial_view(0) == views[0]
