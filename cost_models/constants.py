"""The fitted constants of the analytic model, per HLS tool family, and how a target picks them.

The analytic rules (:mod:`cost_models.analytic`) count what hls4ml generates: products, their
CSD digits, adders and their widths, adder-tree levels, pipeline cuts. A handful of physical
constants turn those counts into DSP slices, LUTs, flip-flops and cycles: operator delays, LUTs per
adder bit, the share of equal constants the tool merges. The two tool families schedule the same
C++ differently (Vivado HLS up to 2020.1, Vitis HLS from 2020.2), so each has its own set.

``cost_models/constants.json`` ships the set fitted on the shared hls4ml reports
(``benchmarks/validate_cost_model.py --write-constants``); :data:`DEFAULT_CONSTANTS` holds it.
Validation refits them with each repository left out. No third-party imports.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from cost_models.layers import Target
from cost_models.parts import Part

__all__ = [
    "CONSTANTS_FILE", "DEFAULT_CONSTANTS", "MIN_SUPPORT_REPOS", "THIN_DATA_WIDEN", "THIN_FAMILIES", "TOOL_FAMILIES",
    "Constants", "ConstantSet", "array_partition_limited", "hls_backend", "part_speed", "speed_grade", "tool_family",
    "tool_release", "tool_version_tuple",
]

log = logging.getLogger(__name__)

TOOL_FAMILIES = ("vivado_hls", "vitis_hls")
CONSTANTS_FILE = Path(__file__).with_name("constants.json")


MIN_SUPPORT_REPOS = 2
"""Repositories of a part family below which a tool family's constants count as thin there."""
THIN_DATA_WIDEN = 1.25
"""Factor on the log-scale interval width of an uncalibrated estimate where the constants are thin.

Measured held out (``benchmarks/validate_cost_model.py``, leave one repository out): the 50 uncalibrated
projects whose fold was thin for their part family (8 repositories) are covered by the 80 % intervals
(DSP / LUT / FF / latency / II) 96 / 66 / 92 / 76 / 80 % at 1.0, 96 / 82 / 92 / 78 / 82 % at 1.25 and
96 / 92 / 92 / 84 / 84 % at 1.5: the family's own held-out spread already holds most of a new
repository's error, and 1.5 over-covered."""
_RETIRED = frozenset({"t_boundary_cycles"})
"""Constants of earlier versions that no rule reads any more (ignored when a file holds them)."""


