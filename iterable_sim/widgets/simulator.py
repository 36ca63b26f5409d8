"""Simulator: send events to a fresh mock Iterable, on simulated time, with faults from widgets."""
from __future__ import annotations

import html
from typing import Any, Iterable

import ipywidgets as widgets
import pandas as pd

from iterable_sim.clock import ManualClock
from iterable_sim.send.client import RetryPolicy
from iterable_sim.mapping import map_events
from iterable_sim.mock import MockIterable
from iterable_sim.mock import ENDPOINTS
from iterable_sim.mock.faults import KINDS, Faults
from iterable_sim.mock.state import PROJECT_TYPES
from iterable_sim.samples import sample_events
from iterable_sim.send import SendReport, send
from iterable_sim.mapping.settings import Settings
from iterable_sim.widgets._view import Grid, View, WidgetStateError, button, lines_html, tabs
from iterable_sim.widgets.chart import EndpointChart

STAND_IN_API_KEY = "simulator-key"
EVERY_ENDPOINT = "(every endpoint)"
FAULT_ENDPOINTS = sorted(endpoint.split(" ", 1)[1] for endpoint in ENDPOINTS if endpoint.startswith("POST "))
JOURNAL_COLUMNS = ["seq", "time", "data_center", "method", "endpoint", "status", "code", "msg", "fault", "latency"]


class FaultPanel(View):
    """Controls that describe faults (kind, endpoint, rate, 5xx status, latency, how many times);
    *Add fault* appends one, *Clear faults* removes all. `apply(mock)` injects them into a mock."""

    def __init__(self) -> None:
        self.controls: dict[str, widgets.ValueWidget] = {
            "kind": widgets.Dropdown(options=list(KINDS), value="5xx", description="Fault"),
            "endpoint": widgets.Dropdown(options=[EVERY_ENDPOINT, *FAULT_ENDPOINTS], description="Endpoint"),
            "rate": widgets.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="Rate"),
            "status": widgets.Dropdown(options=[500, 502, 503, 504], value=500, description="Status"),
            "seconds": widgets.BoundedFloatText(value=1.0, min=0.0, max=600.0, description="Seconds"),
            "times": widgets.BoundedIntText(value=0, min=0, max=1_000_000, description="At most",
                                            tooltip="how many times the fault strikes; 0: every time"),
        }
        self._times_note = widgets.HTML("times (0: no limit)")
        self.faults: list[dict[str, Any]] = []
        self._list = widgets.HTML()
        self._add_button = button("Add fault", icon="plus")
        self._add_button.on_click(lambda _: self.add())
        self._clear_button = button("Clear faults", icon="trash")
        self._clear_button.on_click(lambda _: self.clear())
        c = self.controls
        c["kind"].observe(lambda _: self._show_fields_of_kind(), names="value")
        self.widget = widgets.VBox([widgets.HBox([c["kind"], c["endpoint"], c["rate"]]),
                                    widgets.HBox([c["status"], c["seconds"], c["times"], self._times_note]),
                                    widgets.HBox([self._add_button, self._clear_button]), self._list])
        self._show_fields_of_kind()
        self._show()

    def _show_fields_of_kind(self) -> None:
        """The status field only for 5xx faults, the seconds only for latency."""
        kind = self.controls["kind"].value
        self.controls["status"].layout.display = None if kind == "5xx" else "none"
        self.controls["seconds"].layout.display = None if kind == "latency" else "none"

    def add(self, **overrides: Any) -> dict[str, Any]:
        """Add the fault the controls describe (keyword arguments override them); raises ValueError
        for a fault the mock would refuse."""
        values = {name: control.value for name, control in self.controls.items()} | overrides
        endpoint = values["endpoint"]
        fault = {"kind": values["kind"], "endpoint": None if endpoint in (None, EVERY_ENDPOINT) else endpoint,
                 "rate": float(values["rate"]), "status": int(values["status"]), "seconds": float(values["seconds"]),
                 "times": int(values["times"]) or None}
        Faults().add(**fault)  # validates it as the mock will
        self.faults.append(fault)
        self._show()
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self._show()

    def apply(self, mock: MockIterable) -> None:
        for fault in self.faults:
            mock.faults.add(**fault)

    def _show(self) -> None:
        self._list.value = lines_html(describe_fault(f) for f in self.faults) or "<i>no faults: Iterable behaves</i>"

    def headline(self) -> str:
        return "; ".join(map(describe_fault, self.faults)) or "no faults"


def describe_fault(fault: dict[str, Any]) -> str:
    what = {"5xx": f"{fault['status']} answers", "429": "429 RateLimitExceeded", "drop": "dropped connections",
            "latency": f"{fault['seconds']:g} s of latency"}[fault["kind"]]
    times = f", {fault['times']} times at most" if fault.get("times") else ""
    return f"{what} to {fault['rate']:.0%} of requests to {fault['endpoint'] or 'every endpoint'}{times}"


