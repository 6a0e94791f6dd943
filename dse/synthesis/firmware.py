"""Firmware-verified accuracy: hls4ml ``compile()`` (bit-accurate C++ emulation, built with g++)
and the accuracy of that fixed-point model on the test set."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from dse.synthesis.jobs import SynthesisJob

DROP_WARNING = 0.02
"""A firmware accuracy lower than the QKeras accuracy by more than this (absolute) is flagged."""


def firmware_accuracy(job: SynthesisJob, hls4ml_backend: str, data: Any) -> float:
    """Accuracy of the compiled hls4ml model on ``data.x_test``/``data.y_test`` (a separate folder
    from the synthesis project, so the C++ build never disturbs it)."""
    import numpy as np

    from dse.synthesis.project import convert
    from dse.training.data import flat
    from dse.training.train import accuracy

    folder = Path(job.job_dir) / "firmware"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix="emu_") as tmp:
        hls_model = convert(job, hls4ml_backend, Path(tmp) / "prj")
        hls_model.compile()
        # one flat row per sample, channels last: how the C++ top function takes an image input
        prob = hls_model.predict(np.ascontiguousarray(flat(data.x_test), dtype=np.float64))
        prob = np.asarray(prob).reshape(len(data.x_test), -1)
        return accuracy(prob, data.y_test)
