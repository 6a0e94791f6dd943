"""Pareto fronts over finished trials (plain Python: no Optuna needed to compute them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dse.space import SpaceConfig


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
        if t.state.name != "COMPLETE" or t.values is None or "duplicate_of" in t.user_attrs:
            continue
        cons = t.user_attrs.get("constraint_values") or []
        if any(c > 0 for c in cons):
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
