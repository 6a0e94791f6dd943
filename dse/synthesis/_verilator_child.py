"""Child process of ``dse.synthesis.verilator_sim.simulate`` (run by path, imports nothing from dse).

``python _verilator_child.py PROJECT TOP``, with cwd = PROJECT: builds the Verilator model of the
da4ml project (da4ml's harness) and writes ``sim/outputs.npy`` for ``sim/inputs.npy``. da4ml's
``predict`` changes the working folder, which is why it runs here and not in dse's process.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(project: str, top: str) -> None:
    import numpy as np
    from da4ml.cmvm.types import Pipeline
    from da4ml.codegen.rtl import VerilogModel

    folder = Path(project)
    pipe = Pipeline.load(str(folder / "model" / "pipeline.json"))
    model = VerilogModel(pipe, top, folder)
    model._compile(openmp=False, nproc=1)
    x = np.load(folder / "sim" / "inputs.npy")
    np.save(folder / "sim" / "outputs.npy", np.asarray(model.predict(x), dtype=np.float64))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
