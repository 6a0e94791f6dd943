"""The registry of layer kinds and the candidate as a list of layers: duplicates refused, every
kind's knobs and hls4ml keys round trip, the generic stored form round trips, unreadable forms
are refused with the keys named."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, replace
from typing import ClassVar

import optuna
import pytest

from dse.design.architectures import MLP, MlpFields
from dse.design.candidate import Candidate, suggest_candidate
from dse.design.layer_kind import LAYER_KINDS, DesignLayer, layer_from_dict, register_layer_kind
from dse.design.layer_kinds import Activation, Dense, OutputActivation
from dse.errors import ConfigError
from tests.unit.test_candidate import SPACES as MLP_SPACES
from tests.unit.test_cnn_design import CNN_SPACES

SPACES = {**MLP_SPACES, **CNN_SPACES}


@functools.cache
def sampled(space_name: str, n: int, seed: int) -> tuple[Candidate, ...]:
    """``n`` candidates of a space drawn by Optuna's seeded random sampler (the same draw is made once)."""
    space = SPACES[space_name]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=space.directions, sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(suggest_candidate(trial, space))
        study.tell(trial, [0.5] * len(space.objectives))
    return tuple(out)


def test_the_registry_holds_the_mlp_kinds_and_refuses_a_duplicate_kind() -> None:
    assert LAYER_KINDS["dense"] is Dense and LAYER_KINDS["activation"] is Activation
    assert LAYER_KINDS["output_activation"] is OutputActivation

    @dataclass(frozen=True)
    class AnotherDense(Dense):
        KIND: ClassVar[str] = "dense"

    with pytest.raises(ValueError, match="'dense' is already registered"):
        register_layer_kind(AnotherDense)
    assert LAYER_KINDS["dense"] is Dense

    class Nameless(DesignLayer):  # type: ignore[misc]
        pass

    with pytest.raises(TypeError, match="no KIND"):
        register_layer_kind(Nameless)  # type: ignore[type-abstract]


def test_a_new_kind_is_one_registered_class() -> None:
    @dataclass(frozen=True)
    class Flatten(OutputActivation):
        KIND: ClassVar[str] = "test_flatten"

    try:
        register_layer_kind(Flatten)
        layer = layer_from_dict({"kind": "test_flatten", "name": "flat"})
        assert isinstance(layer, Flatten) and layer.to_dict() == {"kind": "test_flatten", "name": "flat"}
    finally:
        LAYER_KINDS.pop("test_flatten", None)


KINDS_SEEN: set[str] = set()


@pytest.mark.parametrize("space_name", list(SPACES))
def test_every_kinds_knobs_round_trip_through_their_optuna_params(space_name: str) -> None:
    """Each knob of each layer is the Optuna param of its group at the layer's position, and changing
    that one param changes that one field of that one layer (or, shared, of every layer having it)."""
    space = SPACES[space_name]
    kinds_seen = KINDS_SEEN
    for cand in sampled(space_name, 25, seed=11):
        params = cand.to_params(space)
        positions: dict[str, int] = {}
        for layer in cand.layers:
            kinds_seen.add(layer.KIND)
            for knob in layer.knobs():
                pos = positions.get(knob.group, 0)
                positions[knob.group] = pos + 1
                spec = knob.spec(space, pos)
                name = knob.param_name(space, pos)
                value = getattr(layer, knob.field)
                if spec is None or spec.is_fixed:
                    assert name not in params
                    continue
                assert params[name] == value
                other = next((c for c in spec.values() if c != value), None)
                if other is None:
                    continue
                changed = Candidate.from_params({**params, name: other}, space)
                if len(changed.layers) != len(cand.layers):
                    continue
                diff = [(a.name, f) for a, b in zip(cand.layers, changed.layers, strict=True)
                        for da, db in [(a.to_dict(), b.to_dict())] for f in da if da[f] != db[f]]
                fields = {f for _, f in diff}
                # bias bits follow the weight bits when the space does not search them
                assert fields <= {knob.field} | ({"bias_bits"} if knob.group == "weight_bits" else set()), diff
                changed_layers = {n for n, f in diff if f == knob.field}
                assert layer.name in changed_layers
                if knob.per_layer(space):
                    assert changed_layers == {layer.name}


