"""The mail path end to end on real servers: Dovecot → pipeline → register → outbox → aiosmtpd.

Runs on SQLite and PostgreSQL (the ``db_url`` fixture). The whole labelled corpus is APPENDed
in date order; the assertions come from the corpus manifest, not from mailbot's own output.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from mailbot.config import Config, load_config
from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import Dossier, MailMessage, OutboxItem, utcnow
from mailbot.pipeline import poll_once
from mailbot.send import drain_once
from tests.conftest import Corpus
from tests.servers.dovecot import ImapAccount
from tests.servers.smtp import SmtpSink

HUMAN = {"yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai", "to_cao", "hoi_dap"}


def write_config(tmp_path: Path, db_url: str, imap: ImapAccount, smtp: SmtpSink) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(f"""\
        database_url = "{db_url}"
        data_dir = "{tmp_path / 'var'}"
        [office]
        from_addr = "thads.kiengiang@moj.gov.vn"
        [[mailbox]]
        name = "cuc"
        unit = "KG"
        kind = "imap"
        host = "{imap.host}"
        port = {imap.port}
        tls = "none"
        user = "{imap.user}"
        password_file = "{imap.password_file}"
        [smtp]
        kind = "smtp"
        host = "127.0.0.1"
        port = {smtp.port}
        tls = "none"
        """), encoding="utf-8")
    return path


def _date_of(raw: bytes) -> float:
    msg = email.message_from_bytes(raw.split(b"\n\n", 1)[0] + b"\n\n")
    try:
        return parsedate_to_datetime(msg["Date"]).timestamp()
    except (TypeError, ValueError):
        return 0.0


def append_corpus(imap: ImapAccount, corpus: Corpus, rows: list[dict[str, Any]]) -> None:
    """APPEND in the order the mails were written, so a thread's first mail comes first."""
    items = sorted((_date_of(corpus.raw(r)), r["file"], corpus.raw(r)) for r in rows)
    for _when, _name, raw in items:
        imap.append(raw)


def message_id_of(raw: bytes) -> str:
    msg = email.message_from_bytes(raw.split(b"\n\n", 1)[0] + b"\n\n")
    return " ".join((msg["Message-ID"] or "").split())


def dossier_of(session: Session, message_id: str) -> Dossier | None:
    row = session.exec(select(MailMessage).where(MailMessage.message_id == message_id,
                                                 MailMessage.direction == "in")).first()
    if row is None or row.dossier_id is None:
        return None
    return session.get(Dossier, row.dossier_id)


