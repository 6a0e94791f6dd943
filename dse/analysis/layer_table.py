"""Where a design's latency, II and resources go: one row per hardware layer, for any layer kind.

The rows come from the cost model's per-layer breakdown (``cost_models.analytic.LayerEstimate``, kept
in each trial's ``estimate.json`` under ``layers``), joined by layer name with the layer list the
estimate was made from (``layers.json``: kind, sizes, precisions) when it is at hand. The per-layer
figures are the analytic model's, before calibration: the design's totals (calibrated, plus the
call-boundary and I/O cycles of the top-level function) are not their plain sum, so the shares
(``*_share``, fractions 0..1) are of the per-layer sum and say where the cost goes, not how much
the total is.

Units: ``dsp``, ``lut``, ``ff``, ``bram_18k`` counts (an io_stream layer's output FIFO included),
``latency_cycles`` and ``ii`` clock cycles, ``multipliers`` multiplications per pass after zeros.
Pure functions of plain dicts and pandas; no TensorFlow, no hls4ml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dse.analysis.formatting import fmt_pct, fmt_value

__all__ = ["LAYER_COLUMNS", "layer_display", "layer_shape", "layer_table"]

LAYER_COLUMNS = ("layer", "kind", "shape", "precision", "reuse_factor", "multipliers", "dsp", "lut", "ff",
                 "bram_18k", "latency_cycles", "ii", "dsp_share", "lut_share", "latency_share", "sets_ii")
"""Columns of ``layer_table`` (``shape`` and ``precision`` empty without the layer list)."""


def layer_shape(spec: Mapping[str, Any]) -> str:
    """A layer's size as people read it, from its ``LayerSpec`` dict: ``64x32`` (dense: inputs x outputs),
    ``3x3x1->8 @36px`` (conv: window x channels -> filters, at that many output pixels), ``2x2 pool
    @9px``, ``512`` (element-wise layers: values)."""
    conv = spec.get("conv")
    kind = str(spec.get("kind", ""))
    if isinstance(conv, Mapping) and conv:
        px = int(conv.get("out_width", 1)) * int(conv.get("out_height", 1))
        window = "x".join(str(conv.get(k)) for k in ("filt_height", "filt_width")
                          if conv.get(k) is not None and (k == "filt_width" or int(conv.get(k, 1)) > 1))
        if "conv" in kind:
            return f"{window}x{conv.get('n_chan')}->{conv.get('n_filt')} @{px}px"
        if "pool" in kind:
            return f"{window} pool @{px}px" if "global" not in kind else f"global x{conv.get('n_chan')}"
        return f"{spec.get('n_in')}->{spec.get('n_out')}"
    if kind == "dense":
        return f"{spec.get('n_in')}x{spec.get('n_out')}"
    n_in, n_out = spec.get("n_in"), spec.get("n_out")
    return str(n_in) if n_in == n_out else f"{n_in}->{n_out}"


def _precision(spec: Mapping[str, Any]) -> str:
    w, r = spec.get("weight"), spec.get("result")
    return f"w {w}, out {r}" if w else (f"out {r}" if r else "")


def layer_table(estimate: Mapping[str, Any], layers: Sequence[Mapping[str, Any]] | None = None) -> Any:
    """One row per estimated layer (columns ``LAYER_COLUMNS``, model order) of an ``estimate.json`` dict;
    ``layers``: the ``layers.json`` list the estimate was made from (adds shape and precision).

    ``sets_ii`` marks the layer(s) whose II is the design's largest (the slowest stage under io_stream,
    the layer that limits how often a new input is accepted under io_parallel); none when every layer has
    the same II."""
    import pandas as pd

    specs = {str(s.get("name")): s for s in (layers or [])}
    rows: list[dict[str, Any]] = []
    for r in estimate.get("layers") or []:
        name = str(r.get("name", ""))
        spec = specs.get(name, {})
        rows.append({
            "layer": name, "kind": str(r.get("kind", spec.get("kind", ""))),
            "shape": layer_shape(spec) if spec else "", "precision": _precision(spec) if spec else "",
            "reuse_factor": int(r.get("reuse_factor", 1) or 1), "multipliers": float(r.get("multipliers", 0) or 0),
            "dsp": float(r.get("dsp", 0) or 0),
            "lut": float(r.get("lut", 0) or 0) + float(r.get("fifo_lut", 0) or 0),
            "ff": float(r.get("ff", 0) or 0) + float(r.get("fifo_ff", 0) or 0),
            "bram_18k": float(r.get("bram_18k", 0) or 0) + float(r.get("fifo_bram_18k", 0) or 0),
            "latency_cycles": float(r.get("latency_cycles", 0) or 0), "ii": float(r.get("ii", 1) or 1),
        })
    frame = pd.DataFrame(rows, columns=[c for c in LAYER_COLUMNS if c not in
                                        ("dsp_share", "lut_share", "latency_share", "sets_ii")])
    for col, share in (("dsp", "dsp_share"), ("lut", "lut_share"), ("latency_cycles", "latency_share")):
        total = float(frame[col].sum()) if len(frame) else 0.0
        frame[share] = frame[col] / total if total > 0 else 0.0
    varies = len(frame) and frame["ii"].max() > frame["ii"].min()
    frame["sets_ii"] = (frame["ii"] >= frame["ii"].max()) if varies else False
    return frame[list(LAYER_COLUMNS)]


def layer_display(frame: Any) -> Any:
    """``layer_table`` rows as display strings: counts with their share (``1,234 (45%)``), the II-setting
    layer marked ``*``; layers that cost nothing (no DSP, LUT, FF, BRAM or cycles) left out."""
    import pandas as pd

    rows = []
    for r in frame.to_dict("records"):
        if not any(r[k] for k in ("dsp", "lut", "ff", "bram_18k", "latency_cycles")):
            continue

        def with_share(key: str, share: str, r: dict[str, Any] = r) -> str:
            pct = fmt_pct(r[share], 1.0)
            return f"{fmt_value(key, r[key])} ({pct})" if pct and r[key] else fmt_value(key, r[key])

        out = {"trial": str(int(r["trial"]))} if "trial" in r else {}
        out.update({"layer": r["layer"], "kind": r["kind"], "shape": r["shape"], "RF": str(r["reuse_factor"]),
                    "mults": fmt_value("multipliers", round(r["multipliers"])),
                    "DSP": with_share("dsp", "dsp_share"), "LUT": with_share("lut", "lut_share"),
                    "FF": fmt_value("ff", r["ff"]), "BRAM18": fmt_value("bram_18k", r["bram_18k"]),
                    "latency (cycles)": with_share("latency_cycles", "latency_share"),
                    "II": fmt_value("ii", r["ii"]) + (" *" if r["sets_ii"] else "")})
        rows.append(out)
    return pd.DataFrame(rows)
