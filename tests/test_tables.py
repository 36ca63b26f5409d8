from iterable_sim import Settings, explain, map_events, mapping_table
from iterable_sim.samples import sample_descriptions, sample_events

SETTINGS = Settings(api_key="k", register_device_or_browser_api_key="dk")


def test_mapping_table_lists_every_field_with_its_sources():
    table = mapping_table()
    assert {"event", "endpoint", "field", "sources", "required", "conversion", "note"} <= set(table.columns)
    user_id = table[(table.endpoint == "events/track") & (table.field == "userId")].iloc[0]
    assert user_id.sources.split(" → ")[0] == "userId" and user_id.sources.endswith("anonymousId")
    price = table[(table.field == "price")].iloc[0]
    assert bool(price.required) and "parseFloat" in price.conversion


def test_mapping_table_names_the_rudderstack_rule_each_field_follows():
    table = mapping_table()
    assert table.origin.str.len().gt(0).all() and table["built by"].str.len().gt(0).all()
    purchase_id = table[(table.endpoint == "commerce/trackPurchase") & (table.field == "id")].iloc[0]
    assert purchase_id.origin.startswith("IterableTrackPurchaseConfig.json id")
    assert purchase_id.sources == "properties.order_id → properties.orderId → properties.event_id"
    created_at = table[(table.endpoint == "events/track") & (table.field == "createdAt")]
    assert all("sourceFromGenericMap" in origin for origin in created_at.origin)


def test_explain_says_which_source_filled_each_field():
    frame = explain({"type": "track", "event": "Clicked", "anonymousId": "anon-1", "originalTimestamp":
                     "2020-01-01T00:00:00.000Z", "context": {"traits": {"email": "a@b.co"}}}, SETTINGS)
    rows = {r.field: r for r in frame.itertuples()}
    assert rows["email"].source == "context.traits.email"
    assert rows["userId"].source == "anonymousId" and rows["userId"].value == "anon-1"
    assert rows["createdAt"].source == "originalTimestamp" and rows["createdAt"].value == 1577836800000
    assert "id" not in rows


def test_explain_covers_items_and_device_registration():
    purchase = explain({"type": "track", "event": "Order Completed", "userId": "u", "properties": {
        "total": 3, "products": [{"product_id": "p", "name": "n", "price": "3", "quantity": 1}]}}, SETTINGS)
    item = purchase[purchase.field == "items[0].price"].iloc[0]
    assert item.source == "properties.products.0.price" and item.value == 3
    device = explain({"type": "identify", "userId": "u", "context": {"device": {"token": "t", "type": "ios"}}}, SETTINGS)
    token = device[device.field == "device.token"].iloc[0]
    assert token.endpoint == "users/registerDeviceToken" and token.source == "context.device.token"


def test_map_events_gives_every_event_an_outcome():
    events = sample_events()
    results = map_events(events, SETTINGS)
    assert len(results) == len(events) == len(sample_descriptions())
    failed = {r.index for r in results.errors} | {r.index for r in results.filtered}
    assert all((r.index in failed) != bool(r.requests) for r in results)
    requests = results.requests_frame()
    errors = results.errors_frame()
    filtered = results.filtered_frame()
    assert set(requests.event) | set(errors.event) | set(filtered.event) == set(range(len(events)))
    assert filtered[["type", "step", "status"]].values.tolist() == [["group", "event_filter", 298]]
    assert {"users/update", "users/registerDeviceToken", "users/registerBrowserToken", "events/track",
            "commerce/trackPurchase", "commerce/updateCart", "users/updateEmail"} <= set(requests.endpoint)
    assert "request neither has anonymousId nor userId" in set(errors.error)  # refused by rudder-server's gateway
    # dataFields are flattened into columns
    assert "dataFields.preferences.newsletter" in requests.columns


def test_frames_carry_the_settings_warnings():
    results = map_events(sample_events(), Settings.from_rudder({"dataCenter": "eu", "trackAllPages": True}))
    assert any("neither 'USDC' nor 'EUDC'" in w for w in results.requests_frame().attrs["warnings"])


def test_pages_dropped_by_settings_show_up_as_errors():
    named_only = Settings(track_all_pages=False, track_named_pages=True)
    errors = map_events(sample_events(), named_only).errors_frame()
    assert {"Invalid page call", "Invalid screen call"} <= set(errors.error)
