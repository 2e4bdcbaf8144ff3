"""Reminders through `mailbot run` to a real aiosmtpd sink, across a restart: once, never lost.

The first service run queues the digest, the warning and the escalation while the SMTP server
is down, and is stopped. The second run (server back) sends them from the persistent outbox,
and its own reminder sweep queues nothing again: each mail arrives exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailbot import db
from mailbot.config import PROJECT_DIR
from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import Dossier, OutboxItem
from mailbot.workdays import WorkCalendar
from tests.servers.smtp import SmtpSink

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CLERK = "lan@kg.example"
LEADER = "truong@kg.example"


def wait_until(check: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def next_minute() -> tuple[str, datetime]:
    """A local HH:MM between 10 and 70 seconds ahead, for the reminder cron jobs."""
    target = (datetime.now(VN) + timedelta(seconds=70)).replace(second=0, microsecond=0)
    return target.strftime("%H:%M"), target


def rules_with_working_today(tmp_path: Path) -> Path:
    """The project's rules, plus (on a day off) an entry making today a working day, so the
    test runs the same on any day CI happens to run."""
    rules = tmp_path / "rules"
    shutil.copytree(PROJECT_DIR / "rules", rules)
    today = datetime.now(VN).date()
    if not WorkCalendar.load(rules).is_working_day(today):
        kind = "working_day" if today.weekday() >= 5 else "not_day_off"
        with (rules / "calendar.toml").open("a", encoding="utf-8") as fh:
            fh.write(f'\n[[entry]]\nkind = "{kind}"\ndate = {today.isoformat()}\n'
                     'name = "Ngày làm việc (kiểm thử)"\nsource = "test"\ntag = "[A]"\n')
    return rules


def write_config(tmp_path: Path, db_path: Path, smtp: SmtpSink, at: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        textwrap.dedent(f"""\
            database_url = "sqlite:///{db_path}"
            data_dir = "{tmp_path / "var"}"
            rules_dir = "{tmp_path / "rules"}"
            templates_dir = "{PROJECT_DIR / "templates"}"
            outbox_interval = 5
            [office]
            from_addr = "thads.kiengiang@moj.gov.vn"
            [smtp]
            kind = "smtp"
            host = "127.0.0.1"
            port = {smtp.port}
            tls = "none"
            timeout = 5
            [reminders]
            digest_time = "{at}"
            warning_time = "{at}"
            escalation_time = "{at}"
            [reminders.units.KG]
            clerks = ["{CLERK}"]
            leader = "{LEADER}"
            """),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    eng = get_engine(url)
    create_schema(eng)
    yield eng
    db._engines.pop(url, None)
    eng.dispose()


def start_service(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MAILBOT_CONFIG": str(config)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mailbot", "-v", "run"], env=env, stdout=out, stderr=out
        )


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def outbox_items(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxItem).order_by(OutboxItem.id)))


def job_ran_after(engine: Engine, target: datetime) -> bool:
    """The digest job's next run moved past `target`: the sweep of that minute has run."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT next_run_time FROM mailbot_jobs WHERE id = 'reminders-digest'")
        ).first()
    return row is not None and row[0] is not None and float(row[0]) > target.timestamp()


def seed(engine: Engine, today: date, cal: WorkCalendar) -> dict[str, Dossier]:
    rows = {
        "overdue": cal.add_working_days(today, -1),
        "due_today": today,
        "due_next": cal.add_working_days(today, 1),
    }
    out = {}
    with Session(engine, expire_on_commit=False) as s:
        for i, (name, due) in enumerate(rows.items(), start=1):
            d = Dossier(
                code=f"KG-{today.year}-9{i:05d}",
                receiving_unit="KG",
                unit="KG",
                handling_unit="KG",
                request_type="hoi_dap",
                status="da_tiep_nhan",
                sender_addr="citizen@example.org",
                received_at=datetime.now(UTC) - timedelta(days=7),
                effective_receipt=cal.add_working_days(due, -2),
                due_at=due,
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
            s.add(d)
            out[name] = d
        s.commit()
    return out


def test_digest_warning_and_escalation_arrive_once_across_a_restart(
    tmp_path: Path, engine: Engine, smtp_sink: SmtpSink
) -> None:
    rules = rules_with_working_today(tmp_path)
    cal = WorkCalendar.load(rules)
    today = datetime.now(VN).date()
    assert cal.is_working_day(today)
    if datetime.now(VN) + timedelta(minutes=4) > datetime.combine(today, time_of_day.max, VN):
        pytest.skip("too close to midnight: the reminders would fall on the next day")
    dossiers = seed(engine, today, cal)
    db_path = tmp_path / "mailbot.db"
    log = tmp_path / "service.log"

    # Run 1: the SMTP server is down; the sweep queues the three reminders, nothing is sent.
    smtp_sink.stop()
    at, target = next_minute()
    proc = start_service(write_config(tmp_path, db_path, smtp_sink, at), log)
    try:
        wait_until(lambda: len(outbox_items(engine)) >= 3, "three reminders in the outbox")
        wait_until(lambda: job_ran_after(engine, target), "the first sweep to finish")
    finally:
        stop_service(proc)
    first = outbox_items(engine)
    assert sorted(i.kind for i in first) == ["digest", "escalation", "warning"]
    assert all(i.status != "sent" for i in first)

    # Run 2: the server is back; the outbox is drained, and a new sweep repeats nothing.
    smtp_sink.start()
    at, target = next_minute()
    proc = start_service(write_config(tmp_path, db_path, smtp_sink, at), log)
    try:
        smtp_sink.wait_for(3, timeout=120)
        wait_until(lambda: job_ran_after(engine, target), "the sweep after the restart")
        wait_until(lambda: all(i.status == "sent" for i in outbox_items(engine)), "an empty outbox")
    finally:
        stop_service(proc)

    items = outbox_items(engine)
    assert len(items) == 3, [i.once_key for i in items]
    assert len({i.once_key for i in items}) == 3
    got = sorted((str(m.message["To"]), str(m.message["Subject"])) for m in smtp_sink.messages)
    assert len(got) == 3, got
    to = {
        kind: [m for m in smtp_sink.messages if m.message["Message-ID"] == i.message_id]
        for kind, i in ((i.kind, i) for i in items)
    }
    assert [m.rcpt_tos for m in to["digest"]] == [(CLERK,)]
    assert [m.rcpt_tos for m in to["warning"]] == [(CLERK,)]
    assert [m.rcpt_tos for m in to["escalation"]] == [(LEADER,)]
    digest = to["digest"][0].message.get_body(preferencelist=("plain",))
    assert digest is not None
    body = digest.get_content()
    for d in dossiers.values():
        assert d.code in body
    assert "citizen@example.org" not in body
    assert dossiers["overdue"].code in str(to["escalation"][0].message["Subject"])
    assert dossiers["due_next"].code in str(to["warning"][0].message["Subject"])
