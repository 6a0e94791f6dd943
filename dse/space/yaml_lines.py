"""Load YAML into plain Python objects while remembering the line of every key path.

``load_yaml_with_lines(text)`` returns ``(data, lines)`` where ``lines["hardware.part"]``
is the 1-based line of that key, so validation errors can point into the file.
"""

from __future__ import annotations

from typing import Any

import yaml


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def load_yaml_with_lines(text: str) -> tuple[Any, dict[str, int]]:
    """Parse ``text`` (safe YAML). Raises ``yaml.YAMLError`` on syntax errors."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[str, int] = {}
    if node is None:
        return None, lines
    constructor = yaml.SafeLoader("")
    return _convert(node, "", lines, constructor), lines


def _convert(node: yaml.Node, path: str, lines: dict[str, int], constructor: yaml.SafeLoader) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            child = _join(path, key)
            lines[child] = key_node.start_mark.line + 1
            if isinstance(key, (list, dict)):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            out[key] = _convert(value_node, child, lines, constructor)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, _join(path, i), lines, constructor) for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)
