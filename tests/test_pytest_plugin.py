"""The pytest plugin, through inner pytest sessions (pytester) that use its fixtures and markers."""
from __future__ import annotations

import pytest

# Inner sessions run in this process; pytester drops the modules they import when they end. PyYAML
# (its C loader caches the first copy's classes) breaks when re-imported, so keep it imported here.
import yaml  # noqa: F401

from iterable_sim.pytest_plugin import TEST_KEYS

FLOW = '''
import pytest

CONFIG = {{"apiKey": "{api_key}", "registerDeviceOrBrowserApiKey": "{device_key}", "trackAllPages": True,
           "mapToSingleEvent": {single}}}


@pytest.fixture
def iterable_config():
    return dict(CONFIG)


@pytest.mark.vcr
def test_send(iterable_send):
    report = iterable_send(to={to})
    assert report.summary()["requests"] > 0
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner session, without the plugins it does not use that cost a second each to load."""
    return pytester.runpytest("-p", "no:nbval", "-p", "no:hypothesispytest", "-p", "no:anyio", *args)


def flow(*, single: bool = False, to: str = '"server"') -> str:
    return FLOW.format(api_key=TEST_KEYS["apiKey"], device_key=TEST_KEYS["registerDeviceOrBrowserApiKey"],
                       single=single, to=to)


@pytest.fixture
def recorded(pytester: pytest.Pytester) -> pytest.Pytester:
    """An inner project whose test_send has been recorded against the mock server."""
    pytester.makepyfile(test_flow=flow())
    run(pytester, "--record-mode=once").assert_outcomes(passed=1)
    return pytester


def test_fixtures_send_to_the_in_process_mock_and_to_the_server(pytester):
    pytester.makepyfile('''
        def test_in_process(iterable_send, iterable_mock, iterable_events):
            report = iterable_send()
            assert report.summary()["sent"] == len(iterable_events)
            assert not iterable_mock.events_frame().empty

        def test_server(iterable_send, iterable_server):
            report = iterable_send(to="server")
            assert iterable_server.url.startswith("http://127.0.0.1:")
            assert len(iterable_server.mock.journal) == report.summary()["requests"]
    ''')
    run(pytester).assert_outcomes(passed=2)


def test_a_recording_against_the_server_replays_with_no_server_at_all(recorded):
    cassette = recorded.path / "cassettes" / "test_flow" / "test_send.yaml"
    text = cassette.read_text()
    assert "https://api.iterable.com/api/" in text and "127.0.0.1" not in text
    assert not any(key in text for key in TEST_KEYS.values())
    recorded.makepyfile(test_flow=flow(to='"http://127.0.0.1:9"'))  # nothing listens there
    run(recorded).assert_outcomes(passed=1)


def test_a_flipped_setting_fails_the_replay_naming_the_event_and_field(recorded):
    recorded.makepyfile(test_flow=flow(single=True))
    result = run(recorded)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "no recorded interaction matches it" in output
    assert 'userId "user-1", email "alex@example.com", eventName "Application Home page"' in output
    assert 'eventName: recorded "Application Home page", now "Loaded a Page"' in output


RAW = '''
import httpx
import pytest
from iterable_sim.mock import MockIterable


def post(mock, *users):
    with httpx.Client(transport=mock.transport()) as client:
        for user in users:
            client.post("https://api.iterable.com/api/users/update", headers={"Api-Key": "k-0123456789"},
                        json={"userId": user})


@pytest.fixture
def mock():
    mock = MockIterable()
    mock.add_api_key("k-0123456789")
    return mock


@pytest.mark.vcr
def test_calls(mock, request):
    post(mock, *request.config.getoption("users").split(","))


@pytest.mark.vcr
def test_connects(mock):
    import socket
    socket.create_connection(("127.0.0.1", 9), timeout=1)
'''

CONFTEST = '''
def pytest_addoption(parser):
    parser.addoption("--users", dest="users", default="u1,u2")
'''


def test_a_replay_that_leaves_recorded_calls_unmade_fails_and_says_how_to_relax(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_raw=RAW)
    run(pytester, "--record-mode=once", "-k", "test_calls").assert_outcomes(passed=1)
    result = run(pytester, "-k", "test_calls", "--users=u1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 of 2 recorded Iterable call(s) were not made*",
                                 '*POST users/update: userId "u2"*',
                                 "*@pytest.mark.iterable_replay(assert_all_played=False)*"])
    pytester.makepyfile(test_raw=RAW.replace("@pytest.mark.vcr\ndef test_calls",
                                             "@pytest.mark.vcr\n@pytest.mark.iterable_replay(assert_all_played=False)"
                                             "\ndef test_calls"))
    run(pytester, "-k", "test_calls", "--users=u1").assert_outcomes(passed=1)


def test_a_replay_runs_with_the_network_blocked(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_raw=RAW)
    (pytester.path / "cassettes" / "test_raw").mkdir(parents=True)
    (pytester.path / "cassettes" / "test_raw" / "test_connects.yaml").write_text("interactions: []\nversion: 1\n")
    result = run(pytester, "-k", "test_connects")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Network is disabled for host '127.0.0.1'*"])
    pytester.makeini("[pytest]\niterable_sim_block_network = false\n")
    result = run(pytester, "-k", "test_connects")
    result.stdout.fnmatch_lines(["*ConnectionRefusedError*"])
