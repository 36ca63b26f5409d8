"""Cross-checking iterable_sim against a running rudder-transformer, through its own HTTP API.

Events go to `POST /v0/destinations/iterable` (a list of events per call, as RudderStack's processor
sends them) and are compared with `map_event`; router calls go to `POST /routerTransform` and are
compared with `route`. The comparison is strict: method, full URL, headers (names
case-insensitive), the JSON body with its types (true is not 1, "1" is not 1; 19 equals 19.0),
RudderStack's endpointPath (which rudder-server reads, v1.108.0 on), the error text and status; a
router call's batches compared as a set. iterable_sim maps as the settings' release. Only differences are kept, so a
run over many events holds two chunks of events at a time.
"""
from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sized
from urllib.parse import urlencode

import httpx
import orjson
from tqdm.auto import tqdm

from iterable_sim.lazy import LazyModule
from iterable_sim.mapping.batching import Batch, route
from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping import map_event
from iterable_sim.mapping.names import event_name
from iterable_sim.progress import PROGRESS_DELAY
from iterable_sim.redact import SECRET_HEADERS, mask, masked_headers
from iterable_sim.mapping.request import MappingError, Request, endpoint_path, json_bytes
from iterable_sim.mapping.config_file import read_settings
from iterable_sim.mapping.settings import Settings

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

PROCESSOR_PATH = "/v0/destinations/iterable"
ROUTER_PATH = "/routerTransform"
DESTINATION_ID = "iterable-sim-crosscheck"
ROUTER_DEST_TYPE = "iterable"
"""A router call's destType, in lower case as rudder-server sends it (router/worker.go: strings.ToLower): older
releases (v1.132.1 and before) look the destination's folder up by the name as given, so "ITERABLE" finds none."""
CHUNK_SIZE = 500
"""Events per processor call: rudder-transformer's processor endpoint takes a list of events."""
MAX_FIELDS = 20
"""Differing fields listed per event (or router batch); the rest are counted in one more row."""
VALUE_WIDTH = 300


class TransformerError(IterableSimError, RuntimeError):
    """The transformer could not be reached, or answered something other than rudder-transformer's contract."""


class CrosscheckError(IterableSimError, ValueError):
    """crosscheck() given a router call or chunk size below 1."""


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()
"""A key or list item one side has and the other does not."""


@dataclass
class CrosscheckReport:
    """What a rudder-transformer and iterable_sim made of the same events: counts, and every difference."""

    url: str
    events: int = 0
    identical: int = 0
    router: int | None = None
    calls: int = 0
    calls_identical: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def different(self) -> int:
        return self.events - self.identical

    @property
    def ok(self) -> bool:
        """True when every event (and every router call) came out identical."""
        return self.identical == self.events and self.calls_identical == self.calls

    def summary(self) -> str:
        """'N events: N identical', or with the number different, and the router calls."""
        text = f"{self.events} events: {self.identical} identical"
        if self.different:
            text += f", {self.different} different"
        if self.router is not None:
            calls = "1 router call" if self.calls == 1 else f"{self.calls} router calls"
            text += f" ({calls} of up to {self.router}: {self.calls_identical} identical)"
        return text

    def frame(self) -> pd.DataFrame:
        """One row per differing field: where (event, or router call and its events), the field, both values.

        Values are JSON text, so types show ("1" against 1); API keys are masked."""
        columns = (["call", "events"] if self.router is not None else ["event", "type", "name"]) + [
            "field", "transformer", "iterable_sim"]
        return pd.DataFrame(self.rows, columns=columns)

    def by_field(self) -> pd.Series:
        """How many differences each field has, list positions folded together (requests[].json.id)."""
        fields = [re.sub(r"\[\d+\]", "[]", row["field"]) for row in self.rows]
        return pd.Series(fields, dtype=object).value_counts().rename("differences")

    def __repr__(self) -> str:
        return f"CrosscheckReport({self.summary()}, transformer={self.url!r})"


