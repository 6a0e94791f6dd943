"""The trials table: one row per trial, from the study alone (params, metrics, estimates, state)."""

from __future__ import annotations

from typing import Any

from dse.space import SpaceConfig

ESTIMATE_KEYS = ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "latency_ns", "ii")


def trials_frame(study: Any, space: SpaceConfig | None = None) -> Any:
    """A pandas DataFrame of every trial. Columns: number, state, candidate, objective values,
    val/test accuracy, each cost estimate with ``_low``/``_high`` (80 % interval), ``feasible``,
    ``measured_*`` where synthesized, ``param_*`` and timing."""
    import pandas as pd

    rows = []
    for t in study.get_trials(deepcopy=False):
        ua = t.user_attrs
        metrics = ua.get("metrics", {}) or {}
        est = ua.get("estimate", {}) or {}
        cons = ua.get("constraint_values")
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.name,
            "candidate": _short(ua.get("candidate")),
            "val_accuracy": metrics.get("val_accuracy"),
            "test_accuracy": metrics.get("test_accuracy"),
            "val_loss": metrics.get("val_loss"),
            "val_auc": metrics.get("val_auc"),
        }
        for k in ESTIMATE_KEYS:
            row[k] = est.get(k)
            row[f"{k}_low"] = est.get(f"{k}_low")
            row[f"{k}_high"] = est.get(f"{k}_high")
        row["calibrated"] = est.get("calibrated")
        row["feasible"] = None if cons is None else all(c <= 0 for c in cons)
        for k, v in (ua.get("measured", {}) or {}).items():
            row[f"measured_{k}"] = v
        if ua.get("firmware_accuracy") is not None:
            row["firmware_accuracy"] = ua["firmware_accuracy"]
        row["epochs_run"] = metrics.get("epochs_run")
        row["train_seconds"] = metrics.get("train_seconds")
        row["duration_s"] = t.duration.total_seconds() if t.duration is not None else None
        row["interrupted"] = bool(ua.get("interrupted", False))
        row["error"] = ua.get("error")
        for k, v in t.params.items():
            row[f"param_{k}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def _short(cand: Any) -> str | None:
    if not cand:
        return None
    from dse.candidate import Candidate

    try:
        return Candidate.from_dict(cand).short()
    except (KeyError, TypeError, ValueError):
        return None
