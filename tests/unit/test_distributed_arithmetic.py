"""Distributed arithmetic: the space file's strategy and its limits, the hls4ml key, the cost rule,
and the Yosys report reader (pure parts; the real tools run in tests/integration/test_yosys_backend.py)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import yaml

from cost_models import FixedType, LayerSpec, Target, estimate
from cost_models.distributed_arithmetic import (
    DA_CONSTANTS,
    da_layer_features,
    estimate_da_layer,
    estimate_da_network,
    expected_csd_digits,
    levels_per_cycle,
)
from cost_models.weights import summarize_weights
from dse.commands.cli import main
from dse.commands.export import is_da_design
from dse.design.candidate import Candidate
from dse.errors import ConfigError
from dse.space import load_space, parse_space_text
from dse.synthesis.open_tools import parse_yosys_stat, yosys_family, yosys_script
from dse.synthesis.yosys_backend import da_strategy_layers
from tests.helpers import quickstart_dict

ROOT = Path(__file__).resolve().parents[2]
DA = "distributed_arithmetic"


def quickstart() -> dict:
    return quickstart_dict()


# --------------------------------------------------------------------------- the space file


def test_da_is_a_searchable_strategy_written_with_hls4mls_own_key() -> None:
    d = quickstart()
    d["hardware"].update(strategy=["latency", DA], reuse_factor=1)
    space = parse_space_text(yaml.safe_dump(d))
    assert space.hardware.strategy.values() == ["latency", DA]
    cand = Candidate.mlp(widths=(8,), weight_bits=(4, 4), bias_bits=(4, 4), activation_bits=(6,), sparsity=(0, 0),
                     reuse_factor=(1, 1), strategy=DA, learning_rate=0.01)
    cfg = cand.to_hls_config(space)
    assert cfg["Model"]["Strategy"] == DA and cfg["LayerName"]["fc0"]["Strategy"] == DA
    assert Candidate.from_hls_config(cfg, cand).strategy == DA
    assert da_strategy_layers(cfg) == []
    latency = dataclasses.replace(cand, strategy="latency").to_hls_config(space)
    assert latency["LayerName"]["fc0"]["Strategy"] == "Latency"
    assert sorted(da_strategy_layers(latency)) == ["fc0", "out"]
    assert is_da_design(cfg) and not is_da_design(latency)  # exports carry the Verilog of DA designs only


@pytest.mark.parametrize("reuse", [[1, 2], 4, {"low": 1, "high": 4}])
def test_da_with_a_reuse_factor_other_than_1_is_refused_with_file_line_and_key(tmp_path: Path, capsys,
                                                                                reuse: object) -> None:
    d = quickstart()
    d["hardware"].update(strategy=["latency", DA], reuse_factor=reuse)
    path = tmp_path / "space.yaml"
    text = yaml.safe_dump(d, sort_keys=False)
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_space(path)
    assert err.value.path == "hardware.reuse_factor" and "ReuseFactor 1" in str(err.value), str(err.value)
    assert err.value.line is not None and "reuse_factor" in text.splitlines()[err.value.line - 1]
    assert main(["validate", str(path)]) == 2
    assert f"{path}:{err.value.line}: hardware.reuse_factor:" in capsys.readouterr().err


def test_latency_and_resource_keep_any_reuse_factor() -> None:
    d = quickstart()
    d["hardware"].update(strategy=["latency", "resource"], reuse_factor=[1, 2, 4])
    assert parse_space_text(yaml.safe_dump(d)).hardware.reuse_factor.values() == [1, 2, 4]


# --------------------------------------------------------------------------- the cost rule


def da_layers(n_in: int, n_out: int, bits: int, n_zeros: int = 0, weights=None, strategy: str = DA) -> list[LayerSpec]:
    return [LayerSpec("input", "input", n_in, n_in, FixedType(8, 3, False)),
            LayerSpec("fc0", "dense", n_in, n_out, FixedType(24, 10), weight=FixedType(bits, 1), n_zeros=n_zeros,
                      strategy=strategy, weights=weights),  # type: ignore[arg-type]
            LayerSpec("relu0", "activation", n_out, n_out, FixedType(8, 3, False), activation="relu")]


def test_expected_csd_digits_by_enumeration() -> None:
    # 2-bit non-zero integers -2, -1, 1: one digit each; 3-bit: |v| in 1..4 and 3 = 4 - 1 has two digits
    assert expected_csd_digits(2) == 1.0
    assert expected_csd_digits(3) == pytest.approx((1 + 1 + 2 + 1 + 1 + 1 + 2) / 7)
    assert expected_csd_digits(8) > expected_csd_digits(4) > expected_csd_digits(2)


def test_da_rule_no_dsp_ii_1_and_grows_with_work() -> None:
    target = Target("xcvu9p-flga2104-2L-e", 5.0, "yosys")
    small = estimate(da_layers(16, 16, 3), target)
    wide = estimate(da_layers(32, 32, 6), target)
    sparse = estimate(da_layers(32, 32, 6, n_zeros=768), target)
    for e in (small, wide, sparse):
        assert e.dsp == 0 and e.ii == 1 and e.lut > 0 and e.ff > 0 and e.latency_cycles >= 1
    assert wide.lut > sparse.lut > 0 and wide.lut > small.lut
    # a faster clock cuts the same adder graph into more stages
    fast = estimate(da_layers(32, 32, 6), Target("xcvu9p-flga2104-2L-e", 2.0, "yosys"))
    assert fast.latency_cycles >= wide.latency_cycles
    assert levels_per_cycle(2.0) == 2 and levels_per_cycle(0.5) == 1


def test_trained_weights_replace_the_expected_digits() -> None:
    import numpy as np

    w = np.zeros((16, 8))
    w[::2, :] = 0.5  # powers of two: one CSD digit each, half the weights zero
    stats = summarize_weights(w, FixedType(6, 1), 16, 8)
    f = da_layer_features(da_layers(16, 8, 6, n_zeros=64, weights=stats)[1], FixedType(8, 3, False))
    assert f.digits == 64 and f.n_nonzero == 64
    before = da_layer_features(da_layers(16, 8, 6, n_zeros=64)[1], FixedType(8, 3, False))
    assert before.digits == pytest.approx(64 * expected_csd_digits(6))
    assert estimate_da_layer(f, 5.0)["lut"] < estimate_da_layer(before, 5.0)["lut"]


def test_da4ml_solution_on_the_layer_is_used_when_present() -> None:
    layer = da_layers(16, 8, 6)[1]
    solved = LayerSpec(**{**layer.__dict__, "extra": {"da_cost": "1000", "da_adder_levels": "12"}})
    f = da_layer_features(solved, FixedType(8, 3, False), FixedType(8, 3, False))
    est = estimate_da_layer(f, 5.0, DA_CONSTANTS)
    levels = 12 + DA_CONSTANTS.relu_levels  # da4ml's levels of the product, plus the ReLU's rounding
    assert est["adder_levels"] == levels and est["latency_cycles"] == math.ceil(levels / 5)
    assert est["lut"] == pytest.approx(DA_CONSTANTS.lut_per_cost * 1000 + DA_CONSTANTS.lut_per_out_bit * 8 * 8)


def test_network_levels_add_up_along_the_layers() -> None:
    one = estimate_da_network(da_layers(16, 16, 4), 5.0)
    two = da_layers(16, 16, 4) + [LayerSpec("out", "dense", 16, 4, FixedType(24, 10), weight=FixedType(4, 1),
                                            strategy=DA)]
    both = estimate_da_network(two, 5.0)
    assert both["lut"] > one["lut"] and both["latency_cycles"] >= one["latency_cycles"]


def test_mixed_strategies_are_refused_by_the_da_rule() -> None:
    layers = da_layers(8, 8, 4) + [LayerSpec("out", "dense", 8, 2, FixedType(16, 6), weight=FixedType(4, 1))]
    with pytest.raises(ValueError, match="same strategy"):
        estimate(layers, Target("xcvu9p", 5.0, "yosys"))


# --------------------------------------------------------------------------- Yosys reports

STAT = """
12. Printing statistics.

