"""Reporting periods: the THADS statistical year and half-year, or any inclusive [from, to]."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailbot.errors import ExportError


@dataclass(frozen=True)
class Period:
    """An inclusive range of local calendar dates (DOMAIN.md §8.1)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ExportError(
                f"kỳ báo cáo không hợp lệ: ngày kết thúc {vi(self.end)} trước ngày bắt đầu "
                f"{vi(self.start)}; hãy đổi --from/--to"
            )

    @property
    def label(self) -> str:
        return f"Từ ngày {vi(self.start)} đến ngày {vi(self.end)}"

    def end_utc(self, tz: ZoneInfo) -> datetime:
        """Naive UTC instant just after the period (local midnight after `end`)."""
        local = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz)
        return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    def start_utc(self, tz: ZoneInfo) -> datetime:
        local = datetime.combine(self.start, time(0), tzinfo=tz)
        return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    def months(self) -> list[str]:
        """'YYYY-MM' of every month the period touches, in order."""
        out: list[str] = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def vi(d: date) -> str:
    """Vietnamese date, e.g. 01/10/2024."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def thads_year(year: int) -> Period:
    """THADS statistical year ending in `year`: 01/10/(year-1) → 30/9/year."""
    return Period(date(year - 1, 10, 1), date(year, 9, 30))


def thads_half_year(year: int) -> Period:
    """First six months of the THADS year ending in `year`: 01/10/(year-1) → 31/3/year."""
    return Period(date(year - 1, 10, 1), date(year, 3, 31))


def current_thads_year(today: date) -> Period:
    """The THADS year containing `today`."""
    return thads_year(today.year + 1 if today.month >= 10 else today.year)


def parse_date(text: str) -> date:
    """Accept 2025-03-31 or 31/03/2025."""
    text = text.strip()
    try:
        if "/" in text:
            d, m, y = (int(p) for p in text.split("/"))
            return date(y, m, d)
        return date.fromisoformat(text)
    except ValueError:
        raise ExportError(
            f"ngày {text!r} không hợp lệ; viết theo dạng 2025-03-31 hoặc 31/03/2025"
        ) from None
