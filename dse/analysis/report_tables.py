"""The report's tables as people read them: the front table leads with the objectives and the budgets.

``front_display`` turns the front (rows of ``Run.trials``) into display strings: the trial, each
objective, each constrained metric not already shown (counts as integers with their share of the
part, intervals as ``lo-hi``, measured figures where synthesized), the probability of meeting each
budget and a verdict, then the design. Everything else (every cost, the parameters) stays in the
full table, which the report folds away. ``budget_table`` is the per-budget breakers summary.
Pure functions of pandas DataFrames and the space.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dse.analysis.budget_report import Breakers, Budget, budget_probability, budget_status
from dse.analysis.formatting import fmt_count_pct, fmt_interval, fmt_probability, fmt_value
from dse.space import COST_METRICS, METRICS, PART_RESOURCE_KEYS

__all__ = ["budget_table", "front_display"]

_COLUMN = METRICS
_COST_COLUMNS = tuple(COST_METRICS.values())
_RESOURCES = PART_RESOURCE_KEYS


def front_display(front: Any, space: Any, part_totals: Mapping[str, float] | None, budgets: Sequence[Budget],
                  confidence: float) -> Any:
    """The front table of the report (a DataFrame of strings; see the module docstring)."""
    import pandas as pd

    columns: list[str] = []
    for o in space.objectives:
        col = _COLUMN.get(o.metric, o.metric)
        if col not in columns:
            columns.append(col)
    for b in budgets:
        if b.column not in columns:
            columns.append(b.column)
    has_measured = {c: f"measured_{c}" in front.columns and front[f"measured_{c}"].notna().any() for c in columns}
    rows = []
    for r in front.to_dict("records"):
        out: dict[str, str] = {"trial": str(int(r["number"]))}
        for c in columns:
            if c not in _COST_COLUMNS:
                out[_label(c)] = fmt_value(c, r.get(c))
                if c == "val_accuracy" and "test_accuracy" in r:
                    out["test accuracy"] = fmt_value("test_accuracy", r.get("test_accuracy"))
                continue
            total = (part_totals or {}).get(c) if c in _RESOURCES else None
            out[_label(c)] = fmt_count_pct(c, r.get(c), total)
            out[f"{_label(c)} 80%"] = fmt_interval(c, r.get(f"{c}_low"), r.get(f"{c}_high"))
            if has_measured[c]:
                out[f"{_label(c)} measured"] = fmt_value(c, r.get(f"measured_{c}"))
        verdicts = []
        for b in budgets:
            p = budget_probability(r, b)
            out[f"P({b.name})"] = fmt_probability(p)
            status = budget_status(p, confidence)
            if status != "meets":
                verdicts.append(status)
        if budgets:
            out["budgets"] = ("breaks" if "breaks" in verdicts else "near budget" if verdicts else "meets")
        out["design"] = str(r.get("candidate") or "")
        rows.append(out)
    return pd.DataFrame(rows)


def _label(column: str) -> str:
    return {"val_accuracy": "accuracy", "val_loss": "loss", "val_auc": "AUC", "latency_ns": "latency (ns)",
            "latency_cycles": "latency (cycles)", "bram_18k": "BRAM 18k", "dsp": "DSP", "lut": "LUT",
            "ff": "FF", "ii": "II"}.get(column, column)


def budget_table(breakers: Sequence[Breakers]) -> Any:
    """One row per budget: trials judged, broken, by how much, near it, and the parameter conditions
    most associated with breaking it."""
    import pandas as pd

    rows = []
    for b in breakers:
        col = b.budget.column
        by = "-"
        if b.excess:
            lo, hi, med = b.excess[0], b.excess[-1], b.excess[len(b.excess) // 2]
            by = fmt_value(col, lo) if lo == hi else fmt_interval(col, lo, hi)
            by += f" (median {fmt_value(col, med)})" if len(b.excess) > 2 else ""
        rows.append({"budget": b.budget.name, "complete trials": str(b.n_trials), "broke it": str(b.n_broken),
                     "by": by, "near it": str(b.n_near),
                     "most associated with breaking it": "; ".join(map(str, b.associations)) or "-"})
    return pd.DataFrame(rows)
