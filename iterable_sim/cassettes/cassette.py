"""vcrpy's Cassette for Iterable calls: matched through an index, differences collected, keys scrubbed
where the bytes are written.

vcrpy matches a request by trying every recorded one with every matcher, building each matcher's
message on the way: a replay of n calls costs n² comparisons (a body diff each). Here an Iterable
call (one to Iterable's hosts or to a running mock server) is looked up by its identity: method,
Iterable host, path, query and canonical JSON body, after the same scrubbing the recording got
(API keys, and personal data when asked), so the look-up is one dictionary access. Diffs are built
only for a call that matches nothing, against the closest recorded call (same endpoint, same people,
else the next unplayed call to that endpoint).

Calls to other hosts are matched as plain vcrpy does (method, scheme, host, port, path, query), or
with the `match_on` the user gave, among the recorded calls to other hosts.

`collect=True` (the pytest plugin): a call that matches nothing is answered with the closest recorded
call's answer (or a 400 `NotInCassette` when there is none) and noted in `misses`, so the code under
test runs to its end and the failure lists every differing call. Otherwise it raises
`CassetteMismatch` (a `CannotOverwriteExistingCassetteException`) at once.

The cassette notes in its metadata the rudder-transformer release its calls were recorded under
(`rudderstack`, from `cassette_class(release=...)` or `note_release`); a cassette without one was
recorded under latest. `release_change()` says what differs when it is replayed under another.
"""
from __future__ import annotations

import json
from contextvars import ContextVar
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping
from urllib.parse import parse_qsl, urlsplit

from vcr import matchers as vcr_matchers
from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.matchers import get_matchers_results, requests_match
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.record_mode import RecordMode
from vcr.serialize import deserialize

from iterable_sim.exceptions import IterableSimError
from iterable_sim.cassettes.bodydiff import Change, bulk_items, describe, describe_who, diff_bodies, who
from iterable_sim.cassettes.matchers import subjects
from iterable_sim.cassettes.personal import is_profile_call, pseudonymize_json, pseudonymize_text
from iterable_sim.cassettes.scrub import Scrubber, dict_request, iterable_host, request_dict
from iterable_sim.cassettes.sources import RELEASE_KEY, release_change
from iterable_sim.mapping.releases import LATEST, Release

PLAIN_MATCH_ON = ("method", "scheme", "host", "port", "path", "query")  # vcrpy's default
PLAIN_MATCHERS = tuple(getattr(vcr_matchers, name) for name in PLAIN_MATCH_ON)
NOT_IN_CASSETTE = b'{"msg":"iterable_sim: no recorded call matches this one","code":"NotInCassette","params":null}'
METADATA_KEY = "iterable_sim"
_LOADING: ContextVar[bool] = ContextVar("iterable_sim_cassette_loading", default=False)


@dataclass(frozen=True)
class ScrubbedCall:
    """An Iterable call as the index knows it: scrubbed, parsed."""

    method: str
    host: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any  # parsed JSON, or the text when not JSON, or None
    exact: tuple[Any, ...] = field(compare=False, default=())
    """Identity for matching; personal data always pseudonymised here, so a cassette recorded with
    personal data kept still matches after the scrub is switched on, and the reverse."""

    @property
    def endpoint(self) -> str:
        return self.path.split("/api/", 1)[-1]

    @property
    def people(self) -> tuple[Any, ...]:
        return (self.method, self.host, self.path, json.dumps(subjects(self.body), default=str))

    @property
    def route(self) -> tuple[str, str, str]:
        return (self.method, self.host, self.path)


@dataclass
class Miss:
    """A call made now that matches no recorded call: the closest recorded one (its index), and how
    the two differ; `recorded` None for a call to an endpoint with no unplayed recording left."""

    number: int  # the call's position among the Iterable calls made in this run (1-based)
    now: ScrubbedCall
    recorded: int | None
    changes: list[Change] = field(default_factory=list)
    host_change: tuple[str, str] | None = None

    def describe(self) -> str:
        head = f"call {self.number}: {self.now.method} {self.now.endpoint}"
        if self.recorded is None:
            items = bulk_items(self.now.body)
            return "\n".join([f"{head} — a new call: no recorded call to this endpoint is left",
                              *(f"  {describe_who(who(item))}" for item in items)])
        lines = [f"{head} (recorded as call {self.recorded + 1})"]
        if self.host_change:
            lines.append(f"  host: recorded {self.host_change[0]}, now {self.host_change[1]} (the data center changed)")
        if self.changes:
            lines.append(describe(self.changes))
        return "\n".join(lines)


