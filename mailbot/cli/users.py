"""`mailbot users add|passwd|disable|enable|list`: staff accounts of the web desk."""

from __future__ import annotations

import sys

import click
from sqlmodel import Session, select

from mailbot.cli._common import echo_json, get_db
from mailbot.dossier.models import User
from mailbot.users import ROLE_LABELS, ROLES, create_user, set_disabled, set_password

ACTOR = "cli"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu"))


@click.group("users", help="Quản lý tài khoản cán bộ dùng trang web.")
def users_group() -> None:
    pass


@users_group.command("add", help=(
    "Thêm tài khoản. Vai trò: clerk (cán bộ tiếp nhận: hồ sơ của đơn vị mình), leader (lãnh "
    "đạo: thêm báo cáo, giao việc), admin (quản trị người dùng). Đơn vị: mã như KG, "
    "KG-RACHGIA; '*' là mọi đơn vị."))
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="clerk", show_default=True,
              help="Vai trò.")
@click.option("--unit", "units", multiple=True,
              help="Mã đơn vị (lặp lại hoặc cách nhau bởi dấu phẩy).")
@click.option("--name", "full_name", default="", help="Họ tên hiển thị.")
@click.option("--email", default="", help="Thư điện tử công vụ.")
@click.option("--kntc", is_flag=True, help="Cán bộ khiếu nại, tố cáo: xem được hồ sơ tố cáo.")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ dòng đầu của stdin.")
@click.pass_context
def add_cmd(ctx: click.Context, username: str, role: str, units: tuple[str, ...],
            full_name: str, email: str, kntc: bool, password_stdin: bool) -> None:
    password = _read_password(password_stdin)
    with Session(get_db(ctx)) as session:
        user = create_user(session, username, password, role=role, units=list(units),
                           full_name=full_name, email=email, kntc=kntc, actor=ACTOR)
        session.commit()
        click.echo(f"Đã tạo tài khoản {user.username} ({ROLE_LABELS[user.role]}, đơn vị: "
                   f"{', '.join(user.units) or 'chưa có'}).")


@users_group.command("passwd", help="Đặt mật khẩu mới (và mở khóa tài khoản bị tạm khóa).")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ dòng đầu của stdin.")
@click.pass_context
def passwd_cmd(ctx: click.Context, username: str, password_stdin: bool) -> None:
    password = _read_password(password_stdin)
    with Session(get_db(ctx)) as session:
        user = set_password(session, username, password, actor=ACTOR)
        session.commit()
        click.echo(f"Đã đổi mật khẩu của {user.username}.")


@users_group.command("disable", help="Vô hiệu hóa tài khoản (không xóa; lịch sử giữ nguyên).")
@click.argument("username")
@click.pass_context
def disable_cmd(ctx: click.Context, username: str) -> None:
    with Session(get_db(ctx)) as session:
        user = set_disabled(session, username, True, actor=ACTOR)
        session.commit()
        click.echo(f"Đã vô hiệu hóa tài khoản {user.username}.")


@users_group.command("enable", help="Kích hoạt lại tài khoản đã vô hiệu hóa.")
@click.argument("username")
@click.pass_context
def enable_cmd(ctx: click.Context, username: str) -> None:
    with Session(get_db(ctx)) as session:
        user = set_disabled(session, username, False, actor=ACTOR)
        session.commit()
        click.echo(f"Đã kích hoạt lại tài khoản {user.username}.")


@users_group.command("list", help="Liệt kê tài khoản.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    with Session(get_db(ctx)) as session:
        rows = session.exec(select(User).order_by(User.username)).all()
    data = [{"username": u.username, "full_name": u.full_name, "role": u.role,
             "units": list(u.units), "kntc": u.kntc, "disabled": u.disabled,
             "locked_until": u.locked_until.isoformat() if u.locked_until else None}
            for u in rows]
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("Chưa có tài khoản nào; thêm bằng "
                   "`mailbot users add TÊN --role ... --unit ...`.")
    for d in data:
        state = "vô hiệu hóa" if d["disabled"] else "tạm khóa" if d["locked_until"] else "đang dùng"
        click.echo(f"{d['username']:<20} {ROLE_LABELS[str(d['role'])]:<18} "
                   f"{','.join(d['units']) or '-':<24} {'KNTC ' if d['kntc'] else ''}{state}")


def register(group: click.Group) -> None:
    group.add_command(users_group)
