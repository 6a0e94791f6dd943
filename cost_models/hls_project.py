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
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cost_models.errors import ReportError
from cost_models.layers import ConvGeometry, FixedType, LayerSpec
from cost_models.records import SynthesisRecord
from cost_models.reports import read_csynth_rpt, read_csynth_xml, read_vivado_synth_rpt, tool_from_version
from cost_models.weights import read_weights_txt, summarize_weights, type_modes

__all__ = [
    "attach_weight_stats", "find_project_dirs", "layers_from_structs", "parse_define_constants", "parse_defines_h",
    "parse_parameters_h", "read_hls_config_yml", "read_hls_project", "read_project_json", "records_from_dirs",
    "resolve_type",
]

log = logging.getLogger(__name__)

_STRUCT = re.compile(r"struct\s+(\w+)\s*:\s*nnet::(\w+)\s*\{(.*?)\n\s*\};", re.DOTALL)
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

    Each dict has ``struct``, ``kind`` (``dense_config`` …), the ``static const`` members, and for
    each member ``typedef X name_t;`` both ``name_t`` (resolved through ``typedefs``) and ``name_t_typedef``.
    """
    tds = dict(typedefs or {})
    consts = dict(constants or {})
    out: list[dict[str, Any]] = []
    for name, kind, body in _STRUCT.findall(text):
        d: dict[str, Any] = {"struct": name, "kind": kind}
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
        for typ, key in _TYPEDEF.findall(body):
            typ = typ.strip()
            d[key] = tds.get(typ, typ)
            d[key + "_typedef"] = typ
        out.append(d)
    return out


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


def _io(d: Mapping[str, Any], default: str) -> str:
    v = str(d.get("io_type", ""))
    return "io_stream" if "stream" in v else ("io_parallel" if "parallel" in v else default)


def _strategy(d: Mapping[str, Any]) -> str:
    s = str(d.get("strategy", "latency")).lower()
    return "resource" if "resource" in s else "distributed_arithmetic" if s == "distributed_arithmetic" else "latency"


def _index(struct: str) -> str | None:
    m = re.search(r"config(\d+)", struct)
    return m.group(1) if m else None


def _int(v: Any, default: int) -> int:
    return v if isinstance(v, int) else default


def layers_from_structs(structs: Sequence[Mapping[str, Any]], typedefs: Mapping[str, str]) -> list[LayerSpec]:
    """hls4ml config structs (+ typedefs) → LayerSpecs in network order.

    The result type of ``configN`` / ``relu_configN`` is the typedef ``layerN_t`` (``result_t`` for
    the last layer). Conv structs take their matrix sizes from their ``configN_mult`` struct;
    depthwise convolutions count only the diagonal of that matrix as weights. Padding, pooling and
    other structs without a cost rule are skipped (logged at debug level).
    """
    tds = dict(typedefs)
    default_io = "io_stream" if any("nnet::array" in v for v in tds.values()) else "io_parallel"
    mults = {d["struct"][: -len("_mult")]: d for d in structs if str(d.get("struct", "")).endswith("_mult")}
    specs: list[LayerSpec] = []
    first_input = resolve_type("input_t", tds)
    pixels = 1
    main = [d for d in structs if not str(d.get("struct", "")).endswith("_mult")]
    for pos, d in enumerate(main):
        struct = str(d.get("struct", ""))
        kind = str(d.get("kind", ""))
        idx = _index(struct)
        res_name = f"layer{idx}_t" if idx and f"layer{idx}_t" in tds else "result_t"
        if pos == len(main) - 1 and "result_t" in tds:
            res_name = "result_t"
        result = resolve_type(res_name, tds) or FixedType(16, 6)
        rf = max(1, _int(d.get("reuse_factor"), 1))
        io = _io(d, default_io)
        common: dict[str, Any] = {"name": struct, "result": result, "reuse_factor": rf, "io_type": io}
        if kind in ("dense_config",):
            specs.append(LayerSpec(
                kind="dense", n_in=int(d["n_in"]), n_out=int(d["n_out"]), n_zeros=_int(d.get("n_zeros"), 0),
                weight=resolve_type(d.get("weight_t"), tds), bias=resolve_type(d.get("bias_t"), tds),
                accum=resolve_type(d.get("accum_t"), tds), strategy=_strategy(d),  # type: ignore[arg-type]
                store_weights_in_bram=str(d.get("store_weights_in_bram", "false")) == "true", **common))
        elif kind in ("conv1d_config", "conv2d_config"):
            m = mults.get(struct, {})
            fw, fh = _int(d.get("filt_width"), 1), _int(d.get("filt_height"), 1)
            nc, nf = _int(d.get("n_chan"), 1), _int(d.get("n_filt"), 1)
            n_in = _int(m.get("n_in"), fw * fh * nc)
            n_out = _int(m.get("n_out"), nf)
            n_zeros = _int(m.get("n_zeros", d.get("n_zeros")), 0)
            extra = {}
            if struct.endswith("_depthwise"):
                n_zeros += n_in * n_out - n_in  # a depthwise product only uses the diagonal
                extra["depthwise"] = "1"
            geo = ConvGeometry(
                in_width=_int(d.get("in_width"), 1), in_height=_int(d.get("in_height"), 1), n_chan=nc,
                filt_width=fw, filt_height=fh, n_filt=nf, out_width=_int(d.get("out_width"), 1),
                out_height=_int(d.get("out_height"), 1), stride_width=_int(d.get("stride_width"), 1),
                stride_height=_int(d.get("stride_height"), 1))
            pixels = geo.out_width * geo.out_height
            specs.append(LayerSpec(
                kind="conv1d" if kind == "conv1d_config" else "conv2d", n_in=n_in, n_out=n_out, n_zeros=n_zeros,
                weight=resolve_type(d.get("weight_t") or m.get("weight_t"), tds),
                bias=resolve_type(d.get("bias_t"), tds), accum=resolve_type(d.get("accum_t"), tds),
                strategy=_strategy(d), conv=geo, extra=extra, **common))  # type: ignore[arg-type]
        elif kind == "activ_config":
            act = struct.split("_config")[0] if "_config" in struct else "relu"
            n = _int(d.get("n_in"), 1)
            table = resolve_type(d.get("table_t") or d.get("exp_table_t"), tds)
            tsize = _int(d.get("table_size", d.get("exp_table_size")), 1024)
            is_softmax = act.startswith("softmax")
            specs.append(LayerSpec(kind="softmax" if is_softmax else "activation", n_in=n, n_out=n,
                                   activation="softmax" if is_softmax else act, table=table, table_size=tsize,
                                   **common))
        elif kind == "batchnorm_config":
            nf = _int(d.get("n_filt"), -1)
            n = _int(d.get("n_in"), nf * pixels if nf > 0 else 1)
            specs.append(LayerSpec(kind="batchnorm", n_in=n, n_out=n, weight=resolve_type(d.get("scale_t"), tds),
                                   bias=resolve_type(d.get("bias_t"), tds), **common))
        else:
            if "pooling" in kind:
                ow, oh = _int(d.get("out_width"), 0), _int(d.get("out_height"), 1)
                pixels = ow * oh if ow else 1
            log.debug("no cost rule for %s (%s); skipped", struct, kind)
    if specs and first_input is not None:
        s0 = specs[0]
        specs[0] = LayerSpec(**{**{f: getattr(s0, f) for f in s0.__dataclass_fields__}, "input": first_input})
    return specs


# --------------------------------------------------------------------------------- project files
def read_hls_config_yml(path: str | Path) -> dict[str, Any]:
    """Top-level scalars of ``hls4ml_config.yml`` (Part, ClockPeriod, Backend, IOType, ProjectName).

    Read line by line: hls4ml writes custom tags (``!keras_model``) that a safe YAML loader refuses.
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
    if params.is_file():
        dtext = defines.read_text(encoding="utf-8", errors="replace") if defines.is_file() else ""
        tds = parse_defines_h(dtext)
        structs = parse_parameters_h(params.read_text(encoding="utf-8", errors="replace"), tds,
                                     parse_define_constants(dtext))
        layers = layers_from_structs(structs, tds)
    synth: dict[str, Any] = {}
    if (f / "project.json").is_file():
        pj_layers, synth, _src = read_project_json(f / "project.json")
        if layers is None and pj_layers:
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
    rec.source = str(f)
    return rec


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
        path = wd / f"w{idx}.txt" if idx else None
        if layer.kind not in ("dense", "conv1d", "conv2d") or layer.weight is None or path is None \
                or not path.is_file() or layer.extra.get("depthwise"):
            out.append(layer)
            continue
        try:
            values = read_weights_txt(path)
            rounding, overflow = type_modes((type_texts or {}).get(layer.name, ""))
            stats = summarize_weights(values, layer.weight, layer.n_in, layer.n_out, rounding, overflow)
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