class Simulator(View):
    """Send events to a fresh mock Iterable and look at what it did: each event's outcome, the HTTP
    calls (and a chart of them per endpoint), the project's state (profiles, events, purchases,
    carts, devices), the journal, and the time the send takes at Iterable's rate limits.

    The project starts empty but for the catalogs the events write to (Iterable needs them created
    first). The mock and the client share one ManualClock, so pacing, back-off and latency are simulated:
    a send that would take an hour takes a moment, and every run is the same. `run()` (the *Send*
    button) starts again from an empty project, with the faults of `simulator.faults`.
    """

    def __init__(self, events: Iterable[Any] | None = None, settings: Settings | None = None, *,
                 project_type: str = "hybrid", seed: int = 0) -> None:
        self.events = list(events) if events is not None else sample_events()
        self.settings = _with_key(settings or Settings())
        self.seed = seed
        self.controls: dict[str, widgets.ValueWidget] = {
            "project_type": widgets.Dropdown(options=list(PROJECT_TYPES), value=project_type,
                                             description="Project type"),
            "pace": widgets.Checkbox(value=True, description="Pace to Iterable's rate limits", indent=False),
            "stable_event_ids": widgets.Checkbox(value=False, description="Stable event ids", indent=False),
        }
        self.faults = FaultPanel()
        self.report: SendReport | None = None
        self.mock: MockIterable | None = None
        self._sent_with: dict[str, Any] = {}
        self._summary = widgets.HTML()
        self._chart = widgets.HTML()
        self._grids = {"Outcomes": Grid(), "Requests": Grid("no requests"), "Profiles": Grid("no profiles"),
                       "Events": Grid("no events"), "Purchases": Grid("no purchases"), "Carts": Grid("no cart items"),
                       "Devices": Grid("no devices"), "Journal": Grid("no requests")}
        views: dict[str, widgets.Widget] = {name: grid.widget for name, grid in self._grids.items()}
        views["Requests"] = widgets.VBox([self._chart, self._grids["Requests"].widget])
        self._send_button = button("Send to the mock", icon="paper-plane", button_style="primary")
        self._send_button.on_click(lambda _: self.run())
        c = self.controls
        for control in c.values():
            control.observe(lambda _: self._show_summary(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([c["project_type"], c["pace"], c["stable_event_ids"]]),
            widgets.HTML("<b>Faults</b>"), self.faults.widget, self._send_button, self._summary, tabs(views)])
        self.run()

    def run(self) -> SendReport:
        """Send the events to an empty mock project; returns the report (also `self.report`)."""
        mock = MockIterable(self.controls["project_type"].value, clock=ManualClock(), seed=self.seed)
        mock.accept_keys_of(self.settings)
        mock.create_catalogs_for(map_events(self.events, self.settings).requests)
        self.faults.apply(mock)
        self.report = send(self.events, self.settings, to=mock, progress=False,
                           pace=self.controls["pace"].value, retry=RetryPolicy(seed=self.seed),
                           stable_event_ids=self.controls["stable_event_ids"].value)
        self.mock = mock
        self._sent_with = self._control_values()
        self._show()
        return self.report

    # ---- frames ------------------------------------------------------------------------------

    def outcomes_frame(self) -> pd.DataFrame:
        """One row per event: delivered / filtered / rejected / failed, Iterable's status and reason, attempts."""
        return self._report().frame()

    def requests_frame(self) -> pd.DataFrame:
        """One row per HTTP call."""
        return self._report().requests_frame()

    def journal_frame(self) -> pd.DataFrame:
        """The mock's journal, without the bodies and headers (`self.mock.journal_frame()` has them)."""
        return self._mock().journal_frame()[JOURNAL_COLUMNS]

    def chart(self) -> EndpointChart:
        return EndpointChart.from_report(self._report())

    @property
    def duration(self) -> float:
        """Simulated seconds the send took, pacing, back-off and latency included."""
        return self._report().duration

    def _report(self) -> SendReport:
        if self.report is None:
            raise WidgetStateError("nothing sent yet: call run()")
        return self.report

    def _mock(self) -> MockIterable:
        if self.mock is None:
            raise WidgetStateError("nothing sent yet: call run()")
        return self.mock

    # ---- views -------------------------------------------------------------------------------

    def _control_values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _show(self) -> None:
        mock = self._mock()
        self._show_summary()
        self._chart.value = self.chart().svg()
        frames = {"Outcomes": self.outcomes_frame(), "Requests": self.requests_frame(), "Profiles": mock.users_frame(),
                  "Events": mock.events_frame(), "Purchases": mock.purchases_frame(), "Carts": mock.carts_frame(),
                  "Devices": mock.devices_frame(), "Journal": self.journal_frame()}
        for name, frame in frames.items():
            self._grids[name].show(frame)

    def _show_summary(self) -> None:
        """The headline of the last send; after a change to the controls, a line saying Send applies it."""
        pending = ""
        if self._control_values() != self._sent_with:
            pending = "<p><b>Settings changed: press <i>Send to the mock</i> to run with them.</b></p>"
        self._summary.value = f"<p>{html.escape(self.headline())}</p>{pending}"

    def headline(self) -> str:
        if self.report is None:
            return "nothing sent"
        s = self.report.summary()
        return (f"{s['sent']} events to the mock Iterable ({self._sent_with['project_type']} project): "
                f"{s['delivered']} delivered, {s['filtered']} filtered, {s['rejected']} rejected, {s['failed']} failed; "
                f"{s['requests']} requests "
                f"({s['retried']} events retried, {s['possibly_duplicated']} possibly stored more than once) "
                f"in {self.duration:.2f} s of simulated time")


def _with_key(settings: Settings) -> Settings:
    """The settings with a stand-in API key when they have none: the mock needs one to answer 200."""
    if settings.api_key:
        return settings
    return Settings.from_rudder({**settings.to_rudder(), "apiKey": STAND_IN_API_KEY},
                                rudder_server=settings.rudder_server, pipeline=settings.pipeline,
                                rudderstack=settings.rudderstack)
