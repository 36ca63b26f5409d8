"""Random RudderStack events, destination Configs and router calls that reach every branch of the
Iterable destination (transform.js, util.js, config.js, data/*.json at rudder-transformer c98d160c).

Pure functions of a `random.Random`: the same seed gives the same cases. Ordinary values come often,
odd ones (wrong types, falsy ids, junk dates, keys holding dots) often enough to meet every rule.
"""
from __future__ import annotations

import random
from typing import Any

Case = dict[str, Any]

# Values of every JSON type, falsy and truthy, that any field may take.
ODD = ["", None, 0, 1, -7, 1.5, 0.0, "0", "abc", " 42 ", "12abc", "1e3", True, False, [], {}, [1, "x"],
       {"a": 1}, "ünï ✓", 2**53 + 3, 1e21, -0.5, "Infinity", "0x1A", "  ", "\t9"]
IDS = ["u-1", "user_2", "42", 42, 0, "", None, False, True, 3.25, [], {"id": 1}, ["a", "b"], "ünï"]
EMAILS = ["a@example.com", "B@Example.COM", "", None, 0, "not-an-email", ["x@example.com"], {"e": 1}, False]
DATES = ["2024-06-01T12:00:00.000Z", "2020-08-28T16:26:06.468Z", "2024-06-01T12:00:00Z", "2024-06-01",
         "2024-06-01T12:00:00+02:00", "2024-06-01T12:00", "2024-06-01 12:00:00", "2024-06-01T12:00:00.1234567Z",
         "Sat, 01 Jun 2024 12:00:00 GMT", "+002024-06-01T00:00:00Z", "2024-02-30T00:00:00Z",
         "2024-13-01T00:00:00Z", "not a date", "", None, 0, 1717243200000, 1717243200, -1, 8.64e15 + 1, 1.5,
         True, False, [], {}, "2024", "2024-06", "2024-06-01T12:00:00.000+0530", "2024-06-01t12:00:00z",
         "Sat, 01 Jun 2024 12:00:00 +0200", "-000001-01-01T00:00:00Z", "2024-06-01T24:00:00Z", -8.64e15]
NUMBERS = [1, 0, 19, 19.99, -3, "19", "19.99", "$19", "1,000", "", None, " 7 ", "7abc", "abc", True, False, [], [3],
           {}, 1e21, 2**60, "1e3", ".5", "-.5e2", "Infinity", "-Infinity", "0x10", 0.1 + 0.2, 10**25]
DEVICE_TYPES = ["ios", "IOS", "iOS", "android", "watchos", "ipados", "tvOS", "macos", "web", "", None, 7, ["ios"]]
TOKENS = ["tok-123", "", None, 0, 1, False, {"t": 1}, "abc def"]


def maybe(rng: random.Random, p: float = 0.5) -> bool:
    return rng.random() < p


def pick(rng: random.Random, values: list[Any], common: Any = None, p_common: float = 0.0) -> Any:
    if p_common and maybe(rng, p_common):
        return common
    return rng.choice(values)


def gen_config(rng: random.Random) -> dict[str, Any]:
    """A destination Config: usually sane, sometimes with wrong types, unknown data centers, null keys."""
    config: dict[str, Any] = {}
    if maybe(rng, 0.95):
        config["apiKey"] = pick(rng, ["", None, 123, {"k": 1}], f"key-{rng.randrange(4)}", 0.9)
    if maybe(rng, 0.6):
        config["dataCenter"] = pick(rng, ["USDC", "EUDC", "eudc", "EU", "", None, 1], "EUDC", 0.3)
    if maybe(rng, 0.5):
        config["registerDeviceOrBrowserApiKey"] = pick(rng, ["", None, 0, 77, True], "device-key", 0.7)
    for flag in ("preferUserId", "mergeNestedObjects"):
        if maybe(rng, 0.5):
            config[flag] = pick(rng, [True, False, "true", "false", None, 0, 1, "", []], rng.choice([True, False]), 0.7)
    if maybe(rng, 0.4):
        config["mapToSingleEvent"] = pick(rng, [True, False, "true", 1, None, "yes"], True, 0.5)
    for flag in ("trackAllPages", "trackCategorisedPages", "trackNamedPages"):
        if maybe(rng, 0.6):
            config[flag] = pick(rng, [True, False, "false", "true", 0, 1, None, ""], rng.choice([True, False]), 0.7)
    if maybe(rng, 0.05):
        config["someUnknownSetting"] = pick(rng, ODD)
    return config


