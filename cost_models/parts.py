"""FPGA parts: resource totals, family and DSP slice geometry.

Full part strings (``xcvu9p-flga2104-2L-e``, ``xczu28dr-ffvg1517-2-e``, ``xck26-sfvc784-2LV-c``, and
``7z020clg400-1`` as Vivado's utilisation report writes it, in any case) are matched by their device
prefix: the longest device name of the table the string starts with. The defence/automotive grades
(``xq``/``xqr``/``xa`` instead of ``xc``) have the same silicon and are matched as their ``xc`` part.

Totals (CLB LUTs, CLB flip-flops, DSP slices, 36 Kb block RAM tiles, UltraRAM blocks) are from the AMD/Xilinx
product selection guides and the family overview data sheets: 7 Series (DS180), Zynq-7000 (DS190),
UltraScale (DS890), Zynq UltraScale+ MPSoC (DS891), Zynq UltraScale+ RFSoC (DS889), Artix UltraScale+
(DS931), Kria K26 SOM (DS987), Alveo U50/U55C/U200/U250/U280 (DS965/DS963/DS962) and Versal AI Core (DS950).
Only devices whose figures are known exactly are listed; an Alveo card lists its whole device (the shell
takes part of it).

A part that is not in the table but whose family the name shows (``xcvu23p`` → Virtex UltraScale+,
``xczu42dr`` → Zynq UltraScale+, ``xcve2802`` → Versal) resolves through :func:`resolve_part` to a
:class:`Part` with the family's DSP geometry and no totals (``totals_known`` False): an estimate can be
given, a percentage of the part cannot. :func:`get_part` (used where totals are needed, e.g. budgets)
accepts table parts only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from cost_models.errors import UnknownPartError

__all__ = ["DSP48E2_FAMILIES", "FAMILIES", "PARTS", "SEVEN_SERIES_FAMILIES", "Part", "family_of_name", "get_part",
           "known_parts", "normalise_part", "part_family", "resolve_part"]

FAMILIES = ("zynq7", "artix7", "spartan7", "kintex7", "virtex7", "kintexu", "virtexu", "artixuplus", "spartanuplus",
            "kintexuplus", "virtexuplus", "zynquplus", "versal")
"""Silicon families the model knows (grouping of calibration records, speed factors, DSP geometry)."""
DSP48E2_FAMILIES = frozenset({"kintexu", "virtexu", "artixuplus", "spartanuplus", "kintexuplus", "virtexuplus",
                              "zynquplus"})
"""Families whose DSP slice is the DSP48E2 (27x18 multiplier; UltraScale and UltraScale+)."""
SEVEN_SERIES_FAMILIES = frozenset({"zynq7", "artix7", "spartan7", "kintex7", "virtex7"})
"""The 7-series families (Zynq-7000 and Spartan-7 included)."""


@dataclass(frozen=True)
class Part:
    """Resource totals of a device. BRAM is counted in 18 Kb blocks (two per 36 Kb tile)."""

    name: str
    family: str
    """Silicon family used to group calibration records (one of :data:`FAMILIES`)."""
    lut: int
    ff: int
    dsp: int
    bram_18k: int
    uram: int = 0
    totals_known: bool = True
    """False for a device not in the table whose family was recognised from its name: the counts are 0."""
    fabric: str | None = None
    """Family whose logic speed the device has, where it differs from ``family`` (the Zynq-7000 devices from
    xc7z030 up have Kintex-7 fabric); None: ``family``'s."""

    @cached_property
    def dsp_a_bits(self) -> int:
        """Width of the DSP multiplier's wide port: 25 (DSP48E1, 7-series) or 27 (DSP48E2 of UltraScale and
        UltraScale+, DSP58 of Versal)."""
        return 27 if self.family in DSP48E2_FAMILIES or self.family == "versal" else 25

    @cached_property
    def dsp_b_bits(self) -> int:
        """Width of the DSP multiplier's narrow port: 18 on every DSP48, 24 on Versal's DSP58."""
        return 24 if self.family == "versal" else 18

    def totals(self) -> dict[str, int]:
        """Totals keyed like the estimate metrics. Raises :class:`UnknownPartError` when they are unknown."""
        if not self.totals_known:
            raise UnknownPartError(f"resource totals of FPGA part {self.name!r} unknown: not in the parts table "
                                   f"(family {self.family} recognised from its name); known devices: "
                                   f"{', '.join(known_parts())}")
        return {"dsp": self.dsp, "lut": self.lut, "ff": self.ff, "bram_18k": self.bram_18k, "uram": self.uram}


