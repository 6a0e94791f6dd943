"""The ``dse`` command line. It parses arguments and calls library functions; ``main()`` returns
an exit code: 0 success, 1 unexpected failure, 2 bad input (space file, data, run folder,
arguments), 130 interrupted by Ctrl-C (resumable)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from dse.errors import ConfigError, DseError
from dse.plugins import synthesis_backend_names

log = logging.getLogger("dse")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit 2 with a one-line message, as for other bad input
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass



def _hls_backend_arg(text: str) -> str:
    """``--backend`` of ``dse estimate``: an hls4ml backend name as dse's (``VivadoAccelerator`` → ``vivado``)."""
    from cost_models.constants import hls_backend

    return hls_backend(text) or text

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dse", description="Design-space explorer for quantized neural networks on FPGAs "
                                        "(QKeras + hls4ml + Optuna + Ray).")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="log progress details and the libraries' own messages (TensorFlow, Ray) to stderr")
    # the same flag after the command (dse run --verbose ...); SUPPRESS keeps the top-level value otherwise
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log progress details and the libraries' own messages to stderr")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", parents=[common],
                         help="run or resume a search described by a space file")
    run.add_argument("space", help="the space file (YAML), e.g. search_spaces/quickstart.yaml")
    run.add_argument("--n-trials", type=_positive_int, help="total trials wanted (overrides search.n_trials)")
    run.add_argument("--workers", type=_positive_int, help="trials run in parallel (overrides search.workers)")
    run.add_argument("--run-dir", help="the run folder (default: runs/<name>)")
    run.add_argument("--name", help="the run name (default: the space's name)")
    run.add_argument("--seed", type=int, help="sampler and training seed (overrides search.seed)")
    run.add_argument("--ray-address", help="join an existing Ray cluster (e.g. 127.0.0.1:6379 or auto)")
    run.add_argument("--storage", help="an Optuna storage URL (default: SQLite study.db in the run folder)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    val = sub.add_parser("validate", parents=[common],
                         help="check a space file and print what it searches")
    val.add_argument("space")

    sch = sub.add_parser("schema", help="print the JSON Schema of a space file (for editors and CI checks)")
    sch.add_argument("--markdown", action="store_true", help="print the key tables of docs/space_file.md instead")

    est = sub.add_parser("estimate", parents=[common],
                         help="estimate the FPGA cost of a trained Keras/QKeras model or of a project hls4ml "
                              "has written (JSON on stdout)")
    est.add_argument("--model", help="the model file (.h5 or .keras); with --hls-config")
    est.add_argument("--hls-config", help="an hls4ml_config.yml (Backend, Part, ClockPeriod, IOType, HLSConfig)")
    est.add_argument("--hls-project", metavar="DIR",
                     help="a project folder written by hls4ml (firmware/parameters.h, defines.h, weights); "
                          "no synthesis report is read")
    est.add_argument("--part", help="with --hls-project: the FPGA part (overrides the project's files)")
    est.add_argument("--clock-period", type=float, metavar="NS",
                     help="with --hls-project: the clock period in ns (overrides the project's files)")
    est.add_argument("--backend", choices=["vitis", "vivado"], type=_hls_backend_arg,
                     help="with --hls-project: the HLS backend (overrides the project's files); hls4ml's "
                          "VitisAccelerator and VivadoAccelerator are their base backend")
    est.add_argument("--tool-version", help="with --hls-project: the HLS tool version, e.g. 2023.2 or 2019.2")
    est.add_argument("--calibration", help="a calibration JSON from 'dse calibrate'")

    syn = sub.add_parser("synth", parents=[common],
                         help="synthesize one finished trial now (vendor HLS, or yosys for distributed arithmetic)")
    syn.add_argument("run", help="the run folder")
    syn.add_argument("--trial", type=int, required=True, help="the trial number")
    syn.add_argument("--backend", choices=[b for b in synthesis_backend_names() if b != "none"],
                     help="default: the space's synthesis/hardware backend (built-ins and installed plug-ins)")
    syn.add_argument("--executable", help="the tool to run (default: found on PATH)")
    syn.add_argument("--timeout", type=float, help="seconds before the tool is killed")
    syn.add_argument("--vsynth", action="store_true", default=None, help="also run Vivado logic synthesis")
    syn.add_argument("--no-firmware", action="store_true", help="skip the hls4ml C++ emulation accuracy check")

    cal = sub.add_parser("calibrate", parents=[common],
                         help="fit a cost-model calibration from synthesized hls4ml projects")
    cal.add_argument("run", nargs="?", help="a run folder: refit from its synthesis records")
    cal.add_argument("--reports", nargs="+", help="folders holding hls4ml projects with synthesis reports")
    cal.add_argument("--out", help="where to write the calibration JSON")

    rep = sub.add_parser("report", parents=[common],
                         help="write pareto.csv, trials.csv, report.html and report.md into a run folder")
    rep.add_argument("run", help="the run folder, e.g. runs/quickstart")

    exp = sub.add_parser("export", parents=[common],
                         help="export one trial: QKeras model, hls4ml config and a written hls4ml project")
    exp.add_argument("run", help="the run folder, e.g. runs/quickstart")
    exp.add_argument("--trial", type=int, required=True, help="the trial number (see pareto.csv)")
    exp.add_argument("--out", required=True, help="the output folder (must not exist or be empty)")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # the reader went away (dse validate f.yaml | head -1): not an error; silence the final flush
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"dse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _configure_logging(args.verbose)
    try:
        handler = {"run": _cmd_run, "validate": _cmd_validate, "schema": _cmd_schema, "estimate": _cmd_estimate,
                   "calibrate": _cmd_calibrate, "report": _cmd_report, "export": _cmd_export,
                   "synth": _cmd_synth}[args.command]
        return int(handler(args))
    except DseError as exc:
        from dse.search import SearchInterrupted

        if isinstance(exc, SearchInterrupted):
            print(f"\ndse: {exc}", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(f"dse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\ndse: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


class _MinLevel(logging.Filter):
    """Console threshold as a filter: the run's log file lowers the root level to INFO, and tqdm's
    logging redirect copies a handler's filters but not its level."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def _configure_logging(verbose: bool) -> None:
    from dse.search.quiet import quiet_process

    quiet_process(verbose)  # before any TensorFlow or Ray import
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stderr:
            handler.addFilter(_MinLevel(level))


# --------------------------------------------------------------------------- run / validate


def _read_space(path: str) -> tuple[Any, str]:
    from dse.space import load_space

    space = load_space(path)
    return space, Path(path).read_text(encoding="utf-8")


def _cmd_validate(args: argparse.Namespace) -> int:
    space, _ = _read_space(args.space)
    from dse.space.describe import describe_space
    from dse.training.data_checks import check_data

    notes = check_data(space, args.space)  # header and labels only: cheap
    shape_note = _check_model_shape(space, args.space)
    notes += [shape_note] if shape_note else []
    print(describe_space(space))
    for note in notes:
        print(f"  {note}")
    return EXIT_OK


def _check_model_shape(space: Any, space_file: str) -> str | None:
    """A CNN space against the data's sample shape (known without loading it): a space in which no design
    can be built is a ``ConfigError``; a note when only some designs cannot be built."""
    from dse.space import check_model_shape
    from dse.training.data_checks import sample_shape

    if space.model.type != "cnn":
        return None
    return check_model_shape(space, sample_shape(space.data), space_file)


def _listen_to_ctrl_c() -> None:
    """Make SIGINT stop the search cleanly (exit 130) even when dse was started with SIGINT ignored, as a
    background job of a non-interactive shell or a child of a process that ignores it inherits."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _cmd_run(args: argparse.Namespace) -> int:
    from dse.store import run_dir_for, validate_run_name

    _listen_to_ctrl_c()

    space, text = _read_space(args.space)
    _check_model_shape(space, args.space)
    if args.name is not None:
        space = space.model_copy(update={"name": validate_run_name(args.name)})
    else:
        validate_run_name(space.name)  # the space file's name: must stay inside runs/ too
    run_dir = Path(args.run_dir) if args.run_dir else run_dir_for(space.name)
    from dse.commands.progress import ProgressBar
    from dse.search import run_search

    n_total = args.n_trials or space.search.n_trials
    bar = ProgressBar(n_total, space, enabled=not args.no_progress)
    cmd = " ".join(["dse", "run", args.space] + (["--run-dir", str(run_dir)] if args.run_dir else [])
                   + (["--name", args.name] if args.name else []))
    try:
        with bar.redirect_logging():
            result = run_search(space, run_dir, source_text=text, n_trials=args.n_trials, workers=args.workers,
                                seed=args.seed, ray_address=args.ray_address, storage=args.storage,
                                progress=bar.update)
    except DseError as exc:
        from dse.search import SearchInterrupted

        bar.close()
        if isinstance(exc, SearchInterrupted):
            print(f"\ndse: {exc}.\nResume with: {cmd}", file=sys.stderr)
            return EXIT_INTERRUPTED
        raise
    bar.close()
    from dse.analysis.tables import format_pareto

    print(f"\nRun folder: {result.run_dir}")
    dups = f", {result.n_duplicates} repeated design(s) not retrained" if result.n_duplicates else ""
    if result.n_screened:
        dups += f", {result.n_screened} design(s) not trained (pre-training estimate broke a budget, or not buildable)"
    print(f"{result.n_complete} complete, {result.n_pruned} pruned, {result.n_failed} failed{dups} "
          f"in {result.wall_seconds:.0f} s (study {result.study_name})")
    print(format_pareto(result.pareto, space))
    for line in _feasibility_lines(result, space):
        print(line)
    try:
        summary = _budget_summary(result.run_dir)
    except DseError as exc:  # the run itself succeeded; the summary is a courtesy
        log.warning("no budget summary: %s", exc)
        summary = ""
    if summary:
        print(summary)
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from dse.space.docs import json_schema, markdown_tables

    print(markdown_tables() if args.markdown else json.dumps(json_schema(), indent=2))
    return EXIT_OK


def _feasibility_lines(result: Any, space: Any) -> list[str]:
    """Plain words when no trained design meets the budgets, and the space's feasible share before training."""
    lines = []
    n_trained = result.n_complete + result.n_failed + result.n_pruned
    if space.constraints and result.n_complete and not result.n_feasible:
        lines.append(f"Nothing feasible was trained: none of the {result.n_complete} complete trials meets every "
                     f"budget (what breaks: 'Budgets' below).")
    elif space.constraints and n_trained:
        lines.append(f"{result.n_feasible} of {result.n_complete} complete trials meet every budget.")
    share = result.feasible_share
    if share:
        per = ", ".join(f"{k}: {100 * v:.3g} %" for k, v in share["per_budget"].items())
        lines.append(f"Before training, about {100 * share['share']:.3g} % of {share['n_designs']} random designs of "
                     f"the space were expected to meet the cost budgets ({per}).")
    return lines


def _budget_summary(run_dir: Path) -> str:
    """Why trials broke budgets, failed or were pruned (see ``dse.analysis.budget_report``)."""
    from dse.analysis.budget_report import budget_breakers, failure_summary, format_breakers, space_budgets
    from dse.analysis.run import load_run

    run = load_run(run_dir)
    budgets, confidence = space_budgets(run.space)
    lines = []
    if budgets:
        lines += ["", "Budgets:"] + [f"  {t}" for t in format_breakers(budget_breakers(run.trials, budgets,
                                                                                       confidence))]
    failures = failure_summary(run.trials)
    if failures:
        lines += ["", "Failed and pruned trials:"] + [f"  {t}" for t in failures]
    return "\n".join(lines)


# --------------------------------------------------------------------------- cost model commands


def _cmd_estimate(args: argparse.Namespace) -> int:
    from dse.commands.estimate import estimate_hls_project, estimate_model_file

    overrides = {"--part": args.part, "--clock-period": args.clock_period, "--backend": args.backend,
                 "--tool-version": args.tool_version}
    if args.hls_project:
        if args.model or args.hls_config:
            raise ConfigError("give either --hls-project DIR or --model with --hls-config, not both")
        out = estimate_hls_project(args.hls_project, args.part, args.clock_period, args.backend, args.tool_version,
                                   args.calibration)
    else:
        if not (args.model and args.hls_config):
            raise ConfigError("give --model FILE with --hls-config FILE, or --hls-project DIR")
        given = [k for k, v in overrides.items() if v is not None]
        if given:
            raise ConfigError(f"{', '.join(given)}: only with --hls-project (the hls4ml config sets the target)")
        out = estimate_model_file(args.model, args.hls_config, args.calibration)
    print(json.dumps(out, indent=2, sort_keys=False, default=str))
    return EXIT_OK


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from dse.commands.estimate import calibrate

    path, summary = calibrate(args.run, args.reports, args.out)
    print(summary)
    print(f"calibration written to {path}")
    return EXIT_OK


# --------------------------------------------------------------------------- analysis commands


def _cmd_report(args: argparse.Namespace) -> int:
    from dse.analysis.report import write_report

    result = write_report(args.run)
    print(result.message)
    for name in ("report.html", "report.md", "pareto.csv", "trials.csv"):
        if name in result.files:
            print(f"  {result.files[name]}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from dse.commands.export import export_trial

    result = export_trial(args.run, args.trial, args.out)
    print(f"trial {result.trial} exported to {result.out_dir}: {', '.join(result.files)}")
    for line in result.budget_warnings:
        print(f"warning: {line}")
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace) -> int:
    from dse.synthesis.one import synthesize_trial

    rec = synthesize_trial(args.run, args.trial, backend=args.backend, timeout_s=args.timeout, vsynth=args.vsynth,
                           firmware=not args.no_firmware, executable=args.executable)
    print(json.dumps({k: rec.get(k) for k in ("trial", "status", "measured", "tool", "tool_version", "error",
                                              "firmware_accuracy", "qkeras_test_accuracy", "firmware_flag")},
                     indent=2, default=str))
    return EXIT_OK if rec["status"] == "ok" else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
