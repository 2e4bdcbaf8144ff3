"""Pull judgment and enforcement-decision numbers, phones and ID numbers out of folded text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailbot.classify.textnorm import fold


@dataclass(frozen=True)
class RefPatterns:
    """Compiled reference regexes built from rules/references.toml."""

    judgment: re.Pattern[str]
    enforcement: re.Pattern[str]
    case_types: tuple[str, ...]
    stages: tuple[str, ...]
    decision_prefix: str
    restore: dict[str, str]
    min_year: int
    max_year: int


def _alt(codes: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(c.lower()) for c in codes), key=len, reverse=True))


def compile_refs(cfg: dict[str, object]) -> RefPatterns:
    """Build the regexes of DOMAIN.md §6 from the lists in references.toml."""
    j = cfg.get("judgment", {})
    e = cfg.get("enforcement", {})
    assert isinstance(j, dict) and isinstance(e, dict)
    case_types = tuple(str(c).upper() for c in j.get("case_types", []))
    stages = tuple(str(s).upper() for s in j.get("stages", []))
    prefix = str(j.get("decision_prefix", "QD")).upper()
    restore = {str(k).upper(): str(v) for k, v in dict(j.get("restore", {})).items()}
    st = _alt(stages)
    judgment = re.compile(
        rf"""(?P<no>\d(?<![\d/]\d)\d{{0,4}})\s*/\s*(?P<year>(?:19|20)\d{{2}})\s*/\s*
        (?P<code>(?:(?P<qd>{prefix.lower()})(?P<qdstage>{st})?\s*-?\s*)?
                 (?P<ct>{_alt(case_types)})
                 (?:\s*-?\s*(?P<stage>{st}))?)(?![a-z0-9])""",
        re.VERBOSE,
    )
    enforcement = re.compile(
        rf"""(?P<no>\d(?<![\d/]\d)\d{{0,5}})\s*/\s*(?P<kind>{_alt(e.get("kinds", ["QD"]))})
        \s*-\s*(?P<agency>{_alt(e.get("agencies", []))})(?![a-z0-9])""",
        re.VERBOSE,
    )
    return RefPatterns(
        judgment=judgment,
        enforcement=enforcement,
        case_types=case_types,
        stages=stages,
        decision_prefix=prefix,
        restore=restore,
        min_year=int(j.get("min_year", 1990)),
        max_year=int(j.get("max_year", 2100)),
    )


def _r(p: RefPatterns, code: str) -> str:
    return p.restore.get(code, code)


def judgment_refs(folded: str, p: RefPatterns) -> list[tuple[str, int]]:
    """Normalised judgment refs with their offsets in the folded text, in order of appearance."""
    out: list[tuple[str, int]] = []
    if "/" not in folded:  # every reference has one: skip the scan
        return out
    for m in p.judgment.finditer(folded):
        year = int(m["year"])
        if not p.min_year <= year <= p.max_year:
            continue
        ct = _r(p, m["ct"].upper())
        if m["qd"]:
            # A court decision: QĐST-DS (stage inside the prefix) or QĐ-BPKCTT.
            qd = _r(p, p.decision_prefix) + (_r(p, m["qdstage"].upper()) if m["qdstage"] else "")
            if m["stage"] and not m["qdstage"]:
                code = f"{ct}-{_r(p, m['stage'].upper())}"
                code = f"{qd}{_r(p, m['stage'].upper())}-{ct}"
            else:
                code = f"{qd}-{ct}"
        elif m["stage"]:
            code = f"{ct}-{_r(p, m['stage'].upper())}"
        else:
            code = ct
        out.append((f"{int(m['no'])}/{year}/{code}", m.start()))
    return out


def enforcement_refs(folded: str, p: RefPatterns) -> list[tuple[str, int]]:
    """Normalised agency decision numbers (`123/QĐ-CCTHADS`) with offsets."""
    out: list[tuple[str, int]] = []
    if "/" not in folded:
        return out
    for m in p.enforcement.finditer(folded):
        kind = _r(p, m["kind"].upper())
        out.append((f"{int(m['no'])}/{kind}-{m['agency'].upper()}", m.start()))
    return out


# Vietnamese phone numbers: mobile 0[35789]x… (10 digits) or landline 02xx (11 digits),
# written with spaces, dots or dashes, optionally +84.
# Every pattern here starts with a character and checks the one before it afterwards (a
# lookbehind first would make the regex engine try every position of the text: slow).
_PHONE_RE = re.compile(
    r"(?:\+(?<![\d/.]\+)84[\s.\-]?|8(?<![\d/.]8)4[\s.\-]?|0(?<![\d/.]0))"
    r"(\d(?:[\s.\-]?\d){8,9})(?![\d/])"
)
_ID_RE = re.compile(r"(\d(?<![\d/.\-]\d)(?:\d{8}|\d{11}))(?![\d/.\-])")
_ID_CONTEXT_RE = re.compile(r"(cmnd|cccd|can cuoc|chung minh|dinh danh|so id|id card)")


def phones(folded: str) -> list[str]:
    """Phone numbers as 0XXXXXXXXX; shown to staff, never logged."""
    out: list[str] = []
    for m in _PHONE_RE.finditer(folded):
        digits = "0" + re.sub(r"\D", "", m.group(1))
        if len(digits) == 10 and digits[1] in "35789" or len(digits) == 11 and digits[1] == "2":
            if digits not in out:
                out.append(digits)
    return out


def id_numbers(folded: str) -> list[str]:
    """CMND (9 digits) and CCCD (12 digits) numbers; 12 digits alone count, 9 need context."""
    out: list[str] = []
    for m in _ID_RE.finditer(folded):
        num = m.group(1)
        ctx = folded[max(0, m.start() - 40) : m.start()]
        if len(num) == 12 and num.startswith("0") or _ID_CONTEXT_RE.search(ctx):
            if num not in out:
                out.append(num)
    return out


def extract_all(text: str, p: RefPatterns) -> tuple[list[str], list[str]]:
    """Convenience for tests: (judgment_refs, enforcement_refs) of raw text."""
    f = fold(text)
    j = list(dict.fromkeys(r for r, _ in judgment_refs(f, p)))
    e = list(dict.fromkeys(r for r, _ in enforcement_refs(f, p)))
    return j, e
