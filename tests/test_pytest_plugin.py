"""The pytest plugin, through inner pytest sessions (pytester) that use its fixtures and markers, as a
user's repository would: Iterable tests next to vcr tests that have nothing to do with Iterable."""
from __future__ import annotations

import json

import pytest

# Inner sessions run in this process; pytester drops the modules they import when they end. PyYAML
# (its C loader caches the first copy's classes) breaks when re-imported, so keep it imported here.
import yaml  # noqa: F401

from iterable_sim import Settings
from iterable_sim.cli import main
from iterable_sim.pytest_plugin import TEST_KEYS

PAYMENTS = '''
import socket

import httpx
import pytest

ORIGINAL_CONNECT = socket.socket.connect


def charge(host):
    """A call to another service (an in-process httpx mock, so no network is needed to record it)."""
    def answer(request):
        with open("charged.log", "a") as log:
            log.write("charged\\n")
        return httpx.Response(200, json={"charged": True})
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        return client.post(f"https://{host}/v1/charges", json={"amount": 5},
                           headers={"Authorization": "Bearer sk_test_0123456789", "X-Trace": "t-1"}).json()
'''

FLOW = PAYMENTS + '''

@pytest.fixture
def iterable_config():
    return __CONFIG__


@pytest.mark.vcr
def test_payments(request):
    assert socket.socket.connect is ORIGINAL_CONNECT  # no network block outside Iterable tests
    assert charge(request.config.getoption("host")) == {"charged": True}


@pytest.mark.vcr
def test_send(iterable_send, iterable_events, request):
    __BODY__
'''

CONFTEST = '''
def pytest_addoption(parser):
    parser.addoption("--host", default="pay.example.com")
    parser.addoption("--count", type=int, default=24)
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner session, without the plugins it does not use that cost a second each to load."""
    return pytester.runpytest("-p", "no:nbval", "-p", "no:hypothesispytest", "-p", "no:anyio", "-ra", *args)


def config(**changes: object) -> str:
    return repr({**TEST_KEYS, "trackAllPages": True, **changes})


def flow(pytester: pytest.Pytester, *, body: str = 'assert iterable_send(to="server").summary()["requests"] > 0',
         **changes: object) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_flow=FLOW.replace("__CONFIG__", config(**changes)).replace("__BODY__", body))


def cassette(pytester: pytest.Pytester, test: str = "test_send", suffix: str = "yaml") -> str:
    return (pytester.path / "cassettes" / "test_flow" / f"{test}.{suffix}").read_text()


# ---------------------------------------------------------------- Why 1: scoped to Iterable tests


def test_a_vcr_test_that_is_not_about_iterable_runs_exactly_as_with_plain_pytest_recording(pytester):
    flow(pytester)
    run(pytester, "--record-mode=once").assert_outcomes(passed=2)
    with_plugin = cassette(pytester, "test_payments")
    (pytester.path / "cassettes" / "test_flow" / "test_payments.yaml").unlink()
    run(pytester, "-p", "no:iterable_sim", "--record-mode=once", "-k", "test_payments").assert_outcomes(passed=1)
    assert cassette(pytester, "test_payments") == with_plugin  # byte for byte what pytest-recording writes
    assert "x-trace" in with_plugin and "sk_test_0123456789" in with_plugin  # its headers are its own business
    assert "https://api.iterable.com/api/" in cassette(pytester) and "iterable_sim:" in cassette(pytester)
    # replayed against another host: plain vcrpy matching (host and port count) fails it; the Iterable test passes
    result = run(pytester, "--host=pay-b.example.com")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAILED test_flow.py::test_payments - vcr.errors.CannotOverwrite*"])


# ---------------------------------------------------------------- Why 3 and 4: one way to accept


def test_accepting_a_change_records_the_iterable_calls_again_and_keeps_no_stale_call(pytester):
    flow(pytester, body='charge("pay.example.com")\n    '
                        'iterable_send(iterable_events[:request.config.getoption("count")], to="server")')
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    recorded = cassette(pytester).count("- request:")
    result = run(pytester, "-k", "test_send", "--count=10")  # fewer events: recorded calls go unmade
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*recorded call(s) not made*", "*pytest --iterable-accept 'test_flow.py::test_send'*"])
    charged = (pytester.path / "charged.log").read_text().count("charged")
    run(pytester, "--iterable-accept", "-k", "test_send", "--count=10").assert_outcomes(passed=1)
    assert (pytester.path / "charged.log").read_text().count("charged") == charged  # the other call was replayed
    text = cassette(pytester)
    assert text.count("- request:") < recorded and "pay.example.com" in text
    run(pytester, "-k", "test_send", "--count=10").assert_outcomes(passed=1)  # strict replay: nothing stale left


def test_cassettes_diff_reads_a_pytest_cassettes_events_file_as_it_is_now(pytester, capsys):
    events = [{"type": "track", "event": "Email Opened", "userId": "u1", "properties": {"subject": "Hi"},
               "messageId": "m1", "timestamp": "2024-05-01T10:00:00.000Z"}]
    (pytester.path / "events.jsonl").write_text(json.dumps(events[0]) + "\n")
    pytester.makeini("[pytest]\niterable_sim_events = events.jsonl\n")
    flow(pytester)
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    assert "events: ../../events.jsonl" in cassette(pytester)
    assert main(["cassettes", "diff", str(pytester.path / "cassettes")]) == 0
    capsys.readouterr()
    events[0]["properties"]["subject"] = "Hello"
    (pytester.path / "events.jsonl").write_text(json.dumps(events[0]) + "\n")
    assert main(["cassettes", "diff", str(pytester.path / "cassettes")]) == 1
    assert 'dataFields.subject: recorded "Hi", now "Hello"' in capsys.readouterr().out


# ---------------------------------------------------------------- Why 5: keys and personal data


def test_no_key_is_written_whatever_serializer_and_hooks_the_user_configures(pytester):
    flow(pytester)
    pytester.makepyfile(test_direct='''
