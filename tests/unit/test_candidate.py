"""Candidate ↔ Optuna params ↔ hls4ml config round trips, on sampled candidates."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml

from dse.design.candidate import Candidate, suggest_candidate
from dse.space import parse_space_text
from tests.helpers import quickstart_dict, set_by_path

ROOT = Path(__file__).resolve().parents[2]


def space_with(**over: object):
    d = quickstart_dict()
    return parse_space_text(yaml.safe_dump(set_by_path(d, over)))


SPACES = {
    "global": space_with(),
    "per_layer": space_with(quantization__per_layer=True, sparsity__per_layer=True, hardware__per_layer_reuse=True,
                            hardware__strategy=["latency", "resource"], model__hidden_layers={"low": 1, "high": 3},
                            training__learning_rate={"low": 0.001, "high": 0.01, "log": True},
                            quantization__bias_bits=[4, 8], quantization__weight_bits=["binary", "ternary", 4, 8]),
    "fixed": space_with(model__hidden_layers=2, model__width=16, quantization__weight_bits=6,
                        quantization__activation_bits=6, sparsity__target=0.5, hardware__reuse_factor=4),
}


@pytest.mark.parametrize("name", list(SPACES))
def test_params_round_trip(name: str) -> None:
    space = SPACES[name]
    study = optuna.create_study(directions=space.directions, sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for _ in range(40):
        trial = study.ask()
        cand = suggest_candidate(trial, space)
        # what Optuna recorded is exactly what to_params produces, and it maps back
        assert cand.to_params(space) == trial.params
        assert Candidate.from_params(trial.params, space) == cand
        assert Candidate.from_dict(cand.to_dict()) == cand
        study.tell(trial, [0.5] * len(space.objectives))
        seen.add(cand)
    if name == "fixed":
        assert len(seen) == 1
        (c,) = seen
        assert c.values("width") == (16, 16) and c.values("weight_bits") == (6, 6, 6)
        assert c.sparsity == (0.5, 0.5, 0.5) and c.values("reuse_factor") == (4, 4, 4)
    else:
        assert len(seen) > 10


@pytest.mark.parametrize("name", list(SPACES))
def test_hls_config_round_trip(name: str) -> None:
    space = SPACES[name]
    study = optuna.create_study(directions=space.directions, sampler=optuna.samplers.RandomSampler(seed=2))
    for _ in range(25):
        trial = study.ask()
        cand = suggest_candidate(trial, space)
        cfg = cand.to_hls_config(space)
        assert set(cfg) == {"Model", "LayerName"}
        for layer, rf in zip(cand.weighted_names, cand.values("reuse_factor"), strict=True):
            assert cfg["LayerName"][layer]["ReuseFactor"] == rf
            assert cfg["LayerName"][layer]["Strategy"].lower() == cand.strategy
        # read back into a candidate of the same structure whose hls4ml-held fields all differ
        d = cand.to_dict()
        other = Candidate.mlp(d["widths"], (16,) * len(d["weight_bits"]), (16,) * len(d["bias_bits"]),
                              (16,) * len(d["activation_bits"]), d["sparsity"], (99,) * len(d["reuse_factor"]),
                              "resource" if cand.strategy == "latency" else "latency", cand.learning_rate)
        assert other != cand
        back = Candidate.from_hls_config(cfg, other)
        assert back == cand
        study.tell(trial, [0.5] * len(space.objectives))


def test_per_layer_params_exist_only_for_existing_layers() -> None:
    space = SPACES["per_layer"]
    cand = Candidate.mlp(widths=(8,), weight_bits=(4, 8), bias_bits=(4, 8), activation_bits=(6,), sparsity=(0.0, 0.5),
                         reuse_factor=(1, 2), strategy="resource", learning_rate=0.002)
    params = cand.to_params(space)
    assert params["n_hidden"] == 1
    assert "width_1" not in params and "weight_bits_2" not in params
    assert params["weight_bits_1"] == 8 and params["reuse_factor_1"] == 2 and params["activation_bits_0"] == 6


def test_precisions_match_qkeras_rules() -> None:
    space = SPACES["global"]
    cand = Candidate.mlp(widths=(8,), weight_bits=(4, 4), bias_bits=(4, 4), activation_bits=(6,), sparsity=(0, 0),
                         reuse_factor=(1, 1), strategy="latency", learning_rate=0.01)
    cfg = cand.to_hls_config(space)
    # quantized_bits(4, 0, alpha=1) is a signed 4-bit value with 1 integer (sign) bit
    assert cfg["LayerName"]["fc0"]["Precision"]["weight"].startswith("fixed<4,1")
    # quantized_relu(6, 2) is unsigned with 2 integer bits
    assert cfg["LayerName"]["relu0"]["Precision"]["result"].startswith("ufixed<6,2")


def test_bad_candidate_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="weight_bits"):
        Candidate.mlp(widths=(8, 8), weight_bits=(4, 4), bias_bits=(4, 4, 4), activation_bits=(6, 6),
                      sparsity=(0, 0, 0), reuse_factor=(1, 1, 1), strategy="latency", learning_rate=0.01)
