"""Give each test its own empty PostgreSQL schema, reached through a URL that selects it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from psycopg import sql

ENV = "MAILBOT_TEST_PG_URL"


def _libpq(url: str) -> str:
    # psycopg understands postgresql:// URLs; SQLAlchemy-style driver suffixes it does not.
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def check_reachable(url: str) -> str | None:
    """None when a connection works, else the reason (for a skip or failure message)."""
    try:
        with psycopg.connect(_libpq(url), connect_timeout=5):
            return None
    except psycopg.Error as exc:
        return str(exc).strip()


@contextmanager
def throwaway_schema(url: str) -> Iterator[str]:
    """Create an empty schema and yield a URL whose connections use it (search_path).

    A schema per test isolates tests from each other and from other test runs sharing
    the database, and is much faster than CREATE DATABASE. Dropped afterwards.
    """
    name = f"mbt_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={name}', safe='')}"
    finally:
        drop_schema(url, name)


def drop_schema(url: str, name: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        # A connection a test left open would block DROP forever; give up after a while
        # instead and leave the schema behind (named mbt_*, harmless).
        conn.execute("SET lock_timeout = '15s'")
        try:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        except psycopg.errors.LockNotAvailable:
            pass
