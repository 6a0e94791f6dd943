"""``estimate()``: a layer list + FPGA target → totals, per-layer rows, % of the part, intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cost_models.analytic import LayerEstimate, analytic_totals
from cost_models.calibration import LOG_OFFSET, PRIOR_CALIBRATION, Z80, Calibration
from cost_models.constants import (
    DEFAULT_CONSTANTS,
    THIN_DATA_WIDEN,
    THIN_FAMILIES,
    Constants,
    ConstantSet,
    speed_grade,
    tool_family,
)
from cost_models.layers import CONV_KINDS, WEIGHTED_KINDS, LayerSpec, Target
from cost_models.parts import Part, resolve_part

__all__ = ["Estimate", "Interval", "LayerEstimate", "analytic_totals", "estimate"]



@dataclass(frozen=True)
class Interval:
    """A predictive interval ``[low, high]`` at ``level`` (0.8 = 80 %)."""

    low: float
    high: float
    level: float = 0.8

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass
class Estimate:
    """Totals (DSP slices, LUTs, FFs, 18 Kb BRAMs, latency in cycles and ns, II in cycles) and detail."""

    dsp: float
    lut: float
    ff: float
    bram_18k: float
    latency_cycles: float
    latency_ns: float
    ii: float
    intervals: dict[str, Interval]
    percent_of_part: dict[str, float]
    layers: list[LayerEstimate]
    target: Target
    calibrated: bool = False
    analytic: dict[str, float] = field(default_factory=dict)
    """The uncalibrated totals (equal to the totals when ``calibrated`` is false)."""
    calibration_level: str | None = None
    """Group applied (``vitis|2021.1|zynq7|arch:<sig>``, ``vitis|2021.1|zynq7``, ``vitis|zynq7``), or None."""
    tool_family: str = "vitis_hls"
    """The HLS tool family whose constants were used: ``vivado_hls`` (up to 2020.1) or ``vitis_hls``."""
    weights_known: bool = False
    """True when every weighted layer was costed from its trained weight values."""
    calibration_source: str | None = None
    """``prior`` (the shipped calibration), ``run`` (a run's own records) or a file name; None: uncalibrated."""
    notes: list[str] = field(default_factory=list)
    """What the estimate assumed (tool family, weights, calibration), in words."""

    def totals(self) -> dict[str, float]:
        return {"dsp": self.dsp, "lut": self.lut, "ff": self.ff, "bram_18k": self.bram_18k,
                "latency_cycles": self.latency_cycles, "latency_ns": self.latency_ns, "ii": self.ii}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers at the top level, plus intervals, percent_of_part, layers, target, calibrated."""
        out: dict[str, Any] = {k: round(v, 3) for k, v in self.totals().items()}
        out["intervals"] = {k: [round(i.low, 3), round(i.high, 3)] for k, i in self.intervals.items()}
        out["interval_level"] = 0.8
        out["percent_of_part"] = {k: round(v, 3) for k, v in self.percent_of_part.items()}
        out["layers"] = [layer.to_dict() for layer in self.layers]
        t = self.target
        out["target"] = {"part": t.part, "clock_period_ns": t.clock_period_ns, "backend": t.backend,
                         "tool_version": t.tool_version}
        out["calibrated"] = self.calibrated
        out["calibration_level"] = self.calibration_level
        out["analytic"] = {k: round(v, 3) for k, v in self.analytic.items()}
        out["tool_family"] = self.tool_family
        out["weights_known"] = self.weights_known
        out["calibration_source"] = self.calibration_source
        out["notes"] = list(self.notes)
        return out


def estimate(layers: Sequence[LayerSpec], target: Target, calibration: Calibration | None = None,
             constants: ConstantSet | Constants | None = None) -> Estimate:
    """Estimate DSP, LUT, FF, BRAM_18K, latency (cycles, ns) and II of an hls4ml design.

    ``layers`` in network order (an ``input`` layer first is optional: it sets the type of the
    data entering the first layer); layers that carry a :class:`~cost_models.WeightStats` are
    costed from their trained weight values, the others from their weight type alone (noted in
    ``Estimate.notes``). ``calibration`` corrects the analytic totals for the target's tool,
    version and part family and gives predictive intervals; by default the shipped prior (fitted
    on the shared hls4ml reports) is used. Where no calibration covers the target's tool and part
    family the estimate is uncalibrated (``calibrated`` False) and its intervals are the analytic
    model's own spread. ``constants``: the analytic constants (default: the shipped set).
    A part not in the parts table whose family its name shows (``xcvu23p``, ``xcve2802``) is costed with that
    family's DSP geometry and speed, with ``percent_of_part`` empty and a note saying so
    (:func:`~cost_models.parts.resolve_part`). Raises :class:`~cost_models.UnknownPartError` naming the part
    when its family is not recognised either.
    """
    facts = _facts(target, constants if constants is not None else DEFAULT_CONSTANTS)
    part, family, k = facts.part, facts.family, facts.constants
    totals, rows = analytic_totals(layers, target, k)
    cal = calibration if calibration is not None else PRIOR_CALIBRATION
    corrected, bounds, level = cal.apply(totals, target, layers)
    has_conv = False
    weighted = missing = 0  # weighted layers, and those of them without trained weights
    for s in layers:
        kind = s.kind
        if kind in CONV_KINDS:
            has_conv = True
        if kind in WEIGHTED_KINDS:
            weighted += 1
            if s.weights is None:
                missing += 1
    sig = facts.sigmas_conv if has_conv else facts.sigmas
    thin = facts.thin
    if level is None and sig:
        widen = THIN_DATA_WIDEN if thin else 1.0
        for m in list(bounds):
            if m in sig:
                bounds[m] = _interval(corrected[m], widen * sig[m], m)
    elif level is not None and sig and cal.source == "prior":
        # The prior was fitted on other repositories' projects, and its groups' spread is in-sample: a new
        # project is a new repository, whose error the held-out spread of the analytic model measures
        # (cost_models.constants.Constants.log_sigma): that spread, around the corrected value, is the interval.
        # (Widening the prior's interval to at least that spread, as before, covered 93-94 % of the Vitis HLS
        # repositories' projects in LUT, latency and II held out; this covers 74-88 %.)
        for m in list(bounds):
            if m in sig:
                bounds[m] = _interval(corrected[m], sig[m], m)
    period = float(target.clock_period_ns)
    intervals = {m: Interval(lo, hi) for m, (lo, hi) in bounds.items()}
    lat = intervals["latency_cycles"]
    intervals["latency_ns"] = Interval(lat.low * period, lat.high * period)
    pp = facts.part_totals
    percent = {m: 100.0 * corrected[m] / pp[m] for m in ("dsp", "lut", "ff", "bram_18k") if pp.get(m)}
    calibrated = level is not None
    weights_known = weighted > 0 and missing == 0
    notes = list(facts.target_notes)
    if thin:
        notes.append(f"thin data for {family} on {part.family}: {thin}"
                     + (f"; uncalibrated intervals widened x{THIN_DATA_WIDEN:g}" if level is None else ""))
    if weighted and not weights_known:
        notes.append(f"{missing} of {weighted} weighted layers without trained weights: "
                     "DSP/LUT from the weight type alone")
    if not calibrated:
        notes.append(f"uncalibrated for {family} on {part.family}: no synthesis records of this tool and part "
                     "family (add a synthesis section or run dse calibrate)")
    return Estimate(
        dsp=corrected["dsp"], lut=corrected["lut"], ff=corrected["ff"], bram_18k=corrected["bram_18k"],
        latency_cycles=corrected["latency_cycles"], latency_ns=corrected["latency_cycles"] * period,
        ii=corrected["ii"], intervals=intervals, percent_of_part=percent, layers=rows, target=target,
        calibrated=calibrated, analytic=dict(totals), calibration_level=level if calibrated else None,
        tool_family=family, weights_known=weights_known,
        calibration_source=(cal.source or "run") if calibrated else None, notes=notes,
    )


@dataclass(frozen=True)
class _Facts:
    """What an estimate derives from its target and constants alone (read-only, shared by the estimates of
    one target): the constants of the target's tool family, the part, the tool family and the note naming
    it, the part's totals, why the constants are thin on the part's family (None: they are not), and the
    uncalibrated log-scale spread per metric without and with convolutions (empty: none)."""

    constants: Constants
    part: Part
    family: str
    target_notes: tuple[str, ...]
    """The tool family assumed and why; a part outside the parts table, a missing speed grade, a family without
    synthesis data (:data:`~cost_models.constants.THIN_FAMILIES`)."""
    part_totals: dict[str, int]
    """Empty for a part outside the table (its totals are unknown)."""
    thin: str | None
    sigmas: dict[str, float]
    sigmas_conv: dict[str, float]


_FACTS: dict[tuple[Target, int], tuple[ConstantSet | Constants, _Facts]] = {}
"""By (target, id of the constants); an entry holds its constants, so the id stays theirs."""


def _facts(target: Target, constants: ConstantSet | Constants) -> _Facts:
    """The (memoised) :class:`_Facts` of ``target`` with ``constants`` (a set, or one family's)."""
    entry = _FACTS.get((target, id(constants)))
    if entry is not None:
        return entry[1]
    part = resolve_part(target.part)
    k = constants if isinstance(constants, Constants) else constants.for_target(target)
    family = tool_family(target)
    why = f"from tool_version {target.tool_version}" if target.tool_version else f"from backend {target.backend}"
    notes = [f"tool family assumed: {family} ({why})"]
    if not part.totals_known:
        notes.append(f"part {target.part!r} is not in the parts table: costed as a {part.family} device (its DSP "
                     "geometry and speed); percent_of_part not given (the device's totals are unknown)")
    if speed_grade(target.part) is None:
        notes.append(f"no speed grade in part {target.part!r}: -2 assumed")
    if part.family in THIN_FAMILIES:
        notes.append(THIN_FAMILIES[part.family])
    facts = _Facts(k, part, family, tuple(notes), part.totals() if part.totals_known else {},
                   k.thin_data(part.family), dict(k.log_sigma), dict(k.log_sigma_conv or k.log_sigma))
    if len(_FACTS) >= 256:
        _FACTS.clear()
    _FACTS[(target, id(constants))] = (constants, facts)
    return facts


def _interval(value: float, sigma: float, metric: str) -> tuple[float, float]:
    """The uncalibrated interval of ``value`` (log-scale spread ``sigma``), at least 1 cycle for latency and II,
    else at least 0 (the two-value ``max`` written out: builtin ``max`` costs more than the rest here)."""
    c = LOG_OFFSET[metric]
    base = math.log((0.0 if value < 0.0 else value) + c)
    half = Z80 * sigma
    lo, hi = math.exp(base - half) - c, math.exp(base + half) - c
    if metric in ("latency_cycles", "ii"):
        return (1.0 if lo < 1.0 else lo), (1.0 if hi < 1.0 else hi)
    return (lo if lo > 0.0 else 0.0), (hi if hi > 0.0 else 0.0)
