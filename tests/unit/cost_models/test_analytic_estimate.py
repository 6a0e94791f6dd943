from __future__ import annotations

import dataclasses
import math
import random

import pytest

from cost_models import Calibration, LayerSpec, Target, estimate
from cost_models.analytic import LayerContext, dsp_per_mult, estimate_layer, multiplier_limit, tree_mean_growth
from cost_models.constants import part_speed
from cost_models.layers import FixedType
from cost_models.parts import get_part
from tests.unit.cost_models.cm_helpers import TARGET, dense, jet_model, with_weights

VU9P = get_part("xcvu9p")
Z7 = get_part("xc7z020")


def _one(layer: LayerSpec, part=VU9P, clock: float = 5.0, data: FixedType | None = None):  # noqa: ANN001, ANN202
    return estimate_layer(layer, LayerContext(part, clock, data or layer.input or FixedType(16, 6)))[0]


def test_multiplier_limit_matches_hls4ml_formula() -> None:
    # DIV_ROUNDUP(n_in*n_out, rf) - n_zeros / rf (C integer division)
    assert multiplier_limit(16, 64, 165, 1) == 1024 - 165
    assert multiplier_limit(274, 8, 924, 100) == 22 - 9
    assert multiplier_limit(10, 5, 0, 100) == 1


def test_dsp_per_mult_port_widths() -> None:
    assert dsp_per_mult(16, 16, VU9P) == 1
    assert dsp_per_mult(27, 18, VU9P) == 1  # DSP48E2 27x18
    assert dsp_per_mult(27, 18, Z7) == 2  # DSP48E1 25x18
    assert dsp_per_mult(28, 12, VU9P) == 2
    assert dsp_per_mult(32, 32, VU9P) == 4


def test_dense_latency_hard_constants_are_the_dsps() -> None:
    # 16-bit type, trained values: only constants with >= 3 CSD digits are DSP products
    vals = [0.5, -0.25, 0.75, 0.4375, 0.0, 0.3125, 0.6875, -0.8125] * 4  # digits 1,1,2,2,0,2,3,3 (x4)
    layer = with_weights(dense(8, 4, w=16), vals)
    e = _one(layer)
    assert layer.weights is not None and layer.weights.count_at_least(3, unique=False) == 8
    assert 0 < e.dsp <= 8  # merged equal constants of one input may share a product
    assert e.ii == 1


def test_dense_latency_reuse_factor_caps_multipliers() -> None:
    e = _one(dense(16, 64, w=16, rf=16))
    assert e.dsp == pytest.approx(64, rel=0.01)  # ALLOCATION limit = 1024 / 16 binds
    assert e.ii <= 16


def test_resource_strategy_block_factor_and_reuse_loop() -> None:
    e = _one(dense(64, 16, w=8, d=24, rf=2, strategy="resource"))
    assert e.dsp == 512  # block_factor = 1024 / 2 generic multipliers, 8x24 -> 1 DSP each
    assert e.ii == 2
    assert e.latency_cycles >= 2


def test_narrow_weights_go_to_luts_and_forced_binding() -> None:
    assert _one(dense(16, 16, w=4)).dsp == 0  # a 4-bit constant has at most 2 CSD digits
    assert _one(dense(16, 16, w=16, mult_impl="lut")).dsp == 0
    forced = _one(dense(16, 16, w=6, mult_impl="dsp")).dsp
    assert _one(dense(16, 16, w=6)).dsp < forced <= 256
    assert _one(dense(16, 16, w=8)).dsp > _one(dense(16, 16, w=6)).dsp > 0


def test_softmax_and_relu_rules() -> None:
    sm = LayerSpec("sm", "softmax", 5, 5, FixedType(16, 6), activation="softmax", table_size=1024,
                   table=FixedType(18, 8))
    e = _one(sm)
    assert (e.dsp, e.bram_18k) == (5, 5)  # one inverse multiply and one exp-table copy per element
    relu = LayerSpec("r", "activation", 64, 64, FixedType(8, 0, False), activation="relu")
    assert _one(relu).dsp == 0 and _one(relu).lut > 0


def test_estimate_to_dict_schema_and_percent() -> None:
    est = estimate(jet_model(), TARGET, Calibration())
    d = est.to_dict()
    for key in ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "latency_ns", "ii"):
        assert isinstance(d[key], (int, float))
        lo, hi = d["intervals"][key]
        assert lo <= d[key] <= hi
    assert d["calibrated"] is False
    assert d["percent_of_part"]["dsp"] == pytest.approx(100 * est.dsp / 6840, rel=1e-3)
    assert d["latency_ns"] == pytest.approx(d["latency_cycles"] * 5.0, rel=1e-3)
    assert len(d["layers"]) == 8 and d["target"]["part"].startswith("xcvu9p")
    assert d["tool_family"] == "vitis_hls" and d["weights_known"] is False
    assert any("weight type alone" in n for n in d["notes"]) and any("uncalibrated" in n for n in d["notes"])


