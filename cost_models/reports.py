"""Vendor report readers (pure functions of paths): csynth XML/RPT, ``vivado_synth.rpt``.

Each reader returns typed data or raises :class:`~cost_models.errors.ReportError` (a
``ValueError``) naming the file when the report is malformed or truncated.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cost_models.constants import tool_version_tuple
from cost_models.errors import ReportError
from cost_models.records import SynthesisRecord

__all__ = ["VivadoSynthReport", "read_csynth_rpt", "read_csynth_xml", "read_report", "read_vivado_synth_rpt",
           "tool_from_version"]

log = logging.getLogger(__name__)


def tool_from_version(version: str | None, header: str | None = None) -> str:
    """``vitis`` or ``vivado`` (HLS): from the report header if given, else by version (Vitis HLS from 2020.2)."""
    if header:
        h = header.lower()
        if "vitis" in h:
            return "vitis"
        if "vivado" in h:
            return "vivado"
    if not version:
        return "unknown"
    release = tool_version_tuple(version)  # "2019.2", "v2020.1 (64-bit)", "2023.2.2"
    if release is None:
        return "unknown"
    return "vitis" if release >= (2020, 2) else "vivado"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ReportError(path, f"cannot read: {exc}") from None


def _num(text: str | None, path: Path, what: str, allow_undef: bool = False) -> float | None:
    if text is None:
        raise ReportError(path, f"missing {what}")
    t = text.strip()
    if allow_undef and t.lower() in ("undef", "-", ""):
        return None
    try:
        return float(t)
    except ValueError:
        raise ReportError(path, f"{what} is not a number: {t!r}") from None


# --------------------------------------------------------------------------------- csynth.xml
def read_csynth_xml(path: str | Path) -> SynthesisRecord:
    """Top-level figures of a ``<top>_csynth.xml`` (Vivado HLS or Vitis HLS)."""
    p = Path(path)
    try:
        root = ET.fromstring(_read_text(p))
    except ET.ParseError as exc:
        raise ReportError(p, f"malformed XML: {exc}") from None
    if root.tag != "profile":
        raise ReportError(p, f"not a csynth report (root element <{root.tag}>)")
    version = (root.findtext("ReportVersion/Version") or "").strip() or None
    ua = root.find("UserAssignments")
    perf = root.find("PerformanceEstimates")
    res = root.find("AreaEstimates/Resources")
    if ua is None or perf is None or res is None:
        raise ReportError(p, "truncated csynth report: UserAssignments, PerformanceEstimates or AreaEstimates missing")
    lat = perf.find("SummaryOfOverallLatency")
    if lat is None:
        raise ReportError(p, "missing SummaryOfOverallLatency")
    dsp_text = res.findtext("DSP")
    if dsp_text is None:
        dsp_text = res.findtext("DSP48E")
    rec = SynthesisRecord(
        tool=tool_from_version(version),
        tool_version=version,
        part=(ua.findtext("Part") or "").strip() or None,
        clock_period_ns=_num(ua.findtext("TargetClockPeriod"), p, "TargetClockPeriod"),
        clock_estimated_ns=_num(perf.findtext("SummaryOfTimingAnalysis/EstimatedClockPeriod"), p,
                                "EstimatedClockPeriod", allow_undef=True),
        latency_cycles=_num(lat.findtext("Worst-caseLatency"), p, "Worst-caseLatency", allow_undef=True),
        latency_best_cycles=_num(lat.findtext("Best-caseLatency"), p, "Best-caseLatency", allow_undef=True),
        ii=_num(lat.findtext("Interval-max"), p, "Interval-max", allow_undef=True),
        dsp=_num(dsp_text, p, "DSP"),
        lut=_num(res.findtext("LUT"), p, "LUT"),
        ff=_num(res.findtext("FF"), p, "FF"),
        bram_18k=_num(res.findtext("BRAM_18K"), p, "BRAM_18K"),
        uram=_num(res.findtext("URAM") or "0", p, "URAM"),
        source=str(p),
    )
    return rec


# --------------------------------------------------------------------------------- csynth.rpt
_ROW = re.compile(r"^\s*\|(.*)\|\s*$")


def _cells(line: str) -> list[str] | None:
    m = _ROW.match(line)
    return [c.strip() for c in m.group(1).split("|")] if m else None


def _section(text: str, start: str, end: str | None = None) -> str:
    i = text.find(start)
    if i < 0:
        return ""
    j = text.find(end, i + len(start)) if end else -1
    return text[i:j] if j >= 0 else text[i:]


def _int_or_none(s: str) -> float | None:
    s = s.strip()
    try:
        return float(s)
    except ValueError:
        return None


def read_csynth_rpt(path: str | Path) -> SynthesisRecord:
    """Top-level figures and per-instance rows of a ``<top>_csynth.rpt``."""
    p = Path(path)
    text = _read_text(p)
    head = re.search(r"==\s*(Vitis|Vivado) HLS Report for '([^']+)'", text)
    if not head:
        raise ReportError(p, "not a csynth report (no 'Vitis/Vivado HLS Report for' header)")
    version_m = re.search(r"\*\s*Version:\s*(\S+)", text)
    part_m = re.search(r"\*\s*Target device:\s*(\S+)", text)
    version = version_m.group(1) if version_m else None
    clock_m = re.search(r"\|\s*ap_clk\s*\|\s*([\d.]+)\s*ns\s*\|\s*([\d.]+)\s*ns\s*\|", text)
    perf = _section(text, "== Performance Estimates", "== Utilization Estimates")
    util = _section(text, "== Utilization Estimates", "== Interface")
    if not perf or not util:
        raise ReportError(p, "truncated csynth report: Performance or Utilization section missing")
    # Latency summary: first table row with numbers after '+ Latency:'.
    lat_sec = _section(perf, "+ Latency:", "+ Detail:")
    lat_row = None
    for line in lat_sec.splitlines():
        cells = _cells(line)
        if cells and len(cells) >= 6 and re.match(r"^\d+$", cells[0]):
            lat_row = cells
            break
    if lat_row is None:
        raise ReportError(p, "latency summary table missing or truncated")
    # Utilisation summary: header row gives the column order, 'Total' row the values.
    summ = _section(util, "* Summary:", "+ Detail:")
    header: list[str] | None = None
    total: list[str] | None = None
    for line in summ.splitlines():
        cells = _cells(line)
        if not cells:
            continue
        if cells[0] == "Name":
            header = cells
        elif cells[0] == "Total":
            total = cells
            break
    if header is None or total is None or len(total) != len(header):
        raise ReportError(p, "utilization summary table missing or truncated")
    cols = {h.upper().replace("DSP48E", "DSP"): v for h, v in zip(header[1:], total[1:], strict=True)}

    def col(name: str) -> float:
        v = _int_or_none(cols.get(name, "0"))
        if v is None:
            raise ReportError(p, f"utilization {name} is not a number: {cols.get(name)!r}")
        return v

    rec = SynthesisRecord(
        tool=tool_from_version(version, head.group(1)),
        tool_version=version,
        part=part_m.group(1) if part_m else None,
        clock_period_ns=float(clock_m.group(1)) if clock_m else None,
        clock_estimated_ns=float(clock_m.group(2)) if clock_m else None,
        latency_best_cycles=_int_or_none(lat_row[0]),
        latency_cycles=_int_or_none(lat_row[1]),
        ii=_int_or_none(lat_row[5]),
        dsp=col("DSP"), lut=col("LUT"), ff=col("FF"), bram_18k=col("BRAM_18K"), uram=col("URAM"),
        source=str(p),
    )
    rec.layer_rows = _instance_rows(perf, util)
    return rec


def _instance_rows(perf: str, util: str) -> list[dict[str, Any]]:
    """Per-instance rows: resources from the utilisation detail, cycles from the latency detail."""
    rows: dict[str, dict[str, Any]] = {}
    inst = _section(_section(util, "+ Detail:"), "* Instance:", "* DSP")
    for line in inst.splitlines():
        cells = _cells(line)
        if not cells or len(cells) < 6 or cells[0] in ("Instance", "Total", "") or not cells[2].isdigit():
            continue
        name, module = cells[0], cells[1]
        nums = [_int_or_none(c) for c in cells[2:]]
        row: dict[str, Any] = {"instance": name, "module": module, "config": _config_of(module)}
        for key, v in zip(("bram_18k", "dsp", "ff", "lut", "uram"), nums, strict=False):
            row[key] = v
        rows[module] = row
    lat = _section(_section(perf, "+ Detail:"), "* Instance:", "* Loop:")
    for line in lat.splitlines():
        cells = _cells(line)
        if not cells or len(cells) < 8 or not cells[2].isdigit():
            continue
        module = cells[1]
        row = rows.setdefault(module, {"instance": cells[0], "module": module, "config": _config_of(module)})
        row["latency_min"] = _int_or_none(cells[2])
        row["latency_max"] = _int_or_none(cells[3])
        row["ii_min"] = _int_or_none(cells[6])
        row["ii_max"] = _int_or_none(cells[7])
    return list(rows.values())


def _config_of(module: str) -> str | None:
    m = re.search(r"((?:(?:leaky_)?relu|softmax|sigmoid|tanh|linear|elu|selu|softplus|softsign|prelu|hard_sigmoid"
                  r"|hard_tanh)_)?config\d+(?:_(?:mult|depthwise|pointwise))?", module)
    if not m:
        return None
    return m.group(0)


# --------------------------------------------------------------------------------- vivado_synth.rpt
@dataclass
class VivadoSynthReport:
    """Post-synthesis utilisation from Vivado's ``report_utilization`` (LUTs, FFs, DSPs, 18 Kb BRAMs)."""

    tool_version: str | None
    device: str | None
    lut: float
    ff: float
    dsp: float
    bram_18k: float
    uram: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _first_used(text: str, labels: tuple[str, ...]) -> float | None:
    for label in labels:
        m = re.search(r"^\|\s*" + re.escape(label) + r"\*?\s*\|\s*([\d.]+)\s*\|", text, re.MULTILINE)
        if m:
            return float(m.group(1))
    return None


