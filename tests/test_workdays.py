"""Working-day calendar: the `holidays` package plus rules/calendar.toml (DOMAIN.md §7)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import holidays
import pytest

from mailbot.config import PROJECT_DIR
from mailbot.errors import RuleError
from mailbot.workdays import WorkCalendar

RULES = PROJECT_DIR / "rules"
D = date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load(RULES)


def write_calendar(tmp_path: Path, body: str) -> Path:
    (tmp_path / "calendar.toml").write_text("version = 1\n" + body, encoding="utf-8")
    return tmp_path


# DOMAIN.md §7.5, first table: effective receipt + N working days → due.
SECTION_7_5_ARITHMETIC = [
    (D(2017, 1, 24), 5, D(2017, 2, 7)),  # across Tết 2017
    (D(2017, 4, 28), 5, D(2017, 5, 9)),  # 30/4 (Sunday) → nghỉ bù Tuesday 2/5
    (D(2018, 2, 12), 5, D(2018, 2, 26)),  # across Tết 2018
    (D(2018, 12, 28), 3, D(2019, 1, 4)),  # 31/12/2018 swapped, 1/1 holiday
    (D(2019, 1, 3), 2, D(2019, 1, 5)),  # lands on the làm bù Saturday
    (D(2024, 4, 26), 5, D(2024, 5, 7)),  # 29/4 swap, 30/4, 1/5; Saturday 4/5 works
    (D(2025, 4, 25), 1, D(2025, 4, 26)),  # Saturday 26/4/2025 is a working day
    (D(2025, 4, 29), 5, D(2025, 5, 9)),  # 30/4, 1/5, 2/5 (swap)
    (D(2025, 8, 29), 5, D(2025, 9, 9)),  # 1/9, 2/9
    (D(2026, 1, 1), 5, D(2026, 1, 9)),  # needs the 2/1/2026 swap missing from the package
    (D(2026, 2, 13), 5, D(2026, 2, 27)),  # across Tết 2026 (the current year)
]


@pytest.mark.parametrize(("start", "n", "due"), SECTION_7_5_ARITHMETIC)
def test_it_adds_working_days_as_domain_7_5_says(
    cal: WorkCalendar, start: date, n: int, due: date
) -> None:
    assert cal.add_working_days(start, n) == due
    assert cal.working_days_between(start, due) == n


# DOMAIN.md §7.2: weekdays off and làm bù Saturdays per year (civil servants).
DAYS_OFF_7_2 = {
    2017: [D(2017, 1, 2), D(2017, 1, 26), D(2017, 1, 27), D(2017, 1, 30), D(2017, 1, 31),
           D(2017, 2, 1), D(2017, 4, 6), D(2017, 5, 1), D(2017, 5, 2), D(2017, 9, 4)],
    2018: [D(2018, 1, 1), D(2018, 2, 14), D(2018, 2, 15), D(2018, 2, 16), D(2018, 2, 19),
           D(2018, 2, 20), D(2018, 4, 25), D(2018, 4, 30), D(2018, 5, 1), D(2018, 9, 3),
           D(2018, 12, 31)],
    2024: [D(2024, 1, 1), D(2024, 2, 8), D(2024, 2, 9), D(2024, 2, 12), D(2024, 2, 13),
           D(2024, 2, 14), D(2024, 4, 18), D(2024, 4, 29), D(2024, 4, 30), D(2024, 5, 1),
           D(2024, 9, 2), D(2024, 9, 3)],
    2025: [D(2025, 1, 1), D(2025, 1, 27), D(2025, 1, 28), D(2025, 1, 29), D(2025, 1, 30),
           D(2025, 1, 31), D(2025, 4, 7), D(2025, 4, 30), D(2025, 5, 1), D(2025, 5, 2),
           D(2025, 9, 1), D(2025, 9, 2)],
    2026: [D(2026, 1, 1), D(2026, 1, 2), D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18),
           D(2026, 2, 19), D(2026, 2, 20), D(2026, 4, 27), D(2026, 4, 30), D(2026, 5, 1),
           D(2026, 8, 31), D(2026, 9, 1), D(2026, 9, 2), D(2026, 11, 24)],
}
LAM_BU_7_2 = {
    2017: [],
    2018: [],
    2024: [D(2024, 5, 4)],
    2025: [D(2025, 4, 26)],
    2026: [D(2026, 1, 10), D(2026, 8, 22)],
}


@pytest.mark.parametrize("year", sorted(DAYS_OFF_7_2))
def test_its_weekdays_off_and_lam_bu_days_match_domain_7_2(cal: WorkCalendar, year: int) -> None:
    listed = cal.days_off(year)
    assert [i.day for i in listed if not i.working] == DAYS_OFF_7_2[year]
    # 5/1/2019 is the làm bù day of the 2018 swap, listed under 2019.
    assert [i.day for i in listed if i.working] == LAM_BU_7_2[year]


def test_the_lam_bu_saturday_of_2018_is_a_working_day_in_2019(cal: WorkCalendar) -> None:
    assert cal.is_working_day(D(2019, 1, 5))
    assert not cal.is_working_day(D(2018, 12, 31))
    assert "05/01/2019" in (cal.why_off(D(2018, 12, 31)) or "")


def test_the_package_and_the_rules_file_agree_on_every_swap_the_package_has(
    cal: WorkCalendar,
) -> None:
    # The rules file repeats the package's swaps as the office's register; they must agree.
    # Years checked against the notices (DOMAIN.md §7.2); a later package release may add
    # swaps for years after these, which the office then adds to the file.
    package = holidays.country_holidays("VN", years=range(2017, 2027), language="vi")
    package_sat = {d for d in package.weekend_workdays if d.year <= 2026}
    listed = {e.workday for e in cal.entries if e.kind == "swap"}
    assert package_sat <= listed | {D(2014, 12, 27)}
    for e in cal.entries:
        if e.kind == "swap" and e.workday in package_sat:
            assert e.day_off in package, f"{e.day_off} should be a day off in the package too"


def test_the_2026_new_year_swap_is_what_the_package_misses(cal: WorkCalendar) -> None:
    # holidays 0.109 lacks this swap; the overlay adds it (and stays right if a later
    # release adds it too).
    assert not cal.is_working_day(D(2026, 1, 2))
    assert cal.is_working_day(D(2026, 1, 10))
    info = cal.explain(D(2026, 1, 2))
    assert info.kind == "swap" and info.tag == "[V]"
    assert "Thứ Bảy 10/01/2026" in (cal.why_off(D(2026, 1, 2)) or "")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2017, 1, 28), "Tết Nguyên Đán"),  # a Saturday in Tết: the holiday name wins
        (D(2026, 2, 17), "Tết Nguyên Đán"),
        (D(2026, 4, 27), "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"),  # lunar 10/3 fell on Sunday
        (D(2026, 9, 2), "Quốc khánh"),
        (D(2026, 11, 21), "Thứ Bảy"),
        (D(2026, 11, 22), "Chủ nhật"),
    ],
)
def test_it_says_why_a_day_is_off_in_vietnamese(
    cal: WorkCalendar, day: date, expected: str
) -> None:
    assert cal.why_off(day) == expected
    assert not cal.is_working_day(day)


def test_a_working_day_has_no_reason(cal: WorkCalendar) -> None:
    assert cal.why_off(D(2026, 11, 23)) is None
    assert cal.is_working_day(D(2026, 11, 23))


def test_lunar_holidays_come_from_the_package_for_next_year(cal: WorkCalendar) -> None:
    # Tết 2027 (Đinh Mùi): Thứ Sáu 5/2 giao thừa ... nothing typed by hand in rules/.
    assert not any(d.year == 2027 and d.month == 2 for e in cal.entries for d in e.dates())
    assert not cal.is_working_day(D(2027, 2, 8))
    assert "Tết" in (cal.why_off(D(2027, 2, 8)) or "")


def test_working_days_between_counts_the_end_not_the_start(cal: WorkCalendar) -> None:
    assert cal.working_days_between(D(2026, 11, 20), D(2026, 11, 23)) == 1  # Fri → Mon
    assert cal.working_days_between(D(2026, 11, 23), D(2026, 11, 23)) == 0
    assert cal.working_days_between(D(2026, 11, 27), D(2026, 11, 23)) == -3
    assert cal.add_working_days(D(2026, 11, 27), -3) == D(2026, 11, 23)
    assert cal.add_working_days(D(2026, 11, 27), 0) == D(2026, 11, 27)


def test_disabling_an_uncertain_entry_reverts_what_the_package_has(tmp_path: Path) -> None:
    rules = write_calendar(
        tmp_path,
        """