def _odd_case(rng: random.Random, word: str) -> str:
    return rng.choice([word, word.upper(), word.capitalize(), "".join(
        c.upper() if maybe(rng) else c for c in word)])


def _traits(rng: random.Random, big: int = 0) -> Any:
    if maybe(rng, 0.05):
        return pick(rng, [None, "traits", 5, [], [{"email": "x@example.com"}], {}])
    traits: dict[str, Any] = {}
    if maybe(rng, 0.6):
        traits["email"] = pick(rng, EMAILS, "a@example.com", 0.7)
    if maybe(rng, 0.15):
        traits["userId"] = pick(rng, IDS)
    if maybe(rng, 0.15):
        traits["id"] = pick(rng, IDS)
    if maybe(rng, 0.15):
        traits["createdAt"] = pick(rng, DATES)
    if maybe(rng, 0.5):
        traits["name"] = pick(rng, ODD, "Ada Lovelace", 0.8)
    if maybe(rng, 0.3):
        traits["address"] = pick(rng, [None, {"city": "Oslo", "zip": {"code": [1, None, {"x": None}]}}, "street 1"])
    if maybe(rng, 0.2):
        traits["plan"] = pick(rng, ODD)
    if maybe(rng, 0.05):
        traits["a.b"] = {"c": 1}
    if big:
        traits["blob"] = "x" * big
    return traits


def _context(rng: random.Random, event_type: str) -> Any:
    if maybe(rng, 0.04):
        return pick(rng, [None, "ctx", 1, []])
    context: dict[str, Any] = {}
    if maybe(rng, 0.5):
        context["traits"] = _traits(rng)
    if event_type == "identify" and maybe(rng, 0.5) or maybe(rng, 0.05):
        device: dict[str, Any] = {}
        if maybe(rng, 0.7):
            device["token"] = pick(rng, TOKENS, "device-token", 0.7)
        if maybe(rng, 0.7):
            device["type"] = pick(rng, DEVICE_TYPES)
        if maybe(rng, 0.4):
            device["name"] = pick(rng, ["MyApp", "", None, 3])
        context["device"] = pick(rng, [None, "dev", []], device, 0.95)
    if event_type == "identify" and maybe(rng, 0.3) or maybe(rng, 0.03):
        context["os"] = pick(rng, [None, {"name": "web"}, "os"], {"token": pick(rng, TOKENS, "browser-token", 0.7)},
                             0.9)
    if maybe(rng, 0.05):
        context["sessionId"] = 5
    return context


def _retl(rng: random.Random, message: dict[str, Any]) -> None:
    """A reverse-ETL identify: context.mappedToDestination and an externalId list (or object)."""
    context = message.setdefault("context", {}) if isinstance(message.get("context"), dict) else {}
    message["context"] = context
    context["mappedToDestination"] = pick(rng, [True, "true", 1, False, "", None, 0], True, 0.8)
    kind = pick(rng, ["ITERABLE-users", "ITERABLE-products", "ITERABLE-catalog_b", "ITERABLE-", "iterable-users",
                      "SALESFORCE-x", "X-ITERABLE-thing", None, 5], None, 0.0)
    entry: Any = {"type": kind, "id": pick(rng, IDS, f"item-{rng.randrange(50)}", 0.7),
                  "identifierType": pick(rng, ["email", "userId", "id", "a.b", "", None, 3, "traits", "0", " 5 ", "1e3",
                                                   "a/b.c", "a\\.b", "a.0.b", "a.", ["p", "q"], {"o": 1},
                                                   "__proto__", "x.constructor"], "email", 0.5)}
    shape = rng.random()
    if shape < 0.6:
        entries = [entry]
        if maybe(rng, 0.3):
            entries.insert(rng.randrange(2), pick(rng, [None, "x", 3, {"type": "OTHER-x", "id": 1}, {"id": 2},
                                                        {"type": "ITERABLE-second", "id": "s"}]))
        context["externalId"] = entries
    elif shape < 0.8:
        context["externalId"] = entry  # an object, not a list
    else:
        context["externalId"] = pick(rng, [None, [], {}, "ITERABLE-users", 0, [None]])
    if maybe(rng, 0.2):
        message.pop("traits", None)
        context["traits"] = _traits(rng)


