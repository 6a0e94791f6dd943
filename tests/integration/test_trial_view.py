"""``TrialView``: the one typed view of a trial, made from a real Optuna study (SQLite) by the study
reader; what the search's driver reads, what ``load_run`` and ``trials.csv`` show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest

from dse.analysis import load_run
from dse.design.candidate import Candidate, suggest_candidate
from dse.search import run_search
from dse.space import load_space
from dse.store import RunFolder
from dse.store.study_reader import open_study_readonly, read_trials, trial_view
from dse.store.trial_view import TrialState, TrialStatus
from tests.search_fakes import FakeTrainer, fake_executor, space_file

DIST = {"x": optuna.distributions.IntDistribution(0, 10)}


def _old_counts_toward_budget(t: Any) -> bool:
    """The rule as the searcher stated it on Optuna's trials before the view (the oracle)."""
    ua = t.user_attrs
    if "duplicate_of" in ua or "screened" in ua:
        return False
    if t.state.name in ("COMPLETE", "PRUNED"):
        return True
    return t.state.name == "FAIL" and not ua.get("interrupted", False) and "error" in ua


def test_every_kind_of_trial_gets_its_state_status_and_markers(tmp_path: Path) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}", directions=["maximize", "minimize"])
    space = load_space(space_file(tmp_path))
    cand = suggest_candidate(optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask(), space).to_dict()

    def add(state: Any, values: list[float] | None = None, **attrs: Any) -> None:
        study.add_trial(optuna.trial.create_trial(state=state, params={"x": len(study.trials)}, distributions=DIST,
                                                  values=values, user_attrs={"candidate": cand, **attrs}))

    S = optuna.trial.TrialState
    add(S.COMPLETE, [0.9, 3.0], metrics={"val_accuracy": 0.9}, estimate={"dsp": 3.0, "dsp_low": 2.0},
        constraint_values=[-1.0], constraint_margins=[-1.0], constraint_probabilities=[0.8])
    add(S.COMPLETE, [0.9, 3.0], duplicate_of=0, constraint_values=[-1.0])
    add(S.PRUNED, metrics={"val_accuracy": 0.2, "epochs_run": 1})
    add(S.FAIL, error="ValueError: boom")
    add(S.FAIL, interrupted=True)
    add(S.FAIL, screened="latency_ns <= 10: 1% likely", pre_estimate={"latency_ns": 40.0},
        screen_probabilities=[0.01, None])
    add(S.COMPLETE, [0.5, 9.0], constraint_values=[2.0], measured={"dsp": 9})
    study.enqueue_trial({"x": 7}, user_attrs={"retry_of": 4})
    running = study.ask()  # takes the queued params: RUNNING with retry_of
    study.enqueue_trial({"x": 8})

    frozen = study.get_trials(deepcopy=False)
    views = read_trials(RunFolder.__new__(RunFolder), study)  # the folder is not read when a study is given
    assert [v.number for v in views] == list(range(9))
    assert [v.state for v in views] == [TrialState(s) for s in ("COMPLETE", "COMPLETE", "PRUNED", "FAIL", "FAIL",
                                                                "FAIL", "COMPLETE", "RUNNING", "WAITING")]
    assert [v.status for v in views] == [
        TrialStatus.COMPLETE, TrialStatus.DUPLICATE, TrialStatus.PRUNED, TrialStatus.FAILED, TrialStatus.INTERRUPTED,
        TrialStatus.SCREENED, TrialStatus.COMPLETE, TrialStatus.RUNNING, TrialStatus.WAITING]
    assert [v.counts_toward_budget for v in views] == [_old_counts_toward_budget(t) for t in frozen] == [
        True, False, True, True, False, False, True, False, False]
    assert [v.feasible for v in views] == [True, True, None, None, None, None, False, None, None]
    assert [v.complete_original for v in views] == [True, False, False, False, False, False, True, False, False]
    first = views[0]
    assert first.values == (0.9, 3.0) and first.metrics == {"val_accuracy": 0.9}
    assert first.estimate == {"dsp": 3.0, "dsp_low": 2.0} and first.constraint_probabilities == (0.8,)
    assert first.design() == Candidate.from_dict(cand)
    assert views[1].duplicate_of == 0 and views[3].error == "ValueError: boom"
    assert views[5].screened and views[5].pre_estimate == {"latency_ns": 40.0}
    assert views[5].screen_probabilities == (0.01, None)
    assert views[6].measured == {"dsp": 9} and views[7].retry_of == 4 and views[7].number == running.number
    assert views[8].values is None and views[8].duration_s is None and first.duration_s is not None
    assert trial_view(frozen[0]) == first  # one conversion: the same view whichever way it is read


@pytest.mark.slow
def test_the_driver_and_load_run_read_the_same_views(tmp_path: Path, monkeypatch: Any) -> None:
    import dse.search.searcher as searcher_mod

    monkeypatch.setattr(searcher_mod, "MAX_DUPLICATES_IN_A_ROW", 20)  # the space holds 2 designs
    space_path = space_file(tmp_path, model__width=[8, 16], quantization__weight_bits=4,
                            quantization__activation_bits=6, sparsity__target=0.0, hardware__reuse_factor=1)
    trainer = FakeTrainer(fail_widths=(16,))
    result = run_search(load_space(space_path), tmp_path / "run", source_text=space_path.read_text(), n_trials=3,
                        workers=1, data="fake data", executor=fake_executor(trainer))
    folder = RunFolder.open(tmp_path / "run")
    views = read_trials(folder)
    study = open_study_readonly(folder)
    assert study is not None
    frozen = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    assert [v.counts_toward_budget for v in views] == [_old_counts_toward_budget(t) for t in frozen]
    assert sum(v.counts_toward_budget for v in views) == result.n_complete + result.n_failed + result.n_pruned
    assert sum(v.duplicate_of is not None for v in views) == result.n_duplicates
    assert {v.status for v in views} >= {TrialStatus.COMPLETE, TrialStatus.FAILED}
    for v, t in zip(views, frozen, strict=True):
        assert v.candidate == t.user_attrs.get("candidate") and v.params == t.params
        assert v.constraint_values == (tuple(t.user_attrs["constraint_values"])
                                       if "constraint_values" in t.user_attrs else None)
    run = load_run(tmp_path / "run")
    assert run.trial_views == views
    csv = pd.read_csv(tmp_path / "run" / "trials.csv")  # written by the driver from its views
    assert csv["number"].tolist() == [v.number for v in views]
    assert csv["state"].tolist() == [v.state.value for v in views] == run.trials["state"].tolist()
