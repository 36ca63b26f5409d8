"""Keeping API keys out of cassettes, and cassettes free of what changes on every run.

A `Scrubber` works on vcrpy's dict form of an interaction, so the same code runs as vcrpy's
`before_record_request` / `before_record_response` hooks and once more in the serializer, just
before a cassette is written (a hook a user replaces in `vcr_config` cannot let a key through).

What it replaces with a placeholder:
- any header whose name is an API-key spelling (`Api-Key`, `Api_Key`, `api_key`, `APIKEY`, any
  case) and `Authorization`;
- the same names as query parameters, and as fields anywhere in a JSON body;
- any value it has seen in those places, wherever it appears later in the interaction (a key
  echoed in a body or a message), when the value is at least `MIN_ECHO_LENGTH` characters long
  (shorter values would blank out unrelated text; no real Iterable key is that short).

What it normalises, so a recording is the same whoever makes it, wherever the server runs:
- a request sent with `Host: api.iterable.com` or `api.eu.iterable.com` (the delivery client does
  this when it talks to the mock server) is stored under that host, https, no port;
- request headers are reduced to the ones that say something about the call (`Content-Type`, the
  key headers); `Date`, `Server` and `Content-Length` are dropped from answers (bodies are stored
  pretty-printed, so a stored length would no longer be true).
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..hosts import HOSTS

API_KEY_PLACEHOLDER = "<API_KEY>"
MIN_ECHO_LENGTH = 8
ITERABLE_HOSTS = frozenset(HOSTS)
KEPT_REQUEST_HEADERS = frozenset({"content-type"})
DROPPED_RESPONSE_HEADERS = frozenset({"date", "server", "content-length"})


def is_secret_name(name: str) -> bool:
    """True for every spelling of an API-key header, parameter or field, and for Authorization."""
    folded = re.sub(r"[-_\s]", "", str(name).lower())
    return folded in {"apikey", "authorization", "xapikey"}


class Scrubber:
    """Replaces API keys with placeholders in vcrpy interactions; remembers (in memory only) the
    keys it has seen so that echoes of them are replaced too.

    `placeholders` names known keys: `{"<API_KEY>": key, "<DEVICE_API_KEY>": device_key}`; any
    other key becomes `<API_KEY>`.
    """

    def __init__(self, placeholders: Mapping[str, str | None] | None = None) -> None:
        self._known: dict[str, str] = {value: name for name, value in (placeholders or {}).items()
                                       if isinstance(value, str) and value}

    def __repr__(self) -> str:
        return f"<Scrubber: {len(self._known)} key(s) known>"

    # ---- vcrpy hooks ------------------------------------------------------------------------

    def before_record_request(self, request: Any) -> Any:
        return type(request)._from_dict(self.request(request._to_dict()))

    def before_record_response(self, response: dict[str, Any]) -> dict[str, Any]:
        return self.response(response)

    # ---- dict forms ---------------------------------------------------------------------------

    def request(self, data: dict[str, Any]) -> dict[str, Any]:
        """Scrub vcrpy's dict form of a request: method, uri, body, headers ({name: [values]})."""
        headers = {str(k): list(v) if isinstance(v, (list, tuple)) else [v] for k, v in data["headers"].items()}
        uri = data["uri"]
        host = next((v[0] for k, v in headers.items() if k.lower() == "host" and v), None)
        if isinstance(host, bytes):
            host = host.decode("latin-1")
        if host and host.split(":")[0].lower() in ITERABLE_HOSTS:
            parts = urlsplit(uri)
            uri = urlunsplit(("https", host.split(":")[0].lower(), parts.path, parts.query, ""))
        kept: dict[str, list[Any]] = {}
        for name, values in headers.items():
            if is_secret_name(name):
                kept[name] = [self._placeholder(value) for value in values]
            elif name.lower() in KEPT_REQUEST_HEADERS:
                kept[name] = values
        uri = self._scrub_query(uri)
        body = self._scrub_body(data.get("body"))
        return {**data, "uri": self.replace_known(uri), "headers": kept, "body": body}

    def response(self, data: dict[str, Any]) -> dict[str, Any]:
        """Scrub vcrpy's dict form of an answer: status, headers ({name: [values]}), body {string}."""
        headers = {name: [self.replace_known(v) for v in values]
                   for name, values in data.get("headers", {}).items()
                   if name.lower() not in DROPPED_RESPONSE_HEADERS}
        body = data.get("body")
        if isinstance(body, dict) and "string" in body:
            body = {**body, "string": self._scrub_body(body["string"])}
        return {**data, "headers": headers, "body": body}

    # ---- helpers ------------------------------------------------------------------------------

    def _placeholder(self, value: Any) -> str:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if text.lower().startswith(("bearer ", "basic ")):
            text = text.split(" ", 1)[1]
        if text.startswith("<") and text.endswith(">"):  # already a placeholder
            return text
        return self._known.setdefault(text, API_KEY_PLACEHOLDER)

    def _scrub_query(self, uri: str) -> str:
        parts = urlsplit(uri)
        if not parts.query:
            return uri
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(is_secret_name(name) for name, _ in pairs):
            return uri
        query = urlencode([(n, self._placeholder(v) if is_secret_name(n) else v) for n, v in pairs], safe="<>")
        return urlunsplit(parts._replace(query=query))

    def _scrub_body(self, body: Any) -> Any:
        if body is None or body == b"" or body == "":
            return body
        as_bytes = isinstance(body, bytes)
        try:
            text = body.decode("utf-8") if as_bytes else str(body)
        except UnicodeDecodeError:
            return body
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        else:
            scrubbed = self._scrub_json(parsed)
            if scrubbed != parsed:
                text = json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))
        text = self.replace_known(text)
        return text.encode("utf-8") if as_bytes else text

    def _scrub_json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (self._placeholder(v) if is_secret_name(k) and isinstance(v, (str, bytes)) and v
                        else self._scrub_json(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_json(v) for v in value]
        return value

    def replace_known(self, value: Any) -> Any:
        """`value` with every key seen so far (of MIN_ECHO_LENGTH or more) replaced by its placeholder."""
        if not isinstance(value, str):
            return value
        for key, placeholder in self._known.items():
            if len(key) >= MIN_ECHO_LENGTH and key in value:
                value = value.replace(key, placeholder)
        return value
