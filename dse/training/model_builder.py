"""Candidate → QKeras model (and its pruning wrappers). Imports TensorFlow/QKeras when called.

Each layer of the candidate builds itself (``DesignLayer.build_qkeras``, ``dse.design.layer_kinds``)
under the name the candidate gives it (for the MLP ``fc{i}`` + ``relu{i}`` per hidden layer, then
``out`` and ``out_act``). Weights use ``quantized_bits(bits, integer, alpha=1)`` (or QKeras
``binary``/``ternary``), activations ``quantized_relu(bits, integer)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dse.design.candidate import Candidate
from dse.design.hls4ml_adapter import custom_objects
from dse.design.layer_kinds import weight_quantizer
from dse.design.prebuild import check_shapes
from dse.space import SpaceConfig

__all__ = ["apply_pruning", "build_model", "custom_objects", "pruning_done_epoch", "pruning_schedule", "strip_pruning",
           "weight_quantizer"]


def build_model(cand: Candidate, space: SpaceConfig, input_shape: int | Sequence[int], n_classes: int) -> Any:
    """The QKeras model for ``cand`` (not yet pruned, not compiled), named ``dse_<architecture>``;
    ``input_shape``: one sample's shape (an int: that many flat features)."""
    import tensorflow as tf

    check_shapes(cand, space, input_shape, n_classes)
    ctx = cand.context(space, input_shape, n_classes)
    inputs = tf.keras.Input(shape=ctx.input_shape, name="features")
    x = inputs
    for layer in cand.layers:
        x = layer.build_qkeras(x, ctx)
    return tf.keras.Model(inputs, x, name=f"dse_{cand.architecture}")


def pruning_schedule(space: SpaceConfig, steps_per_epoch: int, epochs: int) -> tuple[int, int, int]:
    """(begin_step, end_step, frequency) of the polynomial-decay schedule, in optimizer steps.

    TFMOT only updates the masks on steps ``begin + k * frequency`` up to ``end``, so ``end``
    is put on such a step (and the frequency shortened for short trainings): otherwise the
    final sparsity would never be applied.
    """
    total = max(2, steps_per_epoch * epochs)
    s = space.sparsity
    begin = min(int(s.begin_fraction * total), total - 2)
    end = min(max(begin + 1, int(s.end_fraction * total)), total - 1)
    freq = max(1, min(s.frequency, (end - begin) // 2 or 1))
    end = begin + ((end - begin) // freq) * freq
    return begin, max(end, begin + freq), freq


def pruning_done_epoch(space: SpaceConfig, steps_per_epoch: int, epochs: int) -> int:
    """First epoch (0-based) at whose end the final sparsity has been reached."""
    _, end, _ = pruning_schedule(space, steps_per_epoch, epochs)
    return min(epochs - 1, (end + 1 + steps_per_epoch - 1) // max(1, steps_per_epoch) - 1)


def apply_pruning(model: Any, cand: Candidate, space: SpaceConfig, steps_per_epoch: int, epochs: int) -> Any:
    """Wrap each weighted layer whose target sparsity is > 0 with TFMOT magnitude pruning."""
    if all(s <= 0 for s in cand.sparsity):
        return model
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot

    begin, end, freq = pruning_schedule(space, steps_per_epoch, epochs)
    targets = dict(zip(cand.weighted_names, cand.sparsity, strict=True))

    def wrap(layer: Any) -> Any:
        target = targets.get(layer.name, 0.0)
        if target <= 0:
            return layer
        schedule = tfmot.sparsity.keras.PolynomialDecay(
            initial_sparsity=0.0, final_sparsity=float(target), begin_step=begin, end_step=end,
            frequency=freq)
        return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)

    return tf.keras.models.clone_model(model, clone_function=wrap)


def strip_pruning(model: Any) -> Any:
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.strip_pruning(model)