def crosscheck(events: Iterable[Any], settings: Mapping[str, Any] | Settings, url: str, *,
               router: int | None = None, chunk_size: int = CHUNK_SIZE, progress: bool = True,
               timeout: float = 60.0, transport: httpx.BaseTransport | None = None) -> CrosscheckReport:
    """Send `events` to the rudder-transformer at `url` and compare its output with iterable_sim's.

    `settings` is a Settings (such as `read_settings(file)`) or a RudderStack config of any kind (read by
    `read_settings`, as every tool reads it: a destination's Config, its export, a workspace config holding
    one Iterable destination); the transformer is sent the destination's Config, as rudder-server sends it
    (`destination.Config`), and iterable_sim maps with the same settings. The events are the transformer's
    input: rudder-server's steps in front of it are not run here. Without `router`, each event's requests or error are compared with `map_event`; with
    `router=N`, the events go in router calls of N and each call's batches are compared with
    `route`. Raises TransformerError when the transformer cannot be reached or answers something
    that is not rudder-transformer's.
    """
    if router is not None and router < 1:
        raise CrosscheckError(f"a router call needs at least 1 event, not {router}")
    if chunk_size < 1:
        raise CrosscheckError(f"chunk_size must be at least 1, not {chunk_size}")
    ours = settings if isinstance(settings, Settings) else read_settings(settings)
    if ours.rudder_config is not None:
        config = dict(ours.rudder_config)
    else:  # built directly: the Config it stands for, without the keys it does not hold
        config = {k: v for k, v in ours.to_rudder().items() if v is not None}
    base = url.rstrip("/")
    report = CrosscheckReport(url=base, router=router)
    path = PROCESSOR_PATH if router is None else ROUTER_PATH
    total = len(events) if isinstance(events, Sized) else None
    bar = tqdm(total=total, unit="event", desc="crosscheck", delay=PROGRESS_DELAY, disable=not progress)
    # The next chunk goes to the transformer while this one is mapped and compared: two chunks in memory at most.
    with bar, httpx.Client(transport=transport, timeout=timeout) as client, ThreadPoolExecutor(1) as sender:
        pending: tuple[list[Any], int, Future[Any]] | None = None
        start = 0
        for chunk in _chunks(events, router or chunk_size):
            inputs = [{"message": message, "metadata": {"jobId": start + i + 1},
                       "destination": {"ID": DESTINATION_ID, "Config": config}} for i, message in enumerate(chunk)]
            body = inputs if router is None else {"destType": ROUTER_DEST_TYPE, "input": inputs}
            sent = sender.submit(_post, client, base + path, body)
            if pending is not None:
                _compare(report, *pending, ours, bar)
            pending = (chunk, start, sent)
            start += len(chunk)
        if pending is not None:
            _compare(report, *pending, ours, bar)
    return report


def _compare(report: CrosscheckReport, chunk: list[Any], start: int, sent: Future[Any], settings: Settings,
             bar: Any) -> None:
    if report.router is None:
        _compare_events(report, chunk, start, _processor_outputs(sent.result(), report.url), settings)
    else:
        _compare_call(report, chunk, start, _router_batches(sent.result(), report.url), settings)
    bar.update(len(chunk))


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# ---------------------------------------------------------------- HTTP


def _post(client: httpx.Client, url: str, payload: Any) -> Any:
    try:
        response = client.post(url, content=json_bytes(payload)[0], headers={"Content-Type": "application/json"})
    except httpx.TransportError as err:
        raise TransformerError(f"cannot reach the transformer at {url}: {err or type(err).__name__}") from None
    except httpx.InvalidURL as err:
        raise TransformerError(f"not a transformer URL: {url} ({err})") from None
    if response.status_code != 200:
        raise TransformerError(f"{url} answered HTTP {response.status_code}, not rudder-transformer's answer: "
                               f"{response.text[:160]!r}")
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise TransformerError(f"{url} answered something that is not JSON: {response.text[:160]!r}") from None


def _not_rudder(url: str, what: str) -> TransformerError:
    return TransformerError(f"{url} answered JSON that is not rudder-transformer's {what} response")


def _processor_outputs(answer: Any, base: str) -> dict[Any, list[dict[str, Any]]]:
    """The processor's outputs by jobId: one per request an event makes, or its error."""
    if not isinstance(answer, list):
        raise _not_rudder(base + PROCESSOR_PATH, "processor")
    outputs: dict[Any, list[dict[str, Any]]] = {}
    for item in answer:
        if not (isinstance(item, dict) and isinstance(item.get("metadata"), dict) and "statusCode" in item):
            raise _not_rudder(base + PROCESSOR_PATH, "processor")
        outputs.setdefault(item["metadata"].get("jobId"), []).append(item)
    return outputs


def _router_batches(answer: Any, base: str) -> list[dict[str, Any]]:
    batches = answer.get("output") if isinstance(answer, dict) else None
    if not isinstance(batches, list) or not all(
            isinstance(b, dict) and "statusCode" in b and isinstance(b.get("metadata"), list)
            and all(isinstance(m, dict) and isinstance(m.get("jobId"), int) for m in b["metadata"]) for b in batches):
        raise _not_rudder(base + ROUTER_PATH, "routerTransform")
    return batches


# ---------------------------------------------------------------- comparable views


