"""What every widget of the package shares: a short text repr, a one-line static view, tables as grids."""
from __future__ import annotations

import html
import math
from abc import ABC, abstractmethod
from typing import Any, Iterable

import ipywidgets as widgets
import pandas as pd
from itables.widget import ITable

from iterable_sim.exceptions import IterableSimError

# The mark on a widget's output that `notebook_files` looks for: outputs carrying it have a static view
# of their own, so their live-widget part can be dropped when the notebook is saved.
OUTPUT_MARK = "iterable_sim"
RUN_FOR_CONTROLS = "Static view: run this cell to get the live controls and tables."


class WidgetStateError(IterableSimError, RuntimeError):
    """A widget asked for what it does not have yet: a report before anything was sent, a send before the dry run."""


class View(ABC):
    """A composite of ipywidgets shown through `self.widget`.

    Its output carries the live widget, a short text repr (what nbval compares, instead of the widget
    tree's) and, for viewers without a running kernel (GitHub, an untrusted or reopened notebook), a
    static view: the headline and one line saying that running the cell gives the controls.
    """

    widget: widgets.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self.snapshot_html()
        return bundle, {OUTPUT_MARK: {"static_view": "text/html"}}

    def snapshot_html(self) -> str:
        """The static view: the widget's headline, and how to get the controls."""
        return (f'<div class="iterable-sim-static"><p>{html.escape(self.headline())}</p>'
                f"<p><i>{RUN_FOR_CONTROLS}</i></p></div>")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.headline()}>"

    @abstractmethod
    def headline(self) -> str:
        """The one line the repr and the static view show."""


def lines_html(lines: Iterable[str], *, tag: str = "ul") -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<{tag}>{items}</{tag}>" if items else ""


def button(description: str, **kwargs: Any) -> widgets.Button:
    """A button as wide as its label (the default width cuts longer labels)."""
    return widgets.Button(description=description, layout=widgets.Layout(width="max-content"), **kwargs)


def tabs(sections: dict[str, widgets.Widget]) -> widgets.Tab:
    tab = widgets.Tab(children=list(sections.values()))
    tab.titles = tuple(sections)
    return tab


# ---- grids -------------------------------------------------------------------------------------

GRID_LAYOUT = {"topStart": "pageLength", "topEnd": "search", "bottomStart": "info", "bottomEnd": "paging"}
# The column filters as wide as their column (the browser's default input width would widen every column).
GRID_CSS = ("<style>.itables_anywidget thead input{width:100%;min-width:5em;box-sizing:border-box;"
            "font-weight:normal}</style>")


class Grid(View):
    """A DataFrame as a sortable, filterable, paged grid (itables' DataTables widget, its JavaScript
    bundled: no network needed). A search box filters all columns, one box per column header filters
    that column; a click on a column's arrows sorts. Pages keep 10,000 rows quick; the grid scrolls sideways
    inside the widget, never past it."""

    def __init__(self, empty: str = "(none)", *, page_length: int = 15) -> None:
        self.empty = empty
        self.page_length = page_length
        self.frame = pd.DataFrame()
        self.table = ITable(**self._options(self.frame))
        self.table.layout = widgets.Layout(width="100%", overflow="auto")
        self.widget = widgets.VBox([widgets.HTML(GRID_CSS), self.table],
                                   layout=widgets.Layout(width="100%", overflow="auto"))

    def show(self, frame: pd.DataFrame) -> None:
        """Show `frame` (missing values blank, lists and objects as text, floats rounded)."""
        self.frame = frame
        self.table.update(**self._options(frame))

    def headline(self) -> str:
        return f"a grid of {len(self.frame)} rows and {len(self.frame.columns)} columns"

    def _options(self, frame: pd.DataFrame) -> dict[str, Any]:
        return dict(df=display_frame(frame), maxBytes=0, showIndex=False, classes="display nowrap compact cell-border",
                    style="width:auto;margin:0", layout=GRID_LAYOUT, pageLength=self.page_length,
                    lengthMenu=[15, 50, 200, 1000], column_filters="header",
                    language={"emptyTable": self.empty, "zeroRecords": "no rows match the filter"},
                    autoWidth=False, warn_on_unexpected_types=False)


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as a grid shows it: missing values blank, floats to 3 decimals, anything else non-numeric as text."""
    frame = frame.reset_index(drop=True)
    shown = {}
    for name, column in frame.items():
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
            shown[name] = column.astype(object).where(column.notna(), "")
        elif pd.api.types.is_datetime64_any_dtype(column):
            shown[name] = column.astype(str).where(column.notna(), "")
        elif pd.api.types.is_float_dtype(column):
            shown[name] = column.map(_number)
        else:
            shown[name] = column.map(_text)
    return pd.DataFrame(shown, index=frame.index, columns=list(frame.columns))


def _number(value: Any) -> Any:
    """A float as text, to 3 decimals (the grid still sorts it as a number; a float column would make
    itables add a JavaScript renderer that breaks when the grid is redrawn)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return int(value) if float(value).is_integer() else f"{float(value):.3f}".rstrip("0")


def _text(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
