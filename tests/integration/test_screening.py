"""Cost before training, screening, the normalised dedupe and the proposal step, in milliseconds:
the real driver, searcher, Optuna SQLite storage and cost model with the fake trainer."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import optuna
import pandas as pd
import pytest

from dse.design.candidate import Candidate
from dse.design.prebuild import prebuild_layers
from dse.scoring import part_bounds
from dse.search import counts_toward_budget, run_search
from dse.search.proposals import design_key, expected_gains
from dse.search.screening import DigitModel, PreEstimate, Screener
from dse.space import load_space
from dse.store import RunFolder
from dse.training.trial_runner import space_target
from tests.search_fakes import N_IN, N_OUT, FakeTrainer, fake_executor, space_file

DATA = SimpleNamespace(n_features=N_IN, n_classes=N_OUT)


def search(space_path: Path, run_dir: Path, n_trials: int, trainer: FakeTrainer, workers: int = 2) -> Any:
    return run_search(load_space(space_path), run_dir, source_text=space_path.read_text(), n_trials=n_trials,
                      workers=workers, data=DATA, executor=fake_executor(trainer))


def study_of(run_dir: Path) -> optuna.Study:
    folder = RunFolder.open(run_dir)
    return optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())


def screener_for(space: Any) -> Screener:
    return Screener(space, N_IN, N_OUT, space_target(space), None, part_bounds(space))


# --------------------------------------------------------------------------- pre-training layers


def test_prebuilt_layers_have_the_types_sizes_and_reuse_factors_hls4ml_gives(tmp: Path) -> None:
    """Reference values read from hls4ml 1.3's conversion of the QKeras models of these candidates."""
    space = load_space(space_file(tmp))
    resource = Candidate.mlp((13,), (3, 9), (3, 9), (7,), (0.0, 0.8), (3, 7), "resource", 0.005)
    got = {s.name: s for s in prebuild_layers(resource, space, 64, 10)}
    assert [*got] == ["fc0", "relu0", "out", "out_act"]
    assert (str(got["fc0"].result), str(got["fc0"].weight), got["fc0"].reuse_factor) == ("ap_fixed<26,14>",
                                                                                         "ap_fixed<3,1>", 2)
    assert (str(got["out"].result), got["out"].reuse_factor, got["out"].strategy) == ("ap_fixed<21,8>", 1, "resource")
    assert (str(got["relu0"].result), got["relu0"].reuse_factor, got["relu0"].strategy) == ("ap_ufixed<7,2>", 3,
                                                                                            "latency")
    assert got["out"].n_zeros == 104 and got["fc0"].n_zeros == 0  # the sparsity target, no digit model given
    latency = Candidate.mlp((32, 16), (6, 6, 6), (6, 6, 6), (4, 4), (0.5,) * 3, (2,) * 3, "latency", 0.005)
    got = {s.name: s for s in prebuild_layers(latency, space, 64, 10)}
    assert [str(got[n].result) for n in ("fc0", "fc1", "out")] == ["ap_fixed<29,14>", "ap_fixed<16,9>",
                                                                   "ap_fixed<15,8>"]
    assert str(got["out_act"].result) == "ap_fixed<16,6>" and got["out_act"].kind == "softmax"


def test_the_digit_model_learns_the_trained_statistics_of_a_weight_type() -> None:
    from cost_models.layers import FixedType, LayerSpec
    from cost_models.weight_stats import WeightStats

    wt = FixedType(6, 1)
    model = DigitModel()
    assert model.stats(wt, 16, 10, 100) is None  # nothing learned: the cost model's type-only fallback
    stats = WeightStats(n_nonzero=80, digits=(60, 20, 0, 0, 0, 0, 0, 0), unique_digits=(30, 10, 0, 0, 0, 0, 0, 0),
                        max_bits=3, mean_bits=1.5)
    layer = LayerSpec("fc0", "dense", 16, 10, FixedType(16, 6), weight=wt, n_zeros=80, weights=stats)
    model.observe([layer], [0.5])
    assert model.zero_share(wt, 0.5) == pytest.approx(0.5)  # 80 zeros = the pruned half: no quantization zeros
    got = model.stats(wt, 16, 10, 40)
    assert got is not None and got.digits[:2] == (30, 10) and got.unique_digits[:2] == (15, 5)


# --------------------------------------------------------------------------- screening in a search


