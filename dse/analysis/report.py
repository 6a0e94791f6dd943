"""``dse report RUN``: the Pareto-front report of a run folder.

Writes (atomically, into the run folder, through ``RunFolder``: see its docstring for the one writer of
each file and the lock rules):

* ``pareto.csv``: the feasible front of the space's objectives: trial, design, accuracies
  (validation, test, firmware where checked), each cost as estimate, 80 % interval
  (``_low``/``_high``), measured (``measured_<k>``, where synthesized) and % of the part,
  then the parameters;
* ``trials.csv``: every trial (``Run.trials_csv``: the ``Run.trials`` table, with ``on_front`` and
  ``synthesized``), only while no search runs on the folder: a running driver holds the writer lock
  and rewrites the same table itself after every finished trial;
* ``front_layers.csv``: per design of the front, one row per hardware layer: where its latency, II
  and resources go (``Run.layer_tables``, the cost model's per-layer breakdown; any layer kind);
* ``report.html``: one self-contained page (CSS inline, figures as base64 PNG: opens offline);
* ``report.md`` with its figures in ``report_figures/*.png``.

The study is only read (read-only connection), so a run in progress can be reported; the report's own
files (``dse.store.REPORT_FILES``, ``report_figures/``) are never written by a driver.
"""

from __future__ import annotations

import base64
import html
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dse.analysis.formatting import format_frame, io_type_text
from dse.store import REPORT_FIGURES_DIR

log = logging.getLogger(__name__)

FIGURES_DIR = REPORT_FIGURES_DIR
FRONT_COSTS = ("dsp", "lut", "latency_ns")
UNBUILDABLE = "cannot be built"
"""How the ``screened`` reason of a proposal hls4ml cannot build begins (``dse.search.proposals``)."""
LAYER_TABLE_DESIGNS = 3
"""Designs of the front (best first) whose per-layer table the report shows (front_layers.csv has all)."""


@dataclass
class Section:
    """One block of the report: a title, a paragraph, an optional figure (PNG) and table."""

    key: str
    title: str
    text: str = ""
    png: bytes | None = None
    table: Any = None  # a pandas DataFrame
    details: Any = None
    """A further table (DataFrame), folded away under ``details_title`` (HTML ``<details>``)."""
    details_title: str = "All columns"


@dataclass
class ReportResult:
    run_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    message: str = ""
    """A one-line summary (what is in the report, or why it is nearly empty)."""
    n_front: int = 0


