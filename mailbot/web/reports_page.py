"""Page /bao-cao for leaders: serves ``mailbot.report.web.reports_page`` when it exists.

The statistics module owns the page (figures, charts, downloads); this module only checks the
login and role with the desk's own sessions and hands the user over in ``request.state.user``.
Without that module it shows the satisfaction counts of the leader's units.
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailbot import ratings
from mailbot.dossier.models import User
from mailbot.users import ALL_UNITS
from mailbot.web.auth import Ctx, load_user, page

ROLES = ("leader", "admin")


def _plugin() -> Any:
    try:
        module = importlib.import_module("mailbot.report.web")
    except ImportError:
        return None
    return getattr(module, "reports_page", None)


def _user(request: Request) -> User | None:
    with Session(request.app.state.engine, expire_on_commit=False) as db:
        user, _ = load_user(request, db, request.app.state.config)
        return user


@page(roles=ROLES)
def _fallback(ctx: Ctx) -> Response:
    assert ctx.user is not None
    units = None if ALL_UNITS in ctx.user.units else list(ctx.user.units)
    counts = ratings.counts(ctx.db, units=units)
    return ctx.render("reports.html", counts=counts, total=sum(counts.values()))


async def reports(request: Request) -> Response:
    plugin = _plugin()
    if plugin is None:
        return await _fallback(request)  # type: ignore[no-any-return]
    user = await run_in_threadpool(_user, request)
    if user is None:
        return RedirectResponse("/login?next=%2Fbao-cao", status_code=303)
    if user.role not in ROLES:
        raise HTTPException(403, "Tài khoản của ông/bà không có quyền xem trang này.")
    request.state.user = user
    response: Response = await plugin(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
