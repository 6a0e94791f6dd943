"""Which finished trials to synthesize next: the Pareto front first, then the designs the cost
model is least sure about, then those whose estimate sits near a constraint. Never twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dse.scoring.budgets import Budget
from dse.scoring.pareto import pareto_mask

UNCERTAIN_METRICS = ("dsp", "lut", "ff", "latency_cycles")


@dataclass(frozen=True)
class Scored:
    """A complete trial as selection sees it: objective values (in the space's order), relative
    interval widths of its estimates, and constraint values (<= 0 satisfied) with their bounds."""

    number: int
    objectives: tuple[float, ...]
    relative_width: float
    """Largest (high - low) / max(estimate, 1) over the estimated metrics: the model's doubt."""
    constraint_margin: float
    """Smallest |value - bound| / bound over the constraints: how close to a budget (inf if none)."""
    feasible: bool


def select(trials: Iterable[Scored], directions: list[str], k: int, exclude: set[int]) -> list[int]:
    """Up to ``k`` trial numbers, in priority order, none of them in ``exclude``."""
    pool = [t for t in trials if t.number not in exclude]
    if k <= 0 or not pool:
        return []
    chosen: list[int] = []
    feasible = [t for t in pool if t.feasible] or pool
    mask = pareto_mask([t.objectives for t in feasible], directions)
    front = [t for t, keep in zip(feasible, mask, strict=True) if keep]
    # the front, most uncertain first (a front point the model is sure about teaches least)
    for t in sorted(front, key=lambda t: (-t.relative_width, t.number)):
        if len(chosen) < k:
            chosen.append(t.number)
    rest = [t for t in pool if t.number not in chosen]
    by_doubt = sorted(rest, key=lambda t: (-t.relative_width, t.number))
    by_margin = sorted(rest, key=lambda t: (t.constraint_margin, t.number))
    # alternate: most uncertain, nearest a constraint, …
    for a, b in zip(by_doubt, by_margin, strict=True):
        for t in (a, b):
            if len(chosen) < k and t.number not in chosen:
                chosen.append(t.number)
    return chosen[:k]


def relative_width(estimate: dict[str, float]) -> float:
    widths = []
    for m in UNCERTAIN_METRICS:
        lo, hi, v = estimate.get(f"{m}_low"), estimate.get(f"{m}_high"), estimate.get(m)
        if lo is None or hi is None or v is None:
            continue
        widths.append((float(hi) - float(lo)) / max(abs(float(v)), 1.0))
    return max(widths, default=0.0)


def constraint_margin(margins: Sequence[float], budgets: Sequence[Budget]) -> float:
    """Smallest |margin| / |bound| over the budgets (``Budget.relative``): how close to a budget (inf if none)."""
    return min((abs(b.relative(m)) for m, b in zip(margins, budgets, strict=True)), default=float("inf"))
