"""The test servers themselves: Dovecot accounts, the aiosmtpd sink, both databases."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from mailbot.dossier.models import DossierCounter


def test_each_imap_account_starts_empty_and_keeps_what_is_appended(imap_account):
    assert imap_account.folders() == ["INBOX"]
    assert imap_account.list_uids() == []
    uid = imap_account.append(b"Subject: a\r\n\r\nb\r\n", folder="Khac")
    assert "Khac" in imap_account.folders()
    assert imap_account.list_uids("Khac") == [uid]


def test_two_accounts_do_not_see_each_other(dovecot, imap_account, tmp_path):
    from tests.servers.dovecot import ImapAccount

    dovecot.add_user("nguoi-khac", "mk")
    other = ImapAccount(dovecot, "nguoi-khac", "mk", tmp_path / "unused")
    imap_account.append(b"Subject: a\r\n\r\nb\r\n")
    assert other.list_uids() == []


def test_change_uidvalidity_keeps_the_mail(imap_account):
    imap_account.append(b"Subject: a\r\n\r\nb\r\n")
    before = imap_account.uidvalidity()
    after = imap_account.change_uidvalidity()
    assert after != before
    assert [raw for raw, _f in imap_account.fetch().values()] == [b"Subject: a\r\n\r\nb\r\n"]


def test_the_smtp_sink_records_mail_and_comes_back_on_the_same_port(smtp_sink):
    port = smtp_sink.port
    with smtplib.SMTP(smtp_sink.host, port, timeout=10) as s:
        s.sendmail("a@example.vn", ["b@example.vn"], b"Subject: Ch\xc3\xa0o\r\n\r\nx\r\n")
    (got,) = smtp_sink.wait_for(1)
    assert got.mail_from == "a@example.vn" and got.rcpt_tos == ("b@example.vn",)
    assert got.raw.startswith(b"Subject: Ch\xc3\xa0o")
    assert got.message["Subject"] == "Chào"

    smtp_sink.stop()
    with pytest.raises(OSError):
        smtplib.SMTP(smtp_sink.host, port, timeout=5)
    smtp_sink.start()
    assert smtp_sink.port == port
    with smtplib.SMTP(smtp_sink.host, port, timeout=10) as s:
        s.sendmail("a@example.vn", ["c@example.vn"], b"Subject: 2\r\n\r\ny\r\n")
    assert len(smtp_sink.wait_for(2)) == 2


def test_the_smtp_sink_can_refuse_recipients_and_data(smtp_sink):
    smtp_sink.refuse_rcpt.add("khong-ton-tai@example.vn")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            s.sendmail("a@example.vn", ["khong-ton-tai@example.vn"], b"Subject: x\r\n\r\n")
    smtp_sink.data_response = "451 4.3.0 Thu lai sau"
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as s:
        with pytest.raises(smtplib.SMTPDataError) as err:
            s.sendmail("a@example.vn", ["b@example.vn"], b"Subject: x\r\n\r\n")
    assert err.value.smtp_code == 451
    assert smtp_sink.messages == []


def test_db_url_is_empty_and_engine_has_the_tables(db_url, engine):
    assert str(engine.url).split(":")[0] in ("sqlite", "postgresql+psycopg")
    with Session(engine) as s:
        assert s.exec(select(DossierCounter)).all() == []
        s.add(DossierCounter(unit="KG", year=2025, last=7))
        s.commit()
        assert [c.last for c in s.exec(select(DossierCounter)).all()] == [7]
    if db_url.startswith("postgresql"):
        with engine.connect() as conn:
            schema = conn.execute(text("select current_schema()")).scalar()
        assert schema is not None and schema.startswith("mbt_")


def test_the_corpus_fixture_reads_manifest_and_files(corpus):
    assert corpus.rows and all("request_type" in r for r in corpus.rows)
    first = corpus.rows[0]
    assert corpus.raw(first) == (corpus.path / first["file"]).read_bytes()
