"""What every widget of the package shares: a deterministic text repr, a static HTML fallback, tables as HTML."""
from __future__ import annotations

import html
from typing import Any, Iterable

import ipywidgets as widgets
import pandas as pd



class View:
    """A composite of ipywidgets shown through `self.widget`.

    Its mime bundle is the widget's, with a short text repr (what nbval compares, instead of the
    widget tree's) and, for viewers without a widget manager (GitHub, a static HTML export), a
    snapshot of its current tables as HTML.
    """

    widget: widgets.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self.snapshot_html()
        return bundle

    def snapshot_html(self) -> str:
        """The view's current content as static HTML."""
        raise NotImplementedError


# Widget HTML is not styled like cell output: a few scoped rules make its tables read like DataFrames.
TABLE_CSS = ("<style>.its-table table{border-collapse:collapse;font-size:12px}"
             ".its-table th,.its-table td{padding:3px 8px;text-align:left !important;white-space:nowrap;"
             "border-bottom:1px solid #ddd;vertical-align:top}"
             ".its-table th{position:sticky;top:0;background:#f5f5f5}"
             ".its-table tr:nth-child(even) td{background:#fafafa}</style>")


def frame_html(frame: pd.DataFrame, *, max_height: str = "420px", empty: str = "(none)") -> str:
    """A DataFrame as a scrollable HTML table (missing values blank, no index)."""
    if frame.empty:
        return f"<p><i>{html.escape(empty)}</i></p>"
    table = frame.to_html(index=False, na_rep="", border=0, classes="dataframe", max_rows=500, justify="left")
    return f'{TABLE_CSS}<div class="its-table" style="max-height:{max_height};overflow:auto">{table}</div>'


def lines_html(lines: Iterable[str], *, tag: str = "ul") -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<{tag}>{items}</{tag}>" if items else ""


def sections_html(sections: Iterable[tuple[str, str]]) -> str:
    """Titled sections, as the static snapshot of a widget's tabs."""
    return "".join(f"<h4>{html.escape(title)}</h4>{body}" for title, body in sections)


def button(description: str, **kwargs: Any) -> widgets.Button:
    """A button as wide as its label (the default width cuts longer labels)."""
    return widgets.Button(description=description, layout=widgets.Layout(width="auto"), **kwargs)


def tabs(sections: dict[str, widgets.Widget]) -> widgets.Tab:
    tab = widgets.Tab(children=list(sections.values()))
    tab.titles = tuple(sections)
    return tab
