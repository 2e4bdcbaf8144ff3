"""ImapSource on a real Dovecot: peek, move, cursor, UIDVALIDITY, reconnect, IDLE, errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from mailbot.config import parse_config
from mailbot.db import create_schema, get_engine
from mailbot.errors import ConfigError, SourceError
from mailbot.sources.factory import open_source
from mailbot.sources.imap import ImapSource
from tests.servers.dovecot import ImapAccount, free_port


def mail(n: int, subject: str = "Hỏi về hồ sơ") -> bytes:
    return (
        f"From: Nguyen Van A <a{n}@example.vn>\r\n"
        "To: thads.kiengiang@moj.gov.vn\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <mail-{n}@example.vn>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Thư số {n}.\r\n"
    ).encode()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    from mailbot import db

    url = f"sqlite:///{tmp_path / 'cursor.db'}"
    eng = get_engine(url)
    create_schema(eng)
    yield eng
    db._engines.pop(url, None)
    eng.dispose()


def source(
    account: ImapAccount, engine: Engine, **kw: object
) -> ImapSource:
    cfg_kw = {k: kw.pop(k) for k in list(kw) if k in ("idle", "folder", "tls", "port")}
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.05)
    return ImapSource(account.mailbox_config(**cfg_kw), engine, **kw)  # type: ignore[arg-type]


def test_it_fetches_oldest_first_without_setting_seen(imap_account, sqlite_engine):
    when = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    uids = [imap_account.append(mail(n), date=when) for n in (1, 2, 3)]

    with source(imap_account, sqlite_engine, batch_size=2) as src:
        got = list(src.fetch_new())

    validity = imap_account.uidvalidity()
    assert [m.ref for m in got] == [f"{validity}:{u}" for u in uids]
    assert [m.raw for m in got] == [mail(n) for n in (1, 2, 3)]
    assert all(m.arrived_at == when and m.mailbox == src.name for m in got)
    flags = {uid: f for uid, (_raw, f) in imap_account.fetch().items()}
    assert sorted(flags) == uids
    assert not any(b"\\Seen" in f for f in flags.values())


def test_it_moves_processed_mail_into_a_created_folder(imap_account, sqlite_engine):
    imap_account.append(mail(1))
    imap_account.append(mail(2))
    assert "Processed" not in imap_account.folders()

    with source(imap_account, sqlite_engine) as src:
        first, second = src.fetch_new()
        src.mark_processed(first.ref)
        src.mark_processed(first.ref)  # twice is harmless
        src.mark_quarantined(second.ref)

    assert imap_account.list_uids("INBOX") == []
    assert {"Processed", "Quarantine"} <= set(imap_account.folders())
    assert [raw for raw, _f in imap_account.fetch("Processed").values()] == [mail(1)]
    assert [raw for raw, _f in imap_account.fetch("Quarantine").values()] == [mail(2)]


def test_it_falls_back_to_copy_and_uid_expunge_without_move(imap_account, sqlite_engine):
    imap_account.append(mail(1))
    # Someone else's mail already flagged \Deleted must survive our expunge.
    other = imap_account.append(mail(2), flags=("\\Deleted",))
    imap_account.append(mail(3))

    with source(imap_account, sqlite_engine, use_move=False) as src:
        fetched = [m for m in src.fetch_new() if m.raw != mail(2)]
        for m in fetched:
            src.mark_processed(m.ref)

    assert imap_account.list_uids("INBOX") == [other]
    moved = sorted(raw for raw, _f in imap_account.fetch("Processed").values())
    assert moved == [mail(1), mail(3)]


def test_the_cursor_survives_a_new_instance_and_never_skips_unmarked_mail(
    imap_account, engine
):
    for n in (1, 2, 3):
        imap_account.append(mail(n))
    validity = imap_account.uidvalidity()

    with source(imap_account, engine) as first:
        m1, m2, m3 = first.fetch_new()
        first.mark_processed(m2.ref)  # m1 failed in the pipeline and was not marked
        assert first.cursor() == (validity, 0)

    with source(imap_account, engine) as second:
        again = list(second.fetch_new())
        assert [m.raw for m in again] == [mail(1), mail(3)]
        for m in again:
            second.mark_processed(m.ref)
        assert second.cursor() == (validity, 3)

    imap_account.append(mail(4))
    with source(imap_account, engine) as third:
        assert [m.raw for m in third.fetch_new()] == [mail(4)]


def test_mail_handled_before_but_not_moved_is_moved_not_offered_again(
    imap_account, sqlite_engine
):
    imap_account.append(mail(1))
    uid = imap_account.append(mail(2))
    with source(imap_account, sqlite_engine) as src:
        # The pipeline committed mail 2 and the cursor advanced, then the move was lost.
        src._save_cursor(imap_account.uidvalidity(), uid)
        offered = list(src.fetch_new())

    assert offered == []
    assert imap_account.list_uids("INBOX") == []
    assert sorted(r for r, _f in imap_account.fetch("Processed").values()) == [mail(1), mail(2)]


def test_a_uidvalidity_change_neither_skips_nor_repeats_mail(imap_account, sqlite_engine):
    for n in (1, 2, 3):
        imap_account.append(mail(n))
    with source(imap_account, sqlite_engine) as src:
        for m in src.fetch_new():
            src.mark_processed(m.ref)
        assert src.cursor()[1] == 3
    imap_account.append(mail(4))  # UID 4 now, UID 1 after the change: below the old cursor
    imap_account.append(mail(5))
    new_validity = imap_account.change_uidvalidity("INBOX")

    with source(imap_account, sqlite_engine) as src:
        got = list(src.fetch_new())
        assert [m.raw for m in got] == [mail(4), mail(5)]
        assert all(m.ref.startswith(f"{new_validity}:") for m in got)
        for m in got:
            src.mark_processed(m.ref)
        assert src.cursor() == (new_validity, max(int(m.ref.split(":")[1]) for m in got))
    assert imap_account.list_uids("INBOX") == []
    assert len(imap_account.fetch("Processed")) == 5


def test_a_ref_from_before_a_uidvalidity_change_is_offered_again_not_lost(
    imap_account, sqlite_engine
):
    imap_account.append(mail(1))
    with source(imap_account, sqlite_engine) as src:
        (old,) = src.fetch_new()
        imap_account.change_uidvalidity("INBOX")  # restarts Dovecot: the source reconnects
        src.mark_processed(old.ref)  # stale: must not move some other mail
        assert imap_account.list_uids("INBOX") != []
        (again,) = src.fetch_new()
        assert again.raw == old.raw and again.ref != old.ref
        src.mark_processed(again.ref)
    assert imap_account.list_uids("INBOX") == []


def test_it_reconnects_after_the_server_restarts(imap_account, sqlite_engine):
    imap_account.append(mail(1))
    with source(imap_account, sqlite_engine) as src:
        (m1,) = src.fetch_new()
        imap_account.restart_server()
        src.mark_processed(m1.ref)  # on a fresh connection
        imap_account.append(mail(2))
        assert [m.raw for m in src.fetch_new()] == [mail(2)]
    assert [r for r, _f in imap_account.fetch("Processed").values()] == [mail(1)]


def test_it_gives_up_after_bounded_retries_with_an_actionable_error(imap_account, sqlite_engine):
    imap_account.append(mail(1))
    waits: list[float] = []
    src = source(imap_account, sqlite_engine, retries=3, backoff=0.01, sleep=waits.append)
    list(src.fetch_new())
    imap_account.server.stop()
    try:
        with pytest.raises(SourceError) as err:
            list(src.fetch_new())
    finally:
        imap_account.server.start()
    assert waits == [0.01, 0.02, 0.04]  # exponential backoff, then give up
    assert f"127.0.0.1:{imap_account.port}" in str(err.value)
    assert not err.value.permanent
    src.close()


def test_a_wrong_password_is_a_permanent_source_error(imap_account, sqlite_engine, tmp_path):
    bad = tmp_path / "wrong"
    bad.write_text("sai-mat-khau")
    cfg = imap_account.mailbox_config(password_file=str(bad))
    with pytest.raises(SourceError) as err:
        list(ImapSource(cfg, sqlite_engine, retries=0).fetch_new())
    text = str(err.value)
    assert err.value.permanent
    assert f"127.0.0.1:{imap_account.port}" in text and imap_account.user in text
    assert "sai-mat-khau" not in text and "mật khẩu" in text


def test_a_refused_connection_names_host_and_port(imap_account, sqlite_engine):
    port = free_port()
    src = source(imap_account, sqlite_engine, port=port, retries=0)
    with pytest.raises(SourceError) as err:
        list(src.fetch_new())
    assert f"127.0.0.1:{port}" in str(err.value)


def test_tls_against_a_plain_text_port_says_what_to_check(imap_account, sqlite_engine):
    src = source(imap_account, sqlite_engine, tls="ssl", retries=0)
    with pytest.raises(SourceError) as err:
        list(src.fetch_new())
    assert f"127.0.0.1:{imap_account.port}" in str(err.value)
    assert "tls" in str(err.value)


def test_a_missing_password_setting_is_a_config_error(imap_account, sqlite_engine):
    cfg = imap_account.mailbox_config(password_file=None)
    with pytest.raises(ConfigError):
        ImapSource(cfg, sqlite_engine)


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "polling"])
def test_wait_for_mail_wakes_up_when_mail_arrives(imap_account, sqlite_engine, idle):
    with source(imap_account, sqlite_engine, idle=idle, poll_interval=0.2) as src:
        assert list(src.fetch_new()) == []
        assert src.wait_for_mail(timeout=0.2) is False
        timer = threading.Timer(0.3, imap_account.append, args=(mail(1),))
        timer.start()
        try:
            assert src.wait_for_mail(timeout=60) is True
        finally:
            timer.join()
        assert [m.raw for m in src.fetch_new()] == [mail(1)]


def test_open_source_builds_an_imap_source_from_the_config(imap_account, sqlite_engine, tmp_path):
    config = parse_config(
        {"mailbox": [imap_account.mailbox_config().model_dump(exclude_none=True)]},
        base_dir=tmp_path,
    )
    imap_account.append(mail(1))
    src = open_source(config.mailbox[0], config, sqlite_engine)
    try:
        assert [m.raw for m in src.fetch_new()] == [mail(1)]
    finally:
        src.close()


def test_it_reads_over_implicit_tls_trusting_the_given_context(imap_account, sqlite_engine):
    imap_account.append(mail(1))
    cfg = imap_account.mailbox_config(tls="ssl", port=imap_account.server.tls_port)
    ctx = imap_account.server.ssl_context()
    with ImapSource(cfg, sqlite_engine, ssl_context=ctx, retries=0) as src:
        assert [m.raw for m in src.fetch_new()] == [mail(1)]


def test_it_upgrades_with_starttls(imap_account, sqlite_engine):
    imap_account.append(mail(1))
    cfg = imap_account.mailbox_config(tls="starttls")
    ctx = imap_account.server.ssl_context()
    with ImapSource(cfg, sqlite_engine, ssl_context=ctx, retries=0) as src:
        (got,) = src.fetch_new()
        src.mark_processed(got.ref)
    assert imap_account.list_uids("INBOX") == []


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_a_permanent_error(imap_account, sqlite_engine, tls):
    port = imap_account.server.tls_port if tls == "ssl" else imap_account.port
    cfg = imap_account.mailbox_config(tls=tls, port=port)
    # The default context trusts the system CAs only, not the test server's own certificate.
    with pytest.raises(SourceError) as err:
        list(ImapSource(cfg, sqlite_engine, retries=3).fetch_new())
    assert err.value.permanent
    assert "chứng chỉ" in str(err.value) and f"127.0.0.1:{port}" in str(err.value)
