"""Pages: one dossier (conversation, why, history), its actions, mail composing and attachments.

Every handler loads the dossier through ``_load``, which answers 404 for a dossier outside the
user's scope (the same answer as a code that does not exist, so codes cannot be probed).
State changes go through ``mailbot.dossier.workflow`` (which writes the audit trail); mail goes
through ``mailbot.replies`` into the outbox, never straight to SMTP.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any
from urllib.parse import quote

from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mailbot.attachments import read_blob
from mailbot.dossier.models import (
    HUMAN_TYPES,
    OPEN_STATUSES,
    REQUEST_TYPE_LABELS,
    Attachment,
    AuditEvent,
    Dossier,
    MailMessage,
    OutboxItem,
    User,
)
from mailbot.errors import DossierError, MailbotError
from mailbot.web.auth import Ctx, can_see, is_leader, page
from mailbot.web.templating import RESULT_LABELS
from mailbot.web.units import unit_choices, unit_name

# Mail kinds a clerk composes, by URL segment: (mail kind, page title).
COMPOSE_KINDS: dict[str, tuple[str, str]] = {
    "tra-loi": ("reply", "Trả lời người gửi"),
    "bo-sung": ("supplement", "Đề nghị bổ sung hồ sơ"),
    "chuyen": ("forward_notice", "Chuyển đơn và thông báo cho người gửi"),
    "dong": ("closing", "Đóng hồ sơ"),
}
REPLY_RESULTS = ("appointment", "guidance", "procedure_guidance", "answer")
CLOSE_RESULTS = ("appointment", "guidance", "procedure_guidance", "answer", "forwarded",
                 "no_reply", "paper_received")
MAX_BODY = 20_000
# The suggested texts (templates/web/bodies/) mark where the clerk must write: never sent as is.
PLACEHOLDER_MARK = "[Cán bộ ghi"
RATING_PLACEHOLDER = "(liên kết đánh giá được tạo khi gửi thư)"

# Content types a browser might render or run: always served as opaque bytes.
_SAFE_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
_RISKY_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml",
                "application/xml", "text/javascript", "application/javascript")


def _wf() -> Any:
    from mailbot.dossier import workflow

    return workflow


def _policy(ctx: Ctx) -> Any:
    from mailbot.deadlines import DeadlinePolicy

    return DeadlinePolicy.load(ctx.config.rules_path)


def _load(ctx: Ctx, code: str) -> Dossier:
    assert ctx.user is not None
    dossier = ctx.db.exec(select(Dossier).where(Dossier.code == code[:40])).first()
    if dossier is None or not can_see(ctx.user, dossier):
        raise HTTPException(404)
    return dossier


def _back(code: str) -> str:
    return f"/ho-so/{quote(code)}"


def eligible_assignees(ctx: Ctx, dossier: Dossier) -> list[User]:
    """Active staff who could see this dossier: whom it may be assigned to."""
    users = ctx.db.exec(select(User).where(User.disabled == False)  # noqa: E712
                        .order_by(User.username)).all()
    return [u for u in users if u.role in ("clerk", "leader") and can_see(u, dossier)]


def safe_filename(name: str) -> str:
    """A download name with no path, control or direction characters (defence in depth)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name
        if unicodedata.category(ch)[0] != "C" and ch not in '<>:"|?*'
    )
    name = name.strip(" .")
    while ".." in name:
        name = name.replace("..", ".")
    return name[:150] or "tep-dinh-kem"


