"""Spam evidence that is not a phrase: foreign scripts, spoofed senders, obfuscated words.

Phrases (loans, debt collection, phishing wording), sender domains and dangerous attachment
names are rules in rules/classification.toml; these checks are structural and language-free.
"""

from __future__ import annotations

import re

from mailbot.classify import RuleHit

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_LETTER = re.compile(r"[^\W\d_]")
# "v.a.y t.i.e.n", "V1agra": letters split by dots or digits inside words to dodge filters.
_SPACED = re.compile(r"(?<![\w.\-])(?:[a-z][.\-]){3,}[a-z]?(?![\w])")
_LEET = re.compile(r"\b[a-z]+[0-9][a-z]+[0-9]?[a-z]*\b")
_ADDR_IN_NAME = re.compile(r"[\w.+-]+@([\w-]+\.)+[a-z]{2,}")


def spam_evidence(
    raw_text: str, folded_text: str, from_name: str, from_addr: str
) -> list[RuleHit]:
    """Hits scoring thu_rac; each is weak alone, they add up."""
    hits: list[RuleHit] = []
    letters = len(_LETTER.findall(raw_text[:4000])) or 1
    foreign = len(_CYRILLIC.findall(raw_text[:4000])) + len(_CJK.findall(raw_text[:4000]))
    if foreign / letters > 0.3:
        hits.append(RuleHit("spam.foreign_script", 4.0, "body"))
    spaced = len(_SPACED.findall(folded_text))
    if spaced >= 2:
        hits.append(RuleHit("spam.obfuscated_words", 3.0, "body", f"{spaced} từ"))
    leet = [w for w in _LEET.findall(folded_text) if not any(c in w for c in "qđ")]
    if len(leet) >= 3:
        hits.append(RuleHit("spam.digits_in_words", 2.0, "body"))
    m = _ADDR_IN_NAME.search(from_name.lower())
    if m and from_addr and m.group(0) != from_addr.lower():
        hits.append(RuleHit("spam.display_name_address", 4.0, "sender"))
    return hits
