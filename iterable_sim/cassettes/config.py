"""iterable_sim's vcrpy set-up, as defaults on a VCR object: yours, or pytest-recording's.

Which layer a cassette captures: vcrpy patches httpx's transports, so a cassette holds each HTTP
call the client makes (retries included), whatever answers it: Iterable, the mock server (via
httpx.HTTPTransport), or the in-process mock (`mock.transport()` is an httpx.MockTransport). On
replay the answer comes from the cassette and nothing behind the transport runs: an in-process
mock's state does not change, so assert on what the client got, not on the mock.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from vcr import VCR
from vcr.cassette import Cassette

from iterable_sim.cassettes.cassette import PLAIN_MATCH_ON, ScrubbingPersister, cassette_class
from iterable_sim.cassettes.matchers import MATCH_ON, MATCHERS
from iterable_sim.cassettes.scrub import Scrubber
from iterable_sim.cassettes.serializer import CassetteSerializer
from iterable_sim.mapping.releases import Release


def configure(vcr: VCR, *, keys: Mapping[str, str | None] | None = None, personal_data: bool = True,
              collect: bool = False, accept: bool = False, passthrough: Callable[[Any], bool] | None = None,
              release: Release | None = None) -> VCR:
    """Give `vcr` iterable_sim's defaults (anything passed to `use_cassette` still overrides them):
    Iterable calls matched by method, data center, path, query and JSON body (not port: a mock
    server's port changes every run) through an index; calls to other hosts as vcrpy matches them;
    API keys scrubbed where the cassette is written (`keys` names known ones: {"<API_KEY>": key}),
    personal data pseudonymised unless `personal_data=False`; YAML with readable JSON bodies.

    `collect`: a call that matches nothing is noted in the cassette's `misses` (answered with the
    closest recording's answer) rather than raised. `accept`: the cassette's Iterable calls are
    recorded afresh, calls to other hosts kept and replayed. `release`: the rudder-transformer release the
    calls are made under, noted in a cassette that records them and compared with the one a replayed cassette
    notes (`IterableCassette.release_change`)."""
    scrubber = Scrubber(keys, personal_data=personal_data)
    for name, matcher in MATCHERS.items():
        vcr.register_matcher(name, matcher)
    vcr.register_serializer("yaml", CassetteSerializer(scrubber))
    vcr.serializer = "yaml"
    vcr.match_on = MATCH_ON
    vcr.before_record_request = scrubber.before_record_request
    vcr.before_record_response = scrubber.before_record_response
    vcr.decode_compressed_response = True
    plain = tuple(vcr.matchers[name] for name in PLAIN_MATCH_ON)
    indexed = cassette_class(scrubber, collect=collect, plain_match_on=plain, passthrough=passthrough,
                             release=release)
    _use(vcr, scrubber, everything=True, cassette=indexed, accept=accept)
    return vcr


def scrub_writes(vcr: VCR, keys: Mapping[str, str | None] | None = None) -> VCR:
    """Only the guarantee every cassette gets: API keys in calls to Iterable are scrubbed where the
    cassette is written. Nothing else about `vcr` changes."""
    _use(vcr, Scrubber(keys), everything=False, cassette=None, accept=False)
    return vcr


def _use(vcr: VCR, scrubber: Scrubber, *, everything: bool, cassette: type[Cassette] | None, accept: bool) -> None:
    """Make `vcr.use_cassette` wrap whatever persister it ends up with (the user's included), and
    build `cassette` rather than vcrpy's Cassette unless the user chose their own `match_on`.

    vcrpy has no option for either (its `use_cassette` always builds a Cassette with the persister
    as configured), so this VCR's `use_cassette` is replaced by one that does what vcrpy's does
    (a context manager or decorator, the configuration read when a cassette is opened) through
    vcrpy's public `get_merged_config` and `Cassette.use_arg_getter`."""

    def use_cassette(path: Any = None, **kwargs: Any) -> Any:
        if path is not None and not isinstance(path, (str, os.PathLike)):  # `@vcr.use_cassette`, no arguments
            return use_cassette(**kwargs)(path)
        chosen = cassette if cassette is not None and "match_on" not in kwargs else Cassette

        def arguments() -> dict[str, Any]:
            merged = vcr.get_merged_config(path=path, **kwargs)
            merged["persister"] = ScrubbingPersister(merged["persister"], scrubber, everything=everything,
                                                     accept=accept and chosen is cassette)
            if accept:
                merged["record_mode"] = "new_episodes"
            return merged

        return chosen.use_arg_getter(arguments)

    vcr.use_cassette = use_cassette  # type: ignore[method-assign]


def make_vcr(*, keys: Mapping[str, str | None] | None = None, personal_data: bool = True,
             release: Release | None = None, **options: Any) -> VCR:
    """A VCR with iterable_sim's defaults: `make_vcr(record_mode="none").use_cassette(path)`."""
    return configure(VCR(**options), keys=keys, personal_data=personal_data, release=release)
