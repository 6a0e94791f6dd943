"""The ask/tell loop: the driver owns the Optuna study, Ray only executes trials.

``run_search`` creates or resumes a run folder, asks Optuna for candidates, runs them as Ray
tasks (``workers`` at a time), scores each finished trial with the cost model and tells
the study. Only this process touches the study storage.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dse._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from dse.calibration_check import warn_if_uncalibrated
from dse.candidate import Candidate, suggest_candidate
from dse.config import COST_METRICS, SpaceConfig
from dse.errors import DseError
from dse.run_folder import STUDY_NAME, RunFolder
from dse.trial_runner import TrialOutput, TrialPayload, space_target

log = logging.getLogger(__name__)

FINISHED_STATES = ("COMPLETE", "PRUNED", "FAIL")


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


@dataclass
class SearchResult:
    run_dir: Path
    n_complete: int
    n_failed: int
    n_pruned: int
    wall_seconds: float
    train_seconds: float
    resumed: bool
    pareto: list[dict[str, Any]] = field(default_factory=list)


ProgressCallback = Callable[[TrialSummary, int, int], None]  # (summary, done, total)


# --------------------------------------------------------------------------- Optuna pieces


def make_sampler(space: SpaceConfig, seed: int) -> Any:
    import optuna

    s = space.search.sampler
    # Optuna >= 5 reads constraints set on the trial (Trial.set_constraint); older needs constraints_func.
    constraints = constraints_func if space.constraints and not has_set_constraint() else None
    if s == "tpe":
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(multivariate=True, group=True, constant_liar=True, seed=seed,
                                          constraints_func=constraints, n_startup_trials=min(10, space.search.n_trials))
    if s == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints,
                                             population_size=max(4, min(50, space.search.n_trials // 2)))
    if s == "gp":
        return optuna.samplers.GPSampler(seed=seed, constraints_func=constraints,
                                         n_startup_trials=min(10, space.search.n_trials))
    return optuna.samplers.RandomSampler(seed=seed)


def has_set_constraint() -> bool:
    import optuna

    return hasattr(optuna.trial.Trial, "set_constraint")


def constraints_func(trial: Any) -> list[float]:
    """Constraint values stored on the trial (<= 0 means satisfied), as Optuna samplers expect."""
    return list(trial.user_attrs.get("constraint_values", []))


def make_pruner(name: str) -> Any:
    import optuna

    return {
        "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2),
        "percentile": lambda: optuna.pruners.PercentilePruner(25.0, n_startup_trials=4, n_warmup_steps=2),
        "hyperband": lambda: optuna.pruners.HyperbandPruner(),
        "successive_halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
    }[name]()


def constraint_values(space: SpaceConfig, values: dict[str, float]) -> list[float]:
    """One value per constraint; <= 0 when satisfied. % budgets use the target part's totals."""
    bounds = part_bounds(space)
    return [values[c.metric] - b if c.op == "<=" else b - values[c.metric]
            for c, b in zip(space.constraints, bounds, strict=True)]


def part_bounds(space: SpaceConfig) -> list[float]:
    """The absolute bound of each constraint (% budgets turned into counts of the part)."""
    from cost_models import get_part

    part = get_part(space.hardware.part)
    return [c.bound / 100.0 * float(getattr(part, {"bram": "bram_18k"}.get(c.metric, c.metric))) if c.percent
            else c.bound for c in space.constraints]


def metric_values(space: SpaceConfig, metrics: dict[str, Any], estimate: dict[str, Any]) -> dict[str, float]:
    """Every metric the space can name, from the trial's metrics and its cost estimate."""
    out: dict[str, float] = {}
    for name, key in COST_METRICS.items():
        if key in estimate:
            out[name] = float(estimate[key])
    out["accuracy"] = float(metrics["val_accuracy"])
    out["loss"] = float(metrics["val_loss"])
    if metrics.get("val_auc") is not None:
        out["auc"] = float(metrics["val_auc"])
    return out


# --------------------------------------------------------------------------- the loop


