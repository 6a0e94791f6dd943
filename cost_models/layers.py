"""The layer description shared by the search (`dse`) and the cost model.

It is independent of Keras and hls4ml: a plain, frozen record per layer carrying what
hls4ml generates for it (sizes, zero weights, fixed-point types, ReuseFactor, strategy,
io_type). `dse.design.hls4ml_adapter` builds these from an hls4ml ModelGraph; the validation scripts
build them from the `project.json` files of real projects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from cost_models.weight_stats import WeightStats

LayerKind = Literal[
    "input", "dense", "conv1d", "conv2d", "pointwise_conv1d", "pointwise_conv2d", "activation", "softmax", "batchnorm",
    "pooling1d", "pooling2d", "global_pooling1d", "global_pooling2d", "flatten", "reshape", "zeropadding1d",
    "zeropadding2d", "concatenate", "resize", "merge", "dot", "clone", "cropping1d", "cropping2d", "repack",
    "lstm", "gru", "embedding", "layernorm", "transpose", "depthwise_conv1d", "depthwise_conv2d",
]
Strategy = Literal["latency", "resource", "distributed_arithmetic"]
IOType = Literal["io_parallel", "io_stream"]
Backend = str
"""The tool family whose records calibrate the target: ``vitis``, ``vivado``, ``yosys`` or a plug-in's."""
MultImpl = Literal["auto", "dsp", "lut"]
PoolOp = Literal["max", "average"]
MergeOp = Literal["add", "subtract", "multiply", "average", "maximum", "minimum"]
MERGE_OPS: tuple[str, ...] = ("add", "subtract", "multiply", "average", "maximum", "minimum")
"""hls4ml's element-wise merge functions (``nnet_merge.h``: ``nnet::add`` ... ``nnet::minimum``)."""
ConvImplementation = Literal["linebuffer", "encoded"]
SoftmaxImplementation = Literal["stable", "latency", "legacy", "argmax"]

LAYER_KINDS: tuple[str, ...] = (
    "input", "dense", "conv1d", "conv2d", "pointwise_conv1d", "pointwise_conv2d", "activation", "softmax", "batchnorm",
    "pooling1d", "pooling2d", "global_pooling1d", "global_pooling2d", "flatten", "reshape", "zeropadding1d",
    "zeropadding2d", "concatenate", "resize", "merge", "dot", "clone", "cropping1d", "cropping2d", "repack",
    "lstm", "gru", "embedding", "layernorm", "transpose", "depthwise_conv1d", "depthwise_conv2d",
)
"""Every layer kind the cost model has a rule for (``cost_models.layer_rules.RULES``)."""
DEPTHWISE_KINDS: tuple[str, ...] = ("depthwise_conv1d", "depthwise_conv2d")
"""Depthwise convolutions (hls4ml ``DepthwiseConv1D/2D``, and the first half of a ``SeparableConv1D/2D``): the
window of ``n_in = filt_w*filt_h*n_chan`` values, each times ONE weight, summed per channel into ``n_out = n_filt``
(``== n_chan``) outputs; ``n_in * n_filt / n_chan`` weights (``nnet_depthwise_product.h``)."""
CONV_KINDS: tuple[str, ...] = ("conv1d", "conv2d", "pointwise_conv1d", "pointwise_conv2d", *DEPTHWISE_KINDS)
"""Convolutions: a per-pixel matrix product of ``n_in = filt_w*filt_h*n_chan`` by ``n_out = n_filt`` (a depthwise
one keeps only one weight per window value, :data:`DEPTHWISE_KINDS`)."""
WEIGHTED_KINDS: tuple[str, ...] = ("dense", *CONV_KINDS)
"""Kinds whose ``n_in * n_out`` weights are multiplications (trained weight files ``wN.txt``)."""
POOLING_KINDS: tuple[str, ...] = ("pooling1d", "pooling2d", "global_pooling1d", "global_pooling2d")
GEOMETRY_KINDS: tuple[str, ...] = (*CONV_KINDS, "pooling1d", "pooling2d", "global_pooling1d", "global_pooling2d",
                                   "zeropadding1d", "zeropadding2d", "resize", "cropping1d", "cropping2d")
"""Kinds that need their ``conv`` geometry (input/output pixels, window, stride, padding)."""

_FIXED_RE = re.compile(
    r"^\s*(?:ap_)?(?P<kind>u?fixed|u?int)\s*<\s*(?P<w>\d+)\s*(?:,\s*(?P<i>-?\d+))?[^>]*>\s*$"
)


