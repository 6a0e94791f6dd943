"""Issue 17 (held-out MLP LUT): a Latency dense whose products are forced into fabric shares hls4ml's
``multiplier_limit`` fabric multipliers when the ALLOCATION limit binds, as the auto binding shares DSPs."""

from __future__ import annotations

import pytest

from cost_models import LayerSpec
from cost_models.analytic import LayerContext, estimate_layer, multiplier_limit
from cost_models.layers import FixedType
from cost_models.parts import get_part
from tests.unit.cost_models.cm_helpers import dense, with_weights

Z7 = get_part("xc7z020")


def _lut(layer: LayerSpec) -> float:
    return estimate_layer(layer, LayerContext(Z7, 5.0, layer.input or FixedType(16, 6)))[0].lut


def test_forced_fabric_products_share_the_allocation_limit() -> None:
    # 8-bit weights x 8-bit data at RF 100: multiplier_limit = ceil(2048 / 100) = 21 binds, so the hard
    # products share 21 fabric multipliers as the auto binding shares 21 DSPs; at RF 1 nothing is shared
    assert multiplier_limit(64, 32, 0, 100) == 21
    lut1, auto1 = _lut(dense(64, 32, w=8, d=8, mult_impl="lut")), _lut(dense(64, 32, w=8, d=8))
    lut100, auto100 = (_lut(dense(64, 32, w=8, d=8, rf=100, mult_impl="lut")),
                       _lut(dense(64, 32, w=8, d=8, rf=100)))
    assert lut1 > 1.2 * auto1  # every product in LUTs costs more than with the hard ones on DSPs
    assert lut100 < 0.85 * lut1  # 21 shared fabric multipliers replace the per-product ones
    assert auto100 < lut100 < 1.15 * auto100  # ... and cost about what the DSP twin's LUTs cost
    # RF 2: the limit (1024) does not bind, nothing is shared
    assert _lut(dense(64, 32, w=8, d=8, rf=2, mult_impl="lut")) == pytest.approx(lut1, rel=0.05)


def test_forced_fabric_without_hard_constants_is_unchanged_by_the_limit() -> None:
    # weights of one or two signed digits are shift-adds, not ``mul`` operations: the limit never binds
    vals = [0.5, -0.25, 0.75, 0.375, 0.0, -0.125, 0.625, 0.25] * 4
    layer = with_weights(dense(8, 4, w=8, d=8, mult_impl="lut"), vals)
    slow = with_weights(dense(8, 4, w=8, d=8, rf=32, mult_impl="lut"), vals)
    assert _lut(slow) == pytest.approx(_lut(layer))
