"""Deadline policy: effective receipt day, reply due date, statutory limits (rules/deadlines.toml).

Decides dates only; the calendar itself is ``mailbot.workdays``. Conventions (DOMAIN.md §7.4):
the receipt day is not counted; mail on a day off, at or after the cut-off (15:00) or after
closing counts as received on the next working day; a limit ending on a day off ends on the
next working day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from mailbot.errors import RuleError
from mailbot.rulefiles import RulesCache
from mailbot.workdays import WorkCalendar, vi_date

DEADLINES_FILE = "deadlines.toml"
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The statutory limits never allow a reply deadline beyond 05 working days (DOMAIN.md §4.2).
MAX_REPLY_WD = 5

LimitUnit = Literal["wd", "ngay", "nam"]
UNIT_LABELS: dict[str, str] = {"wd": "ngày làm việc", "ngay": "ngày", "nam": "năm"}
_TAGS = ("[V]", "[P]", "[GK]", "[A]")
_HUMAN = ("yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai", "to_cao", "hoi_dap")


@dataclass(frozen=True)
class StatutoryLimit:
    """A time limit set by law, quoted in replies with its legal basis."""

    key: str
    name: str  # Vietnamese
    amount: int
    unit: LimitUnit
    start: str  # from when it runs, Vietnamese
    basis: str  # legal basis, Vietnamese
    tag: str
    types: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def text(self) -> str:
        """E.g. "05 ngày làm việc", as limits are written in Vietnamese documents."""
        return f"{self.amount:02d} {UNIT_LABELS[self.unit]}"

    def valid_on(self, d: date) -> bool:
        return (self.valid_from is None or self.valid_from <= d) and (
            self.valid_to is None or d <= self.valid_to
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "amount": self.amount,
            "unit": self.unit,
            "unit_label": UNIT_LABELS[self.unit],
            "text": self.text,
            "start": self.start,
            "basis": self.basis,
            "tag": self.tag,
        }


@dataclass(frozen=True)
class OfficeHours:
    """Opening periods of a working day and the cut-off after which mail counts tomorrow."""

    periods: tuple[tuple[time, time], ...] = ((time(7, 0), time(11, 30)), (time(13, 30), time(17)))
    cutoff: time = time(15, 0)

    @property
    def closes(self) -> time:
        return max(end for _, end in self.periods)

    def counts_today(self, t: time) -> bool:
        """Before the cut-off and before closing (early morning and lunch count for the day)."""
        return t < self.cutoff and t < self.closes


def _hhmm(value: Any, where: str) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise RuleError(
            f'{where}: {value!r} không phải giờ viết dạng "HH:MM", ví dụ "15:00"'
        ) from None


def _office_hours(raw: Any, where: str) -> OfficeHours:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: phải là một bảng có 'periods' và 'cutoff'")
    extra = set(raw) - {"periods", "cutoff"}
    if extra:
        raise RuleError(
            f"{where}: khóa không được phép: {', '.join(sorted(extra))}; chỉ dùng 'periods' và "
            "'cutoff'"
        )
    base = OfficeHours()
    periods = base.periods
    if "periods" in raw:
        try:
            periods = tuple((_hhmm(a, where), _hhmm(b, where)) for a, b in raw["periods"])
        except (TypeError, ValueError):
            raise RuleError(
                f'{where}: periods phải là danh sách các cặp ["HH:MM", "HH:MM"]'
            ) from None
        if not periods or any(a >= b for a, b in periods):
            raise RuleError(f"{where}: mỗi khoảng giờ phải bắt đầu trước khi kết thúc")
    cutoff = _hhmm(raw["cutoff"], where) if "cutoff" in raw else base.cutoff
    return OfficeHours(periods, cutoff)


def _statutory(raw: Any, where: str) -> StatutoryLimit:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: mục này phải là một bảng")
    allowed = {
        "key",
        "types",
        "name",
        "amount",
        "unit",
        "start",
        "basis",
        "tag",
        "valid_from",
        "valid_to",
    }
    extra = set(raw) - allowed
    if extra:
        raise RuleError(
            f"{where}: khóa không được phép: {', '.join(sorted(extra))}; các khóa hợp lệ: "
            + ", ".join(sorted(allowed))
        )
    for k in ("key", "name", "start", "basis"):
        if not isinstance(raw.get(k), str) or not raw[k].strip():
            raise RuleError(f"{where}: thiếu '{k}' (văn bản, không để trống)")
    if not isinstance(raw.get("amount"), int) or raw["amount"] <= 0:
        raise RuleError(f"{where}: 'amount' phải là số nguyên dương")
    if raw.get("unit") not in UNIT_LABELS:
        raise RuleError(f'{where}: \'unit\' phải là "wd", "ngay" hoặc "nam"')
    if raw.get("tag") not in _TAGS:
        raise RuleError(f"{where}: 'tag' phải là một trong {', '.join(_TAGS)}")
    types = raw.get("types", [])
    if not isinstance(types, list) or any(t not in _HUMAN for t in types):
        raise RuleError(
            f"{where}: 'types' phải là danh sách loại yêu cầu, chọn trong: {', '.join(_HUMAN)}"
        )
    for k in ("valid_from", "valid_to"):
        if k in raw and not isinstance(raw[k], date):
            raise RuleError(
                f"{where}: '{k}' phải viết dạng ngày TOML, ví dụ {k} = 2026-07-01 (không có "
                "dấu ngoặc kép)"
            )
    return StatutoryLimit(
        key=raw["key"],
        name=raw["name"].strip(),
        amount=raw["amount"],
        unit=raw["unit"],
        start=raw["start"].strip(),
        basis=raw["basis"].strip(),
        tag=raw["tag"],
        types=tuple(types),
        valid_from=raw.get("valid_from"),
        valid_to=raw.get("valid_to"),
    )


@dataclass
class DeadlinePolicy:
    """Reply deadlines, office hours and statutory limits, on a working-day calendar."""

    calendar: WorkCalendar
    reply_wd: dict[str, int] = field(default_factory=dict)
    default_wd: int = 2
    due_soon_wd: int = 1
    no_reply: tuple[str, ...] = ("tu_dong", "thu_rac")
    default_hours: OfficeHours = field(default_factory=OfficeHours)
    unit_hours: dict[str, OfficeHours] = field(default_factory=dict)
    limits: tuple[StatutoryLimit, ...] = ()

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def load(cls, rules_dir: Path | str) -> DeadlinePolicy:
        """Read rules_dir/deadlines.toml and calendar.toml; cached per file versions."""
        calendar = WorkCalendar.load(rules_dir)
        return _POLICY_CACHE.load(
            Path(rules_dir) / DEADLINES_FILE,
            "quy tắc thời hạn",
            lambda data, file: cls.from_dict(data, calendar, file=file),
            # A new calendar (calendar.toml edited) means a new policy.
            depends=id(calendar),
        )

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], calendar: WorkCalendar, *, file: str = DEADLINES_FILE
    ) -> DeadlinePolicy:
        extra = set(data) - {"version", "reply", "office_hours", "statutory"}
        if extra:
            raise RuleError(
                f"{file}: khóa cấp ngoài cùng không được phép: {', '.join(sorted(extra))}; chỉ "
                "dùng 'version' và các bảng [reply], [office_hours], [[statutory]]"
            )
        reply = data.get("reply", {})
        default_wd = reply.get("default_wd", 2)
        due_soon_wd = reply.get("due_soon_wd", 1)
        no_reply = tuple(reply.get("no_reply", ["tu_dong", "thu_rac"]))
        per_type = dict(reply.get("types", {}))
        for name, wd in [("default_wd", default_wd), *per_type.items()]:
            if not isinstance(wd, int) or not 1 <= wd <= MAX_REPLY_WD:
                raise RuleError(
                    f"{file}: [reply] {name} = {wd!r}: hạn trả lời phải là số nguyên ngày làm "
                    f"việc từ 1 đến {MAX_REPLY_WD} (thời hạn luật định là 05 ngày làm việc)"
                )
        unknown = set(per_type) - set(_HUMAN)
        if unknown:
            raise RuleError(
                f"{file}: [reply.types] loại yêu cầu không tồn tại: "
                f"{', '.join(sorted(unknown))}; dùng một trong: {', '.join(_HUMAN)}"
            )
        if not isinstance(due_soon_wd, int) or due_soon_wd < 0:
            raise RuleError(f"{file}: [reply] due_soon_wd phải là số nguyên ≥ 0")
        hours = data.get("office_hours", {})
        default_hours = _office_hours(hours.get("default", {}), f"{file}: [office_hours.default]")
        unit_hours = {
            code: _office_hours(raw, f"{file}: [office_hours.units.{code}]")
            for code, raw in hours.get("units", {}).items()
        }
        raw_limits = data.get("statutory", [])
        limits = tuple(
            _statutory(raw, f"{file}: [[statutory]] #{i}") for i, raw in enumerate(raw_limits, 1)
        )
        keys = [lim.key for lim in limits]
        dup = {k for k in keys if keys.count(k) > 1 and not _versioned(limits, k)}
        if dup:
            raise RuleError(
                f"{file}: [[statutory]] trùng key: {', '.join(sorted(dup))}; mỗi key chỉ dùng "
                "một lần, trừ khi mỗi phiên bản có valid_from hoặc valid_to"
            )
        return cls(
            calendar=calendar,
            reply_wd=per_type,
            default_wd=default_wd,
            due_soon_wd=due_soon_wd,
            no_reply=no_reply,
            default_hours=default_hours,
            unit_hours=unit_hours,
            limits=limits,
        )

    # ---- receipt and reply ------------------------------------------------------------------
    def hours_for(self, unit: str | None) -> OfficeHours:
        return self.unit_hours.get(unit or "", self.default_hours)

    def effective_receipt(
        self, arrived_at: datetime, tz: ZoneInfo = DEFAULT_TZ, unit: str | None = None
    ) -> date:
        """The day a mail counts as received (DOMAIN.md §7.4).

        arrived_at is the arrival in the mailbox; a naive value is taken as UTC, the
        representation stored in the database.
        """
        if arrived_at.tzinfo is None:
            arrived_at = arrived_at.replace(tzinfo=UTC)
        local = arrived_at.astimezone(tz)
        day = local.date()
        if self.calendar.is_working_day(day) and self.hours_for(unit).counts_today(local.time()):
            return day
        return self.calendar.next_working_day(day)

    def reply_wd_for(self, request_type: str) -> int | None:
        if request_type in self.no_reply:
            return None
        return self.reply_wd.get(request_type, self.default_wd)

    def reply_due(self, request_type: str, effective: date) -> date | None:
        """Reply due date, or None for types that are never answered (tu_dong, thu_rac)."""
        wd = self.reply_wd_for(request_type)
        if wd is None:
            return None
        return self.calendar.add_working_days(effective, wd)

    # ---- statutory limits -------------------------------------------------------------------
    def statutory(self, request_type: str, on: date | None = None) -> list[StatutoryLimit]:
        """Statutory limits to quote for a request type, in file order (valid on `on`)."""
        return [
            lim
            for lim in self.limits
            if request_type in lim.types and (on is None or lim.valid_on(on))
        ]

    def statutory_by_key(self, key: str, on: date | None = None) -> StatutoryLimit:
        for lim in self.limits:
            if lim.key == key and (on is None or lim.valid_on(on)):
                return lim
        when = f" có hiệu lực ngày {vi_date(on)}" if on else ""
        raise RuleError(
            f"{DEADLINES_FILE}: không có mục [[statutory]] nào với key {key!r}{when}; thêm mục "
            "này vào tệp deadlines.toml trong thư mục rules_dir"
        )

    def statutory_due(self, limit: StatutoryLimit, start: date) -> date:
        """Last day of a statutory limit counted from `start` (start not counted)."""
        cal = self.calendar
        if limit.unit == "wd":
            return cal.add_working_days(start, limit.amount)
        if limit.unit == "ngay":
            return cal.roll_forward(start + timedelta(days=limit.amount))
        try:
            end = start.replace(year=start.year + limit.amount)
        except ValueError:  # 29 February
            end = start.replace(year=start.year + limit.amount, day=28)
        return cal.roll_forward(end)

    # ---- due-date helpers -------------------------------------------------------------------
    def is_overdue(self, due: date | None, today: date) -> bool:
        return due is not None and today > due

    def is_due_today(self, due: date | None, today: date) -> bool:
        return due is not None and due == today

    def is_due_soon(self, due: date | None, today: date) -> bool:
        """Due after today with at most `due_soon_wd` working days left (default: tomorrow)."""
        if due is None or due <= today:
            return False
        return self.calendar.working_days_between(today, due) <= self.due_soon_wd

    def resume_due(self, original_due: date, paused_at: date, resumed: date) -> date:
        """New due date after a clock stop for the citizen's supplement (chờ bổ sung).

        [A] The working days left when the clock stopped, counted after the pause day (the
        pause day is used), are carried over and counted again from `resumed`, the effective
        receipt day of the supplement (not counted, like any receipt). At least one working
        day is given, so a dossier paused on or after its due date is not overdue on arrival
        of the supplement.
        """
        remaining = self.calendar.working_days_between(paused_at, original_due)
        return self.calendar.add_working_days(resumed, max(remaining, 1))

    def remaining_wd(self, due: date, today: date) -> int:
        return self.calendar.working_days_between(today, due)


_POLICY_CACHE: RulesCache[DeadlinePolicy] = RulesCache()


def _versioned(limits: tuple[StatutoryLimit, ...], key: str) -> bool:
    """Repeated keys are fine when each version has a validity period."""
    same = [lim for lim in limits if lim.key == key]
    return all(lim.valid_from or lim.valid_to for lim in same)


def format_due(d: date | None) -> str:
    """dd/mm/yyyy or an empty string, for templates and lists."""
    return vi_date(d) if d else ""
