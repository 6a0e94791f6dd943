"""Budget probabilities from an estimate's 80 % interval (dse.scoring.budgets)."""

from __future__ import annotations

import pytest

from dse.scoring.budgets import near_budget, probability_met


def test_point_on_the_bound_is_a_coin_flip() -> None:
    assert probability_met(100.0, "<=", 100.0, (46.0, 212.0)) == pytest.approx(0.5, abs=1e-9)


def test_interval_ends_are_the_10_and_90_percent_quantiles() -> None:
    assert probability_met(100.0, "<=", 212.0, (46.0, 212.0)) == pytest.approx(0.9, abs=1e-6)
    assert probability_met(100.0, "<=", 46.0, (46.0, 212.0)) == pytest.approx(0.1, abs=1e-6)
    assert probability_met(100.0, ">=", 46.0, (46.0, 212.0)) == pytest.approx(0.9, abs=1e-6)


def test_monotone_in_the_bound_and_complementary() -> None:
    ps = [probability_met(50.0, "<=", b, (30.0, 90.0)) for b in (10, 30, 50, 70, 90, 200)]
    assert ps == sorted(ps) and ps[0] < 0.01 and ps[-1] > 0.99
    for b in (10.0, 45.0, 80.0):
        assert probability_met(50.0, "<=", b, (30.0, 90.0)) + probability_met(50.0, ">", b, (30.0, 90.0)) \
            == pytest.approx(1.0)


def test_measured_figures_are_certain() -> None:
    assert probability_met(20.0, "<=", 20.0) == 1.0
    assert probability_met(21.0, "<=", 20.0) == 0.0
    assert probability_met(21.0, ">", 20.0, None) == 1.0


def test_zero_counts_are_handled() -> None:
    # 0 DSP estimated, interval 0-3: a 0-DSP budget is met with the point value's probability, not NaN.
    p = probability_met(0.0, "<=", 0.0, (0.0, 3.0))
    assert 0.4 < p <= 1.0
    assert probability_met(0.0, "<=", 10.0, (0.0, 3.0)) > 0.95


def test_near_budget() -> None:
    assert near_budget(0.5) and near_budget(0.85)
    assert not near_budget(0.95) and not near_budget(0.02)
    assert near_budget(0.85, confidence=0.9) and not near_budget(0.85, confidence=0.8)


def test_bad_op_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown comparison"):
        probability_met(1.0, "==", 1.0, (0.5, 2.0))
