"""The one read-only reader of a run's Optuna study, and the one place that turns Optuna's trials
into :class:`dse.store.trial_view.TrialView` objects.

Besides ``dse.search`` (which alone writes the study), this is the only module of dse that imports
Optuna (the import contract in pyproject.toml checks it). SQLite studies are opened through a
read-only connection, so a run in progress can be read while its driver writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dse.errors import RunFolderError
from dse.store.run_folder import STUDY_NAME, RunFolder
from dse.store.trial_view import TrialState, TrialView

__all__ = ["StudyFeed", "open_study_readonly", "param_importances", "read_trials", "trial_view"]


def trial_view(trial: Any) -> TrialView:
    """The typed view of one Optuna ``FrozenTrial`` (its state, values and dse's user attributes)."""
    ua: Mapping[str, Any] = trial.user_attrs
    duration = trial.duration

    def floats(key: str) -> tuple[float, ...] | None:
        v = ua.get(key)
        return None if v is None else tuple(float(x) for x in v)

    probs = ua.get("screen_probabilities")
    return TrialView(
        number=int(trial.number), state=TrialState(trial.state.name), params=dict(trial.params),
        candidate=ua.get("candidate"), values=tuple(float(v) for v in trial.values) if trial.values else None,
        metrics=dict(ua.get("metrics") or {}), estimate=dict(ua.get("estimate") or {}),
        measured=dict(ua.get("measured") or {}), firmware_accuracy=ua.get("firmware_accuracy"),
        constraint_values=floats("constraint_values"), constraint_margins=floats("constraint_margins"),
        constraint_probabilities=floats("constraint_probabilities"),
        duplicate_of=int(ua["duplicate_of"]) if ua.get("duplicate_of") is not None else None,
        screened=str(ua["screened"]) if ua.get("screened") is not None else None,
        interrupted=bool(ua.get("interrupted", False)),
        retry_of=int(ua["retry_of"]) if ua.get("retry_of") is not None else None,
        error=str(ua["error"]) if ua.get("error") is not None else None,
        pre_estimate=ua.get("pre_estimate"), screen_constraints=ua.get("screen_constraints"),
        screen_probabilities=None if probs is None else tuple(probs),
        weight_sparsity=ua.get("weight_sparsity"), node=ua.get("node"),
        duration_s=duration.total_seconds() if duration is not None else None)


def open_study_readonly(folder: RunFolder) -> Any | None:
    """The run's Optuna study through a read-only connection, or None if it has no study yet
    (for notebooks that want Optuna's own API; dse reads :func:`read_trials`)."""
    import optuna
    from optuna.storages import RDBStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = folder.storage_url()
    if url.startswith("sqlite:///"):
        db = Path(url[len("sqlite:///"):])
        if not db.is_file():
            return None
        url = f"sqlite:///file:{db}?mode=ro&uri=true"
    try:
        storage = RDBStorage(url, skip_table_creation=True)
        return optuna.load_study(study_name=getattr(folder, "study_name", STUDY_NAME), storage=storage)
    except KeyError:  # the study was not created yet
        return None
    except Exception as exc:  # SQLAlchemy / Optuna schema errors: a storage this dse cannot read
        raise RunFolderError(f"cannot read the study of {folder.path} ({url}): {exc}") from None


def read_trials(folder: RunFolder, study: Any | None = None) -> list[TrialView]:
    """Every trial of the run's current study version, in number order (empty without a study).
    ``study``: an already opened study (``open_study_readonly``) to read instead of opening one."""
    study = open_study_readonly(folder) if study is None else study
    if study is None:
        return []
    return [trial_view(t) for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)]


class StudyFeed:
    """One study version read a little at a time, for a reader that keeps what it read (trials.csv's writer).

    ``changed()`` returns the views of the trials that are new since the previous call or were unfinished
    (WAITING, RUNNING) at it, in number order; the first call returns every trial. A finished trial never
    changes within a study version (Optuna refuses to update one, and a re-score writes a new version under
    a new name), so the caller has the whole study up to date at a cost per call that grows with the trials
    that changed, not with the study: one query per unfinished or new trial, public storage API only.

    ``storage``: an Optuna storage holding the study (the driver's own, or a read-only one)."""

    def __init__(self, storage: Any, study_name: str):
        self.storage, self.study_name = storage, study_name
        self._study_id: int | None = None
        self._next = 0
        """The first trial number not read yet (Optuna numbers a study's trials 0, 1, 2 ...)."""
        self._unfinished: dict[int, int] = {}
        """Trial number -> trial id of the trials unfinished at the last read."""

    def changed(self) -> list[TrialView]:
        """Views of the trials added or possibly changed since the previous call (every trial the first time)."""
        if self._study_id is None:
            self._study_id = int(self.storage.get_study_id_from_name(self.study_name))
            trials = sorted(self.storage.get_all_trials(self._study_id, deepcopy=False), key=lambda t: t.number)
            views = [trial_view(t) for t in trials]
            self._next = views[-1].number + 1 if views else 0
            self._unfinished = {v.number: self._trial_id(v.number) for v in views if not v.state.finished}
            return views
        views = [trial_view(self.storage.get_trial(tid)) for _, tid in sorted(self._unfinished.items())]
        while True:
            try:
                tid = self._trial_id(self._next)
            except KeyError:
                break
            self._unfinished[self._next] = tid
            views.append(trial_view(self.storage.get_trial(tid)))
            self._next += 1
        for v in views:
            if v.state.finished:
                self._unfinished.pop(v.number, None)
        return views

    def _trial_id(self, number: int) -> int:
        assert self._study_id is not None
        return int(self.storage.get_trial_id_from_study_id_trial_number(self._study_id, number))


def param_importances(study: Any, objective: int) -> dict[str, float]:
    """fANOVA importance (seeded, sums to 1) of each parameter for objective ``objective`` (index in
    the space's order) over the study's complete trials. Optuna raises ``ValueError``/``RuntimeError``
    for degenerate studies (too few trials, nothing varies)."""
    import optuna

    def target(t: Any) -> float:
        return float(t.values[objective])

    target_fn: Callable[[Any], float] = target
    return dict(optuna.importance.get_param_importances(
        study, target=target_fn, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)))

