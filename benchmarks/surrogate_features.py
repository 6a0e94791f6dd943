"""Surrogate features: how well the proposals' random forest predicts accuracy from each feature set.

Trains ``--n`` designs drawn at random (seeded) from a space (real QKeras training, in process, one
thread), then scores the random forest ``dse.search.proposals.expected_gains`` fits (32 trees,
min_samples_leaf 2) by 5-fold cross-validation on two feature sets:

- ``surrogate``: ``surrogate_features`` as the search uses it (MLPs: the knob values padded to the
  space's depth, as dse always computed them; other architectures: ``layer_list_features``);
- ``layer_list``: ``layer_list_features`` (from the pre-training cost-model layer list) for every design.

Reported per space: Spearman rank correlation and mean absolute error (accuracy points) of the
out-of-fold predictions, and the spread of the accuracies. Spaces: ``quickstart`` (the MLP on digits)
and ``cnn_digits`` (a CNN on digits as 8x8x1 images). Writes benchmarks/results/surrogate_features.json.

Measured (``--n 30 --epochs 3``, seed 0, 2 shared cores): cnn_digits Spearman 0.73, MAE 0.072 (accuracy
spread 0.29; both sets are the same for a CNN); quickstart: ``surrogate`` (the MLP features) Spearman 0.83,
MAE 0.083, ``layer_list`` 0.83, MAE 0.069 (one seed, 30 designs: comparable, not a verdict).

Usage: python benchmarks/surrogate_features.py [--n 40] [--epochs 4] [--spaces quickstart cnn_digits]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def space_dict(name: str, epochs: int) -> dict[str, Any]:
    import yaml

    d = yaml.safe_load((ROOT / "search_spaces" / "quickstart.yaml").read_text())
    d["data"]["max_samples"] = 1200
    d["training"]["epochs"] = epochs
    d["training"]["early_stopping"] = False
    if name == "cnn_digits":
        d["data"]["shape"] = [8, 8, 1]
        d["model"] = {"type": "cnn", "hidden_layers": [0, 1], "width": [8, 16],
                      "conv": {"blocks": [1, 2], "filters": [2, 4, 8], "kernel_size": [2, 3],
                               "padding": ["valid", "same"], "pooling": ["none", "max", "average"],
                               "head": ["flatten", "global_average"]}}
    return d


def spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def run_space(name: str, n: int, epochs: int, seed: int) -> dict[str, Any]:
    import numpy as np
    import optuna
    import yaml
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import KFold

    from dse.design.candidate import suggest_candidate
    from dse.errors import ConfigError
    from dse.search.proposals import layer_list_features, surrogate_matrix
    from dse.space import parse_space_text
    from dse.training.data import load_dataset
    from dse.training.train import configure_tensorflow, train_candidate

    configure_tensorflow(1)
    space = parse_space_text(yaml.safe_dump(space_dict(name, epochs)))
    data = load_dataset(space.data)
    shape, n_classes = data.input_shape, data.n_classes
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=space.directions, sampler=optuna.samplers.RandomSampler(seed=seed))
    cands, accs = [], []
    t0 = time.perf_counter()
    while len(cands) < n:
        cand = suggest_candidate(study.ask(), space)
        try:
            layer_list_features(cand, space, shape, n_classes)
        except ConfigError:
            continue  # cannot be built for this shape
        res = train_candidate(cand, space, data, seed=len(cands))
        cands.append(cand)
        accs.append(float(res.val_accuracy))
        print(f"{name} {len(cands)}/{n} {cand.short()} acc {res.val_accuracy:.3f}", flush=True)
    train_s = time.perf_counter() - t0
    y = np.array(accs)
    generic = [layer_list_features(c, space, shape, n_classes) for c in cands]
    width = max(len(r) for r in generic)
    sets = {"surrogate": np.array(surrogate_matrix(cands, space, shape, n_classes)),
            "layer_list": np.array([r + [0.0] * (width - len(r)) for r in generic])}
    out: dict[str, Any] = {"space": name, "n": n, "epochs": epochs, "seed": seed, "train_seconds": round(train_s, 1),
                           "accuracy_min": float(y.min()), "accuracy_max": float(y.max()),
                           "accuracy_std": float(y.std()), "features": {},
                           "designs": [{"candidate": c.to_dict(), "val_accuracy": a} for c, a in zip(cands, accs,
                                                                                                    strict=True)]}
    for key, x in sets.items():
        pred = np.zeros_like(y)
        for train, test in KFold(5, shuffle=True, random_state=0).split(x):
            forest = RandomForestRegressor(n_estimators=32, min_samples_leaf=2, random_state=0, n_jobs=1)
            forest.fit(x[train], y[train])
            pred[test] = forest.predict(x[test])
        out["features"][key] = {"n_features": int(x.shape[1]), "spearman": round(spearman(list(pred), list(y)), 3),
                                "mae": round(float(np.abs(pred - y).mean()), 4)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--spaces", nargs="+", default=["quickstart", "cnn_digits"])
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    path = ROOT / "benchmarks" / "results" / "surrogate_features.json"
    results = []
    for s in args.spaces:  # written after each space: an interrupted run keeps what it measured
        results.append(run_space(s, args.n, args.epochs, args.seed))
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results[-1], indent=2), flush=True)


if __name__ == "__main__":
    main()
