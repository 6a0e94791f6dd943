"""Reading a space file: YAML with the line of every key -> ``SpaceConfig``, or a ``ConfigError``
naming the file, the line and the key path (``space.yaml:12: hardware.reuse_factor[0]:
ReuseFactor must be >= 1, got 0``), with a did-you-mean hint for misspelt keys and words.

Pydantic validates; this module only turns its first error into that message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dse.errors import ConfigError
from dse.space.schema import SpaceConfig
from dse.space.searchable import did_you_mean, typename
from dse.space.yaml_lines import load_yaml_with_lines


def load_space(path: str | Path) -> SpaceConfig:
    """Read and validate a space file. Raises ``ConfigError`` naming the key path and line."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"space file not found: {p}")
    if p.is_dir():
        raise ConfigError(f"expected a space file, got a folder: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {p}: {exc}") from None
    return parse_space_text(text, file=str(p), base_dir=p.resolve().parent)


def parse_space_text(text: str, *, file: str | None = None, base_dir: Path | None = None) -> SpaceConfig:
    """Validate the text of a space file (relative paths are taken from ``base_dir``)."""
    if not text.strip():
        raise ConfigError("the space file is empty", file=file)
    try:
        raw, lines = load_yaml_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"YAML syntax error: {problem}", file=file, line=line) from None
    return parse_space(raw, file=file, lines=lines, base_dir=base_dir)


def parse_space(raw: Any, *, file: str | None = None, lines: dict[str, int] | None = None,
                base_dir: Path | None = None) -> SpaceConfig:
    """Validate already-parsed YAML data into a ``SpaceConfig``."""
    lines = lines or {}
    if raw is None:
        raise ConfigError("the space file is empty", file=file, line=lines.get(""))
    context = {"base_dir": str(base_dir or Path.cwd()), "file": file}
    try:
        space = SpaceConfig.model_validate(raw, context=context)
    except ValidationError as exc:
        raise config_error(exc, raw, file=file, lines=lines) from None
    space._source_file = file
    return space


# --------------------------------------------------------------------------- pydantic error -> ConfigError


def config_error(exc: ValidationError, raw: Any, *, file: str | None, lines: dict[str, int]) -> ConfigError:
    """The first problem of ``exc`` (an unknown key first: it is often why another is missing)."""
    errors = exc.errors(include_url=False)
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    keys = _real_keys(err, raw)
    path = _dotted(keys)
    ctx = err.get("ctx") or {}
    if err["type"] == "dse" and ctx.get("key"):
        sub = str(ctx["key"])
        path = path + sub if sub.startswith("[") or not path else f"{path}.{sub}"
    return ConfigError(_message(err, keys), path=path, file=file, line=_line(lines, path))


def _real_keys(err: ErrorDetails, raw: Any) -> list[str | int]:
    """The key path of an error in the file: pydantic's location without its union-member tags."""
    cur: Any = raw
    out: list[str | int] = []
    loc = err["loc"]
    for i, el in enumerate(loc):
        in_dict = isinstance(cur, dict) and el in cur
        in_list = isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur)
        if in_dict or in_list:
            cur = cur[el]
            out.append(el)
        elif i == len(loc) - 1 and err["type"] == "missing" and isinstance(el, str):
            out.append(el)
    return out


def _dotted(keys: list[str | int]) -> str:
    path = ""
    for k in keys:
        path = f"{path}[{k}]" if isinstance(k, int) else (f"{path}.{k}" if path else str(k))
    return path


def _line(lines: dict[str, int], path: str) -> int | None:
    line = lines.get(path)
    probe = path
    while line is None and probe:
        shorter = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe)
        probe = "" if shorter == probe else shorter
        line = lines.get(probe)
    return line


def _allowed_keys(keys: list[str | int]) -> list[str]:
    """The keys the model at ``keys`` (the parent of an unknown key) accepts."""
    model: type[BaseModel] = SpaceConfig
    for key in keys:
        if isinstance(key, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == key), None)
        sub = _model_in(field.annotation) if field is not None else None
        if sub is None:
            return []
        model = sub
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _message(err: ErrorDetails, keys: list[str | int]) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    got = f"{typename(value)} {value!r}"
    if kind == "dse":
        return str(ctx["message"])
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        key = str(keys[-1]) if keys else ""
        allowed = _allowed_keys(keys[:-1])
        return f"unknown key {key!r}{did_you_mean(key, allowed)}; allowed keys: {', '.join(allowed)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping (key: value), got {typename(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be an integer, got {got}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"must be a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {got}"
    if kind in ("string_type", "string_pattern_mismatch"):
        return f"must be a non-empty string, got {got}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list, got {got}"
    if kind == "too_short":
        return "must be a non-empty list"
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(value, options) if isinstance(value, str) else ""
        return f"must be one of {', '.join(options)}; got {value!r}{hint}"
    bounds = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
              "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}
    if kind in bounds:
        op, name = bounds[kind]
        return f"must be {op} {ctx[name]}, got {value!r}"
    return str(err["msg"])


def check_model_shape(space: SpaceConfig, sample_shape: tuple[int, ...] | None, file: str | Path | None,
                      shape_from: str = "the data") -> str | None:
    """Refuse a ``cnn`` space in which no design can be built on samples of ``sample_shape`` (the data's,
    known before loading: ``dse.training.data_checks.sample_shape``): even its smallest kernels, strides
    and pools leave no pixel, or the samples are not images or sequences: ``ConfigError`` with the key
    path under ``model`` and its line in ``file``. When only some sampled designs cannot be built (they
    are screened, never trained) the note saying which key to narrow is returned. Nothing to check for an
    MLP or an unknown shape (None)."""
    from dse.space.schema import conv_shape_problem

    if space.model.type != "cnn" or space.model.conv is None or sample_shape is None:
        return None
    found = conv_shape_problem(space.model.conv, tuple(sample_shape), shape_from, worst=False)
    if found is None:
        some = conv_shape_problem(space.model.conv, tuple(sample_shape), shape_from, worst=True)
        if some is None:
            return None
        return (f"note: some designs of this space cannot be built and are never trained (model.{some[1]}): "
                f"{some[0]}")
    message, key = found
    path = "data.shape" if key == "type" and space.data.shape is not None else f"model.{key}"
    line = None
    if file is not None:
        try:
            _, lines = load_yaml_with_lines(Path(file).read_text(encoding="utf-8"))
            line = _line(lines, path)
        except (OSError, ValueError):  # the space already parsed; a line is only a nicety
            line = None
    raise ConfigError(message, path=path, file=str(file) if file is not None else None, line=line)
