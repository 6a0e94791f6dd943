"""Objectives and fronts of a trials table: metric names → columns and directions, the Pareto
front (``dse.scoring.pareto.pareto_mask`` on the complete, feasible rows) and the hypervolume
(exact, objectives minimised). Plain functions of a pandas DataFrame; used by ``run`` and ``plots``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dse.errors import ConfigError
from dse.scoring.pareto import pareto_mask
from dse.space import COST_METRICS, MAXIMIZED_METRICS, QUALITY_METRICS, SpaceConfig

# Metric name (as in space files) -> column of the trials table.
METRIC_COLUMNS: dict[str, str] = {
    **QUALITY_METRICS,
    "test_accuracy": "test_accuracy", "firmware_accuracy": "firmware_accuracy",
    **COST_METRICS,
}
MAXIMIZED = (*MAXIMIZED_METRICS, "test_accuracy", "firmware_accuracy")


def metric_column(metric: str) -> str:
    """The trials-table column of a metric name (``accuracy`` → ``val_accuracy``, ``bram`` → ``bram_18k``).

    Column names themselves are accepted too."""
    if metric in METRIC_COLUMNS:
        return METRIC_COLUMNS[metric]
    if metric in METRIC_COLUMNS.values() or metric.startswith("measured_"):
        return metric
    raise ConfigError(f"unknown metric {metric!r}; use one of {', '.join(METRIC_COLUMNS)}")


def default_direction(metric: str) -> str:
    base = metric.removeprefix("measured_")
    return "maximize" if base in MAXIMIZED or base in ("val_accuracy", "val_auc") else "minimize"


ObjectiveSpec = str | tuple[str, str]


def resolve_objectives(objectives: Iterable[ObjectiveSpec] | None, space: SpaceConfig | None = None
                       ) -> list[tuple[str, str]]:
    """``[(column, direction), ...]`` from metric names (``"dsp"``, ``"accuracy:max"``) or
    ``(metric, direction)`` pairs; ``None`` means the space's objectives."""
    if objectives is None:
        if space is None:
            raise ConfigError("give the objectives (no space to take them from)")
        return [(metric_column(o.metric), o.direction) for o in space.objectives]
    space_dirs = {o.metric: o.direction for o in space.objectives} if space is not None else {}
    out: list[tuple[str, str]] = []
    for spec in objectives:
        if isinstance(spec, tuple):
            metric, direction = spec
        else:
            metric, _, direction = str(spec).partition(":")
        direction = {"max": "maximize", "min": "minimize"}.get(direction, direction)
        if not direction:
            direction = space_dirs.get(metric, default_direction(metric))
        if direction not in ("maximize", "minimize"):
            raise ConfigError(f"objective {spec!r}: direction must be min/max, got {direction!r}")
        out.append((metric_column(metric), direction))
    if not out:
        raise ConfigError("at least one objective is needed")
    return out


def _counted(frame: Any, cols: Sequence[str], feasible_only: bool) -> Any:
    """Boolean mask of the COMPLETE rows with every column in ``cols`` present (and feasible)."""
    keep = frame["state"] == "COMPLETE"
    if "duplicate_of" in frame.columns:  # a repeated design is the same point as its original
        keep &= frame["duplicate_of"].isna()
    for c in cols:
        keep &= frame[c].notna()
    if feasible_only and "feasible" in frame.columns:
        keep &= frame["feasible"].astype(object).ne(False)
    return keep


def pareto_front(frame: Any, objectives: Sequence[tuple[str, str]], feasible_only: bool = True) -> Any:
    """The rows of ``frame`` (a trials table) no other row dominates on ``objectives``.

    Only COMPLETE trials with every objective present count; with ``feasible_only`` trials
    whose ``feasible`` is False are left out. Equal rows are all kept (ties). Sorted by the
    first objective, best first. Returns a DataFrame (possibly empty, same columns).
    """
    cols = [c for c, _ in objectives]
    if frame.empty or any(c not in frame.columns for c in cols):
        return frame.iloc[0:0].copy()
    cand = frame[_counted(frame, cols, feasible_only)]
    if cand.empty:
        return cand.copy()
    mask = pareto_mask(cand[cols].astype(float).values.tolist(), [d for _, d in objectives])
    front = cand[mask].copy()
    first, direction = objectives[0]
    return front.sort_values([first, "number"], ascending=[direction == "minimize", True], kind="stable")


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Exact hypervolume dominated by ``points`` (all minimised) up to ``reference``.

    Points not strictly better than the reference in every coordinate add nothing. Slicing
    algorithm, O(n^d): fine for the fronts of a few hundred trials and d <= 4.
    """
    pts = [tuple(float(v) for v in p) for p in points if all(float(v) < r for v, r in zip(p, reference, strict=True))]
    return _hv(pts, tuple(float(r) for r in reference))


def _hv(points: list[tuple[float, ...]], ref: tuple[float, ...]) -> float:
    if not points:
        return 0.0
    if len(ref) == 1:
        return ref[0] - min(p[0] for p in points)
    pts = sorted(points, key=lambda p: p[-1])
    volume = 0.0
    for i, p in enumerate(pts):
        upper = pts[i + 1][-1] if i + 1 < len(pts) else ref[-1]
        height = upper - p[-1]
        if height > 0:
            volume += height * _hv(_nondominated([q[:-1] for q in pts[: i + 1]]), ref[:-1])
    return volume


def _nondominated(points: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    uniq = list(dict.fromkeys(points))
    return [p for p in uniq
            if not any(q != p and all(a <= b for a, b in zip(q, p, strict=True)) for q in uniq)]


def hypervolume_history(frame: Any, objectives: Sequence[tuple[str, str]], feasible_only: bool = True) -> Any:
    """Normalised hypervolume of the front after each trial (by trial number).

    Each objective is scaled to [0, 1] between the best and worst value seen over the
    counted trials (maximised ones flipped), and the reference point is 1.1 in every
    coordinate, so 1.21 (2 objectives) or 1.331 (3) would be a perfect front. Columns:
    ``number``, ``hypervolume``; one row per trial (failed and pruned ones repeat the
    value before them). Empty when no trial counts.
    """
    import pandas as pd

    cols = [c for c, _ in objectives]
    if frame.empty or any(c not in frame.columns for c in cols):
        return pd.DataFrame(columns=["number", "hypervolume"])
    counted = frame[_counted(frame, cols, feasible_only)]
    if counted.empty:
        return pd.DataFrame(columns=["number", "hypervolume"])
    scaled = []
    for c, d in objectives:
        v = counted[c].astype(float)
        lo, hi = float(v.min()), float(v.max())
        span = hi - lo if hi > lo else 1.0
        scaled.append((hi - v) / span if d == "maximize" else (v - lo) / span)
    norm = pd.concat(scaled, axis=1).values.tolist()
    by_number = dict(zip(counted["number"].tolist(), norm, strict=True))
    ref = [1.1] * len(objectives)
    rows, seen = [], []
    for n in sorted(frame["number"].tolist()):
        if n in by_number:
            seen.append(by_number[n])
            seen = _nondominated([tuple(p) for p in seen])
        rows.append({"number": n, "hypervolume": hypervolume(seen, ref) if seen else 0.0})
    return pd.DataFrame(rows)
