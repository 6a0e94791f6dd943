"""One typed, read-only view of a trial of the study: what the rest of dse reads.

Optuna's trial objects and their user attributes stay inside ``dse.search`` (which writes the study)
and ``dse.store.study_reader`` (which turns stored trials into :class:`TrialView` objects, in one
function). Everything else (scoring's Pareto front, the synthesis loop, the trials
table, ``load_run``, the report and the export) reads these views.

Units: ``metrics`` accuracies are fractions in [0, 1]; ``estimate`` and ``measured`` hold counts
(dsp, lut, ff, bram_18k), clock cycles (latency_cycles, ii) and ns (latency_ns); ``duration_s`` seconds;
constraint values follow Optuna's convention (<= 0 met), margins are in the metric's units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from dse.design.candidate import Candidate

__all__ = ["TrialState", "TrialStatus", "TrialView"]


class TrialState(str, Enum):
    """The study's state of a trial (Optuna's names, as stored and as ``trials.csv`` shows them)."""

    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"
    RUNNING = "RUNNING"
    WAITING = "WAITING"

    @property
    def finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class TrialStatus(str, Enum):
    """What happened to a trial in dse's words: the study state refined by dse's markers (a repeated
    design is ``duplicate`` whatever state it copied; a design screened out before training or one
    that cannot be built is ``screened``; a trial whose session died is ``interrupted``)."""

    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    RUNNING = "running"
    WAITING = "waiting"
    SCREENED = "screened"
    DUPLICATE = "duplicate"
    INTERRUPTED = "interrupted"


_STATUS_OF_STATE = {TrialState.COMPLETE: TrialStatus.COMPLETE, TrialState.PRUNED: TrialStatus.PRUNED,
                    TrialState.FAIL: TrialStatus.FAILED, TrialState.RUNNING: TrialStatus.RUNNING,
                    TrialState.WAITING: TrialStatus.WAITING}


@dataclass(frozen=True)
class TrialView:
    """One trial as stored in the study (made by ``dse.store.study_reader.trial_view`` only)."""

    number: int
    state: TrialState
    params: Mapping[str, Any] = field(default_factory=dict)
    """The sampler's parameters (Optuna param names)."""
    candidate: Mapping[str, Any] | None = None
    """The design in its stored form (``Candidate.to_dict()``); None before the proposal was complete."""
    values: tuple[float, ...] | None = None
    """Objective values in the space's order (COMPLETE trials)."""
    metrics: Mapping[str, Any] = field(default_factory=dict)
    """val/test accuracy, val_loss, val_auc, epochs_run, train_seconds."""
    estimate: Mapping[str, Any] = field(default_factory=dict)
    """The estimate as kept on the trial (``dse.scoring.estimate_summary``: totals, ``<k>_low``/``<k>_high``)."""
    measured: Mapping[str, Any] = field(default_factory=dict)
    """Figures of real synthesis (where synthesized)."""
    firmware_accuracy: float | None = None
    constraint_values: tuple[float, ...] | None = None
    """What the study was told per budget (space order, <= 0 met); None when never scored."""
    constraint_margins: tuple[float, ...] | None = None
    """Per budget: value - bound (bound - value for >=), metric units (<= 0 met on the point value)."""
    constraint_probabilities: tuple[float, ...] | None = None
    """Per budget: the probability (0..1) of meeting it."""
    duplicate_of: int | None = None
    """A repeated design, not trained: the trial it repeats."""
    screened: str | None = None
    """Not trained: why its pre-training estimate broke a budget (or why it cannot be built)."""
    interrupted: bool = False
    retry_of: int | None = None
    error: str | None = None
    pre_estimate: Mapping[str, Any] | None = None
    """The pre-training estimate (screening) of a proposed design."""
    screen_constraints: Mapping[str, float] | None = None
    screen_probabilities: tuple[float | None, ...] | None = None
    weight_sparsity: Any = None
    node: str | None = None
    duration_s: float | None = None
    """Wall time from start to finish (seconds), None while unfinished."""

    @property
    def status(self) -> TrialStatus:
        if self.duplicate_of is not None:
            return TrialStatus.DUPLICATE
        if self.screened is not None:
            return TrialStatus.SCREENED
        if self.interrupted:
            return TrialStatus.INTERRUPTED
        return _STATUS_OF_STATE[self.state]

    @property
    def feasible(self) -> bool | None:
        """Every budget met as the study judged it (None when the trial was never scored)."""
        if self.constraint_values is None:
            return None
        return all(c <= 0 for c in self.constraint_values)

    @property
    def complete_original(self) -> bool:
        """COMPLETE with objective values, and not a repeated design."""
        return self.state is TrialState.COMPLETE and self.values is not None and self.duplicate_of is None

    @property
    def counts_toward_budget(self) -> bool:
        """A trained design: complete, pruned, or failed in training. Interrupted trials (redone),
        duplicates and screened designs (never trained) do not count toward ``n_trials``."""
        if self.duplicate_of is not None or self.screened is not None:
            return False
        if self.state in (TrialState.COMPLETE, TrialState.PRUNED):
            return True
        return self.state is TrialState.FAIL and not self.interrupted and self.error is not None

    def design(self) -> Candidate | None:
        """The stored design as a ``Candidate`` (None when none was stored); raises ``ConfigError`` for a
        stored design this version cannot read."""
        return Candidate.from_dict(self.candidate) if self.candidate is not None else None
