"""Wall time of a quickstart run, and the share of it spent outside model training.

Runs the quickstart search twice in this process's machine, with 1 and with 2 workers, in
fresh run folders, and prints and writes (benchmarks/results/quickstart.json):

- wall seconds of ``run_search`` (Ray start-up, data loading, every trial, shutdown);
- training seconds: the sum over trials of the time inside ``model.fit``;
- overhead share = 1 - training seconds / (wall seconds x workers): everything that is not
  training (Ray and TensorFlow start-up, evaluation, hls4ml conversion, cost model, study
  bookkeeping, idle workers);
- trials per hour, and the ratio of 2 workers to 1 (measured in the same invocation).

Goals (issue 2): overhead <= 5 % of wall time; 2 workers >= 1.8x the trials per hour of 1.

Usage: python benchmarks/quickstart_benchmark.py [--n-trials 20] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_once(n_trials: int, workers: int, epochs: int | None) -> dict[str, float]:
    from dse.search import run_search
    from dse.space import load_space

    space_path = ROOT / "search_spaces" / "quickstart.yaml"
    space = load_space(space_path)
    if epochs is not None:
        space = space.model_copy(update={"training": space.training.model_copy(update={"epochs": epochs})})
    with tempfile.TemporaryDirectory(prefix="dse_bench_") as tmp:
        start = time.perf_counter()
        result = run_search(space, Path(tmp) / "run", source_text=space_path.read_text(), n_trials=n_trials,
                            workers=workers)
        wall = time.perf_counter() - start
    finished = result.n_complete + result.n_pruned + result.n_failed
    return {
        "workers": workers,
        "trials": finished,
        "wall_s": wall,
        "train_s": result.train_seconds,
        "overhead_share": 1.0 - result.train_seconds / (wall * workers),
        "trials_per_hour": finished / wall * 3600.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-trials", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=None, help="override training.epochs")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quickstart.json"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = [run_once(args.n_trials, w, args.epochs) for w in (1, 2)]
    speedup = rows[1]["trials_per_hour"] / rows[0]["trials_per_hour"]
    print(f"{'workers':>7} {'trials':>6} {'wall s':>8} {'train s':>8} {'overhead':>9} {'trials/h':>9}")
    for r in rows:
        print(f"{r['workers']:>7} {r['trials']:>6} {r['wall_s']:>8.1f} {r['train_s']:>8.1f} "
              f"{100 * r['overhead_share']:>8.1f}% {r['trials_per_hour']:>9.0f}")
    print(f"2 workers / 1 worker trials per hour: {speedup:.2f}x")
    out = {"runs": rows, "speedup_2_over_1": speedup, "n_trials": args.n_trials, "epochs": args.epochs,
           "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
