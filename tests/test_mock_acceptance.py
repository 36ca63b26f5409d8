"""What RudderStack sends for the sample events meets the mock Iterable as it would meet Iterable."""
import pytest

import iterable_sim as its
from iterable_sim.samples import sample_events

KEYS = {"apiKey": "demo-api-key", "registerDeviceOrBrowserApiKey": "demo-device-key"}
# sample index -> (endpoint, Iterable's status and code) for the samples Iterable refuses
REFUSED = {
    7: ("events/track", 400, "InvalidEmailAddressError"),   # "not-an-email"
    8: ("events/track", 400, "BadJsonBody"),                # no eventName
    16: ("commerce/trackPurchase", 400, "BadJsonBody"),     # price "$19" became null
    23: ("catalogs/products/items", 400, "BadJsonBody"),    # a catalog update is only sendable batched
}


@pytest.mark.parametrize("config", [
    {"trackAllPages": True}, {"trackAllPages": False, "trackNamedPages": True}, {"trackAllPages": True,
     "mapToSingleEvent": True}, {"trackAllPages": True, "preferUserId": False, "mergeNestedObjects": False},
    {"trackAllPages": True, "dataCenter": "EUDC"},
])
def test_sample_requests_are_accepted_or_refused_as_iterable_would(config):
    mock = its.MockIterable(rate_limits=False)
    mock.add_api_key(KEYS["apiKey"])
    mock.add_api_key(KEYS["registerDeviceOrBrowserApiKey"])
    for center in ("US", "EU"):
        mock.create_catalog("products", data_center=center)
    results = its.map_events(sample_events(), its.Settings.from_rudder({**KEYS, **config}))
    answers = {}
    for result in results:
        for request in result.requests:
            response = mock.handle(request.method, request.url, dict(request.headers), request.body_bytes())
            answers.setdefault(result.index, []).append((request.endpoint, response))
    for index, calls in answers.items():
        for endpoint, response in calls:
            if index in REFUSED and endpoint == REFUSED[index][0]:
                assert (response.status, response.json()["code"]) == REFUSED[index][1:], (index, response.body)
            else:
                assert 200 <= response.status < 300, (index, endpoint, response.body)
    # state: the identified users, their device, cart and purchase are there
    users = mock.users_frame()
    assert {"alex.keener@example.com", "kim@example.com", "lee@example.com"} <= set(users["email"])
    assert sorted(mock.devices_frame()["platform"]) == ["APNS", "GCM", "browser"]
