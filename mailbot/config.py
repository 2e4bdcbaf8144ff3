"""Load the TOML configuration into one typed, validated model.

Every error names the file, the key and the fix. Passwords are never written in the file:
they come from an environment variable (``password_env``) or a file (``password_file``) and
are held in a masked type that never prints.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mailbot.errors import ConfigError

# Where the project's own rules/ and templates/ live (a checkout or an editable install).
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_NAME = "config.toml"


class Secret:
    """A password or key: compares and reads normally, never shows in repr or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def is_loopback(host: str) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1, the only hosts plain text may go to."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Model):
    """Where a password comes from: an environment variable or a file, never the config."""

    password_env: str | None = Field(None, description="Tên biến môi trường chứa mật khẩu")
    password_file: str | None = Field(None, description="Đường dẫn tệp chứa mật khẩu")

    def read_password(self, section: str, base_dir: Path) -> Secret | None:
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError(
                    f"biến môi trường {self.password_env} (khai báo ở password_env) chưa được "
                    "đặt; hãy export biến này trước khi chạy mailbot",
                    key=section,
                )
            return Secret(value)
        if self.password_file:
            path = Path(self.password_file)
            if not path.is_absolute():
                path = base_dir / path
            try:
                return Secret(path.read_text(encoding="utf-8").strip("\r\n"))
            except OSError as exc:
                raise ConfigError(
                    f"không đọc được password_file {path}: {exc.strerror}; kiểm tra đường dẫn "
                    "và quyền đọc của mailbot",
                    key=section,
                ) from exc
        return None


TlsMode = Literal["ssl", "starttls", "none"]


class ImapMailbox(SecretRef):
    name: str = Field(description="Tên hộp thư, dùng trong nhật ký")
    unit: str = Field(description="Mã đơn vị nhận thư của hộp thư này, ví dụ KG")
    kind: Literal["imap"] = "imap"
    host: str
    port: int | None = None
    tls: TlsMode = "ssl"
    user: str
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"
    allow_insecure: bool = False
    idle: bool = True
    timeout: float = 30.0

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.tls == "ssl" else 143)


class MaildirMailbox(_Model):
    name: str
    unit: str
    kind: Literal["maildir"] = "maildir"
    path: str


Mailbox = Annotated[ImapMailbox | MaildirMailbox, Field(discriminator="kind")]


class SmtpConfig(SecretRef):
    kind: Literal["smtp"] = "smtp"
    host: str
    port: int | None = None
    tls: TlsMode = "starttls"
    user: str | None = None
    allow_insecure: bool = False
    timeout: float = 30.0

    @property
    def effective_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "none": 25}[self.tls]


class DirectorySink(_Model):
    """Write each outgoing mail as an .eml file a person can open (demos, tests)."""

    kind: Literal["directory"] = "directory"
    directory: str


class OfficeConfig(_Model):
    name: str = "Cục Thi hành án dân sự tỉnh Kiên Giang"
    from_addr: str = "thads.kiengiang@moj.gov.vn"
    from_name: str = "Bộ phận một cửa và hỗ trợ trực tuyến THADS"
    reply_to: str | None = None
    # Domain of the Message-IDs mailbot creates; defaults to the From domain.
    message_id_domain: str | None = None
    public_url: str = "http://127.0.0.1:8000"


class LimitsConfig(_Model):
    max_mail_bytes: int = Field(30_000_000, ge=1000)
    max_attachment_bytes: int = Field(15_000_000, ge=1000)
    auto_replies_per_sender_per_day: int = Field(1, ge=0)


class WebConfig(SecretRef):
    host: str = "127.0.0.1"
    port: int = 8000
    session_minutes: int = Field(480, ge=5)
    # The key that signs sessions and CSRF tokens; from env/file, else generated in data_dir.
    secret_env: str | None = None
    secret_file: str | None = None


class UnitContacts(_Model):
    clerks: list[str] = []
    leader: str | None = None


