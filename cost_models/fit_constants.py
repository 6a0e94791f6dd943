"""Fit the analytic model's constants (:class:`~cost_models.constants.Constants`) to synthesis records.

Each repository weighs the same, however many variants it holds (a repository of 36 ReuseFactor
and binding variants of six networks must not outvote one of two projects). The loss of a metric is
the weighted mean absolute log error ``|log((pred + c) / (true + c))|`` (robust to a few bad rows).
Constants are fitted by coordinate search over small physical grids, one metric group at a time:
DSP (hard-constant threshold, merging of equal constants), latency (adder and multiplier delays,
top-level boundary cycles), LUT (LUTs per adder bit), FF (registered bits per cut bit).

Per tool family: the pooled fit of all records, refined on the family's own records when at least
:data:`MIN_FAMILY_REPOS` of its repositories hold Latency-strategy dense layers (the rules most of
the constants drive). The fit domain is io_parallel designs (the
rules these constants drive); the other rules keep their documented constants.

The log-scale spread of the fitted model's residuals (per metric, repository-weighted) becomes the
uncalibrated interval width.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from cost_models.constants import TOOL_FAMILIES, Constants, ConstantSet, tool_family
from cost_models.estimate import analytic_totals
from cost_models.parts import part_family
from cost_models.records import SynthesisRecord

__all__ = ["FitRecord", "fit_constants", "log_error", "residual_sigma"]

log = logging.getLogger(__name__)

MIN_FAMILY_REPOS = 2
LOG_C = {"dsp": 5.0, "lut": 200.0, "ff": 200.0, "latency_cycles": 1.0, "ii": 0.5, "bram_18k": 1.0}
"""Offsets of the log error (units of the metric), so that 0 DSP is a value like any other."""

GRID_HARD = (2, 3, 4)
GRID_SHARE = (0.0, 0.25, 0.5, 0.75, 1.0)
GRID_T_ADD = (0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7)
GRID_T_MULT = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
GRID_BOUNDARY = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0)
GRID_ROM_II = (1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 21.0, 24.0, 32.0)
GRID_SCALE = tuple(round(0.25 * 1.25 ** i, 4) for i in range(16))


@dataclass(frozen=True)
class FitRecord:
    """A record in the fit, with its repository (the unit of weight and of hold-out)."""

    record: SynthesisRecord
    repo: str


def log_error(pred: float, true: float, metric: str) -> float:
    c = LOG_C[metric]
    return math.log(max(pred, 0.0) + c) - math.log(max(true, 0.0) + c)


def _weights(items: Sequence[FitRecord]) -> list[float]:
    n = Counter(r.repo for r in items)
    return [1.0 / n[r.repo] for r in items]


def _loss(items: Sequence[FitRecord], w: Sequence[float], k: Constants, metrics: Sequence[str]) -> float:
    total = 0.0
    for it, wi in zip(items, w, strict=True):
        rec = it.record
        assert rec.layers is not None
        pred, _ = analytic_totals(rec.layers, rec.target(), k)
        for m in metrics:
            true = getattr(rec, m)
            if true is not None:
                total += wi * abs(log_error(pred[m], float(true), m))
    return total


def _search(items: Sequence[FitRecord], w: Sequence[float], k: Constants, metrics: Sequence[str],
            grids: dict[str, Sequence[float]], tie: Callable[[Constants], Constants] | None = None) -> Constants:
    best, best_loss = k, math.inf
    names = list(grids)
    for values in itertools.product(*(grids[n] for n in names)):
        cand = k.with_(**dict(zip(names, values, strict=True)))
        if tie is not None:
            cand = tie(cand)
        loss = _loss(items, w, cand, metrics)
        if loss < best_loss - 1e-12:
            best, best_loss = cand, loss
    return best


def _tie_lut_mult(k: Constants) -> Constants:
    return k.with_(t_mult_lut_ns=k.t_add_ns)


def _fit_one(items: Sequence[FitRecord], start: Constants) -> Constants:
    w = _weights(items)
    k = start
    for _ in range(2):
        k = _search(items, w, k, ("dsp",), {"hard_digits": GRID_HARD, "share": GRID_SHARE})
        k = _search(items, w, k, ("latency_cycles",),
                    {"t_add_ns": GRID_T_ADD, "t_mult_dsp_ns": GRID_T_MULT, "t_boundary_ns": GRID_BOUNDARY},
                    tie=_tie_lut_mult)
        k = _search(items, w, k, ("lut",), {"lut_per_adder_bit": GRID_SCALE})
        k = _search(items, w, k, ("ff",), {"ff_scale": GRID_SCALE})
        k = _search(items, w, k, ("latency_cycles", "ii"), {"big_rom_ii": GRID_ROM_II})
    return k


def in_fit_domain(rec: SynthesisRecord) -> bool:
    """io_parallel designs with a layer list and every figure (the domain these constants drive)."""
    return bool(rec.layers) and not rec.problems() and all(s.io_type == "io_parallel" for s in rec.layers or [])


def fit_constants(items: Iterable[FitRecord], source: str = "fit") -> ConstantSet:
    """Constants per tool family fitted to ``items`` (records outside the fit domain are ignored)."""
    pool = [it for it in items if in_fit_domain(it.record)]
    if not pool:
        return ConstantSet({f: Constants() for f in TOOL_FAMILIES}, f"{source} (no records: defaults)")
    pooled = _fit_one(pool, Constants())
    fams: dict[str, Constants] = {}
    for fam in TOOL_FAMILIES:
        own = [it for it in pool if tool_family(it.record.target()) == fam]
        latency_repos = {it.repo for it in own if any(s.strategy == "latency" and s.kind == "dense"
                                                      for s in it.record.layers or [])}
        if len(latency_repos) >= MIN_FAMILY_REPOS:
            fams[fam] = replace(_fit_one(own, pooled), support=_support(own))
            log.info("%s: fitted on %d records from %d repositories", fam, len(own), len({it.repo for it in own}))
        else:
            fams[fam] = replace(pooled, support=_support(pool), pooled=True)
            log.info("%s: %d repositories; pooled constants", fam, len({it.repo for it in own}))
    return ConstantSet(fams, source)


def _support(items: Sequence[FitRecord]) -> tuple[tuple[str, int], ...]:
    """Repositories per part family among ``items``."""
    repos: dict[str, set[str]] = {}
    for it in items:
        repos.setdefault(part_family(it.record.part), set()).add(it.repo)
    return tuple(sorted((f, len(r)) for f, r in repos.items()))


def residual_sigma(items: Sequence[FitRecord], constants: ConstantSet,
                   metrics: Sequence[str] = ("dsp", "lut", "ff", "latency_cycles", "ii", "bram_18k")
                   ) -> dict[str, float]:
    """Repository-weighted RMS log error per metric of ``constants`` on ``items`` (for intervals)."""
    pool = [it for it in items if it.record.layers and not it.record.problems()]
    w = _weights(pool)
    out: dict[str, float] = {}
    for m in metrics:
        num = den = 0.0
        for it, wi in zip(pool, w, strict=True):
            rec = it.record
            assert rec.layers is not None
            pred, _ = analytic_totals(rec.layers, rec.target(), constants)
            true = getattr(rec, m)
            if true is None:
                continue
            num += wi * log_error(pred[m], float(true), m) ** 2
            den += wi
        out[m] = math.sqrt(num / den) if den else 0.5
    return out