def _product(rng: random.Random) -> Any:
    if maybe(rng, 0.04):
        return pick(rng, [None, "p-1", 7, [], True])
    product: dict[str, Any] = {}
    for key, values, common in (("product_id", IDS, "p-1"), ("name", ODD, "Shoe"), ("price", NUMBERS, 19.99),
                                ("quantity", NUMBERS, 2)):
        if maybe(rng, 0.93):
            product[key] = pick(rng, values, common, 0.75)
    for key, values in (("sku", IDS), ("description", ODD), ("category", ["Shoes", "a,b,c", "", ",", ["x", "y"], 3,
                                                                            None, "Shoes, Boots"]),
                        ("image_url", ODD), ("url", ODD), ("properties", [{"size": 9}, None, "x", {}, 0])):
        if maybe(rng, 0.3):
            product[key] = pick(rng, values)
    return product


def _properties(rng: random.Random, name: str | None) -> Any:
    if maybe(rng, 0.03):
        return pick(rng, [None, "props", 3, []])
    props: dict[str, Any] = {}
    if maybe(rng, 0.5):
        props["email"] = pick(rng, EMAILS, "a@example.com", 0.6)
    if maybe(rng, 0.2):
        props["event_id"] = pick(rng, IDS)
    if maybe(rng, 0.2):
        props["campaignId"] = pick(rng, NUMBERS)
    if maybe(rng, 0.2):
        props["templateId"] = pick(rng, NUMBERS)
    if maybe(rng, 0.3):
        props["name"] = pick(rng, ODD, "Home", 0.6)
    if maybe(rng, 0.2):
        props["category"] = pick(rng, ODD, "Docs", 0.6)
    if maybe(rng, 0.1):
        props["timestamp"] = pick(rng, DATES)
    if name and name.lower() in ("order completed", "product added", "product removed") or maybe(rng, 0.1):
        if maybe(rng, 0.85):
            props["total"] = pick(rng, NUMBERS, 42.5, 0.6)
        for key in ("order_id", "orderId"):
            if maybe(rng, 0.4):
                props[key] = pick(rng, IDS, f"o-{rng.randrange(1000)}", 0.6)
        shape = rng.random()
        if shape < 0.7:
            props["products"] = [_product(rng) for _ in range(rng.choice([0, 1, 1, 2, 3, 5]))]
        elif shape < 0.8:
            props["products"] = pick(rng, [None, {"product_id": "p"}, "p", 3, {}])
        else:  # the product fields on properties itself
            product = _product(rng)
            if isinstance(product, dict):
                props.update(product)
    if maybe(rng, 0.2):
        props["nested"] = {"a": [1, {"b": None}], "c": None}
    return props


EVENT_NAMES = ["Order Completed", "order completed", "ORDER COMPLETED", "Order  Completed", "Order Completed ",
               "Product Added", "product added", "PRODUCT REMOVED", "Product Removed", "Signed Up", "Product Viewed",
               "", None, 5, ["Order Completed"], "Checkout Started"]


