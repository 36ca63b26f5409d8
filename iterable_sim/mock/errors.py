"""Every error the mock answers, in one catalogue: Iterable's envelopes, status codes, codes and
messages (sources in docs/mock.md), and `ApiError`, the exception that carries one.

The backend raises these; the adapters turn them into HTTP answers; Python set-up calls on
MockIterable let them propagate, so the same mistake fails the same way both ways.
"""
from __future__ import annotations

from html import escape
from typing import Any

from iterable_sim.exceptions import IterableSimError


def envelope(msg: str = "", code: str = "Success", params: Any = None) -> dict[str, Any]:
    """The standard `{"msg", "code", "params"}` body of most Iterable answers."""
    return {"msg": msg, "code": code, "params": params}


class ApiError(IterableSimError, ValueError):
    """A whole request fails: `status` with `body` (an envelope unless given otherwise).

    Raised by MockIterable's Python set-up calls too (`create_user`, `track_event`, ...), with the
    answer the same request over HTTP gets: `error.status`, `error.code`, `error.body`."""

    def __init__(self, status: int, code: str, msg: str, params: Any = None, *,
                 body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.body = envelope(msg, code, params) if body is None else body
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r}, {str(self)!r})"


class PlainText(str):
    """A body Iterable answers as text, not JSON (GET users/byUserId/{id} for an unknown id)."""


class MockSetupError(IterableSimError, ValueError):
    """A MockIterable or its faults set up with an argument the mock does not take (a project type,
    a data center, a fault kind, status or rate): a mistake in the test, not an answer of Iterable's."""


# ---- the request itself ---------------------------------------------------------------------------

def action_not_found(method: str, path: str) -> bytes:
    """Iterable's router answers an unknown path with Play's HTML "Action not found" page (404),
    before any key check."""
    return (f"<!DOCTYPE html><html><head><title>Action not found</title></head><body><h1>Action not found</h1>"
            f"<p>For request '{escape(method)} {escape(path)}'</p></body></html>").encode()


def bad_api_key(client: str, raw_path: str) -> ApiError:
    """An unknown or missing key, or a key used in the other data center."""
    return ApiError(401, "BadApiKey", "Invalid API key", {"ip": client, "endpoint": raw_path})


def insufficient_privileges(client: str, raw_path: str, identifier: str, key_type: str) -> ApiError:
    """A key type's restrictions, or an endpoint denied to the key."""
    return ApiError(401, "BadApiKey", "Disabled API key or insufficient privileges",
                    {"ip": client, "endpoint": raw_path, "apiKeyIdentifier": identifier, "apiKeyType": key_type})


def rate_limited(retry_after: int | None) -> ApiError:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return ApiError(429, "RateLimitExceeded", "Exceeded rate limit.", headers=headers)


def generic_error(status: int) -> ApiError:
    """The answer of an injected 5xx fault."""
    return ApiError(status, "GenericError", "An error occurred. Please try again later.")


def batch_too_large(what: str, count: int, limit: int) -> ApiError:
    """A body over the byte limit (`what` = "bytes"), or a bulk call over its item limit."""
    if what == "bytes":
        return ApiError(400, "BatchTooLarge", f"Request body is {count} bytes; the limit is {limit}")
    return ApiError(400, "BatchTooLarge", f"Request contains {count} {what}; the limit is {limit}")


def bad_json_body(raw_path: str, problems: dict[str, str] | None = None) -> ApiError:
    """An unparseable body (`params: null`) or schema failures at Play-style paths."""
    return ApiError(400, "BadJsonBody", f"[{raw_path}] Invalid JSON body", problems)


def bad_params(msg: str) -> ApiError:
    return ApiError(400, "BadParams", msg)


# ---- identifiers --------------------------------------------------------------------------------

def invalid_email(value: str, label: str = "email") -> ApiError:
    # users/update and events/track say "Invalid email: x"; updateEmail says "Invalid currentEmail x".
    return ApiError(400, "InvalidEmailAddressError", f"Invalid {label}: {value}" if label == "email"
                    else f"Invalid {label} {value}")


def no_user_with_id() -> ApiError:
    """GET users/byUserId/{userId} for an id no user holds: a 400 in plain text (recorded 2017-10-05,
    mtchavez/iterable-api-client spec/cassettes/Iterable_Users/for_id/when_not_found)."""
    return ApiError(400, "", "No user with that id exists!", body=PlainText("No user with that id exists!"),
                    headers={"content-type": "text/plain; charset=utf-8"})


def no_emails(emails: str = "") -> ApiError:
    """users/bulkUpdate with no users (recorded 2017-10-06, Iterable_Users/bulk_update/without_users)."""
    return ApiError(400, "InvalidEmailAddressError", f"Emails invalid: {emails}")


def token_not_registered(owner: str | None) -> ApiError:
    """users/registerDeviceToken with an empty token: a 500 naming the user as Scala's Option prints it
    (recorded 2017-10-11, Iterable_Device/register/without_token)."""
    return ApiError(500, "GenericError", f"Unable to register token to user {f'Some({owner})' if owner else 'None'}")


def invalid_user_id(value: str) -> ApiError:
    return ApiError(400, "InvalidUserIdError", f"Invalid userId: {value}")


def forgotten(which: str, value: str) -> ApiError:
    return ApiError(409, "ForgottenUserError", f"Contact is GDPR forgotten ({which}: {value})")


def unknown_user(field: str, value: str) -> ApiError:
    """An event for a user the mock does not create (MockOptions(events_create_users=False))."""
    code = "UnknownEmailError" if field == "email" else "UnknownUserIdError"
    return ApiError(400, code, f"No user exists with {field} {value}")


def conflict(status: int, field: str, value: str) -> ApiError:
    return ApiError(status, "Conflict", f"Email/userId conflict: {field} {value} belongs to another user")


def email_exists(status: int, email: str) -> ApiError:
    return ApiError(status, "EmailAlreadyExists", f"Email already exists: {email}")


def missing_identifier(field: str) -> ApiError:
    if field == "userId":
        return bad_params("A userId is required in a userID-based project")
    return bad_params("Either email or userId must be provided")


# ---- fields -------------------------------------------------------------------------------------

def types_mismatched(project_id: int, mismatches: dict[str, dict[str, Any]]) -> ApiError:
    key, first = next(iter(mismatches.items()))
    msg = (f"Project {project_id}: The request does not have the same data types as the data previously "
           f"submitted. Field '{key}' already exists for type '{first['category']}' and has a data type of "
           f"'{first['expectedType']}' but possible types '{', '.join(first['incomingTypes'])}' in the request.")
    return ApiError(400, "RequestFieldsTypesMismatched", msg, {"validationErrors": mismatches})


# ---- catalogs -----------------------------------------------------------------------------------

def catalog_exists(name: str) -> ApiError:
    """POST catalogs/{name} for a name taken (recorded 2019-06-01, Iterable_Catalog/create/creating_a_duplicate_catalog)."""
    return bad_params(f"Unable to create a catalog with name: {name}. Make sure the catalog name is unique.")


def catalog_not_found(name: str) -> ApiError:
    """Catalog endpoints answer in their own envelope."""
    return ApiError(404, "NotFound", "", body={
        "error": "NotFound", "message": f"Catalog not found: {name}",
        "code": "error.catalogs.notFound", "data": {"args": [name]}})
