"""Reading rules/*.toml: Vietnamese errors naming the file, and the per-mtime cache."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from mailbot.deadlines import DeadlinePolicy
from mailbot.errors import RuleError
from mailbot.rulefiles import RulesCache, read_rules_toml
from mailbot.workdays import WorkCalendar


def _touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))


def test_reads_toml_and_returns_its_modification_time(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('version = 1\nname = "Lịch"\n', encoding="utf-8")
    data, mtime = read_rules_toml(path, "thử")
    assert data == {"version": 1, "name": "Lịch"}
    assert mtime == path.stat().st_mtime_ns


def test_a_missing_file_says_to_set_rules_dir(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="không tìm thấy tệp lịch ngày làm việc") as err:
        read_rules_toml(tmp_path / "calendar.toml", "lịch ngày làm việc")
    text = str(err.value)
    assert "rules_dir" in text and "calendar.toml" in text
    assert "không có tệp hoặc thư mục này" in text


def test_a_file_not_saved_as_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.toml"
    path.write_bytes(b'name = "H\xe0 N\xf4i"\n')  # Latin-1, as an old editor saves it
    with pytest.raises(RuleError, match="UTF-8") as err:
        read_rules_toml(path, "quy tắc thời hạn")
    assert str(path) in str(err.value)


def test_bad_toml_is_named_with_the_position(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text("[[entry]\n", encoding="utf-8")
    with pytest.raises(RuleError, match="cú pháp TOML") as err:
        read_rules_toml(path, "lịch ngày làm việc")
    assert "line 1" in str(err.value)


def test_a_folder_in_place_of_the_file_is_refused_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / "calendar.toml").mkdir()
    with pytest.raises(RuleError, match="không đọc được tệp"):
        read_rules_toml(tmp_path / "calendar.toml", "lịch ngày làm việc")


def test_cache_rebuilds_only_when_the_file_or_dependency_changes(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("n = 1\n", encoding="utf-8")
    cache: RulesCache[dict[str, object]] = RulesCache()
    builds: list[str] = []

    def build(data: dict[str, object], file: str) -> dict[str, object]:
        builds.append(file)
        return dict(data)

    first = cache.load(path, "thử", build)
    assert cache.load(path, "thử", build) is first
    assert len(builds) == 1
    path.write_text("n = 2\n", encoding="utf-8")
    _touch_later(path)
    second = cache.load(path, "thử", build)
    assert second == {"n": 2} and len(builds) == 2
    assert cache.load(path, "thử", build, depends="khác") is not second
    assert builds == [str(path)] * 3


def test_deadline_policy_follows_an_edited_calendar(tmp_path: Path) -> None:
    (tmp_path / "calendar.toml").write_text("", encoding="utf-8")
    (tmp_path / "deadlines.toml").write_text("[reply]\ndefault_wd = 2\n", encoding="utf-8")
    first = DeadlinePolicy.load(tmp_path)
    assert DeadlinePolicy.load(tmp_path) is first
    (tmp_path / "calendar.toml").write_text(
        '[[entry]]\nkind = "day_off"\ndate = 2027-01-04\nname = "x"\nsource = "y"\n',
        encoding="utf-8",
    )
    _touch_later(tmp_path / "calendar.toml")
    second = DeadlinePolicy.load(tmp_path)
    assert second is not first
    assert second.calendar is WorkCalendar.load(tmp_path)
    assert not second.calendar.is_working_day(date(2027, 1, 4))


def test_missing_deadlines_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "calendar.toml").write_text("", encoding="utf-8")
    with pytest.raises(RuleError, match="không tìm thấy tệp quy tắc thời hạn") as err:
        DeadlinePolicy.load(tmp_path)
    assert "deadlines.toml" in str(err.value) and "rules_dir" in str(err.value)
