"""RudderStack event + settings -> the Iterable requests RudderStack's Iterable destination sends.

Pure functions over plain dicts. The field mappings are the specs in specs/ (see spec.py); this
module holds only what the specs cannot say: which spec an event takes, what the settings decide,
and RudderStack's checks and errors, in the order RudderStack makes them. Each builder names the
function of rudder-transformer c98d160c's src/v0/destinations/iterable it follows.
"""
from __future__ import annotations

import math
from typing import Any

from iterable_sim.mapping.jsvalues import NAN, UNDEFINED, js_string, path_getter, present, set_value, split_path, truthy
from iterable_sim.mapping.releases import Release
from iterable_sim.mapping.request import MappingError, Request
from iterable_sim.mapping.settings import Settings, require_settings
from iterable_sim.mapping.spec import FieldRule, load_generic, load_specs

Trace = list[tuple[str, str, Any, "str | None", FieldRule | None]]  # (spec, field, value, source, rule)

_SPECS = load_specs()
IDENTIFY, TRACK, PAGE, PURCHASE, PRODUCT = (_SPECS[n] for n in ("identify", "track", "page", "purchase", "product"))
DEVICE, BROWSER, ALIAS, CATALOG = (_SPECS[n] for n in ("device", "browser", "alias", "catalog"))
_DEVICE_USER = tuple(r for r in DEVICE.rules if not r.field.startswith("device.") and r.setting is None)
_DEVICE_FIELDS = tuple(r for r in DEVICE.rules if r.field.startswith("device.") and r.convert != "pushPlatform")
_PLATFORM = DEVICE.rule("device.platform")
_IDENTITY_RULES = tuple(r for r in IDENTIFY.rules if r.setting is None)
_TRACK_DATED = tuple(TRACK.rule(n) for n in ("createdAt", "campaignId", "templateId"))
_PAGE_DATED = tuple(PAGE.rule(n) for n in ("createdAt", "campaignId", "templateId"))
_PAGE_NAME = PAGE.rule("eventName")
_PURCHASE_TOTAL = PURCHASE.rule("total")
_PURCHASE_DATED = tuple(PURCHASE.rule(n) for n in ("createdAt", "id", "campaignId", "templateId"))
_PRODUCT_CONVERTED = tuple(PRODUCT.rule(n) for n in ("categories", "price", "quantity"))

MANDATORY_IDENTITY = "userId or email is mandatory for this request"
_MAPPED_TO_DESTINATION = path_getter(split_path("context.mappedToDestination"))  # MappedToDestinationKey
_EXTERNAL_ID_TYPE = path_getter(split_path("context.externalId.0.identifierType"))
_EXTERNAL_ID_VALUE = path_getter(split_path("context.externalId.0.id"))
_RETL_TRACK_TIMESTAMP = tuple(path_getter(split_path(p)) for p in load_generic()["retlTrackTimestamp"])
_TRAITS_LOCATIONS = (path_getter(("traits",)), path_getter(("context", "traits")))


def map_event(message: Any, settings: Settings) -> list[Request]:
    """The requests RudderStack sends to Iterable for one event; raises MappingError where it sends none."""
    return _map(message, settings, None)


def trace_event(message: Any, settings: Settings) -> tuple[list[Request], Trace]:
    """map_event, plus for each request field the source path that filled it (see explain)."""
    trace: Trace = []
    return _map(message, settings, trace), trace


def _map(message: Any, settings: Settings, trace: Trace | None) -> list[Request]:
    """transform.js process: getCategory by the lower-cased type, then the category's builder."""
    require_settings(settings)
    if not isinstance(message, dict):
        raise MappingError(f"an event must be a JSON object, not {_js_type(message)}", field="type",
                           origin="iterable_sim's own check: RudderStack's transform.js process takes JSON objects only")
    event_type = message.get("type")
    if not truthy(event_type):
        raise MappingError("Event type is required", field="type", origin="transform.js process")
    if not isinstance(event_type, str):
        raise _type_error("message.type.toLowerCase is not a function", field="type",
                          origin="transform.js getCategory: message.type.toLowerCase()")
    kind = event_type.lower()
    if kind == "identify":  # reverse ETL: a catalog unless the ITERABLE- externalId is ITERABLE-users
        if truthy(_MAPPED_TO_DESTINATION(message)):
            object_type, external_id = (_retl_target(message) if settings.release.has("external_id_guard")
                                        else _retl_target_unguarded(message))
            if object_type != "users":
                return [_catalog(message, settings, object_type, external_id, trace)]
            message = _with_external_id_in_traits(message)
        requests = [_post(settings, "users/update", _user(message, settings, trace, top_level=True))]
        token_request = _token_registration(message, settings, event_type, trace)
        if token_request is not None:
            requests.append(token_request)
        return requests
    if kind in ("page", "screen"):
        return [_page(message, settings, kind, trace)]
    if kind == "track":
        if event_type == "track" and message.get("channel") == "sources" and not truthy(_MAPPED_TO_DESTINATION(message)):
            message = _retl_track_timestamp(message)
        event = message.get("event")  # util.js getCategoryUsingEventName
        name = event.lower() if isinstance(event, str) else event
        if name == "order completed":
            return [_purchase(message, settings, trace)]
        if name in ("product added", "product removed"):
            return [_cart(message, settings, trace)]
        return [_track(message, settings, trace)]
    if kind == "alias":
        return [_post(settings, "users/updateEmail", _construct(_ALIAS_PLAN, message, trace))]
    raise MappingError(f"Message type {kind} not supported", field="type", origin="transform.js getCategory")


