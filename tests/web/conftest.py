"""Fixtures of the web tests: a configured app on a fresh database, seeded with personas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from mailbot.config import Config
from mailbot.web.app import create_app
from tests.web.seed import PASSWORD, Seeded, make_config, seed

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_config(tmp_path: Path, engine: Engine, db_url: str) -> Config:
    return make_config(tmp_path, db_url)


@pytest.fixture
def seeded(engine: Engine, web_config: Config) -> Seeded:
    return seed(engine, web_config)


@pytest.fixture
def client(engine: Engine, web_config: Config, seeded: Seeded) -> Iterator[TestClient]:
    app = create_app(web_config, engine)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in and return the session's CSRF token."""
    page = client.get("/login")
    token = csrf_of(page.text)
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token, "next": "/ho-so"})
    assert r.status_code == 303, r.text[:500]
    return csrf_of(client.get("/tai-khoan").text)
