"""FF rules of cost model v3 (issue 17): the registers the schedule and the DATAFLOW structure imply.

* io_parallel DATAFLOW: every layer process registers its whole output array; a ReLU only that; the top
  function registers its output, not its input; a Resource layer with RF > 1 also copies its channel-fed
  input (two copies for the first process of an hls4ml < 0.8 project).
* io_parallel PIPELINE: the top function registers the output vector of a layer wherever a clock edge falls
  between two layer calls, ``min(1, latency / layers)`` of the boundaries, and its input vector where the tool
  makes the input port ``ap_vld`` (not Vitis HLS 2021.1-2022.1, ``ap_none``).
* Latency-strategy products: Vitis HLS places the pipeline cuts one period apart (ASAP), Vivado HLS evenly.
"""

from __future__ import annotations

import dataclasses

import pytest

from cost_models import LayerSpec, Target
from cost_models.analytic import analytic_totals
from cost_models.constants import Constants, input_port_registered
from cost_models.layers import FixedType
from tests.unit.cost_models.cm_helpers import dense, jet_model

VITIS = Target(part="xcvu9p-flga2104-2-e", clock_period_ns=25.0, backend="vitis", tool_version="2023.1")
"""At 25 ns nothing is cut: every register counted below comes from the structure, not from the tree."""


def _resource_mlp(rf: int = 1) -> list[LayerSpec]:
    t32 = FixedType(32, 16)
    layers = [LayerSpec("input", "input", 57, 57, t32)]
    for i, (a, b) in enumerate(((57, 32), (32, 16))):
        fc = dense(a, b, w=32, d=32, rf=rf, strategy="resource", name=f"fc{i}")
        layers.append(dataclasses.replace(fc, result=t32, accum=t32, input=t32 if i == 0 else None))
        layers.append(LayerSpec(f"relu{i}", "activation", b, b, t32, activation="relu"))
    fc = dense(16, 3, w=32, d=32, rf=rf, strategy="resource", name="fc2")
    layers.append(dataclasses.replace(fc, result=t32, accum=t32, input=None))
    return layers


def test_dataflow_processes_register_their_outputs_and_the_top_not_its_input() -> None:
    totals, rows = analytic_totals(_resource_mlp(rf=1), VITIS)
    by = {r.name: r for r in rows}
    # csynth rows (Kenny-Jia, Vitis HLS 2023.1, 25 ns): dense at RF 1 = n_out x 32 (+2), ReLU = n x 31 (+2)
    assert by["fc0"].ff == 32 * 32
    assert by["relu0"].ff == 32 * 31
    assert by["fc1"].ff == 16 * 32
    assert by["relu1"].ff == 16 * 31
    assert by["fc2"].ff == 3 * 32
    own = sum(r.ff + r.fifo_ff for r in rows)
    assert totals["ff"] == pytest.approx(own + 3 * 32)  # the top registers its output only


def test_resource_layer_copies_its_channel_fed_input() -> None:
    layers = _resource_mlp(rf=8)
    _, rows = analytic_totals(layers, VITIS)
    by = {r.name: r for r in rows}
    # 25 ns: no per-multiplier register; accumulators + output register (+ the input copy after a channel)
    assert by["fc0"].ff == 32 * 32 + 32 * 32  # reads the top function's port: no copy
    assert by["fc1"].ff == 16 * 32 + 16 * 32 + 32 * 32
    legacy = dataclasses.replace(VITIS, legacy_hls4ml=True)
    _, rows_legacy = analytic_totals(layers, legacy)
    assert rows_legacy[0].ff == 32 * 32 + 32 * 32 + 2 * 57 * 32  # hls4ml < 0.8: two copies of the input


@pytest.mark.parametrize(("version", "input_bits"), [("2021.1", 0), ("2022.1", 0), ("2023.1", 16 * 16)])
def test_pipeline_registers_layer_outputs_at_the_boundaries_the_schedule_cuts(version: str, input_bits: int) -> None:
    model = jet_model(w=16, rf=1)
    inner = 64 * 16 + 64 * 16 + 32 * 16 + 32 * 16 + 32 * 16 + 32 * 16 + 5 * 16  # every layer but the softmax
    for period in (25.0, 5.0, 3.0):
        target = Target(part="xcu250-figd2104-2L-e", clock_period_ns=period, backend="vitis", tool_version=version)
        totals, rows = analytic_totals(model, target)
        top = totals["ff"] - sum(r.ff + r.fifo_ff for r in rows)
        frac = min(1.0, totals["latency_cycles"] / len(rows))
        assert top == pytest.approx(input_bits + 5 * 16 + frac * inner)
    slow, _ = analytic_totals(model, Target("xcu250-figd2104-2L-e", 25.0, "vitis", version))
    fast, _ = analytic_totals(model, Target("xcu250-figd2104-2L-e", 3.0, "vitis", version))
    assert fast["latency_cycles"] > slow["latency_cycles"]


@pytest.mark.parametrize(("backend", "version", "registered"), [
    ("vivado", "2019.2", True), ("vivado", "2020.1", True),  # ap_vld input: <input>_preg (Fiwo735, Gabriele-bot)
    ("vitis", "2021.1", False), ("vitis", "2022.1", False),  # ap_none input (ArgyKokk, kimhaneal)
    ("vitis", "2023.1", True), ("vitis", "2023.2", True),  # ap_vld again (Kenny-Jia, Alezander9, k-diep)
    ("vitis", None, True),  # no version: a current tool
])
def test_the_top_registers_its_input_where_the_port_is_ap_vld(backend: str, version: str | None,
                                                               registered: bool) -> None:
    assert input_port_registered(Target("xcu250-figd2104-2L-e", 5.0, backend, version)) is registered


def test_vitis_places_the_cuts_of_a_latency_product_one_period_apart() -> None:
    # Vitis HLS 2021.1 on Zynq-7000 at 5 ns (ArgyKokk): a 64x64 Latency dense of 4 cuts. The first cut falls
    # before the first adder with either placement and holds every product; placed one usable period apart
    # (ASAP, Vitis HLS), the later cuts come deeper into the adder tree than evenly spaced ones (Vivado HLS),
    # where fewer partial sums are live.
    k = Constants(t_add_ns=1.3, t_mult_dsp_ns=2.0, t_mult_lut_ns=1.3, ff_scale=1.0)
    layer = [LayerSpec("input", "input", 64, 64, FixedType(8, 2)), dense(64, 64, w=8, d=8)]
    vitis, vitis_rows = analytic_totals(layer, Target("xc7z007s-clg225-2", 5.0, "vitis", "2021.1"), k)
    vivado, vivado_rows = analytic_totals(layer, Target("xc7z007s-clg225-2", 5.0, "vivado", "2019.2"), k)
    assert vitis_rows[0].latency_cycles == vivado_rows[0].latency_cycles == 4  # the same schedule depth
    products = 64 * 64 * 16  # every product at the accumulator width
    assert products < vitis_rows[0].ff < vivado_rows[0].ff
    # ASAP: the products, then the sums live after 2, 3 and 5 adder levels, and the output register
    assert vitis_rows[0].ff == (64 + 16 + 8 + 2) * 64 * 16 + 64 * 16
