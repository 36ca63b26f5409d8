"""The mock's URL table (as moto keeps one per service): each (method, endpoint template) Iterable
serves, with its handler in `responses`, and the router that matches a request path to it. The client's
pacing (iterable_sim.send.client) names endpoints by the same table, so both count a call alike."""
from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import unquote

from iterable_sim.mock.responses import (
    Handler, catalogs_bulk_items, catalogs_create, catalogs_list_items, commerce_track_purchase, commerce_update_cart, events_track, events_track_bulk, users_bulk_update, users_delete_by_email, users_delete_by_user_id, users_forget, users_get_by_email, users_get_by_email_query, users_get_by_user_id, users_get_by_user_id_query, users_get_fields, users_register_browser_token, users_register_device_token, users_update, users_update_email)

TEMPLATE_PARAMETER = re.compile(r"\{[^/]+\}")

# (method, endpoint template) -> handler. Templates name path parameters in braces.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "users/update"): users_update,
    ("POST", "users/bulkUpdate"): users_bulk_update,
    ("POST", "users/updateEmail"): users_update_email,
    ("POST", "users/registerDeviceToken"): users_register_device_token,
    ("POST", "users/registerBrowserToken"): users_register_browser_token,
    ("POST", "users/forget"): users_forget,
    ("GET", "users/getFields"): users_get_fields,
    ("GET", "users/getByEmail"): users_get_by_email_query,
    ("GET", "users/byUserId"): users_get_by_user_id_query,
    ("GET", "users/{email}"): users_get_by_email,
    ("DELETE", "users/{email}"): users_delete_by_email,
    ("GET", "users/byUserId/{userId}"): users_get_by_user_id,
    ("DELETE", "users/byUserId/{userId}"): users_delete_by_user_id,
    ("POST", "events/track"): events_track,
    ("POST", "events/trackBulk"): events_track_bulk,
    ("POST", "commerce/trackPurchase"): commerce_track_purchase,
    ("POST", "commerce/updateCart"): commerce_update_cart,
    ("POST", "catalogs/{catalogName}"): catalogs_create,
    ("POST", "catalogs/{catalogName}/items"): catalogs_bulk_items,
    ("GET", "catalogs/{catalogName}/items"): catalogs_list_items,
}
# Iterable's own static paths under users/ (its Swagger document): its router matches them before
# users/{email}, so `GET users/getSentMessages` is never a lookup of the email "getSentMessages".
# Those the mock does not serve answer 404 "Action not found", as an unknown path does.
STATIC_USER_PATHS = frozenset({
    "bulkUpdate", "bulkUpdateSubscriptions", "byUserId", "disableDevice", "forget", "forgotten", "forgottenUserIds",
    "getByEmail", "getFields", "getSentMessages", "merge", "registerBrowserToken", "registerDeviceToken", "unforget",
    "update", "updateEmail", "updateSubscriptions"})
RESERVED_PARAMETERS = {"users/{email}": STATIC_USER_PATHS}
ENDPOINTS: tuple[str, ...] = tuple(f"{method} {template}" for method, template in HANDLERS)
"""Every endpoint the mock serves, as "METHOD template" ("POST events/track", "GET users/{email}")."""


class Router:
    """Finds the handler of a request path: exact paths first, then templates in table order."""

    def __init__(self, handlers: Mapping[tuple[str, str], Handler],
                 reserved: Mapping[str, frozenset[str]]) -> None:
        self.exact: dict[tuple[str, str], tuple[str, Handler]] = {}
        self.patterns: list[tuple[str, re.Pattern[str], str, Handler, frozenset[str]]] = []
        for (method, template), handler in handlers.items():
            if "{" in template:
                regex = re.compile("^" + TEMPLATE_PARAMETER.sub("([^/]+)", template) + r"\Z")
                self.patterns.append((method, regex, template, handler, reserved.get(template, frozenset())))
            else:
                self.exact[(method, template)] = (template, handler)

    def match(self, method: str, path: str) -> tuple[str, Handler, tuple[str, ...]] | None:
        found = self.exact.get((method, path))
        if found is not None:
            return found[0], found[1], ()
        for route_method, regex, template, handler, reserved in self.patterns:
            if route_method == method:
                m = regex.match(path)
                if m is not None and not (reserved and reserved.intersection(m.groups())):
                    return template, handler, tuple(unquote(p) for p in m.groups())
        return None


ROUTES = Router(HANDLERS, RESERVED_PARAMETERS)


def endpoint_template(method: str, path: str) -> str:
    """'POST catalogs/shoes/items' -> 'POST catalogs/{catalogName}/items' (the path without /api/), as the
    mock routes it; a path the mock does not serve keeps its own name."""
    route = ROUTES.match(method.upper(), path)
    return f"{method.upper()} {route[0] if route else path}"