def _p(name: str, family: str, lut: int, ff: int, dsp: int, bram36: int, uram: int = 0,
       fabric: str | None = None) -> Part:
    return Part(name, family, lut, ff, dsp, 2 * bram36, uram, fabric=fabric)


def _same(names: str, family: str, lut: int, ff: int, dsp: int, bram36: int, uram: int = 0) -> list[Part]:
    """Devices of one fabric (speed variants, CG/EG/EV of one Zynq UltraScale+ size, RFSoCs of one die)."""
    return [_p(n, family, lut, ff, dsp, bram36, uram) for n in names.split()]


# name, family, CLB LUTs, CLB FFs, DSP slices, 36 Kb BRAM tiles, UltraRAM blocks (product tables, see above)
PARTS: dict[str, Part] = {p.name: p for p in (
    # Zynq-7000 (DS190): xc7z007s-z020 have Artix-7 fabric, xc7z030 and up Kintex-7 fabric
    _p("xc7z007s", "zynq7", 14_400, 28_800, 66, 50),
    _p("xc7z012s", "zynq7", 34_400, 68_800, 120, 72),
    _p("xc7z014s", "zynq7", 40_600, 81_200, 170, 107),
    _p("xc7z010", "zynq7", 17_600, 35_200, 80, 60),
    _p("xc7z015", "zynq7", 46_200, 92_400, 160, 95),
    _p("xc7z020", "zynq7", 53_200, 106_400, 220, 140),
    _p("xc7z030", "zynq7", 78_600, 157_200, 400, 265, fabric="kintex7"),
    _p("xc7z035", "zynq7", 171_900, 343_800, 900, 500, fabric="kintex7"),
    _p("xc7z045", "zynq7", 218_600, 437_200, 900, 545, fabric="kintex7"),
    _p("xc7z100", "zynq7", 277_400, 554_800, 2_020, 755, fabric="kintex7"),
    # Spartan-7 and Artix-7 (DS180)
    _p("xc7s15", "spartan7", 8_000, 16_000, 20, 10),
    _p("xc7s25", "spartan7", 14_600, 29_200, 80, 45),
    _p("xc7s50", "spartan7", 32_600, 65_200, 120, 75),
    _p("xc7s75", "spartan7", 48_000, 96_000, 140, 90),
    _p("xc7s100", "spartan7", 64_000, 128_000, 160, 120),
    _p("xc7a12t", "artix7", 8_000, 16_000, 40, 20),
    _p("xc7a15t", "artix7", 10_400, 20_800, 45, 25),
    _p("xc7a25t", "artix7", 14_600, 29_200, 80, 45),
    _p("xc7a35t", "artix7", 20_800, 41_600, 90, 50),
    _p("xc7a50t", "artix7", 32_600, 65_200, 120, 75),
    _p("xc7a75t", "artix7", 47_200, 94_400, 180, 105),
    _p("xc7a100t", "artix7", 63_400, 126_800, 240, 135),
    _p("xc7a200t", "artix7", 134_600, 269_200, 740, 365),
    # Kintex-7 and Virtex-7 (DS180)
    _p("xc7k70t", "kintex7", 41_000, 82_000, 240, 135),
    _p("xc7k160t", "kintex7", 101_400, 202_800, 600, 325),
    _p("xc7k325t", "kintex7", 203_800, 407_600, 840, 445),
    _p("xc7k355t", "kintex7", 222_600, 445_200, 1_440, 715),
    _p("xc7k410t", "kintex7", 254_200, 508_400, 1_540, 795),
    _p("xc7k420t", "kintex7", 260_600, 521_200, 1_680, 835),
    _p("xc7k480t", "kintex7", 298_600, 597_200, 1_920, 955),
    _p("xc7v585t", "virtex7", 364_200, 728_400, 1_260, 795),
    _p("xc7v2000t", "virtex7", 1_221_600, 2_443_200, 2_160, 1_292),
    _p("xc7vx330t", "virtex7", 204_000, 408_000, 1_120, 750),
    _p("xc7vx415t", "virtex7", 257_600, 515_200, 2_160, 880),
    _p("xc7vx485t", "virtex7", 303_600, 607_200, 2_800, 1_030),
    _p("xc7vx550t", "virtex7", 346_400, 692_800, 2_880, 1_180),
    _p("xc7vx690t", "virtex7", 433_200, 866_400, 3_600, 1_470),
    _p("xc7vx980t", "virtex7", 612_000, 1_224_000, 3_600, 1_500),
    _p("xc7vx1140t", "virtex7", 712_000, 1_424_000, 3_360, 1_880),
    # Kintex and Virtex UltraScale (DS890)
    _p("xcku025", "kintexu", 145_440, 290_880, 1_152, 360),
    _p("xcku035", "kintexu", 203_128, 406_256, 1_700, 540),
    _p("xcku040", "kintexu", 242_400, 484_800, 1_920, 600),
    _p("xcku060", "kintexu", 331_680, 663_360, 2_760, 1_080),
    _p("xcku085", "kintexu", 497_520, 995_040, 4_100, 1_620),
    _p("xcku095", "kintexu", 537_600, 1_075_200, 768, 1_680),
    _p("xcku115", "kintexu", 663_360, 1_326_720, 5_520, 2_160),
    _p("xcvu065", "virtexu", 358_080, 716_160, 600, 1_260),
    _p("xcvu080", "virtexu", 500_640, 1_001_280, 672, 1_421),
    _p("xcvu095", "virtexu", 537_600, 1_075_200, 768, 1_728),
    _p("xcvu125", "virtexu", 716_160, 1_432_320, 1_200, 2_520),
    _p("xcvu160", "virtexu", 926_640, 1_853_280, 1_560, 3_276),
    _p("xcvu190", "virtexu", 1_074_240, 2_148_480, 1_800, 3_780),
    _p("xcvu440", "virtexu", 2_532_960, 5_065_920, 2_880, 2_520),
    # Artix UltraScale+ (DS931)
    _p("xcau15p", "artixuplus", 77_760, 155_520, 576, 144),
    _p("xcau25p", "artixuplus", 141_000, 282_000, 1_200, 300),
    # Kintex UltraScale+ (DS890)
    _p("xcku3p", "kintexuplus", 162_720, 325_440, 1_368, 360, 48),
    _p("xcku5p", "kintexuplus", 216_960, 433_920, 1_824, 480, 64),
    _p("xcku9p", "kintexuplus", 274_080, 548_160, 2_520, 912),
    _p("xcku11p", "kintexuplus", 298_560, 597_120, 2_928, 600, 80),
    _p("xcku13p", "kintexuplus", 341_280, 682_560, 3_528, 744, 112),
    _p("xcku15p", "kintexuplus", 522_720, 1_045_440, 1_968, 984, 128),
    # Virtex UltraScale+ (DS890); VU27P/VU29P (58G PAM4) have the VU11P/VU13P fabric, VU37P/VU47P are the
    # HBM devices of the Alveo U50 (VU35P), U280 (VU37P) and U55C (VU47P)
    _p("xcvu3p", "virtexuplus", 394_080, 788_160, 2_280, 720, 320),
    _p("xcvu5p", "virtexuplus", 600_577, 1_201_154, 3_474, 1_024, 470),
    _p("xcvu7p", "virtexuplus", 788_160, 1_576_320, 4_560, 1_440, 640),
    _p("xcvu9p", "virtexuplus", 1_182_240, 2_364_480, 6_840, 2_160, 960),
    *_same("xcvu11p xcvu27p", "virtexuplus", 1_296_000, 2_592_000, 9_216, 2_016, 960),
    *_same("xcvu13p xcvu29p", "virtexuplus", 1_728_000, 3_456_000, 12_288, 2_688, 1_280),
    _p("xcvu19p", "virtexuplus", 4_085_760, 8_171_520, 3_840, 2_160, 320),
    *_same("xcvu35p xcvu45p", "virtexuplus", 871_680, 1_743_360, 5_952, 1_344, 640),
    *_same("xcvu37p xcvu47p", "virtexuplus", 1_303_680, 2_607_360, 9_024, 2_016, 960),
    # Alveo data-centre cards (their device's totals)
    _p("xcu50", "virtexuplus", 871_680, 1_743_360, 5_952, 1_344, 640),  # a VU35P (its card's sheet rounds to 872K)
    _p("xcu55c", "virtexuplus", 1_303_680, 2_607_360, 9_024, 2_016, 960),
    _p("xcu200", "virtexuplus", 1_182_240, 2_364_480, 6_840, 2_160, 960),
    _p("xcu250", "virtexuplus", 1_728_000, 3_456_000, 12_288, 2_688, 1_280),
    _p("xcu280", "virtexuplus", 1_303_680, 2_607_360, 9_024, 2_016, 960),
    # Zynq UltraScale+ MPSoC (DS891): CG, EG and EV devices of one size share the programmable logic
    *_same("xczu2cg xczu2eg", "zynquplus", 47_232, 94_464, 240, 150),
    *_same("xczu3cg xczu3eg", "zynquplus", 70_560, 141_120, 360, 216),
    *_same("xczu4cg xczu4eg xczu4ev", "zynquplus", 87_840, 175_680, 728, 128, 48),
    *_same("xczu5cg xczu5eg xczu5ev xck26", "zynquplus", 117_120, 234_240, 1_248, 144, 64),  # K26 SOM: a ZU5EV
    *_same("xczu6cg xczu6eg", "zynquplus", 214_604, 429_208, 1_973, 714),
    *_same("xczu7cg xczu7eg xczu7ev", "zynquplus", 230_400, 460_800, 1_728, 312, 96),
    *_same("xczu9cg xczu9eg", "zynquplus", 274_080, 548_160, 2_520, 912),
    _p("xczu11eg", "zynquplus", 298_560, 597_120, 2_928, 600, 80),
    _p("xczu15eg", "zynquplus", 341_280, 682_560, 3_528, 744, 112),
    _p("xczu19eg", "zynquplus", 522_720, 1_045_440, 1_968, 984, 128),
    # Zynq UltraScale+ RFSoC (DS889): the 930K-logic-cell die of Gen 1 (ZU21DR-ZU29DR), Gen 2 and Gen 3
    *_same("xczu21dr xczu27dr xczu28dr xczu29dr xczu39dr xczu43dr xczu46dr xczu47dr xczu48dr xczu49dr",
           "zynquplus", 425_280, 850_560, 4_272, 1_080, 80),
    # Versal AI Core (DS950): DSP58 engines
    _p("xcvc1902", "versal", 899_840, 1_799_680, 1_968, 967, 463),
)}

