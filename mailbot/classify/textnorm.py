"""Fold Vietnamese text for matching: Unicode form, tone marks, đ/d, case and spacing removed."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters NFD does not decompose; đ/Đ is a separate letter, ơ/ư/â… decompose to a base + mark.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "ø": "o"})
_SPACE_RE = re.compile(r"[^\S\n]+")
_MARKS_RE = re.compile("[\u0300-\u036f]+")
# Zero-width and soft-hyphen characters that spammers and HTML editors sprinkle into words.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def fold(text: str) -> str:
    """Lower-case ASCII-like form: NFC/NFD and windows-1258 combining marks give one result.

    Newlines are kept (quote and signature logic is line based); other runs of
    whitespace become one space.  Characters outside Latin are kept as they are.
    """
    if not text:
        return ""
    text = _INVISIBLE_RE.sub("", text)
    text = unicodedata.normalize("NFD", text.translate(_EXTRA))
    # Vietnamese tone and vowel marks are all in the Combining Diacritical Marks block.
    text = _MARKS_RE.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    return _SPACE_RE.sub(" ", text)


@lru_cache(maxsize=4096)
def fold_phrase(phrase: str) -> str:
    """Fold a rule phrase once (rules are folded at load time, not per mail)."""
    return " ".join(fold(phrase).split())


def has_diacritics(text: str) -> bool:
    """True when the text carries Vietnamese tone or vowel marks (used as a weak signal)."""
    return fold(text) != text.lower()


def phrase_regex(phrase: str) -> str:
    """A folded phrase as a regex: word-bounded, any whitespace or punctuation between words.

    Writers type "khieu-nai", "khiếu  nại" or "khieu_nai"; a clerk's phrase should still match.
    """
    words = fold_phrase(phrase).split()
    body = r"[\s\-_.,:;/]*".join(re.escape(w) for w in words)
    return rf"(?<![0-9a-z]){body}(?![0-9a-z])"


_SEP = r"[\s\-_.,:;/]*"


def phrases_regex(phrases: list[str]) -> str:
    """Many folded phrases as one word-trie regex (shared prefixes are tried once: fast)."""
    trie: dict[str, dict] = {}
    for p in phrases:
        words = fold_phrase(p).split()
        if not words:
            continue
        node = trie
        for w in words:
            node = node.setdefault(w, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        alts = []
        end = "" in node
        for w in sorted((k for k in node if k), key=len, reverse=True):
            sub = build(node[w])
            alts.append(re.escape(w) + (f"(?:{_SEP}{sub})?" if sub and "" in node[w]
                                        else f"{_SEP}{sub}" if sub else ""))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return body if not end else body  # the end marker is handled by the caller's "?"

    return rf"(?<![0-9a-z])(?:{build(trie)})(?![0-9a-z])"


_WORD_RE = re.compile(r"[0-9a-z]+")


def words(folded: str) -> frozenset[str]:
    """The set of words of a folded text, for cheap rule pre-filtering."""
    return frozenset(_WORD_RE.findall(folded))
