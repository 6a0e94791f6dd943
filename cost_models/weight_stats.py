"""``WeightStats``: the compact summary of a layer's trained weights that the cost model reads.

Computed by :func:`cost_models.weights.summarize_weights`; stored with the layer list
(``LayerSpec.weights``) as plain JSON. No third-party imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_DIGITS", "WeightStats"]

MAX_DIGITS = 8
"""Histogram buckets: 1, 2, ..., MAX_DIGITS - 1 and ``>= MAX_DIGITS`` non-zero CSD digits."""


@dataclass(frozen=True)
class WeightStats:
    """Compact summary of one layer's quantized weights (the constants of its products).

    ``digits[k]`` counts non-zero weights with ``k + 1`` non-zero CSD digits (the last bucket:
    ``MAX_DIGITS`` or more). ``unique_digits`` counts the same over the distinct products the tool
    needs after sharing: per input, one product per distinct odd part of ``|c|`` (``x*3`` and
    ``x*6 = (x*3) << 1`` share; signs are absorbed by the adder tree). ``max_bits`` and
    ``mean_bits`` are the significant bits of the odd parts of the non-zero constants (their
    width as multiplier operands).
    """

    n_nonzero: int
    digits: tuple[int, ...]
    unique_digits: tuple[int, ...]
    max_bits: int
    mean_bits: float
    buckets: tuple[tuple[int, int, int], ...] = field(init=False, repr=False, compare=False)
    """Derived: the non-empty buckets ``k`` as ``(k, unique_digits[k], digits[k] - unique_digits[k])``, in order
    (the cost model's per-bucket loop, :func:`cost_models.analytic._products`, reads only these)."""

    def __post_init__(self) -> None:
        if len(self.digits) != MAX_DIGITS or len(self.unique_digits) != MAX_DIGITS:
            raise ValueError(f"digit histograms must have {MAX_DIGITS} buckets")
        if sum(self.digits) != self.n_nonzero:
            raise ValueError(f"digit histogram sums to {sum(self.digits)}, expected n_nonzero={self.n_nonzero}")
        pairs = enumerate(zip(self.digits, self.unique_digits, strict=True))
        object.__setattr__(self, "buckets", tuple((k, u, a - u) for k, (a, u) in pairs if a or u))

    def __reduce__(self) -> tuple[type[WeightStats], tuple[int, tuple[int, ...], tuple[int, ...], int, float]]:
        """Pickled as its fields (unpickling recomputes the derived ones)."""
        return WeightStats, (self.n_nonzero, self.digits, self.unique_digits, self.max_bits, self.mean_bits)

    @property
    def n_unique(self) -> int:
        """Distinct products after sharing equal (shifted) constants of one input."""
        return sum(self.unique_digits)

    def count_at_least(self, d: int, unique: bool = True) -> int:
        """Products whose constant has at least ``d`` non-zero CSD digits (distinct ones by default)."""
        h = self.unique_digits if unique else self.digits
        return sum(h[max(0, d - 1):])

    def adders(self, unique: bool = True) -> int:
        """Shift-add adders of all products (``digits - 1`` per product)."""
        h = self.unique_digits if unique else self.digits
        return sum(k * n for k, n in enumerate(h))

    def to_dict(self) -> dict[str, Any]:
        return {"n_nonzero": self.n_nonzero, "digits": list(self.digits), "unique_digits": list(self.unique_digits),
                "max_bits": self.max_bits, "mean_bits": round(self.mean_bits, 4)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WeightStats:
        return cls(int(d["n_nonzero"]), tuple(int(x) for x in d["digits"]),
                   tuple(int(x) for x in d["unique_digits"]), int(d["max_bits"]), float(d["mean_bits"]))
