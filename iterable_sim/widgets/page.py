"""The settings explorer as a web page of its own (`iterable-sim explore`): a Voilà app over `explore.ipynb`.

The command checks the events and the settings, then starts Voilà on 127.0.0.1; the page's kernel
reads them back from the environment (`EVENTS_ENV`, `SETTINGS_ENV`, `DESTINATION_ENV`, `RUDDERSTACK_ENV`) and
shows a `SettingsExplorer`.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from iterable_sim.exceptions import IterableSimError

PAGE = Path(__file__).with_name("explore.ipynb")
EVENTS_ENV = "ITERABLE_SIM_EXPLORE_EVENTS"
SETTINGS_ENV = "ITERABLE_SIM_EXPLORE_SETTINGS"  # the settings file, read by read_settings as every tool reads it
DESTINATION_ENV = "ITERABLE_SIM_EXPLORE_DESTINATION"
RUDDERSTACK_ENV = "ITERABLE_SIM_EXPLORE_RUDDERSTACK"  # the rudder-transformer release the page maps as
DEFAULT_CONFIG = {"trackAllPages": True}  # where the controls start without a settings file


class MissingDependency(IterableSimError, ImportError):
    """A package the explorer page needs is not installed (`name` says which)."""


class PortInUse(IterableSimError, OSError):
    """The port asked for is taken on 127.0.0.1 (Voilà would otherwise move to another one unannounced)."""


def explorer_from_environment() -> Any:
    """The explorer the page shows: on the events file named in the environment (the samples without one), under
    the settings file and the release named there (latest without one)."""
    from iterable_sim.archive.reader import read_events
    from iterable_sim.mapping.config_file import read_settings
    from iterable_sim.mapping.releases import LATEST
    from iterable_sim.samples import sample_events
    from iterable_sim.widgets.explorer import SettingsExplorer

    path = os.environ.get(EVENTS_ENV)
    settings = read_settings(os.environ.get(SETTINGS_ENV) or DEFAULT_CONFIG,
                             destination=os.environ.get(DESTINATION_ENV) or None,
                             rudderstack=os.environ.get(RUDDERSTACK_ENV) or LATEST)
    return SettingsExplorer(read_events(path) if path else sample_events(), settings)


def require_voila() -> None:
    """Voilà runs in a process of its own: without this check, all one would see is its traceback."""
    if importlib.util.find_spec("voila") is None:
        raise MissingDependency("Voilà is not installed", name="voila")


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(f"port {port} is in use on 127.0.0.1: choose another with --port") from None


def _wait_until_listening(voila: subprocess.Popen[bytes], port: int) -> bool:
    """Whether Voilà answers on `port`; False when it ended first."""
    while voila.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def serve(events_path: str | None, settings_path: str | None, *, port: int, open_browser: bool,
          destination: str | None = None, rudderstack: str | None = None,
          on_listening: Callable[[], None] | None = None) -> int:
    """Run Voilà on the page, bound to 127.0.0.1:`port`, until interrupted; returns Voilà's exit code. The page
    reads the events file and the settings file (its `destination`) itself, and maps as the rudder-transformer
    release `rudderstack` (None: latest). `on_listening` is called once
    the page can be opened. A taken port raises PortInUse (Voilà is told not to try others)."""
    _check_port_free(port)
    env = {key: value for key, value in os.environ.items()
           if key not in (EVENTS_ENV, SETTINGS_ENV, DESTINATION_ENV, RUDDERSTACK_ENV)}
    if events_path:
        env[EVENTS_ENV] = str(Path(events_path).resolve())
    if settings_path:
        env[SETTINGS_ENV] = str(Path(settings_path).resolve())
    if destination is not None:
        env[DESTINATION_ENV] = destination
    if rudderstack is not None:
        env[RUDDERSTACK_ENV] = rudderstack
    command = [sys.executable, "-m", "voila", str(PAGE), f"--port={port}", "--Voila.port_retries=0",
               "--Voila.ip=127.0.0.1", "--theme=light", "--show_tracebacks=True"]
    if not open_browser:
        command.append("--no-browser")
    voila = subprocess.Popen(command, env=env)
    # Stopped by a signal (a test's terminate(), a service manager), Voilà and its kernels stop too.
    previous = signal.signal(signal.SIGTERM, lambda *_: voila.terminate())
    try:
        if _wait_until_listening(voila, port) and on_listening is not None:
            on_listening()
        code = voila.wait()
    except KeyboardInterrupt:  # Voilà got the Ctrl-C as well; wait for it to finish
        voila.terminate()
        voila.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if code == -signal.SIGTERM else code
