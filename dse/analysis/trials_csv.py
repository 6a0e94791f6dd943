"""trials.csv for its one writer, the search driver, at a cost per refresh that does not grow with the study.

The file is ``Run.trials_csv()`` byte for byte (``tests/integration/test_trials_csv.py`` checks it through a
real study): the same rows (``dse.analysis.tables.trial_row``) and the same steps (``complete_columns``,
``add_synthesis_columns``, ``front_rows`` and ``csv_text`` of ``dse.analysis.run``). What differs is what is
redone after each trial:

- the study is read through ``dse.store.study_reader.StudyFeed``: only the trials new since the last refresh
  or unfinished at it;
- each trial's CSV line is kept; only the lines of the trials that changed are rendered again, and those whose
  ``on_front`` flips. The front of the study is the front of the previous front and the changed rows: a trial
  dominated by another stays dominated by a member of the front (domination is transitive), and finished
  trials do not change within a study version;
- the column order and types are those pandas gives the whole table. They follow from the keys of the rows
  (order of first appearance, rows in number order) and, per column, from the kinds of value present (None,
  missing, bool, int, float, NaN, str ...): pandas infers them here from one value of each kind. When they
  change (a new parameter, the last RUNNING trial of a column of integers finishing), every line is rendered
  again from the kept rows;
- a new study version (a re-score) or a change of the synthesis records starts over from the whole study.

The file itself is rewritten whole from the kept lines (atomically, ``RunFolder.write_trials_csv``): joining
them is the only work that grows with the study, well under a millisecond for a thousand trials.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from typing import Any

from dse.analysis.fronts import resolve_objectives
from dse.analysis.run import (
    MEASURED_COLUMNS,
    add_synthesis_columns,
    complete_columns,
    csv_text,
    front_rows,
    read_synthesis_records,
    record_fills,
)
from dse.analysis.tables import trial_row
from dse.space import SpaceConfig
from dse.store import RunFolder
from dse.store.study_reader import StudyFeed
from dse.store.trial_view import TrialView

__all__ = ["TrialsCsv", "TrialsTable"]

log = logging.getLogger(__name__)

_MISSING = object()
"""A row without the column (pandas fills it with NaN, which it does not infer as it infers None)."""

_Kind = tuple[str, str]
_Layout = tuple[tuple[str, ...], dict[str, Any], str, str]
"""Columns, their pandas dtypes (all but synthesized and on_front), the header line, a name (columns and types)."""

_KEPT_LAYOUTS = 4
"""Rendered lines are kept for this many layouts: a column of integers is written 12 while no trial runs and
12.0 while one does (pandas makes it float for the missing value), so the table goes back and forth."""


def _kind(value: Any) -> _Kind:
    """What pandas' type inference of a column sees of one value."""
    if value is None:
        return ("none", "")
    if isinstance(value, bool):
        return ("bool", "")
    if isinstance(value, int):
        if -(2 ** 63) <= value < 2 ** 63:
            return ("int", "neg" if value < 0 else "nonneg")
        return ("int", "uint64" if 0 <= value < 2 ** 64 else "big")
    if isinstance(value, float):
        return ("float", "nan" if value != value else "")
    if isinstance(value, str):
        return ("str", "")
    return ("object", f"{type(value).__module__}.{type(value).__qualname__}")


