"""Render a mail from templates/mail/<kind>.* and put it in the outbox; never talks SMTP.

The Message-ID is fixed here, at enqueue time, so retries reuse it and a citizen's answer to
our mail threads back to the dossier. Each outgoing mail is also recorded as a MailMessage
(direction "out") of its dossier.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import func
from sqlmodel import Session, select

from mailbot import mailtext
from mailbot.config import Config
from mailbot.dossier.models import (
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    AuditEvent,
    Dossier,
    MailMessage,
    OutboxItem,
    as_utc,
)
from mailbot.errors import TemplateError

# Senders that must never get an automatic reply (RFC 3834 §2).
_NO_AUTOREPLY = re.compile(
    r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|noreply[-.\w]*|bounces?[-+.\w]*)@",
    re.IGNORECASE,
)

# Headers set with set_raw() are written as they are; the rest is folded as usual.
_POLICY = SMTP.clone(refold_source="none")

HUMAN_ACK_KINDS = {
    "yeu_cau_thi_hanh_an": "ack_yeu_cau_thi_hanh_an",
    "xac_nhan_ket_qua": "ack_xac_nhan_ket_qua",
    "khieu_nai": "ack_khieu_nai",
    "to_cao": "ack_to_cao",
    "hoi_dap": "ack_hoi_dap",
}
STAFF_KINDS = ("reply", "supplement", "forward_notice", "closing")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=8)
def _environment(templates_dir: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    env.filters["date_vn"] = mailtext.date_vn
    env.filters["weekday_vn"] = mailtext.weekday_vn
    env.filters["datetime_vn"] = mailtext.datetime_vn
    return env


def render_mail(config: Config, kind: str, context: dict[str, Any]) -> RenderedMail:
    """Render the three templates of one kind; a missing variable is an error, not a blank."""
    env = _environment(str(config.templates_path / "mail"))
    parts = []
    for suffix in ("subject.txt", "txt", "html"):
        name = f"{kind}.{suffix}"
        try:
            parts.append(env.get_template(name).render(**context))
        except jinja2.TemplateNotFound:
            raise TemplateError(
                f"thiếu mẫu thư {config.templates_path / 'mail' / name}; hãy khôi phục tệp này "
                "từ bản phát hành mailbot hoặc kiểm tra templates_dir trong cấu hình"
            ) from None
        except jinja2.TemplateError as exc:
            raise TemplateError(f"mẫu thư {name} bị lỗi: {exc}") from exc
    subject = " ".join(parts[0].split())
    return RenderedMail(subject=subject, text=parts[1], html=parts[2])


# ---- context --------------------------------------------------------------------------------


def _unit_dict(config: Config, code: str | None, on: date) -> dict[str, Any] | None:
    if not code or code == "OUTSIDE":
        return None
    from mailbot.units import load_units

    unit = load_units(config.rules_path).get(code)
    if unit is None:
        return {"code": code, "name": code, "address": "", "phone": "", "email": "",
                "focal_officer": ""}
    return {
        "code": unit.code,
        "name": unit.name,
        "address": unit.address or "",
        "phone": unit.phone or "",
        "email": unit.email or "",
        "focal_officer": unit.focal_officer or "",
    }


def _statutory(config: Config, request_type: str, on: date) -> list[dict[str, Any]]:
    """Statutory limits in force on the receipt date, for the guidance in the mail."""
    from mailbot.deadlines import DeadlinePolicy

    limits = DeadlinePolicy.load(config.rules_path).statutory(request_type, on)
    return [lim.as_dict() for lim in limits]


def _limitation_warning(dossier: Dossier) -> bool:
    """A judgment more than 5 years old: the limitation period (Điều 30) may have run."""
    year = dossier.effective_receipt.year
    for ref in dossier.judgment_refs or []:
        parts = ref.split("/")
        if len(parts) >= 2 and parts[1].isdigit() and year - int(parts[1]) > 5:
            return True
    return False


def dossier_context(config: Config, dossier: Dossier, **extra: Any) -> dict[str, Any]:
    """The variables every citizen mail template receives (see templates/README.md)."""
    tz = config.tz
    received_local = as_utc(dossier.received_at).astimezone(tz)
    expl = dossier.explanation or {}
    ctx: dict[str, Any] = {
        "office": {
            "name": config.office.name,
            "from_addr": config.office.from_addr,
            "from_name": config.office.from_name,
            "public_url": config.office.public_url,
        },
        "dossier": {
            "code": dossier.code,
            "request_type": dossier.request_type,
            "request_type_label": REQUEST_TYPE_LABELS.get(dossier.request_type, ""),
            "subject": dossier.subject,
            "received_at": received_local,
            "effective_receipt": dossier.effective_receipt,
            "due": dossier.due_at,
            "judgment_refs": list(dossier.judgment_refs or []),
            "enforcement_refs": list(dossier.enforcement_refs or []),
            "needs_triage": dossier.needs_triage,
            "status_label": STATUS_LABELS.get(dossier.status, dossier.status),
        },
        "citizen": {"name": dossier.sender_name or "", "email": dossier.sender_addr},
        "unit": _unit_dict(config, dossier.unit, dossier.effective_receipt),
        "receiving_unit": _unit_dict(config, dossier.receiving_unit, dossier.effective_receipt)
        or {"code": dossier.receiving_unit, "name": config.office.name, "address": "",
            "phone": "", "email": config.office.from_addr, "focal_officer": ""},
        "outside": dossier.unit == "OUTSIDE",
        "outside_hint": str(expl.get("outside_hint", "") or ""),
        "statutory": _statutory(config, dossier.request_type, dossier.effective_receipt),
        "flags": {"limitation_warning": _limitation_warning(dossier)},
        "body": "",
        "forward_target": "",
        "result_label": "",
        "rating_url": "",
    }
    ctx.update(extra)
    return ctx


# ---- building and enqueueing ----------------------------------------------------------------


def encode_subject(subject: str) -> str:
    """RFC 2047 subject whose leading ASCII part (the "[dossier code]") stays readable."""
    header = Header(header_name="Subject")
    head, sep, rest = subject.partition("] ")
    if sep and head.isascii():
        header.append(head + "]", "us-ascii")
        subject = rest
    header.append(subject, "us-ascii" if subject.isascii() else "utf-8")
    return header.encode(linesep="\r\n")


def build_message(
    config: Config,
    rendered: RenderedMail,
    *,
    to: str,
    message_id: str,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    automatic: bool = True,
    dossier_code: str | None = None,
) -> bytes:
    # Message-IDs must never be folded into RFC 2047 encoded words: clients would not
    # recognise them in In-Reply-To/References and threading would break.
    msg = EmailMessage(policy=_POLICY)
    # Subject and From are encoded here: the policy's folder drops the space between two
    # encoded words, which would glue Vietnamese words together in the reader's client.
    msg.set_raw("From", formataddr((config.office.from_name, config.office.from_addr),
                                   charset="utf-8"))
    msg["To"] = to
    if config.office.reply_to:
        msg["Reply-To"] = config.office.reply_to
    msg.set_raw("Subject", encode_subject(rendered.subject))
    msg["Date"] = format_datetime(datetime.now(config.tz))
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg.set_raw("In-Reply-To", in_reply_to)
    if references:
        # Keep the header short: the first and the last few ids are what clients need.
        refs = list(references)
        if len(refs) > 10:
            refs = refs[:1] + refs[-9:]
        msg.set_raw("References", "\r\n ".join(refs))
    # RFC 3834: our automatic mail must never trigger another automatic reply.
    msg["Auto-Submitted"] = "auto-replied" if automatic else "no"
    if automatic:
        msg["X-Auto-Response-Suppress"] = "All"
    if dossier_code:
        msg["X-Mailbot-Dossier"] = dossier_code
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg.as_bytes()


def may_autoreply(address: str) -> bool:
    """Never answer null, no-reply or daemon senders automatically (RFC 3834)."""
    return bool(address) and "@" in address and not _NO_AUTOREPLY.match(address)


def autoreplies_today(session: Session, config: Config, dossier_id: int, to: str) -> int:
    """Automatic mails already queued today (office time) to this sender for this dossier."""
    tz = config.tz
    now_local = datetime.now(tz)
    start_local = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
    start_utc = start_local.astimezone(UTC)
    end_utc = start_utc + timedelta(days=1)
    stmt = select(func.count()).select_from(OutboxItem).where(
        OutboxItem.dossier_id == dossier_id,
        OutboxItem.to_addr == to,
        OutboxItem.automatic == True,  # noqa: E712
        OutboxItem.created_at >= start_utc,
        OutboxItem.created_at < end_utc,
    )
    return int(session.exec(stmt).one())


def _thread_headers(session: Session, dossier: Dossier) -> tuple[str | None, tuple[str, ...]]:
    """Reply to the citizen's latest mail; References lists the dossier's thread."""
    msgs = session.exec(
        select(MailMessage.message_id, MailMessage.direction)
        .where(MailMessage.dossier_id == dossier.id)
        .order_by(MailMessage.received_at, MailMessage.id)
    ).all()
    ids = [m for m, _ in msgs]
    incoming = [m for m, d in msgs if d == "in"]
    return (incoming[-1] if incoming else None), tuple(dict.fromkeys(ids))


def enqueue_mail(
    session: Session,
    config: Config,
    *,
    kind: str,
    to: str,
    context: dict[str, Any],
    dossier: Dossier | None = None,
    once_key: str | None = None,
    automatic: bool = True,
    actor: str = "system",
) -> OutboxItem | None:
    """Render and enqueue one mail; None when `once_key` was already used."""
    if once_key is not None:
        existing = session.exec(select(OutboxItem.id).where(OutboxItem.once_key == once_key))
        if existing.first() is not None:
            return None
    rendered = render_mail(config, kind, context)
    message_id = make_msgid(domain=config.message_id_domain)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    if dossier is not None:
        in_reply_to, references = _thread_headers(session, dossier)
    raw = build_message(
        config,
        rendered,
        to=to,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        automatic=automatic,
        dossier_code=dossier.code if dossier else None,
    )
    item = OutboxItem(
        dossier_id=dossier.id if dossier else None,
        kind=kind,
        automatic=automatic,
        to_addr=to,
        subject=rendered.subject,
        message_id=message_id,
        raw=raw,
        once_key=once_key,
    )
    session.add(item)
    if dossier is not None:
        session.add(
            MailMessage(
                dossier_id=dossier.id,
                direction="out",
                message_id=message_id,
                dedupe_key=hashlib.sha256(message_id.encode()).hexdigest(),
                in_reply_to=in_reply_to,
                references=list(references),
                subject=rendered.subject,
                from_addr=config.office.from_addr,
                from_name=config.office.from_name,
                to_addr=to,
                sent_at=None,
                disposition=kind,
                body_text=rendered.text,
                new_text=rendered.text,
                source="outbox",
                raw=raw,
            )
        )
        session.add(
            AuditEvent(
                dossier_id=dossier.id,
                actor=actor,
                action="mail_queued",
                detail={"kind": kind, "message_id": message_id},
            )
        )
    session.flush()
    return item


def enqueue_ack(
    session: Session, config: Config, dossier: Dossier, *, followup: bool = False
) -> OutboxItem | None:
    """The automatic acknowledgement, under the loop and abuse guards; None when withheld."""
    to = dossier.sender_addr
    if not may_autoreply(to):
        session.add(AuditEvent(dossier_id=dossier.id, actor="system", action="ack_withheld",
                               detail={"reason": "no_autoreply_sender"}))
        return None
    assert dossier.id is not None
    limit = config.limits.auto_replies_per_sender_per_day
    if autoreplies_today(session, config, dossier.id, to) >= limit:
        session.add(AuditEvent(dossier_id=dossier.id, actor="system", action="ack_withheld",
                               detail={"reason": "daily_limit"}))
        return None
    if followup:
        kind = "ack_followup"
    elif dossier.needs_triage:
        kind = "ack_generic"
    else:
        kind = HUMAN_ACK_KINDS.get(dossier.request_type, "ack_generic")
    return enqueue_mail(session, config, kind=kind, to=to,
                        context=dossier_context(config, dossier), dossier=dossier)


def preview_staff_mail(
    session: Session,
    config: Config,
    dossier: Dossier,
    *,
    kind: str,
    body: str,
    extra: dict[str, Any] | None = None,
) -> RenderedMail:
    if kind not in STAFF_KINDS:
        raise TemplateError(f"loại thư không hợp lệ: {kind}")
    return render_mail(config, kind, dossier_context(config, dossier, body=body, **(extra or {})))


def enqueue_staff_mail(
    session: Session,
    config: Config,
    dossier: Dossier,
    *,
    kind: str,
    body: str,
    actor: str,
    extra: dict[str, Any] | None = None,
    once_key: str | None = None,
) -> OutboxItem | None:
    """A clerk's reply, supplement request, forward notice or closing mail; None when the
    same form (its `once_key`) was already sent, e.g. after a double click."""
    if kind not in STAFF_KINDS:
        raise TemplateError(f"loại thư không hợp lệ: {kind}")
    ctx = dossier_context(config, dossier, body=body, **(extra or {}))
    return enqueue_mail(session, config, kind=kind, to=dossier.sender_addr, context=ctx,
                        dossier=dossier, automatic=False, actor=actor, once_key=once_key)


def templates_dir_exists(config: Config) -> bool:
    return Path(config.templates_path / "mail").is_dir()
