"""Budgets judged with their uncertainty: the probability that a design meets a constraint.

A cost estimate gives a point value and an 80 % predictive interval ``[low, high]`` per metric
(see :class:`cost_models.Estimate`). The cost model's errors are multiplicative, so the
predictive distribution is taken as a two-piece log-normal around the point value: its lower
half has the spread that puts ``low`` at the 10 % quantile, its upper half the spread that puts
``high`` at the 90 % quantile. A small offset keeps zero counts (0 DSP, 0 BRAM) representable.

Measured figures (a synthesized design) carry no interval: the probability is 1 or 0.

:class:`Budget` is one constraint of the space as an absolute bound (``%`` budgets against the target
part's totals, :func:`space_budgets`), with its margin (:meth:`Budget.margin`, metric units, <= 0 met)
and the probability of meeting it (:meth:`Budget.probability`); :func:`verdict` words a probability
(``meets``, ``near budget``, ``breaks``). Each is stated here only: the scorer, screening, the
proposals, synthesis selection, the end-of-run summary, the report and the export use them.

Pure functions, no third-party imports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dse.errors import ConfigError
from dse.space import COST_METRICS, METRICS

__all__ = ["DEFAULT_CONFIDENCE", "Budget", "Z80", "budget_confidence", "budgets_of", "finite_number", "near_budget",
           "percent_bound", "probability_met", "space_budgets", "verdict", "with_bound"]

DEFAULT_CONFIDENCE = 0.9
"""A budget is "near" when its probability of being met is between 10 % and 90 %, unless the space
sets ``search.budget_confidence``."""

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


@dataclass(frozen=True)
class Budget:
    """One constraint of the space as an absolute bound: ``metric op bound``."""

    name: str
    """As written in the space file, e.g. ``latency_ns <= 100`` or ``lut <= 30%``."""
    metric: str
    """The space's metric name (``accuracy``, ``bram``, ``latency_ns``)."""
    column: str
    """The estimate key and trials-table column of the metric (``val_accuracy``, ``bram_18k``, ``latency_ns``)."""
    op: str
    bound: float
    """In the metric's units (counts, ns, cycles, fraction)."""

    def margin(self, value: float) -> float:
        """How far ``value`` is past the bound, in the metric's units (<= 0 when met on the value itself):
        ``value - bound`` for ``<=``/``<``, ``bound - value`` for ``>=``/``>``."""
        return float(value) - self.bound if self.op in ("<=", "<") else self.bound - float(value)

    def relative(self, margin: float) -> float:
        """A margin (metric units) as a share of the bound, comparable across budgets."""
        return float(margin) / max(abs(self.bound), 1e-9)

    def probability(self, point: float, interval: Sequence[float] | None = None) -> float:
        """Probability (0..1) of meeting the budget for an estimate ``point`` with its 80 % ``interval``
        (None for a measured figure: 1 or 0); see :func:`probability_met`."""
        return probability_met(float(point), self.op, self.bound, interval)

    def probability_of(self, estimate: Mapping[str, Any], measured: Mapping[str, Any] | None = None
                       ) -> float | None:
        """Probability (0..1) that a design meets the budget: certain (1 or 0) from a measured figure
        (``measured[column]``), else from the estimate ``estimate[column]`` and its 80 % interval
        (``<column>_low``/``<column>_high``, as ``estimate_summary`` and the trials table hold it).
        None when neither has a value (a failed or pruned trial)."""
        m = finite_number((measured or {}).get(self.column))
        if m is not None:
            return self.probability(m, None)
        point = finite_number(estimate.get(self.column))
        if point is None:
            return None
        lo, hi = finite_number(estimate.get(f"{self.column}_low")), finite_number(estimate.get(f"{self.column}_high"))
        return self.probability(point, (lo, hi) if lo is not None and hi is not None else None)

    def broken_by(self, value: float) -> bool:
        """True when ``value`` violates the budget (on the value itself, no uncertainty)."""
        return self.probability(value, None) < 0.5

    def excess(self, value: float) -> float:
        """Same as :meth:`margin` (kept for the report's wording)."""
        return self.margin(value)


def budgets_of(constraints: Iterable[Any], part_totals: Mapping[str, float] | None) -> list[Budget]:
    """Absolute budgets from the space's constraints (objects with ``metric``, ``op``, ``bound``,
    ``percent``); a ``%`` budget is taken of ``part_totals`` (``Part.totals()``). Raises ``ConfigError``
    for a ``%`` budget without the part's total of its metric."""
    out = []
    for c in constraints:
        bound = float(c.bound)
        if getattr(c, "percent", False):
            key = COST_METRICS.get(c.metric, c.metric)
            if not part_totals or key not in part_totals:
                raise ConfigError(f"budget {c}: the target part has no total of {key} to take a percentage of")
            bound = percent_bound(bound, c.metric, part_totals)
        out.append(with_bound(c, bound))
    return out


def with_bound(constraint: Any, bound: float) -> Budget:
    """The :class:`Budget` of one space constraint at the absolute ``bound`` (metric units)."""
    return Budget(str(constraint), str(constraint.metric), METRICS.get(constraint.metric, constraint.metric),
                  str(constraint.op), float(bound))


def space_budgets(space: Any) -> list[Budget]:
    """The budgets of a ``SpaceConfig`` in its order (``%`` budgets against ``hardware.part``'s totals).
    Raises ``ConfigError`` for an unknown part (a loaded space has a known one)."""
    if not space.constraints:
        return []
    from cost_models import get_part

    try:
        totals = get_part(space.hardware.part).totals()
    except ValueError as exc:  # UnknownPartError
        raise ConfigError(str(exc)) from None
    return budgets_of(space.constraints, totals)


def budget_confidence(space: Any) -> float:
    """The confidence at which a design counts as meeting a budget in verdicts: the space's
    ``search.budget_confidence``, else :data:`DEFAULT_CONFIDENCE`."""
    return float(getattr(space.search, "budget_confidence", None) or DEFAULT_CONFIDENCE)


def verdict(probability: float | None, confidence: float = DEFAULT_CONFIDENCE) -> str:
    """``meets`` (p >= confidence), ``breaks`` (p <= 1 - confidence), ``near budget`` between, ``-`` unknown."""
    if probability is None:
        return "-"
    if near_budget(probability, confidence):
        return "near budget"
    return "meets" if probability >= confidence else "breaks"


def finite_number(v: Any) -> float | None:
    """A finite float, or None for a missing, non-numeric or NaN cell."""
    if v is None or isinstance(v, (str, bool)):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None
