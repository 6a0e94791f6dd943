"""The convolutional layer kinds, each registered in ``LAYER_KINDS`` (see ``dse.design.layer_kind``).

Each kind is 1D or 2D from the rank of the tensor it receives (``(L, C)`` or ``(H, W, C)``): the
architecture lays a design out before the data's shape is known (the sampler has no data), so the
shape decides QConv1D or QConv2D, ``conv1d`` or ``conv2d`` for the cost model, when the model is built.

- ``conv``: a QConv1D/QConv2D with ``filters`` output channels, a square ``kernel_size``,
  ``stride`` and ``padding`` (valid/same); weights, biases, sparsity and ReuseFactor as a dense layer;
  ParallelizationFactor (io_parallel) or ConvImplementation (io_stream).
- ``pooling``: max or average pooling, stride = pool size, no padding (what io_stream
  can build).
- ``global_pooling``: global max or average pooling.
- ``flatten``: the tensor as a vector.

The shape flow follows Keras (and hls4ml's ``compute_padding_1d/2d``): ``valid`` gives
``(n - k) // s + 1`` pixels (a kernel larger than its input is ``InfeasibleDesign``), ``same`` gives
``ceil(n / s)`` with ``max((out - 1) * s + k - n, 0)`` padding, the smaller half before. The prebuild
rules (``cost_specs``) are what hls4ml 1.3 gives for these layers (checked against converted models
in tests/integration/test_cnn.py): a conv's ``auto`` type is a dense layer's with
``n_in = n_chan * filt_h * filt_w``; its ReuseFactor is snapped for that product under the Resource
strategy; its ParallelizationFactor is snapped to the closest divisor of the output pixels (hls4ml's
``get_valid_conv_partition_splits`` + ``get_closest_reuse_factor``); under io_stream a ``same``
padding with a non-zero pad becomes a ``zp{1,2}d_<conv>`` ZeroPadding layer before the conv.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from cost_models.layers import ConvGeometry, FixedType, LayerSpec
from cost_models.reuse import closest_reuse_factor, snap_reuse_factor
from dse.design.layer_kind import (
    CostFlow,
    DesignContext,
    DesignLayer,
    InfeasibleDesign,
    InputShape,
    Knob,
    WeightModel,
    register_layer_kind,
)
from dse.design.layer_kinds import (
    BIAS_BITS,
    REUSE_FACTOR,
    SPARSITY,
    WEIGHT_BITS,
    WeightBits,
    _bits_of,
    _strategy,
    _weight_bits_of,
    hls_strategy,
    weight_precision,
    weight_quantizer,
    weighted_types,
)
from dse.space import SpaceConfig

__all__ = ["Conv", "Flatten", "GlobalPooling", "Pooling", "conv_output", "snap_parallelization_factor",
           "valid_parallelization_factors"]


# --------------------------------------------------------------------------- geometry


def conv_output(n: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(output pixels, pad before, pad after) along one axis of ``n`` input pixels (Keras' rule, as hls4ml's
    ``compute_padding_*``); ``valid`` with ``kernel > n`` gives 0 output pixels."""
    if padding == "same":
        out = -(-n // stride)
        total = max((out - 1) * stride + kernel - n, 0)
        return out, total // 2, total - total // 2
    return (max(0, (n - kernel) // stride + 1) if n >= kernel else 0), 0, 0


def valid_parallelization_factors(out_pixels: int) -> list[int]:
    """hls4ml's ``get_valid_conv_partition_splits``: the divisors of the output pixels, sorted."""
    return [d for d in range(1, out_pixels // 2 + 1) if out_pixels % d == 0] + [out_pixels]


def snap_parallelization_factor(out_pixels: int, pf: int | None) -> int:
    """The ParallelizationFactor hls4ml uses for ``pf`` (None: 1): ``pf`` if it divides the output pixels,
    else the closest divisor (the smaller on a tie), as hls4ml's ``init_conv1d/2d`` do."""
    valid = valid_parallelization_factors(out_pixels)
    chosen = pf or 1
    return chosen if chosen in valid else closest_reuse_factor(valid, chosen)


def _spatial(shape: InputShape, name: str) -> tuple[list[int], int]:
    """The spatial sizes (``[L]`` or ``[H, W]``) and channels of a sample's tensor; 1D or 2D from its rank."""
    if len(shape) not in (2, 3):
        raise InfeasibleDesign(f"layer {name} needs an (L, C) sequence or (H, W, C) image, got shape {shape}; "
                               "a cnn needs data with such samples", path="model.type")
    return list(shape[:-1]), int(shape[-1])


def _rank(x: Any) -> int:
    """1 or 2: the spatial dimensions of the Keras tensor ``x`` (batch and channels excluded)."""
    return len(x.shape) - 2


def _geometry(spatial_in: list[int], spatial_out: list[int], chan: int, filt: int, n_filt: int, stride: int,
              pads: list[tuple[int, int]]) -> ConvGeometry:
    """A ``ConvGeometry`` from (H, W) or (L,) sizes (heights 1 for 1D)."""
    if len(spatial_in) == 1:
        return ConvGeometry(in_width=spatial_in[0], in_height=1, n_chan=chan, filt_width=filt, filt_height=1,
                            n_filt=n_filt, out_width=spatial_out[0], out_height=1, stride_width=stride,
                            stride_height=1, pad_left=pads[0][0], pad_right=pads[0][1])
    return ConvGeometry(in_width=spatial_in[1], in_height=spatial_in[0], n_chan=chan, filt_width=filt,
                        filt_height=filt, n_filt=n_filt, out_width=spatial_out[1], out_height=spatial_out[0],
                        stride_width=stride, stride_height=stride, pad_top=pads[0][0], pad_bottom=pads[0][1],
                        pad_left=pads[1][0], pad_right=pads[1][1])


# --------------------------------------------------------------------------- knobs


def _conv(space: SpaceConfig) -> Any:
    assert space.model.conv is not None, "a conv layer in a space without model.conv"
    return space.model.conv


def _per_block(space: SpaceConfig) -> bool:
    return True


def _per_layer_reuse(space: SpaceConfig) -> bool:
    return space.hardware.per_layer_reuse


def _shared(space: SpaceConfig) -> bool:
    return False


FILTERS = Knob("filters", "filters", 1, lambda space, i: _conv(space).for_block("filters", i), _per_block, int)
KERNEL = Knob("kernel_size", "kernel_size", 2, lambda space, i: _conv(space).for_block("kernel_size", i),
              _per_block, int)
STRIDE = Knob("stride", "stride", 3, lambda space, i: _conv(space).for_block("stride", i), _per_block, int)
PADDING = Knob("padding", "padding", 4, lambda space, i: _conv(space).for_block("padding", i), _per_block, str)
PARALLELIZATION = Knob("parallelization_factor", "parallelization_factor", 55,
                       lambda space, i: space.hardware.parallelization_factor, _per_layer_reuse, int)
CONV_IMPLEMENTATION = Knob("conv_implementation", "conv_implementation", 56,
                           lambda space, i: space.hardware.conv_implementation, _shared, str)

_IMPL_NAMES = {"linebuffer": "LineBuffer", "encoded": "Encoded"}


# --------------------------------------------------------------------------- conv


@register_layer_kind
@dataclass(frozen=True)
class Conv(DesignLayer):
    """A quantized convolution: ``filters`` output channels, a ``kernel_size`` square kernel (a length in
    1D), ``stride``, ``padding`` (``valid``/``same``), weight and bias bits, target sparsity (0..1),
    ReuseFactor; ``parallelization_factor`` (output pixels per pass, io_parallel; None under io_stream)
    and ``conv_implementation`` (``linebuffer``/``encoded``, io_stream; None under io_parallel)."""

    KIND: ClassVar[str] = "conv"
    KNOBS: ClassVar[tuple[Knob, ...]] = (FILTERS, KERNEL, STRIDE, PADDING, WEIGHT_BITS, BIAS_BITS, SPARSITY,
                                         REUSE_FACTOR, PARALLELIZATION, CONV_IMPLEMENTATION)
    HAS_WEIGHTS: ClassVar[bool] = True

    name: str
    filters: int
    kernel_size: int
    stride: int
    padding: str
    weight_bits: WeightBits
    bias_bits: int
    sparsity: float
    reuse_factor: int
    parallelization_factor: int | None = None
    conv_implementation: str | None = None

    def _out(self, shape: InputShape) -> tuple[list[int], list[int], int, list[tuple[int, int]]]:
        spatial, chan = _spatial(shape, self.name)
        outs = [conv_output(n, self.kernel_size, self.stride, self.padding) for n in spatial]
        if any(o[0] < 1 for o in outs):
            raise InfeasibleDesign(
                f"layer {self.name}: kernel {self.kernel_size} is larger than its "
                f"{'x'.join(map(str, spatial))} input (padding valid); lower model.conv.kernel_size or "
                "model.conv.blocks, or use padding: same", path="model.conv.kernel_size")
        return spatial, [o[0] for o in outs], chan, [(o[1], o[2]) for o in outs]

    def output_shape(self, shape: InputShape, ctx_n_out: int) -> InputShape:
        _, out, _, _ = self._out(shape)
        return (*out, self.filters)

    def output_size(self, n_in: int, ctx_n_out: int) -> int:  # pragma: no cover - shapes are used instead
        raise TypeError(f"{self.KIND} needs the tensor shape (output_shape)")

    def reuse_factor_for_shape(self, shape: InputShape, ctx_n_out: int, strategy: str) -> int | None:
        spatial, chan = _spatial(shape, self.name)
        n_in, n_out = chan * self.kernel_size ** len(spatial), self.filters
        if _strategy(strategy) != "resource" or self.kernel_size == 1:
            # hls4ml's optimize_pointwise_conv remakes a 1x1 conv as a PointwiseConv node, which reads its
            # ReuseFactor from the config again: the snapped value is lost
            return self.reuse_factor
        return snap_reuse_factor(n_in, n_out, self.reuse_factor)

    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        from qkeras import QConv1D, QConv2D, quantized_bits

        wib = ctx.space.quantization.weight_integer_bits
        cls = QConv1D if _rank(x) == 1 else QConv2D
        return cls(self.filters, self.kernel_size, strides=self.stride, padding=self.padding, name=self.name,
                   kernel_quantizer=weight_quantizer(self.weight_bits, wib),
                   bias_quantizer=quantized_bits(self.bias_bits, wib, alpha=1),
                   kernel_initializer="lecun_uniform")(x)

    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        wib = ctx.space.quantization.weight_integer_bits
        out: dict[str, Any] = {"Precision": {"weight": weight_precision(self.weight_bits, wib),
                                             "bias": f"fixed<{self.bias_bits},{wib + 1},TRN,WRAP>",
                                             "result": "auto", "accum": "auto"},
                               "ReuseFactor": self.reuse_factor,
                               "Strategy": hls_strategy(ctx.strategy)}
        if self.parallelization_factor is not None:
            out["ParallelizationFactor"] = self.parallelization_factor
        if self.conv_implementation is not None:
            out["ConvImplementation"] = _IMPL_NAMES[self.conv_implementation]
        return out

    def with_hls_config(self, entry: Mapping[str, Any]) -> Conv:
        p = entry["Precision"]
        pf = entry.get("ParallelizationFactor")
        impl = entry.get("ConvImplementation")
        return replace(self, weight_bits=_weight_bits_of(str(p["weight"])), bias_bits=_bits_of(str(p["bias"])),
                       reuse_factor=int(entry["ReuseFactor"]),
                       parallelization_factor=int(pf) if pf is not None else None,
                       conv_implementation=str(impl).lower() if impl is not None else None)

    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        spatial, out, chan, pads = self._out(flow.tensor_shape)
        dims = len(spatial)
        specs: list[LayerSpec] = []
        if ctx.io_type == "io_stream" and any(p != (0, 0) for p in pads):
            padded = [n + a + b for n, (a, b) in zip(spatial, pads, strict=True)]
            geo = _geometry(spatial, padded, chan, 1, chan, 1, pads)
            specs.append(LayerSpec(name=f"zp{dims}d_{self.name}", kind=f"zeropadding{dims}d",  # type: ignore[arg-type]
                                   n_in=flow.n, n_out=math.prod(padded) * chan, result=flow.type,
                                   io_type="io_stream", conv=geo))  # an inserted node: no ReuseFactor
            spatial, pads = padded, [(0, 0)] * dims
        n_i, n_o = chan * self.kernel_size ** dims, self.filters
        wt, bt, result, n_zeros, stats = weighted_types(ctx, flow, self.weight_bits, self.bias_bits, self.sparsity,
                                                        n_i, n_o, weights)
        geo = _geometry(spatial, out, chan, self.kernel_size, self.filters, self.stride, pads)
        kind = f"{'pointwise_' if self.kernel_size == 1 else ''}conv{dims}d"
        specs.append(LayerSpec(
            name=self.name, kind=kind, n_in=n_i, n_out=n_o, result=result, weight=wt, bias=bt,  # type: ignore[arg-type]
            accum=result, n_zeros=n_zeros,
            reuse_factor=int(self.reuse_factor_for_shape(flow.tensor_shape, ctx.n_out, ctx.strategy) or 1),
            strategy=_strategy(ctx.strategy), io_type=ctx.io_type, conv=geo, weights=stats,
            parallelization_factor=snap_parallelization_factor(geo.out_pixels, self.parallelization_factor),
            conv_implementation=self.conv_implementation or "linebuffer"))  # type: ignore[arg-type]
        shape = (*out, self.filters)
        return specs, CostFlow(math.prod(shape), result, self.reuse_factor, shape)




# --------------------------------------------------------------------------- pooling


@register_layer_kind
@dataclass(frozen=True)
class Pooling(DesignLayer):
    """Max or average pooling (``op``) of ``pool_size`` pixels a side, stride = pool size, no padding;
    ``conv_implementation`` as the convs' (io_stream; None under io_parallel). ``op`` and ``pool_size``
    are structural (the architecture samples them per block: ``pooling_{i}``, ``pool_size_{i}``)."""

    KIND: ClassVar[str] = "pooling"
    KNOBS: ClassVar[tuple[Knob, ...]] = (CONV_IMPLEMENTATION,)

    name: str
    op: str
    pool_size: int
    conv_implementation: str | None = None

    def _out(self, shape: InputShape) -> tuple[list[int], list[int], int]:
        spatial, chan = _spatial(shape, self.name)
        if any(self.pool_size > n for n in spatial):
            raise InfeasibleDesign(
                f"layer {self.name}: pool {self.pool_size} is larger than its {'x'.join(map(str, spatial))} input; "
                "lower model.conv.pool_size, stride, kernel_size or blocks", path="model.conv.pool_size")
        return spatial, [n // self.pool_size for n in spatial], chan

    def output_shape(self, shape: InputShape, ctx_n_out: int) -> InputShape:
        _, out, chan = self._out(shape)
        return (*out, chan)

    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        import tensorflow as tf

        L = tf.keras.layers
        cls = {(1, "max"): L.MaxPooling1D, (1, "average"): L.AveragePooling1D, (2, "max"): L.MaxPooling2D,
               (2, "average"): L.AveragePooling2D}[(_rank(x), self.op)]
        return cls(self.pool_size, name=self.name)(x)

    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        out: dict[str, Any] = {"Precision": {"result": "auto", "accum": "auto"}, "ReuseFactor": previous_reuse_factor}
        if self.conv_implementation is not None:
            out["ConvImplementation"] = _IMPL_NAMES[self.conv_implementation]
        return out

    def with_hls_config(self, entry: Mapping[str, Any]) -> Pooling:
        impl = entry.get("ConvImplementation")
        return replace(self, conv_implementation=str(impl).lower() if impl is not None else None)

    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        spatial, out, chan = self._out(flow.tensor_shape)
        dims = len(spatial)
        if self.op == "max":
            accum = flow.type
        else:  # hls4ml's _infer_pooling_precision
            extra = math.ceil(math.log2(self.pool_size ** dims))
            t = flow.type
            accum = FixedType(t.width + 2 * extra, t.integer + extra, t.signed)
        geo = _geometry(spatial, out, chan, self.pool_size, chan, self.pool_size, [(0, 0)] * dims)
        shape = (*out, chan)
        spec = LayerSpec(name=self.name, kind=f"pooling{dims}d", n_in=flow.n, n_out=math.prod(shape),  # type: ignore[arg-type]
                         result=flow.type, accum=accum, reuse_factor=flow.reuse_factor, io_type=ctx.io_type,
                         conv=geo, pool_op=self.op, conv_implementation=self.conv_implementation or "linebuffer")  # type: ignore[arg-type]
        return [spec], CostFlow(math.prod(shape), flow.type, flow.reuse_factor, shape)




@register_layer_kind
@dataclass(frozen=True)
class GlobalPooling(DesignLayer):
    """Global max or average pooling (``op``): one value per channel, at the model's default precision."""

    KIND: ClassVar[str] = "global_pooling"

    name: str
    op: str

    def output_shape(self, shape: InputShape, ctx_n_out: int) -> InputShape:
        _, chan = _spatial(shape, self.name)
        return (chan,)

    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        import tensorflow as tf

        L = tf.keras.layers
        cls = {(1, "max"): L.GlobalMaxPooling1D, (1, "average"): L.GlobalAveragePooling1D,
               (2, "max"): L.GlobalMaxPooling2D, (2, "average"): L.GlobalAveragePooling2D}[(_rank(x), self.op)]
        return cls(name=self.name)(x)

    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        return {"ReuseFactor": previous_reuse_factor}

    def with_hls_config(self, entry: Mapping[str, Any]) -> GlobalPooling:
        return self

    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        spatial, chan = _spatial(flow.tensor_shape, self.name)
        default = FixedType.parse(ctx.space.hardware.default_precision)
        iw = spatial[-1]
        ih = spatial[0] if len(spatial) == 2 else 1
        geo = ConvGeometry(in_width=iw, in_height=ih, n_chan=chan, filt_width=iw, filt_height=ih, n_filt=chan,
                           out_width=1, out_height=1, stride_width=iw, stride_height=ih)
        spec = LayerSpec(name=self.name, kind=f"global_pooling{len(spatial)}d", n_in=flow.n, n_out=chan,  # type: ignore[arg-type]
                         result=default, accum=default, reuse_factor=flow.reuse_factor, io_type=ctx.io_type,
                         conv=geo, pool_op=self.op)  # type: ignore[arg-type]
        return [spec], CostFlow(chan, default, flow.reuse_factor, (chan,))




@register_layer_kind
@dataclass(frozen=True)
class Flatten(DesignLayer):
    """The tensor as a vector (hls4ml's Reshape; its type stays the input's)."""

    KIND: ClassVar[str] = "flatten"

    name: str

    def output_shape(self, shape: InputShape, ctx_n_out: int) -> InputShape:
        return (math.prod(shape),)

    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        import tensorflow as tf

        return tf.keras.layers.Flatten(name=self.name)(x)

    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        return {"Precision": {"result": "auto"}, "ReuseFactor": previous_reuse_factor}

    def with_hls_config(self, entry: Mapping[str, Any]) -> Flatten:
        return self

    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        spec = LayerSpec(name=self.name, kind="flatten", n_in=flow.n, n_out=flow.n, result=flow.type,
                         reuse_factor=flow.reuse_factor, io_type=ctx.io_type)
        return [spec], replace(flow, shape=(flow.n,))