@dataclass(frozen=True)
class Constants:
    """Physical constants of one tool family. Delays in ns on an UltraScale+ (speed 1.0) part."""

    t_add_ns: float = 0.9
    """One adder level of the accumulation tree (16-24 bits, with routing)."""
    t_mult_dsp_ns: float = 2.0
    """A constant product on a DSP slice, unregistered path."""
    t_mult_lut_ns: float = 0.9
    """A shift-add constant product (one adder) in LUTs."""
    t_boundary_ns: float = 4.0
    """Delay (ns at speed 1.0) the top-level pipeline spends between two layer calls (the call's
    handshake and the register between them): a whole cycle per call at 5 ns and faster, a fraction
    at long clock periods, where the tool chains consecutive layers into one cycle."""
    hard_digits: int = 3
    """A constant with at least this many non-zero CSD digits is a true multiplication (DSP)."""
    share: float = 0.5
    """Share of repeated constants of one input that the tool does NOT merge (0: all merged)."""
    lut_per_adder_bit: float = 1.0
    """LUTs per bit of a two-input adder (carry chain: about one)."""
    ff_scale: float = 1.0
    """Flip-flops per registered bit of the pipeline cuts the schedule implies."""
    dsp_min_data_bits: int = 5
    """Products whose data operand is narrower than this are LUT logic whatever the constant."""
    big_rom_ii: float = 1.0
    """Resource strategy: cycles per reuse iteration when the weight ROM is a large BRAM cascade."""
    log_sigma: tuple[tuple[str, float], ...] = ()
    """Spread (log scale) of the model's held-out errors per metric: the width of the uncalibrated
    80 % interval, for designs without convolutions. Empty: the defaults of :mod:`cost_models.calibration`."""
    log_sigma_conv: tuple[tuple[str, float], ...] = ()
    """The same for designs with convolutions (their rules are less accurate)."""
    support: tuple[tuple[str, int], ...] = ()
    """Repositories behind the fit, per part family (``(("virtexuplus", 4), ("zynq7", 1))``); empty:
    unknown (built-in defaults). Where the target's part family has fewer than
    :data:`MIN_SUPPORT_REPOS`, the estimate says so and widens its interval."""
    pooled: bool = False
    """True when the family had too few repositories of its own and took the fit over every family."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {k: v for k, v in asdict(self).items()
                             if not k.startswith("log_sigma") and k != "support"}
        d["log_sigma"] = {m: round(v, 4) for m, v in self.log_sigma}
        d["log_sigma_conv"] = {m: round(v, 4) for m, v in self.log_sigma_conv}
        d["support"] = dict(self.support)
        return d

    def thin_data(self, part_family: str) -> str | None:
        """Why the constants are thin for ``part_family`` (a sentence), or None when they are not."""
        memo: dict[str, str | None] = self.__dict__.setdefault("_thin_memo", {})  # not a field: eq/hash ignore it
        if part_family not in memo:
            memo[part_family] = self._thin_data(part_family)
        return memo[part_family]

    def _thin_data(self, part_family: str) -> str | None:
        if not self.support:
            return None
        n = dict(self.support).get(part_family, 0)
        total = sum(v for _, v in self.support)
        if self.pooled:
            return (f"constants pooled over every tool family ({total} repositories; {n} on {part_family}): "
                    "too few repositories of this tool family")
        if n < MIN_SUPPORT_REPOS:
            return f"constants fitted on {n} repositor{'y' if n == 1 else 'ies'} of {part_family} ({total} in all)"
        return None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Constants:
        known = {f.name: f for f in fields(cls)}
        d = {k: v for k, v in d.items() if k not in _RETIRED}
        unknown = set(d) - set(known)
        if unknown:
            raise ValueError(f"unknown constant(s): {', '.join(sorted(unknown))}")
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if k in ("log_sigma", "log_sigma_conv"):
                kw[k] = tuple(sorted((str(m), float(x)) for m, x in dict(v).items()))
            elif k == "support":
                kw[k] = tuple(sorted((str(m), int(x)) for m, x in dict(v).items()))
            elif k == "pooled":
                kw[k] = bool(v)
            else:
                kw[k] = int(v) if k in ("hard_digits", "dsp_min_data_bits") else float(v)
        return cls(**kw)

    def with_(self, **kw: Any) -> Constants:
        return replace(self, **kw)


@dataclass(frozen=True)
class ConstantSet:
    """Constants per tool family, with where they came from."""

    families: Mapping[str, Constants]
    source: str = "defaults"

    def for_target(self, target: Target) -> Constants:
        """The constants of the target's tool family (the built-in defaults when the set has none)."""
        k = self.families.get(tool_family(target))
        return k if k is not None else _BUILT_IN

    def to_dict(self) -> dict[str, Any]:
        return {"format": "cost_models.constants/1", "source": self.source,
                "families": {k: v.to_dict() for k, v in self.families.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConstantSet:
        if d.get("format") != "cost_models.constants/1":
            raise ValueError(f"not a cost_models constants file (format {d.get('format')!r})")
        fams = {str(k): Constants.from_dict(v) for k, v in (d.get("families") or {}).items()}
        bad = set(fams) - set(TOOL_FAMILIES)
        if bad:
            raise ValueError(f"unknown tool family(ies): {', '.join(sorted(bad))}; known: {', '.join(TOOL_FAMILIES)}")
        return cls(fams, str(d.get("source", "")))

    @classmethod
    def load(cls, path: str | Path = CONSTANTS_FILE) -> ConstantSet:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


_BUILT_IN = Constants()
"""The built-in defaults, for a tool family a set has no constants of (one frozen instance, shared)."""


_VERSION_RE = re.compile(r"(?<![\d.])(20\d\d)\.(\d+)")


@lru_cache(maxsize=256)
def tool_version_tuple(version: str | None) -> tuple[int, int] | None:
    """(year, release) of a tool version as tools and reports spell it, or None when there is none.

    ``2019.2``, ``2020.1.1``, ``2023.2.2``, ``v2020.1 (64-bit)``, ``Vitis HLS 2023.1``, ``Vivado v2018.3_AR71275_op``
    → ``(2019, 2)``, ``(2020, 1)``, ``(2023, 2)``, ``(2020, 1)``, ``(2023, 1)``, ``(2018, 3)``.
    """
    m = _VERSION_RE.search(version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


_RELEASE_RE = re.compile(r"(?<![\d.])20\d\d\.\d+(?:\.\d+)*")


def tool_release(version: str | None) -> str | None:
    """The release in a tool version as tools and people spell it, as the reports write it (the calibration's
    group keys): ``v2020.1 (64-bit)`` → ``2020.1``, ``Vitis HLS 2023.1`` → ``2023.1``, ``2023.2.2`` → ``2023.2.2``;
    None when there is none."""
    m = _RELEASE_RE.search(version or "")
    return m.group(0) if m else None


_OTHER_HLS = ("oneapi", "quartus", "catapult", "symbolicexpression", "libero")
"""hls4ml backends that do not run Vivado/Vitis HLS: the cost model has no rules for what they generate."""


def hls_backend(name: str | None) -> str | None:
    """dse's backend (``vitis`` or ``vivado``) of an hls4ml backend name, or None for another HLS tool.

    The accelerator backends wrap the same HLS core as their base backend: ``VitisAccelerator`` (and any
    ``Vitis*``) → ``vitis``; ``Vivado``, ``VivadoAccelerator`` and the Vivado-HLS board flows (``Pynq``) →
    ``vivado``; ``oneAPI``, ``Quartus``, ``Catapult``, ``Libero``, ``SymbolicExpression`` → None. Case and
    quotes are ignored; an empty name gives None.
    """
    t = str(name or "").strip().strip("'\"").lower().replace("-", "").replace("_", "")
    if not t:
        return None
    if t.startswith("vitis"):
        return "vitis"
    if any(t.startswith(o) for o in _OTHER_HLS):
        return None
    return "vivado"


@lru_cache(maxsize=256)
def tool_family(target: Target) -> str:
    """``vivado_hls`` (Vivado HLS, up to 2020.1) or ``vitis_hls`` (2020.2 on).

    From ``target.tool_version`` when it holds a release (``2019.2``, ``2020.1.1``, ``v2020.1 (64-bit)``,
    ``Vitis HLS 2023.1``; :func:`tool_version_tuple`), else from the backend (``vivado`` and
    ``VivadoAccelerator`` → Vivado HLS, ``vitis`` and ``VitisAccelerator`` → Vitis HLS; :func:`hls_backend`).
    """
    version = tool_version_tuple(target.tool_version)
    if version is not None:
        return "vitis_hls" if version >= (2020, 2) else "vivado_hls"
    return "vivado_hls" if hls_backend(target.backend) == "vivado" else "vitis_hls"


VITIS_UNLIMITED_PARTITION = (2022, 1)
"""First Vitis HLS release assumed to ignore ``config_array_partition -maximum_size``.

hls4ml's ``build_prj.tcl`` (vivado and vitis templates) wraps the option in ``catch {...}``: where the
tool no longer has it, the limit silently disappears. The shared reports show the limit in Vitis HLS
2021.1 (a 196x56 latency dense takes 48 cycles) and not in 2023.1 (a 128x64 one takes 0-2 cycles on
16,072 DSPs); the boundary in between is an assumption."""


@lru_cache(maxsize=256)
def array_partition_limited(target: Target) -> bool:
    """True when the tool honours hls4ml's ``config_array_partition -maximum_size 4096``."""
    if tool_family(target) == "vivado_hls":
        return True
    version = tool_version_tuple(target.tool_version)
    if version is None:
        return False
    return version < VITIS_UNLIMITED_PARTITION


VITIS_AP_NONE_INPUT = ((2020, 2), (2023, 1))
"""Vitis HLS releases ``[first, last)`` that synthesise hls4ml's io_parallel input port as ``ap_none``.

hls4ml writes ``#pragma HLS INTERFACE ap_vld port=<input>,<output>`` (``vivado_writer.py``). The csynth Interface
tables show the input port as ``ap_vld`` in Vivado HLS 2019.1-2020.1 and Vitis HLS 2023.1-2023.2, where the
"Register" row holds the whole input vector in ``<input>_preg`` (Fiwo735: 16 x 16 = 256 FF; k-diep: 400 and
6,400; Kenny-Jia: 1,824), and as ``ap_none`` in Vitis HLS 2021.1 (ArgyKokk, 35 projects) and 2022.1
(kimhaneal), whose "Register" rows hold no input bits. The bounds 2020.2 and 2022.2 are assumptions."""


@lru_cache(maxsize=256)
def input_port_registered(target: Target) -> bool:
    """io_parallel: True when the top function registers its input vector (an ``ap_vld`` port's ``_preg``),
    False for the Vitis HLS releases of :data:`VITIS_AP_NONE_INPUT` (``ap_none`` input, no register)."""
    if tool_family(target) == "vivado_hls":
        return True
    version = tool_version_tuple(target.tool_version)
    if version is None:
        return True
    first, last = VITIS_AP_NONE_INPUT
    return not first <= version < last


_SPEED = {"zynq7": 1.9, "artix7": 2.0, "spartan7": 2.0, "kintex7": 1.6, "virtex7": 1.6, "kintexu": 1.3,
          "virtexu": 1.3, "artixuplus": 1.0, "spartanuplus": 1.0, "kintexuplus": 1.0, "virtexuplus": 1.0,
          "zynquplus": 1.05, "versal": 0.9}
"""Logic delay relative to UltraScale+ -2 (the HLS tools' per-family operator delays: 28 nm 7-series
fabric is about twice as slow as 16 nm UltraScale+). Spartan-7 has the Artix-7 fabric, Artix and Spartan
UltraScale+ the UltraScale+ fabric, the Zynq-7000 devices from xc7z030 up Kintex-7 fabric (``Part.fabric``,
grouped with the Zynq-7000 for calibration). Versal's 0.9 is an assumption: no synthesis data of Versal is behind the
shipped constants (the estimate's notes say so)."""
THIN_FAMILIES = {"versal": "Versal (DSP58, 27x24 multiplier): no synthesis data of this family behind the shipped "
                           "constants or calibration; its operator delays are assumed (0.9x UltraScale+)"}
"""Part families for which the model's figures are an extrapolation, with the note the estimate gives."""


GRADE_DELAY = {1: 1.15, 2: 1.0, 3: 0.9}
"""Logic delay of a speed grade relative to -2 (AMD/Xilinx switching characteristics: a -1 part is
about 15 % slower, a -3 part about 10 % faster; -2L/-2LE/-2LV are taken at the -2 figures)."""
_GRADE_RE = re.compile(r"-([123])[a-z]*(?:-[a-z]+\d*)*$", re.IGNORECASE)
_GRADE_FIRST_RE = re.compile(r"-[a-z]?([123])[a-z]*$", re.IGNORECASE)


@lru_cache(maxsize=256)
def speed_grade(part: str) -> int | None:
    """The speed grade of a full part string, or None when the string has none (a bare device name).

    ``xc7z020clg400-1`` → 1, ``xcvu9p-flga2104-2L-e`` → 2, ``xck26-sfvc784-2LV-c`` → 2, ``xc7a35ticsg324-1L``
    → 1, ``xc7z020clg400-1I`` → 1, ``xcvu9p-flga2104-2L-e-es1`` → 2, ``xcvc1902-vsva2197-2MP-e-S`` → 2,
    ``xc7a100t-csg324-L1`` (an older low-power spelling) → 1.
    """
    text = part.strip()
    m = _GRADE_RE.search(text)
    if m is None:
        m = _GRADE_FIRST_RE.search(text)
    return int(m.group(1)) if m else None


def part_speed(part: Part, part_string: str | None = None) -> float:
    """Delay factor of the part's fabric and speed grade (1.0 for UltraScale+ -2; larger is slower).

    ``part_string``: the full part (with its speed grade); without a grade, -2 is assumed.
    """
    grade = speed_grade(part_string) if part_string else None
    return _SPEED.get(part.fabric or part.family, 1.3) * GRADE_DELAY.get(grade or 2, 1.0)


def _load_default() -> ConstantSet:
    try:
        return ConstantSet.load()
    except (OSError, ValueError) as exc:
        log.warning("shipped cost-model constants unavailable (%s); using built-in defaults", exc)
        return ConstantSet({f: Constants() for f in TOOL_FAMILIES}, "built-in defaults")


DEFAULT_CONSTANTS: ConstantSet = _load_default()
