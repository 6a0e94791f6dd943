"""The trials table (one row per trial, from the study alone: params, metrics, estimates, state)
and the Pareto front as text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dse.analysis.formatting import fmt_value
from dse.design.candidate import Candidate
from dse.space import ESTIMATE_KEYS, SpaceConfig
from dse.store.trial_view import TrialView

__all__ = ["ESTIMATE_KEYS", "format_pareto", "trial_row", "trials_frame"]


def trials_frame(trials: Iterable[TrialView], space: SpaceConfig | None = None) -> Any:
    """A pandas DataFrame of every trial, one ``trial_row`` each (columns in their order of first appearance)."""
    import pandas as pd

    return pd.DataFrame([trial_row(t) for t in trials])


def trial_row(t: TrialView) -> dict[str, Any]:
    """The one definition of a trial's row of the trials table (``trials_frame``, ``Run.trials``, trials.csv),
    keys in column order: number, state, candidate, val/test accuracy, val_loss, val_auc, each cost estimate
    with ``_low``/``_high`` (80 % interval), ``calibrated``, ``feasible``, ``measured_*`` where synthesized,
    ``firmware_accuracy`` where measured, epochs and timing (``duration_s`` seconds), ``interrupted``,
    ``duplicate_of`` (a repeated design, not trained: the trial it repeats), ``screened`` (not trained: why its
    pre-training estimate broke a budget), ``error``, then ``param_*``."""
    metrics, est = t.metrics, t.estimate
    row: dict[str, Any] = {
        "number": t.number,
        "state": t.state.value,
        "candidate": _short(t.candidate),
        "val_accuracy": metrics.get("val_accuracy"),
        "test_accuracy": metrics.get("test_accuracy"),
        "val_loss": metrics.get("val_loss"),
        "val_auc": metrics.get("val_auc"),
    }
    for k in ESTIMATE_KEYS:
        row[k] = est.get(k)
        row[f"{k}_low"] = est.get(f"{k}_low")
        row[f"{k}_high"] = est.get(f"{k}_high")
    row["calibrated"] = est.get("calibrated")
    row["feasible"] = t.feasible
    for k, v in t.measured.items():
        row[f"measured_{k}"] = v
    if t.firmware_accuracy is not None:
        row["firmware_accuracy"] = t.firmware_accuracy
    row["epochs_run"] = metrics.get("epochs_run")
    row["train_seconds"] = metrics.get("train_seconds")
    row["duration_s"] = t.duration_s
    row["interrupted"] = t.interrupted
    row["duplicate_of"] = t.duplicate_of
    row["screened"] = t.screened  # not trained: why its pre-training estimate broke a budget
    row["error"] = t.error
    for k, v in t.params.items():
        row[f"param_{k}"] = v
    return row


def _short(cand: Any) -> str | None:
    if not cand:
        return None
    try:
        return Candidate.from_dict(cand).short()
    except (KeyError, TypeError, ValueError):
        return None


def format_pareto(rows: list[dict[str, Any]], space: SpaceConfig) -> str:
    """The Pareto front as a fixed-width text table: objectives (counts as integers), test accuracy,
    whether each design meets its budgets (or is near one, with the probability), and the design."""
    if not rows:
        return "No feasible complete trial yet: no Pareto front."
    from dse.analysis.budget_report import space_budgets, with_budget_columns

    budgets, confidence = space_budgets(space)
    metrics = [o.metric for o in space.objectives]
    extra = [k for k in ("test_accuracy",) if k not in metrics]
    header = ["trial", *metrics, *extra] + (["budgets"] if budgets else []) + ["design"]
    verdicts: list[str] = []
    if budgets:
        import pandas as pd

        # the estimate and, where synthesized, the measured figures (certain): as the report and export judge
        est = pd.DataFrame([{**{k[len("est_"):]: v for k, v in r.items() if k.startswith("est_")},
                             **{k: v for k, v in r.items() if k.startswith("measured_")}} for r in rows])
        verdicts = with_budget_columns(est, budgets, confidence)["budgets"].tolist()
    table = []
    for i, r in enumerate(rows):
        cand = Candidate.from_dict(r["candidate"]).short() if r.get("candidate") else ""
        vals = [fmt_value(_COLUMN.get(k, k), r.get(k)) for k in metrics + extra]
        table.append([str(r["number"]), *vals, *([verdicts[i]] if budgets else []), cand])
    widths = [max(len(header[i]), *(len(row[i]) for row in table)) for i in range(len(header))]
    out = [f"Pareto front ({len(rows)} design{'s' if len(rows) != 1 else ''}):",
           "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table]
    return "\n".join(out)


_COLUMN = {"accuracy": "val_accuracy", "bram": "bram_18k"}


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)
