"""The synthesis backend contract, its typed results and errors, and the name registry.

A backend turns one trained candidate (model + hls4ml config) into measured figures:
``prepare`` writes the hls4ml project, ``run`` calls the vendor tool with ``subprocess``
(never ``os.system``/``os.chdir``) in the project folder with a timeout, a thread cap and a
log file, and ``read`` parses the reports. ``synthesize`` does all three and raises a typed
``SynthesisError`` subclass on failure.
"""

from __future__ import annotations

import abc
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, ClassVar

from dse.errors import (
    BackendPluginError,
    ReportMissing,
    ReportUnreadable,
    SynthesisError,
    SynthesisFailed,
    SynthesisTimeout,
    ToolNotFoundError,
)
from dse.synthesis.jobs import SynthesisJob, SynthesisResult
from dse.synthesis.project import read_project_result, write_hls4ml_project

__all__ = ["ReportMissing", "ReportUnreadable", "SynthesisBackend", "SynthesisFailed", "SynthesisJob",
           "SynthesisResult", "SynthesisTimeout", "backend_names", "get_backend", "load_plugins",
           "register_backend"]

log = logging.getLogger(__name__)


class SynthesisBackend(abc.ABC):
    """Base class of synthesis backends; subclasses set ``name``, ``executable_names`` and
    ``hls4ml_backend``, and may set ``tool_family`` and ``strategies``.

    A backend declares its *tool family* (the key its records calibrate, ``tool_family``; the
    backend's ``name`` when not set) and its *report reader* (``read``): a plug-in's records then
    calibrate the estimates of its own tool family exactly as a built-in's do.
    """

    name: ClassVar[str]
    executable_names: ClassVar[tuple[str, ...]]
    hls4ml_backend: ClassVar[str]
    """hls4ml's backend of the project ``prepare`` writes (and exports carry)."""
    tool_family: ClassVar[str | None] = None
    """Calibration key of this tool's records (``vitis``, ``vivado``, ``yosys``, ...); None: ``name``."""
    strategies: ClassVar[tuple[str, ...] | None] = None
    """The hls4ml strategies this tool can synthesize (None: all of them)."""

    @classmethod
    def family(cls) -> str:
        """The tool family its records calibrate (``tool_family``, else ``name``)."""
        return cls.tool_family or cls.name

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
        return read_project_result(job, project, tool=self.name)

    def firmware_accuracy(self, job: SynthesisJob, project: Path, data: Any) -> float:
        """Accuracy on ``data.x_test``/``data.y_test`` of the firmware as this tool builds it
        (default: hls4ml's bit-accurate C++ emulation of the project)."""
        from dse.synthesis.firmware import firmware_accuracy

        return firmware_accuracy(job, self.hls4ml_backend, data)

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
_BROKEN_PLUGINS: dict[str, str] = {}
_plugins_loaded = False


def register_backend(cls: type[SynthesisBackend]) -> type[SynthesisBackend]:
    """Make ``cls`` selectable by ``cls.name`` (usable as a class decorator); refuses a second
    class under a name already taken, and classes that are not ``SynthesisBackend``s."""
    if not (isinstance(cls, type) and issubclass(cls, SynthesisBackend)):
        raise BackendPluginError(f"{cls!r} is not a SynthesisBackend subclass")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"a synthesis backend named {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def load_plugins() -> None:
    """Register the backends other packages declare in the ``dse.synthesis_backends`` entry-point
    group (``name = "package.module:BackendClass"``), once. A plug-in that fails to load is
    logged and remembered; selecting it raises ``BackendPluginError`` with the reason."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    from dse.plugins import SYNTHESIS_BACKEND_ENTRY_POINTS

    for ep in entry_points(group=SYNTHESIS_BACKEND_ENTRY_POINTS):
        try:
            cls = ep.load()
            named = getattr(cls, "name", None)
            if named != ep.name:
                raise BackendPluginError(f"entry point {ep.name!r} loads a backend named {named!r}")
            register_backend(cls)
        except Exception as exc:  # a broken plug-in must not break dse for the other backends
            _BROKEN_PLUGINS[ep.name] = f"{ep.value}: {exc}"
            log.warning("synthesis backend plug-in %r cannot be loaded: %s", ep.name, exc)


def get_backend(name: str, executable: str | None = None) -> SynthesisBackend:
    """An instance of the backend registered as ``name`` (built-in or plug-in)."""
    load_plugins()
    if name in _BROKEN_PLUGINS:
        raise BackendPluginError(f"synthesis backend plug-in {name!r} cannot be loaded: {_BROKEN_PLUGINS[name]}")
    if name not in _REGISTRY:
        raise SynthesisError(f"unknown synthesis backend {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](executable)


def backend_names() -> list[str]:
    """The names of every registered backend (built-ins and loaded plug-ins), sorted."""
    load_plugins()
    return sorted(_REGISTRY)
