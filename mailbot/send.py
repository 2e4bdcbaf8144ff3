"""Drain the outbox: the only module that talks SMTP (aiosmtplib) or writes the .eml sink.

Temporary failures (server down, 4xx) are retried with backoff; permanent ones (5xx, refused
recipient) are given up and flagged on the dossier. An item is marked sent only after the
server accepted it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosmtplib
from sqlalchemy.engine import Engine

from mailbot import outbox
from mailbot.config import Config, DirectorySink, SmtpConfig
from mailbot.errors import ConfigError, SendError

log = logging.getLogger("mailbot.send")


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed}


def _safe_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", message_id.strip("<>"))[:150]


def write_to_directory(directory: Path, item: outbox.Claimed) -> Path:
    """Write one .eml atomically; the name is fixed by the Message-ID, so a retry overwrites."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{item.id:06d}-{item.kind}-{_safe_name(item.message_id)}.eml"
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(item.raw)
    os.replace(tmp, target)
    return target


def _classify_smtp_error(exc: Exception, smtp: SmtpConfig) -> SendError:
    where = f"{smtp.host}:{smtp.effective_port}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return SendError(f"máy chủ {where} từ chối người nhận: {exc}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendError(
            f"đăng nhập SMTP {where} thất bại; kiểm tra [smtp] user và mật khẩu "
            "(password_env/password_file)"
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendError(f"máy chủ {where} trả lời {exc.code} {exc.message}",
                         permanent=500 <= exc.code < 600)
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected |
                  aiosmtplib.SMTPTimeoutError | OSError):
        return SendError(
            f"không kết nối được máy chủ SMTP {where}: {exc}; thư sẽ được gửi lại sau, "
            "kiểm tra máy chủ và [smtp] host/port/tls"
        )
    return SendError(f"lỗi khi gửi qua {where}: {exc}")


async def _drain_smtp(engine: Engine, config: Config, smtp: SmtpConfig,
                      items: list[outbox.Claimed], result: DrainResult) -> None:
    password = smtp.read_password("smtp", Path(config.base_dir))
    tls_context = ssl.create_default_context()
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.effective_port,
        use_tls=smtp.tls == "ssl",
        start_tls=smtp.tls == "starttls",
        timeout=smtp.timeout,
        tls_context=tls_context if smtp.tls != "none" else None,
    )
    try:
        await client.connect()
        if smtp.user:
            await client.login(smtp.user, password.get() if password else "")
    except Exception as exc:  # server down: every item waits for the next drain
        err = _classify_smtp_error(exc, smtp)
        log.warning("outbox: %s", err)
        for item in items:
            outbox.mark_failed(engine, item, str(err), permanent=False)
            result.retried += 1
        return
    done = 0
    try:
        for claimed in items:
            done += 1
            item = outbox.renew(engine, claimed)
            if item is None:  # reclaimed by another worker while we were busy: theirs now
                continue
            try:
                await client.sendmail(config.office.from_addr, [item.to_addr], item.raw)
            except Exception as exc:
                err = _classify_smtp_error(exc, smtp)
                status = outbox.mark_failed(engine, item, str(err), permanent=err.permanent)
                log.warning("outbox item %s (%s) %s: %s", item.id, item.message_id, status, err)
                if status == "failed":
                    result.failed += 1
                else:
                    result.retried += 1
                if not client.is_connected:
                    break
                continue
            outbox.mark_sent(engine, item)
            result.sent += 1
            log.info("sent %s %s", item.kind, item.message_id)
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                pass
    # Items not attempted because the connection dropped go back to pending.
    for item in items[done:]:
        outbox.mark_failed(engine, item, "kết nối SMTP bị ngắt", permanent=False)
        result.retried += 1


def drain_once(engine: Engine, config: Config, *, now: datetime | None = None) -> DrainResult:
    """Send everything that is due (at `now`, default the present), once; safe to call from
    several processes."""
    result = DrainResult()
    transport = config.smtp
    if transport is None:
        raise ConfigError(
            "chưa cấu hình cách gửi thư; thêm mục [smtp] (máy chủ SMTP) hoặc "
            '[smtp] kind = "directory" để ghi thư ra thư mục',
            file=config.source_file, key="smtp",
        )
    while True:
        items = outbox.claim_due(engine, now=now)
        if not items:
            return result
        before = result.sent + result.failed
        if isinstance(transport, DirectorySink):
            directory = config.path(transport.directory)
            for claimed in items:
                item = outbox.renew(engine, claimed)
                if item is None:
                    continue
                try:
                    write_to_directory(directory, item)
                except OSError as exc:
                    outbox.mark_failed(engine, item, f"không ghi được {directory}: {exc}",
                                       permanent=False)
                    result.retried += 1
                    continue
                outbox.mark_sent(engine, item)
                result.sent += 1
        else:
            asyncio.run(_drain_smtp(engine, config, transport, items, result))
        if result.sent + result.failed == before:
            # Nothing went out in this round (server down): stop instead of spinning.
            return result
