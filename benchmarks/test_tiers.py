"""Time the two fast test tiers and record the figures with the machine's load.

Usage::

    python benchmarks/test_tiers.py [--label after] [--out benchmarks/results/test_tiers.json] [--repeat 1]

Runs ``python -m pytest tests/unit -q -p no:randomly`` and ``python -m pytest -m "not slow" -q -p no:randomly``
one after the other (never in parallel: the point is per-test cost) and records for each: wall seconds,
CPU seconds of pytest and its children (user + sys, from ``getrusage``), the pytest summary line, and the
1-minute load average before and after. On a shared machine the wall time grows with the load; the CPU
seconds are the better estimate of the wall time on an idle one (the tests are single-threaded).
The entry is appended to the JSON list in ``--out`` under ``--label``.

Each entry also records whether Python writes bytecode (``PYTHONDONTWRITEBYTECODE`` unset): when it may
not, every run compiles dse and pytest rewrites the asserts of every test module again (~1.5 s of the
unit tier, ~3 s of ``-m "not slow"``); when it may, the second run onward reads them from __pycache__.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIERS = {
    "unit": ["tests/unit"],
    "not_slow": ["-m", "not slow"],
}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def time_tier(args: list[str]) -> dict[str, object]:
    """Run one tier once: wall and CPU seconds, its summary line, the load average around it."""
    load_before = os.getloadavg()[0]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", *args, "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"})
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "exit_code": proc.returncode,
            "summary": lines[-1] if lines else "", "load_1min_before": round(load_before, 2),
            "load_1min_after": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="measurement")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "test_tiers.json")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--tier", choices=sorted(TIERS), action="append", help="default: both")
    args = parser.parse_args(argv)
    entry: dict[str, object] = {"label": args.label, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                "cpus": os.cpu_count(),
                                "writes_bytecode": not os.environ.get("PYTHONDONTWRITEBYTECODE"), "tiers": {}}
    for name in args.tier or sorted(TIERS):
        runs = [time_tier(TIERS[name]) for _ in range(args.repeat)]
        entry["tiers"][name] = runs  # type: ignore[index]
        for r in runs:
            print(f"{name}: {r['wall_s']} s wall, {r['cpu_s']} s CPU, load {r['load_1min_before']} -> "
                  f"{r['load_1min_after']}: {r['summary']}", flush=True)
    history = json.loads(args.out.read_text()) if args.out.exists() else []
    history.append(entry)
    args.out.write_text(json.dumps(history, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
