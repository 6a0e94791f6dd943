"""Sanity check of the CNN layer rules on the shared real hls4ml CNN projects (in-sample, uncalibrated).

Usage::

    python benchmarks/cnn_rules_check.py [--data DIR] [--layers]

For every shared project whose layer list holds a convolution, the analytic model (shipped constants,
no calibration) estimates the totals, which are compared with the csynth report; with ``--layers``
each layer's estimate is also compared with its csynth per-instance row (matched by config struct).
Errors are ``|pred - true| / max(true, floor)`` with the floors of ``validate_cost_model.py`` (50 DSP,
2000 LUT/FF, 5 cycles, 1 II; 5 BRAM_18K here). Nothing is fitted here: this checks rules, it is not the
held-out validation (``benchmarks/validate_cost_model.py``).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cost_models import Calibration, estimate, records_from_dirs  # noqa: E402
from cost_models.layers import CONV_KINDS  # noqa: E402

METRICS = ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "ii")
FLOORS = {"dsp": 50.0, "lut": 2000.0, "ff": 2000.0, "bram_18k": 5.0, "latency_cycles": 5.0, "ii": 1.0}
ROW_KEYS = {"dsp": "dsp", "lut": "lut", "ff": "ff", "bram_18k": "bram_18k", "latency_cycles": "latency_max",
            "ii": "ii_max"}


def ape(pred: float, true: float, metric: str) -> float:
    return 100.0 * abs(pred - true) / max(true, FLOORS[metric])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "hls4ml_reports"))
    ap.add_argument("--layers", action="store_true", help="also compare each layer with its csynth row")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    data = Path(args.data)
    errs: dict[str, list[float]] = {m: [] for m in METRICS}
    layer_errs: dict[tuple[str, str], list[float]] = {}
    n = 0
    for rec in records_from_dirs([data]):
        if not rec.layers or not any(s.kind in CONV_KINDS for s in rec.layers) or rec.part is None:
            continue
        try:
            est = estimate(rec.layers, rec.target(), Calibration())
        except ValueError as exc:
            print(f"skip {rec.source}: {exc}")
            continue
        n += 1
        rel = Path(rec.source).resolve().relative_to(data.resolve()).as_posix()
        cells = []
        for m in METRICS:
            true = getattr(rec, m)
            if true is None:
                cells.append(f"{m}=?")
                continue
            e = ape(float(getattr(est, m)), float(true), m)
            errs[m].append(e)
            cells.append(f"{m} {getattr(est, m):.0f}/{true:.0f}")
        print(f"{rel[:70]:70s} {rec.io_type or '?':11s} " + "  ".join(cells))
        if args.layers:
            rows = {r.get("config"): r for r in rec.layer_rows if r.get("config")}
            for le in est.layers:
                row = rows.get(le.name)
                if row is None:
                    continue
                for m, key in ROW_KEYS.items():
                    if row.get(key) is not None:
                        layer_errs.setdefault((le.kind, m), []).append(ape(float(getattr(le, m)), float(row[key]), m))
    print(f"\n{n} CNN projects; median error per metric (in-sample, uncalibrated):")
    for m in METRICS:
        if errs[m]:
            print(f"  {m:15s} median {statistics.median(errs[m]):6.1f} %  (n={len(errs[m])})")
    if args.layers:
        print("\nper layer kind (csynth per-instance rows):")
        for (kind, m), v in sorted(layer_errs.items()):
            print(f"  {kind:18s} {m:15s} median {statistics.median(v):6.1f} %  (n={len(v)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