def gen_message(rng: random.Random, big: int = 0) -> dict[str, Any]:
    """One RudderStack message of any type, with any mix of identity, time and payload fields."""
    base_type = rng.choices(["identify", "track", "page", "screen", "alias", "group", "other"],
                            [30, 35, 12, 6, 7, 3, 7])[0]
    message: dict[str, Any] = {}
    if base_type == "other":
        message["type"] = pick(rng, ["", None, 5, "Identify ", "GROUP", True, ["track"], "unknown"])
        if maybe(rng, 0.2):
            del message["type"]
        event_type = "other"
    else:
        message["type"] = _odd_case(rng, base_type) if maybe(rng, 0.3) else base_type
        event_type = base_type
    if maybe(rng, 0.85):
        message["userId"] = pick(rng, IDS, f"user-{rng.randrange(100)}", 0.7)
    if maybe(rng, 0.5):
        message["anonymousId"] = pick(rng, IDS, f"anon-{rng.randrange(100)}", 0.8)
    for key in ("timestamp", "originalTimestamp"):
        if maybe(rng, 0.75):
            message[key] = pick(rng, DATES, "2024-06-01T12:00:00.000Z", 0.5)
    if maybe(rng, 0.05):
        message["channel"] = pick(rng, ["sources", "web", "server"], "sources", 0.7)
    message["context"] = _context(rng, event_type)
    if event_type in ("identify", "group", "other") or maybe(rng, 0.2):
        message["traits"] = _traits(rng, big)
    name = None
    if event_type == "track" or maybe(rng, 0.05):
        name = pick(rng, EVENT_NAMES)
        if not (maybe(rng, 0.03)):
            message["event"] = name
        name = name if isinstance(name, str) else None
    if event_type in ("page", "screen"):
        if maybe(rng, 0.6):
            message["name"] = pick(rng, ODD, "Home", 0.7)
        if maybe(rng, 0.2):
            message["category"] = pick(rng, ODD, "Docs", 0.6)
    if event_type != "identify" or maybe(rng, 0.2):
        message["properties"] = _properties(rng, name)
        if big and isinstance(message["properties"], dict):
            message["properties"]["blob"] = "y" * big
    if event_type == "alias" or maybe(rng, 0.03):
        if maybe(rng, 0.9):
            message["previousId"] = pick(rng, EMAILS + IDS, "old@example.com", 0.7)
    if event_type == "identify" and maybe(rng, 0.15):
        _retl(rng, message)
    if maybe(rng, 0.02) and isinstance(message.get("context"), dict):
        message["context.traits"] = {"email": "dotted@example.com"}  # a key holding a dot
    return message


def gen_process_case(rng: random.Random, job_id: int) -> Case:
    """A processor input: {message, config, metadata}."""
    return {"message": gen_message(rng), "config": gen_config(rng), "metadata": {"jobId": job_id}}


def gen_router_call(rng: random.Random, first_job: int = 1) -> Case:
    """A router input: events for one to four destinations (some sharing an ID or a Config), in calls of
    1 to 2,500 events, a few with events large enough to split bulk bodies at 4 MB."""
    roll = rng.random()
    if roll < 0.005:
        size, big = rng.randrange(900, 1300), rng.randrange(4000, 9000)
    elif roll < 0.03:
        size, big = rng.randrange(1000, 2500), 0
    elif roll < 0.25:
        size, big = rng.randrange(50, 400), 0
    else:
        size, big = rng.randrange(1, 50), 0
    destinations = []
    for n in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        if not destinations or maybe(rng, 0.7):
            config = gen_config(rng)
        else:  # the same Config again, its keys maybe in another order
            items = list(destinations[-1]["Config"].items())
            if maybe(rng):
                items.reverse()
            config = dict(items)
        destination: dict[str, Any] = {"ID": f"dest-{n}" if maybe(rng, 0.8) else "dest-0"}
        if maybe(rng, 0.05):
            destination = pick(rng, [{}, {"ID": ""}, {"ID": None}])  # no ID: RudderStack's "default" group
        destinations.append({**destination, "Config": config})
    ordinary = maybe(rng, 0.5)  # half the calls: mostly identify/track with sane settings, as real traffic
    events = []
    job_ids: list[Any] = list(range(first_job, first_job + size))
    if maybe(rng, 0.2):
        rng.shuffle(job_ids)
    if maybe(rng, 0.1):
        job_ids = [str(j) if maybe(rng) else j for j in job_ids]  # job ids of both types
    for job_id in job_ids:
        destination = rng.choice(destinations)
        message = gen_message(rng, big if maybe(rng, 0.9) else 0)
        if ordinary and maybe(rng, 0.8):
            message = _ordinary(rng, big)
        events.append({"message": message, "config": destination["Config"], "metadata": {"jobId": job_id},
                       "destination": {k: v for k, v in destination.items() if k != "Config"}})
    if maybe(rng, 0.4):
        _with_metadata_users(rng, events)
    if maybe(rng, 0.01):
        events.extend(_track_flood(rng, destinations, first_job + size))
    return {"destType": "iterable", "events": events}


