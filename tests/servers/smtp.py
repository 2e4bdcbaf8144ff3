"""A real aiosmtpd server on a loopback port that records every mail it accepts."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers.dovecot import HOST, free_port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.sink.refuse_rcpt:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.data_response:
            return self.sink.data_response
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.sink._cond:
            self.sink.messages.append(
                ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), raw, msg)
            )
            self.sink._cond.notify_all()
        return "250 2.0.0 OK queued"


class SmtpSink:
    """aiosmtpd ``Controller`` that keeps what it receives; can stop and come back on one port.

    - ``messages``: ``ReceivedMail`` in arrival order (append-only, guarded by a lock).
    - ``refuse_rcpt``: lower-case addresses answered with a permanent 550.
    - ``data_response``: when set (e.g. ``"451 4.3.0 Thử lại sau"``), DATA is answered with it
      and nothing is stored: a temporary or permanent server-side failure.
    - ``user``/``password``: when given, AUTH PLAIN/LOGIN is offered (without TLS, loopback).
    """

    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        self.host = HOST
        self.port = free_port()
        self.user = user
        self.password = password
        self.messages: list[ReceivedMail] = []
        self.refuse_rcpt: set[str] = set()
        self.data_response: str | None = None
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        # Raw bytes as sent (no decoding), so tests see exactly what mailbot wrote.
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, decode_data=False, **kwargs
        )
        self._controller.start()

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def wait_for(self, n: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least ``n`` mails arrived; AssertionError naming the count if not."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"SMTP sink got {len(self.messages)} mail(s), expected {n}"
                    )
                self._cond.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
