"""Monthly volume and on-time rate: an openpyxl chart for XLSX and an inline SVG for HTML."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from mailbot.report.periods import Period
from mailbot.report.stats import UnitStats


@dataclass(frozen=True)
class MonthPoint:
    label: str  # "10/2024"
    received: int
    resolved: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None


def monthly_series(stats: UnitStats, period: Period) -> list[MonthPoint]:
    """One point per month of the period (by effective receipt), empty months included."""
    out = []
    for key in period.months():
        m = stats.monthly.get(key, {})
        y, mm = key.split("-")
        out.append(
            MonthPoint(
                f"{int(mm):02d}/{y}",
                m.get("received", 0),
                m.get("resolved", 0),
                m.get("resolved_on_time", 0),
            )
        )
    return out


def add_monthly_charts(ws: Worksheet, series: list[MonthPoint]) -> None:
    """The data table, then a bar chart of volume with the on-time rate as a line."""
    ws.cell(1, 1, "SỐ YÊU CẦU VÀ TỶ LỆ GIẢI QUYẾT ĐÚNG HẠN THEO THÁNG").font = Font(bold=True)
    heads = [
        "Tháng",
        "Số yêu cầu tiếp nhận",
        "Đã giải quyết xong",
        "Đúng hạn",
        "Tỷ lệ đúng hạn (%)",
    ]
    for j, h in enumerate(heads, start=1):
        ws.cell(3, j, h).font = Font(bold=True)
    for i, p in enumerate(series, start=4):
        ws.cell(i, 1, p.label)
        ws.cell(i, 2, p.received)
        ws.cell(i, 3, p.resolved)
        ws.cell(i, 4, p.on_time)
        ws.cell(i, 5, None if p.rate is None else round(p.rate * 100, 1))
    last = 3 + len(series)
    ws.column_dimensions["A"].width = 10
    for col in "BCDE":
        ws.column_dimensions[col].width = 18
    if not series:
        return
    bars = BarChart()
    bars.type = "col"
    bars.title = "Số yêu cầu và tỷ lệ đúng hạn theo tháng"
    bars.y_axis.title = "Số yêu cầu"
    bars.x_axis.title = "Tháng (theo ngày tiếp nhận)"
    bars.add_data(Reference(ws, min_col=2, min_row=3, max_row=last), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=1, min_row=4, max_row=last))
    line = LineChart()
    line.add_data(Reference(ws, min_col=5, min_row=3, max_row=last), titles_from_data=True)
    line.y_axis.axId = 200
    line.y_axis.title = "Tỷ lệ đúng hạn (%)"
    line.y_axis.crosses = "max"
    line.y_axis.scaling.min = 0
    line.y_axis.scaling.max = 100
    bars += line
    bars.height, bars.width = 9, 22
    ws.add_chart(bars, "G3")


def monthly_svg(series: list[MonthPoint], width: int = 720, height: int = 260) -> str:
    """Bars for volume, a line for the on-time rate; plain SVG, prints without scripts."""
    if not series:
        return ""
    left, right, top, bottom = 44, 44, 16, 40
    w, h = width - left - right, height - top - bottom
    peak = max(p.received for p in series) or 1
    step = w / len(series)
    bar = step * 0.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        'aria-label="Số yêu cầu và tỷ lệ đúng hạn theo tháng" font-size="11">',
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#444"/>',
        f'<text x="4" y="{top + 8}">{peak}</text><text x="4" y="{top + h}">0</text>',
        f'<text x="{left + w + 4}" y="{top + 8}">100%</text>'
        f'<text x="{left + w + 4}" y="{top + h}">0%</text>',
    ]
    points = []
    for i, p in enumerate(series):
        x = left + i * step + (step - bar) / 2
        bh = h * p.received / peak
        parts.append(
            f'<rect x="{x:.1f}" y="{top + h - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
            f'fill="#4a78b5"><title>{escape(p.label)}: {p.received} yêu cầu</title></rect>'
        )
        # Month numbers while they fit (~18 px each); over long periods only each January,
        # labelled with its year, so the labels never run into each other.
        if step >= 18:
            tick = p.label[:2]
        elif p.label.startswith("01/") or i == 0:
            tick = p.label[3:]
        else:
            tick = ""
        if tick:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + h + 14}" text-anchor="middle">'
                f"{escape(tick)}</text>"
            )
        if p.rate is not None:
            points.append(f"{x + bar / 2:.1f},{top + h - h * p.rate:.1f}")
    if points:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="#c0392b" stroke-width="2"/>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 6}">■ Số yêu cầu (cột, trục trái) — '
        "▬ Tỷ lệ đúng hạn (đường đỏ, trục phải)</text></svg>"
    )
    return "".join(parts)
