"""Spam evidence that is not a phrase: foreign scripts, spoofed senders, obfuscated words.

Phrases (loans, debt collection, phishing wording), sender domains and dangerous attachment
names are rules in rules/classification.toml; these checks are structural and language-free.
"""

from __future__ import annotations

import re

from mailbot.classify import RuleHit

_CYRILLIC = "\u0400-\u04ff"
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_FOREIGN = re.compile(f"[{_CYRILLIC}{_CJK}]")
_LETTER = re.compile(r"[^\W\d_]")
# "v.a.y t.i.e.n", "V1agra": letters split by dots or digits inside words to dodge filters.
# Each pattern starts with a character class and checks the preceding character after it
# (not before): the regex engine then skips quickly to candidate positions.
# _SPACED matches start one letter early: they begin on the first dot or dash, the only
# characters the engine then stops at (letters are everywhere); counts are the same.
_SPACED = re.compile(r"[.\-](?<=(?<![\w.\-])[a-z][.\-])(?:[a-z][.\-]){2,}[a-z]?(?![\w])")
_LEET = re.compile(r"[a-z](?<!\w[a-z])[a-z]*[0-9][a-z]+[0-9]?[a-z]*\b")
# A letter, a digit, a letter: every _LEET match has one; most mails have none.
_LEET_HINT = re.compile(r"[0-9](?<=[a-z][0-9])[a-z]")
_ADDR_IN_NAME = re.compile(r"[\w.+-]+@([\w-]+\.)+[a-z]{2,}")


def spam_evidence(
    raw_text: str, folded_text: str, from_name: str, from_addr: str
) -> list[RuleHit]:
    """Hits scoring thu_rac; each is weak alone, they add up."""
    hits: list[RuleHit] = []
    head = raw_text[:4000]
    # Counting letters is the costly part: only done when a foreign script is present.
    if not head.isascii() and _FOREIGN.search(head) is not None:
        letters = len(_LETTER.findall(head)) or 1
        if len(_FOREIGN.findall(head)) / letters > 0.3:
            hits.append(RuleHit("spam.foreign_script", 4.0, "body"))
    spaced = len(_SPACED.findall(folded_text))
    if spaced >= 2:
        hits.append(RuleHit("spam.obfuscated_words", 3.0, "body", f"{spaced} từ"))
    leet = [w for w in _LEET.findall(folded_text) if not any(c in w for c in "qđ")] if (
        _LEET_HINT.search(folded_text) is not None) else []
    if len(leet) >= 3:
        hits.append(RuleHit("spam.digits_in_words", 2.0, "body"))
    m = _ADDR_IN_NAME.search(from_name.lower())
    if m and from_addr and m.group(0) != from_addr.lower():
        hits.append(RuleHit("spam.display_name_address", 4.0, "sender"))
    return hits
