"""One writer per run-folder file (``dse.store.run_folder``): the report writes only its own files, and
trials.csv only under the writer lock; the driver and the report write trials.csv with one column set.

The real driver, searcher, run folder and Optuna SQLite storage with the fast fake trainer and
synthesizer of the search-core tests; the real report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dse.analysis.report import write_report
from dse.commands.cli import main
from dse.search import run_search
from dse.space import load_space
from dse.store import REPORT_FILES, RunFolder, RunLock, read_lock_holder
from tests.search_fakes import FakeSynthesizer, FakeTrainer, fake_executor, space_file

SYNTH = {"backend": "vitis", "every": 2, "batch": 2, "timeout": 60, "concurrency": 1, "firmware_accuracy": False}


def _searched(tmp: Path, n_trials: int = 4) -> Path:
    space = space_file(tmp, synthesis=SYNTH)
    run_dir = tmp / "run"
    run_search(load_space(space), run_dir, source_text=space.read_text(), n_trials=n_trials, workers=2,
               data="fake data", executor=fake_executor(FakeTrainer(), FakeSynthesizer()))
    return run_dir


@pytest.mark.slow  # three reports (figures, importances): about 30 s each on a loaded 2-core machine
def test_report_during_a_search_leaves_trials_csv_to_the_driver_and_writes_its_own_files(
        tmp: Path, fake_tool: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = _searched(tmp)
    driver_csv = (run_dir / "trials.csv").read_text()
    driver_columns = driver_csv.splitlines()[0].split(",")
    # the driver's table is the report's: on_front, synthesized and every measured_* column included
    assert {"on_front", "synthesized", "measured_dsp", "screened", "duplicate_of"} <= set(driver_columns)
    assert pd.read_csv(run_dir / "trials.csv")["synthesized"].any()  # the fake synthesizer measured some

    with RunLock(run_dir):  # a search holds the folder
        result = write_report(run_dir)
        assert main(["report", str(run_dir)]) == 0
        assert read_lock_holder(run_dir) is not None  # the report did not take or drop the driver's lock
    assert "trials.csv" not in result.files and "left to the running search" in result.message
    assert "left to the running search" in capsys.readouterr().out
    assert (run_dir / "trials.csv").read_text() == driver_csv  # untouched
    for name in ("pareto.csv", "report.md", "report.html"):
        assert result.files[name] == run_dir / name and (run_dir / name).is_file()

    result = write_report(run_dir)  # nobody holds the lock: the report refreshes trials.csv under it
    assert result.files["trials.csv"] == run_dir / "trials.csv"
    assert "left to the running search" not in result.message
    assert read_lock_holder(run_dir) is None  # taken for the one write and released
    report_csv = (run_dir / "trials.csv").read_text()
    assert report_csv.splitlines()[0].split(",") == driver_columns  # one column set whoever writes it
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "trials.csv"), pd.read_csv(pd.io.common.StringIO(driver_csv)))


def test_the_report_may_write_only_its_own_files(tmp: Path) -> None:
    folder = RunFolder(tmp)
    for name in REPORT_FILES + ("report_figures/pareto_dsp.png",):
        assert folder.report_path(name) == tmp / name
    for name in ("trials.csv", "meta.json", "study.db", "calibration.json", "trials/00001/record.json",
                 "report_figures/../meta.json", "report_figures/.x.png", "report_figures/a.txt", "../pareto.csv",
                 "synthesis/records/00001.json"):
        with pytest.raises(ValueError, match="not a report file"):
            folder.write_report_file(name, "x")
    assert not any(tmp.iterdir())
    path = folder.write_report_file("report_figures/a.png", b"\x89PNG")
    assert path.read_bytes() == b"\x89PNG"
