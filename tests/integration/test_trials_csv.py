"""trials.csv as the driver keeps it (``dse.analysis.trials_csv``: only the trials that changed are read and
rendered) is, after every refresh, byte for byte the full rebuild ``Run.trials_csv()`` of the study read back
from disk. Real QKeras-free pieces only: the real searcher, scorer and cost model, real Optuna SQLite storage,
the fake trainer's metrics and layer lists (tests/search_fakes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from cost_models.layers import layers_from_dicts
from dse.analysis.run import Run
from dse.analysis.trials_csv import TrialsCsv
from dse.scoring.score import estimate_dict, estimate_summary, part_bounds, score
from dse.search import Searcher, run_search
from dse.search import driver as driver_module
from dse.search.searcher import Proposal
from dse.space import SpaceConfig, load_space, parse_space_text
from dse.store import RunFolder, TrialRecord
from dse.store.records import SynthesisRecord
from dse.synthesis.records import cost_target
from dse.training.trial_runner import TrialPayload
from tests.helpers import ROOT
from tests.search_fakes import FakeSynthesizer, FakeTrainer, fake_executor, space_file

SYNTH = {"backend": "vitis", "every": 2, "batch": 2, "timeout": 60, "concurrency": 1, "firmware_accuracy": False}


def one_layer(width: int, bits: int, sparsity: float = 0.5, rf: int = 1) -> dict[str, Any]:
    return {"n_hidden": 1, "width_0": width, "weight_bits": bits, "activation_bits": 6, "sparsity": sparsity,
            "reuse_factor": rf}


class Study:
    """A run folder, its searcher (real SQLite study) and the driver's trials.csv writer; ``check`` refreshes
    trials.csv and compares it with the full rebuild."""

    def __init__(self, tmp: Path):
        d = yaml.safe_load((ROOT / "search_spaces" / "quickstart.yaml").read_text())
        d["search"]["sampler"] = "random"
        text = yaml.safe_dump(d, sort_keys=False)
        self.space: SpaceConfig = parse_space_text(text, file=str(tmp / "space.yaml"), base_dir=tmp)
        self.folder, _ = RunFolder.prepare(tmp / "run", self.space, text, None)
        self.searcher = Searcher(self.space, self.folder, seed=0)
        self.writer = TrialsCsv(self.folder, self.space)
        self.trainer = FakeTrainer()

    def ask(self, params: dict[str, Any] | None = None) -> Proposal:
        if params is not None:
            self.searcher.enqueue(params, {})
        return self.searcher.ask()

    def complete(self, prop: Proposal) -> None:
        out = self.trainer(TrialPayload(prop.number, prop.candidate.to_dict(), self.space, seed=prop.number),
                           None, None)
        est = estimate_dict(layers_from_dicts(out.layers), cost_target(self.space), None)
        self.searcher.tell_record(prop.trial, self.record(prop, "complete", out.metrics),
                                  score(self.space, out.metrics, est, None, part_bounds(self.space)),
                                  estimate_summary(est))

    def end(self, prop: Proposal, status: str, error: str = "") -> None:
        self.searcher.tell_record(prop.trial, self.record(prop, status, {"epochs_run": 1}, error), None, None)

    def record(self, prop: Proposal, status: str, metrics: dict[str, Any], error: str = "") -> TrialRecord:
        return TrialRecord(number=prop.number, status=status, params=dict(prop.trial.params),
                           candidate=prop.candidate.to_dict(), seed=prop.number, metrics=dict(metrics), error=error)

    def check(self, label: str, from_disk: bool = False) -> str:
        """Refresh trials.csv and compare it with the full rebuild: of the live study as the driver rebuilt it
        before (``Run`` on the searcher's views) or, ``from_disk``, of the study read back read-only."""
        self.writer.refresh(self.searcher.storage, self.searcher.study_name)
        run = Run(RunFolder.open(self.folder.path), space=self.space) if from_disk else \
            Run(self.folder, views=self.searcher.views(), space=self.space)
        got = self.folder.trials_csv.read_text()
        assert got == run.trials_csv(), label
        return got

    @property
    def table(self) -> Any:
        assert self.writer.table is not None
        return self.writer.table


def test_the_incremental_trials_csv_is_the_full_rebuild_through_state_changes_and_new_columns(tmp: Path) -> None:
    s = Study(tmp)
    assert s.check("no trial yet", from_disk=True).count("\n") == 1  # the header alone

    s.searcher.enqueue(one_layer(16, 4), {})  # a WAITING trial: no parameters yet
    s.check("a waiting trial")
    first = s.ask()  # the queued design, now RUNNING with its parameters: the parameter columns turn to integers
    s.check("a running trial")
    running = [s.ask(one_layer(w, b)) for w, b in ((8, 3), (32, 6), (16, 8))]
    s.check("four running trials")
    s.complete(first)  # RUNNING -> COMPLETE: a stale row rewritten
    assert s.check("one complete").splitlines()[1].startswith("0,COMPLETE,")
    assert s.table.last_read == 4  # the four trials unfinished at the last refresh, nothing else
    s.complete(running[0])
    s.end(running[1], "failed", error='Traceback (most recent call last):\nValueError: bad width, "32"')
    csv_text = s.check("a failure whose message holds a newline, a comma and quotes")
    assert '"Traceback (most recent call last):\nValueError: bad width, ""32"""' in csv_text
    s.end(running[2], "pruned")  # nothing unfinished left: columns of integers lose their missing values
    s.check("pruned, nothing running", from_disk=True)
    s.folder.trials_csv.unlink()  # a missing or foreign file is written whole again from what the writer keeps
    s.check("after the file was removed")
    s.folder.trials_csv.write_text("edited by hand\n")
    s.check("after the file was edited")
    renders = s.table.full_renders

    for w, b, sp, rf in [(8, 8, 0.0, 1), (16, 6, 0.75, 2), (32, 3, 0.0, 4), (32, 8, 0.5, 2), (8, 4, 0.75, 4)]:
        prop = s.ask(one_layer(w, b, sp, rf))
        s.complete(prop)
        s.check(f"complete trial {prop.number}")
        assert s.table.last_read == 1  # only the new trial was read ...
        assert s.table.last_rendered <= 1 + len(s.table.front)  # ... and only its line and on_front flips rendered
    assert s.table.full_renders == renders  # no change of columns or types: no line rendered twice for nothing
    assert len(s.table.rows) == 9

    dup = s.ask(one_layer(16, 4))  # trial 0's design again: told as a duplicate, not trained
    assert dup.duplicate_of == 0
    s.searcher.tell_duplicate(dup)
    s.check("a duplicate")

    header = s.check("before a new parameter").splitlines()[0].split(",")
    assert "param_width_1" not in header
    two = s.ask({**one_layer(16, 6), "n_hidden": 2, "width_1": 8})  # a second hidden layer: a new parameter column
    s.check("running with a new parameter")
    s.complete(two)
    header = s.check("complete with a new parameter").splitlines()[0].split(",")
    assert header.index("param_width_1") > header.index("param_reuse_factor")  # new keys come last (pandas' order)

    complete = [int(n) for n in pd.read_csv(s.folder.trials_csv).query("state == 'COMPLETE'")["number"]]
    s.folder.write_synthesis_record(SynthesisRecord(trial=complete[0], status="ok", tool="vitis",
                                                    measured={"dsp": 0, "lut": 10, "ff": 20, "latency_ns": 5.0}))
    table = pd.read_csv(pd.io.common.StringIO(s.check("a synthesis record (starts over)")))
    assert s.table.full_renders == 1  # a new table: the record changes measured_* and the front
    row = table[table["number"] == complete[0]].iloc[0]
    assert row["synthesized"] and row["measured_lut"] == 10.0
    assert table["on_front"].any()

    prop = s.ask(one_layer(8, 6, 0.5, 2))
    s.check("running after the record")
    s.complete(prop)
    s.check("complete after the record", from_disk=True)
    assert s.table.last_read == 1


@pytest.mark.slow  # the driver with synthesis rounds and re-scored study versions: about 5 s
def test_the_driver_keeps_trials_csv_equal_to_the_full_rebuild_after_every_write(
        tmp: Path, fake_tool: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    space = space_file(tmp, synthesis=SYNTH)
    writes: list[tuple[str, int]] = []
    original = driver_module.Driver.write_trials_csv

    def checked(self: driver_module.Driver) -> None:
        original(self)
        full = Run(RunFolder.open(self.folder.path), space=self.space).trials_csv()
        assert self.folder.trials_csv.read_text() == full, f"write {len(writes)}"
        writes.append((self.searcher.study_name, len(full.splitlines())))

    monkeypatch.setattr(driver_module.Driver, "write_trials_csv", checked)
    run_search(load_space(space), tmp / "run", source_text=space.read_text(), n_trials=8, workers=2,
               data="fake data", executor=fake_executor(FakeTrainer(fail_widths=(8,)), FakeSynthesizer()))
    assert len(writes) >= 8
    assert len({name for name, _ in writes}) >= 2  # re-scored into a new study version along the way
    table = pd.read_csv(tmp / "run" / "trials.csv")
    assert table["synthesized"].any() and (table["state"] == "FAIL").any()
