"""Mail sources: list new mail as (ref, raw bytes); mark it processed only after its commit.

CONTRACT (implementation in progress):

- ``fetch_new()`` yields ``FetchedMail`` for every mail not yet marked processed, oldest first.
  It never changes the mailbox (IMAP: BODY.PEEK, no flags touched).
- ``mark_processed(ref)`` is called by the pipeline only after the mail's dossier (or its
  quarantine record) is committed; IMAP moves the mail to the processed folder, Maildir moves it
  to ``.Processed``. Calling it twice for the same ref is harmless.
- ``mark_quarantined(ref)`` likewise, for mail kept in the quarantine table.
- ``close()`` releases the connection.
- Errors reaching the server raise ``SourceError`` with a message an IT person can act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class FetchedMail:
    mailbox: str  # config name of the mailbox
    ref: str  # IMAP "<uidvalidity>:<uid>" or the Maildir key
    raw: bytes
    arrived_at: datetime | None  # server arrival (IMAP INTERNALDATE / file mtime), aware UTC


class MailSource(Protocol):
    name: str
    unit: str

    def fetch_new(self) -> Iterator[FetchedMail]: ...

    def mark_processed(self, ref: str) -> None: ...

    def mark_quarantined(self, ref: str) -> None: ...

    def close(self) -> None: ...
