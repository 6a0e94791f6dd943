"""The error hierarchy of dse. The CLI maps each to a clear message and an exit status.

cost_models keeps its own (cost_models.errors: it imports nothing from dse); dse code that
calls it turns those errors into these where a user sees them.
"""

from __future__ import annotations


class DseError(Exception):
    """Base class of every error dse raises on purpose."""


class ConfigError(DseError, ValueError):
    """A space file (or a command-line value) is invalid.

    ``path`` is the dotted key path (``hardware.reuse_factor``), ``line`` the 1-based line
    in ``file`` when known.
    """

    def __init__(self, message: str, path: str = "", file: str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        key = f"{self.path}: " if self.path else ""
        return f"{where}{key}{self.message}"


class RunFolderError(DseError):
    """A run folder is missing, unreadable, or was written by an incompatible dse version."""


class DataError(DseError):
    """A data set cannot be loaded (missing file, missing column, no cached copy offline).

    ``key`` is the space-file key at fault when one is (``data.features``); the message then starts
    with it, and ``dse validate`` reports it with the key's line."""

    def __init__(self, message: str, key: str = ""):
        self.message = message
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class SynthesisError(DseError):
    """A synthesis job failed (tool missing, non-zero exit, timeout, missing report)."""


class ToolNotFoundError(SynthesisError):
    """The requested vendor HLS executable is not installed or not on PATH."""


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


class BackendPluginError(SynthesisError):
    """A synthesis backend plug-in (entry point) cannot be loaded or is not a SynthesisBackend."""
