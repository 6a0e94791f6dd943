"""A stand-in for a vendor HLS tool (vitis-run, vitis_hls, vivado_hls), for tests.

Run in an hls4ml project folder the way hls4ml runs the real tool, it reads the project
(firmware/parameters.h and firmware/defines.h), computes figures from it with its own
formulas (deliberately not dse's cost model) and writes
``<project>_prj/solution1/syn/report/<project>_csynth.xml`` and ``.rpt`` in the real
Vitis HLS format. Its behaviour is chosen by the file ``fake_hls_mode`` beside this script
(or the file named by FAKE_HLS_MODE_FILE, or the FAKE_HLS_MODE variable): ok, fail, hang, noreport, garbage, flaky,
slow (ok after 4 s).
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from pathlib import Path

VERSION = "2023.2"


def mode() -> str:
    f = Path(os.environ.get("FAKE_HLS_MODE_FILE", Path(os.path.realpath(sys.argv[0])).parent / "fake_hls_mode"))
    if f.exists():
        return f.read_text().strip()
    return os.environ.get("FAKE_HLS_MODE", "ok")


def read_layers(project: Path) -> list[dict]:
    params = (project / "firmware" / "parameters.h").read_text()
    defines = (project / "firmware" / "defines.h").read_text()
    types = {m.group(2): m.group(1) for m in re.finditer(r"typedef\s+(ap_u?fixed<[^;]*>|ap_u?int<[^;]*>)\s+(\w+);",
                                                           defines)}
    layers = []
    for m in re.finditer(r"struct\s+(\w+)\s*:\s*nnet::dense_config\s*\{(.*?)\n\};", params, re.S):
        body = m.group(2)

        def num(key: str, body: str = body) -> int:
            mm = re.search(rf"static const unsigned {key} = (\d+);", body)
            return int(mm.group(1)) if mm else 0

        wt = re.search(r"typedef (\w+) weight_t;", body)
        wtype = types.get(wt.group(1), "ap_fixed<16,6>") if wt else "ap_fixed<16,6>"
        wbits = int(re.search(r"<(\d+)", wtype).group(1))
        layers.append({"n_in": num("n_in"), "n_out": num("n_out"), "rf": max(1, num("reuse_factor")),
                       "zeros": num("n_zeros"), "wbits": wbits})
    return layers


def figures(layers: list[dict]) -> dict[str, int]:
    dsp = lut = ff = 0
    latency = 2
    ii = 1
    for ly in layers:
        mults = math.ceil(ly["n_in"] * ly["n_out"] / ly["rf"]) - ly["zeros"] // ly["rf"]
        if ly["wbits"] >= 10:
            dsp += math.ceil(1.25 * mults)
            lut += 40 * mults
        else:
            lut += (9 * ly["wbits"] + 25) * mults
        ff += 14 * ly["wbits"] * mults + 300
        latency += ly["rf"] + math.ceil(math.log2(max(2, ly["n_in"]))) + 3
        ii = max(ii, ly["rf"])
    return {"dsp": dsp, "lut": lut + 1500, "ff": ff, "bram": 0, "latency": latency, "ii": ii}


XML = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <ReportVersion>
    <Version>{version}</Version>
  </ReportVersion>
  <UserAssignments>
    <unit>ns</unit>
    <ProductFamily>virtexuplus</ProductFamily>
    <Part>{part}</Part>
    <TopModelName>{name}</TopModelName>
    <TargetClockPeriod>{clock}</TargetClockPeriod>
    <ClockUncertainty>0.27</ClockUncertainty>
    <FlowTarget>vivado</FlowTarget>
  </UserAssignments>
  <PerformanceEstimates>
    <PipelineType>yes</PipelineType>
    <SummaryOfTimingAnalysis>
      <unit>ns</unit>
      <EstimatedClockPeriod>{est_clock}</EstimatedClockPeriod>
    </SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <unit>clock cycles</unit>
      <Best-caseLatency>{latency}</Best-caseLatency>
      <Average-caseLatency>{latency}</Average-caseLatency>
      <Worst-caseLatency>{latency}</Worst-caseLatency>
      <Best-caseRealTimeLatency>{latency_us:.3f} us</Best-caseRealTimeLatency>
      <Average-caseRealTimeLatency>{latency_us:.3f} us</Average-caseRealTimeLatency>
      <Worst-caseRealTimeLatency>{latency_us:.3f} us</Worst-caseRealTimeLatency>
      <PipelineInitiationInterval>{ii}</PipelineInitiationInterval>
      <PipelineDepth>{latency}</PipelineDepth>
      <Interval-min>{ii}</Interval-min>
      <Interval-max>{ii}</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources>
      <BRAM_18K>{bram}</BRAM_18K>
      <DSP>{dsp}</DSP>
      <FF>{ff}</FF>
      <LUT>{lut}</LUT>
      <URAM>0</URAM>
    </Resources>
    <AvailableResources>
      <BRAM_18K>4320</BRAM_18K>
      <DSP>6840</DSP>
      <FF>2364480</FF>
      <LUT>1182240</LUT>
      <URAM>960</URAM>
    </AvailableResources>
  </AreaEstimates>
</profile>
"""

