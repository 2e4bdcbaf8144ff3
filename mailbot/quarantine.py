"""Keep a mail that failed a stage: raw bytes plus the reason, for staff to inspect or retry."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailbot.dossier.models import Quarantined

log = logging.getLogger("mailbot.quarantine")


def quarantine(engine: Engine, *, mailbox: str, ref: str, stage: str, reason: str,
               raw: bytes) -> int:
    """Store the mail in the quarantine table (once per raw content) and return its id."""
    digest = hashlib.sha256(raw).hexdigest()
    with Session(engine) as session:
        existing = session.exec(
            select(Quarantined).where(Quarantined.raw_sha256 == digest,
                                      Quarantined.resolved == False)  # noqa: E712
        ).first()
        if existing is not None and existing.id is not None:
            return existing.id
        row = Quarantined(mailbox=mailbox, source_ref=ref, stage=stage, reason=reason[:4000],
                          raw=raw, raw_sha256=digest)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def list_open(engine: Engine) -> list[Quarantined]:
    with Session(engine) as session:
        return list(session.exec(
            select(Quarantined).where(Quarantined.resolved == False)  # noqa: E712
            .order_by(Quarantined.at)
        ).all())
