"""The rudder-transformer releases iterable_sim maps as, and the rules that changed between them, as data.

RudderStack's Iterable output changed over its releases (../shared/rudderstack/versions/README.md):
each ReleaseRule names the release whose behaviour it brought, the rudder-transformer commit that
changed it and what a user sees change. A Release answers, per rule, whether it has the new behaviour
(`release.has(rule)`); the mapping and the router ask that, so one code path serves every release.

Only releases proven against RudderStack's own code of that release (an oracle, and that release's
test cases) are known. Another release maps as the newest known release at or before it, and
`resolve_release` says so, naming the changes between the two that are not reproduced.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from iterable_sim.exceptions import IterableSimError
from iterable_sim.version import RUDDERSTACK_VERSION

LATEST = "latest"

_TAG = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


class UnknownReleaseError(IterableSimError, ValueError):
    """A rudder-transformer release that is older than every known release, or not a release at all."""


def release_number(tag: str) -> tuple[int, int, int] | None:
    """(1, 106, 1) for "v1.106.1" (or "1.106.1"); None when `tag` is not a release tag."""
    match = _TAG.fullmatch(tag.strip()) if isinstance(tag, str) else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


@dataclass(frozen=True)
class ReleaseRule:
    """One change of RudderStack's Iterable output: `since` is the first release with the new behaviour."""

    name: str
    since: str
    commit: str
    kind: str  # what it changes for a user: "request", "host", "batch" or "error"
    before: str  # the behaviour of the releases before `since`
    after: str  # the behaviour from `since` on

    @property
    def number(self) -> tuple[int, int, int]:
        number = release_number(self.since)
        assert number is not None, self.since
        return number

    def describe(self) -> str:
        """"v1.108.0 (840ba5cf0): every request carries endpointPath"."""
        return f"{self.since} ({self.commit}): {self.after}"


# Each rule from ../shared/rudderstack/versions (README.md and each release's meta.json), in release order.
RULES: tuple[ReleaseRule, ...] = (
    ReleaseRule("eu_data_center", "v1.85.0", "1c134f846", "host",
                before='dataCenter "EUDC" is ignored: every request, deleteUsers included, goes to api.iterable.com',
                after='dataCenter "EUDC" sends every request, deleteUsers included, to api.eu.iterable.com'),
    ReleaseRule("token_registration", "v1.88.3", "a986138d4", "request",
                before=("identify with a device or browser token sends no users/registerDeviceToken or "
                        "registerBrowserToken request (broken since v1.85.0, 1c134f846)"),
                after="identify with a device or browser token also sends users/registerDeviceToken or registerBrowserToken"),
    ReleaseRule("token_md5_log", "v1.88.3", "a986138d4", "error",
                before="a device or browser token of any type is sent as it is",
                after=("a device or browser token that is not a string fails the identify: logging its MD5 "
                       "throws a TypeError (a 500)")),
    ReleaseRule("track_bulk_chunks", "v1.97.0", "bc7035849", "batch",
                before="the router sends events/trackBulk with up to 8,000 events and no 4,000,000-byte split",
                after="the router sends events/trackBulk in chunks of 1,000 events, split at 4,000,000 bytes"),
    ReleaseRule("type_grouping_rewrite", "v1.103.0", "9332c75b5", "batch",
                before="the router splits events into message-type runs with the older groupEventsByType",
                after="the router splits events into message-type runs with the rewritten groupEventsByType"),
    ReleaseRule("config_grouping", "v1.103.0", "93dbc44ac", "batch",
                before="the router groups events by destination only",
                after="the router groups events by destination and by destination Config"),
    ReleaseRule("endpoint_path", "v1.108.0", "840ba5cf0", "request",
                before="no request carries endpointPath",
                after="every request carries endpointPath"),
    ReleaseRule("no_type_grouping", "v1.133.0", "fdd1f2de0", "batch",
                before="the router first splits events into message-type runs, then batches each run per endpoint",
                after="the router batches all events of a group per endpoint (fewer, larger batches)"),
    ReleaseRule("external_id_guard", "v1.133.3", "475d5d473", "error",
                before="a malformed context.externalId (not an array) crashes the transformer (TypeError, a 500)",
                after="a malformed context.externalId is ignored"),
)
RULES_BY_NAME: Mapping[str, ReleaseRule] = MappingProxyType({rule.name: rule for rule in RULES})


@dataclass(frozen=True)
class Release:
    """A rudder-transformer release iterable_sim maps exactly as: its tag, commit and date, and where its
    oracle lives under ../shared/rudderstack (the newest: `rudderstack-iterable.cjs`; older ones:
    `versions/<folder>/rudderstack-iterable.cjs`)."""

    tag: str
    commit: str
    date: str
    number: tuple[int, int, int]  # its place among releases: latest counts as the newest release it includes
    oracle: str

    @property
    def short(self) -> str:
        return self.commit[:8]

    @property
    def is_latest(self) -> bool:
        return self.tag == LATEST

    def has(self, rule: str) -> bool:
        """Whether this release has the behaviour `RULES_BY_NAME[rule].after`."""
        return self.number >= RULES_BY_NAME[rule].number

    def __str__(self) -> str:
        if self.is_latest:
            return f"latest (rudder-transformer {self.short}, {self.date})"
        return f"{self.tag} (rudder-transformer {self.short}, {self.date})"