def build_sections(run: Any) -> tuple[list[Section], str]:
    """The report's sections and its one-line summary (figures rendered to PNG)."""
    from dse.analysis.budget_report import budget_breakers, failure_summary, format_breakers, space_budgets
    from dse.analysis.plots import (
        figure_png,
        hypervolume_figure,
        importance_figure,
        pareto_figure,
        parity_figure,
    )
    from dse.analysis.report_tables import budget_table, front_display

    counts = run.counts()
    trials = run.trials
    front = run.front_table()
    budgets, confidence = space_budgets(run.space)
    part_totals = run.part.totals() if run.part is not None else None
    sections: list[Section] = []
    if counts["COMPLETE"] == 0:
        if len(trials) == 0:
            message = "The run has no trials yet: nothing to report."
        else:
            message = (f"No trial completed ({counts['FAIL']} failed, {counts['PRUNED']} pruned, "
                       f"{counts['RUNNING']} running): no Pareto front yet.")
        sections.append(Section("status", "Nothing to plot yet", message))
    else:
        message = (f"{counts['COMPLETE']} complete, {counts['PRUNED']} pruned, {counts['FAIL']} failed, "
                   f"{counts['RUNNING']} running trials; {len(front)} design(s) on the feasible front.")
        if counts["RUNNING"]:
            message += " The run is still in progress."
    screened = trials["screened"].dropna().astype(str) if "screened" in trials else []
    n_unbuildable = int(sum(1 for s in screened if s.startswith(UNBUILDABLE)))
    n_screened = len(screened) - n_unbuildable
    if n_screened:  # FAIL trials that were never trained (dse.search.screening)
        message += (f" {n_screened} of the failed are proposed designs not trained: their pre-training estimate "
                    "broke a budget (column screened of trials.csv).")
    if n_unbuildable:  # FAIL trials hls4ml could not build for the data's shape (dse.search.proposals)
        message += (f" {n_unbuildable} of the failed are proposed designs that cannot be built for the data's "
                    "sample shape (column screened of trials.csv).")
    costs = list(FRONT_COSTS) + [o.metric for o in run.space.objectives
                                 if o.metric not in ("accuracy", "loss", "auc", *FRONT_COSTS)]
    if counts["COMPLETE"]:
        sections.append(Section(
            "front", "The Pareto front",
            f"{len(front)} design(s), best first by the first objective ({run.space.objectives[0].metric}). "
            "Costs are estimates (with their share of the part) and their 80% interval; measured where "
            f"synthesized. P(budget) is the probability that the design meets the budget given that interval; "
            f"near budget: between {1 - confidence:.0%} and {confidence:.0%}. Every column (all costs, the "
            "parameters) is in the folded table below and in pareto.csv.",
            table=front_display(front, run.space, part_totals, budgets, confidence), details=front,
            details_title=f"All columns of the front ({len(front.columns)})"))
        shown = [int(n) for n in front["number"].tolist()[:LAYER_TABLE_DESIGNS]]
        per_layer = run.layer_tables(shown)
        if len(per_layer):
            from dse.analysis.layer_table import layer_display

            sections.append(Section(
                "layers", "Where the cost goes, per layer",
                f"The first {len(shown)} design(s) of the front, one row per hardware layer, from the cost "
                "model's per-layer breakdown (before calibration; shares are of the layers' sum, so they say "
                "where the cost goes rather than the total). RF: ReuseFactor; mults: multiplications per pass "
                "after zeros; II *: the layer whose initiation interval is the design's largest. Every design "
                "of the front is in front_layers.csv.",
                table=layer_display(per_layer)))
        if budgets:
            breakers = budget_breakers(trials, budgets, confidence)
            sections.append(Section("budgets", "Budgets: which trials broke them, and why",
                                    " ".join(f"{t}." for t in format_breakers(breakers)) + " Broken: on the estimate "
                                    "(measured figure where synthesized); near: the 80% interval crosses the bound.",
                                    table=budget_table(breakers)))
        for cost in costs:
            fig = pareto_figure(run, cost)
            sections.append(Section(f"pareto_{cost}", f"Accuracy against {cost}",
                                    "Grey: complete trials (x: infeasible). Orange: the feasible Pareto front of "
                                    "the space's objectives with the 80% interval of the estimate. Red stars: "
                                    "measured after synthesis. Dashed red: constraints.", figure_png(fig)))
        sections.append(Section("hypervolume", "Hypervolume over trials",
                                "Objectives scaled to [0, 1] over the feasible complete trials, reference point "
                                "1.1 in each; it grows as the front improves.", figure_png(hypervolume_figure(run))))
    synth = run.synthesis
    if synth.empty:
        sections.append(Section("parity", "Estimated versus synthesized",
                                "No synthesis in this run: every cost is a cost-model estimate."))
    else:
        n_ok = int((synth["status"] == "ok").sum())
        text = (f"{len(synth)} synthesis record(s): {n_ok} ok, {len(synth) - n_ok} failed or timed out. "
                "Left: the uncalibrated estimate; right: with the calibration fitted after the record.")
        table = synth[["trial", "status", "tool", "tool_version", "error"]]
        sections.append(Section("parity", "Estimated versus synthesized", text,
                                figure_png(parity_figure(run)) if n_ok else None, table=table))
    if counts["COMPLETE"]:
        imp, problems = run.importances()
        text = "fANOVA importance of each parameter for each objective (Optuna, seed 0)."
        if problems:
            text += " Not computed for " + "; ".join(f"{k}: {v}" for k, v in problems.items()) + "."
        png = figure_png(importance_figure(run)) if not imp.empty else None
        sections.append(Section("importances", "Parameter importances", text, png,
                                table=imp.reset_index(names="parameter") if not imp.empty else None))
    failed = trials[trials["state"] == "FAIL"]
    if "screened" in trials:
        failed = failed[failed["screened"].isna()]
    lines = failure_summary(trials[trials["screened"].isna()] if "screened" in trials else trials)
    if lines:
        text = " ".join(f"{line}." for line in lines)
        if not failed.empty:
            text += " error.txt in each failed trial's folder has the traceback."
        sections.append(Section("failed", "Failed and pruned trials", text,
                                table=failed[["number", "candidate", "interrupted", "error"]]
                                if not failed.empty else None))
    return sections, message


