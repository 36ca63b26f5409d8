"""Request checks the way Iterable's (Play framework) JSON readers report them.

A request schema (a small subset of JSON Schema, see schemas/requests.json) is compiled once into
nested check functions. Each failing value is reported at its Play-style path, such as
`obj.users[1].preferUserId`, with Iterable's message, such as "Boolean value expected". All
failures of one body are collected, as Play's JsError collects them. A JSON null counts as absent,
except in an object whose schema says `"nullsAbsent": false`: there a null is a value of the wrong
type, as Iterable's Swagger (which makes no field nullable) has it.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from iterable_sim.exceptions import IterableSimError

Errors = list[tuple[str, str]]
Check = Callable[[Any, str, Errors], None]
Valid = Callable[[Any], bool]
QueryCheck = Callable[[Mapping[str, str]], "str | None"]

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
_ABSENT = object()  # what a missing property reads as where a null is not absent
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")


class SchemaError(IterableSimError, ValueError):
    """A request schema uses a JSON Schema node this validator does not implement."""


def is_valid_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL_LENGTH and EMAIL.match(value) is not None


def is_valid_user_id(value: str) -> bool:
    """Iterable's malformed userIds: empty, too long, non-ASCII or non-printable, trailing space."""
    return (0 < len(value) <= MAX_USER_ID_LENGTH and _PRINTABLE_ASCII.match(value) is not None
            and not value.endswith(" "))


def _scalar(kind: str, fmt: str | None, enum: list[Any] | None) -> tuple[Check, Valid]:
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
        return check, ok
    allowed = frozenset(enum)
    enum_message = "Value expected to be one of " + ", ".join(map(str, enum))

    def check_enum(value: Any, path: str, errors: Errors) -> None:
        if not ok(value):
            errors.append((path, message))
        elif value not in allowed:
            errors.append((path, enum_message))

    def valid(value: Any) -> bool:
        return ok(value) and value in allowed
    return check_enum, valid


def _object(properties: dict[str, tuple[Check, Valid]], required: tuple[str, ...],
            values: tuple[Check, Valid] | None, nulls_absent: bool) -> tuple[Check, Valid]:
    fields = tuple((name, sub) for name, (sub, _) in properties.items())
    fields_valid = tuple((name, sub_valid) for name, (_, sub_valid) in properties.items())
    values_check, values_valid = values if values is not None else (None, None)
    # A property reads as `absent` when missing; with nulls absent, a null reads the same.
    absent = None if nulls_absent else _ABSENT

    def check(value: Any, path: str, errors: Errors) -> None:
        if type(value) is not dict:
            errors.append((path, EXPECTED["object"]))
            return
        for name in required:
            if value.get(name, absent) is absent:
                errors.append((f"{path}.{name}", MISSING))
        for name, sub in fields:
            v = value.get(name, absent)
            if v is not absent:
                sub(v, f"{path}.{name}", errors)
        if values_check is not None:
            for name, v in value.items():
                if v is not absent:
                    values_check(v, f"{path}.{name}", errors)

    def valid(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for name in required:
            if value.get(name, absent) is absent:
                return False
        for name, sub_valid in fields_valid:
            v = value.get(name, absent)
            if v is not absent and not sub_valid(v):
                return False
        if values_valid is not None:
            for v in value.values():
                if v is not absent and not values_valid(v):
                    return False
        return True
    return check, valid


def _array(items: tuple[Check, Valid] | None) -> tuple[Check, Valid]:
    items_check, items_valid = items if items is not None else (None, None)

    def check(value: Any, path: str, errors: Errors) -> None:
        if type(value) is not list:
            errors.append((path, EXPECTED["array"]))
            return
        if items_check is not None:  # a null item is not absent: it is a value of the wrong type
            for i, v in enumerate(value):
                items_check(v, f"{path}[{i}]", errors)

    def valid(value: Any) -> bool:
        if type(value) is not list:
            return False
        if items_valid is not None:
            for v in value:
                if not items_valid(v):
                    return False
        return True
    return check, valid


def compile_schema(schema: dict[str, Any], definitions: dict[str, Any]) -> Check:
    """Turn a schema into a check function; `$ref`s resolve against `definitions`. A body is first
    walked without building any path; only one that fails is walked again to report each failure."""
    check, valid = _compile(schema, definitions)

    def checked(value: Any, path: str, errors: Errors) -> None:
        if not valid(value):
            check(value, path, errors)
    return checked


def _compile(schema: dict[str, Any], definitions: dict[str, Any]) -> tuple[Check, Valid]:
    """A schema node's check, and its predicate: true exactly when the check finds nothing. A `$ref`
    node's other keywords refine the definition it names (`{"$ref": ..., "nullsAbsent": false}`)."""
    if "$ref" in schema:
        refined = {key: value for key, value in schema.items() if key != "$ref"}
        return _compile({**definitions[schema["$ref"].rsplit("/", 1)[-1]], **refined}, definitions)
    kind = schema.get("type")
    if kind == "object":
        properties = {name: _compile(sub, definitions) for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        values = _compile(extra, definitions) if isinstance(extra, dict) else None
        return _object(properties, tuple(schema.get("required", ())), values, schema.get("nullsAbsent", True))
    if kind == "array":
        return _array(_compile(schema["items"], definitions) if "items" in schema else None)
    if kind in EXPECTED:
        return _scalar(kind, schema.get("format"), schema.get("enum"))
    raise SchemaError(f"unsupported schema node: {schema!r}")


def compile_query(parameters: dict[str, dict[str, Any]]) -> QueryCheck:
    """A query string's check: the message for its first parameter that does not parse, or None.
    Only boolean parameters (`true` or `false`) are declared: any text is a string, and page numbers
    are the handler's to check."""
    for name, schema in parameters.items():
        if schema != {"type": "boolean"}:
            raise SchemaError(f"unsupported query parameter schema for {name!r}: {schema!r}")
    names = tuple(parameters)

    def check(query: Mapping[str, str]) -> str | None:
        for name in names:
            text = query.get(name)
            if text is not None and text not in ("true", "false"):
                return f"{name} must be true or false"
        return None
    return check


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
    for child in node.values() if isinstance(node, dict) else node:
        kind = type(child)
        if (kind is dict or kind is list) and (levels == 0 or _deeper_than(child, levels - 1)):
            return True
    return False
