"""Throughput of ``cost_models.estimate`` on the jet tagging MLP 16-64-32-32-5 (one core).

Candidates vary in weight width, ReuseFactor and zero counts (seeded), as in a search, and carry a
trained-weight summary (``WeightStats``), which a trial computes once from its weights; the time of
that summary is measured separately. Prints candidates/s and writes
benchmarks/results/estimate_speed.json.
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402

from cost_models import Calibration, FixedType, LayerSpec, Target, estimate  # noqa: E402
from cost_models.weights import summarize_weights  # noqa: E402

SIZES = [(16, 64), (64, 32), (32, 32), (32, 5)]


def candidate(rng: random.Random) -> list[LayerSpec]:
    w = rng.randint(4, 16)
    rf = rng.choice([1, 2, 4, 8])
    layers = [LayerSpec("input", "input", 16, 16, FixedType(16, 6))]
    for i, (a, b) in enumerate(SIZES):
        layers.append(LayerSpec(f"fc{i}", "dense", a, b, FixedType(16, 6), weight=FixedType(w, 1),
                                bias=FixedType(w, 1), accum=FixedType(16, 6), n_zeros=rng.randint(0, a * b // 2),
                                reuse_factor=rf))
        if i < 3:
            layers.append(LayerSpec(f"relu{i}", "activation", b, b, FixedType(w, 0, False), activation="relu"))
    layers.append(LayerSpec("softmax", "softmax", 5, 5, FixedType(16, 6), activation="softmax", table_size=1024))
    return layers


def with_trained_weights(layers: list[LayerSpec], seed: int) -> list[LayerSpec]:
    """The layers with the CSD summary of random 'trained' weights (what a trial computes once)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in layers:
        if s.kind == "dense" and s.weight is not None:
            w = rng.normal(0, 0.3, size=(s.n_in, s.n_out))
            w.flat[rng.choice(w.size, s.n_zeros, replace=False)] = 0.0
            s = dataclasses.replace(s, weights=summarize_weights(w, s.weight, s.n_in, s.n_out))
        out.append(s)
    return out


def main() -> int:
    rng = random.Random(0)
    target = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2021.1")
    t0 = time.perf_counter()
    cands = [with_trained_weights(candidate(rng), i) for i in range(2000)]
    summary_ms = 1e3 * (time.perf_counter() - t0) / len(cands)
    print(f"weight summary (4 layers, once per trial): {summary_ms:.2f} ms per model")
    cal = Calibration()
    results = {}
    for tag, calibration in (("uncalibrated", None), ("calibrated", cal)):
        estimate(cands[0], target, calibration=calibration)
        n = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < 2.0:
            for c in cands:
                estimate(c, target, calibration=calibration)
            n += len(cands)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        results[tag] = n / cpu
        # CPU time of this process: on a shared, loaded machine wall time measures the neighbours
        print(f"{tag}: {n / cpu:,.0f} candidates per CPU-second ({1e6 * cpu / n:.1f} us each; "
              f"{n / dt:,.0f}/s wall)")
    t0 = time.perf_counter()
    for c in cands:
        estimate(c, target).to_dict()
    with_dict = len(cands) / (time.perf_counter() - t0)
    print(f"estimate + to_dict: {with_dict:,.0f} candidates/s")
    out = {"model": "jet 16-64-32-32-5 (+3 ReLU, softmax)", "candidates_per_cpu_s": results,
           "candidates_per_s_with_to_dict": with_dict, "goal": 10_000,
           "weight_summary_ms_per_model": summary_ms, "with_trained_weight_summaries": True,
           "python": platform.python_version(),
           "machine": platform.machine()}
    path = ROOT / "benchmarks" / "results" / "estimate_speed.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
