"""Benchmark the whole intake path against a raw IMAP fetch of the same mailbox.

Starts a private Dovecot (tests/servers/dovecot.py), APPENDs the corpus N times, then measures
in the same run:
  baseline  imapclient: SELECT + UID FETCH BODY.PEEK[] of every mail (no processing)
  mailbot   `poll_once`: fetch, parse, classify, dossier commit, move, acknowledgement enqueued
            and written to a directory sink (SQLite)
and prints mails/s for both and their ratio. Never run by the tests.

    python bench/bench_poll.py [--copies 3]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailbot.config import parse_config  # noqa: E402
from mailbot.db import create_schema, get_engine  # noqa: E402
from mailbot.pipeline import poll_once  # noqa: E402
from tests.servers.dovecot import DovecotServer, ImapAccount, dovecot_binary  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "corpus" / "eml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="times the corpus is appended")
    args = parser.parse_args()
    binary = dovecot_binary()
    if binary is None:
        sys.exit("Dovecot is not installed: apt-get install dovecot-imapd")
    root = Path(tempfile.mkdtemp(prefix="mailbot-bench-"))
    server = DovecotServer(root, binary)
    server.start()
    try:
        user, password = "bench", secrets.token_urlsafe(10)
        server.add_user(user, password)
        (root / "pw").write_text(password, encoding="utf-8")
        account = ImapAccount(server, user, password, root / "pw")
        mails = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
        for copy in range(args.copies):
            for raw in mails:
                # A distinct Message-ID per copy, so no copy is a duplicate of another.
                account.append(raw.replace(b"Message-ID: <", f"Message-ID: <c{copy}.".encode(),
                                           1))
        n = len(mails) * args.copies

        client = account.client()
        t0 = time.perf_counter()
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        for i in range(0, len(uids), 25):
            client.fetch(uids[i:i + 25], ["BODY.PEEK[]", "INTERNALDATE"])
        raw_s = time.perf_counter() - t0
        client.logout()

        config = parse_config({
            "database_url": f"sqlite:///{root / 'bench.db'}",
            "data_dir": str(root / "var"),
            "mailbox": [account.mailbox_config(name="bench").model_dump()],
            "smtp": {"kind": "directory", "directory": str(root / "out")},
        }, base_dir=root)
        engine = get_engine(config.resolved_database_url)
        create_schema(engine)
        t0 = time.perf_counter()
        result = poll_once(config, engine)
        mb_s = time.perf_counter() - t0
        assert len(result.outcomes) == n, (len(result.outcomes), n)
        print(f"mails: {n}")
        print(f"baseline raw IMAP fetch: {n / raw_s:8.1f} mails/s ({raw_s:.2f} s)")
        print(f"mailbot poll --once:     {n / mb_s:8.1f} mails/s ({mb_s:.2f} s), "
              f"{result.sent} acknowledgements written")
        print(f"ratio mailbot / raw fetch: {raw_s / mb_s:.3f}")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
