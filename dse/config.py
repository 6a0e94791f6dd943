"""The space file: its schema, validation with key paths and lines, and Optuna distributions.

The reference of every key is docs/space_file.md. ``load_space(path)`` is the one entry
point; it returns a frozen ``SpaceConfig`` or raises ``ConfigError`` naming the key path
and the line. Nothing here imports TensorFlow, hls4ml or Ray.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from dse.errors import ConfigError
from dse.yaml_lines import load_yaml_with_lines

# Metrics a study can optimise or constrain, mapped to the key of the trial result.
COST_METRICS: dict[str, str] = {
    "dsp": "dsp",
    "lut": "lut",
    "ff": "ff",
    "bram": "bram_18k",
    "latency_ns": "latency_ns",
    "latency_cycles": "latency_cycles",
    "ii": "ii",
}
QUALITY_METRICS: dict[str, str] = {"accuracy": "val_accuracy", "loss": "val_loss", "auc": "val_auc"}
METRICS: dict[str, str] = {**QUALITY_METRICS, **COST_METRICS}
PART_METRICS = ("dsp", "lut", "ff", "bram")  # metrics that can be budgeted as % of the part

SAMPLERS = ("tpe", "nsga2", "gp", "random")
PRUNERS = ("none", "median", "percentile", "hyperband", "successive_halving")
SKLEARN_SETS = ("digits", "breast_cancer", "iris", "wine")
WEIGHT_SPECIAL_BITS = ("binary", "ternary")


# --------------------------------------------------------------------------- searchable values


@dataclass(frozen=True)
class Searchable:
    """A value that is fixed, one of ``choices``, or in ``[low, high]`` (with ``step`` or ``log``).

    ``kind`` is ``int``, ``float`` or ``categorical``. A single choice is a fixed value and
    is not suggested to the sampler.
    """

    kind: Literal["int", "float", "categorical"]
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False

    @property
    def is_fixed(self) -> bool:
        return self.choices is not None and len(self.choices) == 1

    @property
    def fixed_value(self) -> Any:
        assert self.choices is not None and len(self.choices) == 1
        return self.choices[0]

    def values(self) -> list[Any]:
        """Every value it can take (ranges expanded by their step); for docs and checks."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            step = int(self.step or 1)
            return list(range(int(self.low), int(self.high) + 1, step))
        return [self.low, self.high]

    def distribution(self) -> Any:
        """The Optuna distribution for this value (Optuna is imported lazily)."""
        import optuna.distributions as d

        if self.choices is not None:
            return d.CategoricalDistribution(list(self.choices))
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return d.IntDistribution(
                int(self.low), int(self.high), log=self.log, step=1 if self.log else int(self.step or 1)
            )
        return d.FloatDistribution(float(self.low), float(self.high), log=self.log, step=self.step)

    def to_yaml(self) -> Any:
        if self.choices is not None:
            return self.choices[0] if self.is_fixed else {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step is not None:
            out["step"] = self.step
        if self.log:
            out["log"] = True
        return out


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class DataConfig:
    source: Literal["sklearn", "file", "openml"]
    name: str | None = None
    path: str | None = None
    features: tuple[str, ...] | None = None
    label: str | None = None
    openml_id: int | None = None
    openml_version: int | None = None
    cache_dir: str = "data_cache"
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    seed: int = 0
    standardize: bool = True
    max_samples: int | None = None


@dataclass(frozen=True)
class ModelConfig:
    type: Literal["mlp"]
    hidden_layers: Searchable
    widths: tuple[Searchable, ...]
    """One entry per hidden layer position (a single entry is shared by all positions)."""
    output_activation: Literal["softmax", "sigmoid", "linear"] = "softmax"

    @property
    def max_hidden_layers(self) -> int:
        return int(max(self.hidden_layers.values()))

    def width_for(self, i: int) -> Searchable:
        return self.widths[i] if len(self.widths) > 1 else self.widths[0]


@dataclass(frozen=True)
class QuantizationConfig:
    weight_bits: Searchable
    bias_bits: Searchable | None
    """None means: the same as the layer's weight bits."""
    activation_bits: Searchable
    weight_integer_bits: int = 0
    activation_integer_bits: int = 1
    per_layer: bool = True


@dataclass(frozen=True)
class SparsityConfig:
    target: Searchable
    per_layer: bool = False
    begin_fraction: float = 0.2
    end_fraction: float = 0.8
    frequency: int = 10


@dataclass(frozen=True)
class HardwareConfig:
    backend: Literal["vitis", "vivado"]
    part: str
    clock_period_ns: float
    io_type: Literal["io_parallel", "io_stream"]
    reuse_factor: Searchable
    per_layer_reuse: bool
    strategy: Searchable
    tool_version: str | None = None
    default_precision: str = "fixed<16,6>"


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 20
    batch_size: int = 64
    optimizer: Literal["adam", "sgd", "rmsprop"] = "adam"
    learning_rate: Searchable = field(default_factory=lambda: Searchable("float", choices=(0.003,)))
    early_stopping_patience: int | None = 5
    pruner: str = "none"


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: Literal["minimize", "maximize"]

    @property
    def result_key(self) -> str:
        return METRICS[self.metric]


@dataclass(frozen=True)
class Constraint:
    """``metric <op> bound``; ``percent`` means the bound is a % of the target part's total."""

    metric: str
    op: Literal["<=", ">="]
    bound: float
    percent: bool = False

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}{'%' if self.percent else ''}"


