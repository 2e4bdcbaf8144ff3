"""Run a private Dovecot IMAP server on a free loopback port with its own config and users."""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

from mailbot.config import ImapMailbox

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port the kernel just gave out; good enough on loopback for a test server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None
    )


def dovecot_version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    return tuple(int(p) for p in out.split()[0].split(".")[:3] if p.isdigit())


class DovecotServer:
    """One Dovecot instance: config, sockets, state, logs and mail all under ``root``.

    Plain text (and STARTTLS) on ``port``, implicit TLS on ``tls_port`` with a self-signed
    certificate (``cafile``). Runs in the foreground (``-F``) in its own process group, so
    stopping it ends every Dovecot process, as a real restart does.
    As root, mail is owned by ``nobody`` (Dovecot refuses UID 0 for mail access); as a
    normal user everything runs as that user.
    """

    def __init__(self, root: Path, binary: str, port: int | None = None) -> None:
        self.root = root
        self.binary = binary
        self.host = HOST
        self.port = port or free_port()
        self.tls_port = free_port()  # implicit TLS (imaps); the plain port offers STARTTLS
        self.version = dovecot_version(binary)
        self.conf = root / "dovecot.conf"
        # One passwd-file per user (path with %u): a new user is visible at once, with no
        # reliance on Dovecot noticing that a shared file changed within the same second.
        self.passwd_dir = root / "passwd.d"
        self.home_root = root / "home"
        self.log = root / "dovecot.log"
        # Self-signed certificate for 127.0.0.1; tests trust it via ssl_context(cafile=...).
        self.cafile = root / "cert.pem"
        self.keyfile = root / "key.pem"
        self._proc: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self._write_config()

    # ---- set-up ---------------------------------------------------------------------------
    def _write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Dovecot's unprivileged processes must traverse the tree (pytest's tmp dirs are 0700).
        os.chmod(self.root, 0o755)
        for sub in ("run", "state"):
            (self.root / sub).mkdir(exist_ok=True)
        self.home_root.mkdir(exist_ok=True)
        os.chown(self.home_root, self.uid, self.gid)
        self.passwd_dir.mkdir(exist_ok=True)
        os.chmod(self.passwd_dir, 0o755)
        if not self.cafile.exists():
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3",
                 "-keyout", str(self.keyfile), "-out", str(self.cafile),
                 "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                check=True, capture_output=True,
            )
        cleartext = (
            "auth_allow_cleartext = yes"
            if self.version >= (2, 4)
            else "disable_plaintext_auth = no"
        )
        rootless = ""
        if os.geteuid() != 0:
            me = getpass.getuser()
            group = grp.getgrgid(os.getgid()).gr_name
            rootless = f"""
default_internal_user = {me}
default_internal_group = {group}
default_login_user = {me}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        self.conf.write_text(
            f"""# Written by tests/servers/dovecot.py for one test session.
