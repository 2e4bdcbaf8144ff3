"""Exports hold the computed numbers: XLSX (read back with openpyxl), CSV, JSON, HTML, CLI, web."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.routing import Route
from starlette.testclient import TestClient

from mailbot.cli import cli
from mailbot.config import PROJECT_DIR, parse_config
from mailbot.report.export import check_report, form_lines, render, to_csv, to_xlsx
from mailbot.report.form import load_form
from mailbot.report.stats import UnitStats
from mailbot.report.web import reports_page
from tests.test_report_stats import PERIOD, RULES, make_register, run

TEMPLATES = PROJECT_DIR / "templates"
FORM = load_form(RULES)


@pytest.fixture
def report(engine: Engine) -> Any:
    make_register(engine)
    return run(engine, units=["KG"])


def _rows(ws: Any) -> dict[str, list[Any]]:
    """Label (column B) → the row's values in columns C…, for the last row with that label."""
    out = {}
    for row in ws.iter_rows(values_only=True):
        if row[1] is not None:
            out[str(row[1])] = list(row[2:])
    return out


def test_xlsx_cells_hold_the_form_numbers(report: Any) -> None:
    wb = load_workbook(io.BytesIO(to_xlsx(report, FORM)))
    assert wb.sheetnames[:3] == ["Tổng hợp", "Chỉ số", "Biểu đồ"]
    assert {"KG", "KG-RACHGIA", "KG-PHUQUOC", "KG-HATIEN"} <= set(wb.sheetnames)
    summary = wb["Tổng hợp"]
    assert summary["A1"].value == "Biểu số 2"
    assert summary["A2"].value == FORM.title
    numeric = [c.no for c in FORM.numeric_columns]
    # Column numbers row: (1) … (13)
    assert [c.value for c in summary[9]][:13] == [f"({n})" for n in range(1, 14)]
    total = report.total
    values = _rows(summary)["Tổng cộng"]
    assert values[: len(numeric)] == [
        FORM.values(total.by_type, FORM.all_types)[n] for n in numeric
    ]
    assert values[0] == total.received
    # Section II sums the Chi cục; each unit sheet shows that unit alone.
    lines = form_lines(report, FORM)
    assert [ln[1] for ln in lines if ln[3]] == ["Tại Cục THADS", "Tại Chi cục THADS", "Tổng cộng"]
    for u in report.units:
        if u.unit.code not in wb.sheetnames:
            continue
        sheet = _rows(wb[u.unit.code])
        for row, vals in FORM.table(u.stats.by_type):
            assert sheet[row.label][: len(numeric)] == [vals[n] for n in numeric]
    # The chart sheet has one chart and its data: monthly received adds up to the total.
    charts = wb["Biểu đồ"]
    assert len(charts._charts) == 1
    monthly = [r[1] for r in charts.iter_rows(min_row=4, values_only=True) if r[0]]
    assert sum(monthly) == total.received
    # Other figures: the first column of the "Chỉ số" sheet after the units is the total.
    ind = wb["Chỉ số"]
    labels = [c.value for c in ind["A"]]
    total_col = len(report.units) + 2
    row = labels.index("Thư rác đã lọc") + 1
    assert ind.cell(row, total_col).value == total.machine_mail.get("thu_rac", 0)


def test_csv_and_json_agree_with_the_report(report: Any) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(report, FORM).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Mã đơn vị", "Đơn vị", "STT", "Tên TTHC"]
    total_row = [r for r in rows if r[3] == "Tổng cộng" and r[0] == ""][0]
    assert int(total_row[4]) == report.total.received
    rachgia = {r[3]: r for r in rows if r[0] == "KG-RACHGIA"}
    stats = next(u.stats for u in report.units if u.unit.code == "KG-RACHGIA")
    assert int(rachgia["Tổng cộng"][4]) == stats.received

    data = json.loads(render(report, FORM, "json", templates_dir=TEMPLATES))
    assert data["from"] == "2024-10-01" and data["to"] == "2025-03-31"
    t = data["total"]
    assert (
        (t["resolved_on_time"] + t["resolved_late"] + t["pending_not_due"] + t["pending_overdue"])
        == t["received"]
        == report.total.received
    )
    assert t["machine_filtered"] == report.total.machine_filtered > 0
    assert t["first_reply_days"]["count"] == sum(report.total.first_reply_days.values())
    assert data["checks"] == []
    assert [u["unit"] for u in data["units"]][0] == "KG"
    assert sum(u["received"] for u in data["units"]) == t["received"]


def test_a_mismatch_is_reported_not_fixed(report: Any) -> None:
    broken = report.units[0].stats
    broken.by_type["hoi_dap"] = {"received": 3, "resolved_on_time": 1, "paper_counter": 5}
    problems = check_report(report, FORM)
    assert any("(6) = (3)" in p for p in problems)
    assert any("(4)+(5) ≤ (3)" in p for p in problems)
    assert any("(11)+(12)+(13) = (7)+(8)" in p for p in problems)
    assert broken.by_type["hoi_dap"]["received"] == 3  # untouched
    data = json.loads(render(report, FORM, "json", templates_dir=TEMPLATES))
    assert data["checks"] == problems


