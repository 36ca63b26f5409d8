"""The request schemas the mock carries (schemas/requests.json), compiled once per process."""
from __future__ import annotations

from functools import cache
from importlib import resources

import orjson

from iterable_sim.mock.validation import Check, compile_schema


@cache
def request_checks() -> dict[str, Check]:
    """'METHOD endpoint-template' -> compiled check of that request's JSON body."""
    document = orjson.loads(resources.files(__package__).joinpath("schemas/requests.json").read_bytes())
    definitions = document["definitions"]
    return {name: compile_schema(schema, definitions) for name, schema in document["requests"].items()}
