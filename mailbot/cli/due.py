"""`mailbot due`: open dossiers that are overdue, due today or due on the next working day."""

from __future__ import annotations

from datetime import date, datetime

import click
from sqlmodel import Session

from mailbot.cli._common import echo_json, get_config, get_db
from mailbot.deadlines import DeadlinePolicy
from mailbot.dossier.models import REQUEST_TYPE_LABELS, STATUS_LABELS
from mailbot.reminders import RUNNING_STATUSES, open_dossiers
from mailbot.workdays import vi_date

STATE_LABELS = {
    "overdue": "Quá hạn",
    "due_today": "Đến hạn hôm nay",
    "due_soon": "Sắp đến hạn",
}


@click.command(
    "due",
    help="Liệt kê hồ sơ quá hạn, đến hạn hôm nay và đến hạn vào ngày làm việc kế tiếp "
    "(hồ sơ chờ bổ sung không tính vì thời hạn đang tạm dừng).",
)
@click.option("--unit", "unit", default=None, help="Chỉ đơn vị có mã này, ví dụ KG-RACHGIA.")
@click.option(
    "--date",
    "on",
    default=None,
    metavar="YYYY-MM-DD",
    help="Tính như thể hôm nay là ngày này (mặc định: hôm nay theo múi giờ cấu hình).",
)
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.pass_context
def due_cmd(ctx: click.Context, unit: str | None, on: str | None, as_json: bool) -> None:
    config = get_config(ctx)
    engine = get_db(ctx)
    policy = DeadlinePolicy.load(config.rules_path)
    if on:
        try:
            today = date.fromisoformat(on)
        except ValueError:
            raise click.BadParameter(
                f"“{on}” không phải ngày hợp lệ; viết YYYY-MM-DD", param_hint="--date"
            ) from None
    else:
        today = datetime.now(config.tz).date()
    with Session(engine) as session:
        dossiers = open_dossiers(session, unit)
    rows = []
    for d in dossiers:
        if d.status not in RUNNING_STATUSES or d.due_at is None:
            continue
        if policy.is_overdue(d.due_at, today):
            state = "overdue"
        elif policy.is_due_today(d.due_at, today):
            state = "due_today"
        elif policy.is_due_soon(d.due_at, today):
            state = "due_soon"
        else:
            continue
        rows.append(
            {
                "code": d.code,
                "unit": d.handling_unit,
                "request_type": d.request_type,
                "request_type_label": REQUEST_TYPE_LABELS.get(d.request_type, d.request_type),
                "due": d.due_at.isoformat(),
                "status": d.status,
                "status_label": STATUS_LABELS.get(d.status, d.status),
                "state": state,
                "state_label": STATE_LABELS[state],
                "working_days_left": policy.remaining_wd(d.due_at, today),
            }
        )
    if as_json:
        echo_json({"today": today.isoformat(), "unit": unit, "dossiers": rows})
        return
    where = f" của đơn vị {unit}" if unit else ""
    if not rows:
        click.echo(f"Không có hồ sơ{where} quá hạn hoặc sắp đến hạn ({vi_date(today)}).")
        return
    click.echo(f"Hồ sơ{where} cần chú ý ngày {vi_date(today)}:")
    for r in rows:
        click.echo(
            f"  {r['code']:<18} {r['unit']:<16} hạn {vi_date(date.fromisoformat(r['due']))}  "
            f"{r['state_label']:<16} {r['status_label']:<14} {r['request_type_label']}"
        )
    counts = {s: sum(1 for r in rows if r["state"] == s) for s in STATE_LABELS}
    click.echo(
        f"Tổng: {counts['overdue']} quá hạn, {counts['due_today']} đến hạn hôm nay, "
        f"{counts['due_soon']} sắp đến hạn."
    )


def register(group: click.Group) -> None:
    group.add_command(due_cmd)
