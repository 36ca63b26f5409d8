"""iterable_sim's vcrpy set-up, as defaults on a VCR object: yours, or pytest-recording's.

Which layer a cassette captures: vcrpy patches httpx's transports, so a cassette holds each HTTP
call the client makes (retries included), whatever answers it: Iterable, the mock server (via
httpx.HTTPTransport), or the in-process mock (`mock.transport()` is an httpx.MockTransport). On
replay the answer comes from the cassette and nothing behind the transport runs: an in-process
mock's state does not change, so assert on what the client got, not on the mock.
"""
from __future__ import annotations

from typing import Any, Mapping

from vcr import VCR

from .matchers import MATCH_ON, MATCHERS
from .scrub import Scrubber
from .serializer import CassetteSerializer


def configure(vcr: VCR, *, keys: Mapping[str, str | None] | None = None) -> VCR:
    """Give `vcr` iterable_sim's defaults (anything passed to `use_cassette` still overrides them):
    match on method, path, query, data center, people and JSON body, not host or port; API keys
    scrubbed (`keys` names known ones: {"<API_KEY>": key}); YAML with readable JSON bodies."""
    scrubber = Scrubber(keys)
    for name, matcher in MATCHERS.items():
        vcr.register_matcher(name, matcher)
    vcr.register_serializer("yaml", CassetteSerializer(scrubber))
    vcr.serializer = "yaml"
    vcr.match_on = MATCH_ON
    vcr.before_record_request = scrubber.before_record_request
    vcr.before_record_response = scrubber.before_record_response
    vcr.decode_compressed_response = True
    return vcr


def make_vcr(*, keys: Mapping[str, str | None] | None = None, **options: Any) -> VCR:
    """A VCR with iterable_sim's defaults: `make_vcr(record_mode="none").use_cassette(path)`."""
    return configure(VCR(**options), keys=keys)
