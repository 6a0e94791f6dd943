"""Analysis of a run folder: trials and synthesis tables, Pareto fronts, hypervolume, importances.

``load_run(path)`` (also ``dse.load_run``) opens a run folder read-only and returns a :class:`Run`::

    import dse
    run = dse.load_run("runs/quickstart")
    run.trials                       # one row per trial (pandas DataFrame)
    run.synthesis                    # one row per synthesis record (empty without synthesis)
    run.pareto()                     # the feasible front over the space's objectives
    run.pareto(["accuracy", "lut"])  # ... or over any metrics
    run.layer_table(7)               # where trial 7's latency, II and resources go, per layer
    fig = run.plot_pareto("dsp")     # matplotlib Figure (Agg backend, never shown)

Units: resources (dsp, lut, ff, bram_18k) are counts, ``latency_ns`` nanoseconds,
``latency_cycles`` and ``ii`` clock cycles, accuracies fractions in [0, 1]. Cost columns hold
the cost-model estimate, ``<cost>_low``/``<cost>_high`` its 80 % interval and
``measured_<cost>`` the value from real HLS synthesis (where synthesized).

Nothing here writes to the study: SQLite studies are opened with a read-only connection, so
a run still in progress can be analysed while its driver writes.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dse.analysis.formatting import io_type_text
from dse.analysis.fronts import (
    ObjectiveSpec,
    hypervolume_history,
    pareto_front,
    resolve_objectives,
)
from dse.analysis.layer_table import layer_table
from dse.analysis.plots import hypervolume_figure, importance_figure, pareto_figure, parity_figure
from dse.analysis.tables import trials_frame
from dse.errors import ConfigError, RunFolderError
from dse.scoring.budgets import space_budgets
from dse.space import ESTIMATE_KEYS, PART_RESOURCE_KEYS, SpaceConfig
from dse.store import RunFolder
from dse.store.study_reader import open_study_readonly, param_importances, read_trials
from dse.store.trial_view import TrialState, TrialView

log = logging.getLogger(__name__)

RESOURCE_KEYS = PART_RESOURCE_KEYS
"""Cost keys that can be shown as a % of the target part."""

BASE_COLUMNS = ("number", "state", "candidate", "val_accuracy", "test_accuracy", "val_loss", "val_auc",
                *(f"{k}{s}" for k in ESTIMATE_KEYS for s in ("", "_low", "_high")), "calibrated", "feasible",
                "epochs_run", "train_seconds", "duration_s", "interrupted", "error")
SYNTHESIS_COLUMNS = ("trial", "status", "tool", "tool_version", "part", "error", "file",
                     *(f"{p}_{k}" for p in ("measured", "before", "after") for k in ESTIMATE_KEYS))


# --------------------------------------------------------------------------- synthesis records


def read_synthesis_records(run_dir: str | Path) -> Any:
    """One row per synthesis record of the run folder (``RunFolder.synthesis_record_files``; empty DataFrame
    when there are none).

    Columns: ``trial``, ``status`` (ok, failed, timeout), ``tool``, ``tool_version``, ``part``,
    ``error``, ``file``, and per cost key ``measured_<k>``, ``before_<k>`` (uncalibrated
    estimate), ``after_<k>`` (estimate with the calibration fitted after the record). Unreadable
    files are skipped with a warning; a figure that is not a finite number is left blank.
    """
    import pandas as pd

    rows = []
    for path, rec in RunFolder(Path(run_dir)).synthesis_record_files():
        try:
            row: dict[str, Any] = {"trial": int(rec.trial) if rec.trial is not None else None,
                                   "status": str(rec.status), "tool": rec.tool, "tool_version": rec.tool_version,
                                   "part": rec.part, "error": rec.error, "file": path.name}
        except (TypeError, ValueError) as exc:
            log.warning("skipping unreadable synthesis record %s: %s", path, exc)
            continue
        for prefix, block in (("measured", rec.measured), ("before", rec.estimate_before),
                              ("after", rec.estimate_after)):
            block = block if isinstance(block, dict) else {}
            for k in ESTIMATE_KEYS:
                row[f"{prefix}_{k}"] = _num(block.get(k))
        if rec.firmware_accuracy is not None:
            row["firmware_accuracy"] = _num(rec.firmware_accuracy)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for c in SYNTHESIS_COLUMNS:
        if c not in frame.columns:
            frame[c] = None
    return frame


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------- the trials table, in pieces
# ``Run.trials`` is built from these, and so is trials.csv by its incremental writer (``dse.analysis.trials_csv``),
# which applies them to the few rows that changed: each step of the table is defined once, here.

MEASURED_COLUMNS = tuple(f"measured_{k}" for k in ESTIMATE_KEYS)


def complete_columns(frame: Any) -> Any:
    """``frame`` (``trials_frame``) with every column of the table (missing ones empty), ``measured_*`` and
    ``firmware_accuracy`` as floats."""
    for c in BASE_COLUMNS:
        if c not in frame.columns:
            frame[c] = None
    for c in MEASURED_COLUMNS:
        if c not in frame.columns:
            frame[c] = None
    if "firmware_accuracy" not in frame.columns:
        frame["firmware_accuracy"] = None
    frame = frame.astype(dict.fromkeys(MEASURED_COLUMNS, "float64"))
    frame["firmware_accuracy"] = frame["firmware_accuracy"].astype("float64")
    return frame


def record_fills(synthesis: Any) -> dict[int, dict[str, float]]:
    """What the synthesis records (``read_synthesis_records``) add to the trials table: per trial, the measured
    figures (``measured_<k>``) and ``firmware_accuracy`` of its ok records (the first record with a value wins)."""
    import pandas as pd

    fills: dict[int, dict[str, float]] = {}
    if synthesis.empty:
        return fills
    for _, rec in synthesis[synthesis["status"] == "ok"].iterrows():
        trial = rec["trial"]
        if trial is None or pd.isna(trial):
            continue
        cols = fills.setdefault(int(trial), {})
        for col in (*MEASURED_COLUMNS, "firmware_accuracy"):
            v = rec.get(col)
            if v is not None and not pd.isna(v):
                cols.setdefault(col, float(v))
    return fills


def add_synthesis_columns(frame: Any, fills: dict[int, dict[str, float]]) -> None:
    """In place: fill ``measured_*``/``firmware_accuracy`` from ``fills`` (``record_fills``) where the study lacks
    them, and set ``synthesized`` (any measured figure). ``frame`` has ``complete_columns``."""
    if len(frame):
        for trial, cols in fills.items():
            sel = frame["number"] == trial
            if not sel.any():
                continue
            for col, v in cols.items():
                frame.loc[sel & frame[col].isna(), col] = v
    frame["synthesized"] = frame[list(MEASURED_COLUMNS)].notna().any(axis=1)


def front_rows(frame: Any, objectives: list[tuple[str, str]], feasible_only: bool = True,
               measured: bool = True) -> Any:
    """The Pareto front (rows of ``frame``, a trials table) over ``objectives`` (``(column, direction)``); with
    ``measured`` a synthesized design's measured costs replace its estimates (see ``Run.pareto``)."""
    if not measured:
        return pareto_front(frame, objectives, feasible_only=feasible_only)
    scored = frame.copy()
    for col, _ in objectives:
        m = f"measured_{col}"
        if col in ESTIMATE_KEYS and m in scored.columns:
            scored[col] = scored[m].where(scored[m].notna(), scored[col])
    # Ranked on measured-where-available, returned with the estimate columns intact.
    return frame.loc[pareto_front(scored, objectives, feasible_only=feasible_only).index].copy()


