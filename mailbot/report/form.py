"""Biểu số 2 as data: columns, rows and cross-checks from rules/report_form.toml, and the table."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailbot.config import PROJECT_DIR
from mailbot.dossier.models import HUMAN_TYPES
from mailbot.errors import RuleError

FORM_FILE = "report_form.toml"

# The figures a column may show; per request type they are stored in UnitStats.by_type.
TYPE_FIGURES = (
    "received",
    "paper_counter",
    "paper_post",
    "resolved_on_time",
    "resolved_late",
    "pending_not_due",
    "pending_overdue",
    "return_counter",
    "return_notice",
    "return_email",
)
OUTCOMES = ("resolved_on_time", "resolved_late", "pending_not_due", "pending_overdue")
SOURCES = (*TYPE_FIGURES, "outcome_total", "stt", "label")
OPS = {"==": lambda a, b: a == b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


@dataclass(frozen=True)
class FormColumn:
    no: int
    heading: str
    source: str
    group: str = ""
    subgroup: str = ""

    @property
    def numeric(self) -> bool:
        return self.source not in ("stt", "label")


@dataclass(frozen=True)
class FormRow:
    key: str
    label: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class FormCheck:
    left: tuple[int, ...]
    op: str
    right: tuple[int, ...]
    label: str


@dataclass(frozen=True)
class FormSpec:
    title: str
    form_name: str
    section_cuc: str
    section_chi_cuc: str
    total_label: str
    columns: tuple[FormColumn, ...]
    rows: tuple[FormRow, ...]
    checks: tuple[FormCheck, ...]

    @property
    def numeric_columns(self) -> tuple[FormColumn, ...]:
        return tuple(c for c in self.columns if c.numeric)

    def values(self, by_type: dict[str, dict[str, int]], types: tuple[str, ...]) -> dict[int, int]:
        """Column number → figure for the request types of one row (or all rows)."""
        sums = {f: sum(by_type.get(t, {}).get(f, 0) for t in types) for f in TYPE_FIGURES}
        sums["outcome_total"] = sum(sums[o] for o in OUTCOMES)
        return {c.no: sums[c.source] for c in self.numeric_columns}

    @property
    def all_types(self) -> tuple[str, ...]:
        return tuple(t for r in self.rows for t in r.types)

    def table(self, by_type: dict[str, dict[str, int]]) -> list[tuple[FormRow, dict[int, int]]]:
        return [(r, self.values(by_type, r.types)) for r in self.rows]

    def mismatches(self, values: dict[int, int], where: str) -> list[str]:
        """Cross-checks that fail, in Vietnamese; never corrected, only reported."""
        out = []
        for chk in self.checks:
            a = sum(values.get(n, 0) for n in chk.left)
            b = sum(values.get(n, 0) for n in chk.right)
            if not OPS[chk.op](a, b):
                out.append(f"{where}: kiểm tra {chk.label} không đạt ({a} so với {b})")
        return out


def _fail(path: Path, what: str) -> RuleError:
    return RuleError(f"{path}: {what}; sửa tệp theo mẫu rules/report_form.toml của dự án")


def load_form(rules_dir: Path | str | None = None) -> FormSpec:
    """Read rules_dir/report_form.toml (the project's copy when the office has none)."""
    path = Path(rules_dir) / FORM_FILE if rules_dir else PROJECT_DIR / "rules" / FORM_FILE
    if not path.exists():
        path = PROJECT_DIR / "rules" / FORM_FILE
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, f"không đọc được ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"không phải TOML hợp lệ ({exc})") from None
    try:
        columns = tuple(
            FormColumn(
                int(c["no"]),
                str(c["heading"]),
                str(c["source"]),
                str(c.get("group", "")),
                str(c.get("subgroup", "")),
            )
            for c in data["columns"]
        )
        rows = tuple(
            FormRow(str(r["key"]), str(r["label"]), tuple(r["types"])) for r in data["rows"]
        )
        checks = tuple(
            FormCheck(
                tuple(ch["left"]), str(ch["op"]), tuple(ch["right"]), str(ch.get("label", ""))
            )
            for ch in data.get("checks", [])
        )
        spec = FormSpec(
            str(data["title"]),
            str(data.get("form_name", "Biểu số 2")),
            str(data["section_cuc"]),
            str(data["section_chi_cuc"]),
            str(data["total_label"]),
            columns,
            rows,
            checks,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(path, f"thiếu hoặc sai mục {exc}") from None
    for c in columns:
        if c.source not in SOURCES:
            raise _fail(path, f"cột ({c.no}) có source {c.source!r} không hợp lệ")
    numbers = {c.no for c in columns}
    for chk in checks:
        if chk.op not in OPS or not set(chk.left + chk.right) <= numbers:
            raise _fail(path, f"phép kiểm tra {chk.label!r} sai toán tử hoặc số cột")
    mapped = spec.all_types
    for t in HUMAN_TYPES:
        if mapped.count(t.value) != 1:
            raise _fail(path, f"loại yêu cầu {t.value} phải thuộc đúng một dòng của biểu")
    return spec
