"""A candidate design: one point of the space, with round trips to Optuna params and hls4ml config.

Layer naming is fixed so that the QKeras model, the hls4ml config and the cost model agree:
hidden dense layers ``fc0 … fc{n-1}``, their activations ``relu0 …``, the output dense
layer ``out`` and its activation ``out_act``. The CamelCase hls4ml configuration dict is
built here (``to_hls_config``) and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from dse.errors import ConfigError
from dse.space import Searchable, SpaceConfig

WeightBits = int | str  # an integer, or "binary" / "ternary"


@dataclass(frozen=True)
class Candidate:
    """One design: widths of the hidden layers and, per dense layer (hidden + output), its bits,
    sparsity and ReuseFactor; activation bits per hidden layer; the hls4ml strategy."""

    widths: tuple[int, ...]
    weight_bits: tuple[WeightBits, ...]
    bias_bits: tuple[int, ...]
    activation_bits: tuple[int, ...]
    sparsity: tuple[float, ...]
    reuse_factor: tuple[int, ...]
    strategy: str
    learning_rate: float

    def __post_init__(self) -> None:
        n_dense = len(self.widths) + 1
        for name in ("weight_bits", "bias_bits", "sparsity", "reuse_factor"):
            if len(getattr(self, name)) != n_dense:
                raise ValueError(f"{name} needs {n_dense} entries (one per dense layer), "
                                 f"got {len(getattr(self, name))}")
        if len(self.activation_bits) != len(self.widths):
            raise ValueError("activation_bits needs one entry per hidden layer")

    @property
    def n_hidden(self) -> int:
        return len(self.widths)

    @property
    def dense_names(self) -> list[str]:
        return [f"fc{i}" for i in range(self.n_hidden)] + ["out"]

    @property
    def activation_names(self) -> list[str]:
        return [f"relu{i}" for i in range(self.n_hidden)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Candidate:
        return cls(
            widths=tuple(int(x) for x in d["widths"]),
            weight_bits=tuple(x if isinstance(x, str) else int(x) for x in d["weight_bits"]),
            bias_bits=tuple(int(x) for x in d["bias_bits"]),
            activation_bits=tuple(int(x) for x in d["activation_bits"]),
            sparsity=tuple(float(x) for x in d["sparsity"]),
            reuse_factor=tuple(int(x) for x in d["reuse_factor"]),
            strategy=str(d["strategy"]),
            learning_rate=float(d["learning_rate"]),
        )

    def short(self) -> str:
        """A one-line human summary, e.g. ``64-32 w6/6/6 a6/6 sp0.5 rf1 latency``."""
        def seq(xs: tuple[Any, ...]) -> str:
            return str(xs[0]) if len(set(xs)) == 1 else "/".join(str(x) for x in xs)

        return (f"{'-'.join(map(str, self.widths))} w{seq(self.weight_bits)} a{seq(self.activation_bits)} "
                f"sp{seq(self.sparsity)} rf{seq(self.reuse_factor)} {self.strategy}")

    # ------------------------------------------------------------------ hls4ml

    def weight_precision(self, layer: int, space: SpaceConfig) -> str:
        """The hls4ml type of layer ``layer``'s weights, as hls4ml derives it from the quantizer."""
        bits = self.weight_bits[layer]
        if bits == "binary":
            return "uint<1>"  # hls4ml turns a QKeras binary kernel into an XNOR (1-bit) type
        if bits == "ternary":
            return "int<2>"
        return f"fixed<{bits},{space.quantization.weight_integer_bits + 1},TRN,WRAP>"

    def bias_precision(self, layer: int, space: SpaceConfig) -> str:
        return f"fixed<{self.bias_bits[layer]},{space.quantization.weight_integer_bits + 1},TRN,WRAP>"

    def activation_precision(self, layer: int, space: SpaceConfig) -> str:
        return f"ufixed<{self.activation_bits[layer]},{space.quantization.activation_integer_bits},RND_CONV,SAT>"

    def to_hls_config(self, space: SpaceConfig) -> dict[str, Any]:
        """The hls4ml ``HLSConfig`` dict (``granularity='name'`` layout) for this candidate."""
        hw = space.hardware
        layers: dict[str, Any] = {}
        for i, name in enumerate(self.dense_names):
            layers[name] = {
                "Precision": {
                    "weight": self.weight_precision(i, space),
                    "bias": self.bias_precision(i, space),
                    "result": "auto",
                    "accum": "auto",
                },
                "ReuseFactor": self.reuse_factor[i],
                "Strategy": hls_strategy(self.strategy),
            }
        for i, name in enumerate(self.activation_names):
            layers[name] = {"Precision": {"result": self.activation_precision(i, space)},
                            "ReuseFactor": self.reuse_factor[i]}
        layers["out_act"] = {"Precision": {"result": "auto"}, "ReuseFactor": self.reuse_factor[-1]}
        return {
            "Model": {
                "Precision": {"default": hw.default_precision},
                "ReuseFactor": self.reuse_factor[0],
                "Strategy": hls_strategy(self.strategy),
                "BramFactor": 1_000_000_000,
                "TraceOutput": False,
            },
            "LayerName": layers,
        }

    @classmethod
    def from_hls_config(cls, config: Mapping[str, Any], widths: tuple[int, ...], sparsity: tuple[float, ...],
                        learning_rate: float) -> Candidate:
        """Read a candidate back from ``to_hls_config`` output.

        An hls4ml config holds precisions, ReuseFactor and strategy; the widths, the target
        sparsity and the learning rate live in the model and its training, so they are given.
        """
        layers = config["LayerName"]
        dense = sorted((k for k in layers if re.fullmatch(r"fc\d+", k)), key=lambda k: int(k[2:])) + ["out"]
        if len(widths) != len(dense) - 1:
            raise ConfigError(f"the hls4ml config has {len(dense) - 1} hidden dense layers, "
                              f"but {len(widths)} widths were given")

        def bits_of(t: str) -> tuple[int, int]:
            m = re.match(r"u?fixed<(\d+),(-?\d+)", t)
            if not m:
                raise ConfigError(f"cannot read precision {t!r}")
            return int(m.group(1)), int(m.group(2))

        def weight_bits_of(t: str) -> WeightBits:
            return {"uint<1>": "binary", "int<2>": "ternary"}.get(t) or bits_of(t)[0]

        wbits = [weight_bits_of(layers[name]["Precision"]["weight"]) for name in dense]
        return cls(
            widths=widths,
            weight_bits=tuple(wbits),
            bias_bits=tuple(bits_of(layers[n]["Precision"]["bias"])[0] for n in dense),
            activation_bits=tuple(bits_of(layers[f"relu{i}"]["Precision"]["result"])[0]
                                  for i in range(len(widths))),
            sparsity=tuple(sparsity),
            reuse_factor=tuple(int(layers[n]["ReuseFactor"]) for n in dense),
            strategy=str(layers[dense[0]]["Strategy"]).lower(),
            learning_rate=float(learning_rate),
        )

    # ------------------------------------------------------------------ Optuna params

    def to_params(self, space: SpaceConfig) -> dict[str, Any]:
        """The Optuna params that ``from_params`` turns back into this candidate.

        Fixed values (a single choice) are not params; per-layer keys exist only for the
        layers this candidate has.
        """
        out: dict[str, Any] = {}
        m, q, s, h = space.model, space.quantization, space.sparsity, space.hardware
        if not m.hidden_layers.is_fixed:
            out["n_hidden"] = self.n_hidden
        for i, w in enumerate(self.widths):
            if not m.width_for(i).is_fixed:
                out[f"width_{i}"] = w
        n_dense = self.n_hidden + 1
        _put(out, "weight_bits", q.weight_bits, self.weight_bits, q.per_layer, n_dense)
        if q.bias_bits is not None:
            _put(out, "bias_bits", q.bias_bits, self.bias_bits, q.per_layer, n_dense)
        _put(out, "activation_bits", q.activation_bits, self.activation_bits, q.per_layer, self.n_hidden)
        _put(out, "sparsity", s.target, self.sparsity, s.per_layer, n_dense)
        _put(out, "reuse_factor", h.reuse_factor, self.reuse_factor, h.per_layer_reuse, n_dense)
        if not h.strategy.is_fixed:
            out["strategy"] = self.strategy
        if not space.training.learning_rate.is_fixed:
            out["learning_rate"] = self.learning_rate
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any], space: SpaceConfig) -> Candidate:
        m, q, s, h = space.model, space.quantization, space.sparsity, space.hardware
        n_hidden = int(params["n_hidden"]) if "n_hidden" in params else int(m.hidden_layers.fixed_value)
        widths = tuple(int(params[f"width_{i}"]) if f"width_{i}" in params else int(m.width_for(i).fixed_value)
                       for i in range(n_hidden))
        n_dense = n_hidden + 1
        wbits = _get(params, "weight_bits", q.weight_bits, q.per_layer, n_dense)
        bbits = (_get(params, "bias_bits", q.bias_bits, q.per_layer, n_dense) if q.bias_bits is not None
                 else tuple(b if isinstance(b, int) else 2 for b in wbits))
        return cls(
            widths=widths,
            weight_bits=tuple(b if isinstance(b, str) else int(b) for b in wbits),
            bias_bits=tuple(int(b) for b in bbits),
            activation_bits=tuple(int(b) for b in _get(params, "activation_bits", q.activation_bits, q.per_layer,
                                                       n_hidden)),
            sparsity=tuple(float(x) for x in _get(params, "sparsity", s.target, s.per_layer, n_dense)),
            reuse_factor=tuple(int(x) for x in _get(params, "reuse_factor", h.reuse_factor, h.per_layer_reuse,
                                                    n_dense)),
            strategy=str(params.get("strategy", h.strategy.choices[0] if h.strategy.choices else "latency")),
            learning_rate=float(params.get("learning_rate", space.training.learning_rate.values()[0])),
        )


