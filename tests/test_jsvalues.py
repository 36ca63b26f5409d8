import pytest

from iterable_sim.jsvalues import NAN, UNDEFINED, date_ms, js_get, js_string, parse_float, parse_int, truthy


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