@dataclass(frozen=True)
class FixedType:
    """A fixed-point type as hls4ml writes it: ``ap_fixed<width, integer>``.

    ``width`` is the total number of bits (sign included), ``integer`` the bits left of the
    binary point (sign included for signed types). Integers are ``integer == width``.
    """

    width: int
    integer: int
    signed: bool = True

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError(f"fixed-point width must be >= 1 bit, got {self.width}")

    @property
    def fractional(self) -> int:
        """Bits right of the binary point."""
        return self.width - self.integer

    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Parse ``ap_fixed<16,6>``, ``fixed<6,1,TRN,WRAP,0>``, ``ufixed<6,0>``, ``ap_int<8>``, ``uint<1>``."""
        m = _FIXED_RE.match(text)
        if not m:
            raise ValueError(f"not a fixed-point type: {text!r}")
        kind = m.group("kind")
        width = int(m.group("w"))
        signed = not kind.startswith("u")
        if kind.endswith("int"):
            return cls(width, width, signed)
        integer = int(m.group("i")) if m.group("i") is not None else width
        return cls(width, integer, signed)

    def __str__(self) -> str:
        return f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer}>"


@dataclass(frozen=True)
class ConvGeometry:
    """Geometry of a Conv1D/Conv2D layer (heights are 1 for Conv1D). Sizes in elements."""

    in_width: int
    in_height: int
    n_chan: int
    filt_width: int
    filt_height: int
    n_filt: int
    out_width: int
    out_height: int
    stride_width: int = 1
    stride_height: int = 1
    pad_top: int = 0
    pad_bottom: int = 0
    pad_left: int = 0
    pad_right: int = 0

    @property
    def in_pixels(self) -> int:
        """Pixels of the input image (``in_width * in_height``)."""
        return self.in_width * self.in_height

    @property
    def out_pixels(self) -> int:
        """Pixels of the output image (``out_width * out_height``)."""
        return self.out_width * self.out_height


@dataclass(frozen=True)
class LayerSpec:
    """One layer as hls4ml will generate it.

    For dense layers ``n_in``/``n_out`` are the input and output vector lengths and the
    weight matrix has ``n_in * n_out`` entries, ``n_zeros`` of which are exactly zero after
    quantization. For conv layers ``n_in``/``n_out`` are those of the per-pixel matrix
    product (``filt_width*filt_height*n_chan`` by ``n_filt``) and ``conv`` holds the
    geometry. For activations ``n_in == n_out`` is the vector length. For pooling, zero padding,
    flatten, reshape and concatenate ``n_in``/``n_out`` are the element counts of the input(s) and the
    output; an element-wise ``merge`` (Add, Multiply, ...) has ``n_in == n_out ==`` hls4ml's ``n_elem``, a
    ``dot`` the vector length ``n_in`` and ``n_out == 1``, an io_stream ``clone`` the copied tensor's
    elements ``n_in`` and ``n_out = copies * n_in`` (every copy is a stream of its own); pooling and padding
    carry their geometry in ``conv`` too (``filt_*`` is the pool size, ``n_chan == n_filt`` the channels; a
    global pooling has a 1x1 output; a cropping keeps its ``crop_*`` in ``pad_*``). For ``lstm``/``gru``, ``n_in``
    is ``time_steps x`` the features and ``n_out`` the output elements (``n_state``, or ``time_steps x n_state``
    for sequences); an ``embedding`` has ``n_in`` indices and ``n_out = n_in x`` the embedding size; ``layernorm``,
    ``transpose`` and io_stream ``repack`` have ``n_in == n_out ==`` the tensor's elements.
    """

    name: str
    kind: LayerKind
    n_in: int
    n_out: int
    result: FixedType
    weight: FixedType | None = None
    bias: FixedType | None = None
    accum: FixedType | None = None
    n_zeros: int = 0
    reuse_factor: int = 1
    strategy: Strategy = "latency"
    io_type: IOType = "io_parallel"
    activation: str | None = None
    """For ``activation``/``softmax`` layers: relu, sigmoid, tanh, softmax, linear, …"""
    table_size: int | None = None
    """Lookup-table entries for table-based activations (sigmoid, tanh, softmax)."""
    table: FixedType | None = None
    conv: ConvGeometry | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    input: FixedType | None = None
    """Type of the data entering the layer; ``None`` means "the previous layer's result"."""
    mult_impl: MultImpl = "auto"
    """Multiplier binding: ``auto`` (the HLS tool decides), or forced to ``dsp`` / ``lut`` fabric
    (e.g. by a ``BIND_OP impl=fabric`` directive added to the generated code)."""
    store_weights_in_bram: bool = False
    weights: WeightStats | None = None
    """Summary of the trained, quantized weights (CSD digits of the constants), when known. Without
    it the cost model falls back to a rule on the weight type alone and says so in the estimate."""
    pool_op: PoolOp | None = None
    """Pooling layers: ``max`` or ``average`` (hls4ml's ``nnet::Max`` / ``nnet::Average``)."""
    parallelization_factor: int | None = None
    """io_parallel convolutions: output pixels computed per pass (hls4ml ``ParallelizationFactor``, a divisor
    of the output pixels; ``n_partitions = out_pixels / parallelization_factor`` passes at II=RF). ``None``:
    every output pixel in one pass (hls4ml before 1.0 wrote no ``n_partitions``)."""
    conv_implementation: ConvImplementation = "linebuffer"
    """io_stream convolutions and pooling: hls4ml's ``ConvImplementation`` (``LineBuffer`` or ``Encoded``)."""
    softmax_implementation: SoftmaxImplementation = "stable"
    """Softmax layers: hls4ml's ``implementation`` (``nnet::softmax_implementation``). hls4ml 1.3's default
    ``stable`` subtracts the maximum of the inputs first (a compare tree); ``latency`` reads the exp table at
    the inputs themselves. ``legacy`` and ``argmax`` are costed as ``stable``."""
    merge_op: MergeOp | None = None
    """``merge`` layers: the operation (hls4ml's ``Merge`` ``op``, the ``nnet::<op>`` call of ``myproject.cpp``);
    ``None``: not known (a ``project.json`` summary keeps no calls), costed as ``add``."""
    input2: FixedType | None = None
    """``merge``/``dot`` layers: type of the second input (the first is ``input``, else the previous layer's
    result)."""
    out_pack: int | None = None
    """io_stream ``repack`` and ``transpose``: elements per output pixel (``res_T::size`` of ``nnet::repack_stream``,
    the last dimension of the output shape); ``n_out // out_pack`` output pixels. ``None``: one pixel.
    ``concatenate``: ``n_out`` for a ``concatenate1d`` of vectors (one output pixel under io_stream); ``None``:
    a concatenation along the channels (the pixels of its inputs)."""
    time_steps: int | None = None
    """``lstm``/``gru``: the input sequence length (hls4ml's ``n_sequence``); ``n_in = time_steps x`` features.
    ``layernorm``: the rows normalized one by one (hls4ml's ``seq_len``; ``n_in = time_steps x`` the row size)."""
    n_state: int | None = None
    """``lstm``/``gru``: the state size (units); ``n_out`` is ``n_state``, or ``time_steps x n_state`` when the layer
    returns sequences (``n_sequence_out``)."""
    recurrent_reuse_factor: int | None = None
    """``lstm``/``gru``: ReuseFactor of the recurrent (state x gates) product (its ``mult_config2``); ``None``: the
    layer's ``reuse_factor``."""
    recurrent_static: bool = True
    """``lstm``/``gru``: hls4ml's ``static`` (``use_static``): one cell, its state in ``static`` registers, reused by
    every time step; ``False``: a cell per time step under io_parallel."""
    recurrent_activation: str | None = None
    """``lstm``/``gru``: the gates' activation (``sigmoid``); ``activation`` is the state's (``tanh``)."""
    recurrent_weight: FixedType | None = None
    """``lstm``/``gru``: type of the recurrent kernel (``recurrent_weight_t``); ``None``: ``weight``."""
    recurrent_n_zeros: int = 0
    """``lstm``/``gru``: zeros of the recurrent kernel (``n_zeros`` of ``mult_config2``)."""
    vocab_size: int | None = None
    """``embedding``: rows of the embedding table (``n_in`` indices in, ``n_out = n_in x`` the embedding size out;
    ``weight`` is the table's type)."""

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise ValueError(f"layer {self.name!r}: unknown kind {self.kind!r}; known: {', '.join(LAYER_KINDS)}")
        if self.kind in GEOMETRY_KINDS and self.conv is None:
            raise ValueError(f"layer {self.name!r}: a {self.kind} layer needs its geometry (conv)")
        if self.parallelization_factor is not None:
            out_px = self.conv.out_pixels if self.conv is not None else 1
            pf = self.parallelization_factor
            if pf < 1 or out_px % pf:
                raise ValueError(f"layer {self.name!r}: parallelization_factor {pf} must divide the "
                                 f"{out_px} output pixels")
        if self.merge_op is not None and self.merge_op not in MERGE_OPS:
            raise ValueError(f"layer {self.name!r}: unknown merge_op {self.merge_op!r}; known: {', '.join(MERGE_OPS)}")
        if self.out_pack is not None and (self.out_pack < 1 or self.n_out % self.out_pack):
            raise ValueError(f"layer {self.name!r}: out_pack {self.out_pack} must divide n_out {self.n_out}")
        if self.kind in ("lstm", "gru") and (not self.time_steps or not self.n_state or self.n_in % self.time_steps
                                             or self.n_out not in (self.n_state, self.time_steps * self.n_state)):
            raise ValueError(f"layer {self.name!r}: a {self.kind} layer needs time_steps and n_state, with n_in a "
                             f"multiple of time_steps and n_out n_state or time_steps x n_state")
        if self.kind == "layernorm" and (not self.time_steps or self.n_in % self.time_steps):
            raise ValueError(f"layer {self.name!r}: a layernorm needs time_steps (seq_len) dividing n_in")
        if self.kind == "embedding" and (not self.vocab_size or not self.n_in or self.n_out % self.n_in):
            raise ValueError(f"layer {self.name!r}: an embedding needs vocab_size, and n_out a multiple of n_in")
        if self.n_in < 0 or self.n_out < 0:
            raise ValueError(f"layer {self.name!r}: n_in/n_out must be >= 0, got {self.n_in}/{self.n_out}")
        if self.reuse_factor < 1:
            raise ValueError(f"layer {self.name!r}: reuse_factor must be >= 1, got {self.reuse_factor}")
        if self.n_zeros < 0:
            raise ValueError(f"layer {self.name!r}: n_zeros must be >= 0, got {self.n_zeros}")

    @property
    def n_weights(self) -> int:
        """Trained weights (products before removing zeros): ``n_in * n_out``; a depthwise conv's
        ``n_in * n_filt / n_chan`` (one weight per window value and depth multiple)."""
        if self.kind in DEPTHWISE_KINDS and self.conv is not None:
            return self.n_in * self.n_out // max(1, self.conv.n_chan)
        return self.n_in * self.n_out if self.kind in WEIGHTED_KINDS else 0

    @property
    def n_partitions(self) -> int:
        """io_parallel convolutions: passes of the PartitionLoop (``out_pixels / parallelization_factor``)."""
        if self.conv is None or self.parallelization_factor is None:
            return 1
        return self.conv.out_pixels // self.parallelization_factor

    @property
    def n_nonzero(self) -> int:
        """Non-zero weights (multiplications that survive constant folding)."""
        return max(0, self.n_weights - self.n_zeros)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; fixed-point types as ``ap_fixed<W,I>`` strings. See :meth:`from_dict`."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, FixedType):
                v = str(v)
            elif isinstance(v, ConvGeometry):
                v = {g.name: getattr(v, g.name) for g in fields(v)}
            elif isinstance(v, dict):
                v = dict(v)
            elif f.name == "weights" and v is not None:
                v = v.to_dict()
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerSpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error, missing optional keys take defaults."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown LayerSpec field(s): {', '.join(sorted(unknown))}")
        kw: dict[str, Any] = dict(data)
        for key in ("result", "weight", "bias", "accum", "table", "input", "input2", "recurrent_weight"):
            if kw.get(key) is not None and not isinstance(kw[key], FixedType):
                kw[key] = FixedType.parse(str(kw[key]))
        if kw.get("conv") is not None and not isinstance(kw["conv"], ConvGeometry):
            kw["conv"] = ConvGeometry(**kw["conv"])
        if kw.get("weights") is not None and isinstance(kw["weights"], Mapping):
            kw["weights"] = WeightStats.from_dict(kw["weights"])
        if "extra" in kw:
            kw["extra"] = {str(k): str(v) for k, v in (kw["extra"] or {}).items()}
        try:
            return cls(**kw)
        except TypeError as exc:
            raise ValueError(f"bad LayerSpec dict: {exc}") from None