def _view(method: Any, url: Any, headers: Mapping[str, Any], body: Any, path: Any) -> dict[str, Any]:
    """A request as compared; `path`, RudderStack's endpointPath, only when there is one (v1.108.0 on)."""
    view = {"method": str(method).upper(), "url": url, "headers": {str(k).lower(): v for k, v in headers.items()},
            "json": body}
    return view if path is None else {**view, "endpointPath": path}


def _their_request(output: Mapping[str, Any]) -> dict[str, Any]:
    """A rudder-transformer request (endpoint, params, headers, body.JSON, endpointPath) as method, full URL,
    headers, body and endpointPath."""
    params = output.get("params") or {}
    url = output.get("endpoint")
    if params:
        url = f"{url}?{urlencode(params, doseq=True)}"
    body = output["body"] if isinstance(output.get("body"), dict) else {}
    return _view(output.get("method", ""), url, output.get("headers") or {}, body.get("JSON", {}),
                 output.get("endpointPath"))


def _our_request(request: Request, settings: Settings) -> dict[str, Any]:
    return _view(request.method, request.url, request.headers, request.json, endpoint_path(request, settings.release))


def _their_event(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    if not outputs:
        return {"status": None, "error": "(no output for this event)", "requests": []}
    requests = [_their_request(o["output"]) for o in outputs if o["statusCode"] == 200 and isinstance(o.get("output"), dict)]
    failed = next((o for o in outputs if o["statusCode"] != 200), None)
    if failed is not None:
        return {"status": failed["statusCode"], "error": failed.get("error"), "requests": requests}
    return {"status": 200, "error": None, "requests": requests}


def _our_event(message: Any, settings: Settings) -> dict[str, Any]:
    try:
        requests = map_event(message, settings)
    except MappingError as err:
        return {"status": err.status, "error": str(err), "requests": []}
    except Exception as err:  # noqa: BLE001 - a bug in iterable_sim is this event's difference, not the run's end
        return {"status": None, "error": f"iterable_sim crashed: {type(err).__name__}: {err}", "requests": []}
    return {"status": 200, "error": None, "requests": [_our_request(r, settings) for r in requests]}


def _their_batch(batch: Mapping[str, Any]) -> dict[str, Any]:
    sent = batch.get("batchedRequest")
    requests = sent if isinstance(sent, list) else [] if sent is None else [sent]
    return {"events": sorted(m.get("jobId") - 1 for m in batch["metadata"]),
            "batched": batch.get("batched"), "status": batch["statusCode"], "error": batch.get("error"),
            "requests": [_their_request(r) for r in requests]}


def _our_batch(batch: Batch, settings: Settings) -> dict[str, Any]:
    return {"events": sorted(j - 1 for j in batch.job_ids), "batched": bool(batch.batched), "status": batch.status,
            "error": batch.error, "requests": [_our_request(r, settings) for r in batch.requests]}


# ---------------------------------------------------------------- strict comparison


def json_kind(value: Any) -> str:
    """The JSON type of a value as JavaScript sees it: null, bool, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def differences(theirs: Any, ours: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """Every leaf where two JSON values differ, as (path, theirs, ours); ABSENT stands for a missing key or item.

    Types are strict (True is not 1, "1" is not 1); numbers compare by value (19 == 19.0)."""
    kind = json_kind(theirs)
    if kind != json_kind(ours):
        yield path, theirs, ours
    elif kind == "object":
        for key in theirs:
            yield from differences(theirs[key], ours.get(key, ABSENT), (*path, key))
        for key in ours:
            if key not in theirs:
                yield (*path, key), ABSENT, ours[key]
    elif kind == "array":
        for i in range(max(len(theirs), len(ours))):
            yield from differences(theirs[i] if i < len(theirs) else ABSENT, ours[i] if i < len(ours) else ABSENT,
                                   (*path, i))
    elif theirs != ours:
        yield path, theirs, ours


def _same(theirs: Any, ours: Any) -> bool:
    try:  # the common case, fast: the same canonical JSON is the same value, types and all
        if orjson.dumps(theirs, option=orjson.OPT_SORT_KEYS) == orjson.dumps(ours, option=orjson.OPT_SORT_KEYS):
            return True
    except TypeError:  # an integer beyond 64 bits
        pass
    return next(differences(theirs, ours), None) is None  # 19 against 19.0 is the same too


def field_path(path: tuple[Any, ...]) -> str:
    """A path of `differences` as text: ("requests", 0, "json", "email") is "requests[0].json.email"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][\w$-]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{orjson.dumps(part).decode()}]"
    return text or "(whole)"


def _shown(path: tuple[Any, ...], value: Any) -> str:
    """A value as JSON text for the table, with API keys masked and long values cut."""
    if value is ABSENT:
        return "(absent)"
    if len(path) >= 2 and path[-2] == "headers" and str(path[-1]).lower() in SECRET_HEADERS:
        return mask(value)
    text = json_bytes(_without_keys(value))[0].decode()
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 1] + "…"


