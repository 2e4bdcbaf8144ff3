"""`mailbot calendar add|check|year` through click, with and without a config file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailbot.cli import cli
from mailbot.config import PROJECT_DIR


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # No config.toml in the working directory and no $MAILBOT_CONFIG: the CLI must still work.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAILBOT_CONFIG", raising=False)
    return CliRunner()


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2017-01-24", "5", "2017-02-07"),  # Tết 2017
        ("2018-02-12", "5", "2018-02-26"),  # Tết 2018
        ("2026-02-13", "5", "2026-02-27"),  # Tết 2026
        ("2026-01-01", "5", "2026-01-09"),  # 2/1/2026 swap from rules/calendar.toml
        ("25/04/2025", "1", "2025-04-26"),  # Vietnamese date; làm bù Saturday
    ],
)
def test_calendar_add_prints_the_iso_date(
    runner: CliRunner, start: str, n: str, expected: str
) -> None:
    result = runner.invoke(cli, ["calendar", "add", start, n])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_calendar_add_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["calendar", "add", "2026-11-23", "2", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "date": "2026-11-23",
        "working_days": 2,
        "result": "2026-11-26",
        "weekday": "Thứ Năm",
    }


@pytest.mark.parametrize(
    ("day", "code", "words"),
    [
        ("2026-11-23", 0, ["Thứ Hai 23/11/2026", "ngày làm việc"]),
        ("2026-01-10", 0, ["ngày làm việc", "làm bù", "02/01/2026"]),  # swapped Saturday
        ("2026-02-17", 1, ["ngày nghỉ", "Tết Nguyên Đán"]),
        ("2026-11-21", 1, ["ngày nghỉ", "Thứ Bảy"]),
        ("2026-01-02", 1, ["ngày nghỉ", "hoán đổi", "Thứ Bảy 10/01/2026", "Bộ Nội vụ"]),
        ("2017-09-04", 1, ["Quốc khánh (nghỉ bù)"]),
    ],
)
def test_calendar_check_says_why_and_sets_the_exit_code(
    runner: CliRunner, day: str, code: int, words: list[str]
) -> None:
    result = runner.invoke(cli, ["calendar", "check", day])
    assert result.exit_code == code, result.output
    for word in words:
        assert word in result.output


def test_calendar_check_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["calendar", "check", "2026-11-24", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["working_day"] is False and data["kind"] == "extra" and data["tag"] == "[P]"
    assert data["reason"] == "Ngày Văn hóa Việt Nam"


def test_a_rules_folder_can_be_given(runner: CliRunner, tmp_path: Path) -> None:
    rules = tmp_path / "myrules"
    rules.mkdir()
    (rules / "calendar.toml").write_text(
        'version = 1\n[[entry]]\nkind = "day_off"\ndate = 2026-11-24\nname = "x"\n'
        'source = "y"\nenabled = false\n',
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["calendar", "check", "2026-11-24", "--rules", str(rules)])
    assert result.exit_code == 0, result.output


def test_a_config_file_decides_the_rules_folder(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(f'rules_dir = "{tmp_path / "none"}"\n', "utf-8")
    result = runner.invoke(cli, ["calendar", "check", "2026-11-24"])
    assert result.exit_code != 0
    assert "calendar.toml" in str(result.exception) or "calendar.toml" in result.output
    (tmp_path / "config.toml").write_text(f'rules_dir = "{PROJECT_DIR / "rules"}"\n', "utf-8")
    assert runner.invoke(cli, ["calendar", "check", "2026-11-23"]).exit_code == 0


def test_a_bad_date_is_explained_in_vietnamese(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["calendar", "check", "31/02/2026"])
    assert result.exit_code == 2
    assert "không phải ngày hợp lệ" in result.output


def test_help_and_usage_errors_are_in_vietnamese(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["calendar", "add", "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Cách dùng: ")
    assert "Tùy chọn:" in result.output and "Xem hướng dẫn này rồi thoát." in result.output
    assert "Show this message" not in result.output
    result = runner.invoke(cli, ["calendar", "add", "2026-01-01"])
    assert result.exit_code == 2
    assert "Lỗi: Thiếu tham số 'N'." in result.output
    assert "Xem hướng dẫn: 'cli calendar add --help'." in result.output
    result = runner.invoke(cli, ["calendar", "year", "--rules", "/", "1800"])
    assert result.exit_code == 2 and "nằm ngoài khoảng" in result.output


def test_the_rules_file_error_is_in_vietnamese(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["calendar", "check", "2026-11-24", "--rules", str(tmp_path)])
    assert result.exit_code != 0
    text = str(result.exception) + result.output
    assert "không tìm thấy tệp lịch ngày làm việc" in text and "rules_dir" in text


def test_calendar_year_lists_days_off_and_lam_bu(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["calendar", "year", "2026", "--json"])
    assert result.exit_code == 0
    days = {d["date"]: d for d in json.loads(result.output)}
    assert days["2026-01-10"]["working_day"] is True
    assert days["2026-01-02"]["working_day"] is False
    assert "2026-11-24" in days
