"""What moving from one rudder-transformer release to another changes for your events: `upgrade_diff`.

Each event goes through rudder-server's steps once, as `map_events` runs them, then through Iterable's
transformer as each of the two releases maps it, and, with `router=N`, through RudderStack's router in calls
of N events. Every difference is told per event and per field: a request added or removed, a field of a
request added, removed or changed, a request sent to another host, a refusal appearing or going away, the
batch an event travels in regrouped. Each is matched to the rules between the two releases
(`iterable_sim.mapping.releases.changes_between`) that explain it; a difference no rule explains is
"unexplained", which would be a bug of iterable_sim's. A change to RudderStack's own output, which Iterable
never receives (the endpointPath rudder-server reads for its stats), is told apart from the changes to what
reaches Iterable (`Change.reaches_iterable`).

    diff = upgrade_diff(events, read_settings("workspaceConfig.json"), from_="v1.96.0", to="latest", router=200)
    print(diff.summary())
    diff.frame()  # one row per event and change
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, fields, replace
from itertools import islice
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sized
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from iterable_sim.archive.reader import Event
from iterable_sim.checks.crosscheck import ABSENT, differences, field_path
from iterable_sim.exceptions import IterableSimError
from iterable_sim.lazy import LazyModule
from iterable_sim.limits import MAX_BODY_BYTES, MAX_BULK_ITEMS
from iterable_sim.mapping.batching import Batch, route
from iterable_sim.mapping.names import event_name
from iterable_sim.mapping.releases import RULES_BY_NAME, Release, ReleaseRule, changes_between, resolve_release
from iterable_sim.mapping.request import Request, endpoint_path, json_bytes
from iterable_sim.mapping.results import EventResult, map_passed
from iterable_sim.mapping.rudder_server import RudderServer
from iterable_sim.mapping.settings import Settings, require_events, require_settings
from iterable_sim.pipeline.gateway import job_user_id
from iterable_sim.pipeline.gojson import clean_identifier
from iterable_sim.progress import PROGRESS_DELAY
from iterable_sim.redact import SECRET_HEADERS, mask

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

KINDS = ("request", "host", "batch", "error")
"""The kinds of change, as ReleaseRule.kind names them."""
UNEXPLAINED = "unexplained"
OWN_OUTPUT = "own output"
"""What `events_with` calls the changes to RudderStack's own output, which Iterable never receives."""
OWN_OUTPUT_FIELDS = (".endpointPath",)
"""The fields of the transformer's output that rudder-server keeps for itself (its stats) and never sends."""
OWN_OUTPUT_HEADING = "RudderStack's own output (never sent to Iterable)"
COLUMNS = ["event", "type", "name", "kind", "reaches_iterable", "endpoint", "change", "field", "before", "after",
           "status", "rule", "since", "commit"]
GROUP_COLUMNS = ["kind", "reaches_iterable", "change", "events", "first_event", "rule", "since", "commit"]
MAX_FIELDS = 20
"""Changed fields listed per request; the rest are counted in one more change."""
VALUE_WIDTH = 200
TOKEN_ENDPOINTS = ("users/registerDeviceToken", "users/registerBrowserToken")
BULK_ENDPOINTS = ("users/bulkUpdate", "events/trackBulk")
_EVENTS_PER_STEP = 500  # events taken from the input at a time without --router
_LIST_INDEX = re.compile(r"\[\d+\]")  # .json.events[3] and .json.events[4] are one change: .json.events[]


