"""The dse command in fresh interpreters (subprocesses) and data loading of every source: seconds each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from dse.space import load_space
from dse.training.data import load_dataset
from tests.helpers import tiny_space_dict
from tests.unit.test_config import ROOT
from tests.unit.test_validate_data import _csv, _npz, _space, _write


@pytest.mark.slow
def test_validate_into_a_closed_pipe_prints_no_traceback(tmp_path: Path) -> None:
    space = _space(tmp_path, {"path": str(_csv(tmp_path / "d.csv")), "label": "kind"})
    dse = Path(sys.executable).with_name("dse")
    proc = subprocess.run(f"'{dse}' validate '{space}' | head -1", shell=True, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "0"})
    assert proc.stdout.startswith("space 'tiny' is valid")
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr


def test_sample_shape_is_known_before_loading_and_matches_the_loaded_data(tmp_path: Path) -> None:
    from dse.training.data_checks import sample_shape

    cases = [
        {"source": "sklearn", "name": "digits"},
        {"source": "sklearn", "name": "digits", "shape": [8, 8, 1]},
        {"source": "generator", "name": "muon_strips", "generator": {"layers": 9, "strips": 40, "samples": 200}},
        {"source": "file", "path": str(_csv(tmp_path / "d.csv")), "label": "kind"},
        {"source": "file", "path": str(_csv(tmp_path / "d.csv")), "label": "kind", "features": ["f0", "f2"]},
        {"source": "file", "path": str(_npz(tmp_path / "i.npz", x=np.zeros((40, 5, 6), dtype=np.uint8),
                                            y=np.arange(40) % 2)), "label": "y"},
        {"source": "file", "path": str(_npz(tmp_path / "s.npz", x=np.ones((40, 5, 6)), y=np.arange(40) % 2)),
         "label": "y", "shape": [5, 6]},
        {"source": "file", "path": str(_npz(tmp_path / "t.npz", a=np.ones((40, 3)), b=np.ones(40),
                                            y=np.arange(40) % 2)), "label": "y"},
    ]
    expected = [(64,), (8, 8, 1), (9, 40, 1), (3,), (2,), (5, 6, 1), (5, 6), (4,)]
    for data, want in zip(cases, expected, strict=True):
        d = tiny_space_dict()
        d["data"] = {**data, "max_samples": 200} if data["source"] == "sklearn" else data
        path = tmp_path / "space.yaml"
        path.write_text(yaml.safe_dump(d, sort_keys=False))
        space = load_space(path)
        assert sample_shape(space.data) == want, data
        assert load_dataset(space.data).input_shape == want, data
    d = tiny_space_dict()
    d["data"] = {"source": "openml", "name": "higgs"}
    assert sample_shape(load_space(_write(tmp_path, d)).data) is None


def test_help_and_validate_do_not_import_tensorflow(imported_in_a_fresh_interpreter: dict[str, set[str]]) -> None:
    """``dse validate`` of the quickstart space in a fresh interpreter (tests/conftest.py, after the light
    imports) exits 0 without TensorFlow, QKeras, hls4ml, Ray or Optuna; ``python -m dse.commands.cli --help``."""
    validated = {k: v for k, v in imported_in_a_fresh_interpreter.items() if k.startswith("dse validate exit ")}
    assert list(validated) == ["dse validate exit 0"], validated
    heavy = validated["dse validate exit 0"] & {"tensorflow", "qkeras", "hls4ml", "ray", "optuna"}
    assert not heavy, sorted(heavy)
    out = subprocess.run([sys.executable, "-m", "dse.commands.cli", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "run" in out.stdout
