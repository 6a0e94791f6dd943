"""hls4ml → Vitis HLS and Vivado HLS, called the way hls4ml 1.3's own ``build()`` calls them.
Registered by dse/synthesis/__init__.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from dse.synthesis.base import SynthesisBackend
from dse.synthesis.jobs import SynthesisJob


class VitisBackend(SynthesisBackend):
    """Vitis HLS: ``vitis-run --tcl build_prj.tcl --mode hls`` (hls4ml 1.3) or ``vitis_hls -f build_prj.tcl``,
    with the build options in ``build_opt.tcl`` (C synthesis, optionally Vivado logic synthesis)."""

    name: ClassVar[str] = "vitis"
    executable_names: ClassVar[tuple[str, ...]] = ("vitis-run", "vitis_hls")
    hls4ml_backend: ClassVar[str] = "Vitis"

    def before_run(self, job: SynthesisJob, project: Path) -> None:
        super().before_run(job, project)
        opts = {"reset": 1, "csim": 0, "synth": 1, "cosim": 0, "validation": 0, "export": 0,
                "vsynth": int(job.vsynth), "fifo_opt": 0}
        body = "".join(f"    {k:<10} {v}\n" for k, v in opts.items())
        (project / "build_opt.tcl").write_text("array set opt {\n" + body + "}\n")

    def command(self, executable: str, job: SynthesisJob, project: Path) -> list[str]:
        if os.path.basename(executable).startswith("vitis_hls"):
            return [executable, "-f", "build_prj.tcl"]
        return [executable, "--tcl", "build_prj.tcl", "--mode", "hls"]


class VivadoBackend(SynthesisBackend):
    """Vivado HLS: ``vivado_hls -f build_prj.tcl "reset=1 csim=0 synth=1 … vsynth=0|1 …"``."""

    name: ClassVar[str] = "vivado"
    executable_names: ClassVar[tuple[str, ...]] = ("vivado_hls",)
    hls4ml_backend: ClassVar[str] = "Vivado"

    def command(self, executable: str, job: SynthesisJob, project: Path) -> list[str]:
        opts = (f"reset=1 csim=0 synth=1 cosim=0 validation=0 export=0 vsynth={int(job.vsynth)} fifo_opt=0")
        return [executable, "-f", "build_prj.tcl", opts]
