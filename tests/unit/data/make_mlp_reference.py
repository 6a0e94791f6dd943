"""Writes ``mlp_reference_pre_layers.json``, the reference of ``tests/unit/test_mlp_compat.py``.

It was run on the code of commit 698bac5 (before designs became lists of layers), from a copy of
that commit (``git archive 698bac5 | tar -x -C /tmp/dse-old``)::

    cd /tmp/dse-old && PYTHONPATH=/tmp/dse-old python tests/unit/data/make_mlp_reference.py \\
        tests/unit/data/mlp_reference_spaces.json search_spaces/quickstart.yaml > mlp_reference_pre_layers.json

(``mlp_reference_quickstart.yaml`` is that commit's ``search_spaces/quickstart.yaml``.)

It uses only names both versions have, so run on today's code it writes the same data (the hls4ml
``LayerName`` entries now come in model order: equal as JSON data, not byte for byte).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import optuna
import yaml

from cost_models.layers import layers_to_dicts
from dse.design.candidate import suggest_candidate
from dse.design.prebuild import prebuild_layers, snapped_reuse_factors
from dse.search.proposals import design_key, surrogate_features
from dse.search.screening import DigitModel
from dse.space import SpaceConfig, parse_space_text


def space_with(base: dict[str, Any], over: dict[str, Any]) -> SpaceConfig:
    d = copy.deepcopy(base)
    for path, value in over.items():
        keys = path.split("__")
        cur = d
        for k in keys[:-1]:
            cur = cur[k]
        if value is None:
            cur.pop(keys[-1], None)
        else:
            cur[keys[-1]] = value
    return parse_space_text(yaml.safe_dump(d))


def main(spaces_json: str, quickstart: str) -> dict[str, Any]:
    spaces = json.loads(Path(spaces_json).read_text())
    base = yaml.safe_load(Path(quickstart).read_text())
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out: dict[str, Any] = {}
    for name, over in spaces.items():
        space = space_with(base, over)
        n_classes = 2 if space.model.output_activation == "sigmoid" else 10
        n_out = 1 if n_classes == 2 else n_classes
        study = optuna.create_study(directions=space.directions, sampler=optuna.samplers.RandomSampler(seed=3))
        cases = []
        for _ in range(1 if name == "linear_fixed" else 3):
            trial = study.ask()
            cand = suggest_candidate(trial, space)
            cases.append({
                "param_order": list(trial.params),
                "params": trial.params,
                "candidate": cand.to_dict(),
                "short": cand.short(),
                "hls_config": cand.to_hls_config(space),
                "design_key": design_key(cand, space, 64, n_classes),
                "snapped": list(snapped_reuse_factors(cand, 64, n_out)),
                "prebuild": layers_to_dicts(prebuild_layers(cand, space, 64, n_classes)),
                "prebuild_digits_zeros": [s.n_zeros for s in prebuild_layers(cand, space, 64, n_classes,
                                                                             DigitModel())],
                "surrogate": surrogate_features(cand, space, 64),
            })
            study.tell(trial, [0.5] * len(space.objectives))
        out[name] = {"overrides": over, "cases": cases}
    return out


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2]), indent=None, separators=(",", ":"), default=str))
    sys.stdout.write("\n")