def download_headers(filename: str, content_type: str) -> dict[str, str]:
    safe = safe_filename(filename)
    ascii_name = safe.encode("ascii", "ignore").decode() or "tep-dinh-kem"
    ascii_name = ascii_name.replace('"', "").replace(";", "_")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not _SAFE_TYPE.match(ctype) or ctype in _RISKY_TYPES or ctype.startswith("text/"):
        ctype = "application/octet-stream"
    return {
        "Content-Type": ctype,
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(safe, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "no-store",
    }


# ---- the dossier page ------------------------------------------------------------------------


def _page_context(ctx: Ctx, dossier: Dossier) -> dict[str, Any]:
    messages = ctx.db.exec(
        select(MailMessage).where(MailMessage.dossier_id == dossier.id)
        .order_by(MailMessage.received_at, MailMessage.id)  # type: ignore[arg-type]
    ).all()
    msg_ids = [m.id for m in messages]
    attachments: dict[int, list[Attachment]] = {}
    if msg_ids:
        for att in ctx.db.exec(select(Attachment).where(
                Attachment.message_pk.in_(msg_ids)).order_by(Attachment.id)).all():  # type: ignore[attr-defined]
            attachments.setdefault(att.message_pk, []).append(att)
    outbox = {
        o.message_id: o for o in ctx.db.exec(
            select(OutboxItem).where(OutboxItem.dossier_id == dossier.id)).all()
    }
    events = ctx.db.exec(
        select(AuditEvent).where(AuditEvent.dossier_id == dossier.id)
        .order_by(AuditEvent.at, AuditEvent.id)  # type: ignore[arg-type]
    ).all()
    assigned = ctx.db.get(User, dossier.assigned_to) if dossier.assigned_to else None
    expl = dossier.explanation or {}
    hits = expl.get("hits") or []
    if not isinstance(hits, list):
        hits = []
    units = unit_choices(ctx.config)
    assert ctx.user is not None
    return {
        "d": dossier,
        "messages": messages,
        "attachments": attachments,
        "outbox": outbox,
        "events": events,
        "assigned": assigned,
        "assignees": eligible_assignees(ctx, dossier) if is_leader(ctx.user) else [],
        "hits": [h for h in hits if isinstance(h, dict)],
        "expl": expl,
        "units": units,
        "unit_name": lambda c: unit_name(ctx.config, c),
        "human_types": [t.value for t in HUMAN_TYPES],
        "all_types": list(REQUEST_TYPE_LABELS),
        "is_open": dossier.status in OPEN_STATUSES,
        "overdue": dossier.due_at is not None and dossier.due_at < ctx.today
        and dossier.status in OPEN_STATUSES and dossier.status != "cho_bo_sung",
        "compose_kinds": COMPOSE_KINDS,
        "users_by_id": {u.id: u for u in ctx.db.exec(select(User)).all()},
    }


@page()
def dossier_page(ctx: Ctx) -> Response:
    dossier = _load(ctx, ctx.request.path_params["code"])
    return ctx.render("dossier.html", **_page_context(ctx, dossier))


def _run_action(ctx: Ctx, dossier: Dossier, fn: Any, done: str) -> Response:
    try:
        fn()
        ctx.db.flush()
    except DossierError as exc:
        ctx.db.rollback()
        ctx.flash(str(exc), "error")
        return ctx.redirect(_back(dossier.code))
    ctx.flash(done)
    return ctx.redirect(_back(dossier.code))


@page()
def reclassify(ctx: Ctx) -> Response:
    dossier = _load(ctx, ctx.request.path_params["code"])
    new_type = ctx.field("request_type")
    if new_type not in REQUEST_TYPE_LABELS:
        raise HTTPException(400, "Loại yêu cầu không hợp lệ.")
    assert ctx.user is not None
    if new_type == "to_cao" and not (ctx.user.role == "leader" or ctx.user.kntc):
        # The clerk would lose sight of it at once; allowed, but say so.
        ctx.flash("Hồ sơ tố cáo chỉ lãnh đạo và cán bộ KNTC xem được.", "warn")
    return _run_action(
        ctx, dossier,
        lambda: _wf().reclassify(ctx.db, dossier, new_type, actor=ctx.actor, now=ctx.now,
                                 policy=_policy(ctx)),
        f"Đã phân loại lại: {REQUEST_TYPE_LABELS[new_type]}.",
    )


@page()
def assign(ctx: Ctx) -> Response:
    dossier = _load(ctx, ctx.request.path_params["code"])
    assert ctx.user is not None
    target = ctx.field("user_id")
    if target == "me" or not target:
        user_id = ctx.user.id
    else:
        if not is_leader(ctx.user):
            raise HTTPException(403, "Chỉ lãnh đạo mới giao hồ sơ cho người khác.")
        try:
            user_id = int(target)
        except ValueError:
            raise HTTPException(400, "Người được giao không hợp lệ.") from None
        if user_id not in {u.id for u in eligible_assignees(ctx, dossier)}:
            raise HTTPException(400, "Người này không xử lý được hồ sơ của đơn vị.")
    return _run_action(
        ctx, dossier,
        lambda: _wf().assign(ctx.db, dossier, user_id, actor=ctx.actor, now=ctx.now),
        "Đã giao xử lý hồ sơ.",
    )


@page()
def change_unit(ctx: Ctx) -> Response:
    dossier = _load(ctx, ctx.request.path_params["code"])
    unit = ctx.field("unit").upper()
    codes = {u.code for u in unit_choices(ctx.config)} | {"OUTSIDE"}
    if unit not in codes:
        raise HTTPException(400, "Đơn vị không hợp lệ.")
    return _run_action(
        ctx, dossier,
        lambda: _wf().change_unit(ctx.db, dossier, unit, actor=ctx.actor, now=ctx.now),
        f"Đã đổi đơn vị có thẩm quyền: {unit_name(ctx.config, unit)}.",
    )


@page()
def resume(ctx: Ctx) -> Response:
    dossier = _load(ctx, ctx.request.path_params["code"])
    return _run_action(
        ctx, dossier,
        lambda: _wf().resume_after_supplement(ctx.db, dossier, actor=ctx.actor, now=ctx.now,
                                               policy=_policy(ctx), tz=ctx.config.tz),
        "Đã tiếp tục xử lý hồ sơ.",
    )


@page(roles=("leader", "admin"))
def reopen(ctx: Ctx) -> Response:
    dossier = _load(ctx, ctx.request.path_params["code"])
    reason = ctx.field("reason")[:500]

    def do() -> None:
        _wf().reopen(ctx.db, dossier, actor=ctx.actor, now=ctx.now, policy=_policy(ctx),
                     tz=ctx.config.tz)
        # The reason is the clerk's words about the case, not the citizen's: kept for audit.
        ctx.audit("reopen_reason", dossier.id, reason=reason)

    return _run_action(ctx, dossier, do, "Đã mở lại hồ sơ.")


# ---- composing mail --------------------------------------------------------------------------


def _default_body(ctx: Ctx, dossier: Dossier, kind: str) -> str:
    env = ctx.request.app.state.jinja_text
    return str(env.get_template(f"bodies/{kind}.txt").render(
        d=dossier, type_label=REQUEST_TYPE_LABELS.get(dossier.request_type, ""),
        unit=unit_name(ctx.config, dossier.handling_unit),
    ))


def _forward_target(ctx: Ctx) -> tuple[str, str]:
    """(target stored on the dossier, name written in the notice)."""
    unit = ctx.field("target_unit").upper()
    agency = " ".join(ctx.field("target_agency").split())[:200]
    if agency:
        return agency, agency
    codes = {u.code: u.name for u in unit_choices(ctx.config)}
    if unit in codes:
        return unit, codes[unit]
    raise DossierError("Hãy chọn đơn vị hoặc ghi tên cơ quan nhận đơn chuyển.")


_NONCE_RE = re.compile(r"[0-9a-f]{32}")


@page()
def compose(ctx: Ctx) -> Response:
    """GET: the form with a suggested text; POST action=preview: the mail as it will go out;
    POST action=send: into the outbox, and the dossier moves on."""
    from mailbot import ratings, replies

    dossier = _load(ctx, ctx.request.path_params["code"])
    segment = ctx.request.path_params["kind"]
    if segment not in COMPOSE_KINDS:
        raise HTTPException(404)
    kind, title = COMPOSE_KINDS[segment]
    results = CLOSE_RESULTS if kind == "closing" else REPLY_RESULTS
    error = ""
    preview = None
    # A one-time token per opened form: sending the same form twice (double click, resubmit)
    # queues one mail only.
    nonce = ctx.field("nonce")
    if not _NONCE_RE.fullmatch(nonce):
        nonce = secrets.token_hex(16)
    if ctx.request.method == "GET":
        body = _default_body(ctx, dossier, kind)
        result = "procedure_guidance" if dossier.request_type in ("khieu_nai", "to_cao") \
            else "answer" if dossier.request_type == "hoi_dap" else "guidance"
        if kind == "closing":
            result = "answer" if dossier.status == "da_tra_loi" else result
        send_mail = True
        target_unit, target_agency = "", ""
    else:
        body = (ctx.form.get("body", "") if ctx.form else "")
        body = body.replace("\r\n", "\n")[:MAX_BODY] if isinstance(body, str) else ""
        result = ctx.field("result")
        send_mail = kind != "closing" or ctx.field("send_mail") == "1"
        target_unit, target_agency = ctx.field("target_unit"), ctx.field("target_agency")
        action = ctx.field("action")
        try:
            if kind in ("reply", "closing") and result not in results:
                raise DossierError("Hãy chọn kết quả giải quyết.")
            if send_mail and not body.strip():
                raise DossierError("Nội dung thư đang trống.")
            extra: dict[str, Any] = {}
            target = ("", "")
            if kind == "forward_notice":
                target = _forward_target(ctx)
                extra["forward_target"] = target[1]
            if kind == "closing":
                extra["result_label"] = RESULT_LABELS.get(result, "")
            if action == "send" and PLACEHOLDER_MARK in body:
                raise DossierError("Hãy thay phần trong ngoặc vuông “[Cán bộ ghi …]” bằng nội "
                                   "dung cụ thể trước khi gửi.")
            if action == "send":
                return _send(ctx, dossier, kind, body, result, send_mail, target, extra,
                             ratings, replies, once_key=f"staff:{dossier.code}:{nonce}")
            if send_mail:
                if kind == "closing":
                    extra["rating_url"] = ratings.rating_url(ctx.config.office.public_url,
                                                             "") + RATING_PLACEHOLDER
                preview = replies.preview_staff_mail(ctx.db, ctx.config, dossier, kind=kind,
                                                     body=body, extra=extra)
        except DossierError as exc:
            error = str(exc)
    return ctx.render(
        "compose.html", d=dossier, segment=segment, kind=kind, title=title, body=body,
        result=result, results=results, preview=preview, error=error, send_mail=send_mail,
        target_unit=target_unit, target_agency=target_agency, nonce=nonce,
        units=[u for u in unit_choices(ctx.config) if u.code != dossier.handling_unit],
        unit_name=lambda c: unit_name(ctx.config, c),
    )


def _send(ctx: Ctx, dossier: Dossier, kind: str, body: str, result: str, send_mail: bool,
          target: tuple[str, str], extra: dict[str, Any], ratings: Any, replies: Any,
          *, once_key: str) -> Response:
    wf = _wf()
    if ctx.db.exec(select(OutboxItem.id).where(OutboxItem.once_key == once_key)).first():
        ctx.flash("Thư này đã được gửi trước đó; không gửi lại.")
        return ctx.redirect(_back(dossier.code))
    try:
        if kind == "reply":
            wf.mark_answered(ctx.db, dossier, actor=ctx.actor, now=ctx.now, result=result)
        elif kind == "supplement":
            wf.pause_for_supplement(ctx.db, dossier, actor=ctx.actor, now=ctx.now)
        elif kind == "forward_notice":
            wf.forward(ctx.db, dossier, target[0], actor=ctx.actor, now=ctx.now)
        elif kind == "closing":
            if send_mail:
                token = ratings.issue_rating(ctx.db, dossier, now=ctx.now)
                extra["rating_url"] = ratings.rating_url(ctx.config.office.public_url, token)
            wf.close(ctx.db, dossier, actor=ctx.actor, now=ctx.now, result=result,
                     return_channel="email")
        if send_mail:
            replies.enqueue_staff_mail(ctx.db, ctx.config, dossier, kind=kind, body=body,
                                       actor=ctx.actor, extra=extra, once_key=once_key)
        ctx.db.flush()
    except DossierError as exc:
        ctx.db.rollback()
        ctx.flash(str(exc), "error")
        return ctx.redirect(_back(dossier.code))
    except MailbotError as exc:
        ctx.db.rollback()
        ctx.flash(f"Không tạo được thư: {exc}", "error")
        return ctx.redirect(_back(dossier.code))
    messages = {
        "reply": "Đã đưa thư trả lời vào hàng gửi.",
        "supplement": "Đã gửi đề nghị bổ sung; thời hạn tạm dừng.",
        "forward_notice": "Đã chuyển đơn và gửi thông báo.",
        "closing": "Đã đóng hồ sơ." + (" Thư kết thúc kèm liên kết đánh giá đã vào hàng gửi."
                                       if send_mail else ""),
    }
    ctx.flash(messages[kind])
    return ctx.redirect(_back(dossier.code))


# ---- attachments -----------------------------------------------------------------------------


@page()
def attachment(ctx: Ctx) -> Response:
    dossier = _load(ctx, ctx.request.path_params["code"])
    try:
        att_id = int(ctx.request.path_params["att"])
    except ValueError:
        raise HTTPException(404) from None
    att = ctx.db.get(Attachment, att_id)
    msg = ctx.db.get(MailMessage, att.message_pk) if att else None
    if att is None or msg is None or msg.dossier_id != dossier.id:
        raise HTTPException(404)
    if not att.stored:
        raise HTTPException(404, "Tệp vượt giới hạn dung lượng nên không được lưu riêng; "
                                 "tệp vẫn còn trong thư gốc.")
    try:
        data = read_blob(ctx.config.data_path, att.sha256)
    except OSError:
        raise HTTPException(404, "Không tìm thấy tệp trong kho lưu trữ; báo bộ phận kỹ "
                                 "thuật kiểm tra thư mục dữ liệu (data_dir).") from None
    ctx.audit("attachment_downloaded", dossier.id, attachment_id=att.id, sha256=att.sha256)
    return Response(data, headers=download_headers(att.filename, att.content_type))
