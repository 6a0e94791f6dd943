"""A candidate design: an ordered list of layers plus the global settings, with round trips to
Optuna params and the hls4ml config.

The layers are of the kinds registered in ``dse.design.layer_kind.LAYER_KINDS`` (``dense``,
``activation``, ``output_activation`` today); the architecture of the space (``model.type``,
``dse.design.architectures``) lays them out and names them. For the MLP: hidden dense layers
``fc0 … fc{n-1}``, their activations ``relu0 …``, the output dense layer ``out`` and its activation
``out_act``, so that the QKeras model, the hls4ml config and the cost model agree.

The Optuna params are the structural params of the architecture (``n_hidden``), then the layers'
knobs group by group (``width_{i}``, ``weight_bits[_{i}]``, ``bias_bits[_{i}]``,
``activation_bits[_{i}]``, ``sparsity[_{i}]``, ``reuse_factor[_{i}]``, where ``i`` counts the layers
having that knob), then ``strategy`` and ``learning_rate``: the names and the sampling order dse
has always used, so an existing study's params still decode. The CamelCase hls4ml configuration
dict is built here (``to_hls_config``, each layer writing its own entry) and nowhere else.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, cast

from cost_models.layers import IOType
from dse.design.architectures import ARCHITECTURES, MLP, LayerSlot, MlpFields, architecture_of
from dse.design.layer_kind import DesignContext, DesignLayer, Knob, as_shape, layer_from_dict
from dse.design.layer_kinds import WeightBits, hls_strategy
from dse.errors import ConfigError
from dse.space import Searchable, SpaceConfig

__all__ = ["Candidate", "WeightBits", "suggest_candidate"]


@dataclass(frozen=True)
class Candidate:
    """One design: its layers (model order), the hls4ml strategy (``latency``/``resource``), the
    learning rate, the architecture that laid the layers out (a ``model.type``) and hls4ml's
    ``io_type`` (``io_parallel``/``io_stream``; ``hardware.io_type`` may search it for a CNN)."""

    layers: tuple[DesignLayer, ...]
    strategy: str
    learning_rate: float
    architecture: str = "mlp"
    io_type: str = "io_parallel"

    def __post_init__(self) -> None:
        names = [la.name for la in self.layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names must be unique, got {names}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}; known: {', '.join(ARCHITECTURES)}")
        if self.io_type not in ("io_parallel", "io_stream"):
            raise ValueError(f"io_type must be io_parallel or io_stream, got {self.io_type!r}")

    @classmethod
    def mlp(cls, widths: tuple[int, ...], weight_bits: tuple[WeightBits, ...], bias_bits: tuple[int, ...],
            activation_bits: tuple[int, ...], sparsity: tuple[float, ...], reuse_factor: tuple[int, ...],
            strategy: str, learning_rate: float) -> Candidate:
        """An MLP from its flat description (per hidden layer: width, activation bits; per dense layer,
        the output one last: weight bits, bias bits, sparsity, ReuseFactor). Wrong lengths: ValueError."""
        fields = MlpFields(tuple(widths), tuple(weight_bits), tuple(bias_bits), tuple(activation_bits),
                           tuple(sparsity), tuple(reuse_factor))
        return cls(fields.layers(), strategy, float(learning_rate), MLP.NAME)

    # ------------------------------------------------------------------ views of the layer list

    @property
    def weighted_layers(self) -> tuple[DesignLayer, ...]:
        """The layers with weights (pruned, measured, with their own ReuseFactor), in model order."""
        return tuple(la for la in self.layers if la.HAS_WEIGHTS)

    @property
    def weighted_names(self) -> list[str]:
        return [la.name for la in self.weighted_layers]

    @property
    def sparsity(self) -> tuple[float, ...]:
        """The target sparsity of each weighted layer."""
        return tuple(float(getattr(la, "sparsity", 0.0)) for la in self.weighted_layers)

    def with_reuse_factors(self, reuse_factors: tuple[int, ...]) -> Candidate:
        """This candidate with the weighted layers' ReuseFactors replaced (one per weighted layer, in order)."""
        weighted = self.weighted_layers
        if len(reuse_factors) != len(weighted):
            raise ValueError(f"{len(reuse_factors)} ReuseFactors for {len(weighted)} weighted layers")
        it = iter(reuse_factors)
        return replace(self, layers=tuple(replace(la, reuse_factor=int(next(it))) if la.HAS_WEIGHTS else la  # type: ignore[type-var]
                                          for la in self.layers))

    @cached_property
    def _knob_values(self) -> dict[str, tuple[Any, ...]]:
        out: dict[str, list[Any]] = defaultdict(list)
        for la in self.layers:
            for k in la.knobs():
                out[k.group].append(getattr(la, k.field))
        return {g: tuple(v) for g, v in out.items()}

    def values(self, group: str) -> tuple[Any, ...]:
        """The values of knob group ``group`` (``width``, ``weight_bits``, ...) over the layers having it."""
        return self._knob_values.get(group, ())

    def short(self) -> str:
        """A one-line human summary, e.g. ``64-32 w6/6/6 a6/6 sp0.5 rf1 latency`` for an MLP (hidden widths,
        then per knob group one value if all layers share it, else the values in model order). Other layer
        lists show their feature layers before ``|`` and the hidden dense widths after it, e.g.
        ``c8k3-p2 | 16 w6 a6 sp0.5 rf1/2/1 latency`` (conv ``c<filters>k<kernel>[s<stride>]``, pooling
        ``p<size>`` (max) or ``ap<size>`` (average), global pooling ``gmp``/``gap``; flatten and
        activations are not shown; `` stream`` ends the line of an io_stream design)."""
        def seq(xs: tuple[Any, ...]) -> str:
            return str(xs[0]) if len(set(xs)) == 1 else "/".join(str(x) for x in xs)

        def dims(v: Any) -> str:
            vs = tuple(v) if isinstance(v, (tuple, list)) else (v,)
            return str(vs[0]) if len(set(vs)) == 1 else "x".join(map(str, vs))

        def average(la: DesignLayer) -> bool:
            op = next((getattr(la, a) for a in ("pool_type", "pooling", "mode", "op", "function")
                       if isinstance(getattr(la, a, None), str)), "")
            return str(op).lower().startswith("av") or "average" in la.KIND

        def token(la: DesignLayer) -> str | None:
            kind = la.KIND
            if hasattr(la, "filters"):
                kernel = getattr(la, "kernel_size", getattr(la, "kernel", None))
                out = f"c{la.filters}" + (f"k{dims(kernel)}" if kernel is not None else "")
                stride = getattr(la, "strides", getattr(la, "stride", None))
                if stride is not None and dims(stride) != "1":
                    out += f"s{dims(stride)}"
                return out
            if "pool" in kind:
                if "global" in kind:
                    return "gap" if average(la) else "gmp"
                size = next((getattr(la, a) for a in ("pool_size", "size") if getattr(la, a, None) is not None), "")
                return f"{'ap' if average(la) else 'p'}{dims(size) if size != '' else ''}"
            if kind in ("dense", "activation", "output_activation", "flatten") or "activation" in kind:
                return None
            return kind

        widths = '-'.join(map(str, self.values('width')))
        features = [t for t in (token(la) for la in self.layers) if t is not None]
        design = f"{'-'.join(features)} | {widths}".rstrip() if features else widths
        io = " stream" if self.io_type == "io_stream" else ""
        return (f"{design} w{seq(self.values('weight_bits'))} "
                f"a{seq(self.values('activation_bits'))} sp{seq(self.values('sparsity'))} "
                f"rf{seq(self.values('reuse_factor'))} {self.strategy}{io}")

    # ------------------------------------------------------------------ stored form

    def to_dict(self) -> dict[str, Any]:
        """The stored form (trial records, ``params.json``, Optuna user attributes, dedupe keys).

        An MLP keeps the flat form dse has always stored (``widths``, ``weight_bits``, ...); other
        architectures store ``{"architecture", "layers": [...], ...}`` (``to_layer_dict``)."""
        own = ARCHITECTURES[self.architecture].to_dict(self.layers)
        if own is None:
            return self.to_layer_dict()
        io = {"io_type": self.io_type} if self.io_type != "io_parallel" else {}
        return {**own, "strategy": self.strategy, "learning_rate": self.learning_rate, **io}

    def to_layer_dict(self) -> dict[str, Any]:
        """The generic stored form: every layer with its kind and fields."""
        return {"architecture": self.architecture, "layers": [la.to_dict() for la in self.layers],
                "strategy": self.strategy, "learning_rate": self.learning_rate, "io_type": self.io_type}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Candidate:
        """The candidate of ``to_dict`` or ``to_layer_dict`` output.

        A form this version cannot read raises ``ConfigError`` naming the keys it found."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"a stored candidate must be a mapping, got {type(d).__name__}")
        try:
            strategy, lr = str(d["strategy"]), float(d["learning_rate"])
            io_type = str(d.get("io_type", "io_parallel"))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"cannot read a stored candidate without strategy and learning_rate "
                              f"(keys: {sorted(d)})") from None
        try:
            if "layers" in d:
                arch = str(d.get("architecture", "mlp"))
                if arch not in ARCHITECTURES:
                    raise ConfigError(f"stored candidate of unknown architecture {arch!r}; "
                                      f"known: {', '.join(ARCHITECTURES)}")
                return cls(tuple(layer_from_dict(x) for x in d["layers"]), strategy, lr, arch, io_type)
            for name, arch_obj in ARCHITECTURES.items():
                layers = arch_obj.from_dict(d)
                if layers is not None:
                    return cls(layers, strategy, lr, name, io_type)
        except ConfigError:
            raise
        except (TypeError, ValueError) as exc:  # wrong lengths, duplicate names, bad values
            raise ConfigError(f"cannot read a stored candidate: {exc}") from None
        raise ConfigError(f"cannot read a stored candidate with keys {sorted(d)}: neither a layer list "
                          f"('layers') nor the form of a known architecture ({', '.join(ARCHITECTURES)}); "
                          "was it written by another dse version?")

    # ------------------------------------------------------------------ hls4ml

    def context(self, space: SpaceConfig, input_shape: int | Sequence[int] = 0, n_classes: int = 0) -> DesignContext:
        """The ``DesignContext`` of this candidate in ``space`` with the data's sizes (``input_shape``:
        one sample's shape, or an int for a flat input of that many features)."""
        n_out = 1 if space.model.output_activation == "sigmoid" else n_classes
        shape = as_shape(input_shape)
        return DesignContext(space, self.strategy, math.prod(shape) if shape else 0, n_out, shape,
                             cast(IOType, self.io_type))

    def to_hls_config(self, space: SpaceConfig) -> dict[str, Any]:
        """The hls4ml ``HLSConfig`` dict (``granularity='name'`` layout) for this candidate: each layer
        writes its own ``LayerName`` entry; an activation inherits the ReuseFactor of the weighted
        layer before it."""
        ctx = self.context(space)
        layers: dict[str, Any] = {}
        weighted = self.weighted_layers
        rf = int(getattr(weighted[0], "reuse_factor", 1)) if weighted else 1
        model_rf = rf
        for la in self.layers:
            layers[la.name] = la.hls_config(ctx, rf)
            if la.HAS_WEIGHTS:
                rf = int(getattr(la, "reuse_factor", 1))
        return {
            "Model": {
                "Precision": {"default": space.hardware.default_precision},
                "ReuseFactor": model_rf,
                "Strategy": hls_strategy(self.strategy),
                "BramFactor": 1_000_000_000,
                "TraceOutput": False,
            },
            "LayerName": layers,
        }

    @classmethod
    def from_hls_config(cls, config: Mapping[str, Any], like: Candidate) -> Candidate:
        """Read a candidate back from ``to_hls_config`` output.

        An hls4ml config holds precisions, ReuseFactors and the strategy; the structure (layers and
        widths), the target sparsity and the learning rate live in the model and its training, so
        they are taken from ``like`` (a candidate with the same layers)."""
        entries = config["LayerName"]
        missing = [la.name for la in like.layers if la.name not in entries]
        if missing:
            raise ConfigError(f"the hls4ml config has no entry for layers {missing}")
        layers = tuple(la.with_hls_config(entries[la.name]) for la in like.layers)
        weighted = [la for la in like.layers if la.HAS_WEIGHTS]
        strategy = str(entries[weighted[0].name]["Strategy"]).lower() if weighted else like.strategy
        return replace(like, layers=layers, strategy=strategy)

    # ------------------------------------------------------------------ Optuna params

    def to_params(self, space: SpaceConfig) -> dict[str, Any]:
        """The Optuna params that ``from_params`` turns back into this candidate.

        Fixed values (a single choice) are not params; per-layer keys exist only for the
        layers this candidate has."""
        out: dict[str, Any] = {}
        if not space.hardware.io_types.is_fixed:
            out["io_type"] = self.io_type
        out.update(ARCHITECTURES[self.architecture].structure_params(self.layers, space))
        for group in _groups(self.layers):
            for position, (layer, knob) in enumerate(group):
                spec = knob.spec(space, position)
                if spec is None or spec.is_fixed:
                    continue
                if knob.per_layer(space) or position == 0:
                    out[knob.param_name(space, position)] = getattr(layer, knob.field)
        if not space.hardware.strategy.is_fixed:
            out["strategy"] = self.strategy
        if not space.training.learning_rate.is_fixed:
            out["learning_rate"] = self.learning_rate
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any], space: SpaceConfig) -> Candidate:
        arch = architecture_of(space)
        slots = arch.slots(params, space)
        fields: list[dict[str, Any]] = [dict(s.pinned) for s in slots]
        for group in _slot_groups(slots):
            for position, (i, knob) in enumerate(group):
                spec = knob.spec(space, position)
                if spec is None:
                    assert knob.derive is not None, f"knob {knob.group} has neither a spec nor a derived value"
                    value = knob.derive(fields[i])
                elif spec.is_fixed:
                    value = spec.fixed_value
                else:
                    value = params[knob.param_name(space, position)]
                fields[i][knob.field] = knob.convert(value)
        h = space.hardware
        return cls(
            layers=tuple(s.cls(name=s.name, **f) for s, f in zip(slots, fields, strict=True)),  # type: ignore[call-arg]
            strategy=str(params.get("strategy", h.strategy.choices[0] if h.strategy.choices else "latency")),
            learning_rate=float(params.get("learning_rate", space.training.learning_rate.values()[0])),
            architecture=arch.NAME,
            io_type=str(params.get("io_type", h.io_type)),
        )


