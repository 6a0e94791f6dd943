"""FPGA parts: resource totals, family and DSP slice geometry.

Full part strings (``xcvu9p-flga2104-2L-e``, ``7z020clg400-1`` as Vivado writes them) are
matched by their device prefix (the longest known device name the string starts with).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from cost_models.errors import UnknownPartError

__all__ = ["PARTS", "Part", "get_part", "known_parts", "part_family"]


@dataclass(frozen=True)
class Part:
    """Resource totals of a device. BRAM is counted in 18 Kb blocks (two per 36 Kb tile)."""

    name: str
    family: str
    """Silicon family used to group calibration records: zynq7, artix7, kintexu, kintexuplus,
    virtexuplus, zynquplus."""
    lut: int
    ff: int
    dsp: int
    bram_18k: int
    uram: int = 0

    @cached_property
    def dsp_a_bits(self) -> int:
        """Width of the DSP multiplier's wide port: 25 (DSP48E1, 7-series/UltraScale) or 27 (DSP48E2, +)."""
        return 27 if self.family in ("kintexuplus", "virtexuplus", "zynquplus") else 25

    @cached_property
    def dsp_b_bits(self) -> int:
        """Width of the DSP multiplier's narrow port (18 on every DSP48)."""
        return 18

    def totals(self) -> dict[str, int]:
        """Totals keyed like the estimate metrics."""
        return {"dsp": self.dsp, "lut": self.lut, "ff": self.ff, "bram_18k": self.bram_18k, "uram": self.uram}


def _p(name: str, family: str, lut: int, ff: int, dsp: int, bram36: int, uram: int = 0) -> Part:
    return Part(name, family, lut, ff, dsp, 2 * bram36, uram)


# Totals from the AMD/Xilinx product tables (BRAM given in 36 Kb tiles, stored as 18 Kb blocks).
PARTS: dict[str, Part] = {p.name: p for p in (
    _p("xc7z007s", "zynq7", 14_400, 28_800, 66, 50),
    _p("xc7z010", "zynq7", 17_600, 35_200, 80, 60),
    _p("xc7z020", "zynq7", 53_200, 106_400, 220, 140),
    _p("xc7z045", "zynq7", 218_600, 437_200, 900, 545),
    _p("xc7a35t", "artix7", 20_800, 41_600, 90, 50),
    _p("xc7a100t", "artix7", 63_400, 126_800, 240, 135),
    _p("xc7a200t", "artix7", 134_600, 269_200, 740, 365),
    _p("xc7k325t", "kintex7", 203_800, 407_600, 840, 445),
    _p("xc7vx690t", "virtex7", 433_200, 866_400, 3_600, 1_470),
    _p("xcku035", "kintexu", 203_128, 406_256, 1_700, 540),
    _p("xcku040", "kintexu", 242_400, 484_800, 1_920, 600),
    _p("xcku115", "kintexu", 663_360, 1_326_720, 5_520, 2_160),
    _p("xcku15p", "kintexuplus", 522_720, 1_045_440, 1_968, 984, 128),
    _p("xczu5ev", "zynquplus", 117_120, 234_240, 1_248, 144, 64),
    _p("xcu55c", "virtexuplus", 1_303_680, 2_607_360, 9_024, 2_016, 960),
    _p("xczu3eg", "zynquplus", 70_560, 141_120, 360, 216),
    _p("xczu7ev", "zynquplus", 230_400, 460_800, 1_728, 312, 96),
    _p("xczu9eg", "zynquplus", 274_080, 548_160, 2_520, 912),
    _p("xcvu9p", "virtexuplus", 1_182_240, 2_364_480, 6_840, 2_160, 960),
    _p("xcvu13p", "virtexuplus", 1_728_000, 3_456_000, 12_288, 2_688, 1_280),
    _p("xcu50", "virtexuplus", 872_000, 1_743_360, 5_952, 1_344, 640),
    _p("xcu200", "virtexuplus", 1_182_240, 2_364_480, 6_840, 2_160, 960),
    _p("xcu250", "virtexuplus", 1_728_000, 3_456_000, 12_288, 2_688, 1_280),
    _p("xcu280", "virtexuplus", 1_303_680, 2_607_360, 9_024, 2_016, 960),
)}

# Longest names first, so "xc7a200t" wins over a shorter prefix.
_BY_LENGTH = sorted(PARTS, key=len, reverse=True)


def known_parts() -> list[str]:
    """Device names of the parts table, sorted."""
    return sorted(PARTS)


@lru_cache(maxsize=256)
def get_part(part: str) -> Part:
    """The :class:`Part` for a device or full part string (``xcvu9p-flga2104-2L-e``).

    Raises :class:`UnknownPartError` (a ``ValueError``) listing the known devices.
    """
    text = str(part).strip().lower()
    if not text.startswith("xc"):
        text = "xc" + text  # Vivado's utilisation reports drop the "xc": "7z020clg400-1"
    for name in _BY_LENGTH:
        if text.startswith(name):
            return PARTS[name]
    raise UnknownPartError(f"unknown FPGA part {part!r}; known devices: {', '.join(known_parts())}")


def part_family(part: str | None) -> str:
    """Family of a part string, or ``"unknown"`` for a part not in the table."""
    if not part:
        return "unknown"
    try:
        return get_part(part).family
    except UnknownPartError:
        return "unknown"
