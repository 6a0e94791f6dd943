"""hls4ml's ReuseFactor validity rules and snapping, reimplemented without importing hls4ml.

Identical in result to ``FPGABackend._validate_reuse_factor``, ``get_valid_reuse_factors`` and
``get_closest_reuse_factor`` of hls4ml 1.3 (``backends/fpga/fpga_backend.py``); the test suite
compares them on random shapes. Valid values are found among the divisors of ``n_in*n_out``
(hls4ml loops over every integer up to ``n_in*n_out``; the third rule makes both equal).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from functools import lru_cache

__all__ = ["closest_reuse_factor", "is_valid_reuse_factor", "snap_reuse_factor", "valid_reuse_factors"]


def is_valid_reuse_factor(n_in: int, n_out: int, rf: int) -> bool:
    """hls4ml's ``_validate_reuse_factor``: is ``rf`` a valid ReuseFactor for an n_in x n_out product?"""
    if rf < 1:
        return False
    multfactor = min(n_in, rf)
    multiplier_limit = int(math.ceil((n_in * n_out) / float(multfactor)))
    ok = (multiplier_limit % n_out == 0) or (rf >= n_in)
    ok = ok and ((rf % n_in == 0) or (rf < n_in))
    return ok and (n_in * n_out) % rf == 0


@lru_cache(maxsize=4096)
def _valid(n_in: int, n_out: int) -> tuple[int, ...]:
    n = n_in * n_out
    divisors: set[int] = set()
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            divisors.add(d)
            divisors.add(n // d)
    return tuple(rf for rf in sorted(divisors) if is_valid_reuse_factor(n_in, n_out, rf))


def valid_reuse_factors(n_in: int, n_out: int) -> list[int]:
    """Sorted valid ReuseFactors (hls4ml's ``get_valid_reuse_factors``)."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"n_in and n_out must be >= 1, got {n_in}, {n_out}")
    return list(_valid(n_in, n_out))


def closest_reuse_factor(valid_rf: list[int], chosen_rf: int) -> int:
    """hls4ml's ``get_closest_reuse_factor``: the nearest valid value, the smaller one on a tie."""
    pos = bisect_left(valid_rf, chosen_rf)
    if pos == 0:
        return valid_rf[0]
    if pos == len(valid_rf):
        return valid_rf[-1]
    before, after = valid_rf[pos - 1], valid_rf[pos]
    return after if after - chosen_rf < chosen_rf - before else before


def snap_reuse_factor(n_in: int, n_out: int, rf: int, include_max_rf: bool = True) -> int:
    """The ReuseFactor hls4ml actually uses (``set_closest_reuse_factor``): ``rf`` if valid, else the closest.

    hls4ml applies this to Resource-strategy layers (Dense, Conv1D/2D); Latency-strategy
    layers keep the requested value. ``include_max_rf=False`` mirrors the ``resource_unrolled`` case.
    """
    valid = valid_reuse_factors(n_in, n_out)
    if not include_max_rf and len(valid) > 1:
        valid = valid[:-1]
    return rf if rf in valid else closest_reuse_factor(valid, rf)
