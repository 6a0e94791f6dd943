"""The space file: declared schema (``schema``), loading with file:line errors (``loading``),
and the text summary of a space (``describe``)."""

from __future__ import annotations

from dse.space.loading import check_model_shape, load_space, parse_space, parse_space_text
from dse.space.schema import (
    COST_METRICS,
    ESTIMATE_KEYS,
    GENERATORS,
    MAXIMIZED_METRICS,
    METRICS,
    PART_METRICS,
    PART_RESOURCE_KEYS,
    PRUNERS,
    QUALITY_METRICS,
    SAMPLERS,
    SKLEARN_SETS,
    WEIGHT_SPECIAL_BITS,
    Constraint,
    DataConfig,
    EarlyStopping,
    GeneratorConfig,
    HardwareConfig,
    ModelConfig,
    Objective,
    QuantizationConfig,
    SearchConfig,
    SpaceConfig,
    SparsityConfig,
    SplitConfig,
    SynthesisConfig,
    TrainingConfig,
)
from dse.space.searchable import Searchable

__all__ = [
    "COST_METRICS", "ESTIMATE_KEYS", "GENERATORS", "MAXIMIZED_METRICS", "METRICS", "PART_METRICS",
    "PART_RESOURCE_KEYS", "PRUNERS", "QUALITY_METRICS", "SAMPLERS", "SKLEARN_SETS", "WEIGHT_SPECIAL_BITS",
    "Constraint", "DataConfig", "EarlyStopping", "GeneratorConfig", "HardwareConfig", "ModelConfig", "Objective",
    "QuantizationConfig", "Searchable", "SearchConfig", "SpaceConfig", "SparsityConfig", "SplitConfig",
    "SynthesisConfig", "TrainingConfig", "check_model_shape", "load_space", "parse_space", "parse_space_text",
]
