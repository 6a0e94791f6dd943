"""cost_models: an analytic + calibrated cost model of hls4ml designs (no TensorFlow, no hls4ml import).

Public API::

    estimate(layers, target, calibration=None) -> Estimate
    Calibration.fit(records) / .save(path) / .load(path); fit_calibration_from_dirs(dirs)
    read_hls_project(folder), read_csynth_xml(path), read_csynth_rpt(path), read_vivado_synth_rpt(path)
    get_part(part) (table devices), resolve_part(part) (also a recognised family, totals unknown)
    valid_reuse_factors(n_in, n_out), snap_reuse_factor(n_in, n_out, rf)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from cost_models import depthwise_rules as _depthwise_rules  # noqa: F401  (registers the depthwise conv rules)
from cost_models import layer_rules as _layer_rules  # noqa: F401  (registers the rules of layers without weights)
from cost_models import recurrent_rules as _recurrent_rules  # noqa: F401  (registers the LSTM and GRU rules)
from cost_models.analytic import LayerEstimate
from cost_models.calibration import Calibration, Correction
from cost_models.errors import CalibrationError, CostModelError, ReportError, UnknownLayerError, UnknownPartError
from cost_models.estimate import Estimate, Interval, analytic_totals, estimate
from cost_models.hls_project import (
    find_project_dirs,
    layers_from_structs,
    read_hls_project,
    read_project_json,
    records_from_dirs,
)
from cost_models.layers import ConvGeometry, FixedType, LayerSpec, Target, layers_from_dicts, layers_to_dicts
from cost_models.parts import PARTS, Part, get_part, known_parts, resolve_part
from cost_models.records import METRICS, SynthesisRecord
from cost_models.reports import VivadoSynthReport, read_csynth_rpt, read_csynth_xml, read_report, read_vivado_synth_rpt
from cost_models.reuse import closest_reuse_factor, is_valid_reuse_factor, snap_reuse_factor, valid_reuse_factors
from cost_models.written_project import WrittenProject, read_written_project

__all__ = [
    "METRICS", "PARTS", "Calibration", "CalibrationError", "ConvGeometry", "Correction", "CostModelError",
    "Estimate", "FixedType", "Interval", "LayerEstimate", "LayerSpec", "Part", "ReportError", "SynthesisRecord",
    "Target", "UnknownLayerError", "UnknownPartError", "VivadoSynthReport", "analytic_totals", "closest_reuse_factor",
    "estimate",
    "find_project_dirs", "fit_calibration_from_dirs", "get_part", "is_valid_reuse_factor", "known_parts",
    "layers_from_dicts", "layers_from_structs", "layers_to_dicts", "read_csynth_rpt", "read_csynth_xml",
    "read_hls_project", "read_project_json", "read_report", "read_vivado_synth_rpt", "records_from_dirs",
    "resolve_part", "snap_reuse_factor", "valid_reuse_factors", "WrittenProject", "read_written_project",
]


def fit_calibration_from_dirs(dirs: Iterable[str | os.PathLike[str]]) -> Calibration:
    """Find hls4ml project folders under ``dirs``, read their layers and reports, and fit a calibration.

    Folders without a readable report, and records without a layer list or with bad figures,
    are logged and left out (see ``Calibration.rejected``).
    """
    return Calibration.fit(records_from_dirs([os.fspath(d) for d in dirs]))
