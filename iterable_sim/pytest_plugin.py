"""iterable_sim's pytest plugin, registered through the `pytest11` entry point: installing the
package is enough.

Fixtures: `iterable_config` (a RudderStack destination Config: the one of the settings file named by the
ini option `iterable_sim_settings`, else Track All Pages with test keys), `iterable_settings` (read from
that file by `read_settings`, as every iterable_sim tool reads it: any RudderStack config, its Iterable
destination picked by the ini option `iterable_sim_destination` when it has several),
`iterable_events` (the sample events, or the file named by the ini option `iterable_sim_events`),
`iterable_mock` (an in-process mock Iterable on a simulated clock), `iterable_server` (that mock
behind a real HTTP server: `.url`, `.mock`) and `iterable_send` (send() wired to the mock, or to the
server with `to="server"`). Override any of them in a conftest. The settings map as the rudder-transformer
release of the ini option `iterable_sim_rudderstack` (or `--iterable-rudderstack RELEASE`; default latest).

`iterable_mock` is strict, as pytest-httpx's fixture is: a test fails at teardown when the code
under test sent the mock a request Iterable would not serve (a path it does not have) or a key the
mock does not know, each named. Relax it with `@pytest.mark.iterable_mock(strict=False)` on a test,
or the ini option `iterable_sim_strict_mock = false`.

Cassettes: only *Iterable tests* — `@pytest.mark.vcr` tests that use one of the fixtures above or
are marked `@pytest.mark.iterable` — get iterable_sim's cassette set-up (`cassettes.configure`):
indexed matching of Iterable calls, readable YAML, personal data pseudonymised, a failure that
lists every differing call, the network blocked while replaying, `--iterable-accept`, the release
noted in the cassette (a replay under another release fails, naming what changed). Every other
vcr test runs exactly as with plain pytest-recording; the one thing every cassette gets is that an
API key in a call to Iterable is never written.
"""
from __future__ import annotations

import socket
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterable, Iterator, Literal, NamedTuple

import pytest

# Nothing here imports vcrpy at start-up: pytest-recording must register vcrpy's modules for
# assertion rewriting before they are imported.
from iterable_sim.clock import ManualClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.mock import MockIterable
from iterable_sim.mapping.releases import LATEST, Release, UnknownReleaseError, known_list, resolve_release
from iterable_sim.mapping.settings import Settings

if TYPE_CHECKING:
    from vcr import VCR

    from iterable_sim.send import SendReport, Target

TEST_KEYS = {"apiKey": "pytest-api-key-3c1e9b07", "registerDeviceOrBrowserApiKey": "pytest-device-key-8d24a6f1"}
FIXTURES = frozenset({"iterable_config", "iterable_settings", "iterable_events", "iterable_mock", "iterable_server",
                      "iterable_send"})
LOCAL_HOSTS = ("127.", "::1", "localhost", "0.0.0.0")
REPORTS = pytest.StashKey[list["SendReport"]]()
SETTINGS_WARNINGS = pytest.StashKey[list[str]]()
_current: list[pytest.Item] = []


class IterableSettingsWarning(UserWarning):
    """Settings.from_rudder found something in the Config RudderStack would not tell you about."""


class NetworkBlocked(IterableSimError, RuntimeError):
    """An Iterable test tried to reach another machine while replaying its cassette."""


class MockServer(NamedTuple):
    """The `iterable_server` fixture: the mock Iterable's base URL and the mock behind it."""

    url: str
    mock: MockIterable


# ---------------------------------------------------------------- hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iterable_sim")
    group.addoption("--iterable-accept", action="store_true", default=False,
                    help="iterable_sim: record the Iterable calls of the Iterable tests run again, replacing the "
                         "recorded ones (calls to other hosts are kept and replayed)")
    group.addoption("--iterable-rudderstack", metavar="RELEASE", default=None,
                    help=f"iterable_sim: the rudder-transformer release to map as, over the ini option "
                         f"iterable_sim_rudderstack (known: {known_list()})")
    parser.addini("iterable_sim_vcr_defaults", type="bool", default=True,
                  help="iterable_sim: give the cassettes of Iterable tests iterable_sim's matching, YAML and reports")
    parser.addini("iterable_sim_block_network", type="bool", default=True,
                  help="iterable_sim: block connections to other machines while an Iterable test replays")
    parser.addini("iterable_sim_strict_mock", type="bool", default=True,
                  help="iterable_sim: fail a test whose code sent iterable_mock a request Iterable would not "
                       "serve (unknown path, unknown key)")
    parser.addini("iterable_sim_personal_data", default="pseudonymise",
                  help="iterable_sim: 'pseudonymise' (default) emails, names, phones and addresses in cassettes, "
                       "or 'keep' them")
    parser.addini("iterable_sim_events", default="",
                  help="iterable_sim: a JSON/JSONL events file (relative to the rootdir) for the iterable_events fixture")
    parser.addini("iterable_sim_settings", default="",
                  help="iterable_sim: a RudderStack config file (relative to the rootdir: a workspaceConfig.json, a "
                       "destination's export or its Config) for the iterable_config and iterable_settings fixtures")
    parser.addini("iterable_sim_destination", default="",
                  help="iterable_sim: the Iterable destination (ID or name) of iterable_sim_settings, when it has several")
    parser.addini("iterable_sim_rudderstack", default=LATEST,
                  help=f"iterable_sim: the rudder-transformer release the fixtures' settings map as and cassettes are "
                       f"recorded and replayed under (default latest; known: {known_list()})")


