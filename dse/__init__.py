"""dse: a design-space explorer for quantized neural networks on FPGAs.

Heavy packages (TensorFlow, QKeras, hls4ml, Ray) are imported only where used, so
``import dse`` and ``dse --help`` are fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "load_run"]


def load_run(path: Any) -> Any:
    """Open a run folder for analysis (see ``dse.analysis.Run``)."""
    from dse.analysis.run import load_run as _load_run

    return _load_run(path)