@dataclass(frozen=True)
class SearchConfig:
    sampler: str = "tpe"
    n_trials: int = 20
    timeout_s: float | None = None
    seed: int = 0
    workers: int = 1
    budget_confidence: float | None = None
    """Enforce budgets at this probability of being met (e.g. 0.9); None: on the point estimate."""
    allow_repeats: bool = False
    """Train a design (same parameters) again when the sampler proposes it twice."""


@dataclass(frozen=True)
class SynthesisConfig:
    """The ``synthesis:`` section (real HLS runs); ``backend: none`` turns it off."""

    backend: Literal["none", "vitis", "vivado"] = "none"
    every: int = 10
    batch: int = 2
    timeout_s: float = 4 * 3600.0
    concurrency: int = 1
    num_cpus: int = 1
    resources: tuple[tuple[str, float], ...] = ()
    vsynth: bool = False
    executable: str | None = None
    firmware_accuracy: bool = True


@dataclass(frozen=True)
class SpaceConfig:
    name: str
    data: DataConfig
    model: ModelConfig
    quantization: QuantizationConfig
    sparsity: SparsityConfig
    hardware: HardwareConfig
    training: TrainingConfig
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    search: SearchConfig
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)
    source_file: str | None = field(default=None, compare=False)

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (the resolved space, as written to the run folder)."""

        def conv(obj: Any) -> Any:
            if isinstance(obj, Searchable):
                return obj.to_yaml()
            if isinstance(obj, tuple):
                return [conv(x) for x in obj]
            if isinstance(obj, dict):
                return {k: conv(v) for k, v in obj.items()}
            return obj

        raw = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "source_file"}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if hasattr(value, "__dataclass_fields__"):
                out[key] = {k: conv(getattr(value, k)) for k in value.__dataclass_fields__}
            elif isinstance(value, tuple):
                out[key] = [
                    {k: conv(v) for k, v in asdict(item).items()} if hasattr(item, "__dataclass_fields__") else item
                    for item in value
                ]
            else:
                out[key] = value
        return out

    def search_identity(self) -> dict[str, Any]:
        """The parts of the space that define the study: changing them forbids a resume."""
        d = self.to_dict()
        for k in ("search", "synthesis", "name"):
            d.pop(k, None)
        d["search"] = {"sampler": self.search.sampler, "seed": self.search.seed}
        return d


# --------------------------------------------------------------------------- validation helpers

_NO_DEFAULT = object()


class _Reader:
    """Walks the raw YAML data, producing ConfigErrors with key path and line."""

    def __init__(self, file: str | None, lines: dict[str, int]):
        self.file = file
        self.lines = lines

    def error(self, path: str, message: str) -> ConfigError:
        line = self.lines.get(path)
        probe = path
        while line is None and probe:
            probe = probe.rsplit(".", 1)[0] if "." in probe else ""
            line = self.lines.get(probe)
        return ConfigError(message, path=path, file=self.file, line=line)

    def mapping(self, value: Any, path: str, allowed: Sequence[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, f"must be a mapping (key: value), got {_typename(value)}")
        for key in value:
            if key not in allowed:
                hint = _close(str(key), allowed)
                raise self.error(
                    _join(path, key),
                    f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}",
                )
        return value

    def get(self, section: Mapping[str, Any], key: str, path: str, default: Any = _NO_DEFAULT) -> Any:
        if key in section and section[key] is not None:
            return section[key]
        if default is _NO_DEFAULT:
            raise self.error(_join(path, key), "is required")
        return default

    def integer(self, value: Any, path: str, minimum: int | None = None, maximum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise self.error(path, f"must be an integer, got {_typename(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(path, f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(path, f"must be <= {maximum}, got {value}")
        return int(value)

    def number(
        self, value: Any, path: str, minimum: float | None = None, maximum: float | None = None,
        exclusive_min: bool = False, exclusive_max: bool = False,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(path, f"must be a number, got {_typename(value)} {value!r}")
        if minimum is not None and (value <= minimum if exclusive_min else value < minimum):
            raise self.error(path, f"must be {'>' if exclusive_min else '>='} {minimum:g}, got {value:g}")
        if maximum is not None and (value >= maximum if exclusive_max else value > maximum):
            raise self.error(path, f"must be {'<' if exclusive_max else '<='} {maximum:g}, got {value:g}")
        return float(value)

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, f"must be true or false, got {_typename(value)} {value!r}")
        return value

    def string(self, value: Any, path: str, choices: Sequence[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"must be a non-empty string, got {_typename(value)} {value!r}")
        if choices is not None and value.lower() not in choices:
            raise self.error(path, f"must be one of {', '.join(choices)}; got {value!r}{_close(value, choices)}")
        return value.lower() if choices is not None else value

    def searchable_int(
        self, value: Any, path: str, minimum: int, what: str, extra_choices: Sequence[str] = ()
    ) -> Searchable:
        """An int value, list of choices, {choices: [...]}, or {low, high, step|log}."""
        if isinstance(value, dict):
            self.mapping(value, path, ("choices", "low", "high", "step", "log"))
            if "choices" in value:
                if any(k in value for k in ("low", "high", "step", "log")):
                    raise self.error(path, "give either choices or low/high, not both")
                return self.searchable_int(value["choices"], _join(path, "choices"), minimum, what, extra_choices)
            if "low" not in value or "high" not in value:
                raise self.error(path, "a range needs both low and high (or use choices: [...])")
            low = self.integer(value["low"], _join(path, "low"), minimum=minimum)
            high = self.integer(value["high"], _join(path, "high"), minimum=minimum)
            if high < low:
                raise self.error(path, f"empty or reversed range: low={low} > high={high}")
            log = self.boolean(value.get("log", False), _join(path, "log"))
            step = self.integer(value.get("step", 1), _join(path, "step"), minimum=1)
            if log and step != 1:
                raise self.error(path, "log ranges cannot have a step")
            if low == high:
                return Searchable("int", choices=(low,))
            return Searchable("int", low=low, high=high, step=None if log else step, log=log)
        if isinstance(value, list):
            if not value:
                raise self.error(path, "an empty list of choices: give at least one value")
            out: list[Any] = []
            for i, item in enumerate(value):
                if isinstance(item, str) and item.lower() in extra_choices:
                    out.append(item.lower())
                else:
                    out.append(self._int_choice(item, _join(path, i), minimum, what, extra_choices))
            if len(set(out)) != len(out):
                raise self.error(path, f"duplicate choices in {value!r}")
            kind: Literal["int", "categorical"] = (
                "categorical" if any(isinstance(x, str) for x in out) else "int"
            )
            return Searchable(kind, choices=tuple(out))
        if isinstance(value, str) and value.lower() in extra_choices:
            return Searchable("categorical", choices=(value.lower(),))
        return Searchable("int", choices=(self._int_choice(value, path, minimum, what, extra_choices),))

    def _int_choice(self, value: Any, path: str, minimum: int, what: str, extra: Sequence[str]) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok:
            allowed = f" or one of {', '.join(extra)}" if extra else ""
            raise self.error(path, f"{what} must be a positive integer{allowed}, got {_typename(value)} {value!r}")
        if value < minimum:
            raise self.error(path, f"{what} must be >= {minimum}, got {value}")
        return int(value)

    def searchable_float(self, value: Any, path: str, minimum: float, maximum: float, what: str,
                         exclusive_max: bool = False, exclusive_min: bool = False) -> Searchable:
        if isinstance(value, dict):
            self.mapping(value, path, ("choices", "low", "high", "step", "log"))
            if "choices" in value:
                return self.searchable_float(value["choices"], _join(path, "choices"), minimum, maximum, what,
                                             exclusive_max, exclusive_min)
            if "low" not in value or "high" not in value:
                raise self.error(path, "a range needs both low and high (or use choices: [...])")
            low = self.number(value["low"], _join(path, "low"), minimum, maximum, exclusive_min, exclusive_max)
            high = self.number(value["high"], _join(path, "high"), minimum, maximum, exclusive_min, exclusive_max)
            if high < low:
                raise self.error(path, f"empty or reversed range: low={low:g} > high={high:g}")
            log = self.boolean(value.get("log", False), _join(path, "log"))
            if log and low <= 0:
                raise self.error(path, "a log range needs low > 0")
            step = value.get("step")
            if step is not None:
                step = self.number(step, _join(path, "step"), 0, None, exclusive_min=True)
                if log:
                    raise self.error(path, "log ranges cannot have a step")
            if low == high:
                return Searchable("float", choices=(low,))
            return Searchable("float", low=low, high=high, step=step, log=log)
        if isinstance(value, list):
            if not value:
                raise self.error(path, "an empty list of choices: give at least one value")
            vals = tuple(
                self.number(v, _join(path, i), minimum, maximum, exclusive_min, exclusive_max)
                for i, v in enumerate(value)
            )
            if len(set(vals)) != len(vals):
                raise self.error(path, f"duplicate choices in {value!r}")
            return Searchable("float", choices=vals)
        return Searchable(
            "float", choices=(self.number(value, path, minimum, maximum, exclusive_min, exclusive_max),)
        )

    def searchable_str(self, value: Any, path: str, allowed: Sequence[str]) -> Searchable:
        if isinstance(value, dict):
            self.mapping(value, path, ("choices",))
            value = self.get(value, "choices", path)
            path = _join(path, "choices")
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.error(path, "an empty list of choices: give at least one value")
        vals = tuple(self.string(v, _join(path, i) if isinstance(value, list) else path, allowed)
                     for i, v in enumerate(items))
        return Searchable("categorical", choices=vals)


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _typename(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


def _close(word: str, options: Sequence[str]) -> str:
    import difflib

    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    if not match:
        match = [o for o in options if o.startswith(word) or word.startswith(o)][:1]
    return f" (did you mean {match[0]!r}?)" if match else ""


# --------------------------------------------------------------------------- the sections

TOP_KEYS = ("name", "data", "model", "quantization", "sparsity", "hardware", "training", "objectives",
            "constraints", "search", "synthesis")


def _parse_data(r: _Reader, raw: Any, base_dir: Path) -> DataConfig:
    p = "data"
    d = r.mapping(raw, p, ("source", "name", "path", "features", "label", "openml_id", "version", "cache_dir",
                           "split", "standardize", "max_samples"))
    source = r.string(r.get(d, "source", p), f"{p}.source", ("sklearn", "file", "openml"))
    split = r.mapping(d.get("split", {}) or {}, f"{p}.split", ("val", "test", "seed"))
    val = r.number(split.get("val", 0.2), f"{p}.split.val", 0, 1, exclusive_min=True, exclusive_max=True)
    test = r.number(split.get("test", 0.2), f"{p}.split.test", 0, 1, exclusive_min=True, exclusive_max=True)
    if val + test >= 0.9:
        raise r.error(f"{p}.split", f"val + test = {val + test:g} leaves too little training data (< 10 %)")
    seed = r.integer(split.get("seed", 0), f"{p}.split.seed", minimum=0)
    standardize = r.boolean(d.get("standardize", True), f"{p}.standardize")
    max_samples = d.get("max_samples")
    if max_samples is not None:
        max_samples = r.integer(max_samples, f"{p}.max_samples", minimum=10)
    common = dict(val_fraction=val, test_fraction=test, seed=seed, standardize=standardize,
                  max_samples=max_samples)
    cache_dir = str(d.get("cache_dir", "data_cache"))
    if source == "sklearn":
        name = r.string(r.get(d, "name", p), f"{p}.name", SKLEARN_SETS)
        for k in ("path", "features", "label", "openml_id", "version"):
            if k in d:
                raise r.error(f"{p}.{k}", "is not used with source: sklearn")
        return DataConfig(source="sklearn", name=name, cache_dir=cache_dir, **common)  # type: ignore[arg-type]
    if source == "file":
        path_s = r.string(r.get(d, "path", p), f"{p}.path")
        path = Path(path_s)
        if not path.is_absolute():
            path = (base_dir / path).resolve()
        if not path.exists():
            raise r.error(f"{p}.path", f"file not found: {path}")
        if path.suffix.lower() not in (".csv", ".parquet", ".pq", ".npz"):
            raise r.error(f"{p}.path", f"unsupported file type {path.suffix!r}: use .csv, .parquet or .npz")
        label = r.string(r.get(d, "label", p), f"{p}.label")
        feats = d.get("features")
        features = None
        if feats is not None:
            if not isinstance(feats, list) or not feats:
                raise r.error(f"{p}.features", "must be a non-empty list of column names")
            features = tuple(r.string(f, f"{p}.features[{i}]") for i, f in enumerate(feats))
        return DataConfig(source="file", path=str(path), label=label, features=features, cache_dir=cache_dir,
                          **common)  # type: ignore[arg-type]
    # openml
    if d.get("name") is None and d.get("openml_id") is None:
        raise r.error(p, "openml needs name or openml_id")
    oname = r.string(d["name"], f"{p}.name") if d.get("name") is not None else None
    oid = r.integer(d["openml_id"], f"{p}.openml_id", minimum=1) if d.get("openml_id") is not None else None
    version = r.integer(d["version"], f"{p}.version", minimum=1) if d.get("version") is not None else None
    olabel = r.string(d["label"], f"{p}.label") if d.get("label") is not None else None
    feats = d.get("features")
    features = tuple(r.string(f, f"{p}.features[{i}]") for i, f in enumerate(feats)) if feats else None
    cache = Path(cache_dir)
    if not cache.is_absolute():
        cache = (base_dir / cache).resolve()
    return DataConfig(source="openml", name=oname, openml_id=oid, openml_version=version, label=olabel,
                      features=features, cache_dir=str(cache), **common)  # type: ignore[arg-type]


def _parse_model(r: _Reader, raw: Any) -> ModelConfig:
    p = "model"
    m = r.mapping(raw, p, ("type", "hidden_layers", "width", "widths", "output_activation"))
    mtype = r.string(m.get("type", "mlp"), f"{p}.type", ("mlp",))
    hidden = r.searchable_int(r.get(m, "hidden_layers", p), f"{p}.hidden_layers", 1, "the number of hidden layers")
    if "width" in m and "widths" in m:
        raise r.error(f"{p}.widths", "give either width (shared by every layer) or widths (one per layer)")
    if "widths" in m:
        ws = m["widths"]
        if not isinstance(ws, list) or not ws:
            raise r.error(f"{p}.widths", "must be a non-empty list, one entry per hidden layer")
        widths = tuple(r.searchable_int(w, f"{p}.widths[{i}]", 1, "width") for i, w in enumerate(ws))
        max_h = int(max(hidden.values()))
        if len(widths) < max_h:
            raise r.error(f"{p}.widths", f"has {len(widths)} entries but up to {max_h} hidden layers are searched")
    else:
        widths = (r.searchable_int(r.get(m, "width", p), f"{p}.width", 1, "width"),)
    out_act = r.string(m.get("output_activation", "softmax"), f"{p}.output_activation",
                       ("softmax", "sigmoid", "linear"))
    return ModelConfig(type=mtype, hidden_layers=hidden, widths=widths,  # type: ignore[arg-type]
                       output_activation=out_act)  # type: ignore[arg-type]


def _parse_quantization(r: _Reader, raw: Any) -> QuantizationConfig:
    p = "quantization"
    q = r.mapping(raw, p, ("weight_bits", "bias_bits", "activation_bits", "weight_integer_bits",
                           "activation_integer_bits", "per_layer"))
    wb = r.searchable_int(r.get(q, "weight_bits", p), f"{p}.weight_bits", 1, "bits", WEIGHT_SPECIAL_BITS)
    bb_raw = q.get("bias_bits", "same_as_weight")
    bb = None if bb_raw == "same_as_weight" else r.searchable_int(bb_raw, f"{p}.bias_bits", 1, "bits")
    ab = r.searchable_int(r.get(q, "activation_bits", p), f"{p}.activation_bits", 1, "bits")
    wi = r.integer(q.get("weight_integer_bits", 0), f"{p}.weight_integer_bits", minimum=0, maximum=16)
    ai = r.integer(q.get("activation_integer_bits", 1), f"{p}.activation_integer_bits", minimum=0, maximum=16)
    for name, s in (("weight_bits", wb), ("bias_bits", bb), ("activation_bits", ab)):
        if s is None:
            continue
        for v in s.values():
            if isinstance(v, int) and v > 32:
                raise r.error(f"{p}.{name}", f"bits must be <= 32, got {v}")
    min_wb = min((v for v in wb.values() if isinstance(v, int)), default=None)
    if min_wb is not None and wi >= min_wb:
        raise r.error(f"{p}.weight_integer_bits",
                      f"{wi} integer bits leave no fractional bit for {min_wb}-bit weights")
    min_ab = min(int(v) for v in ab.values())
    if ai > min_ab:
        raise r.error(f"{p}.activation_integer_bits", f"{ai} integer bits exceed {min_ab}-bit activations")
    per_layer = r.boolean(q.get("per_layer", True), f"{p}.per_layer")
    return QuantizationConfig(wb, bb, ab, wi, ai, per_layer)


def _parse_sparsity(r: _Reader, raw: Any) -> SparsityConfig:
    p = "sparsity"
    if raw is None:
        return SparsityConfig(target=Searchable("float", choices=(0.0,)))
    s = r.mapping(raw, p, ("target", "per_layer", "begin_fraction", "end_fraction", "frequency"))
    target = r.searchable_float(s.get("target", 0.0), f"{p}.target", 0.0, 1.0, "sparsity", exclusive_max=True)
    begin = r.number(s.get("begin_fraction", 0.2), f"{p}.begin_fraction", 0, 1)
    end = r.number(s.get("end_fraction", 0.8), f"{p}.end_fraction", 0, 1)
    if end <= begin:
        raise r.error(f"{p}.end_fraction", f"must be after begin_fraction ({begin:g}), got {end:g}")
    freq = r.integer(s.get("frequency", 10), f"{p}.frequency", minimum=1)
    return SparsityConfig(target, r.boolean(s.get("per_layer", False), f"{p}.per_layer"), begin, end, freq)


def _parse_hardware(r: _Reader, raw: Any) -> HardwareConfig:
    p = "hardware"
    h = r.mapping(raw, p, ("backend", "part", "clock_period_ns", "io_type", "reuse_factor", "per_layer_reuse",
                           "strategy", "tool_version", "default_precision"))
    backend = r.string(h.get("backend", "vitis"), f"{p}.backend", ("vitis", "vivado"))
    part = r.string(r.get(h, "part", p), f"{p}.part")
    _check_part(r, part, f"{p}.part")
    clock = r.number(h.get("clock_period_ns", 5.0), f"{p}.clock_period_ns", 0.5, 100)
    io_type = r.string(h.get("io_type", "io_parallel"), f"{p}.io_type", ("io_parallel", "io_stream"))
    if io_type == "io_stream":
        raise r.error(f"{p}.io_type", "io_stream is not supported yet for MLPs; use io_parallel")
    rf = r.searchable_int(h.get("reuse_factor", 1), f"{p}.reuse_factor", 1, "ReuseFactor")
    strategy = r.searchable_str(h.get("strategy", "latency"), f"{p}.strategy", ("latency", "resource"))
    tool_version = h.get("tool_version")
    if tool_version is not None:
        tool_version = str(tool_version)
    prec = r.string(h.get("default_precision", "fixed<16,6>"), f"{p}.default_precision")
    if not re.match(r"^(ap_)?u?fixed<\s*\d+\s*,\s*-?\d+.*>$", prec):
        raise r.error(f"{p}.default_precision", f"must look like fixed<16,6>, got {prec!r}")
    return HardwareConfig(backend, part, clock, io_type, rf,  # type: ignore[arg-type]
                          r.boolean(h.get("per_layer_reuse", False), f"{p}.per_layer_reuse"), strategy,
                          tool_version, prec)


def _check_part(r: _Reader, part: str, path: str) -> None:
    from cost_models import get_part

    try:
        get_part(part)
    except ValueError as exc:
        raise r.error(path, str(exc)) from None


def _parse_training(r: _Reader, raw: Any) -> TrainingConfig:
    p = "training"
    t = r.mapping(raw or {}, p, ("epochs", "batch_size", "optimizer", "learning_rate", "early_stopping", "pruner"))
    es = t.get("early_stopping", {"patience": 5})
    patience: int | None
    if es is False or es is None:
        patience = None
    else:
        es = r.mapping(es, f"{p}.early_stopping", ("patience",))
        patience = r.integer(es.get("patience", 5), f"{p}.early_stopping.patience", minimum=1)
    return TrainingConfig(
        epochs=r.integer(t.get("epochs", 20), f"{p}.epochs", minimum=1, maximum=10000),
        batch_size=r.integer(t.get("batch_size", 64), f"{p}.batch_size", minimum=1),
        optimizer=r.string(t.get("optimizer", "adam"), f"{p}.optimizer", ("adam", "sgd", "rmsprop")),  # type: ignore[arg-type]
        learning_rate=r.searchable_float(t.get("learning_rate", 0.003), f"{p}.learning_rate", 0, 10,
                                         "learning rate", exclusive_min=True),
        early_stopping_patience=patience,
        pruner=r.string(t.get("pruner", "none"), f"{p}.pruner", PRUNERS),
    )


_CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*(%?)\s*$")


def _parse_objectives(r: _Reader, raw: Any) -> tuple[Objective, ...]:
    p = "objectives"
    if not isinstance(raw, list) or not raw:
        raise r.error(p, f"must be a non-empty list like [{{metric: accuracy, direction: maximize}}], "
                         f"got {_typename(raw)}")
    out: list[Objective] = []
    for i, item in enumerate(raw):
        ip = f"{p}[{i}]"
        if isinstance(item, str):
            item = {"metric": item}
        o = r.mapping(item, ip, ("metric", "direction"))
        metric = r.string(r.get(o, "metric", ip), f"{ip}.metric", tuple(METRICS))
        default_dir = "maximize" if metric in ("accuracy", "auc") else "minimize"
        direction = r.string(o.get("direction", default_dir), f"{ip}.direction", ("minimize", "maximize"))
        if any(x.metric == metric for x in out):
            raise r.error(f"{ip}.metric", f"objective {metric!r} is listed twice")
        out.append(Objective(metric, direction))  # type: ignore[arg-type]
    return tuple(out)


def _parse_constraints(r: _Reader, raw: Any) -> tuple[Constraint, ...]:
    p = "constraints"
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.error(p, f"must be a list like ['dsp <= 1000', 'lut <= 50%'], got {_typename(raw)}")
    out: list[Constraint] = []
    for i, item in enumerate(raw):
        ip = f"{p}[{i}]"
        if isinstance(item, dict):
            c = r.mapping(item, ip, ("metric", "max", "min"))
            metric = r.string(r.get(c, "metric", ip), f"{ip}.metric", tuple(METRICS))
            if ("max" in c) == ("min" in c):
                raise r.error(ip, "give exactly one of max or min")
            key = "max" if "max" in c else "min"
            bound_raw = c[key]
            percent = isinstance(bound_raw, str) and bound_raw.strip().endswith("%")
            if percent:
                bound_raw = bound_raw.strip()[:-1]
                try:
                    bound_raw = float(bound_raw)
                except ValueError:
                    raise r.error(f"{ip}.{key}", f"not a percentage: {c[key]!r}") from None
            bound = r.number(bound_raw, f"{ip}.{key}")
            op = "<=" if key == "max" else ">="
        elif isinstance(item, str):
            m = _CONSTRAINT_RE.match(item)
            if not m:
                raise r.error(ip, f"cannot read {item!r}: write it as 'metric <= number' or 'metric <= number%'")
            metric = m.group(1).lower()
            if metric not in METRICS:
                raise r.error(ip, f"unknown metric {metric!r}{_close(metric, tuple(METRICS))}; "
                                  f"known: {', '.join(METRICS)}")
            op = "<=" if m.group(2).startswith("<") else ">="
            try:
                bound = float(m.group(3))
            except ValueError:
                raise r.error(ip, f"not a number: {m.group(3)!r}") from None
            percent = m.group(4) == "%"
        else:
            raise r.error(ip, f"must be a string like 'dsp <= 1000' or a mapping, got {_typename(item)}")
        if percent and metric not in PART_METRICS:
            raise r.error(ip, f"a % budget only makes sense for {', '.join(PART_METRICS)}, not {metric}")
        if percent and not 0 < bound <= 100:
            raise r.error(ip, f"a % of the part must be in (0, 100], got {bound:g}")
        if bound < 0:
            raise r.error(ip, f"a budget must be >= 0, got {bound:g}")
        out.append(Constraint(metric, op, bound, percent))  # type: ignore[arg-type]
    return tuple(out)


def _parse_search(r: _Reader, raw: Any) -> SearchConfig:
    p = "search"
    s = r.mapping(raw or {}, p, ("sampler", "n_trials", "timeout", "seed", "workers", "budget_confidence",
                                 "allow_repeats"))
    timeout = s.get("timeout")
    conf = s.get("budget_confidence")
    return SearchConfig(
        sampler=r.string(s.get("sampler", "tpe"), f"{p}.sampler", SAMPLERS),
        n_trials=r.integer(s.get("n_trials", 20), f"{p}.n_trials", minimum=1),
        timeout_s=r.number(timeout, f"{p}.timeout", 0, None, exclusive_min=True) if timeout is not None else None,
        seed=r.integer(s.get("seed", 0), f"{p}.seed", minimum=0),
        workers=r.integer(s.get("workers", 1), f"{p}.workers", minimum=1, maximum=1024),
        budget_confidence=(r.number(conf, f"{p}.budget_confidence", 0.5, 1.0, exclusive_min=True,
                                    exclusive_max=True) if conf is not None else None),
        allow_repeats=r.boolean(s.get("allow_repeats", False), f"{p}.allow_repeats"),
    )


def _parse_synthesis(r: _Reader, raw: Any) -> SynthesisConfig:
    p = "synthesis"
    if raw is None:
        return SynthesisConfig()
    s = r.mapping(raw, p, ("backend", "every", "batch", "timeout", "concurrency", "num_cpus", "resources",
                           "vsynth", "executable", "firmware_accuracy"))
    res = s.get("resources", {}) or {}
    res = r.mapping(res, f"{p}.resources", tuple(res) if isinstance(res, dict) else ())
    resources = tuple((str(k), r.number(v, f"{p}.resources.{k}", 0, None, exclusive_min=True))
                      for k, v in res.items())
    exe = s.get("executable")
    return SynthesisConfig(
        backend=r.string(s.get("backend", "none"), f"{p}.backend", ("none", "vitis", "vivado")),  # type: ignore[arg-type]
        every=r.integer(s.get("every", 10), f"{p}.every", minimum=1),
        batch=r.integer(s.get("batch", 2), f"{p}.batch", minimum=1),
        timeout_s=r.number(s.get("timeout", 4 * 3600), f"{p}.timeout", 0, None, exclusive_min=True),
        concurrency=r.integer(s.get("concurrency", 1), f"{p}.concurrency", minimum=1),
        num_cpus=r.integer(s.get("num_cpus", 1), f"{p}.num_cpus", minimum=1),
        resources=resources,
        vsynth=r.boolean(s.get("vsynth", False), f"{p}.vsynth"),
        executable=r.string(exe, f"{p}.executable") if exe is not None else None,
        firmware_accuracy=r.boolean(s.get("firmware_accuracy", True), f"{p}.firmware_accuracy"),
    )


# --------------------------------------------------------------------------- entry points


def parse_space(raw: Any, *, file: str | None = None, lines: dict[str, int] | None = None,
                base_dir: Path | None = None) -> SpaceConfig:
    """Validate already-parsed YAML data into a ``SpaceConfig``."""
    r = _Reader(file, lines or {})
    if raw is None:
        raise r.error("", "the space file is empty")
    top = r.mapping(raw, "", TOP_KEYS)
    for key in ("data", "model", "quantization", "hardware", "objectives"):
        if key not in top:
            raise r.error(key, "is required")
    base = base_dir or Path.cwd()
    name = top.get("name") or (Path(file).stem if file else "run")
    name = r.string(name, "name")
    if not re.match(r"^[A-Za-z0-9_.-]+$", name):
        raise r.error("name", f"must use only letters, digits, '_', '-', '.', got {name!r}")
    space = SpaceConfig(
        name=name,
        data=_parse_data(r, top["data"], base),
        model=_parse_model(r, top["model"]),
        quantization=_parse_quantization(r, top["quantization"]),
        sparsity=_parse_sparsity(r, top.get("sparsity")),
        hardware=_parse_hardware(r, top["hardware"]),
        training=_parse_training(r, top.get("training")),
        objectives=_parse_objectives(r, top["objectives"]),
        constraints=_parse_constraints(r, top.get("constraints")),
        search=_parse_search(r, top.get("search")),
        synthesis=_parse_synthesis(r, top.get("synthesis")),
        source_file=file,
    )
    if space.search.sampler == "gp" and space.training.pruner != "none":
        raise r.error("training.pruner", "pruning is not used with the gp sampler; set pruner: none")
    return space


def load_space(path: str | Path) -> SpaceConfig:
    """Read and validate a space file. Raises ``ConfigError`` naming the key path and line."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"space file not found: {p}")
    if p.is_dir():
        raise ConfigError(f"expected a space file, got a folder: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {p}: {exc}") from None
    return parse_space_text(text, file=str(p), base_dir=p.resolve().parent)


def parse_space_text(text: str, *, file: str | None = None, base_dir: Path | None = None) -> SpaceConfig:
    if not text.strip():
        raise ConfigError("the space file is empty", file=file)
    try:
        raw, lines = load_yaml_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"YAML syntax error: {problem}", file=file, line=line) from None
    return parse_space(raw, file=file, lines=lines, base_dir=base_dir)
