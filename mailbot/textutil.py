"""Text helpers for parsing: charset decoding with fallbacks, RFC 2047 words, HTML → plain text."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser

# Charsets whose declaration is often wrong: bytes that are valid UTF-8 win over them.
_FALLBACKS = ("utf-8", "cp1258", "latin-1")

# Names mail clients write that Python does not know under that spelling.
_CHARSET_ALIASES = {
    "windows-1258": "cp1258",
    "x-windows-1258": "cp1258",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",  # gb18030 is a superset; clients label GBK text gb2312
    "gbk": "gb18030",
    "x-mac-roman": "mac-roman",
}

_codec_cache: dict[str, str | None] = {}


def codec_for(charset: str | None) -> str | None:
    """Return a Python codec name for a MIME charset label, or None if unknown/absent."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    cached = _codec_cache.get(label, "?")
    if cached != "?":
        return cached
    name: str | None = _CHARSET_ALIASES.get(label, label)
    if name:
        try:
            name = codecs.lookup(name).name
        except LookupError:
            name = None
    else:
        name = None
    _codec_cache[label] = name
    return name


def nfc(text: str) -> str:
    """NFC-normalise (windows-1258 and some keyboards produce combining tone marks)."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Decode body or header bytes, repairing missing, unknown or wrong charset labels.

    Order: ASCII fast path; bytes that are valid UTF-8 are UTF-8 whatever the label says
    (mislabelled iso-8859-1/us-ascii is common); then the declared codec; then
    cp1258 (Vietnamese Windows) and latin-1, which never fails.
    """
    if data.isascii():
        return data.decode("ascii")
    codec = codec_for(charset)
    if charset and codec is None and defects is not None:
        defects.append(f"unknown_charset:{charset.strip()[:40]}")
    try:
        text = data.decode("utf-8")
        if defects is not None:
            if codec not in (None, "utf-8"):
                defects.append(f"mislabelled_charset:{charset}")
            elif not charset:
                defects.append("unlabelled_charset")
        return nfc(text)
    except UnicodeDecodeError:
        pass
    if codec and codec != "utf-8":
        try:
            return nfc(data.decode(codec))
        except UnicodeDecodeError:
            if defects is not None:
                defects.append(f"invalid_bytes_for_charset:{charset}")
    elif codec == "utf-8" and defects is not None:
        defects.append("invalid_utf8")
    elif codec is None and not charset and defects is not None:
        defects.append("unlabelled_8bit")
    for fallback in _FALLBACKS[1:]:
        try:
            return nfc(data.decode(fallback))
        except UnicodeDecodeError:
            continue
    return nfc(data.decode("latin-1"))  # pragma: no cover - latin-1 never fails


# --- RFC 2047 encoded words -------------------------------------------------------------

_EW_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_QHEX_RE = re.compile(rb"=([0-9A-Fa-f]{2})")
_FOLD_RE = re.compile(r"\r?\n[ \t]*")


def _q_decode(payload: str) -> bytes:
    raw = payload.replace("_", " ").encode("ascii", "surrogateescape")
    return _QHEX_RE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def _b_decode(payload: str) -> bytes:
    raw = payload.encode("ascii", "surrogateescape")
    raw += b"=" * (-len(raw) % 4)
    try:
        return base64.b64decode(raw)
    except (binascii.Error, ValueError):
        return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/]", b"", raw) + b"==", validate=False)


def _raw_to_str(value: str) -> str:
    """Header strings from compat32 carry raw 8-bit bytes as surrogates: decode them."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def decode_header(value: str | None) -> str:
    """Unfold a header value and decode RFC 2047 words and unencoded 8-bit bytes."""
    if not value:
        return ""
    if "\n" in value:
        value = _FOLD_RE.sub(" ", value)
    value = _raw_to_str(value)
    if "=?" not in value:
        return nfc(value.strip())
    out: list[str] = []
    pending: bytearray = bytearray()
    pending_cs: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_cs
        if pending:
            out.append(decode_bytes(bytes(pending), pending_cs))
        pending = bytearray()
        pending_cs = None

    for m in _EW_RE.finditer(value):
        gap = value[pos : m.start()]
        if gap and not (gap.isspace() and pending):
            flush()
            out.append(gap)
        charset = m.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        enc = m.group(2).upper()
        try:
            data = _b_decode(m.group(3)) if enc == "B" else _q_decode(m.group(3))
        except (binascii.Error, ValueError):
            flush()
            out.append(m.group(0))
            pos = m.end()
            continue
        # Adjacent words in one charset are joined as bytes: a character may be split.
        if pending and charset.lower() != (pending_cs or "").lower():
            flush()
        pending_cs = charset
        pending += data
        pos = m.end()
    flush()
    out.append(value[pos:])
    return nfc("".join(out).strip())


# --- HTML → text ------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "p div tr table ul ol li h1 h2 h3 h4 h5 h6 pre hr address article aside section header"
    " footer form fieldset dl dt dd center title blockquote nav main figure figcaption".split()
)
_SKIP_TAGS = frozenset(("script", "style", "head", "title", "template", "noscript", "xml"))
_WS_RE = re.compile(r"[ \t\r\n\f\u00a0]+")


class _HtmlText(HTMLParser):
    """Collects readable text; blockquote lines get a "> " prefix; images are never fetched."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.line_depth = 0
        self.quote = 0
        self.skip = 0
        self.pre = 0

    def newline(self) -> None:
        text = "".join(self.buf)
        if not self.pre:
            text = text.strip()
        prefix = "> " * self.line_depth
        self.lines.append(prefix + text if text else prefix.rstrip())
        self.buf = []
        self.line_depth = self.quote

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "br":
            self.newline()
        elif tag in _BLOCK_TAGS or tag == "td" or tag == "th":
            if tag in ("td", "th"):
                if self.buf:
                    self.buf.append(" ")
                return
            if self.buf:
                self.newline()
            if tag == "blockquote":
                self.quote += 1
                self.line_depth = max(self.line_depth, self.quote)
            elif tag == "pre":
                self.pre += 1
            elif tag == "li":
                self.buf.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.newline()
        elif tag == "hr" and self.buf:
            self.newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            if self.buf:
                self.newline()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
                self.line_depth = self.quote
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
            elif tag in ("p", "div", "table", "h1", "h2", "h3", "h4", "h5", "h6"):
                # Paragraph ends read better with a blank line.
                if self.lines and self.lines[-1].strip("> "):
                    self.lines.append(("> " * self.quote).rstrip())

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            parts = data.split("\n")
            for i, part in enumerate(parts):
                if i:
                    self.newline()
                self.buf.append(part)
            return
        data = _WS_RE.sub(" ", data)
        if not self.buf:
            data = data.lstrip()
        elif self.buf[-1].endswith(" ") and data.startswith(" "):
            data = data[1:]
        if data:
            if self.quote > self.line_depth:
                self.line_depth = self.quote
            self.buf.append(data)


_BLANKS_RE = re.compile(r"\n(?:[ \t>]*\n){2,}")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: no scripts/styles, blocks → lines, quotes marked "> "."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient; never fail a mail on markup
        return nfc(unescape(re.sub(r"<[^>]*>", " ", html)))
    if parser.buf:
        parser.newline()
    text = "\n".join(line.rstrip() for line in parser.lines)
    text = _collapse_blank_lines(text)
    return nfc(text.strip("\n"))


def _collapse_blank_lines(text: str) -> str:
    out: list[str] = []
    blank = 0
    for line in text.split("\n"):
        if not line.strip("> "):
            blank += 1
            if blank > 1:
                continue
        else:
            blank = 0
        out.append(line)
    return "\n".join(out)
