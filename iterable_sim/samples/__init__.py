"""Sample RudderStack events: every event type and every case the settings change, for demos and tests."""
from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any


# events.json is an events file like any other (`iterable-sim map iterable_sim/samples/events.json`);
# about.json says what each event shows, by its messageId.


@cache
def _read(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath(name).read_text("utf-8"))


def sample_events() -> list[dict[str, Any]]:
    """The sample events (fresh copies: change them freely)."""
    return copy.deepcopy(_read("events.json"))


def sample_descriptions() -> list[str]:
    """What each sample event shows, in the same order as sample_events()."""
    about = _read("about.json")
    return [about[event["messageId"]] for event in _read("events.json")]


SEED_PAGE_SETTINGS: dict[str, dict[str, Any]] = {
    "track_all_pages": {"trackAllPages": True},
    "track_categorised_pages": {"trackAllPages": False, "trackCategorisedPages": True},
    "track_named_pages": {"trackAllPages": False, "trackNamedPages": True},
    "map_to_single_event": {"trackAllPages": True, "mapToSingleEvent": True},
    "prefer_user_id_off": {"trackAllPages": True, "preferUserId": False},
    "merge_nested_objects_off": {"trackAllPages": True, "mergeNestedObjects": False},
    "eu_data_center": {"trackAllPages": True, "dataCenter": "EUDC"},
}
"""The settings the seed documentation page describes, each as a RudderStack Config fragment."""
