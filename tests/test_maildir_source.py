"""MaildirSource: oldest first, bytes untouched, filed into .Processed/.Quarantine, idempotent."""

from __future__ import annotations

import mailbox
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from mailbot.config import MaildirMailbox, parse_config
from mailbot.sources.factory import open_source
from mailbot.sources.maildir import MaildirSource


def mail(n: int) -> bytes:
    # CRLF and a folded header: a rewrite by the mailbox module would change these bytes.
    return (
        f"From: a{n}@example.vn\r\nSubject: Thu so {n}\r\n\tdong tiep\r\n"
        f"Message-ID: <m{n}@example.vn>\r\n\r\nNoi dung {n}.\r\n"
    ).encode()


def deliver(root: Path, n: int, when: float, sub: str = "new") -> str:
    """Write a mail the way an MTA does and date it ``when`` (epoch seconds)."""
    key = f"{int(when)}.M{n}P1.test"
    name = key if sub == "new" else f"{key}:2,S"
    path = root / sub / name
    path.write_bytes(mail(n))
    os.utime(path, (when, when))
    return key


def make(tmp_path: Path) -> MaildirSource:
    cfg = MaildirMailbox(name="thu-demo", unit="KG", path="hop-thu")
    return MaildirSource(cfg, tmp_path)


def test_it_creates_the_maildir_relative_to_the_base_dir(tmp_path):
    src = make(tmp_path)
    assert src.path == tmp_path / "hop-thu"
    assert all((src.path / d).is_dir() for d in ("new", "cur", "tmp"))
    assert list(src.fetch_new()) == []


def test_it_yields_new_and_cur_mail_oldest_first_with_mtime_as_arrival(tmp_path):
    src = make(tmp_path)
    late = deliver(src.path, 1, 1_700_000_300)
    early = deliver(src.path, 2, 1_600_000_000, sub="cur")
    middle = deliver(src.path, 3, 1_650_000_000)
    (src.path / "tmp" / "half-written").write_bytes(b"not yet delivered")

    got = list(src.fetch_new())

    assert [m.ref for m in got] == [early, middle, late]
    assert [m.raw for m in got] == [mail(2), mail(3), mail(1)]
    assert got[0].arrived_at == datetime.fromtimestamp(1_600_000_000, UTC)
    assert all(m.mailbox == "thu-demo" for m in got)


def test_marking_files_the_untouched_file_into_subfolders(tmp_path):
    src = make(tmp_path)
    done = deliver(src.path, 1, 1_600_000_000)
    bad = deliver(src.path, 2, 1_600_000_100, sub="cur")
    refs = [m.ref for m in src.fetch_new()]
    assert refs == [done, bad]

    src.mark_processed(done)
    src.mark_processed(done)  # twice is harmless
    src.mark_quarantined(bad)

    assert list(src.fetch_new()) == []
    md = mailbox.Maildir(src.path, create=False)
    assert sorted(md.list_folders()) == ["Processed", "Quarantine"]
    assert (src.path / ".Processed" / "new" / done).read_bytes() == mail(1)
    assert (src.path / ".Quarantine" / "cur" / f"{bad}:2,S").read_bytes() == mail(2)
    assert [md.get_folder("Processed").get_bytes(k) for k in md.get_folder("Processed").keys()] == [
        mail(1)
    ]


def test_a_new_instance_sees_only_mail_not_yet_filed(tmp_path):
    first = make(tmp_path)
    one = deliver(first.path, 1, 1_600_000_000)
    deliver(first.path, 2, 1_600_000_100)
    first.mark_processed(one)  # without a fetch first: found by scanning

    second = make(tmp_path)
    assert [m.raw for m in second.fetch_new()] == [mail(2)]


def test_marking_an_unknown_ref_changes_nothing(tmp_path):
    src = make(tmp_path)
    deliver(src.path, 1, 1_600_000_000)
    src.mark_processed("khong-co")
    assert [m.raw for m in src.fetch_new()] == [mail(1)]


def test_wait_for_mail_returns_when_a_mail_is_delivered(tmp_path):
    src = make(tmp_path)
    assert src.wait_for_mail(timeout=0.1, interval=0.05) is False
    timer = threading.Timer(0.2, deliver, args=(src.path, 1, 1_600_000_000))
    timer.start()
    try:
        assert src.wait_for_mail(timeout=30, interval=0.05) is True
    finally:
        timer.join()


def test_open_source_resolves_the_path_against_the_config_folder(tmp_path):
    config = parse_config(
        {"mailbox": [{"kind": "maildir", "name": "demo", "unit": "KG", "path": "thu"}]},
        base_dir=tmp_path,
    )
    src = open_source(config.mailbox[0], config, engine=None)  # type: ignore[arg-type]
    assert isinstance(src, MaildirSource)
    assert src.path == tmp_path / "thu"
