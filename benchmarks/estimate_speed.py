"""Throughput of ``cost_models.estimate`` on the jet tagging MLP 16-64-32-32-5 and on a LeNet-5-sized CNN
(one core).

Candidates vary in weight width, ReuseFactor and zero counts (seeded), as in a search, and carry a
trained-weight summary (``WeightStats``), which a trial computes once from its weights; the time of
that summary is measured separately. The CNN (Conv2D 5x5x6, MaxPool, Conv2D 5x5x16, MaxPool, Flatten,
Dense 256-120-84-10, softmax; 28x28x1 input) alternates io_parallel with a ParallelizationFactor and
io_stream candidates. Prints candidates/s and writes benchmarks/results/estimate_speed.json. Goals:
10,000 jet-MLP and 2,000 CNN estimates per second.

``--compare BASE_TREE`` measures two source trees in the same session: the benchmark runs in a fresh
process against ``BASE_TREE`` (e.g. ``git archive <base> | tar -x -C /tmp/base``) and against this tree,
alternating ``--rounds`` times, and writes both, the load average around each run and the ratio (after /
before, medians of the per-CPU-second figures). ``--tree DIR`` imports ``cost_models`` from ``DIR``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TREE = sys.argv[sys.argv.index("--tree") + 1] if "--tree" in sys.argv else str(ROOT)
sys.path.insert(0, _TREE)

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402

from cost_models import Calibration, ConvGeometry, FixedType, LayerSpec, Target, estimate  # noqa: E402
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


def lenet(rng: random.Random) -> list[LayerSpec]:
    """A LeNet-5-sized QKeras CNN as hls4ml writes it, with the knobs a search varies."""
    w = rng.randint(4, 10)
    io = rng.choice(["io_parallel", "io_stream"])
    rf = rng.choice([1, 2, 4])
    data = FixedType(w + 4, 4)
    act = FixedType(w, 0, False)

    def conv(name: str, size: int, c: int, nf: int, pfs: list[int]) -> LayerSpec:
        out = size - 4
        g = ConvGeometry(in_width=size, in_height=size, n_chan=c, filt_width=5, filt_height=5, n_filt=nf,
                         out_width=out, out_height=out)
        n_in = 25 * c
        return LayerSpec(name, "conv2d", n_in, nf, data, weight=FixedType(w, 1), bias=FixedType(w, 1),
                         accum=FixedType(2 * w + 8, 10), n_zeros=rng.randint(0, n_in * nf // 2), reuse_factor=rf,
                         io_type=io, conv=g, parallelization_factor=rng.choice(pfs) if io == "io_parallel" else 1)

    def pool(name: str, size: int, c: int) -> LayerSpec:
        g = ConvGeometry(in_width=size, in_height=size, n_chan=c, filt_width=2, filt_height=2, n_filt=c,
                         out_width=size // 2, out_height=size // 2, stride_width=2, stride_height=2)
        return LayerSpec(name, "pooling2d", size * size * c, size * size * c // 4, act, io_type=io, conv=g,
                         pool_op="max")

    def relu(name: str, n: int) -> LayerSpec:
        return LayerSpec(name, "activation", n, n, act, activation="relu", io_type=io)

    def fc(name: str, a: int, b: int) -> LayerSpec:
        return LayerSpec(name, "dense", a, b, data, weight=FixedType(w, 1), bias=FixedType(w, 1),
                         accum=FixedType(2 * w + 8, 10), n_zeros=rng.randint(0, a * b // 2), reuse_factor=rf,
                         io_type=io)

    return [LayerSpec("input", "input", 784, 784, FixedType(8, 0, False), io_type=io),
            conv("conv1", 28, 1, 6, [1, 2, 4, 8]), relu("relu1", 24 * 24 * 6), pool("pool1", 24, 6),
            conv("conv2", 12, 6, 16, [1, 2, 4]), relu("relu2", 8 * 8 * 16), pool("pool2", 8, 16),
            LayerSpec("flatten", "flatten", 256, 256, act, io_type=io),
            fc("fc1", 256, 120), relu("relu3", 120), fc("fc2", 120, 84), relu("relu4", 84), fc("fc3", 84, 10),
            LayerSpec("softmax", "softmax", 10, 10, FixedType(16, 6), activation="softmax", table_size=1024,
                      io_type=io)]


def with_trained_weights(layers: list[LayerSpec], seed: int) -> list[LayerSpec]:
    """The layers with the CSD summary of random 'trained' weights (what a trial computes once)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in layers:
        if s.kind in ("dense", "conv2d") and s.weight is not None:
            w = rng.normal(0, 0.3, size=(s.n_in, s.n_out))
            w.flat[rng.choice(w.size, s.n_zeros, replace=False)] = 0.0
            s = dataclasses.replace(s, weights=summarize_weights(w, s.weight, s.n_in, s.n_out))
        out.append(s)
    return out


