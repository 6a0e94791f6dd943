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

__all__ = ["open_study_readonly", "param_importances", "read_trials", "trial_view"]


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

