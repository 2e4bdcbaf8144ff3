"""Page: the shared inbox (hàng chờ hồ sơ) with filters, search and counts per status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import String, cast, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select
from starlette.responses import Response

from mailbot.dossier.models import (
    OPEN_STATUSES,
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    Dossier,
    MailMessage,
    User,
)
from mailbot.web.auth import Ctx, page, scope_clause, visible_units
from mailbot.web.units import unit_choices

PAGE_SIZE = 50
# Statuses in which the reply clock runs (chờ bổ sung stops it).
RUNNING = tuple(s for s in OPEN_STATUSES if s != "cho_bo_sung")


@dataclass(frozen=True)
class Filters:
    unit: str = ""
    request_type: str = ""
    status: str = ""
    due: str = ""  # "" | today | overdue
    triage: bool = False
    mine: bool = False
    q: str = ""
    page: int = 1

    def query(self, **changes: Any) -> str:
        data = {
            "don_vi": self.unit, "loai": self.request_type, "trang_thai": self.status,
            "han": self.due, "can_phan_loai": "1" if self.triage else "",
            "cua_toi": "1" if self.mine else "", "q": self.q, "trang": str(self.page),
        }
        data.update({k: str(v) for k, v in changes.items()})
        if data.get("trang") == "1":
            data.pop("trang")
        return urlencode({k: v for k, v in data.items() if v})


def parse_filters(params: Any) -> Filters:
    def get(name: str) -> str:
        value = params.get(name, "")
        return value.strip()[:200] if isinstance(value, str) else ""

    try:
        page_no = max(1, min(10_000, int(get("trang") or "1")))
    except ValueError:
        page_no = 1
    status = get("trang_thai")
    rtype = get("loai")
    due = get("han")
    return Filters(
        unit=get("don_vi").upper(),
        request_type=rtype if rtype in REQUEST_TYPE_LABELS else "",
        status=status if status in STATUS_LABELS or status == "mo" else "",
        due=due if due in ("today", "overdue") else "",
        triage=get("can_phan_loai") == "1",
        mine=get("cua_toi") == "1",
        q=get("q"),
        page=page_no,
    )


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_clause(q: str) -> ColumnElement[bool]:
    """Code, sender, subject, judgment/decision numbers and the text of the dossier's mail."""
    pat = _like(q)
    # JSON columns store non-ASCII as \\uXXXX escapes: search both spellings.
    json_pat = _like(json.dumps(q)[1:-1])
    text_match = select(MailMessage.dossier_id).where(
        MailMessage.dossier_id.is_not(None),  # type: ignore[union-attr]
        or_(MailMessage.body_text.ilike(pat, escape="\\"),  # type: ignore[attr-defined]
            MailMessage.subject.ilike(pat, escape="\\")),  # type: ignore[attr-defined]
    )
    return or_(
        Dossier.code.ilike(pat, escape="\\"),  # type: ignore[attr-defined]
        Dossier.sender_addr.ilike(pat, escape="\\"),  # type: ignore[attr-defined]
        Dossier.sender_name.ilike(pat, escape="\\"),  # type: ignore[attr-defined]
        Dossier.subject.ilike(pat, escape="\\"),  # type: ignore[attr-defined]
        cast(Dossier.judgment_refs, String).ilike(pat, escape="\\"),
        cast(Dossier.judgment_refs, String).ilike(json_pat, escape="\\"),
        cast(Dossier.enforcement_refs, String).ilike(pat, escape="\\"),
        cast(Dossier.enforcement_refs, String).ilike(json_pat, escape="\\"),
        Dossier.id.in_(text_match),  # type: ignore[union-attr]
    )


def filter_clauses(f: Filters, user: User, today: date, *, with_status: bool = True
                   ) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [scope_clause(user)]
    if f.unit:
        clauses.append(Dossier.handling_unit == f.unit)  # type: ignore[arg-type]
    if f.request_type:
        clauses.append(Dossier.request_type == f.request_type)  # type: ignore[arg-type]
    if with_status and f.status == "mo":
        clauses.append(Dossier.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
    elif with_status and f.status:
        clauses.append(Dossier.status == f.status)  # type: ignore[arg-type]
    if f.due == "today":
        clauses.append(Dossier.due_at == today)  # type: ignore[arg-type]
        clauses.append(Dossier.status.in_(RUNNING))  # type: ignore[attr-defined]
    elif f.due == "overdue":
        clauses.append(Dossier.due_at < today)  # type: ignore[operator]
        clauses.append(Dossier.status.in_(RUNNING))  # type: ignore[attr-defined]
    if f.triage:
        clauses.append(Dossier.needs_triage == True)  # type: ignore[arg-type]  # noqa: E712
    if f.mine:
        clauses.append(Dossier.assigned_to == user.id)  # type: ignore[arg-type]
    if f.q:
        clauses.append(search_clause(f.q))
    return clauses


def is_overdue(d: Dossier, today: date) -> bool:
    return d.due_at is not None and d.due_at < today and d.status in RUNNING


@page()
def inbox(ctx: Ctx) -> Response:
    assert ctx.user is not None
    user = ctx.user
    f = parse_filters(ctx.request.query_params)
    today = ctx.today
    clauses = filter_clauses(f, user, today)
    total = ctx.db.exec(select(func.count()).select_from(Dossier).where(*clauses)).one()
    rows = ctx.db.exec(
        select(Dossier)
        .where(*clauses)
        .order_by(
            Dossier.due_at.is_(None),  # type: ignore[union-attr]
            Dossier.due_at,  # type: ignore[arg-type]
            Dossier.received_at.desc(),  # type: ignore[attr-defined]
        )
        .offset((f.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    # Counts per status ignore the status filter, so the clerk sees the whole picture.
    count_rows = ctx.db.exec(
        select(Dossier.status, func.count())
        .where(*filter_clauses(f, user, today, with_status=False))
        .group_by(Dossier.status)
    ).all()
    counts = {s: 0 for s in STATUS_LABELS}
    for status, n in count_rows:
        counts[status] = int(n)
    overdue_n = ctx.db.exec(
        select(func.count()).select_from(Dossier).where(
            scope_clause(user), Dossier.due_at < today,  # type: ignore[operator]
            Dossier.status.in_(RUNNING))  # type: ignore[attr-defined]
    ).one()
    triage_n = ctx.db.exec(
        select(func.count()).select_from(Dossier).where(
            scope_clause(user), Dossier.needs_triage == True,  # type: ignore[arg-type]  # noqa: E712
            Dossier.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
    ).one()
    users = {u.id: u for u in ctx.db.exec(select(User)).all()}
    units = unit_choices(ctx.config)
    unit_codes = visible_units(user, [u.code for u in units])
    pages = max(1, (int(total) + PAGE_SIZE - 1) // PAGE_SIZE)
    return ctx.render(
        "inbox.html",
        rows=rows,
        total=int(total),
        counts=counts,
        overdue_n=int(overdue_n),
        triage_n=int(triage_n),
        f=f,
        pages=pages,
        today=today,
        is_overdue=is_overdue,
        users=users,
        units=[u for u in units if u.code in unit_codes],
        unit_names={u.code: u.short_name for u in units},
    )
