"""Layer lists and synthesis records from hls4ml project folders.

Two sources of the same facts:

* a project folder written by hls4ml: ``firmware/parameters.h`` (the ``config`` structs),
  ``firmware/defines.h`` (the ``typedef``s) and ``hls4ml_config.yml`` (part, clock, backend);
* a ``project.json`` (the shared data set's summary of those headers: ``layers`` are the structs,
  ``typedefs`` the typedefs, ``synthesis`` the top-level figures).

Both are turned into the same list of struct dicts, then into :class:`LayerSpec`s by
:func:`layers_from_structs`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cost_models.depthwise_rules import depthwise_unsupported
from cost_models.errors import ReportError, UnknownLayerError
from cost_models.layers import DEPTHWISE_KINDS, MERGE_OPS, WEIGHTED_KINDS, ConvGeometry, FixedType, LayerSpec
from cost_models.records import SynthesisRecord
from cost_models.reports import read_csynth_rpt, read_csynth_xml, read_vivado_synth_rpt, tool_from_version
from cost_models.weights import read_weights_txt, summarize_weights, type_modes

__all__ = [
    "attach_weight_stats", "find_project_dirs", "is_legacy_parameters_h", "layers_from_structs",
    "parse_define_constants", "parse_defines_h", "parse_parameters_h", "parse_top_calls", "read_top_calls",
    "read_hls_config_yml", "read_hls_project",
    "read_project_json", "records_from_dirs", "resolve_type", "weight_files_of",
]

log = logging.getLogger(__name__)

_STRUCT = re.compile(r"struct\s+(\w+)\s*:\s*nnet::(\w+)\s*\{(.*?)\n\s*\};", re.DOTALL)
_BARE_STRUCT = re.compile(r"^struct\s+(\w+)\s*\{(.*?)\n\s*\};", re.DOTALL | re.MULTILINE)
"""A config struct without an ``nnet::`` base: hls4ml 1.3 writes the hard activations (``hard_activ_config_template``),
transpose, einsum, separable-conv and distributed-arithmetic configs so."""
_HARD_ACTIVATION = re.compile(r"^(hard_sigmoid|hard_tanh)_config\d+$")
_CONST = re.compile(r"static\s+const\s+(?:unsigned|int|bool|double|float|nnet::\w+|\w+)\s+(\w+)\s*=\s*([^;]+);")
_TYPEDEF = re.compile(r"typedef\s+(.+?)\s+(\w+)\s*;")
_ARRAY = re.compile(r"^\s*nnet::array<\s*(.+)\s*,\s*[^,<>]+>\s*$")


def _value(text: str) -> Any:
    t = text.strip()
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    return t


_DEFINE = re.compile(r"^\s*#define\s+(\w+)\s+(-?\d+)\s*$", re.MULTILINE)


def parse_defines_h(text: str) -> dict[str, str]:
    """``typedef <type> <name>;`` lines of ``defines.h`` → {name: type}."""
    return {name: typ.strip() for typ, name in _TYPEDEF.findall(text)}


def parse_define_constants(text: str) -> dict[str, int]:
    """``#define NAME 123`` lines of ``defines.h`` → {name: value} (sizes such as ``N_INPUT_1_1``)."""
    return {name: int(v) for name, v in _DEFINE.findall(text)}


def parse_parameters_h(text: str, typedefs: Mapping[str, str] | None = None,
                       constants: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Config structs of ``parameters.h`` in file order, shaped like ``project.json``'s ``layers``.

    Each dict has ``struct``, ``kind`` (``dense_config`` …; ``activ_config`` for the base-less hard activation
    structs, ``transpose_config`` for a transpose's (its ``from_shape``/``to_shape``/``perm`` arrays as ``"3,4"``),
    ``sepconv_config`` for a separable conv's (its ``configN_depthwise`` and ``configN_pointwise`` are conv structs
    of their own), ``""`` for the other structs without an ``nnet::`` base), the ``static const``
    members, and for
    each member ``typedef X name_t;`` both ``name_t`` (resolved through ``typedefs``) and ``name_t_typedef``.
    """
    tds = dict(typedefs or {})
    consts = dict(constants or {})
    out: list[dict[str, Any]] = []
    found = [(m.start(), m, m.group(1), m.group(2), m.group(3)) for m in _STRUCT.finditer(text)]
    for m in _BARE_STRUCT.finditer(text):  # no base: a hard activation is an activ_config, the others unknown
        kind = "activ_config" if _HARD_ACTIVATION.match(m.group(1)) else (
            "sepconv_config" if "depthwise_config" in m.group(2) and "pointwise_config" in m.group(2) else (
                "transpose_config" if "perm_strides" in m.group(2) else ""))
        found.append((m.start(), m, m.group(1), kind, m.group(2)))
    for _, match, name, kind, body in sorted(found, key=lambda f: f[0]):
        d: dict[str, Any] = {"struct": name, "kind": kind}
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1].strip()
        if before.startswith("//"):  # hls4ml writes the Keras layer's name above its struct
            d["layer_name"] = before[2:].strip()
        for key, val in _CONST.findall(body):
            v = _value(val)
            if isinstance(v, str) and v in consts:
                d[key + "_expr"] = v
                v = consts[v]
            elif isinstance(v, str) and re.fullmatch(r"[\w\s*+()-]+", v) and any(c in v for c in consts):
                expr = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: str(consts.get(m.group(0), m.group(0))), v)
                if re.fullmatch(r"[\d\s*+()-]+", expr):
                    d[key + "_expr"] = v
                    v = int(eval(expr, {"__builtins__": {}}))  # only digits and + - * ( ) are left
            d[key] = v
        if kind == "transpose_config":  # its shapes are arrays after the struct: ``configN_to_shape[2] = {3, 4};``
            for arr in ("from_shape", "to_shape", "perm"):
                am = re.search(rf"\b{name}_{arr}\s*\[\s*\d+\s*\]\s*=\s*\{{([^}}]*)\}}", text)
                if am:
                    d[arr] = ",".join(x.strip() for x in am.group(1).split(",") if x.strip())
            pm = re.search(r"\bperm\s*\[\s*\d+\s*\]\s*=\s*\{([^}]*)\}", body)  # hls4ml < 1.3: in the struct
            if pm and "perm" not in d:
                d["perm"] = ",".join(x.strip() for x in pm.group(1).split(",") if x.strip())
        if "Depthwise" in body:  # hls4ml 1.3: a depthwise conv's mult struct uses nnet::DepthwiseDense* kernels
            d["depthwise"] = 1
        for typ, key in _TYPEDEF.findall(body):
            typ = typ.strip()
            d[key] = tds.get(typ, typ)
            d[key + "_typedef"] = typ
        out.append(d)
    return out


_CALL = re.compile(r"nnet::(\w+)\s*<([^<>;()]*)>\s*\(([^;()]*)\)\s*;[ \t]*(?://[ \t]*(\S+))?")
_ALIAS = re.compile(r"auto\s*&\s*(\w+)\s*=\s*(\w+)\s*;")
_NOT_LAYER_CALLS = ("save_layer_output", "print_result", "fill_zero", "fill_data", "copy_data", "convert_data")
"""hls4ml's testbench and debugging helpers (``writer/vivado_writer.py``); ``load_*`` (weights) are left out too."""


