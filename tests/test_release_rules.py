"""The mapping and the router of each known rudder-transformer release (Settings.rudderstack), on small
fixtures of our own: they run everywhere, no ../shared or node needed (tests/test_release_oracles.py
compares with RudderStack's code of each release where it is present)."""
from __future__ import annotations

import httpx
import pytest

import iterable_sim as its
from iterable_sim.mapping.releases import RULES, RULES_BY_NAME
from iterable_sim.mapping.request import endpoint_path

US, EU = "https://api.iterable.com/api/", "https://api.eu.iterable.com/api/"


def settings(release: str, **config) -> its.Settings:
    return its.Settings.from_rudder({"apiKey": "KEY", "trackAllPages": True, **config}, rudder_server=False,
                                    rudderstack=release)


def track(user: str = "u1", event: str = "Signed Up", **properties) -> dict:
    return {"type": "track", "event": event, "userId": user, "properties": properties,
            "timestamp": "2024-06-01T12:00:00.000Z"}


def identify(user: str = "u1", **context) -> dict:
    return {"type": "identify", "userId": user, "traits": {"email": f"{user}@example.com"}, "context": context}


def endpoints(batches) -> list[tuple[str, list]]:
    return [(b.requests[0].endpoint if b.requests else f"error {b.status}", list(b.job_ids)) for b in batches]


def test_every_rule_names_its_release_and_commit():
    for rule in RULES:
        assert rule.since.startswith("v1.") and len(rule.commit) == 9, rule
    assert {"eu_data_center", "token_registration", "token_md5_log", "track_bulk_chunks", "type_grouping_rewrite",
            "config_grouping", "endpoint_path", "no_type_grouping", "external_id_guard"} <= set(RULES_BY_NAME)


# ---------------------------------------------------------------- processor


def test_v1_106_1_sets_no_endpoint_path_and_latest_does():
    request = its.map_event(track(), settings("latest"))[0]
    assert endpoint_path(request, "latest") == "events/track"
    assert endpoint_path(request, "v1.106.1") is None
    assert endpoint_path(request, "v1.132.1") == "events/track"
    catalog = its.Request("POST", US + "catalogs/shoes/items", {}, {})
    assert endpoint_path(catalog) == "catalogs"


def test_v1_84_0_sends_eudc_traffic_to_the_us_host_and_says_so():
    old, new = settings("v1.84.0", dataCenter="EUDC"), settings("v1.88.2", dataCenter="EUDC")
    assert its.map_event(track(), old)[0].url == US + "events/track"
    assert its.map_event(track(), new)[0].url == EU + "events/track"
    assert any("no EU data center" in w for w in old.warnings)
    assert not any("no EU data center" in w for w in new.warnings)
    assert not any("no EU data center" in w for w in settings("v1.84.0").warnings)  # USDC: nothing to say
    batches = its.route([(1, identify(), old), (2, track(), old)])
    assert [r.url for b in batches for r in b.requests] == [US + "users/bulkUpdate", US + "events/trackBulk"]


@pytest.mark.parametrize(("release", "host"), [("v1.84.0", US), ("v1.88.2", EU), ("latest", EU)])
def test_delete_users_goes_to_the_host_of_the_release(release, host):
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    result = its.delete_users([{"userId": "u1"}], {"apiKey": "KEY", "dataCenter": "EUDC"},
                              transport=httpx.MockTransport(answer), rudderstack=release)
    assert result.status == 200
    assert seen == [host + "users/byUserId/u1"]


@pytest.mark.parametrize(("release", "sent"), [("v1.84.0", True), ("v1.88.2", False), ("v1.96.0", True),
                                               ("latest", True)])
def test_token_registration_is_not_sent_from_v1_85_0_to_v1_88_2(release, sent):
    message = identify(device={"token": "tok", "type": "ios"})
    requests = its.map_event(message, settings(release, registerDeviceOrBrowserApiKey="DEVICE"))
    assert [r.endpoint for r in requests] == ["users/update"] + (["users/registerDeviceToken"] if sent else [])


