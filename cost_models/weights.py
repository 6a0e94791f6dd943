"""Summaries of trained weights: what the HLS tool sees when every weight is a constant.

Under hls4ml's Latency strategy each weight is a C++ constant of the layer's weight type. The
HLS tool builds ``x * c`` from shifts and adders when the quantized integer ``c`` has few non-zero
digits in canonical signed-digit (CSD, non-adjacent) form, and only the "hard" constants go to a
DSP slice. So the declared width of the type is an upper bound; the values decide. This module
quantizes weight values exactly as the generated C++ does (``ap_fixed<W,I>`` with AP_TRN
truncation by default, AP_RND rounding when the type says so, wrap-around or saturation) and
condenses them into a :class:`WeightStats` per layer: counts by CSD digit number, for all
non-zero weights and for the distinct products left after the tool shares equal constants of one
input, and the significant bit widths of the constants.

NumPy only; no TensorFlow, no hls4ml. The same summary comes from a Keras model's weights
(``dse``), from hls4ml's ``weights/wN.txt`` files, or from a ModelGraph's weight arrays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cost_models.layers import FixedType
from cost_models.weight_stats import MAX_DIGITS, WeightStats

__all__ = [
    "MAX_DIGITS", "WeightStats", "csd_digits", "quantize", "read_weights_txt", "summarize_weights", "type_modes",
    "typical_weight_stats",
]

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def _popcount(a: NDArray[Any]) -> NDArray[Any]:
    """Number of set bits of non-negative int64 values."""
    b = np.ascontiguousarray(a, dtype=np.int64).view(np.uint8).reshape(a.shape + (8,))
    return np.asarray(_POP8[b].sum(axis=-1), dtype=np.int64)


def csd_digits(q: NDArray[Any] | Sequence[int] | int) -> NDArray[Any]:
    """Non-zero digits of each integer in canonical signed-digit (non-adjacent) form.

    ``0 -> 0``, ``±2^k -> 1``, ``7 = 8 - 1 -> 2``, ``11 = 8 + 4 - 1 -> 3``. The NAF weight of
    ``x >= 0`` is ``popcount((x ^ 3x) >> 1)``.
    """
    a = np.abs(np.asarray(q, dtype=np.int64))
    return _popcount((a ^ (3 * a)) >> 1)


def _bit_length(a: NDArray[Any]) -> NDArray[Any]:
    """Bits of each non-negative integer (0 for 0)."""
    out = np.zeros(a.shape, dtype=np.int64)
    nz = a > 0
    out[nz] = np.floor(np.log2(a[nz].astype(np.float64))).astype(np.int64) + 1
    return out


def _odd_part(a: NDArray[Any]) -> NDArray[Any]:
    """``a / 2^k`` with k the trailing zeros (``0 -> 0``): a shifted constant is the same product."""
    a = a.copy()
    nz = a > 0
    while True:
        even = nz & ((a & 1) == 0)
        if not even.any():
            return a
        a[even] >>= 1


def quantize(values: NDArray[Any] | Sequence[float], wtype: FixedType, rounding: str = "TRN",
             overflow: str = "WRAP") -> NDArray[Any]:
    """Integers ``c`` with ``value ≈ c * 2^-fractional``, as ``ap_fixed`` stores the constant.

    ``rounding``: ``TRN`` (floor, the ap_fixed default) or ``RND`` (round half up; other RND_*
    modes are treated as RND). ``overflow``: ``WRAP`` (default) or ``SAT``. A tiny tolerance
    absorbs the decimal printing of exactly representable values (``0.1250000000``).
    """
    x = np.asarray(values, dtype=np.float64) * (2.0 ** wtype.fractional)
    q = np.floor(x + 0.5) if rounding.upper().startswith("RND") else np.floor(x + 1e-6)
    lo = -(2 ** (wtype.width - 1)) if wtype.signed else 0
    hi = (2 ** (wtype.width - 1) - 1) if wtype.signed else (2 ** wtype.width - 1)
    if overflow.upper().startswith("SAT"):
        q = np.clip(q, lo, hi)
    else:
        span = 2 ** wtype.width
        q = np.mod(q - lo, span) + lo
    result: NDArray[Any] = q.astype(np.int64)
    return result


def _hist(digits: NDArray[Any]) -> tuple[int, ...]:
    c = np.bincount(np.clip(digits, 1, MAX_DIGITS) - 1, minlength=MAX_DIGITS)
    return tuple(int(x) for x in c[:MAX_DIGITS])


def _unique_per_row(values: NDArray[Any], mask: NDArray[Any]) -> NDArray[Any]:
    """The distinct ``values[i][mask[i]]`` of each row ``i``, all rows together (one sort, not one
    ``np.unique`` per row)."""
    rows, _ = np.nonzero(mask)
    v = values[mask]
    order = np.lexsort((v, rows))
    r, v = rows[order], v[order]
    first = np.ones(v.shape, dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (v[1:] != v[:-1])
    out: NDArray[Any] = v[first]
    return out


def summarize_weights(values: NDArray[Any] | Sequence[float], wtype: FixedType, n_in: int, n_out: int,
                      rounding: str = "TRN", overflow: str = "WRAP") -> WeightStats:
    """:class:`WeightStats` of a dense (or per-pixel conv) weight matrix.

    ``values`` in hls4ml's order: ``n_in * n_out`` numbers, input-major (``w[i * n_out + j]``,
    the flattened Keras kernel of shape ``(n_in, n_out)``), or an array of that shape. Values are
    quantized to ``wtype`` first (see :func:`quantize`).
    """
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    if flat.size != n_in * n_out:
        raise ValueError(f"expected {n_in} x {n_out} = {n_in * n_out} weights, got {flat.size}")
    q = quantize(flat, wtype, rounding, overflow).reshape(n_in, n_out)
    a = np.abs(q)
    nz = a > 0
    d_all = csd_digits(a[nz])
    odd = _odd_part(a)
    uniq = _unique_per_row(odd, nz)
    bits = _bit_length(odd[nz])
    return WeightStats(
        n_nonzero=int(nz.sum()), digits=_hist(d_all), unique_digits=_hist(csd_digits(uniq)),
        max_bits=int(bits.max()) if bits.size else 0, mean_bits=round(float(bits.mean()), 4) if bits.size else 0.0)


_MODE = re.compile(r"AP_(RND\w*|TRN\w*)|AP_(SAT\w*|WRAP\w*)")


def type_modes(type_text: str) -> tuple[str, str]:
    """(rounding, overflow) of an ``ap_fixed<W,I,Q,O>`` string: defaults ``TRN``, ``WRAP``."""
    rounding, overflow = "TRN", "WRAP"
    for q, o in _MODE.findall(type_text or ""):
        if q:
            rounding = q
        if o:
            overflow = o
    return rounding, overflow


def read_weights_txt(path: str | Path) -> NDArray[Any]:
    """Values of an hls4ml ``weights/wN.txt`` (comma-separated, as hls4ml writes them)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    parts = text.replace(",", " ").split()
    return np.array(parts, dtype=np.float64)  # numpy parses the strings (ValueError on a bad one)


TYPICAL_WEIGHT_STD = 0.3
"""Spread of trained weights assumed when only the type is known (typical of trained MLPs)."""
_TYPICAL_MAX_ENTRIES = 4096


@lru_cache(maxsize=512)
def typical_weight_stats(wtype: FixedType, n_in: int, n_out: int) -> WeightStats:
    """:class:`WeightStats` of normal(0, 0.3) weights quantized to ``wtype``: the type-only fallback.

    Deterministic (fixed seed). Large matrices are summarized on their first rows (at most 4096
    entries, the same number of outputs); callers scale the counts to their non-zero weights.
    """
    rows = max(1, min(n_in, _TYPICAL_MAX_ENTRIES // max(1, n_out)))
    cols = max(1, min(n_out, _TYPICAL_MAX_ENTRIES))
    rng = np.random.default_rng(12345)
    values = rng.normal(0.0, TYPICAL_WEIGHT_STD, size=(rows, cols))
    return summarize_weights(values, wtype, rows, cols, "TRN", "SAT")