import httpx
import pytest

@pytest.mark.vcr
def test_direct_call_without_iterable_fixtures():
    def answer(request):
        return httpx.Response(200, json={"msg": "key " + request.headers["Api-Key"], "code": "Success"})
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        client.post("https://api.iterable.com/api/events/track", headers={"Api-Key": "live-key-0123456789abcdef"},
                    json={"email": "a@example.com", "eventName": "x"})
''')
    (pytester.path / "conftest.py").write_text(CONFTEST + '''
import pytest

@pytest.fixture
def vcr_config():
    return {"serializer": "json", "before_record_request": lambda request: request}
''')
    run(pytester, "--record-mode=once").assert_outcomes(passed=3)
    written = {p.name: p.read_text() for p in (pytester.path / "cassettes").rglob("*.json")}
    assert set(written) == {"test_send.json", "test_payments.json", "test_direct_call_without_iterable_fixtures.json"}
    keys = [*TEST_KEYS.values(), "live-key-0123456789abcdef"]
    assert not [(name, key) for name, text in written.items() for key in keys if key in text]
    assert "<API_KEY>" in written["test_direct_call_without_iterable_fixtures.json"]
    run(pytester).assert_outcomes(passed=3)


PERSON = {"type": "identify", "userId": "u-77", "messageId": "m-77", "timestamp": "2024-05-01T10:00:00.000Z",
          "traits": {"email": "jane.doe@gmail.com", "firstName": "Jane", "lastName": "Doe",
                     "phone": "+33 6 12 34 56 78", "address": {"street": "12 rue Oberkampf", "city": "Paris"},
                     "plan": "pro"}}


def test_personal_data_is_pseudonymised_by_default_and_replays_still_match(pytester):
    flow(pytester, body=f"iterable_send(events=[{PERSON!r}])")
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    text = cassette(pytester)
    assert not [v for v in ("jane.doe@gmail.com", "Jane", "Doe", "12 34 56", "Oberkampf", "Paris") if v in text]
    assert "@example.invalid" in text and '"plan": "pro"' in text and '"userId": "u-77"' in text
    run(pytester, "-k", "test_send").assert_outcomes(passed=1)
    changed = {**PERSON, "traits": {**PERSON["traits"], "lastName": "Smith"}}
    flow(pytester, body=f"iterable_send(events=[{changed!r}])")
    result = run(pytester, "-k", "test_send")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*dataFields.lastName: recorded "name-*", now "name-*"'])


def test_personal_data_is_kept_when_the_repository_says_so(pytester):
    pytester.makeini("[pytest]\niterable_sim_personal_data = keep\n")
    flow(pytester, body=f"iterable_send(events=[{PERSON!r}])")
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    assert "jane.doe@gmail.com" in cassette(pytester) and "Oberkampf" in cassette(pytester)
    run(pytester, "-k", "test_send").assert_outcomes(passed=1)


# ---------------------------------------------------------------- Why 6: network blocking, scoped


def test_an_iterable_replay_blocks_other_machines_only_and_the_error_names_the_switch(pytester):
    flow(pytester, body='''iterable_send()
    with pytest.raises(ConnectionRefusedError):  # this machine: allowed (a local service)
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    if request.config.getoption("host") != "skip":
        socket.create_connection(("192.0.2.1", 443), timeout=1)''')
    run(pytester, "--record-mode=once", "-k", "test_send", "--host=skip").assert_outcomes(passed=1)
    result = run(pytester, "-k", "test_send")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NetworkBlocked: iterable_sim blocked a connection to '192.0.2.1'*"])
    assert "iterable_sim_block_network = false" in result.stdout.str()
    pytester.makeini("[pytest]\niterable_sim_block_network = false\n")
    result = run(pytester, "-k", "test_send")
    assert "NetworkBlocked" not in result.stdout.str()


def test_no_block_under_disable_recording(pytester):
    flow(pytester, body="assert socket.socket.connect is ORIGINAL_CONNECT")
    run(pytester, "--disable-recording", "-k", "test_send").assert_outcomes(passed=1)


# ---------------------------------------------------------------- Why 7 and 8: the failure message


FAILING = '''events = iterable_events
    if request.config.getoption("host") == "changed":
        del events[15]["properties"]["total"]  # this Order Completed now fails in mapping
    iterable_send(events)'''


def test_a_failed_replay_lists_every_differing_call_and_why_calls_were_not_made(pytester):
    flow(pytester, body=FAILING)
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    flow(pytester, body=FAILING, mapToSingleEvent=True, trackAllPage=True)
    result = run(pytester, "-k", "test_send", "--host=changed", "-ra")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*Iterable calls differ from the cassette: 2 call(s) differ, 1 recorded call(s) not made*",
        "call *: POST events/trackBulk (recorded as call *)",
        '*eventName: recorded "Application Home page", now "Loaded a Page"',
        "call *: POST events/trackBulk (recorded as call *)",
        "Recorded, not made now:",
        '*POST commerce/trackPurchase: userId "user-1"*',
        '*why: event 15 (track, "Order Completed", userId "user-1") failed in mapping: '
        'Missing required value from "properties.total"',
        "Settings warnings:",
        "*unknown key 'trackAllPage' is ignored (did you mean 'trackAllPages'?)",
        "*pytest --iterable-accept 'test_flow.py::test_send'",
        "FAILED test_flow.py::test_send - Iterable calls differ from the cassette*",
    ])
    for noise in ("Traceback", "tenacity", "httpx/_client.py", "How to fix", "new_episodes", "record_mode"):
        assert noise not in out, noise
    assert "IterableSettingsWarning: iterable_config: unknown key 'trackAllPage'" in out  # in the warnings summary


def test_a_destination_export_is_read_by_its_config(pytester):
    export = {"id": "2MuX3", "name": "Iterable prod", "enabled": True,
              "config": {"apiKey": "k-0123456789", "trackAllPages": False, "trackNamedPages": True}}
    settings = Settings.from_rudder(export)
    assert settings.track_named_pages and not settings.track_all_pages and settings.api_key == "k-0123456789"
    assert settings.warnings == ("a whole destination was given: pass its 'Config' (its settings were read from there)",)
    pytester.makepyfile(f'''
