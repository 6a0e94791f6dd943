"""The Ray executor: start or join Ray, trials and synthesis jobs as Ray tasks, and the
epoch-report channel for pruning. See ``dse.search.executor`` for the contract."""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
from typing import TYPE_CHECKING, Any

from dse.search.executor import Ticket, failed_result
from dse.search.quiet import ray_init_options, worker_env
from dse.training.trial_runner import TrialPayload

if TYPE_CHECKING:
    from dse.space import SpaceConfig
    from dse.synthesis.base import SynthesisJob

log = logging.getLogger(__name__)

TOOL_CHECK_TIMEOUT_S = 120.0
TRIALS_PER_WORKER_PROCESS = 50
"""A Ray worker process exits after this many trials and Ray starts a fresh one. TensorFlow keeps
the traced graphs of every model a process trained, even after ``clear_session()``: about 13 MB
per quickstart trial (measured in one process over 25 trials), so a long run would grow each
worker by gigabytes. A fresh process costs the TensorFlow import (seconds) once per 50 trials."""

_owned = False
_WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
               "TF_NUM_INTEROP_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def ensure_ray(address: str | None, num_cpus: int, resources: dict[str, float] | None = None) -> None:
    """Join the cluster at ``address``, or start a local Ray with ``num_cpus`` CPUs (once per process)."""
    import ray

    global _owned
    if ray.is_initialized():
        return
    runtime_env = {"env_vars": {**_WORKER_ENV, **worker_env()}}
    if address:
        log.info("joining Ray cluster at %s", address)
        ray.init(address=address, runtime_env=runtime_env, **ray_init_options(local=False))  # type: ignore[arg-type]
    else:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(address="local", num_cpus=num_cpus, resources=resources or None, include_dashboard=False,
                 runtime_env=runtime_env, **ray_init_options(local=True))  # type: ignore[arg-type]
        _owned = True


def shutdown_if_owned() -> None:
    """Stop the local Ray this process started (a joined cluster is left running). Without one, Ray is not
    imported (seconds, e.g. for a run refused before its first trial)."""
    global _owned
    if not _owned:
        return
    import ray

    if ray.is_initialized():
        ray.shutdown()
    _owned = False


def _run_trial(payload: Any, data: Any, channel: Any) -> Any:
    from dse.training.trial_runner import execute_trial

    reporter = None
    if channel is not None:
        import ray

        def reporter(epoch: int, value: float) -> bool:
            channel.report.remote(payload.number, epoch, value)
            return bool(ray.get(channel.should_stop.remote(payload.number)))

    return execute_trial(payload, data, reporter)


def trial_task(max_calls: int) -> Any:
    """The Ray remote function that runs one trial on one CPU (``max_retries=0``: the driver redoes;
    ``max_calls``: trials per worker process, see ``TRIALS_PER_WORKER_PROCESS``)."""
    import ray

    return ray.remote(num_cpus=1, max_retries=0, max_calls=max_calls)(_run_trial)


@functools.lru_cache(maxsize=1)
def _make_channel_class() -> Any:
    import ray

    @ray.remote(num_cpus=0)
    class EpochChannel:
        """Epoch reports from trials to the driver, and the driver's stop orders back."""

        def __init__(self) -> None:
            self.reports: list[tuple[int, int, float]] = []
            self.stopped: set[int] = set()

        def report(self, number: int, epoch: int, value: float) -> None:
            self.reports.append((number, epoch, value))

        def drain(self) -> list[tuple[int, int, float]]:
            out, self.reports = self.reports, []
            return out

        def stop(self, number: int) -> None:
            self.stopped.add(number)

        def should_stop(self, number: int) -> bool:
            return number in self.stopped

    return EpochChannel


class RayExecutor:
    """Trials (one CPU each) and synthesis jobs (``synthesis.num_cpus`` and ``resources``) as Ray tasks."""

    def __init__(self, space: SpaceConfig, workers: int, address: str | None):
        self.space, self.workers, self.address = space, workers, address
        self.refs: dict[Any, Ticket] = {}
        self.channel: Any = None
        self.data_ref: Any = None
        self._ids = itertools.count()
        self._trial_task: Any = None
        self._synthesis_task: Any = None

    def start(self, data: Any) -> None:
        import ray

        s = self.space.synthesis
        synthesis_on = s.backend != "none"
        ensure_ray(self.address, self.workers + (s.concurrency * s.num_cpus if synthesis_on else 0),
                   _local_resources(self.space) if self.address is None else None)
        self.data_ref = ray.put(data)
        self._trial_task = trial_task(TRIALS_PER_WORKER_PROCESS)
        if synthesis_on:
            from dse.synthesis.runner import synthesis_task

            self._synthesis_task = synthesis_task(s.num_cpus, dict(s.resources))
        if self.space.training.pruner != "none":
            self.channel = _make_channel_class().remote()

    def find_synthesis_tool(self, space: SpaceConfig) -> str:
        """Find the vendor tool where synthesis jobs will run (a Ray task with the jobs' resources).

        Raises ``ToolNotFoundError`` at start-up, rather than hours later, when it is missing or
        no Ray node offers the resources the jobs ask for."""
        import ray

        from dse.errors import ToolNotFoundError

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

    def submit_trial(self, payload: TrialPayload) -> Ticket:
        ticket = Ticket("trial", payload.number, next(self._ids))
        self.refs[self._trial_task.remote(payload, self.data_ref, self.channel)] = ticket
        return ticket

    def submit_synthesis(self, job: SynthesisJob, with_data: bool) -> Ticket:
        ticket = Ticket("synthesis", job.trial, next(self._ids))
        self.refs[self._synthesis_task.remote(job, 1, self.data_ref if with_data else None)] = ticket
        return ticket

    def poll(self, timeout: float) -> list[tuple[Ticket, Any]]:
        import ray

        if not self.refs:
            return []
        ray.wait(list(self.refs), num_returns=1, timeout=timeout)
        ready, _ = ray.wait(list(self.refs), num_returns=len(self.refs), timeout=0)
        out = []
        for ref in ready:
            ticket = self.refs.pop(ref)
            try:
                out.append((ticket, ray.get(ref)))
            except Exception as exc:  # the worker process died (OOM, segfault) or Ray failed
                out.append((ticket, failed_result(ticket, f"worker error: {exc}")))
        return out

    def cancel(self, ticket: Ticket) -> None:
        import ray

        for ref, t in list(self.refs.items()):
            if t == ticket:
                with contextlib.suppress(Exception):  # best effort: the task may have finished
                    ray.cancel(ref, force=True)
                del self.refs[ref]

    def epoch_reports(self) -> list[tuple[int, int, float]]:
        if self.channel is None:
            return []
        import ray

        return list(ray.get(self.channel.drain.remote()))

    def stop_trial(self, number: int) -> None:
        if self.channel is not None:
            self.channel.stop.remote(number)

    def close(self) -> None:
        for ticket in list(self.refs.values()):
            self.cancel(ticket)
        shutdown_if_owned()


def _local_resources(space: SpaceConfig) -> dict[str, float] | None:
    """On a local Ray, this machine offers the synthesis resources the space asks for."""
    if space.synthesis.backend == "none" or not space.synthesis.resources:
        return None
    return {k: v * space.synthesis.concurrency for k, v in space.synthesis.resources}
