"""The pipeline wing with the project's own fixtures (no ../shared needed): the sample events, the rules'
invariants as the rudder-server source states them (hypothesis-generated events), fates and arguments."""
from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import iterable_sim as its
from iterable_sim import IterableSimError
from iterable_sim.pipeline import (ITERABLE_SUPPORTED_MESSAGE_TYPES, GoTime, Passed, PipelineConfig, PipelineError,
                                   PipelineTypeError, Stopped, allows_iterable, consent_allows, events_for_transformer,
                                   filter_event, parse_any, read_request, rudder_id, run_pipeline, time_fields)
from iterable_sim.pipeline.gateway import GatewayOptions, size_for_limit
from iterable_sim.pipeline.gojson import go_json

RECEIVED = "2026-01-05T10:00:07.123Z"
MILLI = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})")
SAMPLES = json.loads(resources.files("iterable_sim.samples").joinpath("events.json").read_text("utf-8"))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _only(fates):
    assert len(fates) == 1
    return fates[0]


# --- the sample events ------------------------------------------------------------------------------

def test_the_samples_reach_the_transformer_except_the_anonymous_identify_and_the_group() -> None:
    fates = run_pipeline(SAMPLES, {}, received_at=RECEIVED, seed=7)
    assert [f.index for f in fates] == list(range(len(SAMPLES)))
    stopped = {f.index: (f.step, f.status, f.text) for f in fates if not f.passed}
    assert stopped == {5: ("gateway", 400, "request neither has anonymousId nor userId"),  # sample-06
                       22: ("event_filter", 298, "Message type not supported")}  # sample-23, a group
    for fate in fates:
        if fate.passed:
            (event,) = fate.events
            original = SAMPLES[fate.index]
            assert event["messageId"] == original["messageId"] and event["receivedAt"] == RECEIVED
            assert event["rudderId"] == rudder_id(str(original.get("userId", "")), str(original.get("anonymousId", "")))
            assert all(MILLI.fullmatch(event[name]) for name in ("receivedAt", "sentAt", "originalTimestamp", "timestamp"))


def test_the_pipeline_leaves_its_input_alone_and_repeats_with_a_seed() -> None:
    events = copy.deepcopy(SAMPLES) + [{"type": "track", "userId": "u"}]
    before = copy.deepcopy(events)
    first = run_pipeline(events, {}, received_at=RECEIVED, seed=3)
    assert events == before
    second = run_pipeline(events, {}, received_at=RECEIVED, seed=3)
    assert [f.events if f.passed else f for f in first] == [f.events if f.passed else f for f in second]
    new_id = first[-1].events[0]["messageId"]
    assert uuid.UUID(new_id).version == 4


def test_the_router_job_of_formats_md_running_example() -> None:
    event = {"type": "track", "event": "Order Completed", "userId": "u-1", "anonymousId": "a-1", "messageId": "m-1",
             "originalTimestamp": "2026-01-05T10:00:00.000Z", "sentAt": "2026-01-05T10:00:05.000Z",
             "properties": {"total": 42.5}, "context": {"library": {"name": "analytics-js", "version": "3.0.0"}}}
    fate = _only(run_pipeline([event], PipelineConfig(request_ip="203.0.113.7"), received_at=RECEIVED))
    assert fate.events[0] == {**event, "receivedAt": RECEIVED, "request_ip": "203.0.113.7",
                              "rudderId": "a83e8f69-6c0b-45b9-868e-e800599ad9a4",
                              "timestamp": "2026-01-05T10:00:02.123Z"}


# --- the time rule -------------------------------------------------------------------------------------

instants = st.integers(0, 4_000_000_000 * 10**9).map(GoTime)
offsets = st.sampled_from([0, 3600, -4 * 3600, 5 * 3600 + 1800])


