"""The delivery timeline as a dependency-free SVG chart (Jupyter shows it through `_repr_svg_`).

Three panels on one time axis (simulated minutes since the start):
1. calls per minute, stacked by answer: ok (2xx), refused (3xx/4xx but 408/429: aborted), retried (408, 429, 5xx,
   no answer);
2. the router's queue: events waiting behind a blocked user (an earlier event of theirs failed) and events in
   back-off after their own failure, as the pickup saw them (a step line: a value holds until the next pickup
   sampled);
3. outcomes so far: succeeded, aborted and filtered events, cumulative.
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iterable_sim.rudder_router.report import DeliveryReport

CALL_COLOURS = {"ok": "#4c9a5a", "refused": "#e0a030", "retried": "#c8453b"}
QUEUE_COLOURS = {"behind a blocked user": "#7a5cc2", "in back-off": "#c8453b"}
OUTCOME_COLOURS = {"succeeded": "#4c9a5a", "aborted": "#c8453b", "filtered": "#8a8a8a"}


@dataclass
class TimelineChart:
    title: str
    minutes: int
    calls: dict[int, Counter[str]]
    queue: dict[str, list[tuple[float, int]]]  # series -> (minute, value)
    outcomes: dict[str, list[int]]  # outcome -> cumulative count at the end of each minute

    @classmethod
    def from_report(cls, report: DeliveryReport, title: str) -> TimelineChart:
        minutes = max(1, int(report.duration // 60) + 1)
        queue: dict[str, list[tuple[float, int]]] = {name: [] for name in QUEUE_COLOURS}
        for sample in report.samples:
            at = (sample.time - report.started) / 60
            queue["behind a blocked user"].append((at, sample.behind_blocked_user))
            queue["in back-off"].append((at, sample.in_backoff))
        per_minute = report.outcomes_per_minute()
        outcomes: dict[str, list[int]] = {name: [] for name in OUTCOME_COLOURS}
        running: Counter[str] = Counter()
        for minute in range(minutes):
            running.update(per_minute.get(minute, Counter()))
            for name in OUTCOME_COLOURS:
                outcomes[name].append(running[name])
        return cls(title, minutes, dict(report.calls_per_minute), queue, outcomes)

    def _repr_svg_(self) -> str:
        return self.svg()

    def svg(self, width: int = 760, panel: int = 130) -> str:
        left, right, top, gap = 60, 150, 30, 40
        plot = width - left - right
        height = top + 3 * (panel + gap) + 10
        scale_x = plot / self.minutes
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
                 f'font-size="11">', f'<text x="0" y="16" font-weight="bold" font-size="13">{html.escape(self.title)}</text>']

        def frame(y0: int, label: str, peak: float) -> None:
            parts.append(f'<text x="{left}" y="{y0 - 6}" font-weight="bold">{html.escape(label)}</text>')
            parts.append(f'<line x1="{left}" y1="{y0 + panel}" x2="{left + plot}" y2="{y0 + panel}" stroke="#444"/>')
            parts.append(f'<line x1="{left}" y1="{y0}" x2="{left}" y2="{y0 + panel}" stroke="#444"/>')
            parts.append(f'<text x="{left - 4}" y="{y0 + 8}" text-anchor="end">{peak:,.0f}</text>')
            parts.append(f'<text x="{left - 4}" y="{y0 + panel}" text-anchor="end">0</text>')
            step = max(1, self.minutes // 10)
            for minute in range(0, self.minutes + 1, step):
                x = left + minute * scale_x
                parts.append(f'<text x="{x:.1f}" y="{y0 + panel + 12}" text-anchor="middle">{minute}</text>')

        def legend(y0: int, colours: dict[str, str]) -> None:
            for i, (name, colour) in enumerate(colours.items()):
                y = y0 + 10 + i * 16
                parts.append(f'<rect x="{left + plot + 10}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
                parts.append(f'<text x="{left + plot + 24}" y="{y}">{html.escape(name)}</text>')

        # 1. calls per minute
        y0 = top + 14
        peak = max((sum(c.values()) for c in self.calls.values()), default=0) or 1
        frame(y0, "calls to Iterable per minute", peak)
        legend(y0, CALL_COLOURS)
        for minute, counts in sorted(self.calls.items()):
            base = float(y0 + panel)
            for name, colour in CALL_COLOURS.items():
                if counts[name]:
                    h = counts[name] / peak * panel
                    base -= h
                    parts.append(f'<rect x="{left + minute * scale_x:.1f}" y="{base:.1f}" width="{max(scale_x - 0.5, 0.5):.1f}" '
                                 f'height="{h:.1f}" fill="{colour}"><title>minute {minute}: {counts[name]} {name}</title></rect>')
        # 2. the router's queue
        y0 += panel + gap
        peak = max((v for series in self.queue.values() for _, v in series), default=0) or 1
        frame(y0, "events waiting (as the router's pickup sees them)", peak)
        legend(y0, QUEUE_COLOURS)
        for name, series in self.queue.items():
            if series:
                steps = [series[0]] + [p for a, b in zip(series[:-1], series[1:], strict=True) for p in ((b[0], a[1]), b)]
                points = " ".join(f"{left + m * scale_x:.1f},{y0 + panel - v / peak * panel:.1f}" for m, v in steps)
                parts.append(f'<polyline points="{points}" fill="none" stroke="{QUEUE_COLOURS[name]}" stroke-width="1.5"/>')
        # 3. outcomes over time
        y0 += panel + gap
        peak = max((v for series in self.outcomes.values() for v in series), default=0) or 1
        frame(y0, "outcomes so far (events)", peak)
        legend(y0, OUTCOME_COLOURS)
        for name, totals in self.outcomes.items():
            points = " ".join(f"{left + (m + 1) * scale_x:.1f},{y0 + panel - v / peak * panel:.1f}"
                              for m, v in enumerate(totals))
            parts.append(f'<polyline points="{left},{y0 + panel} {points}" fill="none" stroke="{OUTCOME_COLOURS[name]}" '
                         f'stroke-width="1.5"/>')
        parts.append(f'<text x="{left + plot / 2}" y="{height - 2}" text-anchor="middle">simulated minutes</text>')
        parts.append("</svg>")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"TimelineChart({self.title!r}, {self.minutes} minutes)"
