"""The run folder ``runs/<name>/``: layout, creation, compatibility checks and atomic writes.

Layout (format 1)::

    meta.json            format version, study name, storage URL, created/updated times
    space.yaml           the resolved space (every default filled in)
    space.source.yaml    the space file as the user wrote it
    versions.json        dse, TensorFlow, QKeras, hls4ml, Optuna, Ray, NumPy, Python
    study.db             the Optuna study (SQLite), unless another storage URL was given
    trials.csv           one row per trial, rewritten after every finished trial
    dse.log              the log of every session on this run
    calibration.json     the current cost-model calibration (when synthesis records exist)
    trials/00007/        params.json, metrics.json, estimate.json, layers.json,
                         hls_config.json, history.json, model.h5 (or error.txt)
    synthesis/           records and job folders of real HLS runs
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from dse._io import atomic_write_json, atomic_write_text, read_json
from dse.config import SpaceConfig
from dse.errors import ConfigError, RunFolderError

log = logging.getLogger(__name__)

RUN_FORMAT = 1
STUDY_NAME = "dse"
_PACKAGES = ("dse", "tensorflow", "qkeras", "tensorflow-model-optimization", "hls4ml", "optuna", "ray", "numpy",
             "pandas", "scikit-learn")


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

    def trial_dir(self, number: int) -> Path:
        return self.trials_dir / f"{number:05d}"

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
        if folder.path.exists() and any(folder.path.iterdir()):
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

    def set_study_name(self, name: str) -> None:
        meta = self.meta
        meta["study_name"] = name
        atomic_write_json(self.meta_path, meta)

    def storage_url(self) -> str:
        return str(self.meta["storage"])

    def load_space(self) -> SpaceConfig:
        """The space this run was made with (from space.source.yaml)."""
        from dse.config import parse_space_text

        src = self.path / "space.source.yaml"
        base = self.meta.get("space_base_dir")
        return parse_space_text(src.read_text(), file=str(src), base_dir=Path(base) if base else self.path)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)
