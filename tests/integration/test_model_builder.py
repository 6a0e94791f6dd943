"""The QKeras model has the requested widths, quantizers and sparsity; the layer list is hls4ml's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from dse.design.candidate import Candidate
from dse.space import parse_space_text
from tests.helpers import quickstart_dict

pytestmark = pytest.mark.slow  # imports TensorFlow and builds QKeras models

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def space():
    d = quickstart_dict()
    d["training"]["epochs"] = 4
    d["training"]["early_stopping"] = False
    d["data"]["max_samples"] = 600
    return parse_space_text(yaml.safe_dump(d))


@pytest.fixture(scope="module")
def data(space):
    from dse.training.data import load_dataset

    return load_dataset(space.data)


CAND = Candidate.mlp(widths=(24, 12), weight_bits=(4, 6, 8), bias_bits=(5, 6, 8), activation_bits=(5, 7),
                     sparsity=(0.75, 0.5, 0.0), reuse_factor=(3, 2, 1), strategy="latency", learning_rate=0.01)


def test_model_has_requested_widths_and_quantizers(space) -> None:
    from dse.training.model_builder import build_model

    model = build_model(CAND, space, input_shape=64, n_classes=10)
    dense = [model.get_layer(n) for n in CAND.weighted_names]
    assert [layer.units for layer in dense] == [24, 12, 10]
    for layer, wb, bb in zip(dense, CAND.values("weight_bits"), CAND.values("bias_bits"), strict=True):
        kq = layer.kernel_quantizer_internal
        bq = layer.bias_quantizer_internal
        assert (kq.bits, kq.integer, kq.alpha) == (wb, space.quantization.weight_integer_bits, 1)
        assert (bq.bits, bq.integer) == (bb, space.quantization.weight_integer_bits)
    for i, ab in enumerate(CAND.values("activation_bits")):
        q = model.get_layer(f"relu{i}").quantizer
        assert type(q).__name__ == "quantized_relu"
        assert (q.bits, q.integer) == (ab, space.quantization.activation_integer_bits)
    assert model.get_layer("out_act").get_config()["activation"] == "softmax"


def test_binary_and_ternary_weights(space) -> None:
    from dse.training.model_builder import build_model

    cand = Candidate.mlp(widths=(8,), weight_bits=("binary", "ternary"), bias_bits=(4, 4), activation_bits=(4,),
                         sparsity=(0, 0), reuse_factor=(1, 1), strategy="latency", learning_rate=0.01)
    model = build_model(cand, space, 64, 10)
    assert type(model.get_layer("fc0").kernel_quantizer_internal).__name__ == "binary"
    assert type(model.get_layer("out").kernel_quantizer_internal).__name__ == "ternary"


@pytest.mark.slow
def test_training_reaches_target_sparsity_and_hls4ml_sees_it(space, data) -> None:
    from dse.design.hls4ml_adapter import layers_from_keras
    from dse.training.train import train_candidate
    from dse.training.trial_runner import space_target

    result = train_candidate(CAND, space, data, seed=3)
    assert not any("prune" in layer.name for layer in result.model.layers)  # wrappers stripped
    for name, target in zip(CAND.weighted_names, CAND.sparsity, strict=True):
        kernel = result.model.get_layer(name).get_weights()[0]
        zero_fraction = float(np.mean(kernel == 0))
        assert zero_fraction >= target - 0.01, (name, zero_fraction, target)
        assert result.weight_sparsity[name] >= zero_fraction - 1e-9  # quantization only adds zeros
    assert 0.0 <= result.val_accuracy <= 1.0 and result.epochs_run == 4

    layers = layers_from_keras(result.model, CAND.to_hls_config(space), space_target(space))
    dense = [spec for spec in layers if spec.kind == "dense"]
    assert [(s.n_in, s.n_out) for s in dense] == [(64, 24), (24, 12), (12, 10)]
    for spec, name, wb in zip(dense, CAND.weighted_names, CAND.values("weight_bits"), strict=True):
        assert spec.weight is not None and spec.weight.width == wb
        # hls4ml counts the zeros of the quantized weights: the measured sparsity
        assert spec.n_zeros == round(result.weight_sparsity[name] * spec.n_in * spec.n_out)
    # latency strategy keeps the ReuseFactor as given
    assert [s.reuse_factor for s in dense] == list(CAND.values("reuse_factor"))
    acts = [s for s in layers if s.kind == "activation"]
    assert [(s.result.width, s.result.signed) for s in acts] == [(5, False), (7, False)]


@pytest.mark.slow
def test_resource_strategy_snaps_reuse_factor_like_hls4ml(space) -> None:
    import hls4ml

    from dse.design.hls4ml_adapter import layers_from_keras
    from dse.training.model_builder import build_model
    from dse.training.trial_runner import space_target

    cand = Candidate.mlp(widths=(24,), weight_bits=(8, 8), bias_bits=(8, 8), activation_bits=(8,), sparsity=(0, 0),
                         reuse_factor=(7, 13), strategy="resource", learning_rate=0.01)
    model = build_model(cand, space, 64, 10)
    layers = layers_from_keras(model, cand.to_hls_config(space), space_target(space))
    backend = hls4ml.backends.get_backend("Vitis")
    for spec, rf in zip([s for s in layers if s.kind == "dense"], cand.values("reuse_factor"), strict=True):
        valid = backend.get_valid_reuse_factors(spec.n_in, spec.n_out)
        assert spec.reuse_factor == backend.get_closest_reuse_factor(valid, rf)
        assert spec.strategy == "resource"
