"""The layer kinds of dse's designs, each registered in ``LAYER_KINDS`` (see ``dse.design.layer_kind``).

- ``dense``: a QDense layer; weights and biases ``fixed<bits, weight_integer_bits+1>`` (``uint<1>`` for
  binary, ``int<2>`` for ternary weights, as hls4ml types QKeras' binary/ternary quantizers), pruned to
  its target sparsity, its own ReuseFactor; ``units`` None means the model's outputs (from the data).
- ``activation``: a quantized ReLU (QKeras ``quantized_relu(bits, activation_integer_bits)``, hls4ml
  ``ufixed<bits, activation_integer_bits, RND_CONV, SAT>``); it inherits the ReuseFactor of the
  weighted layer before it, as hls4ml's config did for the MLP.
- ``output_activation``: the space's ``model.output_activation`` (softmax, sigmoid or linear) at the
  model's default precision (``auto``), 1024-entry tables.

The prebuild rules (``cost_specs``) are what hls4ml 1.3 gives for these layers (checked against
converted models in tests/integration/test_screening.py): a dense layer's ``auto`` result/accum type
as hls4ml's ``infer_precision`` (input + weight bits + ceil(log2 n_in), one more integer bit for the
bias), its ReuseFactor snapped to a valid one under the Resource strategy, kept under Latency; its
zeros the sparsity target's share plus the zeros expected from quantization (``WeightModel``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from cost_models.layers import FixedType, LayerSpec
from cost_models.reuse import snap_reuse_factor
from cost_models.weight_stats import WeightStats
from dse.design.layer_kind import (
    CostFlow,
    DesignContext,
    DesignLayer,
    InputShape,
    Knob,
    WeightModel,
    register_layer_kind,
)
from dse.errors import ConfigError
from dse.space import SpaceConfig

__all__ = ["SPECIAL_WEIGHTS", "TABLE_SIZE", "TABLE_TYPE", "Activation", "Dense", "OutputActivation", "SpecialWeights",
           "WeightBits", "dense_result_type", "hls_strategy", "weight_bits_value", "weight_quantizer", "weight_type"]

WeightBits = int | str  # an integer, or "binary" / "ternary"


def hls_strategy(strategy: str) -> str:
    """hls4ml's spelling of a strategy: ``Latency``, ``Resource``, ``distributed_arithmetic`` (its own key)."""
    return strategy if strategy == "distributed_arithmetic" else strategy.capitalize()


TABLE_SIZE = 1024
"""hls4ml's default activation table size (entries)."""
TABLE_TYPE = FixedType(18, 8)
"""hls4ml's default activation table type."""


# --------------------------------------------------------------------------- precisions


@dataclass(frozen=True)
class SpecialWeights:
    """Weights quantized to ``binary`` or ``ternary`` (the space's ``WEIGHT_SPECIAL_BITS``): the QKeras
    quantizer, the type hls4ml gives them, their width in bits and the bias bits used with them."""

    quantizer: str
    """The QKeras quantizer class (``qkeras.binary``/``qkeras.ternary``, built with ``alpha=1``)."""
    precision: str
    """hls4ml's precision string: a QKeras binary kernel becomes an XNOR (1-bit unsigned) type."""
    hls_type: FixedType
    bits: int
    """The width of a weight (bits)."""
    bias_bits: int
    """Bias bits when the space does not search them (the weight bits otherwise)."""


SPECIAL_WEIGHTS: dict[str, SpecialWeights] = {
    "binary": SpecialWeights("binary", "uint<1>", FixedType(1, 1, signed=False), bits=1, bias_bits=2),
    "ternary": SpecialWeights("ternary", "int<2>", FixedType(2, 2), bits=2, bias_bits=2),
}
"""The one statement of the binary/ternary weight mapping (keys: the space's ``WEIGHT_SPECIAL_BITS``)."""


