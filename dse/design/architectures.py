"""Architectures: how the space's ``model`` section lays out a candidate's list of layers.

An architecture decides the *structure* of a design (which layers, of which kinds, in which order,
with which names) from its structural Optuna params (for the MLP: ``n_hidden``); the layers' own
knobs fill in the rest (``dse.design.candidate``). It also owns the stored form of its candidates
(``to_dict``/``from_dict``): the MLP keeps the flat form dse has always written
(``{"widths": [...], "weight_bits": [...], ...}``), so old run folders, dedupe keys and reports
stay as they were. ``ARCHITECTURES`` maps ``model.type`` to the architecture.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dse.design.conv_kinds import Conv, Flatten, GlobalPooling, Pooling
from dse.design.layer_kind import DesignLayer
from dse.design.layer_kinds import Activation, Dense, OutputActivation
from dse.space import Searchable, SpaceConfig

__all__ = ["ARCHITECTURES", "CNN", "MLP", "Architecture", "Cnn", "LayerSlot", "MlpFields", "architecture_of",
           "register_architecture"]


@dataclass(frozen=True)
class LayerSlot:
    """One layer of a structure before its knobs are set: its kind, name and pinned fields."""

    cls: type[DesignLayer]
    name: str
    pinned: Mapping[str, Any] = field(default_factory=dict)


Suggest = Callable[[str, Searchable], Any]
"""``suggest(param_name, spec)``: Optuna's define-by-run sampling of one param."""


class Architecture(ABC):
    """The contract of an architecture (``NAME`` = the space's ``model.type``)."""

    NAME: str

    @abstractmethod
    def structure_params(self, layers: tuple[DesignLayer, ...], space: SpaceConfig) -> dict[str, Any]:
        """The structural Optuna params of a layer list (only those the space searches)."""

    @abstractmethod
    def suggest_structure(self, suggest: Suggest, space: SpaceConfig) -> dict[str, Any]:
        """Sample the structural params (called first, before any layer knob)."""

    @abstractmethod
    def slots(self, params: Mapping[str, Any], space: SpaceConfig) -> list[LayerSlot]:
        """The layers of the structure ``params`` describes, in model order."""

    @abstractmethod
    def to_dict(self, layers: tuple[DesignLayer, ...]) -> dict[str, Any] | None:
        """This architecture's own stored form of a layer list (without strategy and learning rate),
        or None to store the generic ``{"layers": [...]}`` form."""

    @abstractmethod
    def from_dict(self, d: Mapping[str, Any]) -> tuple[DesignLayer, ...] | None:
        """The layers of ``to_dict`` output, or None when ``d`` is not in this architecture's form."""


ARCHITECTURES: dict[str, Architecture] = {}


def register_architecture(arch: Architecture) -> Architecture:
    """Add ``arch`` under ``arch.NAME``; a name registered twice is refused."""
    if arch.NAME in ARCHITECTURES:
        raise ValueError(f"architecture {arch.NAME!r} is already registered")
    ARCHITECTURES[arch.NAME] = arch
    return arch


def architecture_of(space: SpaceConfig) -> Architecture:
    """The architecture of the space's ``model.type``."""
    return ARCHITECTURES[space.model.type]


