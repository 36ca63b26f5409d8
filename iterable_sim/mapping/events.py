"""RudderStack event + settings -> the Iterable requests RudderStack's Iterable destination sends.

Pure functions over plain dicts. The field mappings are the specs in specs/ (see spec.py); this
module holds only what the specs cannot say: which spec an event takes, what the settings decide,
and RudderStack's checks and errors, in the order RudderStack makes them.
"""
from __future__ import annotations

import copy
from typing import Any

from ..jsvalues import NAN, UNDEFINED, fast_get, js_string, present, split_path, truthy
from ..request import MappingError, Request
from ..settings import Settings, require_settings
from .spec import FieldRule, load_specs

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
_MAPPED_TO_DESTINATION = split_path("context.mappedToDestination")
_EXTERNAL_ID_TYPE = split_path("context.externalId.0.identifierType")
_EXTERNAL_ID_VALUE = split_path("context.externalId.0.id")


def map_event(message: Any, settings: Settings) -> list[Request]:
    """The requests RudderStack sends to Iterable for one event; raises MappingError where it sends none."""
    return _map(message, settings, None)


def trace_event(message: Any, settings: Settings) -> tuple[list[Request], Trace]:
    """map_event, plus for each request field the source path that filled it (see explain)."""
    trace: Trace = []
    return _map(message, settings, trace), trace


def _map(message: Any, settings: Settings, trace: Trace | None) -> list[Request]:
    require_settings(settings)
    if not isinstance(message, dict):
        raise MappingError(f"an event must be a JSON object, not {_js_type(message)}", field="type")
    event_type = message.get("type")
    if not truthy(event_type):
        raise MappingError("Event type is required", field="type")
    if not isinstance(event_type, str):
        raise _type_error("message.type.toLowerCase is not a function")
    kind = event_type.lower()
    if kind == "identify":
        if truthy(fast_get(message, _MAPPED_TO_DESTINATION)):
            object_type, external_id = _retl_target(message)
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
        event = message.get("event")
        name = event.lower() if isinstance(event, str) else event
        if name == "order completed":
            return [_purchase(message, settings, trace)]
        if name in ("product added", "product removed"):
            return [_cart(message, settings, trace)]
        return [_track(message, settings, trace)]
    if kind == "alias":
        return [_post(settings, "users/updateEmail", _construct(ALIAS.rules, message, trace))]
    raise MappingError(f"Message type {kind} not supported", field="type")


# ---------------------------------------------------------------- payload construction


def _construct(rules: tuple[FieldRule, ...], message: Any, trace: Trace | None) -> dict[str, Any]:
    """RudderStack's constructPayload over a spec: present values only, required ones enforced."""
    payload: dict[str, Any] = {}
    if trace is None:
        for rule in rules:
            value = rule.lookup(message)
            if value is not UNDEFINED:
                payload[rule.key] = value
            elif rule.required:
                raise _missing(rule)
        return payload
    for rule in rules:
        value, source = rule.resolve(message)
        if value is not UNDEFINED:
            payload[rule.key] = value
            trace.append((rule.spec, rule.field, value, source, rule))
        elif rule.required:
            raise _missing(rule)
    return payload


def _missing(rule: FieldRule) -> MappingError:
    return MappingError(f"Missing required value from {rule.sources_text}", field=rule.field)


def _require_identity(payload: dict[str, Any]) -> None:
    if not truthy(payload.get("email")) and not truthy(payload.get("userId")):
        raise MappingError(MANDATORY_IDENTITY, field="email/userId")


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
    """The identify mapping: the users/update body (top level), or the `user` object of purchases
    and carts, where it is kept as it is (nulls too)."""
    user = _construct(_IDENTITY_RULES, message, trace)
    _setting(user, "preferUserId", settings.prefer_user_id, trace, "identify", top_level=top_level)
    _setting(user, "mergeNestedObjects", settings.merge_nested_objects, trace, "identify", top_level=top_level)
    _require_identity(user)
    return user


def _dated(payload: dict[str, Any], rules: tuple[FieldRule, ...], trace: Trace | None) -> None:
    for rule in rules:
        _convert(payload, rule, trace)


def _page(message: dict[str, Any], settings: Settings, kind: str, trace: Trace | None) -> Request:
    properties = message.get("properties")
    if truthy(settings.track_all_pages):
        pass
    elif truthy(settings.track_categorised_pages) and (
            truthy(_prop(properties, "category")) or truthy(message.get("category"))):
        pass
    elif truthy(settings.track_named_pages) and (truthy(_prop(properties, "name")) or truthy(message.get("name"))):
        pass
    else:
        raise MappingError(f"Invalid {kind} call", field="settings")
    payload = _construct(PAGE.rules, message, trace)
    _require_identity(payload)
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
    payload = _construct(TRACK.rules, message, trace)
    _require_identity(payload)
    _dated(payload, _TRACK_DATED, trace)
    return _post(settings, "events/track", payload)


def _purchase(message: dict[str, Any], settings: Settings, trace: Trace | None) -> Request:
    payload = _construct(PURCHASE.rules, message, trace)
    payload["user"] = _user(message, settings, trace, top_level=False)
    _convert(payload, _PURCHASE_TOTAL, trace)
    payload["items"] = _items(message, trace)
    _dated(payload, _PURCHASE_DATED, trace)
    return _post(settings, "commerce/trackPurchase", payload)


