"""The persistent outbox: claim items by conditional UPDATE, mark sent once, or retry later.

Claiming with ``UPDATE … WHERE status = 'pending'`` means two workers (or a restarted one)
never send the same item: whoever changes the row owns it. An item left in ``sending`` by a
crash is reclaimed after ``STALE_AFTER``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailbot.dossier.models import AuditEvent, Dossier, DossierStatus, OutboxItem, utcnow

STALE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 12
ACK_KINDS = ("ack_yeu_cau_thi_hanh_an", "ack_xac_nhan_ket_qua", "ack_khieu_nai", "ack_to_cao",
             "ack_hoi_dap", "ack_generic")


@dataclass(frozen=True)
class Claimed:
    id: int
    dossier_id: int | None
    kind: str
    to_addr: str
    message_id: str
    raw: bytes
    attempts: int
    token: datetime  # claimed_at as we set it: whoever changes it owns the item now


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour between tries."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def claim_due(engine: Engine, *, now: datetime | None = None, limit: int = 50) -> list[Claimed]:
    """Claim the items that are due; each returned item is ours alone to send."""
    now = now or utcnow()
    stale = now - STALE_AFTER
    due = or_(
        and_(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now),
        and_(OutboxItem.status == "sending", OutboxItem.claimed_at < stale),
    )
    claimed: list[Claimed] = []
    with Session(engine) as session:
        candidates = session.exec(
            select(OutboxItem.id).where(due).order_by(OutboxItem.id).limit(limit)
        ).all()
        for item_id in candidates:
            result = session.exec(  # type: ignore[call-overload]
                update(OutboxItem)
                .where(OutboxItem.id == item_id, due)
                .values(status="sending", claimed_at=now, attempts=OutboxItem.attempts + 1)
            )
            session.commit()
            if result.rowcount == 1:
                item = session.get(OutboxItem, item_id)
                assert item is not None and item.id is not None
                claimed.append(Claimed(item.id, item.dossier_id, item.kind, item.to_addr,
                                       item.message_id, item.raw, item.attempts, now))
    return claimed


def renew(engine: Engine, item: Claimed, *, now: datetime | None = None) -> Claimed | None:
    """Confirm we still own a claimed item right before sending it; None when another worker
    reclaimed it (ours went stale), so it is never sent twice."""
    now = now or utcnow()
    with Session(engine) as session:
        result = session.exec(  # type: ignore[call-overload]
            update(OutboxItem)
            .where(OutboxItem.id == item.id, OutboxItem.status == "sending",
                   OutboxItem.claimed_at == item.token)
            .values(claimed_at=now)
        )
        session.commit()
    if result.rowcount != 1:
        return None
    return replace(item, token=now)


def mark_sent(engine: Engine, item: Claimed, *, now: datetime | None = None) -> bool:
    """Mark one item sent; the first acknowledgement also moves its dossier to da_tiep_nhan."""
    now = now or utcnow()
    with Session(engine) as session:
        result = session.exec(  # type: ignore[call-overload]
            update(OutboxItem)
            .where(OutboxItem.id == item.id, OutboxItem.status == "sending",
                   OutboxItem.claimed_at == item.token)
            .values(status="sent", sent_at=now, last_error="")
        )
        if result.rowcount != 1:
            session.rollback()
            return False
        if item.dossier_id is not None:
            dossier = session.get(Dossier, item.dossier_id)
            if dossier is not None:
                if item.kind in ACK_KINDS and dossier.acknowledged_at is None:
                    dossier.acknowledged_at = now
                    if dossier.status == DossierStatus.moi.value:
                        dossier.status = DossierStatus.da_tiep_nhan.value
                        session.add(AuditEvent(dossier_id=dossier.id, actor="system",
                                               action="status_changed",
                                               detail={"from": "moi", "to": "da_tiep_nhan"}))
                dossier.updated_at = now
                session.add(dossier)
            session.add(AuditEvent(dossier_id=item.dossier_id, actor="system", action="mail_sent",
                                   detail={"kind": item.kind, "message_id": item.message_id}))
        session.commit()
        return True


def mark_failed(
    engine: Engine, item: Claimed, error: str, *, permanent: bool, now: datetime | None = None
) -> str:
    """Retry later with backoff, or give up for good; returns the new status."""
    now = now or utcnow()
    give_up = permanent or item.attempts >= MAX_ATTEMPTS
    status = "failed" if give_up else "pending"
    with Session(engine) as session:
        session.exec(  # type: ignore[call-overload]
            update(OutboxItem)
            .where(OutboxItem.id == item.id, OutboxItem.status == "sending",
                   OutboxItem.claimed_at == item.token)
            .values(status=status, last_error=error[:2000],
                    next_attempt_at=now + backoff(item.attempts))
        )
        if give_up and item.dossier_id is not None:
            session.add(AuditEvent(dossier_id=item.dossier_id, actor="system",
                                   action="send_failed",
                                   detail={"kind": item.kind, "message_id": item.message_id}))
        session.commit()
    return status


def pending_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(
            select(OutboxItem.id).where(OutboxItem.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
        ).all())
