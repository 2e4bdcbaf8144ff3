"""Deadline policy: effective receipt (office hours, cut-off), reply due dates, statutory limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailbot.config import PROJECT_DIR
from mailbot.deadlines import DeadlinePolicy
from mailbot.errors import RuleError

RULES = PROJECT_DIR / "rules"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
D = date


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return DeadlinePolicy.load(RULES)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


# DOMAIN.md §7.5, second table: default policy (+2 wd) with arrival times.
SECTION_7_5_ARRIVALS = [
    (vn(2017, 5, 31, 23, 30), D(2017, 6, 1), D(2017, 6, 5)),  # service start, after hours
    (vn(2017, 6, 3, 9, 0), D(2017, 6, 5), D(2017, 6, 7)),  # Saturday
    (vn(2017, 1, 25, 10, 0), D(2017, 1, 25), D(2017, 2, 3)),  # Tết 2017 inside
    (vn(2019, 1, 4, 16, 0), D(2019, 1, 5), D(2019, 1, 8)),  # next working day is làm bù
    (vn(2024, 4, 26, 15, 0), D(2024, 5, 2), D(2024, 5, 4)),  # 15:00 sharp is after cut-off
    (vn(2025, 4, 25, 16, 10), D(2025, 4, 26), D(2025, 4, 29)),  # Friday evening
    (datetime(2025, 4, 25, 8, 30, tzinfo=UTC), D(2025, 4, 26), D(2025, 4, 29)),  # 15:30 VN
    (vn(2025, 12, 31, 15, 30), D(2026, 1, 5), D(2026, 1, 7)),  # raw package: 2/1 → 6/1, wrong
    (vn(2026, 2, 12, 14, 59), D(2026, 2, 12), D(2026, 2, 23)),  # Tết 2026
    (vn(2026, 2, 12, 15, 1), D(2026, 2, 13), D(2026, 2, 24)),
    (vn(2026, 8, 28, 9, 0), D(2026, 8, 28), D(2026, 9, 4)),  # needs the 31/8 swap [P]
    (vn(2026, 11, 23, 10, 0), D(2026, 11, 23), D(2026, 11, 26)),  # needs 24/11 [P]
]


@pytest.mark.parametrize(("arrived", "effective", "due"), SECTION_7_5_ARRIVALS)
@pytest.mark.parametrize("request_type", ["yeu_cau_thi_hanh_an", "khieu_nai", "hoi_dap"])
def test_it_dates_receipt_and_reply_as_domain_7_5_says(
    policy: DeadlinePolicy, arrived: datetime, effective: date, due: date, request_type: str
) -> None:
    got = policy.effective_receipt(arrived, VN)
    assert got == effective
    assert policy.reply_due(request_type, got) == due


def test_mail_on_a_friday_evening_counts_on_monday(policy: DeadlinePolicy) -> None:
    assert policy.effective_receipt(vn(2026, 11, 20, 19, 45), VN) == D(2026, 11, 23)


def test_mail_during_tet_counts_on_the_first_day_back(policy: DeadlinePolicy) -> None:
    for day in range(14, 23):  # Saturday 14/2 to Sunday 22/2/2026
        assert policy.effective_receipt(vn(2026, 2, day, 10, 0), VN) == D(2026, 2, 23)
    # Tết 2018 too: Wednesday 14/2 (29 Tết) → Wednesday 21/2.
    assert policy.effective_receipt(vn(2018, 2, 14, 9, 0), VN) == D(2018, 2, 21)


def test_early_morning_and_lunch_count_for_the_same_day(policy: DeadlinePolicy) -> None:
    assert policy.effective_receipt(vn(2026, 11, 23, 5, 0), VN) == D(2026, 11, 23)
    assert policy.effective_receipt(vn(2026, 11, 23, 12, 15), VN) == D(2026, 11, 23)
    assert policy.effective_receipt(vn(2026, 11, 23, 15, 0), VN) == D(2026, 11, 25)


def test_naive_arrival_times_are_utc_as_stored_in_the_database(policy: DeadlinePolicy) -> None:
    # 07:59 UTC = 14:59 in Vietnam; 08:00 UTC = 15:00, the cut-off.
    assert policy.effective_receipt(datetime(2026, 11, 23, 7, 59), VN) == D(2026, 11, 23)
    assert policy.effective_receipt(datetime(2026, 11, 23, 8, 0), VN) == D(2026, 11, 25)


def test_machine_mail_and_spam_have_no_reply_deadline(policy: DeadlinePolicy) -> None:
    assert policy.reply_due("tu_dong", D(2026, 11, 23)) is None
    assert policy.reply_due("thu_rac", D(2026, 11, 23)) is None


def write_rules(tmp_path: Path, deadlines: str) -> Path:
    (tmp_path / "calendar.toml").write_text(
        (RULES / "calendar.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "deadlines.toml").write_text(deadlines, encoding="utf-8")
    return tmp_path


def test_office_hours_and_reply_days_are_per_unit_and_type(tmp_path: Path) -> None:
    rules = write_rules(
        tmp_path,
        """
