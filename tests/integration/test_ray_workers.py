"""Ray worker processes are recycled after a number of trials (TensorFlow's traced graphs stay in a
process: a long run must not grow its workers without bound)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from dse.design.candidate import Candidate
from dse.search import ray_executor
from dse.space import load_space
from dse.training.data import load_dataset
from dse.training.trial_runner import TrialPayload
from tests.helpers import tiny_space_dict


@pytest.mark.slow
def test_a_worker_process_runs_at_most_trials_per_worker_process_trials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ray_executor.TRIALS_PER_WORKER_PROCESS >= 10  # the default keeps start-up cost small
    monkeypatch.setattr(ray_executor, "TRIALS_PER_WORKER_PROCESS", 2)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_space_dict(training__epochs=1), sort_keys=False))
    space = load_space(path)
    cand = Candidate.mlp(widths=(8,), weight_bits=(4, 4), bias_bits=(8, 8), activation_bits=(6,),
                         sparsity=(0.0, 0.0), reuse_factor=(1, 1), strategy="latency", learning_rate=0.005)
    executor = ray_executor.RayExecutor(space, workers=1, address=None)
    executor.start(load_dataset(space.data))
    pids = []
    try:
        for n in range(5):  # one at a time: each trial goes to whichever process Ray has free
            executor.submit_trial(TrialPayload(n, cand.to_dict(), space, seed=n))
            done: list = []
            deadline = time.monotonic() + 300
            while not done and time.monotonic() < deadline:
                done = executor.poll(1.0)
            (_, out), = done
            assert out.status == "complete", out.error
            pids.append(out.pid)
    finally:
        executor.close()
    counts = {p: pids.count(p) for p in pids}
    assert max(counts.values()) <= 2, pids  # no process ran more than its 2 trials
    assert len(counts) >= 3, pids