@FAST
@given(received=instants, original=instants, sent=instants, offset=offsets, timestamp=st.none() | instants)
def test_timestamp_is_kept_or_is_received_minus_the_clock_skew(received, original, sent, offset, timestamp) -> None:
    received = GoTime(received.ns // 10**6 * 10**6)  # the batch receivedAt went through a millisecond string
    event = {"originalTimestamp": GoTime(original.ns, offset).format_milli(), "sentAt": sent.format_milli()}
    if timestamp is not None:
        event["timestamp"] = timestamp.format_milli()
    fields = time_fields(event, received)
    assert fields["receivedAt"] == received.format_milli()
    assert fields["originalTimestamp"] == event["originalTimestamp"] and fields["sentAt"] == event["sentAt"]
    if timestamp is not None:
        assert fields["timestamp"] == timestamp.format_milli()
    else:
        original_ms, sent_ms = (parse_any(event[k]).ns for k in ("originalTimestamp", "sentAt"))
        assert fields["timestamp"] == GoTime(received.ns - (sent_ms - original_ms)).format_milli()
    assert all(MILLI.fullmatch(v) for v in fields.values())


@FAST
@given(value=json_values, received=instants)
def test_a_time_field_that_is_not_a_parsable_string_falls_back_to_received_at(value, received) -> None:
    assume(not (isinstance(value, str) and parse_any(value) is not None))
    fields = time_fields({"originalTimestamp": value, "sentAt": value, "timestamp": value}, received)
    assert set(fields.values()) == {received.format_milli()}


@FAST
@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                           timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)),
                                                      timezone(timedelta(hours=-7))])))
def test_iso_times_are_written_to_the_millisecond_in_their_own_offset(moment) -> None:
    text = moment.isoformat()
    parsed = parse_any(text)
    assert parsed is not None
    written = parsed.format_milli()
    offset = moment.utcoffset()
    m = moment
    assert written.startswith(f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
                              f"{m.microsecond // 1000:03d}")
    assert written.endswith("Z" if not offset else moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:])


def test_zone_less_strings_are_utc_and_epoch_digits_are_read_by_length() -> None:
    assert parse_any("2000-01-02T01:23:45").format_milli() == "2000-01-02T01:23:45.000Z"
    assert parse_any("2000-01-02 01:23").format_milli() == "2000-01-02T01:23:00.000Z"
    assert parse_any("1332151919").format_milli() == "2012-03-19T10:11:59.000Z"
    assert parse_any("1332151919000").format_milli() == "2012-03-19T10:11:59.000Z"
    assert parse_any("20140601").format_milli() == "2014-06-01T00:00:00.000Z"
    assert parse_any("2024-01-01T01:01:01.999999999+05:30").format_milli() == "2024-01-01T01:01:01.999+05:30"
    for unparsable in ("", "malformed timestamp", "2014-02-30", "12345", " 2024-01-01", "2024-01-01T25:00:00Z"):
        assert parse_any(unparsable) is None


# --- the integrations object ---------------------------------------------------------------------------

@FAST
@given(integrations=st.dictionaries(st.text(max_size=10), json_values, max_size=4), extra=json_values,
       key=st.text(max_size=10))
def test_only_all_and_the_display_name_decide(integrations, extra, key) -> None:
    assume(key not in ("All", "Iterable"))
    event = {"integrations": integrations}
    assert allows_iterable(event) == allows_iterable({"integrations": {**integrations, key: extra}})


@FAST
@given(all_value=json_values, option=json_values)
def test_the_integrations_rules(all_value, option) -> None:
    event = {"integrations": {"All": all_value, "Iterable": option}}
    if not isinstance(all_value, bool):
        assert not allows_iterable(event)
    elif isinstance(option, bool):
        assert allows_iterable(event) is option
    elif isinstance(option, dict):
        assert allows_iterable(event)
    else:
        assert allows_iterable(event) is all_value
    assert allows_iterable({"integrations": {"iterable": False}})  # case-sensitive: not the display name
    assert allows_iterable({}) and not allows_iterable({"integrations": None}) and not allows_iterable({"integrations": []})


