"""The layers depend one way (docs/architecture.md): import-linter's contracts in pyproject.toml
(layers; Optuna only in dse.search and the study reader; cost_models free of dse, TensorFlow and
hls4ml), no import cycle among dse and cost_models modules (function-level and ``TYPE_CHECKING``
imports included), and the light packages stay light."""

from __future__ import annotations

import shutil
import subprocess
import sys

import grimp
import pytest

from tests.helpers import ROOT

HEAVY = ("tensorflow", "hls4ml", "ray", "qkeras", "tensorflow_model_optimization")


def test_import_linter_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(ROOT / ".venv" / "bin")) or shutil.which("lint-imports")
    assert lint, "import-linter is a dev dependency: pip install -e '.[dev]'"
    res = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 kept, 0 broken" in res.stdout, res.stdout


def test_import_linter_counts_type_checking_imports() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["exclude_type_checking_imports"] is False


def test_only_the_searcher_and_the_study_reader_touch_optuna_trials() -> None:
    """The issue's grep: Optuna's trial objects and imports appear in dse/search and the one study reader
    (in the sources: the bytecode in __pycache__ holds the same names)."""
    pattern = r"user_attrs\|FrozenTrial\|import optuna\|from optuna"
    res = subprocess.run(["grep", "-rln", "--include=*.py", pattern, "dse"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    found = sorted(res.stdout.split())
    assert found, "the searcher itself uses Optuna"
    outside = [f for f in found if not f.startswith("dse/search/") and f != "dse/store/study_reader.py"]
    assert outside == [], f"Optuna's trials read outside dse/search and dse/store/study_reader.py: {outside}"
    assert "dse/search/searcher.py" in found and "dse/store/study_reader.py" in found


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("dse", "cost_models", exclude_type_checking_imports=False)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


LIGHT = ["dse.space", "dse.design", "dse.design.hls4ml_adapter", "dse.design.candidate", "dse.design.prebuild",
         "cost_models", "cost_models.estimate", "dse.scoring", "dse.store"]


@pytest.mark.parametrize("module", LIGHT)
def test_light_packages_do_not_import_heavy_ones(imported_in_a_fresh_interpreter: dict[str, set[str]],
                                                 module: str) -> None:
    """Per light module, the heavy packages loaded once it is imported (``imported_in_a_fresh_interpreter``
    in tests/conftest.py: one fresh interpreter imports these modules in turn)."""
    heavy = imported_in_a_fresh_interpreter[module] & set(HEAVY)
    assert not heavy, f"importing {module} loaded {sorted(heavy)}"


def test_the_cli_s_first_import_does_not_load_the_search_core() -> None:
    """``dse.search.quiet`` is the CLI's first import for every command (``dse estimate`` too): it must not
    load the driver, the design layer or Optuna through ``dse.search``'s package namespace (it did: 0.56 s
    of a 0.9 s ``dse estimate``)."""
    code = ("import sys\nimport dse.search.quiet\n"
            "print(sorted(m for m in sys.modules if m.startswith(('dse.search.', 'dse.design', 'optuna'))))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "['dse.search.quiet']", res.stdout
