"""What a newcomer tries in their first hour (issue 12): documented paths work as written, bad input
gets one clear line, nothing reaches Iterable unasked."""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

import iterable_sim as its
send_module = importlib.import_module("iterable_sim.send")
from iterable_sim.samples import sample_events

SETTINGS = its.Settings.from_rudder({"apiKey": "first-hour-key", "trackAllPages": True})


def counts_add_up(report: its.SendReport) -> None:
    s = report.summary()
    assert s["delivered"] + s["rejected"] + s["failed"] == s["sent"] == len(report.events)


# ---------------------------------------------------------------- 1. any key: accounted for, or refused first


@pytest.mark.parametrize("key", ["…", "ключ", "key\nwith-a-line-break", "tab\tkey"])
def test_a_key_no_http_header_can_carry_is_refused_before_anything_is_sent(key):
    mock = its.MockIterable(clock=its.ManualClock())
    settings = its.Settings.from_rudder({"apiKey": key, "trackAllPages": True})
    with pytest.raises(its.SettingsError, match="apiKey has a character an HTTP header cannot carry") as err:
        its.send(sample_events(), settings, to=mock)
    assert key not in str(err.value)  # a key is never echoed back
    assert mock.journal_frame().empty


@pytest.mark.parametrize("key", [None, "", 123, "wrong-but-printable"])
def test_any_other_key_value_gives_every_event_an_outcome(key):
    report = its.send(sample_events(), its.Settings.from_rudder({"apiKey": key, "trackAllPages": True}),
                      to=its.MockIterable(clock=its.ManualClock()), progress=False)
    counts_add_up(report)
    assert report.summary()["delivered"] == 0  # the mock knows no key: Iterable's 401 for each call


def test_the_device_key_is_checked_too():
    settings = its.Settings(api_key="k", register_device_or_browser_api_key="…")
    with pytest.raises(its.SettingsError, match="registerDeviceOrBrowserApiKey"):
        its.send(sample_events(), settings)


# ---------------------------------------------------------------- 2. ManualClock


def test_manual_clock_is_exported_and_drives_a_mock():
    clock = its.ManualClock()
    mock = its.MockIterable("hybrid", clock=clock)
    clock.advance(60)
    assert mock.clock.now() == clock.now()


# ---------------------------------------------------------------- 7. progress bar


def test_a_short_send_shows_no_progress_bar(capsys):
    its.send(sample_events(), SETTINGS)
    assert capsys.readouterr().err == ""


def test_a_send_still_running_after_the_delay_shows_its_bar(capsys, monkeypatch):
    monkeypatch.setattr(send_module, "PROGRESS_DELAY", 0)
    its.send(sample_events(), SETTINGS)
    assert "sending to the in-process mock Iterable" in capsys.readouterr().err


# ---------------------------------------------------------------- 8, 9. installing and starting Jupyter

ROOT = Path(__file__).resolve().parent.parent


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["license"] == "MIT"  # the table form is deprecated: pip install warned
    assert "setuptools>=77" in pyproject["build-system"]["requires"]  # 77 is the first to read the string form


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_jupyter_lets_root_start_jupyterlab():
    dry_run = subprocess.run(["make", "-n", "jupyter"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    command = next(line for line in dry_run.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) == (os.geteuid() == 0)
