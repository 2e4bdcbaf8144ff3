"""Shared fixtures: real Dovecot, aiosmtpd and PostgreSQL/SQLite on loopback, and the corpus.

Fixtures (see each docstring):
- ``dovecot`` (session): ``tests.servers.dovecot.DovecotServer``
- ``imap_account`` (function): ``tests.servers.dovecot.ImapAccount``, a fresh empty mailbox
- ``smtp_sink`` (function): ``tests.servers.smtp.SmtpSink``, started
- ``db_url`` (function, params sqlite/postgresql): URL of an empty database
- ``engine`` (function): SQLAlchemy engine for ``db_url`` with the mailbot tables created
- ``corpus`` (session): ``Corpus`` with ``path`` and manifest ``rows``

A server that is missing skips its tests locally, and fails them when ``CI`` is set, so CI
can never pass by skipping.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy.engine import Engine

from tests.servers import postgres
from tests.servers.dovecot import DovecotServer, ImapAccount, dovecot_binary
from tests.servers.smtp import SmtpSink

TESTS_DIR = Path(__file__).resolve().parent
CORPUS_DIR = TESTS_DIR / "data" / "corpus"


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail under CI, where every server must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: this must not be skipped)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Folder decides the marker, so `-m "not integration"` works without decorating each test.
    for item in items:
        try:
            parts = Path(str(item.fspath)).resolve().relative_to(TESTS_DIR).parts
        except ValueError:  # collected outside tests/ (e.g. doctests)
            continue
        if parts[0] == "integration":
            item.add_marker(pytest.mark.integration)
        elif parts[0] == "web":
            item.add_marker(pytest.mark.browser)


# ---- IMAP ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A real Dovecot on 127.0.0.1: ``port`` (plain text or STARTTLS), ``tls_port`` (imaps).

    Self-signed certificate in ``cafile``; ``ssl_context()`` trusts it. IDLE, MOVE, UIDPLUS
    on. ``stop()``, ``start()``, ``restart()`` keep the ports; ``logs()`` for debugging.
    """
    binary = dovecot_binary()
    if binary is None:
        unavailable("Dovecot is not installed: apt-get install dovecot-imapd")
    # Not under pytest's tmp dir: that is 0700 and Dovecot's mail processes run as nobody.
    root = Path(tempfile.mkdtemp(prefix="mailbot-dovecot-"))
    server = DovecotServer(root, binary)
    try:
        server.start()
    except RuntimeError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"Dovecot did not start: {exc}", pytrace=False)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


_user_seq = itertools.count(1)


@pytest.fixture
def imap_account(dovecot: DovecotServer, tmp_path: Path) -> ImapAccount:
    """A new Dovecot user with an empty INBOX.

    ``host``, ``port``, ``user``, ``password``, ``password_file``; ``mailbox_config(**kw)``
    builds an ``ImapMailbox``; ``append(raw, folder="INBOX", date=None, flags=()) -> uid``,
    ``list_uids(folder)``, ``fetch(folder) -> {uid: (raw, flags)}``, ``folders()``,
    ``uidvalidity(folder)``, ``change_uidvalidity(folder)``, ``restart_server()``.
    """
    if not dovecot.running:  # a previous test may have stopped it on purpose
        dovecot.start()
    user = f"u{next(_user_seq)}x{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    dovecot.add_user(user, password)
    password_file = tmp_path / f"{user}.password"
    password_file.write_text(password + "\n", encoding="utf-8")
    return ImapAccount(dovecot, user, password, password_file)


# ---- SMTP ---------------------------------------------------------------------------------
@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A started aiosmtpd server on 127.0.0.1:``port`` collecting mail in ``messages``.

    ``stop()``/``start()`` take it down and back on the same port; ``wait_for(n, timeout)``;
    ``refuse_rcpt`` and ``data_response`` make it refuse mail.
    """
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


# ---- databases ----------------------------------------------------------------------------
_pg_problem: list[str | None] = []


def _forget_engine(url: str) -> None:
    # mailbot.db caches one engine per URL; close its connections so files and schemas go.
    from mailbot import db

    engine = getattr(db, "_engines", {}).pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database (no tables): a SQLite file, or a fresh PostgreSQL schema.

    PostgreSQL comes from $MAILBOT_TEST_PG_URL (set by .ci/run); each test gets its own
    schema through ``?options=-csearch_path=...``, dropped afterwards.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mailbot.db'}"
        yield url
        _forget_engine(url)
        return
    base = os.environ.get(postgres.ENV)
    if not base:
        unavailable(f"${postgres.ENV} is not set; run `bash .ci/run` or export it")
    if not _pg_problem:
        _pg_problem.append(postgres.check_reachable(base))
    if _pg_problem[0]:
        pytest.fail(f"PostgreSQL at ${postgres.ENV} is unreachable: {_pg_problem[0]}")
    with postgres.throwaway_schema(base) as url:
        yield url
        _forget_engine(url)


@pytest.fixture
def engine(db_url: str) -> Engine:
    """``mailbot.db.get_engine(db_url)`` with every mailbot table created."""
    from mailbot.db import create_schema, get_engine

    eng = get_engine(db_url)
    create_schema(eng)
    return eng


# ---- corpus -------------------------------------------------------------------------------
@dataclass
class Corpus:
    """The labelled corpus: ``rows`` are manifest.jsonl objects, ``raw(row)`` the .eml bytes."""

    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)

    def raw(self, row: dict[str, Any] | str) -> bytes:
        name = row if isinstance(row, str) else row["file"]
        return (self.path / name).read_bytes()

    def row(self, file: str) -> dict[str, Any]:
        for r in self.rows:
            if r["file"] == file:
                return r
        raise KeyError(file)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    lines = (CORPUS_DIR / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return Corpus(CORPUS_DIR, [json.loads(line) for line in lines if line.strip()])
