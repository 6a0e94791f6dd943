"""Hand-made run folders for the report, analysis, export and notebook tests.

A run is made the way the driver makes one (RunFolder.prepare, an Optuna study named
STUDY_NAME in its SQLite storage, trials asked with enqueued params and told), but with
hand-chosen metrics and estimates, so no cost model and no Ray are needed. ``train=True``
really trains the model of a trial and stores it like the driver does (for export tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import yaml

from dse.design.candidate import suggest_candidate
from dse.space import load_space
from dse.store import STUDY_NAME, RunFolder
from dse.store.atomic import atomic_write_bytes, atomic_write_json
from tests.helpers import tiny_space_dict

KEYS = ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "latency_ns", "ii")


@dataclass
class T:
    """One hand-made trial. ``state``: COMPLETE, FAIL, PRUNED or RUNNING."""

    state: str = "COMPLETE"
    acc: float = 0.9
    dsp: float = 10.0
    lut: float = 1000.0
    latency_ns: float = 50.0
    params: dict[str, Any] = field(default_factory=lambda: {"width_0": 8})
    train: bool = False
    measured: dict[str, Any] | None = None
    firmware_accuracy: float | None = None


def estimate(t: T) -> dict[str, Any]:
    est: dict[str, Any] = {"dsp": t.dsp, "lut": t.lut, "ff": t.lut * 1.5, "bram_18k": 0.0,
                           "latency_ns": t.latency_ns, "latency_cycles": t.latency_ns / 5.0, "ii": 1.0}
    for k in KEYS:
        est[f"{k}_low"], est[f"{k}_high"] = est[k] * 0.8, est[k] * 1.25
    est["calibrated"] = False
    return est


def make_run(path: Path, trials: list[T], records: list[dict[str, Any]] | None = None,
             **space_overrides: Any) -> Path:
    """Create the run folder ``path`` holding ``trials`` (and synthesis ``records``)."""
    space_file = path.parent / f"{path.name}.space.yaml"
    space_file.write_text(yaml.safe_dump(tiny_space_dict(**space_overrides), sort_keys=False))
    space = load_space(space_file)
    folder, _ = RunFolder.prepare(path, space, space_file.read_text(), storage=None)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=STUDY_NAME, storage=folder.storage_url(), directions=space.directions,  # type: ignore[arg-type]
                                sampler=optuna.samplers.RandomSampler(seed=0))
    data = None
    for t in trials:
        study.enqueue_trial(t.params)
        trial = study.ask()
        cand = suggest_candidate(trial, space)
        trial.set_user_attr("candidate", cand.to_dict())
        tdir = folder.trial_dir(trial.number)
        atomic_write_json(tdir / "params.json", {"params": trial.params, "candidate": cand.to_dict(), "seed": 0})
        if t.state == "RUNNING":
            continue
        if t.state == "FAIL":
            trial.set_user_attr("error", "ValueError: boom")
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        if t.state == "PRUNED":
            trial.set_user_attr("metrics", {"val_accuracy": t.acc * 0.5, "epochs_run": 1})
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        metrics: dict[str, Any] = {"val_accuracy": t.acc, "test_accuracy": t.acc - 0.01, "val_loss": 1 - t.acc,
                                   "val_auc": None, "epochs_run": 2, "train_seconds": 0.1}
        if t.train:
            from dse.training.data import load_dataset
            from dse.training.train import train_candidate

            data = data or load_dataset(space.data)
            res = train_candidate(cand, space, data, seed=trial.number)
            metrics.update(val_accuracy=res.val_accuracy, test_accuracy=res.test_accuracy, val_loss=res.val_loss)
            model_path = tdir / "model.h5"
            tdir.mkdir(parents=True, exist_ok=True)
            res.model.save(model_path, include_optimizer=False)
            atomic_write_json(tdir / "hls_config.json", cand.to_hls_config(space))
        est = estimate(t)
        values = {"accuracy": metrics["val_accuracy"], **{k: est[k] for k in KEYS}, "bram": est["bram_18k"]}
        cons = [values[c.metric] - c.bound if c.op == "<=" else c.bound - values[c.metric]
                for c in space.constraints]
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("estimate", est)
        trial.set_user_attr("constraint_values", cons)
        if t.measured is not None:
            trial.set_user_attr("measured", t.measured)
        if t.firmware_accuracy is not None:
            trial.set_user_attr("firmware_accuracy", t.firmware_accuracy)
        atomic_write_json(tdir / "metrics.json", metrics)
        atomic_write_json(tdir / "estimate.json", est)
        if not t.train:
            atomic_write_bytes(tdir / "model.h5", b"not a model")
        study.tell(trial, [values[o.metric] for o in space.objectives])
    for i, rec in enumerate(records or []):
        atomic_write_json(path / "synthesis" / "records" / f"{i:04d}.json", rec)
    return path


def record(trial: int, measured: dict[str, Any], before: dict[str, Any], after: dict[str, Any] | None = None,
           status: str = "ok") -> dict[str, Any]:
    rec: dict[str, Any] = {"trial": trial, "status": status, "measured": measured if status == "ok" else {},
                           "estimate_before": before, "tool": "vitis", "tool_version": "2023.2",
                           "part": "xcvu9p-flga2104-2L-e", "error": None if status == "ok" else "timeout after 10 s"}
    if after is not None:
        rec["estimate_after"] = after
    return rec


def standard_trials() -> list[T]:
    """A mixed run: a front with a tie, dominated, infeasible, failed, pruned and running trials."""
    return [
        T(acc=0.90, dsp=10, lut=1000, params={"width_0": 8, "weight_bits": 4}),          # 0 front
        T(acc=0.95, dsp=40, lut=3000, params={"width_0": 16, "weight_bits": 8}),         # 1 front
        T(acc=0.95, dsp=40, lut=3000, params={"width_0": 16, "weight_bits": 6}),         # 2 tie with 1: front
        T(acc=0.85, dsp=20, lut=2000, params={"width_0": 8, "weight_bits": 6}),          # 3 dominated by 0
        T(acc=0.99, dsp=5, lut=500, latency_ns=5000, params={"width_0": 16, "weight_bits": 3}),  # 4 infeasible
        T(state="FAIL", params={"width_0": 8, "weight_bits": 3}),                        # 5
        T(state="PRUNED", params={"width_0": 16, "weight_bits": 4}),                      # 6
        T(acc=0.92, dsp=8, lut=2500, params={"width_0": 8, "weight_bits": 8},            # 7 front
          measured={"dsp": 6, "lut": 2100, "ff": 3000, "bram_18k": 0, "latency_cycles": 9, "latency_ns": 45, "ii": 1},
          firmware_accuracy=0.915),
        T(state="RUNNING", params={"width_0": 16, "weight_bits": 3}),                    # 8
    ]


def standard_records() -> list[dict[str, Any]]:
    m = {"dsp": 6, "lut": 2100, "ff": 3000, "bram_18k": 0, "latency_cycles": 9, "latency_ns": 45, "ii": 1}
    b = {"dsp": 8, "lut": 2500, "ff": 3750, "bram_18k": 0, "latency_cycles": 10, "latency_ns": 50, "ii": 1}
    a = {"dsp": 6.5, "lut": 2200, "ff": 3100, "bram_18k": 0, "latency_cycles": 9, "latency_ns": 45, "ii": 1}
    m0 = {"dsp": 9, "lut": 800, "ff": 1200, "bram_18k": 0, "latency_cycles": 12, "latency_ns": 60, "ii": 1}
    b0 = {"dsp": 10, "lut": 1000, "ff": 1500, "bram_18k": 0, "latency_cycles": 10, "latency_ns": 50, "ii": 1}
    return [record(7, m, b, a), record(0, m0, b0, None), record(3, {}, b0, status="timeout")]


def read_json(p: Path) -> Any:
    return json.loads(p.read_text())


def real_run(tmp_path_factory: Any) -> Path:
    """A real ``dse run`` (tiny space, 3 trials, 1 worker), made once per test session and shared.

    Skips when the cost model is not importable yet."""
    import pytest

    try:
        from cost_models import estimate  # noqa: F401
    except ImportError:
        pytest.skip("cost_models.estimate is not available yet")
    base = Path(tmp_path_factory.getbasetemp()) / "dse_real_run"
    run = base / "run"
    if (base / "done").exists():
        return run
    base.mkdir(exist_ok=True)
    space = base / "tiny.yaml"
    space.write_text(yaml.safe_dump(tiny_space_dict(), sort_keys=False))
    from dse.commands.cli import main

    code = main(["run", str(space), "--run-dir", str(run), "--n-trials", "3", "--workers", "1", "--no-progress"])
    assert code == 0, f"dse run failed with exit code {code}"
    (base / "done").write_text("ok")
    return run
