"""The leaders' reports page (/bao-cao): same figures as the CLI, charts, downloads, print view.

Mount: ``Route("/bao-cao", reports_page, methods=["GET"])``. It reads ``request.app.state.config``
(mailbot.config.Config) and ``request.app.state.engine``, and the signed-in user from
``request.state.user`` (or ``request.scope["user"]``) with ``role`` and ``units``.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mailbot.errors import MailbotError
from mailbot.report.export import MEDIA_TYPES, file_name, html_context, render
from mailbot.report.form import load_form
from mailbot.report.hierarchy import UnitInfo, load_unit_tree, scope
from mailbot.report.periods import Period, current_thads_year, parse_date
from mailbot.report.stats import Report, compute
from mailbot.users import ALL_UNITS

LEADER_ROLES = ("leader", "admin")
DOWNLOADS = ("xlsx", "csv", "json")


def _user(request: Request) -> Any:
    user = getattr(request.state, "user", None)
    if user is None:
        user = request.scope.get("user")
    return user


def allowed_units(user: Any, tree: dict[str, UnitInfo], period: Period) -> list[str]:
    """The units a user may report on: admin and "*" all; a leader their units and their Chi cục."""
    role = getattr(user, "role", None)
    units = getattr(user, "units", None) or []
    if role == "admin" or ALL_UNITS in units:  # "*": the Cục's province-wide roles
        return scope(tree, None, exact=True, start=period.start, end=period.end)
    own = [u for u in units if u in tree]
    return scope(tree, own, exact=False, start=period.start, end=period.end) if own else []


def _period(params: Any) -> Period:
    default = current_thads_year(date.today())
    start = params.get("from") or ""
    end = params.get("to") or ""
    return Period(
        parse_date(start) if start else default.start, parse_date(end) if end else default.end
    )


def _env(templates_dir: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


# The printable page is also a standalone document (saved, opened offline, printed), so it keeps
# its inline styles; scripts stay forbidden.
PRINT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
             "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def _error(status: int, message: str) -> HTMLResponse:
    # The message can carry query parameters: always escaped.
    return HTMLResponse(
        f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>Báo cáo</title>'
        f"<p>{escape(message)}</p><p><a href=\"/bao-cao\">Quay lại trang báo cáo</a></p></html>",
        status_code=status,
    )


def build_report(request: Request, period: Period, units: list[str]) -> Report:
    """Compute the report (blocking: call it in a thread)."""
    from mailbot.config import ImapMailbox, MaildirMailbox
    from mailbot.workdays import WorkCalendar

    config = request.app.state.config
    return compute(
        request.app.state.engine,
        period,
        tz=config.tz,
        calendar=WorkCalendar.load(config.rules_path),
        rules_dir=str(config.rules_path),
        units=units,
        exact=True,
        mailbox_units={
            mb.name: mb.unit
            for mb in config.mailbox
            if isinstance(mb, ImapMailbox | MaildirMailbox)
        },
    )


async def reports_page(request: Request) -> Response:
    """GET /bao-cao?from=&to=&unit=&format=html|print|xlsx|csv|json"""
    user = _user(request)
    if user is None:
        return _error(401, "Bạn cần đăng nhập để xem báo cáo.")
    if getattr(user, "role", None) not in LEADER_ROLES:
        return _error(403, "Trang báo cáo chỉ dành cho lãnh đạo đơn vị và quản trị viên.")
    config = request.app.state.config
    params = request.query_params
    try:
        period = _period(params)
        tree = load_unit_tree(config.rules_path)
        allowed = allowed_units(user, tree, period)
        if not allowed:
            return _error(403, "Tài khoản của bạn chưa được gán đơn vị nào để xem báo cáo.")
        chosen = params.get("unit") or ""
        if chosen and chosen not in allowed:
            return _error(403, f"Bạn không có quyền xem báo cáo của đơn vị {chosen}.")
        units = (
            scope(tree, [chosen], exact=False, start=period.start, end=period.end)
            if chosen
            else allowed
        )
        units = [u for u in units if u in allowed]
        fmt = params.get("format") or "html"
        report = await run_in_threadpool(build_report, request, period, units)
        form = load_form(config.rules_path)
        if fmt in DOWNLOADS or fmt == "print":
            out_fmt = "html" if fmt == "print" else fmt
            data = await run_in_threadpool(
                render, report, form, out_fmt, templates_dir=config.templates_path
            )
            headers = {"Content-Security-Policy": PRINT_CSP} if out_fmt == "html" else {}
            if fmt in DOWNLOADS:
                name = file_name(report, fmt, chosen or None)
                headers["Content-Disposition"] = f'attachment; filename="{name}"'
            return Response(data, media_type=MEDIA_TYPES[out_fmt], headers=headers)
        if fmt != "html":
            return _error(400, f"Định dạng {fmt} không hỗ trợ; chọn html, print, xlsx, csv, json.")
    except MailbotError as exc:
        return _error(400, f"Không lập được báo cáo: {exc}")
    context = html_context(report, form)
    context.update(
        units=[tree[c] for c in allowed if c in tree],
        chosen=chosen,
        from_value=period.start.isoformat(),
        to_value=period.end.isoformat(),
        query=f"from={period.start.isoformat()}&to={period.end.isoformat()}"
        + (f"&unit={chosen}" if chosen else ""),
        total=report.total,
    )
    html = _env(str(config.templates_path)).get_template("report/page.html").render(**context)
    return HTMLResponse(html)
