"""Test-bench data for an hls4ml project: ``tb_data/tb_input_features.dat`` and ``tb_output_predictions.dat``.

hls4ml's C simulation test bench (``myproject_test.cpp``) reads both files line by line: one sample
per line, values separated by single spaces, the inputs exactly as the model takes them (here the
standardised features) and the model's predictions (class probabilities) to compare with. With
them, ``csim`` and co-simulation run out of the box and print the firmware's outputs next to the
Keras model's.

An image or sequence sample is one line too: its values in C order, channels last (row by row,
each pixel's channels together), the order in which hls4ml 1.3's ``nnet::copy_data`` fills the
input array or the io_stream pixel packs, and in which hls4ml's own ``__make_dat_file`` flattens.
The Keras model is given the samples in its own input shape (a flat MLP input or images).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dse.store.atomic import atomic_write_text

log = logging.getLogger(__name__)

__all__ = ["INPUT_FILE", "OUTPUT_FILE", "TestBenchData", "read_dat", "write_tb_data"]

INPUT_FILE = "tb_input_features.dat"
OUTPUT_FILE = "tb_output_predictions.dat"
DEFAULT_MAX_SAMPLES = 1000
"""C simulation runs sample by sample; 1000 keeps ``csim`` to seconds."""


@dataclass(frozen=True)
class TestBenchData:
    inputs: Path
    predictions: Path
    n_samples: int


def _dat_text(rows: Any) -> str:
    return "".join(" ".join(f"{float(v):.9g}" for v in row) + "\n" for row in rows)


def write_tb_data(model: Any, x: Any, tb_dir: str | Path, max_samples: int = DEFAULT_MAX_SAMPLES) -> TestBenchData:
    """Write the first ``max_samples`` samples of ``x`` (features as the model takes them, flat or in any
    shape with the model's values per sample) and ``model``'s predictions on them into ``tb_dir``
    (atomically), one flat line per sample. Returns the two paths and the sample count."""
    import numpy as np

    from dse.training.data import as_model_input, flat

    xs = np.asarray(x, dtype=np.float32)[:max_samples]
    preds = np.asarray(model.predict(as_model_input(xs, model.input_shape[1:]), verbose=0)).reshape(len(xs), -1)
    xs = flat(xs)
    out = Path(tb_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / INPUT_FILE, _dat_text(xs))
    atomic_write_text(out / OUTPUT_FILE, _dat_text(preds))
    log.info("test bench data: %d samples in %s", len(xs), out)
    return TestBenchData(out / INPUT_FILE, out / OUTPUT_FILE, len(xs))


def read_dat(path: str | Path) -> Any:
    """A ``.dat`` test-bench file as a 2-D float array (one row per line), as the C test bench reads it."""
    import numpy as np

    rows = [[float(v) for v in line.split()] for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return np.asarray(rows, dtype=np.float64)
