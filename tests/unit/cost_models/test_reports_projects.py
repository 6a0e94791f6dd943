from __future__ import annotations

from pathlib import Path

import pytest

from cost_models import (
    ReportError,
    estimate,
    read_csynth_rpt,
    read_csynth_xml,
    read_hls_project,
    read_project_json,
    read_vivado_synth_rpt,
    records_from_dirs,
)
from cost_models.hls_project import parse_parameters_h

XML = """<profile>
<ReportVersion><Version>2020.1</Version></ReportVersion>
<UserAssignments><unit>ns</unit><ProductFamily>zynq</ProductFamily><Part>xc7z020-clg400-1</Part>
<TopModelName>myproject</TopModelName><TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>
<PerformanceEstimates><SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>4.049</EstimatedClockPeriod>
</SummaryOfTimingAnalysis><SummaryOfOverallLatency><unit>clock cycles</unit><Best-caseLatency>9</Best-caseLatency>
<Worst-caseLatency>10</Worst-caseLatency><Interval-min>8</Interval-min><Interval-max>8</Interval-max>
</SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><BRAM_18K>2</BRAM_18K><DSP48E>73</DSP48E><FF>7969</FF><LUT>2532</LUT><URAM>0</URAM>
</Resources></AreaEstimates>
</profile>
"""

RPT = """

================================================================
== Vitis HLS Report for 'myproject'
================================================================
* Version:        2021.1 (Build 3247384 on Thu Jun 10 19:36:07 MDT 2021)
* Target device:  xc7z007s-clg225-2

================================================================
== Performance Estimates
================================================================
+ Timing:
    +--------+---------+----------+------------+
    |  Clock |  Target | Estimated| Uncertainty|
    +--------+---------+----------+------------+
    |ap_clk  |  3.33 ns|  4.098 ns|     0.42 ns|
    +--------+---------+----------+------------+

+ Latency:
    * Summary:
    +---------+---------+----------+----------+-----+-----+---------+
    |  Latency (cycles) |  Latency (absolute) |  Interval | Pipeline|
    |   min   |   max   |    min   |    max   | min | max |   Type  |
    +---------+---------+----------+----------+-----+-----+---------+
    |       20|       22|  0.660 us|  0.660 us|    2|    3|      yes|
    +---------+---------+----------+----------+-----+-----+---------+

    + Detail:
        * Instance:
        +-------------+------------------------------+---------+---------+-----------+-----------+-----+-----+---------+
        |   Instance  |            Module            |   min   |   max   |    min    |    max    | min | max |   Type  |
        +-------------+------------------------------+---------+---------+-----------+-----------+-----+-----+---------+
        |grp_fu_95    |dense_latency_x_config2_s     |        6|        6|   0.115 us|   0.115 us|    1|    1|      yes|
        +-------------+------------------------------+---------+---------+-----------+-----------+-----+-----+---------+

        * Loop:
        N/A

================================================================
== Utilization Estimates
================================================================
* Summary:
+-----------------+---------+----+-------+-------+-----+
|       Name      | BRAM_18K| DSP|   FF  |  LUT  | URAM|
+-----------------+---------+----+-------+-------+-----+
|Instance         |        5|  36|  53569|  68179|    -|
+-----------------+---------+----+-------+-------+-----+
|Total            |        5|  36|  56681|  68412|    0|
+-----------------+---------+----+-------+-------+-----+

+ Detail:
    * Instance:
    +-------------+------------------------------+---------+----+-------+-------+-----+
    |   Instance  |            Module            | BRAM_18K| DSP|   FF  |  LUT  | URAM|
    +-------------+------------------------------+---------+----+-------+-------+-----+
    |grp_fu_95    |dense_latency_x_config2_s     |        0|  10|  16241|  19147|    0|
    +-------------+------------------------------+---------+----+-------+-------+-----+

    * DSP:
    N/A

================================================================
== Interface
================================================================
"""

VSYNTH = """| Tool Version : Vivado v.2020.1 (lin64) Build 2902540 Wed May 27 19:54:35 MDT 2020
| Command      : report_utilization -file vivado_synth.rpt
| Device       : 7z020clg400-1
+----------------------------+------+-------+-----------+-------+
| Slice LUTs*                | 1526 |     0 |     53200 |  2.87 |
| Slice Registers            | 2428 |     0 |    106400 |  2.28 |
| Block RAM Tile |    1.5 |     0 |       140 |  0.00 |
| DSPs           |   66 |     0 |       220 | 30.00 |
"""

