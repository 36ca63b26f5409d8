"""Consent filtering (`processor/consent.go`, rudder-server f2655fbbe).

Nothing is filtered unless the event's `context.consentManagement.deniedConsentIds` holds a non-empty
string (`processor/consent.go:52-54`). Then, per destination, the first rule that applies decides
(`processor/consent.go:56-94`):

1. the destination's generic `consentManagement` entry for the event's `provider` (strategy `or`: kept unless
   every configured consent is denied; anything else: dropped if any is denied; the strategy is the event's,
   except for provider `custom`, where it is the destination's);
2. for provider "" or "oneTrust": `oneTrustCookieCategories`, dropped if any is denied;
3. for provider "" or "ketch": `ketchConsentPurposes`, dropped only if all are denied;
4. otherwise kept.

The event's object and the destination's `consentManagement` are decoded into Go structs through the JSON
library (sonnet): keys match the field names case-insensitively (sonnet@decoder.go:165-169); a value of the
wrong type fails the whole decoding, which leaves everything empty (cases/consent.json `info.*`, `gcm.3`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from iterable_sim.exceptions import IterableSimError
from iterable_sim.pipeline.gojson import go_json


class _DecodeError(IterableSimError, ValueError):
    """A value of the wrong type for the Go struct it is decoded into."""


def _fields(obj: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The values Go's decoder puts in a struct with these field names: keys are visited as the map was
    written (sorted); a key goes to the field it names exactly, else to one it names in another letter case;
    a later key overwrites an earlier one."""
    found: dict[str, Any] = {}
    for key in sorted(obj, key=str):
        if not isinstance(key, str):
            continue
        name = key if key in names else next((n for n in names if n.lower() == key.lower()), None)
        if name is not None:
            found[name] = obj[key]
    return found


def _string(value: Any) -> str:
    if value is None:  # null leaves a Go string as it is: ""
        return ""
    if not isinstance(value, str):
        raise _DecodeError
    return value


def _string_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _DecodeError
    return [_string(item) for item in value]


@dataclass(frozen=True)
class ConsentInfo:
    """`ConsentManagementInfo` read from an event (`getConsentManagementInfo`, `processor/consent.go:209-230`).
    `denied_consent_ids` is None where Go holds a nil slice (no consent object, or it failed to decode) and a
    list otherwise (empty strings removed); `allowed_consent_ids` is never used by rudder-server."""

    denied_consent_ids: tuple[str, ...] | None = None
    allowed_consent_ids: Any = None
    provider: str = ""
    resolution_strategy: str = ""


def consent_info(event: Mapping[str, Any]) -> ConsentInfo:
    """The event's consent management info (`processor/consent.go:209-230`)."""
    context = event.get("context")
    consent = context.get("consentManagement") if isinstance(context, dict) else None
    if not isinstance(consent, dict):
        return ConsentInfo()
    values = _fields(consent, ("deniedConsentIds", "allowedConsentIds", "provider", "resolutionStrategy"))
    try:
        denied = _string_list(values.get("deniedConsentIds"))
        provider = _string(values.get("provider"))
        strategy = _string(values.get("resolutionStrategy"))
    except _DecodeError:  # consent.go:217-220: an error; the struct stays empty (sonnet)
        return ConsentInfo()
    return ConsentInfo(tuple(item for item in denied or () if item != ""),  # consent.go:222-226 (lo.FilterMap)
                       values.get("allowedConsentIds"), provider, strategy)


def _categories(config: Mapping[str, Any], key: str, item_key: str) -> list[str] | None:
    items = config.get(key)
    if not isinstance(items, list) or not items:
        return None
    return [item[item_key] for item in items
            if isinstance(item, dict) and isinstance(item.get(item_key), str) and item[item_key] != ""]


def onetrust_categories(config: Mapping[str, Any]) -> list[str] | None:
    """`getOneTrustConsentCategories` (`processor/consent.go:127-145`): the non-empty
    `oneTrustCookieCategories[].oneTrustCookieCategory` strings; None when the key is not a non-empty list."""
    return _categories(config, "oneTrustCookieCategories", "oneTrustCookieCategory")


def ketch_purposes(config: Mapping[str, Any]) -> list[str] | None:
    """`getKetchConsentCategories` (`processor/consent.go:147-165`): the non-empty `ketchConsentPurposes[].purpose`."""
    return _categories(config, "ketchConsentPurposes", "purpose")


