"""Score the rules of classification.toml against the subject, new text and sender."""

from __future__ import annotations

from collections import defaultdict

from mailbot.classify import RuleHit
from mailbot.classify.ruleset import Rule, RuleSet
from mailbot.classify.textnorm import words


def _detail(text: str, start: int, end: int) -> str:
    # The matched words only: rules match phrases, never digits of phones or IDs.
    frag = text[start:end].strip()
    return "".join("#" if c.isdigit() else c for c in frag)[:60]


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

    tokens: dict[str, frozenset[str]] = {}

    def apply(rule: Rule, where: str, text: str, table: dict[str, float], f: float) -> None:
        if rule.firsts is not None:
            tok = tokens.get(where)
            if tok is None:
                tok = tokens[where] = words(text)
            if rule.firsts.isdisjoint(tok):
                return
        elif rule.needles is not None and not any(n in text for n in rule.needles):
            return
        m = rule.regex.search(text)
        if m is None:
            return
        if rule.max_count > 1:
            distinct = {x.group(0) for x in rule.regex.finditer(text)}
            f *= min(len(distinct), rule.max_count)
        total = 0.0
        for t, s in table.items():
            scores[t] += s * f
            total += s * f
        if rule.kind:
            kinds[rule.kind] += max(table.get("tu_dong", 0.0), 0.0) * f
        hits.append(RuleHit(rule.name, round(total, 2), where, _detail(text, m.start(), m.end())))

    texts = {"body": body, "sender": sender, "attachment": attachments, "quoted": quoted}
    for rule in rules.rules:
        if rule.where in ("subject", "any") and subject:
            apply(rule, "subject", subject, rule.subject_score, factor)
        if rule.where == "any" and body:
            apply(rule, "body", body, rule.score, 1.0)
        elif rule.where in texts and texts[rule.where]:
            apply(rule, rule.where, texts[rule.where], rule.score, 1.0)
    return scores, kinds, hits
