"""Calibration: multiplicative corrections of the analytic totals, fitted from synthesis records.

Model, per metric m: ``log(true + c_m) = log(pred + c_m) + mu + eps``, ``eps ~ N(0, sigma^2)``,
where ``c_m`` is a small offset (so that 0 DSPs or 0 BRAMs are representable). ``mu`` and
``sigma`` are pooled hierarchically and shrunk toward their parent level:

    global  (prior: mu = 0, sigma = the analytic model's default spread)
      └ tool (vitis / vivado)
          └ tool | version | part family   (e.g. vitis|2021.1|zynq7)

each level: ``mu = (n median(r) + K mu_parent) / (n + K)``, ``sigma^2 = (sum (r - mu)^2 + K sigma_parent^2) / (n + K)``
with ``K`` pseudo-records, so 0 records give the prior (identity), 1 record moves part of the
way, many records dominate. Predictive 80 % intervals: ``mu ± 1.2816 sigma sqrt(1 + 1/(n + K))``.

Bad records (failed synthesis, missing/NaN/negative/zero figures, no layer list) are dropped
and logged; a single metric whose log-ratio is absurd (> ``ABSURD_LOG_RATIO``) is dropped for
that metric only.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cost_models.errors import CalibrationError, UnknownPartError
from cost_models.layers import Target
from cost_models.parts import part_family
from cost_models.records import METRICS, SynthesisRecord

__all__ = [
    "DEFAULT_CALIBRATION", "DEFAULT_LOG_SIGMA", "LOG_OFFSET", "Calibration", "Correction", "fit_calibration",
]

log = logging.getLogger(__name__)

FORMAT = "cost_models.calibration/1"
Z80 = 1.2815515655446004
"""Standard normal quantile for a central 80 % interval."""
LOG_OFFSET: dict[str, float] = {"dsp": 5.0, "lut": 200.0, "ff": 200.0, "bram_18k": 1.0,
                                "latency_cycles": 1.0, "ii": 0.5}
"""Offsets c_m of the log transform (units of the metric)."""
DEFAULT_LOG_SIGMA: dict[str, float] = {"dsp": 0.75, "lut": 0.45, "ff": 0.5, "bram_18k": 0.8,
                                       "latency_cycles": 0.4, "ii": 0.4}
"""Spread (log scale) of the uncalibrated analytic model, from its validation (docs)."""
PRIOR_WEIGHT = 1.0
"""Pseudo-records of the global level's prior (identity correction, default spread)."""
SHRINK_WEIGHT = 3.0
"""Pseudo-records pulling a tool or tool|version|family group toward its parent."""
ABSURD_LOG_RATIO = math.log(100.0)


@dataclass
class Correction:
    """Log-scale shift ``mu`` and spread ``sigma`` of one metric in one group, from ``n`` records."""

    mu: float = 0.0
    sigma: float = 0.5
    n: int = 0
    k: float = PRIOR_WEIGHT

    def to_dict(self) -> dict[str, float]:
        return {"mu": self.mu, "sigma": self.sigma, "n": self.n, "k": self.k}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Correction:
        c = cls(float(d["mu"]), float(d["sigma"]), int(d.get("n", 0)), float(d.get("k", PRIOR_WEIGHT)))
        if not (math.isfinite(c.mu) and math.isfinite(c.sigma) and c.sigma >= 0):
            raise ValueError(f"not finite: {d}")
        return c

    def apply(self, metric: str, value: float) -> tuple[float, float, float]:
        """(corrected value, 80 % low, 80 % high) for an analytic value."""
        c = LOG_OFFSET[metric]
        base = math.log(max(value, 0.0) + c)
        s = self.sigma * math.sqrt(1.0 + 1.0 / (self.n + self.k))
        mid = math.exp(base + self.mu) - c
        lo = math.exp(base + self.mu - Z80 * s) - c
        hi = math.exp(base + self.mu + Z80 * s) - c
        return max(0.0, mid), max(0.0, lo), max(0.0, hi)


def group_keys(tool: str | None, version: str | None, family: str) -> list[str]:
    """Keys from the most specific to the most general level."""
    t = (tool or "unknown").lower()
    return [f"{t}|{version or 'unknown'}|{family}", t, "global"]


def _target_keys(target: Target) -> list[str]:
    return group_keys(target.backend, target.tool_version, part_family(target.part))