def pytest_configure(config: pytest.Config) -> None:
    rudderstack_release(config)  # a release iterable_sim cannot map as is refused before any test runs
    config.addinivalue_line("markers", "iterable: an Iterable test (iterable_sim's cassette set-up applies to it)")
    config.addinivalue_line("markers", "iterable_replay(assert_all_played=True): iterable_sim's replay checks; "
                                       "assert_all_played=False lets a replay leave recorded calls unmade")
    config.addinivalue_line("markers", "iterable_mock(strict=True): strict=False lets a test send iterable_mock "
                                       "requests to unknown paths or with unknown keys without failing")


def is_iterable_test(item: pytest.Item) -> bool:
    """A test that uses iterable_sim's fixtures or is marked `@pytest.mark.iterable`."""
    return item.get_closest_marker("iterable") is not None or bool(FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _current.append(item)
    try:
        return (yield)
    finally:
        _current.remove(item)


@pytest.hookimpl(optionalhook=True, trylast=True)
def pytest_recording_configure(config: pytest.Config, vcr: "VCR") -> None:
    from iterable_sim.cassettes.config import configure, scrub_writes
    from iterable_sim.cassettes.sources import placeholder_keys

    item = _current[-1] if _current else None
    keys = placeholder_keys(_file_settings(config).to_rudder() if _settings_file(config) else TEST_KEYS)
    if item is None or not is_iterable_test(item) or not config.getini("iterable_sim_vcr_defaults"):
        scrub_writes(vcr, keys)
        return
    configure(vcr, keys=keys, personal_data=_pseudonymise(config), collect=True,
              accept=config.getoption("--iterable-accept"), passthrough=_respx_routes,
              release=rudderstack_release(config))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if call.when != "call":
        return report
    from iterable_sim.cassettes.cassette import IterableCassette
    from iterable_sim.cassettes.report import failure_message, headline

    cassette = getattr(item, "funcargs", {}).get("vcr")
    if not isinstance(cassette, IterableCassette) or not cassette.write_protected:
        return report
    marker = item.get_closest_marker("iterable_replay")
    strict = marker.kwargs.get("assert_all_played", True) if marker else True
    error = None
    if call.excinfo is not None:
        error = call.excinfo.exconly().splitlines()[0][:300]
    # read before the call: inside it, mypy would take the stash keys' types from failure_message's parameters
    reports, warned = item.stash.get(REPORTS, []), item.stash.get(SETTINGS_WARNINGS, [])
    message = failure_message(cassette, strict=strict, nodeid=item.nodeid, reports=reports, warnings=warned,
                              test_error=error)
    if message is not None:
        report.outcome = "failed"
        # pytest takes any longrepr with toterminal() (its types name only its own TerminalRepr)
        report.longrepr = _ReplayFailure(  # type: ignore[assignment]
            message, str(item.path), headline(cassette, strict) or message)
    return report


class _Crash(NamedTuple):
    """Where a failure is and its one-line summary, as pytest reads them from a failure's `reprcrash`:
    `.message` for `-ra` and JUnit XML, the text for `--tb=line` (`path:lineno: first line`)."""

    path: str
    lineno: int
    message: str

    def __str__(self) -> str:
        first_line = self.message.partition("\n")[0]
        return f"{self.path}:{self.lineno}: {first_line}"


class _ReplayFailure:
    """A failure shown as its message alone (no traceback), with a one-line summary for `-ra`."""

    def __init__(self, text: str, path: str, summary: str) -> None:
        self.text = text
        self.reprcrash = _Crash(path, 0, summary)

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


@pytest.fixture(autouse=True)
def _iterable_network_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """While an Iterable test replays, connections to other machines fail, naming the switches."""
    if not _should_block(request):
        yield
        return
    allowed = request.getfixturevalue("allowed_hosts") or []
    with _blocking(allowed):
        yield


def _should_block(request: pytest.FixtureRequest) -> bool:
    config = request.config
    item = request.node
    if not (item.get_closest_marker("vcr") and is_iterable_test(item)):
        return False
    if not config.getini("iterable_sim_block_network") or config.getoption("--disable-recording", False):
        return False
    if config.getoption("--iterable-accept") or item.get_closest_marker("block_network") \
            or config.getoption("--block-network", False):
        return False  # recording, or pytest-recording blocks it itself
    mode = config.getoption("--record-mode", None)
    if mode is None:
        merged: dict[str, Any] = dict(request.getfixturevalue("vcr_config"))
        for marker in reversed(list(item.iter_markers("vcr"))):
            merged.update(marker.kwargs)
        mode = merged.get("record_mode", "none")
    return mode == "none"


@contextmanager
def _blocking(allowed: list[str]) -> Iterator[None]:
    from pytest_recording.network import is_host_in_allowed_hosts

    original = socket.socket.connect, socket.socket.connect_ex

    def guard(connect: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(sock: socket.socket, address: Any, *args: Any, **kwargs: Any) -> Any:
            host = address[0] if sock.family in (socket.AF_INET, socket.AF_INET6) else None
            if host is None or str(host).startswith(LOCAL_HOSTS) or (allowed and is_host_in_allowed_hosts(host, allowed)):
                return connect(sock, address, *args, **kwargs)
            raise NetworkBlocked(
                f"iterable_sim blocked a connection to {host!r}: an Iterable test replaying its cassette may reach "
                f"this machine only. Allow the host with @pytest.mark.block_network(allowed_hosts=[...]) or "
                f"--allowed-hosts=REGEX, or switch the block off with the ini option iterable_sim_block_network = false.")
        return guarded

    socket.socket.connect, socket.socket.connect_ex = guard(original[0]), guard(original[1])  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = original  # type: ignore[method-assign]


def rudderstack_name(config: pytest.Config) -> str:
    """The release asked for: `--iterable-rudderstack`, else the ini option `iterable_sim_rudderstack`."""
    return str(config.getoption("--iterable-rudderstack") or config.getini("iterable_sim_rudderstack")).strip() \
        or LATEST


def rudderstack_release(config: pytest.Config) -> Release:
    """The known release the fixtures map as (`rudderstack_name`), a UsageError for one iterable_sim cannot map as."""
    try:
        return resolve_release(rudderstack_name(config))[0]
    except UnknownReleaseError as err:
        raise pytest.UsageError(f"iterable_sim_rudderstack: {err}") from None


def _pseudonymise(config: pytest.Config) -> bool:
    value = str(config.getini("iterable_sim_personal_data")).strip().lower()
    if value not in ("pseudonymise", "pseudonymize", "keep"):
        raise pytest.UsageError(f"iterable_sim_personal_data = {value!r}: use 'pseudonymise' or 'keep'")
    return value != "keep"


def _respx_routes(request: Any) -> bool:
    """True when a started respx router has a route for this call: it is respx's to answer, on every
    run, so the cassette neither records nor replays it."""
    import sys

    if "respx" not in sys.modules:
        return False
    import httpx
    from respx.mocks import Mocker

    routers = [router for mocker in Mocker.registry.values() for router in mocker.routers]
    if not routers:
        return False
    real = httpx.Request(request.method, request.uri, headers=dict(request.headers), content=request.body or b"")
    return any(route.pattern.match(real) for router in routers for route in router.routes)


# ---------------------------------------------------------------- fixtures


def _settings_file(config: pytest.Config) -> str:
    return str(config.getini("iterable_sim_settings")).strip()


def _file_settings(config: pytest.Config) -> Settings:
    """The Settings of the ini option `iterable_sim_settings`, read by read_settings as every tool reads it."""
    from iterable_sim.mapping.config_file import read_settings
    from iterable_sim.pipeline.workspace import RudderConfigError

    destination = str(config.getini("iterable_sim_destination")).strip() or None
    try:
        return read_settings(config.rootpath / _settings_file(config), destination=destination,
                             rudderstack=rudderstack_name(config))
    except RudderConfigError as err:
        raise pytest.UsageError(f"iterable_sim_settings: {err}") from None


@pytest.fixture
def iterable_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    """A RudderStack destination Config: that of the ini option `iterable_sim_settings` (its keys as they are:
    the mock accepts them), else Track All Pages, with test keys the mock accepts."""
    if _settings_file(pytestconfig):
        return dict(_file_settings(pytestconfig).rudder_config or {})
    return {**TEST_KEYS, "trackAllPages": True}


@pytest.fixture
def iterable_settings(request: pytest.FixtureRequest, iterable_config: dict[str, Any]) -> Settings:
    """The settings of `iterable_config`: the destination of the ini option `iterable_sim_settings`, read by
    `read_settings` (with its ID and source) while iterable_config is that file's Config, else
    `Settings.from_rudder(iterable_config)`; both map as the release of `iterable_sim_rudderstack`. Each settings
    warning (a release that another stands in for, too) is a pytest warning, and is repeated in a failed
    replay's message."""
    from_file = _file_settings(request.config) if _settings_file(request.config) else None
    if from_file is not None and dict(from_file.rudder_config or {}) == iterable_config:
        settings = from_file
    else:
        settings = Settings.from_rudder(iterable_config, rudderstack=rudderstack_name(request.config))
    request.node.stash[SETTINGS_WARNINGS] = list(settings.warnings)
    path, line, _ = request.node.location
    for warning in settings.warnings:  # shown at the test, not inside pytest
        warnings.warn_explicit(IterableSettingsWarning(f"iterable_config: {warning}"), IterableSettingsWarning,
                               str(request.config.rootpath / path), (line or 0) + 1)
    return settings


@pytest.fixture
def iterable_events(pytestconfig: pytest.Config) -> list[dict[str, Any]]:
    """The events of the ini option `iterable_sim_events` (a JSON/JSONL file, read from where it is),
    else iterable_sim's sample events: every event type and setting-sensitive case (fresh copies)."""
    from iterable_sim.archive.reader import read_events
    from iterable_sim.cassettes.sources import samples

    path = pytestconfig.getini("iterable_sim_events")
    return read_events(pytestconfig.rootpath / path) if path else samples()


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
    """`iterable_mock` served over HTTP on a free local port, for code that needs a URL. Calls to it
    are Iterable calls for the cassette (stored under api.iterable.com)."""
    from urllib.parse import urlsplit

    from iterable_sim.cassettes.scrub import MOCK_ORIGINS

    with iterable_mock.serve() as url:
        origin = urlsplit(url).netloc
        MOCK_ORIGINS.add(origin)
        try:
            yield MockServer(url, iterable_mock)
        finally:
            MOCK_ORIGINS.discard(origin)


@pytest.fixture
def iterable_send(request: pytest.FixtureRequest, iterable_events: list[dict[str, Any]],
                  iterable_settings: Settings, iterable_mock: MockIterable) -> Callable[..., "SendReport"]:
    """`iterable_send(events=None, settings=None, to=None, **send_options) -> SendReport`.

    Defaults: the `iterable_events`, the `iterable_settings`, the in-process `iterable_mock`;
    `to="server"` sends over HTTP to `iterable_server`; any other `to` goes to send() unchanged.
    Runs on the mock's clock, so pacing and retries cost no real time; no progress bar. While
    recording, the cassette notes the events' file, the settings and the release they map as, for
    `iterable-sim cassettes diff`; replaying, it compares that release with the one it was recorded under."""
    from iterable_sim.send import send

    reports = request.node.stash.setdefault(REPORTS, [])

    def sender(events: Iterable[Any] | None = None, settings: Settings | None = None,
               to: "Target | Literal['server']" = None,
               **options: Any) -> "SendReport":
        target = to
        if to is None:
            target = iterable_mock
        elif to == "server":
            target = request.getfixturevalue("iterable_server").url
        options.setdefault("progress", False)
        options.setdefault("clock", iterable_mock.clock)
        chosen = iterable_events if events is None else events
        report = send(chosen, settings or iterable_settings, target, **options)
        reports.append(report)
        _note(request, chosen, settings or iterable_settings, options.get("stable_event_ids", False))
        return report

    return sender


def _note(request: pytest.FixtureRequest, events: Any, settings: Settings, stable_event_ids: bool) -> None:
    from iterable_sim.cassettes.cassette import IterableCassette
    from iterable_sim.cassettes.sources import send_entry

    cassette = request.node.funcargs.get("vcr") if hasattr(request.node, "funcargs") else None
    if isinstance(cassette, IterableCassette):
        cassette.note_send(send_entry(events, settings, cassette.path, stable_event_ids=stable_event_ids))
        cassette.note_release(settings.release)
