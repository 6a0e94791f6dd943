"""The registry of layer kinds: what one kind of design layer knows, and the name -> class map.

A design is an ordered list of layers (``dse.design.candidate.Candidate``). Each layer is a frozen
dataclass of one registered kind, which knows, like a layer class of hls4ml's ``layer_map``
(``hls4ml/model/layers.py``):

- its **knobs**: the per-layer Optuna params it owns (``Knob``: the field it sets, the param group,
  the space's choices for it);
- how **QKeras** builds it (``build_qkeras``; QKeras/TensorFlow imported inside);
- its **hls4ml config** keys (``hls_config`` writes its ``LayerName`` entry, ``with_hls_config``
  reads one back);
- its **cost-model description** before training (``cost_specs``: ``cost_models.layers.LayerSpec``);
- its **name**, fixed by the architecture that places it (``fc0``, ``relu0``, ``out``, ``out_act``
  for the MLP), so the QKeras model, the hls4ml config and the cost model agree.

A new kind (conv1d, pooling, flatten, ...) is one class decorated with ``register_layer_kind``
plus its tests; the candidate's round trips, the prebuild layer list and the model builder
iterate over the layers and need no change.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol, TypeVar

from cost_models.layers import FixedType, IOType, LayerSpec
from cost_models.weight_stats import WeightStats
from dse.errors import ConfigError
from dse.space import Searchable, SpaceConfig

__all__ = ["LAYER_KINDS", "CostFlow", "DesignContext", "DesignLayer", "InfeasibleDesign", "InputShape", "Knob",
           "WeightModel", "as_shape", "layer_from_dict", "register_layer_kind"]

InputShape = tuple[int, ...]
"""The shape of one input sample: ``(n_features,)`` for a table, ``(H, W, C)`` for images, ``(L, C)`` for sequences."""


def as_shape(shape: int | Sequence[int]) -> InputShape:
    """``shape`` as an ``InputShape`` (an int is a flat input of that many features; 0 is unknown: ``()``)."""
    if isinstance(shape, int):
        return (shape,) if shape else ()
    return tuple(int(n) for n in shape)


class InfeasibleDesign(ConfigError):
    """A sampled design hls4ml cannot build for the data's input shape (a kernel or pool larger than
    its feature map, a stride that leaves no output pixel). ``path`` names the space key to change."""


class WeightModel(Protocol):
    """Expected statistics of trained weights of one type (see ``dse.search.screening.DigitModel``)."""

    def zero_share(self, wtype: FixedType, sparsity: float) -> float:
        """Expected share of the weights that are zero after training (pruned + quantized to zero)."""

    def stats(self, wtype: FixedType, n_in: int, n_out: int, n_nonzero: int) -> WeightStats | None:
        """Expected CSD statistics of ``n_nonzero`` trained non-zero weights of an n_in x n_out layer."""


@dataclass(frozen=True)
class Knob:
    """One searchable setting of a layer kind: the layer field it sets and its Optuna param.

    The param is ``f"{group}_{i}"`` when ``per_layer(space)`` (``i``: the layer's position among the
    candidate's layers that have this group, in model order) or ``group`` shared by all of them.
    ``spec(space, i)`` gives the space's choices (None: not searched, the value is ``derive`` of
    the layer's other fields). Groups are sampled in ``rank`` order (the order of Optuna's
    ``suggest`` calls, which seeded samplers depend on). A knob applies to a layer unless its field
    is pinned to None by the architecture (the output dense layer's width comes from the data).
    """

    field: str
    group: str
    rank: int
    spec: Callable[[SpaceConfig, int], Searchable | None]
    per_layer: Callable[[SpaceConfig], bool]
    convert: Callable[[Any], Any]
    derive: Callable[[Mapping[str, Any]], Any] | None = None

    def param_name(self, space: SpaceConfig, position: int) -> str:
        return f"{self.group}_{position}" if self.per_layer(space) else self.group


@dataclass(frozen=True)
class DesignContext:
    """What a layer needs besides its own fields: the space, the candidate's global strategy, and the
    data's sizes (``n_features`` inputs, of shape ``input_shape`` per sample; ``n_out`` outputs of
    the last layer, 1 for a sigmoid) and the candidate's hls4ml ``io_type`` (``io_parallel``/``io_stream``)."""

    space: SpaceConfig
    strategy: str
    n_features: int = 0
    n_out: int = 0
    input_shape: InputShape = ()
    io_type: IOType = "io_parallel"


@dataclass(frozen=True)
class CostFlow:
    """What flows from one layer to the next in the prebuild layer list: the tensor size (values),
    its hls4ml type, the ReuseFactor of the last weighted layer (as the candidate wrote it,
    which the activations after it inherit) and the tensor's shape per sample (``(n,)`` for a
    vector, ``(L, C)`` / ``(H, W, C)`` after a conv; ``()`` means ``(n,)``)."""

    n: int
    type: FixedType
    reuse_factor: int = 1
    shape: InputShape = ()

    @property
    def tensor_shape(self) -> InputShape:
        """``shape``, or ``(n,)`` when no shape was given."""
        return self.shape or (self.n,)


