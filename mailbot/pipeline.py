"""Process one mail end to end, in stage order: parse → classify → match → dossier → outbox.

Per mail: one transaction, committed before the source is told the mail is processed, so a
crash at any point loses nothing and a re-read mail is recognised (dedupe key) instead of
processed twice. Any failure quarantines the mail with its reason and the loop carries on.
Every mail gets exactly one outcome log line (codes and ids only, no personal data).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from email.utils import parseaddr

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mailbot.attachments import store_blob
from mailbot.classify import Classification, classify, load_ruleset
from mailbot.config import Config
from mailbot.deadlines import DeadlinePolicy
from mailbot.dossier import workflow
from mailbot.dossier.codes import next_code
from mailbot.dossier.models import (
    HUMAN_TYPES,
    Attachment,
    AuditEvent,
    Dossier,
    DossierStatus,
    MailMessage,
    utcnow,
)
from mailbot.errors import MailbotError, ParseError
from mailbot.match import find_bounced, find_thread
from mailbot.parse import ParsedMail, parse_mail
from mailbot.quarantine import quarantine
from mailbot.replies import enqueue_ack, may_autoreply
from mailbot.sources import FetchedMail, MailSource

log = logging.getLogger("mailbot.pipeline")

_HUMAN = {t.value for t in HUMAN_TYPES}


@dataclass
class Outcome:
    """What happened to one mail: the single line the log and `poll --json` report."""

    mailbox: str
    ref: str
    message_id: str = ""
    action: str = ""  # new_dossier | follow_up | machine | spam | bounce | duplicate | quarantined
    code: str | None = None
    request_type: str | None = None
    unit: str | None = None
    reply_queued: bool = False
    reason: str = ""

    def log_line(self) -> str:
        parts = [f"mail {self.message_id or self.ref} ({self.mailbox}): {self.action}"]
        if self.code:
            parts.append(f"dossier {self.code}")
        if self.request_type:
            parts.append(f"type {self.request_type}")
        if self.unit:
            parts.append(f"unit {self.unit}")
        if self.reply_queued:
            parts.append("acknowledgement queued")
        if self.reason:
            parts.append(self.reason)
        return ", ".join(parts)


@dataclass
class PollResult:
    outcomes: list[Outcome] = field(default_factory=list)
    sent: int = 0
    send_retried: int = 0
    send_failed: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.action] = out.get(o.action, 0) + 1
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "processed": len(self.outcomes),
            "by_action": self.counts(),
            "sent": self.sent,
            "send_retried": self.send_retried,
            "send_failed": self.send_failed,
            "errors": self.errors,
            "mails": [asdict(o) for o in self.outcomes],
        }


_FORM_NAME = re.compile(r"^\s*(?:Họ và tên|Họ tên|Ho va ten|Ho ten)\s*:\s*(.{2,80}?)\s*$",
                        re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Citizen:
    addr: str
    name: str
    channel: str  # email | web_form


def citizen_of(mail: ParsedMail, result: Classification) -> Citizen:
    """Who the office answers: the sender, or for a portal web form the citizen it relays.

    A portal sends from a no-reply address and gives the citizen's address in Reply-To
    (and the name in the form's "Họ và tên" line); answering the portal would go nowhere.
    """
    relay = any(h.rule == "web_form.relay" for h in result.hits)
    reply_to = parseaddr(mail.headers.get("reply-to", ""))[1].strip().lower()
    # Reply-To is trusted only from a no-reply sender (a portal): from anyone else it could
    # steer the office's mail to a third party.
    if not may_autoreply(mail.from_addr) and reply_to and "@" in reply_to:
        found = _FORM_NAME.search(mail.new_text or mail.text)
        name = found.group(1) if found else parseaddr(mail.headers.get("reply-to", ""))[0]
        return Citizen(reply_to, name, "web_form" if relay else "email")
    return Citizen(mail.from_addr, mail.from_name, "web_form" if relay else "email")


def _same_citizen(mail: ParsedMail, dossier: Dossier) -> bool:
    """A portal relay's Reply-To is the citizen of a web-form dossier."""
    reply_to = parseaddr(mail.headers.get("reply-to", ""))[1].strip().lower()
    return not may_autoreply(mail.from_addr) and reply_to == dossier.sender_addr


def dedupe_key(message_id: str, raw: bytes) -> str:
    """Message-ID + body hash: the same mail re-read after a crash or UIDVALIDITY change."""
    sep = raw.find(b"\r\n\r\n")
    if sep < 0:
        sep = raw.find(b"\n\n")
    body = raw[sep:] if sep >= 0 else raw
    return hashlib.sha256(message_id.encode("utf-8", "replace") + b"\0" + body).hexdigest()


class Pipeline:
    """Holds what is loaded once per poll (rules, policy) and processes mails one by one."""

    def __init__(self, config: Config, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self.rules = load_ruleset(config.rules_path)
        self.policy = DeadlinePolicy.load(config.rules_path)
        self.data_dir = config.data_path

    # ---- the loop boundary -----------------------------------------------------------------
    def process(self, source_name: str, receiving_unit: str, fetched: FetchedMail) -> Outcome:
        outcome = Outcome(mailbox=source_name, ref=fetched.ref)
        raw = fetched.raw
        if len(raw) > self.config.limits.max_mail_bytes:
            return self._quarantine(outcome, raw, "size",
                                    f"thư {len(raw)} byte vượt giới hạn "
                                    f"limits.max_mail_bytes = {self.config.limits.max_mail_bytes}")
        try:
            mail = parse_mail(raw)
        except ParseError as exc:
            return self._quarantine(outcome, raw, "parse", str(exc))
        except Exception as exc:  # a parser bug must not stop the service
            log.exception("parser failed on %s", fetched.ref)
            return self._quarantine(outcome, raw, "parse", f"lỗi bộ phân tích: {exc!r}")
        outcome.message_id = mail.message_id
        try:
            arrived = fetched.arrived_at or datetime.now(UTC)
            with Session(self.engine, expire_on_commit=False) as session:
                self._store(session, outcome, mail, raw, arrived, receiving_unit, source_name)
                session.commit()
        except MailbotError as exc:
            return self._quarantine(outcome, raw, "store", str(exc))
        except IntegrityError:
            # Another worker stored the same mail between our dedupe check and our commit.
            if self._already_stored(mail, raw):
                outcome.action = "duplicate"
                return outcome
            log.exception("storing %s failed", mail.message_id)
            return self._quarantine(outcome, raw, "store", "lỗi ràng buộc dữ liệu khi lưu hồ sơ")
        except Exception as exc:
            log.exception("storing %s failed", mail.message_id)
            return self._quarantine(outcome, raw, "store", f"lỗi khi lưu hồ sơ: {exc!r}")
        return outcome

    def _already_stored(self, mail: ParsedMail, raw: bytes) -> bool:
        key = dedupe_key(mail.message_id, raw)
        with Session(self.engine) as session:
            found = session.exec(select(MailMessage.id).where(MailMessage.dedupe_key == key))
            return found.first() is not None

    def _quarantine(self, outcome: Outcome, raw: bytes, stage: str, reason: str) -> Outcome:
        quarantine(self.engine, mailbox=outcome.mailbox, ref=outcome.ref, stage=stage,
                   reason=reason, raw=raw)
        outcome.action = "quarantined"
        outcome.reason = f"{stage}: {reason}"
        return outcome

    # ---- one mail, one transaction -----------------------------------------------------------
    def _store(self, session: Session, outcome: Outcome, mail: ParsedMail, raw: bytes,
               arrived: datetime, receiving_unit: str, source_name: str) -> None:
        key = dedupe_key(mail.message_id, raw)
        if session.exec(select(MailMessage.id).where(MailMessage.dedupe_key == key)).first():
            outcome.action = "duplicate"
            return
        effective = self.policy.effective_receipt(arrived, self.config.tz, receiving_unit)
        result = classify(mail, self.rules, received=effective,
                          threshold=self.config.triage_threshold)
        outcome.request_type = result.request_type
        message = self._message_row(mail, raw, key, arrived, result, source_name)

        if result.request_type not in _HUMAN:
            self._store_machine(session, outcome, mail, message, result)
            return

        dossier, how = find_thread(session, mail)
        if dossier is not None:
            self._follow_up(session, outcome, dossier, mail, message, result, effective, how)
        else:
            self._new_dossier(session, outcome, mail, message, result, arrived, effective,
                              receiving_unit)

    def _message_row(self, mail: ParsedMail, raw: bytes, key: str, arrived: datetime,
                     result: Classification, source_name: str) -> MailMessage:
        sent_at = mail.date.astimezone(UTC) if mail.date else None
        return MailMessage(
            direction="in",
            message_id=mail.message_id,
            dedupe_key=key,
            in_reply_to=mail.in_reply_to,
            references=list(mail.references),
            subject=mail.subject[:2000],
            from_addr=mail.from_addr[:320],
            from_name=mail.from_name[:320],
            to_addr=", ".join(mail.to_addrs)[:2000],
            sent_at=sent_at,
            received_at=arrived.astimezone(UTC),
            request_type=result.request_type,
            machine_kind=result.machine_kind,
            needs_reply=result.needs_reply,
            body_text=mail.text,
            new_text=mail.new_text,
            classification=explanation(result),
            source=source_name,
            raw=raw,
        )

    def _save_attachments(self, session: Session, mail: ParsedMail, message: MailMessage) -> None:
        assert message.id is not None
        limit = self.config.limits.max_attachment_bytes
        for att in mail.attachments:
            size = len(att.data)
            if size > limit:
                session.add(Attachment(message_pk=message.id, filename=att.filename,
                                       content_type=att.content_type, size=size,
                                       sha256=hashlib.sha256(att.data).hexdigest(), stored=False,
                                       note=f"quá giới hạn {limit} byte, chỉ lưu trong thư gốc"))
                continue
            digest = store_blob(self.data_dir, att.data)
            session.add(Attachment(message_pk=message.id, filename=att.filename,
                                   content_type=att.content_type, size=size, sha256=digest))

    def _store_machine(self, session: Session, outcome: Outcome, mail: ParsedMail,
                       message: MailMessage, result: Classification) -> None:
        if result.machine_kind == "bounce":
            dossier = find_bounced(session, mail)
            if dossier is not None:
                message.dossier_id = dossier.id
                message.disposition = "bounce"
                dossier.bounced = True
                dossier.updated_at = utcnow()
                session.add(dossier)
                session.add(message)
                session.flush()
                session.add(AuditEvent(dossier_id=dossier.id, actor="system",
                                       action="bounce_received",
                                       detail={"message_id": mail.message_id}))
                outcome.action, outcome.code = "bounce", dossier.code
                return
        message.disposition = result.request_type  # tu_dong | thu_rac
        session.add(message)
        session.flush()
        if result.request_type == "tu_dong":
            outcome.action = "machine"
            outcome.reason = result.machine_kind or ""
        else:
            self._save_attachments(session, mail, message)
            outcome.action = "spam"

    def _follow_up(self, session: Session, outcome: Outcome, dossier: Dossier, mail: ParsedMail,
                   message: MailMessage, result: Classification, effective: date,
                   how: str) -> None:
        assert dossier.id is not None
        now = utcnow()
        message.dossier_id = dossier.id
        message.disposition = "follow_up" if result.needs_reply else "closing"
        session.add(message)
        session.flush()
        self._save_attachments(session, mail, message)
        session.add(AuditEvent(dossier_id=dossier.id, actor="system", action="message_added",
                               detail={"message_id": message.message_id, "linked_by": how,
                                       "request_type": result.request_type,
                                       "needs_reply": result.needs_reply}))
        outcome.action, outcome.code = "follow_up", dossier.code
        outcome.request_type, outcome.unit = dossier.request_type, dossier.unit
        if mail.from_addr != dossier.sender_addr and not _same_citizen(mail, dossier):
            # Someone else in the thread (a reply-all by the other party, a colleague): the mail
            # is kept with the dossier for the clerk, but it neither reopens it nor is answered.
            session.add(AuditEvent(dossier_id=dossier.id, actor="system",
                                   action="other_sender_in_thread",
                                   detail={"message_id": message.message_id}))
            outcome.reason = "người gửi khác người yêu cầu: chỉ lưu vào hồ sơ"
            return
        if not result.needs_reply:
            return
        # Each new human message gets its own due date (DOMAIN.md §4.2).
        if dossier.status == DossierStatus.cho_bo_sung.value:
            workflow.resume_after_supplement(session, dossier, actor="system", now=now,
                                             policy=self.policy)
        elif dossier.status in (DossierStatus.da_tra_loi.value, DossierStatus.da_dong.value):
            workflow.reopen(session, dossier, actor="system", now=now, policy=self.policy)
        due = self.policy.reply_due(dossier.request_type, effective)
        if due is not None and (dossier.due_at is None or due > dossier.due_at):
            session.add(AuditEvent(dossier_id=dossier.id, actor="system", action="due_changed",
                                   detail={"from": str(dossier.due_at), "to": str(due)}))
            dossier.due_at = due
        dossier.updated_at = now
        session.add(dossier)
        session.flush()
        outcome.reply_queued = enqueue_ack(session, self.config, dossier, followup=True) is not None

    def _new_dossier(self, session: Session, outcome: Outcome, mail: ParsedMail,
                     message: MailMessage, result: Classification, arrived: datetime,
                     effective: date, receiving_unit: str) -> None:
        now = utcnow()
        unit = result.unit
        handling = unit if unit and unit != "OUTSIDE" else receiving_unit
        citizen = citizen_of(mail, result)
        code = next_code(session, receiving_unit, effective.year)
        status = DossierStatus.can_phan_loai if result.needs_triage else DossierStatus.moi
        closed_at = None
        result_label = None
        if not result.needs_reply:  # a standalone "thank you": logged, nothing owed
            status, closed_at, result_label = DossierStatus.da_dong, now, "no_reply"
        due = self.policy.reply_due(result.request_type, effective) if result.needs_reply else None
        dossier = Dossier(
            code=code,
            receiving_unit=receiving_unit,
            unit=unit,
            handling_unit=handling,
            request_type=result.request_type,
            status=status.value,
            needs_triage=result.needs_triage,
            confidence=result.confidence,
            channel=citizen.channel,
            sender_addr=citizen.addr,
            sender_name=citizen.name,
            subject=mail.subject[:1000],
            judgment_refs=list(result.judgment_refs),
            enforcement_refs=list(result.enforcement_refs),
            explanation=explanation(result),
            received_at=arrived.astimezone(UTC),
            effective_receipt=effective,
            due_at=due,
            closed_at=closed_at,
            result=result_label,
        )
        session.add(dossier)
        session.flush()
        message.dossier_id = dossier.id
        message.disposition = "human"
        session.add(message)
        session.flush()
        self._save_attachments(session, mail, message)
        session.add(AuditEvent(
            dossier_id=dossier.id, actor="rule:classify", action="received",
            detail={"message_id": mail.message_id, "request_type": result.request_type,
                    "confidence": round(result.confidence, 3), "unit": unit,
                    "needs_triage": result.needs_triage,
                    "rules": [h.rule for h in result.hits][:20]},
        ))
        outcome.action, outcome.code = "new_dossier", code
        outcome.unit = unit
        if result.needs_reply:
            outcome.reply_queued = enqueue_ack(session, self.config, dossier) is not None


def explanation(result: Classification) -> dict[str, object]:
    """What a clerk sees under "vì sao": the rules that fired and the decision, no personal data."""
    return {
        "request_type": result.request_type,
        "confidence": round(result.confidence, 3),
        "needs_reply": result.needs_reply,
        "machine_kind": result.machine_kind,
        "unit": result.unit,
        "court": result.court,
        "instance": result.instance,
        "hits": [{"rule": h.rule, "score": h.score, "where": h.where, "detail": h.detail}
                 for h in result.hits],
        "outside_hint": result.extra.get("outside_hint", "") if result.extra else "",
    }


def process_source(pipeline: Pipeline, source: MailSource,
                   on_mail: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Process every new mail of one source; mark each processed only after its commit."""
    outcomes = []
    for fetched in source.fetch_new():
        outcome = pipeline.process(source.name, source.unit, fetched)
        try:
            if outcome.action == "quarantined":
                source.mark_quarantined(fetched.ref)
            else:
                source.mark_processed(fetched.ref)
        except MailbotError as exc:
            # Committed but not moved: the next poll sees it again and the dedupe key skips it.
            log.warning("could not mark %s processed: %s", fetched.ref, exc)
        log.info(outcome.log_line())
        outcomes.append(outcome)
        if on_mail:
            on_mail(outcome)
    return outcomes


def poll_once(config: Config, engine: Engine, *, send: bool = True,
              on_mail: Callable[[Outcome], None] | None = None) -> PollResult:
    """Fetch and process all new mail of every mailbox, then drain the outbox."""
    from mailbot.send import drain_once
    from mailbot.sources.factory import open_source

    result = PollResult()
    pipeline = Pipeline(config, engine)
    for mailbox in config.mailbox:
        try:
            source = open_source(mailbox, config, engine)
        except MailbotError as exc:
            log.error("mailbox %s: %s", mailbox.name, exc)
            result.errors.append(f"{mailbox.name}: {exc}")
            continue
        try:
            result.outcomes.extend(process_source(pipeline, source, on_mail))
        except MailbotError as exc:
            log.error("mailbox %s: %s", mailbox.name, exc)
            result.errors.append(f"{mailbox.name}: {exc}")
        finally:
            source.close()
    if send:
        try:
            drained = drain_once(engine, config)
            result.sent, result.send_retried, result.send_failed = (
                drained.sent, drained.retried, drained.failed)
        except MailbotError as exc:
            log.error("outbox: %s", exc)
            result.errors.append(f"outbox: {exc}")
    return result
