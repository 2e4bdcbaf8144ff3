"""`mailbot init` and `mailbot check-config`: create the database, validate the configuration."""

from __future__ import annotations

import click

from mailbot.cli._common import echo_json, get_config, get_db


@click.command("init", help="Tạo cơ sở dữ liệu (sổ theo dõi) theo cấu hình; chạy lại không hại gì.")
@click.pass_context
def init_cmd(ctx: click.Context) -> None:
    config = get_config(ctx)
    get_db(ctx, create=True)
    config.data_path.mkdir(parents=True, exist_ok=True)
    click.echo(f"Đã tạo cơ sở dữ liệu: {_safe_url(config.resolved_database_url)}")


@click.command("check-config", help="Kiểm tra tệp cấu hình và in tóm tắt (không in mật khẩu).")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.pass_context
def check_config_cmd(ctx: click.Context, as_json: bool) -> None:
    config = get_config(ctx)
    summary = {
        "file": config.source_file,
        "database_url": _safe_url(config.resolved_database_url),
        "timezone": config.timezone,
        "rules_dir": str(config.rules_path),
        "templates_dir": str(config.templates_path),
        "mailboxes": [
            {"name": m.name, "unit": m.unit, "kind": m.kind} for m in config.mailbox
        ],
        "smtp": config.smtp.kind if config.smtp else None,
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(f"Cấu hình hợp lệ: {config.source_file}")
    click.echo(f"  Cơ sở dữ liệu (database_url): {summary['database_url']}")
    click.echo(f"  Múi giờ (timezone): {summary['timezone']}")
    click.echo(f"  Thư mục quy tắc (rules_dir): {summary['rules_dir']}")
    click.echo(f"  Thư mục mẫu thư (templates_dir): {summary['templates_dir']}")
    if not config.mailbox:
        click.echo("  Hộp thư ([[mailbox]]): chưa khai báo")
    for m in config.mailbox:
        click.echo(f"  Hộp thư ([[mailbox]]): {m.name}, đơn vị {m.unit}, kind = {m.kind}")
    smtp = f"kind = {summary['smtp']}" if summary["smtp"] else "chưa khai báo"
    click.echo(f"  Máy chủ gửi thư ([smtp]): {smtp}")


def _safe_url(url: str) -> str:
    """Hide a password written inside a database URL."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def register(group: click.Group) -> None:
    group.add_command(init_cmd)
    group.add_command(check_config_cmd)