# ---------------------------------------------------------------- payload construction


RulePlan = tuple[tuple[str, Any, bool, FieldRule], ...]  # (key, lookup, required, rule) of each rule


def _plan(rules: tuple[FieldRule, ...]) -> RulePlan:
    """The rules as constructPayload walks them, unpacked once (the loop below is the hottest)."""
    return tuple((rule.key, rule.lookup, rule.required, rule) for rule in rules)


_ALIAS_PLAN, _PAGE_PLAN, _TRACK_PLAN, _PURCHASE_PLAN, _PRODUCT_PLAN, _BROWSER_PLAN = (
    _plan(spec.rules) for spec in (ALIAS, PAGE, TRACK, PURCHASE, PRODUCT, BROWSER))
_IDENTITY_PLAN, _DEVICE_USER_PLAN, _DEVICE_PLAN = (_plan(r) for r in (_IDENTITY_RULES, _DEVICE_USER, _DEVICE_FIELDS))
_CATALOG_PLAN = _plan(CATALOG.rules[:1])  # update; catalogId is the externalId's (transform.js)


def _construct(plan: RulePlan, message: Any, trace: Trace | None) -> dict[str, Any]:
    """RudderStack's constructPayload (src/v0/util/index.js) over a spec: present values only, required
    ones enforced."""
    payload: dict[str, Any] = {}
    if trace is None:
        for key, lookup, required, rule in plan:
            value = lookup(message)
            if value is not UNDEFINED:
                payload[key] = value
            elif required:
                raise _missing(rule)
        return payload
    for _, _, _, rule in plan:
        value, source = rule.resolve(message)
        if value is not UNDEFINED:
            payload[rule.key] = value
            trace.append((rule.spec, rule.field, value, source, rule))
        elif rule.required:
            raise _missing(rule)
    return payload


def _missing(rule: FieldRule) -> MappingError:
    return MappingError(f"Missing required value from {rule.sources_text}", spec=rule.spec, field=rule.field,
                        origin=rule.origin)


def _require_identity(payload: dict[str, Any], spec: str, builder: str) -> None:
    """util.js validateMandatoryField, as `builder` calls it on the payload of `spec`."""
    if not truthy(payload.get("email")) and not truthy(payload.get("userId")):
        raise MappingError(MANDATORY_IDENTITY, spec=spec, field="email/userId",
                           origin=f"util.js validateMandatoryField, in {builder}")


def _setting(payload: dict[str, Any], name: str, value: Any, trace: Trace | None, spec: str, *,
             top_level: bool = True) -> None:
    """A setting's value, as configured; a null one is dropped at the top level, as RudderStack drops it."""
    if value is None and top_level:
        return
    payload[name] = value
    if trace is not None:
        trace.append((spec, name, value, f"settings.{name}", None))


def _convert(payload: dict[str, Any], rule: FieldRule, trace: Trace | None) -> None:
    """Apply a rule's conversion to the payload's field, as RudderStack does after constructPayload."""
    value = rule.finish(payload.get(rule.key, UNDEFINED))
    if value is UNDEFINED:
        payload.pop(rule.key, None)
    else:
        payload[rule.key] = None if value is NAN else value
    if trace is not None:
        _retrace(trace, rule.spec, rule.key, payload.get(rule.key, UNDEFINED), rule)


def _retrace(trace: Trace, spec: str, name: str, value: Any, rule: FieldRule) -> None:
    for i, (s, f, _, source, r) in enumerate(trace):
        if s == spec and f == name:
            trace[i] = (s, f, value, source, r)
            return
    if value is not UNDEFINED:
        trace.append((spec, name, value, None, rule))


