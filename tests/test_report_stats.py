"""Statistics on a generated register: every figure equals an independent count made here."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from mailbot.config import PROJECT_DIR
from mailbot.dossier.models import AuditEvent, Dossier, MailMessage, Rating
from mailbot.dossier.workflow import report_dates
from mailbot.report.form import load_form
from mailbot.report.periods import Period, current_thads_year, thads_half_year, thads_year
from mailbot.report.stats import UnitStats, compute, percentile
from mailbot.workdays import WorkCalendar

RULES = PROJECT_DIR / "rules"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UNITS = ["KG", "KG-RACHGIA", "KG-PHUQUOC", "KG-HATIEN"]
MAILBOXES = {"kg": "KG", "rachgia": "KG-RACHGIA", "phuquoc": "KG-PHUQUOC"}
HUMAN = ["yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai", "to_cao", "hoi_dap"]
PERIOD = thads_half_year(2025)  # 01/10/2024 → 31/3/2025


def utc(d: date, hh: int, mm: int = 0) -> datetime:
    """UTC instant of a local (Vietnam) date and time (aware: sqlmodel's UTCDateTime wants it)."""
    return datetime.combine(d, time(hh, mm), tzinfo=TZ).astimezone(UTC)


def local_day(ts: datetime) -> date:
    return ts.astimezone(TZ).date()


@dataclass
class Register:
    """What was inserted, kept as plain rows for the independent count."""

    dossiers: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    mails: list[dict[str, Any]] = field(default_factory=list)


def dossier_row(i: int, unit: str, eff: date, rtype: str, **kw: Any) -> dict[str, Any]:
    received = utc(eff, 9)
    row: dict[str, Any] = {
        "id": i,
        "code": f"{unit}-{eff.year}-{i:06d}",
        "receiving_unit": unit,
        "unit": unit,
        "handling_unit": unit,
        "request_type": rtype,
        "status": "da_tiep_nhan",
        "needs_triage": False,
        "confidence": 0.9,
        "channel": "email",
        "sender_addr": f"nguoi{i}@example.vn",
        "sender_name": "",
        "subject": "",
        "judgment_refs": [],
        "enforcement_refs": [],
        "explanation": {},
        "received_at": received,
        "effective_receipt": eff,
        "due_at": None,
        "acknowledged_at": received,
        "first_reply_at": None,
        "answered_at": None,
        "closed_at": None,
        "result": None,
        "paper_channel": None,
        "return_channel": None,
        "forwarded_to": None,
        "assigned_to": None,
        "paused_at": None,
        "paused_workdays": 0,
        "bounced": False,
        "reopened_count": 0,
        "created_at": received,
        "updated_at": received,
        # Report dates: NULL like an older row unless the caller derives them (make_register).
        "first_reply_on": None,
        "resolved_on": None,
        "closed_on": None,
    }
    row.update(kw)
    return row


REPORT_DATE_SOURCES = (
    "answered_at",
    "closed_at",
    "result",
    "status",
    "first_reply_at",
    "updated_at",
)


def make_register(engine: Engine, seed: int = 7, n: int = 900) -> Register:
    """A register crossing the period on both sides, with every kind of life a dossier has."""
    cal = WorkCalendar.load(RULES)
    rnd = random.Random(seed)
    reg = Register()
    start, span = date(2024, 8, 20), 300  # 20/8/2024 → mid-June 2025
    for i in range(1, n + 1):
        eff = cal.roll_forward(start + timedelta(days=rnd.randrange(span)))
        unit = rnd.choice(UNITS)
        rtype = rnd.choice(HUMAN * 6 + ["tu_dong", "thu_rac"])
        due = cal.add_working_days(eff, 2)
        kw: dict[str, Any] = {
            "due_at": due,
            "channel": rnd.choice(["email", "email", "web_form", "counter"]),
            "paper_channel": rnd.choice([None, None, "counter", "post"]),
            "reopened_count": rnd.choice([0, 0, 0, 1]),
        }
        fate = rnd.choice(
            [
                "answered",
                "answered",
                "answered",
                "open",
                "forwarded",
                "no_reply",
                "paused",
                "closed_result",
            ]
        )
        delay = rnd.choice([0, 1, 2, 2, 3, 5, 9, 40])
        when = utc(cal.add_working_days(eff, delay), rnd.choice([8, 14, 16, 23]))
        if fate == "answered":
            kw.update(
                answered_at=when,
                first_reply_at=when,
                status="da_tra_loi",
                return_channel=rnd.choice([None, "email", "counter", "notice"]),
            )
            if rnd.random() < 0.5:
                kw.update(
                    closed_at=when + timedelta(days=rnd.choice([0, 3, 30])),
                    status="da_dong",
                    result="appointment",
                )
        elif fate == "forwarded":
            kw.update(
                status="da_chuyen",
                result="forwarded",
                forwarded_to="OUTSIDE",
                first_reply_at=when,
                updated_at=when,
            )
        elif fate == "no_reply":
            kw.update(status="da_dong", result="no_reply", closed_at=when)
        elif fate == "paused":
            kw.update(status="cho_bo_sung", paused_at=when)
        elif fate == "closed_result":
            kw.update(status="da_dong", result="guidance", closed_at=when)
        if rnd.random() < 0.1:  # a transfer to another unit of the province
            kw["handling_unit"] = rnd.choice(UNITS)
        reg.dossiers.append(dossier_row(i, unit, eff, rtype, **kw))
        if rnd.random() < 0.3:
            used = when + timedelta(days=rnd.choice([1, 60]))
            reg.ratings.append(
                {
                    "dossier_id": i,
                    "token_hash": f"t{i}",
                    "expires_at": used + timedelta(days=30),
                    "used_at": used if rnd.random() < 0.8 else None,
                    "level": rnd.choice(["rat_hai_long", "hai_long", "chua_hai_long"]),
                    "comment": "",
                    "created_at": used,
                }
            )
        for k in range(rnd.choice([0, 0, 0, 0, 1, 2])):
            reg.audits.append(
                {
                    "dossier_id": i,
                    "at": utc(eff, 10) + timedelta(days=rnd.choice([0, 200]) + k),
                    "actor": "user:canbo",
                    "action": "reclassified",
                    "detail": {"from": rnd.choice(HUMAN), "to": rtype},
                }
            )
        if rnd.random() < 0.05:
            reg.audits.append(
                {
                    "dossier_id": i,
                    "at": utc(eff, 11),
                    "actor": "system",
                    "action": "acknowledged",
                    "detail": {},
                }
            )
    for j in range(250):
        day = start + timedelta(days=rnd.randrange(span))
        at = datetime.combine(day, time(rnd.randrange(24), 30), tzinfo=UTC)
        reg.mails.append(
            {
                "dossier_id": None,
                "direction": rnd.choice(["in", "in", "in", "out"]),
                "message_id": f"<m{j}@x>",
                "dedupe_key": f"{j:064d}",
                "references": [],
                "received_at": at,
                "disposition": rnd.choice(["tu_dong", "thu_rac", "human"]),
                "source": rnd.choice(
                    ["kg/INBOX", "rachgia/INBOX", "phuquoc/Spam", "unknown/INBOX"]
                ),
                "raw": b"x",
                "classification": {},
            }
        )
    for d in reg.dossiers:
        # The report dates as the workflow stores them; every fourth row keeps NULL, like a row
        # written before they existed, so the report's own computation is checked too.
        if d["id"] % 4:
            d["first_reply_on"], d["resolved_on"], d["closed_on"] = report_dates(
                **{k: d[k] for k in REPORT_DATE_SOURCES}
            )
    with engine.begin() as conn:
        conn.execute(Dossier.__table__.insert(), reg.dossiers)
        if reg.ratings:
            conn.execute(Rating.__table__.insert(), reg.ratings)
        if reg.audits:
            conn.execute(AuditEvent.__table__.insert(), reg.audits)
        conn.execute(MailMessage.__table__.insert(), reg.mails)
    return reg


# ---- the independent count: one dossier at a time, straight from the definitions --------------
def resolution(d: dict[str, Any]) -> datetime | None:
    if d["answered_at"] is not None:
        return d["answered_at"]
    if d["closed_at"] is not None and d["result"] not in (None, "no_reply"):
        return d["closed_at"]
    if d["status"] == "da_chuyen" or d["result"] == "forwarded":
        return d["first_reply_at"] or d["closed_at"] or d["updated_at"]
    return None


def outcome(d: dict[str, Any], period: Period) -> str:
    last = period.end
    res = resolution(d)
    if res is not None and local_day(res) <= last:
        if d["due_at"] is None or local_day(res) <= d["due_at"]:
            return "resolved_on_time"
        return "resolved_late"
    if d["closed_at"] is not None and local_day(d["closed_at"]) <= last:
        return "closed"
    if d["paused_at"] is not None and local_day(d["paused_at"]) <= last:
        return "pending_overdue" if d["due_at"] < local_day(d["paused_at"]) else "pending_not_due"
    return "pending_overdue" if d["due_at"] <= last else "pending_not_due"


def expected(reg: Register, period: Period, unit: str) -> UnitStats:
    cal = WorkCalendar.load(RULES)
    s = UnitStats()
    mine = {
        d["id"]: d
        for d in reg.dossiers
        if d["handling_unit"] == unit and period.start <= d["effective_receipt"] <= period.end
    }
    end_day = period.end
    for d in mine.values():
        s.classified += 1
        if d["request_type"] not in HUMAN:
            s.marked_machine += 1
            continue
        o = outcome(d, period)
        if o == "closed":
            s.closed_without_reply += 1
            continue
        s.received += 1
        setattr(s, o, getattr(s, o) + 1)
        t = s.by_type.setdefault(d["request_type"], Counter())
        t["received"] += 1
        t[o] += 1
        t["paper_counter"] += d["paper_channel"] == "counter"
        t["paper_post"] += d["paper_channel"] == "post"
        s.by_channel[d["channel"]] = s.by_channel.get(d["channel"], 0) + 1
        s.reopened += d["reopened_count"] > 0
        m = s.monthly.setdefault(d["effective_receipt"].strftime("%Y-%m"), Counter())
        m["received"] += 1
        if o.startswith("resolved"):
            m["resolved"] += 1
            m["resolved_on_time"] += o == "resolved_on_time"
            s.forwarded += d["status"] == "da_chuyen" or d["result"] == "forwarded"
            rc = d["return_channel"]
            key = {"counter": "return_counter", "notice": "return_notice"}.get(rc, "return_email")
            t[key] += 1
        first = d["first_reply_at"] or resolution(d)
        if first is not None and local_day(first) <= end_day:
            days = max(0, cal.working_days_between(d["effective_receipt"], local_day(first)))
            s.first_reply_days[days] = s.first_reply_days.get(days, 0) + 1
        if d["closed_at"] is not None and local_day(d["closed_at"]) <= end_day:
            days = max(
                0, cal.working_days_between(d["effective_receipt"], local_day(d["closed_at"]))
            )
            s.closing_days[days] = s.closing_days.get(days, 0) + 1
    for r in reg.ratings:
        d = mine.get(r["dossier_id"])
        if d and d["request_type"] in HUMAN and r["used_at"] and local_day(r["used_at"]) <= end_day:
            s.ratings[r["level"]] = s.ratings.get(r["level"], 0) + 1
    corrected = set()
    for a in reg.audits:
        if (
            a["action"] == "reclassified"
            and a["dossier_id"] in mine
            and local_day(a["at"]) <= end_day
        ):
            corrected.add(a["dossier_id"])
            key = f"{a['detail']['from']}>{a['detail']['to']}"
            s.corrections[key] = s.corrections.get(key, 0) + 1
    s.corrected = len(corrected)
    for mail in reg.mails:
        box = mail["source"].split("/")[0]
        owner = MAILBOXES.get(box, "KG")
        day = local_day(mail["received_at"])
        if (
            owner == unit
            and mail["direction"] == "in"
            and mail["dossier_id"] is None
            and mail["disposition"] in ("tu_dong", "thu_rac")
            and period.start <= day <= period.end
        ):
            s.machine_mail[mail["disposition"]] = s.machine_mail.get(mail["disposition"], 0) + 1
    s.by_type = {k: {kk: vv for kk, vv in v.items() if vv} for k, v in s.by_type.items()}
    s.monthly = {k: {kk: vv for kk, vv in v.items() if vv} for k, v in s.monthly.items()}
    return s


def run(engine: Engine, period: Period = PERIOD, **kw: Any):  # noqa: ANN201
    return compute(
        engine,
        period,
        tz=TZ,
        calendar=WorkCalendar.load(RULES),
        rules_dir=str(RULES),
        mailbox_units=MAILBOXES,
        **kw,
    )


# ---- tests -------------------------------------------------------------------------------------
@pytest.fixture
def register(engine: Engine) -> Register:
    return make_register(engine)


@pytest.mark.parametrize(
    "period", [PERIOD, thads_year(2025), Period(date(2025, 1, 1), date(2025, 1, 31))]
)
def test_every_figure_equals_the_independent_count(
    engine: Engine, register: Register, period: Period
) -> None:
    report = run(engine, period)
    by_code = {u.unit.code: u.stats for u in report.units}
    for unit in UNITS:
        assert by_code[unit] == expected(register, period, unit), unit
    assert report.total.received == sum(expected(register, period, u).received for u in UNITS)


def test_outcomes_add_up_and_the_form_cross_checks_hold(engine: Engine, register: Register) -> None:
    report = run(engine)
    form = load_form(RULES)
    total = report.total
    assert total.received > 100
    assert (
        total.resolved_on_time + total.resolved_late + total.pending_not_due + total.pending_overdue
    ) == total.received
    for u in report.units:
        for row, values in form.table(u.stats.by_type):
            assert form.mismatches(values, row.label) == []
            assert values[6] == values[3]
            assert values[11] + values[12] + values[13] == values[7] + values[8]
    # Every kind of case is in the sample, so the checks above are not vacuous.
    for name in (
        "resolved_on_time",
        "resolved_late",
        "pending_not_due",
        "pending_overdue",
        "closed_without_reply",
        "forwarded",
        "marked_machine",
        "reopened",
    ):
        assert getattr(total, name) > 0, name
    assert total.machine_mail["tu_dong"] > 0 and total.corrected > 0 and total.ratings


def test_a_cuc_report_covers_itself_and_its_chi_cuc(engine: Engine, register: Register) -> None:
    whole = run(engine)
    cuc = run(engine, units=["KG"])
    only = run(engine, units=["KG"], exact=True)
    codes = [u.unit.code for u in cuc.units]
    assert codes[0] == "KG" and "KG-RACHGIA" in codes and "AG" not in codes
    assert cuc.total == whole.total
    assert [u.unit.code for u in only.units] == ["KG"]
    assert only.total == expected(register, PERIOD, "KG")
    assert cuc.section("cuc") == only.total


def test_hand_made_cases_land_in_the_right_column(engine: Engine) -> None:
    cal = WorkCalendar.load(RULES)
    eff = date(2025, 3, 26)  # Wednesday; +2 wd → Friday 28/3
    due = cal.add_working_days(eff, 2)
    assert due == date(2025, 3, 28)
    rows = [
        # answered 23:30 local on the due day: still on time (local date counts)
        dossier_row(1, "KG", eff, "khieu_nai", due_at=due, answered_at=utc(due, 23, 30)),
        # answered 00:30 local the day after: late, even though it is the same UTC date
        dossier_row(
            2, "KG", eff, "khieu_nai", due_at=due, answered_at=utc(due + timedelta(days=1), 0, 30)
        ),
        # answered after the period end (31/3): open at period end, and past due
        dossier_row(3, "KG", eff, "hoi_dap", due_at=due, answered_at=utc(date(2025, 4, 2), 9)),
        # received 31/3, due 2/4: open and not yet due at period end
        dossier_row(4, "KG", date(2025, 3, 31), "hoi_dap", due_at=date(2025, 4, 2)),
        # due on the period's last day and still open: overdue (chưa tới hạn needs due > end)
        dossier_row(5, "KG", date(2025, 3, 27), "hoi_dap", due_at=date(2025, 3, 31)),
        # clock stopped before the due date: not overdue while waiting for the citizen
        dossier_row(
            6,
            "KG",
            eff,
            "to_cao",
            due_at=due,
            status="cho_bo_sung",
            paused_at=utc(date(2025, 3, 27), 9),
        ),
        # forwarded before the period end: resolved (the forward notice is the reply)
        dossier_row(
            7,
            "KG",
            eff,
            "yeu_cau_thi_hanh_an",
            due_at=due,
            status="da_chuyen",
            result="forwarded",
            first_reply_at=utc(eff, 15),
        ),
        # received before the period (crosses the boundary): not counted
        dossier_row(8, "KG", date(2024, 9, 30), "hoi_dap", due_at=date(2024, 10, 2)),
        # closing thanks closed without reply: not a request
        dossier_row(
            9,
            "KG",
            eff,
            "hoi_dap",
            due_at=due,
            status="da_dong",
            result="no_reply",
            closed_at=utc(eff, 10),
        ),
    ]
    with engine.begin() as conn:
        conn.execute(Dossier.__table__.insert(), rows)
    s = run(engine, units=["KG"], exact=True).total
    assert (
        s.received,
        s.resolved_on_time,
        s.resolved_late,
        s.pending_not_due,
        s.pending_overdue,
        s.closed_without_reply,
        s.forwarded,
    ) == (7, 2, 1, 2, 2, 1, 1)
    assert s.by_type["khieu_nai"] == {
        "received": 2,
        "resolved_on_time": 1,
        "resolved_late": 1,
        "return_email": 2,
    }
    # first replies by period end: forwarded the same day (0 wd), answered on the due day
    # (2 wd) and early on Saturday 29/3 (still 2 wd: Saturday is no working day); the answer
    # of 2/4 comes after the period end and does not count
    assert s.first_reply_days == {0: 1, 2: 2}
    assert percentile(s.first_reply_days, 0.5) == 2


def test_periods_follow_the_thads_year() -> None:
    assert thads_year(2025) == Period(date(2024, 10, 1), date(2025, 9, 30))
    assert thads_half_year(2025) == Period(date(2024, 10, 1), date(2025, 3, 31))
    assert current_thads_year(date(2025, 10, 2)) == thads_year(2026)
    assert current_thads_year(date(2025, 9, 30)) == thads_year(2025)


def test_percentile_is_nearest_rank() -> None:
    hist = {0: 5, 1: 3, 4: 1, 9: 1}
    assert percentile(hist, 0.5) == 0
    assert percentile(hist, 0.9) == 4
    assert percentile({}, 0.5) is None
    assert percentile({3: 1}, 0.9) == 3


def test_default_units_follow_the_unit_file(engine: Engine) -> None:
    report = run(engine, Period(date(2026, 1, 1), date(2026, 3, 31)))
    codes = [u.unit.code for u in report.units]
    assert "AG" in codes and "KG" not in codes  # KG ended with the 2025 reorganisation
    assert all(u.stats.is_empty() for u in report.units)


def test_an_unknown_unit_is_refused_with_its_code(engine: Engine) -> None:
    from mailbot.errors import ExportError

    with pytest.raises(ExportError, match="không có đơn vị mã KG-XX"):
        run(engine, units=["KG-XX"])


def test_groups_too_large_for_packed_sums_are_counted_field_by_field(
    engine: Engine, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailbot.report import stats

    # One bit per field: any (day, unit, type) group of 2 or more rows overflows the packing.
    for name in ("_OUTCOMES", "_RECEIVED"):
        packer = getattr(stats, name)
        monkeypatch.setattr(stats, name, stats._Packed(packer.label, packer.names, bits=1))
    modes: list[bool] = []
    values = stats._Packed.values

    def spy(self: Any, r: Any, exact: bool) -> list[int]:
        modes.append(exact)
        return values(self, r, exact)

    monkeypatch.setattr(stats._Packed, "values", spy)
    by_code = {u.unit.code: u.stats for u in run(engine).units}
    assert modes and all(modes)  # the exact path was taken
    for unit in UNITS:
        assert by_code[unit] == expected(register, PERIOD, unit), unit


def test_a_report_in_another_zone_computes_the_dates_itself(
    engine: Engine, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stored report dates are Vietnamese dates; 23:00 in Hanoi is the next day in Tokyo,
    # so using them here would move replies and closings to the wrong day.
    tokyo = ZoneInfo("Asia/Tokyo")
    monkeypatch.setitem(globals(), "TZ", tokyo)  # the independent count follows the zone
    report = compute(
        engine,
        PERIOD,
        tz=tokyo,
        calendar=WorkCalendar.load(RULES),
        rules_dir=str(RULES),
        mailbox_units=MAILBOXES,
    )
    by_code = {u.unit.code: u.stats for u in report.units}
    for unit in UNITS:
        assert by_code[unit] == expected(register, PERIOD, unit), unit
