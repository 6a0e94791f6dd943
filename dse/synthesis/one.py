"""``dse synth RUN --trial N``: synthesize one finished trial now, in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dse.errors import ConfigError, RunFolderError
from dse.store import RunFolder, RunLock
from dse.store.trial_view import TrialState


def synthesize_trial(run_dir: str | Path, trial: int, backend: str | None = None, timeout_s: float | None = None,
                     vsynth: bool | None = None, firmware: bool = True, executable: str | None = None
                     ) -> dict[str, Any]:
    """Synthesize trial ``trial`` of the run, write its record, and return the record (as stored).

    Holds the run's writer lock: refused (``RunLockedError``) while a search runs on it."""
    folder = RunFolder.open(run_dir)
    with RunLock(folder.path):
        return _synthesize(folder, trial, backend, timeout_s, vsynth, firmware, executable)


def _synthesize(folder: RunFolder, trial: int, backend: str | None, timeout_s: float | None, vsynth: bool | None,
                firmware: bool, executable: str | None) -> dict[str, Any]:
    from dse.store.study_reader import read_trials
    from dse.synthesis.loop import complete_record, make_job
    from dse.synthesis.runner import run_job
    from dse.training.data import load_dataset

    space = folder.load_space()
    s = space.synthesis
    s = s.model_copy(update={
        "backend": backend or (s.backend if s.backend != "none" else space.hardware.backend),
        "timeout_s": timeout_s or s.timeout_s, "vsynth": s.vsynth if vsynth is None else vsynth,
        "executable": executable or s.executable})
    space = space.model_copy(update={"synthesis": s})
    numbers = {t.number: t for t in read_trials(folder)}
    if trial not in numbers:
        raise ConfigError(f"the run has no trial {trial} (it has {len(numbers)} trials)")
    if numbers[trial].state is not TrialState.COMPLETE:
        raise ConfigError(f"trial {trial} is {numbers[trial].state.value.lower()}, not complete: nothing to synthesize")
    if folder.synthesis_record_path(trial).exists():
        raise RunFolderError(f"trial {trial} is already synthesized: {folder.synthesis_record_path(trial)}")
    job = make_job(folder, space, trial)
    data = load_dataset(space.data) if firmware else None
    record = run_job(job, retries=1, test_data=data)
    complete_record(record, numbers[trial])
    folder.write_synthesis_record(record)
    return record.to_dict()
