"""Typed records of the run folder, one dataclass each, with their stored (JSON) form.

- :class:`TrialRecord` (``trials/NNNNN/record.json``): what training one design produced. It is
  written after every other file of the trial folder, so its presence means the trial's
  artefacts are complete: a driver killed before it told Optuna finishes the trial from it on
  resume instead of training the design again.
- :class:`SynthesisRecord` (``synthesis/records/NNNNN.json``): the outcome of real HLS
  synthesis of one trial, the estimate before and after the refit, firmware accuracy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["SynthesisRecord", "TrialRecord"]


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass
class TrialRecord:
    """One trained design. ``status``: complete, pruned or failed. Units: seconds for times."""

    number: int
    status: str
    params: dict[str, Any]
    candidate: dict[str, Any]
    seed: int
    metrics: dict[str, Any] = field(default_factory=dict)
    """val_accuracy, val_loss, test_accuracy, val_auc, epochs_run, train_seconds, ... (fractions, seconds)."""
    node: str = ""
    error: str = ""
    """The last line of the worker's traceback (failed trials); the whole of it is in error.txt."""

    @property
    def params_key(self) -> str:
        return params_key(self.params)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialRecord:
        return cls(**_known(cls, data))


@dataclass
class SynthesisRecord:
    """Real HLS synthesis of trial ``trial``. ``status``: ok, failed, timeout, no_report, bad_report,
    tool_missing. ``measured`` holds dsp, lut, ff, bram_18k (counts), latency_cycles, ii (cycles),
    latency_ns (ns); the Yosys backend adds carry (CARRY4/8 cells)."""

    trial: int
    status: str
    measured: dict[str, float] = field(default_factory=dict)
    tool: str = ""
    tool_family: str = ""
    """The calibration key of the tool (the backend's declared family; ``tool`` when empty)."""
    tool_version: str | None = None
    part: str | None = None
    clock_period_ns: float | None = None
    error: str = ""
    log_tail: str = ""
    node: str = ""
    attempts: int = 1
    seconds: float = 0.0
    firmware_accuracy: float | None = None
    firmware_error: str = ""
    job_dir: str = ""
    ray_node_id: str = ""
    estimate_before: dict[str, Any] = field(default_factory=dict)
    estimate_after: dict[str, Any] = field(default_factory=dict)
    qkeras_test_accuracy: float | None = None
    firmware_drop: float | None = None
    firmware_flag: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok" and bool(self.measured)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthesisRecord:
        return cls(**_known(cls, data))


def params_key(params: dict[str, Any]) -> str:
    """A design's identity: its Optuna parameters as canonical JSON."""
    import json

    return json.dumps(params, sort_keys=True, default=str)
