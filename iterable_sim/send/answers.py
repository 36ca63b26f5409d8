"""Iterable's answers, read for people: a refusal in one line, its code and message, the items a call carried."""
from __future__ import annotations

from typing import Any

import orjson

from iterable_sim.mapping.request import Request


def readable(error: Any) -> str:
    """Iterable's answer in a line: "BadJsonBody: Invalid JSON body (obj.events[2].eventName: Missing
    required field)", from its JSON (attribution passes whole-request answers on as JSON text)."""
    body = error
    if isinstance(error, str) and error.startswith("{"):
        try:
            body = orjson.loads(error)
        except orjson.JSONDecodeError:
            return error
    if not isinstance(body, dict):
        return str(error)
    answer = answer_fields(body)
    message = str(answer["msg"] or "").split("] ", 1)[-1]  # Iterable prefixes its msg with "[/api/path] "
    params = body.get("params")
    details = "; ".join(f"{k}: {v}" for k, v in params.items()) if isinstance(params, dict) and params else ""
    return f"{answer['code']}: {message}" + (f" ({details})" if details else "")


def answer_fields(body: Any) -> dict[str, Any]:
    """Iterable's code and message from an answer (its API and its catalog API word them differently)."""
    if not isinstance(body, dict):
        return {"code": None, "msg": body if isinstance(body, str) else None}
    return {"code": body.get("code"), "msg": body.get("msg", body.get("message"))}


def item_count(request: Request) -> int:
    body = request.json if isinstance(request.json, dict) else {}
    for key in ("users", "events"):
        if isinstance(body.get(key), list):
            return len(body[key])
    if isinstance(body.get("documents"), dict):
        return len(body["documents"])
    return 1
