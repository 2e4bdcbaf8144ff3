"""The `mailbot` command: one click group; each module in this package adds its commands.

A module joins the CLI by defining ``register(group: click.Group) -> None``; modules are found
automatically, so adding a command never means editing this file. MailbotError is turned into
a short message and exit code 2 here, and only here.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import click

from mailbot import __version__
from mailbot.cli import _vi
from mailbot.errors import MailbotError

# Before any command is built: Click's own texts (--help, usage errors) in Vietnamese.
_vi.install()


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help=(
        "mailbot: trợ lý hộp thư hỗ trợ trực tuyến của cơ quan thi hành án dân sự.\n\n"
        "Đọc hộp thư công vụ, phân loại thư, lập hồ sơ trong sổ theo dõi, gửi thư báo đã "
        "tiếp nhận kèm mã hồ sơ và ngày hẹn trả lời, theo dõi thời hạn và lập báo cáo.\n\n"
        "Bắt đầu nhanh: `mailbot demo` chạy thử với hộp thư mẫu trong thư mục hiện tại."
    ),
)
@click.version_option(
    __version__,
    prog_name="mailbot",
    help="Xem số phiên bản rồi thoát.",
    message="%(prog)s, phiên bản %(version)s",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Tệp cấu hình TOML (mặc định: $MAILBOT_CONFIG hoặc ./config.toml).",
)
@click.option("-v", "--verbose", count=True, help="Ghi nhật ký chi tiết hơn (-vv: gỡ lỗi).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    from mailbot.logs import setup_logging

    setup_logging(verbose)
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(cli)


_register_all()


def main() -> None:
    try:
        cli.main(prog_name="mailbot", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Đã dừng.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except MailbotError as exc:
        logging.getLogger("mailbot").debug("error", exc_info=True)
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(2)
