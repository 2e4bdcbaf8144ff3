"""`mailbot stats`: period statistics and Biểu số 2 as JSON, CSV, XLSX or HTML; `stats merge`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from mailbot.cli._common import get_config, get_db
from mailbot.config import ImapMailbox, MaildirMailbox
from mailbot.errors import ExportError
from mailbot.report.export import FORMATS, check_report, render
from mailbot.report.form import load_form
from mailbot.report.merge import merge_reports, read_export
from mailbot.report.periods import (
    Period,
    current_thads_year,
    parse_date,
    thads_half_year,
    thads_year,
)
from mailbot.report.stats import Report, compute

STEPS = 12  # roughly: 5 query steps, a few export steps; only drives the bar


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr when it is a terminal; silent otherwise (pipes, cron, tests)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _msg: None
        return
    with click.progressbar(length=STEPS, label="Đang lập báo cáo", file=sys.stderr) as bar:

        def step(msg: str) -> None:
            bar.label = msg
            bar.update(1)

        yield step


def _period(start: str | None, end: str | None, year: int | None, half: int | None) -> Period:
    if year is not None:
        return thads_year(year)
    if half is not None:
        return thads_half_year(half)
    default = current_thads_year(date.today())
    return Period(
        parse_date(start) if start else default.start, parse_date(end) if end else default.end
    )


def _write(data: bytes, output: str | None, fmt: str) -> None:
    if output and output != "-":
        try:
            Path(output).write_bytes(data)
        except OSError as exc:
            raise ExportError(f"không ghi được tệp {output}: {exc.strerror}") from None
        click.echo(f"Đã ghi báo cáo vào {output}", err=True)
        return
    if fmt in ("xlsx",) and sys.stdout.isatty():
        raise ExportError("tệp XLSX không in ra màn hình được; hãy thêm --output TỆP.xlsx")
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


def _warn(report: Report, ctx: click.Context) -> None:
    config = get_config(ctx)
    for problem in check_report(report, load_form(config.rules_path)):
        click.echo(f"Cảnh báo: {problem}", err=True)


@click.group(
    "stats",
    invoke_without_command=True,
    help=(
        "Thống kê theo kỳ: số yêu cầu tiếp nhận, giải quyết đúng hạn/quá hạn, đang giải quyết, "
        "thư tự động và thư rác đã lọc, thời gian trả lời, mức độ hài lòng, độ chính xác phân "
        "loại; Biểu số 2 (cơ chế một cửa).\n\n"
        "Mặc định: năm thống kê THADS hiện tại (01/10 – 30/9). Ngày viết 2025-03-31 hoặc "
        "31/03/2025. Ví dụ:\n\n"
        "  mailbot stats --half 2025 --unit KG --format xlsx --output bao-cao.xlsx\n\n"
        "  mailbot stats merge KG.json KG-RACHGIA.json --format html --output tinh.html"
    ),
)
@click.option("--from", "start", metavar="NGÀY", help="Ngày đầu kỳ (tính theo ngày tiếp nhận).")
@click.option("--to", "end", metavar="NGÀY", help="Ngày cuối kỳ (trạng thái tính đến hết ngày).")
@click.option(
    "--year", type=int, metavar="NĂM", help="Năm thống kê THADS: 01/10/(NĂM-1) – 30/9/NĂM."
)
@click.option("--half", type=int, metavar="NĂM", help="Sáu tháng đầu: 01/10/(NĂM-1) – 31/3/NĂM.")
@click.option(
    "--unit",
    "units",
    multiple=True,
    metavar="MÃ",
    help="Đơn vị (lặp lại được). Cục gồm cả các Chi cục trực thuộc; mặc định: mọi đơn vị.",
)
@click.option("--exact", is_flag=True, help="Chỉ đúng các đơn vị nêu ở --unit, không gồm Chi cục.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="Định dạng kết quả.",
)
@click.option("--output", "-o", metavar="TỆP", help="Ghi vào tệp (mặc định: in ra màn hình).")
@click.option("--no-progress", is_flag=True, help="Không hiện thanh tiến độ.")
@click.pass_context
def stats(
    ctx: click.Context,
    start: str | None,
    end: str | None,
    year: int | None,
    half: int | None,
    units: tuple[str, ...],
    exact: bool,
    fmt: str,
    output: str | None,
    no_progress: bool,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from mailbot.workdays import WorkCalendar

    config = get_config(ctx)
    period = _period(start, end, year, half)
    engine = get_db(ctx)
    mailbox_units = {
        mb.name: mb.unit for mb in config.mailbox if isinstance(mb, ImapMailbox | MaildirMailbox)
    }
    with _progress(not no_progress) as step:
        report = compute(
            engine,
            period,
            tz=config.tz,
            calendar=WorkCalendar.load(config.rules_path),
            rules_dir=str(config.rules_path),
            units=list(units) or None,
            exact=exact,
            mailbox_units=mailbox_units,
            progress=step,
        )
        data = render(
            report,
            load_form(config.rules_path),
            fmt,
            templates_dir=config.templates_path,
            office_name=config.office.name if not units else "",
            progress=step,
        )
    _warn(report, ctx)
    _write(data, output, fmt)


@stats.command(
    "merge",
    help=(
        "Gộp các tệp JSON do `mailbot stats --format json` xuất ở từng đơn vị (Cục và các Chi "
        "cục) thành báo cáo của cả tỉnh. Các tệp phải cùng kỳ báo cáo; mỗi đơn vị chỉ có số "
        "liệu trong một tệp."
    ),
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="Định dạng kết quả.",
)
@click.option("--output", "-o", metavar="TỆP", help="Ghi vào tệp (mặc định: in ra màn hình).")
@click.pass_context
def merge(ctx: click.Context, files: tuple[str, ...], fmt: str, output: str | None) -> None:
    config = get_config(ctx)
    report = merge_reports([read_export(f) for f in files], names=files)
    data = render(
        report,
        load_form(config.rules_path),
        fmt,
        templates_dir=config.templates_path,
        office_name=config.office.name,
    )
    _warn(report, ctx)
    _write(data, output, fmt)


def register(group: click.Group) -> None:
    group.add_command(stats)
