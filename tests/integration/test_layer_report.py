"""``Run.layer_table`` and the report's per-layer section on a run folder made the driver's way."""

from __future__ import annotations

from pathlib import Path

import pytest

from cost_models.layers import Target, layers_to_dicts
from dse.analysis.report import build_sections, write_report
from dse.analysis.run import load_run
from dse.design.candidate import Candidate
from dse.design.prebuild import prebuild_layers
from dse.scoring import estimate_dict
from dse.store.atomic import atomic_write_json
from tests.analysis_helpers import T, make_run


@pytest.mark.slow
def test_the_report_shows_where_the_front_designs_spend_their_cost(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", [T(acc=0.90, dsp=10, lut=1000, params={"width_0": 8}),
                                          T(acc=0.95, dsp=40, lut=3000, params={"width_0": 16}),
                                          T(acc=0.80, dsp=50, lut=4000, params={"width_0": 16})])
    run = load_run(run_dir)
    hw = run.space.hardware
    target = Target(part=hw.part, clock_period_ns=hw.clock_period_ns, backend=hw.backend, tool_version=hw.tool_version)
    for t in run.study.get_trials():
        cand = Candidate.from_dict(t.user_attrs["candidate"])
        layers = layers_to_dicts(prebuild_layers(cand, run.space, 64, 10))
        atomic_write_json(run.folder.trial_dir(t.number) / "layers.json", layers)
        if t.number != 1:  # trial 1 keeps the hand-made estimate without layers: recomputed from layers.json
            atomic_write_json(run.folder.trial_dir(t.number) / "estimate.json",
                              estimate_dict(prebuild_layers(cand, run.space, 64, 10), target, None))
    table = run.layer_table(0)
    assert table["layer"].tolist()[:3] == ["fc0", "relu0", "out"]
    assert table.iloc[0]["shape"] == "64x8"
    recomputed = run.layer_table(1)
    assert recomputed.iloc[0]["shape"] == "64x16" and recomputed["lut"].sum() > table["lut"].sum()
    sections, _ = build_sections(run)
    layers_section = next(s for s in sections if s.key == "layers")
    assert sorted(set(layers_section.table["trial"])) == ["0", "1"]  # the front: trials 0 and 1, not 2
    result = write_report(run_dir, html_report=True)
    csv = (run_dir / "front_layers.csv").read_text().splitlines()
    assert csv[0].startswith("trial,layer,kind,shape") and len(csv) == 1 + len(table) + len(recomputed)
    assert "Where the cost goes, per layer" in result.files["report.md"].read_text()
    assert 'id="table-layers"' in result.files["report.html"].read_text()