def weight_bits_value(bits: WeightBits) -> int:
    """The width in bits of weights quantized to ``bits``: the integer itself, 1 for binary, 2 for ternary."""
    special = SPECIAL_WEIGHTS.get(bits) if isinstance(bits, str) else None
    return special.bits if special is not None else int(bits)


def weight_type(bits: WeightBits, weight_integer_bits: int) -> FixedType:
    """The hls4ml type of weights quantized to ``bits`` (as ``weight_precision`` writes it)."""
    special = SPECIAL_WEIGHTS.get(bits) if isinstance(bits, str) else None
    return special.hls_type if special is not None else FixedType(int(bits), weight_integer_bits + 1)


def weight_precision(bits: WeightBits, weight_integer_bits: int) -> str:
    """The hls4ml precision string of weights quantized to ``bits``, as hls4ml derives it from the quantizer."""
    special = SPECIAL_WEIGHTS.get(bits) if isinstance(bits, str) else None
    return special.precision if special is not None else f"fixed<{bits},{weight_integer_bits + 1},TRN,WRAP>"


def weighted_types(ctx: DesignContext, flow: CostFlow, weight_bits: WeightBits, bias_bits: int, sparsity: float,
                   n_i: int, n_o: int, weights: WeightModel | None
                   ) -> tuple[FixedType, FixedType, FixedType, int, WeightStats | None]:
    """What hls4ml gives a weighted layer with ``n_i`` inputs and ``n_o`` outputs per product (dense: the
    layer; conv: one output pixel, ``n_i`` = channels x kernel): weight, bias and result types, the
    expected zero weights (the sparsity target plus zeros from quantization) and the expected CSD
    statistics of the non-zero ones (None without a ``WeightModel``)."""
    wib = ctx.space.quantization.weight_integer_bits
    wt = weight_type(weight_bits, wib)
    bt = FixedType(bias_bits, wib + 1)
    result = dense_result_type(flow.type, wt, bt, n_i)
    n_w = n_i * n_o
    zero_share = weights.zero_share(wt, float(sparsity)) if weights is not None else float(sparsity)
    n_zeros = min(n_w, round(n_w * zero_share))
    stats = weights.stats(wt, n_i, n_o, n_w - n_zeros) if weights is not None and n_w > n_zeros else None
    return wt, bt, result, n_zeros, stats


def _bits_of(t: str) -> int:
    m = re.match(r"u?fixed<(\d+),(-?\d+)", t)
    if not m:
        raise ConfigError(f"cannot read precision {t!r}")
    return int(m.group(1))


def _weight_bits_of(t: str) -> WeightBits:
    """The weight bits of an hls4ml weight precision (``weight_precision`` read back)."""
    return next((name for name, s in SPECIAL_WEIGHTS.items() if s.precision == t), None) or _bits_of(t)


def dense_result_type(inp: FixedType, weight: FixedType, bias: FixedType | None, n_in: int) -> FixedType:
    """hls4ml's ``auto`` accumulator/result type of a dense layer (``infer_precision``)."""
    log_ops = math.ceil(math.log2(n_in)) if n_in > 1 else 0
    integer = inp.integer + weight.integer + log_ops
    frac = inp.fractional + weight.fractional
    if bias is not None:
        integer = max(integer, bias.integer) + 1
        frac = max(frac, bias.fractional)
    return FixedType(integer + frac, integer, signed=inp.signed or weight.signed)


def weight_quantizer(bits: WeightBits, integer: int) -> Any:
    """The QKeras kernel quantizer: ``binary``/``ternary``, else ``quantized_bits(bits, integer, alpha=1)``."""
    import qkeras

    special = SPECIAL_WEIGHTS.get(bits) if isinstance(bits, str) else None
    if special is not None:
        return getattr(qkeras, special.quantizer)(alpha=1)
    return qkeras.quantized_bits(int(bits), integer, alpha=1)


