"""The message a failed replay gives: the release it was recorded under when it is replayed under another,
with the rules that changed between the two; every differing call, field by field; every recorded call not
made, with the reason when a send report knows it; settings warnings; the command that accepts it."""
from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

from iterable_sim.cassettes.bodydiff import bulk_items, describe_who, show, who
from iterable_sim.cassettes.cassette import IterableCassette
from iterable_sim.cassettes.personal import pseudonymize_text

MAX_CALLS_SHOWN = 100


def headline(cassette: IterableCassette, strict: bool) -> str | None:
    """One line for pytest's summary; None when the replay matched the cassette."""
    differ = sum(1 for m in cassette.misses if m.recorded is not None)
    new = sum(1 for m in cassette.misses if m.recorded is None)
    unmade = len(cassette.unplayed()) if strict else 0
    release = cassette.release_change()
    if not (differ or new or unmade or release):
        return None
    if not cassette.rewound and not len(cassette):
        return f"no cassette at {_path(cassette)}: record it"
    parts = [f"{differ} call(s) differ" if differ else "", f"{new} new call(s)" if new else "",
             f"{unmade} recorded call(s) not made" if unmade else ""]
    calls = "Iterable calls differ from the cassette: " + ", ".join(p for p in parts if p)
    if release is None:
        return calls
    under = release.partition(":")[0]  # "cassette recorded under v1.106.1, replayed under latest"
    return f"{under}; {calls}" if differ or new or unmade else f"{under} (the calls are the same)"


def failure_message(cassette: IterableCassette, *, strict: bool, nodeid: str, reports: Sequence[Any] = (),
                    warnings: Iterable[str] = (), test_error: str | None = None) -> str | None:
    """The whole message; None when the replay matched the cassette."""
    title = headline(cassette, strict)
    if title is None:
        return None
    accept = f"pytest --iterable-accept '{nodeid}'"
    if not cassette.rewound and not len(cassette):
        lines = [f"{title}: this test's Iterable calls have no cassette yet ({len(cassette.misses)} call(s) made).",
                 f"Record it:\n  {accept}"]
        return "\n".join(lines)
    lines = [f"{title} ({_path(cassette)})."]
    release = cassette.release_change()
    if release is not None:
        lines += ["", release]
    lines += _miss_lines(cassette)
    unmade = cassette.unplayed() if strict else []
    if unmade:
        lines += _unmade_lines(cassette, unmade, reports)
    warned = list(dict.fromkeys(warnings))
    if warned:
        lines += ["", "Settings warnings:"] + [f"  {w}" for w in warned]
    if test_error:
        lines += ["", f"The test also failed: {test_error}"]
    under = f" under {cassette.release_now.tag}" if release is not None and cassette.release_now else ""
    lines += ["", f"If the change is intended, accept it (records this test's Iterable calls again{under}; no stale "
                  f"call is kept):", f"  {accept}", f"then review the cassette's diff: git diff -- {_path(cassette)}"]
    return "\n".join(lines)


def _miss_lines(cassette: IterableCassette) -> list[str]:
    """Each call made now that the cassette does not hold, as it differs (the first MAX_CALLS_SHOWN)."""
    lines: list[str] = []
    shown = cassette.misses[:MAX_CALLS_SHOWN]
    for miss in shown:
        lines += ["", miss.describe()]
    if len(cassette.misses) > len(shown):
        lines += ["", f"… and {len(cassette.misses) - len(shown)} more differing call(s): "
                      f"`iterable-sim cassettes diff {_path(cassette)}` lists them all"]
    return lines


def _unmade_lines(cassette: IterableCassette, unmade: list[int], reports: Sequence[Any]) -> list[str]:
    """Each recorded call not made now, with the people it was about and why, when the send reports
    know (an event that failed in mapping); then the failed events no such call was about."""
    failures = list(_mapping_failures(reports, cassette.scrubber.personal_data))
    lines = ["", "Recorded, not made now:"]
    for index in unmade:
        call = cassette.calls[index]
        items = bulk_items(call.body)
        lines.append(f"  call {index + 1}: {call.method} {call.endpoint}: {_people(items)}")
        for reason in _reasons_for(items, failures):
            lines.append(f"    why: {reason}")
    unmatched = [text for ids, text in failures if not any(
        _about(item, ids) for index in unmade for item in bulk_items(cassette.calls[index].body))]
    if unmatched:
        lines += ["  Events the send report says were not sent:"] + [f"    {text}" for text in unmatched[:20]]
    return lines


def _people(items: list[Any]) -> str:
    """Who a call's items are about: the first five, and how many more."""
    return "; ".join(describe_who(who(item)) for item in items[:5]) + \
        (f"; … {len(items) - 5} more" if len(items) > 5 else "")


def _path(cassette: IterableCassette) -> str:
    try:
        return os.path.relpath(cassette.path)
    except ValueError:
        return str(cassette.path)



def _mapping_failures(reports: Sequence[Any], personal: bool) -> Iterable[tuple[set[str], str]]:
    """({identifiers of the event}, "event 7 (track "Order Completed", userId "u1") failed in mapping: …")."""
    for report in reports:
        for outcome in report.outcomes:
            if outcome.fate != "failed" or outcome.stage not in ("mapping", "interrupted"):
                continue
            event = report.events[outcome.index] if isinstance(report.events[outcome.index], dict) else {}
            stage = "mapping" if outcome.stage == "mapping" else "an interrupted send"
            yield _event_ids(event, personal), f"event {outcome.index} ({_label(event)}) failed in {stage}: {outcome.reason}"


def _event_ids(event: dict[str, Any], personal: bool) -> set[str]:
    """The identifiers a recorded call may know the event by: its userId, anonymousId and traits'
    email (and its pseudonym, where the cassette pseudonymises personal data)."""
    ids = {str(v) for v in (event.get("userId"), event.get("anonymousId")) if v}
    traits = event.get("traits") or (event.get("context") or {}).get("traits") or {}
    email = traits.get("email") if isinstance(traits, dict) else None
    if isinstance(email, str) and email:
        ids |= {email, pseudonymize_text(email)} if personal else {email}
    return ids


def _label(event: dict[str, Any]) -> str:
    """'track "Order Completed", userId "u1"'."""
    name = event.get("event") or event.get("name")
    return ", ".join(x for x in (event.get("type"), show(name) if name else "",
                                 f"userId {show(event['userId'])}" if event.get("userId") else "") if x)


def _about(item: Any, ids: set[str]) -> bool:
    found = who(item)
    return any(str(found.get(key)) in ids for key in ("userId", "email") if found.get(key) is not None)


def _reasons_for(items: list[Any], failures: list[tuple[set[str], str]]) -> list[str]:
    return list(dict.fromkeys(text for ids, text in failures if any(_about(item, ids) for item in items)))
