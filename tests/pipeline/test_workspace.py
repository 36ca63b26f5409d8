"""Reading RudderStack's configs for their Iterable destinations (iterable_sim.pipeline.workspace), and the
definition's keys (iterable_sim.pipeline.definition) against Iterable's destination definition in ../shared."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from iterable_sim.pipeline import ITERABLE_SUPPORTED_MESSAGE_TYPES
from iterable_sim.pipeline.definition import (CLIENT_SIDE_FILTERING, DEFINITION_FILES, DEFINITION_KEYS, READ_BY,
                                              RUDDER_SERVER, TRANSFORMER)
from iterable_sim.pipeline.workspace import (CONFIG, DESTINATION, NAMESPACE, WORKSPACE, IterableDestination,
                                             RudderConfigError, config_kind, load_rudder_config, read_rudder_config)

DATA = Path(__file__).parents[1] / "data"
SERVER = Path(__file__).parents[2].parent / "shared" / "rudderstack" / "server"
DEFINITION = SERVER / "definition"
needs_shared = pytest.mark.skipif(not DEFINITION.is_dir(), reason=f"{DEFINITION} is absent: it comes with ../shared")


def workspace() -> dict[str, Any]:
    return json.loads((DATA / "workspaceConfig.json").read_text("utf-8"))


def export() -> dict[str, Any]:
    return json.loads((DATA / "destination_export.json").read_text("utf-8"))


def iterable_destination(config: dict[str, Any]) -> dict[str, Any]:
    return config["sources"][0]["destinations"][0]


# ---------------------------------------------------------------- the four kinds


def test_a_workspace_config_gives_its_iterable_destination_with_its_context() -> None:
    read = load_rudder_config(DATA / "workspaceConfig.json")
    assert read.kind == WORKSPACE and read.path == str(DATA / "workspaceConfig.json")
    assert read.others == ("WEBHOOK 'Audit webhook' (2Xq7WebhookDest000000001)",) and read.skipped == ()
    (destination,) = read.destinations
    assert destination == read.choose()
    assert (destination.id, destination.name, destination.workspace_id) == (
        "2Xq7Iterab1eProdDest0001", "Iterable prod", "2Xq7WorkspaceExample0001")
    assert (destination.source_id, destination.source_name, destination.source_definition_name,
            destination.source_definition_type, destination.source_category) == (
        "2Xq7WebSource00000000001", "Web shop", "Javascript", "web", "")
    assert dict(destination.config) == iterable_destination(workspace())["config"]
    assert destination.supported_message_types == ITERABLE_SUPPORTED_MESSAGE_TYPES
    assert destination.transform_at == "router" and destination.transformations == ()
    assert destination.describe() == "'Iterable prod' (2Xq7Iterab1eProdDest0001) of source 'Web shop' (2Xq7WebSource00000000001)"


def test_its_pipeline_config_carries_the_destination_and_source() -> None:
    destination = read_rudder_config(workspace()).choose()
    pipeline = destination.pipeline_config()
    assert dict(pipeline.destination_config) == dict(destination.config)
    assert (pipeline.destination_id, pipeline.destination_name, pipeline.source_id, pipeline.source_name,
            pipeline.source_definition_type, pipeline.workspace_id, pipeline.transform_at) == (
        destination.id, destination.name, destination.source_id, destination.source_name, "web",
        destination.workspace_id, "router")
    assert pipeline.supported_message_types == ITERABLE_SUPPORTED_MESSAGE_TYPES and pipeline.user_transformation is None

    def drop_all(event: dict[str, Any], metadata: Any) -> None:
        return None
    assert destination.pipeline_config(user_transformation=drop_all).user_transformation is drop_all


def test_keys_are_matched_to_go_fields_in_any_letter_case_the_last_winning() -> None:
    config = {"WorkspaceID": "ws-9", "Sources": [{"ID": "src-9", "NAME": "Server", "Enabled": True,
                                                 "SourceDefinition": {"Type": "cloud", "Category": "warehouse"},
                                                 "Destinations": [{"id": "first", "ID": "dst-9", "Name": "It",
                                                                   "ENABLED": True, "isprocessorenabled": True,
                                                                   "Config": {"apiKey": "k"},
                                                                   "DestinationDefinition": {"Name": "ITERABLE"}}]}]}
    destination = read_rudder_config(config).choose()
    assert (destination.id, destination.name, destination.workspace_id, destination.source_id,
            destination.source_definition_type, destination.source_category) == (
        "dst-9", "It", "ws-9", "src-9", "cloud", "warehouse")
    # no supportedMessageTypes list and no transformAtV1: rudder-server filters no type and takes "processor"
    assert destination.supported_message_types is None and destination.transform_at == "processor"


def test_config_keys_are_taken_exactly_and_the_definition_name_case_sensitively() -> None:
    config = workspace()
    iterable_destination(config)["config"] = {"APIKEY": "x", "apiKey": "y"}
    assert dict(read_rudder_config(config).choose().config) == {"APIKEY": "x", "apiKey": "y"}
    iterable_destination(config)["destinationDefinition"]["name"] = "Iterable"
    with pytest.raises(RudderConfigError, match=r"has no Iterable destination .*its other destinations: Iterable "
                                                r"'Iterable prod' \(2Xq7Iterab1eProdDest0001\), WEBHOOK 'Audit webhook'"):
        read_rudder_config(config).choose()


def test_a_namespace_config_reads_every_workspace_by_its_key() -> None:
    first, second = workspace(), workspace()
    del first["workspaceId"]
    iterable_destination(second).update(id="dst-2", name="Iterable EU")
    second["sources"][0]["id"] = "src-2"
    read = read_rudder_config({"ws-a": first, "ws-b": second})
    assert read.kind == NAMESPACE
    assert [(d.workspace_id, d.id, d.kind) for d in read.destinations] == [
        ("ws-a", "2Xq7Iterab1eProdDest0001", NAMESPACE), ("ws-b", "dst-2", NAMESPACE)]
    assert read.choose("Iterable EU").source_id == "src-2"


def test_a_destination_export_is_read_by_its_config_with_the_definitions_cloud_types() -> None:
    read = read_rudder_config(export(), path="export.json")
    assert read.kind == DESTINATION and read.others == ()
    destination = read.choose("Iterable prod")
    assert destination.kind == DESTINATION and destination.path == "export.json"
    assert dict(destination.config) == export()["config"] and destination.source_id == ""
    # the object form of supportedMessageTypes gives its cloud list (the control plane's form is assumed)
    assert destination.supported_message_types == ("identify", "page", "screen", "track", "alias")
    assert destination.transform_at == "router"
    assert destination.describe() == "'Iterable prod' (2Xq7Iterab1eProdDest0001)"


def test_an_export_without_a_definition_is_taken_for_iterable_and_needs_only_an_explicit_false() -> None:
    bare = {"id": "d-1", "name": "It", "config": {"apiKey": "k"}}
    destination = read_rudder_config(bare).choose()
    assert (destination.supported_message_types, destination.transform_at) == (ITERABLE_SUPPORTED_MESSAGE_TYPES, "router")
    for key in ("enabled", "isProcessorEnabled"):
        read = read_rudder_config({**bare, key: False})
        assert read.destinations == () and len(read.skipped) == 1
        with pytest.raises(RudderConfigError, match="has no Iterable destination rudder-server would send to"):
            read.choose()


def test_an_export_of_another_destination_type_is_refused() -> None:
    other = {**export(), "destinationDefinition": {"name": "WEBHOOK"}}
    with pytest.raises(RudderConfigError, match=r"the destination WEBHOOK 'Iterable prod' .* is not an Iterable destination"):
        read_rudder_config(other, path="hook.json")


def test_a_bare_config_is_one_destination_without_ids() -> None:
    read = read_rudder_config({"apiKey": "k", "trackAllPages": True, "consentManagement": []})
    assert read.kind == CONFIG
    destination = read.choose()
    assert (destination.id, destination.name, destination.describe()) == ("", "", "the destination Config")
    assert destination.supported_message_types == ITERABLE_SUPPORTED_MESSAGE_TYPES
    with pytest.raises(RudderConfigError, match="a bare destination Config, which names no destination"):
        read.choose("x")


@pytest.mark.parametrize(("value", "kind"), [
    ({"sources": []}, WORKSPACE), ({"SOURCES": None}, WORKSPACE), ({"w": {"sources": []}}, NAMESPACE),
    ({"config": {}}, DESTINATION), ({"Config": {"apiKey": "k"}, "ID": "x"}, DESTINATION),
    ({"destinationDefinition": {}}, DESTINATION), ({}, CONFIG), ({"apiKey": "k"}, CONFIG),
    # a Config holding one of the definition's keys is a Config, whatever else it holds
    ({"apiKey": "k", "config": {}}, CONFIG),
])
def test_the_kind_is_told_by_content(value: dict[str, Any], kind: str) -> None:
    assert config_kind(value) == kind


# ---------------------------------------------------------------- skipped destinations


@pytest.mark.parametrize(("change", "reason"), [
    (lambda c: c["sources"][0].update(enabled=False), "its source is disabled"),
    (lambda c: iterable_destination(c).update(enabled=False), "it is disabled"),
    (lambda c: iterable_destination(c).update(isProcessorEnabled=False), "its isProcessorEnabled is not true"),
    (lambda c: iterable_destination(c).pop("isProcessorEnabled"), "its isProcessorEnabled is not true"),
    (lambda c: iterable_destination(c).update(enabled=None), "it is disabled"),
])
def test_rudder_server_skips_disabled_destinations_saying_why(change: Any, reason: str) -> None:
    config = workspace()
    change(config)
    read = read_rudder_config(config, path="ws.json")
    assert read.destinations == ()
    ((skipped, why),) = read.skipped
    assert skipped.id == "2Xq7Iterab1eProdDest0001" and why.startswith(reason)
    with pytest.raises(RudderConfigError) as error:
        read.choose()
    assert str(error.value).startswith(f"ws.json has no Iterable destination rudder-server would send to (skipped: "
                                       f"'Iterable prod' (2Xq7Iterab1eProdDest0001) of source 'Web shop' "
                                       f"(2Xq7WebSource00000000001): {reason}")
    assert str(error.value).endswith("its other destinations: WEBHOOK 'Audit webhook' (2Xq7WebhookDest000000001)")
    with pytest.raises(RudderConfigError, match=f"'Iterable prod' .* in ws.json: {reason}"):
        read.choose("Iterable prod")


# ---------------------------------------------------------------- choosing one


def _two() -> dict[str, Any]:
    config = workspace()
    second = copy.deepcopy(iterable_destination(config))
    second.update(id="dst-eu", name="Iterable EU")
    second["config"]["dataCenter"] = "EUDC"
    config["sources"][0]["destinations"].append(second)
    return config


def test_several_destinations_without_a_name_are_refused_with_the_list() -> None:
    read = read_rudder_config(_two(), path="ws.json")
    assert [d.id for d in read.destinations] == ["2Xq7Iterab1eProdDest0001", "dst-eu"]
    with pytest.raises(RudderConfigError) as error:
        read.choose()
    assert str(error.value) == (
        "ws.json has 2 Iterable destinations: 'Iterable prod' (2Xq7Iterab1eProdDest0001) of source 'Web shop' "
        "(2Xq7WebSource00000000001); 'Iterable EU' (dst-eu) of source 'Web shop' (2Xq7WebSource00000000001). "
        "Choose one with --destination ID_OR_NAME (destination= in Python)")


def test_a_destination_is_chosen_by_id_then_by_name() -> None:
    read = read_rudder_config(_two())
    assert read.choose("dst-eu").config["dataCenter"] == "EUDC"
    assert read.choose("Iterable prod").id == "2Xq7Iterab1eProdDest0001"
    with pytest.raises(RudderConfigError, match=r"^--destination 'nope' names no Iterable destination of the "
                                                r"workspace config; it has: 'Iterable prod' .*; 'Iterable EU' \(dst-eu\)"):
        read.choose("nope")


def test_a_name_two_destinations_share_asks_for_the_id() -> None:
    config = _two()
    config["sources"][0]["destinations"][2]["name"] = "Iterable prod"
    with pytest.raises(RudderConfigError, match="2 Iterable destinations of the workspace config are named 'Iterable prod'"):
        read_rudder_config(config).choose("Iterable prod")
    assert read_rudder_config(config).choose("dst-eu").id == "dst-eu"


def test_with_overrides_changes_the_config_and_remembers_the_change() -> None:
    destination = read_rudder_config(workspace()).choose()
    changed = destination.with_overrides({"trackAllPages": True})
    assert changed.config["trackAllPages"] is True and dict(changed.overrides) == {"trackAllPages": True}
    assert destination.config["trackAllPages"] is False and destination.with_overrides({}) is destination
    with pytest.raises(TypeError):
        changed.config["apiKey"] = "x"  # type: ignore[index]


# ---------------------------------------------------------------- what cannot be read


@pytest.mark.parametrize(("value", "message"), [
    ([], r"^the config: a RudderStack config is a JSON object .*not a JSON array$"),
    ({"sources": {}}, r"^sources is a JSON object where rudder-server reads a list"),
    ({"sources": [{"enabled": "yes"}]}, r"^sources\[0\]\.enabled is a JSON string where rudder-server reads true or false"),
    ({"sources": [{"destinations": [{"id": 7}]}]}, r"^sources\[0\]\.destinations\[0\]\.id is a JSON number where"),
    ({"sources": [{"destinations": [{"config": [], "destinationDefinition": {"name": "ITERABLE"}}]}]},
     r"^sources\[0\]\.destinations\[0\]\.config is a JSON array where rudder-server reads an object"),
    ({"w": {"sources": [7]}}, r"^w\.sources\[0\] is a JSON number where rudder-server reads an object"),
])
def test_a_value_go_cannot_decode_is_refused_naming_where(value: Any, message: str) -> None:
    with pytest.raises(RudderConfigError, match=message):
        read_rudder_config(value)


def test_files_that_cannot_be_read_say_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{nope", "utf-8")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    for name, message in (("missing.json", "no such settings file"), ("bad.json", "not JSON"),
                          ("binary.json", "is not UTF-8 text"), (".", "is a directory")):
        with pytest.raises(RudderConfigError, match=message) as error:
            load_rudder_config(tmp_path / name)
        assert "\n" not in str(error.value)


def test_transformations_are_named_by_their_ids() -> None:
    config = workspace()
    iterable_destination(config)["transformations"] = [{"versionId": "v1", "id": "t-1"}, {"versionId": "v2"}]
    assert read_rudder_config(config).choose().transformations == ("t-1", "#2")


def test_a_destination_is_frozen() -> None:
    destination = IterableDestination("d", "n", {"apiKey": "k"})
    with pytest.raises(AttributeError):
        destination.id = "x"  # type: ignore[misc]


# ---------------------------------------------------------------- against RudderStack's files


@needs_shared
def test_rudder_servers_namespace_sample_has_no_iterable_destination_and_says_what_it_has() -> None:
    read = load_rudder_config(SERVER / "source" / "backend-config" / "testdata" / "sample_namespace.json")
    assert read.kind == NAMESPACE and read.destinations == ()
    with pytest.raises(RudderConfigError, match=r"has no Iterable destination .*its other destinations: GA 'Test dest'"):
        read.choose()


@needs_shared
def test_the_definition_keys_are_exactly_those_of_iterables_destination_definition() -> None:
    db = json.loads((DEFINITION / "db-config.json").read_text("utf-8"))["config"]
    ui = json.loads((DEFINITION / "ui-config.json").read_text("utf-8"))
    schema = json.loads((DEFINITION / "schema.json").read_text("utf-8"))["configSchema"]["properties"]
    fields: set[str] = set()

    def walk(node: Any) -> None:  # the dashboard's fields; conditions and a list's row fields are not Config keys
        if isinstance(node, dict):
            if "configKey" in node and "type" in node:
                fields.add(node["configKey"].split(".")[0])
            for key, value in node.items():
                if key not in ("preRequisites", "rowFields"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(ui)
    listed = {"db-config.json includeKeys": set(db["includeKeys"]),
              "db-config.json destConfig": {k for keys in db["destConfig"].values() for k in keys},
              "ui-config.json": fields, "schema.json": set(schema)}
    assert DEFINITION_KEYS == set().union(*listed.values())
    for key in DEFINITION_KEYS:
        assert set(DEFINITION_FILES[key]) == {name for name, keys in listed.items() if key in keys}, key


def test_who_reads_each_key() -> None:
    assert {k for k, reader in READ_BY.items() if reader == TRANSFORMER} == {
        "apiKey", "dataCenter", "registerDeviceOrBrowserApiKey", "preferUserId", "mergeNestedObjects",
        "mapToSingleEvent", "trackAllPages", "trackCategorisedPages", "trackNamedPages"}
    assert {k for k, reader in READ_BY.items() if reader == RUDDER_SERVER} == {
        "oneTrustCookieCategories", "ketchConsentPurposes", "consentManagement", "connectionMode"}
    assert {k for k, reader in READ_BY.items() if reader == CLIENT_SIDE_FILTERING} == {
        "eventFilteringOption", "whitelistedEvents", "blacklistedEvents"}


@needs_shared
def test_no_rudder_server_code_reads_the_client_side_filtering_keys() -> None:
    readers = [path for path in (SERVER / "source").rglob("*.go")
               if any(key in path.read_text("utf-8", "replace") for key in ("eventFilteringOption", "whitelistedEvents"))]
    assert readers == []
