"""Live synthesis with a real Vitis/Vivado HLS install. Skipped where none is on PATH (as on CI here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dse.commands.cli import main
from tests.helpers import tiny_space_dict

pytestmark = [pytest.mark.vendor_hls, pytest.mark.slow]

TOOLS = {"vitis": ("vitis-run", "vitis_hls"), "vivado": ("vivado_hls",)}


def _real_tool(names: tuple[str, ...]) -> str | None:
    for n in names:
        path = shutil.which(n)
        if path and "fakebin" not in path:
            return path
    return None


@pytest.mark.parametrize("backend", sorted(TOOLS))
def test_real_synthesis_of_one_trial(backend: str, tmp_path: Path) -> None:
    if _real_tool(TOOLS[backend]) is None:
        pytest.skip(f"no {backend} HLS tool installed")
    d = tiny_space_dict()
    d["hardware"]["backend"] = backend
    d["synthesis"] = {"backend": backend, "every": 1, "batch": 1, "timeout": 3 * 3600}
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(d))
    run_dir = tmp_path / "run"
    assert main(["run", str(space), "--run-dir", str(run_dir), "--n-trials", "1", "--workers", "1",
                 "--no-progress"]) == 0
    import json

    rec = json.loads((run_dir / "synthesis" / "records" / "00000.json").read_text())
    assert rec["status"] == "ok", rec.get("error")
    assert rec["measured"]["lut"] > 0 and rec["measured"]["latency_cycles"] > 0
