"""``dse estimate`` and ``dse calibrate``: the cost model on a user's own model or reports."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import yaml

from dse.design.hls4ml_adapter import Hls4mlTarget, layers_from_keras, load_keras_model
from dse.errors import ConfigError, RunFolderError

_BACKENDS = {"vitis": "vitis", "vivado": "vivado"}


def read_hls_config(path: str | Path) -> dict[str, Any]:
    """Read and check an ``hls4ml_config.yml``; raises ``ConfigError`` naming the file and key."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"hls4ml config not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"YAML syntax error: {getattr(exc, 'problem', exc)}", file=str(p),
                          line=mark.line + 1 if mark is not None else None) from None
    except UnicodeDecodeError:
        raise ConfigError("not a text file", file=str(p)) from None
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping with Part, ClockPeriod, IOType and HLSConfig", file=str(p))
    if "Part" not in data and "XilinxPart" in data:  # hls4ml before 0.6 named it XilinxPart
        data = {**data, "Part": data["XilinxPart"]}
    for key in ("Part", "HLSConfig"):
        if key not in data:
            raise ConfigError("is required", path=key, file=str(p))
    hls = data["HLSConfig"]
    if not isinstance(hls, dict) or not isinstance(hls.get("Model"), dict):
        raise ConfigError("must be a mapping with a Model section (and optionally LayerName)", path="HLSConfig",
                          file=str(p))
    from cost_models.constants import hls_backend

    backend = hls_backend(str(data.get("Backend", "Vitis")))  # VivadoAccelerator → vivado, VitisAccelerator → vitis
    if backend not in _BACKENDS:
        raise ConfigError(f"must be Vitis or Vivado (or VitisAccelerator, VivadoAccelerator: the cost model covers "
                          f"the hls4ml backends that run Vitis or Vivado HLS), got {data.get('Backend')!r}",
                          path="Backend", file=str(p))
    try:
        clock = float(data.get("ClockPeriod", 5))
    except (TypeError, ValueError):
        raise ConfigError(f"must be a number of ns, got {data.get('ClockPeriod')!r}", path="ClockPeriod",
                          file=str(p)) from None
    if clock <= 0:
        raise ConfigError(f"must be > 0 ns, got {clock:g}", path="ClockPeriod", file=str(p))
    io_type = str(data.get("IOType", "io_parallel"))
    if io_type not in ("io_parallel", "io_stream"):
        raise ConfigError(f"must be io_parallel or io_stream, got {io_type!r}", path="IOType", file=str(p))
    from cost_models.parts import resolve_part

    try:
        resolve_part(str(data["Part"]))  # a part of a recognised family is estimated without % of the part
    except ValueError as exc:
        raise ConfigError(str(exc), path="Part", file=str(p)) from None
    return {"backend": _BACKENDS[backend], "part": str(data["Part"]), "clock": clock, "io_type": io_type,
            "hls": hls}


def _load_calibration(calibration_path: str | None) -> Any:
    from cost_models import Calibration

    if not calibration_path:
        return None
    if not Path(calibration_path).is_file():
        raise ConfigError(f"calibration file not found: {calibration_path}")
    try:
        return Calibration.load(calibration_path)
    except ValueError as exc:
        raise ConfigError(f"bad calibration file {calibration_path}: {exc}") from None


def estimate_model_file(model_path: str, config_path: str, calibration_path: str | None) -> dict[str, Any]:
    """The JSON-ready estimate of a model file under an hls4ml config (see ``dse estimate``)."""
    from cost_models import estimate
    from cost_models.layers import Target
    cfg = read_hls_config(config_path)
    calibration = _load_calibration(calibration_path)
    model = load_keras_model(model_path)
    target = Target(part=cfg["part"], clock_period_ns=cfg["clock"], backend=cfg["backend"])
    try:
        # hls4ml prints its warnings (e.g. "Invalid ReuseFactor=4 ... Using ReuseFactor=3") to stdout, where the
        # estimate's JSON goes: send them to stderr
        with contextlib.redirect_stdout(sys.stderr):
            layers = layers_from_keras(model, cfg["hls"], Hls4mlTarget.of_cost_target(target, cfg["io_type"]))
    except Exception as exc:  # hls4ml rejects configs with many exception types
        raise ConfigError(f"hls4ml cannot convert {model_path} with {config_path}: {exc}") from None
    return dict(estimate(layers, target, calibration=calibration).to_dict())


