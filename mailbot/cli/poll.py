"""`mailbot poll --once`: fetch and process all new mail of every mailbox, send the outbox."""

from __future__ import annotations

import click

from mailbot.cli._common import echo_json, get_config, get_db

ACTION_LABELS = {
    "new_dossier": "hồ sơ mới",
    "follow_up": "thư bổ sung vào hồ sơ",
    "machine": "thư tự động (không trả lời)",
    "spam": "thư rác (không trả lời)",
    "bounce": "thư báo lỗi gửi, đã gắn vào hồ sơ",
    "duplicate": "đã xử lý trước đó, bỏ qua",
    "quarantined": "cách ly, cần cán bộ xem",
}


@click.command("poll", help="Đọc thư mới của mọi hộp thư, lập hồ sơ, gửi thư trong hàng đợi.")
@click.option("--once", is_flag=True, default=True, show_default=True,
              help="Chạy một lượt rồi thoát (mặc định). Dịch vụ chạy liên tục: `mailbot run`.")
@click.option("--no-send", is_flag=True, help="Chỉ đọc và lập hồ sơ, chưa gửi thư đi.")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.pass_context
def poll_cmd(ctx: click.Context, once: bool, no_send: bool, as_json: bool) -> None:
    from mailbot.pipeline import poll_once

    config = get_config(ctx)
    engine = get_db(ctx)
    result = poll_once(config, engine, send=not no_send)
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(f"Đã xử lý {len(result.outcomes)} thư.")
        for action, count in sorted(result.counts().items()):
            click.echo(f"  {ACTION_LABELS.get(action, action)}: {count}")
        click.echo(f"Thư đã gửi: {result.sent}; chờ gửi lại: {result.send_retried}; "
                   f"gửi hỏng: {result.send_failed}")
        for err in result.errors:
            click.echo(f"Lỗi: {err}", err=True)
    if result.errors:
        ctx.exit(1)


def register(group: click.Group) -> None:
    group.add_command(poll_cmd)