def _without_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: masked_headers(v) if k == "headers" and isinstance(v, dict) else _without_keys(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_without_keys(v) for v in value]
    return value


def _rows(where: dict[str, Any], theirs: Any, ours: Any) -> list[dict[str, Any]]:
    found = differences(theirs, ours)
    rows = [{**where, "field": field_path(path), "transformer": _shown(path, a), "iterable_sim": _shown(path, b)}
            for path, a, b in islice(found, MAX_FIELDS)]
    more = sum(1 for _ in found)
    if more:
        rows.append({**where, "field": "…", "transformer": f"{more} more differing fields", "iterable_sim": ""})
    return rows


# ---------------------------------------------------------------- single events and router calls


def _compare_events(report: CrosscheckReport, chunk: list[Any], start: int,
                    outputs: dict[Any, list[dict[str, Any]]], settings: Settings) -> None:
    for i, message in enumerate(chunk):
        index = start + i
        theirs, ours = _their_event(outputs.get(index + 1, [])), _our_event(message, settings)
        report.events += 1
        if _same(theirs, ours):
            report.identical += 1
            continue
        event = message if isinstance(message, dict) else {}
        where = {"event": index, "type": event.get("type"), "name": event_name(event)}
        report.rows.extend(_rows(where, theirs, ours))


def _compare_call(report: CrosscheckReport, chunk: list[Any], start: int, batches: list[dict[str, Any]],
                  settings: Settings) -> None:
    """One router call: batches paired by the events they carry, compared as a set."""
    call = start // report.router if report.router else 0
    theirs = [_their_batch(b) for b in batches]
    ours = [_our_batch(b, settings) for b in route((start + i + 1, message, settings) for i, message in enumerate(chunk))]
    with_events: dict[tuple[Any, ...], list[int]] = {}  # our batches (positions in `ours`) by the events they carry
    with_event: dict[Any, list[int]] = {}  # ... and by each event
    for position, batch in enumerate(ours):
        with_events.setdefault(tuple(batch["events"]), []).append(position)
        for event in batch["events"]:
            with_event.setdefault(event, []).append(position)
    paired: set[int] = set()
    good: set[Any] = set()
    bad: set[Any] = set()
    rows: list[dict[str, Any]] = []
    for batch in theirs:
        where = {"call": call, "events": _events_text(batch["events"])}
        k = _partner(batch, ours, paired, with_events, with_event)
        if k is None:
            rows.append({**where, "field": "(batch)", "transformer": _describe(batch), "iterable_sim": "(absent)"})
            bad.update(batch["events"])
            continue
        paired.add(k)
        if _same(batch, ours[k]):
            good.update(batch["events"])
        else:
            rows.extend(_rows(where, batch, ours[k]))
            bad.update(batch["events"], ours[k]["events"])
    for batch in (b for k, b in enumerate(ours) if k not in paired):
        rows.append({"call": call, "events": _events_text(batch["events"]), "field": "(batch)",
                     "transformer": "(absent)", "iterable_sim": _describe(batch)})
        bad.update(batch["events"])
    report.events += len(chunk)
    report.identical += len(good - bad)
    report.calls += 1
    report.calls_identical += 0 if rows else 1
    report.rows.extend(rows)


def _partner(batch: dict[str, Any], ours: list[dict[str, Any]], paired: set[int],
             with_events: dict[tuple[Any, ...], list[int]], with_event: dict[Any, list[int]]) -> int | None:
    """Our batch to compare a transformer batch with: one carrying the same events (an identical one
    first), else one sharing an event with it, else none."""
    same_events = [k for k in with_events.get(tuple(batch["events"]), ()) if k not in paired]
    if len(same_events) > 1:  # such as RudderStack's empty bulk requests, which carry no event
        return next((k for k in same_events if _same(batch, ours[k])), same_events[0])
    if same_events:
        return same_events[0]
    return next((k for event in batch["events"] for k in with_event.get(event, ()) if k not in paired), None)


def _describe(batch: dict[str, Any]) -> str:
    if batch["error"] is not None or not batch["requests"]:
        return f"status {batch['status']}: {batch['error']}"
    return ", ".join(str(r["url"]).split("/api/", 1)[-1] for r in batch["requests"])


def _events_text(indexes: list[int]) -> str:
    """Event indexes as short ranges: '0-199', '3, 7, 12-15'."""
    parts: list[tuple[Any, Any]] = []
    for index in indexes:
        if parts and isinstance(index, int) and parts[-1][1] == index - 1:
            parts[-1] = (parts[-1][0], index)
        else:
            parts.append((index, index))
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)
    return text if len(text) <= 80 else text[:79] + "…"
