"""Synthesis in the running search: rounds of selection, jobs, records, recalibration.

The driver calls ``after_trial(done, trials)`` after every finished trial and hands each
finished job to ``on_result``. Every ``synthesis.every`` finished trials (and once at the end)
a round picks ``synthesis.batch`` designs (``selection.select``) among the finished trials
and submits them through the executor, at most ``synthesis.concurrency`` at a time. Each
outcome is written as a record (a trial with a record is never synthesized again). When a
successful record arrives, ``recalibrate_needed`` asks the driver to refit the calibration
and re-score the study.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from dse.design.candidate import Candidate
from dse.errors import SynthesisError
from dse.scoring.budgets import with_bound
from dse.scoring.pareto import is_complete_original, is_feasible
from dse.scoring.score import estimate_dict
from dse.space import ESTIMATE_KEYS, SpaceConfig
from dse.store import RunFolder, SynthesisRecord
from dse.store.trial_view import TrialView
from dse.synthesis.base import SynthesisJob, get_backend
from dse.synthesis.records import calibration_examples, cost_target, fit_calibration
from dse.synthesis.selection import Scored, constraint_margin, relative_width, select

log = logging.getLogger(__name__)


class Ticket(Protocol):
    """Submitted synthesis work as the executor returns it (``dse.search.executor.Ticket`` is one)."""

    @property
    def number(self) -> int:
        """The synthesized trial's number."""
        ...


class Executor(Protocol):
    """What synthesis needs of an executor (``dse.search.executor.Executor`` provides it): submit a
    job (returns at once with a ticket) and cancel it (best effort)."""

    def submit_synthesis(self, job: SynthesisJob, with_data: bool) -> Any: ...

    def cancel(self, ticket: Any) -> None: ...


def make_job(folder: RunFolder, space: SpaceConfig, trial: int, job_root: Path | None = None) -> SynthesisJob:
    """The synthesis job of a finished trial, from its folder (model.h5, hls_config.json)."""
    from dse.store import read_json

    tdir = folder.trial_dir(trial)
    if not (tdir / "model.h5").exists() or not (tdir / "hls_config.json").exists():
        raise FileNotFoundError(f"trial {trial} has no trained model in {tdir} (failed, pruned or not finished)")
    s, hw = space.synthesis, space.hardware
    backend = s.backend if s.backend != "none" else hw.backend
    params = read_json(tdir / "params.json") if (tdir / "params.json").exists() else {}
    io_type = str((params.get("candidate") or {}).get("io_type") or hw.io_type)  # a CNN space may search it
    return SynthesisJob(
        trial=trial, model_h5=(tdir / "model.h5").read_bytes(), hls_config=read_json(tdir / "hls_config.json"),
        part=hw.part, clock_period_ns=hw.clock_period_ns, io_type=io_type,
        job_dir=str(folder.synthesis_job_dir(trial, Path(job_root) if job_root else None).resolve()),
        backend=backend, executable=s.executable,
        timeout_s=s.timeout_s, threads=s.num_cpus, vsynth=s.vsynth)


def complete_record(record: SynthesisRecord, trial: TrialView | None) -> None:
    """Add the trial's estimate before synthesis and the firmware-accuracy comparison to ``record``
    (``trial``: the synthesized trial, or None when the study lacks it)."""
    from dse.synthesis.firmware import DROP_WARNING

    if trial is None:
        return
    record.estimate_before = dict(trial.estimate)
    qkeras = trial.metrics.get("test_accuracy")
    record.qkeras_test_accuracy = qkeras
    fw = record.firmware_accuracy
    record.firmware_drop = None if fw is None or qkeras is None else qkeras - fw
    record.firmware_flag = bool(fw is not None and qkeras is not None and qkeras - fw > DROP_WARNING)
    if record.firmware_flag:
        log.warning("trial %d: firmware accuracy %.4f is %.4f below the QKeras accuracy", record.trial, fw,
                    record.firmware_drop)


def ok_record_trials(folder: RunFolder) -> list[int]:
    """The trials whose synthesis succeeded: the records a calibration is fitted from."""
    return sorted(r.trial for r in folder.synthesis_records() if r.ok)


