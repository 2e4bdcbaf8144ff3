"""classify(): ParsedMail + RuleSet → Classification; pure, no I/O, explains every decision."""

from __future__ import annotations

from datetime import date

from mailbot.classify import Classification, RuleHit
from mailbot.classify import extract as ex
from mailbot.classify.machine import machine_evidence
from mailbot.classify.ruleset import HUMAN_TYPES, RuleSet
from mailbot.classify.spam import spam_evidence
from mailbot.classify.textnorm import fold
from mailbot.classify.types import score_rules
from mailbot.parse import ParsedMail
from mailbot.route import route

_REPLY_PREFIX = ("re:", "tl:", "tra loi:", "aw:", "sv:", "fw:", "fwd:", "tr:", "chuyen tiep:")


def _strip_prefixes(folded_subject: str) -> tuple[str, bool]:
    s = folded_subject.strip()
    was = False
    changed = True
    while changed:
        changed = False
        for p in _REPLY_PREFIX:
            if s.startswith(p):
                s = s[len(p):].strip()
                was = was or p in ("re:", "tl:", "tra loi:", "aw:", "sv:")
                changed = True
    return s, was


def _confidence(best: float, second: float) -> float:
    if best <= 0:
        return 0.0
    margin = best - max(second, 0.0)
    return round(max(0.0, min(1.0, margin / (best + 1.0))), 3)


def classify(
    mail: ParsedMail,
    rules: RuleSet,
    *,
    received: date | None = None,
    threshold: float = 0.5,
) -> Classification:
    """Decide type, reply need, unit and references from the writer's own text."""
    subject, is_reply = _strip_prefixes(fold(mail.subject))
    new = fold(mail.new_text)
    fwd = fold(mail.forwarded_text)
    body = new + ("\n" + fwd if fwd else "")
    quoted = fold(mail.quoted_text)
    sender = f"{fold(mail.from_name)} <{mail.from_addr.lower()}>"
    attachments = "\n".join(fold(a.filename) for a in mail.attachments)
    if received is None and mail.date is not None:
        received = mail.date.date()

    # Rules read "không", "được"; phone-style writers type "ko", "dc".  References, phones and
    # places are extracted from the text as written.
    ab = rules.abbreviations
    scores, kinds, hits = score_rules(
        rules, subject=ab.expand(subject), body=ab.expand(body), sender=sender,
        attachments=attachments, quoted=quoted, is_reply=is_reply,
    )
    for kind, hit in machine_evidence(mail):
        scores["tu_dong"] += hit.score
        kinds[kind] += hit.score
        hits.append(hit)
    raw_text = mail.new_text or mail.text
    for hit in spam_evidence(raw_text, subject + "\n" + body, mail.from_name, mail.from_addr):
        scores["thu_rac"] += hit.score
        hits.append(hit)

    st = rules.settings
    human = {t: scores.get(t, 0.0) for t in HUMAN_TYPES}
    best_type = max(human, key=lambda t: human[t])
    best = human[best_type]
    ordered = sorted(human.values(), reverse=True)
    machine_kind = None
    needs_reply = True
    auto, spam = scores.get("tu_dong", 0.0), scores.get("thu_rac", 0.0)
    # Phishing imitates system notices: when both pass their threshold the larger wins.
    if auto >= st.machine_threshold and spam >= st.spam_threshold and spam >= 0.9 * auto:
        auto = 0.0
    if auto >= st.machine_threshold and auto >= best / 2:
        request_type = "tu_dong"
        machine_kind = max(kinds, key=lambda k: kinds[k]) if kinds else "notification"
        confidence = _confidence(scores["tu_dong"], max(best, scores.get("thu_rac", 0.0)))
        needs_reply = False
    elif spam >= st.spam_threshold and spam >= 0.8 * best:
        request_type = "thu_rac"
        confidence = _confidence(scores["thu_rac"], best)
        needs_reply = False
    else:
        if best <= 0:
            request_type = st.default_type
            confidence = 0.0
        else:
            request_type = best_type
            confidence = _confidence(best, ordered[1])
        # A closing "thank you, nothing more" needs no answer and asks for nothing.
        short = len(new.split()) <= rules.closing_max_words
        if short and rules.closing is not None and rules.closing.search(new) and "?" not in new:
            new = ab.expand(new)
            blocked = rules.closing_blockers is not None and rules.closing_blockers.search(new)
            if not blocked:
                needs_reply = False
                request_type = "hoi_dap"
                hits.append(RuleHit("closing.thanks", 0.0, "body"))

    judgment: tuple[str, ...] = ()
    enforcement: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    unit = court = instance = None
    if request_type not in ("tu_dong", "thu_rac"):
        evidence = subject + "\n" + body
        judgment = tuple(dict.fromkeys(r for r, _ in ex.judgment_refs(evidence, rules.refs)))
        enforcement = tuple(
            dict.fromkeys(r for r, _ in ex.enforcement_refs(evidence, rules.refs))
        )
        phones = tuple(ex.phones(body))
        ids = tuple(ex.id_numbers(body))
        rr = route(evidence, quoted, request_type, judgment, rules.units, received)
        unit, court, instance = rr.unit, rr.court, rr.instance
        hits.extend(rr.hits)
    needs_triage = request_type in HUMAN_TYPES and confidence < threshold
    return Classification(
        request_type=request_type,
        confidence=confidence,
        needs_reply=needs_reply,
        machine_kind=machine_kind,
        unit=unit,
        judgment_refs=judgment,
        enforcement_refs=enforcement,
        hits=tuple(hits),
        court=court,
        instance=instance,
        phones=phones,
        id_numbers=ids,
        needs_triage=needs_triage,
        extra={"scores": {k: round(v, 2) for k, v in scores.items() if v}},
    )
