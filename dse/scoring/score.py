"""Scoring: a trial's metrics plus its cost estimate (and measured figures) → objective and
constraint values. Pure functions of their inputs; no Optuna, no run folder.

Constraint values follow Optuna's convention (<= 0 means satisfied):

- without ``search.budget_confidence`` a budget is judged on the point value: the constraint
  value is the margin ``value - bound`` (``bound - value`` for ``>=``), in the metric's units;
- with ``search.budget_confidence = c`` a budget counts as met only when the probability that
  the true value meets it (``dse.scoring.budgets.probability_met`` on the estimate's 80 % interval;
  1 or 0 for a measured figure) is at least ``c``: the constraint value is ``c - p``.

Either way the margins (metric units) and probabilities of every constraint are kept in the
:class:`Score` for the trial record and the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dse.scoring.budgets import space_budgets, with_bound
from dse.space import COST_METRICS, ESTIMATE_KEYS, SpaceConfig

__all__ = ["Score", "estimate_dict", "estimate_summary", "metric_values", "part_bounds", "score"]


@dataclass(frozen=True)
class Score:
    """A scored trial. ``values``: every metric the space can name (accuracy as a fraction, costs
    in counts, cycles or ns); ``objectives`` in the space's order; per constraint (space order)
    its ``margins`` (metric units, <= 0 met on the point value), ``probabilities`` of being met
    and ``constraints`` (what Optuna is told, <= 0 met)."""

    values: dict[str, float]
    objectives: list[float]
    margins: list[float]
    probabilities: list[float]
    constraints: list[float]

    @property
    def feasible(self) -> bool:
        return all(c <= 0 for c in self.constraints)


def part_bounds(space: SpaceConfig) -> list[float]:
    """The absolute bound of each constraint (% budgets turned into counts of the target part;
    ``dse.scoring.budgets.space_budgets``)."""
    return [b.bound for b in space_budgets(space)]


def metric_values(metrics: Mapping[str, Any], costs: Mapping[str, Any]) -> dict[str, float]:
    """Every metric the space can name, from the trial's metrics and its costs (estimate, or
    measured figures laid over it)."""
    out: dict[str, float] = {}
    for name, key in COST_METRICS.items():
        if costs.get(key) is not None:
            out[name] = float(costs[key])
    out["accuracy"] = float(metrics["val_accuracy"])
    out["loss"] = float(metrics["val_loss"])
    if metrics.get("val_auc") is not None:
        out["auc"] = float(metrics["val_auc"])
    return out


def score(space: SpaceConfig, metrics: Mapping[str, Any], estimate: Mapping[str, Any],
          measured: Mapping[str, Any] | None = None, bounds: list[float] | None = None) -> Score:
    """Score one complete trial. ``estimate`` is ``cost_models.Estimate.to_dict()``; ``measured``
    the figures of real synthesis, which replace the estimate where present (no interval)."""
    measured = dict(measured or {})
    values = metric_values(metrics, {**estimate, **measured})
    budgets = space_budgets(space) if bounds is None else [
        with_bound(c, b) for c, b in zip(space.constraints, bounds, strict=True)]
    intervals = estimate.get("intervals") or {}
    confidence = space.search.budget_confidence
    margins, probabilities, constraints = [], [], []
    for budget in budgets:
        value = values[budget.metric]
        margin = budget.margin(value)
        key = COST_METRICS.get(budget.metric)
        interval = None if key is None or key in measured else intervals.get(key)
        p = budget.probability(value, interval)
        margins.append(margin)
        probabilities.append(p)
        constraints.append(margin if confidence is None else confidence - p)
    return Score(values=values, objectives=[values[o.metric] for o in space.objectives], margins=margins,
                 probabilities=probabilities, constraints=constraints)


def estimate_summary(estimate: Mapping[str, Any]) -> dict[str, Any]:
    """The estimate as kept on the trial: the totals, ``<key>_low``/``<key>_high`` of the 80 % interval
    and whether it was calibrated."""
    out: dict[str, Any] = {k: estimate[k] for k in ESTIMATE_KEYS if k in estimate}
    for k, (lo, hi) in (estimate.get("intervals") or {}).items():
        out[f"{k}_low"], out[f"{k}_high"] = lo, hi
    out["calibrated"] = bool(estimate.get("calibrated", False))
    return out


def estimate_dict(layers: list[Any], target: Any, calibration: Any) -> dict[str, Any]:
    """``cost_models.estimate`` of a layer list on ``target`` as a JSON-ready dict (totals, intervals, ...)."""
    from cost_models import estimate

    return dict(estimate(layers, target, calibration=calibration).to_dict())