def test_a_stop_by_the_integrations_object_is_a_destination_filter_298() -> None:
    fate = _only(run_pipeline([{"type": "track", "userId": "u", "integrations": {"All": False, "Braze": True}}],
                              received_at=RECEIVED))
    assert (fate.step, fate.status, fate.state, fate.text) == ("destination_filter", 298, "filtered", "")
    assert "integrations" in fate.reason


# --- consent -------------------------------------------------------------------------------------------

ids = st.sampled_from(["C1", "C2", "C3", "C4", ""])
providers = st.sampled_from(["", "oneTrust", "ketch", "custom", "other"])
configs = st.fixed_dictionaries({}, optional={
    "oneTrustCookieCategories": st.lists(st.fixed_dictionaries({"oneTrustCookieCategory": ids}), max_size=3),
    "ketchConsentPurposes": st.lists(st.fixed_dictionaries({"purpose": ids}), max_size=3),
    "consentManagement": st.lists(st.fixed_dictionaries(
        {"provider": providers, "consents": st.lists(st.fixed_dictionaries({"consent": ids}), max_size=3)},
        optional={"resolutionStrategy": st.sampled_from(["and", "or", ""])}), max_size=2),
})


def _consent_event(denied, provider, strategy):
    return {"context": {"consentManagement": {"deniedConsentIds": denied, "provider": provider,
                                              "resolutionStrategy": strategy}}}


@FAST
@given(config=configs, provider=providers, strategy=st.sampled_from(["and", "or", ""]))
def test_nothing_is_filtered_without_a_denied_consent(config, provider, strategy) -> None:
    assert consent_allows(_consent_event([], provider, strategy), config)
    assert consent_allows(_consent_event(["", ""], provider, strategy), config)
    assert consent_allows({"context": {"consentManagement": {"deniedConsentIds": "C1"}}}, config)  # does not decode
    assert consent_allows({}, config)


@FAST
@given(config=configs, provider=providers, strategy=st.sampled_from(["and", "or", ""]),
       denied=st.lists(ids, max_size=4), more=st.lists(ids, max_size=3))
def test_denying_more_never_lets_more_through(config, provider, strategy, denied, more) -> None:
    if not consent_allows(_consent_event(denied, provider, strategy), config):
        assert not consent_allows(_consent_event(denied + more, provider, strategy), config)


@FAST
@given(categories=st.lists(st.sampled_from(["C1", "C2", "C3"]), min_size=1, max_size=3),
       denied=st.lists(st.sampled_from(["C1", "C2", "C3", "C4"]), min_size=1, max_size=4))
def test_onetrust_drops_on_any_denied_category_and_ketch_on_all(categories, denied) -> None:
    onetrust = {"oneTrustCookieCategories": [{"oneTrustCookieCategory": c} for c in categories]}
    ketch = {"ketchConsentPurposes": [{"purpose": c} for c in categories]}
    event = _consent_event(denied, "", "")
    assert consent_allows(event, onetrust) is not any(c in denied for c in categories)
    assert consent_allows(event, ketch) is not all(c in denied for c in categories)


def test_a_consent_stop_names_its_rule() -> None:
    config = {"consentManagement": [{"provider": "custom", "resolutionStrategy": "or",
                                     "consents": [{"consent": "C1"}, {"consent": "C2"}]}]}
    kept = {"type": "track", "userId": "u", **_consent_event(["C1"], "custom", "and")}
    dropped = {"type": "track", "userId": "u", **_consent_event(["C1", "C2"], "custom", "and")}
    first, second = run_pipeline([kept, dropped], config, received_at=RECEIVED)
    assert first.passed and not second.passed
    assert (second.step, second.status) == ("destination_filter", 298) and "'or'" in second.reason


# --- message types -------------------------------------------------------------------------------------

ITERABLE = PipelineConfig().destination()


@FAST
@given(kind=st.sampled_from(ITERABLE_SUPPORTED_MESSAGE_TYPES), left=st.text(" \t\n", max_size=2),
       right=st.text(" \t\n", max_size=2), upper=st.lists(st.booleans(), min_size=8, max_size=8))
