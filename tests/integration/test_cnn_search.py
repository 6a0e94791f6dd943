"""CNNs through everything after the design: the search loop (screening, dedupe, surrogate, proposals) on
image-shaped data, the digit model paired by layer name, surrogate features of a layer list, the
per-layer table of a trained CNN and its summary line. In-process executor, a fake trainer whose
trained layer list is the prebuild one (no TensorFlow)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import optuna
import pytest
import yaml

from cost_models.layers import WEIGHTED_KINDS, FixedType, LayerSpec, layers_to_dicts
from cost_models.weight_stats import WeightStats
from cost_models.weights import typical_weight_stats
from dse.analysis.run import load_run
from dse.design.candidate import Candidate
from dse.design.conv_kinds import Conv, Flatten, GlobalPooling, Pooling
from dse.design.layer_kinds import Activation, Dense, OutputActivation
from dse.design.prebuild import prebuild_layers
from dse.errors import ConfigError
from dse.scoring.score import part_bounds
from dse.search import InProcessExecutor
from dse.search.driver import run_search
from dse.search.proposals import (
    GLOBAL_FEATURES,
    LAYER_FEATURES,
    design_key,
    expected_gains,
    surrogate_features,
    surrogate_matrix,
)
from dse.search.screening import DigitModel, Screener
from dse.space import load_space
from dse.training.trial_runner import TrialOutput, space_target
from tests.unit.test_cnn_design import cnn_space, cnn_space_dict, sampled

SHAPE = (8, 8, 1)
DATA = SimpleNamespace(input_shape=SHAPE, n_classes=10)


def lenet(filters: tuple[int, ...] = (4, 8), stride: int = 1, width: int | None = 16,
          io_type: str = "io_parallel") -> Candidate:
    layers: list[Any] = []
    for i, f in enumerate(filters):
        layers += [Conv(f"conv{i}", f, 3, stride, "valid", 6, 6, 0.5, 1), Activation(f"conv{i}_relu", 6)]
        if i == 0:
            layers.append(Pooling("pool0", "max", 2))
    layers.append(Flatten("flatten"))
    if width is not None:
        layers += [Dense("fc0", width, 6, 6, 0.0, 1), Activation("relu0", 6)]
    layers += [Dense("out", None, 6, 6, 0.25, 1), OutputActivation("out_act")]
    return Candidate(tuple(layers), "latency", 0.005, "cnn", io_type)


SPACE = cnn_space()


# --------------------------------------------------------------------------- what a design says about itself


def test_a_cnn_summary_line_shows_its_feature_layers_then_its_dense_head() -> None:
    assert lenet().short() == "c4k3-p2-c8k3 | 16 w6 a6 sp0.5/0.5/0.0/0.25 rf1 latency"
    assert lenet((4,), stride=2, width=None, io_type="io_stream").short() == \
        "c4k3s2-p2 | w6 a6 sp0.5/0.25 rf1 latency stream"
    gap = dataclasses.replace(lenet((8,)), layers=tuple(
        GlobalPooling("gap", "average") if isinstance(la, Flatten) else
        Pooling("pool0", "average", 2) if isinstance(la, Pooling) else la for la in lenet((8,)).layers))
    assert gap.short().startswith("c8k3-ap2-gap | 16 ")
    mlp = Candidate.mlp((64, 32), (6, 6, 6), (6, 6, 6), (6, 6), (0.5,) * 3, (1,) * 3, "latency", 0.005)
    assert mlp.short() == "64-32 w6 a6 sp0.5 rf1 latency"  # the MLP line as it always was


def test_the_digit_model_pairs_trained_layers_with_their_sparsity_by_name() -> None:
    """hls4ml's layer list of a CNN has layers the design does not (padding, flatten) and may list weighted
    layers in another order than the candidate: the target sparsity must follow the name."""
    cand = lenet()
    targets = dict(zip(cand.weighted_names, cand.sparsity, strict=True))
    assert targets == {"conv0": 0.5, "conv1": 0.5, "fc0": 0.0, "out": 0.25}
    specs = {s.name: s for s in prebuild_layers(cand, SPACE, SHAPE, 10)}
    w4, w8 = FixedType(4, 1), FixedType(8, 1)

    def trained(name: str, wtype: FixedType, zero_share: float) -> LayerSpec:
        s = specs[name]
        n_zeros = round(s.n_weights * zero_share)
        k = s.n_weights - n_zeros
        stats = WeightStats(n_nonzero=k, digits=(k, 0, 0, 0, 0, 0, 0, 0), unique_digits=(1, 0, 0, 0, 0, 0, 0, 0),
                            max_bits=1, mean_bits=1.0)
        return dataclasses.replace(s, weight=wtype, n_zeros=n_zeros, weights=stats)

    # conv1 (target 0.5) has 60 % zeros: a fifth of its unpruned weights quantized to zero, if paired with its
    # own target; out and fc0 have no quantization zeros; out is listed first and a padding layer sits between
    layers = [trained("out", w8, 0.25), trained("fc0", w8, 0.0),
              LayerSpec("zp", "zeropadding2d", 64, 100, FixedType(16, 6), conv=specs["conv0"].conv),
              trained("conv1", w4, 0.6)]
    model = DigitModel()
    model.observe(layers, targets)
    assert model.zero_share(w4, 0.0) == pytest.approx(0.2, abs=0.01)  # (0.6 - 0.5) / (1 - 0.5)
    assert model.zero_share(w8, 0.0) == pytest.approx(0.0, abs=1e-9)
    by_position = DigitModel()  # pairing by position: conv1 (3rd weighted layer listed) gets fc0's target 0
    by_position.observe(layers, list(cand.sparsity))
    assert by_position.zero_share(w4, 0.0) == pytest.approx(0.6, abs=0.01)  # its pruned weights taken for rounding


def test_surrogate_features_of_a_cnn_come_from_its_layer_list() -> None:
    a = lenet()
    fa = surrogate_features(a, SPACE, SHAPE, 10)
    n_weighted = len(a.weighted_layers)
    assert len(fa) == GLOBAL_FEATURES + LAYER_FEATURES * n_weighted and fa[0] == n_weighted
    f1, fs = (surrogate_features(lenet((4,), stride=s), SPACE, SHAPE, 10) for s in (1, 2))
    assert fs[1] < f1[1]  # a stride of 2 leaves fewer output pixels: fewer multiplications
    # conv0: 3x3x1 -> 4 filters at 6x6 pixels = 1296 multiplications; weights 36, half of them pruned
    import math

    conv0 = fa[GLOBAL_FEATURES:GLOBAL_FEATURES + LAYER_FEATURES]
    assert conv0[0] == pytest.approx(math.log(1 + 36 * 36)) and conv0[1] == pytest.approx(math.log(1 + 36))
    assert (conv0[2], conv0[3]) == (6.0, 0.5)
    short = lenet((4,), width=None)
    rows = surrogate_matrix([a, short], SPACE, SHAPE, 10)
    assert len(rows[0]) == len(rows[1]) == len(fa) and rows[1][len(surrogate_features(short, SPACE, SHAPE, 10)):] \
        == [0.0] * (len(fa) - len(surrogate_features(short, SPACE, SHAPE, 10)))


def test_the_design_key_of_a_cnn_uses_the_sample_shape() -> None:
    resource = dataclasses.replace(lenet(), strategy="resource")
    odd = resource.with_reuse_factors((5, 7, 1, 1))  # hls4ml snaps these for a 3x3x1 -> 4 product
    assert design_key(odd, SPACE, SHAPE, 10) != json.dumps(odd.to_dict(), sort_keys=True)
    assert design_key(lenet(), SPACE, SHAPE, 10) == design_key(lenet(), SPACE, list(SHAPE), 10)

    def with_pf(pf: int) -> Candidate:
        c = lenet()
        return dataclasses.replace(c, layers=tuple(dataclasses.replace(la, parallelization_factor=pf)
                                                   if la.name == "conv0" else la for la in c.layers))

    # conv0 has 6x6 = 36 output pixels: a ParallelizationFactor of 35 is built as 36, 5 is not
    assert design_key(with_pf(35), SPACE, SHAPE, 10) == design_key(with_pf(36), SPACE, SHAPE, 10)
    assert design_key(with_pf(5), SPACE, SHAPE, 10) != design_key(with_pf(36), SPACE, SHAPE, 10)


# --------------------------------------------------------------------------- the search loop


class CnnTrainer:
    """Trains nothing: the trained layer list is the prebuild one with typical weight statistics."""

    def __init__(self) -> None:
        self.trained: list[str] = []

    def __call__(self, payload: Any, data: Any, reporter: Any) -> TrialOutput:
        space = load_space_from(payload)
        cand = Candidate.from_dict(payload.candidate)
        specs = prebuild_layers(cand, space, data.input_shape, data.n_classes)
        specs = [dataclasses.replace(s, weights=typical_weight_stats(s.weight, s.n_in, s.n_out))
                 if s.kind in WEIGHTED_KINDS and s.weight is not None else s for s in specs]
        self.trained.append(cand.short())
        filters = sum(cand.values("filters"))
        acc = min(0.99, 0.5 + 0.02 * filters + 0.01 * sum(cand.values("width")) / 16)
        metrics = {"val_accuracy": acc, "val_loss": 1 - acc, "test_accuracy": acc - 0.01, "val_auc": None,
                   "epochs_run": 1, "train_seconds": 0.01}
        return TrialOutput(payload.number, "complete", metrics=metrics, layers=layers_to_dicts(specs),
                           hls_config=cand.to_hls_config(space), model_h5=b"fake model", node="fake")


_SPACES: dict[str, Any] = {}


def load_space_from(payload: Any) -> Any:
    return _SPACES["space"]


@pytest.mark.slow
def test_a_cnn_search_screens_proposes_and_reports_per_layer(tmp_path: Path) -> None:
    d = cnn_space_dict(search__proposals=3, search__n_trials=6, search__workers=1)
    d["constraints"] = ["lut <= 40000", "latency_ns <= 400"]
    d["data"]["name"] = "digits"
    path = tmp_path / "cnn.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    space = load_space(path)
    _SPACES["space"] = space
    trainer = CnnTrainer()
    result = run_search(space, tmp_path / "run", source_text=path.read_text(), n_trials=6, workers=1, data=DATA,
                        executor=InProcessExecutor(trainer, None))
    assert result is not None
    folder_trials = optuna.load_study(study_name=load_run(tmp_path / "run").folder.study_name,
                                      storage=load_run(tmp_path / "run").folder.storage_url()).trials
    complete = [t for t in folder_trials if t.state.name == "COMPLETE"]
    screened = [t for t in folder_trials if "screened" in t.user_attrs]
    assert len(complete) == 6 and screened  # the budgets screen some CNNs before training
    unbuildable = [t for t in screened if "cannot be built" in t.user_attrs["screened"]]
    for t in unbuildable:  # e.g. two strided blocks and pools on 8x8: no pixel left
        with pytest.raises(ConfigError):
            prebuild_layers(Candidate.from_dict(t.user_attrs["candidate"]), space, SHAPE, 10)
    for t in complete:  # every trained design is a CNN whose estimate came from its own layer list
        cand = Candidate.from_dict(t.user_attrs["candidate"])
        assert cand.architecture == "cnn" and cand.values("filters")
        assert "pre_estimate" in t.user_attrs
    run = load_run(tmp_path / "run")
    if unbuildable:
        from dse.analysis.report import build_sections

        _, message = build_sections(run)
        assert f"{len(unbuildable)} of the failed are proposed designs that cannot be built" in message
    assert all(" | " in c for c in run.trials.loc[run.trials["state"] == "COMPLETE", "candidate"])
    n = complete[-1].number
    table = run.layer_table(n)
    names = [s.name for s in prebuild_layers(Candidate.from_dict(complete[-1].user_attrs["candidate"]), space,
                                             SHAPE, 10)]
    assert table["layer"].tolist() == [x for x in names if x in set(table["layer"])]
    # a convolution of any kind (conv1d/conv2d, or pointwise_conv2d where the search picked a 1x1 kernel)
    assert table["kind"].isin(["conv1d", "conv2d", "pointwise_conv1d", "pointwise_conv2d"]).any()
    assert table["shape"].str.contains("px").any()
    # the screener learned from the trained CNNs by layer name
    screener = Screener(space, SHAPE, 10, space_target(space), None, part_bounds(space))
    for t in complete:
        from cost_models.layers import layers_from_dicts

        screener.observe_trial(t.number, layers_from_dicts(run.folder.read_layers(t.number)),
                               Candidate.from_dict(t.user_attrs["candidate"]), None, None)
    assert screener.digits.sums and all(acc.n_nonzero > 0 for acc in screener.digits.sums.values())
    gains = expected_gains(space, complete, [(c, screener.estimate(c)) for c in (lenet(), lenet((4,), stride=2))],
                           SHAPE, seed=1, n_classes=10)
    assert len(gains) == 2 and all(g >= -1e-12 for g in gains)  # expected gains, >= 0 up to rounding


def test_sampled_cnns_all_have_features_or_are_refused_as_unbuildable() -> None:
    got = refused = 0
    for cand in sampled(SPACE, 40, seed=11):
        try:
            f = surrogate_features(cand, SPACE, SHAPE, 10)
        except ConfigError:
            refused += 1
            continue
        got += 1
        assert f[0] == len(cand.weighted_layers) and all(x == x for x in f)
    assert got > 20


@pytest.mark.slow
def test_an_out_of_reach_cnn_latency_budget_says_to_search_the_parallelization_factor(
        tmp: Path, caplog: pytest.LogCaptureFixture, few_rejections: int) -> None:
    """At ParallelizationFactor 1 an io_parallel conv takes a cycle per output pixel: on 12x12 images no
    design meets 100 ns, the search stops before training and says which key to search."""
    d = cnn_space_dict(search__n_trials=2, search__workers=1)
    d["hardware"].update(io_type="io_parallel", parallelization_factor=1, strategy="latency")
    d["constraints"] = ["latency_ns <= 100"]
    path = tmp / "cnn.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    space = load_space(path)
    _SPACES["space"] = space
    trainer = CnnTrainer()
    data = SimpleNamespace(input_shape=(12, 12, 1), n_classes=10)
    result = run_search(space, tmp / "run", source_text=path.read_text(), n_trials=2, workers=1, data=data,
                        executor=InProcessExecutor(trainer, None))
    assert result is not None and result.n_complete == 0 and not trainer.trained
    assert "look unreachable" in caplog.text
    assert "search hardware.parallelization_factor" in caplog.text
