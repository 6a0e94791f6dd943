"""A real multi-process Ray cluster on this machine: a head node and a second node that advertises the
``hls_tool`` resource and alone has the (stand-in) vendor tool on its PATH. Synthesis jobs must run
only there. Everything runs inside a network namespace that has only the loopback interface, so all
Ray traffic stays on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import FakeTool, tiny_space_dict

pytestmark = pytest.mark.slow

PORT = 6391


def _netns_available(name: str) -> bool:
    if shutil.which("ip") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode == 0


@pytest.fixture
def netns():
    name = f"dse{os.getpid()}"
    if not _netns_available(name):
        pytest.skip("needs root and iproute2 to make a loopback-only network namespace")
    subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
    yield name
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def in_ns(ns: str, argv: list[str], env: dict[str, str], **kw):
    return subprocess.run(["ip", "netns", "exec", ns, *argv], env=env, **kw)


def test_synthesis_jobs_run_only_on_the_node_with_the_tool(netns: str, tmp_path: Path) -> None:
    ray_bin = str(Path(sys.executable).parent / "ray")
    tool = FakeTool(tmp_path / "fakebin")
    base_env = {k: v for k, v in os.environ.items() if k != "PATH"}
    base_env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled",
                    PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin")
    tool_env = dict(base_env, PATH=f"{tool.bin_dir}:{base_env['PATH']}")
    address = f"127.0.0.1:{PORT}"
    try:
        in_ns(netns, [ray_bin, "start", "--head", f"--port={PORT}", "--num-cpus=2",
                      "--include-dashboard=false", "--disable-usage-stats"],
              base_env, check=True, capture_output=True, timeout=120)
        in_ns(netns, [ray_bin, "start", f"--address={address}", "--num-cpus=1", '--resources={"hls_tool": 1}',
                      "--disable-usage-stats"], tool_env, check=True, capture_output=True, timeout=120)
        nodes = json.loads(in_ns(netns, [sys.executable, "-c", (
            "import json, ray; ray.init(address='" + address + "', logging_level='ERROR');"
            "print(json.dumps([{'id': n['NodeID'], 'ip': n['NodeManagerAddress'], 'res': n['Resources']} "
            "for n in ray.nodes() if n['Alive']]))")], base_env, check=True, capture_output=True, text=True,
            timeout=120).stdout.strip().splitlines()[-1])
        assert len(nodes) == 2 and all(n["ip"] == "127.0.0.1" for n in nodes)
        tool_node = next(n["id"] for n in nodes if n["res"].get("hls_tool"))

        d = tiny_space_dict(quantization__weight_bits=[12, 16], model__width=[8, 16])
        d["synthesis"] = {"backend": "vitis", "every": 2, "batch": 2, "concurrency": 2, "timeout": 120,
                          "resources": {"hls_tool": 1}, "firmware_accuracy": False}
        space = tmp_path / "space.yaml"
        space.write_text(yaml.safe_dump(d))
        run_dir = tmp_path / "run"
        res = in_ns(netns, [sys.executable, "-m", "dse.commands.cli", "run", str(space), "--run-dir", str(run_dir),
                            "--n-trials", "4", "--workers", "2", "--ray-address", address, "--no-progress"],
                    base_env, capture_output=True, text=True, timeout=900, cwd=Path(__file__).resolve().parents[2])
        assert res.returncode == 0, res.stderr[-3000:]
        records = [json.loads(p.read_text()) for p in (run_dir / "synthesis" / "records").glob("*.json")]
        assert len(records) >= 2
        assert all(r["status"] == "ok" for r in records), [r.get("error") for r in records]
        assert {r["ray_node_id"] for r in records} == {tool_node}
    finally:
        in_ns(netns, [ray_bin, "stop", "--force"], base_env, capture_output=True, timeout=120)
