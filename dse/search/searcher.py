"""The Optuna side of a search: samplers, study versions and re-scoring, the pruning twin, and
resume bookkeeping. Public Optuna API only (Optuna 5: ``Trial.set_constraint``,
``create_trial(constraints=...)``, ``Study.tell`` by trial number).

Resume rules
------------
- **Sampler seed.** A session's sampler is seeded with ``derive_seed(seed, version, n_finished)``
  where ``version`` is the study version (0 for ``dse``, N for ``dse-cN``) and ``n_finished``
  the number of finished trials in it when the sampler is made. A fresh run uses ``seed``
  itself; a resumed one gets a new stream, so the seeded random start is never replayed.
- **Startup trials.** TPE and GP draw at random until the study holds ``n_startup_trials``
  finished trials, counting those of earlier sessions: a resume after 3 finished trials draws
  only ``n_startup_trials - 3`` more at random (none once the study has enough).
- **Repeats.** A design is its parameters. Unless ``search.allow_repeats``, a proposal equal to
  a design already trained (or training) is not trained again: it is told to Optuna with the
  earlier trial's values, state and constraints and a user attribute ``duplicate_of`` (so the
  sampler learns the point is known), and it does not count toward ``n_trials``. After
  ``MAX_DUPLICATES_IN_A_ROW`` such proposals in a row the space is taken as exhausted.
- **Interrupted trials.** A trial RUNNING in the study when its session died is finished from its
  ``record.json`` if training had completed (no retraining); otherwise it is told FAIL with
  ``interrupted`` and its design is queued again (``retry_of``), once.
- **Study versions.** After a recalibration every trial is carried, re-scored, into a fresh
  study ``dse-cN`` (same numbers); ``meta.json`` switches to it in one atomic write, so a crash
  mid-re-score leaves the previous version current and the re-score is redone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dse.design.candidate import Candidate, suggest_candidate
from dse.scoring.score import Score
from dse.space import SpaceConfig
from dse.store import STUDY_NAME, RunFolder, TrialRecord, file_mode, params_key
from dse.store.study_reader import trial_view
from dse.store.trial_view import TrialView

log = logging.getLogger(__name__)

MAX_DUPLICATES_IN_A_ROW = 200
FINISHED = ("COMPLETE", "PRUNED", "FAIL")

Rescorer = Callable[[TrialView], tuple[Score, dict[str, Any]]]
"""Given a COMPLETE trial: its new Score and the user attributes to update."""


def derive_seed(seed: int, version: int, n_finished: int) -> int:
    """The sampler seed of a session (see the module docstring); ``seed`` itself for a fresh run."""
    if version == 0 and n_finished == 0:
        return seed
    digest = hashlib.sha256(f"{seed}:{version}:{n_finished}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


_EMPTY_SCHEMA: bytes | None = None  # this process's empty Optuna SQLite database (see create_storage_file)


def create_storage_file(folder: RunFolder) -> None:
    """Create the run's SQLite study database under a temporary name and move it into place.

    Readers (``load_run``, optuna-dashboard) may open ``study.db`` at any moment; they must never see
    a half-created schema (two processes creating Optuna's tables at once fail with ``UNIQUE
    constraint failed: alembic_version.version_num``). No-op for other storages and when the file
    exists.

    Optuna's schema setup (SQLAlchemy ``create_all`` plus the version tables) costs 0.2-0.5 s; the
    empty database it leaves is the same bytes every time in one process (same Optuna), so the
    first call keeps them and later calls write them (fsync'd, then moved into place)."""
    global _EMPTY_SCHEMA
    url = folder.storage_url()
    if not url.startswith("sqlite:///"):
        return
    db = Path(url[len("sqlite:///"):])
    if db.exists():
        return
    tmp = db.with_name(f".{db.name}.{os.getpid()}.creating")
    tmp.unlink(missing_ok=True)
    if _EMPTY_SCHEMA is None:
        import optuna

        storage = optuna.storages.RDBStorage(f"sqlite:///{tmp}")  # creates the schema
        storage.engine.dispose()
        _EMPTY_SCHEMA = tmp.read_bytes()
    else:
        with open(tmp, "wb") as f:
            f.write(_EMPTY_SCHEMA)
            f.flush()
            os.fsync(f.fileno())
    os.chmod(tmp, file_mode())
    os.replace(tmp, db)


def make_sampler(space: SpaceConfig, seed: int) -> Any:
    """Optuna's sampler for ``search.sampler``; constraints are read from the trials (Optuna 5)."""
    import optuna

    s = space.search.sampler
    n_startup = min(10, space.search.n_trials)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if s == "tpe":
        return optuna.samplers.TPESampler(multivariate=True, group=True, constant_liar=True, seed=seed,
                                          n_startup_trials=n_startup)
    if s == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, space.search.n_trials // 2)))
    if s == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup)
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(name: str) -> Any:
    import optuna

    return {
        "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2),
        "percentile": lambda: optuna.pruners.PercentilePruner(25.0, n_startup_trials=4, n_warmup_steps=2),
        "hyperband": lambda: optuna.pruners.HyperbandPruner(),
        "successive_halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
    }[name]()


