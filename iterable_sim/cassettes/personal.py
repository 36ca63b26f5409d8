"""Personal data out of cassettes: emails, names, phone numbers and addresses become pseudonyms.

Each value becomes a pseudonym derived from it (`person-1f3a9c2e@example.invalid`, `name-5b0c…`),
the same on every run and machine, so a replay (whose request is pseudonymised the same way before
it is compared) still matches, and a changed value still shows as changed. Pseudonyms are not
anonymous: whoever holds a list of candidate emails can test them against one.

Left as they are: emails at domains reserved for examples and tests (RFC 2606 and 6761:
example.com/.net/.org, *.example, *.test, *.invalid, localhost), which are nobody's; and userId,
an identifier the pairing of calls and items depends on.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
RESERVED_DOMAINS = re.compile(r"(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$", re.I)
PSEUDONYM = re.compile(r"^(?:name|phone|address)-[0-9a-f]{8}$")


def _folded(name: Any) -> str:
    return re.sub(r"[-_\s]", "", str(name).lower())


NAME_FIELDS = frozenset({"firstname", "lastname", "fullname", "middlename", "maidenname"})
PROFILE_NAME_FIELDS = frozenset({"name", "username"})  # a person's name in a profile; a product's name elsewhere
PHONE_FIELDS = frozenset({"phone", "phonenumber", "mobile", "mobilenumber", "mobilephone", "cellphone", "telephone"})
ADDRESS_FIELDS = frozenset({"address", "addressline1", "addressline2", "address1", "address2", "street",
                            "streetaddress", "postalcode", "postcode", "zip", "zipcode"})
PROFILE_ENDPOINTS = ("users/update", "users/bulkUpdate")


def is_profile_call(path: str) -> bool:
    """A user-profile write (where `name` is a person's): the `profile` of pseudonymize_json."""
    return path.split("/api/", 1)[-1] in PROFILE_ENDPOINTS


def _digest(value: Any) -> str:
    return hashlib.sha256(f"iterable_sim:{value}".encode()).hexdigest()[:8]


def _email(match: re.Match[str]) -> str:
    text = match.group(0)
    at = "%40" if "%40" in text and "@" not in text else "@"
    domain = text.rsplit(at, 1)[1]
    if RESERVED_DOMAINS.search(domain):
        return text
    return f"person-{_digest(text.replace('%40', '@').lower())}{at}example.invalid"


def pseudonymize_text(text: str) -> str:
    """`text` with every email address (not at a reserved domain) replaced by its pseudonym."""
    return EMAIL.sub(_email, text) if ("@" in text or "%40" in text) else text


def _pseudonym(kind: str, value: Any) -> Any:
    if value is None or value == "" or isinstance(value, bool):
        return value
    if isinstance(value, str) and PSEUDONYM.match(value):
        return value
    if isinstance(value, dict):
        return {k: _pseudonym(kind, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pseudonym(kind, v) for v in value]
    return f"{kind}-{_digest(value)}"


def pseudonymize_json(value: Any, *, profile: bool = False) -> Any:
    """A parsed JSON body with personal data replaced; `profile` for user-profile calls, where
    `name` is a person's name rather than a product's or a page's."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            folded = _folded(key)
            if folded in NAME_FIELDS or (profile and folded in PROFILE_NAME_FIELDS):
                out[key] = _pseudonym("name", item)
            elif folded in PHONE_FIELDS:
                out[key] = _pseudonym("phone", item)
            elif folded in ADDRESS_FIELDS:
                out[key] = _pseudonym("address", item)
            else:
                out[key] = pseudonymize_json(item, profile=profile)
        return out
    if isinstance(value, list):
        return [pseudonymize_json(item, profile=profile) for item in value]
    if isinstance(value, str):
        return pseudonymize_text(value)
    return value