# Longest names first, so "xc7a200t" wins over a shorter prefix.
_BY_LENGTH = sorted(PARTS, key=len, reverse=True)

_FAMILY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), f) for p, f in (
    (r"^xc7z\d", "zynq7"),
    (r"^xc7a\d", "artix7"),
    (r"^xc7s\d", "spartan7"),
    (r"^xc7k\d", "kintex7"),
    (r"^xc7v[xh]?\d", "virtex7"),
    (r"^xcku\d+p", "kintexuplus"),
    (r"^xcku\d", "kintexu"),
    (r"^xcvu\d+p", "virtexuplus"),
    (r"^xcvu\d", "virtexu"),
    (r"^xcau\d+p", "artixuplus"),
    (r"^xcsu\d+p", "spartanuplus"),
    (r"^xczu\d+(?:cg|eg|ev|dr|tcg|teg)", "zynquplus"),
    (r"^xck\d", "zynquplus"),  # Kria SOMs (xck24, xck26): Zynq UltraScale+ devices
    (r"^xcu\d", "virtexuplus"),  # Alveo cards (xcu26, xcu45n, xcu55n, ...)
    (r"^xcv[cemph]\d{4}", "versal"),  # Versal AI Core/Edge, Premium, Prime, HBM
))


def normalise_part(part: str) -> str:
    """Lower case, ``xc`` first: ``7z020clg400-1`` → ``xc7z020clg400-1``, ``XQZU9EG-...`` → ``xczu9eg-...``."""
    text = str(part).strip().lower()
    for prefix in ("xqr", "xq", "xa"):  # defence-grade, rad-tolerant and automotive devices: the same silicon
        if text.startswith(prefix) and len(text) > len(prefix) and text[len(prefix)] in "7kvzuacs":
            return "xc" + text[len(prefix):]
    if not text.startswith("xc"):
        text = "xc" + text  # Vivado's utilisation reports drop the "xc": "7z020clg400-1"
    return text


