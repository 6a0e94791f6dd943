"""Trained-weight summaries (CSD digits) and the rules that use them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cost_models import Calibration, LayerSpec, Target, estimate
from cost_models.analytic import LayerContext, estimate_layer
from cost_models.hls_project import attach_weight_stats, parse_define_constants, parse_parameters_h
from cost_models.layers import FixedType
from cost_models.parts import get_part
from cost_models.weights import csd_digits, quantize, summarize_weights
from tests.unit.cost_models.cm_helpers import TARGET, dense, jet_model, with_weights

VU9P = get_part("xcvu9p")


def _one(layer: LayerSpec, clock: float = 5.0):  # noqa: ANN202
    return estimate_layer(layer, LayerContext(VU9P, clock, layer.input or FixedType(16, 6)))[0]


def test_csd_digits_hand_cases() -> None:
    cases = {0: 0, 1: 1, 2: 1, 3: 2, 7: 2, 11: 3, -11: 3, 5: 2, 15: 2, 85: 4, 255: 2, 0b1011011: 4}
    assert list(csd_digits(list(cases))) == list(cases.values())


def test_quantize_follows_ap_fixed() -> None:
    t = FixedType(8, 1)  # 7 fractional bits
    assert list(quantize([0.5, -0.25, 0.0078125, -0.001, 0.99], t)) == [64, -32, 1, -1, 126]  # AP_TRN floors
    assert list(quantize([-0.001, 0.0039], t, rounding="RND")) == [0, 0]
    assert list(quantize([1.5], t, overflow="SAT")) == [127]


def test_power_of_two_weights_at_16_bits_use_no_dsp() -> None:
    rng = np.random.default_rng(0)
    vals = rng.choice([0.5, -0.25, 0.125, -0.0625, 1.0, 0.03125], size=32 * 16)
    layer = with_weights(dense(32, 16, w=16, d=16), list(vals))
    assert layer.weights is not None and layer.weights.count_at_least(2, unique=False) == 0
    assert _one(layer).dsp == 0
    assert estimate([layer], TARGET, Calibration()).dsp == 0


def test_dsp_falls_as_weights_get_fewer_digits() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(0.0, 0.3, size=(16, 32))
    dsps = []
    for bits in (12, 10, 8, 6, 4, 3):
        # QKeras-like: quantize the same trained values to fewer bits (fewer CSD digits)
        step = 2.0 ** -(bits - 1)
        vals = np.clip(np.round(base / step) * step, -1, 1 - step)
        dsps.append(_one(with_weights(dense(16, 32, w=16, d=16), list(vals.ravel()))).dsp)
    assert dsps == sorted(dsps, reverse=True) and dsps[0] > 0 and dsps[-1] == 0


def test_slower_clock_fewer_cycles_and_registers() -> None:
    model = jet_model(w=8)
    fast = estimate(model, dataclasses.replace(TARGET, clock_period_ns=3.33), Calibration())
    slow = estimate(model, dataclasses.replace(TARGET, clock_period_ns=10.0), Calibration())
    assert slow.latency_cycles < fast.latency_cycles
    assert slow.ff < fast.ff


def test_weight_stats_round_trip_in_layer_dict() -> None:
    layer = with_weights(dense(4, 3, w=8), [0.5, 0.375, -0.875, 0.1, 0.0, 0.75, 0.25, -0.5, 0.3, 0.2, 0.1, 0.6])
    assert LayerSpec.from_dict(layer.to_dict()) == layer
    assert layer.to_dict()["weights"]["n_nonzero"] == 11


def test_estimate_says_when_weights_are_known() -> None:
    plain = dense(8, 4, w=8)
    known = with_weights(plain, [0.25] * 32)
    assert estimate([known], TARGET).weights_known
    est = estimate([plain], TARGET)
    assert not est.weights_known and any("weight type alone" in n for n in est.notes)


def test_summary_from_hls4ml_txt_files(tmp_path) -> None:  # noqa: ANN001
    # The same values written as hls4ml writes them (comma-separated, 10 decimals) give the same summary.
    rng = np.random.default_rng(2)
    vals = rng.normal(0.0, 0.4, size=(6, 5))
    t = FixedType(8, 2)
    (tmp_path / "w2.txt").write_text(", ".join(f"{v:.10f}" for v in vals.ravel()))
    layer = LayerSpec("config2", "dense", 6, 5, FixedType(16, 6), weight=t)
    got = attach_weight_stats([layer], tmp_path)[0].weights
    assert got == summarize_weights(vals, t, 6, 5)


def test_parameters_h_sizes_through_defines() -> None:
    params = """
struct config2 : nnet::dense_config {
    static const unsigned n_in = N_INPUT_1_1;
    static const unsigned n_out = N_LAYER_2 * 2;
    static const unsigned reuse_factor = 1;
};
"""
    structs = parse_parameters_h(params, {}, parse_define_constants("#define N_INPUT_1_1 16\n#define N_LAYER_2 32\n"))
    assert structs[0]["n_in"] == 16 and structs[0]["n_out"] == 64


def test_unknown_tool_family_from_backend() -> None:
    est = estimate(jet_model(w=8), Target(part="xcvu9p", backend="vivado"), Calibration())
    assert est.tool_family == "vivado_hls"
    assert estimate(jet_model(w=8), Target(part="xcvu9p", tool_version="2023.2"), Calibration()).tool_family \
        == "vitis_hls"


@pytest.mark.parametrize("clock", [2.5, 5.0, 10.0])
def test_latency_cycles_times_clock_shrink_gracefully(clock: float) -> None:
    est = estimate(jet_model(w=8), dataclasses.replace(TARGET, clock_period_ns=clock), Calibration())
    assert est.latency_cycles >= 1 and est.latency_ns == pytest.approx(est.latency_cycles * clock)


def test_weight_stats_buckets_and_pickle() -> None:
    """The derived non-empty buckets follow the histograms, and survive a pickle (unpickling recomputes them)."""
    import pickle

    from cost_models.weight_stats import WeightStats

    s = WeightStats(9, (1, 0, 5, 0, 0, 0, 0, 3), (1, 0, 2, 0, 0, 0, 0, 3), 7, 4.5)
    assert s.buckets == ((0, 1, 0), (2, 2, 3), (7, 3, 0))
    back = pickle.loads(pickle.dumps(s))
    assert back == s and back.buckets == s.buckets
    assert WeightStats.from_dict(s.to_dict()).buckets == s.buckets