class UpgradeDiffError(IterableSimError, ValueError):
    """upgrade_diff() given a router call of fewer than 1 event, or the rows asked of a diff that kept none."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference for one event. `kind` is one of KINDS; `change` says it in words every event with the
    same difference shares (".endpointPath added", "users/registerDeviceToken request added"); `field` is
    the request's field; `before` and `after` the values as JSON text (API keys masked); `status` is
    RudderStack's status of a refusal; `rules` are the rules between the two releases that explain it
    (none: unexplained). `past_chunk_limits` says, of a batch change, whether a batch compared holds more
    events or bytes than the router's chunks do since v1.97.0 (1,000 events, 4,000,000 bytes)."""

    event: int
    type: Any
    name: Any
    kind: str
    endpoint: str | None
    change: str
    field: str | None = None
    before: str | None = None
    after: str | None = None
    status: int | None = None
    rules: tuple[ReleaseRule, ...] = ()
    past_chunk_limits: bool = False  # a batch compared holds over 1,000 events or 4,000,000 bytes

    @property
    def reaches_iterable(self) -> bool:
        """Whether Iterable sees this change: False for a change to RudderStack's own output only (a field of a
        request that rudder-server keeps for itself, OWN_OUTPUT_FIELDS)."""
        return not (self.kind == "request" and self.field in OWN_OUTPUT_FIELDS)

    def row(self) -> dict[str, Any]:
        """The frame's row for this change."""
        rule, since, commit = _rule_cells(self.rules)
        return {"event": self.event, "type": self.type, "name": self.name, "kind": self.kind,
                "reaches_iterable": self.reaches_iterable, "endpoint": self.endpoint, "change": self.change, "field": self.field, "before": self.before,
                "after": self.after, "status": self.status, "rule": rule, "since": since, "commit": commit}


@dataclass
class EventCount:
    """How many events were counted, each once: an event's changes come together, one after the other."""

    events: int = 0
    _last_event: int | None = field(default=None, repr=False)

    def count(self, event: int) -> None:
        if event != self._last_event:
            self.events += 1
            self._last_event = event


@dataclass
class ChangeGroup(EventCount):
    """The events that share one change (same kind, same words, same explaining rules), the first of them;
    `reaches_iterable` as the change's."""

    kind: str = ""
    reaches_iterable: bool = True
    change: str = ""
    rules: tuple[ReleaseRule, ...] = ()
    first_event: int = 0


