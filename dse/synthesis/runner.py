"""Synthesis jobs as Ray tasks: concurrency cap, CPUs and custom resources per job, retries,
timeouts, one working folder per job. Failures come back as data, never as exceptions."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from dse.errors import (
    ReportMissing,
    ReportUnreadable,
    SynthesisError,
    SynthesisFailed,
    SynthesisTimeout,
    ToolNotFoundError,
)
from dse.store.records import SynthesisRecord
from dse.synthesis.base import SynthesisBackend, get_backend
from dse.synthesis.jobs import SynthesisJob

log = logging.getLogger(__name__)

TRANSIENT_MARKERS = ("license", "resource temporarily unavailable", "cannot allocate memory", "connection reset")


def run_job(job: SynthesisJob, retries: int = 1, test_data: Any = None) -> SynthesisRecord:
    """Run one job in this process (what the Ray task does). Retries transient tool failures."""
    start = time.perf_counter()
    out = SynthesisRecord(trial=job.trial, status="failed", node=os.uname().nodename, job_dir=job.job_dir,
                           ray_node_id=_ray_node_id())
    backend = get_backend(job.backend, job.executable)
    out.tool = backend.name
    out.tool_family = backend.family()
    log_path = Path(job.job_dir) / "synthesis.log"
    for attempt in range(1, retries + 2):
        out.attempts = attempt
        try:
            project = backend.prepare(job)
            if test_data is not None:
                _firmware_accuracy(backend, job, project, test_data, out)
            backend.run(job, project, log_path)
            result = backend.read(job, project)
            out.status, out.measured = "ok", result.measured
            out.tool_version, out.part, out.clock_period_ns = result.tool_version, result.part, result.clock_period_ns
            out.error = ""
            break
        except SynthesisFailed as exc:
            out.status, out.error = "failed", str(exc)
            if attempt <= retries and _is_transient(log_path):
                log.warning("trial %d: transient synthesis failure, retrying (%s)", job.trial, exc)
                continue
            break
        except SynthesisError as exc:  # missing tool, timeout, missing or unreadable report: not retried
            out.status, out.error = _status_of(exc), str(exc)
            break
        except Exception as exc:  # hls4ml or the file system failed: record it, never crash the study
            out.status, out.error = "failed", "".join(traceback.format_exception(exc))[-4000:]
            break
    out.log_tail = _tail(log_path)
    out.seconds = time.perf_counter() - start
    return out


def _status_of(exc: SynthesisError) -> str:
    for cls, status in ((ToolNotFoundError, "tool_missing"), (SynthesisTimeout, "timeout"),
                        (ReportMissing, "no_report"), (ReportUnreadable, "bad_report")):
        if isinstance(exc, cls):
            return status
    return "failed"


def _ray_node_id() -> str:
    """The Ray node running this job, "" outside Ray. A Ray worker has imported ``ray``; a process that
    has not is not inside Ray, and does not pay Ray's import (seconds) to learn it."""
    ray = sys.modules.get("ray")
    if ray is None:
        return ""
    try:
        return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else ""
    except Exception:  # not inside Ray
        return ""


def _firmware_accuracy(backend: SynthesisBackend, job: SynthesisJob, project: Path, data: Any,
                       out: SynthesisRecord) -> None:
    """Score the backend's bit-accurate model of the firmware on the test set (hls4ml's C++
    emulation for the HLS tools, a Verilator simulation of the Verilog for Yosys)."""
    try:
        out.firmware_accuracy = backend.firmware_accuracy(job, project, data)
    except Exception as exc:  # a failed check is recorded, synthesis goes on
        out.firmware_error = str(exc)[-2000:]


def _is_transient(log_path: Path) -> bool:
    text = _tail(log_path, 20000).lower()
    return any(m in text for m in TRANSIENT_MARKERS)


def _tail(path: Path, n: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def synthesis_task(num_cpus: int, resources: dict[str, float]) -> Any:
    """The Ray remote function for a synthesis job, placed by ``num_cpus`` and custom ``resources``
    (e.g. ``{"hls_tool": 1}`` so that jobs land only on nodes that have the tool).
    ``max_retries`` covers a worker process dying; tool failures are retried inside ``run_job``."""
    import ray

    return ray.remote(num_cpus=num_cpus, resources=resources or {}, max_retries=1)(run_job)
