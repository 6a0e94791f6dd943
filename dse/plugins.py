"""Names of the synthesis backends, without importing them (or pydantic): the built-ins and those
other packages declare in the ``dse.synthesis_backends`` entry-point group. The space schema and the
``dse synth --backend`` choices read them here; ``dse.synthesis`` holds the classes (the registry)."""

from __future__ import annotations

__all__ = ["BUILTIN_SYNTHESIS_BACKENDS", "SYNTHESIS_BACKEND_ENTRY_POINTS", "synthesis_backend_names"]

BUILTIN_SYNTHESIS_BACKENDS = ("vitis", "vivado", "yosys")
"""The synthesis backends dse ships (registered in dse/synthesis/__init__.py)."""
SYNTHESIS_BACKEND_ENTRY_POINTS = "dse.synthesis_backends"
"""The entry-point group through which other packages add synthesis backends (by name)."""


def synthesis_backend_names() -> tuple[str, ...]:
    """``none``, the built-in backends and those declared by installed plug-ins (their entry-point
    names: nothing is imported)."""
    from importlib.metadata import entry_points

    plugins = sorted(ep.name for ep in entry_points(group=SYNTHESIS_BACKEND_ENTRY_POINTS))
    return ("none", *BUILTIN_SYNTHESIS_BACKENDS, *(p for p in plugins if p not in BUILTIN_SYNTHESIS_BACKENDS))
