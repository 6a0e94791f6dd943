"""The search driver: ask → submit → poll → tell.

``run_search`` takes the run folder's writer lock, creates or resumes the folder, and runs the
loop below. The pieces it joins each own one concern:

- ``Searcher`` (``dse.search.searcher``): the Optuna study, its versions, resume bookkeeping;
- an executor (``dse.search.executor``): where trials and synthesis jobs run (Ray, or in process);
- ``dse.scoring``: estimate + metrics → objectives and constraints;
- ``RunFolder`` (``dse.store``): every file of the run;
- ``SynthesisManager`` (``dse.synthesis.loop``): rounds of real synthesis and recalibration.

Order of writes for a finished trial: its files, then ``record.json``, then the tell. A driver
killed anywhere in between resumes without training the design again (see ``Driver.recover``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dse.design.candidate import Candidate
from dse.errors import ConfigError, DseError, RunFolderError
from dse.scoring.calibration_check import warn_if_uncalibrated
from dse.scoring.score import estimate_dict, estimate_summary, part_bounds, score
from dse.search.executor import Executor, Ticket
from dse.search.proposals import make_planner
from dse.search.searcher import Proposal, Searcher
from dse.space import SpaceConfig
from dse.store import RunFolder, RunLock, TrialRecord, refuse_if_held
from dse.store.trial_view import TrialState, TrialView
from dse.synthesis.loop import SynthesisManager, ok_record_trials
from dse.synthesis.records import cost_target
from dse.training.trial_runner import TrialOutput, TrialPayload

if TYPE_CHECKING:
    from dse.analysis.trials_csv import TrialsCsv

log = logging.getLogger(__name__)

POLL_S = 0.5


class SearchInterrupted(DseError):
    """The user pressed Ctrl-C; the run folder is consistent and the search can be resumed."""


@dataclass
class TrialSummary:
    """What the progress display gets after each finished trial."""

    number: int
    state: str
    values: dict[str, float] = field(default_factory=dict)
    feasible: bool = True
    candidate: str = ""
    broken: dict[str, float] = field(default_factory=dict)
    """Budgets the trial breaks, as the study judged it: budget (space text) -> margin past the bound (metric units)."""


@dataclass
class SearchResult:
    """The end of a run, from the final study version (re-scored and measured figures included)."""

    run_dir: Path
    n_complete: int
    n_failed: int
    n_pruned: int
    wall_seconds: float
    train_seconds: float
    resumed: bool
    pareto: list[dict[str, Any]] = field(default_factory=list)
    n_duplicates: int = 0
    study_name: str = ""
    n_screened: int = 0
    """Designs not trained because their pre-training estimate broke a budget (dse.search.screening)."""
    proposals: dict[str, int] = field(default_factory=dict)
    """This session's proposal counts (``PlannerStats``): proposed, screened, repeats, not_chosen, trained."""
    feasible_share: dict[str, Any] | None = None
    """Share of random designs of the space expected to meet the cost budgets before training
    (``FeasibleShare.to_dict``); None without cost budgets to screen."""
    n_feasible: int = 0
    """Complete trials that meet every budget (as the final study version judges them)."""


ProgressCallback = Callable[[TrialSummary, int, int], None]  # (summary, done, total)


