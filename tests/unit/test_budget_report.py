"""Budgets judged with their uncertainty (dse.analysis.budget_report), the numbers people read
(dse.analysis.formatting), the start-up calibration warning (dse.scoring.calibration_check) and the
progress display (dse.commands.progress)."""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

import pandas as pd
import pytest

from cost_models import Target
from cost_models.calibration import Calibration, Correction
from cost_models.records import METRICS
from dse.analysis.budget_report import (
    Budget,
    budget_breakers,
    budget_probability,
    budget_status,
    budgets_of,
    design_budget_lines,
    failure_summary,
    outcome_associations,
    with_budget_columns,
)
from dse.analysis.formatting import fmt_count_pct, fmt_interval, fmt_pct, fmt_probability, fmt_value, format_frame
from dse.commands.progress import ProgressBar
from dse.errors import ConfigError
from dse.scoring.calibration_check import uncalibrated_message, uncalibrated_metrics, warn_if_uncalibrated

LATENCY = Budget("latency_ns <= 100", "latency_ns", "latency_ns", "<=", 100.0)


# --------------------------------------------------------------------------- probabilities per design


def test_a_design_at_the_bound_with_a_wide_interval_is_near_budget_at_about_even_odds() -> None:
    # the case: 100.0 ns against latency_ns <= 100, 80 % interval 46-212 ns
    row = {"latency_ns": 100.0, "latency_ns_low": 46.0, "latency_ns_high": 212.0}
    p = budget_probability(row, LATENCY)
    assert p is not None and 0.45 < p < 0.55
    assert budget_status(p) == "near budget"
    line = design_budget_lines(row, [LATENCY])[0]
    assert "estimate 100 (80% interval 46.0-212)" in line and "NEAR BUDGET: may break it" in line and "50%" in line
    over = design_budget_lines({"latency_ns": 110.0, "latency_ns_low": 50.0, "latency_ns_high": 230.0}, [LATENCY])
    assert "NEAR BUDGET: the estimate breaks it, it may still be met" in over[0]


def test_probability_follows_the_interval_and_measured_figures_are_certain() -> None:
    inside = {"latency_ns": 60.0, "latency_ns_low": 50.0, "latency_ns_high": 80.0}   # interval below the bound
    outside = {"latency_ns": 145.0, "latency_ns_low": 120.0, "latency_ns_high": 180.0}
    p_in, p_out = budget_probability(inside, LATENCY), budget_probability(outside, LATENCY)
    assert p_in is not None and p_in > 0.95 and budget_status(p_in) == "meets"
    assert p_out is not None and p_out < 0.05 and budget_status(p_out) == "breaks"
    # synthesized: the measured figure decides, whatever the estimate said
    assert budget_probability({**outside, "measured_latency_ns": 95.0}, LATENCY) == 1.0
    assert budget_probability({**inside, "measured_latency_ns": 105.0}, LATENCY) == 0.0
    assert budget_probability({"latency_ns": None}, LATENCY) is None
    # a stricter confidence turns a likely design into a near one
    p = budget_probability({"latency_ns": 80.0, "latency_ns_low": 60.0, "latency_ns_high": 110.0}, LATENCY)
    assert p is not None and budget_status(p, 0.8) == "meets" and budget_status(p, 0.99) == "near budget"


def test_percent_budgets_resolve_against_the_part_and_columns_map() -> None:
    cons = [SimpleNamespace(metric="lut", op="<=", bound=10.0, percent=True),
            SimpleNamespace(metric="bram", op="<=", bound=4.0, percent=False)]
    budgets = budgets_of(cons, {"lut": 1000, "bram_18k": 100})
    assert [(b.column, b.bound) for b in budgets] == [("lut", 100.0), ("bram_18k", 4.0)]
    with pytest.raises(ConfigError, match="no total of lut"):  # a % budget without a part is refused, not dropped
        budgets_of(cons[:1], None)


def test_with_budget_columns_gives_a_verdict_per_design() -> None:
    frame = pd.DataFrame([
        {"number": 0, "latency_ns": 60.0, "latency_ns_low": 50.0, "latency_ns_high": 80.0},
        {"number": 1, "latency_ns": 100.0, "latency_ns_low": 46.0, "latency_ns_high": 212.0},
        {"number": 2, "latency_ns": 145.0, "latency_ns_low": 120.0, "latency_ns_high": 180.0},
        {"number": 3, "latency_ns": None},
    ])
    out = with_budget_columns(frame, [LATENCY])
    assert out["budgets"].tolist() == ["meets", "near budget: latency_ns <= 100 (50%)",
                                       "breaks latency_ns <= 100", "-"]
    assert out["p_met: latency_ns <= 100"].iloc[0] > 0.95


