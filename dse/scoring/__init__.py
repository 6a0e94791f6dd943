"""Scoring: a trial's metrics and cost estimate → objective and constraint values (``score``),
budgets as probabilities (``budgets``), the Pareto front (``pareto``) and the calibration check
(``calibration_check``). Pure functions: no Optuna, no run folder, no TensorFlow."""

from __future__ import annotations

from dse.scoring.score import Score, estimate_dict, estimate_summary, metric_values, part_bounds, score

__all__ = ["Score", "estimate_dict", "estimate_summary", "metric_values", "part_bounds", "score"]
