"""Keeping API keys out of reprs, logs, journals and cassettes."""
from __future__ import annotations

from typing import Any

SECRET_HEADERS = frozenset({"api_key", "api-key", "authorization"})


def mask(key: Any) -> str:
    """A key shown by its first four characters only: enough to tell keys apart, not to use one."""
    if key is None:
        return "None"
    text = str(key)
    return text[:4] + "…" if len(text) > 4 else "…"


def masked_headers(headers: Any) -> dict[str, Any]:
    return {k: (mask(v) if str(k).lower() in SECRET_HEADERS else v) for k, v in dict(headers).items()}
