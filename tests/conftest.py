"""Fixtures shared by the tests; the plain helpers behind them are in tests/helpers.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests import helpers

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

IN_MEMORY_TEMP_ROOT = "/dev/shm"
"""Where ``tmp_path`` lives when the machine has it (tmpfs). The tests' SQLite studies commit with
fsync, as the product does: on disk each costs 2-6 ms (about 1500 per ``-m "not slow"`` run), in memory
nothing. A SIGKILL test stays valid there: the process dies, the kernel keeps the pages. pytest reads
``PYTEST_DEBUG_TEMPROOT`` (see ``pytest --help``) when the first test asks for ``tmp_path``, and still
numbers and prunes its ``pytest-of-<user>/pytest-N`` folders; a root the caller set is kept."""
if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access(IN_MEMORY_TEMP_ROOT, os.W_OK | os.X_OK):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = IN_MEMORY_TEMP_ROOT


@pytest.fixture
def tiny_space_dict() -> Callable[..., dict]:
    """``tiny_space_dict(**overrides)``: the dict of a space that trains in about a second per trial."""
    return helpers.tiny_space_dict


@pytest.fixture
def tiny_space_file(tmp_path: Path) -> Callable[..., Path]:
    def make(**overrides: object) -> Path:
        path = tmp_path / "tiny.yaml"
        path.write_text(yaml.safe_dump(helpers.tiny_space_dict(**overrides), sort_keys=False))
        return path

    return make


@pytest.fixture
def fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> helpers.FakeTool:
    """The stand-in HLS tool (tests/standin/fake_hls.py) first on PATH."""
    return helpers.install_fake_tool(tmp_path / "fakebin", monkeypatch)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    """``tmp_path`` (in memory where the machine has /dev/shm: see ``IN_MEMORY_TEMP_ROOT``)."""
    return tmp_path


@pytest.fixture
def few_rejections(monkeypatch: pytest.MonkeyPatch) -> int:
    """The planner gives up after 30 screened or repeated proposals in a row instead of 300: a search whose
    budgets no design meets stops ten times sooner (each screened proposal is a trial written to SQLite).
    Returns the limit."""
    from dse.search import proposals

    monkeypatch.setattr(proposals, "MAX_REJECTED_IN_A_ROW", 30)
    return 30