class _Pruning:
    """Optuna pruning for a possibly multi-objective study.

    Optuna's pruners work on single-objective studies, so each trial has a twin in a
    second study (``dse-pruning``, same storage, maximising validation accuracy) that gets
    the epoch reports; its ``should_prune`` decides.
    """

    def __init__(self, storage: Any, pruner_name: str):
        import optuna

        self.study = optuna.create_study(study_name=f"{STUDY_NAME}-pruning", storage=storage, direction="maximize",
                                         pruner=make_pruner(pruner_name), load_if_exists=True)
        self.twins: dict[int, Any] = {}

    def start(self, number: int) -> None:
        self.twins[number] = self.study.ask()
        self.twins[number].set_user_attr("main_trial", number)

    def report(self, number: int, epoch: int, value: float) -> bool:
        twin = self.twins.get(number)
        if twin is None or value != value:  # NaN
            return False
        twin.report(value, epoch)
        return bool(twin.should_prune())

    def finish(self, number: int, state: str, value: float | None) -> None:
        import optuna

        twin = self.twins.pop(number, None)
        if twin is None:
            return
        if state == "COMPLETE" and value is not None:
            self.study.tell(twin, value)
        else:
            self.study.tell(twin, state=optuna.trial.TrialState.PRUNED if state == "PRUNED"
                            else optuna.trial.TrialState.FAIL)


