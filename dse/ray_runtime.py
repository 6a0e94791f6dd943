"""Ray plumbing: start or join Ray, the trial task, and the epoch-report channel for pruning."""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from dse.quiet import ray_init_options, worker_env

log = logging.getLogger(__name__)

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
    """Stop the local Ray this process started (a joined cluster is left running)."""
    global _owned
    import ray

    if _owned and ray.is_initialized():
        ray.shutdown()
    _owned = False


def _run_trial(payload: Any, data: Any, channel: Any) -> Any:
    from dse.trial_runner import execute_trial

    reporter = None
    if channel is not None:
        import ray

        def reporter(epoch: int, value: float) -> bool:
            channel.report.remote(payload.number, epoch, value)
            return bool(ray.get(channel.should_stop.remote(payload.number)))

    return execute_trial(payload, data, reporter)


def trial_task() -> Any:
    """The Ray remote function that runs one trial on one CPU (``max_retries=0``: the driver redoes)."""
    import ray

    return ray.remote(num_cpus=1, max_retries=0)(_run_trial)


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


def __getattr__(name: str) -> Any:
    if name == "EpochChannel":
        return _make_channel_class()
    raise AttributeError(name)