def scrubbed_call(scrubber: Scrubber, request: Any) -> ScrubbedCall | None:
    """The ScrubbedCall a vcrpy request stands for after scrubbing; None when it is not an Iterable call."""
    data = request_dict(request)
    host = iterable_host(data["uri"], data["headers"])
    if host is None:
        return None
    data = scrubber.request(data)
    parts = urlsplit(data["uri"])
    body = data.get("body")
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    parsed: Any = None
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body
    query = tuple(sorted(parse_qsl(parts.query, True)))
    pseudonymous = parsed if scrubber.personal_data else pseudonymize_json(parsed, profile=is_profile_call(parts.path))
    exact = (request.method.upper(), host, pseudonymize_text(parts.path),
             tuple((k, pseudonymize_text(v)) for k, v in query), json.dumps(pseudonymous, sort_keys=True, default=str))
    return ScrubbedCall(request.method.upper(), host, parts.path, query, parsed, exact)


class CassetteMismatch(CannotOverwriteExistingCassetteException, IterableSimError):
    """An Iterable call matches no recorded call (raised when differences are not collected)."""

    def __init__(self, cassette: "IterableCassette", request: Any, miss: Miss) -> None:
        self.cassette = cassette
        self.failed_request = request
        self.similar_requests: list[Any] = []
        self.reason = "no_match"
        self.miss = miss
        Exception.__init__(self, f"{miss.describe()}\nno recorded interaction matches it in {cassette.path}")