@dataclass(frozen=True)
class MlpFields:
    """The MLP's flat description (its stored form): per hidden layer a width and activation bits;
    per dense layer (hidden + output) weight bits, bias bits, target sparsity and ReuseFactor."""

    widths: tuple[int, ...]
    weight_bits: tuple[int | str, ...]
    bias_bits: tuple[int, ...]
    activation_bits: tuple[int, ...]
    sparsity: tuple[float, ...]
    reuse_factor: tuple[int, ...]

    def __post_init__(self) -> None:
        n_dense = len(self.widths) + 1
        for name in ("weight_bits", "bias_bits", "sparsity", "reuse_factor"):
            if len(getattr(self, name)) != n_dense:
                raise ValueError(f"{name} needs {n_dense} entries (one per dense layer), "
                                 f"got {len(getattr(self, name))}")
        if len(self.activation_bits) != len(self.widths):
            raise ValueError("activation_bits needs one entry per hidden layer")

    def layers(self) -> tuple[DesignLayer, ...]:
        """``fc{i}`` + ``relu{i}`` per hidden layer, then ``out`` and ``out_act``."""
        out: list[DesignLayer] = []
        for i, width in enumerate(self.widths):
            out.append(Dense(f"fc{i}", width, self.weight_bits[i], self.bias_bits[i], self.sparsity[i],
                             self.reuse_factor[i]))
            out.append(Activation(f"relu{i}", self.activation_bits[i]))
        out.append(Dense("out", None, self.weight_bits[-1], self.bias_bits[-1], self.sparsity[-1],
                         self.reuse_factor[-1]))
        out.append(OutputActivation("out_act"))
        return tuple(out)

    @classmethod
    def of_layers(cls, layers: tuple[DesignLayer, ...]) -> MlpFields | None:
        """The flat description of an MLP layer list; None if ``layers`` is not an MLP."""
        n = (len(layers) - 2) // 2
        expected: list[tuple[type[DesignLayer], str]] = []
        for i in range(n):
            expected += [(Dense, f"fc{i}"), (Activation, f"relu{i}")]
        expected += [(Dense, "out"), (OutputActivation, "out_act")]
        if len(layers) != len(expected) or any(type(la) is not c or la.name != nm
                                               for la, (c, nm) in zip(layers, expected, strict=True)):
            return None
        dense = [la for la in layers if isinstance(la, Dense)]
        if any(d.units is None for d in dense[:-1]) or dense[-1].units is not None:
            return None
        return cls(widths=tuple(int(d.units or 0) for d in dense[:-1]),
                   weight_bits=tuple(d.weight_bits for d in dense), bias_bits=tuple(d.bias_bits for d in dense),
                   activation_bits=tuple(a.bits for a in layers if isinstance(a, Activation)),
                   sparsity=tuple(d.sparsity for d in dense), reuse_factor=tuple(d.reuse_factor for d in dense))


LEGACY_KEYS = ("widths", "weight_bits", "bias_bits", "activation_bits", "sparsity", "reuse_factor")


class Mlp(Architecture):
    """Hidden dense layers ``fc0 … fc{n-1}`` each followed by a quantized ReLU ``relu{i}``, then the
    output dense layer ``out`` and the output activation ``out_act``; ``n_hidden`` is searched
    (``model.hidden_layers``), each hidden width by the dense layer's ``width`` knob."""

    NAME = "mlp"

    def structure_params(self, layers: tuple[DesignLayer, ...], space: SpaceConfig) -> dict[str, Any]:
        if space.model.hidden_layers.is_fixed:
            return {}
        return {"n_hidden": sum(1 for la in layers if isinstance(la, Dense) and la.units is not None)}

    def suggest_structure(self, suggest: Suggest, space: SpaceConfig) -> dict[str, Any]:
        if space.model.hidden_layers.is_fixed:
            return {}
        return {"n_hidden": int(suggest("n_hidden", space.model.hidden_layers))}

    def slots(self, params: Mapping[str, Any], space: SpaceConfig) -> list[LayerSlot]:
        m = space.model
        n_hidden = int(params["n_hidden"]) if "n_hidden" in params else int(m.hidden_layers.fixed_value)
        out: list[LayerSlot] = []
        for i in range(n_hidden):
            out += [LayerSlot(Dense, f"fc{i}"), LayerSlot(Activation, f"relu{i}")]
        return [*out, LayerSlot(Dense, "out", {"units": None}), LayerSlot(OutputActivation, "out_act")]

    def to_dict(self, layers: tuple[DesignLayer, ...]) -> dict[str, Any] | None:
        f = MlpFields.of_layers(layers)
        if f is None:
            return None
        return {k: getattr(f, k) for k in LEGACY_KEYS}

    def from_dict(self, d: Mapping[str, Any]) -> tuple[DesignLayer, ...] | None:
        if not all(k in d for k in LEGACY_KEYS):
            return None
        return MlpFields(
            widths=tuple(int(x) for x in d["widths"]),
            weight_bits=tuple(x if isinstance(x, str) else int(x) for x in d["weight_bits"]),
            bias_bits=tuple(int(x) for x in d["bias_bits"]),
            activation_bits=tuple(int(x) for x in d["activation_bits"]),
            sparsity=tuple(float(x) for x in d["sparsity"]),
            reuse_factor=tuple(int(x) for x in d["reuse_factor"]),
        ).layers()


MLP = register_architecture(Mlp())


