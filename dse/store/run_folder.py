"""The run folder ``runs/<name>/``: layout, creation, compatibility checks and atomic writes.

Layout (format 1), with the one writer of each file. "The holder" is the process holding the writer
lock (``dse.store.lock``): the search driver (``dse run``), ``dse calibrate RUN`` or ``dse synth RUN``::

    file                   writer (RunFolder method)                    when
    .lock                  RunLock                                      held for a writer's whole life
    meta.json              the driver (prepare, set_study_name)         creation, resume, recalibration
    space.yaml             the driver (prepare -> write_space)          creation, resume
    space.source.yaml      the driver (prepare -> write_space)          creation, resume
    versions.json          the driver (prepare)                         creation
    study.db               the driver's searcher (create_storage_file,  every ask and tell
                           then Optuna)
    trials.csv             the holder (write_trials_csv); ``dse report`` after every finished trial;
                           takes the lock for this one write            on report, while no search runs
                           (refresh_trials_csv)
    dse.log                the driver's log handler (log_path)          every session
    calibration.json       the holder (save_calibration): the driver's  after each synthesis batch;
                           synthesis loop or ``dse calibrate RUN``      on ``dse calibrate``
    trials/00007/          the driver (write_trial, write_estimate)     a finished trial; a rescore
                           params.json, metrics.json, estimate.json, layers.json, hls_config.json,
                           history.json, model.h5 (or error.txt), and record.json (a ``TrialRecord``,
                           written last: the trial is complete)
    synthesis/records/     the holder (write_synthesis_record):         each synthesis
                           NNNNN.json (``SynthesisRecord``)
    synthesis/logs/        the holder (write_synthesis_record): NNNNN.log, the tool log's tail
    synthesis/jobs/NNNNN/  the synthesis job of trial NNNNN (synthesis_job_dir: hls4ml or da4ml
                           project, tool logs), run by the holder
    pareto.csv, front_layers.csv, report.md, report.html, report_figures/*.png
                           ``dse report`` (write_report_file)           whenever it is run

Every write goes through this class, atomically, with the mode the umask gives (a synthesis job's
folder is the tool's working folder: the tool writes it).

The lock rules (``dse.store.lock``): the process holding ``.lock`` (a driver) is the only writer
of the run's files. A reader (``dse report``, ``load_run``) never waits for the lock and writes
only (a) the report's own files (``REPORT_FILES`` and ``report_figures/``), which no driver
writes, each atomically, so a report of a run in progress is safe; and (b) ``trials.csv``, and
only by taking the lock for that one write (``refresh_trials_csv``): while a driver holds it the
reader leaves ``trials.csv`` to the driver, which rewrites it after every finished trial. Both
write the same table (``dse.analysis.run.Run.trials_csv``), so ``trials.csv`` has one column set
whoever writes it (the driver byte for byte, refreshing only the rows that changed:
``dse.analysis.trials_csv``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from dse.errors import ConfigError, RunFolderError
from dse.space import SpaceConfig
from dse.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text, file_mode, read_json
from dse.store.lock import LOCK_NAME, RunLock, RunLockedError
from dse.store.records import SynthesisRecord, TrialRecord

log = logging.getLogger(__name__)

RUN_FORMAT = 1
STUDY_NAME = "dse"
_PACKAGES = ("dse", "tensorflow", "qkeras", "tensorflow-model-optimization", "hls4ml", "optuna", "ray", "numpy",
             "pandas", "scikit-learn")


RUNS_ROOT = Path("runs")

REPORT_FILES = ("pareto.csv", "front_layers.csv", "report.md", "report.html")
"""The files of ``dse report`` at the top of the run folder (no driver writes them)."""
REPORT_FIGURES_DIR = "report_figures"
"""The folder of the report's figures (``report_figures/<section>.png``)."""


