"""Throughput of ``cost_models.estimate`` on the jet tagging MLP 16-64-32-32-5 (one core).

Candidates vary in weight width, ReuseFactor and zero counts (seeded), as in a search.
Prints candidates/s and writes benchmarks/results/estimate_speed.json.
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

from cost_models import Calibration, FixedType, LayerSpec, Target, estimate  # noqa: E402

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


def main() -> int:
    rng = random.Random(0)
    target = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2021.1")
    cands = [candidate(rng) for _ in range(2000)]
    cal = Calibration()
    results = {}
    for tag, calibration in (("uncalibrated", None), ("calibrated", cal)):
        estimate(cands[0], target, calibration=calibration)
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 2.0:
            for c in cands:
                estimate(c, target, calibration=calibration)
            n += len(cands)
        dt = time.perf_counter() - t0
        results[tag] = n / dt
        print(f"{tag}: {n / dt:,.0f} candidates/s ({1e6 * dt / n:.1f} us each)")
    t0 = time.perf_counter()
    for c in cands:
        estimate(c, target).to_dict()
    with_dict = len(cands) / (time.perf_counter() - t0)
    print(f"estimate + to_dict: {with_dict:,.0f} candidates/s")
    out = {"model": "jet 16-64-32-32-5 (+3 ReLU, softmax)", "candidates_per_s": results,
           "candidates_per_s_with_to_dict": with_dict, "goal": 10_000, "python": platform.python_version(),
           "machine": platform.machine()}
    path = ROOT / "benchmarks" / "results" / "estimate_speed.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
