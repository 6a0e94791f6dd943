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

    ``directions`` has ``minimize``/``maximize`` per column. A point dominates another when it is as good in
    every column and better in one (NaN compares false: it neither dominates nor is dominated). O(n²)
    comparisons, vectorised in blocks of rows (numpy): a few milliseconds for a thousand points.
    """
    import numpy as np

    n = len(points)
    if n == 0:
        return []
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    pts = np.array([[float(v) for v in p] for p in points], dtype=float).reshape(n, len(signs)) * signs
    mask = np.ones(n, dtype=bool)
    block = max(1, 2 ** 20 // (n * len(signs) or 1))  # about a million comparisons at a time
    for start in range(0, n, block):
        p = pts[start:start + block, None, :]  # the points judged, against every point q
        dominated = ((pts[None, :, :] <= p).all(axis=2) & (pts[None, :, :] < p).any(axis=2)).any(axis=1)
        mask[start:start + block] = ~dominated
    return [bool(m) for m in mask]


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
