"""Calibration: multiplicative corrections of the analytic totals, fitted from synthesis records.

Model, per metric m: ``log(true + c_m) = log(pred + c_m) + mu + eps``, ``eps ~ N(0, sigma^2)``,
where ``c_m`` is a small offset (so that 0 DSPs or 0 BRAMs are representable).

Records are grouped by *design family*: the tool, part family and design class (``vitis|zynq7|mlp``),
the tool, version, part family and class (``vitis|2021.1|zynq7|mlp``), and inside that by
*architecture* (the shapes of the dense/conv layers, ``vitis|2021.1|zynq7|mlp|arch:1a2b``). The design
class (``mlp``: dense layers only; ``cnn``: any convolution or pooling) keeps a correction fitted on
MLPs off CNN estimates and the other way round; inside a class, a group of a single architecture
corrects that architecture only (its group level is the identity), so one CNN never rescales another.
Records of one architecture (its ReuseFactor, precision or binding variants) are near-duplicates, so
a group's evidence is counted in architectures, not records:

* group level (``tool|version|family`` and ``tool|family``): ``mu = lam * M`` with ``M`` the median of
  the architectures' median log-ratios. ``lam`` (0..1) is chosen by leave-one-architecture-out inside
  the training records (empirical Bayes): the shrinkage that best predicts each left-out
  architecture from the others. Groups whose architectures disagree get ``lam = 0`` (identity);
  with 2 architectures ``lam = 2 / 5``, with 1 ``lam = 0``. ``sigma`` is the spread of the
  leave-one-architecture-out residuals, pooled with the default spread (3 pseudo-architectures).
* architecture level: the records of a design of the same architecture as the target,
  ``mu = (n median(r) + 3 mu_group) / (n + 3)``, ``sigma^2 = (sum (r - mu)^2 + 3 sigma_group^2) / (n + 3)``.

A correction is only applied to targets of the same tool and part family (most specific level
first); any other target gets the identity and the default (uncalibrated) interval. 0 records give
the identity; 1 record moves part of the way. Predictive 80 % intervals:
``mu ± 1.2816 sigma sqrt(1 + 1/(n + k))`` (n architectures or records, k pseudo-counts).

Bad records (failed synthesis, missing/NaN/negative/zero figures, no layer list) are dropped
and logged; a single metric whose log-ratio is absurd (> ``ABSURD_LOG_RATIO``) is dropped for
that metric only. Format 1 files (the former tool → global hierarchy) and format 2 files (groups
without the design class) still load and apply as before.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import tempfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from cost_models.analytic import analytic_totals
from cost_models.constants import ConstantSet
from cost_models.errors import CalibrationError, UnknownPartError
from cost_models.layers import CONV_KINDS, DEPTHWISE_KINDS, POOLING_KINDS, WEIGHTED_KINDS, LayerSpec, Target
from cost_models.parts import part_family
from cost_models.records import METRICS, SynthesisRecord

__all__ = [
    "DEFAULT_CALIBRATION", "DEFAULT_LOG_SIGMA", "LOG_OFFSET", "PRIOR_CALIBRATION", "PRIOR_FILE", "Z80",
    "Calibration", "CalibrationPlan", "Correction", "design_class", "fit_calibration",
]

log = logging.getLogger(__name__)

FORMAT = "cost_models.calibration/3"
FORMAT_V2 = "cost_models.calibration/2"
"""Groups without the design class (read and applied with the keys they were fitted with)."""
LEGACY_FORMATS = ("cost_models.calibration/1", FORMAT_V2)
Z80 = 1.2815515655446004
"""Standard normal quantile for a central 80 % interval."""
LOG_OFFSET: dict[str, float] = {"dsp": 5.0, "lut": 200.0, "ff": 200.0, "bram_18k": 1.0,
                                "latency_cycles": 1.0, "ii": 0.5}
"""Offsets c_m of the log transform (units of the metric)."""
DEFAULT_LOG_SIGMA: dict[str, float] = {"dsp": 0.75, "lut": 0.45, "ff": 0.5, "bram_18k": 0.8,
                                       "latency_cycles": 0.4, "ii": 0.4}
"""Spread (log scale) of the uncalibrated analytic model, from its validation (docs)."""
PRIOR_WEIGHT = 1.0
"""Pseudo-records of the identity correction (0 records: interval widened by sqrt(1 + 1/1))."""
SHRINK_WEIGHT = 3.0
"""Pseudo-architectures (group level) or pseudo-records (architecture level) of the parent."""
MIN_CV_ARCHS = 3
"""Architectures needed before the group shrinkage is chosen by leave-one-architecture-out."""
MIN_REG_ARCHS = 4
"""Architectures needed before a log-linear correction is even tried."""
RIDGE_ALPHAS: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0)
"""Ridge penalties (per record, on centred features) tried for the log-linear correction."""
LAMBDA_GRID: tuple[float, ...] = tuple(i / 10 for i in range(11))
ABSURD_LOG_RATIO = math.log(100.0)
_CNN_KINDS = (*CONV_KINDS, *POOLING_KINDS)
_ARCH_KINDS = (*WEIGHTED_KINDS, *POOLING_KINDS, "batchnorm")
"""Kinds whose shapes make an architecture's signature (an MLP's is its dense shapes, as before)."""


@dataclass
class Correction:
    """Log-scale shift ``mu`` and spread ``sigma`` of one metric in one group.

    ``n``: architectures (group level) or records (architecture level) behind it; ``k``: pseudo-counts;
    ``lam``: the shrinkage factor chosen for a group level (1 = the group's own median, 0 = identity).
    """

    mu: float = 0.0
    sigma: float = 0.5
    n: int = 0
    k: float = PRIOR_WEIGHT
    lam: float = 1.0
    beta: tuple[float, ...] = ()
    """Slopes of a log-linear correction on :func:`features` (empty: constant ``mu``)."""
    x_mean: tuple[float, ...] = ()
    """Feature means of the fit (the slopes act on centred features, ``mu`` at the mean)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mu": self.mu, "sigma": self.sigma, "n": self.n, "k": self.k, "lam": self.lam}
        if self.beta:
            d["beta"], d["x_mean"] = list(self.beta), list(self.x_mean)
        return d

    def shift(self, x: Sequence[float] | None) -> float:
        """Log shift for features ``x`` (``mu`` when there are no slopes or no features)."""
        if not self.beta or x is None or len(x) != len(self.beta):
            return self.mu
        return self.mu + sum(b * (xi - m) for b, xi, m in zip(self.beta, x, self.x_mean, strict=True))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Correction:
        c = cls(float(d["mu"]), float(d["sigma"]), int(d.get("n", 0)), float(d.get("k", PRIOR_WEIGHT)),
                float(d.get("lam", 1.0)), tuple(float(v) for v in d.get("beta", ())),
                tuple(float(v) for v in d.get("x_mean", ())))
        if len(c.beta) != len(c.x_mean) or not all(math.isfinite(v) for v in (*c.beta, *c.x_mean)):
            raise ValueError(f"bad slopes: {d}")
        if not (math.isfinite(c.mu) and math.isfinite(c.sigma) and c.sigma >= 0 and math.isfinite(c.k)
                and c.n + c.k > 0):
            raise ValueError(f"not finite: {d}")
        return c

    def half_width(self) -> float:
        """Half the 80 % predictive interval on the log scale: ``Z80 sigma sqrt(1 + 1/(n + k))``."""
        return Z80 * (self.sigma * math.sqrt(1.0 + 1.0 / (self.n + self.k)))

    def apply(self, metric: str, value: float, x: Sequence[float] | None = None) -> tuple[float, float, float]:
        """(corrected value, 80 % low, 80 % high) for an analytic value (``x``: its :func:`features`)."""
        c = LOG_OFFSET[metric]
        mu = self.mu if not self.beta else self.shift(x)
        centre = math.log((0.0 if value < 0.0 else value) + c) + mu  # max(value, 0.0), written out
        mid = math.exp(centre) - c
        lo, hi = log_bounds(centre, self.half_width(), c)
        return (mid if mid > 0.0 else 0.0), lo, hi


def log_bounds(centre: float, half: float, offset: float) -> tuple[float, float]:
    """The interval ``exp(centre -/+ half) - offset`` (``centre`` and ``half`` on the log scale of a metric with
    offset ``offset``), at least 0 (the two-value ``max`` written out: builtin ``max`` costs more here)."""
    lo = math.exp(centre - half) - offset
    hi = math.exp(centre + half) - offset
    return (lo if lo > 0.0 else 0.0), (hi if hi > 0.0 else 0.0)


_AT_LEAST_ONE = ("latency_cycles", "ii")
"""Metrics counted in cycles: a corrected value and its interval are at least 1."""


class _Step(NamedTuple):
    """How :class:`CalibrationPlan` corrects one metric."""

    metric: str
    offset: float
    """``LOG_OFFSET[metric]``."""
    mu: float
    """The correction's log shift (:attr:`Correction.mu`)."""
    regression: Correction | None
    """The correction when it has slopes (its shift depends on :func:`features`), else None."""
    half: float
    """:meth:`Correction.half_width`."""
    at_least_one: bool


@dataclass(frozen=True)
class CalibrationPlan:
    """A calibration resolved for one target and design (:meth:`Calibration.plan`): per metric (in the order of
    :data:`~cost_models.records.METRICS`), its correction, and the group key used for DSP (None: uncalibrated)."""

    steps: tuple[_Step, ...]
    level: str | None

    def apply(self, totals: Mapping[str, float], layers: Sequence[LayerSpec] | None = None,
              spreads: Sequence[float | None] | None = None) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        """Corrected totals and their 80 % intervals (see :meth:`Calibration.apply`).

        ``spreads`` (optional, one per step): a half interval (log scale, ``Z80 sigma``) that replaces the
        correction's own for that metric: the interval is then that spread around the corrected value
        (None: the correction's interval)."""
        out: dict[str, float] = {}
        bounds: dict[str, tuple[float, float]] = {}
        exp, log = math.exp, math.log
        for (m, c, mu, regression, half, one), spread in zip(self.steps, spreads or _NO_SPREADS, strict=True):
            value = totals[m]
            if regression is not None:
                mu = regression.shift(features(layers, m, value))
            centre = log((0.0 if value < 0.0 else value) + c) + mu  # max(value, 0.0), written out
            mid = exp(centre) - c
            mid = mid if mid > 0.0 else 0.0
            if spread is not None:  # the spread around the corrected value
                if one:
                    mid = 1.0 if mid < 1.0 else mid
                centre, half = log(mid + c), spread
            lo = exp(centre - half) - c  # log_bounds(centre, half, c), written out
            hi = exp(centre + half) - c
            lo, hi = (lo if lo > 0.0 else 0.0), (hi if hi > 0.0 else 0.0)
            if one:
                mid, lo, hi = (1.0 if mid < 1.0 else mid), (1.0 if lo < 1.0 else lo), (1.0 if hi < 1.0 else hi)
            out[m], bounds[m] = mid, (lo, hi)
        return out, bounds


_NO_SPREADS = (None,) * len(METRICS)


def design_class(layers: Sequence[LayerSpec] | None) -> str:
    """``cnn`` when the design has a convolution or pooling layer, else ``mlp``."""
    for s in layers or ():
        if s.kind in _CNN_KINDS:
            return "cnn"
    return "mlp"


def group_keys(tool: str | None, version: str | None, family: str, cls: str | None = None) -> list[str]:
    """Group keys from the most specific to the most general level (same tool, part family and
    design class; ``cls=None``: the keys of format-2 files, which had no class)."""
    return list(_group_keys(tool, version, family, cls))


@lru_cache(maxsize=256)
def _group_keys(tool: str | None, version: str | None, family: str, cls: str | None) -> tuple[str, ...]:
    t = (tool or "unknown").lower()
    tail = f"|{cls}" if cls else ""
    return (f"{t}|{version or 'unknown'}|{family}{tail}", f"{t}|{family}{tail}")


def architecture(layers: Sequence[LayerSpec] | None) -> str | None:
    """A short signature of the layer shapes (kind, n_in, n_out of the dense/conv/norm layers)."""
    if not layers:
        return None
    shapes = tuple((s.kind, s.n_in, s.n_out) for s in layers if s.kind in _ARCH_KINDS)
    if not shapes:
        return None
    return f"{zlib.crc32(repr(shapes).encode()) & 0xFFFFFFFF:08x}"


def features(layers: Sequence[LayerSpec] | None, metric: str, value: float) -> tuple[float, float] | None:
    """Features of the log-linear correction: share of multiplications forced to LUTs, log size."""
    if not layers:
        return None
    w = [(s.n_weights if s.kind in DEPTHWISE_KINDS else s.n_in * s.n_out, s.mult_impl == "lut")
         for s in layers if s.kind in (*WEIGHTED_KINDS, "batchnorm")]
    tot = sum(a for a, _ in w)
    share = sum(a for a, lut in w if lut) / tot if tot else 0.0
    return share, math.log(max(value, 0.0) + LOG_OFFSET[metric])


def _target_keys(target: Target, layers: Sequence[LayerSpec] | None,
                 arch_leaves: set[str] | frozenset[str] | None = None, with_class: bool = True,
                 cls: str | None = None) -> list[str]:
    """``cls``: the design class of ``layers`` when the caller knows it (else computed)."""
    keys = group_keys(target.backend, target.tool_version, part_family(target.part),
                      (cls or design_class(layers)) if with_class else None)
    if arch_leaves is not None and keys[0] not in arch_leaves:
        return keys  # no architecture-level correction under this group: skip the signature
    arch = architecture(layers)
    return ([f"{keys[0]}|arch:{arch}"] if arch else []) + keys


def _legacy_target_keys(target: Target) -> list[str]:
    t = (target.backend or "unknown").lower()
    return [f"{t}|{target.tool_version or 'unknown'}|{part_family(target.part)}", t, "global"]


@dataclass
class _Row:
    leaf: str
    tool_family: str
    arch: str
    ratios: dict[str, float]
    x: dict[str, tuple[float, float] | None]


@dataclass
class Calibration:
    """Per-group, per-metric corrections; ``groups[key][metric]`` with keys from :func:`group_keys`
    (plus ``<tool|version|family>|arch:<signature>`` architecture levels)."""

    groups: dict[str, dict[str, Correction]] = field(default_factory=dict)
    n_records: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    """Records left out of the fit, with the reason (source, reason)."""
    format: str = FORMAT
    source: str = ""
    """Where the calibration comes from: ``prior`` (shipped, fitted on the shared reports), ``run``, ..."""

    def _arch_leaves(self) -> frozenset[str]:
        """Group keys that have architecture-level children (computed once per groups object)."""
        cached = self.__dict__.get("_arch_cache")
        if cached is None or cached[0] is not self.groups or cached[1] != len(self.groups):
            leaves = frozenset(k.split("|arch:", 1)[0] for k in self.groups if "|arch:" in k)
            cached = (self.groups, len(self.groups), leaves)
            self.__dict__["_arch_cache"] = cached
        return cached[2]

    # ----------------------------------------------------------------------- applying
    def _keys(self, target: Target, layers: Sequence[LayerSpec] | None, cls: str | None = None) -> list[str]:
        """The target's group keys in this file's format, most specific first (``cls``: the design class of
        ``layers``, when known)."""
        if self.format == FORMAT_V2:
            return _target_keys(target, layers, self._arch_leaves(), with_class=False)
        if self.format in LEGACY_FORMATS:
            return _legacy_target_keys(target)
        return _target_keys(target, layers, self._arch_leaves(), cls=cls)

    def class_keys(self, target: Target, cls: str) -> list[str]:
        """The target's group keys for designs of class ``cls`` (``mlp``/``cnn``) before any layer list is
        known (no architecture-level key), most specific first, in this file's format."""
        if self.format == FORMAT_V2:
            return group_keys(target.backend, target.tool_version, part_family(target.part))
        if self.format in LEGACY_FORMATS:
            return _legacy_target_keys(target)
        return group_keys(target.backend, target.tool_version, part_family(target.part), cls)

    def lookup(self, target: Target, metric: str, layers: Sequence[LayerSpec] | None = None,
               keys: Sequence[str] | None = None) -> tuple[Correction, str | None]:
        """The most specific correction fitted for ``target`` (and its layers), and its group key.

        None: no group of the target's tool and part family, identity with the default spread.
        ``keys`` (optional): the target's group keys, when the caller has them already.
        """
        if keys is None:
            keys = self._keys(target, layers)
        for key in keys:
            g = self.groups.get(key)
            if g is not None and metric in g:
                return g[metric], key
        return Correction(0.0, DEFAULT_LOG_SIGMA[metric], 0, PRIOR_WEIGHT), None

    def plan(self, target: Target, layers: Sequence[LayerSpec] | None = None, cls: str | None = None
             ) -> CalibrationPlan:
        """What applying this calibration to ``target`` (and its layers) takes: per metric, its correction and
        half interval, and the group key used for DSP. ``cls``: the design class of ``layers``
        (:func:`design_class`), when the caller knows it already.

        Memoised per group keys (the target's tool, version and part family, the design class and
        architecture) while ``groups`` is the same dict of the same size (a new fit replaces it); and, where
        no architecture-level group can apply, per design class for the last target object seen (the same
        target object, frozen, asks for the same keys)."""
        cache = self.__dict__.get("_plan_cache")
        if cache is None or cache[0] is not self.groups or cache[1] != len(self.groups):
            cache = (self.groups, len(self.groups), {}, {})
            self.__dict__["_plan_cache"] = cache
        by_keys: dict[tuple[str, ...], CalibrationPlan] = cache[2]
        last: dict[tuple[str, str], tuple[Target, CalibrationPlan]] = cache[3]
        if cls is None:
            cls = design_class(layers)
        seen = last.get((cls, self.format))
        if seen is not None and seen[0] is target:
            return seen[1]
        keys = tuple(self._keys(target, layers, cls))
        found = by_keys.get(keys)
        if found is None:
            steps = []
            level: str | None = None
            for m in METRICS:
                corr, key = self.lookup(target, m, layers, keys)
                if m == "dsp":
                    level = key
                steps.append(_Step(m, LOG_OFFSET[m], corr.mu, corr if corr.beta else None, corr.half_width(),
                                   m in _AT_LEAST_ONE))
            found = by_keys[keys] = CalibrationPlan(tuple(steps), level)
        by_architecture = self.format != LEGACY_FORMATS[0] and self.class_keys(target, cls)[0] in self._arch_leaves()
        if not by_architecture:
            last[(cls, self.format)] = (target, found)
        return found

    def apply(self, totals: Mapping[str, float], target: Target, layers: Sequence[LayerSpec] | None = None
              ) -> tuple[dict[str, float], dict[str, tuple[float, float]], str | None]:
        """Corrected totals, 80 % intervals, and the group key used for DSP (None when uncalibrated).

        ``layers`` (optional) selects an architecture-level correction when records of the same
        architecture were in the fit.
        """
        plan = self.plan(target, layers)
        out, bounds = plan.apply(totals, layers)
        return out, bounds, plan.level

    # ----------------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, records: Iterable[SynthesisRecord], constants: ConstantSet | None = None,
            source: str = "run") -> Calibration:
        """Fit from records that carry their layer list (see module docstring for the model).

        ``constants``: the analytic constants whose totals are corrected (default: the shipped set).
        ``source`` names where the calibration comes from (``run``, ``prior``), shown in estimates.
        """
        rows: list[_Row] = []
        rejected: list[dict[str, str]] = []
        for rec in records:
            problems = rec.problems()
            if problems:
                _reject(rejected, rec, "; ".join(problems))
                continue
            assert rec.layers is not None
            try:
                pred, _ = analytic_totals(rec.layers, rec.target(), constants)
            except (UnknownPartError, ValueError) as exc:
                _reject(rejected, rec, f"cannot estimate: {exc}")
                continue
            ratios: dict[str, float] = {}
            xs = {m: features(rec.layers, m, pred[m]) for m in METRICS}
            for m in METRICS:
                c = LOG_OFFSET[m]
                true = float(getattr(rec, m))
                r = math.log(true + c) - math.log(max(pred[m], 0.0) + c)
                if not math.isfinite(r) or abs(r) > ABSURD_LOG_RATIO:
                    _reject(rejected, rec, f"{m}: absurd ratio true/pred = {true:g}/{pred[m]:g}", metric=m)
                    continue
                ratios[m] = r
            leaf, tool_family = group_keys(rec.tool, rec.tool_version, part_family(rec.part), design_class(rec.layers))
            rows.append(_Row(leaf, tool_family, architecture(rec.layers) or "none", ratios, xs))
        cal = cls._from_rows(rows, rejected)
        cal.source = source
        return cal

    @classmethod
    def _from_rows(cls, rows: Sequence[_Row], rejected: list[dict[str, str]]) -> Calibration:
        groups: dict[str, dict[str, Correction]] = {}
        for m in METRICS:
            prior = Correction(0.0, DEFAULT_LOG_SIGMA[m], 0, PRIOR_WEIGHT)
            for key in sorted({r.tool_family for r in rows}):
                groups.setdefault(key, {})[m] = _fit_group(_by_arch(rows, m, lambda r, k=key: r.tool_family == k),
                                                           prior)
            for leaf in sorted({r.leaf for r in rows}):
                by_arch = _by_arch(rows, m, lambda r, k=leaf: r.leaf == k)
                lc = _fit_group(by_arch, prior)
                lc = _maybe_regression(rows, m, leaf, lc, prior)
                groups.setdefault(leaf, {})[m] = lc
                for arch, values in by_arch.items():
                    if arch != "none":
                        groups.setdefault(f"{leaf}|arch:{arch}", {})[m] = _shrink(values, lc, SHRINK_WEIGHT)
        return cls(groups=groups, n_records=len(rows), rejected=rejected)

    # ----------------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "n_records": self.n_records, "source": self.source,
                "groups": {k: {m: c.to_dict() for m, c in g.items()} for k, g in self.groups.items()},
                "rejected": list(self.rejected)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        if not isinstance(data, Mapping) or not str(data.get("format", "")).startswith("cost_models.calibration/"):
            raise CalibrationError(f"not a cost_models calibration (expected format {FORMAT!r})")
        fmt = str(data["format"])
        if fmt != FORMAT and fmt not in LEGACY_FORMATS:
            raise CalibrationError(f"unsupported calibration format version {fmt!r} (this version reads "
                                   f"{', '.join((FORMAT, *LEGACY_FORMATS))}); refit it with this version")
        try:
            groups = {str(k): {str(m): Correction.from_dict(c) for m, c in g.items() if m in METRICS}
                      for k, g in data["groups"].items()}
            return cls(groups=groups, n_records=int(data.get("n_records", 0)),
                       rejected=list(data.get("rejected", [])), format=fmt, source=str(data.get("source", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CalibrationError(f"malformed calibration: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write JSON atomically (temp file in the same folder + ``os.replace``)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_dict(), f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return p

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Calibration:
        """Read a file written by :meth:`save`; :class:`CalibrationError` (a ValueError) naming the file if bad."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CalibrationError(f"{p}: calibration file not found") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CalibrationError(f"{p}: not a readable JSON calibration: {exc}") from None
        try:
            return cls.from_dict(data)
        except CalibrationError as exc:
            raise CalibrationError(f"{p}: {exc}") from None


def _by_arch(rows: Sequence[_Row], metric: str, keep: Any) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in rows:
        if keep(r) and metric in r.ratios:
            out.setdefault(r.arch, []).append(r.ratios[metric])
    return out


def _fit_group(by_arch: Mapping[str, Sequence[float]], prior: Correction) -> Correction:
    """Group-level correction toward ``prior`` (identity), shrinkage chosen by leave-one-architecture-out."""
    archs = sorted(by_arch)
    j = len(archs)
    if j == 0:
        return Correction(prior.mu, prior.sigma, 0, prior.n + prior.k, 0.0)
    med = {a: statistics.median(by_arch[a]) for a in archs}
    center = statistics.median(med.values())
    if j >= 2:
        # the group centre each architecture would have been given without it
        loo = {a: statistics.median([med[b] for b in archs if b != a]) for a in archs}
    if j >= MIN_CV_ARCHS:
        best: tuple[float, float] | None = None
        for lam in LAMBDA_GRID:
            loss = sum(statistics.median([abs(v - prior.mu - lam * (loo[a] - prior.mu)) for v in by_arch[a]])
                       for a in archs)
            if best is None or loss < best[0] - 1e-12:
                best = (loss, lam)
        assert best is not None
        lam = best[1]
    else:  # one architecture never corrects another: it has its own architecture-level correction
        lam = 0.0 if j < 2 else j / (j + SHRINK_WEIGHT)
    mu = prior.mu + lam * (center - prior.mu)
    if j >= 2:
        # honest spread: residuals of each architecture predicted from the others
        res = [v - prior.mu - lam * (loo[a] - prior.mu) for a in archs for v in by_arch[a]]
    else:
        res = [v - mu for a in archs for v in by_arch[a]]
    s2 = statistics.fmean([e * e for e in res])
    var = (j * s2 + SHRINK_WEIGHT * prior.sigma ** 2) / (j + SHRINK_WEIGHT)
    return Correction(mu, math.sqrt(var), j, SHRINK_WEIGHT, lam)


def _maybe_regression(rows: Sequence[_Row], metric: str, leaf: str, const: Correction,
                      prior: Correction) -> Correction:
    """A ridge log-linear correction on :func:`features`, kept only if it predicts left-out architectures better.

    Both candidates are scored by leave-one-architecture-out (sum over architectures of the median
    absolute log error); the regression needs ``MIN_REG_ARCHS`` architectures and must win.
    """
    data = [(r.arch, r.ratios[metric], r.x[metric]) for r in rows
            if r.leaf == leaf and metric in r.ratios and r.x.get(metric) is not None]
    archs = sorted({a for a, _, _ in data})
    if len(archs) < MIN_REG_ARCHS:
        return const

    def loco(predict: Any) -> float:
        loss = 0.0
        for a in archs:
            train = [(y, x) for b, y, x in data if b != a]
            f = predict(train)
            loss += statistics.median([abs(y - f(x)) for b, y, x in data if b == a])
        return loss

    base_loss = sum(statistics.median([abs(y - prior.mu - const.lam * (_loo_center(data, a) - prior.mu))
                                       for b, y, _ in data if b == a]) for a in archs)
    best: tuple[float, float] | None = None
    for alpha in RIDGE_ALPHAS:
        loss = loco(lambda train, al=alpha: _ridge(train, al)[0])
        if loss < base_loss - 1e-9 and (best is None or loss < best[0]):
            best = (loss, alpha)
    if best is None:
        return const
    _, beta, xm, mu = _ridge([(y, x) for _, y, x in data], best[1])
    res: list[float] = []
    for a in archs:
        f = _ridge([(y, x) for b, y, x in data if b != a], best[1])[0]
        res += [y - f(x) for b, y, x in data if b == a]
    j = len(archs)
    var = (j * statistics.fmean([e * e for e in res]) + SHRINK_WEIGHT * prior.sigma ** 2) / (j + SHRINK_WEIGHT)
    return Correction(mu, math.sqrt(var), j, SHRINK_WEIGHT, const.lam, beta, xm)


def _loo_center(data: Sequence[tuple[str, float, Any]], arch: str) -> float:
    meds: dict[str, list[float]] = {}
    for b, y, _ in data:
        if b != arch:
            meds.setdefault(b, []).append(y)
    return statistics.median([statistics.median(v) for v in meds.values()])


def _ridge(train: Sequence[tuple[float, Any]], alpha: float) -> tuple[Any, tuple[float, ...], tuple[float, ...], float]:
    """Ridge on centred features, free intercept; returns (predict, slopes, feature means, intercept)."""
    n = len(train)
    p = len(train[0][1])
    xm = tuple(statistics.fmean([x[i] for _, x in train]) for i in range(p))
    ym = statistics.fmean([y for y, _ in train])
    a = [[sum((x[i] - xm[i]) * (x[k] - xm[k]) for _, x in train) + (alpha * n if i == k else 0.0)
          for k in range(p)] for i in range(p)]
    b = [sum((x[i] - xm[i]) * (y - ym) for y, x in train) for i in range(p)]
    beta = tuple(_solve(a, b))
    intercept = ym

    def predict(x: Sequence[float]) -> float:
        return intercept + sum(bi * (xi - mi) for bi, xi, mi in zip(beta, x, xm, strict=True))

    return predict, beta, xm, intercept


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """The solution x of ``a x = b`` for a small symmetric positive definite ``a`` (the ridge normal
    equations, regularised, so never singular; least squares if it ever were)."""
    import numpy as np

    m, v = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    try:
        x = np.linalg.solve(m, v)
    except np.linalg.LinAlgError:
        x = np.linalg.lstsq(m, v, rcond=None)[0]
    return [float(xi) for xi in x]


def _shrink(values: Sequence[float], parent: Correction, k: float) -> Correction:
    n = len(values)
    if n == 0:
        return Correction(parent.mu, parent.sigma, 0, parent.n + parent.k)
    # The median, not the mean: a few designs where the tool did something the layer list cannot
    # show (a fallback schedule, a mislabelled report) must not shift every other estimate.
    mu = (n * statistics.median(values) + k * parent.mu) / (n + k)
    var = (sum((v - mu) ** 2 for v in values) + k * parent.sigma ** 2) / (n + k)
    return Correction(mu, math.sqrt(var), n, k)


def _reject(rejected: list[dict[str, str]], rec: SynthesisRecord, reason: str, metric: str | None = None) -> None:
    what = f"metric {metric} of " if metric else ""
    log.warning("calibration: leaving out %srecord %s: %s", what, rec.source or "<unnamed>", reason)
    rejected.append({"source": rec.source, "reason": reason, **({"metric": metric} if metric else {})})


def fit_calibration(records: Iterable[SynthesisRecord]) -> Calibration:
    """Same as :meth:`Calibration.fit`."""
    return Calibration.fit(records)


DEFAULT_CALIBRATION = Calibration()
"""The identity (no correction): uncalibrated estimates."""
PRIOR_FILE = Path(__file__).with_name("prior_calibration.json")
"""The shipped prior: a calibration fitted on the shared hls4ml reports (benchmarks/validate_cost_model.py)."""


def _load_prior() -> Calibration:
    if not PRIOR_FILE.is_file():
        return DEFAULT_CALIBRATION
    try:
        cal = Calibration.load(PRIOR_FILE)
    except CalibrationError as exc:
        log.warning("shipped prior calibration unreadable (%s); estimates are uncalibrated", exc)
        return DEFAULT_CALIBRATION
    cal.source = cal.source or "prior"
    return cal


PRIOR_CALIBRATION: Calibration = _load_prior()
"""Applied by :func:`cost_models.estimate` when no calibration is given."""
"""No groups: identity correction with the default (uncalibrated) intervals."""
