"""Human-readable text for the CLI: what a space searches, and the Pareto-front table."""

from __future__ import annotations

from typing import Any

from dse.config import Searchable, SpaceConfig
from dse.formatting import fmt_value


def _fmt(s: Searchable | None) -> str:
    if s is None:
        return "same as weights"
    if s.choices is not None:
        return str(s.choices[0]) if s.is_fixed else "{" + ", ".join(map(str, s.choices)) + "}"
    step = f" step {s.step:g}" if s.step else ""
    return f"[{s.low:g}, {s.high:g}]{' log' if s.log else ''}{step}"


def describe_space(space: SpaceConfig) -> str:
    m, q, sp, h, t = space.model, space.quantization, space.sparsity, space.hardware, space.training
    d = space.data
    data = d.name if d.source == "sklearn" else (d.path if d.source == "file" else f"openml {d.name or d.openml_id}")
    widths = ", ".join(_fmt(w) for w in m.widths)
    lines = [
        f"space {space.name!r} is valid",
        f"  data          {d.source}: {data} (val {d.val_fraction:g}, test {d.test_fraction:g}, seed {d.seed})",
        f"  model         MLP, hidden layers {_fmt(m.hidden_layers)}, widths {widths}, output {m.output_activation}",
        f"  quantization  weights {_fmt(q.weight_bits)} bits ({q.weight_integer_bits} integer), biases "
        f"{_fmt(q.bias_bits)}, activations {_fmt(q.activation_bits)} bits ({q.activation_integer_bits} integer)"
        f"{', per layer' if q.per_layer else ''}",
        f"  sparsity      {_fmt(sp.target)}{' per layer' if sp.per_layer else ''}",
        f"  hardware      {h.backend} {h.part} @ {h.clock_period_ns:g} ns, {h.io_type}, ReuseFactor "
        f"{_fmt(h.reuse_factor)}{' per layer' if h.per_layer_reuse else ''}, strategy {_fmt(h.strategy)}",
        f"  training      {t.epochs} epochs, batch {t.batch_size}, {t.optimizer} lr {_fmt(t.learning_rate)}, "
        f"early stopping {t.early_stopping_patience or 'off'}, pruner {t.pruner}",
        "  objectives    " + ", ".join(f"{o.direction} {o.metric}" for o in space.objectives),
        "  constraints   " + (", ".join(map(str, space.constraints)) or "none"),
        f"  search        {space.search.sampler}, {space.search.n_trials} trials, {space.search.workers} worker(s), "
        f"seed {space.search.seed}" + (f", timeout {space.search.timeout_s:g} s" if space.search.timeout_s else ""),
        f"  synthesis     {space.synthesis.backend}" + (
            f" every {space.synthesis.every} trials, {space.synthesis.batch} per round"
            if space.synthesis.backend != "none" else ""),
    ]
    return "\n".join(lines)


def format_pareto(rows: list[dict[str, Any]], space: SpaceConfig) -> str:
    """The Pareto front as a fixed-width text table: objectives (counts as integers), test accuracy,
    whether each design meets its budgets (or is near one, with the probability), and the design."""
    if not rows:
        return "No feasible complete trial yet: no Pareto front."
    from dse.budget_report import space_budgets, with_budget_columns
    from dse.candidate import Candidate

    budgets, confidence = space_budgets(space)
    metrics = [o.metric for o in space.objectives]
    extra = [k for k in ("test_accuracy",) if k not in metrics]
    header = ["trial", *metrics, *extra] + (["budgets"] if budgets else []) + ["design"]
    verdicts: list[str] = []
    if budgets:
        import pandas as pd

        est = pd.DataFrame([{k[len("est_"):]: v for k, v in r.items() if k.startswith("est_")} for r in rows])
        verdicts = with_budget_columns(est, budgets, confidence)["budgets"].tolist()
    table = []
    for i, r in enumerate(rows):
        cand = Candidate.from_dict(r["candidate"]).short() if r.get("candidate") else ""
        vals = [fmt_value(_COLUMN.get(k, k), r.get(k)) for k in metrics + extra]
        table.append([str(r["number"]), *vals, *([verdicts[i]] if budgets else []), cand])
    widths = [max(len(header[i]), *(len(row[i]) for row in table)) for i in range(len(header))]
    out = [f"Pareto front ({len(rows)} design{'s' if len(rows) != 1 else ''}):",
           "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table]
    return "\n".join(out)


_COLUMN = {"accuracy": "val_accuracy", "bram": "bram_18k"}
