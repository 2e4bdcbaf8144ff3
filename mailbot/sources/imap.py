"""Read an IMAP folder without changing it, then move handled mail away; UIDVALIDITY-safe.

The cursor (``SourceCursor``: UIDVALIDITY and last UID) only advances over a contiguous run
of handled mail, so a mail the pipeline did not mark is offered again, never skipped. When
the server's UIDVALIDITY changes, the cursor is reset and the whole folder is listed again;
the pipeline recognises mail it already has (Message-ID + content hash).
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from imapclient import DELETED, IMAPClient
from imapclient import exceptions as imap_exc
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mailbot.config import ImapMailbox, Secret
from mailbot.db import session_scope
from mailbot.dossier.models import SourceCursor, utcnow
from mailbot.errors import ConfigError, SourceError
from mailbot.sources import FetchedMail

log = logging.getLogger(__name__)

T = TypeVar("T")

# Errors after which a new connection may help (the server restarted, the network blinked).
_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # includes socket.timeout, ConnectionError, ssl.SSLEOFError
    imaplib.IMAP4.abort,
    imap_exc.IMAPClientAbortError,
)


class _StaleRef(Exception):
    """The ref's UIDVALIDITY is not the folder's any more: its UID means nothing now."""


def parse_ref(ref: str) -> tuple[int, int]:
    validity, _, uid = ref.partition(":")
    try:
        return int(validity), int(uid)
    except ValueError:
        raise SourceError(
            f"mã thư IMAP không hợp lệ: {ref!r} (phải có dạng <uidvalidity>:<uid>)",
            permanent=True,
        ) from None


class ImapSource:
    """One IMAP mailbox folder as a ``MailSource``.

    ``use_move``: None = MOVE when the server offers it; False forces COPY + \\Deleted +
    UID EXPUNGE (for servers without MOVE, and to test that path).
    ``retries``/``backoff``: reconnect attempts after a lost connection, waiting
    backoff, 2*backoff, 4*backoff ... (capped at ``max_backoff``) seconds.
    ``poll_interval``: seconds between checks in ``wait_for_mail`` when IDLE is not used.
    """

    def __init__(
        self,
        cfg: ImapMailbox,
        engine: Engine,
        *,
        base_dir: Path | str = ".",
        password: Secret | None = None,
        ssl_context: ssl.SSLContext | None = None,
        use_move: bool | None = None,
        batch_size: int = 25,
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.unit = cfg.unit
        self.folder = cfg.folder
        self.engine = engine
        self._password = password or cfg.read_password(f"mailbox.{cfg.name}", Path(base_dir))
        if not self._password:
            raise ConfigError(
                "chưa cấu hình mật khẩu IMAP: đặt password_env (tên biến môi trường) hoặc "
                "password_file (tệp chứa mật khẩu) cho hộp thư này",
                key=f"mailbox.{cfg.name}",
            )
        self._ssl_context = ssl_context
        self._use_move = use_move
        self.batch_size = max(1, batch_size)
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._uidnext = 0
        # Cursor bookkeeping for the current pass: UIDs yielded, in order, not yet covered by
        # the cursor, and UIDs marked (processed or quarantined) but ahead of an unmarked one.
        self._pending: list[int] = []
        self._marked: set[int] = set()
        self._known_folders: set[str] = set()

    # ---- connection -----------------------------------------------------------------------
    @property
    def where(self) -> str:
        return f"{self.cfg.host}:{self.cfg.effective_port}"

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _connect(self) -> IMAPClient:
        """Open, secure, log in and select the folder; SourceError worded for IT staff."""
        cfg = self.cfg
        try:
            client = IMAPClient(
                cfg.host,
                cfg.effective_port,
                ssl=cfg.tls == "ssl",
                ssl_context=self._context() if cfg.tls == "ssl" else None,
                timeout=cfg.timeout,
            )
        except socket.gaierror as exc:
            raise SourceError(
                f"không tìm thấy máy chủ IMAP {cfg.host} (lỗi DNS: {exc.strerror}); kiểm tra "
                f"khóa host của hộp thư {cfg.name} và kết nối mạng/DNS"
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise SourceError(
                f"chứng chỉ TLS của máy chủ IMAP {self.where} không hợp lệ "
                f"({exc.verify_message}); kiểm tra tên máy chủ trong khóa host hoặc cài "
                "chứng chỉ của máy chủ vào kho chứng chỉ tin cậy",
                permanent=True,
            ) from exc
        except ssl.SSLError as exc:
            raise SourceError(
                f"không bắt tay TLS được với máy chủ IMAP {self.where} ({exc.reason}); cổng "
                f"{cfg.effective_port} có đúng với chế độ tls = \"{cfg.tls}\" không (993: ssl, "
                "143: starttls)?"
            ) from exc
        except ConnectionRefusedError as exc:
            raise SourceError(
                f"máy chủ IMAP {self.where} từ chối kết nối; kiểm tra máy chủ thư có đang chạy "
                "không, và khóa host/port của hộp thư"
            ) from exc
        except TimeoutError as exc:
            raise SourceError(
                f"hết thời gian chờ kết nối tới máy chủ IMAP {self.where} ({cfg.timeout:g} "
                "giây); kiểm tra tường lửa, mạng và khóa host/port"
            ) from exc
        except OSError as exc:
            raise SourceError(
                f"không kết nối được tới máy chủ IMAP {self.where}: {exc.strerror or exc}; "
                "kiểm tra mạng và khóa host/port"
            ) from exc
        try:
            client.normalise_times = False  # aware datetimes for INTERNALDATE
            if cfg.tls == "starttls":
                try:
                    client.starttls(self._context())
                except ssl.SSLCertVerificationError as exc:
                    raise SourceError(
                        f"chứng chỉ TLS của máy chủ IMAP {self.where} không hợp lệ "
                        f"({exc.verify_message}); kiểm tra tên máy chủ trong khóa host",
                        permanent=True,
                    ) from exc
                except (imap_exc.IMAPClientError, ssl.SSLError) as exc:
                    raise SourceError(
                        f"máy chủ IMAP {self.where} không nhận STARTTLS ({exc}); dùng "
                        'tls = "ssl" với cổng 993, hoặc kiểm tra cấu hình máy chủ',
                        permanent=True,
                    ) from exc
            try:
                client.login(cfg.user, self._password.get())
            except imap_exc.LoginError:
                raise SourceError(
                    f"máy chủ IMAP {self.where} từ chối đăng nhập của tài khoản {cfg.user}; "
                    "kiểm tra tên đăng nhập (khóa user) và mật khẩu (password_env / "
                    "password_file), và tài khoản có được phép dùng IMAP không",
                    permanent=True,
                ) from None  # the server's text may echo credentials
            info = client.select_folder(self.folder)
        except SourceError:
            _quiet_logout(client)
            raise
        except imap_exc.IMAPClientError as exc:
            _quiet_logout(client)
            raise SourceError(
                f"không mở được thư mục {self.folder!r} trên máy chủ IMAP {self.where} "
                f"({exc}); kiểm tra khóa folder của hộp thư {cfg.name}",
                permanent=True,
            ) from exc
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        self._uidnext = int(info.get(b"UIDNEXT", 0))
        self._client = client
        log.info("IMAP %s: connected to %s, folder %s", self.name, self.where, self.folder)
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _quiet_logout(client)

    def _call(self, op: Callable[[IMAPClient], T]) -> T:
        """Run ``op`` on a live connection; reconnect with exponential backoff when it breaks."""
        attempt = 0
        while True:
            try:
                client = self._client or self._connect()
                return op(client)
            except _TRANSIENT as exc:
                self._drop()
                error: BaseException = exc
            except SourceError as exc:
                self._drop()
                if exc.permanent:
                    raise
                error = exc
            if attempt >= self.retries:
                raise SourceError(
                    f"mất kết nối tới máy chủ IMAP {self.where} và không kết nối lại được sau "
                    f"{attempt + 1} lần thử ({error}); kiểm tra máy chủ thư và mạng, mailbot "
                    "sẽ thử lại ở lần đọc thư sau"
                ) from error
            delay = min(self.max_backoff, self.backoff * 2**attempt)
            log.warning(
                "IMAP %s: connection to %s failed (%s); retry %d/%d in %.1fs",
                self.name, self.where, type(error).__name__, attempt + 1, self.retries, delay,
            )
            attempt += 1
            self._sleep(delay)

    # ---- cursor ---------------------------------------------------------------------------
    def _cursor_row(self, session: Session) -> SourceCursor | None:
        return session.exec(
            select(SourceCursor).where(
                SourceCursor.mailbox == self.name, SourceCursor.folder == self.folder
            )
        ).first()

    def cursor(self) -> tuple[int, int]:
        """(UIDVALIDITY, last UID) as stored; (0, 0) before the first pass."""
        with session_scope(self.engine) as s:
            row = self._cursor_row(s)
            return (row.uidvalidity, row.last_uid) if row else (0, 0)

    def _save_cursor(self, uidvalidity: int, last_uid: int) -> None:
        for attempt in range(2):
            try:
                with session_scope(self.engine) as s:
                    row = self._cursor_row(s) or SourceCursor(
                        mailbox=self.name, folder=self.folder
                    )
                    row.uidvalidity = uidvalidity
                    row.last_uid = last_uid
                    row.updated_at = _db_now()
                    s.add(row)
                return
            except IntegrityError:
                if attempt:  # another worker inserted the row first: update it instead
                    raise

    # ---- reading --------------------------------------------------------------------------
    def _list_new(self) -> tuple[int, list[int], list[int]]:
        """(uidvalidity, UIDs after the cursor, UIDs at or before it still in the folder)."""

        def op(client: IMAPClient) -> tuple[int, list[int]]:
            client.noop()  # let the server tell us about new mail / expunges
            return self._uidvalidity, sorted(int(u) for u in client.search("ALL"))

        validity, uids = self._call(op)
        stored_validity, last_uid = self.cursor()
        if stored_validity != validity:
            if stored_validity:
                log.warning(
                    "IMAP %s: UIDVALIDITY of %s changed (%d -> %d); listing the folder again",
                    self.name, self.folder, stored_validity, validity,
                )
            last_uid = 0
            self._save_cursor(validity, 0)
        return validity, [u for u in uids if u > last_uid], [u for u in uids if u <= last_uid]

    def fetch_new(self) -> Iterator[FetchedMail]:
        """Yield unhandled mail oldest first, BODY.PEEK (no flag changes), in batches."""
        validity, new, done = self._list_new()
        self._pending = list(new)
        self._marked = set()
        if done:
            # Handled before (the cursor passed them) but the move did not happen, e.g. the
            # connection dropped right after the commit: finish the move now. (A quarantined
            # one lands in Processed too; its bytes and reason are in the quarantine table.)
            log.info("IMAP %s: moving %d already handled mail(s)", self.name, len(done))
            self._move(done, self.cfg.processed_folder)
        for i in range(0, len(new), self.batch_size):
            batch = new[i : i + self.batch_size]

            def op(client: IMAPClient, batch: list[int] = batch) -> dict[int, Any]:
                if self._uidvalidity != validity:
                    raise _StaleRef
                return client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])

            try:
                data = self._call(op)
            except _StaleRef:
                log.warning("IMAP %s: UIDVALIDITY changed during a pass; stopping it", self.name)
                return
            for uid in batch:
                item = data.get(uid)
                if item is None or b"BODY[]" not in item:
                    continue  # expunged by someone else in the meantime
                yield FetchedMail(
                    mailbox=self.name,
                    ref=f"{validity}:{uid}",
                    raw=bytes(item[b"BODY[]"]),
                    arrived_at=_utc(item.get(b"INTERNALDATE")),
                )

    # ---- marking --------------------------------------------------------------------------
    def mark_processed(self, ref: str) -> None:
        self._mark(ref, self.cfg.processed_folder)

    def mark_quarantined(self, ref: str) -> None:
        self._mark(ref, self.cfg.quarantine_folder)

    def _mark(self, ref: str, target: str) -> None:
        validity, uid = parse_ref(ref)
        try:
            self._move([uid], target, validity=validity)
        except _StaleRef:
            # The UID means nothing now; the next pass lists the folder again and the
            # pipeline recognises the mail, so nothing is lost or doubled.
            log.warning("IMAP %s: ref %s is from an old UIDVALIDITY; not moved", self.name, ref)
            return
        self._advance(uid, validity)

    def _advance(self, uid: int, validity: int) -> None:
        self._marked.add(uid)
        advanced = None
        while self._pending and self._pending[0] in self._marked:
            advanced = self._pending.pop(0)
            self._marked.discard(advanced)
        if advanced is not None:
            stored_validity, last_uid = self.cursor()
            if stored_validity == validity and advanced > last_uid:
                self._save_cursor(validity, advanced)

    def _move(self, uids: list[int], target: str, validity: int | None = None) -> None:
        def op(client: IMAPClient) -> None:
            if validity is not None and validity != self._uidvalidity:
                raise _StaleRef
            self._ensure_folder(client, target)
            present = {int(u) for u in client.search(["UID", ",".join(map(str, uids))])}
            todo = [u for u in uids if u in present]
            if not todo:
                return  # already moved: marking twice is harmless
            caps = client.capabilities()
            if self._use_move is not False and b"MOVE" in caps:
                client.move(todo, target)
                return
            client.copy(todo, target)
            client.add_flags(todo, [DELETED])
            if b"UIDPLUS" in caps:
                client.uid_expunge(todo)  # only these, not other \Deleted mail
            else:
                client.expunge()

        try:
            self._call(op)
        except imap_exc.IMAPClientError as exc:
            self._known_folders.discard(target)  # check it again next time
            raise SourceError(
                f"không chuyển được thư sang thư mục {target!r} trên máy chủ IMAP {self.where} "
                f"({exc}); kiểm tra tài khoản {self.cfg.user} có quyền tạo/ghi thư mục đó"
            ) from exc

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        if folder in self._known_folders:
            return
        if not client.folder_exists(folder):
            try:
                client.create_folder(folder)
                log.info("IMAP %s: created folder %s", self.name, folder)
            except imap_exc.IMAPClientError:
                if not client.folder_exists(folder):  # lost a race with another worker: fine
                    raise
            try:
                client.subscribe_folder(folder)  # so clerks see it in their mail program
            except imap_exc.IMAPClientError:
                pass
        self._known_folders.add(folder)

    # ---- waiting --------------------------------------------------------------------------
    def wait_for_mail(self, timeout: float) -> bool:
        """Block until new mail may be there (True) or ``timeout`` seconds pass (False).

        Uses IDLE when the server offers it and the config allows it, else polls with NOOP.
        """
        deadline = time.monotonic() + timeout

        def has_new(client: IMAPClient) -> bool:
            client.noop()
            validity, last_uid = self.cursor()
            if validity != self._uidvalidity:
                return True  # a pass must re-list the folder first
            seen = max([last_uid, *self._pending])
            return any(int(u) > seen for u in client.search("ALL"))

        if self._call(has_new):
            return True
        use_idle = self.cfg.idle and self._call(lambda c: c.has_capability("IDLE"))
        while (left := deadline - time.monotonic()) > 0:
            if use_idle:

                def idle(client: IMAPClient, left: float = left) -> bool:
                    client.idle()
                    try:
                        # Servers end IDLE after ~30 min; re-issue well before that.
                        responses = client.idle_check(timeout=min(left, 300.0))
                    finally:
                        client.idle_done()
                    return any(r[1] in (b"EXISTS", b"RECENT") for r in responses if len(r) > 1)

                if self._call(idle):
                    return True
            else:
                self._sleep(min(left, self.poll_interval))
            if self._call(has_new):
                return True
        return False

    def close(self) -> None:
        self._drop()

    def __enter__(self) -> ImapSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _db_now() -> datetime:
    """Now, in the form the ``updated_at`` column accepts.

    The register stores naive UTC; SQLModel >= 0.0.50 maps datetime fields to a type that
    insists on aware values (and stores them as UTC), so follow the column type.
    """
    column_type = SourceCursor.__table__.c.updated_at.type  # type: ignore[attr-defined]
    return datetime.now(UTC) if getattr(column_type, "timezone", False) else utcnow()


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _quiet_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001  (the connection is being thrown away anyway)
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass
