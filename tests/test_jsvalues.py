import pytest

from iterable_sim.mapping.jsvalues import (NAN, UNDEFINED, date_ms, js_get, js_string, parse_float, parse_int, path_getter,
                                   set_value, truthy)


@pytest.mark.parametrize("value,text", [
    (1, "1"), (1.5, "1.5"), (1e21, "1e+21"), (1.5e-7, "1.5e-7"), (0.000001, "0.000001"), (123456789012.5, "123456789012.5"),
    (-0.0, "0"), (100.0, "100"), (True, "true"), (None, "null"), ([1, [2, None], "a"], "1,2,,a"), ({}, "[object Object]"),
    (2**70, "1.1805916207174113e+21"),
    # beyond 2**53 JavaScript holds the nearest double, and prints its shortest digits
    (2**53, "9007199254740992"), (2**60, "1152921504606847000"), (float(2**60), "1152921504606847000"),
    (123456789012345678, "123456789012345680"), (-(2**60), "-1152921504606847000"),
])
def test_js_string(value, text):
    assert js_string(value) == text


@pytest.mark.parametrize("value,truth", [("", False), ("0", True), (0, False), (0.0, False), ([], True), ({}, True),
                                         (None, False), (UNDEFINED, False), (NAN, False), (False, False)])
def test_truthy(value, truth):
    assert truthy(value) is truth


def test_parse_helpers():
    assert parse_int("  42px") == 42 and parse_int("-0x1") == 0 and parse_int(".5") is NAN
    assert parse_float("3.25.1") == 3.25 and parse_float(".5") == 0.5 and parse_float("-Infinity") is NAN


def test_js_get_follows_get_value():
    message = {"a": {"b": [10, {"c": 3}]}, "x.y": 1, "s": "str"}
    assert js_get(message, ("a", "b", "1", "c")) == 3
    assert js_get(message, ("a", "b", "length")) == 2
    assert js_get(message, ("x", "y")) == 1  # a key holding a dot
    assert js_get(message, ("s", "length")) is UNDEFINED
    assert js_get("plain", ("any",)) == "plain"  # a non-object target comes back as it is


def test_date_ms():
    assert date_ms("2020-08-28T16:26:06.468Z") == 1598631966468
    assert date_ms("+002020-08-28T16:26:06.468Z") == 1598631966468
    assert date_ms("2020-08-28T24:00:00Z") == 1598659200000
    assert date_ms(8.64e15 + 1) is NAN and date_ms([]) is NAN and date_ms(UNDEFINED) is NAN


@pytest.mark.parametrize("text,ms", [  # each as node 20 reads it (new Date(text).getTime(), TZ=UTC)
    ("2024-01-01T10:00:00+02:00", 1704096000000), ("2024-01-01T10:00:00-0530", 1704123000000),
    ("2024-01-01T10:00:00.1239Z", 1704103200123), ("2024-01-01T10:00:00.5", 1704103200500),
    ("2024-01-01T24:00Z", 1704153600000),
    ("-000000-01-01T00:00:00Z", NAN), ("2024-13-01T00:00:00Z", NAN), ("2024-00-10", NAN),
    ("2024-01-01T24:00:01Z", NAN), ("2024-01-01T10:60:00Z", NAN), ("2024-01-01T10:00:00+24:00", NAN),
    ("2024-01-01T10:00:00+05:60", NAN),
])
def test_date_ms_of_iso_dates_in_and_out_of_range(text, ms):
    assert date_ms(text) is ms if ms is NAN else date_ms(text) == ms


def test_date_ms_rolls_days_past_a_months_end_over_as_v8_does():
    assert date_ms("2024-02-30T00:00:00Z") == date_ms("2024-03-01T00:00:00Z")
    assert date_ms("2024-04-31T00:00:00Z") == date_ms("2024-05-01T00:00:00Z")
    assert date_ms("2024-02-32T00:00:00Z") is NAN


def test_path_getter_reads_a_key_holding_dots_as_get_value_does():
    get = path_getter(("context", "traits", "email"))
    assert get({"context": {"traits": {"email": "a"}}}) == "a"
    assert get({"context.traits.email": "whole", "context": {"traits": {"email": "a"}}}) == "whole"
    assert get({"context": {"traits.email": "joined"}}) == "joined"
    assert get({"context": {"traits": "not an object"}}) is UNDEFINED
    assert path_getter(("a", "b"))({"a.b": 1, "a": {"b": 2}}) == 1


@pytest.mark.parametrize("path,expected", [
    ("email", {"keep": 1, "email": "V"}),
    ("a.b", {"keep": 1, "a": {"b": "V"}}),
    ("a.0", {"keep": 1, "a": ["V"]}),  # a part that reads as an integer makes an array
    ("a/b.c", {"keep": 1, "a/b.c": "V"}),  # a path holding a slash is one key
    ("a\\.b", {"keep": 1, "a.b": "V"}),
    (["p", "q"], {"keep": 1, "p": {"q": "V"}}),
    ("", {"keep": 1}), (None, {"keep": 1}), (3, {"keep": 1}),  # setValue sets nothing
])
def test_set_value_follows_set_value_and_never_changes_its_target(path, expected):
    target = {"keep": 1}
    assert set_value(target, path, "V") == expected
    assert target == {"keep": 1}


def test_set_value_of_undefined_deletes_and_an_object_path_is_a_type_error():
    assert set_value({"email": "x", "k": 1}, "email", UNDEFINED) == {"k": 1}
    with pytest.raises(TypeError, match="Object keys must be strings or symbols"):
        set_value({}, {"o": 1}, "V")


def test_set_value_defines_a_path_holding_a_reserved_key_as_one_property_and_fails_on_a_non_object():
    assert set_value({"k": 1}, "x.constructor", "V") == {"k": 1, "x.constructor": "V"}
    for target in (5, "traits", None):
        with pytest.raises(TypeError, match="Object.defineProperty called on non-object"):
            set_value(target, "__proto__", "V")
    assert set_value(5, "email", "V") == 5  # any other path sets nothing on a non-object
