"""Where work runs: the executor protocol (submit, poll, cancel) and an in-process implementation.

The driver submits training trials and synthesis jobs and polls for their results; it never
learns how they run. ``RayExecutor`` (``dse.search.ray_executor``) runs them as Ray tasks;
``InProcessExecutor`` runs them one at a time in the driver's own process, when polled, which
is what the fast tests use (with a fake trainer) and what a debugger wants.

Contract:

- ``submit_*`` returns at once with a :class:`Ticket`; the work may start later.
- ``poll(timeout)`` waits up to ``timeout`` seconds and returns the finished work as
  ``(ticket, result)`` pairs. A result is a ``TrialOutput`` for a trial and a
  ``SynthesisRecord`` for a synthesis job; a worker that died comes back as a failed result,
  never as an exception.
- ``cancel(ticket)`` drops work (best effort); its result is never returned.
- ``epoch_reports()`` returns the ``(trial, epoch, val_accuracy)`` reports since the last call;
  ``stop_trial(n)`` asks trial ``n`` to stop at its next epoch (pruning).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from dse.training.trial_runner import TrialOutput, TrialPayload, execute_trial

if TYPE_CHECKING:
    from dse.space import SpaceConfig
    from dse.synthesis.base import SynthesisJob

__all__ = ["Executor", "InProcessExecutor", "Ticket"]


@dataclass(frozen=True)
class Ticket:
    """Submitted work: ``kind`` is ``trial`` or ``synthesis``, ``number`` the trial number."""

    kind: str
    number: int
    id: int


class Executor(Protocol):
    def start(self, data: Any) -> None:
        """Make the data set available to the work (once, before submitting)."""

    def find_synthesis_tool(self, space: SpaceConfig) -> str:
        """The vendor tool where synthesis jobs will run; raises ToolNotFoundError."""

    def submit_trial(self, payload: TrialPayload) -> Ticket: ...

    def submit_synthesis(self, job: SynthesisJob, with_data: bool) -> Ticket: ...

    def poll(self, timeout: float) -> list[tuple[Ticket, Any]]: ...

    def cancel(self, ticket: Ticket) -> None: ...

    def epoch_reports(self) -> list[tuple[int, int, float]]: ...

    def stop_trial(self, number: int) -> None: ...

    def close(self) -> None: ...


Trainer = Callable[[TrialPayload, Any, Callable[[int, float], bool] | None], TrialOutput]
Synthesizer = Callable[[Any, Any], Any]


def _run_job(job: Any, data: Any) -> Any:
    from dse.synthesis.runner import run_job

    return run_job(job, 1, data)


class InProcessExecutor:
    """Runs each piece of work in this process when ``poll`` is called, oldest first, one per poll.

    ``trainer(payload, data, reporter)`` defaults to the real ``execute_trial``;
    ``synthesizer(job, data)`` to the real ``run_job``. Tests pass fakes."""

    def __init__(self, trainer: Trainer = execute_trial, synthesizer: Synthesizer = _run_job):
        self.trainer, self.synthesizer = trainer, synthesizer
        self.data: Any = None
        self.pending: deque[tuple[Ticket, Callable[[], Any]]] = deque()
        self.reports: list[tuple[int, int, float]] = []
        self.stopped: set[int] = set()
        self._ids = itertools.count()

    def start(self, data: Any) -> None:
        self.data = data

    def find_synthesis_tool(self, space: SpaceConfig) -> str:
        from dse.synthesis import hls4ml_backends  # noqa: F401
        from dse.synthesis.base import get_backend

        return get_backend(space.synthesis.backend, space.synthesis.executable).find_executable()

    def submit_trial(self, payload: TrialPayload) -> Ticket:
        ticket = Ticket("trial", payload.number, next(self._ids))

        def reporter(epoch: int, value: float) -> bool:
            self.reports.append((payload.number, epoch, value))
            return payload.number in self.stopped

        self.pending.append((ticket, lambda: self.trainer(payload, self.data, reporter)))
        return ticket

    def submit_synthesis(self, job: SynthesisJob, with_data: bool) -> Ticket:
        ticket = Ticket("synthesis", job.trial, next(self._ids))
        self.pending.append((ticket, lambda: self.synthesizer(job, self.data if with_data else None)))
        return ticket

    def poll(self, timeout: float) -> list[tuple[Ticket, Any]]:
        if not self.pending:
            return []
        ticket, work = self.pending.popleft()
        try:
            result = work()
        except Exception as exc:  # a worker that died: a failed result, as from Ray
            result = failed_result(ticket, f"worker error: {exc}")
        return [(ticket, result)]

    def cancel(self, ticket: Ticket) -> None:
        self.pending = deque(p for p in self.pending if p[0] != ticket)

    def epoch_reports(self) -> list[tuple[int, int, float]]:
        out, self.reports = self.reports, []
        return out

    def stop_trial(self, number: int) -> None:
        self.stopped.add(number)

    def close(self) -> None:
        self.pending.clear()


def failed_result(ticket: Ticket, error: str) -> Any:
    """The result of work whose worker died."""
    if ticket.kind == "trial":
        return TrialOutput(ticket.number, "failed", error=error)
    from dse.store.records import SynthesisRecord

    return SynthesisRecord(trial=ticket.number, status="failed", error=f"synthesis {error}")
