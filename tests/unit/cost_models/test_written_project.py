"""Reading a project hls4ml has written: every struct kind of parameters.h, the target from the project's
files, the shared projects that keep parameters.h, and ``dse estimate --hls-project`` errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cost_models import ReportError, UnknownLayerError, read_written_project
from cost_models.hls_project import layers_from_structs, parse_define_constants, parse_defines_h, parse_parameters_h
from dse.commands.cli import main
from tests.unit.cost_models.cm_helpers import SHARED_REPORTS

# the structs as hls4ml 1.3 writes them (backends/vivado/passes/*_templates.py), trimmed to their members
PARAMS = """
// conv1
struct config2_mult : nnet::dense_config {
    static const unsigned n_in = 18;
    static const unsigned n_out = 4;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = nnet::latency;
    static const unsigned n_zeros = 3;
    typedef conv1_accum_t accum_t;
    typedef weight2_t weight_t;
};

struct config2 : nnet::conv2d_config {
    static const unsigned pad_top = 0;
    static const unsigned pad_bottom = 0;
    static const unsigned pad_left = 0;
    static const unsigned pad_right = 0;
    static const unsigned in_height = 10;
    static const unsigned in_width = 10;
    static const unsigned n_chan = 2;
    static const unsigned filt_height = 3;
    static const unsigned filt_width = 3;
    static const unsigned kernel_size = filt_height * filt_width;
    static const unsigned n_filt = 4;
    static const unsigned stride_height = 1;
    static const unsigned stride_width = 1;
    static const unsigned out_height = 8;
    static const unsigned out_width = 8;
    static const unsigned reuse_factor = 1;
    static const unsigned n_zeros = 3;
    static const unsigned strategy = nnet::latency;
    static const nnet::conv_implementation implementation = nnet::conv_implementation::encoded;
    static const unsigned n_partitions = 16;
    static const unsigned n_pixels = out_height * out_width / n_partitions;
    typedef conv1_accum_t accum_t;
    typedef weight2_t weight_t;
    typedef config2_mult mult_config;
};

// pool1
struct config5 : nnet::pooling2d_config {
    static const unsigned in_height = 8;
    static const unsigned in_width = 8;
    static const unsigned n_filt = 4;
    static const unsigned stride_height = 2;
    static const unsigned stride_width = 2;
    static const unsigned pool_height = 2;
    static const unsigned pool_width = 2;
    static const unsigned filt_height = pool_height;
    static const unsigned filt_width = pool_width;
    static const unsigned n_chan = n_filt;
    static const unsigned out_height = 4;
    static const unsigned out_width = 4;
    static const unsigned pad_top = 0;
    static const unsigned pad_bottom = 0;
    static const unsigned pad_left = 0;
    static const unsigned pad_right = 0;
    static const bool count_pad = false;
    static const nnet::Pool_Op pool_op = nnet::Average;
    static const nnet::conv_implementation implementation = nnet::conv_implementation::linebuffer;
    static const unsigned reuse_factor = 1;
    typedef pool1_accum_t accum_t;
};

// pad
struct config6 : nnet::padding2d_config {
    static const unsigned in_height = 4;
    static const unsigned in_width = 4;
    static const unsigned n_chan = 4;
    static const unsigned out_height = 6;
    static const unsigned out_width = 6;
    static const unsigned pad_top = 1;
    static const unsigned pad_bottom = 1;
    static const unsigned pad_left = 1;
    static const unsigned pad_right = 1;
};

// pw
struct config7_mult : nnet::dense_config {
    static const unsigned n_in = 4;
    static const unsigned n_out = 8;
    static const unsigned reuse_factor = 1;
    typedef weight7_t weight_t;
};

struct config7 : nnet::conv2d_config {
    static const unsigned in_height = 6;
    static const unsigned in_width = 6;
    static const unsigned n_chan = 4;
    static const unsigned filt_height = 1;
    static const unsigned filt_width = 1;
    static const unsigned n_filt = 8;
    static const unsigned out_height = 6;
    static const unsigned out_width = 6;
    static const unsigned reuse_factor = 1;
    static const unsigned n_zeros = 0;
    static const unsigned strategy = nnet::latency;
    static const unsigned n_partitions = 36;
    typedef weight7_t weight_t;
    typedef config7_mult mult_config;
};

// gap
struct config8 : nnet::pooling2d_config {
    static const unsigned in_height = 6;
    static const unsigned in_width = 6;
    static const unsigned n_filt = 8;
    static const nnet::Pool_Op pool_op = nnet::Max;
    static const unsigned reuse_factor = 1;
    typedef gap_accum_t accum_t;
};

