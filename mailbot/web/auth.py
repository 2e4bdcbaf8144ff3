"""Login, sessions that expire, role checks and the per-unit scoping of every dossier query.

Every page is an ordinary function ``fn(ctx) -> Response`` wrapped by ``page(...)``: the wrapper
reads the form, checks the CSRF token, loads the logged-in user, enforces the role, runs the
function in a worker thread (database and argon2 calls block) inside one transaction.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, false, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mailbot.config import Config
from mailbot.dossier.models import AuditEvent, Dossier, User
from mailbot.users import ALL_UNITS, authenticate, now_utc, set_password
from mailbot.web import csrf

Handler = Callable[["Ctx"], Response]


# ---- scoping ---------------------------------------------------------------------------------


def sees_all_units(user: User) -> bool:
    return ALL_UNITS in (user.units or [])


def may_see_to_cao(user: User) -> bool:
    """Denunciations (tố cáo) are visible only to leaders and complaint/denunciation staff."""
    return user.role == "leader" or bool(user.kntc)


def can_see(user: User, dossier: Dossier) -> bool:
    if dossier.request_type == "to_cao" and not may_see_to_cao(user):
        return False
    return sees_all_units(user) or dossier.handling_unit in (user.units or [])


def scope_clause(user: User) -> ColumnElement[bool]:
    """The WHERE clause limiting a dossier query to what this user may see."""
    unit_ok: ColumnElement[bool] = (
        true() if sees_all_units(user)
        else Dossier.handling_unit.in_(list(user.units or [])) if user.units  # type: ignore[attr-defined]
        else false()
    )
    if may_see_to_cao(user):
        return unit_ok
    return and_(unit_ok, Dossier.request_type != "to_cao")  # type: ignore[arg-type]


def visible_units(user: User, all_codes: list[str]) -> list[str]:
    return list(all_codes) if sees_all_units(user) else [u for u in user.units if u != ALL_UNITS]


def is_leader(user: User | None) -> bool:
    return user is not None and user.role in ("leader", "admin")


# ---- request context -------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a page function gets: the request, an open transaction, the user and the form."""

    request: Request
    db: Session
    config: Config
    user: User | None
    form: FormData | None
    now: datetime = field(default_factory=now_utc)
    # Extra headers (e.g. Cache-Control) added to whatever the page returns.
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return datetime.now(self.config.tz).date()

    @property
    def actor(self) -> str:
        return f"user:{self.user.username}" if self.user else "anonymous"

    def field(self, name: str, default: str = "") -> str:
        if self.form is None:
            return default
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else default

    def secret_field(self, name: str) -> str:
        """A password field, exactly as typed."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def fields(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]

    def audit(self, action: str, dossier_id: int | None = None, **detail: Any) -> None:
        self.db.add(AuditEvent(dossier_id=dossier_id, at=now_utc(), actor=self.actor,
                               action=action, detail=dict(detail)))

    def flash(self, message: str, kind: str = "ok") -> None:
        messages = list(self.request.session.get("flash", []))
        messages.append([kind, message])
        self.request.session["flash"] = messages[-5:]

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        env = self.request.app.state.jinja
        flashes = self.request.session.pop("flash", [])
        html = env.get_template(name).render(
            request=self.request,
            user=self.user,
            csrf_token=csrf.get_token(self.request),
            flashes=flashes,
            office=self.config.office,
            is_leader=is_leader(self.user),
            path=self.request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


SESSION_UID = "uid"
SESSION_SEEN = "seen"
SESSION_PWFP = "pwfp"


def _password_fingerprint(user: User) -> str:
    """Changes with the password: a password change ends every other session of the user."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def load_user(request: Request, db: Session, config: Config) -> tuple[User | None, bool]:
    """The logged-in user, and whether an existing login just expired."""
    uid = request.session.get(SESSION_UID)
    if uid is None:
        return None, False
    seen = request.session.get(SESSION_SEEN, 0)
    now = time.time()
    if not isinstance(seen, int | float) or now - seen > config.web.session_minutes * 60:
        request.session.clear()
        return None, True
    user = db.get(User, uid)
    if user is None or user.disabled or request.session.get(SESSION_PWFP) != \
            _password_fingerprint(user):
        request.session.clear()
        return None, True
    request.session[SESSION_SEEN] = int(now)
    return user, False


