"""``estimate()``: a layer list + FPGA target → totals, per-layer rows, % of the part, intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cost_models.analytic import LayerEstimate, analytic_totals
from cost_models.calibration import PRIOR_CALIBRATION, Z80, Calibration
from cost_models.constants import (
    DEFAULT_CONSTANTS,
    THIN_DATA_WIDEN,
    THIN_FAMILIES,
    Constants,
    ConstantSet,
    speed_grade,
    tool_family,
)
from cost_models.layers import CONV_KINDS, POOLING_KINDS, WEIGHTED_KINDS, LayerSpec, Target
from cost_models.parts import Part, resolve_part
from cost_models.records import METRICS

__all__ = ["Estimate", "Interval", "LayerEstimate", "analytic_totals", "estimate"]



@dataclass(frozen=True)
class Interval:
    """A predictive interval ``[low, high]`` at ``level`` (0.8 = 80 %)."""

    low: float
    high: float
    level: float = 0.8

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


_new = object.__new__


def _new_interval(low: float, high: float) -> Interval:
    """``Interval(low, high)``, built without the frozen dataclass's ``__init__`` (which sets each field through
    ``object.__setattr__`` and costs three times as much): the same instance, equal and hashing alike."""
    iv = _new(Interval)
    d = iv.__dict__
    d["low"] = low
    d["high"] = high
    d["level"] = 0.8
    return iv


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


_WEIGHTED, _CONV, _POOLING = frozenset(WEIGHTED_KINDS), frozenset(CONV_KINDS), frozenset(POOLING_KINDS)
"""The kinds as sets (a membership test of a kind that is not there costs one hash look-up, not a scan)."""


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
    totals, rows = analytic_totals(layers, target, facts.constants)
    cal = calibration if calibration is not None else PRIOR_CALIBRATION
    has_conv = has_pool = False
    weighted = missing = 0  # weighted layers, and those of them without trained weights
    for s in layers:
        kind = s.kind
        if kind in _WEIGHTED:
            weighted += 1
            if s.weights is None:
                missing += 1
            if kind in _CONV:
                has_conv = True
        elif kind in _POOLING:
            has_pool = True
    plan = cal.plan(target, layers, "cnn" if has_conv or has_pool else "mlp")  # design_class(layers)
    level = plan.level
    calibrated = level is not None
    corrected, bounds = plan.apply(totals, layers, facts.spreads(has_conv, calibrated, cal.source == "prior"))
    period = float(target.clock_period_ns)
    intervals = {m: _new_interval(lo, hi) for m, (lo, hi) in bounds.items()}
    lo, hi = bounds["latency_cycles"]
    intervals["latency_ns"] = _new_interval(lo * period, hi * period)
    percent = {m: 100.0 * corrected[m] / total for m, total in facts.part_totals_known}
    weights_known = weighted > 0 and missing == 0
    notes = list(facts.target_notes)
    if facts.thin:
        notes.append(facts.thin_note_calibrated if calibrated else facts.thin_note_uncalibrated)
    if weighted and not weights_known:
        notes.append(f"{missing} of {weighted} weighted layers without trained weights: "
                     "DSP/LUT from the weight type alone")
    if not calibrated:
        notes.append(facts.uncalibrated_note)
    return Estimate(
        dsp=corrected["dsp"], lut=corrected["lut"], ff=corrected["ff"], bram_18k=corrected["bram_18k"],
        latency_cycles=corrected["latency_cycles"], latency_ns=corrected["latency_cycles"] * period,
        ii=corrected["ii"], intervals=intervals, percent_of_part=percent, layers=rows, target=target,
        calibrated=calibrated, analytic=dict(totals), calibration_level=level,
        tool_family=facts.family, weights_known=weights_known,
        calibration_source=(cal.source or "run") if calibrated else None, notes=notes,
    )


@dataclass(frozen=True)
class _Facts:
    """What an estimate derives from its target and constants alone (read-only, shared by the estimates of
    one target): the constants of the target's tool family, the part, the tool family and the note naming
    it, the part's totals, why the constants are thin on the part's family (None: they are not) and the notes
    saying so, and the uncalibrated log-scale spread per metric without and with convolutions (empty: none)."""

    constants: Constants
    part: Part
    family: str
    target_notes: tuple[str, ...]
    """The tool family assumed and why; a part outside the parts table, a missing speed grade, a family without
    synthesis data (:data:`~cost_models.constants.THIN_FAMILIES`)."""
    part_totals_known: tuple[tuple[str, int], ...]
    """(metric, the part's total) of dsp, lut, ff, bram_18k whose total is known and not 0, in that order (none
    for a part outside the table)."""
    thin: str | None
    sigmas: dict[str, float]
    sigmas_conv: dict[str, float]
    thin_note_calibrated: str
    thin_note_uncalibrated: str
    uncalibrated_note: str
    _spreads: dict[tuple[bool, bool, bool], tuple[float | None, ...] | None] = field(default_factory=dict)

    def spreads(self, has_conv: bool, calibrated: bool, prior: bool) -> tuple[float | None, ...] | None:
        """The half intervals (log scale, ``Z80 sigma``), one per metric of
        :data:`~cost_models.records.METRICS`, that replace a calibration's own
        (:meth:`~cost_models.calibration.CalibrationPlan.apply`), or None: none does.

        Uncalibrated: the analytic model's spread (``log_sigma``, ``log_sigma_conv`` for a design with
        convolutions), widened where the constants are thin. Corrected by the shipped prior: the prior was
        fitted on other repositories' projects, and its groups' spread is in-sample; a new project is a new
        repository, whose error the held-out spread of the analytic model measures
        (:attr:`cost_models.constants.Constants.log_sigma`): that spread, around the corrected value, is the
        interval. (Widening the prior's interval to at least that spread, as before, covered 93-94 % of the
        Vitis HLS repositories' projects in LUT, latency and II held out; this covers 74-88 %.) A run's own
        calibration keeps its intervals."""
        key = (has_conv, calibrated, prior)
        if key in self._spreads:
            return self._spreads[key]
        sig = self.sigmas_conv if has_conv else self.sigmas
        out: tuple[float | None, ...] | None = None
        if sig and (not calibrated or prior):
            widen = THIN_DATA_WIDEN if self.thin and not calibrated else 1.0
            out = tuple(Z80 * (widen * sig[m]) if m in sig else None for m in METRICS)
        self._spreads[key] = out
        return out


_FACTS: dict[tuple[Target, int], tuple[ConstantSet | Constants, _Facts]] = {}
"""By (target, id of the constants); an entry holds its constants, so the id stays theirs."""
_LAST_FACTS: tuple[Target | None, object, _Facts | None] = (None, None, None)
"""The target object, constants object and facts of the last call (a search asks with the same objects, and
hashing a target costs more than the rest of the look-up)."""


def _facts(target: Target, constants: ConstantSet | Constants) -> _Facts:
    """The (memoised) :class:`_Facts` of ``target`` with ``constants`` (a set, or one family's)."""
    global _LAST_FACTS
    last = _LAST_FACTS
    if last[0] is target and last[1] is constants and last[2] is not None:
        return last[2]
    entry = _FACTS.get((target, id(constants)))
    if entry is not None:
        _LAST_FACTS = (target, constants, entry[1])
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
    pp = part.totals() if part.totals_known else {}
    thin = k.thin_data(part.family)
    thin_note = f"thin data for {family} on {part.family}: {thin}"
    facts = _Facts(k, part, family, tuple(notes),
                   tuple((m, pp[m]) for m in ("dsp", "lut", "ff", "bram_18k") if pp.get(m)), thin,
                   dict(k.log_sigma), dict(k.log_sigma_conv or k.log_sigma), thin_note,
                   thin_note + f"; uncalibrated intervals widened x{THIN_DATA_WIDEN:g}",
                   f"uncalibrated for {family} on {part.family}: no synthesis records of this tool and part "
                   "family (add a synthesis section or run dse calibrate)")
    if len(_FACTS) >= 256:
        _FACTS.clear()
    _FACTS[(target, id(constants))] = (constants, facts)
    _LAST_FACTS = (target, constants, facts)
    return facts
