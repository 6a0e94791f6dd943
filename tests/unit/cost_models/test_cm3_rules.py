"""Cost model v3 rules: io_parallel DATAFLOW channels, the big-ROM rule, Resource operand multiplexers,
strategy-less hls4ml 0.x structs."""

from __future__ import annotations

import dataclasses

from cost_models import LayerSpec, Target
from cost_models.analytic import (
    BIG_ROM_ENTRIES,
    LayerContext,
    analytic_totals,
    estimate_layer,
    parallel_dataflow,
    resource_mux_luts,
)
from cost_models.constants import Constants
from cost_models.hls_project import _strategy
from cost_models.layers import FixedType
from cost_models.parts import get_part
from cost_models.stream import parallel_channel_logic
from tests.unit.cost_models.cm_helpers import dense

VIVADO = Target(part="xcu250-figd2104-2L-e", clock_period_ns=5.0, backend="vivado", tool_version="2020.1")
VITIS = Target(part="xcu250-figd2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2023.1")


def _mlp(strategy: str, rf: int) -> list[LayerSpec]:
    inp = LayerSpec("input", "input", 16, 16, FixedType(16, 6))
    relu = LayerSpec("relu", "activation", 32, 32, FixedType(8, 3), activation="relu")
    return [inp, dense(16, 32, rf=rf, strategy=strategy, name="fc1"), relu,
            dense(32, 5, rf=rf, strategy=strategy, name="fc2")]


def test_resource_mux_follows_the_dense_resource_variant() -> None:
    # rf <= n_in: an rf:1 input mux per multiplier, no accumulator mux (out_index depends on im only)
    assert resource_mux_luts(784, 140, 28, 3920, 8, 20) == 3920 * 8 * 28 / 4
    # rf > n_in, rf % n_in == 0: one shared n_in:1 input mux, rf/n_in accumulators per multiplier, and the
    # update logic of the n_out accumulators written at a run-time index (3 LUT per accumulator bit)
    assert resource_mux_luts(100, 100, 10000, 1, 16, 16) == (16 * 100 + 1 * 16 * 100) / 4 + 3.0 * 100 * 16
    # rf > n_in otherwise: an n_in:1 mux per multiplier
    assert resource_mux_luts(10, 7, 35, 2, 8, 12) == 2 * (8 * 10 + 12 * 4) / 4 + 3.0 * 7 * 12
    assert resource_mux_luts(16, 8, 1, 128, 8, 12) == 0.0


def test_resource_dataflow_adds_one_channel_per_output_element() -> None:
    lat = _mlp("latency", 1)
    res = _mlp("resource", 4)
    assert not parallel_dataflow(lat) and parallel_dataflow(res)
    _, rows = analytic_totals(lat, VIVADO)
    assert all(r.fifo_lut == 0 and r.fifo_ff == 0 for r in rows)
    _, rows = analytic_totals(res, VIVADO)
    by = {r.name: r for r in rows}
    # fc1's 32 outputs (16 bits) and the ReLU's 32 outputs (8 bits); the model's output is a port
    assert by["fc1"].fifo_lut == 32 * (16 + 12) and by["fc1"].fifo_ff == 32 * 5
    assert by["relu"].fifo_lut == 32 * (8 + 12)
    assert by["fc2"].fifo_lut == 0
    # a project of hls4ml < 0.8 also passes the model's input (16 x 16 bits, reshaped into one 256-bit word)
    # through a channel
    _, rows = analytic_totals(res, dataclasses.replace(VIVADO, legacy_hls4ml=True))
    by = {r.name: r for r in rows}
    assert by["fc1"].fifo_lut == 32 * (16 + 12) + (256 + 12) and by["fc1"].fifo_ff == 32 * 5 + 5
    # Vitis HLS: two registers of the word rounded up to a power of two + 4 control FF (the FIFO tables)
    assert parallel_channel_logic(32, "vitis_hls") == (40.0, 68.0)
    assert parallel_channel_logic(31, "vitis_hls")[1] == 68.0
    assert parallel_channel_logic(16, "vitis_hls") == (20.0, 36.0)
    assert parallel_channel_logic(96, "vitis_hls")[1] == 260.0
    tot_vivado, _ = analytic_totals(res, VIVADO)
    tot_vitis, _ = analytic_totals(res, VITIS)
    assert tot_vitis["ff"] > tot_vivado["ff"]  # 36 FF per 16-bit Vitis channel against 5


def test_dataflow_for_partitioned_io_parallel_conv() -> None:
    from cost_models.layers import ConvGeometry

    g = ConvGeometry(8, 8, 1, 3, 3, 4, 6, 6)
    conv = LayerSpec("conv", "conv2d", 9, 4, FixedType(16, 6), weight=FixedType(8, 1), conv=g,
                     parallelization_factor=6)
    assert parallel_dataflow([conv])
    assert not parallel_dataflow([dataclasses.replace(conv, parallelization_factor=36)])


def test_reuse_loop_is_pipelined_up_to_a_rom_of_32768_words() -> None:
    part = get_part(VIVADO.part)
    k = Constants(big_rom_ii=21.0)
    ctx = LayerContext(part, 5.0, FixedType(16, 6), k=k, family="vivado_hls")
    # 78,400 weights but a ROM of RF = 7,840 words: II = RF
    est, _ = estimate_layer(dense(784, 100, rf=7840, strategy="resource"), ctx)
    assert est.ii == 7840
    # RF 39,200 > 32,768 words: the loop is not pipelined, big_rom_ii cycles per iteration
    est, _ = estimate_layer(dense(784, 100, rf=39200, strategy="resource"), ctx)
    assert BIG_ROM_ENTRIES < 39200
    assert est.ii == 39200 * 21


