"""Find the competent unit (Điều 35) from the courts and offices a mail names; data in units.toml.

The court that gave the first-instance judgment decides: a Kiên Giang district court → its
Chi cục; the provincial court's own first-instance judgment, the High Court or arbitration →
the Cục (KG); a court of another province → OUTSIDE.  For a complaint or denunciation the
office whose staff acted decides; its leaders are handled by the Cục.  Nothing decidable →
None.  The unit valid on the receipt date is returned (successors after 2025-07-01).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from mailbot.classify import RuleHit
from mailbot.classify.textnorm import fold_phrase
from mailbot.units import OUTSIDE, Units

# Court words: toa an nhan dan | toa an nd | tand | toa an | toa.
# Regexes that open with a lookbehind make the engine try every position of the text; these
# open with their first letter and check the letter before it afterwards (same matches, but
# the engine skips quickly to the places where that letter occurs).
_COURT_WORD = r"(?:oa\s*an\s*nhan\s*dan|oa\s*an\s*nd|and|oa\s*an|oa)"  # after "t"
_COURT_B = rf"t(?<![a-z]t){_COURT_WORD}"  # a court word at the start of a word
_LEVEL = r"(?:huyen|h\.|thanh\s*pho|tp\.?|thi\s*xa|tx\.?|quan|q\.|tinh)"
_OFFICE_B = (  # = (?<![a-z]) + the name of a district office
    r"(?:c(?<![a-z]c)hi\s*cuc\s*(?:thi\s*hanh\s*an\s*dan\s*su|thi\s*hanh\s*an|thads|tha"
    r"|tha\s*ds)?|p(?<![a-z]p)hong\s*thi\s*hanh\s*an\s*dan\s*su\s*khu\s*vuc)"
)
_LEADER_WORD = r"(?:pho\s*chi\s*cuc\s*truong|chi\s*cuc\s*truong|lanh\s*dao\s*chi\s*cuc)"
# The writer complains about or denounces a Chi cục leader (not: sends the complaint to one).
# The words between the verb and the title stay on one line and never say where the đơn was
# sent ("khiếu nại gửi Chi cục trưởng", "Kính gửi: Chi cục trưởng": the leader decides, he
# is not the one accused).
_SENT_TO = r"(?:gui|den|cho|toi|len)(?![a-z])"
_LEADER = re.compile(
    rf"(?<![a-z])(?:khieu\s*nai|to\s*cao|phan\s*anh|hanh\s*vi\s*cua|quyet\s*dinh(?:\s+\S+){{0,6}}"
    rf"\s+cua)[ \t]+(?:(?!{_SENT_TO})\S+[ \t]+){{0,3}}?(?:ong\s+|ba\s+)?{_LEADER_WORD}"
    rf"|{_LEADER_WORD}(?:\s+\S+){{0,8}}?\s+(?:ky|ra|ban\s*hanh)\s+quyet\s*dinh"
    rf"|{_LEADER_WORD}(?:\s+\S+){{0,8}}?\s+(?:da\s+)?(?:doi|nhan|vong|an)\s+tien"
)
_APPEAL = re.compile(r"phuc\s*tham|(?<![a-z])-?pt(?![a-z])")
# A decision of the Cục itself (…/QĐ-CTHADS, DOMAIN.md §6.2), or an officer of the Cục (not of
# a Chi cục, not the Cục trưởng): the case is enforced by the Cục.
_CUC_DECISION = re.compile(r"q(?<![a-z]q)d\s*-?\s*cthads(?![a-z])")
_CUC_STAFF = re.compile(
    r"(?:c(?<![a-z]c)hap\s*hanh\s*vien|c(?<![a-z]c)an\s*bo|t(?<![a-z]t)ham\s*tra\s*vien)"
    r"\s+(?:cua\s+)?cuc(?![a-z])(?!\s*truong)"
)
# The writer asks about the Cục itself: its premises, counter, leaders, figures ("trụ sở Cục",
# "bộ phận một cửa của Cục", "lãnh đạo Cục", "đến Cục"); greeting or thanking it is not enough.
_CUC_ITSELF = re.compile(
    r"(?<![a-z])(?:cua|tai|den|len|o|tru\s*so|lanh\s*dao|gap|dia\s*chi|gio\s*lam\s*viec)\s+"
    r"(?:quy\s+)?cuc(?![a-z])(?!\s*truong)"
    # In English: "the address / office hours of the Provincial (Civil Judgment Enforcement)
    # Department".
    r"|(?<![a-z])(?:address|location|office\s*hours|opening\s*hours|working\s*hours)\s+of\s+"
    r"(?:the\s+)?provincial(?![a-z])"
)


class _Names:
    """Search for whole folded names (spaces as \\s*), as `(?<![a-z])(?:names)(?![a-z])`.

    The pattern starts on the character before a name, a non-letter: the regex engine skips
    the inside of words quickly; a space is put before the text for a name at its start.
    """

    def __init__(self, names: Iterable[str]) -> None:
        alt = "|".join(re.escape(k).replace(r"\ ", r"\s*") for k in names if k)
        self.regex = re.compile(rf"[^a-z](?=(?P<name>{alt})(?![a-z]))")

    def search(self, text: str) -> re.Match[str] | None:
        """The match of the name itself (its group 'name'), offsets one too far."""
        return self.regex.search(" " + text)


@dataclass(frozen=True)
class Place:
    display: str
    unit: str | None  # unit code for a Kiên Giang place; None for other provinces
    ambiguous: bool = False
    province: bool = False  # a province name (another province) rather than a district


@dataclass(frozen=True)
class RouteResult:
    unit: str | None
    court: str | None
    instance: str | None
    hits: tuple[RuleHit, ...]


class Router:
    """Regexes compiled from one Units object."""

    def __init__(self, units: Units) -> None:
        self.units = units
        places: dict[str, Place] = {}
        p = units.province
        for name in p.outside_places:
            places[fold_phrase(name)] = Place(name, None)
        for name in p.outside_provinces:
            places[fold_phrase(name)] = Place(name, None, province=True)
        for u in units.units:
            for name in u.places:
                places[fold_phrase(name)] = Place(name, u.code, ambiguous=u.ambiguous)
        for name in p.aliases:
            places[fold_phrase(name)] = Place(p.name, "KG", province=True)
        self.places = places
        alt = "|".join(
            re.escape(k).replace(r"\ ", r"\s*") for k in sorted(places, key=len, reverse=True)
        )
        self.place_alt = alt
        self.court_re = re.compile(
            rf"t(?<![a-z]t)(?:{_COURT_WORD}\s*(?:nhan\s*dan\s*)?(?P<lvl>{_LEVEL})?\s*"
            rf"(?P<place>{alt})(?![a-z])|a\s+(?P<lvl2>{_LEVEL})\s*(?P<place2>{alt})(?![a-z]))"
        )
        # "TAND Quận 1", "People's Court of Phu Quoc City", "Phu Quoc People's Court".
        self.numbered_re = re.compile(rf"{_COURT_B}\s*(?:nhan\s*dan\s*)?quan\s*\d{{1,2}}")
        self.english_re = re.compile(
            rf"people'?s\s*court\s*of\s*(?:the\s*)?(?:district\s*|city\s*|town\s*)?"
            rf"(?P<place>{alt})(?![a-z])|(?P<place2>{alt})\s*(?:city\s*|town\s*|district\s*)?"
            rf"people'?s\s*court"
        )
        prov_names = "|".join(re.escape(fold_phrase(a)).replace(r"\ ", r"\s*")
                              for a in sorted(p.aliases, key=len, reverse=True))
        # The office's own earlier reply quoted back ("Cục THADS tỉnh Kiên Giang <…> đã viết:").
        self.own_reply_re = re.compile(
            rf"(?:^|\n)[^\n]*c(?<![a-z]c)uc\s*(?:thi\s*hanh\s*an\s*dan\s*su|thads|tha)\s*"
            rf"(?:tinh\s*)?(?:{prov_names})(?![a-z])[^\n]{{0,80}}?(?:da\s*viet|wrote)\s*:"
            rf"|(?:^|\n)\s*(?:from|tu)\s*:\s*c(?<![a-z]c)uc\s*(?:thi\s*hanh\s*an\s*dan\s*su"
            rf"|thads|tha)\s*(?:tinh\s*)?(?:{prov_names})(?![a-z])"
        )
        self.entrusted_re = re.compile(
            r"(?:u(?<![a-z]u)y\s*thac|e(?<![a-z]e)ntrusted)(?![a-z])"
        )
        self.prov_court_re = re.compile(rf"{_COURT_B}\s*(?:cap\s*)?tinh(?![a-z])")
        hc = "|".join(re.escape(fold_phrase(a)).replace(r"\ ", r"\s*")
                      for a in sorted(p.high_court_aliases, key=len, reverse=True))
        self.high_re = re.compile(rf"{_COURT_B}\s*(?:nhan\s*dan\s*)?(?:{hc})(?![a-z])")
        self.office_re = re.compile(
            rf"{_OFFICE_B}\s*(?P<lvl>{_LEVEL})?\s*(?P<place>{alt})(?![a-z])"
        )
        self.outside_office_re = re.compile(
            rf"c(?<![a-z]c)uc\s*(?:thi\s*hanh\s*an\s*dan\s*su|thi\s*hanh\s*an|thads|tha)\s*"
            rf"(?:tinh|thanh\s*pho|tp\.?)?\s*(?P<place>{alt})(?![a-z])"
        )
        cm = [fold_phrase(a) for a in p.cuc_matters]
        self.cuc_re = _Names(cm) if cm else None
        local: dict[str, str] = {}
        for u in units.units:
            if u.ambiguous:
                for name in u.local_places:
                    local[fold_phrase(name)] = u.code
        self.local = local
        self.local_re = _Names(sorted(local, key=len, reverse=True)) if local else None
        prov = [k for k, v in places.items() if v.province]
        pa = "|".join(re.escape(k).replace(r"\ ", r"\s*") for k in sorted(prov, key=len,
                                                                          reverse=True))
        # "Châu Thành, tỉnh An Giang", "Châu Thành (Tiền Giang)", "Châu Thành - KG".
        self.after_re = re.compile(
            rf"^\s*[,(\-–]?\s*(?:tinh|t\.|tp\.?|thanh\s*pho)?\s*(?P<prov>{pa})(?![a-z])"
        )

    # -- helpers ---------------------------------------------------------------------------
    def _disambiguate(self, text: str, end: int, place: Place) -> str | None:
        """Unit code, OUTSIDE or None for an ambiguous name (Châu Thành) ending at `end`."""
        m = self.after_re.match(text[end : end + 40])
        if m:
            after = self._lookup(m.group("prov"))
            return "KG-" if after.unit == "KG" else OUTSIDE
        return None

    def _lookup(self, raw: str) -> Place:
        key = re.sub(r"\s+", " ", raw.strip())
        if key in self.places:
            return self.places[key]
        squeezed = key.replace(" ", "")
        for k, v in self.places.items():
            if k.replace(" ", "") == squeezed:
                return v
        return Place(raw, None)

    def _local_code(self, place: Place) -> str:
        return next(u.code for u in self.units.units if place.display in u.places)

    def _ambiguous_unit(self, texts: list[str], place: Place) -> str | None:
        """Resolve an ambiguous district name using every mention of it in the texts."""
        code = next(u.code for u in self.units.units if place.display in u.places)
        key = fold_phrase(place.display).replace(" ", r"\s*")
        verdict = None
        for text in texts:
            for m in re.finditer(rf"(?<![a-z]){key}(?![a-z])", text):
                got = self._disambiguate(text, m.end(), place)
                if got == OUTSIDE:
                    return OUTSIDE
                if got:
                    verdict = code
        if verdict:
            return verdict
        if self.local_re is not None:
            for text in texts:
                m = self.local_re.search(text)
                if m and self.local.get(re.sub(r"\s+", " ", m.group("name"))) == code:
                    return code
        return None

    def courts(self, text: str, texts: list[str], own: bool = False) -> list[tuple[int, str, str]]:
        """(offset, unit-or-marker, court display name) for every court named in text.

        `own`: the text is the office's own writing, whose ambiguous names are local ones.
        """
        found: list[tuple[int, str, str]] = []
        for m in self.court_re.finditer(text):
            raw = m.group("place") or m.group("place2")
            lvl = (m.group("lvl") or m.group("lvl2") or "").strip()
            place = self._lookup(raw)
            if lvl.startswith(("quan", "q.")) or place.unit is None:
                found.append((m.start(), OUTSIDE, f"Tòa án nhân dân {place.display}"))
            elif place.province and place.unit == "KG":
                if lvl.startswith("huyen"):
                    continue
                found.append((m.start(), "PROV", self.units.province.provincial_court))
            elif place.ambiguous:
                code = self._local_code(place) if own else self._ambiguous_unit(texts, place)
                found.append((m.start(), code or "AMBIGUOUS", f"Tòa án nhân dân huyện "
                              f"{place.display}"))
            else:
                unit = self.units.get(place.unit) if place.unit else None
                name = unit.court_name() if unit else None
                found.append((m.start(), place.unit or OUTSIDE, name or place.display))
        for m in self.prov_court_re.finditer(text):
            rest = text[m.end() : m.end() + 30]
            am = self.after_re.match(rest)
            if am:
                continue  # named with its province: handled by court_re
            found.append((m.start(), "PROV", self.units.province.provincial_court))
        for m in self.numbered_re.finditer(text):
            found.append((m.start(), OUTSIDE, m.group(0)))
        for m in self.english_re.finditer(text) if "people" in text else ():
            place = self._lookup(m.group("place") or m.group("place2"))
            if place.unit is None:
                found.append((m.start(), OUTSIDE, place.display))
            elif place.province:
                # "People's Court of Kien Giang Province": the provincial court.
                found.append((m.start(), "PROV", self.units.province.provincial_court))
            elif place.unit.startswith("KG-") and not place.ambiguous:
                unit = self.units.get(place.unit)
                found.append((m.start(), place.unit, unit.court_name() or "" if unit else ""))
        for m in self.high_re.finditer(text):
            found.append((m.start(), "HIGH", self.units.province.high_court))
        found.sort()
        return found

    def offices(self, text: str, texts: list[str], own: bool = False) -> list[tuple[int, str]]:
        """(offset, unit code or marker) for every Chi cục named in text (`own`: see courts)."""
        out: list[tuple[int, str]] = []
        for m in self.office_re.finditer(text):
            lvl = (m.group("lvl") or "").strip()
            place = self._lookup(m.group("place"))
            if lvl.startswith(("quan", "q.")) or place.unit is None:
                out.append((m.start(), OUTSIDE))
            elif place.province:
                continue
            elif place.ambiguous:
                code = self._local_code(place) if own else self._ambiguous_unit(texts, place)
                out.append((m.start(), code or "AMBIGUOUS"))
            else:
                out.append((m.start(), place.unit))
        for m in self.outside_office_re.finditer(text):
            place = self._lookup(m.group("place"))
            if place.unit is None:
                out.append((m.start(), OUTSIDE))
        out.sort()
        return out


_ROUTERS: dict[int, tuple[Units, Router]] = {}


def _router(units: Units) -> Router:
    # Keyed by identity: hashing the whole Units tree per mail costs more than routing.
    hit = _ROUTERS.get(id(units))
    if hit is None or hit[0] is not units:
        hit = _ROUTERS[id(units)] = (units, Router(units))
    return hit[1]


def _decide_courts(courts: list[tuple[int, str, str]], refs: tuple[str, ...],
                   text: str) -> tuple[str | None, str | None, str]:
    """(unit, court name, reason) from the courts named."""
    districts = [c for c in courts if c[1].startswith("KG-")]
    if districts:
        return districts[0][1], districts[0][2], "route.district_court"
    outside = [c for c in courts if c[1] == OUTSIDE]
    if outside:
        return OUTSIDE, outside[0][2], "route.outside_court"
    if any(c[1] == "AMBIGUOUS" for c in courts):
        return None, next(c[2] for c in courts if c[1] == "AMBIGUOUS"), "route.ambiguous_place"
    if any(c[1] == "HIGH" for c in courts):
        return "KG", next(c[2] for c in courts if c[1] == "HIGH"), "route.high_court"
    prov = [c for c in courts if c[1] == "PROV"]
    if prov:
        appeal = any(r.endswith("-PT") or "QĐPT" in r for r in refs) or (
            not refs and re.search(r"phuc\s*tham", text) is not None
        )
        if appeal:
            return None, prov[0][2], "route.provincial_appeal_without_district"
        return "KG", prov[0][2], "route.provincial_court"
    return None, None, ""


def route(
    evidence: str,
    context: str,
    request_type: str,
    refs: tuple[str, ...],
    units: Units,
    received: date | None,
) -> RouteResult:
    """Competent unit from folded evidence (subject + new + forwarded text) and context (quotes).

    `context` is used only when the writer's own text names no court and no office (a short
    reply in a thread: the quoted exchange tells which office handles the case).
    """
    r = _router(units)
    hits: list[RuleHit] = []
    texts = [evidence, context]
    instance = None
    if any(x.endswith(("-PT", "-GĐT", "-TT")) or x.split("/")[-1].startswith("QĐPT")
           for x in refs):
        instance = "phuc_tham"
    elif refs:
        instance = "so_tham"
    unit: str | None = None
    court: str | None = None
    personal = request_type in ("khieu_nai", "to_cao")
    # The quoted text is the office's own reply: it names its own Chi cục and courts.
    own_reply = bool(context) and "cuc" in context and r.own_reply_re.search(context) is not None
    for source, text in (("body", evidence), ("quoted", context)):
        if not text:
            continue
        own = source == "quoted" and own_reply
        # Cheap guards: most mails name no court or office at all.
        courts = r.courts(text, texts, own) if ("toa" in text or "tand" in text
                                                or "court" in text) else []
        offices = r.offices(text, texts, own) if "cuc" in text else []
        if courts and court is None:
            court = courts[0][2]
        reason = ""
        if personal:
            outside = [o for o in offices if o[1] == OUTSIDE]
            kg_offices = [o for o in offices if o[1].startswith("KG-")]
            # Every leader title has "chi cuc" and "truong" or "lanh dao": else no scan.
            leader = _LEADER.search(text) if "cuc" in text and (
                "truong" in text or "lanh" in text) else None
            if outside and not kg_offices:
                unit, reason = OUTSIDE, "route.outside_office"
            elif leader:
                unit, reason = "KG", "route.leader_to_cuc"
            elif kg_offices:
                unit, reason = kg_offices[0][1], "route.office_named"
            else:
                unit, c2, reason = _decide_courts(courts, refs, text)
                court = court or c2
        else:
            unit, c2, reason = _decide_courts(courts, refs, text)
            court = court or c2
            if unit is None and not reason and r.cuc_re is not None and r.cuc_re.search(text):
                unit, reason = "KG", "route.cuc_matter"
            if unit is None and not reason:
                kg_offices = [o for o in offices if o[1].startswith("KG-")]
                outside = [o for o in offices if o[1] == OUTSIDE]
                if kg_offices:
                    unit, reason = kg_offices[0][1], "route.office_named"
                elif outside:
                    unit, reason = OUTSIDE, "route.outside_office"
        if unit is None and not reason and r.cuc_re is not None and r.cuc_re.search(text):
            unit, reason = "KG", "route.cuc_matter"
        if unit is None and not reason and "cthads" in text and _CUC_DECISION.search(text):
            unit, reason = "KG", "route.cuc_decision"
        if unit is None and not reason and personal and _CUC_STAFF.search(text):
            unit, reason = "KG", "route.cuc_staff"
        # A case entrusted (ủy thác) to another office is handled there now.
        em = r.entrusted_re.search(text) if "thac" in text or "entrusted" in text else None
        if em and unit not in (None, OUTSIDE):
            after = [o for o in offices if o[0] > em.start() and o[1].startswith("KG-")]
            if after and after[0][1] != unit:
                unit, reason = after[0][1], "route.entrusted"
        if reason:
            hits.append(RuleHit(reason, 1.0, source, unit or ""))
        if unit is not None or reason:
            break
    # Nothing decidable from courts and offices (DOMAIN.md §5.1: then None), except that the
    # Cục itself is the unit when it already answered this thread, or when the writer asks
    # about the Cục itself (its counter, premises, leaders).  A general legal question that
    # names no court or office stays None: the guidance asks which court judged the case.
    if unit is None and not hits:
        if own_reply:
            unit = "KG"
            hits.append(RuleHit("route.cuc_thread", 1.0, "quoted", unit))
        elif request_type == "hoi_dap" and ("cuc" in evidence or "provincial" in evidence) \
                and _CUC_ITSELF.search(evidence):
            unit = "KG"
            hits.append(RuleHit("route.cuc_itself", 1.0, "body", unit))
    if unit is not None and unit != OUTSIDE and received is not None:
        resolved = units.resolve(unit, received)
        if resolved.code != unit:
            hits.append(RuleHit("route.successor", 1.0, "units", f"{unit}→{resolved.code}"))
            unit = resolved.code
    return RouteResult(unit, court, instance, tuple(hits))
