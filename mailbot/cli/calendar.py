"""`mailbot calendar add|check|year`: working-day arithmetic on the civil servants' calendar.

Works without a configuration file: the rules folder is --rules, else the configured rules_dir,
else the project's rules/.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from mailbot.cli._common import echo_json
from mailbot.config import PROJECT_DIR, default_config_path, load_config
from mailbot.workdays import WEEKDAY_NAMES_VI, WorkCalendar, vi_date


def _rules_dir(ctx: click.Context, rules: str | None) -> Path:
    """--rules, else rules_dir of an existing config file, else the project's rules/."""
    if rules:
        return Path(rules)
    root = ctx.find_root()
    obj = root.obj or {}
    config_path = obj.get("config_path")
    if obj.get("config") is not None:
        return obj["config"].rules_path
    if config_path or default_config_path().exists():
        # An explicit or present config file must be valid: its rules_dir may differ.
        return load_config(config_path).rules_path
    return PROJECT_DIR / "rules"


def _parse_date(value: str) -> date:
    """ISO (2026-01-02) or Vietnamese (02/01/2026) date."""
    value = value.strip()
    try:
        if "/" in value:
            dd, mm, yyyy = value.split("/")
            return date(int(yyyy), int(mm), int(dd))
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"“{value}” không phải ngày hợp lệ; viết YYYY-MM-DD (2026-01-02) hoặc dd/mm/yyyy",
            param_hint="DATE",
        ) from None


def _day_label(d: date) -> str:
    return f"{WEEKDAY_NAMES_VI[d.weekday()]} {vi_date(d)}"


@click.group(
    "calendar",
    help="Lịch ngày làm việc của cán bộ, công chức: ngày lễ, Tết, nghỉ bù, ngày làm bù.",
)
def calendar_group() -> None:
    pass


_rules_option = click.option(
    "--rules",
    "rules",
    type=click.Path(file_okay=False),
    default=None,
    help="Thư mục quy tắc chứa calendar.toml (mặc định: rules_dir trong cấu hình, hoặc rules/ "
    "của dự án).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")


@calendar_group.command(
    "add",
    help="In ngày (ISO) sau DATE N ngày làm việc, không tính ngày DATE. "
    "Ví dụ: mailbot calendar add 2026-01-01 5 → 2026-01-09.",
)
@click.argument("date_str", metavar="DATE")
@click.argument("n", type=int)
@_rules_option
@_json_option
@click.pass_context
def add_cmd(ctx: click.Context, date_str: str, n: int, rules: str | None, as_json: bool) -> None:
    start = _parse_date(date_str)
    cal = WorkCalendar.load(_rules_dir(ctx, rules))
    result = cal.add_working_days(start, n)
    if as_json:
        echo_json(
            {
                "date": start.isoformat(),
                "working_days": n,
                "result": result.isoformat(),
                "weekday": WEEKDAY_NAMES_VI[result.weekday()],
            }
        )
    else:
        click.echo(result.isoformat())


@calendar_group.command(
    "check",
    help="Cho biết DATE có phải ngày làm việc không; nếu không, vì sao (ngày lễ, cuối tuần, "
    "nghỉ hoán đổi). Mã thoát 0: ngày làm việc, 1: ngày nghỉ.",
)
@click.argument("date_str", metavar="DATE")
@_rules_option
@_json_option
@click.pass_context
def check_cmd(ctx: click.Context, date_str: str, rules: str | None, as_json: bool) -> None:
    d = _parse_date(date_str)
    cal = WorkCalendar.load(_rules_dir(ctx, rules))
    info = cal.explain(d)
    if as_json:
        echo_json(info.as_dict())
    elif info.working:
        extra = f" — {info.reason}" if info.reason else ""
        click.echo(f"{_day_label(d)}: ngày làm việc{extra}.")
    else:
        source = f" — theo {info.source}" if info.source and info.kind in ("swap", "extra") else ""
        click.echo(f"{_day_label(d)}: ngày nghỉ — {info.reason}{source}.")
    sys.exit(0 if info.working else 1)


@calendar_group.command(
    "year",
    help="Liệt kê các ngày nghỉ rơi vào ngày thường và các ngày làm bù của năm YEAR.",
)
@click.argument("year", type=click.IntRange(1990, 2100))
@_rules_option
@_json_option
@click.pass_context
def year_cmd(ctx: click.Context, year: int, rules: str | None, as_json: bool) -> None:
    cal = WorkCalendar.load(_rules_dir(ctx, rules))
    days = cal.days_off(year)
    if as_json:
        echo_json([i.as_dict() for i in days])
        return
    for i in days:
        state = "làm việc" if i.working else "nghỉ"
        click.echo(f"{_day_label(i.day)}  {state:8}  {i.reason}")


def register(group: click.Group) -> None:
    group.add_command(calendar_group)
