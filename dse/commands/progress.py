"""The CLI's view of a running search: a progress bar on a terminal, one line per trial otherwise.

The bar's postfix shows the current best design as one design (the best feasible trial on the
first objective, ties broken by the next ones): its number and every objective value. While no
complete trial meets the budgets it says so plainly, and which budgets break: by how many trials and
how close the closest came (``no feasible design yet: latency_ns <= 40 broken by 5 of 5, closest +3.6``). Log
records go through the bar (``tqdm.contrib.logging.logging_redirect_tqdm``) so they never land
on its line. When stderr is not a terminal (a log file, CI), each finished trial prints one line.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from dse.analysis.formatting import fmt_value


class ProgressBar:
    """``update`` is the ``progress`` callback of ``dse.study.run_search``: (summary, done, total)."""

    def __init__(self, total: int, space: Any, enabled: bool = True, stream: TextIO | None = None):
        self.space = space
        self.stream = stream if stream is not None else sys.stderr
        self.best: tuple[int, dict[str, float]] | None = None
        self.n_complete = 0
        self.breaks: dict[str, tuple[int, float]] = {}  # budget -> (complete trials breaking it, smallest excess)
        self.bar: Any = None
        self.lines = False
        if enabled:
            if _is_terminal(self.stream):
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="trial", file=self.stream, dynamic_ncols=True)
            else:
                self.lines = True

    # ------------------------------------------------------------------ best design
    def _key(self, values: dict[str, float]) -> tuple[float, ...]:
        """Sort key, smaller is better: the objectives in order, maximised ones negated."""
        out = []
        for o in self.space.objectives:
            v = float(values.get(o.metric, float("nan")))
            v = v if v == v else float("inf")
            out.append(-v if o.direction == "maximize" and v != float("inf") else v)
        return tuple(out)

    def consider(self, summary: Any) -> None:
        """Keep ``summary`` as the best design if it is complete, feasible and better than the best so far."""
        if summary.state != "COMPLETE" or not summary.values:
            return
        self.n_complete += 1
        for name, excess in getattr(summary, "broken", {}).items():
            n, least = self.breaks.get(name, (0, float("inf")))
            self.breaks[name] = (n + 1, min(least, excess))
        if not summary.feasible:
            return
        if self.best is None or self._key(summary.values) < self._key(self.best[1]):
            self.best = (summary.number, dict(summary.values))

    def best_text(self) -> str:
        """``best #3: accuracy 0.8333, lut 1,660, dsp 2`` (one design); while no complete trial is feasible,
        ``no feasible design yet: <budget> broken by <n> of <m>, closest +<excess>; ...``; '' before any."""
        if self.best is None:
            return self.infeasible_text()
        number, values = self.best
        return f"best #{number}: " + _values_text(self.space, values)

    def infeasible_text(self) -> str:
        """What breaks while nothing feasible is trained ('' before the first complete trial)."""
        if self.best is not None or not self.n_complete:
            return ""
        parts = []
        for c in self.space.constraints:
            n, least = self.breaks.get(str(c), (0, 0.0))
            if n:
                parts.append(f"{c} broken by {n} of {self.n_complete}, closest +{fmt_value(_column(c.metric), least)}")
        return "no feasible design yet: " + ("; ".join(parts) if parts else "every complete trial breaks a budget")

    # ------------------------------------------------------------------ callback
    def update(self, summary: Any, done: int, total: int) -> None:
        self.consider(summary)
        if self.bar is not None:
            self.bar.total = max(total, done)
            self.bar.n = done
            self.bar.set_postfix_str(self.best_text(), refresh=False)
            self.bar.refresh()
        elif self.lines:
            state = summary.state.lower()
            line = f"[{done}/{max(total, done)}] trial {summary.number} {state}"
            if summary.state == "COMPLETE" and summary.values:
                line += ": " + _values_text(self.space, summary.values)
                line += "" if summary.feasible else " (breaks a budget)"
            best = self.best_text()
            if best:
                line += f" | {best}"
            print(line, file=self.stream, flush=True)

    @contextlib.contextmanager
    def redirect_logging(self) -> Iterator[None]:
        """While the bar is shown, route console log records through it (``tqdm.write``)."""
        if self.bar is None:
            yield
            return
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm():
            yield

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _values_text(space: Any, values: dict[str, float]) -> str:
    return ", ".join(f"{o.metric} {fmt_value(_column(o.metric), values.get(o.metric))}" for o in space.objectives)


def _column(metric: str) -> str:
    return {"bram": "bram_18k", "accuracy": "val_accuracy"}.get(metric, metric)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