def _groups(layers: tuple[DesignLayer, ...]) -> list[list[tuple[DesignLayer, Knob]]]:
    """The layers' knobs grouped by param group, groups in rank order, layers in model order."""
    by: dict[str, list[tuple[DesignLayer, Knob]]] = defaultdict(list)
    for la in layers:
        for k in la.knobs():
            by[k.group].append((la, k))
    return sorted(by.values(), key=lambda g: g[0][1].rank)


def _slot_groups(slots: list[LayerSlot]) -> list[list[tuple[int, Knob]]]:
    """As ``_groups`` for the slots of a structure (slot index, knob)."""
    by: dict[str, list[tuple[int, Knob]]] = defaultdict(list)
    for i, s in enumerate(slots):
        for k in s.cls.slot_knobs(s.pinned):
            by[k.group].append((i, k))
    return sorted(by.values(), key=lambda g: g[0][1].rank)


def suggest_candidate(trial: Any, space: SpaceConfig) -> Candidate:
    """Sample a candidate with Optuna's define-by-run API (``trial`` from ``study.ask()``): the
    architecture's structure first, then the layers' knobs group by group, then the globals."""

    def suggest(name: str, spec: Searchable) -> Any:
        if spec.choices is not None:
            return trial.suggest_categorical(name, list(spec.choices))
        assert spec.low is not None and spec.high is not None
        if spec.kind == "int":
            return trial.suggest_int(name, int(spec.low), int(spec.high), step=int(spec.step or 1), log=spec.log)
        return trial.suggest_float(name, spec.low, spec.high, step=spec.step, log=spec.log)

    arch = architecture_of(space)
    params: dict[str, Any] = {}
    if not space.hardware.io_types.is_fixed:
        params["io_type"] = suggest("io_type", space.hardware.io_types)
    params.update(arch.suggest_structure(suggest, space))
    for group in _slot_groups(arch.slots(params, space)):
        for position, (_, knob) in enumerate(group):
            spec = knob.spec(space, position)
            if spec is None or spec.is_fixed:
                continue
            if knob.per_layer(space) or position == 0:
                name = knob.param_name(space, position)
                params[name] = suggest(name, spec)
    h = space.hardware
    if not h.strategy.is_fixed:
        params["strategy"] = suggest("strategy", h.strategy)
    if not space.training.learning_rate.is_fixed:
        params["learning_rate"] = suggest("learning_rate", space.training.learning_rate)
    return Candidate.from_params(params, space)
