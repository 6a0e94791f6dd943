"""The rules dse and cost_models state against hls4ml's own code: ReuseFactor validity and snapping (dense
and conv), ParallelizationFactor, conv output sizes and padding. Importing hls4ml costs ~1 s, so these
live with the integration tests; the rules' known values are tested in tests/unit."""

from __future__ import annotations

import random
import types

import pytest

from cost_models import is_valid_reuse_factor, snap_reuse_factor, valid_reuse_factors
from cost_models.reuse import closest_reuse_factor
from dse.design.conv_kinds import snap_parallelization_factor, valid_parallelization_factors


def _hls4ml_backend() -> types.SimpleNamespace:
    from hls4ml.backends.fpga.fpga_backend import FPGABackend

    ns = types.SimpleNamespace()
    ns._validate_reuse_factor = lambda a, b, rf: FPGABackend._validate_reuse_factor(ns, a, b, rf)
    ns.get_valid_reuse_factors = lambda a, b: FPGABackend.get_valid_reuse_factors(ns, a, b)
    ns.get_closest_reuse_factor = lambda v, c: FPGABackend.get_closest_reuse_factor(ns, v, c)
    return ns


def test_reuse_factor_rules_identical_to_hls4ml() -> None:
    pytest.importorskip("hls4ml")
    hb = _hls4ml_backend()
    rng = random.Random(1234)
    for _ in range(150):
        n_in, n_out = rng.randint(1, 80), rng.randint(1, 80)
        ref = hb.get_valid_reuse_factors(n_in, n_out)
        assert valid_reuse_factors(n_in, n_out) == ref, (n_in, n_out)
        for rf in (rng.randint(1, n_in * n_out + 5) for _ in range(5)):
            assert is_valid_reuse_factor(n_in, n_out, rf) == bool(hb._validate_reuse_factor(n_in, n_out, rf))
            assert closest_reuse_factor(ref, rf) == hb.get_closest_reuse_factor(ref, rf)
            assert snap_reuse_factor(n_in, n_out, rf) == (rf if rf in ref else hb.get_closest_reuse_factor(ref, rf))


def test_parallelization_factors_are_hls4mls() -> None:
    from hls4ml.backends import get_backend

    backend = get_backend("Vitis")
    rng = random.Random(0)
    for _ in range(300):
        h, w = rng.randint(1, 40), rng.randint(1, 40)
        assert valid_parallelization_factors(h * w) == backend.get_valid_conv_partition_splits(h, w)
        chosen = rng.randint(1, h * w + 5)
        valid = backend.get_valid_conv_partition_splits(h, w)
        expected = chosen if chosen in valid else backend.get_closest_reuse_factor(valid, chosen)
        assert snap_parallelization_factor(h * w, chosen) == expected


def test_conv_reuse_factor_validity_is_hls4mls() -> None:
    from hls4ml.backends import get_backend

    from cost_models.reuse import valid_reuse_factors

    backend = get_backend("Vitis")
    rng = random.Random(1)
    for _ in range(60):
        chan, k, dims, filt = rng.randint(1, 8), rng.randint(1, 5), rng.randint(1, 2), rng.randint(1, 16)
        n_in = chan * k ** dims
        assert valid_reuse_factors(n_in, filt) == backend.get_valid_reuse_factors(n_in, filt)


def test_conv_output_sizes_and_padding_are_hls4mls() -> None:
    from hls4ml.converters.utils import compute_padding_1d

    from dse.design.conv_kinds import conv_output

    rng = random.Random(2)
    for _ in range(500):
        n, k, s = rng.randint(1, 40), rng.randint(1, 7), rng.randint(1, 4)
        padding = rng.choice(["valid", "same"])
        if padding == "valid" and k > n:
            assert conv_output(n, k, s, padding)[0] == 0
            continue
        assert conv_output(n, k, s, padding) == compute_padding_1d(padding, n, s, k)
