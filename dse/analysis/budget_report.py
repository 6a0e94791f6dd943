"""Budgets in the user's words: which designs meet them and how sure, which trials broke them and why.

Pure functions of plain data (a trials table as a pandas DataFrame, as ``dse.analysis.Run.trials``
or ``trials.csv``, and the space's constraints); the probabilities come from
:func:`dse.scoring.budgets.probability_met`. Used by the end-of-run summary (``dse run``), the report
and the export.

* :func:`space_budgets`: the space's constraints as absolute :class:`dse.scoring.budgets.Budget` s
  (``%`` budgets against the part's totals) and the confidence of verdicts.
* :func:`budget_probability` / :func:`budget_status`: per design, the probability of meeting each
  budget (measured figures, where synthesized, count as certain) and a verdict ``meets``,
  ``near budget`` or ``breaks`` at a confidence (``search.budget_confidence``, default 0.9).
* :func:`budget_breakers`: per budget, how many complete trials broke it, by how much, and the
  parameter values most associated with breaking it (``hidden_layers >= 2``).
* :func:`outcome_associations` and :func:`failure_summary`: the same for failed and pruned trials.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dse.analysis.formatting import fmt_probability, fmt_value
from dse.scoring.budgets import DEFAULT_CONFIDENCE, Budget, budget_confidence, budgets_of, finite_number, verdict
from dse.scoring.budgets import space_budgets as _space_budgets

__all__ = [
    "Association", "Breakers", "Budget", "DEFAULT_CONFIDENCE", "budget_breakers", "budget_probability",
    "budget_status", "budgets_of", "design_budget_lines", "failure_summary", "format_breakers",
    "outcome_associations", "space_budgets", "with_budget_columns",
]

_UNITS = {"latency_ns": " ns", "latency_cycles": " cycles", "ii": " cycles"}


def space_budgets(space: Any) -> tuple[list[Budget], float]:
    """The budgets of a ``SpaceConfig`` (``dse.scoring.budgets.space_budgets``: ``%`` budgets against its
    part) and the confidence at which a design counts as near a budget (``budget_confidence``)."""
    return _space_budgets(space), budget_confidence(space)



def budget_probability(row: Mapping[str, Any], budget: Budget) -> float | None:
    """Probability (0..1) that the design of a trials-table ``row`` meets ``budget``
    (``Budget.probability_of``: ``measured_<column>`` is certain, else the estimate and its 80 % interval
    ``<column>_low``/``_high``). None when the row has no value for the column (a failed or pruned trial)."""
    return budget.probability_of(row, {budget.column: row.get(f"measured_{budget.column}")})


def budget_status(probability: float | None, confidence: float = DEFAULT_CONFIDENCE) -> str:
    """``meets``, ``near budget``, ``breaks`` or ``-`` (``dse.scoring.budgets.verdict``)."""
    return verdict(probability, confidence)


def with_budget_columns(frame: Any, budgets: Sequence[Budget], confidence: float = DEFAULT_CONFIDENCE) -> Any:
    """A copy of ``frame`` with ``p_met: <budget>`` per budget (probability, NaN when unknown) and
    ``budgets``: ``meets``, ``breaks: <names>``, ``near budget: <name> <p>; ...`` or ``-``."""
    out = frame.copy()
    records = frame.to_dict("records")
    probs = [[budget_probability(r, b) for b in budgets] for r in records]
    for i, b in enumerate(budgets):
        out[f"p_met: {b.name}"] = [p[i] if p[i] is not None else float("nan") for p in probs]
    out["budgets"] = [_verdict(p, budgets, confidence) for p in probs]
    return out


def _verdict(probs: Sequence[float | None], budgets: Sequence[Budget], confidence: float) -> str:
    if not budgets or all(p is None for p in probs):
        return "-"
    statuses = [budget_status(p, confidence) for p in probs]
    broken = [b.name for b, s in zip(budgets, statuses, strict=True) if s == "breaks"]
    near = [f"{b.name} ({fmt_probability(p)})" for b, s, p in zip(budgets, statuses, probs, strict=True)
            if s == "near budget"]
    parts = []
    if broken:
        parts.append("breaks " + ", ".join(broken))
    if near:
        parts.append("near budget: " + ", ".join(near))
    return "; ".join(parts) if parts else "meets"


def design_budget_lines(row: Mapping[str, Any], budgets: Sequence[Budget],
                        confidence: float = DEFAULT_CONFIDENCE) -> list[str]:
    """One line per budget for one design: value, interval, probability of meeting it, verdict.

    ``latency_ns <= 100: estimate 145 (80% interval 90-230): 18% chance to meet it: BREAKS``."""
    lines = []
    for b in budgets:
        p = budget_probability(row, b)
        if p is None:
            continue
        measured = finite_number(row.get(f"measured_{b.column}"))
        if measured is not None:
            figure = f"measured {fmt_value(b.column, measured)}"
        else:
            lo, hi = finite_number(row.get(f"{b.column}_low")), finite_number(row.get(f"{b.column}_high"))
            figure = f"estimate {fmt_value(b.column, row.get(b.column))}"
            if lo is not None and hi is not None:
                figure += f" (80% interval {fmt_value(b.column, lo)}-{fmt_value(b.column, hi)})"
        status = budget_status(p, confidence)
        value = _value_of(row, b.column)
        near = ("NEAR BUDGET: the estimate breaks it, it may still be met"
                if value is not None and b.broken_by(value) else "NEAR BUDGET: may break it")
        verdict = {"meets": "meets it", "breaks": "BREAKS it", "near budget": near}[status]
        lines.append(f"{b.name}: {figure}, {fmt_probability(p)} chance to meet it: {verdict}")
    return lines


# --------------------------------------------------------------------------- why trials break budgets


@dataclass(frozen=True)
class Association:
    """A parameter condition and how often trials meeting it had the outcome (broke, failed, pruned)."""

    condition: str
    """``hidden_layers >= 2``, ``strategy = resource``."""
    hits_in: int
    n_in: int
    hits_out: int
    n_out: int

    @property
    def lift(self) -> float:
        """Outcome rate with the condition minus the rate without it (-1..1)."""
        rin = self.hits_in / self.n_in if self.n_in else 0.0
        rout = self.hits_out / self.n_out if self.n_out else 0.0
        return rin - rout

    def __str__(self) -> str:
        return f"{self.condition} ({self.hits_in} of {self.n_in}, against {self.hits_out} of {self.n_out} otherwise)"


@dataclass
class Breakers:
    """How many complete trials broke one budget, by how much, and the parameters most associated."""

    budget: Budget
    n_trials: int
    """Complete trials with a value for the budget's column."""
    n_broken: int
    """Broken on the point estimate (or the measured figure where synthesized)."""
    n_near: int
    """Within their 80 % interval of the bound: may or may not break it (see ``budget_status``)."""
    excess: list[float] = field(default_factory=list)
    """By how much each broken trial is past the bound (column units), ascending."""
    associations: list[Association] = field(default_factory=list)

    def text(self) -> str:
        if not self.n_trials:
            return f"{self.budget.name}: no complete trial yet"
        head = f"{self.budget.name}: {self.n_broken} of {self.n_trials} complete trials broke it"
        if self.excess:
            lo, hi = self.excess[0], self.excess[-1]
            med = self.excess[len(self.excess) // 2]
            by = fmt_value(self.budget.column, lo) if lo == hi else \
                f"{fmt_value(self.budget.column, lo)}-{fmt_value(self.budget.column, hi)}"
            unit = _UNITS.get(self.budget.column, "")
            head += f", by {by}{unit}"
            if len(self.excess) > 2:
                head += f" (median {fmt_value(self.budget.column, med)}{unit})"
        if self.n_near:
            head += f"; {self.n_near} near it (interval across the bound)"
        if self.associations:
            head += "; most associated: " + "; ".join(map(str, self.associations))
        return head


def _value_of(row: Mapping[str, Any], column: str) -> float | None:
    measured = finite_number(row.get(f"measured_{column}"))
    return measured if measured is not None else finite_number(row.get(column))


def budget_breakers(frame: Any, budgets: Sequence[Budget], confidence: float = DEFAULT_CONFIDENCE,
                    top: int = 2) -> list[Breakers]:
    """Per budget, the complete trials that broke it and the ``top`` parameter conditions most
    associated with breaking it (see :func:`outcome_associations`)."""
    if frame is None or len(frame) == 0 or "state" not in frame.columns:
        return [Breakers(b, 0, 0, 0) for b in budgets]
    complete = frame[frame["state"] == "COMPLETE"]
    out = []
    for b in budgets:
        rows = [r for r in complete.to_dict("records") if _value_of(r, b.column) is not None]
        broken = [b.broken_by(_value_of(r, b.column) or 0.0) for r in rows]
        near = sum(1 for r in rows if budget_status(budget_probability(r, b), confidence) == "near budget")
        excess = sorted(b.excess(_value_of(r, b.column) or 0.0) for r, x in zip(rows, broken, strict=True) if x)
        assoc = outcome_associations(rows, broken, top=top) if any(broken) and not all(broken) else []
        out.append(Breakers(b, len(rows), sum(broken), near, excess, assoc))
    return out


def outcome_associations(rows: Sequence[Mapping[str, Any]], outcome: Sequence[bool], top: int = 2,
                         min_lift: float = 0.3) -> list[Association]:
    """The parameter conditions (``param_*`` columns of ``rows``) that best separate the trials with
    ``outcome`` True from the others: the best condition per parameter, the ``top`` with the largest
    lift (outcome rate inside minus outside) of at least ``min_lift``, covering at least 2 hits (none
    when fewer than 2 trials have the outcome). Numbers give ``p >= v`` / ``p <= v`` thresholds, other
    values ``p = v``."""
    n_hits = sum(bool(o) for o in outcome)
    if not rows or n_hits < 2 or n_hits == len(rows):  # one trial alone is no evidence for a pattern
        return []
    min_hits = 2
    params = sorted({k for r in rows for k in r if str(k).startswith("param_")})
    best: list[Association] = []
    for p in params:
        values = [r.get(p) for r in rows]
        known = [(v, bool(o)) for v, o in zip(values, outcome, strict=True) if not _is_nan(v)]
        if len({_key(v) for v, _ in known}) < 2:
            continue
        name = p[len("param_"):]
        cands: list[Association] = []
        nums = [finite_number(v) for v, _ in known]
        if all(x is not None for x in nums):
            pairs = [(float(x), o) for x, (_, o) in zip(nums, known, strict=True) if x is not None]
            levels = sorted({x for x, _ in pairs})
            for t in levels[1:]:
                cands.append(_assoc(f"{name} >= {_short(t)}", [x >= t for x, _ in pairs], [o for _, o in pairs]))
            for t in levels[:-1]:
                cands.append(_assoc(f"{name} <= {_short(t)}", [x <= t for x, _ in pairs], [o for _, o in pairs]))
        else:
            for level in sorted({_key(v) for v, _ in known}):
                cands.append(_assoc(f"{name} = {level}", [_key(v) == level for v, _ in known],
                                    [o for _, o in known]))
        cands = [a for a in cands if a.hits_in >= min_hits and a.lift >= min_lift]
        if cands:
            best.append(max(cands, key=lambda a: (round(a.lift, 9), a.hits_in, -a.n_in)))
    best.sort(key=lambda a: (-round(a.lift, 9), -a.hits_in, a.condition))
    return best[:top]


def _assoc(condition: str, inside: Sequence[bool], outcome: Sequence[bool]) -> Association:
    hi = sum(1 for i, o in zip(inside, outcome, strict=True) if i and o)
    ni = sum(1 for i in inside if i)
    ho = sum(1 for i, o in zip(inside, outcome, strict=True) if not i and o)
    return Association(condition, hi, ni, ho, len(inside) - ni)


def _is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _key(v: Any) -> str:
    return str(v)


def _short(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def failure_summary(frame: Any, top: int = 2) -> list[str]:
    """Lines on failed and pruned trials: how many, the commonest errors, and the parameter conditions
    most associated with failing or being pruned (among finished trials). Trials failed by an
    interruption (redone on resume) and designs screened out before training (stored as failed trials
    with their reason in ``screened``; the summary counts them apart) are left out. Empty when there is none."""
    if frame is None or len(frame) == 0 or "state" not in frame.columns:
        return []
    records = frame.to_dict("records")
    finished = [r for r in records if r.get("state") in ("COMPLETE", "PRUNED", "FAIL")
                and not (r.get("state") == "FAIL" and (r.get("interrupted") is True or _given(r.get("screened"))))]
    lines = []
    for state, word in (("FAIL", "failed"), ("PRUNED", "pruned")):
        hits = [r.get("state") == state for r in finished]
        n = sum(hits)
        if not n:
            continue
        line = f"{n} of {len(finished)} finished trials {word}"
        if state == "FAIL":
            errors: dict[str, int] = {}
            for r in finished:
                if r.get("state") == "FAIL":
                    msg = str(r.get("error") or "unknown error")
                    errors[msg] = errors.get(msg, 0) + 1
            common = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            line += " (" + "; ".join(f"{c}x {m[:120]}" for m, c in common) + ")"
        assoc = outcome_associations(finished, hits, top=top)
        if assoc:
            line += "; most associated: " + "; ".join(map(str, assoc))
        lines.append(line)
    return lines


def format_breakers(breakers: Sequence[Breakers]) -> list[str]:
    """One line per budget (see :meth:`Breakers.text`)."""
    return [b.text() for b in breakers]


def _given(value: Any) -> bool:
    """A table cell that holds something (not None, NaN or an empty string)."""
    return value is not None and value == value and value != ""
