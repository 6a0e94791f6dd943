"""The MLP after the layer-list refactor is the MLP before it.

``data/mlp_reference_pre_layers.json`` was written by the code before the refactor (commit 698bac5,
``Candidate`` with per-dense-layer tuples): for four spaces (the quickstart; per-layer bits, bias bits,
sparsity and ReuseFactor with binary/ternary weights, both strategies and a searched learning rate;
a sigmoid output under the Resource strategy with per-position widths; everything fixed with a
linear output), the first candidates a ``RandomSampler(seed=3)`` suggests, and for each: the Optuna
params and the order they were suggested in, the stored candidate, its summary, hls4ml config,
dedupe key, snapped ReuseFactors, prebuild layer list (with and without a weight model) and
surrogate features. The same seeded sampling with today's code must reproduce every one of them.
``data/make_mlp_reference.py`` wrote it (the spaces: ``data/mlp_reference_spaces.json``, overrides of
``data/mlp_reference_quickstart.yaml``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from cost_models.layers import layers_from_dicts
from dse.design.candidate import Candidate, suggest_candidate
from dse.design.prebuild import prebuild_layers, snapped_reuse_factors
from dse.search.proposals import design_key, surrogate_features
from dse.search.screening import DigitModel
from dse.space import SpaceConfig, parse_space_text
from tests.helpers import yaml_file

DATA = Path(__file__).parent / "data"
BASE = DATA / "mlp_reference_quickstart.yaml"
"""search_spaces/quickstart.yaml as it was at 698bac5 (the spaces are overrides of it)."""
REFERENCE = json.loads((DATA / "mlp_reference_pre_layers.json").read_text())


def space_with(over: dict[str, Any]) -> SpaceConfig:
    d = yaml_file(BASE)
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


def jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str))


@pytest.mark.parametrize("name", list(REFERENCE))
def test_mlp_round_trips_match_the_code_before_the_layer_list(name: str) -> None:
    ref = REFERENCE[name]
    space = space_with(ref["overrides"])
    n_classes = 2 if space.model.output_activation == "sigmoid" else 10
    n_out = 1 if n_classes == 2 else n_classes
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=space.directions, sampler=optuna.samplers.RandomSampler(seed=3))
    for case in ref["cases"]:
        trial = study.ask()
        cand = suggest_candidate(trial, space)
        assert list(trial.params) == case["param_order"]
        assert jsonable(trial.params) == case["params"]
        assert Candidate.from_params(case["params"], space) == cand
        assert jsonable(cand.to_params(space)) == case["params"]
        assert jsonable(cand.to_dict()) == case["candidate"]
        assert Candidate.from_dict(case["candidate"]) == cand
        assert cand.short() == case["short"]
        assert jsonable(cand.to_hls_config(space)) == case["hls_config"]
        assert design_key(cand, space, 64, n_classes) == case["design_key"]
        assert list(snapped_reuse_factors(cand, 64, n_out)) == case["snapped"]
        # the reference dicts predate later LayerSpec fields: compare as layer specs (defaults fill them)
        assert prebuild_layers(cand, space, 64, n_classes) == layers_from_dicts(case["prebuild"])
        assert [s.n_zeros for s in prebuild_layers(cand, space, 64, n_classes, DigitModel())] == \
            case["prebuild_digits_zeros"]
        assert surrogate_features(cand, space, 64) == pytest.approx(case["surrogate"], abs=0, rel=1e-12)
        study.tell(trial, [0.5] * len(space.objectives))
