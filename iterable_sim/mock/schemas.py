"""The request schemas the mock carries (schemas/requests.json), compiled once per process, and the
refusals they give: what every route with a schema checks before its handler runs."""
from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Mapping

import orjson

from iterable_sim.mock.errors import bad_json_body, bad_params
from iterable_sim.mock.validation import MAX_DEPTH, Check, QueryCheck, compile_query, compile_schema, too_deep, \
    validate


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(resources.files(__package__).joinpath("schemas/requests.json").read_bytes())
    return document


@cache
def request_checks() -> dict[str, Check]:
    """'METHOD endpoint-template' -> compiled check of that request's JSON body."""
    document = _document()
    definitions = document["definitions"]
    return {name: compile_schema(schema, definitions) for name, schema in document["requests"].items()}


@cache
def query_checks() -> dict[str, QueryCheck]:
    """'METHOD endpoint-template' -> compiled check of that request's query string."""
    return {name: compile_query(parameters) for name, parameters in _document()["queries"].items()}


def refuse_invalid_body(endpoint: str, raw_path: str, body: bytes, parsed: Any) -> None:
    """Raise Iterable's 400 BadJsonBody when `parsed` (read from `body`, or from a larger body that
    holds it) nests too deep or fails `endpoint`'s schema."""
    if too_deep(body, parsed):
        raise bad_json_body(raw_path, {"obj": f"Nested more than {MAX_DEPTH} levels deep"})
    problems = validate(request_checks()[endpoint], parsed)
    if problems:
        raise bad_json_body(raw_path, problems)


def refuse_invalid_query(endpoint: str, query: Mapping[str, str]) -> None:
    """Raise 400 BadParams when a query parameter of `endpoint` does not parse as its declared type."""
    check = query_checks().get(endpoint)
    problem = check(query) if check is not None else None
    if problem is not None:
        raise bad_params(problem)