class Cnn(Architecture):
    """Conv blocks, then a dense head: block ``i`` is ``conv{i}`` (a ``conv`` layer: QConv1D or QConv2D
    from the data's sample shape) and its quantized ReLU ``cact{i}``, then ``pool{i}`` unless the block's
    pooling is ``none``; then ``flatten`` or a global pooling ``gpool`` (``model.conv.head``); then the
    MLP's head ``fc{i}`` + ``relu{i}`` (``model.hidden_layers``, may be 0), ``out`` and ``out_act``.

    Structural params (each only when the space searches it): ``conv_blocks``, ``pooling_{i}`` and
    ``pool_size_{i}`` per block (``model.conv.per_block`` may give block ``i`` its own choices), ``head``,
    ``n_hidden``; the candidate's ``io_type`` (sampled before them) pins the conv
    knobs that do not apply: ParallelizationFactor under io_stream, ConvImplementation under io_parallel.
    Stored in the generic ``{"architecture": "cnn", "layers": [...]}`` form."""

    NAME = "cnn"

    def structure_params(self, layers: tuple[DesignLayer, ...], space: SpaceConfig) -> dict[str, Any]:
        conv = space.model.conv
        assert conv is not None
        out: dict[str, Any] = {}
        names = {la.name: la for la in layers}
        n_blocks = sum(1 for la in layers if isinstance(la, Conv))
        if not conv.blocks.is_fixed:
            out["conv_blocks"] = n_blocks
        for i in range(n_blocks):
            pool = names.get(f"pool{i}")
            if not conv.for_block("pooling", i).is_fixed:
                out[f"pooling_{i}"] = pool.op if isinstance(pool, Pooling) else "none"
            if isinstance(pool, Pooling) and not conv.for_block("pool_size", i).is_fixed:
                out[f"pool_size_{i}"] = pool.pool_size
        if not conv.head.is_fixed:
            g = names.get("gpool")
            out["head"] = f"global_{g.op}" if isinstance(g, GlobalPooling) else "flatten"
        if not space.model.hidden_layers.is_fixed:
            out["n_hidden"] = sum(1 for la in layers if isinstance(la, Dense) and la.units is not None)
        return out

    def suggest_structure(self, suggest: Suggest, space: SpaceConfig) -> dict[str, Any]:
        conv = space.model.conv
        assert conv is not None
        out: dict[str, Any] = {}
        if not conv.blocks.is_fixed:
            out["conv_blocks"] = int(suggest("conv_blocks", conv.blocks))
        n_blocks = int(out.get("conv_blocks", conv.blocks.values()[0]))
        for i in range(n_blocks):
            pooling = conv.for_block("pooling", i)
            op = str(pooling.fixed_value if pooling.is_fixed else suggest(f"pooling_{i}", pooling))
            if not pooling.is_fixed:
                out[f"pooling_{i}"] = op
            size = conv.for_block("pool_size", i)
            if op != "none" and not size.is_fixed:
                out[f"pool_size_{i}"] = int(suggest(f"pool_size_{i}", size))
        if not conv.head.is_fixed:
            out["head"] = str(suggest("head", conv.head))
        if not space.model.hidden_layers.is_fixed:
            out["n_hidden"] = int(suggest("n_hidden", space.model.hidden_layers))
        return out

    def slots(self, params: Mapping[str, Any], space: SpaceConfig) -> list[LayerSlot]:
        m = space.model
        conv = m.conv
        assert conv is not None
        io_type = str(params.get("io_type", space.hardware.io_type))
        n_blocks = int(params.get("conv_blocks", conv.blocks.values()[0]))
        stream = io_type == "io_stream"
        not_here = {"parallelization_factor": None} if stream else {"conv_implementation": None}
        out: list[LayerSlot] = []
        for i in range(n_blocks):
            out += [LayerSlot(Conv, f"conv{i}", dict(not_here)), LayerSlot(Activation, f"cact{i}")]
            pooling = str(params.get(f"pooling_{i}", conv.for_block("pooling", i).values()[0]))
            if pooling != "none":
                size = int(params.get(f"pool_size_{i}", conv.for_block("pool_size", i).values()[0]))
                pinned: dict[str, Any] = {"op": pooling, "pool_size": size}
                if not stream:
                    pinned["conv_implementation"] = None
                out.append(LayerSlot(Pooling, f"pool{i}", pinned))
        head = str(params.get("head", conv.head.values()[0]))
        out.append(LayerSlot(Flatten, "flatten") if head == "flatten" else
                   LayerSlot(GlobalPooling, "gpool", {"op": head.removeprefix("global_")}))
        n_hidden = int(params.get("n_hidden", m.hidden_layers.values()[0]))
        for i in range(n_hidden):
            out += [LayerSlot(Dense, f"fc{i}"), LayerSlot(Activation, f"relu{i}")]
        return [*out, LayerSlot(Dense, "out", {"units": None}), LayerSlot(OutputActivation, "out_act")]

    def to_dict(self, layers: tuple[DesignLayer, ...]) -> dict[str, Any] | None:
        return None

    def from_dict(self, d: Mapping[str, Any]) -> tuple[DesignLayer, ...] | None:
        return None


CNN = register_architecture(Cnn())