def study_version(name: str) -> int:
    """0 for ``dse``, N for ``dse-cN``."""
    return int(name.rsplit("-c", 1)[1]) if "-c" in name else 0


def counts_toward_budget(trial: Any) -> bool:
    """Whether an Optuna trial counts toward ``n_trials`` (``TrialView.counts_toward_budget``)."""
    return trial_view(trial).counts_toward_budget


@dataclass
class Proposal:
    """A trial asked of the sampler, with its candidate; ``duplicate_of`` names the trial that
    already trained the same design (None: a new design)."""

    trial: Any
    candidate: Candidate
    duplicate_of: int | None = None

    @property
    def number(self) -> int:
        return int(self.trial.number)


class PruningTwin:
    """Optuna pruning for a possibly multi-objective study.

    Optuna's pruners work on single-objective studies, so each trial has a twin in a second
    study (``dse-pruning``, same storage, maximising validation accuracy) that gets the epoch
    reports; its ``should_prune`` decides.
    """

    def __init__(self, storage: Any, pruner_name: str):
        import optuna

        self.study = optuna.create_study(study_name=f"{STUDY_NAME}-pruning", storage=storage, direction="maximize",
                                         pruner=make_pruner(pruner_name), load_if_exists=True)
        self.twins: dict[int, Any] = {}
        for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            self.study.tell(t.number, state=optuna.trial.TrialState.FAIL)  # left by a dead session

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