class TrialsTable:
    """The trials table of one study version kept as rows and rendered CSV lines (see the module docstring).

    ``update(views)`` takes the views of the trials that changed (all of them the first time);
    ``text()`` is then the content of trials.csv."""

    def __init__(self, space: SpaceConfig, fills: dict[int, dict[str, float]]):
        """``fills``: what the synthesis records add (``record_fills``)."""
        self.objectives = resolve_objectives(None, space)
        self.fills = fills
        self.rows: dict[int, dict[str, Any]] = {}
        """Trial number -> its ``trial_row``."""
        self.front: set[int] = set()
        self.columns: list[str] = []
        """The keys of the rows, in order of first appearance (rows in number order)."""
        self._last = -1
        """The highest trial number seen."""
        self._kinds: dict[str, Counter[_Kind]] = {}
        self._examples: dict[str, dict[_Kind, Any]] = {}
        self._layouts: dict[Any, _Layout] = {}
        self._version: dict[int, int] = {}
        """Trial number -> when its row last changed (``_tick``)."""
        self._tick = 0
        self._lines: dict[str, dict[int, tuple[int, bool, str]]] = {}
        """Per layout rendered (the last ``_KEPT_LAYOUTS``): trial number -> (row version, on_front, CSV line(s))."""
        self._current = ""
        self._header = ""
        self.full_renders = 0
        """How many updates rendered every line (the first one, and each new set of columns or types)."""
        self.last_read = 0
        """Trials the last update took (those that changed)."""
        self.last_rendered = 0
        """Lines the last update rendered."""

    # ------------------------------------------------------------------ update
    def update(self, views: list[TrialView]) -> None:
        """Take the views of the trials that changed (in number order) and render what they change."""
        changed: list[int] = []
        reorder = False
        self.last_read, self.last_rendered = len(views), 0
        for v in views:
            row = trial_row(v)
            old = self.rows.get(v.number)
            if old is not None:
                self._count(old, -1)
                reorder |= list(old) != list(row)
            elif v.number < self._last:
                reorder = True
            else:  # a row after every other: its new keys come last
                seen = set(self.columns)
                self.columns.extend(k for k in row if k not in seen)
            self.rows[v.number] = row
            self._tick += 1
            self._version[v.number] = self._tick
            self._last = max(self._last, v.number)
            self._count(row, +1)
            changed.append(v.number)
        if reorder:
            self.columns = list(dict.fromkeys(k for n in sorted(self.rows) for k in self.rows[n]))
        layout = self._current_layout()
        front = self.front
        # pareto_front counts COMPLETE rows only: unless a changed row is (or was) one, the front stays
        if any(n in self.front or self.rows[n]["state"] == "COMPLETE" for n in changed):
            front = self._front_of(sorted(self.front | set(changed)), layout)
        flipped = self.front ^ front
        self.front = front
        name = layout[3]
        lines = self._lines.pop(name, None)
        if lines is None:  # a layout never rendered: every line
            lines = {}
            stale = sorted(self.rows)
            self.full_renders += 1
        elif name == self._current:
            stale = sorted(set(changed) | flipped)
        else:  # back to a layout rendered before (a RUNNING trial came or went): the lines changed since
            stale = [n for n, (version, on_front, _) in sorted(lines.items())
                     if version != self._version[n] or on_front != (n in self.front)]
            stale += [n for n in sorted(self.rows) if n not in lines]
        self._render(sorted(stale), layout, lines)
        self._lines[name] = lines  # the most recent last
        while len(self._lines) > _KEPT_LAYOUTS:
            del self._lines[next(iter(self._lines))]
        self._current = name
        self._header = layout[2]

    def text(self) -> str:
        """The content of trials.csv."""
        lines = self._lines.get(self._current, {})
        return self._header + "".join(lines[n][2] for n in sorted(lines))

    # ------------------------------------------------------------------ column kinds
    def _count(self, row: dict[str, Any], sign: int) -> None:
        for col, value in row.items():
            kind = _kind(value)
            kinds = self._kinds.setdefault(col, Counter())
            kinds[kind] += sign
            if kinds[kind] <= 0:
                del kinds[kind]
                if not kinds:
                    del self._kinds[col]
                    self._examples.pop(col, None)
            else:
                self._examples.setdefault(col, {}).setdefault(kind, value)

    def _current_layout(self) -> _Layout:
        """Columns, pandas dtypes and header line of the whole table: ``complete_columns`` of a table with one
        value of each kind per column (the kinds decide what pandas infers), then ``synthesized`` and
        ``on_front``. Remembered per set of kinds (they come and go as trials start and finish)."""
        n = len(self.rows)
        key = tuple((c, frozenset(self._kinds[c]), sum(self._kinds[c].values()) < n) for c in self.columns)
        layout = self._layouts.get(key)
        if layout is not None:
            return layout
        import pandas as pd

        reps: dict[str, list[Any]] = {}
        for c in self.columns:
            reps[c] = [self._examples[c][k] for k in sorted(self._kinds[c])]
            if sum(self._kinds[c].values()) < n:
                reps[c].append(_MISSING)
        depth = max((len(r) for r in reps.values()), default=0)
        sample = [{c: r[i % len(r)] for c, r in reps.items() if r[i % len(r)] is not _MISSING} for i in range(depth)]
        frame = complete_columns(pd.DataFrame(sample)[self.columns] if sample else pd.DataFrame())
        dtypes = {str(c): frame[c].dtype for c in frame.columns}
        columns = (*dtypes, "synthesized", "on_front")
        layout = (columns, dtypes, csv_text(pd.DataFrame(columns=list(columns))),
                  repr([(c, dtypes.get(c)) for c in columns]))
        if len(self._layouts) >= 64:
            self._layouts.clear()
        self._layouts[key] = layout
        return layout

    # ------------------------------------------------------------------ rendering
    def _frame(self, numbers: list[int], columns: list[str], dtypes: dict[str, Any]) -> Any:
        """The rows ``numbers`` (columns ``columns``, which hold every ``measured_*``) as the whole table has
        them: its column types, the synthesis records' figures and ``synthesized``."""
        import pandas as pd

        rows = [self.rows[n] for n in numbers]
        frame = pd.DataFrame({c: _column([r.get(c) for r in rows], dtypes[c]) for c in columns},
                             index=range(len(rows)), copy=False)
        add_synthesis_columns(frame, {n: self.fills[n] for n in numbers if n in self.fills})
        return frame

    def _front_of(self, numbers: list[int], layout: _Layout) -> set[int]:
        """Trial numbers on the front (``front_rows``, the space's objectives) of the rows ``numbers``."""
        dtypes = layout[1]
        wanted = {"number", "state", "duplicate_of", "feasible", "firmware_accuracy", *MEASURED_COLUMNS,
                  *(c for c, _ in self.objectives)}
        frame = self._frame(numbers, [c for c in dtypes if c in wanted], dtypes)
        return {int(n) for n in front_rows(frame, self.objectives)["number"]}

    def _render(self, numbers: list[int], layout: _Layout, lines: dict[int, tuple[int, bool, str]]) -> None:
        """Render the lines of the rows ``numbers`` (``on_front`` from ``self.front``) into ``lines``."""
        columns, dtypes, _, _ = layout
        self.last_rendered = len(numbers)
        if not numbers:
            return
        frame = self._frame(numbers, list(dtypes), dtypes)
        frame["on_front"] = frame["number"].isin(self.front)
        assert tuple(frame.columns) == columns
        text = _split_records(csv_text(frame, header=False), len(numbers)) or [
            csv_text(frame.iloc[[i]], header=False) for i in range(len(numbers))]
        for n, line in zip(numbers, text, strict=True):
            lines[n] = (self._version[n], n in self.front, line)


