"""Pareto fronts over finished trials (plain Python: no Optuna needed to compute them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dse.space import SpaceConfig


def is_complete_original(trial: Any) -> bool:
    """A COMPLETE Optuna trial with values that is not a repeated design (``duplicate_of``)."""
    return trial.state.name == "COMPLETE" and trial.values is not None and "duplicate_of" not in trial.user_attrs


def is_feasible(trial: Any) -> bool:
    """Every constraint value (Optuna's convention, <= 0 met) of the trial is met."""
    return all(c <= 0 for c in trial.user_attrs.get("constraint_values") or [])


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


def pareto_rows(study: Any, space: SpaceConfig) -> list[dict[str, Any]]:
    """The feasible Pareto front of the study's complete trials, as dicts sorted by the first objective."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not is_complete_original(t) or not is_feasible(t):
            continue
        row = {"number": t.number, "candidate": t.user_attrs.get("candidate")}
        for o, v in zip(space.objectives, t.values, strict=True):
            row[o.metric] = v
        metrics = t.user_attrs.get("metrics", {})
        row["test_accuracy"] = metrics.get("test_accuracy")
        row.update({f"est_{k}": v for k, v in (t.user_attrs.get("estimate") or {}).items()})
        rows.append(row)
    if not rows:
        return []
    mask = pareto_mask([[r[o.metric] for o in space.objectives] for r in rows], space.directions)
    front = [r for r, keep in zip(rows, mask, strict=True) if keep]
    first = space.objectives[0]
    front.sort(key=lambda r: r[first.metric], reverse=first.direction == "maximize")
    return front