# --------------------------------------------------------------------------- why trials break budgets


def _trials(n_deep: int = 13, n_shallow: int = 17) -> pd.DataFrame:
    """The issue's run: every 2-3 layer design at 110-160 ns, 1-layer designs at 40-95 ns."""
    rows = []
    for i in range(n_deep):
        lat = 110.0 + 50.0 * i / max(n_deep - 1, 1)
        rows.append({"number": i, "state": "COMPLETE", "latency_ns": lat, "latency_ns_low": lat * 0.6,
                     "latency_ns_high": lat * 1.5, "param_hidden_layers": 2 + i % 2, "param_width_0": 8 * (1 + i % 3),
                     "param_strategy": "latency" if i % 2 else "resource"})
    for j in range(n_shallow):
        lat = 40.0 + 55.0 * j / max(n_shallow - 1, 1)
        rows.append({"number": n_deep + j, "state": "COMPLETE", "latency_ns": lat, "latency_ns_low": lat * 0.6,
                     "latency_ns_high": lat * 1.5, "param_hidden_layers": 1, "param_width_0": 8 * (1 + j % 3),
                     "param_strategy": "latency" if j % 2 else "resource"})
    return pd.DataFrame(rows)


def test_breakers_count_excess_and_name_the_parameter_that_breaks_the_budget() -> None:
    (b,) = budget_breakers(_trials(), [LATENCY])
    assert (b.n_trials, b.n_broken) == (30, 13)
    assert b.excess[0] == pytest.approx(10.0) and b.excess[-1] == pytest.approx(60.0)
    assert b.associations, "hidden_layers separates breakers from the others"
    top = b.associations[0]
    assert top.condition == "hidden_layers >= 2"
    assert (top.hits_in, top.n_in, top.hits_out, top.n_out) == (13, 13, 0, 17)
    text = b.text()
    assert text.startswith("latency_ns <= 100: 13 of 30 complete trials broke it, by 10.0-60.0 ns")
    assert "hidden_layers >= 2 (13 of 13, against 0 of 17 otherwise)" in text
    # parameters unrelated to breaking (width, strategy alternate in both groups) are not blamed
    assert all("width_0" not in a.condition and "strategy" not in a.condition for a in b.associations)
    assert b.n_near > 0  # intervals of +-50 % around designs near 100 ns cross the bound


def test_breakers_on_a_run_where_nothing_or_everything_breaks() -> None:
    (none,) = budget_breakers(_trials(0, 5), [LATENCY])
    assert (none.n_broken, none.associations) == (0, [])
    assert none.text() == "latency_ns <= 100: 0 of 5 complete trials broke it" + (
        f"; {none.n_near} near it (interval across the bound)" if none.n_near else "")
    (every,) = budget_breakers(_trials(4, 0), [LATENCY])
    assert every.n_broken == 4 and every.associations == []  # nothing to contrast with
    assert budget_breakers(pd.DataFrame(), [LATENCY])[0].text() == "latency_ns <= 100: no complete trial yet"


def test_measured_figures_override_estimates_when_counting_breakers() -> None:
    frame = pd.DataFrame([{"number": 0, "state": "COMPLETE", "latency_ns": 150.0, "measured_latency_ns": 90.0},
                          {"number": 1, "state": "COMPLETE", "latency_ns": 90.0, "measured_latency_ns": 130.0}])
    (b,) = budget_breakers(frame, [LATENCY])
    assert b.n_broken == 1 and b.excess == [30.0]


def test_categorical_associations() -> None:
    rows = [{"param_strategy": "resource"}] * 4 + [{"param_strategy": "latency"}] * 4
    outcome = [True, True, True, False, False, False, False, False]
    (a,) = outcome_associations(rows, outcome)
    assert a.condition == "strategy = resource" and (a.hits_in, a.n_in, a.hits_out, a.n_out) == (3, 4, 0, 4)