// cat
struct config9 : nnet::concat_config {
    static const unsigned n_elem1_0 = 8;
    static const unsigned n_elem1_1 = 0;
    static const unsigned n_elem1_2 = 0;
    static const unsigned n_elem2_0 = 8;
    static const unsigned n_elem2_1 = 0;
    static const unsigned n_elem2_2 = 0;
    static const int axis = -1;
};

// out
struct config10 : nnet::dense_config {
    static const unsigned n_in = 16;
    static const unsigned n_out = 5;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = nnet::latency;
    static const unsigned n_zeros = 0;
    typedef out_accum_t accum_t;
    typedef weight10_t weight_t;
};
"""
DEFINES = """
typedef ap_fixed<16,6> input_t;
typedef ap_fixed<30,13> conv1_accum_t;
typedef ap_fixed<30,13> conv1_result_t;
typedef ap_fixed<8,1> weight2_t;
typedef ap_ufixed<8,0> pool1_accum_t;
typedef ap_fixed<16,6> layer5_t;
typedef ap_fixed<16,6> layer6_t;
typedef ap_fixed<8,1> weight7_t;
typedef ap_fixed<16,6> layer7_t;
typedef ap_fixed<16,6> layer8_t;
typedef ap_fixed<16,6> gap_accum_t;
typedef ap_fixed<16,6> layer9_t;
typedef ap_fixed<24,8> out_accum_t;
typedef ap_fixed<8,1> weight10_t;
typedef ap_fixed<16,6> result_t;
"""


def _layers():  # noqa: ANN202
    tds = parse_defines_h(DEFINES)
    return layers_from_structs(parse_parameters_h(PARAMS, tds, parse_define_constants(DEFINES)), tds)


def test_every_struct_kind_becomes_its_layer() -> None:
    layers = _layers()
    assert [s.kind for s in layers] == ["conv2d", "pooling2d", "zeropadding2d", "pointwise_conv2d",
                                        "global_pooling2d", "concatenate", "dense"]
    c, p, pad, pw, gap, cat, fc = layers
    assert c.parallelization_factor == 4 and c.n_partitions == 16 and c.conv_implementation == "encoded"
    assert c.result.width == 30 and c.input is not None and c.input.width == 16  # conv1_result_t, input_t
    assert (c.n_in, c.n_out, c.n_zeros) == (18, 4, 3)
    assert p.pool_op == "average" and p.conv is not None and (p.conv.filt_width, p.conv.out_pixels) == (2, 16)
    assert pad.conv is not None and (pad.conv.pad_top, pad.n_in, pad.n_out) == (1, 64, 144)
    assert pw.parallelization_factor == 1 and (pw.n_in, pw.n_out) == (4, 8)
    assert gap.pool_op == "max" and gap.conv is not None and (gap.conv.in_pixels, gap.n_out) == (36, 8)
    assert (cat.n_in, cat.n_out, cat.out_pack) == (16, 16, 16) and fc.io_type == "io_parallel"  # concatenate1d


DEPTHWISE = """
// dw
struct config3_mult : nnet::dense_config {
    static const unsigned n_in = 18;
    static const unsigned n_out = 2;
    static const unsigned reuse_factor = 1;
    static const unsigned n_zeros = 4;
    template<class data_T, class res_T, class CONFIG_T>
    using kernel = nnet::DepthwiseDenseLatency<data_T, res_T, CONFIG_T>;
};

