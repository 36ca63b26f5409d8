"""Each notebook in JupyterLab, as a user meets it: opened from a fresh clone, run, clicked, saved, reopened."""
from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from iterable_sim.widgets._view import RUN_FOR_CONTROLS

WIDGET_NOTEBOOKS = {"02-settings-explorer.ipynb", "03-simulate-iterable.ipynb", "04-send-live.ipynb",
                    "06-rudderstack-delivery.ipynb"}
NOTEBOOKS = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ALL_PROMPTS_NUMBERED = """() => {
  const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map(e => e.textContent);
  return prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t));
}"""
NO_PROMPT_NUMBERED = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
  .every(e => !/\\[\\d+\\]/.test(e.textContent))"""


# ---- what a user does -----------------------------------------------------------------------


NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"


def open_notebook(page, lab, name: str) -> None:
    """Open the notebook alone (`reset`: no tabs restored from an earlier visit) and wait for its kernel."""
    page.goto(f"{lab['url']}/lab/tree/{name}?reset")
    page.wait_for_selector(f"{NOTEBOOK} .jp-Cell")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']")


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def run_all(page) -> float:
    """Clear the outputs, then Run ▸ Run All Cells; returns the seconds until every cell has run."""
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(NO_PROMPT_NUMBERED)
    start = time.monotonic()
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(ALL_PROMPTS_NUMBERED, timeout=300_000)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']")
    return time.monotonic() - start


def save(page) -> None:
    page.locator(NOTEBOOK).click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-Document.jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty')")


def output_of(page, code: str):
    """The output of the notebook cell whose source contains `code`, scrolled into view (JupyterLab
    does not lay out cells far off screen)."""
    output = page.locator(f"{NOTEBOOK} .jp-CodeCell").filter(has_text=code).first.locator(".jp-Cell-outputArea")
    output.scroll_into_view_if_needed()
    return output


def saved_notebook(lab, name: str) -> dict:
    with urllib.request.urlopen(f"{lab['url']}/api/contents/{name}?content=1") as answer:
        return json.load(answer)["content"]


def shut_down_kernels(lab) -> None:
    with urllib.request.urlopen(f"{lab['url']}/api/sessions") as answer:
        sessions = json.load(answer)
    for session in sessions:
        request = urllib.request.Request(f"{lab['url']}/api/sessions/{session['id']}", method="DELETE")
        urllib.request.urlopen(request).close()


def outputs_text(page) -> str:
    return "\n".join(page.locator(f"{NOTEBOOK} .jp-Cell-outputArea").all_inner_texts())


def live_widgets(page) -> int:
    return page.locator(f"{NOTEBOOK} .jp-Cell-outputArea .jupyter-widgets").count()


def assert_static_views_only(page, name: str) -> None:
    """No controls without a kernel behind them, no "model not found", and the static view saying how to get them."""
    page.wait_for_timeout(1500)  # the widget manager restores (or not) a moment after the kernel is up
    text = outputs_text(page)
    assert "model not found" not in text and "Error displaying widget" not in text
    assert live_widgets(page) == 0
    if name in WIDGET_NOTEBOOKS:
        assert page.get_by_text(RUN_FOR_CONTROLS).count() > 0


VISIBLE_GRID_INFO = ("el => [...el.querySelectorAll('.dt-info')].filter(i => i.offsetParent !== null)"
                     ".map(i => i.textContent)[0] || ''")


def run_in_new_cell(page, code: str):
    """Add a cell at the end, type `code` into it and run it; returns the cell's output area."""
    page.locator(f"{NOTEBOOK} .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    for number, line in enumerate(code.split("\n")):
        if number:
            page.keyboard.press("Enter")
            page.keyboard.press("Home")  # no auto-indent carried over
        page.keyboard.type(line)
    page.keyboard.press("Shift+Enter")
    return page.locator(f"{NOTEBOOK} .jp-CodeCell").nth(-2).locator(".jp-Cell-outputArea")


def show_first_widget(page, name: str) -> None:
    """Scroll to the first widget's static view, for the screenshot."""
    if name in WIDGET_NOTEBOOKS:
        page.get_by_text(RUN_FOR_CONTROLS).first.scroll_into_view_if_needed()


def grid_info(area) -> str:
    """DataTables' "Showing 1 to N of M entries" line of the grid shown (in the open tab) in `area`."""
    return area.evaluate(VISIBLE_GRID_INFO)


def wait_for_grid_change(page, area, before: str) -> None:
    page.wait_for_function(f"([el, before]) => ({VISIBLE_GRID_INFO})(el) !== before",
                           arg=[area.element_handle(), before])


def timed(action, settled) -> float:
    start = time.monotonic()
    action()
    settled()
    return time.monotonic() - start


# ---- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_as_opened_run_clicked_and_reopened(page, lab, shots, name):
    stem = name.removesuffix(".ipynb")
    # 1. as a fresh clone opens it: untrusted, committed outputs, no kernel state
    open_notebook(page, lab, name)
    assert_static_views_only(page, name)
    show_first_widget(page, name)
    page.screenshot(path=shots / f"{stem}-1-as-opened.png")

    # 2. Run All: no error output anywhere, every widget live
    seconds = run_all(page)
    print(f"{name}: ran in {seconds:.1f} s")
    text = outputs_text(page)
    assert "Traceback" not in text and "Error displaying widget" not in text
    if name in WIDGET_NOTEBOOKS:
        assert live_widgets(page) > 0 and page.get_by_text(RUN_FOR_CONTROLS).count() == 0
    CLICKS.get(name, lambda page, shots: None)(page, shots)
    page.screenshot(path=shots / f"{stem}-2-after-running.png")

    # 3. saved (the pre-save hook keeps only the static views) and reopened under a fresh kernel
    save(page)
    notebook = saved_notebook(lab, name)
    outputs = [o for c in notebook["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if WIDGET_VIEW in o.get("data", {})] and "widgets" not in notebook["metadata"]
    shut_down_kernels(lab)
    open_notebook(page, lab, name)
    assert_static_views_only(page, name)
    show_first_widget(page, name)
    page.screenshot(path=shots / f"{stem}-3-reopened.png")
    assert page.console.errors == []


# ---- the clicks, per notebook ----------------------------------------------------------------


def click_explorer(page, shots: Path) -> None:
    explorer = output_of(page, "explorer = SettingsExplorer(events, start)")
    track_all = explorer.locator(".widget-checkbox", has_text="Track All Pages").locator("input")
    explorer.scroll_into_view_if_needed()
    before = grid_info(explorer)
    assert before.startswith("Showing 1 to")
    was = track_all.is_checked()
    took = timed(lambda: track_all.click(), lambda: wait_for_grid_change(page, explorer, before))
    assert track_all.is_checked() != was
    print(f"explorer: Track All Pages {was} → {not was}: requests {before!r} → {grid_info(explorer)!r} in {took:.2f} s")
    assert "api.iterable.com" in explorer.locator("table.dataTable").first.text_content()
    took = timed(lambda: explorer.locator("select").first.select_option("EUDC"),
                 lambda: explorer.get_by_text("api.eu.iterable.com").first.wait_for())
    assert "api.iterable.com" not in explorer.locator("table.dataTable").first.text_content()
    print(f"explorer: data center → EUDC: hosts follow in {took:.2f} s")
    # the grid sorts and filters like a user expects
    before = grid_info(explorer)
    explorer.locator(".dt-search input").first.fill("commerce/")
    wait_for_grid_change(page, explorer, before)
    table = explorer.locator("table.dataTable").first
    rows = table.locator("tbody tr")
    assert "(filtered from" in grid_info(explorer)
    assert rows.count() >= 1 and all("commerce/" in t for t in rows.all_text_contents())
    filtered = grid_info(explorer)
    explorer.locator(".dt-search input").first.fill("")
    wait_for_grid_change(page, explorer, filtered)
    # a click on a column's sort arrows sorts by it, up then down
    endpoint = table.locator("thead th").filter(has=page.locator("input[placeholder='endpoint']"))
    column = int(endpoint.evaluate("th => th.cellIndex"))
    def shown():
        return table.evaluate("(t, c) => [...t.querySelectorAll('tbody tr')].map(r => r.children[c].textContent)",
                              column)
    endpoint.locator(".dt-column-order").click()
    page.wait_for_function("th => th.getAttribute('aria-sort') === 'ascending'", arg=endpoint.element_handle())
    assert shown() == sorted(shown())
    endpoint.locator(".dt-column-order").click()
    page.wait_for_function("th => th.getAttribute('aria-sort') === 'descending'", arg=endpoint.element_handle())
    assert shown() == sorted(shown(), reverse=True) and shown() != sorted(shown())
    explorer.scroll_into_view_if_needed()
    page.screenshot(path=shots / "02-settings-explorer-2b-sorted.png")
    # a grid of 10,000 rows, in a new cell
    output = run_in_new_cell(page, "from iterable_sim.widgets._view import Grid\n"
                                   "grid = Grid()\n"
                                   "grid.show(pd.DataFrame({'n': range(10_000), 'text': [f'row {i}' for i in range(10_000)]}))\n"
                                   "grid")
    start = time.monotonic()
    output.get_by_text("of 10,000 entries").first.wait_for()
    print(f"grid: 10,000 rows shown in {time.monotonic() - start:.2f} s after the cell ran")
    output.locator(".dt-search input").first.fill("row 9999")
    page.wait_for_function("el => /^Showing 1 to 1 of 1 entr.*filtered from 10,000/.test(el.textContent)",
                           arg=output.locator(".dt-info").first.element_handle())
    output.scroll_into_view_if_needed()
    page.screenshot(path=shots / "02-settings-explorer-2c-10000-rows-filtered.png")
    explorer.scroll_into_view_if_needed()


def click_simulator(page, shots: Path) -> None:
    simulator = output_of(page, "simulator = Simulator(events, settings")
    headline = simulator.locator(".widget-html", has_text="events to the mock Iterable").first
    delivered = int(re.search(r"(\d+) delivered", headline.text_content()).group(1))
    assert delivered > 0
    simulator.get_by_role("button", name="Add fault").click()
    expect(simulator).to_contain_text("500 answers to 100% of requests to every endpoint")
    took = timed(lambda: simulator.get_by_role("button", name="Send to the mock").click(),
                 lambda: simulator.get_by_text("0 delivered").first.wait_for())
    assert re.search(r": 0 delivered, \d+ filtered, 0 rejected, [1-9]\d* failed", headline.text_content())
    outcomes = simulator.locator("table.dataTable").first
    expect(outcomes).not_to_contain_text("delivered")  # the grid redraws a moment after the headline
    expect(outcomes).to_contain_text("failed")
    print(f"simulator: 5xx fault + Send: {headline.text_content()!r} in {took:.2f} s")
    # the status field is for 5xx faults only: a latency fault shows the seconds instead
    simulator.locator(".widget-dropdown", has_text="Fault").locator("select").select_option("latency")
    expect(simulator.locator(".widget-dropdown", has_text="Status")).to_be_hidden()
    expect(simulator.locator(".widget-text", has_text="Seconds")).to_be_visible()
    simulator.scroll_into_view_if_needed()


def click_live_sender(page, shots: Path) -> None:
    sender = output_of(page, "sender = LiveSender(events, settings)")
    confirm = sender.get_by_role("button", name="Confirm")
    assert "No API key" in sender.text_content() and confirm.is_disabled()
    sender.get_by_role("button", name="Dry run").click()
    sender.get_by_text("Nothing has been sent").first.wait_for()
    assert confirm.is_disabled()
    # nothing was sent: ask the kernel, as a user would in a new cell
    run_in_new_cell(page, "print('sent:', sender.report)").get_by_text("sent: None").first.wait_for()
    sender.scroll_into_view_if_needed()


def click_delivery(page, shots: Path) -> None:
    """The timeline chart as the notebook draws it, then the widget: an outage moved, delivered again, its
    Timeline tab redrawn."""
    chart = output_of(page, "report.timeline()")
    drawn = chart.locator(".jp-RenderedSVG, .jp-RenderedHTMLCommon").first  # JupyterLab's SVG (or HTML) renderer
    expect(drawn).to_be_visible()
    assert drawn.bounding_box()["height"] > 300  # the three panels, not an empty frame
    chart.screenshot(path=shots / "06-rudderstack-delivery-timeline.png")
    simulator = output_of(page, "simulator = DeliverySimulator(")
    headline = simulator.locator(".widget-html", has_text="events:").first
    before = headline.text_content()
    simulator.locator(".widget-text", has_text="to minute").locator("input").fill("60")
    took = timed(lambda: simulator.get_by_role("button", name="Deliver like RudderStack").click(),
                 lambda: page.wait_for_function("([el, before]) => el.textContent !== before",
                                                arg=[headline.element_handle(), before]))
    print(f"delivery simulator: outage to minute 60: {before!r} → {headline.text_content()!r} in {took:.2f} s")
    expect(simulator.locator(".widget-html svg").first).to_contain_text("calls to Iterable per minute")
    simulator.scroll_into_view_if_needed()
    simulator.screenshot(path=shots / "06-rudderstack-delivery-widget.png")


CLICKS = {"02-settings-explorer.ipynb": click_explorer, "03-simulate-iterable.ipynb": click_simulator,
          "04-send-live.ipynb": click_live_sender, "06-rudderstack-delivery.ipynb": click_delivery}