def layers_to_dicts(layers: Iterable[LayerSpec]) -> list[dict[str, Any]]:
    """JSON-ready list of layer dicts (round trip: :func:`layers_from_dicts`)."""
    return [layer.to_dict() for layer in layers]


def layers_from_dicts(data: Iterable[Mapping[str, Any]]) -> list[LayerSpec]:
    """Inverse of :func:`layers_to_dicts`."""
    return [LayerSpec.from_dict(d) for d in data]


@dataclass(frozen=True)
class Target:
    """An FPGA target: part, clock period in ns, tool family (``backend``: vitis, vivado, yosys, ...) and
    (optional) tool version."""

    part: str
    clock_period_ns: float = 5.0
    backend: Backend = "vitis"
    tool_version: str | None = None
    legacy_hls4ml: bool = False
    """The project was written by an hls4ml older than 0.8 (its ``parameters.h`` does not include
    ``nnet_utils/nnet_code_gen.h``): an io_parallel DATAFLOW design then passes the model's input to the
    first layer through a channel (see :func:`cost_models.stream.parallel_input_channel`). False for what
    dse writes (hls4ml 1.3)."""


def layer_to_dict(layer: LayerSpec) -> dict[str, Any]:
    """A JSON-ready dict of ``layer`` (fixed types as ``ap_fixed<w,i>`` strings); same as ``layer.to_dict()``."""
    return layer.to_dict()


def layer_from_dict(d: Mapping[str, Any]) -> LayerSpec:
    """Inverse of :func:`layer_to_dict`; same as ``LayerSpec.from_dict``."""
    return LayerSpec.from_dict(d)
