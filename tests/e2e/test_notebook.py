"""notebooks/analyze_run.ipynb executes (nbclient) on runs the tests create."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # executes a Jupyter kernel (~12 s per test)

try:
    from tests.analysis_helpers import make_run, real_run, standard_records, standard_trials
except ImportError:  # tests/ is not a package
    from analysis_helpers import make_run, real_run, standard_records, standard_trials  # type: ignore[no-redef]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "analyze_run.ipynb"


def _execute(run_dir: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch, export_dir: Path | None = None) -> object:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("DSE_RUN", str(run_dir))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    if export_dir is not None:
        monkeypatch.setenv("DSE_EXPORT_DIR", str(export_dir))
    else:
        monkeypatch.delenv("DSE_EXPORT_DIR", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _outputs(nb: object) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]  # type: ignore[attr-defined]


def test_notebook_executes_on_a_hand_made_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(tmp_path / "run", standard_trials(), standard_records())
    before = (run / "study.db").read_bytes()
    nb = _execute(run, tmp_path, monkeypatch)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 6  # 3 fronts, hypervolume, importances, parity
    text = "".join(o.get("text", "") for o in outputs)
    assert "trials: 6 complete, 1 pruned, 1 failed, 1 running" in text
    assert f"dse export {run} --trial 1 --out exports/trial_1" in text
    assert (run / "study.db").read_bytes() == before


@pytest.mark.slow
def test_notebook_executes_on_a_real_run_and_exports(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run = real_run(tmp_path_factory)
    nb = _execute(run, tmp_path, monkeypatch, export_dir=tmp_path / "exports")
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    exported = list((tmp_path / "exports").glob("trial_*/model.h5"))
    assert len(exported) == 1
    assert (exported[0].parent / "hls4ml_prj" / "build_prj.tcl").is_file()


def test_notebook_finds_a_relative_run_path_typed_at_the_repository_root(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # `DSE_RUN=runs/x jupyter lab notebooks/analyze_run.ipynb` from the root: the kernel starts in notebooks/
    root = tmp_path / "repo"
    (root / "runs").mkdir(parents=True)
    make_run(root / "runs" / "x", standard_trials(), standard_records())
    (root / "notebooks").mkdir()
    nb = _execute(Path("runs/x"), root / "notebooks", monkeypatch)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert "trials: 6 complete, 1 pruned, 1 failed, 1 running" in "".join(o.get("text", "") for o in outputs)
