"""The calibration refit from a run's synthesis records (``dse.store.SynthesisRecord``, read and
written by ``RunFolder``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from dse.store import RunFolder, SynthesisRecord

log = logging.getLogger(__name__)


def calibration_examples(folder: RunFolder) -> list[tuple[list[Any], SynthesisRecord]]:
    """(layer list, record) of every successful record whose trial has a layers.json."""
    from cost_models.layers import layers_from_dicts

    out = []
    for rec in folder.synthesis_records():
        if not rec.ok:
            continue
        if not (folder.trial_dir(rec.trial) / "layers.json").exists():
            log.warning("record of trial %s has no layers.json: not used for calibration", rec.trial)
            continue
        out.append((layers_from_dicts(folder.read_layers(rec.trial)), rec))
    return out


def cost_target(space: Any) -> Any:
    """The cost model's target of a space: its part and clock, and as ``backend`` the tool family whose
    records calibrate it: the synthesis backend's declared family when synthesis is on (``yosys``,
    a plug-in's), else the hardware's HLS backend. Records of one family never correct another's."""
    from dataclasses import replace

    from dse.errors import SynthesisError
    from dse.synthesis.base import get_backend
    from dse.training.trial_runner import space_target

    target = space_target(space)
    name = space.synthesis.backend
    if name == "none":
        return target
    try:
        family = get_backend(name).family()
    except SynthesisError:  # a broken plug-in: the run reports it when it synthesizes
        return target
    return replace(target, backend=family)


def refit_run_calibration(run_dir: Path) -> Any:
    """Fit a calibration from the run's successful synthesis records (see ``cost_models``)."""
    folder = RunFolder.open(run_dir)
    return fit_calibration(calibration_examples(folder), cost_target(folder.load_space()))


def fit_calibration(examples: list[tuple[list[Any], SynthesisRecord]], target: Any) -> Any:
    import cost_models

    records = []
    for layers, rec in examples:
        measured = rec.measured
        records.append(cost_models.SynthesisRecord(
            tool=str(rec.tool_family or rec.tool or target.backend),
            tool_version=rec.tool_version or target.tool_version,
            part=str(rec.part or target.part), clock_period_ns=float(rec.clock_period_ns or target.clock_period_ns),
            latency_cycles=measured.get("latency_cycles"), ii=measured.get("ii"), dsp=measured.get("dsp"),
            lut=measured.get("lut"), ff=measured.get("ff"), bram_18k=measured.get("bram_18k"),
            layers=list(layers), source=f"trial {rec.trial}", project=f"trial{rec.trial}"))
    return cost_models.Calibration.fit(records)
