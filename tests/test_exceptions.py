"""The package's exceptions: everything it raises derives from IterableSimError and keeps the built-in
base it stands for (so `except ValueError` code keeps working), checked over the source itself."""
from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path
from typing import Any, Callable

import pytest

import iterable_sim
from iterable_sim import IterableSimError

PACKAGE = Path(iterable_sim.__file__).parent
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}

# Raises of another library's exception that stay theirs, each for a reason: (file, what is raised).
FOREIGN_RAISES = {
    # the in-process mock fails as the network would: the same httpx errors the mock server's clients get
    ("mock/transport.py", "httpx.ReadTimeout"),
    ("mock/transport.py", "httpx.RemoteProtocolError"),
    # argparse's protocol for a `type=` function: argparse catches it and reports a usage error
    ("cli/parser.py", "argparse.ArgumentTypeError"),
    # pytest's protocol for a bad ini value: pytest reports it as a usage error
    ("pytest_plugin.py", "pytest.UsageError"),
    # vcrpy's persister protocol: vcrpy catches it and starts a new cassette
    ("cassettes/cassette.py", "CassetteNotFoundError"),
}


# Raises of a built-in exception that a protocol asks for: (file, what is raised).
BUILTIN_PROTOCOL_RAISES = {
    # PEP 562: a module's __getattr__ says "no such attribute" with AttributeError (hasattr, getattr's default)
    ("lazy.py", "AttributeError"),
}


def _sources() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text("utf-8")))
            for path in sorted(PACKAGE.rglob("*.py"))]


