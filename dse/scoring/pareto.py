"""Pareto fronts over finished trials (plain Python on typed trial views: no Optuna)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dse.space import SpaceConfig
from dse.store.trial_view import TrialView


def is_complete_original(trial: TrialView) -> bool:
    """A COMPLETE trial with values that is not a repeated design (``duplicate_of``)."""
    return trial.complete_original


def is_feasible(trial: TrialView) -> bool:
    """Every constraint value (Optuna's convention, <= 0 met) of the trial is met (True when none was stored)."""
    return trial.feasible is not False


def pareto_mask(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[bool]:
    """True for every point no other point dominates. Equal points are all kept (ties).

    ``directions`` has ``minimize``/``maximize`` per column. O(n²), fine for thousands of trials.
    """
    signs = [1.0 if d == "minimize" else -1.0 for d in directions]
    pts = [[s * float(v) for s, v in zip(signs, p, strict=True)] for p in points]
    mask = []
    for i, p in enumerate(pts):
        dominated = False
        for j, q in enumerate(pts):
            if i != j and all(a <= b for a, b in zip(q, p, strict=True)) and any(
                    a < b for a, b in zip(q, p, strict=True)):
                dominated = True
                break
        mask.append(not dominated)
    return mask


def pareto_rows(trials: Iterable[TrialView], space: SpaceConfig) -> list[dict[str, Any]]:
    """The feasible Pareto front of the complete trials, as dicts sorted by the first objective."""
    rows = []
    for t in trials:
        if not is_complete_original(t) or not is_feasible(t):
            continue
        assert t.values is not None
        row: dict[str, Any] = {"number": t.number, "candidate": t.candidate}
        for o, v in zip(space.objectives, t.values, strict=True):
            row[o.metric] = v
        row["test_accuracy"] = t.metrics.get("test_accuracy")
        row.update({f"est_{k}": v for k, v in t.estimate.items()})
        row.update({f"measured_{k}": v for k, v in t.measured.items()})
        rows.append(row)
    if not rows:
        return []
    mask = pareto_mask([[r[o.metric] for o in space.objectives] for r in rows], space.directions)
    front = [r for r, keep in zip(rows, mask, strict=True) if keep]
    first = space.objectives[0]
    front.sort(key=lambda r: r[first.metric], reverse=first.direction == "maximize")
    return front