def test_failure_summary_names_errors_and_associated_parameters() -> None:
    rows = [{"number": i, "state": "COMPLETE", "param_weight_bits": 8, "error": None} for i in range(6)]
    rows += [{"number": 6 + i, "state": "FAIL", "param_weight_bits": 2, "error": "ValueError: NaN loss",
              "interrupted": False} for i in range(3)]
    rows += [{"number": 9, "state": "FAIL", "param_weight_bits": 8, "error": "worker error: OOM", "interrupted": False},
             {"number": 10, "state": "FAIL", "param_weight_bits": 8, "error": "stopped", "interrupted": True},
             {"number": 11, "state": "PRUNED", "param_weight_bits": 4, "error": None},
             {"number": 12, "state": "RUNNING", "param_weight_bits": 4, "error": None},
             # screened out before training: stored as a failed trial, counted apart by the summary
             {"number": 13, "state": "FAIL", "param_weight_bits": 8, "error": None, "interrupted": False,
              "screened": "latency_ns 800 breaks latency_ns <= 500"}]
    lines = failure_summary(pd.DataFrame(rows))
    assert len(lines) == 2
    assert lines[0].startswith("4 of 11 finished trials failed (3x ValueError: NaN loss; 1x worker error: OOM)")
    assert "weight_bits <= 2 (3 of 3, against 1 of 8 otherwise)" in lines[0]
    assert lines[1].startswith("1 of 11 finished trials pruned")
    assert failure_summary(pd.DataFrame(rows[:6])) == []


# --------------------------------------------------------------------------- numbers


def test_numbers_as_people_read_them() -> None:
    assert fmt_value("dsp", 5.776) == "6"          # DSP counts are whole
    assert fmt_value("measured_lut", 25717.2) == "25,717"
    assert fmt_value("ii", 4.0) == "4"
    assert fmt_value("latency_cycles_high", 12.6) == "13"
    assert fmt_value("latency_ns", 47.25) == "47.2" and fmt_value("latency_ns", 145.0) == "145"
    assert fmt_value("val_accuracy", 0.83333) == "0.8333"
    assert fmt_value("dsp", None) == "-" and fmt_value("dsp", float("nan")) == "-"
    assert fmt_interval("dsp", 0.0, 53.2) == "0-53"
    assert fmt_interval("latency_ns", 46.0, 212.4) == "46.0-212"
    assert fmt_pct(1660, 1182240) == "0.1%" and fmt_pct(27, 6840) == "0.4%" and fmt_pct(500, 1000) == "50%"
    assert fmt_pct(1, 1182240) == "<0.1%" and fmt_pct(5, 0) == ""
    assert fmt_count_pct("dsp", 27.4, 6840) == "27 (0.4%)"
    assert [fmt_probability(p) for p in (0.62, 0.999, 1.0, 0.001, 0.0)] == ["62%", ">99%", "100%", "<1%", "0%"]
    frame = format_frame(pd.DataFrame({"dsp": [9.167], "dsp_pct_of_part": [0.134], "val_accuracy": [0.9]}))
    assert frame.iloc[0].tolist() == ["9", "0.1%", "0.9000"]


# --------------------------------------------------------------------------- calibration warning


def _calibration(group: str) -> Calibration:
    return Calibration(groups={group: {m: Correction(0.1, 0.2, 5, 3.0) for m in METRICS}}, n_records=5)


def test_a_calibration_of_mlps_only_leaves_a_cnn_space_uncalibrated() -> None:
    """The design class is part of the group: corrections fitted on MLPs do not count as a CNN's."""
    target = Target("xcvu9p-flga2104-2L-e", 5.0, "vitis")
    mlp_only = _calibration("vitis|virtexuplus|mlp")
    assert uncalibrated_metrics(mlp_only, target, "mlp") == []
    assert uncalibrated_metrics(mlp_only, target, "cnn") == list(METRICS)
    msg = uncalibrated_message(mlp_only, target, "runs/x", design_class="cnn")
    assert msg is not None and "no calibration of the cost model for vitis" in msg
    assert uncalibrated_message(mlp_only, target, "runs/x", design_class="mlp") is None
    # the shipped prior has MLP and CNN groups for Vitis HLS on UltraScale+, MLPs only on Zynq-7000
    assert uncalibrated_metrics(None, target, "cnn") == []
    zynq = Target("xc7z020clg400-1", 5.0, "vitis")
    assert uncalibrated_metrics(None, zynq, "mlp") == []
    assert uncalibrated_metrics(None, zynq, "cnn") == list(METRICS)


