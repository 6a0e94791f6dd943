"""``estimate`` gives bit-identical results to the recorded ones on ~50 seeded jet-MLP and LeNet-sized CNN candidates.

The fixture ``data/estimate_identity.json`` was written by the code before the speed work (issue 17):
every field of every ``Estimate`` (totals, intervals, per-layer rows, notes) as exact floats. A change that
only makes ``estimate`` faster must keep it equal. Regenerate (only after an intended change of results):
``python tests/unit/cost_models/test_estimate_identity.py --write``.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cost_models import Calibration, ConvGeometry, FixedType, LayerSpec, Target, estimate
from cost_models.weights import summarize_weights

FIXTURE = Path(__file__).parent / "data" / "estimate_identity.json"
TARGETS = [
    Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2021.1"),
    Target(part="xc7z020clg400-1", clock_period_ns=10.0, backend="vivado", tool_version="2019.2"),
    Target(part="xcu250-figd2104-2L-e", clock_period_ns=3.0, backend="vitis", tool_version=None),
    Target(part="xczu7ev-ffvc1156-2-e", clock_period_ns=5.0, backend="vivado", tool_version="2020.1",
           legacy_hls4ml=True),
]


def _jet(rng: random.Random) -> list[LayerSpec]:
    w = rng.randint(2, 16)
    rf = rng.choice([1, 2, 4, 8, 64, 128])
    strategy = rng.choice(["latency", "resource"])
    io = rng.choice(["io_parallel", "io_parallel", "io_stream"])
    data = FixedType(rng.randint(8, 18), 6)
    layers = [LayerSpec("input", "input", 16, 16, data, io_type=io)]
    for i, (a, b) in enumerate([(16, 64), (64, 32), (32, 32), (32, 5)]):
        layers.append(LayerSpec(f"fc{i}", "dense", a, b, data, weight=FixedType(w, 1), bias=FixedType(w, 1),
                                accum=FixedType(rng.randint(12, 24), 6), n_zeros=rng.randint(0, a * b // 2),
                                reuse_factor=rf, strategy=strategy, io_type=io,
                                mult_impl=rng.choice(["auto", "auto", "dsp", "lut"])))
        if i < 3:
            layers.append(LayerSpec(f"relu{i}", "activation", b, b, FixedType(w, 0, False), activation="relu",
                                    io_type=io))
    layers.append(LayerSpec("softmax", "softmax", 5, 5, FixedType(16, 6), activation="softmax", table_size=1024,
                            io_type=io))
    return layers


def _lenet(rng: random.Random) -> list[LayerSpec]:
    w = rng.randint(3, 10)
    io = rng.choice(["io_parallel", "io_stream"])
    rf = rng.choice([1, 2, 4])
    data = FixedType(w + 4, 4)
    act = FixedType(w, 0, False)
    strategy = rng.choice(["latency", "resource"])

    def conv(name: str, size: int, c: int, nf: int, pfs: list[int]) -> LayerSpec:
        out = size - 4
        g = ConvGeometry(in_width=size, in_height=size, n_chan=c, filt_width=5, filt_height=5, n_filt=nf,
                         out_width=out, out_height=out)
        n_in = 25 * c
        return LayerSpec(name, "conv2d", n_in, nf, data, weight=FixedType(w, 1), bias=FixedType(w, 1),
                         accum=FixedType(2 * w + 8, 10), n_zeros=rng.randint(0, n_in * nf // 2), reuse_factor=rf,
                         io_type=io, conv=g, strategy=strategy,
                         parallelization_factor=rng.choice(pfs) if io == "io_parallel" else 1)

    def pool(name: str, size: int, c: int) -> LayerSpec:
        g = ConvGeometry(in_width=size, in_height=size, n_chan=c, filt_width=2, filt_height=2, n_filt=c,
                         out_width=size // 2, out_height=size // 2, stride_width=2, stride_height=2)
        return LayerSpec(name, "pooling2d", size * size * c, size * size * c // 4, act, io_type=io, conv=g,
                         pool_op=rng.choice(["max", "average"]))

    def relu(name: str, n: int) -> LayerSpec:
        return LayerSpec(name, "activation", n, n, act, activation="relu", io_type=io)

    def fc(name: str, a: int, b: int) -> LayerSpec:
        return LayerSpec(name, "dense", a, b, data, weight=FixedType(w, 1), bias=FixedType(w, 1),
                         accum=FixedType(2 * w + 8, 10), n_zeros=rng.randint(0, a * b // 2), reuse_factor=rf,
                         io_type=io, strategy=strategy)

    return [LayerSpec("input", "input", 784, 784, FixedType(8, 0, False), io_type=io),
            conv("conv1", 28, 1, 6, [1, 2, 4, 8]), relu("relu1", 24 * 24 * 6), pool("pool1", 24, 6),
            conv("conv2", 12, 6, 16, [1, 2, 4]), relu("relu2", 8 * 8 * 16), pool("pool2", 8, 16),
            LayerSpec("flatten", "flatten", 256, 256, act, io_type=io),
            fc("fc1", 256, 120), relu("relu3", 120), fc("fc2", 120, 84), relu("relu4", 84), fc("fc3", 84, 10),
            LayerSpec("softmax", "softmax", 10, 10, FixedType(16, 6), activation="softmax", table_size=1024,
                      io_type=io)]


def _with_weights(layers: list[LayerSpec], seed: int) -> list[LayerSpec]:
    rng = np.random.default_rng(seed)
    out = []
    for s in layers:
        if s.kind in ("dense", "conv2d") and s.weight is not None:
            w = rng.normal(0, 0.3, size=(s.n_in, s.n_out))
            w.flat[rng.choice(w.size, s.n_zeros, replace=False)] = 0.0
            s = dataclasses.replace(s, weights=summarize_weights(w, s.weight, s.n_in, s.n_out))
        out.append(s)
    return out


def cases() -> list[tuple[list[LayerSpec], Target, Calibration | None]]:
    """26 jet and 26 CNN candidates over 4 targets, with and without trained-weight summaries, with the
    shipped prior and with an empty calibration."""
    rng = random.Random(1717)
    out: list[tuple[list[LayerSpec], Target, Calibration | None]] = []
    for i in range(52):
        layers = _jet(rng) if i % 2 == 0 else _lenet(rng)
        if i % 4 < 2:
            layers = _with_weights(layers, i)
        out.append((layers, TARGETS[(i // 2) % len(TARGETS)], None if i % 3 else Calibration()))
    return out


def snapshot(layers: list[LayerSpec], target: Target, calibration: Calibration | None) -> Any:
    """Every field of the estimate, JSON round-tripped (floats exact: ``json`` writes ``repr``)."""
    return json.loads(json.dumps(dataclasses.asdict(estimate(layers, target, calibration=calibration))))


def test_estimates_are_bit_identical_to_the_recorded_ones() -> None:
    expected = json.loads(FIXTURE.read_text())
    got = [snapshot(*c) for c in cases()]
    assert len(got) == len(expected) == 52
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g == e, f"case {i}: estimate changed"


def test_repeated_estimates_are_identical() -> None:
    """Caches inside ``estimate`` must not leak state between calls: the same call twice, interleaved."""
    cs = cases()[:8]
    first = [snapshot(*c) for c in cs]
    second = [snapshot(*c) for c in reversed(cs)][::-1]
    assert first == second


if __name__ == "__main__" and "--write" in sys.argv:
    FIXTURE.write_text(json.dumps([snapshot(*c) for c in cases()], indent=0) + "\n")
    print(f"wrote {FIXTURE}")