def family_of_name(part: str) -> str | None:
    """The family a part string's name shows (``xcvu23p-...`` → ``virtexuplus``), or None."""
    text = normalise_part(part)
    for pattern, family in _FAMILY_PATTERNS:
        if pattern.match(text):
            return family
    return None


def known_parts() -> list[str]:
    """Device names of the parts table, sorted."""
    return sorted(PARTS)


def _table_part(part: str) -> Part | None:
    text = normalise_part(part)
    for name in _BY_LENGTH:
        if text.startswith(name):
            return PARTS[name]
    return None


def _device_name(part: str) -> str:
    """The device of a part string not in the table: up to the first ``-`` (``xcvu23p-vsva1365-2-e`` → ``xcvu23p``)."""
    return normalise_part(part).split("-", 1)[0]


@lru_cache(maxsize=256)
def get_part(part: str) -> Part:
    """The :class:`Part` of the table for a device or full part string (``xcvu9p-flga2104-2L-e``).

    Raises :class:`UnknownPartError` (a ``ValueError``) naming the part and listing the known devices; for a part
    whose family the name shows, the message says so (see :func:`resolve_part`).
    """
    found = _table_part(part)
    if found is not None:
        return found
    family = family_of_name(part)
    why = (f"not in the parts table, so its resource totals are unknown (family {family} recognised: "
           "`dse estimate` still estimates it, without percentages of the part)") if family else "not recognised"
    raise UnknownPartError(f"unknown FPGA part {part!r}: {why}; known devices: {', '.join(known_parts())}")


@lru_cache(maxsize=256)
def resolve_part(part: str) -> Part:
    """The table's :class:`Part`, else a part of the family the name shows, with unknown totals.

    ``resolve_part("xcvu23p-vsva1365-2-e")`` → ``Part("xcvu23p", "virtexuplus", 0, 0, 0, 0, totals_known=False)``:
    enough for an estimate (DSP geometry and speed come from the family), not for a percentage of the part.
    Raises :class:`UnknownPartError` naming the part and listing the known devices when neither applies.
    """
    found = _table_part(part)
    if found is not None:
        return found
    family = family_of_name(part)
    if family is None:
        raise UnknownPartError(f"unknown FPGA part {part!r}: neither in the parts table nor of a family the cost "
                               f"model recognises ({', '.join(FAMILIES)}); known devices: {', '.join(known_parts())}")
    return Part(_device_name(part), family, 0, 0, 0, 0, 0, totals_known=False)


def part_family(part: str | None) -> str:
    """Family of a part string (from the table, else from its name), or ``"unknown"``."""
    if not part:
        return "unknown"
    try:
        return resolve_part(part).family
    except UnknownPartError:
        return "unknown"