def run_search(space: SpaceConfig, run_dir: str | Path, *, source_text: str = "", n_trials: int | None = None,
               workers: int | None = None, seed: int | None = None, ray_address: str | None = None,
               storage: str | None = None, progress: ProgressCallback | None = None) -> SearchResult:
    """Run (or resume) the search of ``space`` into ``run_dir``. See the module docstring."""
    import optuna

    start_wall = time.perf_counter()
    n_trials = n_trials or space.search.n_trials
    workers = workers or space.search.workers
    seed = space.search.seed if seed is None else seed
    # Load data before anything is written: a data error leaves no run folder behind.
    from dse.data import load_dataset

    data = load_dataset(space.data)
    if space.synthesis.backend != "none" and ray_address is None:
        # a missing vendor tool fails now, not hours later (on a cluster the check runs on a synthesis node)
        from dse.synthesis import hls4ml_backends  # noqa: F401
        from dse.synthesis.base import get_backend

        get_backend(space.synthesis.backend, space.synthesis.executable).find_executable()
    folder, resumed = RunFolder.prepare(run_dir, space, source_text, storage)
    file_handler = _attach_log_file(folder)
    try:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage_url = folder.storage_url()
        study = optuna.create_study(study_name=folder.study_name, storage=storage_url, directions=space.directions,  # type: ignore[arg-type]
                                    sampler=make_sampler(space, seed), load_if_exists=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([o.metric for o in space.objectives])
        if resumed:
            _recover_interrupted(study)
        log.info("%s run %s: %d trials wanted, %d workers, %s", "resuming" if resumed else "starting",
                 folder.path, n_trials, workers, "ray " + (ray_address or "local"))
        driver = _Driver(space, folder, study, data, n_trials, workers, seed, ray_address, progress)
        warn_if_uncalibrated(driver.calibration, driver.target, folder.path, space.synthesis.backend != "none")
        try:
            driver.loop()
        except KeyboardInterrupt:
            driver.interrupt()
            raise SearchInterrupted(f"interrupted; {driver.done_count()} trial(s) are finished and saved in "
                                    f"{folder.path}") from None
        finally:
            driver.shutdown()
        write_trials_table(study, space, folder)
        counts = _state_counts(study)
        from dse.pareto import pareto_rows

        return SearchResult(folder.path, counts.get("COMPLETE", 0), counts.get("FAIL", 0), counts.get("PRUNED", 0),
                            time.perf_counter() - start_wall, driver.train_seconds, resumed,
                            pareto_rows(study, space))
    finally:
        logging.getLogger().removeHandler(file_handler)
        file_handler.close()


def _attach_log_file(folder: RunFolder) -> logging.Handler:
    handler = logging.FileHandler(folder.log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def _state_counts(study: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def counts_toward_budget(trial: Any) -> bool:
    """Finished trials count once; trials failed by an interruption are redone and do not count."""
    if trial.state.name in ("COMPLETE", "PRUNED"):
        return True
    return trial.state.name == "FAIL" and not trial.user_attrs.get("interrupted", False)


def _recover_interrupted(study: Any) -> None:
    """Trials left RUNNING by a dead driver are marked failed (interrupted) and queued again."""
    import optuna

    waiting_trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
    waiting = {_params_key(t.params) for t in waiting_trials}
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study._storage.set_trial_user_attr(t._trial_id, "interrupted", True)
        study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
        if _params_key(t.params) not in waiting:
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number}, skip_if_exists=False)
            waiting.add(_params_key(t.params))
        log.warning("trial %d was running when the previous session stopped: marked failed, queued again", t.number)


def _params_key(params: dict[str, Any]) -> str:
    import json

    return json.dumps(params, sort_keys=True, default=str)


class _Driver:
    def __init__(self, space: SpaceConfig, folder: RunFolder, study: Any, data: Any, n_trials: int, workers: int,
                 seed: int, ray_address: str | None, progress: ProgressCallback | None):
        self.space, self.folder, self.study, self.data = space, folder, study, data
        self.n_trials, self.workers, self.seed = n_trials, workers, seed
        self.ray_address, self.progress = ray_address, progress
        self.in_flight: dict[Any, tuple[Any, Candidate]] = {}  # ray ref -> (optuna trial, candidate)
        self.train_seconds = 0.0
        self.calibration = _load_calibration(folder)
        self.target = space_target(space)
        self.pruning: _Pruning | None = None
        self.channel: Any = None
        self.deadline = (time.monotonic() + space.search.timeout_s) if space.search.timeout_s else None
        self.synth: Any = None

    def done_count(self) -> int:
        return sum(1 for t in self.study.get_trials(deepcopy=False) if counts_toward_budget(t))

    def loop(self) -> None:
        import ray

        from dse.ray_runtime import ensure_ray, trial_task

        s = self.space.synthesis
        synth_cpus = s.concurrency * s.num_cpus if s.backend != "none" else 0
        ensure_ray(self.ray_address, self.workers + synth_cpus,
                   _local_resources(self.space) if self.ray_address is None else None)
        data_ref = ray.put(self.data)
        if self.space.synthesis.backend != "none":
            from dse.synthesis.loop import SynthesisManager, check_tool_available

            exe = check_tool_available(self.space)
            log.info("synthesis with %s", exe)
            self.synth = SynthesisManager(self.space, self.folder, data_ref)
            self.synth.last_round_at = self.done_count()
        if self.space.training.pruner != "none":
            from dse.ray_runtime import EpochChannel

            self.pruning = _Pruning(self.study._storage, self.space.training.pruner)
            self.channel = EpochChannel.remote()  # type: ignore[attr-defined]
        if self._calibration_changed():
            self.rescore()
        task = trial_task()
        done = self.done_count()
        if done >= self.n_trials:
            log.info("the study already has %d finished trials (>= %d): nothing to do", done, self.n_trials)
        final_round_done = False
        while True:
            done = self.done_count()
            recalibrating = self.synth is not None and self.synth.recalibrate_needed
            if recalibrating and not self.in_flight:
                self.calibration = self.synth.recalibrate()
                self.rescore()
                continue
            can_ask = (not recalibrating and done + len(self.in_flight) < self.n_trials and
                       (self.deadline is None or time.monotonic() < self.deadline))
            while can_ask and len(self.in_flight) < self.workers:
                self._submit(task, data_ref)
                can_ask = done + len(self.in_flight) < self.n_trials
            if not self.in_flight:
                if self.synth is None:
                    break
                if not final_round_done:  # the last round, on the final study
                    final_round_done = True
                    self.synth.round(self.study)
                if not self.synth.busy and not self.synth.recalibrate_needed:
                    break
                self.synth.poll(self.study, timeout=0.5)
                continue
            refs = list(self.in_flight) + (self.synth.refs() if self.synth is not None else [])
            ray.wait(refs, num_returns=1, timeout=0.5)
            self._pump_reports()
            if self.synth is not None:
                self.synth.poll(self.study)
            ready, _ = ray.wait(list(self.in_flight), num_returns=len(self.in_flight), timeout=0)
            for ref in ready:
                trial, cand = self.in_flight.pop(ref)
                try:
                    output: TrialOutput = ray.get(ref)
                except Exception as exc:  # the worker process died (OOM, segfault) or Ray failed
                    output = TrialOutput(trial.number, "failed", error=f"worker error: {exc}")
                self._finish(trial, cand, output)
                if self.synth is not None:
                    self.synth.after_trial(self.done_count(), self.study)

    # ------------------------------------------------------------------ recalibration
    def _calibration_changed(self) -> bool:
        current = _file_digest(self.folder.calibration_path)
        return current != self.folder.meta.get("study_calibration")

    def rescore(self) -> None:
        """Carry every finished trial into a fresh study whose objectives use the current calibration
        (and measured figures where synthesized), so the sampler never mixes two cost models.

        Called with no trial in flight, so trial numbers (and their folders) stay the same.
        """
        import optuna

        from cost_models.layers import layers_from_dicts
        from dse._io import read_json
        from dse.synthesis.records import load_records

        old = self.study
        version = 1 + int(self.folder.study_name.rsplit("-c", 1)[1]) if "-c" in self.folder.study_name else 1
        name = f"{STUDY_NAME}-c{version}"
        storage = self.folder.storage_url()
        if name in optuna.get_all_study_names(storage):  # left by a crash before meta.json was updated
            optuna.delete_study(study_name=name, storage=storage)
        new = optuna.create_study(study_name=name, storage=storage, directions=self.space.directions,  # type: ignore[arg-type]
                                  sampler=make_sampler(self.space, self.seed + version))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            new.set_metric_names([o.metric for o in self.space.objectives])
        records = {int(r["trial"]): r for r in load_records(self.folder.path)}
        frozen = []
        requeue = []
        for t in old.get_trials(deepcopy=False):
            ua = dict(t.user_attrs)
            rec = records.get(t.number)
            if rec and rec.get("firmware_accuracy") is not None:
                ua["firmware_accuracy"] = rec["firmware_accuracy"]
            if t.state.name == "COMPLETE":
                layers = layers_from_dicts(read_json(self.folder.trial_dir(t.number) / "layers.json"))
                estimate = estimate_dict(layers, self.target, self.calibration)
                atomic_write_json(self.folder.trial_dir(t.number) / "estimate.json", estimate)
                measured = dict(rec["measured"]) if rec and rec.get("status") == "ok" else {}
                values = metric_values(self.space, ua.get("metrics", {}), {**estimate, **measured})
                cons = constraint_values(self.space, values)
                ua.update(estimate=_estimate_summary(estimate), constraint_values=cons)
                if measured:
                    ua["measured"] = measured
                frozen.append(optuna.trial.create_trial(
                    params=t.params, distributions=t.distributions, user_attrs=ua,
                    values=[values[o.metric] for o in self.space.objectives],
                    system_attrs=_constraint_system_attrs(self.space, cons)))
            elif t.state.name in ("FAIL", "PRUNED"):
                frozen.append(optuna.trial.create_trial(state=t.state, params=t.params, distributions=t.distributions,
                                                        user_attrs=ua))
            else:  # WAITING (queued to be redone): keep its number with a placeholder, queue it again
                ua["interrupted"] = True
                frozen.append(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params=t.params,
                                                        distributions=t.distributions, user_attrs=ua))
                requeue.append((t.params, {k: v for k, v in t.user_attrs.items() if k != "interrupted"}))
        new.add_trials(frozen)
        for params, attrs in requeue:
            new.enqueue_trial(params, user_attrs=attrs)
        self.folder.set_study_name(name)
        meta = self.folder.meta
        meta["study_calibration"] = _file_digest(self.folder.calibration_path)
        atomic_write_json(self.folder.meta_path, meta)
        self.study = new
        write_trials_table(new, self.space, self.folder)
        log.info("re-scored %d trials with the new calibration into study %s", len(frozen), name)

    def _submit(self, task: Any, data_ref: Any) -> None:
        trial = self.study.ask()
        cand = suggest_candidate(trial, self.space)
        trial.set_user_attr("candidate", cand.to_dict())
        payload = TrialPayload(number=trial.number, candidate=cand.to_dict(), space=self.space,
                               seed=self.seed + trial.number, threads=1,
                               want_auc=any(o.metric == "auc" for o in self.space.objectives))
        if self.pruning is not None:
            self.pruning.start(trial.number)
        ref = task.remote(payload, data_ref, self.channel)
        self.in_flight[ref] = (trial, cand)
        log.info("trial %d started: %s", trial.number, cand.short())

    def _pump_reports(self) -> None:
        if self.channel is None or self.pruning is None:
            return
        import ray

        for number, epoch, value in ray.get(self.channel.drain.remote()):
            if self.pruning.report(number, epoch, value):
                self.channel.stop.remote(number)
                log.info("trial %d pruned at epoch %d (val accuracy %.4f)", number, epoch, value)

    def _finish(self, trial: Any, cand: Candidate, output: TrialOutput) -> None:
        import optuna

        tdir = self.folder.trial_dir(trial.number)
        atomic_write_json(tdir / "params.json", {"params": trial.params, "candidate": cand.to_dict(),
                                                 "seed": self.seed + trial.number})
        self.train_seconds += float(output.metrics.get("train_seconds", 0.0))
        trial.set_user_attr("metrics", {k: v for k, v in output.metrics.items() if k != "weight_sparsity"})
        if output.metrics.get("weight_sparsity"):
            trial.set_user_attr("weight_sparsity", output.metrics["weight_sparsity"])
        trial.set_user_attr("node", output.node)
        atomic_write_json(tdir / "metrics.json", output.metrics)
        if output.history:
            atomic_write_json(tdir / "history.json", output.history)
        summary = TrialSummary(trial.number, output.status.upper(), candidate=cand.short())
        if output.status == "complete":
            from cost_models.layers import layers_from_dicts

            layers = layers_from_dicts(output.layers)
            estimate = estimate_dict(layers, self.target, self.calibration)
            values = metric_values(self.space, output.metrics, estimate)
            cons = constraint_values(self.space, values)
            trial.set_user_attr("estimate", _estimate_summary(estimate))
            trial.set_user_attr("constraint_values", cons)
            if has_set_constraint():
                for c, v in zip(self.space.constraints, cons, strict=True):
                    trial.set_constraint(str(c), v)
            atomic_write_json(tdir / "layers.json", output.layers)
            atomic_write_json(tdir / "hls_config.json", output.hls_config)
            atomic_write_json(tdir / "estimate.json", estimate)
            atomic_write_bytes(tdir / "model.h5", output.model_h5)
            objectives = [values[o.metric] for o in self.space.objectives]
            self.study.tell(trial, objectives)
            summary.values = values
            summary.feasible = all(c <= 0 for c in cons)
            if self.pruning is not None:
                self.pruning.finish(trial.number, "COMPLETE", values["accuracy"])
            log.info("trial %d complete: %s", trial.number,
                     ", ".join(f"{o.metric}={values[o.metric]:.4g}" for o in self.space.objectives))
        elif output.status == "pruned":
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            if self.pruning is not None:
                self.pruning.finish(trial.number, "PRUNED", None)
        else:
            trial.set_user_attr("error", output.error.strip().splitlines()[-1] if output.error else "unknown")
            atomic_write_text(tdir / "error.txt", output.error)
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if self.pruning is not None:
                self.pruning.finish(trial.number, "FAIL", None)
            log.warning("trial %d failed: %s", trial.number, trial.user_attrs.get("error"))
        write_trials_table(self.study, self.space, self.folder)
        if self.progress is not None:
            self.progress(summary, self.done_count(), self.n_trials)

    def interrupt(self) -> None:
        """Cancel running trials; mark them failed-interrupted and queue them to be redone on resume."""
        import optuna
        import ray

        for ref, (trial, _cand) in list(self.in_flight.items()):
            with contextlib.suppress(Exception):  # best effort: the task may have finished
                ray.cancel(ref, force=True)
            trial.set_user_attr("interrupted", True)
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            self.study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        self.in_flight.clear()
        if self.synth is not None:
            for ref in self.synth.refs():
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
        write_trials_table(self.study, self.space, self.folder)

    def shutdown(self) -> None:
        from dse.ray_runtime import shutdown_if_owned

        shutdown_if_owned()


