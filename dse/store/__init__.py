"""The run folder: every path and write (``RunFolder``), typed records, atomic I/O, the writer lock, and
what dse reads of a trial (``TrialView``, made by ``dse.store.study_reader``, the study's one reader)."""

from __future__ import annotations

from dse.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text, file_mode, read_json
from dse.store.lock import RunLock, RunLockedError, read_lock_holder, refuse_if_held
from dse.store.records import SynthesisRecord, TrialRecord, params_key
from dse.store.run_folder import (
    REPORT_FIGURES_DIR,
    REPORT_FILES,
    RUN_FORMAT,
    RUNS_ROOT,
    STUDY_NAME,
    RunFolder,
    package_versions,
    run_dir_for,
    validate_run_name,
)
from dse.store.trial_view import TrialState, TrialStatus, TrialView

__all__ = [
    "REPORT_FIGURES_DIR", "REPORT_FILES", "RUNS_ROOT", "RUN_FORMAT", "STUDY_NAME", "RunFolder", "RunLock",
    "RunLockedError", "SynthesisRecord", "TrialRecord", "TrialState", "TrialStatus", "TrialView",
    "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "file_mode", "package_versions",
    "params_key", "read_json", "read_lock_holder", "refuse_if_held", "run_dir_for", "validate_run_name",
]