def run_search(space: SpaceConfig, run_dir: str | Path, *, source_text: str = "", n_trials: int | None = None,
               workers: int | None = None, seed: int | None = None, ray_address: str | None = None,
               storage: str | None = None, progress: ProgressCallback | None = None,
               executor: Executor | None = None, data: Any = None) -> SearchResult:
    """Run (or resume) the search of ``space`` into ``run_dir``; see the module docstring.

    ``executor`` defaults to Ray (``ray_address`` or a local Ray); ``data`` to ``load_dataset(space.data)``.
    Raises ``RunLockedError`` when another process writes to the run folder."""
    start_wall = time.perf_counter()
    n_trials = n_trials or space.search.n_trials
    workers = workers or space.search.workers
    seed = space.search.seed if seed is None else seed
    RunFolder.check_target(run_dir)
    refuse_if_held(run_dir)  # a second writer is told now, not after the data set has loaded
    if data is None:  # load data before anything is written: a data error leaves no run folder behind
        from dse.training.data import load_dataset

        data = load_dataset(space.data)
    if space.synthesis.backend != "none" and ray_address is None and executor is None:
        # a missing vendor tool fails now, not hours later (on a cluster the check runs on a synthesis node)
        from dse.synthesis import hls4ml_backends  # noqa: F401
        from dse.synthesis.base import get_backend

        get_backend(space.synthesis.backend, space.synthesis.executable).find_executable()
    fresh = not Path(run_dir).exists()
    lock = RunLock(run_dir).acquire()
    try:
        return _locked_search(space, Path(run_dir), source_text=source_text, n_trials=n_trials, workers=workers,
                              seed=seed, ray_address=ray_address, storage=storage, progress=progress,
                              executor=executor, data=data, start_wall=start_wall)
    finally:
        unborn = fresh and not (Path(run_dir) / "meta.json").exists()  # failed before it became a run folder
        if unborn:
            lock.path.unlink(missing_ok=True)
        lock.release()
        if unborn and not any(Path(run_dir).iterdir()):
            Path(run_dir).rmdir()


def _locked_search(space: SpaceConfig, run_dir: Path, *, source_text: str, n_trials: int, workers: int, seed: int,
                   ray_address: str | None, storage: str | None, progress: ProgressCallback | None,
                   executor: Executor | None, data: Any, start_wall: float) -> SearchResult:
    """The search, with the run folder's lock held by the caller."""
    folder, resumed = RunFolder.prepare(run_dir, space, source_text, storage)
    with _run_log_file(folder):
        if executor is None:
            from dse.search.ray_executor import RayExecutor

            executor = RayExecutor(space, workers, ray_address)
        try:
            log.info("%s run %s: %d trials wanted, %d workers", "resuming" if resumed else "starting", folder.path,
                     n_trials, workers)
            driver = Driver(space, folder, executor, data, n_trials=n_trials, workers=workers, seed=seed,
                            progress=progress)
            warn_if_uncalibrated(driver.calibration, driver.target, folder.path, space.synthesis.backend != "none",
                                 space.model.type)
            try:
                driver.run()
            except KeyboardInterrupt:
                driver.interrupt()
                raise SearchInterrupted(f"interrupted; {driver.searcher.finished_count()} trial(s) are finished "
                                        f"and saved in {folder.path}") from None
            return driver.result(time.perf_counter() - start_wall, resumed)
        finally:
            executor.close()


def check_stored_designs(trials: list[TrialView], run_dir: Path) -> None:
    """Refuse to resume a study holding a stored design this version cannot read (``RunFolderError``
    naming the run folder and the trial), rather than fail in the middle of the search."""
    for t in trials:
        try:
            t.design()
        except ConfigError as exc:
            raise RunFolderError(f"{run_dir}: trial {t.number}: {exc.message}; this dse version cannot resume this "
                                 "run (versions.json names the versions that wrote it): start a new run folder "
                                 "(--run-dir) or use that version") from None


