"""Fakes for the fast search-core tests: a trainer and a synthesizer that run in microseconds,
deterministic functions of the design, producing the same kinds of files and figures as the real
ones (layer lists the real cost model estimates, measured figures in the real units)."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from cost_models.layers import FixedType, LayerSpec, layers_to_dicts
from dse.design.candidate import Candidate
from dse.design.layer_kinds import Dense
from dse.search import InProcessExecutor
from dse.store.records import SynthesisRecord
from dse.training.trial_runner import TrialOutput, TrialPayload
from tests.helpers import tiny_space_dict

N_IN, N_OUT = 64, 10


class Crash(BaseException):
    """A simulated kill -9: not an Exception, so nothing in dse catches it."""


def fake_layers(cand: Candidate) -> list[dict[str, Any]]:
    layers = []
    n_in = N_IN
    for layer in cand.layers:
        n_out = layer.output_size(n_in, N_OUT)
        if isinstance(layer, Dense):
            bits = layer.weight_bits if isinstance(layer.weight_bits, int) else 2
            layers.append(LayerSpec(name=layer.name, kind="dense", n_in=n_in, n_out=n_out, result=FixedType(16, 6),
                                    weight=FixedType(int(bits), 1), bias=FixedType(8, 3),
                                    n_zeros=int(n_in * n_out * layer.sparsity), reuse_factor=layer.reuse_factor,
                                    strategy=cand.strategy.lower()))  # type: ignore[arg-type]
        n_in = n_out
    return layers_to_dicts(layers)


class FakeTrainer:
    """Counts how often each design (its params) is trained; can crash on the n-th call."""

    def __init__(self, crash_on_call: int | None = None, fail_widths: tuple[int, ...] = ()):
        self.calls: Counter[str] = Counter()
        self.n_calls = 0
        self.crash_on_call = crash_on_call
        self.fail_widths = fail_widths

    def __call__(self, payload: TrialPayload, data: Any, reporter: Any) -> TrialOutput:
        self.n_calls += 1
        if self.crash_on_call is not None and self.n_calls == self.crash_on_call:
            raise Crash(f"killed while training trial {payload.number}")
        cand = Candidate.from_dict(payload.candidate)
        self.calls[repr(sorted(payload.candidate.items()))] += 1
        widths = cand.values("width")
        if widths and widths[0] in self.fail_widths:
            return TrialOutput(payload.number, "failed", error="Traceback ...\nValueError: fake failure")
        bits = [b if isinstance(b, int) else 2 for b in cand.values("weight_bits")]
        acc = min(0.99, 0.4 + 0.05 * math.log2(1 + sum(widths)) + 0.01 * sum(bits) / len(bits))
        for epoch in range(2):
            if reporter is not None:
                reporter(epoch, acc * (epoch + 1) / 2)
        metrics = {"val_accuracy": acc, "val_loss": 1 - acc, "test_accuracy": acc - 0.01, "val_auc": None,
                   "epochs_run": 2, "train_seconds": 0.01}
        return TrialOutput(payload.number, "complete", metrics=metrics, layers=fake_layers(cand),
                           hls_config={"Model": {"ReuseFactor": 1}}, model_h5=b"fake model", node="fake")


class FakeSynthesizer:
    """Measured figures = the analytic estimate scaled (LUT x0.7, FF x0.8): a calibration can learn it."""

    def __init__(self, crash_on_call: int | None = None):
        self.calls: Counter[int] = Counter()
        self.n_calls = 0
        self.crash_on_call = crash_on_call

    def __call__(self, job: Any, data: Any) -> SynthesisRecord:
        from cost_models import estimate
        from cost_models.layers import Target, layers_from_dicts
        from dse.store import read_json

        self.n_calls += 1
        if self.crash_on_call is not None and self.n_calls == self.crash_on_call:
            raise Crash(f"killed while synthesizing trial {job.trial}")
        self.calls[job.trial] += 1
        run_dir = Path(job.job_dir).parents[2]
        layers = layers_from_dicts(read_json(run_dir / "trials" / f"{job.trial:05d}" / "layers.json"))
        est = estimate(layers, Target(part=job.part, clock_period_ns=job.clock_period_ns)).to_dict()
        measured = {"dsp": est["dsp"], "lut": round(est["lut"] * 0.7), "ff": round(est["ff"] * 0.8),
                    "bram_18k": est["bram_18k"], "latency_cycles": est["latency_cycles"], "ii": est["ii"],
                    "latency_ns": est["latency_cycles"] * job.clock_period_ns}
        return SynthesisRecord(trial=job.trial, status="ok", measured=measured, tool="vitis", tool_version="2023.2",
                                part=job.part, clock_period_ns=job.clock_period_ns)


def fake_executor(trainer: FakeTrainer | None = None, synthesizer: FakeSynthesizer | None = None
                  ) -> InProcessExecutor:
    return InProcessExecutor(trainer or FakeTrainer(), synthesizer or FakeSynthesizer())


def space_file(tmp_path: Path, **overrides: Any) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(tiny_space_dict(**overrides), sort_keys=False))
    return path