def _post(settings: Settings, endpoint: str, body: dict[str, Any], *, device_key: bool = False) -> Request:
    headers = settings.device_headers if device_key else settings.headers
    return Request("POST", settings.base_url + endpoint, headers, body)


# ---------------------------------------------------------------- one builder per Iterable call


def _user(message: dict[str, Any], settings: Settings, trace: Trace | None, *, top_level: bool) -> dict[str, Any]:
    """The identify mapping (util.js updateUserEventPayloadBuilder): the users/update body (top level),
    or the `user` object of purchases and carts, where it is kept as it is (nulls too)."""
    user = _construct(_IDENTITY_PLAN, message, trace)
    _setting(user, "preferUserId", settings.prefer_user_id, trace, "identify", top_level=top_level)
    _setting(user, "mergeNestedObjects", settings.merge_nested_objects, trace, "identify", top_level=top_level)
    _require_identity(user, "identify", "updateUserEventPayloadBuilder")
    return user


def _dated(payload: dict[str, Any], rules: tuple[FieldRule, ...], trace: Trace | None) -> None:
    """The conversions RudderStack's builder applies after constructPayload, in its order."""
    if trace is not None:
        for rule in rules:
            _convert(payload, rule, trace)
        return
    for rule in rules:  # _convert, inlined
        key = rule.key
        value = rule.finish(payload.get(key, UNDEFINED))
        if value is UNDEFINED:
            payload.pop(key, None)
        else:
            payload[key] = None if value is NAN else value


def _page(message: dict[str, Any], settings: Settings, kind: str, trace: Trace | None) -> Request:
    """util.js pageOrScreenEventPayloadBuilder: the page settings, then the page spec."""
    properties = message.get("properties")
    if truthy(settings.track_all_pages):
        pass
    elif truthy(settings.track_categorised_pages) and (
            truthy(_prop(properties, "category")) or truthy(message.get("category"))):
        pass
    elif truthy(settings.track_named_pages) and (truthy(_prop(properties, "name")) or truthy(message.get("name"))):
        pass
    else:
        raise MappingError(f"Invalid {kind} call", spec="page", field="settings", origin="util.js "
                           "pageOrScreenEventPayloadBuilder: trackAllPages, trackCategorisedPages, trackNamedPages")
    payload = _construct(_PAGE_PLAN, message, trace)
    _require_identity(payload, "page", "pageOrScreenEventPayloadBuilder")
    _dated(payload, _PAGE_DATED, trace)
    if settings.map_to_single_event is True:
        name = f"Loaded a {kind.capitalize()}"
    else:
        name = f"{js_string(payload.get('eventName', UNDEFINED))} {kind}"
    payload["eventName"] = name
    if trace is not None:
        _retrace(trace, "page", "eventName", name, _PAGE_NAME)
    return _post(settings, "events/track", payload)


def _track(message: dict[str, Any], settings: Settings, trace: Trace | None) -> Request:
    """util.js trackEventPayloadBuilder."""
    payload = _construct(_TRACK_PLAN, message, trace)
    _require_identity(payload, "track", "trackEventPayloadBuilder")
    _dated(payload, _TRACK_DATED, trace)
    return _post(settings, "events/track", payload)


def _purchase(message: dict[str, Any], settings: Settings, trace: Trace | None) -> Request:
    """util.js purchaseEventPayloadBuilder: purchase spec, user, total, items, then the conversions."""
    payload = _construct(_PURCHASE_PLAN, message, trace)
    payload["user"] = _user(message, settings, trace, top_level=False)
    _convert(payload, _PURCHASE_TOTAL, trace)
    payload["items"] = _items(message, trace)
    _dated(payload, _PURCHASE_DATED, trace)
    return _post(settings, "commerce/trackPurchase", payload)


def _cart(message: dict[str, Any], settings: Settings, trace: Trace | None) -> Request:
    """util.js updateCartEventPayloadBuilder."""
    payload = {"user": _user(message, settings, trace, top_level=False), "items": _items(message, trace)}
    return _post(settings, "commerce/updateCart", payload)


def _items(message: dict[str, Any], trace: Trace | None) -> list[dict[str, Any]]:
    """util.js prepareItemsPayload: properties.products when it is a list, else [properties]."""
    properties = message.get("properties", UNDEFINED)
    products = _prop(properties, "products")
    items = []
    for index, product in enumerate(products if isinstance(products, list) else [properties]):
        item_trace: Trace | None = [] if trace is not None else None
        item = _construct(_PRODUCT_PLAN, product, item_trace)
        _dated(item, _PRODUCT_CONVERTED, item_trace)
        if trace is not None and item_trace is not None:
            prefix = f"properties.products.{index}." if isinstance(products, list) else "properties."
            trace.extend((f"product[{index}]", f, v, prefix + s if s else s, r) for _, f, v, s, r in item_trace)
        items.append(item)
    return items