def write_report(path: str | Path, *, html_report: bool = True) -> ReportResult:
    """Write pareto.csv, front_layers.csv, report.html, report.md and report_figures/ into the run folder at
    ``path``, and trials.csv unless a search holds the folder's lock (``RunFolder.refresh_trials_csv``).

    Raises ``RunFolderError`` for a missing, foreign or incompatible folder. A run with no
    complete trial still gets every file (the report says why it is empty).
    """
    from dse.analysis.run import load_run

    run = load_run(path)
    sections, message = build_sections(run)
    result = ReportResult(run.path, message=message, n_front=int(run.trials["on_front"].sum()))
    front = run.front_table()
    folder = run.folder
    files = result.files
    files["pareto.csv"] = folder.write_report_file("pareto.csv", front.to_csv(index=False))
    if folder.refresh_trials_csv(run.trials_csv()):
        files["trials.csv"] = folder.trials_csv
    else:
        result.message += " trials.csv is left to the running search (it rewrites it after every trial)."
    if len(front):
        files["front_layers.csv"] = folder.write_report_file(
            "front_layers.csv", run.layer_tables(front["number"].tolist()).to_csv(index=False))
    for s in sections:
        if s.png is not None:
            name = f"{FIGURES_DIR}/{s.key}.png"
            files[name] = folder.write_report_file(name, s.png)
    header = _header(run, message)
    files["report.md"] = folder.write_report_file("report.md", render_markdown(header, sections))
    if html_report:
        files["report.html"] = folder.write_report_file("report.html", render_html(header, sections, run.space.name))
    log.info("report of %s written: %s", run.path, ", ".join(files))
    return result


def _header(run: Any, message: str) -> list[tuple[str, str]]:
    hw = run.space.hardware
    return [("run", f"{run.space.name} ({run.path})"),
            ("generated", time.strftime("%Y-%m-%d %H:%M:%S")),
            ("target", f"{hw.part}, {hw.backend}, {hw.clock_period_ns:g} ns clock, {io_type_text(hw)}"),
            ("objectives", ", ".join(f"{o.metric} ({o.direction})" for o in run.space.objectives)),
            ("constraints", ", ".join(map(str, run.space.constraints)) or "none"),
            ("status", message),
            ("study", f"optuna-dashboard {run.folder.storage_url()}")]


# --------------------------------------------------------------------------- rendering


def markdown_table(frame: Any) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (numbers by column, see ``dse.analysis.formatting``; NaN
    blank; '|' escaped)."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in format_frame(frame).itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in row) + " |")
    return "\n".join(lines)


def render_markdown(header: list[tuple[str, str]], sections: list[Section]) -> str:
    out = ["# dse report", ""]
    out += [f"- **{k}**: {v}" for k, v in header]
    for s in sections:
        out += ["", f"## {s.title}", ""]
        if s.text:
            out += [s.text, ""]
        if s.png is not None:
            out += [f"![{s.title}]({FIGURES_DIR}/{s.key}.png)", ""]
        if s.table is not None and len(s.table):
            out += [markdown_table(s.table), ""]
        if s.details is not None and len(s.details):
            out += ["<details><summary>" + html.escape(s.details_title) + "</summary>", "",
                    markdown_table(s.details), "", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1600px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}dd{margin:0}
img{max-width:100%;height:auto;border:1px solid #eee}
.tbl{overflow-x:auto}table{border-collapse:collapse;font-size:.82em}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right;white-space:nowrap}
th{background:#f4f4f4;white-space:normal;vertical-align:bottom}
#table-front td:last-child{text-align:left}
#table-budgets td,#table-failed td{white-space:normal;min-width:8em}
#table-layers td:nth-child(2),#table-layers td:nth-child(3),#table-layers td:nth-child(4){text-align:left}
details{margin:.6em 0}summary{cursor:pointer;color:#555}
"""


def _html_table(frame: Any, key: str) -> str:
    table = format_frame(frame).to_html(index=False, escape=True, border=0,
                                        table_id=f"table-{html.escape(key)}")
    return f'<div class="tbl">{table}</div>'


def render_html(header: list[tuple[str, str]], sections: list[Section], name: str) -> str:
    """One self-contained HTML page: no external resource, figures as data: URIs."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width,initial-scale=1">',
             f"<title>dse report: {html.escape(name)}</title><style>{_CSS}</style></head><body>",
             f"<h1>dse report: {html.escape(name)}</h1><dl>"]
    parts += [f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in header]
    parts.append("</dl>")
    for s in sections:
        parts.append(f'<section id="{html.escape(s.key)}"><h2>{html.escape(s.title)}</h2>')
        if s.text:
            parts.append(f"<p>{html.escape(s.text)}</p>")
        if s.png is not None:
            data = base64.b64encode(s.png).decode("ascii")
            parts.append(f'<img alt="{html.escape(s.title)}" src="data:image/png;base64,{data}">')
        if s.table is not None and len(s.table):
            parts.append(_html_table(s.table, s.key))
        if s.details is not None and len(s.details):
            parts.append(f"<details><summary>{html.escape(s.details_title)}</summary>"
                         + _html_table(s.details, f"{s.key}-details") + "</details>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
