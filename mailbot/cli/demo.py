"""`mailbot demo`: the main job on the embedded default, in ./mailbot-demo/ of this folder.

A bundled sample Maildir (every kind of mail, machine mail and spam included), SQLite, and
replies written as .eml files a person can open. Later `mailbot dossiers`, `show`, `web` and
`stats` run in the same folder use this register with no further set-up.
"""

from __future__ import annotations

import io
import mailbox
import os
import secrets
import shutil
import sys
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path

import click
from sqlmodel import Session

from mailbot.cli._common import echo_json
from mailbot.config import DEMO_DIR_NAME, load_config
from mailbot.db import create_schema, get_engine

DEMO_CONFIG = """\
# Cấu hình chạy thử do `mailbot demo` tạo ra. Mọi đường dẫn tính từ thư mục chứa tệp này.
database_url = "sqlite:///mailbot.db"
data_dir = "var"
poll_interval = 30

[office]
name = "Cục Thi hành án dân sự tỉnh Kiên Giang"
from_addr = "thads.kiengiang@moj.gov.vn"
from_name = "Bộ phận một cửa và hỗ trợ trực tuyến THADS"
public_url = "http://127.0.0.1:8000"

# Hộp thư mẫu: thư mục Maildir; thư đã xử lý được chuyển vào hop-thu/.Processed
[[mailbox]]
name = "hop-thu-mau"
unit = "KG"
kind = "maildir"
path = "hop-thu"

# Thư trả lời không gửi đi mà ghi thành tệp .eml trong thư mục này để đọc
[smtp]
kind = "directory"
directory = "thu-tra-loi"

[web]
host = "127.0.0.1"
port = 8000
"""

DEMO_USERS = (
    ("quantri", "admin", [], "Quản trị hệ thống", True),
    ("lanhdao", "leader", ["*"], "Lãnh đạo Cục", True),  # province-wide (DOMAIN.md §9)
    ("canbo", "clerk", ["KG", "KG-RACHGIA", "KG-PHUQUOC"], "Cán bộ một cửa", False),
)


def _sample_mails() -> list[tuple[float, str, bytes]]:
    folder = resources.files("mailbot") / "samples" / "mail"
    out = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".eml"):
            continue
        raw = entry.read_bytes()
        when = 0.0
        head = raw.split(b"\n\n", 1)[0].decode("latin-1")
        for line in head.splitlines():
            if line.lower().startswith("date:"):
                try:
                    when = parsedate_to_datetime(line[5:].strip()).timestamp()
                except (TypeError, ValueError):
                    pass
                break
        out.append((when, entry.name, raw))
    return sorted(out)


def _create_users(engine: object, demo_dir: Path) -> list[tuple[str, str, str]]:
    from mailbot.users import create_user, get_user

    logins = []
    with Session(engine) as session:  # type: ignore[arg-type]
        for username, role, units, name, kntc in DEMO_USERS:
            if get_user(session, username) is not None:
                continue
            password = "demo-" + secrets.token_urlsafe(9)
            create_user(session, username, password, role=role, units=units, full_name=name,
                        kntc=kntc, actor="demo")
            logins.append((username, password, role))
        session.commit()
    if logins:
        path = demo_dir / "dang-nhap-thu.txt"
        with path.open("a", encoding="utf-8") as fh:
            for username, password, role in logins:
                fh.write(f"{username}\t{password}\t{role}\n")
        path.chmod(0o600)
    return logins


@click.command("demo", help=(
    "Chạy thử toàn bộ quy trình trên máy này: hộp thư mẫu, CSDL SQLite, thư trả lời ghi ra "
    f"tệp .eml, tất cả trong ./{DEMO_DIR_NAME}/. Sau đó `mailbot dossiers`, `mailbot web`… "
    "chạy trong cùng thư mục sẽ dùng sổ theo dõi này."))
