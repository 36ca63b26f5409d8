"""RudderStack's configs, read for their Iterable destinations: pure functions over parsed JSON.

Four kinds, told apart by their content (`read_rudder_config`):

* `workspace`: a rudder-server `workspaceConfig.json`, one `ConfigT` (`{"workspaceId", "sources": [{...,
  "destinations": [...]}]}`; formats.md section 5, `backend-config/single_workspace.go:143-173`);
* `namespace`: `{workspaceId: ConfigT}`, as a multi-tenant rudder-server receives its workspaces
  (`backend-config/backend-config.go:134-163, 294`; `backend-config/testdata/sample_namespace.json`);
* `destination`: one destination as the control plane or the dashboard exports it (`{"id", "name", "config",
  "enabled", ..., "destinationDefinition"}`);
* `config`: a bare destination Config (`{"apiKey": ..., "trackAllPages": ...}`).

The first two are read as rudder-server's JSON decoder reads them into its Go structs
(`backend-config/types.go:39-168`): a key names a field exactly or in another letter case, a later key
overwriting an earlier one (sonnet@`decoder.go:165-169`); `null` leaves the field's zero value; a value of
another type makes rudder-server refuse the whole file (`backend-config/single_workspace.go:152-157`), and so
it is refused here, naming where. A destination's `Config` is a map: its keys are taken exactly.

The Iterable destinations are those whose `destinationDefinition.name` is `ITERABLE` (`processor/processor.go:
979-990` matches the definition Name). rudder-server's processor never sees a destination whose source is
disabled (`processor/processor.go:888-889`), that is disabled itself (`processor/processor.go:979-990`) or whose
`isProcessorEnabled` is not true (`backend-config/backend-config.go:142-163`): such destinations are
`skipped`, each with its reason. A one-destination export is not a file rudder-server reads: only its explicit
`"enabled": false` or `"isProcessorEnabled": false` skips it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from iterable_sim.exceptions import IterableSimError
from iterable_sim.pipeline.definition import DEFINITION_KEYS
from iterable_sim.pipeline.integrations import ITERABLE_NAME
from iterable_sim.pipeline.run import ITERABLE_SUPPORTED_MESSAGE_TYPES, PipelineConfig
from iterable_sim.pipeline.usertransform import UserTransformation

WORKSPACE, NAMESPACE, DESTINATION, CONFIG = "workspace", "namespace", "destination", "config"
KINDS = (WORKSPACE, NAMESPACE, DESTINATION, CONFIG)
TRANSFORM_AT = ("router", "processor", "none")


class RudderConfigError(IterableSimError, ValueError):
    """A RudderStack config that cannot be read, or from which no one Iterable destination can be chosen."""


@dataclass(frozen=True)
class IterableDestination:
    """One Iterable destination of a RudderStack config, with what rudder-server's steps read around it.

    `config` is the destination's Config (what the transformer receives as `destination.Config`).
    `supported_message_types` is the definition's `supportedMessageTypes` as rudder-server reads it (None: no
    list, so rudder-server filters no message type; `processor/processor.go:3877`). `transform_at` is the
    definition's `transformAtV1` (`processor/processor.go:3498-3501`: "processor" when it is not a string).
    `transformations` are the IDs of the destination's user transformations (JavaScript iterable_sim does not
    run: give a Python `user_transformation` to `pipeline_config`). `kind` and `path` say what it was read from;
    `overrides` are Config keys given on top of the file's (already in `config`).
    """

    id: str
    name: str
    config: Mapping[str, Any]
    kind: str = CONFIG
    path: str | None = None
    workspace_id: str = ""
    source_id: str = ""
    source_name: str = ""
    source_category: str = ""
    source_definition_name: str = ""
    source_definition_type: str = ""
    supported_message_types: tuple[str, ...] | None = ITERABLE_SUPPORTED_MESSAGE_TYPES
    transform_at: str = "router"
    transformations: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    def pipeline_config(self, *, user_transformation: UserTransformation | None = None) -> PipelineConfig:
        """The context rudder-server's steps read for this destination: its Config, IDs and names, source, the
        definition's message types and `transformAtV1`; `user_transformation` stands for its transformation."""
        return PipelineConfig(
            destination_config=self.config, supported_message_types=self.supported_message_types,
            user_transformation=user_transformation, transform_at=self.transform_at, source_id=self.source_id,
            source_name=self.source_name, source_category=self.source_category,
            source_definition_type=self.source_definition_type, workspace_id=self.workspace_id,
            destination_id=self.id, destination_name=self.name)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "IterableDestination":
        """This destination with Config keys changed (`overrides` on top of the Config, remembered)."""
        if not overrides:
            return self
        return replace(self, config={**self.config, **overrides}, overrides={**self.overrides, **overrides})

    def describe(self) -> str:
        """'Iterable prod' (dst-1) of source 'Web' (src-1), or 'the destination Config' for a bare one."""
        if self.kind == CONFIG:
            return "the destination Config"
        text = _label(self.name, self.id)
        if self.source_id or self.source_name:
            text += f" of source {_label(self.source_name, self.source_id)}"
        return text


