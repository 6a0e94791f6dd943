"""Tests that read all 94 projects of the shared hls4ml reports (seconds each: integration, not unit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cost_models import (
    Calibration,
    estimate,
    read_hls_project,
    read_written_project,
    records_from_dirs,
)
from tests.unit.cost_models.cm_helpers import SHARED_REPORTS
from tests.unit.cost_models.test_written_project import _shared_written


@pytest.fixture
def shared_reports() -> Path:
    if not SHARED_REPORTS.is_dir():
        pytest.skip("shared hls4ml reports not available")
    return SHARED_REPORTS


def test_shared_all_projects_readable(shared_reports: Path) -> None:
    recs = records_from_dirs([shared_reports])
    assert len(recs) == 94  # shared/data README: 94 projects from 29 repositories
    with_layers = [r for r in recs if not r.problems()]
    assert len(with_layers) == 91  # the three without a layer list: two Lrozzy .rpt-only, hls4ml's fixture
    # trained weights read from weights/wN.txt for the dense/conv layers that have them
    assert sum(1 for r in with_layers if any(s.weights is not None for s in r.layers or [])) >= 88


@pytest.mark.slow
def test_shared_projects_with_parameters_h_estimate_without_reports() -> None:
    folders = _shared_written()
    assert len(folders) >= 20
    for folder in folders:
        written = read_written_project(folder)
        rec = read_hls_project(folder)  # the validation reader: same headers, plus the reports
        assert rec.layers is not None
        assert [s.kind for s in written.layers] == [s.kind for s in rec.layers], folder
        part = written.part or rec.part
        assert part, folder
        est = estimate(written.layers, rec.target())
        assert est.dsp >= 0 and est.latency_cycles >= 1 and est.ii >= 1, folder


@pytest.mark.slow
def test_refit_on_the_shared_reports_gives_the_shipped_prior(shared_reports: Path) -> None:
    """The shipped prior (fitted with the hand-written Gaussian elimination the numpy solve replaced) is what
    ``Calibration.fit`` gives today on the same projects, every coefficient (slopes included) to 1e-9."""
    import importlib.util
    import sys

    from cost_models.calibration import PRIOR_FILE

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("validate_cost_model", root / "benchmarks" / "validate_cost_model.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    projects, _ = bench.load_projects(shared_reports.resolve())
    fitted = Calibration.fit([p.record for p in projects], source="prior").to_dict()
    shipped = json.loads(PRIOR_FILE.read_text())
    n_slopes = 0

    def same(a: object, b: object, where: str) -> None:
        nonlocal n_slopes
        if isinstance(a, dict):
            assert isinstance(b, dict) and set(a) == set(b), where
            for k in a:
                n_slopes += k == "beta"
                same(a[k], b[k], f"{where}/{k}")
        elif isinstance(a, list):
            assert isinstance(b, list) and len(a) == len(b), where
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                same(x, y, f"{where}[{i}]")
        elif isinstance(a, float) and not isinstance(a, bool):
            assert b == pytest.approx(a, abs=1e-9, rel=0), where
        else:
            assert a == b, where

    same(fitted, shipped, "prior")
    assert n_slopes >= 1  # the ridge regression (the solve) is part of the shipped fit
