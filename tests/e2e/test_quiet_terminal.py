"""A clean terminal: ``dse run``, ``dse export`` and ``dse estimate`` print no TensorFlow, absl, Keras or
Ray lines on stderr by default; ``--verbose`` brings logs back. Real subprocesses, real Ray, real TF."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import tiny_space_dict

NOISE = [
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "),         # TensorFlow C++ (tsl/xla/tensorflow)
    re.compile(r"[IWEF] (tensorflow|external)/"),
    re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d"),                            # absl C++ (E0000, W0000, I0000)
    re.compile(r"^(WARNING|INFO|ERROR):absl:"),                            # absl Python
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\s+(WARNING|INFO|ERROR) \w+\.py:\d+ --"),  # Ray's Python logs
    re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [IWE] \d+ \d+\]"),   # Ray's C++ logs
    re.compile(r"\((raylet|pid=\d+)|Token authentication"),
    re.compile(r"\w+Warning: "),                                            # Python warnings (Keras HDF5, ...)
    re.compile(r"To enable the following instructions|Could not find (cuda|TensorRT)|cuDNN|cuFFT|cuBLAS"),
    re.compile(r"Traceback"),
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS", "RAY_USAGE_STATS_ENABLED", "GLOG_minloglevel"):
        env.pop(key, None)  # prove that dse itself sets what it needs (conftest sets some for in-process tests)
    return env


def _dse(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    dse = Path(sys.executable).with_name("dse")
    return subprocess.run([str(dse), *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)


def _noise(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(p.search(line) for p in NOISE)]


@pytest.mark.slow
def test_run_export_and_estimate_print_no_library_noise(tmp_path: Path) -> None:
    d = tiny_space_dict()
    d["search"].update(n_trials=2, workers=1)
    d["hardware"]["part"] = "xc7a100tcsg324-1"  # Artix-7: no calibration of any tool ships for it
    space = tmp_path / "tiny.yaml"
    space.write_text(yaml.safe_dump(d, sort_keys=False))

    run = _dse("run", str(space), "--run-dir", "run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _noise(run.stderr) == [], run.stderr
    # what is left on stderr is dse's own: the calibration warning and one line per trial (not a terminal)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("WARNING dse.calibration: no calibration of the cost model for vitis")
    assert [line.split(":")[0] for line in lines[1:]] == ["[1/2] trial 0 complete", "[2/2] trial 1 complete"]
    assert "Budgets:" in run.stdout and "latency_ns <= 1000: 0 of 2 complete trials broke it" in run.stdout

    export = _dse("export", "run", "--trial", "0", "--out", "exp", cwd=tmp_path)
    assert export.returncode == 0, export.stderr
    assert export.stderr.strip() == "", export.stderr

    estimate = _dse("estimate", "--model", "exp/model.h5", "--hls-config", "exp/hls4ml_config.yml", cwd=tmp_path)
    assert estimate.returncode == 0, estimate.stderr
    assert estimate.stderr.strip() == "", estimate.stderr

    verbose = _dse("estimate", "--verbose", "--model", "exp/model.h5", "--hls-config", "exp/hls4ml_config.yml",
                   cwd=tmp_path)
    assert verbose.returncode == 0
    assert _noise(verbose.stderr), "--verbose brings the libraries' messages back"
