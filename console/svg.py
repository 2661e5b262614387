"""Charts drawn on the server as SVG (issue 20): no JavaScript, nothing from a CDN, so the
Content-Security-Policy stays as strict as it is. Presentation attributes only (fill, stroke)
— no style attribute, which the CSP would refuse. Each chart carries its title (<title>) and
a description; the numbers are in the table beside it (templates/admin/console/charts.html).
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 90, 16, 40, 46
# Dark enough on white for text and marks alike (WCAG contrast ≥ 4.5:1).
COLOURS = ["#1d4f91", "#b3261e", "#1b6b2f", "#6a1b9a", "#7a4b00"]
TICKS = 4


def _nice_max(value):
    """The axis maximum: the value rounded up to 1, 2 or 5 × a power of ten (at least 1)."""
    if value <= 0:
        return 1
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _number(value):
    return f"{value:,.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"


def render(chart):
    """The chart as an <svg> element (safe HTML)."""
    drawn = [(name, values) for name, values in chart.series if name not in chart.table_only]
    values = [v for _, vs in drawn for v in vs if v is not None]
    top = _nice_max(max(values, default=0))
    if all(isinstance(v, int) for v in values):
        top = max(top, TICKS)  # whole counts: whole ticks
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(chart.labels), 1)
    slot = plot_w / n

    def y(value):
        return TOP + plot_h - (value / top) * plot_h

    title_id, desc_id = f"chart-{chart.slug}-title", f"chart-{chart.slug}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="esure-chart" '
        f'aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description())}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for i in range(TICKS + 1):
        value = top * i / TICKS
        ty = y(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" '
            f'stroke="#d0d0d0" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#333333">{escape(_number(int(value) if value == int(value) else value))}</text>'
        )
    step = max(1, round(n / 8))
    for i, label in enumerate(chart.labels):
        if i % step == 0 or (i == n - 1 and i % step >= step / 2):
            x = LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" '
                f'text-anchor="middle" fill="#333333">{escape(label)}</text>'
            )
    if chart.kind == "bar":
        width = slot * 0.8 / max(len(drawn), 1)
        for s, (_, values) in enumerate(drawn):
            for i, value in enumerate(values):
                if not value:
                    continue
                x = LEFT + slot * i + slot * 0.1 + width * s
                parts.append(
                    f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{width:.1f}" '
                    f'height="{TOP + plot_h - y(value):.1f}" fill="{COLOURS[s % len(COLOURS)]}"/>'
                )
    else:
        for s, (_, values) in enumerate(drawn):
            points, segments = [], []
            for i, value in enumerate(values):
                if value is None:  # no data that month: the line breaks
                    if points:
                        segments.append(points)
                    points = []
                    continue
                points.append(f"{LEFT + slot * (i + 0.5):.1f},{y(value):.1f}")
            if points:
                segments.append(points)
            for segment in segments:
                parts.append(
                    f'<polyline points="{" ".join(segment)}" fill="none" '
                    f'stroke="{COLOURS[s % len(COLOURS)]}" stroke-width="2"/>'
                )
    for s, (name, _) in enumerate(drawn):
        x = LEFT + s * 200
        parts.append(
            f'<rect x="{x}" y="12" width="12" height="12" fill="{COLOURS[s % len(COLOURS)]}"/>'
        )
        parts.append(
            f'<text x="{x + 18}" y="22" font-size="12" fill="#222222">{escape(name)}</text>'
        )
    parts.append(
        f'<text x="{LEFT - 6}" y="{TOP - 8}" font-size="11" text-anchor="end" '
        f'fill="#333333">（{escape(chart.unit)}）</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped
