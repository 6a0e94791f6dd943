"""A project hls4ml has written (``hls_model.write()``), read for an estimate before any synthesis.

Only what ``write()`` leaves is read: ``firmware/parameters.h`` (one config struct per layer),
``firmware/myproject.cpp`` (the layer calls: merge operations, io_stream clones, branch inputs),
``firmware/defines.h`` (sizes and typedefs), ``firmware/weights/*.txt`` (the trained weights, when
hls4ml wrote them), and the target from ``hls4ml_config.yml`` (``Part``, ``ClockPeriod``, ``Backend``,
``IOType``), ``project.tcl`` (hls4ml >= 0.8: ``set part``, ``set clock_period``) or ``build_prj.tcl``
(older hls4ml: ``set_part``, ``create_clock -period``). A synthesis report in the folder is never opened:
the estimate of a folder is the same with or without one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from cost_models.constants import hls_backend
from cost_models.errors import ReportError
from cost_models.hls_project import (
    attach_weight_stats,
    is_legacy_parameters_h,
    layers_from_structs,
    parse_define_constants,
    parse_defines_h,
    parse_parameters_h,
    read_hls_config_yml,
    read_top_calls,
    weight_files_of,
)
from cost_models.layers import LayerSpec

__all__ = ["WrittenProject", "read_written_project"]

log = logging.getLogger(__name__)

_TCL_PART = (re.compile(r'^\s*set\s+part\s+["{]*([\w-]+)', re.MULTILINE),
             re.compile(r'^\s*set_part\s+["{]*([\w-]+)', re.MULTILINE))
"""``set part "xcvu9p-..."`` (hls4ml >= 0.8's project.tcl) and ``set_part {xc7z020clg400-1}`` (older build_prj.tcl),
with or without quotes and braces."""
_TCL_CLOCK = (re.compile(r"^\s*set\s+clock_period\s+\"?([\d.]+)", re.MULTILINE),
              re.compile(r"^\s*create_clock\s+-period\s+([\d.]+)", re.MULTILINE))


@dataclass(frozen=True)
class WrittenProject:
    """The layers and the target facts of a written hls4ml project; ``None`` where the files do not say."""

    folder: str
    layers: list[LayerSpec]
    part: str | None = None
    clock_period_ns: float | None = None
    backend: str | None = None
    """``vitis`` or ``vivado`` (dse's spelling)."""
    io_type: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    """Where each target fact came from: ``{"part": "hls4ml_config.yml", ...}``."""
    legacy_hls4ml: bool = False
    """Written by an hls4ml older than 0.8 (:func:`cost_models.hls_project.is_legacy_parameters_h`)."""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ReportError(path, f"cannot read: {exc}") from None


def _backend_name(text: str) -> str | None:
    """dse's backend of an hls4ml ``Backend`` (:func:`cost_models.constants.hls_backend`): ``vitis`` (Vitis,
    VitisAccelerator), ``vivado`` (Vivado, VivadoAccelerator, the Vivado-HLS board flows such as Pynq), or
    ``None`` for a backend of another HLS tool."""
    return hls_backend(text)


def read_written_project(folder: str | Path) -> WrittenProject:
    """Read a folder written by hls4ml (see the module docstring); raises :class:`ReportError` naming the
    file when ``firmware/parameters.h`` is missing or unreadable, and
    :class:`~cost_models.errors.UnknownLayerError` naming the layer when a struct has no cost rule."""
    f = Path(folder)
    if not f.is_dir():
        raise ReportError(f, "not a folder")
    params = f / "firmware" / "parameters.h"
    if not params.is_file():
        raise ReportError(f, "no firmware/parameters.h: not a project written by hls4ml (hls_model.write())")
    defines = f / "firmware" / "defines.h"
    dtext = _read_text(defines) if defines.is_file() else ""
    tds = parse_defines_h(dtext)
    ptext = _read_text(params)
    structs = parse_parameters_h(ptext, tds, parse_define_constants(dtext))
    sources: dict[str, str] = {}
    part: str | None = None
    clock: float | None = None
    backend: str | None = None
    io_type: str | None = None
    project_name: str | None = None
    cfg_path = f / "hls4ml_config.yml"
    if cfg_path.is_file():
        cfg = read_hls_config_yml(cfg_path)
        if cfg.get("Part"):
            part, sources["part"] = str(cfg["Part"]), cfg_path.name
        if cfg.get("ClockPeriod"):
            try:
                clock, sources["clock_period_ns"] = float(cfg["ClockPeriod"]), cfg_path.name
            except ValueError:
                raise ReportError(cfg_path, f"ClockPeriod must be a number of ns, got {cfg['ClockPeriod']!r}") \
                    from None
        if cfg.get("Backend"):
            backend = _backend_name(str(cfg["Backend"]))
            if backend is None:
                raise ReportError(cfg_path, f"Backend {cfg['Backend']!r}: the cost model covers the hls4ml backends "
                                            "that run Vivado or Vitis HLS only")
            sources["backend"] = cfg_path.name
        if cfg.get("IOType") in ("io_parallel", "io_stream"):
            io_type = str(cfg["IOType"])
        project_name = str(cfg["ProjectName"]) if cfg.get("ProjectName") else None
    for tcl_name in ("project.tcl", "build_prj.tcl"):
        tcl = f / tcl_name
        if not tcl.is_file() or (part is not None and clock is not None):
            continue
        text = _read_text(tcl)
        if part is None:
            m = next((m for rx in _TCL_PART for m in [rx.search(text)] if m), None)
            if m:
                part, sources["part"] = m.group(1), tcl_name
        if clock is None:
            m = next((m for rx in _TCL_CLOCK for m in [rx.search(text)] if m), None)
            if m:
                clock, sources["clock_period_ns"] = float(m.group(1)), tcl_name
    wdir = next((w for w in (f / "firmware" / "weights", f / "weights") if w.is_dir()), None)
    layers = layers_from_structs(structs, tds, io_type, weight_files_of(wdir) if wdir is not None else None,
                                 read_top_calls(f, project_name))
    if not layers:
        raise ReportError(params, "no layer config structs found")
    if wdir is not None:
        layers = attach_weight_stats(layers, wdir)
    return WrittenProject(str(f), layers, part, clock, backend, io_type, sources, is_legacy_parameters_h(ptext))
