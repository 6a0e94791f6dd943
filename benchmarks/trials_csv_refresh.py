"""Cost of the driver's trials.csv refresh as the study grows: full rebuild against the incremental writer.

A synthetic study is built through the real driver, searcher, scorer, cost model and Optuna SQLite storage
(the in-process executor with the fast fake trainer of the search-core tests, random sampler, quickstart
space, 2 workers): its repeated designs and screened proposals are trials of the study too. When the study
holds 30, 300 and 1,000 trials (``--sizes``), each of ``--rounds`` rounds starts one trial and finishes it,
and after each of the two steps times:

- ``full``: what the driver did before (``Run(folder, views=searcher.views(), space).trials_csv()`` written
  with ``RunFolder.write_trials_csv``): the whole study read and the whole table built;
- ``incremental``: ``Driver.write_trials_csv`` (``dse.analysis.trials_csv.TrialsCsv``): the trials that
  changed read, their lines (and ``on_front`` flips) rendered, the file rewritten from the kept lines.

Both texts are compared byte for byte at every step. Prints the medians (ms; minima in the JSON too) and
writes benchmarks/results/trials_csv_refresh.json. ``--run-dir`` holds the study (default: a temporary folder
in /dev/shm, removed at the end); one core, TensorFlow not imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from dse.analysis.run import Run  # noqa: E402
from dse.search.driver import Driver  # noqa: E402
from dse.space import parse_space_text  # noqa: E402
from dse.store import RunFolder, RunLock  # noqa: E402
from tests.search_fakes import FakeTrainer, fake_executor  # noqa: E402


def full_refresh(driver: Driver) -> str:
    """The driver's refresh before the incremental writer (kept here as the reference)."""
    text = Run(driver.folder, views=driver.searcher.views(), space=driver.space).trials_csv()
    driver.folder.write_trials_csv(text)
    return text


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000.0, out


def grow(driver: Driver, rows: int) -> None:
    """Run the search until the study holds at least ``rows`` trials."""
    while len(driver.searcher.trials()) < rows:
        driver.n_trials = driver.searcher.finished_count() + driver.workers
        driver.loop()


def one_round(driver: Driver) -> dict[str, tuple[float, float, bool]]:
    """Start one trial, refresh both ways; finish it, refresh both ways. Returns step -> (full ms, incremental ms,
    identical)."""
    out = {}
    driver.n_trials = driver.searcher.finished_count() + 1
    while not driver.in_flight:
        driver.submit_next()
    for step in ("started", "finished"):
        if step == "finished":
            for ticket, result in driver.executor.poll(0.0):
                proposal, _ = driver.in_flight.pop(ticket.number)
                driver.finish(proposal.trial, driver.save_trial(proposal, result))
        t_inc, _ = timed(driver.write_trials_csv)
        incremental = driver.folder.trials_csv.read_text()
        t_full, full = timed(lambda: full_refresh(driver))
        out[step] = (t_full, t_inc, full == incremental)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[30, 300, 1000])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--run-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "trials_csv_refresh.json")
    args = ap.parse_args()

    d = yaml.safe_load((ROOT / "search_spaces" / "quickstart.yaml").read_text())
    d["search"]["sampler"] = "random"
    text = yaml.safe_dump(d, sort_keys=False)
    temporary = args.run_dir is None
    base = args.run_dir or Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else None,
                                                 prefix="dse_csv_bench_"))
    try:
        results, load_before = measure(args, space_text=text, base=base)
    finally:
        if temporary:
            shutil.rmtree(base, ignore_errors=True)
    out = {"benchmark": "trials_csv_refresh", "command": "python benchmarks/trials_csv_refresh.py "
           + " ".join(sys.argv[1:]), "python": platform.python_version(), "cpus": os.cpu_count(),
           "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
           "rounds": args.rounds, "results": results,
           "note": "milliseconds per refresh, median and minimum over rounds; full = whole study read and table "
                   "rebuilt (the driver before), incremental = Driver.write_trials_csv (TrialsCsv); "
                   "full_renders_in_rounds = incremental refreshes that rendered every line"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


def measure(args: argparse.Namespace, space_text: str, base: Path) -> tuple[list[dict[str, Any]], tuple[float, ...]]:
    """Grow the study to each size and time the rounds; returns the rows of the results and the load before."""
    text = space_text
    space = parse_space_text(text, file=str(base / "space.yaml"), base_dir=base)
    run_dir = base / "run"
    load_before = os.getloadavg()
    results = []
    with RunLock(run_dir):
        folder, _ = RunFolder.prepare(run_dir, space, text, None)
        executor = fake_executor(FakeTrainer())
        driver = Driver(space, folder, executor, "fake data", n_trials=0, workers=2, seed=0)
        executor.start(driver.data)
        for size in sorted(args.sizes):
            t0 = time.perf_counter()
            grow(driver, size)
            built = time.perf_counter() - t0
            table = driver.trials_csv.table if driver.trials_csv is not None else None
            renders_before = table.full_renders if table is not None else 0
            rounds = [one_round(driver) for _ in range(args.rounds)]
            row: dict[str, Any] = {"trials": len(driver.searcher.trials()), "build_s": round(built, 1)}
            for step in ("started", "finished"):
                full = [r[step][0] for r in rounds]
                inc = [r[step][1] for r in rounds]
                row[step] = {"full_ms": round(statistics.median(full), 2),
                             "incremental_ms": round(statistics.median(inc), 2),
                             "full_min_ms": round(min(full), 2), "incremental_min_ms": round(min(inc), 2),
                             "identical": all(r[step][2] for r in rounds)}
            table = driver.trials_csv.table if driver.trials_csv is not None else None
            row["full_renders_in_rounds"] = (table.full_renders - renders_before) if table is not None else None
            results.append(row)
            print(f"{row['trials']:5d} trials: trial started  full {row['started']['full_ms']:7.1f} ms  incremental "
                  f"{row['started']['incremental_ms']:6.1f} ms | trial finished  full {row['finished']['full_ms']:7.1f}"
                  f" ms  incremental {row['finished']['incremental_ms']:6.1f} ms | identical "
                  f"{row['started']['identical'] and row['finished']['identical']}", flush=True)
    return results, load_before


if __name__ == "__main__":
    main()
