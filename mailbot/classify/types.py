"""Score the rules of classification.toml against the subject, new text and sender."""

from __future__ import annotations

from collections import defaultdict

from mailbot.classify import RuleHit
from mailbot.classify.ruleset import Rule, RuleSet, Section
from mailbot.classify.textnorm import mark_sentences

Span = tuple[int, int]


_DIGITS = str.maketrans("0123456789", "##########")


def _detail(text: str, start: int, end: int) -> str:
    # The matched words only: rules match phrases, never digits of phones or IDs.
    frag = text[start:end].strip()
    if frag.isascii():
        return frag.translate(_DIGITS)[:60]
    return "".join("#" if c.isdigit() else c for c in frag)[:60]


def _phrase_spans(section: Section, text: str) -> dict[int, list[Span]]:
    """Rule index → spans of its phrases in text, from one scan for the whole section."""
    found: dict[int, list[Span]] = {}
    owners = section.owners
    for start, end, pid in section.scanner.scan(text):
        for ri in owners[pid]:
            spans = found.get(ri)
            if spans is None:
                found[ri] = [(start, end)]
            else:
                spans.append((start, end))
    return found


def _first(spans: list[Span]) -> Span:
    # Leftmost; at one position the longest phrase (as the rule's own regex would match).
    return min(spans, key=lambda s: (s[0], -s[1]))


def _distinct(text: str, spans: list[Span]) -> int:
    """Distinct matched texts among non-overlapping matches, left to right, longest first."""
    seen = set()
    last = -1
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start >= last:
            seen.add(text[start:end])
            last = end
    return len(seen)


def _match(rule: Rule, text: str, spans: list[Span]) -> tuple[Span, int] | None:
    """(first match, distinct matches counted) of one rule in one text, or None."""
    first = _first(spans) if spans else None
    pat = rule.patterns
    if pat is not None and (rule.needles is None or any(n in text for n in rule.needles)):
        m = pat.search(text)
        # At the same position phrases win, as in the rule's single regex.
        if m is not None and (first is None or m.start() < first[0]):
            first = m.span()
        if m is not None and rule.max_count > 1:
            spans = spans + [x.span() for x in pat.finditer(text)]
    if first is None:
        return None
    count = 1
    if rule.max_count > 1 and spans:
        count = min(_distinct(text, spans), rule.max_count)
    return first, count


def score_rules(
    rules: RuleSet,
    *,
    subject: str,
    body: str,
    sender: str,
    attachments: str,
    quoted: str,
    is_reply: bool,
) -> tuple[dict[str, float], dict[str, float], list[RuleHit]]:
    """Return (score per type, machine_kind votes, hits), all texts already folded."""
    scores: dict[str, float] = defaultdict(float)
    kinds: dict[str, float] = defaultdict(float)
    hits: list[RuleHit] = []
    factor = rules.settings.reply_subject_factor if is_reply else 1.0
    texts = {"subject": subject, "body": body, "sender": sender, "attachment": attachments,
             "quoted": quoted}
    # One scan per part of the mail finds the phrases of every rule looking at it; only the
    # rules with a phrase found, or with regex patterns, are looked at further.
    found: list[tuple[int, int, str, str, Span, int]] = []
    for order, (where, section) in enumerate(rules.sections.items()):
        text = texts[where]
        if not text or not section.rules:
            continue
        spans = _phrase_spans(section, mark_sentences(text))
        for i in section.pattern_rules:
            spans.setdefault(i, [])
        for i, rule_spans in spans.items():
            got = _match(rules.rules[i], text, rule_spans)
            if got is not None:
                found.append((i, order, where, text, got[0], got[1]))
    # Combined evidence: a rule with `requires` counts only if those rules matched too.
    matched = {f[0] for f in found}
    found = [f for f in found if all(r in matched for r in rules.rules[f[0]].requires)]
    # File order of the rules, subject before body: hits and sums as one rule after another.
    found.sort(key=lambda f: (f[0], f[1]))
    for i, _order, where, text, (start, end), count in found:
        rule = rules.rules[i]
        table = rule.subject_score if where == "subject" else rule.score
        f = (factor if where == "subject" else 1.0) * count
        total = 0.0
        for t, s in table.items():
            scores[t] += s * f
            total += s * f
        if rule.kind:
            kinds[rule.kind] += max(table.get("tu_dong", 0.0), 0.0) * f
        hits.append(RuleHit(rule.name, round(total, 2), where, _detail(text, start, end)))
    return scores, kinds, hits
