import pytest

import iterable_sim as its
from iterable_sim import Settings, SettingsError


def test_direct_settings_are_checked():
    with pytest.raises(SettingsError, match="data_center must be 'USDC' or 'EUDC', got 'EU'"):
        Settings(data_center="EU")
    with pytest.raises(SettingsError, match="prefer_user_id must be True or False, got 'true'"):
        Settings(prefer_user_id="true")
    with pytest.raises(SettingsError, match="api_key must be a string"):
        Settings(api_key=123)


def test_repr_never_shows_keys_in_full():
    settings = Settings(api_key="sk-live-0123456789", register_device_or_browser_api_key="device-secret-key")
    text = repr(settings)
    assert "sk-live-0123456789" not in text and "device-secret-key" not in text
    assert "sk-l…" in text and "devi…" in text
    assert "sk-live-0123456789" not in repr(Settings.from_rudder({"apiKey": "sk-live-0123456789"}))


def test_from_rudder_defaults_match_rudderstack():
    settings = Settings.from_rudder({"apiKey": "k", "trackAllPages": True})
    assert settings.prefer_user_id is True and settings.merge_nested_objects is True
    assert settings.base_url == "https://api.iterable.com/api/"
    assert settings.warnings == ()


@pytest.mark.parametrize("center", ["eudc", "EU", "", "EDC", None])
def test_unknown_data_center_silently_means_us_with_a_warning(center):
    settings = Settings.from_rudder({"apiKey": "k", "dataCenter": center, "trackAllPages": True})
    assert settings.base_url == "https://api.iterable.com/api/"
    assert any("neither 'USDC' nor 'EUDC'" in w for w in settings.warnings)


def test_eu_data_center():
    assert Settings.from_rudder({"dataCenter": "EUDC", "trackAllPages": True}).base_url == \
        "https://api.eu.iterable.com/api/"


def test_string_booleans_pass_through_with_warnings():
    settings = Settings.from_rudder({"preferUserId": "true", "trackAllPages": "false", "mapToSingleEvent": "true"})
    assert settings.prefer_user_id == "true"  # sent as a string, as RudderStack sends it
    assert settings.track_all_pages == "false"
    text = " | ".join(settings.warnings)
    assert "preferUserId is 'true', not a boolean" in text
    assert "trackAllPages is 'false', not a boolean: JavaScript counts it as on" in text
    assert "mapToSingleEvent is 'true'" in text


def test_unknown_keys_are_ignored_with_a_hint():
    settings = Settings.from_rudder({"trackCategorizedPages": True, "trackAllPages": True, "somethingElse": 1})
    assert settings.track_categorised_pages is False
    assert "unknown key 'trackCategorizedPages' is ignored (did you mean 'trackCategorisedPages'?)" in settings.warnings
    assert "unknown key 'somethingElse' is ignored" in settings.warnings


def test_no_page_setting_on_warns_that_pages_are_dropped():
    assert any("every page and screen event is rejected" in w for w in Settings.from_rudder({}).warnings)
    assert any("every page and screen event is rejected" in w for w in Settings(track_all_pages=False).warnings)


def test_to_rudder_round_trips():
    settings = Settings(api_key="k", data_center="EUDC", track_named_pages=True, prefer_user_id=False)
    assert Settings.from_rudder(settings.to_rudder()) == settings


@pytest.mark.parametrize("config", ["x", ["apiKey", "k"], 5])
def test_from_rudder_with_something_not_a_config(config):
    with pytest.raises(its.SettingsError, match="takes a RudderStack destination Config"):
        its.Settings.from_rudder(config)


def test_a_whole_destination_given_to_from_rudder_says_so():
    settings = its.Settings.from_rudder({"Config": {"apiKey": "k"}})
    assert "a whole destination was given: pass its 'Config'" in settings.warnings[0]


@pytest.mark.parametrize("center, url", [(["EUDC"], "https://api.eu.iterable.com/api/"),
                                         (["EU"], "https://api.iterable.com/api/"),
                                         ({"EU": 1}, "https://api.iterable.com/api/")])
def test_a_data_center_that_is_not_a_string_is_read_as_javascript_reads_it(center, url):
    # RudderStack looks BASE_URL[dataCenter] up by the value's string form: ["EUDC"] is "EUDC"
    # (checked against RudderStack's code: ../shared/rudderstack, `process` with these configs)
    settings = its.Settings.from_rudder({"apiKey": "k", "dataCenter": center, "trackAllPages": True})
    assert settings.base_url == url
    assert any("not a string: JavaScript reads it as" in w for w in settings.warnings)


def test_settings_built_directly_refuse_a_data_center_list():
    with pytest.raises(its.SettingsError, match="data_center must be 'USDC' or 'EUDC'"):
        its.Settings(data_center=["EU"])


def test_from_rudder_says_what_each_odd_key_does():
    settings = Settings.from_rudder({"apiKey": 123, "trackAllPages": True, "Config": {"apiKey": "k"}})
    assert settings.warnings == (
        "unknown key 'Config' is ignored (a whole destination was given: pass its 'Config')",
        "apiKey is a int, not a string: it is sent as it is")
    assert settings.api_key == 123 and settings.rudder_config == {"apiKey": 123, "trackAllPages": True,
                                                                  "Config": {"apiKey": "k"}}