@dataclass
class UpgradeDiff:
    """What `upgrade_diff` found: counts, the changes grouped by kind with the rules behind them, and (kept
    unless `keep_rows=False`) one row per event and change (`frame()`). `changed` counts the events with any
    change; `changed_for_iterable` those whose calls to Iterable change, `only_own_output` the rest (their
    only change is to RudderStack's own output, which Iterable never receives)."""

    from_release: Release
    to_release: Release
    rules: tuple[ReleaseRule, ...]
    router: int | None = None
    events: int = 0
    changed: int = 0
    changed_for_iterable: int = 0
    requests_before: int = 0
    requests_after: int = 0
    warnings: tuple[str, ...] = ()
    groups: dict[tuple[str, str, tuple[ReleaseRule, ...]], ChangeGroup] = field(default_factory=dict, repr=False)
    rows: list[dict[str, Any]] | None = field(default_factory=list, repr=False)
    _events_by_kind: dict[str, EventCount] = field(default_factory=dict, repr=False)  # OWN_OUTPUT, UNEXPLAINED too

    @property
    def only_own_output(self) -> int:
        """Events whose only change is to RudderStack's own output (endpointPath): Iterable sees none."""
        return self.changed - self.changed_for_iterable

    @property
    def unchanged(self) -> int:
        return self.events - self.changed

    @property
    def unexplained(self) -> int:
        """Events with a change that no rule between the two releases explains (a bug of iterable_sim's)."""
        return self._events_by_kind[UNEXPLAINED].events if UNEXPLAINED in self._events_by_kind else 0

    def events_with(self, kind: str) -> int:
        """How many events have a change of `kind` (one of KINDS) that reaches Iterable, or (OWN_OUTPUT) to
        RudderStack's own output."""
        return self._events_by_kind[kind].events if kind in self._events_by_kind else 0

    def untouched_rules(self) -> list[ReleaseRule]:
        """The rules between the two releases that change none of these events (without router calls, the
        batch rules are not compared: see `unrouted_rules`)."""
        used = {rule for group in self.groups.values() for rule in group.rules}
        return [rule for rule in self.rules if rule not in used and rule not in self.unrouted_rules()]

    @property
    def going_back(self) -> bool:
        """Whether `to_release` is older than `from_release` (a downgrade: each rule's change is undone)."""
        return self.to_release.number < self.from_release.number

    def describe_rule(self, rule: ReleaseRule) -> str:
        """A rule in words, as this diff goes: what the release brought, or (going back) what comes back."""
        if self.going_back:
            return f"{rule.since} ({rule.commit}) undone, as before it: {rule.before}"
        return rule.describe()

    def unrouted_rules(self) -> list[ReleaseRule]:
        """The rules between the two releases about the router's batches, when the events were not routed."""
        return [rule for rule in self.rules if rule.kind == "batch"] if self.router is None else []

    def add(self, change: Change) -> None:
        """Count `change` in its group and its kind (and as unexplained when no rule explains it); keep its row."""
        key = (change.kind, change.change, change.rules)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = ChangeGroup(kind=change.kind, change=change.change, rules=change.rules,
                                                   first_event=change.event, reaches_iterable=change.reaches_iterable)
        group.count(change.event)
        for kind in (change.kind if change.reaches_iterable else OWN_OUTPUT,
                     *(() if change.rules else (UNEXPLAINED,))):
            self._events_by_kind.setdefault(kind, EventCount()).count(change.event)
        if self.rows is not None:
            self.rows.append(change.row())

    def frame(self) -> pd.DataFrame:
        """One row per event and change: the event (index, type, name), the kind of change, whether it
        reaches Iterable (False: RudderStack's own output, endpointPath, which Iterable never receives), the endpoint,
        the change in words, the request's field, its values before and after (JSON text, API keys masked),
        the refusal's status, and the rule(s) behind it (their names, releases and commits; "unexplained"
        when none). Raises UpgradeDiffError when the rows were not kept (`keep_rows=False`)."""
        if self.rows is None:
            raise UpgradeDiffError("upgrade_diff(..., keep_rows=False) kept no rows: call it with keep_rows=True "
                                   "for the frame")
        frame = pd.DataFrame(self.rows, columns=COLUMNS)
        frame["status"] = frame["status"].astype("Int64")
        return frame

    def groups_frame(self) -> pd.DataFrame:
        """One row per change shared by events: its kind, whether it reaches Iterable, the change, how many
        events have it, the first of them, and the rule(s) behind it; what reaches Iterable first, kinds in the
        order of KINDS, the largest groups first."""
        rows = [{"kind": g.kind, "reaches_iterable": g.reaches_iterable, "change": g.change, "events": g.events, "first_event": g.first_event,
                 **dict(zip(("rule", "since", "commit"), _rule_cells(g.rules), strict=True))}
                for g in self._sorted_groups()]
        return pd.DataFrame(rows, columns=GROUP_COLUMNS)

    def headline(self) -> str:
        """"v1.84.0 → latest: 10,000 events, 0 change what reaches Iterable, 8,000 only RudderStack's own
        output, 2,000 unchanged; 0 unexplained"."""
        return (f"{self.from_release.tag} → {self.to_release.tag}: {self.events:,} events, "
                f"{self.changed_for_iterable:,} change what reaches Iterable, {self.only_own_output:,} only "
                f"RudderStack's own output, {self.unchanged:,} unchanged; {self.unexplained:,} unexplained")

    def counts(self) -> str:
        """"10,000 events: 0 would change what reaches Iterable, 8,000 only RudderStack's own output
        (endpointPath), 2,000 not at all"."""
        own = ", ".join(name.lstrip(".") for name in OWN_OUTPUT_FIELDS)
        return (f"{self.events:,} events: {self.changed_for_iterable:,} would change what reaches Iterable, "
                f"{self.only_own_output:,} only RudderStack's own output ({own}), {self.unchanged:,} not at all")

    def summary(self) -> str:
        """The changes grouped by kind, with how many events each touches and the rule behind it, as text;
        the changes to RudderStack's own output (never sent to Iterable) under their own heading."""
        lines = [f"rudder-transformer {self.from_release} → {self.to_release}",
                 self.counts() + (" (each event mapped on its own)" if self.router is None else "")]
        if self.router is not None:
            lines.append(f"router calls of {self.router:,} events: {self.requests_before:,} requests to Iterable "
                         f"→ {self.requests_after:,}")
        lines += [f"warning: {warning}" for warning in self.warnings]
        if not self.rules:
            lines.append("the two releases map alike: no rule changed between them")
        groups = self._sorted_groups()
        for kind in KINDS:
            touched = self.events_with(kind)
            if kind == "batch" and self.router is None:
                lines.append("\nbatch changes: not compared (the events were not routed in router calls)")
                continue
            lines.append(f"\n{kind} changes: " + (_events(touched) if touched else "none"))
            lines += self._group_lines(g for g in groups if g.kind == kind and g.reaches_iterable)
        own = self.events_with(OWN_OUTPUT)
        lines.append(f"\n{OWN_OUTPUT_HEADING}: " + (_events(own) if own else "none"))
        lines += self._group_lines(g for g in groups if not g.reaches_iterable)
        lines.append("\n" + (f"unexplained: {_events(self.unexplained)} with a change no rule explains, a bug "
                             f"of iterable_sim's: please report it with those events" if self.unexplained
                             else "unexplained: none (every change is one of the rules above)"))
        untouched = self.untouched_rules()
        if untouched:
            lines.append("changes between the two releases that touch none of these events:")
            lines += [f"  {self.describe_rule(rule)}" for rule in untouched]
        unrouted = self.unrouted_rules()
        if unrouted:
            lines.append("changes of the router's batches, not compared (route the events: --router N, or router=N):")
            lines += [f"  {self.describe_rule(rule)}" for rule in unrouted]
        return "\n".join(lines)

    def _group_lines(self, groups: Iterable[ChangeGroup]) -> list[str]:
        lines = []
        for group in groups:
            lines.append(f"  {_events(group.events):>13}  {group.change}  (first: event {group.first_event})")
            lines += [f"{'':17}{self._because(rule, group)}" for rule in group.rules] or [
                f"{'':17}UNEXPLAINED: no rule between the two releases makes this change"]
        return lines

    def _because(self, rule: ReleaseRule, group: ChangeGroup) -> str:
        """The rule behind a group of changes, in words (`describe_rule`), and what else its commit did when
        that is the change (1c134f846 also stopped the token registrations), or who reads what it added."""
        if rule.name == "eu_data_center" and group.kind == "request":
            fix = RULES_BY_NAME["token_registration"]
            return (f"{self.describe_rule(rule)}; the same commit stopped the token registrations until "
                    f"{fix.since} ({fix.commit})")
        if rule.name == "endpoint_path":
            return f"{self.describe_rule(rule)} (for rudder-server's own stats: Iterable never receives it)"
        return self.describe_rule(rule)

    def _sorted_groups(self) -> list[ChangeGroup]:
        return sorted(self.groups.values(),
                      key=lambda g: (not g.reaches_iterable, KINDS.index(g.kind), -g.events, g.change))

    def __repr__(self) -> str:
        kinds = ", ".join(f"{kind} {self.events_with(kind):,}" for kind in (*KINDS, OWN_OUTPUT)
                          if self.events_with(kind))
        return f"<UpgradeDiff {self.headline()}{f' (events with changes: {kinds})' if kinds else ''}>"

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(self.headline())}</b></p>"]
        if self.router is not None:
            parts.append(f"<p>router calls of {self.router:,} events: {self.requests_before:,} requests to "
                         f"Iterable → {self.requests_after:,}</p>")
        parts += [f"<p>⚠ {html.escape(warning)}</p>" for warning in self.warnings]
        groups = self.groups_frame()
        reaches = groups["reaches_iterable"].astype(bool)
        groups = groups.drop(columns="reaches_iterable")  # the headings say it
        seen, own = groups[reaches], groups[~reaches]
        parts.append("<p>What reaches Iterable:</p>" + (seen.to_html(index=False) if len(seen) else
                                                        "<p><i>no change</i></p>"))
        if len(own):
            parts.append(f"<p>{html.escape(OWN_OUTPUT_HEADING)}:</p>{own.to_html(index=False)}")
        for heading, rules in (("Changes between the two releases that touch none of these events",
                                self.untouched_rules()),
                               ("Changes of the router's batches, not compared (route the events: router=N)",
                                self.unrouted_rules())):
            if rules:
                items = "".join(f"<li>{html.escape(self.describe_rule(rule))}</li>" for rule in rules)
                parts.append(f"<p>{heading}:</p><ul>{items}</ul>")
        return "".join(parts)


