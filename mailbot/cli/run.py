"""`mailbot run`: the service (poll mailboxes, send the outbox, reminders) until SIGTERM."""

from __future__ import annotations

import click

from mailbot.cli._common import get_config


@click.command("run", help=(
    "Chạy dịch vụ: đọc hộp thư định kỳ, gửi thư trong hàng đợi, gửi nhắc hạn. "
    "Dừng an toàn bằng Ctrl+C hoặc SIGTERM."))
@click.pass_context
def run_cmd(ctx: click.Context) -> None:
    from mailbot.scheduler import run_service

    config = get_config(ctx)
    click.echo(f"mailbot đang chạy với {config.source_file}; nhấn Ctrl+C để dừng.", err=True)
    run_service(config)
    click.echo("mailbot đã dừng.", err=True)


def register(group: click.Group) -> None:
    group.add_command(run_cmd)
