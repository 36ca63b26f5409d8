"""What a notebook file keeps of the package's widgets: their static view, never the live part.

A widget output holds the widget's model id; under a fresh kernel (a notebook reopened, or opened
from a clone) that model does not exist, and JupyterLab shows "Error displaying widget: model not
found", or, from saved widget state, controls that do nothing. So a saved notebook keeps only the
static view (the headline and "run this cell to get the live controls") and no widget state:

- `make notebooks` executes the committed notebooks and cleans them (`python -m iterable_sim.widgets.notebook_files --execute FILES`);
- in JupyterLab, the same cleaning on every save is a Jupyter server pre-save hook:
  `jupyter lab --ContentsManager.pre_save_hook=iterable_sim.widgets.notebook_files.pre_save_hook`
  (what `make jupyter` runs), or that line as `c.ContentsManager.pre_save_hook = "..."` in
  `jupyter_server_config.py`.

Only outputs marked by this package are touched; other widgets in the same notebook keep theirs.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from iterable_sim.widgets._view import OUTPUT_MARK

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def drop_widget_views(notebook: dict[str, Any]) -> int:
    """Remove the live-widget part of each of this package's widget outputs (their static view stays), and,
    when there was any, the notebook's saved widget state. Returns how many outputs changed."""
    dropped = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if OUTPUT_MARK in output.get("metadata", {}) and WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                dropped += 1
    if dropped:
        notebook.get("metadata", {}).pop("widgets", None)
    return dropped


def pre_save_hook(model: dict[str, Any], **_: Any) -> None:
    """Jupyter server pre-save hook: clean a notebook as it is saved."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        drop_widget_views(model["content"])


def execute_and_clean(path: Path, *, timeout: int = 600) -> None:
    """Run every cell of a notebook in its own folder, as JupyterLab would, and save it cleaned."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=False, record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timings would make every re-run a diff
    drop_widget_views(notebook)
    nbformat.write(notebook, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iterable_sim.widgets.notebook_files",
                                     description="Keep only the static view of iterable_sim widgets in notebook files.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--execute", action="store_true", help="run every cell first (without ITERABLE_API_KEY)")
    args = parser.parse_args(argv)
    if args.execute:
        os.environ.pop("ITERABLE_API_KEY", None)  # a committed notebook never ran with a key
    import nbformat

    for path in args.notebooks:
        if args.execute:
            execute_and_clean(path)
        else:
            notebook = nbformat.read(path, as_version=4)
            drop_widget_views(notebook)
            nbformat.write(notebook, path)
        print(f"{path}: {'executed and ' if args.execute else ''}cleaned", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