def test_a_supported_type_passes_in_any_letter_case_and_padding(kind, left, right, upper) -> None:
    written = left + "".join(c.upper() if u else c for c, u in zip(kind, upper + [False] * 8, strict=False)) + right
    event = {"type": written}
    assert filter_event(event, ITERABLE) is None
    assert event == {"type": written}  # the type is compared, not rewritten


@FAST
@given(kind=st.text(max_size=10))
def test_other_types_are_filtered_298_and_empty_ones_aborted_400(kind) -> None:
    normal = kind.strip(" \t\n\r\v\f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                        "\u200a\u2028\u2029\u202f\u205f\u3000").lower()
    assume(normal not in ITERABLE_SUPPORTED_MESSAGE_TYPES)
    response = filter_event({"type": kind}, ITERABLE)
    if normal == "":
        assert (response.status, response.error) == (400, "Invalid message type. Type assertion failed")
    else:
        assert (response.status, response.error) == (298, "Message type not supported")


@pytest.mark.parametrize("kind", [None, 1, True, [], {}])
def test_a_type_that_is_not_a_string_is_aborted_400(kind) -> None:
    event = {"userId": "u"} if kind is None else {"userId": "u", "type": kind}
    fate = _only(run_pipeline([event], received_at=RECEIVED))
    assert (fate.step, fate.status, fate.state, fate.text) == ("event_filter", 400, "aborted",
                                                               "Invalid message type. Type assertion failed")


def test_server_side_identify_off_filters_identify_and_transform_at_none_filters_nothing() -> None:
    identify = [{"type": "identify", "userId": "u"}]
    assert _only(run_pipeline(identify, {"enableServerSideIdentify": False}, received_at=RECEIVED)).status == 298
    assert _only(run_pipeline(identify, {"enableServerSideIdentify": "false"}, received_at=RECEIVED)).passed
    group = [{"type": "group", "userId": "u"}]
    assert _only(run_pipeline(group, PipelineConfig(transform_at="none"), received_at=RECEIVED)).passed
    assert _only(run_pipeline(group, PipelineConfig(supported_message_types=None), received_at=RECEIVED)).passed


def test_list_of_conversions_is_applied_when_the_config_has_one() -> None:
    config = {"listOfConversions": [{"conversions": "Signed Up"}]}
    events = [{"type": "track", "userId": "u", "event": "Signed Up"}, {"type": "track", "userId": "u", "event": "Other"},
              {"type": "track", "userId": "u"}]
    fates = run_pipeline(events, config, received_at=RECEIVED)
    assert [f.passed for f in fates] == [True, False, False]
    assert (fates[1].status, fates[1].text) == (298, "Event not supported")
    assert (fates[2].status, fates[2].text) == (400, "Invalid message event. Type assertion failed")


# --- the gateway ---------------------------------------------------------------------------------------

identifiers = st.none() | st.text(max_size=6) | st.integers(-99, 99) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)


@FAST
@given(user=identifiers, anonymous=identifiers, message_id=st.none() | st.text(max_size=6) | st.integers())
def test_rudder_id_depends_on_the_identifiers_only_and_message_ids_are_kept_or_new(user, anonymous, message_id) -> None:
    event = {"type": "track"}
    for key, value in (("userId", user), ("anonymousId", anonymous), ("messageId", message_id)):
        if value is not None:
            event[key] = value
    first = _only(run_pipeline([event], PipelineConfig(allow_events_without_ids=True), received_at=RECEIVED, seed=1))
    other = _only(run_pipeline([{**event, "properties": {"x": 1}}], PipelineConfig(allow_events_without_ids=True),
                               received_at="2027-01-01T00:00:00Z", seed=2))
    assert first.passed and other.passed
    assert first.events[0]["rudderId"] == other.events[0]["rudderId"]
    kept = message_id.strip() if isinstance(message_id, str) else ""
    if kept and kept.isprintable():
        assert first.events[0]["messageId"] == kept
    elif not isinstance(message_id, str) or not message_id.strip():
        assert uuid.UUID(first.events[0]["messageId"]).version == 4