class Searcher:
    """Owns the current study version of a run folder (the caller holds the run's lock)."""

    def __init__(self, space: SpaceConfig, folder: RunFolder, seed: int):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space, self.folder, self.seed = space, folder, seed
        create_storage_file(folder)
        self.storage = optuna.storages.RDBStorage(folder.storage_url())
        self.study = self._open(folder.study_name)
        self.pruning = PruningTwin(self.storage, space.training.pruner) if space.training.pruner != "none" else None
        self.designs: dict[str, int] = {}
        """design key -> the trial that trained (or is training) that design."""
        self.design_key: Callable[[Any], str] = params_key
        """A design's identity; the driver sets the cost model's normalisation (dse.search.proposals)."""
        self.duplicates_in_a_row = 0
        self._finished = 0
        self.reindex()

    # ------------------------------------------------------------------ study versions
    def _open(self, name: str, *, sampler: Any = None) -> Any:
        import optuna

        if sampler is None:
            n_finished = 0
            if name in optuna.get_all_study_names(self.storage):
                n_finished = len(optuna.load_study(study_name=name, storage=self.storage).get_trials(
                    deepcopy=False, states=tuple(optuna.trial.TrialState[s] for s in FINISHED)))
            sampler = make_sampler(self.space, derive_seed(self.seed, study_version(name), n_finished))
        study = optuna.create_study(study_name=name, storage=self.storage, directions=self.space.directions,  # type: ignore[arg-type]
                                    sampler=sampler, load_if_exists=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([o.metric for o in self.space.objectives])
        return study

    @property
    def version(self) -> int:
        return study_version(self.study.study_name)

    def trials(self) -> list[Any]:
        """Optuna's frozen trials of the current study version (for dse.search only)."""
        return list(self.study.get_trials(deepcopy=False))

    def views(self) -> list[TrialView]:
        """Every trial of the current study version as a typed view, in number order."""
        return [trial_view(t) for t in sorted(self.trials(), key=lambda t: t.number)]

    def view(self, number: int) -> TrialView | None:
        """Trial ``number`` as a typed view (None when the study has no such trial)."""
        trials = self.trials()  # Optuna numbers a study's trials 0, 1, 2 ...
        if 0 <= number < len(trials) and trials[number].number == number:
            return trial_view(trials[number])
        found = next((t for t in trials if t.number == number), None)
        return None if found is None else trial_view(found)

    def enqueue(self, params: dict[str, Any], user_attrs: dict[str, Any]) -> None:
        """Queue a design (its params) to be asked next, with ``user_attrs`` set on the trial."""
        self.study.enqueue_trial(params, user_attrs=user_attrs, skip_if_exists=False)

    def add_failed(self, params: dict[str, Any], distributions: dict[str, Any], user_attrs: dict[str, Any]) -> None:
        """Record a design that is not trained (screened, cannot be built) as a FAIL trial."""
        import optuna

        self.study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params=params,
                                                       distributions=distributions, user_attrs=user_attrs))

    @property
    def study_name(self) -> str:
        return str(self.study.study_name)

    def finished_count(self) -> int:
        """Trials that count toward ``n_trials`` (see ``counts_toward_budget``); kept up to date by the tells."""
        return self._finished

    def rescore(self, rescored: Rescorer, **meta: Any) -> str:
        """Carry every finished trial into a fresh study version whose objectives and constraints come
        from ``rescored`` (new calibration, measured figures), so the sampler never mixes two cost
        models. Call with no trial in flight. ``meta`` is written to meta.json with the switch.
        Returns the new study name."""
        import optuna

        name = f"{STUDY_NAME}-c{self.version + 1}"
        if name in optuna.get_all_study_names(self.storage):  # left by a crash before meta.json switched
            optuna.delete_study(study_name=name, storage=self.storage)
        carrier = self._open(name, sampler=optuna.samplers.RandomSampler(seed=0))
        frozen = []
        for t in sorted(self.trials(), key=lambda t: t.number):
            if t.state.name in ("WAITING", "RUNNING"):  # queued retries are the last numbers: requeued below
                continue
            ua = dict(t.user_attrs)
            if t.state.name == "COMPLETE":
                new_score, updates = rescored(trial_view(t))
                ua.update(updates)
                ua.update(_score_attrs(new_score))
                frozen.append(optuna.trial.create_trial(
                    params=t.params, distributions=t.distributions, values=new_score.objectives, user_attrs=ua,
                    constraints=self._constraint_dict(new_score)))
            else:
                frozen.append(optuna.trial.create_trial(state=t.state, params=t.params, distributions=t.distributions,
                                                        user_attrs=ua))
        carrier.add_trials(frozen)
        carried = [t.number for t in carrier.get_trials(deepcopy=False)]
        if carried != list(range(len(frozen))):  # pragma: no cover - Optuna numbers trials in insertion order
            raise RuntimeError(f"re-scored study {name} numbers its trials {carried[:5]}..., expected 0..")
        self.folder.set_study_name(name, **meta)
        self.study = self._open(name)
        self.reindex()
        self.requeue_interrupted()
        log.info("re-scored %d trials into study %s", len(frozen), name)
        return name

    # ------------------------------------------------------------------ resume bookkeeping
    def reindex(self) -> None:
        """Rebuild the map of trained designs and the finished count from the study (after recovery)."""
        self.designs = {}
        self._finished = 0
        for t in self.trials():
            if counts_toward_budget(t):
                self._finished += 1
                self.designs.setdefault(self.design_key(t.params), t.number)

    def reattach(self, number: int) -> Any:
        """A live ``optuna.trial.Trial`` for trial ``number`` (RUNNING, possibly asked by a dead session)."""
        import optuna

        study_id = self.storage.get_study_id_from_name(self.study.study_name)
        return optuna.trial.Trial(self.study, self.storage.get_trial_id_from_study_id_trial_number(study_id, number))

    def running_trials(self) -> list[Any]:
        return [t for t in self.trials() if t.state.name == "RUNNING"]

    def mark_interrupted(self, trial: Any) -> None:
        """Tell a RUNNING trial FAIL with ``interrupted`` (its design is queued again by
        ``requeue_interrupted``)."""
        import optuna

        trial.set_user_attr("interrupted", True)
        self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        key = self.design_key(trial.params)
        if self.designs.get(key) == trial.number:
            del self.designs[key]

    def requeue_interrupted(self) -> list[int]:
        """Queue (once) the design of every interrupted trial that was fully proposed, has not been
        retried and was not trained by another trial. Returns their numbers."""
        trials = self.trials()
        retried = {t.user_attrs.get("retry_of") for t in trials}
        out = []
        for t in trials:
            ua = t.user_attrs
            if (t.state.name != "FAIL" or not ua.get("interrupted") or "candidate" not in ua
                    or t.number in retried or self.design_key(t.params) in self.designs):
                continue
            self.study.enqueue_trial(t.params, user_attrs={"retry_of": t.number}, skip_if_exists=False)
            out.append(t.number)
            log.info("trial %d was interrupted: its design is queued again", t.number)
        return out

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Proposal:
        trial = self.study.ask()
        cand = suggest_candidate(trial, self.space)
        trial.set_user_attr("candidate", cand.to_dict())  # from here on the proposal is complete
        key = self.design_key(trial.params)
        duplicate_of = None if self.space.search.allow_repeats else self.designs.get(key)
        if duplicate_of is None:
            self.designs.setdefault(key, trial.number)
            self.duplicates_in_a_row = 0
        else:
            self.duplicates_in_a_row += 1
        return Proposal(trial, cand, duplicate_of)

    @property
    def exhausted(self) -> bool:
        return self.duplicates_in_a_row >= MAX_DUPLICATES_IN_A_ROW

    def tell_duplicate(self, proposal: Proposal) -> None:
        """Tell a repeated design what its earlier trial got, marked ``duplicate_of`` (see module docstring)."""
        import optuna

        assert proposal.duplicate_of is not None
        trial, number = proposal.trial, proposal.duplicate_of
        original = next(t for t in self.trials() if t.number == number)
        trial.set_user_attr("duplicate_of", number)
        for key in ("metrics", "estimate", "constraint_values", "constraint_margins", "constraint_probabilities",
                    "measured", "firmware_accuracy"):
            if key in original.user_attrs:
                trial.set_user_attr(key, original.user_attrs[key])
        state = original.state.name
        if state == "COMPLETE":
            for name, value in original.constraints.items():
                trial.set_constraint(name, value)
            self.study.tell(trial, list(original.values))
        elif state == "PRUNED":
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:  # failed, or still training: nothing known yet
            trial.set_user_attr("error", f"same design as trial {number} ({state.lower()})")
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        log.info("trial %d proposed the design of trial %d again: not trained (duplicate_of)", trial.number, number)

    def tell_record(self, trial: Any, record: TrialRecord, score: Score | None, estimate: dict[str, Any] | None
                    ) -> None:
        """Tell the study how training went (``score`` and ``estimate`` for complete trials)."""
        import optuna

        self._finished += 1  # complete, pruned and failed-in-training all count
        trial.set_user_attr("metrics", {k: v for k, v in record.metrics.items() if k != "weight_sparsity"})
        if record.metrics.get("weight_sparsity"):
            trial.set_user_attr("weight_sparsity", record.metrics["weight_sparsity"])
        trial.set_user_attr("node", record.node)
        if record.status == "complete":
            assert score is not None and estimate is not None
            trial.set_user_attr("estimate", estimate)
            for key, value in _score_attrs(score).items():
                trial.set_user_attr(key, value)
            for name, value in self._constraint_dict(score).items():
                trial.set_constraint(name, value)
            self.study.tell(trial, score.objectives)
            if self.pruning is not None:
                self.pruning.finish(trial.number, "COMPLETE", score.values["accuracy"])
        elif record.status == "pruned":
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            if self.pruning is not None:
                self.pruning.finish(trial.number, "PRUNED", None)
        else:
            trial.set_user_attr("error", record.error or "unknown")
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if self.pruning is not None:
                self.pruning.finish(trial.number, "FAIL", None)

    def _constraint_dict(self, score: Score) -> dict[str, float]:
        return {str(c): v for c, v in zip(self.space.constraints, score.constraints, strict=True)}


def _score_attrs(score: Score) -> dict[str, Any]:
    return {"constraint_values": list(score.constraints), "constraint_margins": list(score.margins),
            "constraint_probabilities": list(score.probabilities)}