RPT = """

================================================================
== Vitis HLS Report for '{name}'
================================================================
* Date:           Sat Nov 21 00:00:00 2026

* Version:        {version} (Build 0000000 on Jan 01 2026)
* Project:        {name}_prj
* Solution:       solution1 (Vivado IP Flow Target)
* Product family: virtexuplus
* Target device:  {part}


================================================================
== Performance Estimates
================================================================
+ Timing:
    * Summary:
    +--------+---------+----------+------------+
    |  Clock |  Target | Estimated| Uncertainty|
    +--------+---------+----------+------------+
    |ap_clk  |  {clock:.2f} ns|  {est_clock:.3f} ns|     0.27 ns|
    +--------+---------+----------+------------+

+ Latency:
    * Summary:
    +---------+---------+-----------+-----------+-----+-----+---------+
    |  Latency (cycles) |   Latency (absolute)  |  Interval | Pipeline|
    |   min   |   max   |    min    |    max    | min | max |   Type  |
    +---------+---------+-----------+-----------+-----+-----+---------+
    |     {latency}|     {latency}|  {latency_ns:.3f} ns|  {latency_ns:.3f} ns|    {ii}|    {ii}|      yes|
    +---------+---------+-----------+-----------+-----+-----+---------+

================================================================
== Utilization Estimates
================================================================
* Summary:
+-----------------+---------+------+---------+---------+-----+
|       Name      | BRAM_18K|  DSP |    FF   |   LUT   | URAM|
+-----------------+---------+------+---------+---------+-----+
|Total            |  {bram}|  {dsp}|  {ff}|  {lut}|    0|
+-----------------+---------+------+---------+---------+-----+
|Available        |     4320|  6840|  2364480|  1182240|  960|
+-----------------+---------+------+---------+---------+-----+
"""


def main() -> int:
    project = Path.cwd()
    m = mode()
    print(f"****** fake HLS {VERSION} in {project} (mode {m})", flush=True)
    if not (project / "build_prj.tcl").exists():
        print("ERROR: build_prj.tcl not found", flush=True)
        return 2
    if m == "fail":
        print("ERROR: [HLS 200-70] Compilation errors found", flush=True)
        return 3
    if m == "hang":
        time.sleep(3600)
        return 0
    if m == "slow":
        time.sleep(4)
    if m == "flaky":
        marker = project.parent / ".fake_hls_flaky"
        if not marker.exists():
            marker.write_text("1")
            print("ERROR: [Common 17-345] A valid license was not found for feature 'HLS'", flush=True)
            return 1
    name = "myproject"
    tcl = (project / "build_prj.tcl").read_text()
    if (project / "project.tcl").exists():
        tcl += (project / "project.tcl").read_text()
    mm = re.search(r"set project_name \"?(\w+)\"?", tcl)
    if mm:
        name = mm.group(1)
    part_m = re.search(r"set part \"?([\w-]+)\"?", tcl)
    clock_m = re.search(r"set clock_period (\d+(?:\.\d+)?)", tcl)
    part = part_m.group(1) if part_m else "xcvu9p-flga2104-2L-e"
    clock = float(clock_m.group(1)) if clock_m else 5.0
    report = project / f"{name}_prj" / "solution1" / "syn" / "report"
    report.mkdir(parents=True, exist_ok=True)
    if m == "noreport":
        print("INFO: done (but no report)", flush=True)
        return 0
    if m == "garbage":
        (report / f"{name}_csynth.xml").write_text("<profile><AreaEstimates><Resou")
        return 0
    f = figures(read_layers(project))
    fields = dict(version=VERSION, part=part, name=name, clock=clock, est_clock=clock * 0.82,
                  latency=f["latency"], latency_us=f["latency"] * clock / 1000, latency_ns=f["latency"] * clock,
                  ii=f["ii"], bram=f["bram"], dsp=f["dsp"], ff=f["ff"], lut=f["lut"])
    (report / f"{name}_csynth.xml").write_text(XML.format(**fields))
    (report / f"{name}_csynth.rpt").write_text(RPT.format(**fields))
    print(f"INFO: [HLS 200-111] Finished synthesis: DSP {f['dsp']} LUT {f['lut']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