def _token_registration(message: dict[str, Any], settings: Settings, event_type: str,
                        trace: Trace | None) -> Request | None:
    """identify with a push token (and the device key set) also registers the device or browser
    (util.js hasMultipleResponses; transform.js responseBuilderForRegisterDeviceOrBrowserTokenEvents)."""
    context = message.get("context")
    device = _prop(context, "device")
    if event_type != "identify" or not truthy(context):
        return None
    if not (truthy(_prop(device, "token")) or truthy(_prop(_prop(context, "os"), "token"))):
        return None
    if not truthy(settings.register_device_or_browser_api_key):
        return None
    release = settings.release
    if release.has("eu_data_center") and not release.has("token_registration"):
        # v1.85.0 (1c134f846) to v1.88.2: hasMultipleResponses compared the category by identity, and the
        # EUDC change made it a copy, so no token request went; fixed in v1.88.3 (a986138d4)
        return None
    if truthy(_prop(device, "token")):
        payload = _construct(_DEVICE_USER_PLAN, message, trace)
        _setting(payload, "preferUserId", settings.prefer_user_id, trace, "device")
        fields = _construct(_DEVICE_PLAN, message, trace)
        platform, source = _PLATFORM.resolve(message)
        fields["platform"] = _PLATFORM.finish(platform)
        if trace is not None:
            trace.append(("device", "device.platform", fields["platform"], source, _PLATFORM))
        payload["device"] = fields
        _md5_of_token(_prop(device, "token"), "device", "device.token", release)
        return _post(settings, "users/registerDeviceToken", payload, device_key=True)
    payload = _construct(_BROWSER_PLAN, message, trace)
    _require_identity(payload, "browser", "registerBrowserTokenEventPayloadBuilder")
    _md5_of_token(_prop(_prop(context, "os"), "token"), "browser", "browserToken", release)
    return _post(settings, "users/registerBrowserToken", payload, device_key=True)


def _md5_of_token(token: Any, spec: str, field: str, release: Release) -> None:
    """transform.js logs MD5(token) after building a token registration; Node's crypto takes only a
    string there, so a token of another type fails the event (a TypeError: status 500). The log came
    with v1.88.3 (rule token_md5_log, a986138d4): before, any token is sent as it is."""
    if isinstance(token, str) or not release.has("token_md5_log"):
        return
    if isinstance(token, bool) or isinstance(token, (int, float)):
        kind = "boolean" if isinstance(token, bool) else "number"
        shown = "-0" if token == 0 and math.copysign(1, token) < 0 else js_string(token)  # Node's inspect
        received = f"type {kind} ({shown})"
    else:
        received = "an instance of Array" if isinstance(token, list) else "an instance of Object"
    raise _type_error('The "data" argument must be of type string or an instance of Buffer, TypedArray, '
                      f"or DataView. Received {received}", spec=spec, field=field,
                      origin="transform.js responseBuilderForRegisterDeviceOrBrowserTokenEvents: MD5(token)")


def _catalog(message: dict[str, Any], settings: Settings, object_type: Any, external_id: Any,
             trace: Trace | None) -> Request:
    """transform.js constructPayloadItem (action catalogs) and util.js getCatalogEndpoint."""
    payload = _construct(_CATALOG_PLAN, message, trace)
    if external_id is None:
        return _post(settings, f"catalogs/{js_string(object_type)}/items", payload)
    payload["catalogId"] = external_id
    if trace is not None:
        trace.append(("catalog", "catalogId", external_id, "context.externalId[ITERABLE-*].id", CATALOG.rule("catalogId")))
    return _post(settings, f"catalogs/{js_string(object_type)}/items", payload)


# ---------------------------------------------------------------- reverse ETL helpers


def _retl_track_timestamp(message: dict[str, Any]) -> dict[str, Any]:
    """A reverse-ETL track (channel "sources") gets its timestamp from properties.timestamp first:
    ControllerUtility.handleTimestampInEvents (src/controllers/util/index.ts) runs before the destination,
    with getValueFromMessage's rule (null when none is present). It does so for identify too, where the
    Iterable mapping never reads the timestamp."""
    for get in _RETL_TRACK_TIMESTAMP:
        value = get(message)
        if present(value):
            break
    else:
        value = None
    return {**message, "timestamp": value}


