"""The JSON form of a report: additive figures (counts, day histograms) plus derived values.

Only the additive figures are read back (merge.py); medians, percentiles and rates are always
recomputed from them, so a merged report equals the report computed on the whole register.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from mailbot.errors import ExportError
from mailbot.report.form import FormSpec
from mailbot.report.hierarchy import UnitInfo
from mailbot.report.periods import Period
from mailbot.report.stats import Report, UnitReport, UnitStats, percentile

SCHEMA = "mailbot.stats/1"
HISTOGRAMS = ("first_reply_days", "closing_days")


def _days(hist: dict[int, int]) -> dict[str, Any]:
    return {
        "count": sum(hist.values()),
        "median": percentile(hist, 0.5),
        "p90": percentile(hist, 0.9),
        "histogram": {str(k): v for k, v in sorted(hist.items())},
    }


def stats_to_dict(s: UnitStats, form: FormSpec | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(s):
        value = getattr(s, f.name)
        if f.name in HISTOGRAMS:
            out[f.name] = _days(value)
        elif isinstance(value, dict):
            out[f.name] = {
                k: (dict(sorted(v.items())) if isinstance(v, dict) else v)
                for k, v in sorted(value.items())
            }
        else:
            out[f.name] = value
    out["resolved"] = s.resolved
    out["machine_filtered"] = s.machine_filtered
    out["on_time_rate"] = s.on_time_rate
    out["accuracy"] = s.accuracy
    if form is not None:
        rows = []
        for row, values in form.table(s.by_type):
            rows.append(
                {
                    "key": row.key,
                    "label": row.label,
                    "columns": {str(n): v for n, v in values.items()},
                }
            )
        out["form_rows"] = rows
    return out


def stats_from_dict(data: dict[str, Any], where: str) -> UnitStats:
    s = UnitStats()
    try:
        for f in fields(s):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in HISTOGRAMS:
                setattr(s, f.name, {int(k): int(v) for k, v in value["histogram"].items()})
            elif f.name == "by_type" or f.name == "monthly":
                setattr(
                    s, f.name, {k: {kk: int(vv) for kk, vv in v.items()} for k, v in value.items()}
                )
            elif isinstance(getattr(s, f.name), dict):
                setattr(s, f.name, {k: int(v) for k, v in value.items()})
            else:
                setattr(s, f.name, int(value))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ExportError(
            f"{where}: số liệu không đúng định dạng ({exc}); hãy xuất lại tệp "
            "bằng `mailbot stats --format json`"
        ) from None
    return s


def _unit_dict(u: UnitReport, form: FormSpec | None) -> dict[str, Any]:
    info = u.unit
    return {
        "unit": info.code,
        "name": info.name,
        "parent": info.parent,
        "level": info.level,
        **stats_to_dict(u.stats, form),
    }


def report_to_dict(report: Report, form: FormSpec | None = None) -> dict[str, Any]:
    """The JSON export: {"schema", "from", "to", "units": [...], "sections", "total", ...}."""
    export_id = uuid.uuid4().hex
    return {
        "schema": SCHEMA,
        "export_id": export_id,
        "sources": report.sources or [export_id],
        "from": report.period.start.isoformat(),
        "to": report.period.end.isoformat(),
        "timezone": report.timezone,
        "generated_at": (report.generated_at or datetime.now()).isoformat(timespec="seconds"),
        "units": [_unit_dict(u, form) for u in report.units],
        "sections": {
            "cuc": stats_to_dict(report.section("cuc"), form),
            "chi_cuc": stats_to_dict(report.section("chi_cuc"), form),
        },
        "total": stats_to_dict(report.total, form),
    }


def report_from_dict(data: dict[str, Any], where: str) -> Report:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ExportError(
            f"{where}: không phải tệp số liệu của mailbot ({SCHEMA}); hãy dùng tệp "
            "tạo bởi `mailbot stats --format json`"
        )
    try:
        period = Period(date.fromisoformat(data["from"]), date.fromisoformat(data["to"]))
        units = [
            UnitReport(
                UnitInfo(str(u["unit"]), str(u.get("name") or u["unit"]), u.get("parent")),
                stats_from_dict(u, f"{where} [{u['unit']}]"),
            )
            for u in data["units"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"{where}: thiếu hoặc sai mục {exc}; hãy xuất lại tệp") from None
    return Report(
        period,
        units,
        timezone=str(data.get("timezone", "Asia/Ho_Chi_Minh")),
        sources=[str(x) for x in data.get("sources") or [data.get("export_id", where)]],
    )