def upgrade_diff(events: Iterable[Any], settings: Settings, *, from_: str | Release, to: str | Release,
                 router: int | None = None, progress: bool = True, received_at: Any = None,
                 through_gateway: bool = False, keep_rows: bool = True,
                 on_change: Callable[[Change], None] | None = None) -> UpgradeDiff:
    """What changes for `events` when RudderStack's rudder-transformer goes from release `from_` to release
    `to` (tags such as "v1.96.0", or "latest"; see `iterable_sim.mapping.releases.KNOWN_RELEASES`), the rest
    of `settings` kept. Going back to an older release works the same way.

    The events (any iterable, read as it goes: a list, a generator, the records of
    `iterable_sim.archive.read_archive`, whose own `through_gateway` is honoured) go through rudder-server's
    steps once, as `map_events` runs them (`received_at`, `through_gateway`: see `RudderServer`), then
    through both releases' mapping; with `router=N`, also through RudderStack's router in calls of N events,
    so that an event whose batch is put together differently counts as a "batch" change. Each change is
    passed to `on_change` as it is found; `keep_rows=False` keeps only the counts (any input size). A
    progress bar shows when the work takes over two seconds. Raises UnknownReleaseError for a release
    iterable_sim does not know, UpgradeDiffError for a router call below 1 event.
    """
    require_events(events)
    require_settings(settings)
    if router is not None and (isinstance(router, bool) or not isinstance(router, int) or router < 1):
        raise UpgradeDiffError(f"a router call needs at least 1 event, not {router!r}")
    (old, old_warning), (new, new_warning) = resolve_release(from_), resolve_release(to)
    before, after = settings_as(settings, old), settings_as(settings, new)
    diff = UpgradeDiff(old, new, tuple(changes_between(old, new)), router=router,
                       warnings=tuple(w for w in (old_warning, new_warning) if w), rows=[] if keep_rows else None)
    server = RudderServer(before, received_at=received_at, through_gateway=through_gateway)
    total = len(events) if isinstance(events, Sized) else None
    with tqdm(total=total, desc="upgrade diff", unit=" events", delay=PROGRESS_DELAY, disable=not progress) as bar:
        for step in _steps(enumerate(events), router or _EVENTS_PER_STEP):
            for change in _step_changes(step, server, before, after, diff):
                diff.add(change)
                if on_change is not None:
                    on_change(change)
            bar.update(len(step))
    return diff


