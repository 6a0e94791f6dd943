"""Validate cost_models on the shared real hls4ml synthesis reports.

Usage: python benchmarks/validate_cost_model.py [--data DIR] [--doc docs/cost_model_validation.md]

For every project with a layer list and csynth figures: the uncalibrated analytic estimate, and a
calibrated estimate whose calibration was fitted with the project's whole *source project* left
out (leave-one-source-project-out). Errors are |pred - true| / max(true, floor). Prints the table,
writes it into the doc, and writes benchmarks/results/validation.json and validation_records.csv.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import re
import statistics
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cost_models import Calibration, SynthesisRecord, estimate, records_from_dirs  # noqa: E402
from cost_models.layers import LayerSpec  # noqa: E402

METRICS = ("dsp", "lut", "ff", "latency_cycles", "ii")
FLOORS = {"dsp": 50.0, "lut": 2000.0, "ff": 2000.0, "latency_cycles": 5.0, "ii": 1.0}
GOALS_UNCAL = {"dsp": 15, "lut": 35, "ff": 35, "latency_cycles": 15, "ii": None}
GOALS_CAL = {"dsp": 10, "lut": 20, "ff": 20, "latency_cycles": 10, "ii": None}
_LUT_VARIANT = re.compile(r"(^|/)LUT_[^/]*$")


def source_project(rec: SynthesisRecord, data_root: Path) -> str:
    """Source project = repository + network architecture (the shapes of its dense/conv layers).

    Variants of one network in one repository (ReuseFactor, DSP/LUT binding, target part) are
    near-duplicates and are held out together.
    """
    rel = Path(rec.source).resolve().relative_to(data_root.resolve())
    repo = rel.parts[0]
    shapes = tuple((s.kind, s.n_in, s.n_out) for s in rec.layers or [] if s.kind in ("dense", "conv1d", "conv2d"))
    return f"{repo}:{zlib.crc32(repr(shapes).encode()) & 0xFFFF:04x}"


def declared_lut_binding(rec: SynthesisRecord) -> bool:
    """The ArgyKokk ``LUT_*`` projects force every multiplication into LUT fabric (their design choice)."""
    return bool(_LUT_VARIANT.search(Path(rec.source).as_posix()))


def with_lut_binding(layers: Sequence[LayerSpec]) -> list[LayerSpec]:
    return [dataclasses.replace(s, mult_impl="lut") if s.kind != "input" else s for s in layers]


def ape(pred: float, true: float, metric: str) -> float:
    return 100.0 * abs(pred - true) / max(true, FLOORS[metric])


def evaluate(records: list[SynthesisRecord], groups: list[str], use_hint: bool) -> dict[str, object]:
    rows = []
    for i, rec in enumerate(records):
        assert rec.layers is not None
        layers = with_lut_binding(rec.layers) if use_hint and declared_lut_binding(rec) else rec.layers
        target = rec.target()
        unc = estimate(layers, target)
        train = []
        for j, r in enumerate(records):
            if groups[j] == groups[i]:
                continue
            if use_hint and declared_lut_binding(r):
                r = dataclasses.replace(r, layers=with_lut_binding(r.layers or []))
            train.append(r)
        cal = Calibration.fit(train)
        calib = estimate(layers, target, calibration=cal)
        row: dict[str, object] = {"project": str(Path(rec.source).name), "source": rec.source, "group": groups[i],
                                  "tool": rec.tool, "version": rec.tool_version, "part": rec.part,
                                  "lut_binding": use_hint and declared_lut_binding(rec),
                                  "calibration_level": calib.calibration_level}
        for m in METRICS:
            true = float(getattr(rec, m))
            row[f"{m}_true"] = true
            row[f"{m}_uncal"] = round(getattr(unc, m), 2)
            row[f"{m}_cal"] = round(getattr(calib, m), 2)
            row[f"{m}_ape_uncal"] = round(ape(getattr(unc, m), true, m), 2)
            row[f"{m}_ape_cal"] = round(ape(getattr(calib, m), true, m), 2)
            for tag, est in (("uncal", unc), ("cal", calib)):
                iv = est.intervals[m]
                row[f"{m}_in80_{tag}"] = iv.low <= true <= iv.high
        rows.append(row)
    summary: dict[str, dict[str, float]] = {}
    for m in METRICS:
        s: dict[str, float] = {}
        for tag in ("uncal", "cal"):
            errs = [float(r[f"{m}_ape_{tag}"]) for r in rows]  # type: ignore[arg-type]
            s[f"median_{tag}"] = statistics.median(errs)
            s[f"mean_{tag}"] = statistics.fmean(errs)
            s[f"coverage_{tag}"] = 100.0 * sum(bool(r[f"{m}_in80_{tag}"]) for r in rows) / len(rows)
        summary[m] = s
    return {"rows": rows, "summary": summary}


def table(summary: dict[str, dict[str, float]]) -> str:
    names = {"dsp": "DSP", "lut": "LUT", "ff": "FF", "latency_cycles": "latency (cycles)", "ii": "II"}
    out = ["| metric | floor | uncal. median | uncal. mean | goal | LOPO-cal. median | LOPO-cal. mean | goal "
           "| 80 % cover. uncal. | 80 % cover. cal. |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for m in METRICS:
        s = summary[m]
        gu, gc = GOALS_UNCAL[m], GOALS_CAL[m]
        out.append(
            f"| {names[m]} | {FLOORS[m]:g} | {s['median_uncal']:.1f} % | {s['mean_uncal']:.1f} % | "
            f"{f'≤ {gu} %' if gu else '–'} | {s['median_cal']:.1f} % | {s['mean_cal']:.1f} % | "
            f"{f'≤ {gc} %' if gc else '–'} | {s['coverage_uncal']:.0f} % | {s['coverage_cal']:.0f} % |")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "hls4ml_reports")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "cost_model_validation.md")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if not args.data.is_dir():
        print(f"data folder not found: {args.data}", file=sys.stderr)
        return 2
    all_recs = records_from_dirs([args.data])
    records = [r for r in all_recs if not r.problems()]
    skipped = [(r.source, "; ".join(r.problems())) for r in all_recs if r.problems()]
    groups = [source_project(r, args.data) for r in records]
    main_res = evaluate(records, groups, use_hint=True)
    raw_res = evaluate(records, groups, use_hint=False)
    t_main = table(main_res["summary"])  # type: ignore[arg-type]
    t_raw = table(raw_res["summary"])  # type: ignore[arg-type]
    print(f"{len(records)} projects, {len(set(groups))} source projects\n")
    print("With the declared multiplier binding of the LUT_* variants:\n" + t_main)
    print("\nWithout it (every LUT_* variant estimated as if the tool chose freely):\n" + t_raw)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "validation.json").write_text(json.dumps(
        {"n_projects": len(records), "n_source_projects": len(set(groups)), "floors": FLOORS,
         "summary": main_res["summary"], "summary_without_lut_binding": raw_res["summary"],
         "skipped": skipped}, indent=1) + "\n")
    rows = main_res["rows"]
    with (args.results / "validation_records.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))  # type: ignore[index]
        w.writeheader()
        w.writerows(rows)  # type: ignore[arg-type]
    if args.doc.is_file():
        text = args.doc.read_text()
        for tag, body in (("MAIN", t_main), ("RAW", t_raw)):
            text = re.sub(rf"<!-- TABLE:{tag} -->.*?<!-- /TABLE:{tag} -->",
                          f"<!-- TABLE:{tag} -->\n{body}\n<!-- /TABLE:{tag} -->", text, flags=re.DOTALL)
        args.doc.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