def parse_top_calls(text: str) -> list[dict[str, Any]]:
    """The layer calls of the top function (``myproject.cpp``) in order: ``nnet::add<layer4_t, layer7_t,
    add_result_t, config8>(layer4_out, layer7_out, layer8_out); // add`` -> ``{"func": "add", "types":
    ["layer4_t", "layer7_t", "add_result_t", "config8"], "args": [...], "name": "add", "config": "config8"}``.

    ``config`` is the last template argument when it names a config struct (``config8``, ``relu_config4``),
    else ``None`` (``clone_stream<layer4_t, layer4_t, 256>``, which hls4ml writes without a struct). The
    weight loading and the debugging output calls are left out. An in-place reshape (``auto& b = a;``) is an
    entry ``{"func": "alias", "args": [a, b]}``."""
    out: list[dict[str, Any]] = []
    events = [(m.start(), m) for m in _CALL.finditer(text)] + [(m.start(), m) for m in _ALIAS.finditer(text)]
    for _, m in sorted(events, key=lambda e: e[0]):
        if m.re is _ALIAS:  # an in-place reshape: ``auto& layer13_out = layer12_out;``
            out.append({"func": "alias", "types": [], "args": [m.group(2), m.group(1)], "name": None, "config": None})
            continue
        func, targs, args, name = m.groups()
        if func in _NOT_LAYER_CALLS or func.startswith("load_"):
            continue
        types = [t.strip() for t in targs.split(",") if t.strip()]
        config = types[-1] if types and "config" in types[-1] else None
        out.append({"func": func, "types": types, "args": [a.strip() for a in args.split(",") if a.strip()],
                    "name": name, "config": config})
    return out