def read_vivado_synth_rpt(path: str | Path) -> VivadoSynthReport:
    """Utilisation summary of a ``vivado_synth.rpt``; BRAM tiles (36 Kb) are counted as two 18 Kb blocks."""
    p = Path(path)
    text = _read_text(p)
    if "report_utilization" not in text and "Utilization Design Information" not in text:
        raise ReportError(p, "not a Vivado utilization report")
    ver = re.search(r"Tool Version\s*:\s*Vivado v\.(\S+)", text)
    dev = re.search(r"\|\s*Device\s*:\s*(\S+)", text)
    lut = _first_used(text, ("Slice LUTs", "CLB LUTs"))
    ff = _first_used(text, ("Slice Registers", "CLB Registers"))
    dsp = _first_used(text, ("DSPs",))
    bram = _first_used(text, ("Block RAM Tile",))
    uram = _first_used(text, ("URAM",))
    if lut is None or ff is None or dsp is None or bram is None:
        raise ReportError(p, "utilization tables missing or truncated (LUT/FF/DSP/BRAM rows)")
    return VivadoSynthReport(ver.group(1) if ver else None, dev.group(1) if dev else None, lut, ff, dsp,
                             2.0 * bram, uram or 0.0, str(p))


def read_report(path: str | Path) -> SynthesisRecord:
    """Dispatch on the file name: ``*_csynth.xml`` or ``*_csynth.rpt``."""
    p = Path(path)
    if p.name.endswith("_csynth.xml"):
        return read_csynth_xml(p)
    if p.name.endswith("_csynth.rpt"):
        return read_csynth_rpt(p)
    raise ReportError(p, "unknown report type (expected *_csynth.xml or *_csynth.rpt)")
