"""Search quality: dse's default against ``sampler: random`` and against the default without screening.

For each space (the quickstart, benchmarks/spaces/hard.yaml) and seed, runs each variant for the
same number of **trained** trials with real training (in process, one worker, so variants share the
machine alike), and measures the hypervolume of the feasible trained trials over test accuracy (up)
and estimated LUT (down) in the box accuracy >= 0.5, LUT <= 30,000 (scaled to [0, 1]^2; 1.0 would be
accuracy 1 at 0 LUT). Reported per space: mean and per-seed hypervolume ratios of each variant to
random at equal trained trials and at equal wall time (the hypervolume each variant had when the
shortest of the seed's runs ended), the ratio of mean hypervolumes (robust where random found next
to nothing feasible for a seed: a per-seed ratio is then None or huge), and the share of proposed
designs that were never trained.

Spaces: ``quickstart``, ``hard`` (benchmarks/spaces/hard.yaml), ``tight`` (benchmarks/spaces/tight.yaml:
a 10-feature binary data set, VU9P at 5 ns, ``latency_ns <= 40`` and ``lut <= 20000``: only a sliver of the
space meets both; per seed the summary also gives the share of complete trials trained after the first
feasible one that are feasible), ``sliver`` (benchmarks/spaces/sliver.yaml: tight's space with
``latency_ns <= 35`` and ``lut <= 1500``, 3.6 % of the space feasible before training), ``jet_tagging``.

Variants: ``default`` (dse's defaults: TPE, screening, ``search.proposals`` 4), ``screening_only``
(TPE with screening, one proposal per slot), ``proposals`` (screening plus 4 proposals per slot
chosen by the accuracy surrogate; ``proposals_8``, ``proposals_16``: 8 or 16), ``no_screening``
(TPE, no screening, one proposal per slot), ``random`` (``sampler: random``, no screening, one
proposal per slot). ``--pruning`` instead compares training pruners
(none, median, hyperband) on the quickstart with Ray and 2 workers: wall time and final hypervolume.

Writes benchmarks/results/search_quality.json (one entry per run is kept in the file as the
runs finish, so an interrupted benchmark keeps what it measured).

Usage: python benchmarks/search_quality.py [--n-trials 20] [--seeds 0 1 2] [--epochs 5]
       [--spaces quickstart hard] [--variants default proposals no_screening random] [--pruning]
       [--summarize]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPACES = {"quickstart": ROOT / "search_spaces" / "quickstart.yaml",
          "hard": ROOT / "benchmarks" / "spaces" / "hard.yaml",
          "tight": ROOT / "benchmarks" / "spaces" / "tight.yaml",
          "sliver": ROOT / "benchmarks" / "spaces" / "sliver.yaml",
          "jet_tagging": ROOT / "search_spaces" / "jet_tagging.yaml"}
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "screening_only": {"proposals": 1},
    "proposals": {"proposals": 4},
    "proposals_8": {"proposals": 8},
    "proposals_16": {"proposals": 16},
    "no_screening": {"screening": False, "proposals": 1},
    "random": {"sampler": "random", "screening": False, "proposals": 1},
}
BOXES = {"quickstart": (0.5, 30_000.0), "hard": (0.5, 30_000.0), "tight": (0.5, 20_000.0),
         "sliver": (0.5, 1_500.0),
         "jet_tagging": (0.5, 200_000.0)}
"""Per space: the hypervolume box (accuracy >= first, LUT <= second)."""
OUT = ROOT / "benchmarks" / "results" / "search_quality.json"
TIGHT_DATA = ROOT / "benchmarks" / "spaces" / "tight_data.csv"


def make_tight_data(path: Path = TIGHT_DATA) -> None:
    """The tight space's data set: scikit-learn ``make_classification``, 3000 samples of 10 features, 2 classes."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=10, n_informative=6, n_redundant=2, n_classes=2,
                               n_clusters_per_class=3, class_sep=0.8, flip_y=0.02, random_state=21)
    frame = pd.DataFrame(np.round(x, 3), columns=[f"f{i}" for i in range(10)])
    frame["label"] = y
    frame.to_csv(path, index=False)


def feasible_after_first(run: dict[str, Any]) -> float | None:
    """Share of the complete trials trained after the first feasible one that are feasible (None: no feasible
    trial, or none trained after it)."""
    oks = [ok for _, _, _, ok in run["timeline"]]
    if True not in oks:
        return None
    after = oks[oks.index(True) + 1:]
    return sum(after) / len(after) if after else None


