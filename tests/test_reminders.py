"""Reminder sweep on a real SQLite register: what is queued, to whom, when, and only once."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailbot import db
from mailbot.config import PROJECT_DIR, Config, parse_config
from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import Dossier, OutboxItem
from mailbot.reminders import sweep_once

VN = ZoneInfo("Asia/Ho_Chi_Minh")
D = date
CLERKS = ["lan@kg.example", "minh@kg.example"]
LEADER = "truong@kg.example"


def at(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=VN)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    eng = get_engine(url)
    create_schema(eng)
    yield eng
    db._engines.pop(url, None)
    eng.dispose()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(
        {
            "database_url": f"sqlite:///{tmp_path / 'mailbot.db'}",
            "rules_dir": str(PROJECT_DIR / "rules"),
            "templates_dir": str(PROJECT_DIR / "templates"),
            "reminders": {
                "digest_time": "07:30",
                "warning_time": "08:00",
                "escalation_time": "09:00",
                "units": {
                    "KG": {"clerks": CLERKS, "leader": LEADER},
                    "KG-RACHGIA": {"clerks": ["an@rg.example"]},  # no leader configured
                },
            },
        },
        base_dir=tmp_path,
    )


_seq = iter(range(1, 10_000))


def add(engine: Engine, **kw: Any) -> Dossier:
    n = next(_seq)
    values: dict[str, Any] = {
        "code": f"KG-2026-{n:06d}",
        "receiving_unit": "KG",
        "unit": "KG",
        "handling_unit": "KG",
        "request_type": "hoi_dap",
        "sender_addr": "citizen@example.org",
        "sender_name": "Nguyễn Văn Bí Mật",
        "received_at": datetime(2026, 11, 18, 2, 0, tzinfo=UTC),
        "effective_receipt": D(2026, 11, 18),
        "due_at": D(2026, 11, 20),
        "status": "da_tiep_nhan",
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    values.update(kw)
    with Session(engine, expire_on_commit=False) as s:
        d = Dossier(**values)
        s.add(d)
        s.commit()
        return d


def outbox(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxItem).order_by(OutboxItem.id)))


def keys(engine: Engine) -> set[str]:
    return {i.once_key or "" for i in outbox(engine)}


def text_of(item: OutboxItem) -> str:
    msg = email.message_from_bytes(item.raw, policy=default)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(msg["Subject"]) + "\n" + body.get_content()


# Monday 23/11/2026; Tuesday 24/11 is a day off (Ngày Văn hóa Việt Nam, enabled by default),
# so the next working day is Wednesday 25/11.
MONDAY = D(2026, 11, 23)


def seed(engine: Engine) -> dict[str, Dossier]:
    return {
        "overdue": add(engine, due_at=D(2026, 11, 20)),
        "today": add(engine, due_at=MONDAY, status="dang_xu_ly"),
        "tomorrow": add(engine, due_at=D(2026, 11, 25), request_type="khieu_nai"),
        "later": add(engine, due_at=D(2026, 11, 26)),
        "triage": add(engine, due_at=D(2026, 11, 26), status="can_phan_loai", needs_triage=True),
        "paused": add(engine, due_at=D(2026, 11, 19), status="cho_bo_sung"),
        "answered": add(engine, due_at=D(2026, 11, 19), status="da_tra_loi"),
        "other_unit": add(
            engine, due_at=D(2026, 11, 20), unit="KG-RACHGIA", handling_unit="KG-RACHGIA"
        ),
        "to_cao": add(engine, due_at=D(2026, 11, 25), request_type="to_cao"),
    }


def test_the_morning_sweep_queues_digest_warning_and_escalation_once(
    engine: Engine, config: Config
) -> None:
    s = seed(engine)
    queued = sweep_once(engine, config, at(MONDAY, 9, 30))
    got = keys(engine)
    assert f"digest:KG:{MONDAY}:lan@kg.example" in got
    assert f"digest:KG:{MONDAY}:minh@kg.example" in got
    assert f"digest:KG-RACHGIA:{MONDAY}:an@rg.example" in got
    assert f"warn:{s['tomorrow'].code}:2026-11-25:lan@kg.example" in got
    assert f"escalate:{s['overdue'].code}:2026-11-20" in got
    # The denunciation's warning goes to the leader only (DOMAIN.md §3 visibility).
    assert f"warn:{s['to_cao'].code}:2026-11-25:{LEADER}" in got
    assert not any(s["to_cao"].code in k and "lan@" in k for k in got)
    # Paused (clock stopped) and answered dossiers are never reminded; no leader → no escalation.
    for name in ("paused", "answered", "later", "today"):
        assert not any(s[name].code in k for k in got), name
    assert not any(k.startswith(f"escalate:{s['other_unit'].code}") for k in got)
    assert queued == len(got) == 3 + 2 + 1 + 1
    # Running again (another tick, a restart, a second worker) queues nothing.
    assert sweep_once(engine, config, at(MONDAY, 9, 31)) == 0
    assert sweep_once(engine, config, at(MONDAY, 16, 0)) == 0
    assert len(outbox(engine)) == queued


def test_the_digest_lists_codes_in_the_four_sections_without_personal_data(
    engine: Engine, config: Config
) -> None:
    s = seed(engine)
    sweep_once(engine, config, at(MONDAY, 7, 45))
    digest = next(i for i in outbox(engine) if i.once_key == f"digest:KG:{MONDAY}:lan@kg.example")
    assert digest.kind == "digest" and digest.to_addr == "lan@kg.example"
    text = text_of(digest)
    for name in ("overdue", "today", "tomorrow", "triage"):
        assert s[name].code in text, name
    for name in ("paused", "answered", "other_unit", "to_cao"):
        assert s[name].code not in text, name
    assert "23/11/2026" in text and "Nguyễn" not in text and "citizen@example.org" not in text


def test_each_kind_waits_for_its_configured_time(engine: Engine, config: Config) -> None:
    seed(engine)
    assert sweep_once(engine, config, at(MONDAY, 7, 0)) == 0
    sweep_once(engine, config, at(MONDAY, 7, 30))
    assert {k.split(":")[0] for k in keys(engine)} == {"digest"}
    sweep_once(engine, config, at(MONDAY, 8, 0))
    assert {k.split(":")[0] for k in keys(engine)} == {"digest", "warn"}
    sweep_once(engine, config, at(MONDAY, 9, 0))
    assert {k.split(":")[0] for k in keys(engine)} == {"digest", "warn", "escalate"}


def test_a_late_sweep_after_a_restart_still_sends_what_was_missed(
    engine: Engine, config: Config
) -> None:
    seed(engine)
    # The service was down all morning and comes back at 14:10: everything goes once.
    assert sweep_once(engine, config, datetime(2026, 11, 23, 7, 10, tzinfo=UTC)) == 7


def test_nothing_is_sent_on_a_day_off(engine: Engine, config: Config) -> None:
    seed(engine)
    assert sweep_once(engine, config, at(D(2026, 11, 24), 9, 30)) == 0  # Ngày Văn hóa VN
    assert sweep_once(engine, config, at(D(2026, 11, 22), 9, 30)) == 0  # Sunday
    assert outbox(engine) == []


def test_an_overdue_dossier_escalates_again_only_for_a_new_due_date(
    engine: Engine, config: Config
) -> None:
    d = add(engine, due_at=D(2026, 11, 20))
    sweep_once(engine, config, at(MONDAY, 9, 30))
    sweep_once(engine, config, at(D(2026, 11, 25), 9, 30))  # still overdue two days later
    assert sum(1 for k in keys(engine) if k.startswith("escalate:")) == 1
    with Session(engine) as s:
        row = s.get(Dossier, d.id)
        assert row is not None
        row.due_at = D(2026, 11, 24 + 1)  # extended, then missed again
        s.add(row)
        s.commit()
    sweep_once(engine, config, at(D(2026, 11, 26), 9, 30))
    assert {k for k in keys(engine) if k.startswith("escalate:")} == {
        f"escalate:{d.code}:2026-11-20",
        f"escalate:{d.code}:2026-11-25",
    }


def test_escalation_mail_names_the_dossier_for_the_leader(engine: Engine, config: Config) -> None:
    d = add(engine, due_at=D(2026, 11, 20), request_type="xac_nhan_ket_qua")
    sweep_once(engine, config, at(MONDAY, 9, 30))
    item = next(i for i in outbox(engine) if i.kind == "escalation")
    assert item.to_addr == LEADER and item.dossier_id == d.id
    text = text_of(item)
    assert d.code in text and "20/11/2026" in text
    assert "Yêu cầu xác nhận kết quả thi hành án" in text


def test_no_units_configured_means_no_reminders(engine: Engine, tmp_path: Path) -> None:
    seed(engine)
    bare = parse_config({"rules_dir": str(PROJECT_DIR / "rules")}, base_dir=tmp_path)
    assert sweep_once(engine, bare, at(MONDAY, 9, 30)) == 0