=== dse_net ===

        +----------Local Count, excluding submodules.
        |
    20828 wires
       25 public wires
     2402 public wire bits
        3 ports
    14229 cells
      560   $scopeinfo
        1   BUFG
     1594   CARRY4
     2050   FDRE
        6   FDSE
      257   IBUF
       46   INV
     4394   LUT2
     2314   LUT3
      946   LUT4
     1393   LUT5
      597   LUT6
        1   MUXF7
       70   OBUF
        2   DSP48E2
        1   RAMB36E2
        1   RAMB18E2
        4   SRL16E
"""


def test_yosys_stat_is_read_into_record_keys(tmp_path: Path) -> None:
    path = tmp_path / "stat.txt"
    path.write_text(STAT)
    m = parse_yosys_stat(path)
    assert m["lut"] == 4394 + 2314 + 946 + 1393 + 597 + 4
    assert (m["ff"], m["carry"], m["dsp"], m["bram_18k"]) == (2056, 1594, 2, 3)
    assert m["cell_INV"] == 46 and "cell_wires" not in m
    path.write_text("Yosys crashed\n")
    with pytest.raises(ValueError, match="no cell counts"):
        parse_yosys_stat(path)


def test_yosys_family_and_script() -> None:
    from dse.synthesis.open_tools import RtlDesign

    assert yosys_family("xc7z020clg400-1") == "xc7" and yosys_family("xcku115-flvb2104-2-e") == "xcu"
    assert yosys_family("xcvu9p-flga2104-2L-e") == "xcup"
    design = RtlDesign("/x", "dse_net", 3, 100, 50.0, 11.0, ("src/static/shift_adder.v", "src/dse_net.v"))
    ys = yosys_script(design, "xc7a35t")
    assert "read_verilog -defer src/static/shift_adder.v src/dse_net.v" in ys
    assert "hierarchy -top dse_net" in ys and "synth_xilinx -flatten -family xc7" in ys
    assert "tee -q -o stat.txt stat" in ys and "/x" not in ys.split("\n", 1)[1]  # relative paths only