def hv_of(points: list[tuple[float, float]], space: str = "quickstart") -> float:
    """Hypervolume of (test accuracy, LUT) points in the space's box, scaled to [0, 1]^2."""
    from dse.analysis import hypervolume

    acc_min, lut_max = BOXES[space]
    scaled = [((1.0 - a) / (1.0 - acc_min), lut / lut_max) for a, lut in points]
    return hypervolume(scaled, [1.0, 1.0])


def run_variant(space_name: str, variant: str, seed: int, n_trials: int, epochs: int, data: Any,
                pruner: str | None = None, ray: bool = False) -> dict[str, Any]:
    import optuna

    from dse.search import InProcessExecutor, run_search
    from dse.space import load_space
    from dse.store import RunFolder

    space = load_space(SPACES[space_name])
    search = space.search.model_copy(update={"seed": seed, "n_trials": n_trials, **VARIANTS[variant]})
    training = space.training.model_copy(update={"epochs": epochs, **({"pruner": pruner} if pruner else {})})
    space = space.model_copy(update={"search": search, "training": training})
    with tempfile.TemporaryDirectory(prefix="dse_sq_") as tmp:
        run_dir = Path(tmp) / "run"
        start = time.time()
        result = run_search(space, run_dir, n_trials=n_trials, workers=2 if ray else 1, data=data,
                            executor=None if ray else InProcessExecutor())
        wall = time.time() - start
        folder = RunFolder.open(run_dir)
        study = optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())
        timeline = []  # (seconds from start, test accuracy, lut, feasible) of trained complete trials, in order
        for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
            if t.state.name != "COMPLETE" or "duplicate_of" in t.user_attrs:
                continue
            cons = t.user_attrs.get("constraint_values") or []
            assert t.datetime_complete is not None
            timeline.append((t.datetime_complete.timestamp() - start,
                             float(t.user_attrs["metrics"]["test_accuracy"]),
                             float(t.user_attrs["estimate"]["lut"]), all(c <= 0 for c in cons)))
        n_all = len(study.trials)
    feasible = [(a, lut) for _, a, lut, ok in timeline if ok]
    return {"space": space_name, "variant": variant, "seed": seed, "pruner": pruner, "wall_s": wall,
            "n_trained": result.n_complete + result.n_failed + result.n_pruned, "n_complete": result.n_complete,
            "n_pruned": result.n_pruned, "n_screened": result.n_screened, "n_study_trials": n_all,
            "proposals": result.proposals, "n_feasible": len(feasible), "hypervolume": hv_of(feasible, space_name),
            "feasible_share_before_training": result.feasible_share, "timeline": timeline}


def hv_at(run: dict[str, Any], seconds: float) -> float:
    return hv_of([(a, lut) for t, a, lut, ok in run["timeline"] if ok and t <= seconds], run["space"])


