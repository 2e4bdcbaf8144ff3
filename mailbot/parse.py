"""Raw bytes → ParsedMail: decoded headers, readable text, attachments; never raises on bad MIME.

CONTRACT (implementation in progress): the fields below are what the rest of mailbot uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str  # safe: no directories, no control characters, never empty
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # "<...>" as in the header; synthesised from the content hash if absent
    in_reply_to: str | None
    references: tuple[str, ...]  # Message-IDs, in header order
    subject: str  # RFC 2047 decoded
    from_addr: str  # lower-case address, "" if none
    from_name: str  # decoded display name
    to_addrs: tuple[str, ...]
    date: datetime | None  # Date: header, timezone-aware, None if missing or invalid
    headers: dict[str, str]  # lower-case name → decoded value (first occurrence)
    text: str  # whole readable body: text/plain, or HTML turned into text
    new_text: str  # the writer's new text: quotes, our quoted guidance, signature removed
    quoted_text: str  # quoted earlier messages (context, not evidence)
    forwarded_text: str  # a forwarded message's content (evidence, unlike quotes)
    attachments: tuple[ParsedAttachment, ...]
    content_type: str  # top-level content type, lower case
    # Message-IDs found in the headers of a returned message (bounce) or a quoted original.
    returned_message_ids: tuple[str, ...] = ()
    defects: tuple[str, ...] = field(default=())  # what was wrong and repaired (charset, MIME)


def parse_mail(raw: bytes) -> ParsedMail:
    raise NotImplementedError