[reply]
default_wd = 2
[reply.types]
khieu_nai = 1
[office_hours.default]
cutoff = "15:00"
[office_hours.units.KG-PHUQUOC]
periods = [["07:30", "11:30"], ["13:00", "16:00"]]
cutoff = "16:00"
""",
    )
    policy = DeadlinePolicy.load(rules)
    at = vn(2026, 11, 23, 15, 30)
    assert policy.effective_receipt(at, VN, "KG-PHUQUOC") == D(2026, 11, 23)
    assert policy.effective_receipt(at, VN, "KG") == D(2026, 11, 25)
    assert policy.reply_due("khieu_nai", D(2026, 11, 23)) == D(2026, 11, 25)
    assert policy.reply_due("hoi_dap", D(2026, 11, 23)) == D(2026, 11, 26)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[reply]\ndefault_wd = 6\n", "từ 1 đến 5"),
        ("[reply.types]\nkhieu_nai = 0\n", "từ 1 đến 5"),
        ("[reply.types]\nkhieu = 2\n", "loại yêu cầu không tồn tại"),
        ('[office_hours.default]\ncutoff = "3pm"\n', "HH:MM"),
        ('[[statutory]]\nkey = "x"\nname = "x"\namount = 5\nunit = "tuan"\nstart = "s"\n'
         'basis = "b"\ntag = "[V]"\n', "'unit'"),
        ("[timezone]\n", "khóa cấp ngoài cùng"),
    ],
)
def test_a_wrong_deadline_rule_is_refused_with_the_file_named(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(RuleError, match=message) as err:
        DeadlinePolicy.load(write_rules(tmp_path, body))
    assert "deadlines.toml" in str(err.value)


def test_statutory_limits_carry_amount_unit_and_legal_basis(policy: DeadlinePolicy) -> None:
    thi_hanh = policy.statutory("yeu_cau_thi_hanh_an")
    assert [(x.amount, x.unit) for x in thi_hanh] == [(5, "wd"), (5, "wd")]
    assert "Điều 36" in thi_hanh[0].basis and thi_hanh[0].tag == "[V]"
    assert thi_hanh[0].text == "05 ngày làm việc"
    xac_nhan = policy.statutory("xac_nhan_ket_qua")
    assert [(x.amount, x.unit, x.basis) for x in xac_nhan] == [
        (5, "wd", "Điều 53 Luật Thi hành án dân sự")
    ]
    khieu_nai = {x.key: x for x in policy.statutory("khieu_nai")}
    assert khieu_nai["thu_ly_khieu_nai_lan_dau"].text == "05 ngày làm việc"
    assert khieu_nai["thoi_hieu_khieu_nai_truoc_bien_phap"].unit == "ngay"
    assert all(x.tag in ("[P]", "[GK]") for x in policy.statutory("to_cao"))
    assert policy.statutory("hoi_dap") == []
    assert policy.statutory_by_key("thoi_hieu_yeu_cau").unit == "nam"
    assert policy.statutory_by_key("thoi_hieu_yeu_cau").as_dict()["unit_label"] == "năm"


def test_calendar_day_limits_end_on_a_working_day(policy: DeadlinePolicy) -> None:
    fifteen = policy.statutory_by_key("thoi_hieu_khieu_nai_truoc_bien_phap")
    # 15 days after Friday 6/2/2026 is Saturday 21/2 (Tết break) → Monday 23/2 (BLDS Điều 148).
    assert policy.statutory_due(fifteen, D(2026, 2, 6)) == D(2026, 2, 23)
    five_wd = policy.statutory_by_key("ra_qd_thi_hanh_an")
    assert policy.statutory_due(five_wd, D(2026, 2, 13)) == D(2026, 2, 27)


def test_it_tells_due_today_due_soon_and_overdue(policy: DeadlinePolicy) -> None:
    friday, monday, tuesday = D(2026, 11, 20), D(2026, 11, 23), D(2026, 11, 24)
    assert policy.is_due_soon(monday, friday)  # next working day
    assert not policy.is_due_soon(D(2026, 11, 25), friday)
    assert policy.is_due_soon(D(2026, 11, 25), monday)  # 24/11 is a day off in between
    assert policy.is_due_today(monday, monday) and not policy.is_due_soon(monday, monday)
    assert policy.is_overdue(friday, monday) and not policy.is_overdue(monday, monday)
    assert not policy.is_overdue(None, tuesday)


def test_a_paused_deadline_carries_the_remaining_working_days(policy: DeadlinePolicy) -> None:
    # Received Monday 9/11/2026, due Wednesday 11/11; paused Monday 9/11 with 2 wd left.
    # Supplement counts on Monday 16/11 → due Wednesday 18/11.
    assert policy.resume_due(D(2026, 11, 11), D(2026, 11, 9), D(2026, 11, 16)) == D(2026, 11, 18)
    # Paused on Tuesday 10/11 (1 wd left), resumed Monday 23/11 → Wednesday 25/11 (24/11 off).
    assert policy.resume_due(D(2026, 11, 11), D(2026, 11, 10), D(2026, 11, 23)) == D(2026, 11, 25)
    # Paused on the due date or later: at least one working day after the supplement.
    assert policy.resume_due(D(2026, 11, 11), D(2026, 11, 12), D(2026, 11, 16)) == D(2026, 11, 17)