def _retl_target(message: dict[str, Any]) -> tuple[Any, Any]:
    """(objectType, id) as getDestinationExternalIDInfoForRetl(message, 'ITERABLE') reads them
    (src/v0/util/index.js): context.externalId is a list, or one non-empty object; of its entries
    that are objects with a string type holding 'ITERABLE-', the last one wins; (None, None) when none."""
    external_ids = _prop(message.get("context"), "externalId")
    if isinstance(external_ids, dict):
        external_ids = [external_ids] if external_ids else []
    elif not isinstance(external_ids, list) or not truthy(external_ids):
        return None, None
    object_type = external_id = None
    for entry in external_ids:
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        if isinstance(kind, str) and "ITERABLE-" in kind:
            external_id = entry.get("id")
            object_type = kind.replace("ITERABLE-", "", 1)
    return object_type, external_id


def _retl_target_unguarded(message: dict[str, Any]) -> tuple[Any, Any]:
    """getDestinationExternalIDInfoForRetl before v1.133.3 (rule external_id_guard, 475d5d473): the
    context.externalId taken as it is and walked with forEach, so anything truthy that is not a list
    (an object, a string, a number) crashes (TypeError, a 500); so does a null entry (its destructuring)
    and a type that is neither a string nor null (`type?.includes`)."""
    context = message.get("context")
    external_ids = _prop(context, "externalId") if truthy(context) else UNDEFINED
    if not truthy(external_ids):
        return None, None
    origin = "src/v0/util/index.js getDestinationExternalIDInfoForRetl (before v1.133.3, 475d5d473)"
    if not isinstance(external_ids, list):
        raise _type_error("externalIdArray.forEach is not a function", spec="identify", field="context.externalId",
                          origin=origin)
    object_type = external_id = None
    for entry in external_ids:
        if entry is None or entry is UNDEFINED:
            shown = "null" if entry is None else "undefined"
            raise _type_error(f"Cannot destructure property 'type' of 'extIdObj' as it is {shown}.",
                              spec="identify", field="context.externalId", origin=origin)
        kind = _prop(entry, "type")
        if kind is None or kind is UNDEFINED:
            continue
        if isinstance(kind, str):
            found = "ITERABLE-" in kind
        elif isinstance(kind, list):  # Array.prototype.includes: an item equal to "ITERABLE-"
            found = any(isinstance(item, str) and item == "ITERABLE-" for item in kind)
        else:
            raise _type_error("type?.includes is not a function", spec="identify", field="context.externalId",
                              origin=origin)
        if found:
            if not isinstance(kind, str):
                raise _type_error("type.replace is not a function", spec="identify", field="context.externalId",
                                  origin=origin)
            external_id = _prop(entry, "id")
            object_type = kind.replace("ITERABLE-", "", 1)
    return object_type, None if external_id is UNDEFINED else external_id


def _with_external_id_in_traits(message: dict[str, Any]) -> dict[str, Any]:
    """addExternalIdToTraits (src/v0/util/index.js), on a copy: the event given is never changed.
    setValue(traits, context.externalId.0.identifierType, context.externalId.0.id), where traits is
    the first of traits, context.traits that is present (GenericFieldMapping.json "traits")."""
    for location in _TRAITS_LOCATIONS:
        traits = location(message)
        if present(traits):
            break
    else:
        traits = None  # getFieldValueFromMessage's null: setValue sets nothing, or fails on a reserved key
    try:
        changed = set_value(traits, _EXTERNAL_ID_TYPE(message), _EXTERNAL_ID_VALUE(message))
    except TypeError as err:
        raise _type_error(str(err), spec="identify", field="dataFields", origin="src/v0/util/index.js "
                          "addExternalIdToTraits: setValue(traits, externalId[0].identifierType, id)") from None
    if changed is traits:
        return message
    copied = dict(message)
    if location is _TRAITS_LOCATIONS[0]:
        copied["traits"] = changed
    elif "context.traits" in message:  # get-value read the key holding the dot
        copied["context.traits"] = changed
    else:
        copied["context"] = {**message["context"], "traits": changed}
    return copied


# ---------------------------------------------------------------- small JavaScript helpers


def _prop(obj: Any, key: str) -> Any:
    """`obj?.key`: a property of an object, undefined for anything else."""
    return obj.get(key, UNDEFINED) if isinstance(obj, dict) else UNDEFINED


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def _type_error(message: str, *, spec: str | None = None, field: str, origin: str) -> MappingError:
    """Where RudderStack's JavaScript itself fails (a TypeError), it answers 500 with the error's text."""
    return MappingError(message, status=500, spec=spec, field=field, origin=origin)