[[entry]]
kind = "day_off"
date = 2026-11-24
name = "Ngày Văn hóa Việt Nam"
source = "NQ 80-NQ/TW"
tag = "[P]"
enabled = false

[[entry]]
kind = "swap"
day_off = 2026-08-31
workday = 2026-08-22
name = "Nghỉ hoán đổi dịp Quốc khánh 2026"
source = "chưa xác nhận"
tag = "[P]"
enabled = false
""",
    )
    cal = WorkCalendar.load(rules)
    assert cal.is_working_day(D(2026, 11, 24))
    assert cal.is_working_day(D(2026, 8, 31))
    assert not cal.is_working_day(D(2026, 8, 22))
    # DOMAIN.md §7.5 "else" columns: Thu 3/9 and Wed 25/11.
    assert cal.add_working_days(D(2026, 8, 28), 2) == D(2026, 9, 3)
    assert cal.add_working_days(D(2026, 11, 23), 2) == D(2026, 11, 25)


def test_an_office_can_add_a_new_notice(tmp_path: Path) -> None:
    rules = write_calendar(
        tmp_path,
        """
[[entry]]
kind = "swap"
day_off = 2027-04-30
workday = 2027-04-24
name = "Nghỉ hoán đổi dịp 30/4/2027"
source = "Thông báo số 1/TB-BNV (ví dụ)"
tag = "[V]"

