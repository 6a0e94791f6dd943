"""The real-report path on a fresh clone: hls4ml projects the project writes itself, synthesized
by the stand-in tool (reports in the real Vitis HLS format), read back, fitted into a
calibration, and used by ``dse calibrate --reports``. (tests/unit/cost_models also checks the
repositories' reports in ../shared when present.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from dse.commands.cli import main
from dse.design.candidate import Candidate
from dse.space import parse_space_text
from dse.synthesis import SynthesisJob, get_backend
from tests.helpers import install_fake_tool, tiny_space_dict

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dse.training.model_builder import build_model

    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("generated_reports")
    install_fake_tool(root / "bin", mp)
    space = parse_space_text(yaml.safe_dump(tiny_space_dict()))
    rng = np.random.default_rng(2)
    try:
        for i, (width, bits, rf) in enumerate([(8, 16, 1), (16, 12, 2), (16, 16, 4), (32, 10, 1)]):
            cand = Candidate.mlp(widths=(width,), weight_bits=(bits, bits), bias_bits=(bits, bits),
                                 activation_bits=(8,), sparsity=(0, 0), reuse_factor=(rf, rf), strategy="latency",
                                 learning_rate=0.01)
            model = build_model(cand, space, input_shape=16, n_classes=4)
            for layer in model.layers:
                if layer.get_weights():
                    w, b = layer.get_weights()
                    layer.set_weights([rng.uniform(-0.9, 0.9, w.shape), b])
            path = root / f"model{i}.h5"
            model.save(path)
            job = SynthesisJob(trial=i, model_h5=path.read_bytes(), hls_config=cand.to_hls_config(space),
                               part=space.hardware.part, clock_period_ns=5.0, io_type="io_parallel",
                               job_dir=str(root / "projects" / f"design{i}"), backend="vitis")
            get_backend("vitis").synthesize(job)
    finally:
        mp.undo()
    return root / "projects"


def test_generated_projects_are_readable(report_root: Path) -> None:
    from cost_models import records_from_dirs

    recs = records_from_dirs([report_root])
    assert len(recs) == 4
    assert all(not r.problems() for r in recs), [r.problems() for r in recs]
    assert {r.tool for r in recs} == {"vitis"} and all(r.dsp is not None and r.lut for r in recs)


def test_calibration_fits_from_generated_projects(report_root: Path) -> None:
    from cost_models import fit_calibration_from_dirs

    cal = fit_calibration_from_dirs([report_root])
    assert cal.n_records == 4 and cal.groups


def test_cli_calibrate_from_generated_reports(report_root: Path, tmp_path: Path, capsys) -> None:
    from cost_models import Calibration

    out = tmp_path / "cal.json"
    assert main(["calibrate", "--reports", str(report_root), "--out", str(out)]) == 0
    assert "4 record(s) used" in capsys.readouterr().out
    assert Calibration.load(out).n_records == 4
