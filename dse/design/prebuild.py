"""The cost model's layer list of a candidate before it is trained, built from its parameters alone.

What hls4ml would give for the QKeras model of ``dse.training.model_builder.build_model`` (checked
against the converted models: same names, sizes, types, ReuseFactors and strategies), without
TensorFlow or hls4ml (microseconds instead of ~20 ms plus a TensorFlow import in the driver). Each
layer of the candidate describes itself (``DesignLayer.cost_specs``, rules in
``dse.design.layer_kinds``); this module walks the list, passing on the size and type of the tensor
between layers. ``weights`` (a ``WeightModel``) gives the zeros expected from quantization and the
expected CSD digit statistics of trained weights; without it the sparsity target alone counts and
the cost model assumes typical trained values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from cost_models.layers import FixedType, LayerSpec
from dse.design.candidate import Candidate
from dse.design.conv_kinds import Conv, snap_parallelization_factor
from dse.design.layer_kind import CostFlow, WeightModel, as_shape
from dse.design.layer_kinds import TABLE_SIZE, TABLE_TYPE, dense_result_type
from dse.space import SpaceConfig

__all__ = ["TABLE_SIZE", "TABLE_TYPE", "WeightModel", "check_shapes", "dense_result_type", "normalized",
           "prebuild_layers", "snapped_reuse_factors"]


def snapped_reuse_factors(cand: Candidate, input_shape: int | Sequence[int], n_out: int) -> tuple[int, ...]:
    """The ReuseFactor hls4ml uses per weighted layer (snapped to a valid one under the Resource strategy);
    ``input_shape``: one sample's shape (an int: that many flat features); ``n_out``: the model's
    outputs (1 for a sigmoid)."""
    out: list[int] = []
    shape = as_shape(input_shape)
    for layer in cand.layers:
        rf = layer.reuse_factor_for_shape(shape, n_out, cand.strategy)
        if rf is not None:
            out.append(rf)
        shape = layer.output_shape(shape, n_out)
    return tuple(out)


def normalized(cand: Candidate, input_shape: int | Sequence[int], n_out: int) -> Candidate:
    """``cand`` as hls4ml will build it: ReuseFactors snapped (``snapped_reuse_factors``) and each conv's
    ParallelizationFactor snapped to the closest divisor of its output pixels, so that two candidates
    hls4ml builds alike compare equal (the search's dedupe key). ``n_out``: the model's outputs."""
    layers = []
    shape = as_shape(input_shape)
    for layer in cand.with_reuse_factors(snapped_reuse_factors(cand, input_shape, n_out)).layers:
        out = layer.output_shape(shape, n_out)
        if isinstance(layer, Conv) and layer.parallelization_factor is not None:
            pixels = math.prod(out[:-1])
            pf = snap_parallelization_factor(pixels, layer.parallelization_factor)
            layer = replace(layer, parallelization_factor=pf)
        layers.append(layer)
        shape = out
    return replace(cand, layers=tuple(layers))


def check_shapes(cand: Candidate, space: SpaceConfig, input_shape: int | Sequence[int], n_classes: int) -> None:
    """Walk the tensor shape through ``cand``'s layers: a layer that cannot take its input (a kernel or
    pool larger than its feature map, a conv on flat data) raises ``InfeasibleDesign`` naming the layer
    and the space key to change. Microseconds; call it before training."""
    ctx = cand.context(space, input_shape, n_classes)
    shape = ctx.input_shape
    for layer in cand.layers:
        shape = layer.output_shape(shape, ctx.n_out)


def prebuild_layers(cand: Candidate, space: SpaceConfig, input_shape: int | Sequence[int], n_classes: int,
                    weights: WeightModel | None = None) -> list[LayerSpec]:
    """The layer list hls4ml would produce for ``cand`` (see the module docstring); ``input_shape``:
    one sample's shape (an int: that many flat features)."""
    ctx = cand.context(space, input_shape, n_classes)
    flow = CostFlow(ctx.n_features, FixedType.parse(space.hardware.default_precision), shape=ctx.input_shape)
    layers: list[LayerSpec] = []
    for layer in cand.layers:
        specs, flow = layer.cost_specs(ctx, flow, weights)
        layers += specs
    return layers