def test_a_design_whose_pre_training_estimate_breaks_a_budget_is_not_trained(tmp: Path) -> None:
    path = space_file(tmp, constraints=["dsp <= 5"], quantization__weight_bits=[3, 8],
                      hardware__reuse_factor=[1, 2, 4], search__screening=True)
    space = load_space(path)
    screener = screener_for(space)
    trainer = FakeTrainer()
    result = search(path, tmp / "run", 6, trainer)
    study = study_of(tmp / "run")
    screened = [t for t in study.trials if "screened" in t.user_attrs]
    trained = [t for t in study.trials if counts_toward_budget(t)]
    assert screened, "8-bit weights at dsp <= 5 should be screened out"
    trained_designs = set(trainer.calls)
    for t in screened:
        assert t.state.name == "FAIL" and "dsp" in t.user_attrs["screened"] and "P(met)" in t.user_attrs["screened"]
        cand = Candidate.from_dict(t.user_attrs["candidate"])
        assert repr(sorted(cand.to_dict().items())) not in trained_designs  # never trained
        assert screener.estimate(cand).reason  # the same estimate from its parameters alone
        assert t.user_attrs["pre_estimate"]["dsp"] > 5
    for t in trained:
        assert "pre_estimate" in t.user_attrs and not screener.estimate(
            Candidate.from_dict(t.user_attrs["candidate"])).reason
    # n_trials counts trained trials only; screened ones are reported apart
    assert len(trained) == 6 == result.n_complete == sum(trainer.calls.values())
    assert result.n_screened == len(screened) and result.proposals["screened"] == len(screened)
    table = pd.read_csv(tmp / "run" / "trials.csv")
    assert table["screened"].notna().sum() == len(screened)


def test_without_screening_every_proposal_is_trained(tmp: Path) -> None:
    path = space_file(tmp, constraints=["dsp <= 5"], quantization__weight_bits=[3, 8],
                      search__screening=False)
    trainer = FakeTrainer()
    result = search(path, tmp / "run", 6, trainer)
    assert result.n_screened == 0 and result.n_complete == 6


def test_budgets_no_design_can_meet_stop_the_search_with_nothing_trained(tmp: Path, caplog: Any) -> None:
    path = space_file(tmp, constraints=["lut <= 1"])
    trainer = FakeTrainer()
    result = search(path, tmp / "run", 4, trainer)
    assert result.n_complete == 0 and sum(trainer.calls.values()) == 0
    assert "look unreachable" in caplog.text
    study = study_of(tmp / "run")
    assert all("screened" in t.user_attrs for t in study.trials) and study.trials


# --------------------------------------------------------------------------- never the same design twice


def test_no_design_is_trained_twice_after_normalisation_in_40_trials(tmp: Path) -> None:
    # Resource strategy: hls4ml snaps RF 3 to a valid value, so RF 3 and its snapped twin are one design
    path = space_file(tmp, model__width=[8, 16], hardware__strategy="resource", hardware__reuse_factor=[1, 2, 3, 4],
                      quantization__weight_bits=[3, 4, 6], constraints=[], search__proposals=2)
    space = load_space(path)
    trainer = FakeTrainer()
    result = search(path, tmp / "run", 40, trainer)
    assert result.n_complete == 40
    study = study_of(tmp / "run")
    trained = [t for t in study.trials if counts_toward_budget(t)]
    keys = [design_key(Candidate.from_dict(t.user_attrs["candidate"]), space, N_IN, N_OUT) for t in trained]
    assert len(trained) == 40 and len(set(keys)) == 40
    assert len({json.dumps(t.params, sort_keys=True) for t in trained}) == 40
    assert all(n == 1 for n in trainer.calls.values())


def test_snapped_reuse_factors_make_one_design() -> None:
    space = load_space(space_file(Path(tempfile.mkdtemp()), hardware__strategy="resource"))
    a = Candidate.mlp((13,), (4, 4), (4, 4), (4,), (0.0, 0.0), (3, 1), "resource", 0.005)
    b = Candidate.mlp((13,), (4, 4), (4, 4), (4,), (0.0, 0.0), (2, 1), "resource", 0.005)
    assert design_key(a, space, 64, 10) == design_key(b, space, 64, 10)
    c = Candidate.mlp((13,), (4, 4), (4, 4), (4,), (0.0, 0.0), (3, 1), "latency", 0.005)
    d = Candidate.mlp((13,), (4, 4), (4, 4), (4,), (0.0, 0.0), (2, 1), "latency", 0.005)
    assert design_key(c, space, 64, 10) != design_key(d, space, 64, 10)  # Latency keeps the requested RF


# --------------------------------------------------------------------------- surrogate and proposals


def test_the_surrogate_and_the_proposal_step_are_seeded_and_reproducible(tmp: Path) -> None:
    path = space_file(tmp, constraints=["dsp <= 40"], search__proposals=4)
    runs = []
    for name in ("a", "b"):
        trainer = FakeTrainer()
        search(path, tmp / name, 10, trainer, workers=1)
        runs.append([(t.state.name, json.dumps(t.params, sort_keys=True)) for t in study_of(tmp / name).trials])
    assert runs[0] == runs[1]
    space = load_space(path)
    study = study_of(tmp / "a")
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    screener = screener_for(space)
    options = []
    for width, bits in ((8, 3), (16, 8), (16, 4)):
        cand = Candidate.mlp((width,), (bits, bits), (bits, bits), (6,), (0.0, 0.0), (1, 1), "latency", 0.005)
        options.append((cand, screener.estimate(cand)))
    g1 = expected_gains(space, done, options, N_IN, seed=3)
    g2 = expected_gains(space, done, options, N_IN, seed=3)
    assert g1 == g2 and all(g >= 0 for g in g1)
    # an option that cannot meet its budget gains nothing
    broken = PreEstimate(dict(options[0][1].values), dict(options[0][1].intervals), [0.0])
    assert expected_gains(space, done, [(options[0][0], broken)], N_IN, seed=3) == [0.0]