def test_received_at_and_request_ip_the_event_brings() -> None:
    events = [{"type": "track", "userId": "a", "receivedAt": "2020-01-01T00:00:00.000Z", "request_ip": "10.0.0.9"},
              {"type": "track", "userId": "b"}]
    alone = run_pipeline(events, PipelineConfig(request_ip="203.0.113.7"), received_at=RECEIVED)
    # The processor overwrites receivedAt with the gateway's time and request_ip with the request's.
    assert [f.events[0]["receivedAt"] for f in alone] == [RECEIVED, RECEIVED]
    assert [f.events[0]["request_ip"] for f in alone] == ["10.0.0.9", "203.0.113.7"]
    together = run_pipeline(events, PipelineConfig(request_ip="203.0.113.7", one_request=True), received_at=RECEIVED)
    assert [f.events[0]["request_ip"] for f in together] == ["10.0.0.9", "10.0.0.9"]  # the request's IP after the batch
    rejected = run_pipeline(events + [{"type": "track"}], PipelineConfig(one_request=True), received_at=RECEIVED)
    assert {(f.step, f.status) for f in rejected} == {("gateway", 400)}


def test_archived_events_keep_what_the_gateway_set() -> None:
    archived = {"type": "track", "userId": "u", "messageId": "m-9", "rudderId": "r-9", "request_ip": "198.51.100.4",
                "receivedAt": "2025-03-01T08:00:00.250Z", "sentAt": "2025-03-01T08:00:00.000Z",
                "originalTimestamp": "2025-03-01T07:59:59.000Z"}
    fate = _only(run_pipeline([archived], already_through_gateway=True, received_at=RECEIVED))
    assert fate.events[0] == {**archived, "timestamp": "2025-03-01T07:59:59.250Z"}


def test_suppressed_users_are_skipped_with_200() -> None:
    fates = run_pipeline([{"type": "track", "userId": " gone "}, {"type": "track", "userId": "kept"}],
                         PipelineConfig(suppressed_user_ids={"gone"}), received_at=RECEIVED)
    assert (fates[0].step, fates[0].status, fates[0].state, fates[0].text) == ("gateway", 200, "suppressed", "ok")
    assert fates[1].passed


def test_read_request_splits_a_batch_and_wraps_a_single_event() -> None:
    answer = read_request(b'{"batch":[{"userId":"u","type":"identify"},{"anonymousId":"a","type":"track"}]}')
    assert answer.status == 200 and [job.event["type"] for job in answer.jobs] == ["identify", "track"]
    single = read_request(b'{"userId":"u","type":"identify"}', endpoint="track")
    assert single.jobs[0].event["type"] == "track"  # the route decides the type
    assert read_request(b'{"batch":{"userId":"u"}}').status == 200  # gjson reads a non-array batch as one element
    assert read_request(b'5', endpoint="track").text == "request neither has anonymousId nor userId"
    assert read_request(b'{"batch":[]}', endpoint="import").status == 200  # no user group: nothing to answer


# --- the user transformation ---------------------------------------------------------------------------

def _with(transform):
    return PipelineConfig(user_transformation=transform, destination_id="d-1", source_id="s-1")


