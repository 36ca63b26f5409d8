"""Iterable's answer envelopes, and the exception a handler raises to fail a whole request."""
from __future__ import annotations

from typing import Any


def envelope(msg: str = "", code: str = "Success", params: Any = None) -> dict[str, Any]:
    """The standard `{"msg", "code", "params"}` body of most Iterable answers."""
    return {"msg": msg, "code": code, "params": params}


class ApiError(Exception):
    """A whole request fails: `status` with `body` (an envelope unless given otherwise)."""

    def __init__(self, status: int, code: str, msg: str, params: Any = None, *,
                 body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.body = envelope(msg, code, params) if body is None else body
        self.headers = headers or {}


def bad_params(msg: str) -> ApiError:
    return ApiError(400, "BadParams", msg)


def invalid_email(value: str, label: str = "email") -> ApiError:
    # users/update and events/track say "Invalid email: x"; updateEmail says "Invalid currentEmail x".
    return ApiError(400, "InvalidEmailAddressError", f"Invalid {label}: {value}" if label == "email"
                    else f"Invalid {label} {value}")


def invalid_user_id(value: str) -> ApiError:
    return ApiError(400, "InvalidUserIdError", f"Invalid userId: {value}")


def forgotten(which: str, value: str) -> ApiError:
    return ApiError(409, "ForgottenUserError", f"Contact is GDPR forgotten ({which}: {value})")


def catalog_not_found(name: str) -> ApiError:
    """Catalog endpoints answer in their own envelope."""
    return ApiError(404, "NotFound", "", body={
        "error": "NotFound", "message": f"Catalog not found: {name}",
        "code": "error.catalogs.notFound", "data": {"args": [name]}})


def rate_limited(retry_after: int | None) -> ApiError:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return ApiError(429, "RateLimitExceeded", "Exceeded rate limit.", headers=headers)
