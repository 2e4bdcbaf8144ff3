"""A Cục merging its Chi cục's JSON exports gets exactly the report of the shared register."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import AuditEvent, Dossier, MailMessage, Rating
from mailbot.errors import ExportError
from mailbot.report.jsonfmt import report_from_dict, report_to_dict
from mailbot.report.merge import merge_reports, read_export
from mailbot.report.periods import Period
from mailbot.report.stats import Report
from tests.test_report_stats import MAILBOXES, PERIOD, UNITS, Register, make_register, run


def _comparable(report: Report) -> dict[str, Any]:
    data = report_to_dict(report)
    for key in ("export_id", "sources", "generated_at"):
        data.pop(key)
    return data


def split(reg: Register, tmp_path: Path) -> dict[str, Engine]:
    """One SQLite register per unit, as if each Chi cục ran its own mailbot."""
    engines = {}
    owner = {d["id"]: d["handling_unit"] for d in reg.dossiers}
    for unit in UNITS:
        url = f"sqlite:///{tmp_path / f'{unit}.db'}"
        eng = get_engine(url)
        create_schema(eng)
        engines[unit] = eng
        mails = [m for m in reg.mails if MAILBOXES.get(m["source"].split("/")[0], "KG") == unit]
        with eng.begin() as conn:
            for table, rows in (
                (Dossier, [d for d in reg.dossiers if d["handling_unit"] == unit]),
                (Rating, [r for r in reg.ratings if owner[r["dossier_id"]] == unit]),
                (AuditEvent, [a for a in reg.audits if owner[a["dossier_id"]] == unit]),
                (MailMessage, mails),
            ):
                if rows:
                    conn.execute(table.__table__.insert(), rows)
    return engines


@pytest.mark.parametrize("period", [PERIOD, Period(date(2024, 12, 15), date(2025, 2, 10))])
def test_merge_of_the_split_register_equals_the_whole(
    engine: Engine, tmp_path: Path, period: Period
) -> None:
    reg = make_register(engine)
    whole = run(engine, period, units=["KG"])
    files = []
    for unit, eng in split(reg, tmp_path).items():
        path = tmp_path / f"{unit}.json"
        # Each office exports its own report as the CLI does (the Cục: itself and, empty, its
        # Chi cục; a Chi cục: itself).
        path.write_text(json.dumps(report_to_dict(run(eng, period, units=[unit]))), "utf-8")
        files.append(path)
    merged = merge_reports([read_export(f) for f in files], [str(f) for f in files])
    assert _comparable(merged) == _comparable(whole)
    # Medians and percentiles are recomputed from the merged histograms, so they agree too.
    m, w = report_to_dict(merged)["total"], report_to_dict(whole)["total"]
    assert m["first_reply_days"]["p90"] == w["first_reply_days"]["p90"] is not None
    assert m["closing_days"]["median"] == w["closing_days"]["median"] is not None


def test_json_round_trip_keeps_every_figure(engine: Engine) -> None:
    make_register(engine)
    report = run(engine, units=["KG"])
    back = report_from_dict(json.loads(json.dumps(report_to_dict(report))), "x.json")
    assert [u.stats for u in back.units] == [u.stats for u in report.units]
    assert back.period == report.period


def test_merge_refuses_what_it_cannot_add(engine: Engine, tmp_path: Path) -> None:
    make_register(engine)
    a = report_to_dict(run(engine, units=["KG-RACHGIA"], exact=True))
    other = report_to_dict(
        run(engine, Period(date(2025, 1, 1), date(2025, 3, 31)), units=["KG-PHUQUOC"], exact=True)
    )
    twice = report_from_dict(a, "a.json")
    with pytest.raises(ExportError, match="cùng một lần xuất"):
        merge_reports([twice, report_from_dict(a, "a.json")], ["a.json", "a-copy.json"])
    a2 = dict(a, export_id="other", sources=["other"])
    with pytest.raises(ExportError, match="KG-RACHGIA có số liệu trong cả"):
        merge_reports([twice, report_from_dict(a2, "b.json")], ["a.json", "b.json"])
    with pytest.raises(ExportError, match="kỳ báo cáo"):
        merge_reports([twice, report_from_dict(other, "c.json")], ["a.json", "c.json"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', "utf-8")
    with pytest.raises(ExportError, match="không phải tệp số liệu"):
        read_export(bad)
