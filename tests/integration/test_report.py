"""``dse report``: the files, their rows, runs in progress / without synthesis / all failed, and the
HTML in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

try:
    from tests.analysis_helpers import T, make_run, standard_records, standard_trials
except ImportError:  # tests/ is not a package
    from analysis_helpers import T, make_run, standard_records, standard_trials  # type: ignore[no-redef]

from dse.analysis.report import write_report
from dse.commands.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = make_run(tmp_path_factory.mktemp("report") / "run", standard_trials(), standard_records())
    assert main(["report", str(run)]) == 0
    return run


@pytest.mark.slow
def test_report_writes_every_file(reported: Path) -> None:
    for name in ("pareto.csv", "trials.csv", "report.html", "report.md"):
        assert (reported / name).is_file(), name
    md = (reported / "report.md").read_text()
    for ref in re.findall(r"\]\((report_figures/[^)]+\.png)\)", md):
        assert (reported / ref).read_bytes().startswith(PNG_MAGIC), ref
    assert "## The Pareto front" in md and "## Parameter importances" in md and "## Failed and pruned trials" in md


@pytest.mark.slow
def test_pareto_csv_holds_the_front(reported: Path) -> None:
    front = pd.read_csv(reported / "pareto.csv")
    assert front["number"].tolist() == [1, 2, 7, 0]  # best accuracy first; the 1/2 tie both kept
    for col in ("candidate", "val_accuracy", "test_accuracy", "firmware_accuracy", "dsp", "dsp_low", "dsp_high",
                "measured_dsp", "lut", "lut_low", "lut_high", "measured_lut", "latency_ns", "latency_ns_low",
                "measured_latency_ns", "dsp_pct_of_part", "param_width_0", "param_weight_bits"):
        assert col in front.columns, col
    by = front.set_index("number")
    assert by.loc[7, "measured_lut"] == 2100 and by.loc[7, "firmware_accuracy"] == pytest.approx(0.915)
    assert by.loc[0, "measured_dsp"] == 9  # from the synthesis record only
    assert bool(by["measured_dsp"].isna()[1])
    assert by.loc[1, "dsp_pct_of_part"] == pytest.approx(40 / 6840 * 100)


@pytest.mark.slow
def test_trials_csv_holds_every_trial(reported: Path) -> None:
    trials = pd.read_csv(reported / "trials.csv")
    assert trials["number"].tolist() == list(range(9))
    assert trials["state"].value_counts().to_dict() == {"COMPLETE": 6, "FAIL": 1, "PRUNED": 1, "RUNNING": 1}
    assert sorted(trials[trials["on_front"]]["number"]) == [0, 1, 2, 7]


@pytest.mark.slow
def test_html_is_self_contained(reported: Path) -> None:
    page = (reported / "report.html").read_text()
    srcs = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(srcs) == 6  # 3 fronts, hypervolume, parity, importances
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from the network
    assert "<script" not in page
    assert "optuna-dashboard sqlite:///" in page


@pytest.fixture(scope="module")
def unsynthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, bytes]:
    """A run in progress without synthesis (two complete trials, one running), reported once (a report takes
    seconds): the run folder, the report's result and the study's bytes before the report."""
    run = make_run(tmp_path_factory.mktemp("unsynthesized") / "run",
                   [T(), T(acc=0.8, dsp=5, params={"width_0": 16}), T(state="RUNNING")])
    before = (run / "study.db").read_bytes()
    return run, write_report(run), before


@pytest.mark.slow
def test_report_never_writes_the_study(unsynthesized: tuple[Path, Any, bytes]) -> None:
    run, _, before = unsynthesized
    assert (run / "study.db").read_bytes() == before


@pytest.mark.slow
def test_report_without_synthesis(unsynthesized: tuple[Path, Any, bytes]) -> None:
    run, result, _ = unsynthesized
    assert "2 complete" in result.message
    md = (run / "report.md").read_text()
    assert "No synthesis in this run" in md
    assert "report_figures/parity.png" not in md
    assert len(pd.read_csv(run / "pareto.csv")) == 2


def test_report_when_every_trial_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path / "run", [T(state="FAIL"), T(state="FAIL"), T(state="PRUNED")])
    assert main(["report", str(run)]) == 0
    out = capsys.readouterr().out
    assert "No trial completed (2 failed, 1 pruned, 0 running)" in out
    assert pd.read_csv(run / "trials.csv")["state"].tolist() == ["FAIL", "FAIL", "PRUNED"]
    assert (run / "pareto.csv").read_text().startswith("number,")
    assert len(pd.read_csv(run / "pareto.csv")) == 0
    assert "No trial completed" in (run / "report.html").read_text()
    assert "ValueError: boom" in (run / "report.md").read_text()


def test_report_of_a_bad_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no run folder" in capsys.readouterr().err
    run = make_run(tmp_path / "old", [T()])
    meta = json.loads((run / "meta.json").read_text())
    meta["format"] = 0
    (run / "meta.json").write_text(json.dumps(meta))
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert "format 0" in err and "Traceback" not in err


# --------------------------------------------------------------------------- headless Chromium

_PROBE = """<script>
window.__dseErrors = 0;
window.addEventListener('error', function () { window.__dseErrors += 1; }, true);
var _err = console.error; console.error = function () { window.__dseErrors += 1; _err.apply(console, arguments); };
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0); });
  var el = document.createElement('pre'); el.id = 'dse-probe';
  el.textContent = 'DSE-PROBE images=' + imgs.length + ' broken=' + bad.length + ' errors=' + window.__dseErrors;
  document.body.appendChild(el);
});
</script>"""


def _chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def _chromium_args(profile: Path) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}"]


@pytest.mark.slow
def test_html_renders_in_headless_chromium(reported: Path, tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    page = (reported / "report.html").read_text()
    probe = tmp_path / "probe.html"  # the report plus a probe script (the report itself has no JS)
    probe.write_text(page.replace("</head>", _PROBE + "</head>", 1))
    proc = subprocess.run([exe, *_chromium_args(tmp_path / "profile1"), "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r"DSE-PROBE images=(\d+) broken=(\d+) errors=(\d+)", proc.stdout)
    assert m, proc.stdout[-2000:]
    assert (int(m[1]), int(m[2]), int(m[3])) == (6, 0, 0)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    # A screenshot of the report itself: a real, non-blank PNG.
    shot = tmp_path / "shot.png"
    proc = subprocess.run([exe, *_chromium_args(tmp_path / "profile2"), "--window-size=1280,2400",
                           "--hide-scrollbars", f"--screenshot={shot}", (reported / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200
    assert float(pixels[..., :3].std()) > 0.05  # not a blank page


@pytest.mark.slow
def test_report_of_a_synthesized_run(tmp_path: Path, fake_tool: object, tiny_space_dict) -> None:
    """A real run with synthesis by the stand-in HLS tool: records, recalibration, re-scored study."""
    import yaml

    d = tiny_space_dict()
    d["synthesis"] = {"backend": "vitis", "every": 2, "batch": 2, "timeout": 120, "concurrency": 1,
                      "firmware_accuracy": True}
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(d))
    run = tmp_path / "run"
    assert main(["run", str(space), "--run-dir", str(run), "--n-trials", "4", "--workers", "1", "--no-progress"]) == 0
    records = [json.loads(p.read_text()) for p in (run / "synthesis" / "records").glob("*.json")]
    ok = {r["trial"]: r for r in records if r["status"] == "ok"}
    assert ok
    assert main(["report", str(run)]) == 0
    trials = pd.read_csv(run / "trials.csv").set_index("number")
    assert len(trials) == 4
    for n, r in ok.items():
        assert trials.loc[n, "measured_lut"] == r["measured"]["lut"] and trials.loc[n, "synthesized"]
    md = (run / "report.md").read_text()
    assert "report_figures/parity.png" in md and f"{len(records)} synthesis record(s)" in md
    front = pd.read_csv(run / "pareto.csv")
    assert set(front["number"]) == set(trials.index[trials["on_front"]])
