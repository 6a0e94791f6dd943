"""One trial, as executed by a worker (a Ray task or the driver itself).

``execute_trial`` trains the candidate, converts it with hls4ml to read the layer list
hls4ml will generate, and returns everything the driver needs as plain data (the model as
HDF5 bytes), so that the worker never touches the study storage nor the run folder: on a
cluster the worker's disk is not the driver's.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dse.design.candidate import Candidate
from dse.space import SpaceConfig
from dse.training.data import Dataset

log = logging.getLogger(__name__)


@dataclass
class TrialPayload:
    number: int
    candidate: dict[str, Any]
    space: SpaceConfig
    seed: int
    threads: int = 1
    want_auc: bool = False


@dataclass
class TrialOutput:
    """What a worker sends back. ``status`` is complete, pruned or failed."""

    number: int
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    layers: list[dict[str, Any]] = field(default_factory=list)
    hls_config: dict[str, Any] = field(default_factory=dict)
    model_h5: bytes = b""
    history: dict[str, list[float]] = field(default_factory=dict)
    error: str = ""
    node: str = ""
    pid: int = field(default_factory=os.getpid)
    """The worker process that ran the trial."""


def execute_trial(payload: TrialPayload, data: Dataset,
                  reporter: Callable[[int, float], bool] | None = None) -> TrialOutput:
    """Train, evaluate and describe one candidate. Never raises: failures come back as ``failed``."""
    start = time.perf_counter()
    node = os.uname().nodename
    try:
        from dse.training.train import configure_tensorflow

        configure_tensorflow(payload.threads)
        cand = Candidate.from_dict(payload.candidate)
        space = payload.space
        from dse.training.train import train_candidate

        result = train_candidate(cand, space, data, payload.seed, reporter=reporter, want_auc=payload.want_auc)
        metrics: dict[str, Any] = {
            "val_accuracy": result.val_accuracy, "val_loss": result.val_loss,
            "test_accuracy": result.test_accuracy, "val_auc": result.val_auc,
            "epochs_run": result.epochs_run, "train_seconds": result.train_seconds,
            "weight_sparsity": result.weight_sparsity,
        }
        if result.pruned:
            metrics["total_seconds"] = time.perf_counter() - start
            return TrialOutput(payload.number, "pruned", metrics=metrics, history=result.history, node=node)
        from cost_models.layers import layers_to_dicts
        from dse.design.hls4ml_adapter import layers_from_keras

        hls_config = cand.to_hls_config(space)
        t0 = time.perf_counter()
        layers = layers_from_keras(result.model, hls_config, space_target(space), cand.io_type)
        metrics["hls_convert_seconds"] = time.perf_counter() - t0
        with tempfile.TemporaryDirectory(prefix="dse_model_") as tmp:
            path = os.path.join(tmp, "model.h5")
            result.model.save(path, include_optimizer=False)
            with open(path, "rb") as f:
                model_h5 = f.read()
        metrics["total_seconds"] = time.perf_counter() - start
        return TrialOutput(payload.number, "complete", metrics=metrics, layers=layers_to_dicts(layers),
                           hls_config=hls_config, model_h5=model_h5, history=result.history, node=node)
    except Exception as exc:  # a failed trial is data, not a crash of the study
        log.warning("trial %d failed: %s", payload.number, exc)
        return TrialOutput(payload.number, "failed", error="".join(traceback.format_exception(exc)),
                           metrics={"total_seconds": time.perf_counter() - start}, node=node)


def space_target(space: SpaceConfig) -> Any:
    from cost_models.layers import Target

    hw = space.hardware
    return Target(part=hw.part, clock_period_ns=hw.clock_period_ns, backend=hw.backend, tool_version=hw.tool_version)
