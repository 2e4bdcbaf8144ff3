"""Pages for leaders and admins: staff accounts, the quarantine, and filtered machine mail/spam."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.errors import MessageError

from sqlalchemy import func
from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mailbot.dossier.models import MailMessage, Quarantined, User
from mailbot.users import (
    ALL_UNITS,
    ROLES,
    UserError,
    create_user,
    set_disabled,
    set_password,
    update_user,
)
from mailbot.web.auth import Ctx, page
from mailbot.web.dossiers import download_headers
from mailbot.web.units import unit_choices

PAGE_SIZE = 50
FILTERED = ("tu_dong", "thu_rac")


# ---- users -----------------------------------------------------------------------------------


@page(roles=("admin",))
def users(ctx: Ctx) -> Response:
    error = ""
    form_values: dict[str, object] = {}
    if ctx.request.method == "POST":
        op = ctx.field("op")
        username = ctx.field("username")
        try:
            if op == "create":
                form_values = {"username": username, "full_name": ctx.field("full_name"),
                               "email": ctx.field("email"), "role": ctx.field("role"),
                               "units": ctx.fields("units"), "kntc": ctx.field("kntc") == "1"}
                create_user(ctx.db, username, ctx.field("password"), role=ctx.field("role"),
                            units=ctx.fields("units"), full_name=ctx.field("full_name"),
                            email=ctx.field("email"), kntc=ctx.field("kntc") == "1",
                            actor=ctx.actor)
                ctx.flash(f"Đã tạo tài khoản {username}.")
            elif op == "update":
                update_user(ctx.db, username, role=ctx.field("role"), units=ctx.fields("units"),
                            kntc=ctx.field("kntc") == "1", actor=ctx.actor)
                ctx.flash(f"Đã cập nhật tài khoản {username}.")
            elif op in ("disable", "enable"):
                assert ctx.user is not None
                if username == ctx.user.username and op == "disable":
                    raise UserError("không thể tự vô hiệu hóa tài khoản đang dùng")
                set_disabled(ctx.db, username, op == "disable", actor=ctx.actor)
                ctx.flash(f"Đã {'vô hiệu hóa' if op == 'disable' else 'kích hoạt lại'} "
                          f"tài khoản {username}.")
            elif op == "passwd":
                set_password(ctx.db, username, ctx.field("password"), actor=ctx.actor)
                ctx.flash(f"Đã đặt lại mật khẩu cho {username}.")
            else:
                raise HTTPException(400, "Thao tác không hợp lệ.")
            return ctx.redirect("/quan-tri/nguoi-dung")
        except UserError as exc:
            ctx.db.rollback()
            error = str(exc)
            error = error[:1].upper() + error[1:] + "."
    rows = ctx.db.exec(select(User).order_by(User.username)).all()
    return ctx.render("users.html", rows=rows, roles=ROLES, units=unit_choices(ctx.config),
                      error=error, form_values=form_values)


# ---- quarantine and filtered mail ------------------------------------------------------------


def _headers(raw: bytes) -> dict[str, str]:
    """From/To/Subject/Date of a raw mail, decoded but still untrusted text."""
    try:
        msg = message_from_bytes(raw[:200_000], policy=policy.default)
        return {k: str(msg.get(k, ""))[:500] for k in ("From", "To", "Subject", "Date",
                                                        "Message-ID")}
    except (MessageError, ValueError, TypeError, IndexError):
        return {}


def _mailboxes(ctx: Ctx) -> list[str] | None:
    """Mailboxes whose rejected or filtered mail this user may see (None: all of them).

    Such mail has no dossier and so no unit; the receiving unit of its mailbox decides.
    """
    assert ctx.user is not None
    units = ctx.user.units or []
    if ALL_UNITS in units:
        return None
    return [m.name for m in ctx.config.mailbox if m.unit in units]


def _may_read_raw(ctx: Ctx) -> bool:
    # Raw mail may be a denunciation (tố cáo): only leaders and KNTC staff read it whole.
    return ctx.user is not None and (ctx.user.role == "leader" or ctx.user.kntc)


@page(roles=("leader", "admin"))
def quarantine_list(ctx: Ctx) -> Response:
    show_all = ctx.request.query_params.get("tat_ca") == "1"
    stmt = select(Quarantined).order_by(Quarantined.at.desc())  # type: ignore[attr-defined]
    boxes = _mailboxes(ctx)
    if boxes is not None:
        stmt = stmt.where(Quarantined.mailbox.in_(boxes))  # type: ignore[attr-defined]
    if not show_all:
        stmt = stmt.where(Quarantined.resolved == False)  # noqa: E712
    rows = ctx.db.exec(stmt.limit(200)).all()
    return ctx.render("quarantine.html", rows=rows, show_all=show_all)


@page(roles=("leader", "admin"))
def quarantine_item(ctx: Ctx) -> Response:
    item = ctx.db.get(Quarantined, _int(ctx.request.path_params["qid"]))
    boxes = _mailboxes(ctx)
    if item is None or (boxes is not None and item.mailbox not in boxes):
        raise HTTPException(404)
    if ctx.request.method == "POST":
        item.resolved = ctx.field("resolved") == "1"
        ctx.db.add(item)
        ctx.audit("quarantine_resolved" if item.resolved else "quarantine_reopened",
                  quarantined_id=item.id)
        ctx.flash("Đã cập nhật.")
        return ctx.redirect(f"/cach-ly/{item.id}")
    if ctx.request.query_params.get("tai") == "1":
        if not _may_read_raw(ctx):
            raise HTTPException(403)
        ctx.audit("quarantine_downloaded", quarantined_id=item.id)
        return Response(item.raw, headers=download_headers(
            f"thu-cach-ly-{item.id}.eml", "application/octet-stream"))
    ctx.audit("quarantine_viewed", quarantined_id=item.id)
    return ctx.render("quarantine_item.html", item=item, headers=_headers(item.raw),
                      size=len(item.raw))


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise HTTPException(404) from None


@page(roles=("leader", "admin"))
def filtered_list(ctx: Ctx) -> Response:
    kind = ctx.request.query_params.get("loai", "")
    kinds = (kind,) if kind in FILTERED else FILTERED
    try:
        page_no = max(1, int(ctx.request.query_params.get("trang", "1")))
    except ValueError:
        page_no = 1
    boxes = _mailboxes(ctx)
    scope = () if boxes is None else (MailMessage.source.in_(boxes),)  # type: ignore[attr-defined]
    where = (MailMessage.dossier_id.is_(None),  # type: ignore[union-attr]
             MailMessage.direction == "in",
             MailMessage.disposition.in_(kinds), *scope)  # type: ignore[attr-defined]
    total = ctx.db.exec(select(func.count()).select_from(MailMessage).where(*where)).one()
    rows = ctx.db.exec(
        select(MailMessage).where(*where)
        .order_by(MailMessage.received_at.desc())  # type: ignore[attr-defined]
        .offset((page_no - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    counts = dict(ctx.db.exec(
        select(MailMessage.disposition, func.count())
        .where(MailMessage.dossier_id.is_(None),  # type: ignore[union-attr]
               MailMessage.direction == "in",
               MailMessage.disposition.in_(FILTERED), *scope)  # type: ignore[attr-defined]
        .group_by(MailMessage.disposition)
    ).all())
    return ctx.render("filtered.html", rows=rows, kind=kind if kind in FILTERED else "",
                      total=int(total), page_no=page_no, counts=counts,
                      pages=max(1, (int(total) + PAGE_SIZE - 1) // PAGE_SIZE))


@page(roles=("leader", "admin"))
def filtered_item(ctx: Ctx) -> Response:
    msg = ctx.db.get(MailMessage, _int(ctx.request.path_params["mid"]))
    boxes = _mailboxes(ctx)
    if msg is None or msg.dossier_id is not None or msg.disposition not in FILTERED or (
            boxes is not None and msg.source not in boxes):
        raise HTTPException(404)
    ctx.audit("filtered_mail_viewed", mail_id=msg.id)
    return ctx.render("filtered_item.html", m=msg)