[[entry]]
kind = "working_day"
date = 2027-05-08
name = "Ngày làm việc bù"
source = "ví dụ"
tag = "[A]"

[[entry]]
kind = "not_day_off"
date = 2027-11-24
name = "Chưa áp dụng"
source = "ví dụ"
tag = "[A]"
""",
    )
    cal = WorkCalendar.load(rules)
    assert cal.is_working_day(D(2027, 4, 24)) and cal.is_working_day(D(2027, 5, 8))
    assert cal.why_off(D(2027, 4, 30)) is not None and "Thông báo số 1/TB-BNV" in (
        cal.why_off(D(2027, 4, 30)) or ""
    )
    assert cal.is_working_day(D(2027, 11, 24))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[entry]]\nkind = "holiday"\ndate = 2027-01-01\nname = "x"\nsource = "y"\n', "kind"),
        ('[[entry]]\nkind = "day_off"\ndate = "2027-01-04"\nname = "x"\nsource = "y"\n',
         "ngày TOML"),
        ('[[entry]]\nkind = "day_off"\ndate = 2027-01-04\nname = "x"\n', "'source'"),
        ('[[entry]]\nkind = "swap"\nday_off = 2027-01-09\nworkday = 2027-01-16\nname = "x"\n'
         'source = "y"\n', "không phải ngày thường"),
        ('[[entry]]\nkind = "day_off"\ndate = 2027-01-04\nname = "x"\nsource = "y"\n'
         'tag = "V"\n', "tag"),
        ("[[entry]\n", "cú pháp TOML"),
    ],
)
def test_a_malformed_rules_file_names_the_file_and_the_entry(
    tmp_path: Path, body: str, message: str
) -> None:
    rules = write_calendar(tmp_path, body)
    with pytest.raises(RuleError, match=message) as err:
        WorkCalendar.load(rules)
    assert "calendar.toml" in str(err.value)


def test_a_missing_rules_folder_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="rules_dir"):
        WorkCalendar.load(tmp_path / "nowhere")


def test_load_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    rules = write_calendar(tmp_path, "")
    first = WorkCalendar.load(rules)
    assert WorkCalendar.load(rules) is first
    import os

    write_calendar(
        tmp_path,
        '[[entry]]\nkind = "day_off"\ndate = 2027-01-04\nname = "x"\nsource = "y"\n',
    )
    st = (tmp_path / "calendar.toml").stat()
    os.utime(tmp_path / "calendar.toml", ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    second = WorkCalendar.load(rules)
    assert second is not first
    assert not second.is_working_day(D(2027, 1, 4))