@dataclass(frozen=True)
class RudderConfig:
    """What a RudderStack config holds for Iterable: the destinations rudder-server would send to, the
    Iterable destinations it would skip (`skipped`: description, reason), and its other destinations
    (`others`: "NAME 'name' (id)")."""

    kind: str
    destinations: tuple[IterableDestination, ...]
    skipped: tuple[tuple[IterableDestination, str], ...] = ()
    others: tuple[str, ...] = ()
    path: str | None = None

    def choose(self, destination: str | None = None) -> IterableDestination:
        """The one Iterable destination to run: the only one, or the one whose ID or name is `destination`.
        Raises RudderConfigError, in one line, when there is none, several and none named, or no such one."""
        where = self.path or f"the {self.kind} config"
        if destination is not None:
            return self._named(destination, where)
        if len(self.destinations) == 1:
            return self.destinations[0]
        if not self.destinations:
            raise RudderConfigError(self._none_text(where))
        listed = "; ".join(d.describe() for d in self.destinations)
        raise RudderConfigError(f"{where} has {len(self.destinations)} Iterable destinations: {listed}. Choose one "
                                f"with --destination ID_OR_NAME (destination= in Python)")

    def _named(self, wanted: str, where: str) -> IterableDestination:
        if self.kind == CONFIG:
            raise RudderConfigError(f"{where} is a bare destination Config, which names no destination: drop "
                                    f"--destination {wanted!r}")
        for group in ((d for d in self.destinations if d.id == wanted), (d for d in self.destinations if d.name == wanted)):
            found = list(group)
            if len(found) == 1:
                return found[0]
            if found:
                raise RudderConfigError(f"{len(found)} Iterable destinations of {where} are named {wanted!r}: "
                                        f"{'; '.join(d.describe() for d in found)}. Give its ID")
        for skipped, reason in self.skipped:
            if wanted in (skipped.id, skipped.name):
                raise RudderConfigError(f"{skipped.describe()} in {where}: {reason}")
        if not self.destinations:
            raise RudderConfigError(f"--destination {wanted!r}: {self._none_text(where)}")
        listed = "; ".join(d.describe() for d in self.destinations)
        raise RudderConfigError(f"--destination {wanted!r} names no Iterable destination of {where}; it has: {listed}")

    def _none_text(self, where: str) -> str:
        text = f"{where} has no Iterable destination rudder-server would send to"
        if self.skipped:
            text += " (skipped: " + "; ".join(f"{d.describe()}: {reason}" for d, reason in self.skipped) + ")"
        if self.others:
            text += f"; its other destinations: {', '.join(self.others)}"
        elif not self.skipped:
            text += " (it has no destination at all)"
        return text


def read_rudder_config(value: Any, *, path: str | os.PathLike[str] | None = None) -> RudderConfig:
    """The Iterable destinations of a parsed RudderStack config of any kind (see the module's doc). `path`
    names where it was read from, for messages and for each destination's `path`."""
    where = str(path) if path is not None else None
    if not isinstance(value, Mapping):
        raise RudderConfigError(f"{where or 'the config'}: a RudderStack config is a JSON object (a workspace config, "
                                f"a destination, or a destination's Config), not a JSON {_json_type(value)}")
    kind = config_kind(value)
    if kind == WORKSPACE:
        found = _Found()
        _workspace(value, "", found, where, "", WORKSPACE)
        return found.result(WORKSPACE, where)
    if kind == NAMESPACE:
        found = _Found()
        for workspace_id, workspace in value.items():
            _workspace(workspace, workspace_id, found, where, f"{workspace_id}.", NAMESPACE)
        return found.result(NAMESPACE, where)
    if kind == DESTINATION:
        return _export(value, where)
    return RudderConfig(CONFIG, (IterableDestination("", "", dict(value), CONFIG, where),), path=where)


