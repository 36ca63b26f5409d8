"""Property tests: whatever the event, map_event gives requests or a MappingError, never anything else."""
import json
import math

from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from iterable_sim import MappingError, Request, Settings, map_event

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**22, 10**22), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.sampled_from(["", "0", "19.99", "$5", "abc", "2020-01-01T00:00:00.000Z",
                                                           "a@b.co", "ITERABLE-users", "ITERABLE-shoes"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["email", "id", "userId", "name", "category", "price", "quantity", "product_id", "token",
                     "type", "total", "products", "x"]) | st.text(max_size=5), inner, max_size=4), max_leaves=12)
keys = st.sampled_from(["type", "event", "userId", "anonymousId", "previousId", "name", "category", "traits",
                        "properties", "context", "originalTimestamp", "timestamp"])
types = st.sampled_from(["identify", "track", "page", "screen", "alias", "group", "IDENTIFY", "Track", "", None, 3])
events = st.builds(
    lambda base, kind, event, context: {**base, "type": kind, "event": event, "context": context},
    st.dictionaries(keys, json_values, max_size=6), types,
    st.one_of(json_values, st.sampled_from(["Order Completed", "product added", "Product Removed"])),
    st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "traits": json_values, "device": json_values, "os": json_values, "mappedToDestination": json_values,
        "externalId": json_values})))
rudder_settings = st.builds(
    lambda cfg: Settings.from_rudder(cfg),
    st.fixed_dictionaries({}, optional={k: st.one_of(st.booleans(), st.none(), st.sampled_from(["true", "", "x"]))
                                        for k in ("preferUserId", "mergeNestedObjects", "mapToSingleEvent",
                                                  "trackAllPages", "trackCategorisedPages", "trackNamedPages")}
                           | {"apiKey": st.just("k"), "registerDeviceOrBrowserApiKey": st.sampled_from(["", "dk"]),
                              "dataCenter": st.sampled_from(["USDC", "EUDC", "eu"])}))


def _finite(value):
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


@hyp_settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(events, rudder_settings)
def test_map_event_gives_requests_or_a_mapping_error(message, settings):
    try:
        requests = map_event(message, settings)
    except MappingError as err:
        assert str(err) and err.status in (400, 500)
        return
    assert 1 <= len(requests) <= 2
    for request in requests:
        assert isinstance(request, Request) and request.method == "POST"
        assert request.url.startswith(settings.base_url)
        assert isinstance(request.json, dict) and _finite(request.json)
        json.loads(request.body_bytes())  # valid JSON, always


@hyp_settings(max_examples=300, deadline=None)
@given(events, rudder_settings)
def test_mapping_is_deterministic_and_leaves_the_event_alone(message, settings):
    before = repr(message)
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append([(r.url, r.json) for r in map_event(message, settings)])
        except MappingError as err:
            outcomes.append(str(err))
    assert outcomes[0] == outcomes[1]
    assert repr(message) == before
