"""Human-readable text for the CLI: what a space searches (``dse validate``)."""

from __future__ import annotations

from dse.space.schema import SpaceConfig
from dse.space.searchable import Searchable


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
    data = str(d.name if d.source == "sklearn" else
               (d.path if d.source == "file" else f"openml {d.name or d.openml_id}"))
    if d.source == "generator":
        g = d.generator_settings
        data = f"{d.name} ({g.samples} images of {g.layers}x{g.strips}x1, {g.angle_bins} classes, seed {g.seed})"
    if d.shape is not None:
        data += f", each sample as {'x'.join(map(str, d.shape))}"
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
