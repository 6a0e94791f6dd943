"""Synthesis records in the run folder (``synthesis/records/NNNNN.json``) and the calibration
refit from them. A record holds the outcome (status, measured figures, tool, log tail), the
trial's estimate before the refit and, once refitted, the estimate after it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from dse._io import atomic_write_json, atomic_write_text, read_json

log = logging.getLogger(__name__)


def records_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "synthesis" / "records"


def record_path(run_dir: Path, trial: int) -> Path:
    return records_dir(run_dir) / f"{trial:05d}.json"


def write_record(run_dir: Path, record: dict[str, Any]) -> Path:
    path = record_path(run_dir, int(record["trial"]))
    atomic_write_json(path, record)
    if record.get("log_tail"):
        atomic_write_text(Path(run_dir) / "synthesis" / "logs" / f"{int(record['trial']):05d}.log", record["log_tail"])
    return path


def load_records(run_dir: Path) -> list[dict[str, Any]]:
    """Every record of the run, oldest trial first; unreadable files are skipped with a warning."""
    out: list[dict[str, Any]] = []
    folder = records_dir(run_dir)
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            rec = read_json(path)
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("skipping unreadable synthesis record %s: %s", path, exc)
            continue
        if isinstance(rec, dict) and "trial" in rec:
            out.append(rec)
    return out


def synthesized_trials(run_dir: Path) -> set[int]:
    """Trials with a record, whatever its status: a design is never synthesized twice."""
    return {int(r["trial"]) for r in load_records(run_dir)}


def calibration_examples(run_dir: Path) -> list[tuple[list[Any], dict[str, float]]]:
    """(layer list, measured figures) of every successful record whose trial has a layers.json."""
    from cost_models.layers import layers_from_dicts

    out = []
    for rec in load_records(run_dir):
        if rec.get("status") != "ok" or not rec.get("measured"):
            continue
        layers_path = Path(run_dir) / "trials" / f"{int(rec['trial']):05d}" / "layers.json"
        if not layers_path.exists():
            log.warning("record of trial %s has no layers.json: not used for calibration", rec["trial"])
            continue
        out.append((layers_from_dicts(read_json(layers_path)), rec))
    return out


def refit_run_calibration(run_dir: Path) -> Any:
    """Fit a calibration from the run's successful synthesis records (see ``cost_models``)."""
    from dse.run_folder import RunFolder
    from dse.trial_runner import space_target

    folder = RunFolder.open(run_dir)
    space = folder.load_space()
    target = space_target(space)
    examples = calibration_examples(Path(run_dir))
    return fit_calibration(examples, target)


def fit_calibration(examples: list[tuple[list[Any], dict[str, Any]]], target: Any) -> Any:
    from cost_models import Calibration, SynthesisRecord

    records = []
    for layers, rec in examples:
        measured = rec["measured"]
        records.append(SynthesisRecord(
            tool=str(rec.get("tool") or target.backend), tool_version=rec.get("tool_version") or target.tool_version,
            part=str(rec.get("part") or target.part),
            clock_period_ns=float(rec.get("clock_period_ns") or target.clock_period_ns),
            latency_cycles=measured.get("latency_cycles"), ii=measured.get("ii"), dsp=measured.get("dsp"),
            lut=measured.get("lut"), ff=measured.get("ff"), bram_18k=measured.get("bram_18k"),
            layers=list(layers), source=f"trial {rec['trial']}", project=f"trial{rec['trial']}"))
    return Calibration.fit(records)