class Driver:
    """One session of a search on a locked run folder."""

    def __init__(self, space: SpaceConfig, folder: RunFolder, executor: Executor, data: Any, *, n_trials: int,
                 workers: int, seed: int, progress: ProgressCallback | None = None):
        self.space, self.folder, self.executor, self.data = space, folder, executor, data
        self.n_trials, self.workers, self.seed, self.progress = n_trials, workers, seed, progress
        self.searcher = Searcher(space, folder, seed)
        check_stored_designs(self.searcher.views(), folder.path)
        self.bounds = part_bounds(space)
        self.target = cost_target(space)
        self.calibration = _load_calibration(folder)
        self.planner = make_planner(space, folder, self.searcher, data, self.target, self.calibration, self.bounds,
                                    seed)
        self.in_flight: dict[int, tuple[Proposal, Ticket]] = {}
        self.feasible_share: Any = None
        self.synth: SynthesisManager | None = None
        self.trials_csv: TrialsCsv | None = None
        self.train_seconds = 0.0
        self.deadline = (time.monotonic() + space.search.timeout_s) if space.search.timeout_s else None

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        self.executor.start(self.data)
        if self.space.synthesis.backend != "none":
            log.info("synthesis with %s", self.executor.find_synthesis_tool(self.space))
            self.synth = SynthesisManager(self.space, self.folder, self.executor, self.bounds)
        self.recover()
        self.bring_calibration_up_to_date()
        if self.planner is not None:
            if self.planner.screener is not None:
                self.planner.screener.calibration = self.calibration
            self.feasible_share = self.planner.survey()
        if self.synth is not None:
            self.synth.last_round_at = self.searcher.finished_count()
        if self.searcher.finished_count() >= self.n_trials:
            log.info("the study already has %d finished trials (>= %d)", self.searcher.finished_count(), self.n_trials)
        self.loop()
        self.write_trials_csv()

    def loop(self) -> None:
        final_round_done = False
        while True:
            if self.synth is not None and self.synth.recalibrate_needed and not self.in_flight:
                self.recalibrate()
                continue
            while self.can_ask():
                self.submit_next()
            if not self.in_flight and not (self.synth is not None and self.synth.busy):
                if self.synth is None or final_round_done:
                    return
                final_round_done = True  # the last round, on the final study
                self.synth.round(self.searcher.views())
                continue
            results = self.executor.poll(POLL_S)
            # drain the epoch reports first: a finished trial's last reports must reach its pruning
            # twin before the twin is told (the worker's reports precede its result on the channel)
            self.pump_pruning()
            for ticket, result in results:
                self.on_result(ticket, result)

    def can_ask(self) -> bool:
        if self.synth is not None and self.synth.recalibrate_needed:
            return False  # the next trials are scored with the new calibration
        if len(self.in_flight) >= self.workers or self.searcher.exhausted:
            return False
        if self.planner is not None and self.planner.exhausted:
            return False
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return False
        return self.searcher.finished_count() + len(self.in_flight) < self.n_trials

    def submit_next(self) -> None:
        proposal = self.planner.propose(self.calibration) if self.planner is not None else self.searcher.ask()
        if proposal is None:  # the planner found nothing worth training (logged)
            return
        if proposal.duplicate_of is not None:
            self.searcher.tell_duplicate(proposal)
            if self.searcher.exhausted:
                log.warning("the sampler proposed only designs already tried for %d asks in a row: the space looks "
                            "exhausted; stopping the search", self.searcher.duplicates_in_a_row)
            return
        n = proposal.number
        payload = TrialPayload(number=n, candidate=proposal.candidate.to_dict(), space=self.space,
                               seed=self.seed + n, threads=1,
                               want_auc=any(o.metric == "auc" for o in self.space.objectives))
        if self.searcher.pruning is not None:
            self.searcher.pruning.start(n)
        self.in_flight[n] = (proposal, self.executor.submit_trial(payload))
        log.info("trial %d started: %s", n, proposal.candidate.short())

    def on_result(self, ticket: Ticket, result: Any) -> None:
        if ticket.kind == "synthesis":
            assert self.synth is not None
            self.synth.on_result(ticket, result, self.searcher.view(ticket.number))
            return
        proposal, _ = self.in_flight[ticket.number]
        record = self.save_trial(proposal, result)
        self.finish(proposal.trial, record)
        del self.in_flight[ticket.number]
        self.after_trial(record)

    def pump_pruning(self) -> None:
        pruning = self.searcher.pruning
        if pruning is None:
            return
        for number, epoch, value in self.executor.epoch_reports():
            if pruning.report(number, epoch, value):
                self.executor.stop_trial(number)
                log.info("trial %d pruned at epoch %d (val accuracy %.4f)", number, epoch, value)

    # ------------------------------------------------------------------ one trial
    def save_trial(self, proposal: Proposal, output: TrialOutput) -> TrialRecord:
        """Write the trial's files; ``record.json`` last."""
        record = TrialRecord(number=proposal.number, status=output.status, params=dict(proposal.trial.params),
                             candidate=proposal.candidate.to_dict(), seed=self.seed + proposal.number,
                             metrics=dict(output.metrics), node=output.node,
                             error=output.error.strip().splitlines()[-1] if output.error.strip() else "")
        complete = output.status == "complete"
        self.folder.write_trial(record, layers=output.layers if complete else None,
                                hls_config=output.hls_config if complete else None, model_h5=output.model_h5,
                                history=output.history, error_text=output.error)
        return record

    def finish(self, trial: Any, record: TrialRecord) -> None:
        """Score a saved trial with the current calibration (and measured figures) and tell the study."""
        result, summary = None, None
        if record.status == "complete":
            from cost_models.layers import layers_from_dicts

            est = estimate_dict(layers_from_dicts(self.folder.read_layers(record.number)), self.target,
                                self.calibration)
            self.folder.write_estimate(record.number, est)
            result, summary = score(self.space, record.metrics, est, None, self.bounds), estimate_summary(est)
        self.searcher.tell_record(trial, record, result, summary)
        if record.status == "complete":
            assert result is not None
            log.info("trial %d complete: %s", record.number,
                     ", ".join(f"{o.metric}={result.values[o.metric]:.4g}" for o in self.space.objectives))
        elif record.status == "failed":
            log.warning("trial %d failed: %s", record.number, record.error)

    def after_trial(self, record: TrialRecord) -> None:
        self.train_seconds += float(record.metrics.get("train_seconds", 0.0))
        self.write_trials_csv()
        done = self.searcher.finished_count()
        if self.progress is not None:
            t = self.searcher.view(record.number)
            cons = list(t.constraint_values or []) if t is not None else []
            margins = list(t.constraint_margins or []) if t is not None else []
            values = dict(zip([o.metric for o in self.space.objectives], t.values or [], strict=False)) \
                if t is not None and t.values else {}
            broken = {str(c): float(m) for c, v, m in zip(self.space.constraints, cons, margins, strict=False) if v > 0}
            self.progress(TrialSummary(record.number, record.status.upper(), values, all(c <= 0 for c in cons),
                                       self._short(record), broken), done, self.n_trials)
        if self.synth is not None:
            self.synth.after_trial(done, self.searcher.views())

    # ------------------------------------------------------------------ resume
    def recover(self) -> None:
        """Finish what a dead session left RUNNING: from ``record.json`` when training had completed
        (no retraining), else failed-interrupted and queued again."""
        for t in self.searcher.running_trials():
            trial = self.searcher.reattach(t.number)
            record = self.folder.read_trial_record(t.number)
            if record is not None and record.params == t.params:
                log.warning("trial %d finished training before the previous session stopped: told from its record",
                            t.number)
                self.finish(trial, record)
            else:
                log.warning("trial %d was running when the previous session stopped: marked failed (interrupted)",
                            t.number)
                self.searcher.mark_interrupted(trial)
        self.searcher.reindex()
        self.searcher.requeue_interrupted()

    def bring_calibration_up_to_date(self) -> None:
        """Refit if synthesis records arrived that the current study does not reflect (a crash between
        a record and its re-score), and re-score if calibration.json is not the study's."""
        meta = self.folder.meta
        ok = ok_record_trials(self.folder)
        if self.synth is not None and ok and ok != meta.get("calibrated_records", []):
            self.calibration = self.synth.recalibrate()
        if self.folder.calibration_digest() != meta.get("study_calibration"):
            self.rescore()

    def recalibrate(self) -> None:
        assert self.synth is not None
        self.calibration = self.synth.recalibrate()
        self.rescore()

    def rescore(self) -> None:
        """Carry every trial into a new study version scored with the current calibration and measured
        figures. Called with no trial in flight, so numbers (and trial folders) stay the same."""
        from cost_models.layers import layers_from_dicts

        records = {r.trial: r for r in self.folder.synthesis_records()}

        def rescored(t: TrialView) -> tuple[Any, dict[str, Any]]:
            n = t.duplicate_of if t.duplicate_of is not None else t.number
            est = estimate_dict(layers_from_dicts(self.folder.read_layers(n)), self.target, self.calibration)
            if n == t.number:
                self.folder.write_estimate(n, est)
            rec = records.get(n)
            measured = dict(rec.measured) if rec is not None and rec.ok else {}
            updates: dict[str, Any] = {"estimate": estimate_summary(est)}
            if measured:
                updates["measured"] = measured
            if rec is not None and rec.firmware_accuracy is not None:
                updates["firmware_accuracy"] = rec.firmware_accuracy
            return score(self.space, t.metrics, est, measured, self.bounds), updates

        self.searcher.rescore(rescored, study_calibration=self.folder.calibration_digest(),
                              calibrated_records=ok_record_trials(self.folder))
        self.write_trials_csv()

    def interrupt(self) -> None:
        """Ctrl-C: cancel running work; a trial whose record is written is told, the others are marked
        failed-interrupted (their designs are queued again on resume)."""
        for number, (proposal, ticket) in list(self.in_flight.items()):
            self.executor.cancel(ticket)
            record = self.folder.read_trial_record(number)
            if record is not None:
                self.finish(proposal.trial, record)
            else:
                self.searcher.mark_interrupted(proposal.trial)
        self.in_flight.clear()
        if self.synth is not None:
            self.synth.cancel_all()
        self.write_trials_csv()

    # ------------------------------------------------------------------ results
    def write_trials_csv(self) -> None:
        """Bring trials.csv up to date with the live study: the same table ``dse report`` writes (``Run.trials_csv``),
        refreshed at a cost that grows with the trials that changed, not with the study (``TrialsCsv``)."""
        if self.trials_csv is None:
            from dse.analysis.trials_csv import TrialsCsv

            self.trials_csv = TrialsCsv(self.folder, self.space)
        self.trials_csv.refresh(self.searcher.storage, self.searcher.study_name)

    def result(self, wall_seconds: float, resumed: bool) -> SearchResult:
        """The run's outcome from the final study version."""
        from dse.scoring.pareto import pareto_rows

        views = self.searcher.views()
        counted = [t for t in views if t.counts_toward_budget]
        states = [t.state.value for t in counted]
        n_dup = sum(1 for t in views if t.duplicate_of is not None)
        n_screened = sum(1 for t in views if t.screened is not None)
        return SearchResult(self.folder.path, states.count("COMPLETE"), states.count("FAIL"), states.count("PRUNED"),
                            wall_seconds, self.train_seconds, resumed, pareto_rows(views, self.space),
                            n_duplicates=n_dup, study_name=self.searcher.study_name, n_screened=n_screened,
                            proposals=self.planner.stats.to_dict() if self.planner is not None else {},
                            feasible_share=self.feasible_share.to_dict() if self.feasible_share is not None else None,
                            n_feasible=sum(1 for t in counted if t.state is TrialState.COMPLETE
                                           and t.feasible is not False))

    @staticmethod
    def _short(record: TrialRecord) -> str:
        return Candidate.from_dict(record.candidate).short()


@contextlib.contextmanager
def _run_log_file(folder: RunFolder) -> Iterator[None]:
    """``dse.log`` gets INFO and above while the run lasts: the root logger is lowered to INFO and
    given the file's handler; afterwards both are as they were (a notebook's logging is the user's)."""
    handler = logging.FileHandler(folder.log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def _load_calibration(folder: RunFolder) -> Any:
    if not folder.calibration_path.exists():
        return None
    from cost_models import Calibration

    return Calibration.load(folder.calibration_path)