struct config3 : nnet::conv2d_config {
    static const unsigned in_height = 10;
    static const unsigned in_width = 10;
    static const unsigned n_chan = 2;
    static const unsigned filt_height = 3;
    static const unsigned filt_width = 3;
    static const unsigned n_filt = 2;
    static const unsigned out_height = 8;
    static const unsigned out_width = 8;
    static const unsigned n_zeros = 4;
    static const unsigned n_partitions = 64;
    typedef config3_mult mult_config;
};
"""


def test_a_depthwise_conv_counts_one_channel_per_output() -> None:
    (dw,) = layers_from_structs(parse_parameters_h(DEPTHWISE), {})
    assert dw.kind == "depthwise_conv2d" and (dw.n_in, dw.n_out) == (18, 2)
    assert dw.n_nonzero == 9 * 2 - 4  # 3x3 kernel per output channel, 4 of them zero


def test_an_unknown_struct_is_an_error_naming_the_layer() -> None:
    text = PARAMS + "\n// garnet_1\nstruct config11 : nnet::garnet_config {\n    static const unsigned n_in = 4;\n};\n"
    tds = parse_defines_h(DEFINES)
    with pytest.raises(UnknownLayerError, match=r"layer 'config11' \(garnet_1\): hls4ml struct kind "
                                                r"nnet::garnet_config has no cost rule"):
        layers_from_structs(parse_parameters_h(text, tds), tds)


def _project(tmp_path: Path, params: str = PARAMS, config: str | None = "Part: xcvu9p-flga2104-2L-e\n"
             "ClockPeriod: 4\nBackend: Vivado\nIOType: io_parallel\n", tcl: dict[str, str] | None = None) -> Path:
    prj = tmp_path / "prj"
    (prj / "firmware").mkdir(parents=True)
    (prj / "firmware" / "parameters.h").write_text(params)
    (prj / "firmware" / "defines.h").write_text(DEFINES)
    if config is not None:
        (prj / "hls4ml_config.yml").write_text(config)
    for name, text in (tcl or {}).items():
        (prj / name).write_text(text)
    return prj


def test_target_from_config_then_tcl(tmp_path: Path) -> None:
    p = read_written_project(_project(tmp_path))
    assert (p.part, p.clock_period_ns, p.backend, p.io_type) == ("xcvu9p-flga2104-2L-e", 4.0, "vivado", "io_parallel")
    new_tcl = 'variable part\nset part "xcku115-flvb2104-2-i"\nvariable clock_period\nset clock_period 6.25\n'
    q = read_written_project(_project(tmp_path / "a", config=None, tcl={"project.tcl": new_tcl}))
    assert (q.part, q.clock_period_ns, q.sources["part"]) == ("xcku115-flvb2104-2-i", 6.25, "project.tcl")
    old_tcl = "open_project -reset myproject_prj\nset_part {xc7z020clg400-1}\ncreate_clock -period 10 -name default\n"
    r = read_written_project(_project(tmp_path / "b", config=None, tcl={"build_prj.tcl": old_tcl}))
    assert (r.part, r.clock_period_ns, r.backend) == ("xc7z020clg400-1", 10.0, None)
    # hls4ml before 0.6 wrote the part as XilinxPart (Fiwo735's hls4ml_prj_2 in the shared reports)
    old_cfg = "Backend: Vivado\nClockPeriod: 5\nIOType: io_parallel\nXilinxPart: xcu250-figd2104-2L-e\n"
    o = read_written_project(_project(tmp_path / "c", config=old_cfg))
    assert (o.part, o.sources["part"]) == ("xcu250-figd2104-2L-e", "hls4ml_config.yml")


def test_not_a_written_project(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no firmware/parameters.h"):
        read_written_project(tmp_path)
    with pytest.raises(ReportError, match="hls4ml_config.yml: Backend 'oneAPI'"):
        read_written_project(_project(tmp_path, config="Part: xcvu9p\nBackend: oneAPI\n"))


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["estimate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_estimates_a_written_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "--hls-project", str(_project(tmp_path)))
    assert code == 0, err
    data = json.loads(out)
    assert [r["kind"] for r in data["layers"]][:2] == ["conv2d", "pooling2d"]
    assert data["target"] == {"part": "xcvu9p-flga2104-2L-e", "clock_period_ns": 4.0, "backend": "vivado",
                              "tool_version": None}
    assert any("part from hls4ml_config.yml" in n for n in data["notes"])


@pytest.mark.parametrize("argv,words", [
    (["--part", "xc9nothing"], "unknown FPGA part"),
    (["--clock-period", "0"], "--clock-period"),
])
def test_cli_bad_overrides_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                  words: str) -> None:
    code, _, err = _cli(capsys, "--hls-project", str(_project(tmp_path)), *argv)
    assert code == 2 and words in err and "Traceback" not in err


def test_cli_unknown_layer_kind_exits_2_naming_the_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garnet = "\n// my_garnet\nstruct config11 : nnet::garnet_config {\n    static const unsigned n_in = 4;\n};\n"
    code, out, err = _cli(capsys, "--hls-project", str(_project(tmp_path, PARAMS + garnet)))
    assert code == 2 and out == ""
    assert "config11" in err and "my_garnet" in err and "garnet_config" in err and "parameters.h" in err


def test_cli_needs_a_part_and_one_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--hls-project", str(_project(tmp_path, config=None)))
    assert code == 2 and "--part" in err
    code, _, err = _cli(capsys, "--hls-project", str(tmp_path / "prj"), "--model", "m.h5")
    assert code == 2 and "not both" in err
    code, _, err = _cli(capsys, "--part", "xcvu9p")
    assert code == 2 and "--hls-project" in err


def _shared_written() -> list[Path]:
    if not SHARED_REPORTS.is_dir():
        pytest.skip("shared reports absent")
    return sorted(p.parent.parent for p in SHARED_REPORTS.glob("**/firmware/parameters.h"))
