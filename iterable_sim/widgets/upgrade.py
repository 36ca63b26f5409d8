"""UpgradePicker: two dropdowns of the known rudder-transformer releases, and what moving from one to the other
changes for your events (`iterable_sim.checks.upgrade.upgrade_diff`): the changes grouped with their rules, and
one row per event and change."""
from __future__ import annotations

import html
from typing import Any, Iterable

import ipywidgets as widgets
import pandas as pd

from iterable_sim.checks.upgrade import UpgradeDiff, upgrade_diff
from iterable_sim.clock import SystemClock
from iterable_sim.mapping.releases import KNOWN_RELEASES, NEWEST
from iterable_sim.mapping.settings import Settings
from iterable_sim.samples import sample_events
from iterable_sim.widgets._view import Grid, View, tabs

RELEASE_OPTIONS = [(str(release), release.tag) for release in KNOWN_RELEASES]
"""The dropdowns' choices: each known release's label, and its tag as the value."""
MAX_ROUTER_CALL = 10_000  # the router call box's bound: rudder-server's router sends far smaller calls


class UpgradePicker(View):
    """Pick the release you run (`from`) and the one you would move to (`to`); the grouped changes and the
    rows of `upgrade_diff` follow, on your events with your settings.

    Headless use: set `picker.controls["from"].value` / `["to"].value` (release tags such as "v1.96.0") or
    `["router"].value` (events per router call, 0 for none) and read `diff`, `frame()`, `groups_frame()`.
    """

    def __init__(self, events: Iterable[Any] | None = None, settings: Settings | None = None, *,
                 from_: str = KNOWN_RELEASES[0].tag, to: str = NEWEST.tag, router: int = 0,
                 received_at: Any = None) -> None:
        """`events`: RudderStack events (default: the sample events); `settings`: the destination's settings
        (default `Settings()`); `from_`, `to`: where the dropdowns start; `router`: events per router call
        (0: each event on its own); `received_at`: when rudder-server's gateway receives the events (default:
        now, once)."""
        self.events = list(events) if events is not None else sample_events()
        self.settings = settings or Settings()
        self.received_at = received_at if received_at is not None else SystemClock().now()
        self.controls: dict[str, widgets.ValueWidget] = {
            "from": widgets.Dropdown(options=RELEASE_OPTIONS, value=from_, description="From"),
            "to": widgets.Dropdown(options=RELEASE_OPTIONS, value=to, description="To"),
            "router": widgets.BoundedIntText(value=router, min=0, max=MAX_ROUTER_CALL, description="Router call",
                                             tooltip="events per router call; 0: each event on its own"),
        }
        self._status = widgets.HTML()
        self._groups = Grid("no change")
        self._rows = Grid("no change")
        for control in self.controls.values():
            control.observe(lambda _change: self._refresh(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox(list(self.controls.values())), self._status,
            tabs({"Changes by kind": self._groups.widget, "Every event": self._rows.widget})])
        self._refresh()

    @property
    def diff(self) -> UpgradeDiff:
        return self._diff

    def frame(self) -> pd.DataFrame:
        """One row per event and change (UpgradeDiff.frame)."""
        return self._diff.frame()

    def groups_frame(self) -> pd.DataFrame:
        """The changes with how many events each touches and the rule behind it (UpgradeDiff.groups_frame)."""
        return self._diff.groups_frame()

    def headline(self) -> str:
        return self._diff.headline()

    def _refresh(self) -> None:
        router = self.controls["router"].value or None
        self._diff = upgrade_diff(self.events, self.settings, from_=self.controls["from"].value,
                                  to=self.controls["to"].value, router=router, progress=False,
                                  received_at=self.received_at)
        lines = [f"<b>{html.escape(self._diff.headline())}</b>"]
        if router is not None:
            lines.append(f"router calls of {router:,} events: {self._diff.requests_before:,} requests to Iterable "
                         f"→ {self._diff.requests_after:,}")
        lines += [f"⚠ {html.escape(warning)}" for warning in self._diff.warnings]
        untouched = self._diff.untouched_rules()
        if untouched:
            lines.append("Changes between the two releases that touch none of these events: "
                         + "; ".join(html.escape(self._diff.describe_rule(rule)) for rule in untouched))
        self._status.value = "".join(f"<p>{line}</p>" for line in lines)
        self._groups.show(self.groups_frame())
        self._rows.show(self.frame())
