"""Request checks the way Iterable's (Play framework) JSON readers report them.

A request schema (a small subset of JSON Schema, see schemas/requests.json) is compiled once into
nested check functions. Each failing value is reported at its Play-style path, such as
`obj.users[1].preferUserId`, with Iterable's message, such as "Boolean value expected". All
failures of one body are collected, as Play's JsError collects them. A JSON null counts as absent.
"""
from __future__ import annotations

import re
from typing import Any, Callable

Errors = list[tuple[str, str]]
Check = Callable[[Any, str, Errors], None]

MISSING = "Missing required field"
EXPECTED = {"string": "String value expected", "integer": "Number value expected",
            "number": "Number value expected", "boolean": "Boolean value expected",
            "object": "Object value expected", "array": "Array value expected"}
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
MAX_EMAIL_LENGTH = 254
MAX_USER_ID_LENGTH = 52
MAX_DEPTH = 100  # nesting of objects and arrays in one body
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")


def is_valid_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_LENGTH and EMAIL.match(value) is not None


def is_valid_user_id(value: str) -> bool:
    """Iterable's malformed userIds: empty, too long, non-ASCII or non-printable, trailing space."""
    return (0 < len(value) <= MAX_USER_ID_LENGTH and _PRINTABLE_ASCII.match(value) is not None
            and not value.endswith(" "))


def _scalar(kind: str, fmt: str | None, enum: list[Any] | None) -> Check:
    message = EXPECTED[kind]
    if kind == "string":
        def ok(v: Any) -> bool:
            return type(v) is str
    elif kind == "boolean":
        def ok(v: Any) -> bool:
            return type(v) is bool
    elif kind == "number":
        def ok(v: Any) -> bool:
            return type(v) is int or type(v) is float
    else:
        low, high = INT_RANGES[fmt or "int64"]

        def ok(v: Any) -> bool:
            if type(v) is float and v.is_integer():
                v = int(v)
            return type(v) is int and low <= v <= high

    if enum is None:
        def check(value: Any, path: str, errors: Errors) -> None:
            if not ok(value):
                errors.append((path, message))
    else:
        allowed = frozenset(enum)
        enum_message = "Value expected to be one of " + ", ".join(map(str, enum))

        def check(value: Any, path: str, errors: Errors) -> None:
            if not ok(value):
                errors.append((path, message))
            elif value not in allowed:
                errors.append((path, enum_message))
    return check


def _object(properties: dict[str, Check], required: tuple[str, ...], values: Check | None) -> Check:
    fields = tuple(properties.items())

    def check(value: Any, path: str, errors: Errors) -> None:
        if type(value) is not dict:
            errors.append((path, EXPECTED["object"]))
            return
        for name in required:
            if value.get(name) is None:
                errors.append((f"{path}.{name}", MISSING))
        for name, sub in fields:
            v = value.get(name)
            if v is not None:
                sub(v, f"{path}.{name}", errors)
        if values is not None:
            for name, v in value.items():
                if v is not None:
                    values(v, f"{path}.{name}", errors)
    return check


def _array(items: Check | None) -> Check:
    def check(value: Any, path: str, errors: Errors) -> None:
        if type(value) is not list:
            errors.append((path, EXPECTED["array"]))
            return
        if items is not None:  # a null item is not absent: it is a value of the wrong type
            for i, v in enumerate(value):
                items(v, f"{path}[{i}]", errors)
    return check


def compile_schema(schema: dict[str, Any], definitions: dict[str, Any]) -> Check:
    """Turn a schema node into a check function; `$ref`s resolve against `definitions`."""
    if "$ref" in schema:
        return compile_schema(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
    kind = schema.get("type")
    if kind == "object":
        properties = {name: compile_schema(sub, definitions)
                      for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        values = compile_schema(extra, definitions) if isinstance(extra, dict) else None
        return _object(properties, tuple(schema.get("required", ())), values)
    if kind == "array":
        return _array(compile_schema(schema["items"], definitions) if "items" in schema else None)
    if kind in EXPECTED:
        return _scalar(kind, schema.get("format"), schema.get("enum"))
    raise ValueError(f"unsupported schema node: {schema!r}")


def validate(check: Check, body: Any) -> dict[str, str]:
    """Play-style `{path: message}` for every failure of `body`; empty when it is valid."""
    errors: Errors = []
    check(body, "obj", errors)
    return dict(errors)


def too_deep(body: bytes, value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` (parsed from `body`) nests objects/arrays more than `limit` levels deep."""
    if body.count(b"{") + body.count(b"[") <= limit:  # cannot be that deep: skip the walk
        return False
    return type(value) in (dict, list) and _deeper_than(value, limit - 1)


def _deeper_than(node: dict[str, Any] | list[Any], levels: int) -> bool:
    """Whether objects/arrays nest more than `levels` levels below `node`."""
    for child in node.values() if type(node) is dict else node:
        kind = type(child)
        if (kind is dict or kind is list) and (levels == 0 or _deeper_than(child, levels - 1)):
            return True
    return False