def _local_resources(space: SpaceConfig) -> dict[str, float] | None:
    """On a local Ray, this machine offers the synthesis resources the space asks for."""
    if space.synthesis.backend == "none" or not space.synthesis.resources:
        return None
    return {k: v * space.synthesis.concurrency for k, v in space.synthesis.resources}


def _file_digest(path: Path) -> str | None:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _constraint_system_attrs(space: SpaceConfig, cons: list[float]) -> dict[str, Any]:
    if not cons:
        return {}
    from optuna.study._constrained_optimization import _CONSTRAINTS_KEY

    if has_set_constraint():
        return {f"{_CONSTRAINTS_KEY}:{c}": v for c, v in zip(space.constraints, cons, strict=True)}
    return {_CONSTRAINTS_KEY: list(cons)}


def _load_calibration(folder: RunFolder) -> Any:
    if not folder.calibration_path.exists():
        return None
    from cost_models import Calibration

    return Calibration.load(folder.calibration_path)


def estimate_dict(layers: list[Any], target: Any, calibration: Any) -> dict[str, Any]:
    from cost_models import estimate

    return dict(estimate(layers, target, calibration=calibration).to_dict())


def _estimate_summary(estimate: dict[str, Any]) -> dict[str, Any]:
    from dse.tables import ESTIMATE_KEYS

    out: dict[str, Any] = {k: estimate[k] for k in ESTIMATE_KEYS if k in estimate}
    for k, (lo, hi) in (estimate.get("intervals") or {}).items():
        out[f"{k}_low"], out[f"{k}_high"] = lo, hi
    out["calibrated"] = bool(estimate.get("calibrated", False))
    return out


def write_trials_table(study: Any, space: SpaceConfig, folder: RunFolder) -> None:
    """Rewrite ``trials.csv`` (atomically) from the study."""
    from dse.tables import trials_frame

    frame = trials_frame(study, space)
    atomic_write_text(folder.trials_csv, frame.to_csv(index=False))