def _foreign_imports(tree: ast.Module) -> set[str]:
    """The names a module binds by importing from outside the package."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                      if not alias.name.startswith("iterable_sim")}
        elif isinstance(node, ast.ImportFrom) and not node.level and not (node.module or "").startswith("iterable_sim"):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _raised(node: ast.Raise) -> ast.expr | None:
    """What `raise X(...)` or `raise X` names (X); None for a bare re-raise."""
    if node.exc is None:
        return None
    return node.exc.func if isinstance(node.exc, ast.Call) else node.exc


def test_nothing_raises_a_built_in_exception_directly() -> None:
    offenders = []
    for path, tree in _sources():
        for node in (n for n in ast.walk(tree) if isinstance(n, ast.Raise)):
            raised = _raised(node)
            if isinstance(raised, ast.Name) and raised.id in BUILTIN_EXCEPTIONS:
                offenders.append((path, raised.id, node.lineno))
    assert [f"{path}:{line}: raise {name}" for path, name, line in offenders
            if (path, name) not in BUILTIN_PROTOCOL_RAISES] == []
    assert {(path, name) for path, name, _ in offenders} == BUILTIN_PROTOCOL_RAISES  # no stale entry


def test_another_librarys_exception_is_raised_only_where_its_protocol_wants_it() -> None:
    found = set()
    for path, tree in _sources():
        foreign = _foreign_imports(tree)
        for node in (n for n in ast.walk(tree) if isinstance(n, ast.Raise)):
            raised = _raised(node)
            root = raised
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in foreign and raised is not None:
                found.add((path, ast.unparse(raised), node.lineno))
    assert sorted(f"{path}:{line}: raise {name}" for path, name, line in found
                  if (path, name) not in FOREIGN_RAISES) == []
    assert {(path, name) for path, name, _ in found} == FOREIGN_RAISES  # the list holds no stale entry


def test_every_exception_class_deriving_from_a_built_in_one_derives_from_iterable_sim_error() -> None:
    offenders = []
    for path, tree in _sources():
        module = None
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
            built_in = bases & BUILTIN_EXCEPTIONS
            if not built_in or all(issubclass(getattr(builtins, name), Warning) for name in built_in):
                continue  # warnings are issued, not raised
            if node in tree.body:
                module = module or importlib.import_module(
                    "iterable_sim." + path.removesuffix(".py").removesuffix("/__init__").replace("/", "."))
                if issubclass(getattr(module, node.name), IterableSimError):
                    continue
            elif "IterableSimError" in bases:
                continue
            offenders.append(f"{path}:{node.lineno}: class {node.name}({', '.join(sorted(bases))})")
    assert offenders == []


def _raises(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except BaseException as err:  # noqa: BLE001  (the test reads whatever is raised)
        return err
    raise AssertionError("nothing was raised")


def _cases() -> list[tuple[str, Callable[[], Any], type[BaseException], str]]:
    from iterable_sim import Faults, ManualClock, MockIterable, RetryPolicy, Settings, route
    from iterable_sim.mapping.jsvalues import set_value
    from iterable_sim.mapping.settings import require_events

    return [
        ("MockIterable(project_type=...)", lambda: MockIterable(project_type="x"), ValueError, "project_type must be one of"),
        ("Faults.add", lambda: Faults().add("boom"), ValueError, "unknown fault kind 'boom'"),  # type: ignore[arg-type]
        ("an unknown data center", lambda: MockIterable().create_user(email="a@b.co", data_center="XX"),
         ValueError, "unknown data center 'XX'; use 'US' or 'EU'"),
        ("RetryPolicy(attempts=0)", lambda: RetryPolicy(attempts=0), ValueError, "RetryPolicy.attempts must be at least 1"),
        ("a clock going back", lambda: ManualClock().advance(-1), ValueError, "a clock cannot go backwards"),
        ("route(max_items=0)", lambda: route([], max_items=0), ValueError, "max_items and max_bytes must be positive"),
        ("route with a Config", lambda: route([(1, {}, {"apiKey": "k"})]), TypeError, "the third item must be a Settings"),
        ("one event for many", lambda: require_events({"type": "track"}), TypeError, r"for one event, pass \[event\]"),
        ("JavaScript's TypeError", lambda: set_value({}, [{}], 1), TypeError, "Object keys must be strings or symbols"),
        ("send(to=5)", lambda: iterable_sim.send([], Settings(), to=5), TypeError, "send"),  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case[0])
def test_what_the_package_raises_is_an_iterable_sim_error_of_the_built_in_kind_it_was(case: Any) -> None:
    _, call, built_in, message = case
    err = _raises(call)
    assert isinstance(err, IterableSimError) and isinstance(err, built_in), type(err).__mro__
    with pytest.raises(built_in, match=message):  # as tests and users have caught it before
        call()


# ---------------------------------------------------------------- the rule a MappingError names

MAPPING_SETTINGS = iterable_sim.Settings.from_rudder({"apiKey": "k", "registerDeviceOrBrowserApiKey": "dk"})
RETL_USERS = {"mappedToDestination": True,
              "externalId": [{"type": "ITERABLE-users", "identifierType": {"not": "a key"}, "id": 1}]}

# event -> (RudderStack's message, status, spec, field, origin)
BAD_EVENTS = [
    ({}, "Event type is required", 400, None, "type", "transform.js process"),
    ({"type": 5}, "message.type.toLowerCase is not a function", 500, None, "type",
     "transform.js getCategory: message.type.toLowerCase()"),
    ({"type": "group"}, "Message type group not supported", 400, None, "type", "transform.js getCategory"),
    ({"type": "track", "event": "Signed Up"}, "userId or email is mandatory for this request", 400, "track",
     "email/userId", "util.js validateMandatoryField, in trackEventPayloadBuilder"),
    ({"type": "identify", "traits": {"plan": "pro"}}, "userId or email is mandatory for this request", 400, "identify",
     "email/userId", "util.js validateMandatoryField, in updateUserEventPayloadBuilder"),
    ({"type": "page", "name": "Home", "userId": "u"}, "Invalid page call", 400, "page", "settings",
     "util.js pageOrScreenEventPayloadBuilder: trackAllPages, trackCategorisedPages, trackNamedPages"),
    ({"type": "track", "event": "Order Completed", "userId": "u", "properties": {}},
     'Missing required value from "properties.total"', 400, "purchase", "total",
     "IterableTrackPurchaseConfig.json total; util.js purchaseEventPayloadBuilder: parseFloat"),
    ({"type": "alias", "userId": "new@example.com"}, 'Missing required value from "previousId"', 400, "alias",
     "currentEmail", "IterableAliasConfig.json currentEmail"),
    ({"type": "identify", "userId": "u", "context": {"device": {"token": 5}}},
     'The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. '
     "Received type number (5)", 500, "device", "device.token",
     "transform.js responseBuilderForRegisterDeviceOrBrowserTokenEvents: MD5(token)"),
    ({"type": "identify", "traits": {"a": 1}, "context": RETL_USERS}, "Object keys must be strings or symbols", 500,
     "identify", "dataFields",
     "src/v0/util/index.js addExternalIdToTraits: setValue(traits, externalId[0].identifierType, id)"),
]


@pytest.mark.parametrize("event,message,status,spec,field,origin", BAD_EVENTS, ids=[case[1][:40] for case in BAD_EVENTS])
def test_a_mapping_error_names_its_spec_field_and_origin_and_keeps_rudderstacks_text(
        event: Any, message: str, status: int, spec: str | None, field: str, origin: str) -> None:
    with pytest.raises(iterable_sim.MappingError) as caught:
        iterable_sim.map_event(event, MAPPING_SETTINGS)
    err = caught.value
    assert (str(err), err.args, err.status) == (message, (message,), status)  # RudderStack's text, nothing added
    assert (err.spec, err.field, err.origin) == (spec, field, origin)
    assert err.rule == (f"{spec}.json " if spec else "") + f"{field} ({origin})"
    assert repr(err) == f"MappingError({message!r}, status={status}, rule={err.rule!r})"


def test_a_missing_required_value_names_the_spec_rule_it_breaks() -> None:
    from iterable_sim.mapping.spec import load_specs

    with pytest.raises(iterable_sim.MappingError) as caught:
        iterable_sim.map_event({"type": "alias", "userId": "new@example.com"}, MAPPING_SETTINGS)
    rule = load_specs()["alias"].rule("currentEmail")
    assert (caught.value.spec, caught.value.field, caught.value.origin) == (rule.spec, rule.field, rule.origin)
    assert caught.value.rule == "alias.json currentEmail (IterableAliasConfig.json currentEmail)"


def test_a_mapping_error_keeps_its_rule_through_pickling() -> None:
    import pickle

    with pytest.raises(iterable_sim.MappingError) as caught:
        iterable_sim.map_event({"type": "track", "event": "Signed Up"}, MAPPING_SETTINGS)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.status, copy.spec, copy.field, copy.origin) == (
        str(caught.value), 400, "track", "email/userId", caught.value.origin)
