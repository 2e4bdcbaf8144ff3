"""ParsedMail + rules → Classification (type, confidence, unit, refs, hits); pure, no I/O.

CONTRACT (implementation in progress).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleHit:
    rule: str  # rule name as written in rules/
    score: float
    where: str  # subject | body | header | forwarded | ...
    detail: str = ""  # short, never personal data (no phone/ID numbers)


@dataclass(frozen=True)
class Classification:
    request_type: str  # one of mailbot.dossier.models.RequestType values
    confidence: float  # 0..1
    needs_reply: bool
    machine_kind: str | None  # auto_reply | bounce | list | notification, for tu_dong only
    unit: str | None  # competent unit code, "OUTSIDE", or None when undecidable
    judgment_refs: tuple[str, ...]  # normalised, e.g. "45/2017/DS-ST"
    enforcement_refs: tuple[str, ...]  # normalised, e.g. "123/QĐ-CCTHADS"
    hits: tuple[RuleHit, ...] = ()
    court: str | None = None  # the court named, normalised name, if any
    instance: str | None = None  # "so_tham" | "phuc_tham" | None
    phones: tuple[str, ...] = ()  # shown to staff only, never logged
    id_numbers: tuple[str, ...] = ()  # CMND/CCCD, shown to staff only, never logged
    needs_triage: bool = False  # confidence below the threshold: cần phân loại
    extra: dict[str, object] = field(default_factory=dict)


# Public API; imported last because these modules use the dataclasses above.
from mailbot.classify.core import classify  # noqa: E402
from mailbot.classify.ruleset import RuleSet, load_ruleset  # noqa: E402

__all__ = ["Classification", "RuleHit", "RuleSet", "classify", "load_ruleset"]
