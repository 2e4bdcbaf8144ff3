"""`mailbot due`: overdue, due-today and next-working-day dossiers, per unit, text or JSON."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from mailbot import db
from mailbot.cli import cli
from mailbot.config import PROJECT_DIR
from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import Dossier


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    engine = get_engine(url)
    create_schema(engine)
    rows = [
        ("KG-2026-000001", "KG", date(2026, 11, 20), "da_tiep_nhan"),  # overdue
        ("KG-2026-000002", "KG", date(2026, 11, 23), "dang_xu_ly"),  # due today
        ("KG-2026-000003", "KG-RACHGIA", date(2026, 11, 25), "da_tiep_nhan"),  # next wd
        ("KG-2026-000004", "KG", date(2026, 11, 26), "da_tiep_nhan"),  # later
        ("KG-2026-000005", "KG", date(2026, 11, 19), "cho_bo_sung"),  # clock stopped
        ("KG-2026-000006", "KG", date(2026, 11, 19), "da_tra_loi"),  # answered
    ]
    with Session(engine) as s:
        for code, unit, due, status in rows:
            s.add(
                Dossier(
                    code=code,
                    receiving_unit="KG",
                    unit=unit,
                    handling_unit=unit,
                    request_type="hoi_dap",
                    status=status,
                    sender_addr="a@example.org",
                    received_at=datetime(2026, 11, 18, 2, tzinfo=UTC),
                    effective_receipt=date(2026, 11, 18),
                    due_at=due,
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            )
        s.commit()
    db._engines.pop(url, None)
    engine.dispose()
    path = tmp_path / "config.toml"
    path.write_text(
        f'database_url = "{url}"\nrules_dir = "{PROJECT_DIR / "rules"}"\n', encoding="utf-8"
    )
    return path


def run(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config_path), "due", *args])
    return result.exit_code, result.output


def test_due_lists_what_needs_attention_as_json(config_path: Path) -> None:
    code, out = run(config_path, "--date", "2026-11-23", "--json")
    assert code == 0, out
    data = json.loads(out)
    got = {d["code"]: d["state"] for d in data["dossiers"]}
    assert got == {
        "KG-2026-000001": "overdue",
        "KG-2026-000002": "due_today",
        "KG-2026-000003": "due_soon",  # Tuesday 24/11 is a day off
    }


def test_due_filters_by_unit_and_prints_vietnamese(config_path: Path) -> None:
    code, out = run(config_path, "--date", "2026-11-23", "--unit", "KG")
    assert code == 0, out
    assert "KG-2026-000001" in out and "Quá hạn" in out and "20/11/2026" in out
    assert "KG-2026-000003" not in out
    assert "Tổng: 1 quá hạn, 1 đến hạn hôm nay, 0 sắp đến hạn." in out
    code, out = run(config_path, "--date", "2026-11-23", "--unit", "KG-PHUQUOC")
    assert code == 0 and "Không có hồ sơ của đơn vị KG-PHUQUOC" in out