def test_every_registered_kind_is_covered_by_the_spaces() -> None:
    for name in SPACES:
        for cand in sampled(name, 25, seed=11):
            KINDS_SEEN.update(la.KIND for la in cand.layers)
    assert {k for k, cls in LAYER_KINDS.items() if not k.startswith("test_")} == KINDS_SEEN, \
        "a registered kind is not covered by these spaces: add a space that uses it"


SCRAMBLED = {"dense": {"weight_bits": 16, "bias_bits": 16, "reuse_factor": 99}, "activation": {"bits": 16},
             "output_activation": {},
             "conv": {"weight_bits": 16, "bias_bits": 16, "reuse_factor": 99, "parallelization_factor": 77,
                      "conv_implementation": "scrambled"},
             "pooling": {"conv_implementation": "scrambled"}, "global_pooling": {}, "flatten": {}}
"""Per kind, other values of the fields its hls4ml entry holds (a new kind adds its own)."""


@pytest.mark.parametrize("space_name", list(SPACES))
def test_each_layer_reads_back_its_own_hls4ml_entry(space_name: str) -> None:
    assert set(SCRAMBLED) == {k for k in LAYER_KINDS if not k.startswith("test_")}
    space = SPACES[space_name]
    for cand in sampled(space_name, 15, seed=5):
        ctx = cand.context(space)
        for layer in cand.layers:
            entry = json.loads(json.dumps(layer.hls_config(ctx, 7)))
            assert "ReuseFactor" in entry
            scrambled = replace(layer, **SCRAMBLED[layer.KIND])  # type: ignore[type-var]
            assert scrambled.with_hls_config(entry) == layer


@pytest.mark.parametrize("space_name", list(SPACES))
def test_the_generic_stored_form_round_trips(space_name: str) -> None:
    for cand in sampled(space_name, 15, seed=9):
        d = json.loads(json.dumps(cand.to_layer_dict()))
        assert [x["kind"] for x in d["layers"]][-2:] == ["dense", "output_activation"]
        assert Candidate.from_dict(d) == cand
        if cand.architecture == "mlp":
            assert MlpFields.of_layers(cand.layers) is not None  # an MLP stores its flat form
            assert "layers" not in cand.to_dict()
        else:
            assert MlpFields.of_layers(cand.layers) is None and cand.to_dict() == d


def test_a_layer_list_that_is_not_an_mlp_stores_its_layers() -> None:
    cand = Candidate((Dense("fc0", 8, 4, 4, 0.0, 1), Dense("out", None, 6, 6, 0.5, 2),
                      OutputActivation("out_act")), "latency", 0.01)
    assert MLP.to_dict(cand.layers) is None
    d = cand.to_dict()
    assert d["architecture"] == "mlp" and [x["name"] for x in d["layers"]] == ["fc0", "out", "out_act"]
    assert Candidate.from_dict(json.loads(json.dumps(d))) == cand
    assert cand.with_reuse_factors((3, 5)).values("reuse_factor") == (3, 5)
    assert cand.short() == "8 w4/6 a sp0.0/0.5 rf1/2 latency"


def test_mlp_helpers_and_the_layer_views() -> None:
    cand = Candidate.mlp((16, 8), (4, 6, 8), (4, 6, 8), (5, 7), (0.0, 0.5, 0.75), (1, 2, 4), "latency", 0.01)
    assert [la.name for la in cand.layers] == ["fc0", "relu0", "fc1", "relu1", "out", "out_act"]
    assert cand.weighted_names == ["fc0", "fc1", "out"]
    assert cand.sparsity == (0.0, 0.5, 0.75)
    assert cand.values("width") == (16, 8) and cand.values("activation_bits") == (5, 7)
    cfg = cand.to_hls_config(SPACES["global"])["LayerName"]
    assert [cfg[n]["ReuseFactor"] for n in ("fc0", "relu0", "fc1", "relu1", "out", "out_act")] == [1, 1, 2, 2, 4, 4]


