"""Documentation generated from the schema: the JSON Schema of a space file (``dse schema``) and
the key tables of docs/space_file.md (``python -m dse.space.docs docs/space_file.md`` rewrites
them between their ``<!-- generated: SECTION -->`` and ``<!-- end generated -->`` markers)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from dse.space.schema import (
    ConvConfig,
    DataConfig,
    GeneratorConfig,
    HardwareConfig,
    ModelConfig,
    QuantizationConfig,
    SearchConfig,
    SpaceConfig,
    SparsityConfig,
    SynthesisConfig,
    TrainingConfig,
)

SECTION_MODELS: dict[str, type[BaseModel]] = {
    "data": DataConfig,
    "data.generator": GeneratorConfig,
    "model": ModelConfig,
    "model_conv": ConvConfig,
    "quantization": QuantizationConfig,
    "sparsity": SparsityConfig,
    "hardware": HardwareConfig,
    "training": TrainingConfig,
    "search": SearchConfig,
    "synthesis": SynthesisConfig,
}

_BLOCK = re.compile(r"(<!-- generated: ([\w.]+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a space file, for editors and CI checks."""
    schema = SpaceConfig.model_json_schema(mode="validation")
    body = {k: v for k, v in schema.items() if k != "title"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "dse space file", **body}


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        body = ", ".join(f"{f.alias or n}: {_yaml(getattr(value, n))}" for n, f in fields.items())
        return "{" + body + "}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return f"`{_yaml(field.default_factory())}`"  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "required"
    if field.default is None or field.default == ():
        return "—"
    return f"`{_yaml(field.default)}`"


def key_table(model: type[BaseModel]) -> str:
    """The markdown table (key, default, meaning) of one section."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for name, field in model.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{field.alias or name}` | {_default(field)} | {meaning} |")
    return "\n".join(rows) + "\n"


def update_doc(text: str) -> str:
    """``text`` with every generated block replaced by the current key table."""

    def block(m: re.Match[str]) -> str:
        return m.group(1) + key_table(SECTION_MODELS[m.group(2)]) + m.group(4)

    return _BLOCK.sub(block, text)


def markdown_tables() -> str:
    """Every section's key table, with a heading (``dse schema --markdown``)."""
    return "\n".join(f"### `{name}`\n{key_table(model)}" for name, model in SECTION_MODELS.items())


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated tables of the markdown files given as arguments."""
    for arg in (argv if argv is not None else sys.argv[1:]):
        path = Path(arg)
        path.write_text(update_doc(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