def hls_strategy(strategy: str) -> str:
    """hls4ml's spelling of a strategy: ``Latency``, ``Resource``, ``distributed_arithmetic`` (its own key)."""
    return strategy if strategy == "distributed_arithmetic" else strategy.capitalize()


def _put(out: dict[str, Any], key: str, spec: Searchable, values: tuple[Any, ...], per_layer: bool, n: int) -> None:
    if spec.is_fixed or n == 0:
        return
    if per_layer:
        for i in range(n):
            out[f"{key}_{i}"] = values[i]
    else:
        out[key] = values[0]


def _get(params: Mapping[str, Any], key: str, spec: Searchable, per_layer: bool, n: int) -> tuple[Any, ...]:
    if spec.is_fixed:
        return (spec.fixed_value,) * n
    if per_layer:
        return tuple(params[f"{key}_{i}"] for i in range(n))
    return (params[key],) * n


def suggest_candidate(trial: Any, space: SpaceConfig) -> Candidate:
    """Sample a candidate with Optuna's define-by-run API (``trial`` from ``study.ask()``)."""
    m, q, s, h = space.model, space.quantization, space.sparsity, space.hardware

    def suggest(name: str, spec: Searchable) -> Any:
        if spec.choices is not None:
            return trial.suggest_categorical(name, list(spec.choices))
        assert spec.low is not None and spec.high is not None
        if spec.kind == "int":
            return trial.suggest_int(name, int(spec.low), int(spec.high), step=int(spec.step or 1), log=spec.log)
        return trial.suggest_float(name, spec.low, spec.high, step=spec.step, log=spec.log)

    params: dict[str, Any] = {}
    n_hidden = int(suggest("n_hidden", m.hidden_layers)) if not m.hidden_layers.is_fixed else None
    if n_hidden is not None:
        params["n_hidden"] = n_hidden
    n_hidden = n_hidden if n_hidden is not None else int(m.hidden_layers.fixed_value)
    for i in range(n_hidden):
        if not m.width_for(i).is_fixed:
            params[f"width_{i}"] = suggest(f"width_{i}", m.width_for(i))
    n_dense = n_hidden + 1
    groups: list[tuple[str, Searchable | None, bool, int]] = [
        ("weight_bits", q.weight_bits, q.per_layer, n_dense),
        ("bias_bits", q.bias_bits, q.per_layer, n_dense),
        ("activation_bits", q.activation_bits, q.per_layer, n_hidden),
        ("sparsity", s.target, s.per_layer, n_dense),
        ("reuse_factor", h.reuse_factor, h.per_layer_reuse, n_dense),
    ]
    for key, spec, per_layer, n in groups:
        if spec is None or spec.is_fixed or n == 0:
            continue
        if per_layer:
            for i in range(n):
                params[f"{key}_{i}"] = suggest(f"{key}_{i}", spec)
        else:
            params[key] = suggest(key, spec)
    if not h.strategy.is_fixed:
        params["strategy"] = suggest("strategy", h.strategy)
    if not space.training.learning_rate.is_fixed:
        params["learning_rate"] = suggest("learning_rate", space.training.learning_rate)
    return Candidate.from_params(params, space)
