"""iterable_sim's pytest plugin, registered through the `pytest11` entry point: installing the
package is enough.

Fixtures: `iterable_config` (a RudderStack destination Config with test keys), `iterable_settings`,
`iterable_events` (the sample events), `iterable_mock` (an in-process mock Iterable on a simulated
clock), `iterable_server` (that mock behind a real HTTP server: `.url`, `.mock`) and `iterable_send`
(send() wired to the mock, or to the server with `to="server"`). Override any of them in a conftest.

`iterable_mock` is strict, as pytest-httpx's fixture is: a test fails at teardown when the code
under test sent the mock a request Iterable would not serve (a path it does not have) or a key the
mock does not know, each named. Relax it with `@pytest.mark.iterable_mock(strict=False)` on a test,
or the ini option `iterable_sim_strict_mock = false`.

Cassettes: pytest-recording's `@pytest.mark.vcr` and `--record-mode` get iterable_sim's vcrpy set-up
(`iterable_sim.cassettes.configure`: match on method, path, data center and JSON body, keys
scrubbed, readable YAML, field-level diffs on a mismatch). Strict by default, each default saying
how to relax it:
- a replayed test runs with the network blocked (pytest-recording's `block_network`); relax with
  `@pytest.mark.block_network(allowed_hosts=[...])`, `--allowed-hosts`, or the ini option
  `iterable_sim_block_network = false`;
- a replayed test fails when a recorded call was not made (the mapping sends less than it did);
  relax with `@pytest.mark.iterable_replay(assert_all_played=False)`;
- the vcrpy set-up itself is switched off with the ini option `iterable_sim_vcr_defaults = false`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple

import pytest

# Nothing here imports vcrpy at start-up: pytest-recording must register vcrpy's modules for
# assertion rewriting before they are imported.
from .clock import ManualClock
from .mock import MockIterable
from .samples import sample_events
from .settings import Settings

if TYPE_CHECKING:
    from vcr import VCR
    from vcr.cassette import Cassette

    from .send import SendReport

TEST_KEYS = {"apiKey": "pytest-api-key-3c1e9b07", "registerDeviceOrBrowserApiKey": "pytest-device-key-8d24a6f1"}


class MockServer(NamedTuple):
    """The `iterable_server` fixture: the mock Iterable's base URL and the mock behind it."""

    url: str
    mock: MockIterable


# ---------------------------------------------------------------- hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("iterable_sim_vcr_defaults", type="bool", default=True,
                  help="iterable_sim: give @pytest.mark.vcr cassettes iterable_sim's matchers, key scrubbing and YAML")
    parser.addini("iterable_sim_block_network", type="bool", default=True,
                  help="iterable_sim: block the network while a @pytest.mark.vcr test replays")
    parser.addini("iterable_sim_strict_mock", type="bool", default=True,
                  help="iterable_sim: fail a test whose code sent iterable_mock a request Iterable would not "
                       "serve (unknown path, unknown key)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "iterable_replay(assert_all_played=True): iterable_sim's replay checks; "
                                       "assert_all_played=False lets a replay leave recorded calls unmade")
    config.addinivalue_line("markers", "iterable_mock(strict=True): strict=False lets a test send iterable_mock "
                                       "requests to unknown paths or with unknown keys without failing")


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: "VCR") -> None:
    if config.getini("iterable_sim_vcr_defaults"):
        from .cassettes.config import configure

        configure(vcr)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Replays block the network: pytest-recording lifts the block itself when a test records."""
    if not config.getini("iterable_sim_block_network"):
        return
    for item in items:
        if item.get_closest_marker("vcr") and not item.get_closest_marker("block_network"):
            item.add_marker(pytest.mark.block_network)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    cassette = getattr(item, "funcargs", {}).get("vcr")
    marker = item.get_closest_marker("iterable_replay")
    strict = marker.kwargs.get("assert_all_played", True) if marker else True
    if cassette is not None and strict and cassette.write_protected and len(cassette) and not cassette.all_played:
        raise AssertionError(unplayed_message(cassette))
    return result


def unplayed_message(cassette: "Cassette") -> str:
    """Which recorded calls a replay did not make, each named by endpoint and who it is about."""
    from .cassettes.bodydiff import describe_who, who
    from .cassettes.matchers import body_json, endpoint

    unplayed = [request for index, (request, _) in enumerate(cassette.data) if not cassette.play_counts[index]]
    lines = [f"{len(unplayed)} of {len(cassette)} recorded Iterable call(s) were not made in this run: "
             f"the code under test now sends less than {cassette._path} recorded."]
    for request in unplayed:
        body = body_json(request)
        items = body.get("users") or body.get("events") if isinstance(body, dict) else None
        subjects = items if isinstance(items, list) else [body]
        lines.append(f"  {endpoint(request)}: " + "; ".join(describe_who(who(s)) for s in subjects))
    lines.append("If that is expected, record the cassette again (--record-mode=rewrite), or let this test "
                 "leave calls unmade: @pytest.mark.iterable_replay(assert_all_played=False).")
    return "\n".join(lines)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def iterable_config() -> dict[str, Any]:
    """A RudderStack destination Config: Track All Pages, with test keys the mock accepts."""
    return {**TEST_KEYS, "trackAllPages": True}


@pytest.fixture
def iterable_settings(iterable_config: dict[str, Any]) -> Settings:
    return Settings.from_rudder(iterable_config)


@pytest.fixture
def iterable_events() -> list[dict[str, Any]]:
    """iterable_sim's sample events: every event type and setting-sensitive case (fresh copies)."""
    return sample_events()