def _known() -> tuple[Release, ...]:
    newest_rule = max(rule.number for rule in RULES)
    return (
        Release("v1.84.0", "d76c37dd335a02d79ee621c4f251d65138c15bfc", "2024-11-12", (1, 84, 0),
                "versions/d76c37dd/rudderstack-iterable.cjs"),
        Release("v1.88.2", "ba8ad19abe3289ba9f76d3f182d0201233ba63fb", "2025-01-22", (1, 88, 2),
                "versions/ba8ad19a/rudderstack-iterable.cjs"),
        Release("v1.96.0", "6719b79df6bf37cafdd1071204ad2dc5f508b74a", "2025-04-02", (1, 96, 0),
                "versions/6719b79d/rudderstack-iterable.cjs"),
        Release("v1.106.1", "a0d4325987a385d8acc74dcee9a2d9a51ae65028", "2025-08-16", (1, 106, 1),
                "versions/a0d43259/rudderstack-iterable.cjs"),
        Release("v1.132.1", "903f8abd6a0134e431b23269e0b6b65595fc242a", "2026-05-14", (1, 132, 1),
                "versions/903f8abd/rudderstack-iterable.cjs"),
        # develop on 2026-08-06, after v1.133.3 (the newest change it holds): no release tag of its own
        Release(LATEST, RUDDERSTACK_VERSION.commit, RUDDERSTACK_VERSION.date, newest_rule, "rudderstack-iterable.cjs"),
    )


KNOWN_RELEASES: tuple[Release, ...] = _known()
"""Oldest first; the last is the newest, the default."""
NEWEST = KNOWN_RELEASES[-1]
_BY_NAME = {**{release.tag: release for release in KNOWN_RELEASES},
            **{release.tag.lstrip("v"): release for release in KNOWN_RELEASES},
            **{release.short: release for release in KNOWN_RELEASES}}


def known_list() -> str:
    """"v1.84.0, v1.88.2, v1.96.0, v1.106.1, v1.132.1, latest (c98d160c)"."""
    return ", ".join(f"latest ({r.short})" if r.is_latest else r.tag for r in KNOWN_RELEASES)


def resolve_release(name: str | Release | None) -> tuple[Release, str | None]:
    """The known release to map as for `name` (a tag such as "v1.106.1", "latest", a known commit's first
    8 hex digits, or None for the newest), and a warning when that is not `name` itself.

    A release between two known ones maps as the newest known release at or before it; the warning
    names the changes between the two it does not reproduce. One older than the oldest known release,
    or a name that is not a release, raises UnknownReleaseError with the list of known releases.
    """
    if name is None:
        return NEWEST, None
    if isinstance(name, Release):
        return name, None
    if not isinstance(name, str):
        raise UnknownReleaseError(f"rudderstack must be a release tag such as 'v1.106.1' or 'latest', "
                                  f"not {type(name).__name__}; known: {known_list()}")
    cleaned = name.strip()
    if cleaned.lower() == LATEST:
        return NEWEST, None
    known = _BY_NAME.get(cleaned)
    if known is not None:
        return known, None
    number = release_number(cleaned)
    if number is None:
        raise UnknownReleaseError(f"{name!r} is not a rudder-transformer release (such as 'v1.106.1' or 'latest'); "
                                  f"known: {known_list()}")
    if number < KNOWN_RELEASES[0].number:
        raise UnknownReleaseError(f"rudder-transformer {cleaned} is older than every release iterable_sim knows "
                                  f"({KNOWN_RELEASES[0].tag} is the oldest); known: {known_list()}")
    chosen = [release for release in KNOWN_RELEASES if release.number <= number][-1]
    missed = [rule for rule in RULES if chosen.number < rule.number <= number]
    tag = f"v{number[0]}.{number[1]}.{number[2]}"
    if chosen.is_latest:
        warning = (f"rudder-transformer {tag} is not a known release: mapping as {chosen}, the newest known; "
                   f"changes after it are not known")
    else:
        warning = f"rudder-transformer {tag} is not a known release: mapping as {chosen.tag}, the newest known before it"
        if missed:
            warning += "; not reproduced: " + "; ".join(rule.describe() for rule in missed)
    return chosen, warning


def changes_between(old: Release, new: Release) -> list[ReleaseRule]:
    """The rules whose behaviour differs between two releases (in either direction), in release order."""
    low, high = sorted((old.number, new.number))
    return [rule for rule in RULES if low < rule.number <= high]
