"""The synthesis backend contract, its typed results and errors, and the name registry.

A backend turns one trained candidate (model + hls4ml config) into measured figures:
``prepare`` writes the hls4ml project, ``run`` calls the vendor tool with ``subprocess``
(never ``os.system``/``os.chdir``) in the project folder with a timeout, a thread cap and a
log file, and ``read`` parses the reports. ``synthesize`` does all three and raises a typed
``SynthesisError`` subclass on failure.
"""

from __future__ import annotations

import abc
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from dse.errors import SynthesisError, ToolNotFoundError


class SynthesisFailed(SynthesisError):
    """The tool exited with a non-zero status."""

    def __init__(self, message: str, returncode: int | None = None):
        super().__init__(message)
        self.returncode = returncode


class SynthesisTimeout(SynthesisError):
    """The tool ran longer than the job's timeout and was killed."""


class ReportMissing(SynthesisError):
    """The tool finished but wrote no report."""


class ReportUnreadable(SynthesisError):
    """A report exists but cannot be parsed (truncated, garbage)."""


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


class SynthesisBackend(abc.ABC):
    """Base class of synthesis backends; subclasses set ``name`` and ``executable_names``."""

    name: ClassVar[str]
    executable_names: ClassVar[tuple[str, ...]]
    hls4ml_backend: ClassVar[str]

    def __init__(self, executable: str | None = None):
        self.executable = executable

    def find_executable(self) -> str:
        """The tool's path: the configured one, else the first of ``executable_names`` on PATH."""
        candidates = [self.executable] if self.executable else list(self.executable_names)
        for c in candidates:
            assert c is not None
            path = shutil.which(c)
            if path:
                return path
        raise ToolNotFoundError(
            f"{self.name} synthesis needs {' or '.join(candidates)} on PATH (or synthesis.executable in the space "
            "file); none was found. Install the vendor tool, or set synthesis.backend: none.")

    def prepare(self, job: SynthesisJob) -> Path:
        """Write the hls4ml project of the job's trained model; returns the project folder."""
        from dse.synthesis.project import write_hls4ml_project

        return write_hls4ml_project(job, self.hls4ml_backend)

    @abc.abstractmethod
    def command(self, executable: str, job: SynthesisJob, project: Path) -> list[str]:
        """The argv that runs synthesis in ``project`` (the current folder of the process)."""

    def before_run(self, job: SynthesisJob, project: Path) -> None:
        """Write whatever the tool reads besides build_prj.tcl (options, thread caps)."""
        cap_vivado_threads(project, job.threads)

    def run(self, job: SynthesisJob, project: Path, log_path: Path) -> None:
        """Run the tool in ``project``; raise SynthesisFailed or SynthesisTimeout."""
        exe = self.find_executable()
        self.before_run(job, project)
        env = dict(os.environ)
        env.update({"OMP_NUM_THREADS": str(job.threads), "MKL_NUM_THREADS": str(job.threads)})
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                proc = subprocess.run(self.command(exe, job, project), cwd=project, stdout=log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=job.timeout_s,
                                      env=env, check=False)
            except subprocess.TimeoutExpired:
                raise SynthesisTimeout(f"{self.name} did not finish within {job.timeout_s:g} s") from None
        if proc.returncode != 0:
            raise SynthesisFailed(f"{self.name} exited with status {proc.returncode} (see {log_path})",
                                  proc.returncode)

    def read(self, job: SynthesisJob, project: Path) -> SynthesisResult:
        from dse.synthesis.project import read_project_result

        return read_project_result(job, project, tool=self.name)

    def synthesize(self, job: SynthesisJob) -> SynthesisResult:
        project = self.prepare(job)
        self.run(job, project, Path(job.job_dir) / "synthesis.log")
        return self.read(job, project)


def cap_vivado_threads(project: Path, threads: int) -> None:
    """Cap Vivado logic synthesis to ``threads`` threads (prepends set_param to vivado_synth.tcl)."""
    tcl = project / "vivado_synth.tcl"
    if tcl.exists():
        text = tcl.read_text()
        line = f"set_param general.maxThreads {threads}\n"
        if not text.startswith("set_param general.maxThreads"):
            tcl.write_text(line + text)


_REGISTRY: dict[str, type[SynthesisBackend]] = {}


def register_backend(cls: type[SynthesisBackend]) -> type[SynthesisBackend]:
    """Class decorator: make ``cls`` selectable by ``cls.name``; refuses duplicate names."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"a synthesis backend named {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def get_backend(name: str, executable: str | None = None) -> SynthesisBackend:
    if name not in _REGISTRY:
        raise SynthesisError(f"unknown synthesis backend {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](executable)


def backend_names() -> list[str]:
    return sorted(_REGISTRY)
