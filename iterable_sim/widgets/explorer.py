"""SettingsExplorer: a control for every destination setting, and the tables that follow them."""
from __future__ import annotations

import html
from dataclasses import replace
from typing import Any, Iterable
from urllib.parse import urlsplit

import ipywidgets as widgets
import pandas as pd

from iterable_sim.checks.compare import compare_settings, changed_settings
from iterable_sim.mapping.jsvalues import truthy
from iterable_sim.clock import SystemClock
from iterable_sim.mapping import map_events
from iterable_sim.mapping.results import MappingResults
from iterable_sim.checks.preflight import requests_with_preflight
from iterable_sim.samples import sample_events
from iterable_sim.mapping.settings import RUDDER_KEYS, Settings
from iterable_sim.widgets._view import Grid, View, button, lines_html, tabs

# Settings field -> the label RudderStack's dashboard gives it.
FLAG_LABELS = {
    "track_all_pages": "Track All Pages",
    "track_categorised_pages": "Track Categorized Pages",
    "track_named_pages": "Track Named Pages",
    "map_to_single_event": "Map All Pages to Single Event Name",
    "prefer_user_id": "preferUserId",
    "merge_nested_objects": "mergeNestedObjects",
}
DEVICE_KEY_LABEL = "Device/browser API key set"
# The explorer never asks for a key: with the box ticked, mapping uses this stand-in (only presence matters).
STAND_IN_DEVICE_KEY = "device-key-stand-in"


