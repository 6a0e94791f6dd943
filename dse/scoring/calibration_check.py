"""Does the cost model have a calibration for this tool family and part? Say so once, at start-up.

An uncalibrated estimate is the analytic model alone, with wide 80 % intervals (a factor of about
2.6 either way for DSP). Budgets are then judged with that uncertainty, and the user should know
it before trusting a design that sits just inside one. ``dse run`` calls
:func:`warn_if_uncalibrated` once when the search starts.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from cost_models.calibration import DEFAULT_LOG_SIGMA, PRIOR_CALIBRATION, Z80
from cost_models.parts import part_family
from cost_models.records import METRICS

log = logging.getLogger("dse.calibration")

__all__ = ["uncalibrated_message", "uncalibrated_metrics", "warn_if_uncalibrated"]


def uncalibrated_metrics(calibration: Any, target: Any, design_class: str = "mlp") -> list[str]:
    """The cost metrics (``dsp``, ``lut``, ...) for which ``calibration`` (a ``cost_models.Calibration``,
    or None) has no correction fitted for ``target``'s tool and part family and designs of
    ``design_class`` (``mlp``/``cnn``: a space's ``model.type``)."""
    if calibration is None:  # estimates then use the shipped prior
        calibration = PRIOR_CALIBRATION
    keys = calibration.class_keys(target, design_class)
    return [m for m in METRICS if calibration.lookup(target, m, keys=keys)[1] is None]


def uncalibrated_message(calibration: Any, target: Any, run_dir: Any = None, has_synthesis: bool = False,
                         design_class: str = "mlp") -> str | None:
    """The start-up warning for ``target`` (a ``cost_models.Target``), or None when every metric is
    calibrated for its tool and part family and designs of ``design_class``."""
    missing = uncalibrated_metrics(calibration, target, design_class)
    if not missing:
        return None
    family = part_family(target.part)
    spread = math.exp(Z80 * DEFAULT_LOG_SIGMA["dsp"])
    which = "the cost model" if len(missing) == len(METRICS) else f"the cost model ({', '.join(missing)})"
    out = run_dir if run_dir is not None else "RUN"
    how = ("The synthesis section of the space file will fit one from this run's syntheses." if has_synthesis else
           "To get one: add a synthesis: section to the space file (docs/space_file.md), or fit one from "
           f"synthesized hls4ml projects with `dse calibrate --reports DIR... --out {out}/calibration.json` "
           "(the next `dse run` re-scores the study with it).")
    return (f"no calibration of {which} for {target.backend} on {target.part} (part family {family}): "
            f"estimates are analytic, with 80% intervals up to about x{spread:.1f} either way, and budgets are "
            f"judged with that uncertainty. {how}")


def warn_if_uncalibrated(calibration: Any, target: Any, run_dir: Any = None, has_synthesis: bool = False,
                         design_class: str = "mlp") -> bool:
    """Log :func:`uncalibrated_message` as a warning when there is one; True when it warned."""
    message = uncalibrated_message(calibration, target, run_dir, has_synthesis, design_class)
    if message is None:
        return False
    log.warning("%s", message)
    return True
