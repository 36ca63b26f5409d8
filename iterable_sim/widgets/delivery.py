"""The RudderStack delivery simulator widget: events through rudder-server's router (iterable_sim.rudder_router)
to a fresh mock Iterable, with an outage window and a request-rate limit, and the delivery timeline.

    from iterable_sim.widgets.delivery import DeliverySimulator
    DeliverySimulator(events, settings)          # the controls, the timeline chart, each event's statuses
"""
from __future__ import annotations

import html
from typing import Any, Iterable

import ipywidgets as widgets

from iterable_sim.clock import ManualClock
from iterable_sim.mapping.settings import Settings
from iterable_sim.mock import MockIterable
from iterable_sim.rudder_router import DeliveryReport, RouterConfig, Timing, deliver_like_rudderstack
from iterable_sim.samples import sample_events
from iterable_sim.widgets._view import Grid, View, button, tabs
from iterable_sim.widgets.simulator import STAND_IN_API_KEY

OUTAGE_ENDPOINTS = ("events/trackBulk", "users/bulkUpdate", "commerce/trackPurchase", "users/updateEmail", "(every endpoint)")


class DeliverySimulator(View):
    """Deliver the events as RudderStack's router would, on simulated time, against a fresh mock Iterable.

    Controls: an outage (a status on an endpoint from one minute to another), a 429 above a number of requests
    per second, the transformer proxy, the worker batch size (`Router.noOfJobsToBatchInAWorker`) and the seconds
    between two events reaching the router. `run()`
    (the *Deliver* button) starts from an empty project each time. The timeline shows calls per minute, the
    events waiting behind a blocked user, and the outcomes so far; the tabs each event's outcome and statuses.
    """

    def __init__(self, events: Iterable[Any] | None = None, settings: Settings | None = None, *, seed: int = 0,
                 outage: tuple[float, float] | None = None, outage_status: int = 503,
                 outage_endpoint: str = "events/trackBulk", arrival_interval: float = 0.0) -> None:
        self.events = list(events) if events is not None else sample_events()
        self.settings = _with_api_key(settings or Settings())
        self.seed = seed
        start, end = outage if outage is not None else (0.0, 0.0)
        self.controls: dict[str, widgets.ValueWidget] = {
            "outage_endpoint": widgets.Dropdown(options=list(OUTAGE_ENDPOINTS), value=outage_endpoint,
                                                description="Outage on"),
            "outage_status": widgets.BoundedIntText(value=outage_status, min=408, max=599, description="status"),
            "outage_start": widgets.BoundedFloatText(value=start, min=0, max=10_000, description="from minute"),
            "outage_end": widgets.BoundedFloatText(value=end, min=0, max=10_000, description="to minute"),
            "rate_429": widgets.BoundedFloatText(value=0, min=0, max=10_000, description="429 above /s (0: off)"),
            "proxy": widgets.Checkbox(value=False, description="Router.ITERABLE.transformerProxy", indent=False),
            "batch": widgets.BoundedIntText(value=20, min=1, max=10_000, description="jobs/batch"),
            "arrival": widgets.BoundedFloatText(value=arrival_interval, min=0, max=3600, description="s between events"),
        }
        for control in self.controls.values():  # the labels whole ("429 above /s (0: off)"), not cut at ipywidgets' 90 px
            control.style.description_width = "initial"
        self.report: DeliveryReport | None = None
        self.mock: MockIterable | None = None
        self._summary = widgets.HTML()
        self._chart = widgets.HTML()
        self._grids = {"Outcomes": Grid(), "Statuses": Grid("no statuses")}
        views: dict[str, widgets.Widget] = {"Timeline": self._chart}
        views.update((name, grid.widget) for name, grid in self._grids.items())
        self._button = button("Deliver like RudderStack", icon="paper-plane", button_style="primary")
        self._button.on_click(lambda _: self.run())
        c = self.controls
        self.widget = widgets.VBox([
            widgets.HBox([c["outage_endpoint"], c["outage_status"]]), widgets.HBox([c["outage_start"], c["outage_end"]]),
            widgets.HBox([c["rate_429"], c["batch"], c["arrival"]]), c["proxy"], self._button, self._summary, tabs(views)])
        self.run()

    def run(self) -> DeliveryReport:
        """Deliver the events to an empty mock project with the controls' faults and settings."""
        c = self.controls
        mock = MockIterable(clock=ManualClock(), seed=self.seed)
        mock.accept_keys_of(self.settings)
        t0 = mock.clock.now()
        start, end = float(c["outage_start"].value), float(c["outage_end"].value)
        if end > start:
            endpoint = None if c["outage_endpoint"].value.startswith("(") else c["outage_endpoint"].value
            status = int(c["outage_status"].value)
            if status == 429:
                mock.faults.add("429", endpoint, start=t0 + start * 60, end=t0 + end * 60)
            else:
                mock.faults.add("5xx", endpoint, status=status, start=t0 + start * 60, end=t0 + end * 60)
        if c["rate_429"].value:
            mock.faults.add("429", None, above=float(c["rate_429"].value))
        config = RouterConfig(transformer_proxy=bool(c["proxy"].value),
                              no_of_jobs_to_batch_in_a_worker=int(c["batch"].value))
        self.mock = mock
        timing = Timing(arrival_interval=float(c["arrival"].value))
        self.report = deliver_like_rudderstack(self.events, self.settings, mock, config=config, timing=timing,
                                               seed=self.seed)
        self._show()
        return self.report

    def chart_svg(self) -> str:
        return self.report.timeline().svg() if self.report is not None else ""

    def _show(self) -> None:
        assert self.report is not None
        self._summary.value = f"<p>{html.escape(self.headline())}</p>"
        self._chart.value = self.chart_svg()
        self._grids["Outcomes"].show(self.report.outcomes_frame())
        self._grids["Statuses"].show(self.report.steps_frame())

    def snapshot_html(self) -> str:
        """The static view shows the timeline too, so a notebook viewed without a kernel still has the chart."""
        return super().snapshot_html() + self.chart_svg()

    def headline(self) -> str:
        return "nothing delivered" if self.report is None else self.report.headline()


def _with_api_key(settings: Settings) -> Settings:
    """The settings with the simulator's stand-in API key when they have none: the mock needs one to answer 200."""
    if settings.api_key:
        return settings
    return Settings.from_rudder({**settings.to_rudder(), "apiKey": STAND_IN_API_KEY})
