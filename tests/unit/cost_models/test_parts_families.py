"""The parts table, family recognition from a part's name, and estimates of parts the table lacks (issue 17):
an hls4ml project from another repository gets an estimate, not an error, wherever its family is known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cost_models import Target, UnknownPartError, estimate, get_part
from cost_models.analytic import dsp_per_mult
from cost_models.constants import (
    array_partition_limited,
    hls_backend,
    part_speed,
    speed_grade,
    tool_family,
    tool_version_tuple,
)
from cost_models.parts import FAMILIES, PARTS, family_of_name, part_family, resolve_part
from cost_models.reports import tool_from_version
from dse.commands.cli import main
from dse.errors import ConfigError
from dse.scoring.budgets import space_budgets
from dse.space import parse_space_text
from tests.helpers import quickstart_dict
from tests.unit.cost_models.cm_helpers import jet_model
from tests.unit.cost_models.test_written_project import _project

# ------------------------------------------------------------------------------------------ the table


def test_every_table_entry_is_consistent() -> None:
    """Checks that catch a mistyped row: every family is a known one and the one its name shows, two flip-flops
    per LUT (every 7-series, UltraScale(+) and Versal device has them), whole 36 Kb tiles, DSPs and BRAM present."""
    assert len(PARTS) >= 100
    for name, p in PARTS.items():
        assert p.name == name and p.family in FAMILIES and p.totals_known
        assert family_of_name(name) == p.family, name
        assert p.ff == 2 * p.lut, name
        assert p.dsp > 0 and p.bram_18k > 0 and p.bram_18k % 2 == 0, name


@pytest.mark.parametrize("part,totals", [
    # (LUT, FF, DSP, 18 Kb BRAM, URAM)
    ("xczu28dr-ffvg1517-2-e", (425_280, 850_560, 4_272, 2_160, 80)),
    ("xczu48dr-ffvg1517-2-e", (425_280, 850_560, 4_272, 2_160, 80)),
    ("xck26-sfvc784-2LV-c", (117_120, 234_240, 1_248, 288, 64)),
    ("xcvu7p-flvb2104-2-e", (788_160, 1_576_320, 4_560, 2_880, 640)),
    ("xcvu11p-flgb2104-2-e", (1_296_000, 2_592_000, 9_216, 4_032, 960)),
    ("xcvu13p-fhga2104-2L-e", (1_728_000, 3_456_000, 12_288, 5_376, 1_280)),
    ("xcku060-ffva1156-2-e", (331_680, 663_360, 2_760, 2_160, 0)),
    ("xcku5p-ffvb676-2-e", (216_960, 433_920, 1_824, 960, 64)),
    ("xc7a50tcsg324-1", (32_600, 65_200, 120, 150, 0)),
    ("xc7z030sbg485-1", (78_600, 157_200, 400, 530, 0)),
    ("xc7vx485tffg1761-2", (303_600, 607_200, 2_800, 2_060, 0)),
    ("xczu4ev-sfvc784-1-i", (87_840, 175_680, 728, 256, 48)),
    ("xcvc1902-vsva2197-2MP-e-S", (899_840, 1_799_680, 1_968, 1_934, 463)),
])
def test_new_devices_totals(part: str, totals: tuple[int, ...]) -> None:
    p = get_part(part)
    assert (p.lut, p.ff, p.dsp, p.bram_18k, p.uram) == totals
    assert p.totals() == dict(zip(("lut", "ff", "dsp", "bram_18k", "uram"), totals, strict=True))


@pytest.mark.parametrize("spelling,name", [
    ("xczu28dr-ffvg1517-2-e", "xczu28dr"),
    ("xck26-sfvc784-2LV-c", "xck26"),
    ("xcu250-figd2104-2L-e", "xcu250"),
    ("7z020clg400-1", "xc7z020"),  # vivado_synth.rpt drops the "xc"
    ("XCVU9P-FLGA2104-2L-E", "xcvu9p"),
    ("  xczu9eg-ffvb1156-2-e ", "xczu9eg"),
    ("xqku060-rfa1156-1-i", "xcku060"),  # defence grade: the same silicon
    ("xa7a35t-csg324-1I", "xc7a35t"),  # automotive
    ("xczu11eg-ffvc1760-2-e", "xczu11eg"),  # not xczu1cg/xczu1eg
    ("xcvu37p-fsvh2892-2L-e", "xcvu37p"),  # not xcvu3p
    ("u55c", "xcu55c"),
])
def test_part_string_spellings(spelling: str, name: str) -> None:
    assert get_part(spelling).name == name


# ------------------------------------------------------------------------------- families from names

@pytest.mark.parametrize("part,family", [
    ("xc7z010clg400-1", "zynq7"), ("xc7a100tcsg324-1", "artix7"), ("xc7s50csga324-1", "spartan7"),
    ("xc7k160tffg676-2", "kintex7"), ("xc7vx1140tflg1930-2", "virtex7"), ("xc7v2000tflg1925-1", "virtex7"),
    ("xcku085-flva1517-2-e", "kintexu"), ("xcvu440-flga2892-2-e", "virtexu"),
    ("xcau25p-ffvb676-2-e", "artixuplus"), ("xcku15p-ffve1517-2-e", "kintexuplus"),
    ("xcvu19p-fsva3824-2-e", "virtexuplus"), ("xczu19eg-ffvc1760-2-i", "zynquplus"), ("xcu280", "virtexuplus"),
    ("xcvc1902-vsva2197-2MP-e-S", "versal"),
    # not in the table: the family from the name
    ("xcvu23p-vsva1365-2-e", "virtexuplus"), ("xcvu57p-fsvk2892-2-e", "virtexuplus"),
    ("xcku19p-ffvj1760-2-e", "kintexuplus"), ("xczu42dr-ffve1156-2-e", "zynquplus"),
    ("xczu25dr-ffve1156-2-e", "zynquplus"), ("xczu17eg-ffvc1760-2-e", "zynquplus"),
    ("xck24-ubva530-2LV-c", "zynquplus"), ("xcau10p-sbvb484-1-e", "artixuplus"),
    ("xcsu35p-sbvb625-2-i", "spartanuplus"),
    ("xcve2802-vsvh1760-2MP-e-S", "versal"), ("xcvp1202-vsva2785-2MHP-e-S", "versal"),
    ("xcvm1802-vsva2197-2MP-e-S", "versal"), ("xcvh1582-vsva3697-2MP-e-S", "versal"),
    ("xcu26-vsva1365-2LV-e", "virtexuplus"),
])
def test_family_recognised(part: str, family: str) -> None:
    assert resolve_part(part).family == family
    assert part_family(part) == family


@pytest.mark.parametrize("part", ["xcvu23p-vsva1365-2-e", "xczu42dr-ffve1156-2-e", "xcve2802-vsvh1760-2MP-e-S"])
def test_a_recognised_part_outside_the_table_has_no_totals(part: str) -> None:
    p = resolve_part(part)
    assert not p.totals_known and p.name == part.split("-")[0]
    with pytest.raises(UnknownPartError, match="totals of FPGA part .* unknown"):
        p.totals()
    with pytest.raises(UnknownPartError, match=f"family {p.family} recognised") as exc:
        get_part(part)  # where totals are needed (budgets), a table part only
    assert "known devices: " in str(exc.value) and "xczu28dr" in str(exc.value)


@pytest.mark.parametrize("part", ["xc9z999", "5cgxfc7c7f23c8", "lfe5u-85f", "agfb014r24b2e2v", "xc3s500e-4fg320"])
def test_an_unrecognised_part_is_an_error_naming_it(part: str) -> None:
    with pytest.raises(UnknownPartError, match="known devices: .*xcvu9p") as exc:
        resolve_part(part)
    assert repr(part) in str(exc.value)
    assert part_family(part) == "unknown"


def test_dsp_geometry_per_family() -> None:
    geometry = {f: (resolve_part(p).dsp_a_bits, resolve_part(p).dsp_b_bits) for f, p in (
        ("artix7", "xc7a35t"), ("zynq7", "xc7z020"), ("kintexu", "xcku040"), ("virtexu", "xcvu095"),
        ("virtexuplus", "xcvu9p"), ("zynquplus", "xczu9eg"), ("versal", "xcvc1902"), ("versal2", "xcve2302"))}
    assert geometry == {"artix7": (25, 18), "zynq7": (25, 18), "kintexu": (27, 18), "virtexu": (27, 18),
                        "virtexuplus": (27, 18), "zynquplus": (27, 18), "versal": (27, 24), "versal2": (27, 24)}
    # a 24 x 20 bit product: two DSP48E2 slices, one DSP58
    assert dsp_per_mult(24, 20, resolve_part("xcvu9p")) == 2
    assert dsp_per_mult(24, 20, resolve_part("xcvc1902")) == 1


def test_speed_of_new_families() -> None:
    # the big Zynq-7000 devices have Kintex-7 fabric; calibration still groups them with the Zynq-7000
    assert part_speed(resolve_part("xc7z045"), "xc7z045ffg900-2") == part_speed(resolve_part("xc7k325t"), "-2")
    assert part_speed(resolve_part("xc7z020"), "xc7z020clg400-2") > part_speed(resolve_part("xc7z045"), "-2")
    assert part_family("xc7z045ffg900-2") == "zynq7"
    assert part_speed(resolve_part("xc7s50"), "xc7s50csga324-1") == part_speed(resolve_part("xc7a50t"), "xc7a50t-1")
    assert part_speed(resolve_part("xcvu23p"), "xcvu23p-vsva1365-2-e") == part_speed(resolve_part("xcvu9p"), None)
    assert part_speed(resolve_part("xcve2802"), "xcve2802-vsvh1760-2MP-e-S") < 1.0


# ------------------------------------------------------------------------------------------ estimates

def test_a_recognised_part_outside_the_table_is_estimated_as_its_family() -> None:
    """An xcvu23p -2 has the fabric, DSP slices and calibration group of an xcvu9p -2: the same figures, no
    percentages of the part, and a note saying why."""
    layers = jet_model(w=8, rf=2)
    known = estimate(layers, Target("xcvu9p-flga2104-2-e", 5.0, "vitis", "2023.2"))
    other = estimate(layers, Target("xcvu23p-vsva1365-2-e", 5.0, "vitis", "2023.2"))
    assert other.totals() == known.totals() and other.calibrated == known.calibrated
    assert known.percent_of_part and other.percent_of_part == {}
    assert any("'xcvu23p-vsva1365-2-e' is not in the parts table" in n and "virtexuplus" in n for n in other.notes)
    assert not any("not in the parts table" in n for n in known.notes)
    assert other.to_dict()["percent_of_part"] == {}


def test_versal_is_estimated_with_a_thin_data_note() -> None:
    layers = jet_model(w=16, rf=1)
    est = estimate(layers, Target("xcve2802-vsvh1760-2MP-e-S", 5.0, "vitis", "2024.1"))
    table = estimate(layers, Target("xcvc1902-vsva2197-2MP-e-S", 5.0, "vitis", "2024.1"))
    assert est.dsp > 0 and est.lut > 0 and est.latency_cycles >= 1
    for e in (est, table):
        assert not e.calibrated
        assert any("Versal (DSP58" in n and "no synthesis data" in n for n in e.notes)
    assert est.percent_of_part == {} and table.percent_of_part["dsp"] == pytest.approx(100 * table.dsp / 1968)


def test_a_part_without_speed_grade_says_minus_2_was_assumed() -> None:
    bare = estimate(jet_model(), Target("xcvu9p", 5.0, "vitis"))
    graded = estimate(jet_model(), Target("xcvu9p-flga2104-2-e", 5.0, "vitis"))
    assert bare.totals() == graded.totals()
    assert "no speed grade in part 'xcvu9p': -2 assumed" in bare.notes
    assert not any("speed grade" in n for n in graded.notes)


def test_an_unrecognised_part_is_still_an_estimate_error() -> None:
    with pytest.raises(UnknownPartError, match="'xc9z999'"):
        estimate(jet_model(), Target("xc9z999", 5.0, "vitis"))


# --------------------------------------------------------------------------------- through the CLI

def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["estimate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_project_on_a_part_outside_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = "Part: xczu42dr-ffve1156-2-e\nClockPeriod: 4\nBackend: VivadoAccelerator\nIOType: io_parallel\n"
    code, out, err = _cli(capsys, "--hls-project", str(_project(tmp_path, config=config)))
    assert code == 0, err
    data = json.loads(out)
    assert data["percent_of_part"] == {} and data["dsp"] > 0 and data["target"]["backend"] == "vivado"
    assert any("not in the parts table: costed as a zynquplus device" in n for n in data["notes"])
    assert data["tool_family"] == "vivado_hls"


def test_cli_unrecognised_part_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "--hls-project", str(_project(tmp_path)), "--part", "xc9nothing-ff1156-2")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "'xc9nothing-ff1156-2'" in err and "known devices:" in err and "xczu28dr" in err
    config = "Part: 5cgxfc7c7f23c8\nClockPeriod: 4\nBackend: Vivado\n"
    code, out, err = _cli(capsys, "--hls-project", str(_project(tmp_path / "b", config=config)))
    assert code == 2 and "'5cgxfc7c7f23c8'" in err


@pytest.mark.parametrize("backend,tool,family", [
    ("Vitis", None, "vitis_hls"), ("VitisAccelerator", None, "vitis_hls"), ("Vivado", None, "vivado_hls"),
    ("VivadoAccelerator", None, "vivado_hls"), ("VivadoAccelerator", "Vitis HLS 2023.1", "vitis_hls"),
    ("Vitis", "v2020.1 (64-bit)", "vivado_hls"),
])
def test_cli_backend_and_tool_version_spellings(tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str,
                                                tool: str | None, family: str) -> None:
    config = f"Part: xck26-sfvc784-2LV-c\nClockPeriod: 5\nBackend: {backend}\nIOType: io_parallel\n"
    argv = ["--hls-project", str(_project(tmp_path, config=config))] + (["--tool-version", tool] if tool else [])
    code, out, err = _cli(capsys, *argv)
    assert code == 0, err
    data = json.loads(out)
    assert data["tool_family"] == family and data["percent_of_part"]["dsp"] == pytest.approx(
        100 * data["dsp"] / 1248, abs=1e-3)


# ------------------------------------------------------------------------- dse's budgets need totals

def test_space_budgets_need_a_table_part() -> None:
    d = quickstart_dict()
    d["constraints"] = ["lut <= 50%"]
    d["hardware"]["part"] = "xczu28dr-ffvg1517-2-e"
    space = parse_space_text(yaml.safe_dump(d, sort_keys=False))
    (budget,) = space_budgets(space)
    assert budget.bound == pytest.approx(0.5 * 425_280)
    d["hardware"]["part"] = "xcvu23p-vsva1365-2-e"
    with pytest.raises(ConfigError, match="resource totals are unknown .*family virtexuplus"):
        parse_space_text(yaml.safe_dump(d, sort_keys=False))


# --------------------------------------------------------------------- grade, version, backend spellings

@pytest.mark.parametrize("part,grade", [
    ("xc7z020clg400-1", 1), ("xcvu9p-flga2104-2L-e", 2), ("xcvu9p-flga2104-3-e", 3), ("xc7a35ticsg324-1L", 1),
    ("xcku115-flvb2104-2-e", 2), ("xck26-sfvc784-2LV-c", 2), ("xczu7ev-ffvc1156-1LV-i", 1), ("xc7z020clg400-1I", 1),
    ("xczu9eg-ffvb1156-2-i", 2), ("xcvu9p-flga2104-2L-e-es1", 2), ("xcvc1902-vsva2197-2MP-e-S", 2),
    ("xc7a100t-csg324-L1", 1), ("XCZU28DR-FFVG1517-2-E", 2), ("xc7k325t-ffg900-3", 3), ("xcvu9p", None),
    ("xczu28dr", None),
])
def test_speed_grade_spellings(part: str, grade: int | None) -> None:
    assert speed_grade(part) == grade


@pytest.mark.parametrize("version,release,family,limited", [
    ("2018.3", (2018, 3), "vivado_hls", True), ("2019.2", (2019, 2), "vivado_hls", True),
    ("2020.1", (2020, 1), "vivado_hls", True), ("2020.2", (2020, 2), "vitis_hls", True),
    ("2022.2", (2022, 2), "vitis_hls", False), ("2023.2", (2023, 2), "vitis_hls", False),
    ("2024.1", (2024, 1), "vitis_hls", False), ("2024.2", (2024, 2), "vitis_hls", False),
    ("2025.1", (2025, 1), "vitis_hls", False), ("v2020.1 (64-bit)", (2020, 1), "vivado_hls", True),
    ("Vitis HLS 2023.1", (2023, 1), "vitis_hls", False), ("2023.2.2", (2023, 2), "vitis_hls", False),
    ("Vitis HLS 2021.1", (2021, 1), "vitis_hls", True),
])
def test_tool_version_spellings(version: str, release: tuple[int, int], family: str, limited: bool) -> None:
    assert tool_version_tuple(version) == release
    # the version decides, whatever the backend says
    for backend in ("vivado", "vitis"):
        target = Target("xcvu9p-flga2104-2-e", 5.0, backend, version)  # type: ignore[arg-type]
        assert tool_family(target) == family and array_partition_limited(target) is limited
    assert tool_from_version(version) == family.split("_")[0]


@pytest.mark.parametrize("name,backend", [
    ("Vivado", "vivado"), ("Vitis", "vitis"), ("VivadoAccelerator", "vivado"), ("VitisAccelerator", "vitis"),
    ("vitis_accelerator", "vitis"), ("'Vitis'", "vitis"), ("Pynq", "vivado"), ("oneAPI", None), ("Quartus", None),
    ("Catapult", None), ("Libero", None), ("SymbolicExpression", None), ("", None), (None, None),
])
def test_backend_spellings(name: str | None, backend: str | None) -> None:
    assert hls_backend(name) == backend


def test_a_project_of_another_hls_tool_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--hls-project", str(_project(tmp_path, config="Part: xcvu9p\nBackend: Libero\n")))
    assert code == 2 and "Libero" in err


def test_table_agrees_with_the_shared_reports_available_resources() -> None:
    """Every device of the shared csynth reports: the table's totals are the tool's own "Available" figures."""
    import re

    from tests.unit.cost_models.cm_helpers import SHARED_REPORTS

    reports = sorted(SHARED_REPORTS.glob("**/*_csynth.xml"))
    if not reports:
        pytest.skip("shared hls4ml reports not present")
    checked: dict[str, dict[str, int]] = {}
    for path in reports:
        text = path.read_text(encoding="utf-8", errors="replace")
        part = re.search(r"<Part>([^<]+)</Part>", text)
        avail = re.search(r"<AvailableResources>(.*?)</AvailableResources>", text, re.S)
        if part is None or avail is None or part.group(1) in checked:
            continue
        figures = {k.lower(): int(v) for k, v in re.findall(r"<(\w+)>(\d+)</\1>", avail.group(1))}
        figures["dsp"] = figures.pop("dsp48e", figures.get("dsp", 0))
        expected = {k: v for k, v in get_part(part.group(1)).totals().items() if k in figures}
        assert {k: figures[k] for k in expected} == expected, part.group(1)
        checked[part.group(1)] = figures
    assert len(checked) >= 5


def test_cli_backend_override_takes_hls4ml_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prj = str(_project(tmp_path))
    code, out, err = _cli(capsys, "--hls-project", prj, "--backend", "VitisAccelerator")
    assert code == 0, err
    assert json.loads(out)["target"]["backend"] == "vitis"
    code, _, err = _cli(capsys, "--hls-project", prj, "--backend", "oneAPI")
    assert code == 2 and "oneAPI" in err


@pytest.mark.parametrize("backend,part,expected", [
    ("VivadoAccelerator", "xczu28dr-ffvg1517-2-e", "vivado"), ("VitisAccelerator", "xcu55c-fsvh2892-2L-e", "vitis"),
    ("Vitis", "xcvu23p-vsva1365-2-e", "vitis"),
])
def test_hls_config_accepts_accelerator_backends_and_family_parts(tmp_path: Path, backend: str, part: str,
                                                                  expected: str) -> None:
    from dse.commands.estimate import read_hls_config

    path = tmp_path / "hls4ml_config.yml"
    path.write_text(f"Backend: {backend}\nPart: {part}\nClockPeriod: 5\nHLSConfig:\n  Model:\n    Precision: "
                    "ap_fixed<16,6>\n    ReuseFactor: 1\n")
    cfg = read_hls_config(path)
    assert (cfg["backend"], cfg["part"]) == (expected, part)
    path.write_text(path.read_text().replace(part, "xc9nothing"))
    with pytest.raises(ConfigError, match="'xc9nothing'"):
        read_hls_config(path)
    path.write_text(f"Backend: Quartus\nPart: {part}\nHLSConfig:\n  Model:\n    ReuseFactor: 1\n")
    with pytest.raises(ConfigError, match="Quartus"):
        read_hls_config(path)
    path.write_text(f"Backend: {backend}\nXilinxPart: {part}\nHLSConfig:\n  Model:\n    ReuseFactor: 1\n")
    assert read_hls_config(path)["part"] == part  # hls4ml before 0.6 named it XilinxPart


@pytest.mark.parametrize("tcl_name,line,part", [
    ("project.tcl", 'set part "xczu28dr-ffvg1517-2-e"', "xczu28dr-ffvg1517-2-e"),
    ("project.tcl", "set part {xck26-sfvc784-2LV-c}", "xck26-sfvc784-2LV-c"),
    ("build_prj.tcl", "set_part {xc7z020clg400-1}", "xc7z020clg400-1"),
    ("build_prj.tcl", 'set_part "xcu250-figd2104-2L-e"', "xcu250-figd2104-2L-e"),
    ("build_prj.tcl", "set_part xcvu13p-flga2577-2-e", "xcvu13p-flga2577-2-e"),
])
def test_part_from_tcl_spellings(tmp_path: Path, tcl_name: str, line: str, part: str) -> None:
    from cost_models import read_written_project

    prj = _project(tmp_path, config=None, tcl={tcl_name: f"open_project -reset myproject_prj\n{line}\n"})
    assert read_written_project(prj).part == part


@pytest.mark.parametrize("version,release", [
    ("2019.2", "2019.2"), ("2023.2.2", "2023.2.2"), ("2020.1.1", "2020.1.1"), ("v2020.1 (64-bit)", "2020.1"),
    ("Vitis HLS 2023.1", "2023.1"), ("Vivado v2018.3_AR71275", "2018.3"), ("latest", None), (None, None),
])
def test_tool_release(version: str | None, release: str | None) -> None:
    from cost_models.constants import tool_release

    assert tool_release(version) == release


def test_cli_tool_version_is_read_as_its_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--tool-version "Vitis HLS 2023.1"`` is release 2023.1, the spelling of the calibration's groups."""
    prj = str(_project(tmp_path))
    code, out, err = _cli(capsys, "--hls-project", prj, "--tool-version", "Vitis HLS 2023.1")
    assert code == 0, err
    spelled = json.loads(out)
    code, out, err = _cli(capsys, "--hls-project", prj, "--tool-version", "2023.1")
    plain = json.loads(out)
    assert spelled["target"] == plain["target"] and spelled["target"]["tool_version"] == "2023.1"
    assert spelled["dsp"] == plain["dsp"] and spelled["calibration_level"] == plain["calibration_level"]
    assert "tool version 'Vitis HLS 2023.1' read as 2023.1" in spelled["notes"]
    code, out, err = _cli(capsys, "--hls-project", prj, "--tool-version", "latest")
    assert code == 2 and out == "" and "--tool-version" in err and "'latest'" in err