@pytest.fixture
def iterable_mock(request: pytest.FixtureRequest, iterable_settings: Settings) -> Iterator[MockIterable]:
    """An in-process mock Iterable (hybrid project) on a ManualClock, accepting the settings' keys.

    Strict: the test fails at teardown on requests Iterable would not serve (see the module's doc).
    Under a replayed cassette its calls are answered from the cassette: its state does not change."""
    mock = MockIterable(clock=ManualClock())
    mock.accept_keys_of(iterable_settings)
    yield mock
    marker = request.node.get_closest_marker("iterable_mock")
    strict = marker.kwargs.get("strict", True) if marker else request.config.getini("iterable_sim_strict_mock")
    mistakes = unexpected_requests(mock) if strict else []
    if mistakes:
        pytest.fail(unexpected_message(mistakes), pytrace=False)


def unexpected_requests(mock: MockIterable) -> list[str]:
    """The journaled requests Iterable would not have served, each described in one line."""
    found = []
    for entry in mock.journal:
        if entry.status == 404 and entry.endpoint is None and entry.fault is None:
            found.append(f"{entry.method} {entry.url}: 404, Iterable has no such endpoint")
        elif entry.status == 401 and b'"Invalid API key"' in entry.response_body:
            key = "no API key" if entry.api_key is None else f"the API key {entry.api_key!r}"
            found.append(f"{entry.method} {entry.url}: 401, {key} is not one the mock accepts in the "
                         f"{entry.data_center} data center")
    return found


def unexpected_message(mistakes: list[str]) -> str:
    return "\n".join([
        f"iterable_mock received {len(mistakes)} request(s) Iterable would not serve:",
        *(f"  {line}" for line in mistakes),
        "Fix the code under test, accept the key (iterable_mock.add_api_key(...)), or, if the test means to send "
        "them, relax the check: @pytest.mark.iterable_mock(strict=False) on the test, or the ini option "
        "iterable_sim_strict_mock = false."])


@pytest.fixture
def iterable_server(iterable_mock: MockIterable) -> Iterator[MockServer]:
    """`iterable_mock` served over HTTP on a free local port, for code that needs a URL."""
    with iterable_mock.serve() as url:
        yield MockServer(url, iterable_mock)


@pytest.fixture
def iterable_send(request: pytest.FixtureRequest, iterable_events: list[dict[str, Any]],
                  iterable_settings: Settings, iterable_mock: MockIterable) -> Callable[..., "SendReport"]:
    """`iterable_send(events=None, settings=None, to=None, **send_options) -> SendReport`.

    Defaults: the `iterable_events`, the `iterable_settings`, the in-process `iterable_mock`;
    `to="server"` sends over HTTP to `iterable_server`; any other `to` goes to send() unchanged.
    Runs on the mock's clock, so pacing and retries cost no real time; no progress bar."""
    from .send import send

    def sender(events: Iterable[Any] | None = None, settings: Settings | None = None, to: Any = None,
               **options: Any) -> "SendReport":
        target = to
        if to is None:
            target = iterable_mock
        elif to == "server":
            target = request.getfixturevalue("iterable_server").url
        options.setdefault("progress", False)
        options.setdefault("clock", iterable_mock.clock)
        return send(iterable_events if events is None else events, settings or iterable_settings, target, **options)

    return sender
