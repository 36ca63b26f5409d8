"""The `iterable_mock` fixture is strict, as pytest-httpx's is: requests Iterable would not serve
fail the test at teardown, each named, with the way to relax the check."""
from __future__ import annotations

import pytest

# Inner sessions run in this process; keep PyYAML imported here (its C loader breaks when re-imported).
import yaml  # noqa: F401

MISTAKES = '''
import httpx
import pytest


def call(mock, path, key="pytest-api-key-3c1e9b07"):
    with httpx.Client(transport=mock.transport()) as client:
        return client.get(f"https://api.iterable.com/api/{path}", headers={"api_key": key})


{marker}
def test_mistakes(iterable_mock):
    assert call(iterable_mock, "events/trackEverything").status_code == 404
    assert call(iterable_mock, "users/a@example.com", key="typo-key-0000").status_code == 401
    assert call(iterable_mock, "users/a@example.com").status_code == 200


def test_a_clean_send_passes(iterable_send, iterable_mock):
    assert iterable_send().summary()["delivered"] > 0
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:nbval", "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:recording",
                              *args)


def test_requests_iterable_would_not_serve_fail_at_teardown_each_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=MISTAKES.replace("{marker}", ""))
    result = run(pytester)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_mistakes*",
        "iterable_mock received 2 request(s) Iterable would not serve:",
        "  GET https://api.iterable.com/api/events/trackEverything: 404, Iterable has no such endpoint",
        "  GET https://api.iterable.com/api/users/a@example.com: 401, the API key 'typo…' is not one the mock "
        "accepts in the US data center",
        "*@pytest.mark.iterable_mock(strict=False)*iterable_sim_strict_mock = false*"])


def test_the_marker_relaxes_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=MISTAKES.replace("{marker}", "@pytest.mark.iterable_mock(strict=False)"))
    run(pytester).assert_outcomes(passed=2)


def test_the_ini_option_relaxes_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=MISTAKES.replace("{marker}", ""))
    pytester.makeini("[pytest]\niterable_sim_strict_mock = false\n")
    run(pytester).assert_outcomes(passed=2)