def _strategy(strategy: str) -> Literal["latency", "resource"]:
    return "resource" if strategy.lower() == "resource" else "latency"


# --------------------------------------------------------------------------- knobs


def _weight_bits_value(b: Any) -> WeightBits:
    return b if isinstance(b, str) else int(b)


def _bias_from_weight_bits(fields: Mapping[str, Any]) -> int:
    """Bias bits when the space does not search them: the weight bits (``SPECIAL_WEIGHTS``' bias bits for
    binary/ternary weights)."""
    b = fields["weight_bits"]
    return b if isinstance(b, int) else SPECIAL_WEIGHTS[b].bias_bits


def _per_layer_quantization(space: SpaceConfig) -> bool:
    return space.quantization.per_layer


WIDTH = Knob("units", "width", 0, lambda space, i: space.model.width_for(i), lambda space: True, int)
WEIGHT_BITS = Knob("weight_bits", "weight_bits", 10, lambda space, i: space.quantization.weight_bits,
                   _per_layer_quantization, _weight_bits_value)
BIAS_BITS = Knob("bias_bits", "bias_bits", 20, lambda space, i: space.quantization.bias_bits,
                 _per_layer_quantization, int, derive=_bias_from_weight_bits)
ACTIVATION_BITS = Knob("bits", "activation_bits", 30, lambda space, i: space.quantization.activation_bits,
                       _per_layer_quantization, int)
SPARSITY = Knob("sparsity", "sparsity", 40, lambda space, i: space.sparsity.target,
                lambda space: space.sparsity.per_layer, float)
REUSE_FACTOR = Knob("reuse_factor", "reuse_factor", 50, lambda space, i: space.hardware.reuse_factor,
                    lambda space: space.hardware.per_layer_reuse, int)


# --------------------------------------------------------------------------- kinds


@register_layer_kind
@dataclass(frozen=True)
class Dense(DesignLayer):
    """A quantized dense layer: ``units`` outputs (None: the model's outputs), weight and bias bits,
    target sparsity (share of pruned weights, 0..1) and ReuseFactor."""

    KIND: ClassVar[str] = "dense"
    KNOBS: ClassVar[tuple[Knob, ...]] = (WIDTH, WEIGHT_BITS, BIAS_BITS, SPARSITY, REUSE_FACTOR)
    HAS_WEIGHTS: ClassVar[bool] = True

    name: str
    units: int | None
    weight_bits: WeightBits
    bias_bits: int
    sparsity: float
    reuse_factor: int

    def output_size(self, n_in: int, ctx_n_out: int) -> int:
        return ctx_n_out if self.units is None else self.units

    def output_shape(self, shape: InputShape, ctx_n_out: int) -> InputShape:
        return (self.output_size(0, ctx_n_out),)

    def snapped_reuse_factor(self, n_in: int, n_out: int, strategy: str) -> int | None:
        if _strategy(strategy) != "resource":
            return self.reuse_factor
        return snap_reuse_factor(n_in, n_out, self.reuse_factor)

    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        from qkeras import QDense, quantized_bits

        wib = ctx.space.quantization.weight_integer_bits
        return QDense(self.output_size(0, ctx.n_out), name=self.name,
                      kernel_quantizer=weight_quantizer(self.weight_bits, wib),
                      bias_quantizer=quantized_bits(self.bias_bits, wib, alpha=1),
                      kernel_initializer="lecun_uniform")(x)

    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        wib = ctx.space.quantization.weight_integer_bits
        return {"Precision": {"weight": weight_precision(self.weight_bits, wib),
                              "bias": f"fixed<{self.bias_bits},{wib + 1},TRN,WRAP>",
                              "result": "auto", "accum": "auto"},
                "ReuseFactor": self.reuse_factor,
                "Strategy": hls_strategy(ctx.strategy)}

    def with_hls_config(self, entry: Mapping[str, Any]) -> Dense:
        p = entry["Precision"]
        return replace(self, weight_bits=_weight_bits_of(str(p["weight"])), bias_bits=_bits_of(str(p["bias"])),
                       reuse_factor=int(entry["ReuseFactor"]))

    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        n_i = flow.n
        n_o = self.output_size(n_i, ctx.n_out)
        wt, bt, result, n_zeros, stats = weighted_types(ctx, flow, self.weight_bits, self.bias_bits, self.sparsity,
                                                        n_i, n_o, weights)
        spec = LayerSpec(name=self.name, kind="dense", n_in=n_i, n_out=n_o, result=result, weight=wt, bias=bt,
                         accum=result, n_zeros=n_zeros,
                         reuse_factor=int(self.snapped_reuse_factor(n_i, n_o, ctx.strategy) or 1),
                         strategy=_strategy(ctx.strategy), io_type=ctx.io_type,
                         weights=stats)
        return [spec], CostFlow(n_o, result, self.reuse_factor, (n_o,))