def test_a_token_that_is_not_a_string_fails_only_from_v1_88_3():
    message = identify(device={"token": 5, "type": "ios"})
    requests = its.map_event(message, settings("v1.84.0", registerDeviceOrBrowserApiKey="DEVICE"))
    assert requests[1].json["device"]["token"] == 5
    with pytest.raises(its.MappingError) as err:
        its.map_event(message, settings("v1.96.0", registerDeviceOrBrowserApiKey="DEVICE"))
    assert err.value.status == 500 and 'The "data" argument must be of type string' in str(err.value)


@pytest.mark.parametrize(("external_id", "error"), [
    ({"type": "ITERABLE-users", "id": "u1", "identifierType": "email"}, "externalIdArray.forEach is not a function"),
    ("ITERABLE-users", "externalIdArray.forEach is not a function"),
    ({}, "externalIdArray.forEach is not a function"),
    ([None], "Cannot destructure property 'type' of 'extIdObj' as it is null."),
    ([{"type": 5, "id": 1}], "type?.includes is not a function"),
])
def test_a_malformed_external_id_crashes_before_v1_133_3(external_id, error):
    message = {**identify(), "context": {"mappedToDestination": True, "externalId": external_id}}
    with pytest.raises(its.MappingError) as err:
        its.map_event(message, settings("v1.132.1"))
    assert (err.value.status, str(err.value)) == (500, error)
    try:
        its.map_event(message, settings("latest"))
    except its.MappingError as latest:
        assert latest.status != 500
    batches = its.route([(1, message, settings("v1.106.1"))])
    assert (batches[0].status, batches[0].error) == (500, error)


def test_a_well_formed_external_id_maps_alike_on_every_release():
    message = {**identify(), "context": {"mappedToDestination": True, "externalId": [
        {"type": "ITERABLE-shoes", "id": "s1", "identifierType": "itemId"}, "x", 3]}}
    expected = its.map_event(message, settings("latest"))
    for release in ("v1.84.0", "v1.132.1"):
        assert its.map_event(message, settings(release)) == expected


# ---------------------------------------------------------------- router


def test_v1_132_1_batches_each_message_type_run_on_its_own():
    old, new = settings("v1.132.1"), settings("latest")
    messages = [identify("a"), track("a"), identify("a"), track("b")]
    latest = its.route([(n, m, new, "d", m["userId"]) for n, m in enumerate(messages, 1)])
    assert endpoints(latest) == [("users/bulkUpdate", [1, 3]), ("events/trackBulk", [2, 4])]
    runs = its.route([(n, m, old, "d", m["userId"]) for n, m in enumerate(messages, 1)])
    assert endpoints(runs) == [("users/bulkUpdate", [1]), ("events/trackBulk", [2, 4]), ("users/bulkUpdate", [3])]
    # without a metadata.userId, every job counts as one user: runs of consecutive types
    assert endpoints(its.route([(n, m, old, "d") for n, m in enumerate(messages, 1)])) == [
        ("users/bulkUpdate", [1]), ("events/trackBulk", [2]), ("users/bulkUpdate", [3]), ("events/trackBulk", [4])]


def test_a_runs_errors_come_after_its_batches():
    old = settings("v1.132.1")
    messages = [track("a"), {"type": "group", "userId": "a"}, identify("b"), track("c")]
    assert endpoints(its.route([(n, m, old, "d", "u") for n, m in enumerate(messages, 1)])) == [
        ("events/trackBulk", [1]), ("error 400", [2]), ("users/bulkUpdate", [3]), ("events/trackBulk", [4])]


@pytest.mark.parametrize("release", ["v1.96.0", "v1.106.1"])
def test_both_type_grouping_algorithms_keep_each_users_order(release):
    old = settings(release)
    messages = [track("a"), identify("a"), track("b"), identify("b"), track("a")]
    batches = its.route([(n, m, old, "d", m["userId"]) for n, m in enumerate(messages, 1)])
    assert endpoints(batches) == [("events/trackBulk", [1, 3]), ("users/bulkUpdate", [2, 4]), ("events/trackBulk", [5])]