instance_name = mailbot-test-{self.port}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
protocols = imap
listen = {self.host}
# TLS offered (STARTTLS and imaps) but not required: loopback tests may log in in clear.
ssl = yes
ssl_cert = <{self.cafile}
ssl_key = <{self.keyfile}
{cleartext}
auth_mechanisms = plain login
# Tests log in with wrong passwords on purpose; do not make them wait.
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
# Notice new mail quickly even where inotify is not available.
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_dir}/%u
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.home_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
  }}
}}
{rootless}
""",
            encoding="utf-8",
        )

    # ---- life cycle -----------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> None:
        if self._proc is not None:
            return
        log = open(self.root / "dovecot.stderr", "ab")  # noqa: SIM115 (kept for the child)
        self._proc = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own process group: stopping ends every Dovecot process (the master leaves
            # running imap sessions behind otherwise), like a real server restart does.
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise RuntimeError(f"dovecot exited with {code} on start:\n{self.logs()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot did not answer on {self.port}:\n{self.logs()}")
            time.sleep(0.05)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(5)
        # Sessions that ignored SIGTERM do not outlive the server.
        time.sleep(0.05)
        _signal_group(proc, signal.SIGKILL)
        # The master stops its children itself; wait until the port is really free.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.05)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def logs(self) -> str:
        parts = []
        for name in ("dovecot.log", "dovecot.stderr"):
            p = self.root / name
            if p.exists():
                parts.append(p.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    # ---- users ----------------------------------------------------------------------------
    def add_user(self, user: str, password: str) -> None:
        """Create a login; takes effect at once, no reload needed."""
        path = self.passwd_dir / user
        path.write_text(f"{user}:{{PLAIN}}{password}\n", encoding="utf-8")
        os.chmod(path, 0o644)

    def maildir(self, user: str) -> Path:
        return self.home_root / user / "Maildir"

    def folder_dir(self, user: str, folder: str) -> Path:
        root = self.maildir(user)
        return root if folder.upper() == "INBOX" else root / f".{folder}"


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group we created in start(), id = the master's pid
    except ProcessLookupError:
        pass


def _append_uid(response: bytes) -> int:
    # "[APPENDUID <uidvalidity> <uid>] Append completed." (UIDPLUS, always on in Dovecot)
    text = response.decode() if isinstance(response, bytes) else str(response)
    start = text.index("APPENDUID")
    return int(text[start:].split("]")[0].split()[2])


@dataclass
class ImapAccount:
    """A Dovecot user with an empty mailbox, plus helpers that talk IMAP as a mail client."""

    server: DovecotServer
    user: str
    password: str
    password_file: Path

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def client(self) -> IMAPClient:
        c = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        c.login(self.user, self.password)
        return c

    def mailbox_config(self, **overrides: object) -> ImapMailbox:
        """An ``ImapMailbox`` for this account (plain text to loopback, password from a file)."""
        values: dict[str, object] = {
            "name": f"hop-thu-{self.user}",
            "unit": "KG",
            "host": self.host,
            "port": self.port,
            "tls": "none",
            "user": self.user,
            "password_file": str(self.password_file),
            "timeout": 10.0,
        }
        values.update(overrides)
        return ImapMailbox.model_validate(values)

    def append(
        self,
        raw: bytes,
        folder: str = "INBOX",
        date: datetime | None = None,
        flags: tuple[str, ...] = (),
    ) -> int:
        """Deliver ``raw`` into ``folder`` (created if missing); returns its UID."""
        with self.client() as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            return _append_uid(c.append(folder, raw, flags=flags, msg_time=date))

    def list_uids(self, folder: str = "INBOX") -> list[int]:
        with self.client() as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            return sorted(int(u) for u in c.search("ALL"))

    def fetch(self, folder: str = "INBOX") -> dict[int, tuple[bytes, tuple[bytes, ...]]]:
        """UID → (raw bytes, flags) of every mail in ``folder``, without setting \\Seen."""
        with self.client() as c:
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            if not uids:
                return {}
            data = c.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
            return {int(u): (d[b"BODY[]"], tuple(d[b"FLAGS"])) for u, d in data.items()}

    def folders(self) -> list[str]:
        with self.client() as c:
            return sorted(name for _flags, _sep, name in c.list_folders())

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.client() as c:
            return int(c.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def change_uidvalidity(self, folder: str = "INBOX") -> int:
        """Make the server forget its UIDs for ``folder``: same mail, new UIDs, new UIDVALIDITY.

        This is what a server migration or a rebuilt index does. The server is restarted so
        no process keeps the old index in memory. Returns the new UIDVALIDITY.
        """
        old = self.uidvalidity(folder)
        self.server.stop()
        directory = self.server.folder_dir(self.user, folder)
        for p in directory.iterdir():
            if p.name.startswith(("dovecot-uidlist", "dovecot.index")):
                p.unlink()
        self.server.start()
        new = self.uidvalidity(folder)
        if new == old:
            raise RuntimeError(f"UIDVALIDITY of {folder} did not change ({old})")
        return new

    def restart_server(self) -> None:
        self.server.restart()