@register_layer_kind
@dataclass(frozen=True)
class Activation(DesignLayer):
    """A quantized ReLU with ``bits`` output bits (``activation_integer_bits`` of them integer)."""

    KIND: ClassVar[str] = "activation"
    KNOBS: ClassVar[tuple[Knob, ...]] = (ACTIVATION_BITS,)

    name: str
    bits: int

    def _type(self, space: SpaceConfig) -> FixedType:
        return FixedType(self.bits, space.quantization.activation_integer_bits, signed=False)

    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        from qkeras import QActivation, quantized_relu

        return QActivation(quantized_relu(self.bits, ctx.space.quantization.activation_integer_bits),
                           name=self.name)(x)

    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        aib = ctx.space.quantization.activation_integer_bits
        return {"Precision": {"result": f"ufixed<{self.bits},{aib},RND_CONV,SAT>"},
                "ReuseFactor": previous_reuse_factor}

    def with_hls_config(self, entry: Mapping[str, Any]) -> Activation:
        return replace(self, bits=_bits_of(str(entry["Precision"]["result"])))

    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        act = self._type(ctx.space)
        spec = LayerSpec(name=self.name, kind="activation", n_in=flow.n, n_out=flow.n, result=act,
                         reuse_factor=flow.reuse_factor, io_type=ctx.io_type,
                         activation="relu", table_size=TABLE_SIZE, table=TABLE_TYPE)
        return [spec], replace(flow, type=act)


@register_layer_kind
@dataclass(frozen=True)
class OutputActivation(DesignLayer):
    """The model's output activation (``model.output_activation``: softmax, sigmoid or linear),
    at the model's default precision; nothing searched."""

    KIND: ClassVar[str] = "output_activation"

    name: str

    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        import tensorflow as tf

        return tf.keras.layers.Activation(ctx.space.model.output_activation, name=self.name)(x)

    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        return {"Precision": {"result": "auto"}, "ReuseFactor": previous_reuse_factor}

    def with_hls_config(self, entry: Mapping[str, Any]) -> OutputActivation:
        return self

    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        hw = ctx.space.hardware
        default = FixedType.parse(hw.default_precision)
        function = ctx.space.model.output_activation
        n, rf = flow.n, flow.reuse_factor
        if function == "softmax":
            specs = [LayerSpec(name=self.name, kind="softmax", n_in=n, n_out=n, result=default, accum=default,
                               reuse_factor=rf, io_type=ctx.io_type,
                               activation="softmax", table_size=TABLE_SIZE, table=TABLE_TYPE)]
        elif function == "sigmoid":
            specs = [LayerSpec(name=self.name, kind="activation", n_in=n, n_out=n, result=default,
                               reuse_factor=rf, io_type=ctx.io_type,
                               activation="sigmoid", table_size=TABLE_SIZE, table=TABLE_TYPE)]
        else:  # linear: hls4ml drops it
            specs = []
        return specs, replace(flow, type=default)
