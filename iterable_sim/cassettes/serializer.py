"""Cassettes as YAML a reviewer can read in a diff: JSON bodies pretty-printed as YAML block text.

vcrpy's own YAML serializer writes each body on one line, so a changed field in a bulk call shows
as one changed line of thousands of characters. This one writes JSON bodies indented, one field a
line, and scrubs every interaction once more before writing. It reads with vcrpy's safe loader.
Bodies read back are the same JSON, not the same bytes: match bodies as JSON (the `iterable_body`
matcher, or vcrpy's `body`), not with `raw_body`.
"""
from __future__ import annotations

import json
from typing import Any

import yaml
from vcr.serializers import yamlserializer

from iterable_sim.cassettes.scrub import Scrubber, iterable_host


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line strings as literal blocks; everything else as PyYAML's safe dumper writes it
    (libyaml's, when PyYAML has it: the same text, several times faster)."""


def _represent_str(dumper: Any, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _represent_str)


def pretty_json(body: Any) -> Any:
    """A JSON text body indented for reading; anything else unchanged."""
    if not isinstance(body, str) or not body.strip():
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    if not isinstance(parsed, (dict, list)):
        return body
    return json.dumps(parsed, indent=2, ensure_ascii=False)


class CassetteSerializer:
    """A vcrpy serializer (`vcr.register_serializer("yaml", CassetteSerializer())`)."""

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        self.scrubber = scrubber or Scrubber()

    def serialize(self, cassette: dict[str, Any]) -> str:
        interactions = []
        for interaction in cassette["interactions"]:
            request = self.scrubber.request(interaction["request"])
            iterable = iterable_host(request["uri"], request["headers"]) is not None
            response = self.scrubber.response(interaction["response"], iterable=iterable)
            body = response.get("body")
            if isinstance(body, dict):
                body = {**body, "string": pretty_json(body.get("string"))}
            interactions.append({
                "request": {"method": request["method"], "uri": request["uri"], "headers": request["headers"],
                            "body": pretty_json(request.get("body"))},
                "response": {"status": response["status"], "headers": response["headers"], "body": body},
            })
        data = {**cassette, "interactions": interactions}
        return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)

    def deserialize(self, text: str) -> dict[str, Any]:
        return yamlserializer.deserialize(text)