def test_html_print_page_shows_the_numbers_and_signature(report: Any) -> None:
    html = render(report, FORM, "html", templates_dir=TEMPLATES).decode()
    assert "TÌNH HÌNH TIẾP NHẬN HỒ SƠ VÀ TRẢ KẾT QUẢ THEO CƠ CHẾ MỘT CỬA" in html
    assert "THỦ TRƯỞNG ĐƠN VỊ" in html and "Từ ngày 01/10/2024 đến ngày 31/03/2025" in html
    assert f'<td class="num">{report.total.received}</td>' in html
    assert "<svg" in html and "PHỤ LỤC" in html


def _config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'database_url = "{db_url}"\nrules_dir = "{RULES}"\ntemplates_dir = "{TEMPLATES}"\n'
        '[[mailbox]]\nname = "kg"\nunit = "KG"\nkind = "maildir"\npath = "md"\n'
        '[[mailbox]]\nname = "rachgia"\nunit = "KG-RACHGIA"\nkind = "maildir"\npath = "md2"\n'
        '[[mailbox]]\nname = "phuquoc"\nunit = "KG-PHUQUOC"\nkind = "maildir"\npath = "md3"\n',
        encoding="utf-8",
    )
    return path


def test_cli_writes_each_format(tmp_path: Path, engine: Engine, db_url: str) -> None:
    make_register(engine)
    config = _config(tmp_path, db_url)
    runner = CliRunner()
    base = [
        "--config",
        str(config),
        "stats",
        "--from",
        "01/10/2024",
        "--to",
        "2025-03-31",
        "--unit",
        "KG",
    ]
    res = runner.invoke(cli, [*base, "--format", "json"], obj={})
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    expected = run(engine, units=["KG"]).total
    assert data["total"]["received"] == expected.received
    assert data["total"]["machine_filtered"] == expected.machine_filtered
    for fmt in ("csv", "xlsx", "html"):
        out = tmp_path / f"r.{fmt}"
        res = runner.invoke(cli, [*base, "--format", fmt, "--output", str(out)], obj={})
        assert res.exit_code == 0, res.output
        assert out.stat().st_size > 1000
    assert load_workbook(tmp_path / "r.xlsx")["Tổng hợp"]["A1"].value == "Biểu số 2"
    # merge of one file gives the same totals
    (tmp_path / "kg.json").write_text(json.dumps(data), encoding="utf-8")
    res = runner.invoke(
        cli, ["--config", str(config), "stats", "merge", str(tmp_path / "kg.json")], obj={}
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["total"] == data["total"]


def _web(engine: Engine, tmp_path: Path, db_url: str, user: Any) -> TestClient:
    class FakeLogin(BaseHTTPMiddleware):
        async def dispatch(self, request: Any, call_next: Any) -> Any:
            request.state.user = user
            return await call_next(request)

    app = Starlette(routes=[Route("/bao-cao", reports_page)], middleware=[Middleware(FakeLogin)])
    app.state.config = parse_config(
        {
            "database_url": db_url,
            "rules_dir": str(RULES),
            "templates_dir": str(TEMPLATES),
            "mailbox": [{"name": "kg", "unit": "KG", "kind": "maildir", "path": "md"}],
        },
        base_dir=tmp_path,
    )
    app.state.engine = engine
    return TestClient(app)


def test_web_page_shows_the_leaders_units_and_downloads(
    engine: Engine, tmp_path: Path, db_url: str
) -> None:
    make_register(engine)
    leader = SimpleNamespace(role="leader", units=["KG-RACHGIA"], username="ld")
    client = _web(engine, tmp_path, db_url, leader)
    q = "/bao-cao?from=2024-10-01&to=2025-03-31"
    page = client.get(q)
    assert page.status_code == 200
    expected: UnitStats = run(engine, units=["KG-RACHGIA"], exact=True).total
    assert f"Yêu cầu tiếp nhận<b>{expected.received}</b>" in page.text
    assert "format=xlsx" in page.text
    xlsx = client.get(q + "&format=xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert "KG-PHUQUOC" not in wb.sheetnames  # only the leader's own unit
    data = client.get(q + "&format=json").json()
    assert data["total"]["received"] == expected.received
    assert client.get(q + "&unit=KG-PHUQUOC").status_code == 403
    assert client.get(q + "&format=print").text.count("THỦ TRƯỞNG ĐƠN VỊ") == 1
    clerk = _web(engine, tmp_path, db_url, SimpleNamespace(role="clerk", units=["KG"]))
    assert clerk.get(q).status_code == 403


def test_period_on_the_json_is_the_asked_one(report: Any) -> None:
    assert report.period == PERIOD


def test_report_page_error_escapes_and_print_page_allows_no_script() -> None:
    from mailbot.report.web import PRINT_CSP, _error

    body = bytes(_error(400, '<script>alert("x")</script>').body).decode()
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "script-src" not in PRINT_CSP and "default-src 'none'" in PRINT_CSP