def test_bad_stored_forms_are_refused_naming_what_was_found() -> None:
    with pytest.raises(ConfigError, match=r"keys \['blocks', 'learning_rate', 'strategy'\]"):
        Candidate.from_dict({"blocks": [], "strategy": "latency", "learning_rate": 0.01})
    legacy = {"widths": [8, 8], "weight_bits": [4, 4], "bias_bits": [4, 4, 4], "activation_bits": [6, 6],
              "sparsity": [0, 0, 0], "reuse_factor": [1, 1, 1], "strategy": "latency", "learning_rate": 0.01}
    with pytest.raises(ConfigError, match="weight_bits needs 3 entries"):
        Candidate.from_dict(legacy)
    with pytest.raises(ConfigError, match="without strategy and learning_rate"):
        Candidate.from_dict({"widths": [8]})
    with pytest.raises(ConfigError, match="unknown layer kind 'conv9d'"):
        Candidate.from_dict({"layers": [{"kind": "conv9d", "name": "c"}], "strategy": "latency",
                             "learning_rate": 0.01})
    with pytest.raises(ConfigError, match=r"unknown fields \['filters'\]"):
        layer_from_dict({"kind": "activation", "name": "relu0", "bits": 4, "filters": 3})
    with pytest.raises(ConfigError, match="unknown architecture 'rnn'"):
        Candidate.from_dict({"architecture": "rnn", "layers": [], "strategy": "latency", "learning_rate": 0.01})


def test_layer_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Candidate((Activation("a", 4), Activation("a", 4)), "latency", 0.01)


def test_every_model_type_of_the_schema_has_an_architecture() -> None:
    from typing import get_args

    from dse.design.architectures import ARCHITECTURES
    from dse.space.schema import ModelConfig

    assert set(get_args(ModelConfig.model_fields["type"].annotation)) == set(ARCHITECTURES)


def test_binary_and_ternary_weights_are_stated_once() -> None:
    """SPECIAL_WEIGHTS is the space's special weight bits, and every use reads it: width, hls4ml type and
    precision (read back by with_hls_config), the surrogate's feature, the bias bits when not searched."""
    from cost_models.layers import FixedType
    from dse.design.layer_kinds import (
        SPECIAL_WEIGHTS,
        _bias_from_weight_bits,
        _weight_bits_of,
        weight_bits_value,
        weight_precision,
        weight_type,
    )
    from dse.search.proposals import _mlp_features
    from dse.space.schema import WEIGHT_SPECIAL_BITS

    assert tuple(SPECIAL_WEIGHTS) == WEIGHT_SPECIAL_BITS
    assert [weight_bits_value(b) for b in ("binary", "ternary", 6)] == [1, 2, 6]
    assert weight_type("binary", 3) == FixedType(1, 1, signed=False) and weight_type("ternary", 3) == FixedType(2, 2)
    assert weight_type(6, 3) == FixedType(6, 4)
    for bits in ("binary", "ternary", 6):
        precision = weight_precision(bits, 0)
        assert FixedType.parse(precision) == weight_type(bits, 0)  # the string and the type agree
        assert _weight_bits_of(precision) == bits
    assert [_bias_from_weight_bits({"weight_bits": b}) for b in ("binary", "ternary", 6)] == [2, 2, 6]
    space = MLP_SPACES["per_layer"]  # searches binary and ternary weights
    cand = Candidate.mlp(widths=(8,), weight_bits=("binary", "ternary"), bias_bits=(4, 4), activation_bits=(4,),
                         sparsity=(0.0, 0.0), reuse_factor=(1, 1), strategy="latency", learning_rate=0.001)
    n_max = space.model.max_hidden_layers
    features = _mlp_features(cand, space, 16)
    assert features[1 + n_max:1 + n_max + 2] == [1.0, 2.0]  # weight bits of fc0 and out
