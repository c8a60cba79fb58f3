"""Charts as inline SVG, drawn on the server: no chart library, readable without JavaScript.

Each chart has a text alternative (``<title>`` and ``aria-label``); the pages also show the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from api.pages.templating import band

W, H, LEFT, BOTTOM, TOP = 600, 220, 34, 24, 10


def score_line(points: Sequence[tuple[str, float]], label: str) -> Markup:
    """Scores (0–100) over time as a line with dots; dashed lines at the 60 and 80 bands."""
    if not points:
        return Markup("<p>No scored calls yet.</p>")
    width, height = W - LEFT - 10, H - BOTTOM - TOP

    def x(i: int) -> float:
        return LEFT + (width * i / (len(points) - 1) if len(points) > 1 else width / 2)

    def y(score: float) -> float:
        return TOP + height * (1 - score / 100)

    parts = [f'<line class="axis" x1="{LEFT}" y1="{y(0)}" x2="{W - 10}" y2="{y(0)}"/>']
    for level in (60, 80):
        parts.append(
            f'<line class="band" x1="{LEFT}" y1="{y(level)}" x2="{W - 10}" y2="{y(level)}"/>'
        )
    for level in (0, 50, 100):
        parts.append(f'<text x="{LEFT - 6}" y="{y(level) + 4}" text-anchor="end">{level}</text>')
    path = " ".join(f"{x(i):.1f},{y(s):.1f}" for i, (_, s) in enumerate(points))
    parts.append(f'<polyline class="line" points="{path}"/>')
    for i, (when, score) in enumerate(points):
        tip = escape(f"{when}: {score:.1f}")
        parts.append(
            f'<circle class="dot" cx="{x(i):.1f}" cy="{y(score):.1f}" r="3.5"><title>{tip}</title></circle>'
        )
    parts.append(f'<text x="{LEFT}" y="{H - 6}">{escape(points[0][0])}</text>')
    if len(points) > 1:
        parts.append(
            f'<text x="{W - 10}" y="{H - 6}" text-anchor="end">{escape(points[-1][0])}</text>'
        )
    return _svg(W, H, label, parts)


def rate_bars(rates: Sequence[tuple[str, float, int]], label: str) -> Markup:
    """Pass rates (0–1) as horizontal bars, one per (title, rate, calls), coloured by band."""
    if not rates:
        return Markup("<p>No verdicts yet.</p>")
    row, name_width = 24, 230
    parts = []
    for i, (title, rate, calls) in enumerate(rates):
        short = title if len(title) <= 32 else title[:31] + "…"
        top = i * row + 4
        length = (W - name_width - 60) * rate
        parts.append(
            f'<text x="{name_width - 8}" y="{top + 13}" text-anchor="end">{escape(short)}</text>'
        )
        parts.append(f'<rect class="bar {band(rate * 100)}" x="{name_width}" y="{top}" width="{length:.1f}" height="16" rx="3">'
                     f"<title>{escape(title)}: {rate:.0%} of {calls} calls</title></rect>")  # fmt: skip
        parts.append(f'<text x="{name_width + length + 6:.1f}" y="{top + 13}">{rate:.0%}</text>')
    return _svg(W, len(rates) * row + 8, label, parts)


def sparkline(rates: Sequence[float], label: str) -> Markup:
    """A small line of rates (0–1), one point per week."""
    width, height = 120, 24
    if len(rates) < 2:
        return Markup("")
    points = " ".join(f"{width * i / (len(rates) - 1):.1f},{2 + (height - 4) * (1 - r):.1f}"
                      for i, r in enumerate(rates))  # fmt: skip
    return _svg(width, height, label, [f'<polyline class="spark" points="{points}"/>'])


def _svg(width: int, height: int, label: str, parts: list[str]) -> Markup:
    title = escape(label)
    body = "".join(parts)
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{title}"><title>{title}</title>{body}</svg>'
    )