def settings_as(settings: Settings, release: Release) -> Settings:
    """`settings` mapping as `release`: the same Config (the one read from RudderStack, when there is one),
    rudder-server's steps and their context."""
    if settings.rudder_config is None:
        return replace(settings, rudderstack=release.tag, warnings=())
    return Settings.from_rudder(settings.rudder_config, rudder_server=settings.rudder_server,
                                pipeline=settings.pipeline, rudderstack=release.tag)


def _steps(items: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    iterator = iter(items)
    while step := list(islice(iterator, size)):
        yield step


# ---------------------------------------------------------------- one step: events, or one router call


@dataclass(slots=True)
class _Mapped:
    """An event rudder-server's steps pass on: what they pass on (`outputs`), and its two results."""

    event: Any
    outputs: tuple[Any, ...]
    before: EventResult
    after: EventResult


def _step_changes(step: list[tuple[int, Any]], server: RudderServer, before: Settings, after: Settings,
                  diff: UpgradeDiff) -> Iterator[Change]:
    """The changes of the events of one step, in their order; with diff.router, the step is a router call."""
    mapped: dict[int, _Mapped] = {}
    in_range = frozenset(rule.name for rule in diff.rules)
    for index, item in step:
        event, through = (item.event, item.through_gateway or None) if isinstance(item, Event) else (item, None)
        diff.events += 1
        fate = server.fate(index, event, through_gateway=through)
        if fate.passed:  # one fate for both releases: rudder-server's steps do not depend on the transformer
            mapped[index] = _Mapped(event, fate.events, map_passed(index, None, fate.events, before),
                                    map_passed(index, None, fate.events, after))
    memberships: tuple[dict[int, dict[str, dict[frozenset[Any], int]]], ...] = ({}, {})
    if diff.router is not None:
        for side, settings in enumerate((before, after)):
            batches = route((index, output, settings, None, _router_user(m.event))
                            for index, m in mapped.items() for output in m.outputs)
            memberships[side].update(_memberships(batches))
            requests = sum(len(batch.requests) for batch in batches)
            if side:
                diff.requests_after += requests
            else:
                diff.requests_before += requests
    for index, m in mapped.items():
        found = list(_event_changes(m.before, m.after, (before.release, after.release)))
        if diff.router is not None and not any(c.kind == "error" for c in found):
            found += _batch_changes(memberships[0].get(index, {}), memberships[1].get(index, {}))
        if found:
            diff.changed += 1
            if any(change.reaches_iterable for change in found):
                diff.changed_for_iterable += 1
        kind, name = (m.event.get("type"), event_name(m.event)) if isinstance(m.event, dict) else (None, None)
        for change in found:
            yield replace(change, event=index, type=kind, name=name,
                          rules=tuple(rule for rule in diff.rules if EXPLAINS[rule.name](change, in_range)))


def _router_user(event: Any) -> str | None:
    """The job's metadata.userId that rudder-server's router gives the transformer: the gateway job's UserID,
    built from the event's anonymousId and userId (releases before v1.133.0 keep each user's order by it)."""
    if not isinstance(event, dict):
        return None
    return job_user_id("", clean_identifier(event.get("anonymousId")), clean_identifier(event.get("userId")))


def _event_changes(before: EventResult, after: EventResult, releases: tuple[Release, Release]) -> Iterator[Change]:
    """The differences between an event's two results (mapped as `releases`): its refusal, else its requests."""
    if (before.error is None) != (after.error is None) or (
            before.error is not None and after.error is not None
            and (before.error.status, str(before.error)) != (after.error.status, str(after.error))):
        yield _refusal_change(before, after)
        return
    by_endpoint: tuple[dict[str, list[Request]], dict[str, list[Request]]] = ({}, {})
    for side, result in zip(by_endpoint, (before, after), strict=True):
        for request in result.requests:
            side.setdefault(request.endpoint, []).append(request)
    for endpoint in {**by_endpoint[0], **by_endpoint[1]}:
        old, new = by_endpoint[0].get(endpoint, []), by_endpoint[1].get(endpoint, [])
        for a, b in zip(old, new, strict=False):
            yield from _request_changes(endpoint, a, b, releases)
        for a in old[len(new):]:
            yield _blank(kind="request", endpoint=endpoint, change=f"{endpoint} request removed",
                         before=_shown(_view(a, releases[0])))
        for b in new[len(old):]:
            yield _blank(kind="request", endpoint=endpoint, change=f"{endpoint} request added",
                         after=_shown(_view(b, releases[1])))


def _refusal_change(before: EventResult, after: EventResult) -> Change:
    """An event refused by one release and not the other, or by both with other statuses or words; `field` is
    what the refusal's check reads and `status` its status (when both refuse: the crash's, a 500, when
    one of them crashes, else the `to` release's)."""
    if before.error is not None and after.error is not None:
        told = before.error if before.error.status == 500 and after.error.status != 500 else after.error
        return _blank(kind="error", endpoint=None, field=told.field,
                      change=f"refused differently (status {before.error.status} → {after.error.status})",
                      status=told.status, before=_refusal(before), after=_refusal(after))
    if before.error is not None:
        return _blank(kind="error", endpoint=None, change=f"refused (status {before.error.status}) → sent",
                      field=before.error.field, status=before.error.status, before=_refusal(before),
                      after=_endpoints(after))
    assert after.error is not None
    return _blank(kind="error", endpoint=None, change=f"sent → refused (status {after.error.status})",
                  field=after.error.field, status=after.error.status, before=_endpoints(before),
                  after=_refusal(after))


def _refusal(result: EventResult) -> str:
    return f"{result.status}: {result.message}"


def _request_changes(endpoint: str, a: Request, b: Request, releases: tuple[Release, Release]) -> Iterator[Change]:
    """Two requests to `endpoint`, one per release: another host, then each field added, removed or changed
    (the first MAX_FIELDS; the rest counted in one change that no rule explains)."""
    old_host, new_host = urlsplit(a.url).netloc, urlsplit(b.url).netloc
    if old_host != new_host:
        yield _blank(kind="host", endpoint=endpoint, change=f"host {old_host} → {new_host}", field=".url",
                     before=old_host, after=new_host)
    found = differences(_view(a, releases[0]), _view(b, releases[1]))
    for path, old, new in islice(found, MAX_FIELDS):
        what = "added" if old is ABSENT else "removed" if new is ABSENT else "changed"
        name = "." + field_path(path)
        yield _blank(kind="request", endpoint=endpoint, change=f"{_LIST_INDEX.sub('[]', name)} {what}",
                     field=name, before=_value(path, old), after=_value(path, new))
    more = sum(1 for _ in found)
    if more:
        yield _blank(kind="request", endpoint=endpoint, change="more fields changed", field="…",
                     before=f"{more} more changed fields")


def _view(request: Request, release: Release) -> dict[str, Any]:
    """A request's fields as compared: its URL without the host (a host change is its own kind), and the
    endpointPath `release` puts on it for rudder-server (none before v1.108.0; never sent to Iterable)."""
    view = {f.name: getattr(request, f.name) for f in fields(request)}
    parts = urlsplit(request.url)
    view["url"] = parts.path + (f"?{parts.query}" if parts.query else "")
    view["headers"] = dict(request.headers)
    path = endpoint_path(request, release)
    if path is not None:
        view["endpointPath"] = path
    return view


def _memberships(batches: list[Batch]) -> dict[int, dict[str, dict[frozenset[Any], int]]]:
    """For each event a router call carries: per endpoint, the sets of events it shares a batch with, each
    with the size of the batch's bulk body in bytes (0 for other calls)."""
    found: dict[int, dict[str, dict[frozenset[Any], int]]] = {}
    for batch in batches:
        if batch.requests:  # a refusal is told by the event's own results
            jobs, first = frozenset(batch.job_ids), batch.requests[0]
            size = len(first.body_bytes()) if first.endpoint in BULK_ENDPOINTS else 0
            for job in batch.job_ids:
                found.setdefault(job, {}).setdefault(first.endpoint, {})[jobs] = size
    return found


def _batch_changes(before: Mapping[str, dict[frozenset[Any], int]], after: Mapping[str, dict[frozenset[Any], int]]
                   ) -> list[Change]:
    """An event's batches put together differently, per endpoint both releases send it to (a request only
    one release sends is a request change already)."""
    return [_blank(kind="batch", endpoint=endpoint, change=f"{endpoint} batch regrouped",
                   before=_sizes(before[endpoint]), after=_sizes(after[endpoint]),
                   past_chunk_limits=any(len(jobs) > MAX_BULK_ITEMS or size > MAX_BODY_BYTES
                                         for side in (before, after) for jobs, size in side[endpoint].items()))
            for endpoint in before if endpoint in after and before[endpoint].keys() != after[endpoint].keys()]


def _sizes(batches: Iterable[frozenset[Any]]) -> str:
    """"a batch of 37 events", or "batches of 12, 37 events"."""
    sizes = sorted(len(jobs) for jobs in batches)
    if len(sizes) == 1:
        return f"a batch of {sizes[0]:,} event{'s' if sizes[0] != 1 else ''}"
    return f"batches of {', '.join(f'{size:,}' for size in sizes)} events"


def _blank(**values: Any) -> Change:
    """A change not yet placed at its event (`_step_changes` does)."""
    return Change(event=-1, type=None, name=None, **values)


def _endpoints(result: EventResult) -> str:
    return ", ".join(request.endpoint for request in result.requests) or "(no request)"


def _value(path: tuple[Any, ...], value: Any) -> str:
    """A value as JSON text for the frame, keys masked, long values cut; "(absent)" for a missing one."""
    if value is ABSENT:
        return "(absent)"
    if len(path) >= 2 and path[-2] == "headers" and str(path[-1]).lower() in SECRET_HEADERS:
        return mask(value)
    return _shown(value)


def _shown(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("headers"), dict):
        value = {**value, "headers": {k: mask(v) if str(k).lower() in SECRET_HEADERS else v
                                      for k, v in value["headers"].items()}}
    text = json_bytes(value)[0].decode()
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 1] + "…"


