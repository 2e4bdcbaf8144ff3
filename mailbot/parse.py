"""Raw bytes → ParsedMail: decoded headers, readable text, attachments; never raises on bad MIME.

Uses the fast compat32 parser of the standard library and decodes only what mailbot needs;
every repair (charset, MIME structure, encoding) is recorded in ``defects``. Only input that
is not a mail at all raises ``ParseError``.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from mailbot.errors import ParseError
from mailbot.quoting import split_quotes
from mailbot.textutil import decode_bytes, decode_header, html_to_text, nfc


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
    cc_addrs: tuple[str, ...] = ()  # lower-case addresses from Cc:
    html: str = ""  # decoded HTML body as sent, "" if none; never render its remote content
    # Decoded headers of the first returned (bounced) or attached message, lower-case names.
    returned_headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Input sanity: is this a mail at all?

_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]{1,76}:")


def _check_is_mail(raw: bytes) -> None:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ParseError("Dữ liệu thư không phải dạng byte; không thể phân tích.")
    if not raw or not raw.strip():
        raise ParseError("Thư rỗng (0 byte hoặc chỉ có khoảng trắng): không có gì để phân tích.")
    head = bytes(raw[:4096]).lstrip(b"\r\n")
    if head.startswith(b"From ") and b"\n" in head:  # mbox separator line
        head = head.split(b"\n", 1)[1]
    end = head.find(b"\n\n")
    end2 = head.find(b"\r\n\r\n")
    block = head[: min(x for x in (end, end2, len(head)) if x >= 0)]
    if b"\x00" in block:
        raise ParseError(
            "Dữ liệu không phải thư điện tử: phần tiêu đề chứa byte nhị phân (NUL). "
            "Kiểm tra nguồn thư hoặc tệp được đưa vào."
        )
    if not _HEADER_LINE_RE.match(block):
        raise ParseError(
            "Dữ liệu không phải thư điện tử: dòng đầu không phải một trường tiêu đề "
            "(dạng 'Tên: giá trị'). Kiểm tra nguồn thư hoặc tệp được đưa vào."
        )


# ---------------------------------------------------------------------------------------
# Headers

_MSGID_RE = re.compile(r"<([^<>\s]+)>")
_BAD_ID_RE = re.compile(r"[^\s<>,;\"()]+@[^\s<>,;\"()]+")


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    """Lower-case name → raw values in order.

    Read from compat32's raw (name, value) list: ``msg.get`` would turn raw 8-bit values
    into ``Header`` objects whose text is already lost.
    """
    out: dict[str, list[str]] = {}
    for name, value in msg._headers:
        if not isinstance(value, str):
            value = str(value)
        out.setdefault(name.lower(), []).append(value)
    return out


def _first(rawh: dict[str, list[str]], name: str) -> str | None:
    values = rawh.get(name)
    return values[0] if values else None


def _ids(value: str | None) -> list[str]:
    if not value:
        return []
    if "=?" in value:  # some clients RFC 2047-encode References/In-Reply-To
        value = decode_header(value)
    found = [f"<{m}>" for m in _MSGID_RE.findall(value)]
    if not found:  # some clients omit the angle brackets
        found = [f"<{m}>" for m in _BAD_ID_RE.findall(value)]
    return found


def _parse_date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("invalid_date")
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # "-0000" means UTC of unknown local zone
    return dt


def _address_list(values: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for _name, addr in getaddresses(
        [
            v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            if not v.isascii()
            else v
            for v in values
        ]
    ):
        addr = addr.strip().lower()
        if addr and "@" in addr and addr not in out:
            out.append(addr)
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Filenames

_BIDI_AND_CONTROL = {c: None for c in range(0x20)}
_BIDI_AND_CONTROL.update({0x7F: None})
_BIDI_AND_CONTROL.update({c: None for c in range(0x80, 0xA0)})
_BIDI_AND_CONTROL.update(
    {c: None for c in (0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0xFEFF)}
)
_BIDI_AND_CONTROL.update({c: None for c in range(0x202A, 0x202F)})
_BIDI_AND_CONTROL.update({c: None for c in range(0x2066, 0x206A)})
_UNSAFE_CHARS_RE = re.compile(r'[<>:"|?*]')
_EXT_BY_TYPE = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/tiff": ".tif",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/zip": ".zip",
    "application/x-rar-compressed": ".rar",
    "application/vnd.rar": ".rar",
    "message/rfc822": ".eml",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
}
MAX_FILENAME = 150
DEFAULT_FILENAME = "tep-dinh-kem"


def safe_filename(name: str | None, content_type: str = "application/octet-stream") -> str:
    """A filename safe to store and show: no directories, controls, bidi overrides, leading dots."""
    name = nfc(name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = name.translate(_BIDI_AND_CONTROL)
    name = _UNSAFE_CHARS_RE.sub("_", name)
    name = " ".join(name.split())  # collapse whitespace, strip
    name = name.lstrip(". ").rstrip(". ")
    if name in ("", ".", ".."):
        name = ""
    ext = ""
    stem = name
    if "." in name:
        stem, dot_ext = name.rsplit(".", 1)
        ext = "." + dot_ext
        if len(ext) > 16:  # not a real extension: keep it in the stem
            stem, ext = name, ""
    if not stem:
        stem = DEFAULT_FILENAME
        if not ext:
            ext = _EXT_BY_TYPE.get(content_type, ".bin")
    if len(stem) + len(ext) > MAX_FILENAME:
        stem = stem[: MAX_FILENAME - len(ext)].rstrip(". ") or DEFAULT_FILENAME
    return stem + ext


def _part_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError, TypeError, UnicodeError):
        name = None
    if name is None:
        raw = part.get_param("name")  # some clients put it on Content-Type only
        if isinstance(raw, tuple):
            try:
                name = email.utils.collapse_rfc2231_value(raw)
            except (LookupError, UnicodeError):
                name = raw[2]
        elif isinstance(raw, str):
            name = raw
    if name is None:
        return None
    return decode_header(str(name))


# ---------------------------------------------------------------------------------------
# Body walk


@dataclass
class _Walk:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    returned_ids: list[str] = field(default_factory=list)
    returned_headers: dict[str, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    in_report: bool = False


def _defects_of(part: Message, acc: list[str]) -> None:
    for d in part.defects:
        name = type(d).__name__
        if name not in acc:
            acc.append(name)


def _payload_bytes(part: Message, w: _Walk) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding must not stop the mail
        w.defects.append("undecodable_payload")
        data = None
    if data is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            data = raw.encode("utf-8", "surrogateescape")
        else:
            data = b""
    cte = (part.get("content-transfer-encoding") or "").strip().lower()
    if cte == "base64" and part.defects and "bad_base64" not in w.defects:
        if any("Base64" in type(d).__name__ or "Padding" in type(d).__name__ for d in part.defects):
            w.defects.append("bad_base64")
    return data


def _part_text(part: Message, w: _Walk) -> str:
    data = _payload_bytes(part, w)
    return decode_bytes(
        data, part.get_param("charset") if part.get("content-type") else None, w.defects
    )


_HDR_IDS_RE = re.compile(
    r"^(message-id|in-reply-to|references)[ \t]*:[ \t]*((?:.*)(?:\r?\n[ \t]+.*)*)",
    re.IGNORECASE | re.MULTILINE,
)


def _collect_ids_from_text(text: str, w: _Walk) -> None:
    for m in _HDR_IDS_RE.finditer(text):
        for mid in _ids(m.group(2)):
            if mid not in w.returned_ids:
                w.returned_ids.append(mid)


def _collect_ids_from_message(msg: Message, w: _Walk) -> None:
    rawh = _raw_headers(msg)
    for name in ("message-id", "in-reply-to", "references"):
        for mid in _ids(_first(rawh, name)):
            if mid not in w.returned_ids:
                w.returned_ids.append(mid)
    if not w.returned_headers:
        w.returned_headers.update((k, decode_header(v[0])) for k, v in rawh.items())


def _add_attachment(part: Message, ctype: str, w: _Walk, name: str | None) -> None:
    if ctype == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            data = inner[0].as_bytes() if isinstance(inner[0], Message) else b""
        else:
            data = _payload_bytes(part, w)
        if name is None and isinstance(inner, list) and inner:
            subj = decode_header(inner[0].get("subject"))
            name = (subj[:100] + ".eml") if subj else None
    else:
        data = _payload_bytes(part, w)
    w.attachments.append(ParsedAttachment(safe_filename(name, ctype), ctype, data))


_BODY_TYPES = ("text/plain", "text/html")


def _walk(part: Message, w: _Walk, depth: int) -> None:
    _defects_of(part, w.defects)
    if depth > 20:  # hostile nesting
        w.defects.append("mime_too_deep")
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822" or (ctype.startswith("message/") and part.is_multipart()):
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner else None
        if isinstance(inner_msg, Message):
            _collect_ids_from_message(inner_msg, w)
            if not w.in_report:
                # A mail forwarded as attachment is the citizen's evidence.
                sub = _Walk(in_report=False)
                _walk(inner_msg, sub, depth + 1)
                w.defects.extend(d for d in sub.defects if d not in w.defects)
                body = (
                    "\n\n".join(sub.plain)
                    if any(s.strip() for s in sub.plain)
                    else ("\n\n".join(html_to_text(h) for h in sub.html))
                )
                head = _forward_head(inner_msg)
                w.forwarded.append(head + body)
                w.forwarded.extend(sub.forwarded)
                w.attachments.extend(sub.attachments)
            # Kept whole: a returned or forwarded mail is a non-text part like any other.
            _add_attachment(part, "message/rfc822", w, _part_filename(part))
        else:
            w.defects.append("empty_message_part")
        return
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype == "multipart/alternative":
            chosen = _choose_alternative(children)
            if chosen is not None:
                _walk(chosen, w, depth + 1)
            return
        was = w.in_report
        if ctype == "multipart/report":
            w.in_report = True
        for child in children:
            _walk(child, w, depth + 1)
        w.in_report = was
        return
    maintype = ctype.split("/", 1)[0]
    if maintype == "multipart":
        # Declared multipart but the parser found no parts (e.g. missing boundary):
        # read the payload as plain text so the words are not lost.
        w.defects.append("multipart_without_parts")
        text = _part_text(part, w)
        w.plain.append(text)
        return
    name = _part_filename(part)
    disposition = (part.get("content-disposition") or "").split(";", 1)[0].strip().lower()
    if ctype == "text/rfc822-headers":
        _collect_ids_from_text(_part_text(part, w), w)
        return
    if ctype in ("message/delivery-status", "message/disposition-notification"):
        return
    if ctype in _BODY_TYPES and disposition != "attachment" and not name:
        text = _part_text(part, w)
        if ctype == "text/plain":
            w.plain.append(text)
        else:
            w.html.append(text)
        return
    _add_attachment(part, ctype, w, name)


def _choose_alternative(children: list[Message]) -> Message | None:
    plain = html = other = None
    for c in children:
        ct = c.get_content_type()
        if ct == "text/plain" and plain is None:
            plain = c
        elif ct == "text/html" and html is None:
            html = c
        elif ct.startswith("multipart/") and other is None:
            other = c
    if plain is not None:
        # An empty text/plain beside real HTML is useless.
        payload = plain.get_payload()
        if (isinstance(payload, str) and payload.strip()) or (html is None and other is None):
            return plain
    return html or other or (children[-1] if children else None)


def _forward_head(msg: Message) -> str:
    lines = []
    rawh = _raw_headers(msg)
    for label, name in (("From", "from"), ("Date", "date"), ("Subject", "subject")):
        value = _first(rawh, name)
        if value:
            lines.append(f"{label}: {decode_header(value)}")
    return ("\n".join(lines) + "\n\n") if lines else ""


# ---------------------------------------------------------------------------------------
# Bounce detection for embedded originals in a bounce body

_BOUNCE_FROM_RE = re.compile(r"mailer-daemon|postmaster|mail delivery|bounce", re.IGNORECASE)
_BOUNCE_SUBJ_RE = re.compile(
    r"undeliver|undelivered|delivery (status|failure|has failed)|returned mail|failure notice"
    r"|delivery notification|non.?delivery|không gửi được|không thể gửi|could not be delivered",
    re.IGNORECASE,
)
_FWD_SUBJECT_RE = re.compile(r"^\s*(?:(?:re|tl|aw)\s*:\s*)*(?:fwd?|tv|chuyển tiếp)\s*:", re.I)
_LINE_END_RE = re.compile(r"\r\n?")


def _looks_like_bounce(ctype: str, from_value: str, subject: str) -> bool:
    return (
        ctype == "multipart/report"
        or bool(_BOUNCE_FROM_RE.search(from_value))
        or bool(_BOUNCE_SUBJ_RE.search(subject))
    )


# ---------------------------------------------------------------------------------------


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes; repairs are listed in ``defects``; ParseError if not a mail."""
    _check_is_mail(raw)
    raw = bytes(raw)
    defects: list[str] = []
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
    except Exception as exc:  # noqa: BLE001 - compat32 almost never raises; be sure
        raise ParseError(
            f"Không phân tích được cấu trúc thư ({type(exc).__name__}); thư được đưa vào kiểm tra."
        ) from exc

    rawh = _raw_headers(msg)
    headers = {key: decode_header(values[0]) for key, values in rawh.items()}

    # Message IDs
    mid = _ids(_first(rawh, "message-id"))
    if mid:
        message_id = mid[0]
    else:
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@mailbot.invalid>"
        defects.append("missing_message_id")
    irt = _ids(_first(rawh, "in-reply-to"))
    in_reply_to = irt[0] if irt else None
    references = tuple(_ids(_first(rawh, "references")))

    subject = headers.get("subject", "")
    from_raw = _first(rawh, "from") or ""
    from_name_raw, from_addr = parseaddr(_unfold(from_raw))
    from_name = decode_header(from_name_raw)
    from_addr = decode_header(from_addr).lower() if from_addr else ""
    if "@" not in from_addr:
        from_addr = ""
    to_addrs = _address_list([_unfold(v) for v in rawh.get("to", [])])
    cc_addrs = _address_list([_unfold(v) for v in rawh.get("cc", [])])
    date = _parse_date(_first(rawh, "date"), defects)
    content_type = msg.get_content_type()

    w = _Walk(defects=defects)
    try:
        _walk(msg, w, 0)
    except Exception as exc:  # noqa: BLE001 - malformed MIME must never lose the mail
        defects.append(f"walk_error:{type(exc).__name__}")

    plain = "\n\n".join(p for p in w.plain if p.strip())
    html = "\n\n".join(w.html)
    if plain.strip():
        text = plain
    elif html:
        text = html_to_text(html)
    else:
        text = ""
        if msg.get_payload() and not msg.is_multipart() and not w.attachments:
            defects.append("no_text_body")
    text = _LINE_END_RE.sub("\n", text)

    if _looks_like_bounce(content_type, from_raw, subject) and not w.returned_ids:
        _collect_ids_from_text(text, w)
        for mid_found in (message_id,):
            if mid_found in w.returned_ids:
                w.returned_ids.remove(mid_found)

    # NUL is not a character any reader needs, and PostgreSQL text columns refuse it.
    if "\x00" in text or "\x00" in subject or "\x00" in from_name or (html and "\x00" in html):
        text, subject, from_name = (v.replace("\x00", "") for v in (text, subject, from_name))
        html = html.replace("\x00", "") if html else html
        defects.append("nul_removed")
    split = split_quotes(text, forward_hint=bool(_FWD_SUBJECT_RE.match(subject)))
    forwarded = split.forwarded
    if w.forwarded:
        forwarded = "\n\n".join(x for x in [forwarded, *w.forwarded] if x.strip())

    return ParsedMail(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        from_addr=from_addr,
        from_name=from_name,
        to_addrs=to_addrs,
        date=date,
        headers=headers,
        text=text,
        new_text=split.new,
        quoted_text=split.quoted,
        forwarded_text=forwarded,
        attachments=tuple(w.attachments),
        content_type=content_type,
        returned_message_ids=tuple(w.returned_ids),
        defects=tuple(dict.fromkeys(defects)),
        cc_addrs=cc_addrs,
        html=html,
        returned_headers=w.returned_headers,
    )


def _unfold(value: str) -> str:
    if "\n" in value:
        value = re.sub(r"\r?\n[ \t]*", " ", value)
    return value


__all__ = ["ParsedAttachment", "ParsedMail", "parse_mail", "safe_filename"]
