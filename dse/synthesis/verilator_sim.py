"""Bit-exact simulation of a written da4ml project with Verilator, in a child process.

da4ml's ``RTLModel.predict`` changes the working folder while it runs, so dse never calls it in its
own process: :func:`simulate` starts ``python _verilator_child.py PROJECT TOP``
with ``cwd=PROJECT`` and a timeout, and reads the outputs back.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from dse.errors import SynthesisFailed, SynthesisTimeout
from dse.synthesis.open_tools import RTL_TOP, verilator_env

__all__ = ["simulate"]

CHILD = Path(__file__).with_name("_verilator_child.py")


def simulate(project: Path, inputs: Any, timeout_s: float = 1800.0, top: str = RTL_TOP) -> Any:
    """Outputs of the Verilog in ``project`` for ``inputs`` (n_samples x n_in, float), as float64.

    Builds the Verilator model (``verilator-cli``'s binary; g++ and make) on the first call."""
    import numpy as np

    project = Path(project).resolve()
    sim = project / "sim"
    sim.mkdir(parents=True, exist_ok=True)
    np.save(sim / "inputs.npy", np.ascontiguousarray(inputs, dtype=np.float64))
    log = sim / "verilator.log"
    with open(log, "w", encoding="utf-8") as out:
        try:
            proc = subprocess.run([sys.executable, str(CHILD), str(project), top],
                                  cwd=project, env=verilator_env(), stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise SynthesisTimeout(f"the Verilator simulation did not finish within {timeout_s:g} s") from None
    if proc.returncode != 0:
        raise SynthesisFailed(f"the Verilator simulation failed with status {proc.returncode} (see {log})",
                              proc.returncode)
    return np.load(sim / "outputs.npy")
