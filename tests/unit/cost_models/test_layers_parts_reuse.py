from __future__ import annotations

import pytest

from cost_models import (
    FixedType,
    LayerSpec,
    UnknownPartError,
    get_part,
    layers_from_dicts,
    layers_to_dicts,
    snap_reuse_factor,
    valid_reuse_factors,
)
from tests.unit.cost_models.cm_helpers import dense, jet_model


def test_fixed_type_parse() -> None:
    assert FixedType.parse("ap_fixed<16,6>") == FixedType(16, 6)
    assert FixedType.parse("ap_ufixed<8,0,AP_RND_CONV,AP_SAT>") == FixedType(8, 0, signed=False)
    assert FixedType.parse("ap_uint<1>") == FixedType(1, 1, signed=False)
    with pytest.raises(ValueError):
        FixedType.parse("float")


def test_layer_dict_round_trip() -> None:
    layers = jet_model(w=6, rf=2)
    assert layers_from_dicts(layers_to_dicts(layers)) == layers
    with pytest.raises(ValueError, match="unknown LayerSpec field"):
        LayerSpec.from_dict({**layers[1].to_dict(), "bogus": 1})


def test_layer_validation() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        LayerSpec("x", "garnet", 1, 1, FixedType(8, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reuse_factor"):
        dense(4, 4, rf=0)


def test_parts_prefix_and_unknown() -> None:
    p = get_part("xcvu9p-flga2104-2L-e")
    assert (p.name, p.dsp, p.lut, p.bram_18k) == ("xcvu9p", 6840, 1_182_240, 4320)
    assert get_part("7z020clg400-1").name == "xc7z020"  # as vivado_synth.rpt writes it
    assert get_part("xc7a200tl-ffg1156-2L").name == "xc7a200t"
    for name in ("xcvu13p", "xcu250", "xcu50", "xczu3eg", "xc7z020", "xc7z007s", "xcku115"):
        assert get_part(name).dsp > 0
    with pytest.raises(UnknownPartError, match="known devices: .*xcvu9p") as exc:
        get_part("xc9z999")
    assert isinstance(exc.value, ValueError)


def test_snap_known_values() -> None:
    assert snap_reuse_factor(16, 64, 8) == 8
    assert snap_reuse_factor(16, 64, 100) == 128  # valid neighbours 64 and 128
    assert 100 not in valid_reuse_factors(274, 8)


def test_import_does_not_load_tensorflow_or_hls4ml(imported_in_a_fresh_interpreter: dict[str, set[str]]) -> None:
    """``import cost_models`` alone, first in a fresh interpreter (tests/conftest.py)."""
    bad = imported_in_a_fresh_interpreter["cost_models"] & {"tensorflow", "hls4ml", "keras", "qkeras"}
    assert not bad, f"importing cost_models loaded {sorted(bad)}"