def test_jet_type_only_dsp_bounded_and_falls_with_bits() -> None:
    # Without trained weights the rule assumes typical trained values at the type: never more DSPs
    # than non-zero products, and far fewer at 6 bits than at 16 bits.
    d16 = estimate(jet_model(w=16), TARGET, Calibration()).dsp
    d6 = estimate(jet_model(w=6), TARGET, Calibration()).dsp
    assert d16 <= 4256 and d6 < d16 / 4


def test_io_parallel_latency_adds_layers() -> None:
    est = estimate(jet_model(), TARGET, Calibration())
    assert est.latency_cycles > sum(r.latency_cycles for r in est.layers)
    assert est.ii == 1


def test_properties_seeded() -> None:
    rng = random.Random(7)
    for _ in range(200):
        n_in, n_out = rng.randint(1, 64), rng.randint(1, 64)
        w, d = rng.randint(3, 18), rng.randint(4, 18)
        rf = rng.choice([1, 2, 4, 8, 16, 64])
        strategy = rng.choice(["latency", "resource"])
        z = rng.randint(0, n_in * n_out - 1)
        base = dense(n_in, n_out, w=w, d=d, rf=rf, zeros=z, strategy=strategy)
        e0 = _one(base)
        # more zeros never increase DSPs
        more_zeros = dataclasses.replace(base, n_zeros=min(n_in * n_out, z + rng.randint(1, 50)))
        assert _one(more_zeros).dsp <= e0.dsp + 1e-9
        # a larger ReuseFactor never increases DSPs (except leaving RF=1 under the Resource strategy,
        # where the weights stop being folded constants and every product becomes a generic multiplier)
        bigger_rf = dataclasses.replace(base, reuse_factor=rf * rng.choice([2, 3, 4]))
        if not (strategy == "resource" and rf == 1):
            assert _one(bigger_rf).dsp <= e0.dsp + 1e-9
        # more weight bits never decrease LUTs (with DSPs forced off, all products are LUT logic) at RF 1, where
        # the ALLOCATION limit cannot bind (at a binding limit, wider weights move products into the shared
        # fabric multipliers of ``fabric_shared_luts``)
        lut_only = dataclasses.replace(base, mult_impl="lut", reuse_factor=1)
        wider = dataclasses.replace(lut_only, weight=FixedType(w + rng.randint(1, 6), 1))
        assert _one(wider).lut >= _one(lut_only).lut - 1e-9
        for v in (e0.dsp, e0.lut, e0.ff, e0.bram_18k, e0.latency_cycles, e0.ii):
            assert v >= 0 and math.isfinite(v)


def test_unknown_part_raises() -> None:
    with pytest.raises(ValueError, match="known devices"):
        estimate(jet_model(), Target(part="xc1234"))


def test_calibrated_flag() -> None:
    est = estimate(jet_model(), TARGET, calibration=Calibration())
    assert est.calibrated is False  # an empty calibration has nothing to apply


def test_clock_and_part_change_the_schedule() -> None:
    layers = jet_model(w=8)
    fast = estimate(layers, Target("xcvu9p-flga2104-2L-e", 3.33, "vitis", "2021.1"))
    slow_clock = estimate(layers, Target("xcvu9p-flga2104-2L-e", 10.0, "vitis", "2021.1"))
    assert slow_clock.analytic["latency_cycles"] < fast.analytic["latency_cycles"]
    assert slow_clock.analytic["ff"] < fast.analytic["ff"]  # fewer cuts, fewer registers
    vu9p = estimate(layers, Target("xcvu9p-flga2104-2-e", 5.0, "vitis", "2021.1"))
    zynq = estimate(layers, Target("xc7z020clg400-1", 5.0, "vitis", "2021.1"))
    assert zynq.analytic["latency_cycles"] > vu9p.analytic["latency_cycles"]
    # the speed grade alone: a -1 part of a family is slower than its -3
    z1 = estimate(layers, Target("xczu9eg-ffvb1156-1-e", 3.33, "vitis", "2021.1"))
    z3 = estimate(layers, Target("xczu9eg-ffvb1156-3-e", 3.33, "vitis", "2021.1"))
    assert z1.analytic["latency_cycles"] > z3.analytic["latency_cycles"]


def test_array_partition_limit_follows_the_tool_version() -> None:
    # a 128x64 latency dense (8,192 products > hls4ml's maximum_size 4096): Vivado HLS and Vitis HLS
    # 2021.1 honour the limit (extra sequential cycles); Vitis HLS 2023.1 ignores the option
    layers = [dense(128, 64, w=8)]
    old = estimate(layers, Target("xcvu9p-flga2104-2-e", 5.0, "vitis", "2021.1"))
    new = estimate(layers, Target("xcvu9p-flga2104-2-e", 5.0, "vitis", "2023.1"))
    vivado = estimate(layers, Target("xcvu9p-flga2104-2-e", 5.0, "vivado", "2019.2"))
    assert new.analytic["latency_cycles"] + 20 < old.analytic["latency_cycles"]
    assert vivado.analytic["latency_cycles"] > new.analytic["latency_cycles"] + 20
    assert any("not fully partitioned" in n for row in old.layers for n in row.notes)
    assert not any("not fully partitioned" in n for row in new.layers for n in row.notes)