def validate_run_name(name: str, root: str | Path = RUNS_ROOT) -> str:
    """``name`` if it names a folder directly inside ``root``; else ConfigError (exit 2).

    Refused: empty, ``.``, ``..``, path separators, anything resolving outside ``root``."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("the run name is empty; give --name NAME or a 'name:' in the space file")
    if name in (".", "..") or "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        raise ConfigError(f"the run name {name!r} is not a plain folder name (no '.', '..' or path separators)")
    base = Path(root).resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise ConfigError(f"the run name {name!r} resolves to {target}, outside {base}")
    return name


def run_dir_for(name: str, root: str | Path = RUNS_ROOT) -> Path:
    """The run folder of a run name: ``runs/<name>`` (the name checked by ``validate_run_name``)."""
    return Path(root) / validate_run_name(name, root)


def package_versions() -> dict[str, str]:
    """Installed versions of the stack, read from package metadata (nothing heavy is imported)."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class RunFolder:
    """A run folder on disk. Use ``RunFolder.open`` for an existing one, ``prepare`` to make or resume."""

    def __init__(self, path: Path):
        self.path = Path(path)

    # ------------------------------------------------------------------ paths
    @property
    def meta_path(self) -> Path:
        return self.path / "meta.json"

    @property
    def trials_dir(self) -> Path:
        return self.path / "trials"

    @property
    def synthesis_dir(self) -> Path:
        return self.path / "synthesis"

    @property
    def calibration_path(self) -> Path:
        return self.path / "calibration.json"

    @property
    def log_path(self) -> Path:
        return self.path / "dse.log"

    @property
    def trials_csv(self) -> Path:
        return self.path / "trials.csv"

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_NAME

    @property
    def records_dir(self) -> Path:
        return self.synthesis_dir / "records"

    def trial_dir(self, number: int) -> Path:
        return self.trials_dir / f"{number:05d}"

    def synthesis_record_path(self, trial: int) -> Path:
        return self.records_dir / f"{trial:05d}.json"

    def synthesis_job_dir(self, trial: int, root: Path | None = None) -> Path:
        """The job folder of trial ``trial``'s synthesis (``synthesis/jobs/NNNNN``, or under ``root``)."""
        return (root if root is not None else self.synthesis_dir / "jobs") / f"{trial:05d}"

    def default_storage(self) -> str:
        return f"sqlite:///{(self.path / 'study.db').resolve()}"

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """Open an existing run folder, checking that this dse can read its format."""
        folder = cls(Path(path))
        if not folder.path.is_dir():
            raise RunFolderError(f"no run folder at {folder.path}")
        if not folder.meta_path.exists():
            raise RunFolderError(f"{folder.path} is not a dse run folder (no meta.json)")
        try:
            meta = read_json(folder.meta_path)
        except (OSError, json.JSONDecodeError) as exc:
            raise RunFolderError(f"cannot read {folder.meta_path}: {exc}") from None
        fmt = meta.get("format") if isinstance(meta, dict) else None
        if fmt != RUN_FORMAT:
            writer = meta.get("dse_version", "an unknown version") if isinstance(meta, dict) else "an unknown version"
            newer = isinstance(fmt, int) and fmt > RUN_FORMAT
            raise RunFolderError(
                f"{folder.path} was written by dse {writer} in run-folder format {fmt!r}; this dse reads format "
                f"{RUN_FORMAT}. " + ("Upgrade dse to read it." if newer else
                                     "Re-run the search with this dse, or use the dse version that wrote it."))
        return folder

    @property
    def meta(self) -> dict[str, Any]:
        data = read_json(self.meta_path)
        assert isinstance(data, dict)
        return data

    @staticmethod
    def check_target(path: str | Path) -> None:
        """Refuse (ConfigError) a path that is a file, or a non-empty folder that is not a run folder."""
        p = Path(path)
        if p.exists() and not p.is_dir():
            raise ConfigError(f"{p} is a file, not a run folder; choose another --run-dir")
        if p.is_dir() and not (p / "meta.json").exists() and any(x.name != LOCK_NAME for x in p.iterdir()):
            raise ConfigError(f"{p} exists and is not a dse run folder; choose another --run-dir")

    @classmethod
    def prepare(cls, path: str | Path, space: SpaceConfig, source_text: str, storage: str | None) -> tuple[
            RunFolder, bool]:
        """Create the folder for ``space`` or check that the existing one is a resume of it.

        Returns ``(folder, resumed)``. A folder made from a different space is refused (its
        data is never touched): changing the space changes the study.
        """
        folder = cls(Path(path))
        if folder.meta_path.exists():
            folder = cls.open(path)
            stored = yaml.safe_load((folder.path / "space.yaml").read_text())
            identity = _canonical(space.search_identity())
            if _canonical(stored.get("_identity", {})) != identity:
                raise ConfigError(
                    f"{folder.path} holds a study of a different search space; resume needs the same space "
                    "(n_trials, workers, timeout and synthesis may change). Use another --run-dir or --name.")
            meta = folder.meta
            if storage and meta.get("storage") != storage:
                raise ConfigError(f"{folder.path} uses the study storage {meta.get('storage')!r}; "
                                  f"got --storage {storage!r}")
            meta["resumed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            atomic_write_json(folder.meta_path, meta)
            folder.write_space(space, source_text)
            return folder, True
        if folder.path.exists() and any(p.name != LOCK_NAME for p in folder.path.iterdir()):
            raise ConfigError(f"{folder.path} exists and is not a dse run folder; choose another --run-dir")
        folder.path.mkdir(parents=True, exist_ok=True)
        folder.write_space(space, source_text)
        atomic_write_json(folder.path / "versions.json", package_versions())
        atomic_write_json(folder.meta_path, {
            "format": RUN_FORMAT, "dse_version": package_versions()["dse"], "study_name": STUDY_NAME,
            "storage": storage or folder.default_storage(), "name": space.name,
            "space_base_dir": str(Path(space.source_file).resolve().parent) if space.source_file else None,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "argv": sys.argv,
        })
        return folder, False

    def write_space(self, space: SpaceConfig, source_text: str) -> None:
        resolved = space.to_dict()
        resolved["_identity"] = space.search_identity()
        atomic_write_text(self.path / "space.yaml", yaml.safe_dump(resolved, sort_keys=False))
        atomic_write_text(self.path / "space.source.yaml", source_text)

    @property
    def study_name(self) -> str:
        """The current study: ``dse``, then ``dse-c1``, ``dse-c2`` … after each recalibration
        (finished trials are carried into the new study with re-scored objectives)."""
        return str(self.meta.get("study_name", STUDY_NAME))

    def set_study_name(self, name: str, **extra: Any) -> None:
        """Switch to study version ``name`` (one atomic write of meta.json, with ``extra`` keys)."""
        meta = self.meta
        meta["study_name"] = name
        meta.update(extra)
        atomic_write_json(self.meta_path, meta)

    def storage_url(self) -> str:
        return str(self.meta["storage"])

    def load_space(self) -> SpaceConfig:
        """The space this run was made with (from space.source.yaml)."""
        from dse.space import parse_space_text

        src = self.path / "space.source.yaml"
        base = self.meta.get("space_base_dir")
        return parse_space_text(src.read_text(), file=str(src), base_dir=Path(base) if base else self.path)


    # ------------------------------------------------------------------ trials
    def write_trial(self, record: TrialRecord, *, layers: list[dict[str, Any]] | None = None,
                    hls_config: dict[str, Any] | None = None, estimate: dict[str, Any] | None = None,
                    model_h5: bytes = b"", history: dict[str, Any] | None = None, error_text: str = "") -> None:
        """Write a finished trial's files, ``record.json`` last (its presence means the others are complete)."""
        tdir = self.trial_dir(record.number)
        atomic_write_json(tdir / "params.json", {"params": record.params, "candidate": record.candidate,
                                                 "seed": record.seed})
        atomic_write_json(tdir / "metrics.json", record.metrics)
        if history:
            atomic_write_json(tdir / "history.json", history)
        if layers is not None:
            atomic_write_json(tdir / "layers.json", layers)
        if hls_config is not None:
            atomic_write_json(tdir / "hls_config.json", hls_config)
        if estimate is not None:
            atomic_write_json(tdir / "estimate.json", estimate)
        if model_h5:
            atomic_write_bytes(tdir / "model.h5", model_h5)
        if error_text:
            atomic_write_text(tdir / "error.txt", error_text)
        atomic_write_json(tdir / "record.json", record.to_dict())

    def read_trial_record(self, number: int) -> TrialRecord | None:
        """The trial's record, or None when the trial never finished writing its folder."""
        path = self.trial_dir(number) / "record.json"
        try:
            return TrialRecord.from_dict(read_json(path))
        except (OSError, json.JSONDecodeError, TypeError):
            return None

    def read_layers(self, number: int) -> list[dict[str, Any]]:
        return list(read_json(self.trial_dir(number) / "layers.json"))

    def write_estimate(self, number: int, estimate: dict[str, Any]) -> None:
        atomic_write_json(self.trial_dir(number) / "estimate.json", estimate)

    def write_trials_csv(self, text: str) -> None:
        """Rewrite ``trials.csv`` (``Run.trials_csv``; the driver keeps it up to date through
        ``dse.analysis.trials_csv.TrialsCsv``). For the lock holder (the driver) only."""
        atomic_write_text(self.trials_csv, text)

    def refresh_trials_csv(self, text: str) -> bool:
        """For a reader (``dse report``): rewrite ``trials.csv`` under the writer lock, taken for this
        one write. Returns False, writing nothing, while another process (a driver) holds the lock:
        ``trials.csv`` is then the driver's, rewritten after every finished trial."""
        try:
            with RunLock(self.path):
                self.write_trials_csv(text)
        except RunLockedError:
            log.info("%s is being written by a running search: trials.csv is left to it", self.path)
            return False
        return True

    # ------------------------------------------------------------------ report
    def report_path(self, name: str) -> Path:
        """Where the report file ``name`` goes: one of ``REPORT_FILES`` or ``report_figures/<key>.png``.
        Any other name is refused (ValueError): the report never writes a file of the run."""
        parts = name.split("/")
        ok = name in REPORT_FILES or (len(parts) == 2 and parts[0] == REPORT_FIGURES_DIR
                                      and parts[1].endswith(".png") and parts[1] not in ("", ".png")
                                      and "\\" not in parts[1] and not parts[1].startswith("."))
        if not ok:
            raise ValueError(f"{name!r} is not a report file (those are {', '.join(REPORT_FILES)} and "
                             f"{REPORT_FIGURES_DIR}/*.png)")
        return self.path / name

    def write_report_file(self, name: str, data: str | bytes) -> Path:
        """Write one file of ``dse report`` atomically (text as UTF-8) and return its path. Allowed while a
        driver holds the lock: no driver writes these files. ``name`` as in ``report_path``."""
        path = self.report_path(name)
        atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
        return path

    # ------------------------------------------------------------------ synthesis
    def write_synthesis_record(self, record: SynthesisRecord) -> Path:
        path = self.synthesis_record_path(record.trial)
        atomic_write_json(path, record.to_dict())
        if record.log_tail:
            atomic_write_text(self.synthesis_dir / "logs" / f"{record.trial:05d}.log", record.log_tail)
        return path

    def synthesis_records(self) -> list[SynthesisRecord]:
        """Every synthesis record, oldest trial first; unreadable files are skipped with a warning."""
        return [record for _, record in self.synthesis_record_files()]

    def synthesis_record_files(self) -> list[tuple[Path, SynthesisRecord]]:
        """Every synthesis record with its file, oldest trial first (file name order). A file that is
        not JSON, not an object, or lacks ``trial`` or ``status`` is skipped with a warning."""
        out: list[tuple[Path, SynthesisRecord]] = []
        if not self.records_dir.is_dir():
            return out
        for path in sorted(self.records_dir.glob("*.json")):
            try:
                data = read_json(path)
                if not isinstance(data, dict) or "trial" not in data:
                    raise TypeError("not a synthesis record (a JSON object with a 'trial')")
                out.append((path, SynthesisRecord.from_dict(data)))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping unreadable synthesis record %s: %s", path, exc)
        return out

    def synthesis_records_key(self) -> tuple[tuple[str, int, int], ...]:
        """Which synthesis records the folder holds, as (file name, mtime in ns, size in bytes) of each: changes
        whenever a record is written or removed (without reading one)."""
        if not self.records_dir.is_dir():
            return ()
        out = []
        for path in self.records_dir.glob("*.json"):
            try:
                st = path.stat()
            except OSError:  # removed meanwhile
                continue
            out.append((path.name, st.st_mtime_ns, st.st_size))
        return tuple(sorted(out))

    def synthesized_trials(self) -> set[int]:
        """Trials with a record, whatever its status: a design is never synthesized twice."""
        return {r.trial for r in self.synthesis_records()}

    def save_calibration(self, calibration: Any) -> None:
        """Write ``calibration.json`` atomically (``calibration`` is a ``cost_models.Calibration``)."""
        tmp = self.path / f".calibration.{os.getpid()}.tmp"
        calibration.save(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, self.calibration_path)

    def calibration_digest(self) -> str | None:
        """SHA-256 of calibration.json (None without one): which calibration a study version used."""
        path = self.calibration_path
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)
