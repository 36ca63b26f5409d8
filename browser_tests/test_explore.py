"""`iterable-sim explore`: the settings explorer as a Voilà page, on the user's own events and settings."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import free_port, stop, wait_for

# Voilà's "lab" page template links Font Awesome from a CDN, though Voilà bundles the icons it uses:
# without a network those two stylesheets fail to load, and nothing on the page is missing for it.
VOILA_CDN_STYLESHEETS = "cdn.jsdelivr.net/npm/@fortawesome"
EVENTS = [
    {"type": "page", "name": "Pricing", "userId": "u-1", "properties": {"path": "/pricing"}},
    {"type": "page", "userId": "u-2", "properties": {"path": "/"}},
    {"type": "track", "event": "Signed Up", "userId": "u-3", "properties": {"plan": "pro"}},
]


@pytest.fixture
def explore(tmp_path, jupyter_env):
    events = tmp_path / "my-events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    settings = tmp_path / "destination.json"
    settings.write_text(json.dumps({"Config": {"trackAllPages": True, "dataCenter": "USDC"}}))
    port = free_port()
    log = tmp_path / "explore.log"
    command = [str(Path(sys.executable).with_name("iterable-sim")), "explore", str(events), "--settings",
               str(settings), "--port", str(port), "--no-browser"]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=jupyter_env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/status", process, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(process)
    assert "127.0.0.1" in log.read_text()


def test_explore_page_follows_a_setting_on_the_users_events(page, explore, shots):
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    start = time.monotonic()
    page.goto(explore)
    page.get_by_text("3 events → 3 requests").first.wait_for(timeout=120_000)
    print(f"explore: page ready in {time.monotonic() - start:.1f} s")
    page.screenshot(path=shots / "explore-1-loaded.png")
    requests = page.locator("table.dataTable").first
    assert "/pricing" in requests.text_content() and "Signed Up" in requests.text_content()

    # untick Track All Pages, tick Track Named Pages: the unnamed page is refused, the table follows
    page.locator(".widget-checkbox", has_text="Track All Pages").locator("input").click()
    page.get_by_text("every page and screen event is rejected").first.wait_for()
    page.locator(".widget-checkbox", has_text="Track Named Pages").locator("input").click()
    page.get_by_text("3 events → 2 requests; 1 refused by RudderStack").first.wait_for()
    rows = page.locator("table.dataTable").first.locator("tbody tr")
    expect(rows).to_have_count(2)  # the grid redraws a moment after the headline
    assert "/pricing" in rows.first.text_content()
    page.get_by_role("tab", name="Changes").click()
    page.get_by_text("dropped").first.wait_for()
    page.get_by_role("tab", name="Requests").click()

    # the data center: the host column follows
    page.locator(".widget-dropdown select").first.select_option("EUDC")
    page.locator("table.dataTable").first.get_by_text("api.eu.iterable.com").first.wait_for()
    page.screenshot(path=shots / "explore-2-after-flipping.png")

    console = [e for e in page.console.errors if "Failed to load resource" not in e]
    assert console == []
    assert all(VOILA_CDN_STYLESHEETS in url for url in failed), failed
    loaded_errors = [e for e in page.console.errors if "Failed to load resource" in e]
    assert len(loaded_errors) <= len(failed)