def _column(values: list[Any], dtype: Any) -> Any:
    """``values`` (Python objects, None where missing) as a column of ``dtype``, converted value by value as
    pandas converts the values of a column it infers that type for (None/missing -> NaN in float columns)."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, np.dtype):
        if dtype.kind == "O":
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
        return np.array([np.nan if v is None else v for v in values], dtype=dtype)
    return pd.array(values, dtype=dtype)


def _split_records(text: str, n: int) -> list[str] | None:
    """``text`` (CSV without header) cut into its ``n`` records, each with its line end; None if it is not
    ``n`` records (the caller renders them one by one)."""
    if "\r" in text:  # line ends other than the writer's "\n" (inside quoted values): left to the caller
        return None
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    out: list[str] = []
    start = 0
    reader = csv.reader(lines)
    for _ in reader:
        out.append("".join(lines[start:reader.line_num]))
        start = reader.line_num
    return out if len(out) == n and start == len(lines) else None


class TrialsCsv:
    """The driver's writer of trials.csv: ``refresh`` after each change of the study (see the module docstring)."""

    def __init__(self, folder: RunFolder, space: SpaceConfig):
        self.folder, self.space = folder, space
        self.table: TrialsTable | None = None
        self._feed: StudyFeed | None = None
        self._records_key: Any = None

    def refresh(self, storage: Any, study_name: str) -> None:
        """Bring trials.csv up to date with study ``study_name`` of ``storage`` (an Optuna storage: the driver's
        own) and the synthesis records, and write it (``RunFolder.write_trials_csv``, atomic)."""
        records_key = self.folder.synthesis_records_key()
        if (self.table is None or self._feed is None or self._feed.study_name != study_name
                or records_key != self._records_key):
            log.debug("trials.csv: reading the whole study %s", study_name)
            self._feed = StudyFeed(storage, study_name)
            self.table = TrialsTable(self.space, record_fills(read_synthesis_records(self.folder.path)))
            self._records_key = records_key
        try:
            self.table.update(self._feed.changed())
        except BaseException:
            self.table = None  # start over next time
            raise
        self.folder.write_trials_csv(self.table.text())
