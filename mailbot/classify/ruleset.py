"""Load and validate rules/classification.toml and references.toml into compiled predicates."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from mailbot.classify.abbrev import Abbreviations
from mailbot.classify.extract import RefPatterns, compile_refs
from mailbot.classify.scan import PhraseScanner, PhraseSet
from mailbot.classify.textnorm import fold_phrase, phrases_regex
from mailbot.errors import RuleError
from mailbot.units import Units, load_units

CLASSIFICATION_FILE = "classification.toml"
REFERENCES_FILE = "references.toml"

HUMAN_TYPES = ("yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai", "to_cao", "hoi_dap")
MACHINE_TYPES = ("tu_dong", "thu_rac")
ALL_TYPES = HUMAN_TYPES + MACHINE_TYPES
MACHINE_KINDS = ("auto_reply", "bounce", "list", "notification")
WHERE = ("subject", "body", "any", "sender", "attachment", "quoted")
# The parts of a mail that are scanned, and the `in` values of the rules that look at each.
SECTIONS = {
    "subject": ("subject", "any"),
    "body": ("any", "body"),
    "sender": ("sender",),
    "attachment": ("attachment",),
    "quoted": ("quoted",),
}


@dataclass(frozen=True)
class Rule:
    """One named rule: folded phrases and regex patterns, and the scores it adds per type.

    Phrases are matched by the section scanners of the RuleSet (one pass per text for all
    rules); `regex` is the same rule as one regex (phrases, then patterns), the reference
    for what the scanners must find, used by tests and for short texts.
    """

    name: str
    where: str
    regex: re.Pattern[str]
    score: dict[str, float]
    subject_score: dict[str, float]
    kind: str | None = None  # machine_kind proposed by a tu_dong rule
    note: str = ""
    max_count: int = 1  # distinct matches counted (a list of adverts' words adds up)
    phrases: tuple[str, ...] = ()  # folded
    patterns: re.Pattern[str] | None = None  # the regex patterns alone, tried after phrases
    needles: tuple[str, ...] | None = None  # literal starts of the patterns (fast skip)
    # Combined evidence: indices of rules that must also match (anywhere in the mail) for
    # this one to count, e.g. commercial signals count only in a mail offering a service.
    requires: tuple[int, ...] = ()


@dataclass(frozen=True)
class Section:
    """The rules that look at one part of a mail; their phrases merged into one scanner."""

    rules: tuple[int, ...]  # indices into RuleSet.rules, in file order
    scanner: PhraseScanner
    owners: tuple[tuple[int, ...], ...]  # phrase id → indices of the rules holding it
    pattern_rules: tuple[int, ...] = ()  # those of `rules` with regex patterns


@dataclass(frozen=True)
class Settings:
    machine_threshold: float = 3.0
    spam_threshold: float = 3.0
    reply_subject_factor: float = 0.3  # "Re:" subjects repeat the thread, they ask nothing new
    default_type: str = "hoi_dap"


@dataclass(frozen=True)
class RuleSet:
    """Everything classify() needs, compiled once per rules directory."""

    rules: tuple[Rule, ...]
    type_names: dict[str, str]
    settings: Settings
    refs: RefPatterns
    units: Units
    closing: PhraseSet | None
    closing_blockers: PhraseSet | None
    closing_max_words: int
    source: str = ""
    sections: dict[str, Section] = field(default_factory=dict)
    # Phone-style abbreviations written out before matching ("ko" → "khong").
    abbreviations: Abbreviations = field(default_factory=lambda: Abbreviations(None, {}))


def _compile(phrases: list[str], patterns: list[str], where: str) -> re.Pattern[str]:
    parts = [phrases_regex(phrases)] if any(fold_phrase(p) for p in phrases) else []
    for pat in patterns:
        try:
            re.compile(pat)
        except re.error as exc:
            raise RuleError(f"{where}: biểu thức {pat!r} sai: {exc}") from exc
        parts.append(f"(?:{pat})")
    if not parts:
        raise RuleError(f"{where}: cần ít nhất một phrases hoặc patterns")
    return re.compile("|".join(parts))


def _scores(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RuleError(f"{where}: score phải là bảng, ví dụ {{ khieu_nai = 3 }}")
    out = {}
    for k, v in value.items():
        if k not in ALL_TYPES:
            raise RuleError(f"{where}: loại {k!r} không có; dùng một trong {', '.join(ALL_TYPES)}")
        if not isinstance(v, int | float):
            raise RuleError(f"{where}: điểm của {k} phải là số")
        out[k] = float(v)
    return out


def _needles(patterns: list[str]) -> tuple[str, ...] | None:
    """A literal every match must contain, per pattern; None if some pattern has none."""
    out = []
    for pat in patterns:
        m = re.match(r"[a-z0-9 ]+", pat)
        if "|" in pat or not m:
            return None
        lit = m.group(0)
        if pat[len(lit):len(lit) + 1] in ("?", "*", "{"):
            lit = lit[:-1]
        if len(lit.strip()) < 3:
            return None
        out.append(lit.strip())
    return tuple(out)


_RULE_KEYS = {
    "name", "in", "phrases", "patterns", "score", "subject_score", "kind", "note", "max_count",
    "requires",
}


def parse_rules(data: dict[str, Any], source: str) -> tuple[list[Rule], dict[str, str], Settings]:
    """Validate classification.toml; RuleError names the file and the rule."""
    types = data.get("types", {})
    missing = [t for t in ALL_TYPES if t not in types]
    if missing:
        raise RuleError(f"{source}: [types] thiếu {', '.join(missing)}")
    type_names = {k: str(v) for k, v in types.items()}
    s = data.get("settings", {})
    try:
        settings = Settings(**s)
    except TypeError as exc:
        raise RuleError(f"{source}: [settings] có khóa không biết: {exc}") from exc
    rules: list[Rule] = []
    names: set[str] = set()
    required: dict[int, list[str]] = {}
    for i, raw in enumerate(data.get("rule", []), 1):
        name = raw.get("name") if isinstance(raw, dict) else None
        where = f"{source}: quy tắc {name or f'thứ {i}'}"
        if not name:
            raise RuleError(f"{where}: thiếu name")
        if name in names:
            raise RuleError(f"{where}: tên quy tắc bị lặp")
        names.add(name)
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise RuleError(f"{where}: khóa không biết {', '.join(sorted(unknown))}")
        loc = raw.get("in", "any")
        if loc not in WHERE:
            raise RuleError(f"{where}: in = {loc!r}; dùng một trong {', '.join(WHERE)}")
        kind = raw.get("kind")
        if kind is not None and kind not in MACHINE_KINDS:
            raise RuleError(f"{where}: kind = {kind!r}; dùng một trong {', '.join(MACHINE_KINDS)}")
        phrases = raw.get("phrases", [])
        patterns = raw.get("patterns", [])
        if not isinstance(phrases, list) or not isinstance(patterns, list):
            raise RuleError(f"{where}: phrases và patterns phải là danh sách chuỗi")
        score = _scores(raw.get("score"), where)
        if not score:
            raise RuleError(f"{where}: thiếu score")
        sub = _scores(raw.get("subject_score"), where) or score
        max_count = raw.get("max_count", 1)
        if not isinstance(max_count, int) or max_count < 1:
            raise RuleError(f"{where}: max_count phải là số nguyên từ 1 trở lên")
        req = raw.get("requires", [])
        if not isinstance(req, list) or not all(isinstance(x, str) for x in req):
            raise RuleError(f"{where}: requires phải là danh sách tên quy tắc")
        required[len(rules)] = req
        folded = tuple(dict.fromkeys(f for f in map(fold_phrase, phrases) if f))
        rules.append(
            Rule(name, loc, _compile(phrases, patterns, where), score, sub, kind,
                 str(raw.get("note", "")), max_count, folded,
                 _compile([], patterns, where) if patterns else None,
                 _needles(patterns) if patterns else None)
        )
    index = {r.name: i for i, r in enumerate(rules)}
    for i, req in required.items():
        unknown = [n for n in req if n not in index or n == rules[i].name]
        if unknown:
            raise RuleError(f"{source}: quy tắc {rules[i].name}: requires nêu quy tắc không có "
                            f"(hoặc chính nó): {', '.join(unknown)}")
        if req:
            rules[i] = replace(rules[i], requires=tuple(index[n] for n in req))
    return rules, type_names, settings


def build_sections(rules: list[Rule]) -> dict[str, Section]:
    """Merge the phrases of the rules of each section into one scanner (done once per load)."""
    out = {}
    for section, wheres in SECTIONS.items():
        idx = tuple(i for i, r in enumerate(rules) if r.where in wheres)
        phrase_ids: dict[str, int] = {}
        owners: list[list[int]] = []
        for i in idx:
            for p in rules[i].phrases:
                pid = phrase_ids.setdefault(p, len(phrase_ids))
                if pid == len(owners):
                    owners.append([])
                owners[pid].append(i)
        out[section] = Section(idx, PhraseScanner.build(list(phrase_ids)),
                               tuple(tuple(o) for o in owners),
                               tuple(i for i in idx if rules[i].patterns is not None))
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RuleError(f"không đọc được {path}: {exc.strerror}; kiểm tra thư mục rules") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: lỗi cú pháp TOML: {exc}") from exc


@lru_cache(maxsize=8)
def _load(rules_dir: str, stamp: tuple[float, ...]) -> RuleSet:
    base = Path(rules_dir)
    src = str(base / CLASSIFICATION_FILE)
    data = _read(base / CLASSIFICATION_FILE)
    rules, type_names, settings = parse_rules(data, src)
    closing = data.get("closing", {})
    closing_re = blockers = None
    if closing.get("phrases"):
        _compile(closing["phrases"], closing.get("patterns", []), src + " [closing]")  # checks
        pats = closing.get("patterns", [])
        closing_re = PhraseSet.build(
            [fold_phrase(p) for p in closing["phrases"]],
            _compile([], pats, src + " [closing]") if pats else None,
        )
    if closing.get("blockers"):
        _compile(closing["blockers"], [], src + " [closing] blockers")
        blockers = PhraseSet.build([fold_phrase(p) for p in closing["blockers"]])
    refs = compile_refs(_read(base / REFERENCES_FILE))
    return RuleSet(
        rules=tuple(rules),
        type_names=type_names,
        settings=settings,
        refs=refs,
        units=load_units(base),
        closing=closing_re,
        closing_blockers=blockers,
        closing_max_words=int(closing.get("max_words", 60)),
        source=src,
        sections=build_sections(rules),
        abbreviations=Abbreviations.build(data.get("abbreviations"), src),
    )


def load_ruleset(rules_dir: Path) -> RuleSet:
    """Compile rules_dir once; a change to any of its files (mtime) reloads it."""
    base = Path(rules_dir)
    stamp = []
    for name in (CLASSIFICATION_FILE, REFERENCES_FILE, "units.toml"):
        try:
            stamp.append((base / name).stat().st_mtime)
        except OSError as exc:
            raise RuleError(
                f"không tìm thấy {base / name}; kiểm tra rules_dir trong cấu hình"
            ) from exc
    return _load(str(base.resolve()), tuple(stamp))
