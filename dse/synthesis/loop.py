"""Synthesis in the running search: rounds of selection, Ray jobs, records, recalibration.

The driver calls ``after_trial(done)`` after every finished trial and ``poll()`` in its wait
loop. Every ``synthesis.every`` finished trials (and once at the end) a round picks
``synthesis.batch`` designs (``selection.select``) and submits them as Ray tasks, at most
``synthesis.concurrency`` at a time. Each outcome is written as a record. When a successful
record arrives, the calibration is refitted and the driver is asked to re-score the study.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path
from typing import Any

from dse.config import SpaceConfig
from dse.errors import ToolNotFoundError
from dse.run_folder import RunFolder
from dse.synthesis.base import SynthesisJob
from dse.synthesis.records import load_records, refit_run_calibration, synthesized_trials, write_record
from dse.synthesis.selection import Scored, constraint_margin, relative_width, select
from dse.tables import ESTIMATE_KEYS

log = logging.getLogger(__name__)

TOOL_CHECK_TIMEOUT_S = 120.0


def make_job(folder: RunFolder, space: SpaceConfig, trial: int, job_root: Path | None = None) -> SynthesisJob:
    """The synthesis job of a finished trial, from its folder (model.h5, hls_config.json)."""
    from dse._io import read_json

    tdir = folder.trial_dir(trial)
    if not (tdir / "model.h5").exists() or not (tdir / "hls_config.json").exists():
        raise FileNotFoundError(f"trial {trial} has no trained model in {tdir} (failed, pruned or not finished)")
    s, hw = space.synthesis, space.hardware
    backend = s.backend if s.backend != "none" else hw.backend
    root = job_root or folder.synthesis_dir / "jobs"
    return SynthesisJob(
        trial=trial, model_h5=(tdir / "model.h5").read_bytes(), hls_config=read_json(tdir / "hls_config.json"),
        part=hw.part, clock_period_ns=hw.clock_period_ns, io_type=hw.io_type,
        job_dir=str((root / f"{trial:05d}").resolve()), backend=backend, executable=s.executable,
        timeout_s=s.timeout_s, threads=s.num_cpus, vsynth=s.vsynth)


def check_tool_available(space: SpaceConfig) -> str:
    """Find the vendor tool where synthesis jobs will run (a Ray task with the jobs' resources).

    Raises ``ToolNotFoundError`` at start-up, rather than hours later, when it is missing or
    no Ray node offers the resources the jobs ask for.
    """
    import ray

    s = space.synthesis

    def find(backend: str, executable: str | None) -> str:
        from dse.synthesis import hls4ml_backends  # noqa: F401
        from dse.synthesis.base import get_backend

        return get_backend(backend, executable).find_executable()

    task = ray.remote(num_cpus=0, resources=dict(s.resources), max_retries=0)(find)
    ref = task.remote(s.backend, s.executable)
    ready, _ = ray.wait([ref], timeout=TOOL_CHECK_TIMEOUT_S)
    if not ready:
        ray.cancel(ref, force=True)
        raise ToolNotFoundError(
            f"no Ray node could run a synthesis job within {TOOL_CHECK_TIMEOUT_S:g} s: is there a node offering "
            f"the resources {dict(s.resources) or '{}'}? (start one with ray start --resources ...)")
    try:
        return str(ray.get(ref))
    except ray.exceptions.RayTaskError as exc:
        cause = exc.as_instanceof_cause()
        if isinstance(cause, ToolNotFoundError):
            raise ToolNotFoundError(str(cause).split("\n")[-1] or str(cause)) from None
        raise


def complete_record(record: dict[str, Any], study: Any) -> None:
    """Add the trial's estimate before synthesis and the firmware-accuracy comparison to ``record``."""
    from dse.synthesis.firmware import DROP_WARNING

    trial = next((t for t in study.get_trials(deepcopy=False) if t.number == record["trial"]), None)
    if trial is None:
        return
    record["estimate_before"] = dict(trial.user_attrs.get("estimate") or {})
    qkeras = (trial.user_attrs.get("metrics") or {}).get("test_accuracy")
    record["qkeras_test_accuracy"] = qkeras
    fw = record.get("firmware_accuracy")
    record["firmware_drop"] = None if fw is None or qkeras is None else qkeras - fw
    record["firmware_flag"] = bool(fw is not None and qkeras is not None and qkeras - fw > DROP_WARNING)
    if record["firmware_flag"]:
        log.warning("trial %d: firmware accuracy %.4f is %.4f below the QKeras accuracy", record["trial"], fw,
                    record["firmware_drop"])


class SynthesisManager:
    def __init__(self, space: SpaceConfig, folder: RunFolder, data_ref: Any):
        from dse.synthesis.runner import synthesis_task

        self.space, self.folder, self.data_ref = space, folder, data_ref
        s = space.synthesis
        self.task = synthesis_task(s.num_cpus, dict(s.resources))
        self.queue: deque[int] = deque()
        self.in_flight: dict[Any, int] = {}
        self.last_round_at = 0
        self.recalibrate_needed = False
        self.n_records = 0

    # ------------------------------------------------------------------ rounds
    def after_trial(self, done: int, study: Any) -> None:
        if done - self.last_round_at >= self.space.synthesis.every:
            self.last_round_at = done
            self.round(study)

    def round(self, study: Any) -> list[int]:
        """Pick this round's designs and queue them."""
        exclude = synthesized_trials(self.folder.path) | set(self.in_flight.values()) | set(self.queue)
        picked = select(self._scored(study), self.space.directions, self.space.synthesis.batch, exclude)
        if picked:
            log.info("synthesis round: trials %s", ", ".join(map(str, picked)))
        self.queue.extend(picked)
        self._submit()
        return picked

    def _scored(self, study: Any) -> list[Scored]:
        from dse.study import part_bounds

        bounds = part_bounds(self.space)
        out = []
        for t in study.get_trials(deepcopy=False):
            if t.state.name != "COMPLETE" or t.values is None:
                continue
            cons = list(t.user_attrs.get("constraint_values") or [])
            out.append(Scored(
                number=t.number, objectives=tuple(t.values),
                relative_width=relative_width(t.user_attrs.get("estimate") or {}),
                constraint_margin=constraint_margin(cons, bounds[:len(cons)]) if cons else float("inf"),
                feasible=all(c <= 0 for c in cons)))
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
            data = self.data_ref if s.firmware_accuracy else None
            self.in_flight[self.task.remote(job, 1, data)] = trial

    # ------------------------------------------------------------------ results
    @property
    def busy(self) -> bool:
        return bool(self.in_flight or self.queue)

    def refs(self) -> list[Any]:
        return list(self.in_flight)

    def poll(self, study: Any, timeout: float = 0.0) -> int:
        """Collect finished jobs (waiting up to ``timeout`` s); returns how many arrived."""
        import ray

        if not self.in_flight:
            return 0
        ready, _ = ray.wait(list(self.in_flight), num_returns=len(self.in_flight), timeout=timeout)
        for ref in ready:
            trial = self.in_flight.pop(ref)
            try:
                outcome = ray.get(ref)
                record = outcome.to_record()
            except Exception as exc:  # the worker died: record it, the study goes on
                record = {"trial": trial, "status": "failed", "error": f"synthesis worker error: {exc}",
                          "measured": {}}
            complete_record(record, study)
            write_record(self.folder.path, record)
            self.n_records += 1
            log.info("synthesis of trial %d: %s%s", trial, record["status"],
                     f" ({record.get('error')})" if record.get("error") else "")
            if record["status"] == "ok":
                self.recalibrate_needed = True
        self._submit()
        return len(ready)

    def recalibrate(self) -> Any:
        """Refit the calibration from every successful record, save it, and fill estimate_after."""
        from dse.study import estimate_dict
        from dse.trial_runner import space_target

        calibration = refit_run_calibration(self.folder.path)
        calibration.save(self.folder.calibration_path)
        target = space_target(self.space)
        from cost_models.layers import layers_from_dicts
        from dse._io import read_json

        for rec in load_records(self.folder.path):
            layers_path = self.folder.trial_dir(int(rec["trial"])) / "layers.json"
            if rec.get("status") != "ok" or not layers_path.exists():
                continue
            est = estimate_dict(layers_from_dicts(read_json(layers_path)), target, calibration)
            rec["estimate_after"] = {k: est[k] for k in ESTIMATE_KEYS if k in est}
            write_record(self.folder.path, rec)
        self.recalibrate_needed = False
        return calibration

    def wait_all(self, study: Any, poll_s: float = 1.0) -> None:
        while self.busy:
            self.poll(study, timeout=poll_s)
            if not self.in_flight and self.queue:
                self._submit()
            time.sleep(0 if self.in_flight else 0.01)
