"""Searchable values: a value that is fixed, one of some choices, or in a range.

``Searchable`` is what the rest of dse reads. ``IntValues``, ``FloatValues`` and ``StrValues``
are pydantic markers (``Annotated[Searchable, IntValues(minimum=1, noun="width")]``) that
declare, once, how a searchable key may be written in the space file: they validate the four
written forms and give the JSON Schema of them. Nothing here imports Optuna: the searcher turns a
``Searchable`` into an Optuna distribution (``dse.search.distributions``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

RANGE_KEYS = ("choices", "low", "high", "step", "log")


@dataclass(frozen=True)
class Searchable:
    """A value that is fixed, one of ``choices``, or in ``[low, high]`` (with ``step`` or ``log``).

    ``kind`` is ``int``, ``float`` or ``categorical``. A single choice is a fixed value and
    is not suggested to the sampler.
    """

    kind: Literal["int", "float", "categorical"]
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False

    @property
    def is_fixed(self) -> bool:
        return self.choices is not None and len(self.choices) == 1

    @property
    def fixed_value(self) -> Any:
        assert self.choices is not None and len(self.choices) == 1
        return self.choices[0]

    def values(self) -> list[Any]:
        """Every value it can take (ranges expanded by their step); for docs and checks."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            step = int(self.step or 1)
            return list(range(int(self.low), int(self.high) + 1, step))
        return [self.low, self.high]

    def to_yaml(self) -> Any:
        """The value as it is written in a space file."""
        if self.choices is not None:
            return self.choices[0] if self.is_fixed else {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step is not None:
            out["step"] = self.step
        if self.log:
            out["log"] = True
        return out


# --------------------------------------------------------------------------- error helpers


def problem(message: str, key: str = "") -> PydanticCustomError:
    """A validation error with dse's own message; ``key`` is the sub-path below the field
    (``"[0]"``, ``"low"``) that the loader appends to the key path."""
    return PydanticCustomError("dse", "{message}", {"message": message, "key": key})


def typename(value: Any) -> str:
    """How a YAML value is called in messages (``a list``, ``a string``, ``nothing (null)``)."""
    if value is None:
        return "nothing (null)"
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number"}
    return names.get(type(value), type(value).__name__)


def did_you_mean(word: str, options: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or an empty string."""
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    if not match:
        match = [o for o in options if o.startswith(word) or word.startswith(o)][:1]
    return f" (did you mean {match[0]!r}?)" if match else ""


def _sub(base: str, key: str | int) -> str:
    part = f"[{key}]" if isinstance(key, int) else f".{key}"
    return (base + part) if base else part.lstrip(".")


def _check_keys(value: dict[Any, Any], allowed: Sequence[str], base: str = "") -> None:
    for key in value:
        if key not in allowed:
            raise problem(f"unknown key {key!r}{did_you_mean(str(key), allowed)}; allowed keys: "
                          f"{', '.join(allowed)}", _sub(base, str(key)))


def _number(value: Any, key: str, minimum: float | None, maximum: float | None,
            exclusive_min: bool, exclusive_max: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise problem(f"must be a number, got {typename(value)} {value!r}", key)
    if minimum is not None and (value <= minimum if exclusive_min else value < minimum):
        raise problem(f"must be {'>' if exclusive_min else '>='} {minimum:g}, got {value:g}", key)
    if maximum is not None and (value >= maximum if exclusive_max else value > maximum):
        raise problem(f"must be {'<' if exclusive_max else '<='} {maximum:g}, got {value:g}", key)
    return float(value)


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise problem(f"must be true or false, got {typename(value)} {value!r}", key)
    return value


def _range_schema(item: JsonSchemaValue, step: JsonSchemaValue) -> JsonSchemaValue:
    return {
        "type": "object",
        "title": "range",
        "properties": {"low": item, "high": item, "step": step, "log": {"type": "boolean", "default": False}},
        "required": ["low", "high"],
        "additionalProperties": False,
    }


def _choices_schema(item: JsonSchemaValue) -> JsonSchemaValue:
    return {
        "type": "object",
        "title": "choices",
        "properties": {"choices": {"type": "array", "items": item, "minItems": 1, "uniqueItems": True}},
        "required": ["choices"],
        "additionalProperties": False,
    }


def _searchable_schema(item: JsonSchemaValue, range_form: JsonSchemaValue | None) -> JsonSchemaValue:
    forms = [item, {"type": "array", "items": item, "minItems": 1, "uniqueItems": True}, _choices_schema(item)]
    if range_form is not None:
        forms.append(range_form)
    return {"anyOf": forms}


class _Marker:
    """Base of the pydantic markers: a plain validator plus a declared JSON Schema."""

    def validate(self, value: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def json_schema(self) -> JsonSchemaValue:  # pragma: no cover - overridden
        raise NotImplementedError

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema()


@dataclass(frozen=True)
class IntValues(_Marker):
    """A searchable integer ``>= minimum`` (and ``<= maximum``); ``special`` names extra
    categorical values (``binary``); ``same_as_weight`` accepts that word for None."""

    minimum: int
    noun: str
    maximum: int | None = None
    special: tuple[str, ...] = ()
    same_as_weight: bool = False

    def validate(self, value: Any) -> Searchable | None:
        if self.same_as_weight and value == "same_as_weight":
            return None
        return self._searchable(value, "")

    def _searchable(self, value: Any, base: str) -> Searchable:
        if isinstance(value, dict):
            _check_keys(value, RANGE_KEYS, base)
            if "choices" in value:
                if any(k in value for k in ("low", "high", "step", "log")):
                    raise problem("give either choices or low/high, not both", base)
                return self._searchable(value["choices"], _sub(base, "choices"))
            if "low" not in value or "high" not in value:
                raise problem("a range needs both low and high (or use choices: [...])", base)
            low = self._integer(value["low"], _sub(base, "low"))
            high = self._integer(value["high"], _sub(base, "high"))
            if high < low:
                raise problem(f"empty or reversed range: low={low} > high={high}", base)
            log = _boolean(value.get("log", False), _sub(base, "log"))
            step = value.get("step", 1)
            if isinstance(step, bool) or not isinstance(step, int) or step < 1:
                raise problem(f"must be an integer >= 1, got {typename(step)} {step!r}", _sub(base, "step"))
            if log and step != 1:
                raise problem("log ranges cannot have a step", base)
            if low == high:
                return Searchable("int", choices=(low,))
            return Searchable("int", low=low, high=high, step=None if log else step, log=log)
        if isinstance(value, list):
            if not value:
                raise problem("an empty list of choices: give at least one value", base)
            out: list[Any] = []
            for i, item in enumerate(value):
                if isinstance(item, str) and item.lower() in self.special:
                    out.append(item.lower())
                else:
                    out.append(self._integer(item, _sub(base, i)))
            if len(set(out)) != len(out):
                raise problem(f"duplicate choices in {value!r}", base)
            kind: Literal["int", "categorical"] = "categorical" if any(isinstance(x, str) for x in out) else "int"
            return Searchable(kind, choices=tuple(out))
        if isinstance(value, str) and value.lower() in self.special:
            return Searchable("categorical", choices=(value.lower(),))
        return Searchable("int", choices=(self._integer(value, base),))

    def _integer(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            allowed = f" or one of {', '.join(self.special)}" if self.special else ""
            raise problem(f"{self.noun} must be a positive integer{allowed}, got {typename(value)} {value!r}", key)
        if value < self.minimum:
            raise problem(f"{self.noun} must be >= {self.minimum}, got {value}", key)
        if self.maximum is not None and value > self.maximum:
            raise problem(f"{self.noun} must be <= {self.maximum}, got {value}", key)
        return value

    def json_schema(self) -> JsonSchemaValue:
        number: JsonSchemaValue = {"type": "integer", "minimum": self.minimum}
        if self.maximum is not None:
            number["maximum"] = self.maximum
        item: JsonSchemaValue = number
        if self.special:
            item = {"anyOf": [number, {"enum": list(self.special)}]}
        out = _searchable_schema(item, _range_schema(number, {"type": "integer", "minimum": 1, "default": 1}))
        if self.same_as_weight:
            out["anyOf"].insert(0, {"const": "same_as_weight"})
        return out


@dataclass(frozen=True)
class FloatValues(_Marker):
    """A searchable number in ``[minimum, maximum]`` (bounds exclusive when said so)."""

    minimum: float
    maximum: float
    noun: str
    exclusive_min: bool = False
    exclusive_max: bool = False

    def validate(self, value: Any) -> Searchable:
        return self._searchable(value, "")

    def _num(self, value: Any, key: str) -> float:
        return _number(value, key, self.minimum, self.maximum, self.exclusive_min, self.exclusive_max)

    def _searchable(self, value: Any, base: str) -> Searchable:
        if isinstance(value, dict):
            _check_keys(value, RANGE_KEYS, base)
            if "choices" in value:
                return self._searchable(value["choices"], _sub(base, "choices"))
            if "low" not in value or "high" not in value:
                raise problem("a range needs both low and high (or use choices: [...])", base)
            low = self._num(value["low"], _sub(base, "low"))
            high = self._num(value["high"], _sub(base, "high"))
            if high < low:
                raise problem(f"empty or reversed range: low={low:g} > high={high:g}", base)
            log = _boolean(value.get("log", False), _sub(base, "log"))
            if log and low <= 0:
                raise problem("a log range needs low > 0", base)
            step = value.get("step")
            if step is not None:
                step = _number(step, _sub(base, "step"), 0, None, exclusive_min=True, exclusive_max=False)
                if log:
                    raise problem("log ranges cannot have a step", base)
            if low == high:
                return Searchable("float", choices=(low,))
            return Searchable("float", low=low, high=high, step=step, log=log)
        if isinstance(value, list):
            if not value:
                raise problem("an empty list of choices: give at least one value", base)
            vals = tuple(self._num(v, _sub(base, i)) for i, v in enumerate(value))
            if len(set(vals)) != len(vals):
                raise problem(f"duplicate choices in {value!r}", base)
            return Searchable("float", choices=vals)
        return Searchable("float", choices=(self._num(value, base),))

    def json_schema(self) -> JsonSchemaValue:
        item: JsonSchemaValue = {"type": "number"}
        item["exclusiveMinimum" if self.exclusive_min else "minimum"] = self.minimum
        item["exclusiveMaximum" if self.exclusive_max else "maximum"] = self.maximum
        return _searchable_schema(item, _range_schema(item, {"type": "number", "exclusiveMinimum": 0}))


@dataclass(frozen=True)
class StrValues(_Marker):
    """A searchable choice among ``allowed`` words: one word, a list, or ``{choices: [...]}``."""

    allowed: tuple[str, ...]

    def validate(self, value: Any) -> Searchable:
        base = ""
        if isinstance(value, dict):
            _check_keys(value, ("choices",))
            if value.get("choices") is None:
                raise problem("is required", "choices")
            value = value["choices"]
            base = "choices"
        items = value if isinstance(value, list) else [value]
        if not items:
            raise problem("an empty list of choices: give at least one value", base)
        vals = tuple(self._word(v, _sub(base, i) if isinstance(value, list) else base) for i, v in enumerate(items))
        if len(set(vals)) != len(vals):
            raise problem(f"duplicate choices in {value!r}", base)
        return Searchable("categorical", choices=vals)

    def _word(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or value.lower() not in self.allowed:
            hint = did_you_mean(value, self.allowed) if isinstance(value, str) else ""
            raise problem(f"must be one of {', '.join(self.allowed)}; got {value!r}{hint}", key)
        return value.lower()

    def json_schema(self) -> JsonSchemaValue:
        return _searchable_schema({"enum": list(self.allowed)}, None)
