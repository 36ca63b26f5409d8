"""What notebook files keep of the widgets: their static view, never a live part that a fresh kernel cannot show."""
import json
from pathlib import Path

import pytest

from iterable_sim.widgets import SettingsExplorer
from iterable_sim.widgets._view import RUN_FOR_CONTROLS
from iterable_sim.widgets.notebook_files import WIDGET_VIEW, drop_widget_views, pre_save_hook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
EVENT = {"type": "track", "event": "Clicked", "userId": "u1"}


def widget_output(bundle_and_metadata):
    data, metadata = bundle_and_metadata
    return {"output_type": "execute_result", "execution_count": 1, "data": data, "metadata": metadata}


def notebook_with(*outputs):
    return {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": list(outputs)}],
            "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}}}


def test_saving_keeps_only_the_static_view_of_the_package_widgets():
    import ipywidgets

    ours = widget_output(SettingsExplorer([EVENT])._repr_mimebundle_())
    theirs = {"output_type": "display_data", "metadata": {}, "data": ipywidgets.IntSlider()._repr_mimebundle_()}
    notebook = notebook_with(ours, theirs)
    pre_save_hook(model={"type": "notebook", "content": notebook}, path="x.ipynb", contents_manager=None)
    assert WIDGET_VIEW not in ours["data"] and RUN_FOR_CONTROLS in ours["data"]["text/html"]
    assert ours["data"]["text/plain"].startswith("<SettingsExplorer: 1 events → 1 requests")
    assert WIDGET_VIEW in theirs["data"]  # another library's widget is left alone
    assert "widgets" not in notebook["metadata"]


def test_a_notebook_without_the_package_widgets_is_left_as_it_is():
    notebook = notebook_with({"output_type": "stream", "name": "stdout", "text": "hi"})
    assert drop_widget_views(notebook) == 0 and "widgets" in notebook["metadata"]
    pre_save_hook(model={"type": "file", "content": "text"})  # not a notebook: nothing to do


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_hold_no_live_widgets_no_widget_state_and_no_errors(path):
    notebook = json.loads(path.read_text())
    outputs = [o for cell in notebook["cells"] for o in cell.get("outputs", [])]
    assert "widgets" not in notebook["metadata"]
    assert not [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    assert not [o for o in outputs if o["output_type"] == "error"]
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["execution_count"] for cell in code)  # executed: nbval compares every cell
