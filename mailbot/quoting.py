"""Split a mail body into the writer's new text, quoted earlier messages and forwarded content.

Pure functions on text. Knows the markers of Vietnamese and English Gmail, Outlook,
Thunderbird, Apple Mail, Roundcube and mobile clients, both top- and bottom-posting.
Quoted text is context (often the office's own reply quoted back); forwarded text is
evidence (a clerk or lawyer forwarding a citizen's mail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class QuoteSplit:
    new: str  # the writer's own new text, signature and legal footer removed
    quoted: str  # quoted earlier messages, quote marks removed
    forwarded: str  # forwarded message(s), including their header block


# Line kinds
_NEW, _QUOTED, _FORWARDED, _DROPPED = "N", "Q", "F", "D"

_FORWARD_RE = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:forwarded message|begin forwarded message|thư chuyển tiếp"
    r"|tin nhắn đã chuyển tiếp|thư được chuyển tiếp|chuyển tiếp thư|original forwarded message"
    r"|forwarded by)\b.*$|^\s*-{3,}\s*(?:forwarded|chuyển tiếp)\b.*$",
    re.IGNORECASE,
)
_ORIGINAL_RE = re.compile(
    r"^\s*-{2,}\s*(?:original message|thư gốc|tin nhắn gốc|thư ban đầu|original mail"
    r"|reply message|message d'origine)\s*-{2,}\s*$"
    r"|^\s*-{2,}\s*(?:below this line is a copy of the message|this is a copy of the message"
    r"|original message follows)\b.*$"
    r"|^\s*(?:original message follows|below is a copy of)\b.*$"
    r"|^\s*(?:original message headers|returned message|message d'origine)\s*:?\s*$",
    re.IGNORECASE,
)
# Attribution lines: "On <date>, <name> wrote:", "Vào <ngày>, <tên> đã viết:".
_ATTR_START_RE = re.compile(r"^\s*(?:on|vào|le|am|el)\s", re.IGNORECASE)
_ATTR_END_RE = re.compile(
    r"(?:wrote|writes|đã viết|viết|a écrit|schrieb|escribió)\s*:\s*$", re.IGNORECASE
)
_UNDERSCORES_RE = re.compile(r"^\s*_{10,}\s*$")
_HDR_FROM_RE = re.compile(r"^\s*\*?(?:from|từ|người gửi)\s*\*?\s*:", re.IGNORECASE)
_HDR_OTHER_RE = re.compile(
    r"^\s*\*?(?:sent|date|gửi|đã gửi|ngày|ngày gửi|thời gian|to|đến|tới|người nhận|cc"
    r"|subject|chủ đề|tiêu đề)\s*\*?\s*:",
    re.IGNORECASE,
)
_HDR_SUBJECT_RE = re.compile(r"^\s*\*?(?:subject|chủ đề|tiêu đề)\s*\*?\s*:\s*(.*)$", re.IGNORECASE)
_FWD_SUBJECT_RE = re.compile(r"^\s*(?:fwd?|tv|chuyển tiếp|trả lời chuyển tiếp)\s*:", re.IGNORECASE)
_FORWARD_WORD_RE = re.compile(
    r"chuyển tiếp|chuyen tiep|\bforward(?:ed|ing)?\b|\bfwd\b", re.IGNORECASE
)
_SIG_RE = re.compile(r"^--\s?$")
_MOBILE_RE = re.compile(
    r"^\s*(?:sent from my|gửi từ|được gửi từ|sent from|get outlook for|tải outlook cho)\b.{0,60}$",
    re.IGNORECASE,
)
# Legal / confidentiality footers (company and bank mail); the sign-off above them stays.
_LEGAL_RE = re.compile(
    r"(?:this (?:e-?mail|message|communication)(?: and any (?:files|attachments?)[^.]{0,40})?"
    r" (?:is|are|may be|contains?) (?:strictly )?(?:confidential|privileged|intended)"
    r"|the information (?:in|contained in) this (?:e-?mail|message)[^.]{0,40}"
    r" (?:is|may be) (?:strictly )?(?:confidential|privileged)"
    r"|confidentiality (?:notice|note|statement)|^\s*disclaimer\s*:?"
    r"|if you are not the intended recipient"
    r"|(?:thư|email|e-mail|thư điện tử|thông tin)(?: này| trong (?:thư|email|e-mail) này)"
    r"[^.]{0,80}(?:là )?(?:bảo mật|thông tin mật|chỉ dành cho)"
    r"|nếu (?:quý vị|bạn|anh/chị|quý khách) không phải (?:là )?người nhận)",
    re.IGNORECASE,
)


def _is_quote_line(line: str) -> bool:
    return line.lstrip().startswith(">")


def _strip_quote(line: str) -> str:
    s = line.lstrip()
    if s.startswith(">"):
        s = s[1:]
        if s.startswith(" "):
            s = s[1:]
    return s


def _attribution_end(lines: list[str], i: int) -> int:
    """If an attribution ("On … wrote:") starts at line i, return its last line index, else -1."""
    line = lines[i]
    if _ATTR_END_RE.search(line) and (_ATTR_START_RE.match(line) or len(line) < 200):
        # A whole-line attribution; guard against prose ending in "viết:" by requiring
        # a date-ish digit or an address.
        if _ATTR_START_RE.match(line) or "@" in line or re.search(r"\d", line):
            return i
    if _ATTR_START_RE.match(line) and len(line) < 200:
        for j in range(i + 1, min(i + 3, len(lines))):
            if not lines[j].strip():
                break
            if _ATTR_END_RE.search(lines[j]):
                return j
    return -1


def _header_block_end(lines: list[str], i: int) -> tuple[int, bool]:
    """An Outlook-style header block (From:/Sent:/To:/Subject:) starting at i.

    Returns (last line index, is_forward) or (-1, False).
    """
    if not _HDR_FROM_RE.match(lines[i]):
        return -1, False
    others = 0
    last = i
    forward = False
    for j in range(i + 1, min(i + 8, len(lines))):
        line = lines[j]
        if not line.strip():
            if others:
                break
            continue
        if _HDR_OTHER_RE.match(line):
            others += 1
            last = j
            m = _HDR_SUBJECT_RE.match(line)
            if m and _FWD_SUBJECT_RE.match(m.group(1)):
                forward = True
        else:
            break
    if others >= 2:
        return last, forward
    return -1, False


def _next_nonblank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _says_forward(lines: list[str], upto: int) -> bool:
    """The writer's text above a header block announces a forward ("tôi chuyển tiếp...")."""
    return any(_FORWARD_WORD_RE.search(lines[k]) for k in range(upto))