def read_top_calls(folder: str | Path, project_name: str | None = None) -> list[dict[str, Any]] | None:
    """:func:`parse_top_calls` of a project's ``firmware/<ProjectName>.cpp`` (else the one ``firmware/*.cpp`` that
    calls ``nnet::`` layers); ``None`` when there is none."""
    fw = Path(folder) / "firmware"
    candidates = [fw / f"{project_name}.cpp"] if project_name else []
    candidates += sorted(fw.glob("*.cpp")) if fw.is_dir() else []
    for c in candidates:
        if not c.is_file():
            continue
        try:
            calls = parse_top_calls(c.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        if any(call["config"] for call in calls):
            return calls
    return None


def resolve_type(text: str | None, typedefs: Mapping[str, str] | None = None) -> FixedType | None:
    """``ap_fixed<16,6>``, a typedef name, or ``nnet::array<ap_fixed<...>, N>`` → FixedType (None if unknown)."""
    if not text:
        return None
    t = str(text).strip()
    seen = 0
    while typedefs and t in typedefs and seen < 8:
        t = typedefs[t].strip()
        seen += 1
    m = _ARRAY.match(t)
    if m:
        t = m.group(1)
    try:
        return FixedType.parse(t)
    except ValueError:
        return None


_ARRAY_SIZE = re.compile(r"^\s*nnet::array<.+,\s*([\d\s*]+)>\s*$")


def _array_size(text: str, typedefs: Mapping[str, str]) -> int | None:
    """Elements of an ``nnet::array<T, 8*1>`` typedef (an io_stream pixel), ``None`` when it is not one."""
    t = str(text).strip()
    seen = 0
    while t in typedefs and seen < 8:
        t = typedefs[t].strip()
        seen += 1
    m = _ARRAY_SIZE.match(t)
    return math.prod(int(x) for x in m.group(1).split("*") if x.strip()) if m else None


def _io(d: Mapping[str, Any], default: str) -> str:
    v = str(d.get("io_type", ""))
    return "io_stream" if "stream" in v else ("io_parallel" if "parallel" in v else default)


def _strategy(d: Mapping[str, Any]) -> str:
    """The layer's strategy from its config struct.

    hls4ml before ``strategy`` became a config member (0.x, with ``store_weights_in_bram`` and
    ``n_nonzeros`` already there) chose the dense implementation in ``myproject.cpp``, which the shared
    projects do not keep; with a ReuseFactor above 1 it called ``nnet::dense_large`` (the Resource
    implementation): both such projects of the shared data show ``dense_large`` instances (and their
    DATAFLOW channels) in their csynth reports. So a struct without ``strategy`` and RF > 1 is Resource.
    """
    if "strategy" not in d and "store_weights_in_bram" in d and _int(d.get("reuse_factor"), 1) > 1:
        return "resource"
    s = str(d.get("strategy", "latency")).lower()
    return "resource" if "resource" in s else "distributed_arithmetic" if s == "distributed_arithmetic" else "latency"


def _index(struct: str) -> str | None:
    m = re.search(r"config(\d+)", struct)
    return m.group(1) if m else None


def _int(v: Any, default: int) -> int:
    return v if isinstance(v, int) else default


def _member(d: Mapping[str, Any], key: str, default: int) -> int:
    """An integer member of a struct; a member naming another (``filt_width = pool_width``) is followed."""
    v = d.get(key)
    seen = 0
    while isinstance(v, str) and v in d and seen < 4:
        v = d[v]
        seen += 1
    return v if isinstance(v, int) else default


def _size(d: Mapping[str, Any], key: str, default: int) -> int:
    """A size member, also when hls4ml wrote it as a product of literals (``n_elem = 8*8*4``)."""
    v = d.get(key)
    if isinstance(v, str) and re.fullmatch(r"\s*\d+(\s*\*\s*\d+)*\s*", v):
        return math.prod(int(x) for x in v.split("*"))
    return _member(d, key, default)


def _enum(d: Mapping[str, Any], key: str, default: str) -> str:
    """The last name of an enum member: ``nnet::conv_implementation::linebuffer`` -> ``linebuffer``."""
    v = d.get(key)
    return str(v).rsplit(":", 1)[-1].strip().lower() if v is not None else default


_ACTIVATION_NAMES = {"leakyrelu": "leaky_relu", "thresholdedrelu": "thresholdedrelu", "hardsigmoid": "hard_sigmoid",
                     "hardtanh": "hard_tanh", "parametrizedrelu": "prelu"}
"""Struct-name spellings of activations (``LeakyReLU_config16``) -> the names of the activation rule."""

_SOFTMAX_IMPLEMENTATIONS = ("stable", "latency", "legacy", "argmax")
"""``nnet::softmax_implementation`` members (``nnet_activation.h``); a softmax struct without one (hls4ml before
0.6, or ``project.json`` summaries that dropped it) is costed as hls4ml 1.3's default, ``stable``."""

_WEIGHT_FREE_KINDS = {
    "pooling1d_config": "pooling1d", "pooling2d_config": "pooling2d", "padding1d_config": "zeropadding1d",
    "padding2d_config": "zeropadding2d", "concat_config": "concatenate", "resize_config": "resize",
    "merge_config": "merge", "dot_config": "dot", "cropping1d_config": "cropping1d",
    "cropping2d_config": "cropping2d",
}
"""hls4ml config structs (``*_config_template`` of ``backends/vivado/passes/``) of the kinds without weights."""
STRUCT_KINDS: tuple[str, ...] = ("dense_config", "conv1d_config", "conv2d_config", "activ_config",
                                 "batchnorm_config", "lstm_config", "gru_config", "embed_config",
                                 "layernorm_config", "transpose_config",
                                 *_WEIGHT_FREE_KINDS)
"""The hls4ml config-struct kinds :func:`layers_from_structs` turns into layers."""


def layers_from_structs(structs: Sequence[Mapping[str, Any]], typedefs: Mapping[str, str],
                        io_type: str | None = None, weight_files: Mapping[str, str] | None = None,
                        calls: Sequence[Mapping[str, Any]] | None = None) -> list[LayerSpec]:
    """hls4ml config structs (+ typedefs) → LayerSpecs in network order.

    The result type of ``configN`` / ``relu_configN`` is the typedef ``layerN_t`` (``result_t`` for
    the last layer). Conv structs take their matrix sizes from their ``configN_mult`` struct;
    a conv whose mult struct uses a ``DepthwiseDense*`` kernel (or a separable conv's ``configN_depthwise``) is a
    depthwise conv (one weight per window value), refused with :class:`~cost_models.errors.UnknownLayerError` where
    hls4ml 1.3 writes no working one (:func:`cost_models.depthwise_rules.depthwise_unsupported`); a conv with a
    1x1 kernel is a pointwise conv (hls4ml's ``optimize_pointwise_conv``). Pooling (global when the struct has no
    pool size), zero padding, resize, concatenate, merge and dot structs become layers of their kinds. A struct
    of any other kind (``embedding_config``, ``lstm_config``, …) raises :class:`~cost_models.errors.UnknownLayerError`
    naming the layer: the model has no rule for it, and leaving it out would cost it as zero.
    ``io_type`` (the project's ``IOType``) applies to every layer; without it, a project is io_stream when
    a typedef is an ``nnet::array`` or a struct declares ``io_type = nnet::io_stream``. ``weight_files``
    (:func:`weight_files_of`) tells which ``wN.txt`` holds each layer's weights.

    ``calls`` (:func:`parse_top_calls` of ``myproject.cpp``, when the folder has it) give what the structs do
    not say: a merge's operation (``nnet::multiply<...>``) and the types of its two inputs, the io_stream
    ``clone_stream`` stages (no struct; put after the layer called before them), and the input type of a
    layer that does not read the previous layer's output (a branch of a residual network: set as ``input``
    where it differs from the previous layer's result).
    """
    tds = dict(typedefs)
    streamed = any("nnet::array" in v for v in tds.values()) or any("stream" in str(d.get("io_type", ""))
                                                                     for d in structs)
    default_io = io_type if io_type in ("io_parallel", "io_stream") else (
        "io_stream" if streamed else "io_parallel")
    mults = {d["struct"][: -len("_mult")]: d for d in structs if str(d.get("struct", "")).endswith("_mult")}
    by_config = {str(c["config"]): c for c in calls or () if c.get("config")}
    specs: list[LayerSpec] = []
    first_input = resolve_type("input_t", tds)
    # a separable conv's own struct only names its parts (configN_depthwise, configN_pointwise), read as convs
    # an LSTM/GRU struct names its parts (two dense_config products, two activ_config activations), written before it
    by_name = {str(d.get("struct", "")): d for d in structs}
    parts = {str(d[key]) for d in structs if d.get("kind") in _RECURRENT_STRUCTS
             for key in _RECURRENT_PARTS if isinstance(d.get(key), str)}
    parts |= {name for d in structs if d.get("kind") in _RECURRENT_STRUCTS and "length_x" in d
              for name in _fork_parts(str(d.get("struct", "")), by_name).values()}
    main = [d for d in structs
            if not str(d.get("struct", "")).endswith("_mult") and d.get("kind") != "sepconv_config"
            and str(d.get("struct", "")) not in parts]
    for pos, d in enumerate(main):
        struct = str(d.get("struct", ""))
        kind = str(d.get("kind", ""))
        idx = _index(struct)
        # hls4ml names a layer's output type layerN_t, or <layer>_result_t when the config set its precision
        lname = d.get("layer_name") or mults.get(struct, {}).get("layer_name")  # a conv's comment is above _mult
        named = [n for n in (f"layer{idx}_t" if idx else "", f"{lname}_result_t") if n in tds]
        res_name = named[0] if named else "result_t"
        if pos == len(main) - 1 and "result_t" in tds:
            res_name = "result_t"
        result = resolve_type(res_name, tds) or FixedType(16, 6)
        rf = max(1, _int(d.get("reuse_factor"), 1))
        io = default_io if io_type in ("io_parallel", "io_stream") else _io(d, default_io)
        common: dict[str, Any] = {"name": struct, "result": result, "reuse_factor": rf, "io_type": io}
        if kind in ("dense_config",):
            specs.append(LayerSpec(
                kind="dense", n_in=int(d["n_in"]), n_out=int(d["n_out"]), n_zeros=_int(d.get("n_zeros"), 0),
                weight=resolve_type(d.get("weight_t"), tds), bias=resolve_type(d.get("bias_t"), tds),
                accum=resolve_type(d.get("accum_t"), tds), strategy=_strategy(d),  # type: ignore[arg-type]
                store_weights_in_bram=str(d.get("store_weights_in_bram", "false")) == "true",
                extra=_weight_file(d, files=weight_files), **common))
        elif kind in ("conv1d_config", "conv2d_config"):
            specs.append(_conv_spec(d, mults.get(struct, {}), tds, kind, common, weight_files))
        elif kind == "activ_config":
            act = struct.split("_config")[0].lower() if "_config" in struct else "relu"
            act = _ACTIVATION_NAMES.get(act, act)
            n = _int(d.get("n_in"), 1)
            table = resolve_type(d.get("table_t") or d.get("exp_table_t"), tds)
            tsize = _int(d.get("table_size", d.get("exp_table_size")), 1024)
            is_softmax = act.startswith("softmax")
            impl = _enum(d, "implementation", "stable") if is_softmax else "stable"
            specs.append(LayerSpec(kind="softmax" if is_softmax else "activation", n_in=n, n_out=n,
                                   activation="softmax" if is_softmax else act, table=table, table_size=tsize,
                                   softmax_implementation=impl if impl in _SOFTMAX_IMPLEMENTATIONS else "stable",  # type: ignore[arg-type]
                                   **common))
        elif kind == "batchnorm_config":
            nf = _int(d.get("n_filt"), -1)
            pixels = specs[-1].conv.out_pixels if specs and specs[-1].conv is not None else 1
            n = _int(d.get("n_in"), nf * pixels if nf > 0 else 1)
            specs.append(LayerSpec(kind="batchnorm", n_in=n, n_out=n, weight=resolve_type(d.get("scale_t"), tds),
                                   bias=resolve_type(d.get("bias_t"), tds), **common))
        elif kind in ("pooling1d_config", "pooling2d_config"):
            specs.append(_pooling_spec(d, tds, kind, common))
        elif kind in ("padding1d_config", "padding2d_config"):
            geo = _geometry(d, kind.startswith("padding1d"), n_chan_key="n_chan")
            specs.append(LayerSpec(kind=_WEIGHT_FREE_KINDS[kind], n_in=geo.in_pixels * geo.n_chan,  # type: ignore[arg-type]
                                   n_out=geo.out_pixels * geo.n_chan, conv=geo, **common))
        elif kind in _RECURRENT_STRUCTS:
            specs.append(_recurrent_spec(d, by_name, tds, _RECURRENT_STRUCTS[kind], common))
        elif kind == "transpose_config":
            n = _size(d, "N", 1)
            to_shape = [int(x) for x in str(d.get("to_shape", "")).split(",") if x.strip().isdigit()]
            if "N" not in d:  # hls4ml < 1.3: ``nnet::transpose_config`` with depth, height, width and perm[3]
                shape = [_member(d, k, 1) for k in ("depth", "height", "width")]
                n = math.prod(shape)
                perm = [int(x) for x in str(d.get("perm", "")).split(",") if x.strip().isdigit()]
                to_shape = [shape[p] for p in perm] if sorted(perm) == [0, 1, 2] else shape
            pack = to_shape[-1] if to_shape and n % to_shape[-1] == 0 else None
            specs.append(LayerSpec(kind="transpose", n_in=n, n_out=n, out_pack=pack, **common))
        elif kind == "layernorm_config":
            # hls4ml writes n_in and seq_len; a transformer fork writes seq_len and embed_dim (and sum_t, no accum_t)
            rows = max(1, _member(d, "seq_len", 1))
            n = _size(d, "n_in", 0) or rows * _member(d, "embed_dim", 1)
            specs.append(LayerSpec(kind="layernorm", n_in=n, n_out=n, time_steps=rows if n % rows == 0 else 1,
                                   weight=resolve_type(d.get("scale_t"), tds), bias=resolve_type(d.get("bias_t"), tds),
                                   accum=resolve_type(d.get("accum_t") or d.get("sum_t"), tds),
                                   table=resolve_type(d.get("table_t"), tds),
                                   table_size=_member(d, "table_size", 1024), **common))
        elif kind == "embed_config":
            n = _member(d, "n_in", 1)
            specs.append(LayerSpec(kind="embedding", n_in=n, n_out=n * _member(d, "n_out", 1),
                                   vocab_size=_member(d, "vocab_size", 1),
                                   weight=resolve_type(d.get("embeddings_t"), tds), **common))
        elif kind in ("cropping1d_config", "cropping2d_config"):
            specs.append(_cropping_spec(d, kind == "cropping1d_config", common))
        elif kind == "resize_config":
            nc = _member(d, "n_chan", 1)
            geo = ConvGeometry(in_width=_member(d, "width", 1), in_height=_member(d, "height", 1), n_chan=nc,
                               filt_width=1, filt_height=1, n_filt=nc, out_width=_member(d, "new_width", 1),
                               out_height=_member(d, "new_height", 1))
            specs.append(LayerSpec(kind="resize", n_in=geo.in_pixels * nc, n_out=geo.out_pixels * nc, conv=geo,
                                   **common))
        elif kind == "merge_config":
            call = by_config.get(struct, {})
            op = str(call.get("func", ""))
            in1, in2 = _call_input_types(call, 2, tds)
            n = _size(d, "n_elem", max(_size(d, "n_elem1", 1), _size(d, "n_elem2", 1)))
            specs.append(LayerSpec(kind="merge", n_in=n, n_out=n, merge_op=op if op in MERGE_OPS else None,  # type: ignore[arg-type]
                                   input=in1, input2=in2, **common))
        elif kind == "dot_config":
            in1, in2 = _call_input_types(by_config.get(struct, {}), 2, tds)
            specs.append(LayerSpec(kind="dot", n_in=_size(d, "n_in", 1), n_out=_size(d, "n_out", 1),
                                   accum=resolve_type(d.get("accum_t"), tds), input=in1, input2=in2, **common))
        elif kind == "concat_config":
            # hls4ml writes 0 for the dimensions an input does not have
            n1 = math.prod(v for i in range(3) if (v := _member(d, f"n_elem1_{i}", 0)) > 0)
            n2 = math.prod(v for i in range(3) if (v := _member(d, f"n_elem2_{i}", 0)) > 0)
            # concatenate1d (no second dimension): io_stream writes ONE pixel of n1 + n2 (nnet_merge_stream.h)
            flat = ("n_elem1_1" in d and _member(d, "n_elem1_1", 0) <= 0 and _member(d, "n_elem2_1", 0) <= 0
                    and n1 + n2 > 0)
            specs.append(LayerSpec(kind="concatenate", n_in=n1 + n2, n_out=n1 + n2,
                                   out_pack=n1 + n2 if flat else None, **common))
        else:
            name = d.get("layer_name") or mults.get(struct, {}).get("layer_name")
            what = f"nnet::{kind}" if kind else f"a struct without an nnet:: base (called by nnet::" \
                f"{by_config.get(struct, {}).get('func', '?')})"
            raise UnknownLayerError(f"layer {struct!r}{f' ({name})' if name else ''}: hls4ml struct kind "
                                    f"{what} has no cost rule; known: {', '.join(STRUCT_KINDS)}")
    if calls:
        specs = _with_calls(specs, calls, tds, default_io)
    if specs and first_input is not None:
        specs[0] = dataclasses.replace(specs[0], input=first_input)
    return specs


def _call_input_types(call: Mapping[str, Any], n: int, tds: Mapping[str, str]) -> list[FixedType | None]:
    """The types of the first ``n`` inputs of a layer call (its first template arguments), ``None`` if unknown."""
    types = list(call.get("types") or [])
    return [resolve_type(types[i], tds) if len(types) > n else None for i in range(n)]


def _with_calls(specs: list[LayerSpec], calls: Sequence[Mapping[str, Any]], tds: Mapping[str, str],
                io: str) -> list[LayerSpec]:
    """``specs`` with the Clone stages of ``calls`` inserted, the input type of each branch's first layer, and for a
    merge or dot the layers that write its two inputs (``extra["inputs"]``: ``"a,b"``, ``""`` for the model input)."""
    at = {spec.name: i for i, spec in enumerate(specs)}
    for name in list(at):  # a separable conv is called once with configN; its parts are two layers
        if name.endswith("_pointwise") and name[: -len("_pointwise")] not in at:
            at[name[: -len("_pointwise")]] = at[name]
    for call in calls:  # a layer called with a config struct the reader did not find: refuse, never cost it 0
        if call.get("config") and call["config"] not in at:
            label = f" ({call['name']})" if call.get("name") else ""
            raise UnknownLayerError(f"layer {call['config']!r}{label}: nnet::{call.get('func')} is called with a "
                                    f"config struct the cost model cannot read; known struct kinds: "
                                    f"{', '.join(STRUCT_KINDS)}")
    inserts: list[tuple[int, LayerSpec]] = []
    inputs: dict[str, FixedType] = {}
    last = -1
    for call in calls:
        config = call.get("config")
        types = list(call.get("types") or [])
        if config in at:
            last = at[str(config)]
            t = resolve_type(types[0], tds) if len(types) > 1 else None
            if t is not None:
                inputs[str(config)] = t
        elif call.get("func") == "clone_stream" and len(types) == 3 and types[2].isdigit():
            copies = max(1, len(call.get("args") or []) - 1)
            result = resolve_type(types[1], tds) or FixedType(16, 6)
            n = int(types[2])
            name = str(call.get("name") or f"clone_{(call.get('args') or ['?'])[0]}")
            inserts.append((last + 1, LayerSpec(name=name, kind="clone", n_in=n, n_out=copies * n, result=result,
                                                io_type=io)))  # type: ignore[arg-type]
        elif call.get("func") == "repack_stream" and len(types) == 3 and types[2].isdigit():
            # an io_stream Reshape that is not in place (hls4ml's Repack): no struct, only this call
            result = resolve_type(types[1], tds) or FixedType(16, 6)
            n = int(types[2])
            pack = _array_size(types[1], tds)
            name = str(call.get("name") or f"repack_{(call.get('args') or ['?'])[0]}")
            inserts.append((last + 1, LayerSpec(name=name, kind="repack", n_in=n, n_out=n, result=result, io_type=io,  # type: ignore[arg-type]
                                                out_pack=pack if pack and n % pack == 0 else None)))
    producer: dict[str, str] = {}  # variable -> the struct of the layer that writes it
    for call in calls:
        args = [str(a) for a in call.get("args") or []]
        types = list(call.get("types") or [])
        if call.get("func") == "alias" and len(args) == 2:
            if args[0] in producer:
                producer[args[1]] = producer[args[0]]
        elif call.get("config") in at and len(args) > 1:
            producer[args[max(1, len(types) - 2)]] = specs[at[str(call["config"])]].name
    for call in calls:
        config = call.get("config")
        if config in at and specs[at[str(config)]].kind in ("merge", "dot"):
            i = at[str(config)]
            names = [producer.get(str(a), "") for a in (call.get("args") or [])[:2]]
            specs[i] = dataclasses.replace(specs[i], extra={**specs[i].extra, "inputs": ",".join(names)})
    out = list(specs)
    for pos, spec in reversed(inserts):
        out.insert(pos, spec)
    for i in range(1, len(out)):
        t = inputs.get(out[i].name)
        if out[i].kind not in ("merge", "dot") and t is not None and out[i].input is None and t != out[i - 1].result:
            out[i] = dataclasses.replace(out[i], input=t)
    return out


def _geometry(d: Mapping[str, Any], one_d: bool, n_chan_key: str, *, filt: str = "filt",
              width_keys: tuple[str, str] = ("in_width", "out_width")) -> ConvGeometry:
    iw, ow = width_keys
    return ConvGeometry(
        in_width=_member(d, iw, 1), in_height=1 if one_d else _member(d, "in_height", 1),
        n_chan=_member(d, n_chan_key, 1), filt_width=_member(d, f"{filt}_width", 1),
        filt_height=1 if one_d else _member(d, f"{filt}_height", 1), n_filt=_member(d, "n_filt", 1),
        out_width=_member(d, ow, 1), out_height=1 if one_d else _member(d, "out_height", 1),
        stride_width=_member(d, "stride_width", 1), stride_height=1 if one_d else _member(d, "stride_height", 1),
        pad_top=_member(d, "pad_top", 0), pad_bottom=_member(d, "pad_bottom", 0),
        pad_left=_member(d, "pad_left", 0), pad_right=_member(d, "pad_right", 0))


def _weight_file(*structs: Mapping[str, Any], files: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{"weight_file": "w5"}`` for a struct: hls4ml names the weight files by the index of the layer that
    owned them, which a later pass may renumber (a pointwise conv made by ``optimize_pointwise_conv`` is
    ``config10`` but keeps ``w5.txt``). ``files`` maps weight typedef names to file stems (from the
    ``weights/wN.h`` declarations, :func:`weight_files_of`); else a ``weightN_t`` typedef gives ``wN``."""
    for d in structs:
        typ = str(d.get("weight_t_typedef", ""))
        if files and typ in files:
            return {"weight_file": files[typ]}
        m = re.fullmatch(r"weight(\d+)_t", typ)
        if m:
            return {"weight_file": f"w{m.group(1)}"}
    return {}


_WEIGHT_DECL = re.compile(r"^\s*([\w:<>, ]+?)\s+(w\d+)\s*\[", re.MULTILINE)


def weight_files_of(weights_dir: str | Path) -> dict[str, str]:
    """{weight typedef: file stem} from the declarations of hls4ml's ``weights/wN.h`` (``pw_weight_t w5[12];``).

    Only the head of each header is read (the declaration precedes the values)."""
    out: dict[str, str] = {}
    for h in sorted(Path(weights_dir).glob("w*.h")):
        try:
            with h.open(encoding="utf-8", errors="replace") as fh:
                head = fh.read(4096)
        except OSError:
            continue
        m = _WEIGHT_DECL.search(head)
        if m and m.group(2) == h.stem:
            out.setdefault(m.group(1).strip(), h.stem)
    return out


def _hls4ml_05_conv(d: Mapping[str, Any]) -> bool:
    """A conv struct written by hls4ml 0.5, whose only io_stream conv was the Encoded one (``conv_2d_encoded_cl``).

    hls4ml 0.6 and 0.7 write ``implementation`` (``conv_implementation::linebuffer`` by default), 0.8 to 1.3 also
    ``n_partitions`` (the project.json extracts of the shared data drop the enum member, not ``n_partitions``);
    0.5 wrote neither, but the Encoded implementation's ``min_height``/``min_width`` (Gabriele-bot PYNQ_IA, whose
    csynth FIFO table lists the ``data_window`` FIFOs of depth ``filt_height x out_width``)."""
    return "implementation" not in d and "n_partitions" not in d and ("min_height" in d or "min_width" in d)


def _conv_spec(d: Mapping[str, Any], m: Mapping[str, Any], tds: Mapping[str, str], kind: str,
               common: Mapping[str, Any], weight_files: Mapping[str, str] | None = None) -> LayerSpec:
    struct = str(d.get("struct", ""))
    geo = _geometry(d, kind == "conv1d_config", "n_chan")
    per_pixel = geo.filt_width * geo.filt_height * geo.n_chan
    # hls4ml 1.3 writes a pointwise io_parallel Conv1D with one partition as BatchedDenseForConv1D, whose
    # mult struct spans every pixel; the conv struct's sizes are the per-pixel product in every case
    n_in = per_pixel if "filt_width" in d else _int(m.get("n_in"), per_pixel)
    n_out = geo.n_filt if "n_filt" in d else _int(m.get("n_out"), geo.n_filt)
    n_zeros = _int(m.get("n_zeros", d.get("n_zeros")), 0)
    extra = _weight_file(d, m, files=weight_files)
    depthwise = bool(struct.endswith("_depthwise") or d.get("depthwise") or m.get("depthwise"))
    if depthwise:  # a DepthwiseDense* kernel: kernel x n_chan products, n_zeros among those weights
        n_in = _int(m.get("n_in"), n_in)
        n_out = _int(m.get("n_out"), n_out)
    parts = _member(d, "n_partitions", 0)
    pf = geo.out_pixels // parts if parts > 0 and geo.out_pixels % parts == 0 else None
    pointwise = geo.filt_width * geo.filt_height == 1 and not depthwise
    spec_kind = ("depthwise_" if depthwise else "pointwise_" if pointwise else "") + (
        "conv1d" if kind == "conv1d_config" else "conv2d")
    impl = _enum(d, "implementation", "encoded" if _hls4ml_05_conv(d) else "linebuffer")
    spec = LayerSpec(
        kind=spec_kind, n_in=n_in, n_out=n_out, n_zeros=n_zeros,  # type: ignore[arg-type]
        weight=resolve_type(d.get("weight_t") or m.get("weight_t"), tds),
        bias=resolve_type(d.get("bias_t"), tds), accum=resolve_type(d.get("accum_t"), tds),
        strategy=_strategy(d), conv=geo, extra=extra, parallelization_factor=pf,  # type: ignore[arg-type]
        conv_implementation="encoded" if impl == "encoded" else "linebuffer", **common)
    lname = m.get("layer_name") or d.get("layer_name")  # the Keras name in the comment above the struct
    why = depthwise_unsupported(spec, f"{struct!r} ({lname})" if lname else None) if depthwise else None
    if why is not None:
        raise UnknownLayerError(why)
    return spec


_RECURRENT_STRUCTS = {"lstm_config": "lstm", "gru_config": "gru"}
_RECURRENT_PARTS = ("mult_config1", "mult_config2", "ACT_CONFIG_LSTM", "ACT_CONFIG_GRU", "ACT_CONFIG_T")
"""Members of an hls4ml 1.3 ``lstm_config``/``gru_config`` naming its part structs (``recurrent_templates.py``)."""


def _act_name(struct: str, default: str) -> str:
    """``sigmoid_config2_recr`` -> ``sigmoid`` (hls4ml names an activation's struct after the activation)."""
    name = struct.split("_config")[0].lower() if "_config" in struct else default
    return _ACTIVATION_NAMES.get(name, name)


def _fork_parts(struct: str, by_name: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The part structs of a forked hls4ml LSTM (``nnet_lstm.h``: ``config1_lstm2 : nnet::lstm_config`` with
    ``length_x``, ``length_h``, ``timestep``; ``config_x_lstm2`` and ``config_h_lstm2`` its products,
    ``config2_lstm2`` its activation): ``{"x": ..., "h": ..., "act": ...}`` by the shared name suffix."""
    suffix = struct.split("_", 1)[1] if "_" in struct else ""
    if not suffix:
        return {}
    out = {"x": f"config_x_{suffix}", "h": f"config_h_{suffix}"}
    act = [n for n, d in by_name.items() if n.endswith(f"_{suffix}") and d.get("kind") == "activ_config"]
    if act:
        out["act"] = act[0]
    return {k: v for k, v in out.items() if v in by_name}


def _recurrent_spec(d: Mapping[str, Any], by_name: Mapping[str, Mapping[str, Any]], tds: Mapping[str, str], kind: str,
                    common: Mapping[str, Any]) -> LayerSpec:
    """``lstm_config`` / ``gru_config`` with its parts: the input product (``mult_config1``: strategy, ReuseFactor,
    zeros), the recurrent product (``mult_config2``: the recurrent ReuseFactor and zeros) and the activations'
    structs (names, table type and size). A forked LSTM's struct (``length_x``, ``length_h``, ``timestep``, see
    :func:`_fork_parts`) is read as the same layer, with a note."""
    fork = _fork_parts(str(d.get("struct", "")), by_name) if "length_x" in d else {}
    m1 = by_name.get(str(d.get("mult_config1", fork.get("x", ""))), {})
    m2 = by_name.get(str(d.get("mult_config2", fork.get("h", ""))), {})
    recr_struct = str(d.get("ACT_CONFIG_LSTM", d.get("ACT_CONFIG_GRU", fork.get("act", ""))))
    act_struct = str(d.get("ACT_CONFIG_T", ""))
    act = by_name.get(act_struct, by_name.get(recr_struct, {}))
    steps = _member(d, "n_sequence", _member(d, "timestep", 1))
    n_state = _member(d, "n_state", _member(d, "n_out", _member(d, "length_h", 1)))
    if "length_x" in d:
        common = {**common, "extra": {"note": "a forked nnet_lstm.h LSTM (length_x/length_h/timestep): costed as "
                                              "hls4ml 1.3's"}}
    rf = max(1, _int(m1.get("reuse_factor"), _int(d.get("reuse_factor"), 1)))
    return LayerSpec(
        kind=kind, n_in=steps * _member(d, "n_in", _member(d, "length_x", 1)),  # type: ignore[arg-type]
        n_out=(steps if _member(d, "n_sequence_out", 1) > 1 else 1) * n_state,
        weight=resolve_type(d.get("weight_t"), tds), bias=resolve_type(d.get("bias_t"), tds),
        accum=resolve_type(d.get("accum_t"), tds), recurrent_weight=resolve_type(d.get("recurrent_weight_t"), tds),
        n_zeros=_int(m1.get("n_zeros"), 0), recurrent_n_zeros=_int(m2.get("n_zeros"), 0),
        strategy=_strategy(m1) if m1 else "latency",  # type: ignore[arg-type]
        recurrent_reuse_factor=max(1, _int(m2.get("reuse_factor"), rf)), time_steps=steps, n_state=n_state,
        recurrent_static=str(d.get("use_static", "true")).lower() != "false",
        activation=_act_name(act_struct, "tanh"), recurrent_activation=_act_name(recr_struct, "sigmoid"),
        table=resolve_type(act.get("table_t"), tds), table_size=_int(act.get("table_size"), 1024),
        **{**common, "reuse_factor": rf})


def _cropping_spec(d: Mapping[str, Any], one_d: bool, common: Mapping[str, Any]) -> LayerSpec:
    """``cropping{1,2}d_config``: the geometry with the cropped rows/columns in ``pad_*``."""
    nc = _member(d, "n_chan", 1)
    geo = ConvGeometry(
        in_width=_member(d, "in_width", 1), in_height=1 if one_d else _member(d, "in_height", 1), n_chan=nc,
        filt_width=1, filt_height=1, n_filt=nc, out_width=_member(d, "out_width", 1),
        out_height=1 if one_d else _member(d, "out_height", 1), pad_top=_member(d, "crop_top", 0),
        pad_bottom=_member(d, "crop_bottom", 0), pad_left=_member(d, "crop_left", 0),
        pad_right=_member(d, "crop_right", 0))
    return LayerSpec(kind="cropping1d" if one_d else "cropping2d", n_in=geo.in_pixels * nc,
                     n_out=geo.out_pixels * nc, conv=geo, **common)


def _pooling_spec(d: Mapping[str, Any], tds: Mapping[str, str], kind: str, common: Mapping[str, Any]) -> LayerSpec:
    one_d = kind == "pooling1d_config"
    op = "average" if "average" in _enum(d, "pool_op", "max") else "max"
    # hls4ml 0.5 (its ``reuse`` member, no ``implementation``) had only the Encoded io_stream pooling
    impl = _enum(d, "implementation", "encoded" if "reuse" in d else "linebuffer")
    accum = resolve_type(d.get("accum_t"), tds)
    if "pool_width" not in d:  # global pooling: no window, a 1x1 output per channel
        iw = _member(d, "n_in" if one_d else "in_width", 1)
        ih = 1 if one_d else _member(d, "in_height", 1)
        nf = _member(d, "n_filt", 1)
        geo = ConvGeometry(in_width=iw, in_height=ih, n_chan=nf, filt_width=iw, filt_height=ih, n_filt=nf,
                           out_width=1, out_height=1, stride_width=iw, stride_height=ih)
        return LayerSpec(kind="global_pooling1d" if one_d else "global_pooling2d", n_in=iw * ih * nf, n_out=nf,
                         conv=geo, pool_op=op, accum=accum, **common)  # type: ignore[arg-type]
    geo = _geometry(d, one_d, "n_filt", filt="pool", width_keys=("n_in", "n_out") if one_d else ("in_width",
                                                                                                  "out_width"))
    return LayerSpec(kind="pooling1d" if one_d else "pooling2d", n_in=geo.in_pixels * geo.n_chan,
                     n_out=geo.out_pixels * geo.n_chan, conv=geo, pool_op=op, accum=accum,  # type: ignore[arg-type]
                     conv_implementation="encoded" if impl == "encoded" else "linebuffer", **common)


# --------------------------------------------------------------------------------- project files
def read_hls_config_yml(path: str | Path) -> dict[str, Any]:
    """Top-level scalars of ``hls4ml_config.yml`` (Part, ClockPeriod, Backend, IOType, ProjectName).

    Read line by line: hls4ml writes custom tags (``!keras_model``) that a safe YAML loader refuses.
    hls4ml before 0.6 named the part ``XilinxPart``: it is returned as ``Part`` when there is no ``Part``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ReportError(p, f"cannot read: {exc}") from None
    out: dict[str, Any] = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+):\s*(\S.*)?$", line)
        if m and m.group(2) is not None:
            out[m.group(1)] = m.group(2).strip().strip("'\"")
    if "Part" not in out and "XilinxPart" in out:
        out["Part"] = out["XilinxPart"]
    strat = re.search(r"^\s+Strategy:\s*(\w+)", text, re.MULTILINE)
    if strat:
        out.setdefault("Strategy", strat.group(1))
    return out


def read_project_json(path: str | Path) -> tuple[list[LayerSpec], dict[str, Any], dict[str, Any]]:
    """(layers, synthesis figures, source) from a shared-data ``project.json``."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(p, f"not a readable project.json: {exc}") from None
    if not isinstance(data, dict):
        raise ReportError(p, "project.json must hold an object")
    try:
        layers = layers_from_structs(data.get("layers") or [], data.get("typedefs") or {})
    except UnknownLayerError as exc:  # a record without a layer list rather than one with a layer missing
        log.warning("%s: no layer list: %s", p, exc)
        layers = []
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(p, f"bad layer struct: {exc}") from None
    return layers, dict(data.get("synthesis") or {}), dict(data.get("source") or {})


def _find_report(folder: Path, project_name: str | None) -> Path | None:
    xmls = sorted(folder.glob("**/syn/report/*_csynth.xml")) + sorted(folder.glob("*_csynth.xml"))
    rpts = sorted(folder.glob("**/syn/report/*_csynth.rpt")) + sorted(folder.glob("*_csynth.rpt"))
    for group in (xmls, rpts):
        tops = [r for r in group if project_name and r.name == f"{project_name}_csynth.{r.suffix[1:]}"]
        if not tops:
            # the top function's report sits next to the per-function ones; its name matches a *_prj folder
            tops = [r for r in group if any(part == r.name.rsplit("_csynth", 1)[0] + "_prj" for part in r.parts)]
        if not tops and len(group) == 1:
            tops = group
        if tops:
            return tops[0]
    return None


def read_hls_project(folder: str | Path) -> SynthesisRecord:
    """A :class:`SynthesisRecord` (figures + layer list) of an hls4ml project folder.

    Layers from ``firmware/parameters.h`` + ``firmware/defines.h`` when present, else from
    ``project.json``. Figures from the top-level ``*_csynth.xml`` (else ``.rpt``); per-instance
    rows from the ``.rpt`` when present; post-synthesis utilisation from ``vivado_synth.rpt``.
    Raises :class:`ReportError` when the folder has no report.
    """
    f = Path(folder)
    cfg = read_hls_config_yml(f / "hls4ml_config.yml") if (f / "hls4ml_config.yml").is_file() else {}
    project_name = cfg.get("ProjectName")
    layers: list[LayerSpec] | None = None
    params, defines = f / "firmware" / "parameters.h", f / "firmware" / "defines.h"
    legacy = False
    if params.is_file():
        dtext = defines.read_text(encoding="utf-8", errors="replace") if defines.is_file() else ""
        tds = parse_defines_h(dtext)
        ptext = params.read_text(encoding="utf-8", errors="replace")
        legacy = is_legacy_parameters_h(ptext)
        structs = parse_parameters_h(ptext, tds, parse_define_constants(dtext))
        wdir = f / "firmware" / "weights"
        try:
            layers = layers_from_structs(structs, tds, cfg.get("IOType"),
                                         weight_files_of(wdir) if wdir.is_dir() else None,
                                         read_top_calls(f, project_name))
        except UnknownLayerError as exc:
            log.warning("%s: no layer list: %s", params, exc)
            layers = []
    synth: dict[str, Any] = {}
    if (f / "project.json").is_file():
        pj_layers, synth, _src = read_project_json(f / "project.json")
        if not layers and pj_layers:
            layers = pj_layers
    report = _find_report(f, project_name)
    if report is None:
        raise ReportError(f, "no *_csynth.xml or *_csynth.rpt report in this project folder")
    rec = read_csynth_xml(report) if report.suffix == ".xml" else read_csynth_rpt(report)
    rpt = report.with_suffix(".rpt")
    if report.suffix == ".xml" and rpt.is_file():
        try:
            rec.layer_rows = read_csynth_rpt(rpt).layer_rows
        except ReportError as exc:
            log.warning("per-layer rows unavailable: %s", exc)
    vs = f / "vivado_synth.rpt"
    if vs.is_file():
        try:
            rec.post_synth = read_vivado_synth_rpt(vs).to_dict()
        except ReportError as exc:
            log.warning("post-synthesis figures unavailable: %s", exc)
    if not rec.part:
        rec.part = cfg.get("Part") or synth.get("part")
    if rec.clock_period_ns is None:
        rec.clock_period_ns = float(cfg.get("ClockPeriod") or synth.get("clock_target_ns") or 5.0)
    if rec.tool == "unknown" and cfg.get("Backend"):
        rec.tool = "vitis" if "vitis" in str(cfg["Backend"]).lower() else tool_from_version(rec.tool_version)
    rec.io_type = cfg.get("IOType") or (layers[0].io_type if layers else None)
    for wdir in (f / "weights", f / "firmware" / "weights"):
        if layers and wdir.is_dir():
            layers = attach_weight_stats(layers, wdir)
            break
    rec.layers = layers or None
    rec.legacy_hls4ml = legacy
    rec.source = str(f)
    return rec


def is_legacy_parameters_h(text: str) -> bool:
    """True when a ``parameters.h`` was written by an hls4ml older than 0.8: it does not include
    ``nnet_utils/nnet_code_gen.h``, which every later version's ``parameters.h`` template includes."""
    return "nnet_code_gen.h" not in text


def attach_weight_stats(layers: Sequence[LayerSpec], weights_dir: str | Path,
                        type_texts: Mapping[str, str] | None = None) -> list[LayerSpec]:
    """Layers with :class:`~cost_models.WeightStats` from hls4ml's ``weights/wN.txt`` files.

    ``wN.txt`` belongs to the layer whose struct is ``configN`` (conv: ``configN`` too). Layers
    without a file, or whose file does not hold ``n_in * n_out`` values, keep ``weights=None``
    (logged). ``type_texts`` maps struct names to the full weight type text, for rounding and
    overflow modes (``AP_RND``, ``AP_SAT``); the default is ap_fixed's TRN/WRAP.
    """
    wd = Path(weights_dir)
    out: list[LayerSpec] = []
    for layer in layers:
        idx = _index(layer.name)
        stem = layer.extra.get("weight_file") or (f"w{idx}" if idx else None)
        path = wd / f"{stem}.txt" if stem else None
        if layer.kind not in WEIGHTED_KINDS or layer.weight is None or path is None or not path.is_file():
            out.append(layer)
            continue
        try:
            values = read_weights_txt(path)
            rounding, overflow = type_modes((type_texts or {}).get(layer.name, ""))
            # a depthwise conv's file holds one weight per window value: a column (no products to share)
            n_in, n_out = (layer.n_weights, 1) if layer.kind in DEPTHWISE_KINDS else (layer.n_in, layer.n_out)
            stats = summarize_weights(values, layer.weight, n_in, n_out, rounding, overflow)
        except (OSError, ValueError) as exc:
            log.info("no weight summary for %s: %s", layer.name, exc)
            out.append(layer)
            continue
        out.append(dataclasses.replace(layer, weights=stats))
    return out


def find_project_dirs(dirs: Iterable[str | Path]) -> list[Path]:
    """hls4ml project folders under ``dirs``: folders holding ``hls4ml_config.yml`` or ``project.json``."""
    found: set[Path] = set()
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            raise ReportError(root, "not a folder")
        for marker in ("hls4ml_config.yml", "project.json"):
            for m in root.rglob(marker):
                found.add(m.parent)
    return sorted(found)


def records_from_dirs(dirs: Iterable[str | Path]) -> list[SynthesisRecord]:
    """Records of every readable project folder under ``dirs`` (unreadable ones are logged and skipped)."""
    out: list[SynthesisRecord] = []
    for folder in find_project_dirs(dirs):
        try:
            out.append(read_hls_project(folder))
        except ReportError as exc:
            log.warning("skipping %s", exc)
    return out
