"""``dse export`` marks a design that breaks or may break a budget, fills ``tb_data/`` for hls4ml's C
simulation, and (slow) hls4ml's ``compile()`` + ``predict`` reproduce the stored predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

try:
    from tests.analysis_helpers import T, make_run, real_run
except ImportError:  # tests/ is not a package
    from analysis_helpers import T, make_run, real_run  # type: ignore[no-redef]

from dse.analysis import load_run
from dse.commands.export import budget_warnings, export_trial


@pytest.fixture(scope="module")
def budget_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the tiny space's budget: latency_ns <= 1000; hand-made intervals are -20 % / +25 %
    return make_run(tmp_path_factory.mktemp("budgets") / "run",
                    [T(latency_ns=500.0), T(latency_ns=950.0), T(latency_ns=1450.0)])


def test_export_of_a_design_inside_its_budget_has_no_warning(budget_run: Path, tmp_path: Path) -> None:
    result = export_trial(budget_run, 0, tmp_path / "out", write_project=False)
    assert result.budget_warnings == []
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "## Budgets" in readme and "The design meets every budget" in readme
    assert "- latency_ns <= 1000: estimate 500 (80% interval 400-625), >99% chance to meet it: meets it" in readme


def test_export_of_a_budget_breaking_design_is_marked(budget_run: Path, tmp_path: Path) -> None:
    result = export_trial(budget_run, 2, tmp_path / "out", write_project=False)
    assert len(result.budget_warnings) == 1
    line = result.budget_warnings[0]
    assert line.startswith("latency_ns <= 1000: estimate 1,450 (80% interval 1,160-1,812)")
    assert line.endswith("chance to meet it: BREAKS it")
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "**This design breaks or may break a budget.**" in readme
    assert f"- {line}" in readme


def test_export_of_a_design_near_its_budget_gives_the_probability(budget_run: Path, tmp_path: Path) -> None:
    (line,) = budget_warnings(load_run(budget_run), 1)
    assert "estimate 950 (80% interval 760-1,188)" in line and "NEAR BUDGET: may break it" in line
    p = int(line.split(", ")[-1].split("%")[0])
    assert 50 < p < 90  # the bound sits inside the upper half of the interval


def test_export_cost_table_uses_integers_intervals_and_percent_of_part(budget_run: Path, tmp_path: Path) -> None:
    export_trial(budget_run, 0, tmp_path / "out", write_project=False)
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "| dsp | 10 | 8-12 | - | 0.1% |" in readme     # xcvu9p: 6,840 DSP
    assert "| ii | 1 | 1-1 | - | - |" in readme


@pytest.mark.slow
def test_export_tb_data_reproduced_by_hls4ml_c_simulation(tmp_path_factory: pytest.TempPathFactory,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hls4ml
    import yaml

    from dse.commands.cli import main
    from dse.commands.estimate import load_keras_model
    from dse.training.testbench import INPUT_FILE, OUTPUT_FILE, read_dat

    run = real_run(tmp_path_factory)
    out = tmp_path / "exp"
    assert main(["export", str(run), "--trial", "0", "--out", str(out)]) == 0
    tb = out / "hls4ml_prj" / "tb_data"
    x, stored = read_dat(tb / INPUT_FILE), read_dat(tb / OUTPUT_FILE)
    assert x.shape[0] == stored.shape[0] > 10 and stored.shape[1] == 10  # digits: 10 classes
    model = load_keras_model(out / "model.h5")
    np.testing.assert_allclose(model.predict(x.astype(np.float32), verbose=0), stored, rtol=1e-5, atol=1e-6)
    doc = yaml.safe_load((out / "hls4ml_config.yml").read_text())
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=doc["HLSConfig"], output_dir=str(tmp_path / "csim"), backend=doc["Backend"],
        part=doc["Part"], clock_period=doc["ClockPeriod"], io_type=doc["IOType"])
    hls_model.compile()
    firmware = np.asarray(hls_model.predict(np.ascontiguousarray(x.astype(np.float32)))).reshape(stored.shape)
    # the fixed-point firmware reproduces the stored outputs within its precision (the softmax result is
    # quantized, so near-ties can flip) and every decision that is not a near-tie
    err = np.abs(firmware - stored)
    assert float(err.mean()) < 0.01 and float(err.max()) < 0.05, (err.mean(), err.max())
    top2 = np.sort(stored, axis=1)[:, -2:]
    decisive = (top2[:, 1] - top2[:, 0]) > 0.05
    assert decisive.sum() >= 5
    assert np.array_equal(firmware[decisive].argmax(axis=1), stored[decisive].argmax(axis=1))
