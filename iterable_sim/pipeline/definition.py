"""Every key of the Iterable destination's Config, as its destination definition declares them, and who reads it.

Read from rudder-integrations-config at commit d1195826 (intcfg@`src/configurations/destinations/iterable/`):
`db-config.json` (`includeKeys`, and `destConfig`: the keys per source type), `ui-config.json` (the dashboard's
fields, `configKey`) and `schema.json` (`configSchema.properties`). A key is here when any of the three lists it;
`DEFINITION_FILES` says which. Checked against those files by tests/pipeline/test_workspace.py when
../shared/rudderstack/server/definition is present.

Who reads each key (`READ_BY`):

* `transformer`: rudder-transformer's Iterable destination code (what `Settings` holds);
* `rudder-server`: the processor's consent filter (`processor/consent.go:127-207`) and the hybrid-mode event
  filter (`processor/eventfilter/eventfilter.go:216-222`);
* `device mode`: the Iterable web SDK integration in the browser (the in-app message settings, `useNativeSDK`,
  `packageName`); neither rudder-server nor the transformer reads them;
* `client-side filtering`: `eventFilteringOption`, `whitelistedEvents`, `blacklistedEvents`, the dashboard's
  "Client-side event filtering" group, shown only for device-mode connections (ui-config.json:579-657). No file
  of rudder-server at f2655fbbe reads them (only its test data mentions them:
  `backend-config/testdata/sample_namespace.json:35-45`), nor does rudder-transformer's Iterable code at
  c98d160c: in cloud mode nothing filters by them. iterable_sim accepts them quietly and ignores them.

`RUDDER_SERVER_KEYS` are keys rudder-server reads for any destination that Iterable's definition does not declare
(`enableServerSideIdentify`, `processor/eventfilter/eventfilter.go:46-53`; `listOfConversions`,
`processor/eventfilter/eventfilter.go:57-85`): a Config holding them is read as rudder-server reads it.
"""
from __future__ import annotations

from types import MappingProxyType

INTEGRATIONS_CONFIG_COMMIT = "d1195826d9e1b7161d8e8107f8fe43de8f2e7307"
DEFINITION_PATH = "src/configurations/destinations/iterable"

TRANSFORMER, RUDDER_SERVER, DEVICE_MODE, CLIENT_SIDE_FILTERING = (
    "transformer", "rudder-server", "device mode", "client-side filtering")

_INCLUDE, _DEST, _UI, _SCHEMA = ("db-config.json includeKeys", "db-config.json destConfig", "ui-config.json",
                                 "schema.json")
_ALL = (_INCLUDE, _DEST, _UI, _SCHEMA)

# key -> (the definition files that list it, who reads it)
_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "apiKey": (_ALL, TRANSFORMER),
    "dataCenter": (_ALL, TRANSFORMER),
    "registerDeviceOrBrowserApiKey": ((_DEST, _UI, _SCHEMA), TRANSFORMER),
    "preferUserId": ((_DEST, _UI, _SCHEMA), TRANSFORMER),
    "mergeNestedObjects": ((_DEST, _UI, _SCHEMA), TRANSFORMER),
    "mapToSingleEvent": ((_DEST, _UI, _SCHEMA), TRANSFORMER),
    "trackAllPages": ((_DEST, _UI, _SCHEMA), TRANSFORMER),
    "trackCategorisedPages": ((_DEST, _UI, _SCHEMA), TRANSFORMER),
    "trackNamedPages": ((_DEST, _UI, _SCHEMA), TRANSFORMER),
    "oneTrustCookieCategories": ((_INCLUDE, _DEST, _SCHEMA), RUDDER_SERVER),
    "ketchConsentPurposes": ((_INCLUDE, _DEST, _SCHEMA), RUDDER_SERVER),
    "consentManagement": (_ALL, RUDDER_SERVER),
    "connectionMode": ((_DEST, _SCHEMA), RUDDER_SERVER),
    "eventFilteringOption": ((_INCLUDE, _DEST, _UI), CLIENT_SIDE_FILTERING),
    "whitelistedEvents": ((_INCLUDE, _DEST, _UI), CLIENT_SIDE_FILTERING),
    "blacklistedEvents": ((_INCLUDE, _DEST, _UI), CLIENT_SIDE_FILTERING),
    "useNativeSDK": ((_DEST, _SCHEMA), DEVICE_MODE),
    "packageName": ((_INCLUDE, _DEST, _UI), DEVICE_MODE),
    "initialisationIdentifier": (_ALL, DEVICE_MODE),
    "getInAppEventMapping": (_ALL, DEVICE_MODE),
    "purchaseEventMapping": (_ALL, DEVICE_MODE),
    "sendTrackForInapp": (_ALL, DEVICE_MODE),
    "animationDuration": (_ALL, DEVICE_MODE),
    "displayInterval": (_ALL, DEVICE_MODE),
    "onOpenScreenReaderMessage": (_ALL, DEVICE_MODE),
    "onOpenNodeToTakeFocus": (_ALL, DEVICE_MODE),
    "rightOffset": (_ALL, DEVICE_MODE),
    "topOffset": (_ALL, DEVICE_MODE),
    "bottomOffset": (_ALL, DEVICE_MODE),
    "handleLinks": (_ALL, DEVICE_MODE),
    "closeButtonColor": (_ALL, DEVICE_MODE),
    "closeButtonSize": ((_INCLUDE, _DEST, _SCHEMA), DEVICE_MODE),
    "closeButtonColorTopOffset": (_ALL, DEVICE_MODE),
    "closeButtonColorSideOffset": (_ALL, DEVICE_MODE),
    "iconPath": (_ALL, DEVICE_MODE),
    "isRequiredToDismissMessage": (_ALL, DEVICE_MODE),
    "closeButtonPosition": (_ALL, DEVICE_MODE),
}

DEFINITION_FILES = MappingProxyType({key: files for key, (files, _) in _KEYS.items()})
"""Each key of the Iterable destination definition -> the definition files that list it."""
READ_BY = MappingProxyType({key: reader for key, (_, reader) in _KEYS.items()})
"""Each key of the Iterable destination definition -> who reads it (see the module's doc)."""
DEFINITION_KEYS = frozenset(_KEYS)
RUDDER_SERVER_KEYS = frozenset({"enableServerSideIdentify", "listOfConversions"})
KNOWN_KEYS = DEFINITION_KEYS | RUDDER_SERVER_KEYS
"""Every Config key something in RudderStack's path reads or declares: no other key earns a warning."""