class SettingsExplorer(View):
    """Widgets for every setting of the Iterable destination; the mapped requests (with Iterable's
    preflight verdict), RudderStack's refusals, and the changes against a baseline follow them.

    Headless use: set `explorer.controls[name].value` (names are Settings fields) and read
    `requests_frame()`, `errors_frame()`, `changes_frame()`.
    """

    def __init__(self, events: Iterable[Any] | None = None, settings: Settings | None = None, *,
                 baseline: Settings | None = None, received_at: Any = None) -> None:
        """`events`: RudderStack events (default: the sample events); `settings`: where the controls
        start (default `Settings()`); `baseline`: what changes are measured against (default: the start);
        `received_at`: when rudder-server's gateway receives the events (default: now, once, so that
        flipping a setting changes only what the setting changes)."""
        self.events = list(events) if events is not None else sample_events()
        self.received_at = received_at if received_at is not None else SystemClock().now()
        start = settings or Settings()
        self._start = start
        self._device_key = start.register_device_or_browser_api_key
        self.controls: dict[str, widgets.ValueWidget] = {
            name: widgets.Checkbox(value=_flag(start, name), description=label, indent=False)
            for name, label in FLAG_LABELS.items()}
        self.controls["data_center"] = widgets.Dropdown(options=["USDC", "EUDC"], value=start.data_center,
                                                        description="Data center")
        self.controls["register_device_or_browser_api_key"] = widgets.Checkbox(
            value=bool(self._device_key), description=DEVICE_KEY_LABEL, indent=False)
        self.baseline = baseline or self.settings
        self._status = widgets.HTML()
        self._requests = Grid("no requests")
        self._errors = Grid("RudderStack refuses none of the events")
        self._filtered = Grid("rudder-server filters none of the events")
        self._changed = widgets.HTML()
        self._changes = Grid("no event changes")
        baseline_button = button("Set as baseline", icon="thumb-tack",
                                         tooltip="measure the next changes from the current settings")
        baseline_button.on_click(lambda _: self.set_baseline())
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        checkboxes = [self.controls[name] for name in FLAG_LABELS]
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox(checkboxes[:3]), widgets.VBox(checkboxes[3:]),
                          widgets.VBox([self.controls["data_center"],
                                        self.controls["register_device_or_browser_api_key"], baseline_button])]),
            self._status,
            tabs({"Requests": self._requests.widget, "Refused": self._errors.widget,
                  "Filtered": self._filtered.widget,
                  "Changes": widgets.VBox([self._changed, self._changes.widget])}),
        ])
        self._refresh()

    # ---- what the controls say ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings the controls show now: the starting settings with what the controls changed (read
        from a Config, the rest of it is kept: consent and the other keys rudder-server reads, its context)."""
        start = self._start
        device = self.controls["register_device_or_browser_api_key"].value
        shown: dict[str, Any] = {name: self.controls[name].value for name in FLAG_LABELS}
        shown["data_center"] = self.controls["data_center"].value
        shown["register_device_or_browser_api_key"] = (self._device_key or STAND_IN_DEVICE_KEY) if device else None
        at_start: dict[str, Any] = {name: _flag(start, name) for name in FLAG_LABELS}
        at_start["data_center"] = start.data_center
        at_start["register_device_or_browser_api_key"] = self._device_key if self._device_key else None
        changed = {name: value for name, value in shown.items() if value != at_start[name]}
        if not changed:
            return start
        if start.rudder_config is None:
            return replace(start, **changed)
        return Settings.from_rudder({**start.rudder_config, **{RUDDER_KEYS[name]: value for name, value in changed.items()}},
                                    rudder_server=start.rudder_server, pipeline=start.pipeline,
                                    rudderstack=start.rudderstack)

    @property
    def results(self) -> MappingResults:
        return self._results

    def requests_frame(self) -> pd.DataFrame:
        """One row per request: the `host` it goes to, then the `preflight` verdict and its reason after
        the endpoint."""
        return self._requests_frame.copy()

    def errors_frame(self) -> pd.DataFrame:
        return self._results.errors_frame()

    def changes_frame(self) -> pd.DataFrame:
        """The events whose outcome differs between the baseline and the current settings."""
        return self._changes_frame.copy()

    def set_baseline(self, settings: Settings | None = None) -> None:
        """Measure changes against `settings` (default: the current ones)."""
        self.baseline = settings or self.settings
        self._refresh()

    # ---- views -------------------------------------------------------------------------------

    def _on_change(self, _change: dict[str, Any]) -> None:
        self._refresh()

    def _refresh(self) -> None:
        settings = self.settings
        self._results = map_events(self.events, settings, received_at=self.received_at)
        self._requests_frame = _with_host(requests_with_preflight(self._results), self._results)
        self._changes_frame = compare_settings(self.events, self.baseline, settings,
                                               labels=("baseline", "current"), changes_only=True,
                                               received_at=self.received_at)
        self._status.value = self._status_html()
        self._requests.show(self._requests_frame)
        self._errors.show(self.errors_frame())
        self._filtered.show(self._results.filtered_frame())
        self._changed.value = self._changed_html()
        self._changes.show(self._changes_frame)

    def _status_html(self) -> str:
        summary = self._results.summary()
        verdicts = self._requests_frame["preflight"].value_counts().to_dict() if len(self._requests_frame) else {}
        text = (f"<b>{summary['events']} events → {summary['requests']} requests</b>; "
                f"{summary['failed']} refused by RudderStack, {summary['filtered']} filtered by rudder-server; "
                f"Iterable would reject "
                f"{verdicts.get('rejected', 0)} and accept {verdicts.get('warning', 0)} with a warning; mapped as "
                f"{html.escape(str(self.settings.release))}")
        return text + lines_html(f"⚠ {w}" for w in self._results.warnings)

    def _changed_html(self) -> str:
        changed = changed_settings(self.baseline, self.settings)
        if not changed:
            return "<p><i>the current settings are the baseline: change one to see what it does</i></p>"
        header = "Changed: " + "; ".join(f"{key} {old!r} → {new!r}" for key, (old, new) in changed.items())
        return f"<p>{html.escape(header)}</p>"

    def headline(self) -> str:
        s = self._results.summary()
        rejected = int((self._requests_frame["preflight"] == "rejected").sum()) if len(self._requests_frame) else 0
        changed = len(changed_settings(self.baseline, self.settings))
        return (f"{s['events']} events → {s['requests']} requests; {s['failed']} refused by RudderStack, "
                f"{rejected} rejected by Iterable (preflight); {changed} settings changed from the baseline")


def _with_host(frame: pd.DataFrame, results: MappingResults) -> pd.DataFrame:
    """`frame` (one row per request, in order) with each request's `host` before its endpoint: the data
    center setting shows there."""
    hosts = [urlsplit(request.url).netloc for result in results for request in result.requests]
    frame = frame.copy()
    frame.insert(list(frame.columns).index("endpoint"), "host", hosts)
    return frame


def _flag(settings: Settings, name: str) -> bool:
    """A checkbox's state for a setting as RudderStack reads it (mapToSingleEvent only counts when true)."""
    value = getattr(settings, name)
    return value is True if name == "map_to_single_event" else truthy(value)
