"""Helpers shared by the cost_models tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cost_models.layers import FixedType, LayerSpec, Target
from cost_models.weights import summarize_weights

# repo root is parents[3] of this file; the shared data lives next to the repo
SHARED_REPORTS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "hls4ml_reports"


def dense(n_in: int, n_out: int, *, w: int = 16, d: int = 16, rf: int = 1, zeros: int = 0,
          strategy: str = "latency", mult_impl: str = "auto", name: str = "fc") -> LayerSpec:
    return LayerSpec(name=name, kind="dense", n_in=n_in, n_out=n_out, result=FixedType(16, 6),
                     weight=FixedType(w, 1), bias=FixedType(w, 1), accum=FixedType(16, 6), n_zeros=zeros,
                     reuse_factor=rf, strategy=strategy, input=FixedType(d, 2), mult_impl=mult_impl)  # type: ignore[arg-type]


def with_weights(layer: LayerSpec, values: list[float]) -> LayerSpec:
    """``layer`` with the CSD summary of ``values`` (input-major, quantized to its weight type)."""
    assert layer.weight is not None
    return dataclasses.replace(layer, weights=summarize_weights(values, layer.weight, layer.n_in, layer.n_out))


def jet_model(w: int = 16, rf: int = 1, zeros: tuple[int, ...] = (0, 0, 0, 0)) -> list[LayerSpec]:
    """The 16-64-32-32-5 jet tagging MLP with ReLUs and a softmax."""
    sizes = [(16, 64), (64, 32), (32, 32), (32, 5)]
    layers: list[LayerSpec] = [LayerSpec("input", "input", 16, 16, FixedType(16, 6))]
    for i, ((a, b), z) in enumerate(zip(sizes, zeros, strict=True)):
        layers.append(LayerSpec(f"fc{i}", "dense", a, b, FixedType(16, 6), weight=FixedType(w, 1),
                                bias=FixedType(w, 1), accum=FixedType(16, 6), n_zeros=z, reuse_factor=rf))
        if i < 3:
            layers.append(LayerSpec(f"relu{i}", "activation", b, b, FixedType(16, 6), activation="relu"))
    layers.append(LayerSpec("softmax", "softmax", 5, 5, FixedType(16, 6), activation="softmax",
                            table_size=1024, table=FixedType(18, 8)))
    return layers


TARGET = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2021.1")
