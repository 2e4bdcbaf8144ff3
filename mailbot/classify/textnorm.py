"""Fold Vietnamese text for matching: Unicode form, tone marks, đ/d, case and spacing removed."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters NFD does not decompose; đ/Đ is a separate letter, ơ/ư/â… decompose to a base + mark.
_EXTRA = {"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "ø": "o"}
_SPACE_RE = re.compile(r"[^\S\n]+")
# Whitespace that fold() must rewrite: a run of two or more, or one that is not a plain space.
_ODD_SPACE_RE = re.compile(r"[^\S \n]")
_MARKS_RE = re.compile("[\u0300-\u036f]+")
# Zero-width and soft-hyphen characters that spammers and HTML editors sprinkle into words.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
# After NFD, anything but ASCII and combining marks needs the slow path.
_NOT_SIMPLE_RE = re.compile("[^\x00-\x7f\u0300-\u036f]")


def _strip_table() -> dict[int, str | None]:
    """Per character: its letters without marks (NFD, marks dropped), invisible ones deleted.

    One str.translate with this table gives what NFD + mark removal gives on the whole text,
    apart from the order of other combining marks, which NFKC (applied after) restores.
    """
    table: dict[int, str | None] = {}
    # The blocks holding characters whose NFD has marks of U+0300-036F (Latin, Greek,
    # Cyrillic, letterlike and math symbols such as "≠"); a test checks none is missed.
    for cp in [*range(0x80, 0x2000), *range(0x2100, 0x2300), *range(0x2A00, 0x2B00)]:
        c = chr(cp)
        d = _MARKS_RE.sub("", unicodedata.normalize("NFD", _EXTRA.get(c, c)))
        if d != c:
            table[cp] = d or None
    for ch in _INVISIBLE:
        table[ord(ch)] = None
    return table


_STRIP = _strip_table()


def _spaces(text: str) -> str:
    # Most texts have single spaces only: skip the substitution then.
    if "  " in text or _ODD_SPACE_RE.search(text) is not None:
        return _SPACE_RE.sub(" ", text)
    return text


def fold(text: str) -> str:
    """Lower-case ASCII-like form: NFC/NFD and windows-1258 combining marks give one result.

    Newlines are kept (quote and signature logic is line based); other runs of
    whitespace become one space.  Characters outside Latin are kept as they are.
    """
    if not text:
        return ""
    if text.isascii():
        return _spaces(text.lower())
    # Usual Vietnamese text: after NFD only ASCII letters and combining marks remain, and
    # dropping the non-ASCII characters drops exactly the marks.
    nfd = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    if _NOT_SIMPLE_RE.search(nfd) is None:
        return _spaces(nfd.encode("ascii", "ignore").decode("ascii").lower())
    text = text.translate(_STRIP)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _spaces(text.lower())


def _fold_reference(text: str) -> str:
    """fold() step by step, slowly; the fast paths above must give the same (tests)."""
    if not text:
        return ""
    text = re.sub(f"[{_INVISIBLE}]", "", text)
    text = unicodedata.normalize("NFD", text.translate(str.maketrans(_EXTRA)))
    text = _MARKS_RE.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _SPACE_RE.sub(" ", text.lower())


@lru_cache(maxsize=4096)
def fold_phrase(phrase: str) -> str:
    """Fold a rule phrase once (rules are folded at load time, not per mail)."""
    return " ".join(fold(phrase).split())


def has_diacritics(text: str) -> bool:
    """True when the text carries Vietnamese tone or vowel marks (used as a weak signal)."""
    return fold(text) != text.lower()


# Words that end with a period without ending a sentence ("TP. Rạch Giá", "TX. Hà Tiên").
_ABBREVIATIONS = frozenset({
    "tp", "tx", "tt", "ts", "ths", "ls", "cv", "qd", "st", "pt", "sdt", "dt", "vd", "hn",
    "hcm", "tphcm", "ct", "cty", "ubnd", "tand", "thads", "ccthads", "cthads", "nd", "tk",
})
_PERIOD_RE = re.compile(r"([0-9a-z]+)\.(?=\s)")


def mark_sentences(folded: str) -> str:
    """Turn a sentence-ending period into "|", which no rule phrase may cross.

    Length-preserving, so spans found in the result are spans of `folded`. Without it a phrase
    could join the last word of one sentence and the first of the next ("... trên đất. Cho tôi"
    read as "đặt chỗ").
    """
    if "." not in folded:
        return folded

    def repl(m: re.Match[str]) -> str:
        word = m.group(1)
        if len(word) == 1 or word in _ABBREVIATIONS or word.isdigit():
            return m.group(0)
        return word + "|"

    return _PERIOD_RE.sub(repl, folded)


ALNUM = "0-9a-z"  # letters and digits of folded text: a phrase starts and ends a word
_SEP = r"[\s\-_.,:;/]"
SEP = "<sep>"  # phrase item: a run (possibly empty) of separators between two words


def phrase_items(phrase: str) -> list[str]:
    """A folded phrase as matching items: its characters, and SEP between its words.

    The run between words may be empty: "khieu nai" also matches "khieu-nai" and the
    "khieunai" of a web address (spam often hides its wording in domain names).
    """
    items: list[str] = []
    for w in fold_phrase(phrase).split():
        if items:
            items.append(SEP)
        items.extend(w)
    return items


def _items_regex(items: list[str]) -> str:
    return "".join(f"{_SEP}*" if i == SEP else re.escape(i) for i in items)


def phrase_regex(phrase: str) -> str:
    """A folded phrase as a regex: word-bounded, any whitespace or punctuation between words.

    Writers type "khieu-nai", "khiếu  nại" or "khieu_nai"; a clerk's phrase should still match.
    """
    return rf"(?<![{ALNUM}]){_items_regex(phrase_items(phrase))}(?![{ALNUM}])"


def phrases_regex(phrases: list[str]) -> str:
    """Many phrases as one regex; at one position the longest phrase is preferred.

    Used for short texts and as the reference of :mod:`mailbot.classify.scan`, which matches
    the same phrases in one pass over a long text.
    """
    bodies = {_items_regex(it): len(it) for it in map(phrase_items, phrases) if it}
    alts = sorted(bodies, key=lambda b: (-bodies[b], b))
    return rf"(?<![{ALNUM}])(?:{'|'.join(alts)})(?![{ALNUM}])"
