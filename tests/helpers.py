"""Plain helpers of the tests (conftest.py turns them into fixtures)."""

from __future__ import annotations

import copy
import functools
import os
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED_REPORTS = ROOT.parent / "shared" / "data" / "hls4ml_reports"
STANDIN = ROOT / "tests" / "standin" / "fake_hls.py"
QUICKSTART = ROOT / "search_spaces" / "quickstart.yaml"


@functools.cache
def _parsed_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def yaml_file(path: Path) -> Any:
    """The YAML file ``path`` parsed (once per test run: pure-Python YAML costs ~10 ms a file), as a
    fresh deep copy the caller may change."""
    return copy.deepcopy(_parsed_yaml(Path(path)))


def quickstart_dict() -> dict:
    """search_spaces/quickstart.yaml as a dict (a fresh copy)."""
    return yaml_file(QUICKSTART)


def tiny_space_dict(**overrides: object) -> dict:
    """A space that trains in about a second per trial: 400 digits, 2 epochs, tiny MLPs.

    ``overrides`` set keys by path with ``__`` between the parts (``search__workers=1``)."""
    d = quickstart_dict()
    d["name"] = "tiny"
    d["data"]["max_samples"] = 400
    d["model"]["hidden_layers"] = 1
    d["model"]["width"] = [8, 16]
    d["training"]["epochs"] = 2
    d["training"]["early_stopping"] = False
    d["search"]["n_trials"] = 4
    d["search"]["workers"] = 2
    d["constraints"] = ["latency_ns <= 1000"]
    return set_by_path(d, overrides)


def set_by_path(d: dict, overrides: dict[str, object]) -> dict:
    """``d`` with each ``overrides`` key set, the key a path with ``__`` between the parts
    (``search__workers``); returns ``d``."""
    for key, value in overrides.items():
        cur = d
        parts = key.split("__")
        for p in parts[:-1]:
            cur = cur[p]
        cur[parts[-1]] = value
    return d


class FakeTool:
    """The stand-in HLS tool installed as vitis-run, vitis_hls and vivado_hls in ``bin_dir``."""

    def __init__(self, bin_dir: Path, names: tuple[str, ...] = ("vitis-run", "vitis_hls", "vivado_hls")):
        self.bin_dir = bin_dir
        self.mode_file = bin_dir / "fake_hls_mode"
        self.calls_log = bin_dir / "calls.log"
        """One line per tool run: the folder it ran in."""
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            exe = bin_dir / name
            exe.write_text(f'#!/bin/sh\necho "$PWD" >> "{self.calls_log}"\nFAKE_HLS_MODE_FILE="{self.mode_file}" '
                           f'exec "{sys.executable}" "{STANDIN}" "$@"\n')
            exe.chmod(0o755)
        self.set_mode("ok")

    def set_mode(self, mode: str) -> None:
        self.mode_file.write_text(mode)


def install_fake_tool(bin_dir: Path, monkeypatch, names: tuple[str, ...] | None = None) -> FakeTool:
    """Install the stand-in tool in ``bin_dir`` and put it first on PATH (for this test)."""
    tool = FakeTool(bin_dir) if names is None else FakeTool(bin_dir, names)
    monkeypatch.setenv("PATH", f"{tool.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return tool
