from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED_REPORTS = ROOT.parent / "shared" / "data" / "hls4ml_reports"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def tiny_space_dict(**overrides: object) -> dict:
    """A space that trains in about a second per trial: 400 digits, 2 epochs, tiny MLPs."""
    d = yaml.safe_load((ROOT / "search_spaces" / "quickstart.yaml").read_text())
    d["name"] = "tiny"
    d["data"]["max_samples"] = 400
    d["model"]["hidden_layers"] = 1
    d["model"]["width"] = [8, 16]
    d["training"]["epochs"] = 2
    d["training"]["early_stopping"] = False
    d["search"]["n_trials"] = 4
    d["search"]["workers"] = 2
    d["constraints"] = ["latency_ns <= 1000"]
    for key, value in overrides.items():
        cur = d
        parts = key.split("__")
        for p in parts[:-1]:
            cur = cur[p]
        cur[parts[-1]] = value
    return d


@pytest.fixture
def tiny_space_file(tmp_path: Path):
    def make(**overrides: object) -> Path:
        path = tmp_path / "tiny.yaml"
        path.write_text(yaml.safe_dump(tiny_space_dict(**overrides), sort_keys=False))
        return path

    return make


STANDIN = ROOT / "tests" / "standin" / "fake_hls.py"


class FakeTool:
    """The stand-in HLS tool installed as vitis-run, vitis_hls and vivado_hls in ``bin_dir``."""

    def __init__(self, bin_dir: Path):
        import sys

        self.bin_dir = bin_dir
        self.mode_file = bin_dir / "fake_hls_mode"
        self.calls_log = bin_dir / "calls.log"
        """One line per tool run: the folder it ran in."""
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name in ("vitis-run", "vitis_hls", "vivado_hls"):
            exe = bin_dir / name
            exe.write_text(f'#!/bin/sh\necho "$PWD" >> "{self.calls_log}"\nFAKE_HLS_MODE_FILE="{self.mode_file}" '
                           f'exec "{sys.executable}" "{STANDIN}" "$@"\n')
            exe.chmod(0o755)
        self.set_mode("ok")

    def set_mode(self, mode: str) -> None:
        self.mode_file.write_text(mode)


@pytest.fixture
def fake_tool(tmp_path: Path, monkeypatch) -> FakeTool:
    tool = FakeTool(tmp_path / "fakebin")
    monkeypatch.setenv("PATH", f"{tool.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return tool