def main() -> int:
    args = _parse_args()
    if args.compare:
        return compare(Path(args.compare), args.rounds)
    out = measure()
    path = Path(args.json_out) if args.json_out else ROOT / "benchmarks" / "results" / "estimate_speed.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    return 0


def _parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", help="source tree to import cost_models from (default: this repository)")
    ap.add_argument("--json-out", help="where to write the figures (default: benchmarks/results/estimate_speed.json)")
    ap.add_argument("--compare", metavar="BASE_TREE", help="measure BASE_TREE and this tree, alternating")
    ap.add_argument("--rounds", type=int, default=2, help="alternations for --compare (default 2)")
    return ap.parse_args()


def compare(base: Path, rounds: int) -> int:
    """Run the benchmark against ``base`` and this tree in fresh processes, alternating; write both and the
    ratio of the medians to benchmarks/results/estimate_speed.json."""
    import os
    import statistics
    import subprocess
    import tempfile

    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(rounds):
        for tag, tree in (("before", base), ("after", ROOT)):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "speed.json"
                load0 = os.getloadavg()[0]
                subprocess.run([sys.executable, __file__, "--tree", str(tree), "--json-out", str(out)], check=True)
                fig = json.loads(out.read_text())
                fig["load_average_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
                runs[tag].append(fig)

    def med(tag: str, *keys: str) -> float:
        vals = []
        for r in runs[tag]:
            v = r
            for key in keys:
                v = v[key]
            vals.append(float(v))
        return statistics.median(vals)

    jet = ("candidates_per_cpu_s", "prior_calibration")
    summary = {
        "jet_per_cpu_s": {"before": med("before", *jet), "after": med("after", *jet)},
        "jet_no_calibration_per_cpu_s": {"before": med("before", "candidates_per_cpu_s", "no_calibration"),
                                         "after": med("after", "candidates_per_cpu_s", "no_calibration")},
        "cnn_per_cpu_s": {"before": med("before", "cnn_candidates_per_cpu_s"),
                          "after": med("after", "cnn_candidates_per_cpu_s")},
    }
    for v in summary.values():
        v["ratio"] = v["after"] / v["before"]
    result = {"comparison": "median per-CPU-second figures of fresh processes, base and this tree alternating",
              "base_tree": str(base), "rounds": rounds, "summary": summary, "goal": 10_000, "cnn_goal": 2_000,
              "before": runs["before"], "after": runs["after"], "machine": platform.machine(),
              "cpus": os.cpu_count(), "python": platform.python_version()}
    path = ROOT / "benchmarks" / "results" / "estimate_speed.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    for name, v in summary.items():
        print(f"{name}: before {v['before']:,.0f}, after {v['after']:,.0f}, x{v['ratio']:.2f}")
    return 0


def measure() -> dict:
    """Time the jet MLP (uncalibrated prior / empty calibration) and the LeNet-sized CNN; the figures."""
    rng = random.Random(0)
    target = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2021.1")
    t0 = time.perf_counter()
    cands = [with_trained_weights(candidate(rng), i) for i in range(2000)]
    summary_ms = 1e3 * (time.perf_counter() - t0) / len(cands)
    print(f"weight summary (4 layers, once per trial): {summary_ms:.2f} ms per model")
    cal = Calibration()
    results = {}
    # calibration=None applies the shipped prior (the default of a search); an empty Calibration leaves the
    # estimate uncalibrated
    for tag, calibration in (("prior_calibration", None), ("no_calibration", cal)):
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
    cnn_cands = [with_trained_weights(lenet(rng), i) for i in range(500)]
    estimate(cnn_cands[0], target)
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < 2.0:
        for c in cnn_cands:
            estimate(c, target)
        n += len(cnn_cands)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    cnn_rate = n / cpu
    print(f"LeNet-sized CNN, prior calibration: {cnn_rate:,.0f} candidates per CPU-second "
          f"({1e6 * cpu / n:.1f} us each; "
          f"{n / dt:,.0f}/s wall)")
    out = {"model": "jet 16-64-32-32-5 (+3 ReLU, softmax)", "candidates_per_cpu_s": results,
           "candidates_per_s_with_to_dict": with_dict, "goal": 10_000,
           "cnn_model": "LeNet-5-sized: conv 5x5x6, maxpool, conv 5x5x16, maxpool, flatten, dense 256-120-84-10, "
                        "softmax; io_parallel (PF 1-8) and io_stream",
           "cnn_candidates_per_cpu_s": cnn_rate, "cnn_goal": 2_000,
           "weight_summary_ms_per_model": summary_ms, "with_trained_weight_summaries": True,
           "python": platform.python_version(),
           "machine": platform.machine()}
    return out


if __name__ == "__main__":
    raise SystemExit(main())
