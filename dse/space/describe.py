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


def _items(section: object) -> list[str]:
    """``filters {4, 8}``, ``padding valid``, ... for each attribute of a section that is set."""
    items = []
    for attr in getattr(section, "ATTRIBUTES", ()):
        v = getattr(section, attr, None)
        if isinstance(v, Searchable):
            items.append(f"{attr.replace('_', ' ')} {_fmt(v)}")
        elif v is not None:
            items.append(f"{attr.replace('_', ' ')} {v}")
    return items


def _model(space: SpaceConfig) -> str:
    """The model line: ``MLP, hidden layers ..., widths ..., output softmax``; for other architectures
    the type, then each searchable or set field of its sections (``conv blocks {1, 2}, filters {4, 8}, ...``),
    then the dense head."""
    m = space.model
    widths = ", ".join(_fmt(w) for w in m.widths)
    if m.type == "mlp":
        return f"MLP, hidden layers {_fmt(m.hidden_layers)}, widths {widths}, output {m.output_activation}"
    parts = [m.type.upper()]
    shape = getattr(m, "input_shape", None)
    if shape:
        parts.append(f"input {'x'.join(map(str, shape))}")
    for section_name in ("conv",):
        section = getattr(m, section_name, None)
        if section is None:
            continue
        parts.append(f"{section_name} " + ", ".join(_items(section)))
        for i, block in enumerate(getattr(section, "per_block", None) or ()):
            own = _items(block)
            if own:
                parts.append(f"block {i}: " + ", ".join(own))
    head = f"dense head: hidden layers {_fmt(m.hidden_layers)}" + (f", widths {widths}" if widths else "")
    parts.append(head)
    parts.append(f"output {m.output_activation}")
    return ", ".join(parts)


def _conv_hardware(space: SpaceConfig) -> str:
    """``, ParallelizationFactor {1, 2}, ConvImplementation encoded`` for a CNN space that sets them (else empty)."""
    if space.model.type == "mlp":
        return ""
    h = space.hardware
    out = ""
    for attr, label, default in (("parallelization_factor", "ParallelizationFactor", 1),
                                 ("conv_implementation", "ConvImplementation", "linebuffer")):
        v = getattr(h, attr, None)
        if isinstance(v, Searchable) and not (v.is_fixed and v.fixed_value == default):
            out += f", {label} {_fmt(v)}"
    return out


def describe_space(space: SpaceConfig) -> str:
    q, sp, h, t = space.quantization, space.sparsity, space.hardware, space.training
    d = space.data
    data = str(d.name if d.source == "sklearn" else
               (d.path if d.source == "file" else f"openml {d.name or d.openml_id}"))
    if d.source == "generator":
        g = d.generator_settings
        data = f"{d.name} ({g.samples} images of {g.layers}x{g.strips}x1, {g.angle_bins} classes, seed {g.seed})"
    if d.shape is not None:
        data += f", each sample as {'x'.join(map(str, d.shape))}"
    io = getattr(h, "io_types", None)
    io_text = _fmt(io) if isinstance(io, Searchable) else h.io_type
    lines = [
        f"space {space.name!r} is valid",
        f"  data          {d.source}: {data} (val {d.val_fraction:g}, test {d.test_fraction:g}, seed {d.seed})",
        f"  model         {_model(space)}",
        f"  quantization  weights {_fmt(q.weight_bits)} bits ({q.weight_integer_bits} integer), biases "
        f"{_fmt(q.bias_bits)}, activations {_fmt(q.activation_bits)} bits ({q.activation_integer_bits} integer)"
        f"{', per layer' if q.per_layer else ''}",
        f"  sparsity      {_fmt(sp.target)}{' per layer' if sp.per_layer else ''}",
        f"  hardware      {h.backend} {h.part} @ {h.clock_period_ns:g} ns, {io_text}, ReuseFactor "
        f"{_fmt(h.reuse_factor)}{' per layer' if h.per_layer_reuse else ''}, strategy {_fmt(h.strategy)}"
        f"{_conv_hardware(space)}",
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
