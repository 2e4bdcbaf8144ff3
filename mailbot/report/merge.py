"""Merge the JSON exports of several units (a Cục and its Chi cục) into one exact report."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from mailbot.errors import ExportError
from mailbot.report.hierarchy import UnitInfo, sort_units
from mailbot.report.jsonfmt import report_from_dict
from mailbot.report.stats import Report, UnitReport, UnitStats


def read_export(path: Path | str) -> Report:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExportError(f"không đọc được tệp {p}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportError(f"{p}: không phải JSON hợp lệ ({exc}); hãy xuất lại tệp") from None
    return report_from_dict(data, str(p))


def merge_reports(reports: Iterable[Report], names: Iterable[str] | None = None) -> Report:
    """Sum the reports unit by unit. Registers are disjoint (each dossier lives in one database),
    so the sum is exact; a unit with figures in two files, the same export twice, or different
    periods are refused rather than guessed at."""
    reports = list(reports)
    labels = list(names) if names is not None else [f"tệp {i + 1}" for i in range(len(reports))]
    if not reports:
        raise ExportError("không có tệp nào để gộp; hãy nêu các tệp JSON của các đơn vị")
    first = reports[0]
    seen_sources: dict[str, str] = {}
    owner: dict[str, str] = {}
    infos: dict[str, UnitInfo] = {}
    sums: dict[str, UnitStats] = {}
    for rep, label in zip(reports, labels, strict=True):
        if rep.period != first.period:
            raise ExportError(
                f"{label} có kỳ báo cáo {rep.period.label.lower()}, khác {labels[0]} "
                f"({first.period.label.lower()}); hãy xuất lại cùng --from/--to"
            )
        if rep.timezone != first.timezone:
            raise ExportError(f"{label} dùng múi giờ {rep.timezone}, khác {first.timezone}")
        for src in rep.sources:
            if src in seen_sources:
                raise ExportError(
                    f"{label} và {seen_sources[src]} chứa cùng một lần xuất số liệu; "
                    "mỗi tệp chỉ được gộp một lần"
                )
            seen_sources[src] = label
        for u in rep.units:
            code = u.unit.code
            # Keep the richest description (a real name rather than the bare code).
            if code not in infos or infos[code].name == code:
                infos[code] = u.unit
            if u.stats.is_empty():
                sums.setdefault(code, UnitStats())
                continue
            if code in owner:
                raise ExportError(
                    f"đơn vị {code} có số liệu trong cả {owner[code]} và {label}; mỗi đơn vị "
                    "chỉ được có số liệu trong một tệp (có thể một tệp bị gộp hai lần)"
                )
            owner[code] = label
            sums.setdefault(code, UnitStats()).add(u.stats)
    codes = sort_units(infos, infos)
    return Report(
        first.period,
        [UnitReport(infos[c], sums[c]) for c in codes],
        timezone=first.timezone,
        sources=list(seen_sources),
    )
