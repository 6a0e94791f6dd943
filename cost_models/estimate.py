"""``estimate()``: a layer list + FPGA target → totals, per-layer rows, % of the part, intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cost_models.analytic import IO_PARALLEL_BOUNDARY_CYCLES, LayerContext, LayerEstimate, estimate_layer
from cost_models.layers import FixedType, LayerSpec, Target
from cost_models.parts import get_part

if TYPE_CHECKING:
    from cost_models.calibration import Calibration

__all__ = ["Estimate", "Interval", "LayerEstimate", "analytic_totals", "estimate"]

_DEFAULT_DATA = FixedType(16, 6)
IO_PARALLEL_IO_CYCLES = 2
"""io_parallel: input and output registers of the top-level function."""


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
        return out


def analytic_totals(layers: Sequence[LayerSpec], target: Target) -> tuple[dict[str, float], list[LayerEstimate]]:
    """Uncalibrated totals (keys of :data:`~cost_models.records.METRICS`) and per-layer estimates."""
    part = get_part(target.part)
    period = float(target.clock_period_ns)
    rows: list[LayerEstimate] = []
    data = _DEFAULT_DATA
    pixels = 1
    stream = False
    for layer in layers:
        if layer.kind == "input":
            data = layer.result
            continue
        if layer.io_type == "io_stream":
            stream = True
        ctx = LayerContext(part, period, layer.input or data, pixels)
        est, pixels = estimate_layer(layer, ctx)
        rows.append(est)
        data = layer.result
    dsp = lut = ff = bram = 0.0
    ii = 1.0
    lat_sum = 0.0
    lat_max = 0.0
    depth_sum = 0.0
    n_hw = 0
    for r in rows:
        dsp += r.dsp
        lut += r.lut
        ff += r.ff
        bram += r.bram_18k
        if r.ii > ii:
            ii = r.ii
        lat_sum += r.latency_cycles
        depth_sum += r.depth_cycles
        if r.latency_cycles > lat_max:
            lat_max = r.latency_cycles
        if r.latency_cycles > 0:
            n_hw += 1
    if stream:
        # Dataflow: layers overlap; the slowest streams the image, the others add their depth.
        latency = lat_max + max(0.0, depth_sum - _depth_of_slowest(rows, lat_max))
    else:
        latency = lat_sum + IO_PARALLEL_BOUNDARY_CYCLES * n_hw + IO_PARALLEL_IO_CYCLES
        ii = max(ii, 1.0)
    totals = {"dsp": dsp, "lut": lut, "ff": ff, "bram_18k": bram, "latency_cycles": latency, "ii": ii}
    return totals, rows


def _depth_of_slowest(rows: list[LayerEstimate], lat_max: float) -> float:
    for r in rows:
        if r.latency_cycles == lat_max:
            return r.depth_cycles
    return 0.0


def estimate(layers: Sequence[LayerSpec], target: Target, calibration: Calibration | None = None) -> Estimate:
    """Estimate DSP, LUT, FF, BRAM_18K, latency (cycles, ns) and II of an hls4ml design.

    ``layers`` in network order (an ``input`` layer first is optional: it sets the type of the
    data entering the first layer). ``calibration`` (see :class:`~cost_models.Calibration`)
    corrects the analytic totals for the target's tool, version and part family and gives
    predictive intervals; without it the intervals are the analytic model's default ones.
    Raises :class:`~cost_models.UnknownPartError` for a part not in the table.
    """
    from cost_models.calibration import DEFAULT_CALIBRATION

    part = get_part(target.part)
    totals, rows = analytic_totals(layers, target)
    cal = calibration if calibration is not None else DEFAULT_CALIBRATION
    corrected, bounds, level = cal.apply(totals, target, layers)
    period = float(target.clock_period_ns)
    intervals = {m: Interval(lo, hi) for m, (lo, hi) in bounds.items()}
    lat = intervals["latency_cycles"]
    intervals["latency_ns"] = Interval(lat.low * period, lat.high * period)
    pp = part.totals()
    percent = {m: 100.0 * corrected[m] / pp[m] for m in ("dsp", "lut", "ff", "bram_18k") if pp[m]}
    calibrated = calibration is not None and level is not None
    return Estimate(
        dsp=corrected["dsp"], lut=corrected["lut"], ff=corrected["ff"], bram_18k=corrected["bram_18k"],
        latency_cycles=corrected["latency_cycles"], latency_ns=corrected["latency_cycles"] * period,
        ii=corrected["ii"], intervals=intervals, percent_of_part=percent, layers=rows, target=target,
        calibrated=calibrated, analytic=dict(totals), calibration_level=level if calibrated else None,
    )