class IterableCassette(Cassette):
    """A vcrpy Cassette that indexes Iterable calls. Configured through class attributes (vcrpy
    builds cassettes from keyword arguments only): see `cassette_class`."""

    scrubber: ClassVar[Scrubber] = Scrubber()
    collect: ClassVar[bool] = False
    plain_match_on: ClassVar[tuple[Callable[..., Any], ...]] = PLAIN_MATCHERS
    passthrough: ClassVar[staticmethod[[Any], bool] | None] = None  # calls left to another mock (respx)
    release: ClassVar[Release | None] = None  # the release calls are made under, until note_release says otherwise
    data: list[tuple[Any, Any]]  # vcrpy's: the (request, response) pairs

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: dict[int, ScrubbedCall] = {}  # recorded index -> its ScrubbedCall, for Iterable calls
        self._exact: dict[tuple[Any, ...], list[int]] = {}
        self._people: dict[tuple[Any, ...], list[int]] = {}
        self._routes: dict[tuple[Any, ...], list[int]] = {}
        self._others: list[int] = []  # recorded calls to other hosts
        self._made = 0
        self.misses: list[Miss] = []
        self._last: tuple[Any, tuple[ScrubbedCall | None, int | None]] | None = None
        self._loaded = 0  # how many of `data`'s calls came from the file
        self.release_now = self.release

    # ---- loading and recording --------------------------------------------------------------

    @classmethod
    def load(cls, **kwargs: Any) -> IterableCassette:
        """The cassette at `path` with its recorded calls, indexed. They are kept as they were
        written (scrubbed then): vcrpy loads them through `append`, which would filter them again."""
        token = _LOADING.set(True)
        try:
            cassette = super().load(**kwargs)
        finally:
            _LOADING.reset(token)
        cassette._loaded = len(cassette.data)
        for index, (request, _) in enumerate(cassette.data):
            cassette._index(index, request)
        return cassette

    def append(self, request: Any, response: Any) -> None:
        if _LOADING.get():
            self.data.append((request, response))
            return
        if self.passthrough is not None and self.passthrough(request):
            return
        before = len(self.data)
        super().append(request, response)
        if len(self.data) > before:
            self._index(before, self.data[before][0])
            if self.release_now is not None:
                self.note_release(self.release_now)

    def _index(self, index: int, request: Any) -> None:
        call = scrubbed_call(self.scrubber, request)
        if call is None:
            self._others.append(index)
            return
        self.calls[index] = call
        self._exact.setdefault(call.exact, []).append(index)
        self._people.setdefault(call.people, []).append(index)
        self._routes.setdefault(call.route, []).append(index)

    def filter_request(self, request: Any) -> Any:
        if self.passthrough is not None and self.passthrough(request):
            return None
        return super().filter_request(request)

    def note_send(self, entry: Mapping[str, Any]) -> None:
        """Remember, in the cassette's metadata, what a send recorded into it came from."""
        if self.write_protected:
            return
        self.get_metadata(METADATA_KEY, {"format": 1, "sends": []})["sends"].append(dict(entry))
        self.dirty = True

    def note_release(self, release: Release) -> None:
        """The rudder-transformer release this cassette's calls are made under now: noted in its metadata while
        recording (a recording under several notes the last), compared with the one noted when replaying."""
        self.release_now = release
        if self.write_protected:
            return
        noted = self.get_metadata(METADATA_KEY, {"format": 1, "sends": []})
        if noted.get(RELEASE_KEY) != release.tag:
            rest = {key: value for key, value in noted.items() if key not in ("format", RELEASE_KEY)}
            form = noted.get("format", 1)
            noted.clear()  # the release written before the sends, for a reader of the file
            noted.update({"format": form, RELEASE_KEY: release.tag, **rest})
            self.dirty = True

    @property
    def recorded_release(self) -> str:
        """The release the cassette notes its calls were recorded under: latest when it notes none."""
        noted = self._metadata.get(METADATA_KEY)
        return str(noted.get(RELEASE_KEY) or LATEST) if isinstance(noted, Mapping) else LATEST

    def release_change(self) -> str | None:
        """"cassette recorded under v1.106.1, replayed under latest: v1.108.0 (840ba5cf0): every request carries
        endpointPath; …" when the calls are made under another release than the one recorded (None otherwise, and
        for a cassette that holds no calls yet or makes its calls under no release named)."""
        if self.release_now is None or not self._loaded:
            return None
        return release_change(self.recorded_release, self.release_now, "replayed")

    # ---- playing ----------------------------------------------------------------------------

    def _free(self, indexes: list[int] | None) -> int | None:
        for index in indexes or ():
            if self.play_counts[index] == 0 or self.allow_playback_repeats:
                return index
        return None

    def _lookup(self, request: Any) -> tuple[ScrubbedCall | None, int | None]:
        if self._last is not None and self._last[0] is request:
            return self._last[1]
        call = scrubbed_call(self.scrubber, request)
        if call is None:
            found = self._plain_lookup(request)
        else:
            found = self._free(self._exact.get(call.exact))
        self._last = (request, (call, found))
        return call, found

    def _plain_lookup(self, request: Any) -> int | None:
        filtered = super().filter_request(request)
        if not filtered:
            return None
        for index in self._others:
            if (self.play_counts[index] == 0 or self.allow_playback_repeats) and \
                    requests_match(filtered, self.data[index][0], self.plain_match_on):
                return index
        return None

    def __contains__(self, request: Any) -> bool:
        return self._lookup(request)[1] is not None

    def can_play_response_for(self, request: Any) -> bool:
        if not super().filter_request(request) or (self.passthrough is not None and self.passthrough(request)):
            return False
        if self.record_mode == RecordMode.ALL:
            return False
        call, found = self._lookup(request)
        if found is not None and (self.rewound or self.allow_playback_repeats):
            return True
        if call is None or not self.write_protected:
            return False
        if self.collect:
            return True
        raise CassetteMismatch(self, request, self._miss(call, mark=False))

    def play_response(self, request: Any) -> Any:
        call, found = self._lookup(request)
        self._last = None
        if call is not None:
            self._made += 1
        if found is None and call is not None and self.collect:
            miss = self._miss(call, mark=True)
            self.misses.append(miss)
            if miss.recorded is None:
                return {"status": {"code": 400, "message": "Bad Request"},
                        "headers": {"Content-Type": ["application/json"]}, "body": {"string": NOT_IN_CASSETTE}}
            return self.data[miss.recorded][1]
        if found is None:
            return super().play_response(request)
        self._mark(found)
        return self.data[found][1]

    def _mark(self, index: int) -> None:
        """Count a recorded call as played, as vcrpy's play_response does."""
        if self.play_counts[index] == 0 and index < self._loaded:
            # The one private name of vcrpy used here: with drop_unused_requests, vcrpy saves the
            # loaded interactions in this list and drops the rest. Only its own play_response adds
            # to it (it has no public way to), and that one finds the call by trying every recorded one.
            self._played_interactions.append(self.data[index])
        self.play_counts[index] += 1

    def _miss(self, call: ScrubbedCall, *, mark: bool) -> Miss:
        closest = self._free(self._people.get(call.people))
        if closest is None:
            closest = self._free(self._routes.get(call.route))
        if closest is None:  # the same endpoint in the other data center
            closest = next((i for i, c in self.calls.items() if self.play_counts[i] == 0
                            and (c.method, c.path) == (call.method, call.path)), None)
        number = self._made if mark else self._made + 1
        if closest is None:
            return Miss(number, call, None)
        if mark:
            self._mark(closest)
        recorded = self.calls[closest]
        host_change = (recorded.host, call.host) if recorded.host != call.host else None
        return Miss(number, call, closest, diff_bodies(recorded.body, call.body), host_change)

    def find_requests_with_most_matches(self, request: Any) -> list[Any]:
        """For vcrpy's error about a call to another host: the closest of the other hosts' calls."""
        filtered = super().filter_request(request)
        if not filtered:
            return []
        best: list[tuple[int, Any, Any, Any]] = []
        for index in self._others:
            successes, fails = get_matchers_results(filtered, self.data[index][0], self.plain_match_on)
            best.append((len(successes), self.data[index][0], successes, fails))
        best.sort(key=lambda t: t[0], reverse=True)
        return [b[1:] for b in best if b[0] and b[0] == best[0][0]]

    # ---- after a replay -----------------------------------------------------------------------

    def unplayed(self) -> list[int]:
        """Recorded Iterable calls no call of this run matched (nor was paired with)."""
        return [index for index in self.calls if not self.play_counts[index]]


