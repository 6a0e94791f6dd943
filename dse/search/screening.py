"""Cost before training: a candidate's estimate from its parameters alone, and the budget screen.

A design's hardware cost is mostly fixed by its parameters (widths, bits, ReuseFactor, strategy,
sparsity target); training refines it only through the trained zeros and weight values. So each
proposed design is estimated before it is trained (``dse.design.prebuild`` builds its layer list)
and not trained when the study would refuse the trained design with high probability.

What the run learns as trials finish (``DigitModel``, ``PreTrainingError``):

- per weight type, the share of the unpruned weights that quantize to zero and the histogram of
  CSD digits of the non-zero trained weights (the ``WeightStats`` in each trained layer list). Before
  any trial of a type is trained, ``cost_models.weights.typical_weight_stats`` (normal(0, 0.3)
  weights) stands in;
- per cost metric, how far the pre-training estimate was from the trained design's estimate (mean
  and spread of the log ratio), shrunk towards a prior spread while few trials are known, **apart for
  designs whose weight types the digit model knew** (every weighted layer's type had trained
  statistics when the design was estimated) and for the others (some type estimated from typical
  weights). The two differ by an order of magnitude: on ``benchmarks/spaces/sliver.yaml`` a new weight
  type's LUT came out 10-24 % above its pre-training estimate (typical normal weights have fewer CSD
  digits than trained ones), a known type's within a few per cent (log ratio spread about 0.05);
  pooled, the spread stayed near 0.16 and designs 25 % over a LUT bound kept a 7-15 % chance, were
  trained and refused. The prior spread is 0 for latency and II: they follow from widths, bits,
  ReuseFactor and strategy, which training does not change (a spread the run measures still counts).

**The screen predicts the study's verdict.** After training, the study judges a budget on the
trained design's estimate under the run's own rule (``dse.scoring.score``): on the point value, or,
with ``search.budget_confidence = c``, met only when ``probability_met`` on the estimate's 80 %
interval is at least ``c``. The trained estimate is the pre-training one shifted by the pre-to-post
log ratio (mean ``bias``, spread ``sigma`` above); so the probability that the study will count a
budget as met is ``P(shift on the met side of the threshold shift)``, where the threshold is the
shift at which the rule's verdict flips (found by bisection on the rule itself; the model's interval
moves with the point). The cost model's own interval (its error against real synthesis) enters only
through the ``budget_confidence`` rule, as it does in the study: it is shown to the user
(``PreEstimate.intervals``) but it does not let a design through that the study will refuse.

A design is screened out when that probability for some cost budget is below
``search.screen_probability`` (default 0.05). Quality budgets (``accuracy >= …``) are not screened:
they need training.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cost_models.calibration import LOG_OFFSET, Z80
from cost_models.layers import WEIGHTED_KINDS, FixedType, LayerSpec, Target
from cost_models.weight_stats import MAX_DIGITS, WeightStats
from cost_models.weights import typical_weight_stats
from dse.design.candidate import Candidate
from dse.design.layer_kind import as_shape
from dse.design.prebuild import prebuild_layers
from dse.scoring import estimate_dict
from dse.scoring.budgets import probability_met
from dse.space import COST_METRICS, SpaceConfig

log = logging.getLogger(__name__)

__all__ = ["DigitModel", "PreEstimate", "PreTrainingError", "Screener", "verdict_probability"]

PRIOR_LOG_SIGMA: dict[str, float] = {"dsp": 0.5, "lut": 0.3, "ff": 0.2, "bram_18k": 0.2, "latency_cycles": 0.0,
                                     "latency_ns": 0.0, "ii": 0.0}
"""Spread (log ratio) of trained vs pre-training estimates assumed before the run has measured it: the
weight-dependent part of DSP/LUT/FF/BRAM; none for latency and II (training does not move them)."""
PRIOR_LOG_SIGMA_KNOWN: dict[str, float] = {"dsp": 0.25, "lut": 0.1, "ff": 0.1, "bram_18k": 0.1,
                                           "latency_cycles": 0.0, "latency_ns": 0.0, "ii": 0.0}
"""The same for a design whose weight types all have trained statistics in the run's ``DigitModel``: only
the design's own trained values differ from its type's (measured on sliver.yaml: LUT log ratio spread
about 0.05, so 0.1 is a cautious prior the run's own pairs soon outweigh)."""
PRIOR_WEIGHT = 3.0
"""The prior spread counts as this many observed trials."""


def _largest_remainder(shares: list[float], total: int) -> list[int]:
    """Integers proportional to ``shares`` that sum to ``total``."""
    s = sum(shares)
    if total <= 0 or s <= 0:
        return [0] * len(shares)
    raw = [total * x / s for x in shares]
    out = [math.floor(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[: total - sum(out)]:
        out[i] += 1
    return out


@dataclass
class _TypeSums:
    unpruned: float = 0.0
    quant_zeros: float = 0.0
    digits: list[float] = field(default_factory=lambda: [0.0] * MAX_DIGITS)
    unique: list[float] = field(default_factory=lambda: [0.0] * MAX_DIGITS)
    max_bits: int = 0
    bits_sum: float = 0.0
    n_nonzero: int = 0


class DigitModel:
    """Expected trained-weight statistics per weight type, learned from the run's trained layers
    (implements ``dse.design.prebuild.WeightModel``)."""

    def __init__(self) -> None:
        self.sums: dict[str, _TypeSums] = defaultdict(_TypeSums)

    def observe(self, layers: Iterable[LayerSpec], sparsity: Mapping[str, float] | Sequence[float]) -> None:
        """Add the weighted layers (dense, convolutions) of one trained design.

        ``sparsity``: the design's target sparsity per weighted layer, by layer name (the cost model's
        layer names are the design's: ``Candidate.weighted_names``); a layer the mapping does not name
        (one hls4ml added) is not learned from. A sequence pairs with the weighted layers by position."""
        weighted = [s for s in layers if s.kind in WEIGHTED_KINDS and s.weight is not None]
        if isinstance(sparsity, Mapping):
            pairs = [(layer, float(sparsity[layer.name])) for layer in weighted if layer.name in sparsity]
        else:
            pairs = list(zip(weighted, (float(x) for x in sparsity), strict=False))
        for layer, target in pairs:
            if layer.weights is None:
                continue
            assert layer.weight is not None
            acc = self.sums[str(layer.weight)]
            n_w = layer.n_weights
            pruned = target * n_w
            acc.unpruned += n_w - pruned
            acc.quant_zeros += max(0.0, layer.n_zeros - pruned)
            w = layer.weights
            for k in range(MAX_DIGITS):
                acc.digits[k] += w.digits[k]
                acc.unique[k] += w.unique_digits[k]
            acc.max_bits = max(acc.max_bits, w.max_bits)
            acc.bits_sum += w.mean_bits * w.n_nonzero
            acc.n_nonzero += w.n_nonzero

    def known(self, wtype: FixedType) -> bool:
        return self.sums.get(str(wtype), _TypeSums()).n_nonzero > 0

    def covers(self, layers: Iterable[LayerSpec]) -> bool:
        """True when every weighted layer's weight type has trained statistics (True without any)."""
        return all(self.known(s.weight) for s in layers if s.kind in WEIGHTED_KINDS and s.weight is not None)

    def zero_share(self, wtype: FixedType, sparsity: float) -> float:
        acc = self.sums.get(str(wtype))
        if acc is not None and acc.unpruned > 0:
            q0 = acc.quant_zeros / acc.unpruned
        else:
            typical = typical_weight_stats(wtype, 64, 16)
            q0 = 1.0 - typical.n_nonzero / (64 * 16)
        return min(1.0, sparsity + (1.0 - sparsity) * q0)

    def stats(self, wtype: FixedType, n_in: int, n_out: int, n_nonzero: int) -> WeightStats | None:
        acc = self.sums.get(str(wtype))
        if acc is None or acc.n_nonzero == 0 or n_nonzero <= 0:
            return None  # the cost model's type-only fallback (typical trained values)
        digits = _largest_remainder(acc.digits, n_nonzero)
        unique = [min(d, round(d * (u / a))) if a > 0 else 0
                  for d, u, a in zip(digits, acc.unique, acc.digits, strict=True)]
        return WeightStats(n_nonzero=n_nonzero, digits=tuple(digits), unique_digits=tuple(unique),
                           max_bits=acc.max_bits, mean_bits=round(acc.bits_sum / acc.n_nonzero, 4))


class PreTrainingError:
    """How far pre-training estimates were from the trained designs' estimates, per cost metric, kept apart
    for designs whose weight types were all known to the digit model when estimated (``known``) and the
    others: the log ratios ``log(post + c) - log(pre + c)`` (``c``: ``LOG_OFFSET``)."""

    def __init__(self) -> None:
        self.ratios: dict[tuple[str, bool], list[float]] = defaultdict(list)

    def observe(self, pre: Mapping[str, Any], post: Mapping[str, Any], known: bool = False) -> None:
        for m, c in LOG_OFFSET.items():
            if pre.get(m) is not None and post.get(m) is not None:
                self.ratios[(m, known)].append(math.log(float(post[m]) + c) - math.log(float(pre[m]) + c))

    def bias(self, metric: str, known: bool = False) -> float:
        """Mean log ratio, shrunk towards 0 as if ``PRIOR_WEIGHT`` trials had ratio 0."""
        r = self.ratios.get((metric, known), [])
        return sum(r) / (len(r) + PRIOR_WEIGHT) if r else 0.0

    def sigma(self, metric: str, known: bool = False) -> float:
        """Spread of the log ratio around ``bias``: the prior (``PRIOR_LOG_SIGMA_KNOWN`` or
        ``PRIOR_LOG_SIGMA``) counted as ``PRIOR_WEIGHT`` trials, pooled with the measured ratios."""
        prior = (PRIOR_LOG_SIGMA_KNOWN if known else PRIOR_LOG_SIGMA).get(metric, 0.2)
        r = self.ratios.get((metric, known), [])
        b = self.bias(metric, known)
        return math.sqrt((PRIOR_WEIGHT * prior ** 2 + sum((x - b) ** 2 for x in r)) / (PRIOR_WEIGHT + len(r)))


@dataclass(frozen=True)
class PreEstimate:
    """A candidate's cost before training: point values and 80 % intervals (cost keys of the
    estimate: dsp, lut, ff, bram_18k, latency_cycles, latency_ns, ii; the interval combines the cost
    model's own interval with the pre-to-post-training spread), the probability that the study will
    count each budget of the space as met once the design is trained (space order; None for budgets
    training decides; see ``verdict_probability``) and why it is screened out (empty: it may be
    trained)."""

    values: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    probabilities: list[float | None]
    reason: str = ""

    @property
    def p_all_met(self) -> float:
        """The probability that the study will count every cost budget as met (1.0 with none)."""
        return math.prod(p for p in self.probabilities if p is not None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: round(v, 3) for k, v in self.values.items()}
        for k, (lo, hi) in self.intervals.items():
            out[f"{k}_low"], out[f"{k}_high"] = round(lo, 3), round(hi, 3)
        return out


class Screener:
    """Pre-training estimates of candidates of ``space`` on samples of ``input_shape`` (an int: that many
    flat features) with ``n_classes`` classes."""

    def __init__(self, space: SpaceConfig, input_shape: int | Sequence[int], n_classes: int, target: Target,
                 calibration: Any, bounds: list[float]):
        self.space, self.input_shape, self.n_classes = space, as_shape(input_shape), n_classes
        self.target, self.calibration, self.bounds = target, calibration, bounds
        self.digits = DigitModel()
        self.error = PreTrainingError()
        self.seen: set[int] = set()

    def observe_trial(self, number: int, layers: list[LayerSpec], candidate: Candidate,
                      pre: Mapping[str, Any] | None, post: Mapping[str, Any] | None) -> None:
        """Learn from a trained trial (once per number): its layers' weights, and its pre vs trained estimate."""
        if number in self.seen:
            return
        self.seen.add(number)
        known = self.digits.covers(layers)  # as when it was estimated (trials are learned from in order)
        self.digits.observe(layers, dict(zip(candidate.weighted_names, candidate.sparsity, strict=True)))
        if pre and post:
            self.error.observe(pre, post, known)

    @property
    def n_features(self) -> int:
        """Values per sample (the product of ``input_shape``)."""
        return math.prod(self.input_shape)

    def layers(self, cand: Candidate) -> list[LayerSpec]:
        return prebuild_layers(cand, self.space, self.input_shape, self.n_classes, self.digits)

    def estimate(self, cand: Candidate) -> PreEstimate:
        layers = self.layers(cand)
        known = self.digits.covers(layers)
        est = estimate_dict(layers, self.target, self.calibration)
        values: dict[str, float] = {}
        intervals: dict[str, tuple[float, float]] = {}
        model: dict[str, tuple[float, float]] = {}  # the cost model's own 80 % interval, moved by the bias
        spread: dict[str, float] = {}
        offset: dict[str, float] = dict(LOG_OFFSET)
        for m, c in LOG_OFFSET.items():
            if est.get(m) is None:
                continue
            point = float(est[m])
            lo, hi = (est.get("intervals") or {}).get(m, (point, point))
            b, s_pre = self.error.bias(m, known), self.error.sigma(m, known)
            centre = math.log(point + c) + b
            s_lo = max(0.0, math.log(point + c) - math.log(max(float(lo), 0.0) + c)) / Z80
            s_hi = max(0.0, math.log(float(hi) + c) - math.log(point + c)) / Z80
            floor = _floor(m)
            values[m] = max(floor, math.exp(centre) - c)
            intervals[m] = (max(floor, math.exp(centre - Z80 * math.hypot(s_lo, s_pre)) - c),
                            max(floor, math.exp(centre + Z80 * math.hypot(s_hi, s_pre)) - c))
            model[m] = (max(floor, math.exp(centre - Z80 * s_lo) - c), max(floor, math.exp(centre + Z80 * s_hi) - c))
            spread[m] = s_pre
        if "latency_cycles" in values:  # ns follow cycles (one clock)
            period = float(self.target.clock_period_ns)
            values["latency_ns"] = values["latency_cycles"] * period
            lo, hi = intervals["latency_cycles"]
            intervals["latency_ns"] = (lo * period, hi * period)
            lo, hi = model["latency_cycles"]
            model["latency_ns"] = (lo * period, hi * period)
            spread["latency_ns"] = spread["latency_cycles"]
            offset["latency_ns"] = LOG_OFFSET["latency_cycles"] * period
        confidence = self.space.search.budget_confidence
        probabilities: list[float | None] = []
        reasons = []
        for con, bound in zip(self.space.constraints, self.bounds, strict=True):
            key = COST_METRICS.get(con.metric)
            if key is None or key not in values:
                probabilities.append(None)
                continue
            p = verdict_probability(values[key], con.op, bound, model[key], spread[key], confidence,
                                    offset=offset[key], floor=_floor(key))
            probabilities.append(p)
            if p < self.space.search.screen_probability:
                lo, hi = intervals[key]
                rule = "on the point estimate" if confidence is None else f"at confidence {confidence:g}"
                reasons.append(f"{con.metric} {values[key]:.4g} (80 % {lo:.4g}-{hi:.4g}) breaks {con} "
                               f"(P(met) = {p:.3f}, judged {rule})")
        return PreEstimate(values, intervals, probabilities, "; ".join(reasons))


def _floor(metric: str) -> float:
    """The smallest value a metric takes (1 cycle of latency or II; 0 of resources)."""
    return 1.0 if metric in ("latency_cycles", "ii") else 0.0


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def verdict_probability(point: float, op: str, bound: float, interval: tuple[float, float] | None, spread: float,
                        confidence: float | None = None, offset: float = 1.0, floor: float = 0.0) -> float:
    """Probability (0..1) that the study will count ``value <op> bound`` as met once the design is trained.

    ``point`` is the expected trained estimate (metric units), ``interval`` the cost model's 80 % interval
    around it, ``spread`` the standard deviation of ``log(trained + offset) - log(point + offset)`` (how far
    training moves the estimate; 0: not at all). The study's rule (``dse.scoring.score``): with
    ``confidence`` None the budget is met when the trained point meets it; else when ``probability_met`` of
    the trained point and its interval (moved with the point) is at least ``confidence``. The rule's verdict
    flips at one shift of the log; the answer is the normal probability of the shifts on the met side."""
    upper = op in ("<=", "<")

    def met(shift: float) -> bool:
        factor = math.exp(shift)

        def moved(v: float) -> float:
            return max(floor, (v + offset) * factor - offset)

        x = moved(point)
        if confidence is None or interval is None:
            return probability_met(x, op, bound, None) >= 0.5
        return probability_met(x, op, bound, (moved(interval[0]), moved(interval[1]))) >= confidence

    if spread <= 1e-9:
        return 1.0 if met(0.0) else 0.0
    a, b = -8.0 * spread, 8.0 * spread  # met on [a, threshold] for upper bounds, on [threshold, b] for lower
    if met(b if upper else a):
        return 1.0
    if not met(a if upper else b):
        return 0.0
    for _ in range(50):
        mid = (a + b) / 2.0
        if met(mid) == upper:
            a = mid
        else:
            b = mid
    threshold = (a + b) / 2.0
    return _phi(threshold / spread) if upper else 1.0 - _phi(threshold / spread)
