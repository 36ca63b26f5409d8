"""What people know events and requests by: an event's name, and the person a request is about."""
from __future__ import annotations

from typing import Any


def identity(body: dict[str, Any]) -> tuple[Any, Any]:
    """(email, userId) of a request body: its own, or its `user`'s; an email change's current email."""
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else body
    email = user.get("email", body.get("currentEmail"))
    return email, user.get("userId")


def event_name(event: Any) -> Any:
    """The name a person knows an event by: a track's `event`, a page's or screen's `name`."""
    if not isinstance(event, dict):
        return None
    return event.get("event") if str(event.get("type", "")).lower() == "track" else event.get("name")
