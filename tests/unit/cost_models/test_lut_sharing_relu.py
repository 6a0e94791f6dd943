"""LUT rules of issue 17 (held-out MLP LUT): forced-fabric products under a binding ALLOCATION limit, and ReLUs
that keep their input type."""

from __future__ import annotations

import dataclasses

import pytest

from cost_models import Calibration, LayerSpec, Target, estimate
from cost_models.analytic import (
    RELU_LUT_FACTOR,
    RELU_PASS_DATAFLOW_LUT_PER_BIT,
    RELU_PASS_LUT_PER_BIT,
    LayerContext,
    estimate_layer,
)
from cost_models.layers import FixedType
from cost_models.parts import get_part
from tests.unit.cost_models.cm_helpers import dense

Z7 = get_part("xc7z020")


def _lut(layer: LayerSpec) -> float:
    return estimate_layer(layer, LayerContext(Z7, 5.0, layer.input or FixedType(16, 6)))[0].lut


def test_forced_fabric_products_share_the_allocation_limit() -> None:
    # 8-bit weights x 8-bit data at RF 100: hls4ml's multiplier_limit (ceil(2048 / 100) = 21) binds, so the
    # hard products share 21 fabric multipliers as the auto binding shares 21 DSPs; at RF 1 nothing is shared
    def pair(rf: int) -> tuple[float, float]:
        return (_lut(dense(64, 32, w=8, d=8, rf=rf, mult_impl="lut")),
                _lut(dense(64, 32, w=8, d=8, rf=rf)))
    lut1, auto1 = pair(1)
    lut100, auto100 = pair(100)
    assert lut1 > 1.2 * auto1  # every product in LUTs costs more than with the hard ones on DSPs
    assert lut100 < 0.85 * lut1  # the shared fabric multipliers replace the per-product ones
    assert auto100 < lut100 < 1.15 * auto100  # ... and cost about what the DSP twin's LUTs cost
    # RF 2: the limit (1024) does not bind, nothing is shared
    assert _lut(dense(64, 32, w=8, d=8, rf=2, mult_impl="lut")) == pytest.approx(lut1, rel=0.05)


def test_relu_that_keeps_its_type_is_a_select() -> None:
    t = FixedType(16, 6)
    same = LayerSpec("r", "activation", 64, 64, t, activation="relu", input=t)
    narrowed = dataclasses.replace(same, result=FixedType(8, 1, False))
    assert _lut(same) == pytest.approx(64 * 16 * RELU_PASS_LUT_PER_BIT)
    assert _lut(narrowed) == pytest.approx(64 * (16 + 2 * 8) * RELU_LUT_FACTOR)
    stream = dataclasses.replace(same, io_type="io_stream")
    assert _lut(stream) == pytest.approx(64 * 48 * RELU_LUT_FACTOR)  # io_stream keeps the general rule


def test_relu_pass_under_dataflow() -> None:
    # a Resource-strategy dense makes the io_parallel design DATAFLOW: the ReLU process costs more per bit
    t = FixedType(16, 6)
    target = Target(part="xcu250-figd2104-2L-e", clock_period_ns=5.0, backend="vivado", tool_version="2020.1")

    def model(strategy: str) -> list[LayerSpec]:
        return [LayerSpec("input", "input", 16, 16, t),
                dataclasses.replace(dense(16, 32, w=8, rf=4, strategy=strategy), input=t),
                LayerSpec("relu", "activation", 32, 32, t, activation="relu", input=t),
                dataclasses.replace(dense(32, 5, w=8, rf=4, strategy=strategy, name="fc2"), input=t)]
    rows = {s: {r.name: r for r in estimate(model(s), target, Calibration()).layers} for s in ("latency", "resource")}
    assert rows["latency"]["relu"].lut == pytest.approx(32 * 16 * RELU_PASS_LUT_PER_BIT)
    assert rows["resource"]["relu"].lut == pytest.approx(32 * 16 * RELU_PASS_DATAFLOW_LUT_PER_BIT)