def _events(count: int) -> str:
    return f"{count:,} event{'' if count == 1 else 's'}"


def _rule_cells(rules: tuple[ReleaseRule, ...]) -> tuple[str, str | None, str | None]:
    """The rule, since and commit cells of a change: "unexplained" and None when no rule explains it."""
    if not rules:
        return UNEXPLAINED, None, None
    return (", ".join(rule.name for rule in rules), ", ".join(rule.since for rule in rules),
            ", ".join(rule.commit for rule in rules))


# ---------------------------------------------------------------- which rule explains a change


def _token_request(change: Change, in_range: frozenset[str]) -> bool:
    return change.kind == "request" and change.field is None and change.endpoint in TOKEN_ENDPOINTS


EXPLAINS: Mapping[str, Callable[[Change, frozenset[str]], bool]] = {
    # 1c134f846 brought the EU host, and also stopped the token registrations (ReleaseRule token_registration's
    # `before`: broken from v1.85.0 until a986138d4)
    "eu_data_center": lambda c, in_range: c.kind == "host" or _token_request(c, in_range),
    "token_registration": _token_request,
    "token_md5_log": lambda c, in_range: (c.kind == "error" and c.status == 500
                                          and c.field in ("device.token", "browserToken")),
    "track_bulk_chunks": lambda c, in_range: (c.kind == "batch" and c.endpoint == "events/trackBulk"
                                              and c.past_chunk_limits),
    # which message-type runs the older algorithm cuts matters only while the newer release cuts runs at all
    "type_grouping_rewrite": lambda c, in_range: c.kind == "batch" and "no_type_grouping" not in in_range,
    # upgrade_diff routes the events of one destination with one Config: grouping by Config splits none of them
    "config_grouping": lambda c, in_range: False,
    "endpoint_path": lambda c, in_range: c.kind == "request" and c.field == ".endpointPath",
    "no_type_grouping": lambda c, in_range: c.kind == "batch",
    "external_id_guard": lambda c, in_range: (c.kind == "error" and c.status == 500
                                              and c.field == "context.externalId"),
}
"""For each rule of iterable_sim.mapping.releases.RULES (by name), whether it explains a change, given the
names of all the rules between the two releases."""
