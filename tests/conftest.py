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