def load_rudder_config(path: str | os.PathLike[str]) -> RudderConfig:
    """`read_rudder_config` of a JSON file; RudderConfigError, in one line, when it cannot be read."""
    file = Path(path)
    if not file.exists():
        raise RudderConfigError(f"no such settings file: {path}")
    if file.is_dir():
        raise RudderConfigError(f"{path} is a directory: give a JSON settings file")
    try:
        text = file.read_text("utf-8")
    except UnicodeDecodeError:
        raise RudderConfigError(f"{path} is not UTF-8 text (a binary file?): give a JSON settings file") from None
    except OSError as err:
        raise RudderConfigError(f"cannot read {path}: {err.strerror}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise RudderConfigError(f"{path}: not JSON ({err})") from None
    return read_rudder_config(value, path=path)


def config_kind(value: Mapping[str, Any]) -> str:
    """Which kind of RudderStack config `value` is: "workspace", "namespace", "destination" or "config"."""
    if "sources" in _go_keys(value):
        return WORKSPACE
    if value and all(isinstance(v, Mapping) and "sources" in _go_keys(v) for v in value.values()):
        return NAMESPACE
    keys = _go_keys(value)
    if not DEFINITION_KEYS & set(value) and ("config" in keys or "destinationdefinition" in keys):
        return DESTINATION
    return CONFIG


# ---------------------------------------------------------------- reading as Go does


def _go_keys(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Lower-cased key -> value, as Go's decoder fills the field a key names in any letter case: each key
    overwrites what an earlier one set, so the last wins."""
    return {key.lower(): value for key, value in obj.items() if isinstance(key, str)}


class _Fields(dict[str, Any]):
    """The values of a Go struct's fields, by lower-cased name; `spelled` keeps each key as the file spells it."""

    def __init__(self, values: Mapping[str, Any] = MappingProxyType({}), spelled: Mapping[str, str] = MappingProxyType({})) -> None:
        super().__init__(values)
        self.spelled = dict(spelled)

    def name(self, field_name: str) -> str:
        return self.spelled.get(field_name, field_name)


def _struct(obj: Any, where: str, names: tuple[str, ...]) -> _Fields:
    """The values of the Go struct fields `names` (lower case) that `obj` holds; none for null."""
    if obj is None:
        return _Fields()
    if not isinstance(obj, Mapping):
        raise _type_error(where, obj, "an object")
    keys = _go_keys(obj)
    spelled = {key.lower(): key for key in obj if isinstance(key, str)}
    return _Fields({name: keys[name] for name in names if name in keys}, spelled)


def _string(fields: _Fields, name: str, where: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _type_error(f"{where}{fields.name(name)}", value, "a string")
    return value


def _bool(fields: _Fields, name: str, where: str) -> bool:
    value = fields.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _type_error(f"{where}{fields.name(name)}", value, "true or false")
    return value


def _list(fields: _Fields, name: str, where: str) -> list[Any]:
    value = fields.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _type_error(f"{where}{fields.name(name)}", value, "a list")
    return value


def _map(fields: _Fields, name: str, where: str) -> dict[str, Any]:
    value = fields.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _type_error(f"{where}{fields.name(name)}", value, "an object")
    return dict(value)


def _type_error(where: str, value: Any, wanted: str) -> RudderConfigError:
    return RudderConfigError(f"{where} is a JSON {_json_type(value)} where rudder-server reads {wanted}: its decoder "
                             f"refuses such a config whole (backend-config/single_workspace.go:152-157)")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", type(None): "null"}.get(type(value), "object")


# ---------------------------------------------------------------- the kinds


@dataclass
class _Found:
    destinations: list[IterableDestination] = field(default_factory=list)
    skipped: list[tuple[IterableDestination, str]] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    def result(self, kind: str, path: str | None) -> RudderConfig:
        others = tuple(dict.fromkeys(self.others))  # a destination connected to several sources is listed once
        return RudderConfig(kind, tuple(self.destinations), tuple(self.skipped), others, path)


@dataclass(frozen=True)
class _Definition:
    name: str
    supported_message_types: tuple[str, ...] | None
    transform_at: str


def _definition(fields: _Fields, where: str, *, export: bool) -> _Definition:
    """The definition's name, message types and transformAtV1. In a workspace config they are read as
    rudder-server reads them: only a list of types filters (`GetSupportedMessageTypes`,
    `processor/eventfilter/eventfilter.go:24-44`; a non-string item is read as ""), a `transformAtV1` that is not a
    string is "processor" (`processor/processor.go:3498-3501`). An export is the control plane's, not what it sends
    rudder-server: Iterable's definition stands for what it leaves out, and the object form of the types
    (`{"cloud": [...], "device": {...}}`, intcfg@db-config.json:55-60) gives its cloud list, as the control plane
    is taken to send (pipeline.md, "What the source does not tell" 1)."""
    inner = f"{where}{fields.name('destinationdefinition')}"
    definition = _struct(fields.get("destinationdefinition"), inner, ("id", "name", "displayname", "config"))
    inner += "."
    config = _map(definition, "config", inner)
    name = _string(definition, "name", inner) if definition or not export else ITERABLE_NAME
    types = config.get("supportedMessageTypes")
    if export and isinstance(types, Mapping):
        types = types.get("cloud")
    supported: tuple[str, ...] | None
    if isinstance(types, list):
        supported = tuple(t if isinstance(t, str) else "" for t in types)
    else:
        supported = ITERABLE_SUPPORTED_MESSAGE_TYPES if export and "supportedMessageTypes" not in config else None
    transform_at = config.get("transformAtV1", "router" if export else None)
    return _Definition(name, supported,
                       transform_at if isinstance(transform_at, str) and transform_at in TRANSFORM_AT else "processor")


def _workspace(value: Any, workspace_id: str, found: _Found, path: str | None, prefix: str, kind: str) -> None:
    fields = _struct(value, prefix.rstrip(".") or "the workspace config", ("workspaceid", "sources"))
    workspace_id = workspace_id or _string(fields, "workspaceid", prefix)
    for s, source in enumerate(_list(fields, "sources", prefix)):
        where = f"{prefix}{fields.name('sources')}[{s}]."
        source_fields = _struct(source, where.rstrip("."), (
            "id", "name", "enabled", "workspaceid", "sourcedefinition", "destinations"))
        inner = f"{where}{source_fields.name('sourcedefinition')}"
        definition = _struct(source_fields.get("sourcedefinition"), inner, ("id", "name", "category", "type"))
        inner += "."
        context = {"workspace_id": workspace_id or _string(source_fields, "workspaceid", where),
                   "source_id": _string(source_fields, "id", where), "source_name": _string(source_fields, "name", where),
                   "source_category": _string(definition, "category", inner),
                   "source_definition_name": _string(definition, "name", inner),
                   "source_definition_type": _string(definition, "type", inner)}
        source_enabled = _bool(source_fields, "enabled", where)
        for d, destination in enumerate(_list(source_fields, "destinations", where)):
            _destination(destination, f"{where}{source_fields.name('destinations')}[{d}].", kind, context,
                         source_enabled, found, path)


def _destination(value: Any, where: str, kind: str, context: Mapping[str, str], source_enabled: bool,
                 found: _Found, path: str | None) -> None:
    fields = _struct(value, where.rstrip("."), ("id", "name", "enabled", "isprocessorenabled", "workspaceid", "config",
                                                "destinationdefinition", "transformations"))
    definition = _definition(fields, where, export=kind == DESTINATION)
    identifier, name = _string(fields, "id", where), _string(fields, "name", where)
    if definition.name != ITERABLE_NAME:
        found.others.append(f"{definition.name or '(no definition name)'} {_label(name, identifier)}")
        return
    iterable = IterableDestination(
        identifier, name, _map(fields, "config", where), kind, path,
        workspace_id=context.get("workspace_id") or _string(fields, "workspaceid", where),
        source_id=context.get("source_id", ""), source_name=context.get("source_name", ""),
        source_category=context.get("source_category", ""),
        source_definition_name=context.get("source_definition_name", ""),
        source_definition_type=context.get("source_definition_type", ""),
        supported_message_types=definition.supported_message_types, transform_at=definition.transform_at,
        transformations=_transformations(fields, where))
    reason = None
    if not source_enabled:
        reason = "its source is disabled: rudder-server's processor uses enabled sources only (processor/processor.go:888-889)"
    elif not _bool(fields, "enabled", where):
        reason = "it is disabled: rudder-server's processor uses enabled destinations only (processor/processor.go:979-990)"
    elif not _bool(fields, "isprocessorenabled", where):
        reason = ("its isProcessorEnabled is not true: rudder-server's processor never sees it "
                  "(backend-config/backend-config.go:142-163)")
    if reason is None:
        found.destinations.append(iterable)
    else:
        found.skipped.append((iterable, reason))


def _transformations(fields: _Fields, where: str) -> tuple[str, ...]:
    ids = []
    for t, transformation in enumerate(_list(fields, "transformations", where)):
        inner = f"{where}{fields.name('transformations')}[{t}]"
        ids.append(_string(_struct(transformation, inner, ("id", "versionid")), "id", f"{inner}.") or f"#{t + 1}")
    return tuple(ids)


def _export(value: Mapping[str, Any], path: str | None) -> RudderConfig:
    """One destination as the control plane exports it: read with the same field rules, but only an explicit
    false disables it (the export is not a ConfigT, whose absent booleans are false)."""
    keys = _go_keys(value)
    defaults = {name: True for name in ("enabled", "isProcessorEnabled") if keys.get(name.lower()) is None}
    found = _Found()
    _destination({**value, **defaults}, "", DESTINATION, {}, True, found, path)
    if found.others:
        raise RudderConfigError(f"{path or 'the destination'}: the destination {found.others[0]} is not an Iterable "
                                f"destination (its destinationDefinition.name is not {ITERABLE_NAME!r})")
    return found.result(DESTINATION, path)


def _label(name: str, identifier: str) -> str:
    if name and identifier:
        return f"{name!r} ({identifier})"
    return repr(name) if name else f"({identifier or 'no ID'})"
