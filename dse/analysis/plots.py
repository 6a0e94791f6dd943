"""Figures of a run (matplotlib, Agg backend: nothing is ever shown). Each function takes a
``dse.analysis.Run`` and returns a ``matplotlib.figure.Figure``; when there is nothing to plot
(no complete trial, no synthesis record) the figure says so in words instead of raising.

Units on the axes: resources in counts (and % of the target part on the top axis), latency in
ns (and clock cycles on the top axis), accuracy as a fraction.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from dse.analysis.fronts import default_direction, metric_column, pareto_front
from dse.space import PART_RESOURCE_KEYS, SpaceConfig


class Run(Protocol):
    """What the figures read of a run (``dse.analysis.Run`` provides it; a protocol here, so this
    module does not import the one that imports it)."""

    space: SpaceConfig

    @property
    def trials(self) -> Any: ...

    @property
    def synthesis(self) -> Any: ...

    @property
    def part(self) -> Any: ...

    def constraint_bounds(self) -> dict[str, list[tuple[str, float]]]: ...

    def hypervolume_history(self) -> Any: ...

    def importances(self) -> tuple[Any, dict[str, str]]: ...

LABELS = {"dsp": "DSP slices", "lut": "LUTs", "ff": "flip-flops", "bram_18k": "BRAM (18 Kb blocks)",
          "latency_ns": "latency (ns)", "latency_cycles": "latency (cycles)", "ii": "initiation interval (cycles)",
          "val_accuracy": "validation accuracy", "test_accuracy": "test accuracy", "val_loss": "validation loss",
          "val_auc": "validation AUC", "firmware_accuracy": "firmware accuracy"}


def _figure(width: float = 6.4, height: float = 4.4) -> Any:
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot): nothing registers with a GUI backend, nothing leaks between calls.
    return Figure(figsize=(width, height), layout="constrained")


def message_figure(text: str, title: str = "") -> Any:
    """A small figure that only says ``text`` (for 'nothing to plot')."""
    fig = _figure(6.4, 1.6)
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=11)
    if title:
        ax.set_title(title)
    return fig


def pareto_figure(run: Run, cost: str = "dsp", quality: str = "accuracy") -> Any:
    """``quality`` (default validation accuracy) against the estimated ``cost``.

    Grey dots: complete trials (x: infeasible). Coloured: the feasible front of the space's
    objectives, with the 80 % interval of the estimate as error bars. Step line: the 2-D front
    of this pair. Stars: measured cost of synthesized designs, joined to their estimate. Dashed
    red lines: constraints. Top axis: % of the target part (resources) or clock cycles (latency).
    """
    xcol, ycol = metric_column(cost), metric_column(quality)
    frame = run.trials
    done = frame[(frame["state"] == "COMPLETE") & frame[xcol].notna() & frame[ycol].notna()] \
        if xcol in frame.columns and ycol in frame.columns else frame.iloc[0:0]
    title = f"{LABELS.get(ycol, ycol)} vs {LABELS.get(xcol, xcol)}"
    if done.empty:
        return message_figure("No complete trial yet: nothing to plot.", title)
    fig = _figure(6.4, 5.0)
    ax = fig.add_subplot()
    feasible = done["feasible"].astype(object).ne(False)
    x = done[xcol].astype(float)
    y = done[ycol].astype(float)
    ax.scatter(x[feasible], y[feasible], s=18, color="0.65", label="trials", zorder=2)
    if (~feasible).any():
        ax.scatter(x[~feasible], y[~feasible], s=22, marker="x", color="0.55", label="infeasible", zorder=2)
    pair = pareto_front(done, [(ycol, default_direction(ycol)), (xcol, "minimize")])
    if not pair.empty:
        p = pair.sort_values(xcol)
        ax.step(p[xcol].astype(float), p[ycol].astype(float), where="post", color="C0", lw=1.2, alpha=0.7,
                label="front of this pair", zorder=3)
    front = done[done["on_front"].astype(bool)] if "on_front" in done.columns else done.iloc[0:0]
    if not front.empty:
        fx = front[xcol].astype(float)
        lo = front.get(f"{xcol}_low")
        hi = front.get(f"{xcol}_high")
        xerr = None
        if lo is not None and hi is not None and lo.notna().all() and hi.notna().all():
            xerr = [(fx - lo.astype(float)).clip(lower=0), (hi.astype(float) - fx).clip(lower=0)]
        ax.errorbar(fx, front[ycol].astype(float), xerr=xerr, fmt="o", ms=6, color="C1", ecolor="C1",
                    elinewidth=1, capsize=2, label="Pareto front (80% interval)", zorder=4)
    mcol = f"measured_{xcol}"
    if mcol in done.columns and done[mcol].notna().any():
        syn = done[done[mcol].notna()]
        for _, r in syn.iterrows():
            ax.plot([float(r[xcol]), float(r[mcol])], [float(r[ycol])] * 2, color="C3", lw=0.8, zorder=4)
        ax.scatter(syn[mcol].astype(float), syn[ycol].astype(float), marker="*", s=120, color="C3",
                   edgecolor="k", linewidth=0.5, label="synthesized (measured)", zorder=5)
    bounds = run.constraint_bounds()
    for op, b in bounds.get(xcol, []):
        ax.axvline(b, color="red", ls="--", lw=1, label=f"constraint {cost} {op} {b:g}")
    for op, b in bounds.get(ycol, []):
        ax.axhline(b, color="red", ls=":", lw=1, label=f"constraint {quality} {op} {b:g}")
    ax.set_xlabel(f"{LABELS.get(xcol, xcol)}, estimated")
    ax.set_ylabel(LABELS.get(ycol, ycol))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    part = run.part
    if part is not None and xcol in PART_RESOURCE_KEYS:
        total = float(part.totals()[xcol])
        if total > 0:
            sec = ax.secondary_xaxis("top", functions=(lambda v: v / total * 100.0, lambda p: p * total / 100.0))
            sec.set_xlabel(f"% of {part.name}")
    elif xcol == "latency_ns":
        clk = float(run.space.hardware.clock_period_ns)
        sec = ax.secondary_xaxis("top", functions=(lambda v: v / clk, lambda c: c * clk))
        sec.set_xlabel(f"clock cycles at {clk:g} ns")
    # outside the axes, below the plot: a legend never covers a point
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def hypervolume_figure(run: Run) -> Any:
    """Normalised hypervolume of the feasible front over trial numbers (see
    ``dse.analysis.hypervolume_history``: objectives scaled to [0, 1], reference 1.1)."""
    hist = run.hypervolume_history()
    title = "hypervolume over trials"
    if hist.empty or not (hist["hypervolume"] > 0).any():
        return message_figure("No feasible complete trial yet: no hypervolume.", title)
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot()
    ax.step(hist["number"], hist["hypervolume"], where="post", color="C0")
    ax.scatter(hist["number"], hist["hypervolume"], s=8, color="C0")
    names = ", ".join(o.metric for o in run.space.objectives)
    ax.set_xlabel("trial number")
    ax.set_ylabel(f"hypervolume ({names}, normalised)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return fig


PARITY_KEYS = ("dsp", "lut", "ff", "latency_cycles")


def parity_figure(run: Run, keys: tuple[str, ...] = PARITY_KEYS) -> Any:
    """Estimated against synthesized values for each key, before (left) and after (right)
    calibration, log-log with the y = x line; the title of each panel gives the mean absolute
    percentage error (MAPE) over the designs shown."""
    synth = run.synthesis
    ok = synth[synth["status"] == "ok"] if not synth.empty else synth
    title = "estimated vs synthesized"
    if ok.empty:
        return message_figure("No successful synthesis in this run: no parity plot.", title)
    fig = _figure(8.0, 2.6 * len(keys))
    axes = fig.subplots(len(keys), 2, squeeze=False)
    for row, k in enumerate(keys):
        for col, stage in enumerate(("before", "after")):
            ax = axes[row][col]
            pairs = ok[[f"{stage}_{k}", f"measured_{k}"]].dropna().astype(float)
            label = LABELS.get(k, k)
            if pairs.empty:
                ax.axis("off")
                ax.text(0.5, 0.5, f"{label}: no {'calibrated ' if stage == 'after' else ''}estimate recorded",
                        ha="center", va="center", fontsize=9)
                continue
            est, meas = pairs.iloc[:, 0], pairs.iloc[:, 1]
            ax.scatter(meas, est, s=20, color="C0" if stage == "before" else "C2", zorder=3)
            positive = [v for v in [*est, *meas] if v > 0]
            lo = min(positive) / 1.5 if positive else 0.5
            hi = max(positive) * 1.5 if positive else 2.0
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
            if positive and all(v > 0 for v in [*est, *meas]):
                from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

                ax.set_xscale("log")
                ax.set_yscale("log")
                for axis in (ax.xaxis, ax.yaxis):
                    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
                    axis.set_minor_formatter(NullFormatter())
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            nz = meas != 0
            mape = float(((est[nz] - meas[nz]).abs() / meas[nz].abs()).mean() * 100) if nz.any() else math.nan
            ax.set_title(f"{label}, {stage} calibration: MAPE {mape:.0f}% (n={len(pairs)})", fontsize=9)
            ax.set_xlabel("synthesized", fontsize=8)
            ax.set_ylabel("estimated", fontsize=8)
            ax.grid(True, alpha=0.3, which="both")
    return fig


def importance_figure(run: Run) -> Any:
    """Horizontal bars: fANOVA importance of each parameter for each objective."""
    imp, problems = run.importances()
    title = "parameter importances"
    if imp.empty:
        why = "; ".join(f"{k}: {v}" for k, v in problems.items()) or "no parameters"
        return message_figure(f"Importances unavailable ({why}).", title)
    fig = _figure(6.4, max(2.4, 0.35 * len(imp) * max(1, len(imp.columns)) ** 0.5 + 1.2))
    ax = fig.add_subplot()
    n = len(imp.columns)
    height = 0.8 / n
    ys = range(len(imp))
    for j, c in enumerate(imp.columns):
        ax.barh([y + j * height for y in ys], imp[c].values, height=height, label=c)
    ax.set_yticks([y + (n - 1) * height / 2 for y in ys])
    ax.set_yticklabels(list(imp.index), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("importance (fANOVA, sums to 1 per objective)")
    ax.set_title(title)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8, frameon=False)
    return fig


def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """The PNG bytes of ``fig`` (Agg canvas; the figure is not shown)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
