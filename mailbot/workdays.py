"""Vietnamese working-day calendar for civil servants: `holidays` (VN) plus rules/calendar.toml.

The `holidays` package gives weekends, the Labour Code public holidays (lunar Tết and Giỗ Tổ
included), nghỉ bù and most decreed swaps; ``rules/calendar.toml`` adds what it misses (e.g. the
2/1 ↔ 10/1/2026 swap) and lets the office switch uncertain entries (24/11, 31/8 ↔ 22/8/2026) on
or off. Counting follows BLDS 2015 Điều 147: the start day is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import holidays

from mailbot.errors import RuleError
from mailbot.rulefiles import RulesCache

CALENDAR_FILE = "calendar.toml"

WEEKDAY_NAMES_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")

EntryKind = Literal["swap", "day_off", "working_day", "not_day_off"]
_KINDS = ("swap", "day_off", "working_day", "not_day_off")
_TAGS = ("[V]", "[P]", "[GK]", "[A]")
# Which date fields each kind needs.
_FIELDS: dict[str, tuple[str, ...]] = {
    "swap": ("day_off", "workday"),
    "day_off": ("date",),
    "working_day": ("date",),
    "not_day_off": ("date",),
}
_ALLOWED_KEYS = {"kind", "date", "day_off", "workday", "name", "source", "tag", "enabled", "note"}

DayKind = Literal["working", "weekend", "holiday", "swap", "extra", "workday_swap"]


def vi_date(d: date) -> str:
    """dd/mm/yyyy, as dates are written in Vietnamese documents."""
    return d.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class CalendarEntry:
    """One decision of rules/calendar.toml (a swap, an extra day off, a làm bù day...)."""

    kind: EntryKind
    name: str
    source: str
    tag: str
    enabled: bool = True
    date: date | None = None
    day_off: date | None = None
    workday: date | None = None

    def dates(self) -> tuple[date, ...]:
        return tuple(d for d in (self.date, self.day_off, self.workday) if d is not None)


@dataclass(frozen=True)
class DayInfo:
    """Why a day is or is not a working day."""

    day: date
    working: bool
    kind: DayKind
    reason: str | None  # Vietnamese, None for an ordinary working day
    source: str | None = None
    tag: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "weekday": WEEKDAY_NAMES_VI[self.day.weekday()],
            "working_day": self.working,
            "kind": self.kind,
            "reason": self.reason,
            "source": self.source,
            "tag": self.tag,
        }


def _parse_entries(data: dict[str, Any], file: str) -> list[CalendarEntry]:
    unknown = set(data) - {"version", "entry"}
    if unknown:
        raise RuleError(
            f"{file}: khóa cấp ngoài cùng không được phép: {', '.join(sorted(unknown))}; chỉ "
            "dùng 'version' và các bảng [[entry]]"
        )
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list):
        raise RuleError(f"{file}: 'entry' phải là mảng các bảng, viết [[entry]]")
    entries: list[CalendarEntry] = []
    for i, raw in enumerate(raw_entries, start=1):
        where = f"{file}: [[entry]] #{i}"
        if not isinstance(raw, dict):
            raise RuleError(f"{where}: mục này phải là một bảng")
        extra = set(raw) - _ALLOWED_KEYS
        if extra:
            raise RuleError(
                f"{where}: khóa không được phép: {', '.join(sorted(extra))}; các khóa hợp lệ: "
                + ", ".join(sorted(_ALLOWED_KEYS))
            )
        kind = raw.get("kind")
        if kind not in _KINDS:
            raise RuleError(
                f"{where}: kind phải là một trong {', '.join(_KINDS)}, không phải {kind!r}"
            )
        fields: dict[str, date] = {}
        for key in _FIELDS[kind]:
            value = raw.get(key)
            # TOML dates load as datetime.date; a quoted string is a common slip.
            if not isinstance(value, date):
                raise RuleError(
                    f"{where}: kind {kind!r} cần '{key}' viết dạng ngày TOML, ví dụ "
                    f"{key} = 2026-01-02 (không có dấu ngoặc kép)"
                )
            fields[key] = value
        for key in ("name", "source"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise RuleError(f"{where}: thiếu '{key}' (văn bản tiếng Việt, không để trống)")
        tag = raw.get("tag", "[A]")
        if tag not in _TAGS:
            raise RuleError(
                f"{where}: tag phải là một trong {', '.join(_TAGS)}, không phải {tag!r}"
            )
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise RuleError(f"{where}: enabled phải là true hoặc false")
        if kind == "swap":
            if fields["day_off"].weekday() >= 5:
                raise RuleError(
                    f"{where}: day_off {fields['day_off']} không phải ngày thường (Thứ Hai đến "
                    "Thứ Sáu)"
                )
            if fields["workday"].weekday() < 5:
                raise RuleError(
                    f"{where}: workday {fields['workday']} không phải Thứ Bảy hoặc Chủ nhật"
                )
        if kind == "working_day" and fields["date"].weekday() < 5:
            raise RuleError(
                f"{where}: date {fields['date']} là ngày thường, vốn đã là ngày làm việc; "
                "working_day chỉ dùng cho Thứ Bảy hoặc Chủ nhật làm bù"
            )
        entries.append(
            CalendarEntry(
                kind=kind,
                name=raw["name"].strip(),
                source=raw["source"].strip(),
                tag=tag,
                enabled=enabled,
                **fields,
            )
        )
    return entries


@dataclass
class _Year:
    off: dict[date, DayInfo]
    weekend_work: dict[date, DayInfo]


class WorkCalendar:
    """Working days of Vietnamese civil servants: Monday–Friday minus days off plus làm bù days."""

    _cache: RulesCache[WorkCalendar] = RulesCache()

    def __init__(self, entries: list[CalendarEntry] | None = None, *, source: str = "") -> None:
        self.entries: list[CalendarEntry] = list(entries or [])
        self.source = source
        self._years: dict[int, _Year] = {}

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def load(cls, rules_dir: Path | str) -> WorkCalendar:
        """Read rules_dir/calendar.toml; cached per file and modification time."""
        return cls._cache.load(
            Path(rules_dir) / CALENDAR_FILE,
            "lịch ngày làm việc",
            lambda data, file: cls(_parse_entries(data, file), source=file),
        )

    # ---- one year ---------------------------------------------------------------------------
    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        # Neighbouring years too: a swap decided in one year may move a day of the next
        # (31/12/2018 off against Saturday 5/1/2019).
        vn = holidays.country_holidays("VN", years=range(year - 1, year + 2), language="vi")
        off: dict[date, DayInfo] = {}
        for d, name in vn.items():
            if d.year == year:
                off[d] = DayInfo(d, False, "holiday", str(name), "gói holidays (VN)", "[V]")
        weekend_work: dict[date, DayInfo] = {}
        for d in getattr(vn, "weekend_workdays", set()):
            if d.year == year:
                weekend_work[d] = DayInfo(
                    d, True, "workday_swap", "Ngày làm bù", "gói holidays (VN)", "[V]"
                )
        for e in self.entries:
            if not any(d.year == year for d in e.dates()):
                continue
            self._apply(e, year, off, weekend_work)
        result = _Year(off, weekend_work)
        self._years[year] = result
        return result

    @staticmethod
    def _apply(
        e: CalendarEntry, year: int, off: dict[date, DayInfo], work: dict[date, DayInfo]
    ) -> None:
        """Apply an entry, or revert it when disabled (see rules/calendar.toml)."""
        if e.kind == "swap":
            assert e.day_off is not None and e.workday is not None
            if e.day_off.year == year:
                if e.enabled:
                    off[e.day_off] = DayInfo(
                        e.day_off,
                        False,
                        "swap",
                        f"{e.name} (làm bù {WEEKDAY_NAMES_VI[e.workday.weekday()]}"
                        f" {vi_date(e.workday)})",
                        e.source,
                        e.tag,
                    )
                else:
                    off.pop(e.day_off, None)
            if e.workday.year == year:
                if e.enabled:
                    off.pop(e.workday, None)
                    work[e.workday] = DayInfo(
                        e.workday,
                        True,
                        "workday_swap",
                        f"Ngày làm bù cho ngày nghỉ {WEEKDAY_NAMES_VI[e.day_off.weekday()]}"
                        f" {vi_date(e.day_off)}",
                        e.source,
                        e.tag,
                    )
                else:
                    work.pop(e.workday, None)
            return
        assert e.date is not None
        if e.kind == "day_off":
            if e.enabled:
                work.pop(e.date, None)
                off[e.date] = DayInfo(e.date, False, "extra", e.name, e.source, e.tag)
            else:
                off.pop(e.date, None)
        elif e.kind == "working_day":
            if e.enabled:
                off.pop(e.date, None)
                work[e.date] = DayInfo(e.date, True, "workday_swap", e.name, e.source, e.tag)
            else:
                work.pop(e.date, None)
        elif e.kind == "not_day_off" and e.enabled:
            off.pop(e.date, None)

    # ---- queries ----------------------------------------------------------------------------
    def explain(self, d: date) -> DayInfo:
        """Whether d is a working day and why (holiday name, weekend, swap and its notice)."""
        y = self._year(d.year)
        if d in y.off:
            return y.off[d]
        if d in y.weekend_work:
            return y.weekend_work[d]
        if d.weekday() >= 5:
            return DayInfo(d, False, "weekend", WEEKDAY_NAMES_VI[d.weekday()])
        return DayInfo(d, True, "working", None)

    def is_working_day(self, d: date) -> bool:
        return self.explain(d).working

    def why_off(self, d: date) -> str | None:
        """Vietnamese reason d is a day off, or None for a working day."""
        info = self.explain(d)
        if info.working:
            return None
        if info.kind in ("swap", "extra") and info.source:
            return f"{info.reason} (theo {info.source})"
        return info.reason

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after d."""
        return self.add_working_days(d, 1)

    def roll_forward(self, d: date) -> date:
        """d itself if it is a working day, else the next working day (BLDS Điều 148)."""
        return d if self.is_working_day(d) else self.next_working_day(d)

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after d (d not counted); n < 0 counts backwards, 0 gives d."""
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        current = d
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: a not counted, b counted; negative when b < a.

        So ``add_working_days(a, working_days_between(a, b)) == b`` for a working day b.
        """
        if b == a:
            return 0
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        current = a
        while current < b:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def days_off(self, year: int) -> list[DayInfo]:
        """Weekday days off and weekend working days of a year, in date order."""
        y = self._year(year)
        days = [i for d, i in y.off.items() if d.weekday() < 5] + list(y.weekend_work.values())
        return sorted(days, key=lambda i: i.day)
