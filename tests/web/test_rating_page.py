"""The public rating link: opening it records nothing, a vote counts once, links expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from mailbot import ratings
from mailbot.dossier.models import Dossier, Rating
from tests.web.conftest import csrf_of, login
from tests.web.seed import Seeded


def _issue(engine: Engine, code: str, *, days: int = 30, now: datetime | None = None) -> str:
    with Session(engine) as s:
        d = s.exec(select(Dossier).where(Dossier.code == code)).one()
        token = ratings.issue_rating(s, d, now=now, days=days)
        s.commit()
    return token


def test_a_rating_link_works_once_without_login(client: TestClient, seeded: Seeded,
                                               engine: Engine) -> None:
    token = _issue(engine, seeded.codes["rg"])
    url = f"/public/danh-gia/{token}"
    page = client.get(url, params={"muc": "rat_hai_long"})
    assert page.status_code == 200 and "Rất hài lòng" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    # Opening the link (as a mail scanner would) records nothing.
    with Session(engine) as s:
        assert s.exec(select(Rating)).one().used_at is None
    r = client.post(url, data={"csrf_token": csrf_of(page.text), "level": "rat_hai_long",
                               "comment": "Cảm ơn <b>cán bộ</b>"})
    assert r.status_code == 200 and "Cảm ơn Ông/Bà đã đánh giá" in r.text
    again = client.post(url, data={"csrf_token": csrf_of(page.text), "level": "chua_hai_long"})
    assert again.status_code == 410 and "đã được đánh giá" in again.text
    with Session(engine) as s:
        stored = s.exec(select(Rating)).one()
        assert stored.level == "rat_hai_long" and stored.comment == "Cảm ơn <b>cán bộ</b>"
    # Ratings feed the leader's statistics, never with a name.
    login(client, "lanhdao")
    report = client.get("/bao-cao").text
    assert "Rất hài lòng" in report and "<td>1</td>" in report


def test_an_expired_or_unknown_link_is_refused(client: TestClient, seeded: Seeded,
                                               engine: Engine) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    token = _issue(engine, seeded.codes["rg"], now=old, days=30)
    page = client.get(f"/public/danh-gia/{token}")
    assert page.status_code == 410 and "hết hạn" in page.text
    r = client.post(f"/public/danh-gia/{token}",
                    data={"csrf_token": csrf_of(client.get("/login").text), "level": "hai_long"})
    assert r.status_code == 410
    assert client.get("/public/danh-gia/khong-phai-ma-that").status_code == 410
    with Session(engine) as s:
        assert s.exec(select(Rating)).one().used_at is None


def test_a_rating_needs_a_level_and_the_form_token(client: TestClient, seeded: Seeded,
                                                   engine: Engine) -> None:
    token = _issue(engine, seeded.codes["rg"])
    page = client.get(f"/public/danh-gia/{token}")
    assert client.post(f"/public/danh-gia/{token}", data={"level": "hai_long"}).status_code == 403
    r = client.post(f"/public/danh-gia/{token}",
                    data={"csrf_token": csrf_of(page.text), "level": "tuyet_voi"})
    assert r.status_code == 400 and "Hãy chọn một mức đánh giá" in r.text
