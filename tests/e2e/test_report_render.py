"""report.html rendered by headless Chromium at 1400 px: the front table's objective and budget columns
are visible without scrolling (checked from the rendered column positions), and a screenshot is taken.

Skipped when Chromium is not installed (``apt-get install -y chromium``; .ci/run installs it)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

try:
    from tests.analysis_helpers import make_run, standard_records, standard_trials
except ImportError:  # tests/ is not a package
    from analysis_helpers import make_run, standard_records, standard_trials  # type: ignore[no-redef]

from dse.analysis.report import write_report

WIDTH = 1400
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)

# Written into the page after it is laid out: the position of every header of the front table and of
# the box that scrolls it, so the test reads what the browser rendered.
_PROBE = """<script>
(function () {
  var box = document.querySelector('#front .tbl').getBoundingClientRect();
  var cols = Array.prototype.map.call(document.querySelectorAll('#table-front th'), function (th) {
    var r = th.getBoundingClientRect();
    return {name: th.textContent.trim(), left: r.left, right: r.right};
  });
  var pre = document.createElement('pre');
  pre.id = 'layout';
  pre.textContent = JSON.stringify({viewport: window.innerWidth, page: document.documentElement.scrollWidth,
                                    box: {left: box.left, right: box.right}, cols: cols});
  document.body.appendChild(pre);
})();
</script>"""


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--window-size={WIDTH},1000", *args], capture_output=True, text=True, timeout=180)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_front_table_objectives_are_visible_at_1400_px(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", standard_trials(), standard_records())
    write_report(run)
    page = (run / "report.html").read_text()
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _PROBE + "</body>"))
    dom = _chromium("--dump-dom", probe.as_uri())
    match = re.search(r'<pre id="layout">(.*?)</pre>', dom.stdout, re.S)
    assert match, dom.stderr[-2000:]
    layout = json.loads(html.unescape(match.group(1)))
    assert layout["viewport"] == WIDTH
    assert layout["page"] <= WIDTH, "the page itself scrolls sideways"
    cols = {c["name"]: c for c in layout["cols"]}
    # the space's objectives (accuracy, dsp, lut) and its budget (latency_ns <= 1000) lead the table
    wanted = ["trial", "accuracy", "DSP", "LUT", "latency (ns)", "P(latency_ns <= 1000)", "budgets"]
    names = [c["name"] for c in layout["cols"]]
    assert [n for n in names if n in wanted] == wanted, names
    right_edge = min(layout["box"]["right"], WIDTH)
    for name in wanted:
        assert cols[name]["left"] >= 0 and cols[name]["right"] <= right_edge + 0.5, (name, cols[name], right_edge)
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", (run / "report.html").as_uri())
    assert shot.is_file() and shot.stat().st_size > 10_000
