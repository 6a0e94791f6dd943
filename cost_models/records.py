"""``SynthesisRecord``: one synthesized design (the figures of its reports) with its layer list."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from cost_models.layers import Backend, LayerSpec, Target, layers_from_dicts, layers_to_dicts

__all__ = ["METRICS", "SynthesisRecord"]

METRICS: tuple[str, ...] = ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "ii")
"""Metrics the cost model estimates and calibration corrects (DSPs, LUTs, FFs, 18 Kb BRAMs, cycles, cycles)."""


@dataclass
class SynthesisRecord:
    """Figures of one HLS synthesis run (csynth estimates; cycles for latency and II).

    ``tool`` is ``vitis`` or ``vivado`` (HLS), ``tool_version`` like ``2021.1``. ``status`` is
    ``ok`` for a finished synthesis and anything else (``failed``, ``timeout``) otherwise.
    ``layers`` is the hls4ml layer list when known (needed to calibrate). ``project`` names the
    source project a record belongs to (used to group near-duplicate variants).
    """

    tool: str = "unknown"
    tool_version: str | None = None
    part: str | None = None
    clock_period_ns: float | None = None
    clock_estimated_ns: float | None = None
    latency_cycles: float | None = None
    latency_best_cycles: float | None = None
    ii: float | None = None
    dsp: float | None = None
    lut: float | None = None
    ff: float | None = None
    bram_18k: float | None = None
    uram: float | None = None
    status: str = "ok"
    source: str = ""
    project: str = ""
    io_type: str | None = None
    layers: list[LayerSpec] | None = None
    layer_rows: list[dict[str, Any]] = field(default_factory=list)
    """Per-instance rows of the report (module, config, dsp, lut, ff, bram_18k, latency, ii)."""
    post_synth: dict[str, Any] | None = None
    """Post-synthesis utilisation from ``vivado_synth.rpt`` (lut, ff, dsp, bram_18k, uram) when present."""
    legacy_hls4ml: bool = False
    """Written by an hls4ml older than 0.8 (see :attr:`cost_models.layers.Target.legacy_hls4ml`)."""

    def metrics(self) -> dict[str, float | None]:
        """The calibrated metrics of this record, keyed as in :data:`METRICS`."""
        return {m: getattr(self, m) for m in METRICS}

    def target(self) -> Target:
        """The FPGA target this record was synthesized for."""
        tool = (self.tool or "unknown").lower()
        backend: Backend = tool if tool not in ("unknown", "vitis_hls", "vivado_hls") else (
            "vivado" if tool == "vivado_hls" else "vitis")
        return Target(part=self.part or "unknown", clock_period_ns=float(self.clock_period_ns or 5.0),
                      backend=backend, tool_version=self.tool_version, legacy_hls4ml=self.legacy_hls4ml)

    def problems(self) -> list[str]:
        """Why this record must not be used for calibration (empty when it is fine)."""
        out: list[str] = []
        if self.status != "ok":
            out.append(f"status {self.status!r}")
        for m in METRICS:
            v = getattr(self, m)
            if v is None:
                out.append(f"{m} missing")
            elif not isinstance(v, (int, float)) or math.isnan(v) or math.isinf(v):
                out.append(f"{m} not a finite number ({v!r})")
            elif v < 0:
                out.append(f"{m} negative ({v})")
            elif m in ("lut", "ff", "latency_cycles", "ii") and v <= 0:
                out.append(f"{m} is zero")
        if not self.layers:
            out.append("no layer list")
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "layers":
                v = None if v is None else layers_to_dicts(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SynthesisRecord:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        if kw.get("layers") is not None:
            kw["layers"] = layers_from_dicts(kw["layers"])
        return cls(**kw)