def test_the_older_type_grouping_reads_users_as_object_keys():
    """Before v1.103.0 metadata.userId 7 and "7" are one user (an object's key); from v1.103.0 two (a Map's)."""
    messages, users = [track("a"), identify("a"), track("a")], [7, "7", 7]
    jobs = lambda release: [(n, m, settings(release), "d", u) for n, (m, u) in enumerate(zip(messages, users, strict=True), 1)]  # noqa: E731
    assert endpoints(its.route(jobs("v1.96.0"))) == [("events/trackBulk", [1]), ("users/bulkUpdate", [2]),
                                                     ("events/trackBulk", [3])]
    assert endpoints(its.route(jobs("v1.106.1"))) == [("events/trackBulk", [1, 3]), ("users/bulkUpdate", [2])]


def test_v1_96_0_sends_track_bulk_of_8000_events_with_no_size_split():
    jobs_old = [(n, track(f"u{n % 7}"), settings("v1.96.0")) for n in range(8500)]
    old = its.route(jobs_old)
    assert [len(b.job_ids) for b in old] == [8000, 500]
    latest = settings("latest")
    assert [len(b.job_ids) for b in its.route([(n, m, latest) for n, m, _ in jobs_old])] == [1000] * 8 + [500]
    small = [(n, track(blob="x" * 100), settings("v1.96.0")) for n in range(30)]
    assert len(its.route(small, max_bytes=1000)) == 1  # no size split
    assert len(its.route([(n, m, latest) for n, m, _ in small], max_bytes=1000)) > 1
    assert len(its.route([(n, m, settings("v1.106.1")) for n, m, _ in small], max_bytes=1000)) > 1


def test_before_v1_103_0_one_destination_shares_batches_across_configs():
    first, second = settings("v1.96.0", apiKey="K1"), settings("v1.96.0", apiKey="K2", dataCenter="EUDC")
    batches = its.route([(1, track(), first, "d"), (2, track(), second, "d"), (3, track(), second, "other")])
    assert endpoints(batches) == [("events/trackBulk", [1, 2]), ("events/trackBulk", [3])]
    assert batches[0].requests[0].url == US + "events/trackBulk"  # the chunk's first job's
    assert batches[0].requests[0].headers["api_key"] == "K1"
    later = [settings("v1.106.1", apiKey="K1"), settings("v1.106.1", apiKey="K2")]
    assert len(its.route([(1, track(), later[0], "d"), (2, track(), later[1], "d")])) == 2


def test_before_v1_103_0_a_users_request_cut_at_the_size_limit_takes_the_settings_of_the_job_that_passed_it():
    first, second = settings("v1.96.0", apiKey="K1"), settings("v1.96.0", apiKey="K2")
    jobs = [(1, identify("a"), first, "d"), (2, identify("b"), second, "d"), (3, identify("c"), first, "d")]
    batches = its.route(jobs, max_bytes=200)  # each user is about 110 bytes: one per request
    assert [b.job_ids for b in batches] == [[1], [2], [3]]
    # cut when job 2 passed the limit: job 2's key; when job 3 did: job 3's; the last: the chunk's first job's
    assert [b.requests[0].headers["api_key"] for b in batches] == ["K2", "K1", "K1"]
    jobs[2] = (3, identify("c"), second, "d")
    assert [b.requests[0].headers["api_key"] for b in its.route(jobs, max_bytes=200)] == ["K2", "K2", "K1"]


def test_latest_routes_as_before():
    latest = settings("latest")
    messages = [identify("a", device={"token": "t", "type": "ios"}), track("a"), identify("b"), {"type": "x"}]
    batches = its.route([(n, m, latest, "d", "same") for n, m in enumerate(messages, 1)])
    assert endpoints(batches) == [("users/bulkUpdate", [1, 3]), ("events/trackBulk", [2]), ("error 400", [4])]
