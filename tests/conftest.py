"""Fixtures shared by the tests; the plain helpers behind them are in tests/helpers.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
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
IN_MEMORY_MIN_FREE_BYTES = 4 * 2**30
"""Below this much free room in ``IN_MEMORY_TEMP_ROOT`` (a container's default /dev/shm is 64 MiB), the tests
keep the default temporary root: hls4ml projects, compiled emulators and Yosys builds need hundreds of MB."""


def _room_in_memory() -> bool:
    if not os.access(IN_MEMORY_TEMP_ROOT, os.W_OK | os.X_OK):
        return False
    return shutil.disk_usage(IN_MEMORY_TEMP_ROOT).free >= IN_MEMORY_MIN_FREE_BYTES


if "PYTEST_DEBUG_TEMPROOT" not in os.environ and _room_in_memory():
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


MODULE_RAY_CPUS = 4
"""CPUs of the module's Ray (``module_ray``): as many as the largest in-process run of the tests asks for
(2 trial workers + 2 synthesis jobs), so no run queues behind its own tasks."""


@pytest.fixture(scope="module")
def module_ray() -> Iterator[None]:
    """One local Ray for the in-process runs (``main(["run", ...])``) of a test module, started as a run starts
    its own (dse's ``ensure_ray``: the same worker environment) and then joined by each run, as a run joins the
    Ray a notebook started: a run that finds Ray running uses it and leaves it running. Each run saves the
    Ray start and stop (~5-8 s) and its fresh workers' TensorFlow import (~5-7 s on the first trial).

    Only for tests whose assertions do not depend on a fresh Ray: a run starting and stopping its own local
    Ray stays tested by every CLI subprocess test (``python -m dse.commands.cli run``) and by the modules that
    do not use this fixture. Environment set after this fixture (e.g. ``fake_tool``'s PATH) does not reach
    the workers: a module whose runs synthesize puts its stand-in tool on PATH first."""
    import ray

    from dse.search import ray_executor

    if ray.is_initialized():  # left by a test that failed before this module: start from a clean Ray
        ray.shutdown()
    ray_executor.ensure_ray(None, MODULE_RAY_CPUS)
    ray_executor._owned = False  # the runs join this Ray; the fixture stops it
    try:
        yield
    finally:
        ray.shutdown()


FRESH_IMPORTS = ("cost_models", "dse.synthesis.loop", "dse.store", "dse.scoring", "dse.search", "dse.commands.cli",
                 "dse.space", "dse.design", "dse.design.hls4ml_adapter", "dse.design.candidate", "dse.design.prebuild",
                 "cost_models.estimate")
"""What ``imported_in_a_fresh_interpreter`` imports, in this order: cost_models first (nothing before it:
``cost_models`` alone), then the search core's layers in the order of its import test, then the light
packages. cost_models imports nothing from dse, so the layers still import from a clean start."""
WATCHED_PACKAGES = ("tensorflow", "keras", "qkeras", "tensorflow_model_optimization", "hls4ml", "ray", "optuna")


@pytest.fixture(scope="session")
def imported_in_a_fresh_interpreter() -> dict[str, set[str]]:
    """Per module of ``FRESH_IMPORTS``, the ``WATCHED_PACKAGES`` in ``sys.modules`` once it is imported: one
    fresh interpreter (~0.5 s) imports them in turn, for the tests that check what a module drags in (one
    interpreter each cost a second or two per run). Imports only add to ``sys.modules``: a package loaded
    by module M shows after M and after every later one, so the first failing module is the culprit and no
    module that loads a watched package can pass; an import error (a cycle) fails every such test. Last,
    ``dse validate search_spaces/quickstart.yaml`` runs in it (``main``): key ``dse validate exit <code>``."""
    code = (f"import importlib, json, sys\nout = {{}}\nfor m in {list(FRESH_IMPORTS)!r}:\n"
            f"    importlib.import_module(m)\n"
            f"    out[m] = [w for w in {list(WATCHED_PACKAGES)!r} if w in sys.modules]\n"
            "from dse.commands.cli import main\n"
            f"rc = main(['validate', {str(helpers.QUICKSTART)!r}])\n"
            f"out[f'dse validate exit {{rc}}'] = [w for w in {list(WATCHED_PACKAGES)!r} if w in sys.modules]\n"
            "print(json.dumps(out))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=helpers.ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    return {m: set(loaded) for m, loaded in json.loads(res.stdout.strip().splitlines()[-1]).items()}


def _read_optunas_schema_head_once() -> None:
    """Every Optuna SQLite storage opened checks its schema version against the head revision of Optuna's
    migration scripts, and Alembic finds that head by executing all ten scripts again (~50 ms CPU per
    storage, about 50 storages a ``-m "not slow"`` run). The head is a constant of the installed Optuna:
    read it once per test run. The check itself (the database's version against the head) still runs on
    every open. A no-op when Optuna's private ``_VersionManager`` is not there (another Optuna)."""
    rdb = sys.modules.get("optuna.storages._rdb.storage")
    manager = getattr(rdb, "_VersionManager", None)
    read_head = getattr(manager, "get_head_version", None)
    if read_head is None or getattr(read_head, "_dse_tests_once", False):
        return
    head: list[str] = []

    def get_head_version(self: object) -> str:
        if not head:
            head.append(read_head(self))
        return head[0]

    get_head_version._dse_tests_once = True  # type: ignore[attr-defined]
    manager.get_head_version = get_head_version  # type: ignore[union-attr]


def pytest_runtest_setup(item: pytest.Item) -> None:
    _read_optunas_schema_head_once()  # once a test has imported Optuna's storage (no import here)
