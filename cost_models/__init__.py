"""cost_models: analytic, calibrated hls4ml cost model (no TensorFlow)."""

from cost_models.parts import get_part

__all__ = ["get_part"]
