"""Build the web desk: routes table, templates, static files, sessions and security headers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailbot.config import Config
from mailbot.errors import ConfigError
from mailbot.web import admin, auth, dossiers, inbox, public, reports_page
from mailbot.web.errors import HANDLERS
from mailbot.web.templating import build_environment

STATIC_DIR = Path(__file__).resolve().parent / "static"
SECRET_FILE_NAME = "web-secret"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


class SecurityHeaders:
    """Adds the security headers to every response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in SECURITY_HEADERS if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def load_secret(config: Config) -> str:
    """The key signing sessions: from secret_env / secret_file, else generated once on disk."""
    web = config.web
    if web.secret_env:
        value = os.environ.get(web.secret_env, "")
        if len(value) < 32:
            raise ConfigError(
                f"biến môi trường {web.secret_env} (web.secret_env) phải chứa một khóa ngẫu "
                "nhiên dài ít nhất 32 ký tự, ví dụ tạo bằng `openssl rand -hex 32`",
                file=config.source_file, key="web.secret_env",
            )
        return value
    if web.secret_file:
        path = config.path(web.secret_file)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"không đọc được tệp khóa phiên {path} (web.secret_file): {exc.strerror}; "
                "kiểm tra đường dẫn và quyền đọc của tài khoản chạy mailbot",
                file=config.source_file, key="web.secret_file",
            ) from exc
        if len(value) < 32:
            raise ConfigError(
                f"tệp {path} phải chứa một khóa ngẫu nhiên dài ít nhất 32 ký tự, ví dụ tạo "
                "bằng `openssl rand -hex 32`",
                file=config.source_file, key="web.secret_file",
            )
        return value
    path = config.data_path / SECRET_FILE_NAME
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value + "\n")
    except FileExistsError:  # another process created it first
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"không tạo được tệp khóa phiên {path}: {exc.strerror}; cấp quyền ghi cho thư "
            "mục data_dir hoặc đặt web.secret_file", file=config.source_file, key="data_dir",
        ) from exc
    return value


async def home(request: Request) -> Response:
    return RedirectResponse("/ho-so" if "uid" in request.session else "/public/", 303)


async def robots(request: Request) -> Response:
    return Response("User-agent: *\nDisallow: /\n", media_type="text/plain")


def routes() -> list[Route | Mount]:
    return [
        Route("/", home),
        Route("/robots.txt", robots),
        Route("/login", auth.login_page, methods=["GET", "POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/tai-khoan", auth.account, methods=["GET", "POST"]),
        Route("/ho-so", inbox.inbox),
        Route("/ho-so/{code}", dossiers.dossier_page),
        Route("/ho-so/{code}/phan-loai", dossiers.reclassify, methods=["POST"]),
        Route("/ho-so/{code}/giao", dossiers.assign, methods=["POST"]),
        Route("/ho-so/{code}/don-vi", dossiers.change_unit, methods=["POST"]),
        Route("/ho-so/{code}/tiep-tuc", dossiers.resume, methods=["POST"]),
        Route("/ho-so/{code}/mo-lai", dossiers.reopen, methods=["POST"]),
        Route("/ho-so/{code}/thu/{kind}", dossiers.compose, methods=["GET", "POST"]),
        Route("/ho-so/{code}/tep/{att}", dossiers.attachment),
        Route("/bao-cao", reports_page.reports),
        Route("/cach-ly", admin.quarantine_list),
        Route("/cach-ly/{qid}", admin.quarantine_item, methods=["GET", "POST"]),
        Route("/thu-loc", admin.filtered_list),
        Route("/thu-loc/{mid}", admin.filtered_item),
        Route("/quan-tri/nguoi-dung", admin.users, methods=["GET", "POST"]),
        Route("/public/", public.index),
        Route("/public/thu-tuc", public.procedures),
        Route("/public/don-vi", public.units),
        Route("/public/danh-gia/{token}", public.rating, methods=["GET", "POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def create_app(config: Config, engine: Engine, *, secret: str | None = None) -> Starlette:
    """The ASGI app of the web desk for one configuration and database."""
    https = config.office.public_url.lower().startswith("https://")
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secret or load_secret(config),
            session_cookie="mailbot_session",
            max_age=config.web.session_minutes * 60,
            same_site="lax",
            https_only=https,
        ),
    ]
    app = Starlette(routes=routes(), middleware=middleware,
                    exception_handlers=HANDLERS)  # type: ignore[arg-type]
    app.state.config = config
    app.state.engine = engine
    templates_dir = config.templates_path
    env = build_environment(templates_dir, config.tz)
    env.filters["filename"] = dossiers.safe_filename
    app.state.jinja = env
    # Plain-text bodies the clerk edits: no HTML escaping (they are escaped when shown).
    app.state.jinja_text = env.overlay(autoescape=False)
    return app
