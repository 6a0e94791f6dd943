"""TEMPORARY: removed by the lead after merging issue 9 (trial_runner reads layers through
dse.design.hls4ml_adapter)."""

from __future__ import annotations

from dse.design.hls4ml_adapter import layer_specs_from_graph as layer_specs
from dse.design.hls4ml_adapter import layers_from_keras, to_fixed

__all__ = ["layer_specs", "layers_from_keras", "to_fixed"]
