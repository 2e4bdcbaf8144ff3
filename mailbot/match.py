"""Find the dossier a mail belongs to: In-Reply-To/References, the code in the subject, bounces."""

from __future__ import annotations

from sqlmodel import Session, select

from mailbot.dossier.codes import find_codes
from mailbot.dossier.models import Dossier, MailMessage
from mailbot.parse import ParsedMail


def _by_message_ids(session: Session, ids: list[str]) -> Dossier | None:
    ids = [i for i in ids if i]
    if not ids:
        return None
    rows = session.exec(
        select(MailMessage.message_id, MailMessage.dossier_id).where(
            MailMessage.message_id.in_(ids),  # type: ignore[attr-defined]
            MailMessage.dossier_id.is_not(None),  # type: ignore[union-attr]
        )
    ).all()
    found = {mid: did for mid, did in rows}
    # The latest reference a client wrote is the most specific one.
    for mid in reversed(ids):
        if mid in found:
            return session.get(Dossier, found[mid])
    return None


def find_thread(session: Session, mail: ParsedMail) -> tuple[Dossier | None, str]:
    """The dossier this mail continues, and how it was found ("" when none)."""
    ids = list(mail.references)
    if mail.in_reply_to:
        ids.append(mail.in_reply_to)
    dossier = _by_message_ids(session, ids)
    if dossier is not None:
        return dossier, "references"
    for code in find_codes(mail.subject):
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
        # A code alone only joins mail from the same sender: anyone can type a code.
        if dossier is not None and dossier.sender_addr == mail.from_addr:
            return dossier, "subject_code"
    return None, ""


def find_bounced(session: Session, mail: ParsedMail) -> Dossier | None:
    """For a bounce: the dossier whose mail came back (ids in the returned headers)."""
    return _by_message_ids(session, list(mail.returned_message_ids))