@dataclass
class Calibration:
    """Per-group, per-metric corrections; ``groups[key][metric]`` with keys from :func:`group_keys`."""

    groups: dict[str, dict[str, Correction]] = field(default_factory=dict)
    n_records: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    """Records left out of the fit, with the reason (source, reason)."""

    # ----------------------------------------------------------------------- applying
    def lookup(self, target: Target, metric: str) -> tuple[Correction, str | None]:
        """The most specific correction fitted for ``target``, and its group key (None: defaults)."""
        for key in _target_keys(target):
            g = self.groups.get(key)
            if g is not None and metric in g:
                return g[metric], key
        return Correction(0.0, DEFAULT_LOG_SIGMA[metric], 0, PRIOR_WEIGHT), None

    def apply(self, totals: Mapping[str, float], target: Target
              ) -> tuple[dict[str, float], dict[str, tuple[float, float]], str | None]:
        """Corrected totals, 80 % intervals, and the group key used for DSP (None when uncalibrated)."""
        out: dict[str, float] = {}
        bounds: dict[str, tuple[float, float]] = {}
        level: str | None = None
        for m in METRICS:
            corr, key = self.lookup(target, m)
            if m == "dsp":
                level = key
            mid, lo, hi = corr.apply(m, totals[m])
            if m in ("latency_cycles", "ii"):
                mid, lo, hi = max(mid, 1.0), max(lo, 1.0), max(hi, 1.0)
            out[m], bounds[m] = mid, (lo, hi)
        return out, bounds, level

    # ----------------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, records: Iterable[SynthesisRecord]) -> Calibration:
        """Fit from records that carry their layer list (see module docstring for the model)."""
        from cost_models.estimate import analytic_totals

        rows: list[tuple[list[str], dict[str, float]]] = []
        rejected: list[dict[str, str]] = []
        for rec in records:
            problems = rec.problems()
            if problems:
                _reject(rejected, rec, "; ".join(problems))
                continue
            assert rec.layers is not None
            try:
                pred, _ = analytic_totals(rec.layers, rec.target())
            except (UnknownPartError, ValueError) as exc:
                _reject(rejected, rec, f"cannot estimate: {exc}")
                continue
            ratios: dict[str, float] = {}
            for m in METRICS:
                c = LOG_OFFSET[m]
                true = float(getattr(rec, m))
                r = math.log(true + c) - math.log(max(pred[m], 0.0) + c)
                if abs(r) > ABSURD_LOG_RATIO:
                    _reject(rejected, rec, f"{m}: absurd ratio true/pred = {true:g}/{pred[m]:g}", metric=m)
                    continue
                ratios[m] = r
            fam = part_family(rec.part)
            rows.append((group_keys(rec.tool, rec.tool_version, fam), ratios))
        return cls._from_rows(rows, rejected)

    @classmethod
    def _from_rows(cls, rows: Sequence[tuple[list[str], dict[str, float]]],
                   rejected: list[dict[str, str]]) -> Calibration:
        groups: dict[str, dict[str, Correction]] = {}
        for m in METRICS:
            prior = Correction(0.0, DEFAULT_LOG_SIGMA[m], 0, PRIOR_WEIGHT)
            all_r = [r[m] for _, r in rows if m in r]
            glob = _shrink(all_r, prior, PRIOR_WEIGHT)
            groups.setdefault("global", {})[m] = glob
            tools = sorted({keys[1] for keys, _ in rows})
            for t in tools:
                tr = [r[m] for keys, r in rows if keys[1] == t and m in r]
                tc = _shrink(tr, glob, SHRINK_WEIGHT)
                groups.setdefault(t, {})[m] = tc
                for leaf in sorted({keys[0] for keys, _ in rows if keys[1] == t}):
                    lr = [r[m] for keys, r in rows if keys[0] == leaf and m in r]
                    groups.setdefault(leaf, {})[m] = _shrink(lr, tc, SHRINK_WEIGHT)
        return cls(groups=groups, n_records=len(rows), rejected=rejected)

    # ----------------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "n_records": self.n_records,
                "groups": {k: {m: c.to_dict() for m, c in g.items()} for k, g in self.groups.items()},
                "rejected": list(self.rejected)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise CalibrationError(f"not a cost_models calibration (expected format {FORMAT!r})")
        try:
            groups = {str(k): {str(m): Correction.from_dict(c) for m, c in g.items() if m in METRICS}
                      for k, g in data["groups"].items()}
            return cls(groups=groups, n_records=int(data.get("n_records", 0)),
                       rejected=list(data.get("rejected", [])))
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
"""No groups: identity correction with the default (uncalibrated) intervals."""