def estimate_hls_project(folder: str, part: str | None = None, clock_period_ns: float | None = None,
                         backend: str | None = None, tool_version: str | None = None,
                         calibration_path: str | None = None) -> dict[str, Any]:
    """The JSON-ready estimate of a project folder hls4ml has written (``dse estimate --hls-project``).

    Reads only what ``hls_model.write()`` leaves (``cost_models.written_project``), never a synthesis
    report. ``part``, ``clock_period_ns``, ``backend`` and ``tool_version`` override the project's own
    files. Raises ``ConfigError`` (exit 2) naming the file, the layer or the missing fact.
    """
    from cost_models import ReportError, UnknownLayerError, estimate
    from cost_models.constants import hls_backend, tool_release
    from cost_models.layers import Target
    from cost_models.parts import resolve_part
    from cost_models.written_project import read_written_project

    if not Path(folder).is_dir():
        raise ConfigError(f"--hls-project: not a folder: {folder}")
    try:
        proj = read_written_project(folder)
    except UnknownLayerError as exc:
        raise ConfigError(f"{Path(folder) / 'firmware' / 'parameters.h'}: {exc}") from None
    except ReportError as exc:
        raise ConfigError(str(exc)) from None
    notes: list[str] = []
    chosen_part = part or proj.part
    if not chosen_part:
        raise ConfigError(f"{folder}: no FPGA part in hls4ml_config.yml, project.tcl or build_prj.tcl; give --part")
    try:
        resolve_part(chosen_part)  # a part of a recognised family is estimated without % of the part
    except ValueError as exc:
        raise ConfigError(str(exc), path="--part" if part else "Part") from None
    clock = clock_period_ns if clock_period_ns is not None else proj.clock_period_ns
    if clock is None:
        clock = 5.0
        notes.append("clock period not in the project's files: 5 ns assumed (hls4ml's default; --clock-period)")
    if clock <= 0:
        raise ConfigError(f"must be > 0 ns, got {clock:g}", path="--clock-period")
    chosen_backend = backend or proj.backend
    if chosen_backend is None:
        chosen_backend = "vitis"
        notes.append("backend not in the project's files: vitis assumed (--backend)")
    chosen_backend = hls_backend(chosen_backend) or chosen_backend  # VivadoAccelerator → vivado
    if chosen_backend not in _BACKENDS:
        raise ConfigError(f"must be vitis or vivado, got {chosen_backend!r}", path="--backend")
    if tool_version is not None:
        release = tool_release(tool_version)
        if release is None:
            raise ConfigError(f"no release (like 2020.1 or 2023.2) in {tool_version!r}", path="--tool-version")
        if release != tool_version:
            notes.append(f"tool version {tool_version!r} read as {release}")
        tool_version = release
    for key, given in (("part", part), ("clock_period_ns", clock_period_ns), ("backend", backend)):
        if given is None and key in proj.sources:
            notes.append(f"{key} from {proj.sources[key]}")
    target = Target(part=chosen_part, clock_period_ns=float(clock), backend=chosen_backend,  # type: ignore[arg-type]
                    tool_version=tool_version, legacy_hls4ml=proj.legacy_hls4ml)
    if proj.legacy_hls4ml:
        notes.append("parameters.h written by an hls4ml older than 0.8 (no nnet_code_gen.h): costed as that "
                     "version writes an io_parallel DATAFLOW design (the model input passes through a channel)")
    out = dict(estimate(proj.layers, target, calibration=_load_calibration(calibration_path)).to_dict())
    out["notes"] = list(out.get("notes", [])) + notes
    out["hls_project"] = str(Path(folder))
    return out


def calibrate(run: str | None, reports: list[str] | None, out: str | None) -> tuple[Path, str]:
    """Fit a calibration from a run's synthesis records or from folders of hls4ml projects."""
    from cost_models import fit_calibration_from_dirs

    if run is None and not reports:
        raise ConfigError("give a run folder or --reports DIR...")
    if reports:
        for d in reports:
            if not Path(d).is_dir():
                raise ConfigError(f"--reports: not a folder: {d}")
        calibration = fit_calibration_from_dirs([Path(d) for d in reports])
        if out is None:
            raise ConfigError("--out FILE is required with --reports")
        out_path = Path(out)
    else:
        assert run is not None
        from dse.store import RunFolder, RunLock
        from dse.synthesis.records import refit_run_calibration

        folder = RunFolder.open(run)
        with RunLock(folder.path):  # refused while a search or a synthesis writes to the run
            try:
                calibration = refit_run_calibration(folder.path)
            except FileNotFoundError as exc:
                raise RunFolderError(str(exc)) from None
            if out is None:
                folder.save_calibration(calibration)
                return folder.calibration_path, calibration_summary(calibration)
            out_path = Path(out)
    calibration.save(out_path)
    return out_path, calibration_summary(calibration)


def calibration_summary(calibration: Any) -> str:
    """A few lines: records used and left out, and the scale factor per group and metric."""
    import math

    lines = [f"{calibration.n_records} record(s) used, {len(calibration.rejected)} left out"]
    for r in calibration.rejected[:10]:
        lines.append(f"  left out {r.get('source', '?')}: {r.get('reason', '?')}")
    for key, group in sorted(calibration.groups.items()):
        if "|arch:" in key:
            continue
        factors = ", ".join(f"{m} x{math.exp(c.mu):.2f}" for m, c in sorted(group.items()))
        lines.append(f"  {key}: {factors}")
    return "\n".join(lines)
