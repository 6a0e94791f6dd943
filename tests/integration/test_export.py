"""``dse export``: errors (exit 2), and the round trip: the exported model loads and reproduces the
recorded test accuracy; the hls4ml config is accepted by ``dse estimate``; the project is written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

try:
    from tests.analysis_helpers import T, make_run, real_run
except ImportError:  # tests/ is not a package
    from analysis_helpers import T, make_run, real_run  # type: ignore[no-redef]

from dse.commands.cli import main
from dse.commands.export import export_trial
from dse.errors import ConfigError


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("export") / "run",
                    [T(), T(state="FAIL"), T(state="PRUNED"), T(state="RUNNING")])


@pytest.mark.parametrize(("trial", "message"), [
    (7, "unknown trial 7: .* has trials 0..3"),
    (1, r"trial 1 is FAIL \(ValueError: boom\): only complete trials"),
    (2, "trial 2 is PRUNED"),
    (3, "trial 3 is RUNNING"),
])
@pytest.mark.slow
def test_export_refuses_trials_that_cannot_be_exported(small_run: Path, tmp_path: Path, trial: int,
                                                       message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match=message):
        export_trial(small_run, trial, tmp_path / "out")
    assert main(["export", str(small_run), "--trial", str(trial), "--out", str(tmp_path / "out")]) == 2
    assert "dse: error:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_non_empty_out_dir(small_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["export", str(small_run), "--trial", "0", "--out", str(out)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_export_of_a_bad_run_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tmp_path / "nope"), "--trial", "0", "--out", str(tmp_path / "out")]) == 2
    assert "no run folder" in capsys.readouterr().err


@pytest.mark.slow  # loads the model file with Keras: imports TensorFlow (~8 s)
def test_failed_export_leaves_nothing_behind(small_run: Path, tmp_path: Path) -> None:
    # Trial 0's model.h5 is not a model: hls4ml conversion fails after the first files were copied.
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="cannot load a Keras model"):
        export_trial(small_run, 0, out)
    assert not out.exists()
    assert export_trial(small_run, 0, out, write_project=False).files[0] == "model.h5"  # copies alone work
    readme = (out / "README.md").read_text()
    assert "trial 0" in readme and "| dsp | 10" in readme


def _check_round_trip(run_dir: Path, trial: int, out: Path) -> None:
    import tensorflow as tf

    from dse.analysis import load_run
    from dse.training.data import load_dataset
    from dse.training.model_builder import custom_objects
    from dse.training.train import accuracy

    assert main(["export", str(run_dir), "--trial", str(trial), "--out", str(out)]) == 0
    for name in ("model.h5", "hls_config.json", "hls4ml_config.yml", "README.md", "metrics.json"):
        assert (out / name).is_file(), name
    prj = out / "hls4ml_prj"
    assert (prj / "build_prj.tcl").is_file() and (prj / "firmware").is_dir()
    assert not list(prj.rglob("*.so"))  # written, not built
    doc = yaml.safe_load((out / "hls4ml_config.yml").read_text())
    assert set(doc) == {"Backend", "Part", "ClockPeriod", "IOType", "HLSConfig"}
    assert doc["HLSConfig"] == json.loads((out / "hls_config.json").read_text())

    run = load_run(run_dir)
    model = tf.keras.models.load_model(out / "model.h5", custom_objects=custom_objects(), compile=False)
    data = load_dataset(run.space.data)
    recorded = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert accuracy(model.predict(data.x_test, verbose=0), data.y_test) == pytest.approx(recorded, abs=1e-9)


@pytest.mark.slow
def test_export_round_trip_of_a_trained_trial(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [T(train=True, params={"width_0": 8, "weight_bits": 6})])
    _check_round_trip(run, 0, tmp_path / "export")


@pytest.mark.slow
def test_report_and_export_of_a_real_run(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    run = real_run(tmp_path_factory)
    assert main(["report", str(run)]) == 0
    front = pd.read_csv(run / "pareto.csv")
    trials = pd.read_csv(run / "trials.csv")
    assert len(trials) == 3 and len(front) >= 1
    assert set(front["number"]) == set(trials[trials["on_front"]]["number"])
    trial = int(front["number"].iloc[0])
    out = tmp_path / "export"
    _check_round_trip(run, trial, out)
    capsys.readouterr()
    # the exported config is accepted by `dse estimate` and gives the trial's (uncalibrated) estimate
    assert main(["estimate", "--model", str(out / "model.h5"), "--hls-config", str(out / "hls4ml_config.yml")]) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["dsp"] == pytest.approx(float(front["dsp"].iloc[0]))
    assert est["lut"] == pytest.approx(float(front["lut"].iloc[0]))
