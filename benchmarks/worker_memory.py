"""Memory of one worker process over many trials: resident set size after each trial.

Runs ``execute_trial`` (QAT training plus the hls4ml conversion) on quickstart designs drawn at
random, in this one process, and reports the growth per trial after a warm-up. TensorFlow keeps
the traced graphs of every model a process trained, so this grows; the Ray executor therefore
recycles a worker process after ``TRIALS_PER_WORKER_PROCESS`` trials (dse/search/ray_executor.py).
Writes benchmarks/results/worker_memory.json.

Usage: python benchmarks/worker_memory.py [--trials 25] [--epochs 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WARM_UP = 5


def rss_mb() -> float:
    """Resident set size of this process (MB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=25)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    import optuna

    from dse.design.candidate import suggest_candidate
    from dse.search.ray_executor import TRIALS_PER_WORKER_PROCESS
    from dse.space import load_space
    from dse.training.data import load_dataset
    from dse.training.trial_runner import TrialPayload, execute_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    space = space.model_copy(update={"training": space.training.model_copy(update={"epochs": args.epochs})})
    data = load_dataset(space.data)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    rss = []
    for n in range(args.trials):
        trial = study.ask()
        cand = suggest_candidate(trial, space)
        study.tell(trial, 0.0)
        out = execute_trial(TrialPayload(n, cand.to_dict(), space, seed=n), data)
        if out.status != "complete":
            raise SystemExit(f"trial {n} failed: {out.error}")
        gc.collect()
        rss.append(rss_mb())
        print(f"trial {n:3d}: {rss[-1]:7.0f} MB", flush=True)
    per_trial = (rss[-1] - rss[WARM_UP - 1]) / (len(rss) - WARM_UP) if len(rss) > WARM_UP else float("nan")
    result = {"trials": args.trials, "epochs": args.epochs, "rss_mb": [round(x, 1) for x in rss],
              "growth_mb_per_trial_after_warm_up": round(per_trial, 2),
              "trials_per_worker_process": TRIALS_PER_WORKER_PROCESS,
              "growth_bound_mb_per_worker": round(per_trial * TRIALS_PER_WORKER_PROCESS),
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    print(json.dumps({k: v for k, v in result.items() if k != "rss_mb"}, indent=1))
    out_path = ROOT / "benchmarks" / "results" / "worker_memory.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