def test_strategy_less_struct_with_reuse_is_dense_large() -> None:
    old = {"reuse_factor": 7840, "n_zeros": 0, "store_weights_in_bram": "false"}
    assert _strategy(old) == "resource"
    assert _strategy({**old, "reuse_factor": 1}) == "latency"
    assert _strategy({**old, "strategy": "nnet::latency"}) == "latency"
    assert _strategy({"reuse_factor": 4, "strategy": "nnet::resource"}) == "resource"


def test_narrow_unsigned_generic_products_are_luts() -> None:
    part = get_part(VIVADO.part)
    layer = dense(54, 8, w=8, rf=9, strategy="resource")
    signed = LayerContext(part, 5.0, FixedType(8, 3), family="vivado_hls")
    unsigned = LayerContext(part, 5.0, FixedType(8, 3, signed=False), family="vivado_hls")
    wide = LayerContext(part, 5.0, FixedType(16, 6, signed=False), family="vivado_hls")
    est_s, _ = estimate_layer(layer, signed)
    est_u, _ = estimate_layer(layer, unsigned)
    est_w, _ = estimate_layer(layer, wide)
    assert est_s.dsp == 48  # block_factor = 54 * 8 / 9 generic multipliers on DSPs
    assert est_u.dsp == 0 and est_u.lut > est_s.lut  # 8 x ufixed<8>: LUT multipliers
    assert est_w.dsp == 48  # 8 x 16 bits: DSPs again


def test_wide_input_channel_is_a_bram_fifo() -> None:
    from cost_models.stream import parallel_input_channel

    assert parallel_input_channel(256, "vivado_hls") == (0.0, 268.0, 5.0)
    assert parallel_input_channel(4704, "vivado_hls") == (262.0, 4704.0, 4714.0)
    assert parallel_input_channel(0, "vivado_hls") == (0.0, 0.0, 0.0)


def test_unpartitioned_product_array_is_held_in_registers() -> None:
    # Vitis HLS 2021.1 honours config_array_partition -maximum_size 4096: a 561x20 latency dense is filled
    # sequentially and holds its n_in * n_out products in registers
    t = Target(part="xc7z007sclg225-1", clock_period_ns=5.0, backend="vitis", tool_version="2021.1")
    big = dense(561, 20, w=8, d=16)
    small = dense(56, 20, w=8, d=16)
    tot_big, rows = analytic_totals([big], t)
    assert any("not fully partitioned" in n for n in rows[0].notes)
    assert rows[0].ff >= 561 * 20 * 16
    _, rows_small = analytic_totals([small], t)
    assert rows_small[0].ff < 56 * 20 * 16


def test_dataflow_latency_adds_a_cycle_per_channel() -> None:
    # five processes of latency 0 at 25 ns (Kenny-Jia's Resource VAE: csynth 4 cycles)
    t = Target(part="xcvu9p-flga2104-2-e", clock_period_ns=25.0, backend="vitis", tool_version="2023.1")
    res = _mlp("resource", 1) + [LayerSpec("relu2", "activation", 5, 5, FixedType(8, 3), activation="relu")]
    tot, rows = analytic_totals(res, t)
    assert sum(r.latency_cycles for r in rows) + 3 == tot["latency_cycles"]


def test_wide_input_channel_only_for_legacy_hls4ml_projects() -> None:
    """hls4ml >= 0.8 (Kenny-Jia+ToyVAE, hls4ml 1.0, Vivado HLS 2019.2 and Vitis HLS 2023.1) has no channel for
    the model's input; the older projects (Vivado HLS 2020.1) pass it through a BRAM FIFO of ceil(bits / 18)."""
    inp = LayerSpec("input", "input", 294, 294, FixedType(16, 6))
    layers = [inp, dense(294, 32, rf=294, strategy="resource", name="fc1"),
              dense(32, 5, rf=32, strategy="resource", name="fc2")]
    new, _ = analytic_totals(layers, VIVADO)
    old, _ = analytic_totals(layers, dataclasses.replace(VIVADO, legacy_hls4ml=True))
    assert old["bram_18k"] - new["bram_18k"] == 262  # 294 x 16 = 4,704 bits
    # the channel's 4,714 FF, and the first Resource process's two copies of the input it reads from it
    assert old["ff"] - new["ff"] == 4714 + 2 * 294 * 16


def test_legacy_parameters_h_is_told_by_nnet_code_gen() -> None:
    from importlib.util import find_spec
    from pathlib import Path

    from cost_models.hls_project import is_legacy_parameters_h

    spec = find_spec("hls4ml")  # where the installed hls4ml is, without importing it (~1 s)
    assert spec is not None and spec.origin is not None, "hls4ml is a dependency of dse"
    template = Path(spec.origin).parent / "templates" / "vivado" / "firmware" / "parameters.h"
    assert not is_legacy_parameters_h(template.read_text())  # what dse's hls4ml writes
    assert is_legacy_parameters_h('#include "ap_int.h"\n#include "nnet_utils/nnet_dense_large.h"\n')
