"""The configuration model: the example file is valid, errors name the key and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mailbot.config import PROJECT_DIR, Config, Secret, load_config, parse_config
from mailbot.errors import ConfigError


def test_example_config_is_valid_and_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(PROJECT_DIR / "config.example.toml")
    assert config.mailbox[0].unit == "KG"
    data = tomllib.loads((PROJECT_DIR / "config.example.toml").read_text(encoding="utf-8"))
    documented = set(data)
    # Every top-level setting of the model appears in the example (commented ones count).
    text = (PROJECT_DIR / "config.example.toml").read_text(encoding="utf-8")
    for name in Config.model_fields:
        if name in ("base_dir", "source_file", "smtp", "mailbox", "reminders"):
            continue
        assert name in documented or f"# {name}" in text or f"[{name}]" in text, name


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    f = tmp_path / "config.toml"
    f.write_text('poll_intervall = 10\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert str(f) in str(err.value) and "poll_intervall" in str(err.value)


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "config.toml"
    f.write_text('database_url = "x\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        load_config(f)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config.example.toml"):
        load_config(tmp_path / "nope.toml")


def test_plain_text_imap_refused_off_loopback(tmp_path: Path) -> None:
    mb = {"name": "a", "unit": "KG", "kind": "imap", "host": "mail.example.vn", "user": "u",
          "tls": "none", "password_env": "X"}
    with pytest.raises(ConfigError, match="allow_insecure"):
        parse_config({"mailbox": [mb]}, base_dir=tmp_path)
    parse_config({"mailbox": [{**mb, "host": "127.0.0.1"}]}, base_dir=tmp_path)
    parse_config({"mailbox": [{**mb, "allow_insecure": True}]}, base_dir=tmp_path)


def test_plain_text_smtp_refused_off_loopback(tmp_path: Path) -> None:
    smtp = {"kind": "smtp", "host": "smtp.example.vn", "tls": "none"}
    with pytest.raises(ConfigError, match="SMTP"):
        parse_config({"smtp": smtp}, base_dir=tmp_path)


def test_password_from_env_or_file_never_printed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MB_PW", "s3cret-value")
    mb = {"name": "a", "unit": "KG", "kind": "imap", "host": "127.0.0.1", "user": "u",
          "password_env": "MB_PW"}
    config = parse_config({"mailbox": [mb]}, base_dir=tmp_path)
    secret = config.mailbox[0].read_password("mailbox.0", tmp_path)  # type: ignore[union-attr]
    assert isinstance(secret, Secret) and secret.get() == "s3cret-value"
    assert "s3cret" not in repr(secret) and "s3cret" not in str(config)
    (tmp_path / "pw").write_text("from-file\n", encoding="utf-8")
    mb2 = {**mb, "password_env": None, "password_file": "pw"}
    config2 = parse_config({"mailbox": [mb2]}, base_dir=tmp_path)
    assert config2.mailbox[0].read_password("m", tmp_path).get() == "from-file"  # type: ignore[union-attr]
    monkeypatch.delenv("MB_PW")
    with pytest.raises(ConfigError, match="MB_PW"):
        config.mailbox[0].read_password("mailbox.0", tmp_path)  # type: ignore[union-attr]


def test_relative_sqlite_path_follows_the_config_file(tmp_path: Path) -> None:
    config = parse_config({"database_url": "sqlite:///db/x.db"}, base_dir=tmp_path)
    assert config.resolved_database_url == f"sqlite:///{tmp_path}/db/x.db"


def test_bad_timezone_and_time(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="timezone"):
        parse_config({"timezone": "Asia/Hanoi-City"}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="digest_time"):
        parse_config({"reminders": {"digest_time": "7h30"}}, base_dir=tmp_path)
