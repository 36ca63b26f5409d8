"""LiveSender: send events to Iterable itself, only with a key and only after a dry run and a confirmation.

The API key comes from an environment variable or a password field. It is kept in this object only:
the field is emptied as soon as the key is taken (so the notebook cannot save it with the widget
state), and no repr, table or message shows any of it.
"""
from __future__ import annotations

import contextlib
import html
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import ipywidgets as widgets
import pandas as pd

from iterable_sim.clock import SystemClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping import map_events
from iterable_sim.checks.preflight import preflight
from iterable_sim.send import LIVE, SendReport, Target, send
from iterable_sim.mapping.settings import Settings
from iterable_sim.widgets._view import Grid, View, WidgetStateError, button

DEFAULT_ENV_VAR = "ITERABLE_API_KEY"


class NoApiKey(IterableSimError, RuntimeError):
    """Sending live was asked for without an API key."""


class LiveSender(View):
    """Preview (a dry run: mapping and Iterable's preflight answer, nothing sent), then confirm and send
    to live Iterable with a progress bar; the outcome table, and one click to re-send the failures.

    `to` is where "live" is: `LIVE` (Iterable, the default), or a URL / MockIterable to rehearse with.
    """

    def __init__(self, events: Iterable[Any], settings: Settings | None = None, *, env_var: str = DEFAULT_ENV_VAR,
                 to: Target = LIVE, progress: bool = True) -> None:
        self.events = list(events)
        self._settings = settings or Settings()
        self._env_var = env_var
        self._to = to
        self._progress = progress
        self._key: str | None = None
        self._key_source = ""
        self.report: SendReport | None = None
        self.preview_frame: pd.DataFrame | None = None
        self._received_at: float | None = None
        self.password = widgets.Password(description="API key", placeholder="paste your Iterable API key")
        self._use_key = button("Use this key", icon="key")
        self._use_key.on_click(lambda _: self.use_key_from_field())
        self._key_status = widgets.HTML()
        self._preview_button = button("Dry run", icon="eye")
        self._preview_button.on_click(lambda _: self.preview())
        self._confirm_button = button("Confirm: send", icon="paper-plane", button_style="danger",
                                              disabled=True)
        self._confirm_button.on_click(lambda _: self.confirm())
        self._resend_button = button("Re-send failures", icon="repeat", disabled=True)
        self._resend_button.on_click(lambda _: self.resend())
        self.record = widgets.Checkbox(value=False, description="Record a cassette", indent=False)
        self.cassette_path = widgets.Text(value="cassettes/live-send.yaml", description="Cassette")
        self._message = widgets.HTML()
        self._preview_view = Grid("no requests")
        self._progress_view = widgets.Output()
        self._outcome_view = Grid()
        self._results = widgets.Tab()
        self.widget = widgets.VBox([
            widgets.HBox([self.password, self._use_key]), self._key_status,
            widgets.HBox([self._preview_button, self._confirm_button, self._resend_button]),
            widgets.HBox([self.record, self.cassette_path]),
            self._message, self._progress_view, self._results])
        env_key = os.environ.get(env_var, "").strip()
        if env_key:
            self._set_key(env_key, f"from ${env_var}")
        self._show_key_status()

    # ---- the key ----------------------------------------------------------------------------

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def use_key_from_field(self) -> None:
        """Take the key typed into the password field, and empty the field."""
        key = self.password.value.strip()
        self.password.value = ""
        if key:
            self._set_key(key, "typed in")
        self._show_key_status()

    def _set_key(self, key: str, source: str) -> None:
        self._key, self._key_source = key, source
        self._refresh_buttons()

    def _show_key_status(self) -> None:
        if self._key is None:
            self._key_status.value = (
                f"<b>No API key.</b> Set <code>{html.escape(self._env_var)}</code> in the environment Jupyter was "
                "started from, or paste the key above and press <i>Use this key</i>. Nothing is sent without one.")
        else:
            self._key_status.value = f"API key: set ({html.escape(self._key_source)}; never shown)."

    # ---- dry run, confirm, re-send -------------------------------------------------------------

    @property
    def target(self) -> str:
        if self._to == LIVE:
            return f"live Iterable ({self._settings.data_center})"
        return "the mock Iterable" if not isinstance(self._to, str) else self._to

    def preview(self) -> pd.DataFrame:
        """The dry run: each request's preflight verdict. Nothing is sent; the confirm button arms."""
        self._received_at = SystemClock().now()  # the send that follows is this dry run's: the same gateway time
        results = map_events(self.events, self._settings, received_at=self._received_at)
        self.preview_frame = preflight(results)
        s = results.summary()
        verdicts = self.preview_frame["preflight"].value_counts()
        self._message.value = (
            f"<p>Dry run: {s['events']} events → {s['requests']} requests to {html.escape(self.target)}; "
            f"{s['failed']} refused by RudderStack, {s['filtered']} filtered by rudder-server; Iterable would reject {verdicts.get('rejected', 0)}. "
            "Nothing has been sent.</p>")
        self._preview_view.show(self.preview_frame)
        self._show_results()
        self._confirm_button.description = f"Confirm: send {len(self.events)} events"
        self._refresh_buttons()
        return self.preview_frame

    def confirm(self) -> SendReport:
        """Send the events (after `preview()`, and only with a key); the outcome table follows."""
        if self._key is None:
            raise NoApiKey(f"no API key: set {self._env_var} or use the password field")
        if self.preview_frame is None:
            raise WidgetStateError("run the dry run (preview()) before sending")
        return self._send(lambda: send(self.events, self._keyed_settings(), to=self._to, progress=self._progress,
                                       received_at=self._received_at))

    def resend(self) -> SendReport:
        """Send again the events whose delivery failed (Iterable's rejections are not retried)."""
        if self.report is None:
            raise WidgetStateError("nothing sent yet")
        return self._send(self.report.resend)

    def _send(self, do_send: Callable[[], SendReport]) -> SendReport:
        self._confirm_button.disabled = self._resend_button.disabled = True
        self._progress_view.clear_output()
        try:
            with self._progress_view, self._cassette() as recorded:
                report = do_send()
        finally:
            self._refresh_buttons()
        self.report = report
        s = report.summary()
        self._message.value = (f"<p>Sent to {html.escape(self.target)}: {s['sent']} events, {s['delivered']} "
                               f"delivered, {s['filtered']} filtered, {s['rejected']} rejected, {s['failed']} failed ({s['requests']} "
                               f"requests).{recorded}</p>")
        self._outcome_view.show(report.frame())
        self._show_results()
        self._refresh_buttons()
        return report

    @contextlib.contextmanager
    def _cassette(self) -> Iterator[str]:
        """With *Record a cassette* ticked, every HTTP call of the send goes into a vcrpy cassette
        (replacing the file), keys scrubbed; yields the sentence that says so."""
        if not self.record.value:
            yield ""
            return
        from iterable_sim.cassettes import make_vcr
        from iterable_sim.cassettes.sources import placeholder_keys

        keys = placeholder_keys(self._keyed_settings().to_rudder())
        path = Path(self.cassette_path.value)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        with make_vcr(keys=keys, record_mode="all").use_cassette(str(path)):
            yield f" Recorded into {html.escape(str(path))}."

    def _keyed_settings(self) -> Settings:
        return Settings.from_rudder({**self._settings.to_rudder(), "apiKey": self._key},
                                    rudder_server=self._settings.rudder_server, pipeline=self._settings.pipeline,
                                    rudderstack=self._settings.rudderstack)

    def _refresh_buttons(self) -> None:
        self._confirm_button.disabled = self._key is None or self.preview_frame is None
        self._resend_button.disabled = self.report is None or self.report.summary()["failed"] == 0

    def _show_results(self) -> None:
        """A tab for the dry run once there is one, and one for the outcomes once something was sent."""
        views = {"Dry run": self._preview_view.widget} if self.preview_frame is not None else {}
        if self.report is not None:
            views["Outcomes"] = self._outcome_view.widget
        self._results.children = list(views.values())
        self._results.titles = tuple(views)
        self._results.selected_index = len(views) - 1 if views else None

    def headline(self) -> str:
        key = f"API key set ({self._key_source})" if self._key else "no API key"
        state = repr(self.report) if self.report is not None else "nothing sent"
        return f"{len(self.events)} events to {self.target}; {key}; {state}"
