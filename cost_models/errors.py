"""The cost model's error hierarchy."""

from __future__ import annotations

__all__ = ["CalibrationError", "CostModelError", "ReportError", "UnknownLayerError", "UnknownPartError"]


class CostModelError(Exception):
    """Base class of every error raised by ``cost_models``."""


class UnknownPartError(CostModelError, ValueError):
    """An FPGA part that is not in the parts table (the message lists the known ones)."""


class UnknownLayerError(CostModelError, ValueError):
    """A layer whose kind the cost model has no rule for (the message names the layer and its kind)."""


class ReportError(CostModelError, ValueError):
    """A synthesis report or hls4ml project file that cannot be read (the message names the file)."""

    def __init__(self, path: object, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class CalibrationError(CostModelError, ValueError):
    """A calibration that cannot be fitted, saved or loaded (e.g. a corrupt JSON file)."""