def cassette_class(scrubber: Scrubber, *, collect: bool = False,
                   plain_match_on: tuple[Callable[..., Any], ...] = PLAIN_MATCHERS,
                   passthrough: Callable[[Any], bool] | None = None,
                   release: Release | None = None) -> type[IterableCassette]:
    """An IterableCassette class carrying this configuration."""
    return type("IterableCassette", (IterableCassette,), {
        "scrubber": scrubber, "collect": collect, "plain_match_on": plain_match_on,
        "passthrough": staticmethod(passthrough) if passthrough else None, "release": release})


# ---- where the bytes are written ------------------------------------------------------------------


class _TextScrubbingSerializer:
    """A serializer's output with every key the scrubber has seen replaced, whatever the serializer."""

    def __init__(self, inner: Any, scrubber: Scrubber) -> None:
        self.inner, self.scrubber = inner, scrubber

    def serialize(self, data: Any) -> str:
        return self.scrubber.replace_known(self.inner.serialize(data))

    def deserialize(self, text: str) -> Any:
        return self.inner.deserialize(text)


class ScrubbingPersister:
    """Wraps the persister vcrpy writes with: every interaction is scrubbed once more just before it
    is serialized (whatever hooks, serializer or filters the user configured), and the text written
    has every key seen replaced. `everything`: scrub calls to any host, not only Iterable's.
    `accept`: the cassette's Iterable calls are recorded afresh, so a cassette that holds calls is
    loaded without its Iterable calls and without iterable_sim's note of the sends that made them."""

    def __init__(self, inner: Any, scrubber: Scrubber, *, everything: bool = False, accept: bool = False) -> None:
        self.inner, self.scrubber, self.everything, self.accept = inner, scrubber, everything, accept

    def load_cassette(self, cassette_path: Any, serializer: Any) -> Any:
        loaded = self._read(cassette_path, serializer)
        requests, responses, *metadata = loaded
        if not (self.accept and requests):
            return loaded
        kept = [(request, response) for request, response in zip(requests, responses, strict=True)
                if iterable_host(request.uri, request.headers) is None]
        noted = {key: value for key, value in (metadata[0] if metadata else {}).items() if key != METADATA_KEY}
        return [request for request, _ in kept], [response for _, response in kept], noted

    def _read(self, cassette_path: Any, serializer: Any) -> Any:
        extra = getattr(self.inner, "extra_paths", None)
        if extra is None:
            return self.inner.load_cassette(cassette_path, serializer=serializer)
        # pytest-recording's CombinedPersister (the cassette plus those named in the vcr marker)
        # cannot read a cassette with metadata: read the files here, metadata from the first
        requests: list[Any] = []
        responses: list[Any] = []
        metadata = None
        for index, path in enumerate(dict.fromkeys([str(cassette_path), *map(str, extra)])):
            try:
                text = Path(path).read_text("utf-8")
            except OSError:
                continue
            if text.strip():
                found, answers, *noted = deserialize(text, serializer)
                requests += found
                responses += answers
                metadata = noted[0] if noted and index == 0 else metadata
        if not requests:
            raise CassetteNotFoundError()
        return (requests, responses, metadata) if metadata else (requests, responses)

    def save_cassette(self, cassette_path: Any, cassette_dict: dict[str, Any], serializer: Any) -> None:
        requests, responses = [], []
        for request, response in zip(cassette_dict["requests"], cassette_dict["responses"], strict=True):
            data = request_dict(request)
            iterable = iterable_host(data["uri"], data["headers"]) is not None
            if iterable or self.everything:
                request = dict_request(self.scrubber.request(data))
                response = self.scrubber.response(response, iterable=iterable)
            requests.append(request)
            responses.append(response)
        scrubbed = {**cassette_dict, "requests": requests, "responses": responses}
        self.inner.save_cassette(cassette_path, scrubbed, serializer=_TextScrubbingSerializer(serializer, self.scrubber))