def test_a_user_transformation_can_change_drop_fan_out_or_fail() -> None:
    seen = []

    def transform(event, metadata):
        seen.append(metadata(event))
        name = event.get("event")
        if name == "drop":
            return None
        if name == "fail":
            raise ValueError("boom")
        if name == "fan":
            return [{**event, "event": "one"}, {**event, "type": "group"}, {**event, "event": "two"}]
        if name == "none of them":
            return [{**event, "type": "group"}, {**event, "type": ""}]
        if name == "text":
            return "not an event"
        if name == "bad list":
            return [event, 1]
        return {**event, "properties": {"changed": True}}

    names = ["keep", "drop", "fail", "fan", "none of them", "text", "bad list"]
    fates = run_pipeline([{"type": "track", "userId": "u", "event": n, "messageId": n} for n in names],
                         _with(transform), received_at=RECEIVED)
    keep, drop, fail, fan, none, text, bad = fates
    assert keep.events[0]["properties"] == {"changed": True}
    assert (drop.step, drop.status, drop.state, drop.text) == ("user_transformer", 298, "filtered", "")
    assert (fail.step, fail.status, fail.state, fail.text) == ("user_transformer", 400, "aborted", "ValueError: boom")
    assert [e["event"] for e in fan.events] == ["one", "two"]
    assert [(s.step, s.status, s.output) for s in fan.stopped] == [("event_filter", 298, 1)]
    assert (none.step, none.status, none.output) == ("event_filter", 298, 0)
    assert [(s.status, s.output) for s in none.more] == [(400, 1)]
    assert text.text == "returned event from transformEvent(event) is not an object"
    assert bad.text == "returned event in events array from transformEvent(event) is not an object"
    assert seen[0]["messageId"] == "keep" and seen[0]["destinationType"] == "ITERABLE"
    assert seen[0]["receivedAt"] == RECEIVED and seen[0]["sourceId"] == "s-1"


def test_the_user_transformation_sees_the_time_fields_and_cannot_touch_the_input() -> None:
    def transform(event, metadata):
        event["properties"]["mutated"] = True
        assert event["timestamp"] == event["receivedAt"] == RECEIVED
        return event

    events = [{"type": "track", "userId": "u", "properties": {}}]
    run_pipeline(events, _with(transform), received_at=RECEIVED)
    assert events == [{"type": "track", "userId": "u", "properties": {}}]


# --- the wiring function and arguments -----------------------------------------------------------------

def test_events_for_transformer_gives_indexes_and_stopped_fates() -> None:
    def transform(event, metadata):
        return [event, {**event, "event": "copy"}] if event.get("event") == "twice" else event

    events = [{"type": "track", "userId": "u", "event": "twice"}, {"type": "group", "userId": "u"},
              {"type": "identify", "userId": "v"}]
    result = events_for_transformer(events, _with(transform), received_at=RECEIVED)
    assert [(i, e.get("event")) for i, e in result.events] == [(0, "twice"), (0, "copy"), (2, None)]
    assert list(result.stopped) == [1] and isinstance(result.stopped[1], Stopped)
    assert all(isinstance(f, (Passed, Stopped)) for f in result.fates)


def test_settings_and_whole_destinations_are_read_for_their_config() -> None:
    settings_ = its.Settings.from_rudder({"apiKey": "k", "oneTrustCookieCategories": [{"oneTrustCookieCategory": "C1"}]})
    event = [{"type": "track", "userId": "u", **_consent_event(["C1"], "", "")}]
    assert not _only(run_pipeline(event, settings_, received_at=RECEIVED)).passed
    destination = {"id": "d", "config": {"oneTrustCookieCategories": [{"oneTrustCookieCategory": "C1"}]}}
    assert not _only(run_pipeline(event, destination, received_at=RECEIVED)).passed
    assert _only(run_pipeline(event, its.Settings(api_key="k"), received_at=RECEIVED)).passed


@pytest.mark.parametrize("call, error", [  # wrong types on purpose
    (lambda: run_pipeline({"type": "track"}), PipelineTypeError),
    (lambda: run_pipeline("events"), PipelineTypeError),
    (lambda: run_pipeline(5), PipelineTypeError),  # type: ignore[arg-type]
    (lambda: run_pipeline([], 5), PipelineTypeError),
    (lambda: run_pipeline([], received_at="yesterday"), PipelineError),
    (lambda: run_pipeline([], received_at=[]), PipelineTypeError),
    (lambda: run_pipeline([], seed="1"), PipelineTypeError),  # type: ignore[arg-type]
    (lambda: PipelineConfig(transform_at="later"), PipelineError),
    (lambda: PipelineConfig(user_transformation="code"), PipelineTypeError),  # type: ignore[arg-type]
    (lambda: PipelineConfig(destination_config=[]), PipelineTypeError),  # type: ignore[arg-type]
    (lambda: PipelineConfig(supported_message_types="track"), PipelineTypeError),  # type: ignore[arg-type]
])
def test_bad_arguments_raise_iterable_sim_errors(call, error) -> None:
    with pytest.raises(error) as raised:
        call()
    assert isinstance(raised.value, IterableSimError)
    assert isinstance(raised.value, TypeError if error is PipelineTypeError else ValueError)


