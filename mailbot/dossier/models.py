"""SQLModel tables of the register (sổ theo dõi): dossiers, their mail, attachments, audit trail,
outbox, mailbox cursors, quarantine, users and satisfaction ratings.

Conventions, so that SQLite and PostgreSQL behave the same:
- every ``datetime`` column holds aware UTC (``utcnow()``): sqlmodel's ``UTCDateTime`` columns
  refuse naive values and return aware ones; ``as_utc()`` reads any value safely;
- every ``date`` column (effective receipt, due dates) is a calendar date in the office's
  time zone (Asia/Ho_Chi_Minh by default);
- lists and explanations are JSON columns.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC now: the one time representation stored in the database."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC from a stored value (a naive one, from an older database, is UTC)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class RequestType(enum.StrEnum):
    """Request types (loại yêu cầu), named as a clerk names them."""

    yeu_cau_thi_hanh_an = "yeu_cau_thi_hanh_an"  # request to enforce a judgment
    xac_nhan_ket_qua = "xac_nhan_ket_qua"  # request to confirm the enforcement result
    khieu_nai = "khieu_nai"  # complaint about an enforcement act or decision
    to_cao = "to_cao"  # denunciation of unlawful acts by enforcement staff
    hoi_dap = "hoi_dap"  # questions and every other human request
    tu_dong = "tu_dong"  # machine mail (auto-replies, bounces, lists): never answered
    thu_rac = "thu_rac"  # spam, scams, phishing, adverts: never answered


HUMAN_TYPES = (
    RequestType.yeu_cau_thi_hanh_an,
    RequestType.xac_nhan_ket_qua,
    RequestType.khieu_nai,
    RequestType.to_cao,
    RequestType.hoi_dap,
)

REQUEST_TYPE_LABELS: dict[str, str] = {
    "yeu_cau_thi_hanh_an": "Yêu cầu thi hành án",
    "xac_nhan_ket_qua": "Yêu cầu xác nhận kết quả thi hành án",
    "khieu_nai": "Khiếu nại về thi hành án",
    "to_cao": "Tố cáo về thi hành án",
    "hoi_dap": "Hỏi đáp, yêu cầu khác",
    "tu_dong": "Thư tự động",
    "thu_rac": "Thư rác",
}


class DossierStatus(enum.StrEnum):
    """Dossier status (trạng thái hồ sơ), the workflow of the one-stop register."""

    moi = "moi"  # new: logged, acknowledgement not yet sent
    da_tiep_nhan = "da_tiep_nhan"  # acknowledged: the citizen has the code and the due date
    can_phan_loai = "can_phan_loai"  # needs triage: the automatic classification is unsure
    dang_xu_ly = "dang_xu_ly"  # in progress: assigned to a clerk
    cho_bo_sung = "cho_bo_sung"  # waiting for the citizen to supplement: the clock stops
    da_chuyen = "da_chuyen"  # forwarded to another unit or agency (chuyển đơn)
    da_tra_loi = "da_tra_loi"  # answered: the office's reply was sent
    da_dong = "da_dong"  # closed with a result


STATUS_LABELS: dict[str, str] = {
    "moi": "Mới",
    "da_tiep_nhan": "Đã tiếp nhận",
    "can_phan_loai": "Cần phân loại",
    "dang_xu_ly": "Đang xử lý",
    "cho_bo_sung": "Chờ bổ sung",
    "da_chuyen": "Đã chuyển đơn",
    "da_tra_loi": "Đã trả lời",
    "da_dong": "Đã đóng",
}

# Statuses in which the office still owes an answer (the reply clock runs, unless paused).
OPEN_STATUSES = ("moi", "da_tiep_nhan", "can_phan_loai", "dang_xu_ly", "cho_bo_sung")


class Dossier(SQLModel, table=True):
    """One citizen request (hồ sơ) with its deadline and outcome."""

    # Covering index of the statistics (mailbot/report/stats.py): its leading columns are the
    # period filter and the GROUP BY, so SQLite aggregates in index order without a sort, and
    # the other columns are every one the report reads, so it never touches the wide rows.
    __table_args__ = (
        Index(
            "ix_dossier_report",
            "effective_receipt",
            "handling_unit",
            "request_type",
            "status",
            "result",
            "answered_at",
            "closed_at",
            "first_reply_at",
            "updated_at",
            "due_at",
            "paused_at",
            "channel",
            "paper_channel",
            "return_channel",
            "reopened_count",
            "first_reply_on",
            "resolved_on",
            "closed_on",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)  # e.g. KG-2017-000123
    # Unit code that received the mail (the mailbox's unit).
    receiving_unit: str = Field(index=True, max_length=40)
    # Competent unit as decided by routing or a clerk: a unit code, "OUTSIDE" or None.
    unit: str | None = Field(default=None, index=True, max_length=40)
    # The unit that must handle and report it: `unit` if it is one of ours, else receiving_unit.
    handling_unit: str = Field(index=True, max_length=40)
    request_type: str = Field(index=True, max_length=40)
    status: str = Field(default=DossierStatus.moi.value, index=True, max_length=20)
    needs_triage: bool = Field(default=False, index=True)
    confidence: float = 0.0
    channel: str = Field(default="email", max_length=20)  # email | web_form | counter
    sender_addr: str = Field(index=True, max_length=320)
    sender_name: str = Field(default="", max_length=320)
    subject: str = Field(default="", max_length=1000)
    judgment_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    enforcement_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # Why the automatic decision was taken: rule hits, scores, court found.
    explanation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    received_at: datetime = Field(index=True)  # arrival in the mailbox, UTC
    effective_receipt: date = Field(index=True)  # receipt day after office-hours rules
    due_at: date | None = Field(default=None, index=True)  # reply due (local date)
    acknowledged_at: datetime | None = None
    first_reply_at: datetime | None = None  # first answer by staff (not the acknowledgement)
    answered_at: datetime | None = Field(default=None, index=True)
    closed_at: datetime | None = Field(default=None, index=True)
    result: str | None = Field(default=None, max_length=40)  # outcome, DOMAIN.md §2
    # Local dates (Asia/Ho_Chi_Minh) derived from the columns above whenever a dossier is
    # written (workflow.report_dates), so reports need no date arithmetic per row: the first
    # reply (else the resolution), the resolution as stats.py defines it, and the closing.
    # NULL on rows written before they existed: the report then computes them.
    first_reply_on: date | None = None
    resolved_on: date | None = None
    closed_on: date | None = None
    # Paper dossier handed in at the counter or by post (Biểu số 2 columns 4 and 5).
    paper_channel: str | None = Field(default=None, max_length=20)  # counter | post
    # How the result was returned (Biểu số 2 columns 11-13): counter | notice | email
    return_channel: str | None = Field(default=None, max_length=20)
    forwarded_to: str | None = Field(default=None, max_length=200)
    assigned_to: int | None = Field(default=None, foreign_key="user.id", index=True)
    # Clock stop while waiting for the citizen (chờ bổ sung).
    paused_at: datetime | None = None
    paused_workdays: int = 0
    bounced: bool = Field(default=False, index=True)  # one of our replies bounced
    reopened_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MailMessage(SQLModel, table=True):
    """A mail in or out. Machine mail and spam are kept here with no dossier (volumes apart)."""

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    direction: str = Field(max_length=3)  # "in" | "out"
    message_id: str = Field(index=True, max_length=998)
    # sha256(Message-ID + body bytes): the same mail seen twice (restart, UIDVALIDITY change).
    dedupe_key: str = Field(unique=True, max_length=64)
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    subject: str = Field(default="", max_length=2000)
    from_addr: str = Field(default="", max_length=320)
    from_name: str = Field(default="", max_length=320)
    to_addr: str = Field(default="", max_length=2000)
    sent_at: datetime | None = None  # the Date: header, UTC
    received_at: datetime = Field(default_factory=utcnow, index=True)  # arrival, UTC
    request_type: str | None = Field(default=None, index=True, max_length=40)
    # tu_dong / thu_rac / human / follow_up / bounce / closing: what the pipeline decided.
    disposition: str = Field(default="human", index=True, max_length=40)
    machine_kind: str | None = Field(default=None, max_length=20)
    needs_reply: bool = False
    body_text: str = ""  # full readable text (HTML turned into text)
    new_text: str = ""  # the writer's new text, without quotes and signature
    classification: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    source: str = Field(default="", max_length=200)  # mailbox name + folder
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Attachment(SQLModel, table=True):
    """An attachment, stored once in the content-addressed store under its sha256."""

    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = Field(foreign_key="mailmessage.id", index=True)
    filename: str = Field(max_length=255)  # made safe: no path, no control characters
    content_type: str = Field(max_length=255)
    size: int
    sha256: str = Field(index=True, max_length=64)
    stored: bool = True  # False when over the size limit: kept in raw only
    note: str = Field(default="", max_length=500)


class AuditEvent(SQLModel, table=True):
    """Audit trail: what happened to which dossier, who or which rule did it, when.

    Never holds mail content or personal data: codes, types, units, rule names only.
    """

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)  # "system", "rule:<name>", "user:<username>"
    action: str = Field(index=True, max_length=60)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class OutboxItem(SQLModel, table=True):
    """A mail waiting to be sent. Written before any attempt; marked sent exactly once."""

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    # ack | ack_followup | reply | supplement | forward_notice | closing | reminder | digest |
    # escalation
    kind: str = Field(index=True, max_length=30)
    automatic: bool = True  # counts for the one-automatic-reply-per-day guard
    to_addr: str = Field(max_length=2000)
    subject: str = Field(default="", max_length=2000)
    message_id: str = Field(unique=True, max_length=998)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="pending", index=True, max_length=10)  # pending|sending|sent|failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = Field(default="", max_length=2000)
    # Makes a reminder or digest idempotent: the same key is never enqueued twice.
    once_key: str | None = Field(default=None, unique=True, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SourceCursor(SQLModel, table=True):
    """Where reading a mailbox folder stopped: UIDVALIDITY and the last UID seen."""

    __table_args__ = (UniqueConstraint("mailbox", "folder"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=200)
    folder: str = Field(max_length=500)
    uidvalidity: int = 0
    last_uid: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class Quarantined(SQLModel, table=True):
    """A mail that failed a stage: raw bytes kept with the reason, shown to staff."""

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=200)
    source_ref: str = Field(default="", max_length=500)  # UID or Maildir key
    stage: str = Field(max_length=40)  # parse | classify | store | ...
    reason: str = Field(max_length=4000)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    raw_sha256: str = Field(index=True, max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)
    resolved: bool = False


class DossierCounter(SQLModel, table=True):
    """Per unit and year sequence behind the human-friendly dossier codes."""

    __table_args__ = (UniqueConstraint("unit", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit: str = Field(max_length=40)
    year: int
    last: int = 0


class User(SQLModel, table=True):
    """A member of staff who logs into the web desk."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=100)
    full_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)
    password_hash: str = Field(max_length=500)
    role: str = Field(default="clerk", max_length=20)  # clerk | leader | admin
    units: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    kntc: bool = False  # complaints/denunciations staff: may see to_cao dossiers
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Rating(SQLModel, table=True):
    """Satisfaction rating (đánh giá mức độ hài lòng), never linked to a name in reports."""

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    expires_at: datetime
    used_at: datetime | None = None
    # rat_hai_long | hai_long | chua_hai_long
    level: str | None = Field(default=None, max_length=30)
    comment: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