import pytest

@pytest.fixture
def iterable_config():
    return {export!r}

def test_export(iterable_settings):
    assert iterable_settings.track_named_pages
''')
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*IterableSettingsWarning: iterable_config: a whole destination was given*"])


# ---------------------------------------------------------------- Why 9: respx inside a vcr test


def test_a_respx_route_in_an_iterable_test_is_left_to_respx(pytester):
    pytest.importorskip("respx")
    flow(pytester, body='''import respx
    with respx.mock(assert_all_called=True) as mocked:
        hook = mocked.post("https://hooks.example.com/notify").respond(204)
        iterable_send()
        with httpx.Client() as client:
            assert client.post("https://hooks.example.com/notify", json={"sent": True}).status_code == 204
        assert hook.called''')
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    assert "hooks.example.com" not in cassette(pytester)
    run(pytester, "-k", "test_send").assert_outcomes(passed=1)


# ---------------------------------------------------------------- fixtures


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


def test_a_recording_against_the_server_replays_with_no_server_at_all(pytester):
    flow(pytester)
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    text = cassette(pytester)
    assert "https://api.iterable.com/api/" in text and "127.0.0.1" not in text
    assert not any(key in text for key in TEST_KEYS.values())
    flow(pytester, body='assert iterable_send(to="http://127.0.0.1:9").summary()["requests"] > 0')  # nobody there
    run(pytester, "-k", "test_send").assert_outcomes(passed=1)


def test_a_replay_may_be_allowed_to_leave_recorded_calls_unmade(pytester):
    flow(pytester, body='iterable_send(iterable_events[:request.config.getoption("count")])')
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    run(pytester, "-k", "test_send", "--count=5").assert_outcomes(failed=1)
    pytester.makepyfile(test_flow=pytester.path.joinpath("test_flow.py").read_text().replace(
        "@pytest.mark.vcr\ndef test_send", "@pytest.mark.vcr\n@pytest.mark.iterable_replay(assert_all_played=False)\n"
                                           "def test_send"))
    run(pytester, "-k", "test_send", "--count=5").assert_outcomes(passed=1)


def test_a_missing_cassette_says_how_to_record_it(pytester):
    flow(pytester)
    result = run(pytester, "-k", "test_send")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no cassette at cassettes/test_flow/test_send.yaml: record it*",
                                 "*pytest --iterable-accept 'test_flow.py::test_send'"])
    assert "Traceback" not in result.stdout.str() and "How to fix" not in result.stdout.str()
    run(pytester, "--iterable-accept", "-k", "test_send").assert_outcomes(passed=1)
    run(pytester, "-k", "test_send").assert_outcomes(passed=1)


def test_the_iterable_marker_makes_a_test_without_the_fixtures_an_iterable_test(pytester):
    pytester.makepyfile(test_marked='''
import httpx
import pytest
from iterable_sim import MockIterable

@pytest.mark.vcr
@pytest.mark.iterable
def test_marked(request):
    mock = MockIterable()
    mock.add_api_key("k-0123456789")
    with httpx.Client(transport=mock.transport()) as client:
        client.post("https://api.iterable.com/api/events/track", headers={"Api-Key": "k-0123456789"},
                    json={"email": "a@example.com", "eventName": request.config.getoption("name")})
''')
    pytester.makeconftest('def pytest_addoption(parser):\n    parser.addoption("--name", default="Signed Up")\n')
    run(pytester, "--record-mode=once").assert_outcomes(passed=1)
    assert '  "eventName": "Signed Up"' in (pytester.path / "cassettes" / "test_marked" / "test_marked.yaml").read_text()
    result = run(pytester, "--name=Signed In")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*eventName: recorded "Signed Up", now "Signed In"'])
