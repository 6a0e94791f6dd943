"""Writing the hls4ml project of a trained candidate, and reading a synthesized project back."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from dse.design import hls4ml_adapter
from dse.design.hls4ml_adapter import Hls4mlTarget, load_keras_model_bytes
from dse.errors import ReportMissing, ReportUnreadable
from dse.synthesis.jobs import SynthesisJob, SynthesisResult

PROJECT_DIR = "hls4ml_prj"


def job_target(job: SynthesisJob, hls4ml_backend: str) -> Hls4mlTarget:
    """What hls4ml converts the job for (the backend named by the synthesis backend class)."""
    return Hls4mlTarget(hls4ml_backend, job.part, job.clock_period_ns, job.io_type)


def convert(job: SynthesisJob, hls4ml_backend: str, output_dir: Path) -> Any:
    """The hls4ml ModelGraph of the job (not yet written)."""
    model = load_keras_model_bytes(job.model_h5, job.job_dir)
    return hls4ml_adapter.convert(model, job.hls_config, job_target(job, hls4ml_backend), output_dir)


def write_hls4ml_project(job: SynthesisJob, hls4ml_backend: str) -> Path:
    """Write a fresh hls4ml project into ``job_dir/hls4ml_prj`` and return its path."""
    job_dir = Path(job.job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    project = job_dir / PROJECT_DIR
    if project.exists():
        shutil.rmtree(project)
    hls_model = convert(job, hls4ml_backend, project)
    hls_model.write()
    return project


def read_project_result(job: SynthesisJob, project: Path, tool: str) -> SynthesisResult:
    """Parse the synthesis reports of ``project`` into a ``SynthesisResult``.

    Raises ``ReportMissing`` when the tool wrote no csynth report and ``ReportUnreadable``
    when a report cannot be parsed.
    """
    from cost_models import ReportError, read_hls_project

    if not any(project.glob("**/*_csynth.xml")) and not any(project.glob("**/*_csynth.rpt")):
        raise ReportMissing(f"the tool wrote no *_csynth.xml or *_csynth.rpt report in {project}")
    try:
        record = read_hls_project(project)
    except ReportError as exc:
        raise ReportUnreadable(str(exc)) from None
    measured = {k: float(v) for k, v in record.metrics().items() if v is not None}
    clock = float(record.clock_period_ns or job.clock_period_ns)
    if "latency_cycles" in measured:
        measured["latency_ns"] = measured["latency_cycles"] * clock
    if record.post_synth:
        for k, v in record.post_synth.items():
            if isinstance(v, (int, float)):
                measured[f"post_synth_{k}"] = float(v)
    return SynthesisResult(trial=job.trial, measured=measured, tool=tool, tool_version=record.tool_version,
                           part=record.part, clock_period_ns=clock, report_files=[record.source],
                           per_layer=list(record.layer_rows))