def test_thin_data_is_said_and_widens_the_interval() -> None:
    from cost_models.constants import THIN_DATA_WIDEN, Constants

    layers = jet_model(w=8)
    target = Target("xc7a200t-fbg676-2", 5.0, "vitis", "2021.1")
    sig = (("latency_cycles", 0.3), ("lut", 0.3))
    dense_fit = Constants(log_sigma=sig, support=(("artix7", 3), ("virtexuplus", 4)))
    thin_fit = Constants(log_sigma=sig, support=(("artix7", 1), ("virtexuplus", 4)))
    rich, thin = (estimate(layers, target, Calibration(), c) for c in (dense_fit, thin_fit))
    assert not any("thin data" in n for n in rich.notes)
    assert any("thin data for vitis_hls on artix7" in n and "1 repository of artix7" in n for n in thin.notes)
    for m in ("latency_cycles", "lut"):
        w_rich = math.log((rich.intervals[m].high + 1) / (rich.intervals[m].low + 1))
        w_thin = math.log((thin.intervals[m].high + 1) / (thin.intervals[m].low + 1))
        assert w_thin > 1.15 * w_rich
    assert THIN_DATA_WIDEN > 1
    pooled = estimate(layers, target, Calibration(), Constants(log_sigma=sig, support=(("artix7", 5),), pooled=True))
    assert any("pooled over every tool family" in n for n in pooled.notes)


def test_resource_at_reuse_factor_one_is_folded_like_latency() -> None:
    # 8-bit trained-like weights: at RF=1 the Resource layer's weights are constants (Latency rule);
    # at RF=2 they come from a ROM and every product is a generic multiplier on a DSP
    lat = _one(dense(32, 16, w=8, d=16, rf=1, strategy="latency"))
    res1 = _one(dense(32, 16, w=8, d=16, rf=1, strategy="resource"))
    res2 = _one(dense(32, 16, w=8, d=16, rf=2, strategy="resource"))
    assert (res1.dsp, res1.lut, res1.latency_cycles) == (lat.dsp, lat.lut, lat.latency_cycles)
    assert res2.dsp == 32 * 16 / 2  # block_factor generic multipliers


def test_resource_registers_follow_the_clock() -> None:
    layer = dense(64, 32, w=16, d=16, rf=8, strategy="resource")
    slow = _one(layer, part=VU9P, clock=25.0)
    # a Zynq-7000 -1 fabric (speed factor of the part string) at 5 ns: one iteration spans ~1.7 periods
    z7 = LayerContext(Z7, 5.0, FixedType(16, 6), speed=part_speed(Z7, "xc7z020clg400-1"))
    fast = estimate_layer(layer, z7)[0]
    # at 25 ns one reuse iteration fits in the cycle: the accumulators only, no per-multiplier registers
    assert slow.ff == 32 * 16
    # the operands and product of each of the 256 multipliers are registered once per period the path spans
    spans = z7.speed * (3.0 + z7.k.t_add_ns) / z7.t_eff
    assert spans > 1.0
    assert fast.ff == pytest.approx(32 * 16 + 256 * (16 + 16 + 16) * spans)
    # a LUT-mapped product of narrow operands keeps no per-multiplier register
    narrow = estimate_layer(dense(64, 32, w=4, d=4, rf=8, strategy="resource"), z7)[0]
    assert narrow.ff == 32 * 16  # the accumulators

    # dense_resource_rf_gt_nin_rem0: acc[out_index] += ... with a run-time out_index: each of the n_out
    # accumulators gets its own update logic (csynth, Vivado HLS 2020.1, one multiplier: 830 LUT at 100x10,
    # 5,154 at 100x100); the RF <= n_in variant writes fixed accumulators
    ten = _one(dense(100, 10, w=16, rf=1000, strategy="resource"))
    hundred = _one(dense(100, 100, w=16, rf=10000, strategy="resource"))
    assert ten.multipliers == hundred.multipliers == 1
    assert hundred.lut - ten.lut >= 90 * 16 * 3.0
    from cost_models.analytic import resource_mux_luts

    assert resource_mux_luts(100, 10, 50, 20, 16, 16) == 20 * 16 * 50 / 4.0  # rf <= n_in: no accumulator logic


def test_adder_tree_width_does_not_grow_with_the_input_count() -> None:
    # nnet_dense_latency.h sums n_in products per output; balanced into a tree, half its adders add two products
    # (1 bit above a product) and the mean growth tends to 2 bits, whatever n_in: a wide layer of narrow operands
    # under a wide accum_t costs about the same LUTs per product as a narrow one (not log2(n_in) bits more)
    assert tree_mean_growth(2) == 1.0
    assert 1.9 < tree_mean_growth(561) < 2.0
    narrow_in = FixedType(1, 1, signed=False)
    small = _one(dense(16, 4, w=6, d=1), data=narrow_in)
    wide = _one(dense(512, 4, w=6, d=1), data=narrow_in)
    per_small, per_wide = small.lut / (16 * 4), wide.lut / (512 * 4)
    assert per_wide == pytest.approx(per_small, rel=0.12)
