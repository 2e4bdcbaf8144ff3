"""`mailbot web`: serve the counter staff's web desk with uvicorn."""

from __future__ import annotations

import click

from mailbot.cli._common import get_config, get_db


@click.command("web", help=(
    "Chạy trang web cho cán bộ (hàng chờ hồ sơ, xử lý, trả lời) và trang công khai cho người "
    "dân. Mặc định http://127.0.0.1:8000 theo mục [web] của cấu hình. Tạo tài khoản bằng "
    "`mailbot users add`."))
@click.option("--host", default=None, help="Địa chỉ lắng nghe (mặc định: web.host).")
@click.option("--port", type=int, default=None, help="Cổng (mặc định: web.port).")
@click.pass_context
def web_cmd(ctx: click.Context, host: str | None, port: int | None) -> None:
    import uvicorn

    from mailbot.web.app import create_app

    config = get_config(ctx)
    engine = get_db(ctx)
    app = create_app(config, engine)
    host = host or config.web.host
    port = port or config.web.port
    click.echo(f"Trang web cán bộ: http://{host}:{port}/login  (Ctrl+C để dừng)", err=True)
    # proxy_headers: behind the office's reverse proxy the client address is taken from it.
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True,
                server_header=False)


def register(group: click.Group) -> None:
    group.add_command(web_cmd)
