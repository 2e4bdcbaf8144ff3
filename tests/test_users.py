"""Staff accounts: argon2 hashes, validation, password change, disabling and lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailbot.dossier.models import AuditEvent
from mailbot.users import (
    LOCK_AFTER,
    UserError,
    authenticate,
    create_user,
    get_user,
    set_disabled,
    set_password,
    verify_password,
)

GOOD = "mot-mat-khau-dai"


def test_it_stores_an_argon2_hash_never_the_password(engine: Engine) -> None:
    with Session(engine) as s:
        user = create_user(s, "Nguyen.Van.A", GOOD, role="clerk", units=["kg-rachgia, KG"])
        s.commit()
        assert user.username == "nguyen.van.a"
        assert user.password_hash.startswith("$argon2id$") and GOOD not in user.password_hash
        assert user.units == ["KG-RACHGIA", "KG"]
        assert verify_password(user.password_hash, GOOD)
        assert not verify_password(user.password_hash, GOOD + "x")
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "user_created")).one()


@pytest.mark.parametrize(
    ("username", "password", "role", "units", "message"),
    [
        ("a b", GOOD, "clerk", ["KG"], "tên đăng nhập"),
        ("canbo", "ngan", "clerk", ["KG"], "quá ngắn"),
        ("canbo", "canbo-12345678", "clerk", ["KG"], "không được chứa tên đăng nhập"),
        ("canbo", GOOD, "boss", ["KG"], "vai trò"),
        ("canbo", GOOD, "clerk", [], "ít nhất một đơn vị"),
    ],
)
def test_it_refuses_bad_accounts_with_a_vietnamese_reason(
        engine: Engine, username: str, password: str, role: str, units: list[str],
        message: str) -> None:
    with Session(engine) as s, pytest.raises(UserError, match=message):
        create_user(s, username, password, role=role, units=units)


def test_it_refuses_a_duplicate_username(engine: Engine) -> None:
    with Session(engine) as s:
        create_user(s, "canbo", GOOD, units=["KG"])
        s.commit()
        with pytest.raises(UserError, match="đã có"):
            create_user(s, "CANBO", GOOD, units=["KG"])


def test_lockout_after_repeated_failures_and_passwd_lifts_it(engine: Engine) -> None:
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with Session(engine) as s:
        create_user(s, "canbo", GOOD, units=["KG"])
        s.commit()
        for _ in range(LOCK_AFTER):
            assert authenticate(s, "canbo", "sai-mat-khau", now=now).user is None
        s.commit()
        locked = authenticate(s, "canbo", GOOD, now=now + timedelta(minutes=1))
        assert locked.user is None and "tạm khóa" in locked.message
        # After the lock runs out the right password works again and resets the counter.
        ok = authenticate(s, "canbo", GOOD, now=now + timedelta(hours=1))
        assert ok.user is not None and ok.user.failed_logins == 0
        for _ in range(LOCK_AFTER + 1):
            authenticate(s, "canbo", "sai-mat-khau", now=now + timedelta(hours=2))
        user = get_user(s, "canbo")
        assert user is not None and user.locked_until is not None
        set_password(s, "canbo", "mat-khau-moi-hon")
        s.commit()
        assert authenticate(s, "canbo", "mat-khau-moi-hon",
                            now=now + timedelta(hours=2)).user is not None


def test_a_disabled_account_cannot_log_in(engine: Engine) -> None:
    with Session(engine) as s:
        create_user(s, "canbo", GOOD, units=["KG"])
        set_disabled(s, "canbo", True)
        s.commit()
        result = authenticate(s, "canbo", GOOD)
        assert result.user is None and "vô hiệu hóa" in result.message
        set_disabled(s, "canbo", False)
        assert authenticate(s, "canbo", GOOD).user is not None


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(engine: Engine) -> None:
    with Session(engine) as s:
        create_user(s, "canbo", GOOD, units=["KG"])
        s.commit()
        unknown = authenticate(s, "khongco", GOOD)
        wrong = authenticate(s, "canbo", "sai-mat-khau")
        assert unknown.user is None and wrong.user is None
        assert unknown.message == wrong.message


def test_the_cli_adds_changes_and_disables_users(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from mailbot.cli import cli

    config = tmp_path / "config.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "m.db"}"\ndata_dir = "var"\n',
                      encoding="utf-8")
    runner = CliRunner()
    base = ["--config", str(config), "users"]
    r = runner.invoke(cli, [*base, "add", "canbo", "--unit", "KG-RACHGIA", "--name",
                            "Nguyễn Thị Lan", "--password-stdin"], input=GOOD + "\n")
    assert r.exit_code == 0, r.output
    assert "Đã tạo tài khoản canbo" in r.output
    r = runner.invoke(cli, [*base, "passwd", "canbo", "--password-stdin"],
                      input="mat-khau-thu-hai\n")
    assert r.exit_code == 0 and "Đã đổi mật khẩu" in r.output
    r = runner.invoke(cli, [*base, "disable", "canbo"])
    assert r.exit_code == 0 and "vô hiệu hóa" in r.output
    r = runner.invoke(cli, [*base, "list", "--json"])
    assert '"disabled": true' in r.output and '"KG-RACHGIA"' in r.output
    r = runner.invoke(cli, [*base, "add", "canbo", "--unit", "KG", "--password-stdin"],
                      input=GOOD + "\n")
    assert r.exit_code != 0
