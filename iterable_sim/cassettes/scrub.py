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

With `personal_data=True`, emails, names, phone numbers and addresses in Iterable calls become
pseudonyms (`personal.py`). Normalising and pseudonymising apply to Iterable calls only (Iterable's
hosts, or a running mock server's address); key scrubbing to every call given.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vcr.request import Request

from iterable_sim.hosts import HOSTS
from iterable_sim.cassettes.personal import is_profile_call, pseudonymize_json, pseudonymize_text

API_KEY_PLACEHOLDER = "<API_KEY>"
MIN_ECHO_LENGTH = 8
ITERABLE_HOSTS = frozenset(HOSTS)
KEPT_REQUEST_HEADERS = frozenset({"content-type"})
DROPPED_RESPONSE_HEADERS = frozenset({"date", "server", "content-length"})
MOCK_ORIGINS: set[str] = set()
"""host:port of the mock servers running now (the `iterable_server` fixture adds its own): calls to
them are Iterable calls, stored under api.iterable.com."""


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


def iterable_host(uri: str, headers: Mapping[str, Any]) -> str | None:
    """The Iterable host a call is for (from its URL, its Host header, or a mock server's address);
    None for a call that is not to Iterable."""
    parts = urlsplit(uri)
    host = (_header(headers, "host") or "").split(":")[0].lower()
    if host in ITERABLE_HOSTS:
        return host
    if (parts.hostname or "") in ITERABLE_HOSTS:
        return parts.hostname
    if parts.netloc in MOCK_ORIGINS:
        return "api.iterable.com"
    return None


def request_dict(request: Request) -> dict[str, Any]:
    """vcrpy's dict form of a request, as its cassettes store one (headers as {name: [value]})."""
    return {"method": request.method, "uri": request.uri, "body": request.body,
            "headers": {name: [value] for name, value in request.headers.items()}}


def dict_request(data: Mapping[str, Any]) -> Request:
    """The vcrpy Request a dict form (`request_dict`) stands for."""
    return Request(data["method"], data["uri"], data["body"], data["headers"])


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

    def __init__(self, placeholders: Mapping[str, str | None] | None = None, *, personal_data: bool = False) -> None:
        self._known: dict[str, str] = {value: name for name, value in (placeholders or {}).items()
                                       if isinstance(value, str) and value}
        self.personal_data = personal_data

    def __repr__(self) -> str:
        return f"<Scrubber: {len(self._known)} key(s) known>"

    # ---- vcrpy hooks ------------------------------------------------------------------------

    def before_record_request(self, request: Request) -> Request:
        return dict_request(self.request(request_dict(request)))

    def before_record_response(self, response: dict[str, Any]) -> dict[str, Any]:
        return self.response(response)

    # ---- dict forms ---------------------------------------------------------------------------

    def request(self, data: dict[str, Any]) -> dict[str, Any]:
        """Scrub vcrpy's dict form of a request: method, uri, body, headers ({name: [values]})."""
        headers = {str(k): list(v) if isinstance(v, (list, tuple)) else [v] for k, v in data["headers"].items()}
        uri = data["uri"]
        host = iterable_host(uri, headers)
        if host is None:  # not an Iterable call: keys scrubbed, nothing else touched
            kept = {name: ([self._placeholder(v) for v in values] if is_secret_name(name) else values)
                    for name, values in headers.items()}
            return {**data, "uri": self.replace_known(self._scrub_query(uri)), "headers": kept,
                    "body": self._scrub_body(data.get("body"))}
        parts = urlsplit(uri)
        uri = urlunsplit(("https", host, parts.path, parts.query, ""))
        kept = {}
        for name, values in headers.items():
            if is_secret_name(name):
                kept[name] = [self._placeholder(value) for value in values]
            elif name.lower() in KEPT_REQUEST_HEADERS:
                kept[name] = values
        uri = self._scrub_query(uri)
        body = self._scrub_body(data.get("body"), personal=self.personal_data, profile=is_profile_call(parts.path))
        if self.personal_data:
            uri = pseudonymize_text(uri)
        return {**data, "uri": self.replace_known(uri), "headers": kept, "body": body}

    def response(self, data: dict[str, Any], *, iterable: bool = True) -> dict[str, Any]:
        """Scrub vcrpy's dict form of an answer: status, headers ({name: [values]}), body {string}.
        `iterable`: the answer is Iterable's (its date, server and length headers are dropped)."""
        headers = {name: [self.replace_known(v) for v in values]
                   for name, values in data.get("headers", {}).items()
                   if not (iterable and name.lower() in DROPPED_RESPONSE_HEADERS)}
        body = data.get("body")
        if isinstance(body, dict) and "string" in body:
            body = {**body, "string": self._scrub_body(body["string"], personal=iterable and self.personal_data)}
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

    def _scrub_body(self, body: Any, *, personal: bool = False, profile: bool = False) -> Any:
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
            if personal:
                scrubbed = pseudonymize_json(scrubbed, profile=profile)
            if scrubbed != parsed:
                text = json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))
        if personal and parsed is None:
            text = pseudonymize_text(text)
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