class RemindersConfig(_Model):
    digest_time: str = "07:30"
    warning_time: str = "08:00"
    escalation_time: str = "09:00"
    units: dict[str, UnitContacts] = {}

    @field_validator("digest_time", "warning_time", "escalation_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        try:
            hh, mm = v.split(":")
            assert 0 <= int(hh) < 24 and 0 <= int(mm) < 60
        except (ValueError, AssertionError) as exc:
            raise ValueError("phải là giờ dạng HH:MM, ví dụ \"07:30\"") from exc
        return v


class Config(_Model):
    """The whole configuration. Relative paths are relative to the config file's folder."""

    database_url: str = Field("sqlite:///mailbot.db", description="SQLAlchemy URL của CSDL")
    timezone: str = "Asia/Ho_Chi_Minh"
    rules_dir: str = str(PROJECT_DIR / "rules")
    templates_dir: str = str(PROJECT_DIR / "templates")
    data_dir: str = "var"
    poll_interval: int = Field(60, ge=5, description="Giây giữa hai lần đọc hộp thư")
    outbox_interval: int = Field(30, ge=5)
    triage_threshold: float = Field(0.5, ge=0, le=1)
    office: OfficeConfig = OfficeConfig()
    limits: LimitsConfig = LimitsConfig()
    mailbox: list[Mailbox] = []
    smtp: Annotated[SmtpConfig | DirectorySink, Field(discriminator="kind")] | None = None
    web: WebConfig = WebConfig()
    reminders: RemindersConfig = RemindersConfig()

    # Filled by load(); not part of the file.
    base_dir: str = Field(".", exclude=True)
    source_file: str | None = Field(None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"múi giờ {v!r} không tồn tại; dùng ví dụ \"Asia/Ho_Chi_Minh\""
            ) from exc
        return v

    @model_validator(mode="after")
    def _unique_mailboxes(self) -> Config:
        names = [m.name for m in self.mailbox]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"tên hộp thư phải khác nhau; bị trùng: {', '.join(sorted(dup))}")
        return self

    # ---- derived values -------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    @property
    def rules_path(self) -> Path:
        return self.path(self.rules_dir)

    @property
    def templates_path(self) -> Path:
        return self.path(self.templates_dir)

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    @property
    def resolved_database_url(self) -> str:
        """SQLite paths are made relative to the config file's folder, like every path."""
        url = self.database_url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix) :]))
        return url

    @property
    def message_id_domain(self) -> str:
        domain = self.office.message_id_domain or self.office.from_addr.rpartition("@")[2]
        return domain or "mailbot"


def _format_validation(exc: ValidationError, file: str) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "mục cấu hình không có; kiểm tra chính tả theo config.example.toml"
        elif err["type"] == "missing":
            msg = "mục này bắt buộc; xem config.example.toml"
        lines.append(f"[{loc}] {msg}")
    return ConfigError("cấu hình không hợp lệ:\n  " + "\n  ".join(lines), file=file)


def check_transport_security(config: Config) -> None:
    """Refuse plain-text IMAP/SMTP to a non-loopback host unless explicitly allowed."""
    for i, mb in enumerate(config.mailbox):
        if isinstance(mb, ImapMailbox) and mb.tls == "none" and not mb.allow_insecure:
            if not is_loopback(mb.host):
                raise ConfigError(
                    f"IMAP không mã hóa tới {mb.host} sẽ gửi mật khẩu dạng rõ; đặt "
                    'tls = "ssl" hoặc "starttls", hoặc allow_insecure = true nếu chấp nhận rủi ro',
                    file=config.source_file,
                    key=f"mailbox.{i}.tls",
                )
    smtp = config.smtp
    if isinstance(smtp, SmtpConfig) and smtp.tls == "none" and not smtp.allow_insecure:
        if not is_loopback(smtp.host):
            raise ConfigError(
                f"không cho phép SMTP không mã hóa tới {smtp.host}; đặt tls = \"ssl\" hoặc "
                "\"starttls\", hoặc allow_insecure = true nếu chấp nhận rủi ro",
                file=config.source_file,
                key="smtp.tls",
            )


def parse_config(data: dict[str, Any], *, file: str = "<config>", base_dir: Path) -> Config:
    try:
        config = Config.model_validate(
            {**data, "base_dir": str(base_dir), "source_file": file}
        )
    except ValidationError as exc:
        raise _format_validation(exc, file) from None
    check_transport_security(config)
    return config


DEMO_DIR_NAME = "mailbot-demo"


def default_config_path() -> Path:
    """$MAILBOT_CONFIG, else ./config.toml, else the demo's ./mailbot-demo/config.toml."""
    env = os.environ.get("MAILBOT_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    demo = Path.cwd() / DEMO_DIR_NAME / DEFAULT_CONFIG_NAME
    if not local.exists() and demo.exists():
        return demo
    return local


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file (default: $MAILBOT_CONFIG or ./config.toml)."""
    p = Path(path) if path else default_config_path()
    if not p.exists():
        raise ConfigError(
            "không tìm thấy tệp cấu hình; sao chép config.example.toml thành config.toml rồi "
            "sửa, hoặc dùng --config TỆP, hoặc đặt biến MAILBOT_CONFIG (chạy thử ngay: "
            "`mailbot demo`)",
            file=str(p),
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"không đúng cú pháp TOML: {exc}", file=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("tệp phải được lưu dạng UTF-8", file=str(p)) from None
    return parse_config(data, file=str(p), base_dir=p.resolve().parent)
