"""What a synthesis backend is given (``SynthesisJob``) and what it returns (``SynthesisResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SynthesisJob:
    """One design to synthesize. Paths are on the machine that runs the job."""

    trial: int
    model_h5: bytes
    hls_config: dict[str, Any]
    part: str
    clock_period_ns: float
    io_type: str
    job_dir: str
    backend: str
    executable: str | None = None
    timeout_s: float = 4 * 3600.0
    threads: int = 1
    vsynth: bool = False


@dataclass
class SynthesisResult:
    """Measured figures of one design: the keys of the cost model's estimate, plus the tool's identity."""

    trial: int
    measured: dict[str, float]
    tool: str
    tool_version: str | None
    part: str | None
    clock_period_ns: float | None
    report_files: list[str] = field(default_factory=list)
    per_layer: list[dict[str, Any]] = field(default_factory=list)
