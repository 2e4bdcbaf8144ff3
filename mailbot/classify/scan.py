"""One regex pass over a folded text finds every phrase of many rules, overlapping ones included.

Instead of one regex per rule (dozens of full scans of each mail), all phrases of the rules that
look at one part of a mail (subject, body, ...) are merged into one character trie, compiled at
rule load.  The pattern consumes only the first character of a phrase (a set of literal first
characters lets the regex engine skip quickly to candidate positions) and looks ahead for the
rest, so phrases starting inside another phrase ("thi hành án" in "yêu cầu thi hành án") are
found too.  Each phrase ends in an empty capturing group; which groups are set tells which
phrases matched at that position, and where they end.

Matching is the same as :func:`mailbot.classify.textnorm.phrase_regex`: a phrase starts and
ends on a word boundary, any run of spaces or ``-_.,:;/`` (possibly empty) between its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.classify.textnorm import ALNUM, SEP, phrase_items

_SEP_CLASS = re.compile(r"[\s\-_.,:;/]")


class _Node:
    __slots__ = ("children", "terminal")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.terminal: int | None = None  # phrase id ending here


def _item_re(item: str) -> str:
    return r"[\s\-_.,:;/]*" if item == SEP else re.escape(item)


def _overlapping(node: _Node) -> list[str]:
    """Children that can match the same text: the separator run and the characters it may
    consume or that may follow it when it is empty.  Other children exclude each other."""
    sep = node.children.get(SEP)
    if sep is None:
        return []
    return [SEP] + [c for c in node.children if c != SEP and (
        _SEP_CLASS.fullmatch(c) or c in sep.children)]


class _Renderer:
    """Turn the trie into regex text, numbering the terminal groups in textual order."""

    def __init__(self) -> None:
        self.phrase_of: list[int] = [-1]  # group index → phrase id (group 0 is the match)
        self.ancestors: list[tuple[int, ...]] = [()]
        self.collectors: list[tuple[list[int], ...]] = [()]

    def node(self, node: _Node, seen: bool, anc: tuple[int, ...],
             amb: tuple[list[int], ...]) -> str:
        out = []
        if node.terminal is not None:
            g = len(self.phrase_of)
            self.phrase_of.append(node.terminal)
            self.ancestors.append(anc)
            self.collectors.append(amb)
            for c in amb:
                c.append(g)
            anc = anc + (g,)
            seen = True
            # The phrase ends on a word boundary; if not, longer phrases may still match.
            # "(?:x|)" rather than "(?:x)?": a branch is much cheaper than a repeat in sre.
            out.append(f"(?:(?![{ALNUM}])()|)")
        if node.children:
            overlapping = _overlapping(node)
            plain = [i for i in node.children if i not in overlapping]
            alts = [_item_re(i) + self.node(node.children[i], seen, anc, amb) for i in plain]
            if len(overlapping) == 1:
                i = overlapping[0]
                alts.append(_item_re(i) + self.node(node.children[i], seen, anc, amb))
            elif overlapping:
                # Several children can match here: try each in its own lookahead so that
                # the phrases below every one of them are found, not only the first.
                collector: list[int] = []
                sub_amb = amb + (collector,)

                def look(i: str) -> str:
                    return "(?=" + _item_re(i) + self.node(node.children[i], seen, anc,
                                                           sub_amb) + ")"

                variants = []
                for k, i in enumerate(overlapping):
                    variants.append(look(i) + "".join(f"(?:{look(j)}|)"
                                                      for j in overlapping[k + 1:]))
                alts.append("(?:" + "|".join(variants) + ")")
            out.append("(?:" + "|".join(alts) + ("|)" if seen else ")"))
        return "".join(out)


@dataclass(frozen=True)
class PhraseScanner:
    """Finds every (start, end, phrase id) of a fixed set of folded phrases in one pass."""

    regex: re.Pattern[str] | None
    phrase_of: tuple[int, ...]
    related: tuple[tuple[int, ...], ...]  # per group: the groups that may be set with it

    @classmethod
    def build(cls, phrases: list[str]) -> PhraseScanner:
        """`phrases[i]` is a folded phrase; scan() reports it as phrase id i."""
        root = _Node()
        for pid, phrase in enumerate(phrases):
            items = phrase_items(phrase)
            if not items:
                continue
            node = root
            for item in items:
                node = node.children.setdefault(item, _Node())
            if node.terminal is None:
                node.terminal = pid
        if not root.children:
            return cls(None, (), ())
        r = _Renderer()
        alts = []
        for first in sorted(root.children):
            rest = r.node(root.children[first], False, (), ())
            alts.append(f"{re.escape(first)}{rest}")
        # A phrase starts after a character that is not a letter or digit.  The pattern
        # consumes that one character (a character class first lets the engine skip the
        # inside of words quickly) and looks ahead for the phrase, so that phrases starting
        # inside another one are found too.  scan() puts a space before the text.
        regex = re.compile(f"[^{ALNUM}](?=" + "|".join(alts) + ")")
        if regex.groups != len(r.phrase_of) - 1:  # pragma: no cover - renderer invariant
            raise AssertionError("phrase scanner: group numbering mismatch")
        related = [()]
        for g in range(1, len(r.phrase_of)):
            rel = set(r.ancestors[g])
            rel.add(g)
            for c in r.collectors[g]:
                rel.update(c)
            related.append(tuple(sorted(rel)))
        return cls(regex, tuple(r.phrase_of), tuple(related))

    def any(self, text: str) -> bool:
        """True when at least one phrase occurs in text."""
        if self.regex is None or not text:
            return False
        return any(m.lastindex is not None for m in self.regex.finditer(" " + text))

    def scan(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, phrase id) of every phrase occurrence, by start position."""
        if self.regex is None or not text:
            return []
        out: list[tuple[int, int, int]] = []
        phrase_of = self.phrase_of
        related = self.related
        # Offsets in " " + text: the match starts on the character before the phrase, so
        # the phrase starts at m.start() in text; ends are one too far.
        for m in self.regex.finditer(" " + text):
            g = m.lastindex
            if g is None:
                continue  # the path matched but no phrase ended on a word boundary
            start = m.start()
            rel = related[g]
            if len(rel) == 1:
                out.append((start, m.end(g) - 1, phrase_of[g]))
                continue
            for x in rel:
                end = m.end(x)
                if end >= 0:
                    out.append((start, end - 1, phrase_of[x]))
        return out


@dataclass(frozen=True)
class PhraseSet:
    """Asks only whether any of some phrases (or regex patterns) occurs, in one fast pass."""

    scanner: PhraseScanner
    patterns: re.Pattern[str] | None = None

    @classmethod
    def build(cls, phrases: list[str], patterns: re.Pattern[str] | None = None) -> PhraseSet:
        return cls(PhraseScanner.build(phrases), patterns)

    def search(self, text: str) -> bool:
        if self.scanner.any(text):
            return True
        return self.patterns is not None and self.patterns.search(text) is not None
