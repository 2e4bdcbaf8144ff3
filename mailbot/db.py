"""Engine and sessions for SQLite (embedded default) and PostgreSQL (multi-worker)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, create_engine

from mailbot.dossier import (
    models,  # noqa: F401  (registers the tables)
    workflow,  # noqa: F401  (registers the report-date listener)
)
from mailbot.errors import ConfigError

_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the web desk read while the poller writes; busy_timeout waits instead of failing.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    if url in _engines:
        return _engines[url]
    if url.startswith("postgresql://"):
        url_driver = "postgresql+psycopg://" + url[len("postgresql://") :]
    else:
        url_driver = url
    # Statement parameters carry mail content: never put them in error messages or logs.
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if url_driver.startswith("sqlite:///") and ":memory:" not in url_driver:
        Path(url_driver[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    if url_driver.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url_driver, **kwargs)
    except Exception as exc:  # bad URL, missing driver
        raise ConfigError(
            f"không dùng được database_url {url!r}: {exc}; với PostgreSQL cần cài psycopg "
            "(pip install 'psycopg[binary]') và viết postgresql://user:pass@host/tên_csdl",
            key="database_url",
        ) from exc
    if url_driver.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    _engines[url] = engine
    return engine


def create_schema(engine: Engine) -> None:
    try:
        SQLModel.metadata.create_all(engine)
    except OperationalError as exc:
        raise ConfigError(
            f"không tạo được các bảng dữ liệu: {exc.orig}; kiểm tra database_url, thư mục "
            "chứa tệp và máy chủ CSDL đang chạy",
            key="database_url",
        ) from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
