"""Which known rudder-transformer release a requested one maps as (iterable_sim.mapping.releases)."""
from __future__ import annotations

import dataclasses

import pytest

import iterable_sim as its
from iterable_sim.mapping.releases import (
    KNOWN_RELEASES, NEWEST, RULES, RULES_BY_NAME, UnknownReleaseError, changes_between, known_list, release_number,
    resolve_release,
)


def test_the_default_is_the_newest_known_release_with_no_warning():
    settings = its.Settings()
    assert settings.rudderstack == "latest" and settings.release is NEWEST and settings.release.is_latest
    assert not any("release" in warning for warning in settings.warnings)
    assert "rudderstack" not in repr(settings)


@pytest.mark.parametrize("name", ["v1.106.1", "1.106.1", " v1.106.1 ", "a0d43259"])
def test_a_known_release_by_tag_or_commit_maps_as_itself(name):
    release, warning = resolve_release(name)
    assert release.tag == "v1.106.1" and warning is None


def test_a_release_between_two_known_ones_maps_as_the_one_before_and_names_what_it_misses():
    settings = its.Settings(rudderstack="v1.90.0")
    assert settings.release.tag == "v1.88.2"
    (warning,) = [w for w in settings.warnings if "v1.90.0" in w]
    assert "mapping as v1.88.2" in warning
    assert "v1.88.3 (a986138d4)" in warning  # the token fix v1.88.2 lacks and v1.90.0 has
    assert "rudderstack='v1.90.0'" in repr(settings)


def test_a_release_newer_than_all_maps_as_latest_and_says_so():
    release, warning = resolve_release("v1.200.0")
    assert release is NEWEST
    assert warning is not None and "mapping as latest" in warning and "not known" in warning


@pytest.mark.parametrize("name", ["v1.50.0", "v0.1.0"])
def test_a_release_older_than_the_oldest_is_refused_with_the_list(name):
    with pytest.raises(UnknownReleaseError) as caught:
        its.Settings(rudderstack=name)
    assert "v1.84.0 is the oldest" in str(caught.value) and known_list() in str(caught.value)
    assert isinstance(caught.value, its.IterableSimError)


@pytest.mark.parametrize("name", ["newest", "", 106])
def test_what_is_not_a_release_is_refused_with_the_list(name):
    with pytest.raises(UnknownReleaseError, match="known: v1.84.0, v1.88.2"):
        resolve_release(name)


def test_from_rudder_takes_the_release_and_replace_keeps_it_checked():
    settings = its.Settings.from_rudder({"apiKey": "k", "trackAllPages": True}, rudderstack="v1.96.0")
    assert settings.release.tag == "v1.96.0"
    assert dataclasses.replace(its.Settings(), rudderstack="v1.84.0").release.tag == "v1.84.0"
    with pytest.raises(UnknownReleaseError):
        dataclasses.replace(its.Settings(), rudderstack="v1.1.0")


def test_settings_of_two_releases_differ():
    assert its.Settings(rudderstack="v1.96.0") != its.Settings()


def test_each_rule_is_had_from_its_release_on():
    for rule in RULES:
        for release in KNOWN_RELEASES:
            assert release.has(rule.name) == (release.number >= release_number(rule.since))
    assert NEWEST.has("external_id_guard") and not KNOWN_RELEASES[0].has("eu_data_center")


def test_changes_between_two_releases_are_the_rules_in_between_either_way():
    old, new = resolve_release("v1.96.0")[0], NEWEST
    names = [rule.name for rule in changes_between(old, new)]
    assert names == [rule.name for rule in changes_between(new, old)]
    assert "track_bulk_chunks" in names and "endpoint_path" in names and "eu_data_center" not in names
    assert changes_between(new, new) == []
    assert RULES_BY_NAME["endpoint_path"].describe().startswith("v1.108.0 (840ba5cf0): ")


def test_the_known_releases_are_in_order_oldest_first():
    numbers = [release.number for release in KNOWN_RELEASES]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