class DesignLayer(ABC):
    """One layer of a design; subclasses are frozen dataclasses with a ``name`` field.

    The contract of a kind, all per layer: ``KNOBS``; ``HAS_WEIGHTS`` (weighted layers carry
    ``weight_bits``, ``sparsity`` and ``reuse_factor`` and are pruned, measured and snapped);
    ``output_size``; ``build_qkeras``; ``hls_config`` / ``with_hls_config``; ``cost_specs``.
    """

    KIND: ClassVar[str]
    KNOBS: ClassVar[tuple[Knob, ...]] = ()
    HAS_WEIGHTS: ClassVar[bool] = False
    name: str

    def knobs(self) -> tuple[Knob, ...]:
        """The knobs that apply to this layer (a field pinned to None is not searched)."""
        return tuple(k for k in self.KNOBS if getattr(self, k.field) is not None)

    @classmethod
    def slot_knobs(cls, pinned: Mapping[str, Any]) -> tuple[Knob, ...]:
        """The knobs of a layer of this kind whose fields ``pinned`` does not set."""
        return tuple(k for k in cls.KNOBS if k.field not in pinned)

    def output_size(self, n_in: int, ctx_n_out: int) -> int:
        """Values out for ``n_in`` values in (``ctx_n_out``: the model's outputs)."""
        return n_in

    def snapped_reuse_factor(self, n_in: int, n_out: int, strategy: str) -> int | None:
        """The ReuseFactor hls4ml will use (weighted layers), None for layers without one."""
        return None

    def output_shape(self, shape: InputShape, ctx_n_out: int) -> InputShape:
        """The tensor shape out for ``shape`` in (default: the shape is kept when ``output_size``
        keeps the size, else a vector of ``output_size`` values). A shape this layer cannot take
        (a kernel larger than its input) raises ``InfeasibleDesign``."""
        n_in = math.prod(shape) if shape else 0
        n_out = self.output_size(n_in, ctx_n_out)
        return shape if n_out == n_in and shape else (n_out,)

    def reuse_factor_for_shape(self, shape: InputShape, ctx_n_out: int, strategy: str) -> int | None:
        """``snapped_reuse_factor`` for an input tensor of ``shape`` (convs override: their product is
        ``n_chan*filt_h*filt_w`` by ``n_filt``)."""
        n_in = math.prod(shape) if shape else 0
        return self.snapped_reuse_factor(n_in, self.output_size(n_in, ctx_n_out), strategy)

    @abstractmethod
    def build_qkeras(self, x: Any, ctx: DesignContext) -> Any:
        """Apply this layer to the Keras tensor ``x`` (QKeras imported here); returns the output tensor."""

    @abstractmethod
    def hls_config(self, ctx: DesignContext, previous_reuse_factor: int) -> dict[str, Any]:
        """This layer's ``HLSConfig['LayerName'][name]`` entry."""

    @abstractmethod
    def with_hls_config(self, entry: Mapping[str, Any]) -> DesignLayer:
        """This layer with the fields its hls4ml entry holds read back from ``entry``."""

    @abstractmethod
    def cost_specs(self, ctx: DesignContext, flow: CostFlow, weights: WeightModel | None
                   ) -> tuple[list[LayerSpec], CostFlow]:
        """The cost model's description(s) hls4ml would give for this layer, and the flow after it."""

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., <fields>}`` (JSON-ready)."""
        return {"kind": self.KIND, **{f.name: getattr(self, f.name) for f in fields(self)}}  # type: ignore[arg-type]


LAYER_KINDS: dict[str, type[DesignLayer]] = {}
"""Layer kind name -> class (``register_layer_kind``), as hls4ml's ``layer_map``."""

L = TypeVar("L", bound=type[DesignLayer])


def register_layer_kind(cls: L) -> L:
    """Class decorator: add ``cls`` to ``LAYER_KINDS`` under ``cls.KIND``; a kind registered twice is refused."""
    kind = getattr(cls, "KIND", None)
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{cls.__name__} has no KIND name")
    if kind in LAYER_KINDS:
        raise ValueError(f"layer kind {kind!r} is already registered (by {LAYER_KINDS[kind].__name__})")
    LAYER_KINDS[kind] = cls
    return cls


def layer_from_dict(d: Mapping[str, Any]) -> DesignLayer:
    """The layer of ``DesignLayer.to_dict`` output; an unknown kind or field is a ``ConfigError``."""
    kind = d.get("kind")
    cls = LAYER_KINDS.get(str(kind))
    if cls is None:
        raise ConfigError(f"unknown layer kind {kind!r}; known: {', '.join(sorted(LAYER_KINDS))}")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    extra = set(d) - names - {"kind"}
    if extra:
        raise ConfigError(f"layer {d.get('name')!r} of kind {kind}: unknown fields {sorted(extra)}")
    try:
        return cls(**{k: v for k, v in d.items() if k != "kind"})
    except TypeError as exc:
        raise ConfigError(f"layer {d.get('name')!r} of kind {kind}: {exc}") from None