@click.option("--reset", is_flag=True, help="Xóa dữ liệu chạy thử cũ và làm lại từ đầu.")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
def demo_cmd(reset: bool, as_json: bool) -> None:
    from mailbot.cli.dossiers import dossier_summary
    from mailbot.dossier.models import REQUEST_TYPE_LABELS, Dossier
    from mailbot.pipeline import poll_once

    demo_dir = Path.cwd() / DEMO_DIR_NAME
    if reset and demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(exist_ok=True)
    config_file = demo_dir / "config.toml"
    if not config_file.exists():
        config_file.write_text(DEMO_CONFIG, encoding="utf-8")
    config = load_config(config_file)
    engine = get_engine(config.resolved_database_url)
    create_schema(engine)

    marker = demo_dir / ".mau-da-nap"
    samples = _sample_mails()
    if not marker.exists():
        # The samples are replayed as they arrived: a file's mtime is its arrival time, so
        # dates, deadlines and routing follow the Cục/Chi cục structure of those years.
        new = demo_dir / "hop-thu" / "new"
        mailbox.Maildir(demo_dir / "hop-thu", create=True)
        for i, (when, _name, raw) in enumerate(samples):
            path = new / f"{int(when)}.M{i}P{os.getpid()}.mailbot-demo"
            path.write_bytes(raw)
            if when:
                os.utime(path, (when, when))
        marker.write_text("ok\n", encoding="utf-8")

    # The bar goes to stderr so that --json output stays clean.
    with click.progressbar(length=len(samples), label="Đang xử lý thư mẫu",
                           file=io.StringIO() if as_json else sys.stderr) as bar:
        result = poll_once(config, engine, on_mail=lambda _o: bar.update(1))
    logins = _create_users(engine, demo_dir)

    with Session(engine) as session:
        from sqlmodel import select

        rows = [dossier_summary(session, d) for d in session.exec(
            select(Dossier).order_by(Dossier.id)).all()]
    replies_dir = config.path("thu-tra-loi")
    if as_json:
        echo_json({"directory": str(demo_dir), "poll": result.as_dict(), "dossiers": rows,
                   "replies_dir": str(replies_dir),
                   "logins": [{"username": u, "password": p, "role": r} for u, p, r in logins]})
        return
    counts = result.counts()
    click.echo("")
    click.echo(f"Đã đọc {len(result.outcomes)} thư mẫu: {counts.get('new_dossier', 0)} hồ sơ mới, "
               f"{counts.get('follow_up', 0)} thư bổ sung vào hồ sơ, "
               f"{counts.get('machine', 0) + counts.get('bounce', 0)} thư tự động, "
               f"{counts.get('spam', 0)} thư rác (không trả lời), "
               f"{counts.get('quarantined', 0)} thư cách ly.")
    click.echo("")
    click.echo("SỔ THEO DÕI HỒ SƠ")
    for r in rows:
        due = r["due_at"]
        due_vn = f"{due[8:10]}/{due[5:7]}/{due[:4]}" if due else "—"
        click.echo(f"  {r['code']:<16} {REQUEST_TYPE_LABELS.get(r['request_type'], ''):<38} "
                   f"đơn vị {(r['unit'] or 'chưa xác định'):<15} hạn {due_vn:<10} "
                   f"thư đã gửi {r['replies_sent']}")
    click.echo("")
    click.echo(f"Thư trả lời ({result.sent} thư) đã ghi thành tệp .eml trong: {replies_dir}")
    click.echo("  Mở bằng Thunderbird/Outlook (kéo thả tệp), hoặc xem nội dung: "
               "mailbot show <mã hồ sơ>")
    if logins:
        click.echo("Tài khoản chạy thử cho `mailbot web` (cũng lưu trong "
                   f"{demo_dir / 'dang-nhap-thu.txt'}):")
        for username, password, role in logins:
            click.echo(f"  {username} / {password}  ({role})")
    click.echo("Tiếp theo: `mailbot dossiers`, `mailbot show <mã>`, `mailbot web` "
               "(http://127.0.0.1:8000).")


def register(group: click.Group) -> None:
    group.add_command(demo_cmd)