def test_received_at_is_taken_from_a_clock_datetime_or_seconds() -> None:
    event = [{"type": "track", "userId": "u"}]
    clock = its.ManualClock(start=1_767_607_207.123)
    by_clock = _only(run_pipeline(event, clock=clock)).events[0]["receivedAt"]
    by_datetime = _only(run_pipeline(event, received_at=datetime(2026, 1, 5, 10, 0, 7, 123000, tzinfo=timezone.utc))).events[0]["receivedAt"]
    by_seconds = _only(run_pipeline(event, received_at=1_767_607_207.123)).events[0]["receivedAt"]
    assert by_clock == by_datetime == by_seconds == RECEIVED


def test_the_wing_imports_only_the_ground_floor_of_iterable_sim() -> None:
    import ast
    from pathlib import Path

    import iterable_sim.pipeline as wing
    allowed = {"iterable_sim.exceptions", "iterable_sim.clock", "iterable_sim.hosts", "iterable_sim.redact",
               "iterable_sim.version", "iterable_sim.limits", "iterable_sim.collector"}
    for path in Path(wing.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            modules = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                       [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for module in modules:
                if module.startswith("iterable_sim"):
                    assert module.startswith("iterable_sim.pipeline") or module in allowed, (path.name, module)
                assert module.split(".")[0] not in ("pandas", "httpx", "orjson"), (path.name, module)


# --- the request size limit ---------------------------------------------------------------------------

# Strings of the characters Go writes longest ("<" as \u003c, lone surrogates), numbers Go writes without an
# exponent (1e20 as 21 digits), next to plain ones.
wide_text = st.text(st.sampled_from("a<>&\u2028\x01é😀\ud800"), max_size=12)
wide_numbers = st.sampled_from([1e20, 1e-06, 5e-06, 1.5e20, 2**60, -0.0, 1e21, 123456789012345678901])
wide_values = st.recursive(wide_text | wide_numbers | json_scalars,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(wide_text, inner, max_size=4),
                           max_leaves=30)


@FAST
@given(batch=st.lists(st.dictionaries(wide_text, wide_values, max_size=4), min_size=1, max_size=3),
       slack=st.integers(-40, 40))
def test_the_size_is_exact_whenever_the_body_may_be_over_the_limit(batch, slack) -> None:
    exact = len(go_json({"batch": batch}).encode("utf-8", "surrogatepass"))
    limit = max(exact + slack, 0)
    size = size_for_limit(batch, limit)
    assert size in (0, exact)
    assert (size > limit) == (exact > limit)


def test_an_event_over_4_mb_is_refused_413_and_one_under_it_passes() -> None:
    limit = GatewayOptions().max_request_bytes
    properties = {"text": ""}
    event = {"type": "track", "event": "Big", "anonymousId": "a", "properties": properties}
    wrapper = len(go_json({"batch": [event]}).encode())
    for padding, outcome in ((limit - wrapper, Passed), (limit - wrapper + 1, Stopped)):
        properties["text"] = "x" * padding
        fate = _only(run_pipeline([event], received_at=RECEIVED))
        assert isinstance(fate, outcome)
    assert (fate.status, fate.text) == (413, "request size exceeds max limit")
    properties["text"] = "<" * ((limit - wrapper) // 6 + 1)  # 1/6 of the bytes as Go writes them
    assert _only(run_pipeline([event], received_at=RECEIVED)).status == 413
