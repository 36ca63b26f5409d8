"""The settings explorer as a web page of its own (`iterable-sim explore`): a Voilà app over `explore.ipynb`.

The command checks the events and the settings, then starts Voilà on 127.0.0.1; the page's kernel
reads them back from the environment (`EVENTS_ENV`, `CONFIG_ENV`) and shows a `SettingsExplorer`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PAGE = Path(__file__).with_name("explore.ipynb")
EVENTS_ENV = "ITERABLE_SIM_EXPLORE_EVENTS"
CONFIG_ENV = "ITERABLE_SIM_EXPLORE_CONFIG"


def explorer_from_environment() -> Any:
    """The explorer the page shows: on the events file named in the environment (the samples without one)."""
    from ..cli_input import read_events
    from ..samples import sample_events
    from ..settings import Settings
    from .explorer import SettingsExplorer

    path = os.environ.get(EVENTS_ENV)
    config = json.loads(os.environ.get(CONFIG_ENV) or '{"trackAllPages": true}')
    return SettingsExplorer(read_events(path) if path else sample_events(), Settings.from_rudder(config))


def serve(events_path: str | None, config: dict[str, Any], *, port: int, open_browser: bool) -> int:
    """Run Voilà on the page, bound to 127.0.0.1, until interrupted; returns Voilà's exit code."""
    env = {**os.environ, CONFIG_ENV: json.dumps(config)}
    env.pop(EVENTS_ENV, None)
    if events_path:
        env[EVENTS_ENV] = str(Path(events_path).resolve())
    command = [sys.executable, "-m", "voila", str(PAGE), f"--port={port}", "--Voila.ip=127.0.0.1",
               "--theme=light", "--show_tracebacks=True"]
    if not open_browser:
        command.append("--no-browser")
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