def run_cli(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILBOT_CONFIG": str(config)}
    return subprocess.run([sys.executable, "-m", "mailbot", *args], env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


@pytest.fixture
def setup(tmp_path: Path, db_url: str, imap_account: ImapAccount,
          smtp_sink: SmtpSink) -> tuple[Config, Path]:
    path = write_config(tmp_path, db_url, imap_account, smtp_sink)
    config = load_config(path)
    create_schema(get_engine(config.resolved_database_url))
    return config, path


def test_corpus_through_the_real_servers(setup: tuple[Config, Path], imap_account: ImapAccount,
                                         smtp_sink: SmtpSink, corpus: Corpus) -> None:
    config, config_path = setup
    append_corpus(imap_account, corpus, corpus.rows)
    result = run_cli(config_path, "poll", "--once", "--json")
    assert result.returncode == 0, result.stderr
    assert '"quarantined"' not in result.stdout, result.stdout[:3000]
    engine = get_engine(config.resolved_database_url)

    sent = smtp_sink.messages
    by_in_reply_to: dict[str, list[Any]] = {}
    for m in sent:
        parsed = email.message_from_bytes(m.raw)
        by_in_reply_to.setdefault(" ".join((parsed["In-Reply-To"] or "").split()), []).append(
            parsed)

    with Session(engine) as session:
        for row in corpus.rows:
            mid = message_id_of(corpus.raw(row))
            replies = by_in_reply_to.get(mid, [])
            opens = row["request_type"] in HUMAN and row["thread_of"] is None
            if opens and row["needs_reply"]:
                dossier = dossier_of(session, mid)
                assert dossier is not None, row["file"]
                assert len(replies) == 1, (row["file"], len(replies))
                subject = str(make_header(decode_header(replies[0]["Subject"])))
                assert subject.startswith(f"[{dossier.code}] ")
                assert dossier.code in replies[0]["Subject"]  # readable without decoding
                assert replies[0]["Auto-Submitted"] == "auto-replied"
                assert dossier.due_at is not None
            elif row["thread_of"] and row["request_type"] in HUMAN:
                parent = dossier_of(session, message_id_of(corpus.raw(row["thread_of"])))
                mine = dossier_of(session, mid)
                assert parent is not None and mine is not None, row["file"]
                assert mine.id == parent.id, row["file"]
                # Joined the same day as its parent's acknowledgement: no second one.
                assert replies == [], row["file"]
            elif row["request_type"] not in HUMAN:
                # Machine mail and spam are never answered.
                assert replies == [], (row["file"], row["request_type"])
            else:
                # A closing "thank you": whether it needs an answer is the classifier's call
                # (measured by `mailbot eval`); the path must follow that call.
                message = session.exec(select(MailMessage).where(
                    MailMessage.message_id == mid, MailMessage.direction == "in")).one()
                assert len(replies) == (1 if message.needs_reply else 0), row["file"]
            if row["request_type"] == "tu_dong" and row["machine_kind"] == "bounce" \
                    and row["thread_of"]:
                parent = dossier_of(session, message_id_of(corpus.raw(row["thread_of"])))
                assert parent is not None and parent.bounced, row["file"]

        # Every reply threads to a message of its dossier and went out exactly once.
        items = session.exec(select(OutboxItem)).all()
        assert all(i.status == "sent" for i in items)
        assert len(items) == len(sent)
        assert len({i.message_id for i in items}) == len(items)

    # Nothing left in INBOX: each mail was moved only after its commit.
    assert imap_account.list_uids("INBOX") == []
    moved = len(imap_account.list_uids("Processed"))
    assert moved + len(imap_account.list_uids("Quarantine")) == len(corpus.rows)

    # A second poll finds nothing new and sends nothing.
    before = len(smtp_sink.messages)
    again = run_cli(config_path, "poll", "--once", "--json")
    assert again.returncode == 0, again.stderr
    assert '"processed": 0' in again.stdout
    assert len(smtp_sink.messages) == before


def _human_openers(corpus: Corpus, n: int) -> list[dict[str, Any]]:
    rows = [r for r in corpus.rows if r["request_type"] in HUMAN and r["needs_reply"]
            and r["thread_of"] is None]
    return rows[:n]


KILL_AFTER_COMMIT = """
import os, signal, sys
from mailbot.config import load_config
from mailbot.db import get_engine
from mailbot.pipeline import Pipeline, process_source
from mailbot.sources.factory import open_source

config = load_config(sys.argv[1])
engine = get_engine(config.resolved_database_url)
source = open_source(config.mailbox[0], config, engine)

def crash(ref):
    # The dossier of this mail is committed; die before the mail is moved.
    os.kill(os.getpid(), signal.SIGKILL)

source.mark_processed = crash
process_source(Pipeline(config, engine), source)
"""


def test_killed_after_commit_before_move_creates_no_duplicate(
        setup: tuple[Config, Path], imap_account: ImapAccount, smtp_sink: SmtpSink,
        corpus: Corpus, tmp_path: Path) -> None:
    config, config_path = setup
    rows = _human_openers(corpus, 3)
    append_corpus(imap_account, corpus, rows)
    script = tmp_path / "crash.py"
    script.write_text(KILL_AFTER_COMMIT, encoding="utf-8")
    crashed = subprocess.run([sys.executable, str(script), str(config_path)], timeout=120,
                             capture_output=True, text=True, check=False,
                             cwd=Path(__file__).resolve().parents[2])
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    engine = get_engine(config.resolved_database_url)
    with Session(engine) as session:
        assert len(session.exec(select(Dossier)).all()) == 1
    assert len(imap_account.list_uids("INBOX")) == 3  # the first one was not moved

    result = run_cli(config_path, "poll", "--once", "--json")
    assert result.returncode == 0, result.stderr
    assert '"duplicate": 1' in result.stdout
    with Session(engine) as session:
        dossiers = session.exec(select(Dossier)).all()
        assert len(dossiers) == 3
    sent = smtp_sink.wait_for(3)
    assert len(sent) == 3
    assert len({email.message_from_bytes(m.raw)["In-Reply-To"] for m in sent}) == 3
    assert imap_account.list_uids("INBOX") == []


def test_smtp_down_then_up_every_reply_arrives_once(
        setup: tuple[Config, Path], imap_account: ImapAccount, smtp_sink: SmtpSink,
        corpus: Corpus) -> None:
    config, _path = setup
    rows = _human_openers(corpus, 4)
    append_corpus(imap_account, corpus, rows)
    engine = get_engine(config.resolved_database_url)
    smtp_sink.stop()
    result = poll_once(config, engine)
    assert result.counts().get("new_dossier") == 4
    assert result.sent == 0 and result.send_retried == 4
    with Session(engine) as session:
        assert {i.status for i in session.exec(select(OutboxItem)).all()} == {"pending"}

    smtp_sink.start()
    # Not yet due for a retry: nothing is sent before the backoff has passed.
    assert drain_once(engine, config).sent == 0
    later = utcnow() + timedelta(hours=2)
    assert drain_once(engine, config, now=later).sent == 4
    assert drain_once(engine, config, now=later + timedelta(hours=2)).sent == 0
    assert len(smtp_sink.messages) == 4
    with Session(engine) as session:
        items = session.exec(select(OutboxItem)).all()
        assert {i.status for i in items} == {"sent"} and all(i.attempts == 2 for i in items)


def test_uidvalidity_change_neither_reprocesses_nor_skips(
        setup: tuple[Config, Path], imap_account: ImapAccount, smtp_sink: SmtpSink,
        corpus: Corpus) -> None:
    config, _path = setup
    rows = _human_openers(corpus, 4)
    engine = get_engine(config.resolved_database_url)
    append_corpus(imap_account, corpus, rows[:2])
    assert poll_once(config, engine).counts() == {"new_dossier": 2}
    # The server renumbers the folder; a processed mail copied back must not count twice.
    imap_account.append(corpus.raw(rows[0]))
    imap_account.change_uidvalidity("INBOX")
    append_corpus(imap_account, corpus, rows[2:])
    counts = poll_once(config, engine).counts()
    assert counts == {"new_dossier": 2, "duplicate": 1}
    with Session(engine) as session:
        assert len(session.exec(select(Dossier)).all()) == 4
    assert len(smtp_sink.messages) == 4


def test_unparseable_mail_is_quarantined_and_the_rest_goes_on(
        setup: tuple[Config, Path], imap_account: ImapAccount, smtp_sink: SmtpSink,
        corpus: Corpus) -> None:
    config, config_path = setup
    imap_account.append(b"khong phai thu\r\n\r\nkhong co tieu de nao ca\r\n")
    append_corpus(imap_account, corpus, _human_openers(corpus, 1))
    result = run_cli(config_path, "poll", "--once", "--json")
    assert result.returncode == 0, result.stderr
    assert '"quarantined": 1' in result.stdout and '"new_dossier": 1' in result.stdout
    listing = run_cli(config_path, "quarantine", "list")
    assert listing.returncode == 0 and "#1" in listing.stdout
    assert len(imap_account.list_uids("Quarantine")) == 1
