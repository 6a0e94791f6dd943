"""Numbers as people read them: integer counts, "lo-hi" intervals, percent of the part, probabilities.

Used by the CLI summary, the report tables and the export README. Pure functions, no
third-party imports. Units: resources (``dsp``, ``lut``, ``ff``, ``bram_18k``) are counts,
``latency_cycles`` and ``ii`` clock cycles, ``latency_ns`` nanoseconds, accuracies fractions.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "INTEGER_KEYS", "base_key", "fmt_count_pct", "fmt_interval", "fmt_pct", "fmt_probability", "fmt_value",
    "format_frame", "io_type_text",
]

INTEGER_KEYS = ("dsp", "lut", "ff", "bram_18k", "bram", "latency_cycles", "ii")
"""Metrics that are whole numbers on the chip (an estimate of 5.78 DSP is shown as 6)."""
_SUFFIXES = ("_low", "_high", "_pct_of_part")


def base_key(column: str) -> str:
    """The metric of a table column: ``measured_lut`` → ``lut``, ``dsp_low`` → ``dsp``, ``est_ii`` → ``ii``."""
    key = column
    for prefix in ("measured_", "est_", "before_", "after_"):
        key = key.removeprefix(prefix)
    for suffix in _SUFFIXES:
        key = key.removesuffix(suffix)
    return key


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (str, bool)):
        return False
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def fmt_value(key: str, v: Any) -> str:
    """One value of metric ``key``: counts and cycles as integers with thousands separators,
    nanoseconds with one decimal below 100, fractions (accuracy) with 4 decimals; ``-`` when missing."""
    if _missing(v):
        return "-"
    if isinstance(v, (bool, str)):
        return str(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    k = base_key(key)
    if k in INTEGER_KEYS or k == "number":
        return f"{round(x):,}"
    if k == "latency_ns":
        return f"{x:.1f}" if abs(x) < 100 else f"{round(x):,}"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}" if abs(x) >= 10 else f"{int(x)}"
    if abs(x) < 10:
        return f"{x:.4f}"
    return f"{x:,.0f}"


def fmt_interval(key: str, lo: Any, hi: Any) -> str:
    """An interval as ``lo-hi`` in the metric's own precision (``46-212``); ``-`` when missing."""
    if _missing(lo) or _missing(hi):
        return "-"
    return f"{fmt_value(key, lo)}-{fmt_value(key, hi)}"


def fmt_pct(value: Any, total: Any) -> str:
    """``value`` as a percentage of ``total`` (``0.1%``, ``12%``); empty when either is missing or ``total`` is 0."""
    if _missing(value) or _missing(total) or not float(total):
        return ""
    p = float(value) / float(total) * 100.0
    if p == 0:
        return "0%"
    if p < 0.1:
        return "<0.1%"
    if p < 10:
        return f"{p:.1f}%"
    return f"{p:.0f}%"


def fmt_count_pct(key: str, value: Any, total: Any) -> str:
    """A count with its share of the part: ``1,660 (0.1%)``; the bare count when the total is unknown."""
    text = fmt_value(key, value)
    pct = fmt_pct(value, total)
    return f"{text} ({pct})" if pct and text != "-" else text


def fmt_probability(p: Any) -> str:
    """A probability as a percentage people can read: ``62%``, ``>99%``, ``<1%``; ``-`` when missing."""
    if _missing(p):
        return "-"
    x = float(p)
    if x >= 0.995:
        return ">99%" if x < 1.0 else "100%"
    if x <= 0.005:
        return "<1%" if x > 0.0 else "0%"
    return f"{x * 100:.0f}%"


def format_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame with every cell a display string, formatted by its column's metric
    (``fmt_value``); columns ending in ``_pct_of_part`` as percentages, NaN as empty."""
    out = frame.copy().astype(object)
    for col in out.columns:
        name = str(col)
        if name.endswith("_pct_of_part"):
            out[col] = [fmt_pct(v, 100.0) if not _missing(v) else "" for v in frame[col]]
        else:
            out[col] = ["" if _missing(v) else fmt_value(name, v) for v in frame[col]]
    return out


def io_type_text(hardware: Any) -> str:
    """The space's io_type as people read it: ``io_parallel``, or ``{io_parallel, io_stream}`` when searched."""
    searched = getattr(hardware, "io_types", None)
    choices = getattr(searched, "choices", None)
    if choices and len(choices) > 1:
        return "{" + ", ".join(map(str, choices)) + "}"
    return str(hardware.io_type)