def never_trained_share(run: dict[str, Any]) -> float:
    p = run.get("proposals") or {}
    if p.get("proposed"):
        return 1.0 - p["trained"] / p["proposed"]
    return 0.0


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for space in sorted({r["space"] for r in runs if r["pruner"] is None}):
        rs = [r for r in runs if r["space"] == space and r["pruner"] is None]
        seeds = sorted({r["seed"] for r in rs})
        by = {(r["variant"], r["seed"]): r for r in rs}
        entry: dict[str, Any] = {}
        for v in sorted({r["variant"] for r in rs}):
            per_seed, per_seed_time = {}, {}
            for s in seeds:
                if (v, s) not in by or ("random", s) not in by:
                    continue
                base = by[("random", s)]["hypervolume"]
                per_seed[s] = by[(v, s)]["hypervolume"] / base if base > 0 else None
                t_eq = min(by[(w, s)]["wall_s"] for w in {x for x, _ in by} if (w, s) in by)
                b_t = hv_at(by[("random", s)], t_eq)
                per_seed_time[s] = hv_at(by[(v, s)], t_eq) / b_t if b_t > 0 else None
            vals = [x for x in per_seed.values() if x is not None]
            vals_t = [x for x in per_seed_time.values() if x is not None]
            mine = [by[(v, s)] for s in seeds if (v, s) in by]
            paired = [s for s in seeds if (v, s) in by and ("random", s) in by]
            hv_v = sum(by[(v, s)]["hypervolume"] for s in paired)
            hv_r = sum(by[("random", s)]["hypervolume"] for s in paired)
            entry[v] = {
                # robust where random found (almost) nothing feasible in the box for some seed
                "hv_ratio_of_means_to_random": hv_v / hv_r if hv_r > 0 else None,
                "hv_ratio_to_random_mean": sum(vals) / len(vals) if vals else None,
                "hv_ratio_to_random_per_seed": per_seed,
                "hv_ratio_to_random_equal_wall_mean": sum(vals_t) / len(vals_t) if vals_t else None,
                "hv_ratio_to_random_equal_wall_per_seed": per_seed_time,
                "hypervolume_per_seed": {r["seed"]: r["hypervolume"] for r in mine},
                "wall_s_per_seed": {r["seed"]: round(r["wall_s"], 1) for r in mine},
                "never_trained_share_mean": sum(never_trained_share(r) for r in mine) / len(mine) if mine else None,
                "screened_per_seed": {r["seed"]: r["n_screened"] for r in mine},
                "feasible_per_seed": {r["seed"]: r["n_feasible"] for r in mine},
                "feasible_share_after_first_feasible_per_seed": {r["seed"]: feasible_after_first(r) for r in mine},
            }
        out[space] = entry
    pr = [r for r in runs if r["pruner"] is not None]
    if pr:
        out["pruning"] = {}
        for p in sorted({r["pruner"] for r in pr}):
            rr = [r for r in pr if r["pruner"] == p]
            out["pruning"][p] = {"wall_s_mean": sum(r["wall_s"] for r in rr) / len(rr),
                                 "hypervolume_mean": sum(r["hypervolume"] for r in rr) / len(rr),
                                 "n_pruned_mean": sum(r["n_pruned"] for r in rr) / len(rr),
                                 "seeds": [r["seed"] for r in rr]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-trials", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--spaces", nargs="+", default=list(SPACES), choices=list(SPACES),
                    help="jet_tagging runs where its OpenML data set is cached (data_cache/)")
    ap.add_argument("--variants", nargs="+", default=[v for v in VARIANTS if v != "default"], choices=list(VARIANTS))
    ap.add_argument("--pruning", action="store_true", help="compare pruners on the quickstart (Ray, 2 workers)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--summarize", action="store_true", help="only recompute the summary of the results file")
    ap.add_argument("--make-tight-data", action="store_true", help="(re)write benchmarks/spaces/tight_data.csv")
    args = ap.parse_args()
    if args.make_tight_data:
        make_tight_data()
        return 0
    if args.summarize:
        doc = json.loads(Path(args.out).read_text())
        doc["summary"] = summarize(doc["runs"])
        Path(args.out).write_text(json.dumps(doc, indent=1, default=str) + "\n")
        print(json.dumps(doc["summary"], indent=1, default=str))
        return 0
    logging.basicConfig(level=logging.WARNING)
    from dse.errors import DataError
    from dse.space import load_space
    from dse.training.data import load_dataset

    out_path = Path(args.out)
    previous = json.loads(out_path.read_text()) if out_path.exists() else {}
    same = {k: previous.get("settings", {}).get(k) for k in ("n_trials", "epochs")} == \
        {"n_trials": args.n_trials, "epochs": args.epochs}
    runs: list[dict[str, Any]] = list(previous.get("runs", [])) if same else []  # runs of other settings go
    skipped: dict[str, str] = {}
    settings = {"n_trials": args.n_trials, "epochs": args.epochs,
                "boxes": {k: {"accuracy_min": a, "lut_max": lut} for k, (a, lut) in BOXES.items()}}
    spaces = ["quickstart"] if args.pruning else args.spaces
    datasets: dict[str, Any] = {}
    for name in spaces:
        try:
            datasets[name] = load_dataset(load_space(SPACES[name]).data)
        except DataError as exc:  # e.g. jet tagging where OpenML is out of reach and nothing is cached
            skipped[name] = str(exc)
            print(f"{name}: skipped, its data set is not available here: {exc}", flush=True)
    import qkeras  # noqa: F401  (the TensorFlow import is paid here, not by the first run)

    plan: list[tuple[str, str, int, str | None]] = []
    if args.pruning:
        plan = [("quickstart", "default", s, p) for s in args.seeds for p in ("none", "median", "hyperband")]
    else:
        plan = [(sp, v, s, None) for sp in spaces if sp in datasets for s in args.seeds for v in args.variants]
    for space_name, variant, seed, pruner in plan:
        runs = [r for r in runs if (r["space"], r["variant"], r["seed"], r["pruner"]) != (space_name, variant, seed,
                                                                                          pruner)]
        r = run_variant(space_name, variant, seed, args.n_trials, args.epochs, datasets[space_name], pruner,
                        ray=pruner is not None)
        runs.append(r)
        print(f"{space_name:10} {variant:14} seed {seed} pruner {pruner}: hv {r['hypervolume']:.4f}, "
              f"{r['n_trained']} trained, {r['n_screened']} screened, {r['wall_s']:.0f} s", flush=True)
        doc = {"settings": settings, "skipped": skipped, "summary": summarize(runs), "runs": runs,
               "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "load_average": os.getloadavg()}
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    print(json.dumps(summarize(runs), indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