def _classify_lines(lines: list[str], forward_hint: bool = False) -> list[str]:
    kinds = [_NEW] * len(lines)
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if _is_quote_line(line):
            kinds[i] = _QUOTED
            i += 1
            continue
        if _FORWARD_RE.match(line):
            for k in range(i, n):
                kinds[k] = _FORWARDED
            break
        if _ORIGINAL_RE.match(line):
            for k in range(i, n):
                kinds[k] = _QUOTED
            break
        end = _attribution_end(lines, i)
        if end >= 0:
            nxt = _next_nonblank(lines, end + 1)
            for k in range(i, end + 1):
                kinds[k] = _QUOTED
            if nxt < n and _is_quote_line(lines[nxt]):
                i = end + 1
                continue
            for k in range(end + 1, n):
                kinds[k] = _QUOTED
            break
        start = i
        if _UNDERSCORES_RE.match(line):
            nxt = _next_nonblank(lines, i + 1)
            if nxt < n and _HDR_FROM_RE.match(lines[nxt]):
                i = nxt
            elif nxt >= n:
                kinds[i] = _DROPPED
                break
        hdr_end, is_forward = _header_block_end(lines, i)
        if hdr_end >= 0:
            after = _next_nonblank(lines, hdr_end + 1)
            if after < n and _FORWARD_RE.match(lines[after]):
                is_forward = True
            if not is_forward and (forward_hint or _says_forward(lines, start)):
                is_forward = True
            kind = _FORWARDED if is_forward else _QUOTED
            for k in range(start, n):
                kinds[k] = kind
            break
        i = start + 1
    _mark_signatures(lines, kinds)
    return kinds


def _mark_signatures(lines: list[str], kinds: list[str]) -> None:
    """Drop "-- " signatures, legal footers and mobile taglines from each run of new text."""
    n = len(lines)
    i = 0
    while i < n:
        if kinds[i] != _NEW:
            i += 1
            continue
        line = lines[i]
        if _SIG_RE.match(line):
            j = i
            while j < n and kinds[j] == _NEW:
                kinds[j] = _DROPPED
                j += 1
            i = j
            continue
        if _MOBILE_RE.match(line):
            kinds[i] = _DROPPED
        elif _LEGAL_RE.search(line):
            # The footer runs from its paragraph start to the end of this run of new text.
            start = i
            while start > 0 and kinds[start - 1] == _NEW and lines[start - 1].strip():
                start -= 1
            j = start
            while j < n and kinds[j] == _NEW:
                kinds[j] = _DROPPED
                j += 1
            i = j
            continue
        i += 1


def _join(lines: list[str]) -> str:
    out: list[str] = []
    blank = False
    for line in lines:
        line = line.rstrip()
        if not line:
            if blank or not out:
                continue
            blank = True
        else:
            blank = False
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def split_quotes(text: str, *, forward_hint: bool = False) -> QuoteSplit:
    """Split ``text`` into new, quoted and forwarded parts (each with normalised blank lines).

    ``forward_hint``: the mail's subject says it is a forward ("Fwd:", "TV:"), so a bare
    header block (From:/Sent:/Subject:) starts forwarded content, not a quote.
    """
    if not text:
        return QuoteSplit("", "", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    kinds = _classify_lines(lines, forward_hint)
    new = [ln for ln, k in zip(lines, kinds, strict=True) if k == _NEW]
    quoted = [_strip_quote(ln) for ln, k in zip(lines, kinds, strict=True) if k == _QUOTED]
    forwarded = [ln for ln, k in zip(lines, kinds, strict=True) if k == _FORWARDED]
    return QuoteSplit(_join(new), _join(quoted), _join(forwarded))


def new_text(text: str) -> str:
    """The writer's own new text of ``text``."""
    return split_quotes(text).new
