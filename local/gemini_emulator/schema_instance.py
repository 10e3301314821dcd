"""A JSON value that validates against a response schema, so structured output parses with no script at all.

google-genai sends a pydantic `response_schema` as `generationConfig.responseSchema`, Google's OpenAPI subset
(upper-case `type`, `nullable`, `propertyOrdering`), and a `response_json_schema` as `responseJsonSchema`,
plain JSON Schema (`anyOf` with `null`, `$defs` and `$ref`). One filler reads both.
"""

from __future__ import annotations

import math
from typing import Any

GREETING = "Olá! Esta é uma resposta do emulador do Gemini."
# Strings other than the greeting's: short, so a schema's maxLength rarely has to cut them.
PLACEHOLDER = "exemplo"
_FORMATTED_STRINGS = {"date-time": "2025-01-06T12:00:00Z", "date": "2025-01-06", "time": "12:00:00"}
# A self-referencing schema (a tree of nodes) would recurse forever; deeper than this, objects stay empty.
_MAX_DEPTH = 12


def build_instance(schema: dict) -> Any:
    """The least surprising value of `schema`: required fields only, enums' first value, numbers' minimum."""
    return _Filler(schema).fill(schema, depth=0)


class _Filler:
    def __init__(self, root: dict) -> None:
        self._root = root
        # The greeting goes to the first string filled, and a `reply` is filled before its siblings: the
        # field a chat reply lives in says something readable, the others a short placeholder.
        self._greeting_left = True

    def fill(self, schema: Any, depth: int) -> Any:
        schema = self._resolve(schema if isinstance(schema, dict) else {})
        kind = _type_of(schema)
        if "const" in schema:
            return schema["const"]
        if kind == "null" or schema.get("nullable") is True:
            return None
        if schema.get("enum"):
            return schema["enum"][0]
        if variants := schema.get("anyOf") or schema.get("oneOf"):
            nullable = any(_type_of(self._resolve(variant)) == "null" for variant in variants)
            return None if nullable else self.fill(variants[0], depth)
        if kind == "object" or (kind is None and "properties" in schema):
            return self._fill_object(schema, depth)
        if kind == "array":
            return [self.fill(schema.get("items", {}), depth + 1) for _ in range(int(schema.get("minItems", 0)))]
        if kind in ("integer", "number"):
            return _fill_number(schema, kind)
        if kind == "boolean":
            return False
        return self._fill_string(schema)

    def _resolve(self, schema: dict) -> dict:
        """Follow `$ref` into `$defs` and merge `allOf`, the two ways pydantic shares a model."""
        seen = 0
        while "$ref" in schema and seen < _MAX_DEPTH:
            target: Any = self._root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema, seen = {**target, **siblings}, seen + 1
        if "allOf" in schema:
            merged = {key: value for key, value in schema.items() if key != "allOf"}
            for part in schema["allOf"]:
                merged = {**self._resolve(part), **merged}
            schema = merged
        return schema

    def _fill_object(self, schema: dict, depth: int) -> dict:
        if depth >= _MAX_DEPTH:
            return {}
        properties = schema.get("properties") or {}
        wanted = set(schema.get("required") or [])
        required = [name for name in _ordered(schema, properties) if name in wanted]
        values = {}
        for name in sorted(required, key=lambda name: name != "reply"):  # stable: the rest keep their order
            values[name] = self.fill(properties[name], depth + 1)
        return {name: values[name] for name in required}

    def _fill_string(self, schema: dict) -> str:
        if schema.get("format") in _FORMATTED_STRINGS:
            return _FORMATTED_STRINGS[schema["format"]]
        text = PLACEHOLDER
        if self._greeting_left:
            text, self._greeting_left = GREETING, False
        min_length = int(schema.get("minLength", 0))
        if len(text) < min_length:
            text = (text + " ") * math.ceil(min_length / (len(text) + 1))
        return text[: int(schema["maxLength"])] if "maxLength" in schema else text


def _type_of(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # JSON Schema's ["string", "null"]: null wins, as nullable does
        kinds = [str(k).lower() for k in kind]
        return "null" if "null" in kinds else (kinds[0] if kinds else None)
    return str(kind).lower() if kind else None


def _ordered(schema: dict, properties: dict) -> list[str]:
    ordering = schema.get("propertyOrdering") or schema.get("property_ordering") or []
    return [name for name in ordering if name in properties] + [name for name in properties if name not in ordering]


def _fill_number(schema: dict, kind: str) -> int | float:
    value: float = 0
    if "minimum" in schema:
        value = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        value = schema["exclusiveMinimum"] + (1 if kind == "integer" else 0.001)
    elif "maximum" in schema and schema["maximum"] < 0:
        value = schema["maximum"]
    elif "exclusiveMaximum" in schema and schema["exclusiveMaximum"] <= 0:
        value = schema["exclusiveMaximum"] - (1 if kind == "integer" else 0.001)
    return math.ceil(value) if kind == "integer" else float(value)