@dataclass(frozen=True)
class ProviderConsents:
    """`GenericConsentManagementProviderData`: one provider's entry of a destination's `consentManagement`."""

    resolution_strategy: str
    consents: tuple[str, ...]


def generic_consent_data(config: Mapping[str, Any]) -> dict[str, ProviderConsents]:
    """`getGenericConsentManagementData` (`processor/consent.go:167-207`): provider -> its consents. Entries with
    an empty provider or no non-empty consent are left out; a later entry for a provider replaces an earlier
    one; a `consentManagement` that does not decode as a list of entries gives nothing."""
    if "consentManagement" not in config:
        return {}
    try:
        entries = config["consentManagement"]
        if entries is None:
            return {}
        if not isinstance(entries, list):
            raise _DecodeError
        decoded = []
        for entry in entries:
            if entry is None:
                continue  # a null element decodes to an empty entry, which is ignored below
            if not isinstance(entry, dict):
                raise _DecodeError
            values = _fields(entry, ("provider", "resolutionStrategy", "consents"))
            provider = _string(values.get("provider"))
            strategy = _string(values.get("resolutionStrategy"))
            consents_value = values.get("consents")
            if consents_value is not None and not isinstance(consents_value, list):
                raise _DecodeError
            consents = []
            for item in consents_value or ():
                if item is None:
                    consents.append("")
                    continue
                if not isinstance(item, dict):
                    raise _DecodeError
                consents.append(_string(_fields(item, ("consent",)).get("consent")))
            decoded.append((provider, strategy, consents))
    except _DecodeError:  # consent.go:180-184
        return {}
    data: dict[str, ProviderConsents] = {}
    for provider, strategy, consents in decoded:
        ids = tuple(c for c in consents if c != "")
        if consents and provider != "" and ids:
            data[provider] = ProviderConsents(strategy, ids)
    return data


def consent_keeps(info: ConsentInfo, *, generic: Mapping[str, ProviderConsents],
                  onetrust: list[str] | None, ketch: list[str] | None) -> bool:
    """Whether one destination keeps the event, given its consent data (`processor/consent.go:44-95`)."""
    denied = info.denied_consent_ids or ()
    if not denied:  # consent.go:52-54
        return True
    entry = generic.get(info.provider)
    if entry is not None and entry.consents:  # consent.go:58-76
        strategy = entry.resolution_strategy if info.provider == "custom" else info.resolution_strategy
        if strategy == "or":  # kept unless every configured consent is denied
            return not all(consent in denied for consent in entry.consents)
        return not any(consent in denied for consent in entry.consents)  # "and", empty, anything else
    if info.provider in ("", "oneTrust") and onetrust:  # consent.go:79-84
        return not any(category in denied for category in onetrust)
    if info.provider in ("", "ketch") and ketch:  # consent.go:86-91
        return not all(purpose in denied for purpose in ketch)
    return True  # consent.go:93


def consent_allows(event: Mapping[str, Any], destination_config: Mapping[str, Any]) -> bool:
    """Whether a destination with this Config keeps the event under its consent settings."""
    return consent_keeps(consent_info(event), generic=generic_consent_data(destination_config),
                         onetrust=onetrust_categories(destination_config), ketch=ketch_purposes(destination_config))


def consent_explanation(event: Mapping[str, Any], destination_config: Mapping[str, Any]) -> str:
    """Which consent rule dropped the event (for a Stopped fate's reason)."""
    info = consent_info(event)
    denied = go_json(list(info.denied_consent_ids or ()))
    entry = generic_consent_data(destination_config).get(info.provider)
    if entry is not None:
        strategy = entry.resolution_strategy if info.provider == "custom" else info.resolution_strategy
        rule = ("every one of" if strategy == "or" else "one of") + f" its {info.provider} consents"
        return (f"consent: the destination's consentManagement entry for provider {info.provider!r} "
                f"(strategy {strategy or 'and'!r}) and the event denies {rule} {list(entry.consents)} "
                f"(deniedConsentIds {denied}; processor/consent.go:58-76)")
    if info.provider in ("", "oneTrust") and onetrust_categories(destination_config):
        return (f"consent: a OneTrust cookie category of the destination {onetrust_categories(destination_config)} "
                f"is denied (deniedConsentIds {denied}; processor/consent.go:79-84)")
    return (f"consent: every Ketch purpose of the destination {ketch_purposes(destination_config)} is denied "
            f"(deniedConsentIds {denied}; processor/consent.go:86-91)")