def _with_metadata_users(rng: random.Random, events: list[Case]) -> None:
    """metadata.userId (rudder-server's user of a job), which the router of releases before v1.133.0
    keeps in order when it groups by message type: from the message, from a few users, or odd values."""
    users = [f"mu-{n}" for n in range(rng.choice([1, 2, 5, 20]))]
    for event in events:
        roll = rng.random()
        if roll < 0.5:
            user = event["message"].get("userId", "")
            event["metadata"]["userId"] = user if isinstance(user, str) else "<<>>"
        elif roll < 0.9:
            event["metadata"]["userId"] = rng.choice(users)
        elif roll < 0.97:
            event["metadata"]["userId"] = pick(rng, ["", None, 7, "7", 0])
        # else: no userId


def _track_flood(rng: random.Random, destinations: list[Case], first_job: int) -> list[Case]:
    """A run of 1,000 to 9,000 track events of one destination: events/trackBulk chunks (8,000 events
    with no size split before v1.97.0, 1,000 split at 4 MB since), sometimes with bodies large enough
    to pass 4 MB."""
    destination = rng.choice(destinations)
    count = rng.randrange(1000, 9001)
    blob = "f" * rng.choice([0, 0, 600, 1200])
    events = []
    for job_id in range(first_job, first_job + count):
        message = {"type": "track", "event": "Flooded", "userId": f"user-{rng.randrange(50)}",
                   "properties": {"n": job_id, "blob": blob}, "timestamp": "2024-06-01T12:00:00.000Z"}
        events.append({"message": message, "config": destination["Config"], "metadata": {"jobId": job_id},
                       "destination": {k: v for k, v in destination.items() if k != "Config"}})
    return events


def _ordinary(rng: random.Random, big: int) -> dict[str, Any]:
    user = f"user-{rng.randrange(500)}"
    stamp = {"timestamp": "2024-06-01T12:00:00.000Z", "originalTimestamp": "2024-06-01T11:59:59.000Z"}
    kind = rng.choices(["identify", "track", "page", "order", "cart", "retl"], [35, 35, 10, 8, 7, 5])[0]
    if kind == "identify":
        context: dict[str, Any] = {}
        if maybe(rng, 0.2):
            context["device"] = {"token": f"t-{user}", "type": rng.choice(["ios", "android"])}
        elif maybe(rng, 0.1):
            context["os"] = {"token": f"b-{user}"}
        traits = {"email": f"{user}@example.com", "plan": "pro"}
        if big:
            traits["blob"] = "z" * big
        return {"type": "identify", "userId": user, "traits": traits, "context": context, **stamp}
    if kind == "retl":
        catalog = rng.choice(["products", "stores", "users"])
        return {"type": "identify", "userId": user, "traits": {"price": rng.randrange(100), "blob": "c" * big},
                "context": {"mappedToDestination": True,
                            "externalId": [{"type": f"ITERABLE-{catalog}", "id": f"item-{rng.randrange(300)}",
                                            "identifierType": "itemId"}]}, **stamp}
    if kind == "page":
        return {"type": "page", "name": "Home", "userId": user, "properties": {"url": "/", "blob": "p" * big},
                **stamp}
    properties: dict[str, Any] = {"email": f"{user}@example.com", "blob": "t" * big}
    event = "Signed Up"
    if kind in ("order", "cart"):
        event = "Order Completed" if kind == "order" else "Product Added"
        properties.update(order_id=f"o-{rng.randrange(10**6)}", total=19.5,
                          products=[{"product_id": "p1", "name": "Shoe", "price": 19.5, "quantity": 1}])
    return {"type": "track", "event": event, "userId": user, "properties": properties, **stamp}
