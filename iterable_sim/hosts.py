"""Iterable's hosts and data centers: the one place the rest of the package (mapping, delivery, the
mock, cassettes) learns which host is which data center."""
from __future__ import annotations

from types import MappingProxyType
from urllib.parse import urlsplit

DATA_CENTERS = ("US", "EU")
HOSTS = MappingProxyType({"api.iterable.com": "US", "api.eu.iterable.com": "EU"})  # Iterable's hosts, their data center
BASE_URLS = MappingProxyType({"USDC": "https://api.iterable.com/api/", "EUDC": "https://api.eu.iterable.com/api/"})


def is_iterable_url(url: str) -> bool:
    """Whether a URL (or a bare host) names Iterable itself, in any letter case: where the live-send
    guards apply."""
    return urlsplit(url if "//" in url else f"//{url}").hostname in HOSTS


def data_center_of(url: str) -> str:
    """"EU" for a URL on Iterable's EU host, else "US"."""
    return HOSTS.get(urlsplit(url).hostname or "", "US")
