"""`mailbot run` as a real process: IMAP IDLE wakes the poll at once; SIGTERM stops it cleanly."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import Corpus
from tests.servers.dovecot import ImapAccount
from tests.servers.smtp import SmtpSink


def test_idle_wakes_the_service_and_sigterm_stops_it(tmp_path: Path, imap_account: ImapAccount,
                                                    smtp_sink: SmtpSink, corpus: Corpus) -> None:
    config = tmp_path / "config.toml"
    config.write_text(textwrap.dedent(f"""\
        database_url = "sqlite:///{tmp_path / 'mailbot.db'}"
        data_dir = "{tmp_path / 'var'}"
        poll_interval = 300
        outbox_interval = 300
        [[mailbox]]
        name = "cuc"
        unit = "KG"
        kind = "imap"
        host = "{imap_account.host}"
        port = {imap_account.port}
        tls = "none"
        user = "{imap_account.user}"
        password_file = "{imap_account.password_file}"
        idle = true
        [smtp]
        kind = "smtp"
        host = "127.0.0.1"
        port = {smtp_sink.port}
        tls = "none"
        """), encoding="utf-8")
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mailbot", "-v", "run"],
                                env={**os.environ, "MAILBOT_CONFIG": str(config)},
                                stdout=out, stderr=out)
    try:
        time.sleep(3)  # the first poll (empty mailbox) and the IDLE connection
        row = next(r for r in corpus.rows if r["request_type"] == "yeu_cau_thi_hanh_an"
                   and r["needs_reply"] and r["thread_of"] is None)
        imap_account.append(corpus.raw(row))
        # With a 5-minute poll interval, only IDLE can bring the acknowledgement this soon.
        received = smtp_sink.wait_for(1, timeout=60)
        assert len(received) == 1, log.read_text(errors="replace")
        original = email.message_from_bytes(corpus.raw(row))
        assert received[0].message["In-Reply-To"] == " ".join(original["Message-ID"].split())
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, log.read_text(errors="replace")
    assert imap_account.list_uids("INBOX") == []