def test_no_calibration_for_the_tool_and_part_family_warns_once_with_how_to_fix(
        caplog: pytest.LogCaptureFixture) -> None:
    target = Target("xcvu9p-flga2104-2L-e", 5.0, "vitis")
    empty = Calibration()
    assert uncalibrated_metrics(empty, target) == list(METRICS)
    # no run calibration: estimates use the shipped prior, which covers Vitis HLS on UltraScale+ but
    # no tool on Artix-7
    assert uncalibrated_metrics(None, target) == []
    assert uncalibrated_metrics(None, Target("xc7a200t", 5.0, "vitis")) == list(METRICS)
    msg = uncalibrated_message(empty, target, "runs/x")
    assert msg is not None and "vitis on xcvu9p-flga2104-2L-e (part family virtexuplus)" in msg
    assert "dse calibrate --reports DIR... --out runs/x/calibration.json" in msg and "synthesis:" in msg
    # a calibration of another family does not count; one of this family does
    assert uncalibrated_message(_calibration("vitis|zynq7|mlp"), target) is not None
    assert uncalibrated_message(_calibration("vitis|virtexuplus|mlp"), target) is None
    assert uncalibrated_message(_calibration("vivado|virtexuplus|mlp"), target) is not None
    with caplog.at_level(logging.WARNING, logger="dse.calibration"):
        assert warn_if_uncalibrated(empty, target, has_synthesis=True)
        assert not warn_if_uncalibrated(_calibration("vitis|virtexuplus|mlp"), target)
    assert len(caplog.records) == 1 and "will fit one from this run's syntheses" in caplog.records[0].message


# --------------------------------------------------------------------------- progress display


def _space() -> SimpleNamespace:
    return SimpleNamespace(objectives=[SimpleNamespace(metric="accuracy", direction="maximize"),
                                       SimpleNamespace(metric="lut", direction="minimize"),
                                       SimpleNamespace(metric="dsp", direction="minimize")])


def _summary(number: int, acc: float, lut: float, dsp: float, feasible: bool = True,
             state: str = "COMPLETE") -> SimpleNamespace:
    return SimpleNamespace(number=number, state=state, feasible=feasible,
                           values={"accuracy": acc, "lut": lut, "dsp": dsp} if state == "COMPLETE" else {})


def test_progress_shows_one_best_design_and_one_line_per_trial_off_a_terminal() -> None:
    out = io.StringIO()  # not a terminal
    bar = ProgressBar(4, _space(), stream=out)
    assert bar.bar is None and bar.lines
    bar.update(_summary(0, 0.80, 1660.0, 2.0), 1, 4)
    bar.update(_summary(1, 0.8333, 5000.0, 9.167), 2, 4)     # more accurate: the new best
    bar.update(_summary(2, 0.95, 100.0, 1.0, feasible=False), 3, 4)  # infeasible: never the best
    bar.update(_summary(3, 0.0, 0.0, 0.0, state="FAIL"), 4, 4)
    lines = out.getvalue().splitlines()
    assert lines == [
        "[1/4] trial 0 complete: accuracy 0.8000, lut 1,660, dsp 2 | best #0: accuracy 0.8000, lut 1,660, dsp 2",
        "[2/4] trial 1 complete: accuracy 0.8333, lut 5,000, dsp 9 | best #1: accuracy 0.8333, lut 5,000, dsp 9",
        "[3/4] trial 2 complete: accuracy 0.9500, lut 100, dsp 1 (breaks a budget) | "
        "best #1: accuracy 0.8333, lut 5,000, dsp 9",
        "[4/4] trial 3 fail | best #1: accuracy 0.8333, lut 5,000, dsp 9",
    ]
    quiet = io.StringIO()
    ProgressBar(4, _space(), enabled=False, stream=quiet).update(_summary(0, 0.8, 1.0, 1.0), 1, 4)
    assert quiet.getvalue() == ""


def test_progress_bar_on_a_terminal_routes_log_records_through_the_bar() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    bar = ProgressBar(2, _space(), stream=out)
    assert bar.bar is not None
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with bar.redirect_logging():
            # the redirect swaps only handlers writing to stdout/stderr; check the tqdm handler is installed
            assert any(type(h).__name__ == "_TqdmLoggingHandler" for h in root.handlers)
            bar.update(_summary(0, 0.8, 1660.0, 2.0), 1, 2)
    finally:
        root.removeHandler(handler)
        bar.close()
    assert "best #0: accuracy 0.8000, lut 1,660, dsp 2" in out.getvalue()
