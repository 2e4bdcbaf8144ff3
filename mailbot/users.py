"""Staff accounts of the web desk: create, change password, disable, and check a login.

Passwords are hashed with argon2id (argon2-cffi); repeated wrong passwords lock the account
for a while (``User.failed_logins``, ``User.locked_until``) so guessing is slow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import update
from sqlmodel import Session, select

from mailbot.dossier.models import AuditEvent, User
from mailbot.errors import MailbotError

ROLES = ("clerk", "leader", "admin")
ROLE_LABELS = {"clerk": "Cán bộ tiếp nhận", "leader": "Lãnh đạo", "admin": "Quản trị"}
# A user whose units contain "*" sees every unit (the Cục's province-wide roles).
ALL_UNITS = "*"
MIN_PASSWORD_LENGTH = 10
# After this many wrong passwords in a row the account is locked; each further miss doubles it.
LOCK_AFTER = 5
LOCK_MINUTES = 15
MAX_LOCK_MINUTES = 24 * 60

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()
# Verified when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("mailbot-dummy-password")


def now_utc() -> datetime:
    """Aware UTC: sqlmodel's datetime columns refuse naive values."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """Read-back datetimes may be naive on SQLite: they are UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class UserError(MailbotError):
    """A user account could not be created or changed (the message says why and what to do)."""


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a login attempt: the user on success, else why not (Vietnamese message)."""

    user: User | None
    message: str = ""
    locked_until: datetime | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"mật khẩu quá ngắn: cần ít nhất {MIN_PASSWORD_LENGTH} ký tự; hãy chọn một cụm "
            "từ dễ nhớ nhưng khó đoán"
        )
    if username and username.lower() in password.lower():
        raise UserError("mật khẩu không được chứa tên đăng nhập; hãy chọn mật khẩu khác")


def normalise_units(units: list[str] | tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for u in units:
        for part in u.split(","):
            code = part.strip().upper() if part.strip() != ALL_UNITS else ALL_UNITS
            if code and code not in out:
                out.append(code)
    return out


def get_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def _audit(session: Session, actor: str, action: str, **detail: object) -> None:
    session.add(AuditEvent(dossier_id=None, at=now_utc(), actor=actor, action=action,
                           detail=dict(detail)))


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str = "clerk",
    units: list[str] | tuple[str, ...] = (),
    full_name: str = "",
    email: str = "",
    kntc: bool = False,
    actor: str = "system",
) -> User:
    """Add a staff account; the caller commits."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise UserError(
            f"tên đăng nhập {username!r} không hợp lệ: dùng 2–64 ký tự thường không dấu, số, "
            "dấu chấm, gạch dưới hoặc gạch ngang, ví dụ nguyen.van.a"
        )
    if role not in ROLES:
        raise UserError(f"vai trò {role!r} không hợp lệ; chọn một trong: {', '.join(ROLES)}")
    if get_user(session, username) is not None:
        raise UserError(f"tên đăng nhập {username} đã có; chọn tên khác hoặc dùng `users passwd`")
    check_password_strength(password, username)
    unit_list = normalise_units(list(units))
    if role == "clerk" and not unit_list:
        raise UserError("cán bộ tiếp nhận cần ít nhất một đơn vị (--unit KG, --unit KG-RACHGIA…)")
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=email.strip(),
        password_hash=hash_password(password),
        role=role,
        units=unit_list,
        kntc=kntc,
        created_at=now_utc(),
    )
    session.add(user)
    session.flush()
    _audit(session, actor, "user_created", username=username, role=role, units=unit_list)
    return user


def _require(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise UserError(
            f"không có người dùng {username!r}; xem danh sách bằng `mailbot users list`"
        )
    return user


def set_password(session: Session, username: str, password: str, *, actor: str = "system") -> User:
    """Change a password; also lifts a lockout."""
    user = _require(session, username)
    check_password_strength(password, user.username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    _audit(session, actor, "user_password_changed", username=user.username)
    return user


def set_disabled(
    session: Session, username: str, disabled: bool = True, *, actor: str = "system"
) -> User:
    user = _require(session, username)
    user.disabled = disabled
    session.add(user)
    _audit(session, actor, "user_disabled" if disabled else "user_enabled",
           username=user.username)
    return user


def update_user(
    session: Session,
    username: str,
    *,
    role: str | None = None,
    units: list[str] | None = None,
    kntc: bool | None = None,
    full_name: str | None = None,
    email: str | None = None,
    actor: str = "system",
) -> User:
    user = _require(session, username)
    if role is not None:
        if role not in ROLES:
            raise UserError(f"vai trò {role!r} không hợp lệ; chọn một trong: {', '.join(ROLES)}")
        user.role = role
    if units is not None:
        user.units = normalise_units(units)
    if kntc is not None:
        user.kntc = kntc
    if full_name is not None:
        user.full_name = full_name.strip()
    if email is not None:
        user.email = email.strip()
    session.add(user)
    _audit(session, actor, "user_updated", username=user.username, role=user.role,
           units=list(user.units), kntc=user.kntc)
    return user


def authenticate(
    session: Session, username: str, password: str, *, now: datetime | None = None
) -> LoginResult:
    """Check a login; counts failures and locks the account after LOCK_AFTER misses."""
    now = aware(now) or now_utc()
    user = get_user(session, username) if username else None
    generic = "Tên đăng nhập hoặc mật khẩu không đúng."
    if user is None:
        verify_password(_DUMMY_HASH, password)
        _audit(session, "anonymous", "login_failed", reason="unknown_user")
        return LoginResult(None, generic)
    actor = f"user:{user.username}"
    locked_until = aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        _audit(session, actor, "login_refused", reason="locked")
        return LoginResult(None, "Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần. "
                           "Hãy thử lại sau hoặc nhờ quản trị viên đặt lại mật khẩu.",
                           locked_until)
    if not verify_password(user.password_hash, password):
        # Counted in the database, not in Python: parallel guesses each count.
        session.exec(  # type: ignore[call-overload]
            update(User).where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
        )
        session.refresh(user)
        if user.failed_logins >= LOCK_AFTER:
            extra = user.failed_logins - LOCK_AFTER
            minutes = min(MAX_LOCK_MINUTES, LOCK_MINUTES * (2 ** min(extra, 10)))
            user.locked_until = now + timedelta(minutes=minutes)
        session.add(user)
        _audit(session, actor, "login_failed", reason="wrong_password",
               failed_logins=user.failed_logins)
        return LoginResult(None, generic, user.locked_until)
    if user.disabled:
        _audit(session, actor, "login_refused", reason="disabled")
        return LoginResult(None, "Tài khoản đã bị vô hiệu hóa. Hãy liên hệ quản trị viên.")
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    _audit(session, actor, "login")
    return LoginResult(user)