PARAMS = """#ifndef PARAMETERS_H_
#define PARAMETERS_H_
#include "defines.h"

// fc1
struct config2 : nnet::dense_config {
    static const unsigned n_in = 16;
    static const unsigned n_out = 8;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned strategy = nnet::latency;
    static const unsigned reuse_factor = 2;
    static const unsigned n_zeros = 10;
    static const unsigned n_nonzeros = 118;
    static const bool store_weights_in_bram = false;
    typedef fc1_accum_t accum_t;
    typedef bias2_t bias_t;
    typedef weight2_t weight_t;
    template<class data_T, class res_T, class CONFIG_T>
    using kernel = nnet::DenseLatency<data_T, res_T, CONFIG_T>;
    template<class x_T, class y_T>
    using product = nnet::product::mult<x_T, y_T>;
};

// relu1
struct relu_config3 : nnet::activ_config {
    static const unsigned n_in = 8;
    static const unsigned table_size = 1024;
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 2;
    typedef relu1_table_t table_t;
};

#endif
"""

DEFINES = """typedef ap_fixed<16,6> input_t;
typedef ap_fixed<24,10> fc1_accum_t;
typedef ap_fixed<16,6> layer2_t;
typedef ap_fixed<6,1> weight2_t;
typedef ap_fixed<6,1> bias2_t;
typedef ap_ufixed<8,0,AP_RND_CONV,AP_SAT> result_t;
typedef ap_fixed<18,8> relu1_table_t;
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_csynth_xml_known_answer(tmp_path: Path) -> None:
    r = read_csynth_xml(_write(tmp_path / "myproject_csynth.xml", XML))
    assert (r.tool, r.tool_version, r.part) == ("vivado", "2020.1", "xc7z020-clg400-1")
    assert (r.clock_period_ns, r.latency_cycles, r.latency_best_cycles, r.ii) == (5.0, 10, 9, 8)
    assert (r.dsp, r.lut, r.ff, r.bram_18k, r.uram) == (73, 2532, 7969, 2, 0)


def test_csynth_rpt_known_answer(tmp_path: Path) -> None:
    r = read_csynth_rpt(_write(tmp_path / "myproject_csynth.rpt", RPT))
    assert (r.tool, r.tool_version, r.part, r.clock_period_ns) == ("vitis", "2021.1", "xc7z007s-clg225-2", 3.33)
    assert (r.latency_best_cycles, r.latency_cycles, r.ii) == (20, 22, 3)
    assert (r.dsp, r.lut, r.ff, r.bram_18k, r.uram) == (36, 68412, 56681, 5, 0)
    (row,) = r.layer_rows
    assert row["config"] == "config2" and row["dsp"] == 10 and row["latency_max"] == 6 and row["ii_max"] == 1


def test_vivado_synth_known_answer(tmp_path: Path) -> None:
    v = read_vivado_synth_rpt(_write(tmp_path / "vivado_synth.rpt", VSYNTH))
    assert (v.tool_version, v.lut, v.ff, v.dsp, v.bram_18k) == ("2020.1", 1526, 2428, 66, 3.0)


@pytest.mark.parametrize("name,text", [
    ("myproject_csynth.xml", XML[: len(XML) // 2]),
    ("myproject_csynth.xml", XML.replace("<AreaEstimates>", "").replace("</AreaEstimates>", "")),
    ("myproject_csynth.xml", XML.replace("<LUT>2532</LUT>", "<LUT>many</LUT>")),
    ("myproject_csynth.rpt", RPT[: len(RPT) // 2]),
    ("myproject_csynth.rpt", "hello"),
    ("vivado_synth.rpt", VSYNTH.splitlines()[1]),
])
def test_malformed_reports_raise_report_error_naming_file(tmp_path: Path, name: str, text: str) -> None:
    path = _write(tmp_path / name, text)
    reader = {"xml": read_csynth_xml, "rpt": read_csynth_rpt}[name.rsplit(".", 1)[1]]
    if name == "vivado_synth.rpt":
        reader = read_vivado_synth_rpt
    with pytest.raises(ReportError) as exc:
        reader(path)
    assert str(path) in str(exc.value) and isinstance(exc.value, ValueError)


def _project(tmp_path: Path) -> Path:
    prj = tmp_path / "prj"
    _write(prj / "firmware" / "parameters.h", PARAMS)
    _write(prj / "firmware" / "defines.h", DEFINES)
    _write(prj / "hls4ml_config.yml", "Backend: Vivado\nClockPeriod: 5\nIOType: io_parallel\n"
           "KerasModel: !keras_model 'x.h5'\nPart: xc7z020-clg400-1\nProjectName: myproject\n")
    _write(prj / "myproject_prj" / "solution1" / "syn" / "report" / "myproject_csynth.xml", XML)
    _write(prj / "vivado_synth.rpt", VSYNTH)
    return prj


def test_hls_project_folder(tmp_path: Path) -> None:
    rec = read_hls_project(_project(tmp_path))
    assert rec.layers is not None and [s.kind for s in rec.layers] == ["dense", "activation"]
    fc = rec.layers[0]
    assert (fc.n_in, fc.n_out, fc.n_zeros, fc.reuse_factor, fc.strategy) == (16, 8, 10, 2, "latency")
    assert (str(fc.weight), str(fc.accum), str(fc.input)) == ("ap_fixed<6,1>", "ap_fixed<24,10>", "ap_fixed<16,6>")
    assert rec.layers[1].result.width == 8 and rec.layers[1].activation == "relu"
    assert rec.dsp == 73 and rec.post_synth is not None and rec.post_synth["dsp"] == 66
    assert not rec.problems()
    assert estimate(rec.layers, rec.target()).dsp >= 0
    assert records_from_dirs([tmp_path])[0].dsp == 73


def test_parameters_h_structs() -> None:
    structs = parse_parameters_h(PARAMS, {"weight2_t": "ap_fixed<6,1>"})
    assert [s["struct"] for s in structs] == ["config2", "relu_config3"]
    assert structs[0]["weight_t"] == "ap_fixed<6,1>" and structs[0]["weight_t_typedef"] == "weight2_t"


def test_folder_without_report(tmp_path: Path) -> None:
    prj = _project(tmp_path)
    (prj / "myproject_prj" / "solution1" / "syn" / "report" / "myproject_csynth.xml").unlink()
    with pytest.raises(ReportError, match="no \\*_csynth"):
        read_hls_project(prj)


# ------------------------------------------------------------------ the shared real reports
def test_shared_jet_project(shared_reports: Path) -> None:
    prj = shared_reports / "ArgyKokk+hls4ml_MLP_estimator/HLS_MLPs/jet_tagging/hls4ml_prj/DSP_reuse100"
    rec = read_hls_project(prj)
    assert (rec.tool, rec.tool_version, rec.part) == ("vitis", "2021.1", "xc7z007s-clg225-2")
    assert (rec.dsp, rec.lut, rec.ff, rec.latency_cycles, rec.ii) == (36, 68412, 56681, 161, 48)
    assert len([r for r in rec.layer_rows if r["config"] and r["config"].startswith("config")]) == 4
    layers, synth, _ = read_project_json(prj / "project.json")
    assert [(s.n_in, s.n_out) for s in layers if s.kind == "dense"] == [(16, 64), (64, 32), (32, 32), (32, 5)]
    assert synth["dsp"] == 36


def test_shared_vivado_fixture_and_rpt_only(shared_reports: Path) -> None:
    rec = read_hls_project(shared_reports / "fastmachinelearning+hls4ml/test/pytest/test_report/Vivado")
    assert (rec.tool, rec.dsp, rec.lut, rec.latency_cycles, rec.ii) == ("vivado", 73, 2532, 10, 8)
    assert rec.post_synth is not None and rec.post_synth["lut"] == 1526
    cnn = read_hls_project(shared_reports / "Lrozzy+hls4ml_OpenML/pruned_cnn")  # only a .rpt
    assert (cnn.part, cnn.latency_cycles, cnn.ii, cnn.dsp) == ("xcu250-figd2104-2L-e", 1044, 1028, 5414)
