"""`mailbot demo` works in an empty folder, and later commands there use its register."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def mailbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MAILBOT_CONFIG"}
    return subprocess.run([sys.executable, "-m", "mailbot", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("demo")
    result = mailbot(cwd, "demo")
    assert result.returncode == 0, result.stderr
    assert "SỔ THEO DÕI HỒ SƠ" in result.stdout
    assert "canbo /" in result.stdout  # the demo prints a login for the web desk
    return cwd


def test_demo_writes_readable_replies(demo_dir: Path) -> None:
    replies = sorted((demo_dir / "mailbot-demo" / "thu-tra-loi").glob("*.eml"))
    assert replies
    for path in replies:
        msg = email.message_from_bytes(path.read_bytes())
        assert msg["In-Reply-To"] and msg["Message-ID"]
        assert msg["Auto-Submitted"] == "auto-replied"
        subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
        assert "[KG-" in subject
        text = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
        body = text.get_payload(decode=True).decode(text.get_content_charset() or "utf-8")
        assert "hồ sơ" in body.lower()


def test_later_commands_use_the_demo_register(demo_dir: Path) -> None:
    listing = mailbot(demo_dir, "dossiers", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert rows and {"code", "request_type", "status", "unit", "sender", "received_at",
                     "due_at", "message_ids", "replies_sent"} <= set(rows[0])
    replied = sum(r["replies_sent"] for r in rows)
    files = list((demo_dir / "mailbot-demo" / "thu-tra-loi").glob("*.eml"))
    assert replied == len(files)
    show = mailbot(demo_dir, "show", rows[0]["code"])
    assert show.returncode == 0 and rows[0]["code"] in show.stdout


def test_demo_is_idempotent(demo_dir: Path) -> None:
    before = json.loads(mailbot(demo_dir, "dossiers", "--json").stdout)
    again = mailbot(demo_dir, "demo", "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["poll"]["processed"] == 0
    assert len(data["dossiers"]) == len(before)