class SynthesisManager:
    def __init__(self, space: SpaceConfig, folder: RunFolder, executor: Executor, bounds: list[float]):
        self.space, self.folder, self.executor, self.bounds = space, folder, executor, bounds
        self.budgets = [with_bound(c, b) for c, b in zip(space.constraints, bounds, strict=False)]
        self.queue: deque[int] = deque()
        self.in_flight: dict[int, Any] = {}
        """trial number -> the executor's ticket of its job."""
        self.last_round_at = 0
        self.recalibrate_needed = False
        self.n_records = 0

    # ------------------------------------------------------------------ rounds
    def after_trial(self, done: int, trials: Iterable[TrialView]) -> None:
        if done - self.last_round_at >= self.space.synthesis.every:
            self.last_round_at = done
            self.round(trials)

    def round(self, trials: Iterable[TrialView]) -> list[int]:
        """Pick this round's designs among the finished ``trials`` and queue them."""
        exclude = self.folder.synthesized_trials() | set(self.in_flight) | set(self.queue)
        picked = select(self._scored(trials), self.space.directions, self.space.synthesis.batch, exclude)
        if picked:
            log.info("synthesis round: trials %s", ", ".join(map(str, picked)))
        self.queue.extend(picked)
        self._submit()
        return picked

    def _synthesizable(self, trial: TrialView) -> bool:
        """Whether the backend can synthesize the trial's design (the yosys backend: DA designs only)."""
        s, hw = self.space.synthesis, self.space.hardware
        backend = s.backend if s.backend != "none" else hw.backend
        try:
            strategies = get_backend(backend).strategies
        except SynthesisError:  # an unknown or broken plug-in: its jobs report the reason
            return True
        if strategies is None:
            return True
        try:
            return Candidate.from_params(trial.params, self.space).strategy in strategies
        except (KeyError, ValueError):
            return True

    def _scored(self, trials: Iterable[TrialView]) -> list[Scored]:
        out = []
        for t in trials:
            if not is_complete_original(t) or not self._synthesizable(t) or t.values is None:
                continue
            margins = list(t.constraint_margins or t.constraint_values or [])
            out.append(Scored(
                number=t.number, objectives=tuple(t.values),
                relative_width=relative_width(dict(t.estimate)),
                constraint_margin=constraint_margin(margins, self.budgets[:len(margins)]) if margins else float("inf"),
                feasible=is_feasible(t)))
        return out

    def _submit(self) -> None:
        s = self.space.synthesis
        while self.queue and len(self.in_flight) < s.concurrency:
            trial = self.queue.popleft()
            try:
                job = make_job(self.folder, self.space, trial)
            except FileNotFoundError as exc:
                log.warning("cannot synthesize trial %d: %s", trial, exc)
                continue
            self.in_flight[trial] = self.executor.submit_synthesis(job, s.firmware_accuracy)

    # ------------------------------------------------------------------ results
    @property
    def busy(self) -> bool:
        return bool(self.in_flight or self.queue)

    def on_result(self, ticket: Ticket, outcome: Any, trial: TrialView | None) -> SynthesisRecord:
        """Record a finished job (``trial``: the trial it synthesized, or None)."""
        self.in_flight.pop(ticket.number, None)
        record: SynthesisRecord = outcome
        complete_record(record, trial)
        self.folder.write_synthesis_record(record)
        self.n_records += 1
        log.info("synthesis of trial %d: %s%s", record.trial, record.status,
                 f" ({record.error})" if record.error else "")
        if record.ok:
            self.recalibrate_needed = True
        self._submit()
        return record

    def cancel_all(self) -> None:
        for ticket in self.in_flight.values():
            self.executor.cancel(ticket)
        self.in_flight.clear()
        self.queue.clear()

    def recalibrate(self) -> Any:
        """Refit the calibration from every successful record, save it, and fill estimate_after."""
        from cost_models.layers import layers_from_dicts

        target = cost_target(self.space)
        calibration = fit_calibration(calibration_examples(self.folder), target)
        self.folder.save_calibration(calibration)
        for rec in self.folder.synthesis_records():
            layers_path = self.folder.trial_dir(rec.trial) / "layers.json"
            if not rec.ok or not layers_path.exists():
                continue
            est = estimate_dict(layers_from_dicts(self.folder.read_layers(rec.trial)), target, calibration)
            rec.estimate_after = {k: est[k] for k in ESTIMATE_KEYS if k in est}
            self.folder.write_synthesis_record(rec)
        self.recalibrate_needed = False
        return calibration