def login_session(request: Request, user: User) -> None:
    flashes = request.session.get("flash", [])
    request.session.clear()
    request.session[SESSION_UID] = user.id
    request.session[SESSION_SEEN] = int(time.time())
    request.session[SESSION_PWFP] = _password_fingerprint(user)
    if flashes:
        request.session["flash"] = flashes
    csrf.rotate(request)


def page(
    *, roles: tuple[str, ...] | None = None, public: bool = False
) -> Callable[[Handler], Callable[[Request], Any]]:
    """Wrap a page function: CSRF, login, role, one transaction, security headers."""

    def decorate(fn: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            form: FormData | None = None
            if request.method == "POST":
                form = await request.form(max_files=0, max_fields=200, max_part_size=2_000_000)
                csrf.check(request, form)
            return await run_in_threadpool(_run, fn, request, form, roles, public)

        endpoint.__name__ = fn.__name__
        endpoint.__doc__ = fn.__doc__
        return endpoint

    return decorate


def _run(
    fn: Handler,
    request: Request,
    form: FormData | None,
    roles: tuple[str, ...] | None,
    public: bool,
) -> Response:
    config: Config = request.app.state.config
    with Session(request.app.state.engine, expire_on_commit=False) as db:
        try:
            user, expired = load_user(request, db, config)
            if not public and user is None:
                if expired:
                    request.session["flash"] = [["warn", "Phiên đăng nhập đã hết hạn. "
                                                 "Hãy đăng nhập lại."]]
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                nxt = "" if request.method != "GET" else "?next=" + quote(target, safe="")
                return RedirectResponse("/login" + nxt, status_code=303)
            if roles is not None and (user is None or user.role not in roles):
                raise HTTPException(403, "Tài khoản của ông/bà không có quyền xem trang này.")
            ctx = Ctx(request=request, db=db, config=config, user=user, form=form)
            response = fn(ctx)
            db.commit()
        except BaseException:
            db.rollback()
            raise
    for key, value in ctx.headers.items():
        response.headers[key] = value
    if user is not None:
        # Pages with personal data must not stay in shared browser caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# ---- pages -----------------------------------------------------------------------------------


def _safe_next(value: str) -> str:
    # Only local paths: never an open redirect to another site.
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ho-so"


@page(public=True)
def login_page(ctx: Ctx) -> Response:
    nxt = _safe_next(ctx.request.query_params.get("next", "") or ctx.field("next"))
    if ctx.request.method == "GET":
        if ctx.user is not None:
            return ctx.redirect(nxt)
        return ctx.render("login.html", next=nxt, error="", username="")
    username = ctx.field("username").lower()
    password = ctx.form.get("password", "") if ctx.form else ""
    result = authenticate(ctx.db, username, password if isinstance(password, str) else "",
                          now=ctx.now)
    if result.user is None:
        # Commit the failure count before answering; slow down guessing a little more.
        ctx.db.commit()
        time.sleep(0.5)
        return ctx.render("login.html", status_code=401, next=nxt, error=result.message,
                          username=username)
    login_session(ctx.request, result.user)
    return ctx.redirect(nxt)


@page()
def logout(ctx: Ctx) -> Response:
    ctx.audit("logout")
    ctx.request.session.clear()
    ctx.flash("Đã đăng xuất.")
    return ctx.redirect("/login")


@page()
def account(ctx: Ctx) -> Response:
    assert ctx.user is not None
    error = ""
    if ctx.request.method == "POST":
        # Passwords are taken exactly as typed (no trimming), as at login.
        old = ctx.secret_field("old_password")
        new = ctx.secret_field("new_password")
        again = ctx.secret_field("new_password2")
        result = authenticate(ctx.db, ctx.user.username, old, now=ctx.now)
        if result.user is None:
            error = "Mật khẩu hiện tại không đúng."
        elif new != again:
            error = "Hai lần nhập mật khẩu mới không khớp."
        else:
            from mailbot.users import UserError

            try:
                user = set_password(ctx.db, ctx.user.username, new, actor=ctx.actor)
            except UserError as exc:
                error = str(exc)
            else:
                login_session(ctx.request, user)
                ctx.flash("Đã đổi mật khẩu.")
                return ctx.redirect("/tai-khoan")
        ctx.db.commit()
    return ctx.render("account.html", error=error, units=ctx.user.units)
