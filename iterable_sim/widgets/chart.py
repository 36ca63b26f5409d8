"""A dependency-free bar chart (SVG) of a send's HTTP calls per endpoint, by outcome."""
from __future__ import annotations

import html
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iterable_sim.send import SendReport

OUTCOMES = {"delivered": "#4c9a5a", "rejected": "#e0a030", "failed": "#c8453b"}


class EndpointChart:
    """Requests per endpoint, stacked by outcome (2xx delivered, 4xx rejected, 429/5xx/no answer failed).

    Renders as SVG in Jupyter (and in static viewers), so notebooks need no plotting library.
    """

    def __init__(self, counts: dict[str, Counter[str]], title: str = "requests per endpoint") -> None:
        self.counts = counts
        self.title = title

    @classmethod
    def from_report(cls, report: "SendReport") -> "EndpointChart":
        counts: dict[str, Counter[str]] = {}
        for delivery in report.deliveries:
            counts.setdefault(delivery.request.endpoint, Counter())[_outcome(delivery.status)] += 1
        return cls(dict(sorted(counts.items())))

    def _repr_svg_(self) -> str:
        return self.svg()

    def svg(self, *, bar_width: int = 360, row: int = 24) -> str:
        label_width, left = 220, 230
        peak = max((sum(c.values()) for c in self.counts.values()), default=0) or 1
        height = 40 + row * max(len(self.counts), 1) + 24
        width = left + bar_width + 60
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                 f'font-family="sans-serif" font-size="12">',
                 f'<text x="0" y="16" font-weight="bold">{html.escape(self.title)}</text>']
        if not self.counts:
            parts.append('<text x="0" y="44">no requests</text>')
        for i, (endpoint, counts) in enumerate(self.counts.items()):
            y = 32 + i * row
            parts.append(f'<text x="{label_width}" y="{y + 15}" text-anchor="end">{html.escape(endpoint)}</text>')
            x = float(left)
            for outcome, colour in OUTCOMES.items():
                if counts[outcome]:
                    w = counts[outcome] / peak * bar_width
                    parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colour}">'
                                 f'<title>{outcome}: {counts[outcome]}</title></rect>')
                    x += w
            parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(counts.values())}</text>')
        legend_y = height - 8
        for j, (outcome, colour) in enumerate(OUTCOMES.items()):
            lx = left + j * 100
            parts.append(f'<rect x="{lx}" y="{legend_y - 10}" width="10" height="10" fill="{colour}"/>'
                         f'<text x="{lx + 14}" y="{legend_y}">{outcome}</text>')
        parts.append("</svg>")
        return "".join(parts)

    def __repr__(self) -> str:
        inner = ", ".join(f"{endpoint}: {sum(c.values())}" for endpoint, c in self.counts.items())
        return f"<EndpointChart {self.title}: {inner or 'none'}>"


def _outcome(status: int | None) -> str:
    if status is not None and 200 <= status < 300:
        return "delivered"
    if status is not None and 400 <= status < 500 and status != 429:
        return "rejected"
    return "failed"
