"""Budgets judged with their uncertainty: the probability that a design meets a constraint.

A cost estimate gives a point value and an 80 % predictive interval ``[low, high]`` per metric
(see :class:`cost_models.Estimate`). The cost model's errors are multiplicative, so the
predictive distribution is taken as a two-piece log-normal around the point value: its lower
half has the spread that puts ``low`` at the 10 % quantile, its upper half the spread that puts
``high`` at the 90 % quantile. A small offset keeps zero counts (0 DSP, 0 BRAM) representable.

Measured figures (a synthesized design) carry no interval: the probability is 1 or 0.

Pure functions, no third-party imports: used by the scorer (``search.budget_confidence``), the
end-of-run summary, the report and the export.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from dse.space import COST_METRICS

__all__ = ["Z80", "near_budget", "percent_bound", "probability_met"]

Z80 = 1.2815515655446004
"""Standard normal quantile of the 90 % point: an 80 % central interval is ``± Z80`` sigma."""
_OFFSET = 1.0
"""Added before the log so that 0 (no DSP, no BRAM) is a value like any other (units of the metric)."""


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def probability_met(
    point: float,
    op: str,
    bound: float,
    interval: Sequence[float] | None = None,
    level: float = 0.8,
) -> float:
    """Probability (0..1) that the true value satisfies ``value <op> bound``.

    ``point`` is the estimate, ``interval`` its central predictive interval at ``level``
    (``None`` for a measured figure: the answer is then 1.0 or 0.0). ``op`` is ``<=``, ``<``,
    ``>=`` or ``>``. Values are in the metric's own units (DSP slices, LUTs, ns, ...).
    """
    if op not in ("<=", "<", ">=", ">"):
        raise ValueError(f"unknown comparison {op!r}; expected <=, <, >= or >")
    upper = op in ("<=", "<")
    if interval is None or len(interval) != 2 or not all(math.isfinite(float(v)) for v in interval):
        met = point <= bound if op == "<=" else point < bound if op == "<" else point >= bound if op == ">=" \
            else point > bound
        return 1.0 if met else 0.0
    lo, hi = float(min(interval)), float(max(interval))
    if point < 0 or lo < 0 or bound < 0:  # not a count (e.g. a difference): judge on the point value
        return probability_met(point, op, bound, None)
    z = _z_of_level(level)
    lp, lb = math.log(point + _OFFSET), math.log(bound + _OFFSET)
    sigma_lo = max((lp - math.log(min(lo, point) + _OFFSET)) / z, 1e-9)
    sigma_hi = max((math.log(max(hi, point) + _OFFSET) - lp) / z, 1e-9)
    sigma = sigma_hi if lb >= lp else sigma_lo
    p_below = _phi((lb - lp) / sigma)
    return p_below if upper else 1.0 - p_below


def near_budget(probability: float, confidence: float = 0.9) -> bool:
    """True when a budget is neither surely met nor surely broken (``1 - confidence < p < confidence``)."""
    return (1.0 - confidence) < probability < confidence


def _z_of_level(level: float) -> float:
    if abs(level - 0.8) < 1e-12:
        return Z80
    if not 0.0 < level < 1.0:
        raise ValueError(f"interval level must be in (0, 1), got {level}")
    # Inverse of the standard normal CDF by bisection (the level is a constant; no SciPy needed).
    target = 0.5 + level / 2.0
    a, b = 0.0, 10.0
    for _ in range(80):
        m = (a + b) / 2.0
        if _phi(m) < target:
            a = m
        else:
            b = m
    return (a + b) / 2.0


def percent_bound(percent: float, metric: str, part_totals: Mapping[str, float]) -> float:
    """A ``%`` budget as an absolute bound: ``percent`` of the target part's total of ``metric``
    (a space metric name, ``bram`` or ``bram_18k`` for BRAM; ``part_totals`` as ``Part.totals()``)."""
    return percent / 100.0 * float(part_totals[COST_METRICS.get(metric, metric)])