def csv_text(frame: Any, header: bool = True) -> str:
    """``frame`` as the text of trials.csv (no index)."""
    return str(frame.to_csv(index=False, header=header))


# --------------------------------------------------------------------------- the run


class Run:
    """A run folder opened for analysis (read-only). See the module docstring for examples."""

    def __init__(self, folder: RunFolder, *, views: list[TrialView] | None = None, space: SpaceConfig | None = None):
        """``views``, ``space``: the driver's own trial views and space (for ``trials_csv`` during a search);
        by default read from the folder (the study read-only)."""
        self.folder = folder
        self.path = folder.path
        try:
            self.space: SpaceConfig = space if space is not None else folder.load_space()
        except (OSError, ConfigError) as exc:
            raise RunFolderError(f"cannot read the space of {folder.path}: {exc}") from None
        self._study: Any = None
        self._study_loaded = False
        self._views: list[TrialView] | None = views
        self._trials: Any = None
        self._synthesis: Any = None
        self._importances: tuple[Any, dict[str, str]] | None = None

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    # ------------------------------------------------------------------ data
    @property
    def study(self) -> Any | None:
        """The Optuna study (read-only connection), or None when the run has none yet."""
        if not self._study_loaded:
            self._study = open_study_readonly(self.folder)
            self._study_loaded = True
        return self._study

    @property
    def trial_views(self) -> list[TrialView]:
        """Every trial of the study as a typed view (``dse.store.TrialView``), in number order."""
        if self._views is None:
            study = self.study
            self._views = read_trials(self.folder, study) if study is not None else []
        return self._views

    def trial_view(self, number: int) -> TrialView | None:
        """Trial ``number`` as a typed view, or None when the study has no such trial."""
        return next((t for t in self.trial_views if t.number == number), None)

    def refresh(self) -> Run:
        """Forget cached tables (re-read the study and records on next access; for runs in progress)."""
        self._study, self._study_loaded, self._trials, self._synthesis = None, False, None, None
        self._views = None
        self._importances = None
        return self

    @property
    def trials(self) -> Any:
        """One row per trial (see ``dse.analysis.tables.trials_frame``) plus ``synthesized`` and ``on_front``
        (on the feasible front of the space's objectives, measured costs where synthesized). Measured
        values and firmware accuracy of synthesis records fill ``measured_*``/``firmware_accuracy``
        where the study lacks them."""
        if self._trials is None:
            self._trials = self._build_trials()
        return self._trials

    def _build_trials(self) -> Any:
        import pandas as pd

        views = self.trial_views
        frame = complete_columns(trials_frame(views, self.space) if views else pd.DataFrame())
        add_synthesis_columns(frame, record_fills(self.synthesis))
        frame["on_front"] = False
        self._trials = frame
        frame["on_front"] = frame["number"].isin(self.pareto()["number"])
        return frame.sort_values("number", kind="stable").reset_index(drop=True)

    def trials_csv(self) -> str:
        """The content of ``trials.csv``: ``trials`` as CSV. The driver (after every finished trial) and
        ``dse report`` (while no driver runs) both write this, so trials.csv has one column set."""
        return csv_text(self.trials)

    @property
    def synthesis(self) -> Any:
        """One row per synthesis record (``read_synthesis_records``); empty without synthesis."""
        if self._synthesis is None:
            self._synthesis = read_synthesis_records(self.path)
        return self._synthesis

    def counts(self) -> dict[str, int]:
        """Trials per state: COMPLETE, PRUNED, FAIL, RUNNING, WAITING (zeros included)."""
        out = dict.fromkeys(("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"), 0)
        for s in self.trials["state"].tolist():
            out[str(s)] = out.get(str(s), 0) + 1
        return out

    @property
    def part(self) -> Any | None:
        """The target part (``cost_models.parts.Part``: resource totals), or None if unknown."""
        from cost_models.parts import get_part

        try:
            return get_part(self.space.hardware.part)
        except ValueError:
            return None

    def constraint_bounds(self) -> dict[str, list[tuple[str, float]]]:
        """Constraints as absolute bounds per trials column: ``{"latency_ns": [("<=", 200.0)]}``
        (% of part budgets resolved against the target part's totals)."""
        out: dict[str, list[tuple[str, float]]] = {}
        for b in space_budgets(self.space):
            out.setdefault(b.column, []).append((b.op, b.bound))
        return out

    # ------------------------------------------------------------------ analysis
    def pareto(self, objectives: Iterable[ObjectiveSpec] | None = None, feasible_only: bool = True,
               measured: bool = True) -> Any:
        """The Pareto front (DataFrame rows of ``trials``) over ``objectives``.

        ``objectives``: metric names (``"accuracy"``, ``"dsp"``, ``"latency_ns"``), optionally with
        ``":max"``/``":min"``, or ``(metric, direction)``; default the space's objectives.
        With ``measured`` (the default, as the study scores trials) a synthesized design's measured
        costs replace its estimates; ``measured=False`` uses estimates only. Ties are all kept;
        failed, pruned, running and (with ``feasible_only``) infeasible trials are left out.

        >>> run.pareto(["accuracy", "lut:min"])[["number", "val_accuracy", "lut"]]  # doctest: +SKIP
        """
        return front_rows(self.trials, resolve_objectives(objectives, self.space), feasible_only, measured)

    def front_table(self, objectives: Iterable[ObjectiveSpec] | None = None) -> Any:
        """The front with the report's columns: trial, design, accuracies, each cost as estimate,
        interval, measured, % of part, then the parameters."""
        front = self.pareto(objectives)
        return self.table_columns(front)

    def table_columns(self, frame: Any) -> Any:
        part = self.part
        cols = ["number", "candidate", "val_accuracy", "test_accuracy", "firmware_accuracy"]
        out = frame[[c for c in cols if c in frame.columns]].copy()
        for k in ESTIMATE_KEYS:
            for c in (k, f"{k}_low", f"{k}_high", f"measured_{k}"):
                out[c] = frame[c] if c in frame.columns else None
            if part is not None and k in RESOURCE_KEYS:
                out[f"{k}_pct_of_part"] = frame[k].astype(float) / float(part.totals()[k]) * 100.0
        for c in ("feasible", "calibrated", "synthesized"):
            if c in frame.columns:
                out[c] = frame[c]
        for c in frame.columns:
            if c.startswith("param_"):
                out[c] = frame[c]
        return out.reset_index(drop=True)

    def layer_table(self, number: int) -> Any:
        """Where trial ``number``'s latency, II and resources go: one row per hardware layer (any layer kind;
        see ``dse.analysis.layer_table``), from the cost model's per-layer breakdown of its trained layer
        list (``estimate.json``; recomputed, uncalibrated, from ``layers.json`` when that file is missing or
        has no per-layer rows). A repeated design reads the trial it repeats. Empty when the trial was not trained."""
        import pandas as pd

        rows = self.trials[self.trials["number"] == number]
        if "duplicate_of" in rows.columns and len(rows) and pd.notna(rows["duplicate_of"].iloc[0]):
            number = int(rows["duplicate_of"].iloc[0])
        tdir = self.folder.trial_dir(number)
        layers = _read_json(tdir / "layers.json")
        est = _read_json(tdir / "estimate.json")
        if not (isinstance(est, dict) and est.get("layers")) and isinstance(layers, list):
            est = self._estimate_of(layers)
        if not isinstance(est, dict):
            return layer_table({})
        return layer_table(est, layers if isinstance(layers, list) else None)

    def layer_tables(self, numbers: Iterable[int]) -> Any:
        """``layer_table`` of several trials stacked, with a leading ``trial`` column."""
        import pandas as pd

        frames = []
        for n in numbers:
            f = self.layer_table(int(n))
            f.insert(0, "trial", int(n))
            frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else layer_table({}).assign(trial=[])

    def _estimate_of(self, layers: list[Any]) -> dict[str, Any] | None:
        from cost_models.layers import Target, layers_from_dicts
        from dse.scoring import estimate_dict

        hw = self.space.hardware
        try:
            target = Target(part=hw.part, clock_period_ns=hw.clock_period_ns, backend=hw.backend,
                            tool_version=hw.tool_version)
            return estimate_dict(layers_from_dicts(layers), target, None)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("cannot estimate the layers of %s: %s", self.path, exc)
            return None

    def hypervolume_history(self, objectives: Iterable[ObjectiveSpec] | None = None) -> Any:
        """Normalised hypervolume after each trial (see ``dse.analysis.hypervolume_history``)."""
        return hypervolume_history(self.trials, resolve_objectives(objectives, self.space))

    def importances(self) -> tuple[Any, dict[str, str]]:
        """Parameter importances per objective (fANOVA, seeded): ``(DataFrame, problems)``.

        The DataFrame has one row per parameter and one column per objective (importances sum
        to 1 per column). ``problems`` maps an objective to why it could not be computed (too
        few complete trials, no parameter varies, ...); it never raises for those. Computed once per
        ``refresh`` (fANOVA fits a forest per objective: seconds; the report's table and figure share it).
        """
        if self._importances is None:
            self._importances = self._compute_importances()
        frame, problems = self._importances
        return frame.copy(), dict(problems)

    def _compute_importances(self) -> tuple[Any, dict[str, str]]:
        import pandas as pd

        problems: dict[str, str] = {}
        cols: dict[str, Any] = {}
        study = self.study
        complete = [t for t in self.trial_views if t.state is TrialState.COMPLETE and t.values is not None]
        for i, o in enumerate(self.space.objectives):
            if study is None or len(complete) < 2:
                problems[o.metric] = f"needs at least 2 complete trials, the run has {len(complete)}"
                continue
            try:
                imp = param_importances(study, i)
            except Exception as exc:  # Optuna raises ValueError/RuntimeError for degenerate studies
                problems[o.metric] = f"{type(exc).__name__}: {exc}"
                continue
            if not imp:
                problems[o.metric] = "no parameter varies over the complete trials"
                continue
            cols[o.metric] = pd.Series(imp, dtype=float)
        frame = pd.DataFrame(cols)
        if not frame.empty:
            frame = frame.fillna(0.0).sort_values(list(frame.columns)[0], ascending=False)
        return frame, problems

    def summary(self) -> str:
        """A few lines: name, part, trial counts, front size, synthesis records."""
        c = self.counts()
        synth = self.synthesis
        n_ok = int((synth["status"] == "ok").sum()) if not synth.empty else 0
        return (f"run {self.space.name} at {self.path}\n"
                f"part {self.space.hardware.part}, {self.space.hardware.backend}, "
                f"{self.space.hardware.clock_period_ns:g} ns clock, {io_type_text(self.space.hardware)}\n"
                f"objectives: {', '.join(f'{o.metric} ({o.direction})' for o in self.space.objectives)}; "
                f"constraints: {', '.join(map(str, self.space.constraints)) or 'none'}\n"
                f"trials: {c['COMPLETE']} complete, {c['PRUNED']} pruned, {c['FAIL']} failed, "
                f"{c['RUNNING']} running; front: {int(self.trials['on_front'].sum())} design(s)\n"
                f"synthesis: {len(synth)} record(s), {n_ok} ok")

    # ------------------------------------------------------------------ plots (matplotlib Figures)
    def plot_pareto(self, cost: str = "dsp", quality: str = "accuracy") -> Any:
        """Accuracy against one cost (see ``dse.analysis.plots.pareto_figure``)."""
        return pareto_figure(self, cost, quality)

    def plot_hypervolume(self) -> Any:
        """Normalised hypervolume over trials (see ``dse.analysis.plots.hypervolume_figure``)."""
        return hypervolume_figure(self)

    def plot_parity(self) -> Any:
        """Estimated against synthesized, before and after calibration (``dse.analysis.plots.parity_figure``)."""
        return parity_figure(self)

    def plot_importances(self) -> Any:
        """Parameter importances per objective (``dse.analysis.plots.importance_figure``)."""
        return importance_figure(self)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_run(path: str | Path) -> Run:
    """Open the run folder at ``path`` for analysis; raises ``RunFolderError`` for a missing folder,
    a folder that is not a dse run, or one written in another run-folder format."""
    return Run(RunFolder.open(path))
