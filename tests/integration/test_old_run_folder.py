"""A run folder written before designs became lists of layers still reads, resumes and reports.

``data/old_mlp_run_698bac5.tar.gz`` (10 kB) is a real run folder made by the code of commit 698bac5
(``Candidate`` with per-dense-layer tuples): ``dse``'s ``run_search`` with the in-process executor and
real training on 400 digits, 2 epochs, 2 trials, per-layer weight and activation bits, 1-2 hidden
layers (the space is its ``space.source.yaml``); the trained models (``model.h5``) and ``dse.log`` were
left out. Its ``meta.json`` names the study storage by absolute path, so the test points it at the
extracted copy.
"""

from __future__ import annotations

import json
import sqlite3
import tarfile
from pathlib import Path

import optuna
import pytest

from cost_models.layers import layers_from_dicts
from dse.analysis.report import write_report
from dse.analysis.run import load_run
from dse.commands.cli import main
from dse.design.candidate import Candidate
from dse.design.prebuild import prebuild_layers
from dse.errors import RunFolderError
from dse.search import run_search
from dse.space import load_space
from dse.store import RunFolder
from tests.search_fakes import FakeTrainer, fake_executor

FIXTURE = Path(__file__).parent / "data" / "old_mlp_run_698bac5.tar.gz"
OLD_DESIGNS = ["8 w8/3 a6 sp0.0 rf1 latency", "8 w6/8 a8 sp0.75 rf4 latency"]


def old_run(tmp_path: Path) -> tuple[Path, Path]:
    """The extracted run folder and a copy of its space file."""
    run = tmp_path / "old_run"
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(run, filter="data")
    meta = json.loads((run / "meta.json").read_text())
    meta["storage"] = f"sqlite:///{run / 'study.db'}"
    meta["space_base_dir"] = str(tmp_path)
    (run / "meta.json").write_text(json.dumps(meta))
    space_file = tmp_path / "space.yaml"
    space_file.write_text((run / "space.source.yaml").read_text())
    return run, space_file


def study_of(run: Path) -> optuna.Study:
    folder = RunFolder.open(run)
    return optuna.load_study(study_name=folder.study_name, storage=folder.storage_url())


def test_old_designs_decode_to_what_was_trained(tmp_path: Path) -> None:
    run, space_file = old_run(tmp_path)
    space = load_space(space_file)
    trials = study_of(run).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    for t in trials:
        stored = t.user_attrs["candidate"]
        cand = Candidate.from_params(t.params, space)
        assert Candidate.from_dict(stored) == cand
        assert cand.to_dict() == {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}
        assert cand.to_params(space) == t.params
        # the hls4ml config the old code wrote for the trained model, and the layers hls4ml read back
        tdir = run / "trials" / f"{t.number:05d}"
        written, ours = json.loads((tdir / "hls_config.json").read_text()), cand.to_hls_config(space)
        assert written["LayerName"] == ours["LayerName"]
        assert {k: written["Model"][k] for k in ours["Model"]} == ours["Model"]  # hls4ml added BitExact
        converted = layers_from_dicts(json.loads((tdir / "layers.json").read_text()))
        pre = prebuild_layers(cand, space, 64, 10)
        assert [(s.name, s.kind, s.n_in, s.n_out, s.reuse_factor) for s in pre] == \
            [(s.name, s.kind, s.n_in, s.n_out, s.reuse_factor) for s in converted]
        assert [str(s.weight) for s in pre] == [str(s.weight) for s in converted]
    assert sorted(Candidate.from_dict(t.user_attrs["candidate"]).short() for t in trials) == sorted(OLD_DESIGNS)


@pytest.mark.slow
def test_old_run_resumes_and_reports(tmp_path: Path) -> None:
    run, space_file = old_run(tmp_path)
    trainer = FakeTrainer()
    result = run_search(load_space(space_file), run, source_text=space_file.read_text(), n_trials=4, workers=1,
                        data="fake data", executor=fake_executor(trainer))
    assert result.resumed and result.n_complete == 4
    assert trainer.n_calls == 2  # the two old trials were not trained again
    study = study_of(run)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    for t in study.trials:  # old and new trials are stored in the same form
        assert set(t.user_attrs["candidate"]) == {"widths", "weight_bits", "bias_bits", "activation_bits",
                                                  "sparsity", "reuse_factor", "strategy", "learning_rate"}
    loaded = load_run(run)
    assert len(loaded.trials) == 4
    report = write_report(run, html_report=False)
    text = report.files["report.md"].read_text()
    assert any(d in text for d in OLD_DESIGNS)


@pytest.mark.slow
def test_a_stored_design_this_version_cannot_read_is_refused_with_the_trial(tmp_path: Path, capsys) -> None:
    run, space_file = old_run(tmp_path)
    with sqlite3.connect(run / "study.db") as db:  # as a future dse version might have stored it
        n = db.execute("UPDATE trial_user_attributes SET value_json = ? WHERE key = 'candidate' AND trial_id = "
                       "(SELECT trial_id FROM trials WHERE number = 1)",
                       (json.dumps({"blocks": [], "strategy": "latency", "learning_rate": 0.005}),)).rowcount
    assert n == 1
    with pytest.raises(RunFolderError, match=r"trial 1: cannot read a stored candidate with keys \['blocks'"):
        run_search(load_space(space_file), run, source_text=space_file.read_text(), n_trials=4, workers=1,
                   data="fake data", executor=fake_executor(FakeTrainer()))
    assert main(["run", str(space_file), "--run-dir", str(run), "--n-trials", "4", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "trial 1" in err and "cannot resume" in err and "Traceback" not in err