def _cart(message: dict[str, Any], settings: Settings, trace: Trace | None) -> Request:
    payload = {"user": _user(message, settings, trace, top_level=False), "items": _items(message, trace)}
    return _post(settings, "commerce/updateCart", payload)


def _items(message: dict[str, Any], trace: Trace | None) -> list[dict[str, Any]]:
    properties = message.get("properties", UNDEFINED)
    products = _prop(properties, "products")
    items = []
    for index, product in enumerate(products if isinstance(products, list) else [properties]):
        item_trace: Trace | None = [] if trace is not None else None
        item = _construct(PRODUCT.rules, product, item_trace)
        _dated(item, _PRODUCT_CONVERTED, item_trace)
        if trace is not None and item_trace is not None:
            prefix = f"properties.products.{index}." if isinstance(products, list) else "properties."
            trace.extend((f"product[{index}]", f, v, prefix + s if s else s, r) for _, f, v, s, r in item_trace)
        items.append(item)
    return items


def _token_registration(message: dict[str, Any], settings: Settings, event_type: str,
                        trace: Trace | None) -> Request | None:
    """identify with a push token (and the device key set) also registers the device or browser."""
    context = message.get("context")
    device = _prop(context, "device")
    if event_type != "identify" or not truthy(context):
        return None
    if not (truthy(_prop(device, "token")) or truthy(_prop(_prop(context, "os"), "token"))):
        return None
    if not truthy(settings.register_device_or_browser_api_key):
        return None
    if truthy(_prop(device, "token")):
        payload = _construct(_DEVICE_USER, message, trace)
        _setting(payload, "preferUserId", settings.prefer_user_id, trace, "device")
        fields = _construct(_DEVICE_FIELDS, message, trace)
        platform, source = _PLATFORM.resolve(message)
        fields["platform"] = _PLATFORM.finish(platform)
        if trace is not None:
            trace.append(("device", "device.platform", fields["platform"], source, _PLATFORM))
        payload["device"] = fields
        return _post(settings, "users/registerDeviceToken", payload, device_key=True)
    payload = _construct(BROWSER.rules, message, trace)
    _require_identity(payload)
    return _post(settings, "users/registerBrowserToken", payload, device_key=True)


def _catalog(message: dict[str, Any], settings: Settings, object_type: Any, external_id: Any,
             trace: Trace | None) -> Request:
    payload = _construct(CATALOG.rules[:1], message, trace)
    if external_id is None:
        return _post(settings, f"catalogs/{js_string(object_type)}/items", payload)
    payload["catalogId"] = external_id
    if trace is not None:
        trace.append(("catalog", "catalogId", external_id, "context.externalId[ITERABLE-*].id", CATALOG.rule("catalogId")))
    return _post(settings, f"catalogs/{js_string(object_type)}/items", payload)


# ---------------------------------------------------------------- reverse ETL helpers


def _retl_target(message: dict[str, Any]) -> tuple[Any, Any]:
    """(objectType, id) of the last externalId whose type contains 'ITERABLE-', as RudderStack reads it."""
    context = message.get("context")
    external_ids = _prop(context, "externalId")
    if not truthy(external_ids):
        return None, None
    if not isinstance(external_ids, list):
        raise _type_error("externalIdArray.forEach is not a function")
    object_type = external_id = None
    for entry in external_ids:
        if not isinstance(entry, dict):
            raise _type_error(f"Cannot destructure property 'type' of '{js_string(entry)}'"
                              if entry is None else "type.includes is not a function")
        kind = entry.get("type")
        if not isinstance(kind, str):
            raise _type_error(f"Cannot read properties of {js_string(kind)} (reading 'includes')"
                              if kind is None or kind is UNDEFINED else "type.includes is not a function")
        if "ITERABLE-" in kind:
            external_id = entry.get("id")
            object_type = kind.replace("ITERABLE-", "", 1)
    return object_type, external_id


def _with_external_id_in_traits(message: dict[str, Any]) -> dict[str, Any]:
    """RudderStack's addExternalIdToTraits, on a copy: the event given is never changed."""
    key = fast_get(message, _EXTERNAL_ID_TYPE)
    value = fast_get(message, _EXTERNAL_ID_VALUE)
    if not truthy(key):
        return message
    for location in ("traits", "context.traits"):
        traits = fast_get(message, split_path(location))
        if present(traits):
            break
    else:
        return message
    if not isinstance(traits, dict):
        return message
    changed = copy.deepcopy(message)
    target = fast_get(changed, split_path(location))
    path = js_string(key).split(".")
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = None if value is UNDEFINED else value
    return changed


# ---------------------------------------------------------------- small JavaScript helpers


def _prop(obj: Any, key: str) -> Any:
    """`obj?.key`: a property of an object, undefined for anything else."""
    return obj.get(key, UNDEFINED) if isinstance(obj, dict) else UNDEFINED


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def _type_error(message: str) -> MappingError:
    """Where RudderStack's JavaScript itself fails (a TypeError), it answers 500 with the error's text."""
    return MappingError(message, status=500)
