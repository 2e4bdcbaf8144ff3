"""Browser test: a mail arrives through the real mail path, a clerk triages, reclassifies,
replies (the reply reaches the SMTP sink exactly once), closes, and the citizen rates."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import AuditEvent, Dossier, Rating
from mailbot.users import create_user
from mailbot.web.app import create_app
from tests.servers.smtp import SmtpSink
from tests.web.browser import ServerThread, chromium_path, free_port, launch
from tests.web.seed import PASSWORD, make_config

sync_api = pytest.importorskip("playwright.sync_api")

CITIZEN = "tran.van.binh@example.org"
REPLY_TEXT = "Ông/Bà vui lòng mang bản án 12/2017/DS-ST đến Bộ phận một cửa ngày 05/12."


def _citizen_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Trần Văn Bình <{CITIZEN}>"
    msg["To"] = "thads.kiengiang@moj.gov.vn"
    msg["Subject"] = "Hỏi về việc thi hành bản án"
    msg["Message-ID"] = "<web-flow-1@example.org>"
    msg["Date"] = "Mon, 23 Nov 2026 09:15:00 +0700"
    msg.set_content(
        "Kính gửi Chi cục Thi hành án dân sự thành phố Rạch Giá,\n\n"
        "Tôi là Trần Văn Bình. Theo Bản án số 12/2017/DS-ST ngày 15/3/2017 của Tòa án nhân "
        "dân thành phố Rạch Giá, bên kia phải trả tôi 200 triệu đồng nhưng đến nay vẫn chưa "
        "trả. Chấp hành viên không tổ chức thi hành, tôi không đồng ý và đề nghị xem xét.\n\n"
        "Trân trọng,\nTrần Văn Bình\n"
    )
    return msg.as_bytes()


def _drain(engine: object, config: object) -> None:
    """Send the outbox, in another thread: Playwright's sync API owns this thread's loop."""
    from mailbot.send import drain_once

    with ThreadPoolExecutor(1) as pool:
        pool.submit(drain_once, engine, config).result()  # type: ignore[arg-type]


@pytest.fixture
def desk(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[dict[str, object]]:
    if chromium_path() is None:
        pytest.skip("Chromium is not installed: apt-get install chromium")
    maildir = mailbox.Maildir(tmp_path / "hop-thu", create=True)
    maildir.add(_citizen_mail())
    port = free_port()
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    config = make_config(
        tmp_path, url,
        mailbox=[{"name": "hop-thu", "unit": "KG", "kind": "maildir", "path": "hop-thu"}],
        smtp={"kind": "smtp", "host": smtp_sink.host, "port": smtp_sink.port, "tls": "none"},
        office={"public_url": f"http://127.0.0.1:{port}"},
    )
    engine = get_engine(url)
    create_schema(engine)
    with Session(engine) as s:
        create_user(s, "canbo", PASSWORD, role="clerk", units=["KG", "KG-RACHGIA", "AG"],
                    full_name="Nguyễn Thị Lan")
        s.commit()
    server = ServerThread(create_app(config, engine), port)
    server.start()
    yield {"config": config, "engine": engine, "url": server.url, "sink": smtp_sink}
    server.stop()


def test_triage_reply_close_and_rate_in_the_browser(desk: dict[str, object]) -> None:
    from mailbot.pipeline import poll_once
    config, engine, base = desk["config"], desk["engine"], str(desk["url"])
    sink: SmtpSink = desk["sink"]  # type: ignore[assignment]
    result = poll_once(config, engine)  # type: ignore[arg-type]
    assert not result.errors, result.errors
    with Session(engine) as s:  # type: ignore[arg-type]
        dossier = s.exec(select(Dossier)).one()
    code = dossier.code
    acks = len(sink.messages)

    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(base + "/ho-so")
        assert "/login" in page.url
        page.fill("input[name=username]", "canbo")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/ho-so$"))
        page.click(f"text={code}")
        page.wait_for_url(re.compile(f"/ho-so/{code}$"))
        assert "Vì sao phân loại như vậy" in page.content()

        # Triage: take it, then correct the type (recorded as a correction).
        page.click("button:has-text('Nhận xử lý')")
        page.wait_for_selector(".flash")
        page.select_option("select[name=request_type]", "yeu_cau_thi_hanh_an")
        page.click("button:has-text('Lưu phân loại')")
        page.wait_for_selector("text=Đã phân loại lại")

        # Reply: edit the suggested text, preview it, send it.
        page.click("a:has-text('Trả lời')")
        page.fill("textarea[name=body]", REPLY_TEXT)
        page.click("button[value=preview]")
        page.wait_for_selector(".preview pre")
        assert REPLY_TEXT in page.inner_text(".preview pre")
        assert code in page.inner_text(".preview")
        page.click("button[value=send]")
        page.wait_for_selector("text=Đã đưa thư trả lời vào hàng gửi")
        _drain(engine, config)
        replies = [m for m in sink.wait_for(acks + 1)
                   if REPLY_TEXT in m.message.get_body(("plain",)).get_content()]
        assert len(replies) == 1 and replies[0].rcpt_tos == (CITIZEN,)
        _drain(engine, config)
        assert len([m for m in sink.messages
                    if REPLY_TEXT in m.message.get_body(("plain",)).get_content()]) == 1

        # Close with a result; the closing mail carries the rating link.
        page.click("a:has-text('Đóng hồ sơ')")
        page.select_option("select[name=result]", "procedure_guidance")
        page.click("button[value=send]")
        page.wait_for_selector("text=Đã đóng hồ sơ")
        _drain(engine, config)
        closing = sink.wait_for(acks + 2)[-1].message.get_body(("plain",)).get_content()
        link = re.search(r"(http://127\.0\.0\.1:\d+/public/danh-gia/[\w-]+)\?muc=hai_long",
                         closing)
        assert link, closing

        # The citizen, not logged in, rates once; the link then no longer works.
        citizen = browser.new_context().new_page()
        citizen.goto(link.group(0))
        assert citizen.is_checked("input[value=hai_long]")
        citizen.fill("textarea[name=comment]", "Cán bộ hướng dẫn rõ ràng.")
        citizen.click("button[type=submit]")
        citizen.wait_for_selector("text=Cảm ơn Ông/Bà đã đánh giá")
        citizen.goto(link.group(1) + "?muc=rat_hai_long")
        assert "đã được đánh giá" in citizen.content()
        browser.close()

    with Session(engine) as s:  # type: ignore[arg-type]
        d = s.exec(select(Dossier).where(Dossier.code == code)).one()
        assert d.status == "da_dong" and d.request_type == "yeu_cau_thi_hanh_an"
        assert d.result == "procedure_guidance"
        rating = s.exec(select(Rating)).one()
        assert rating.level == "hai_long" and rating.used_at is not None
        actions = {(e.actor, e.action) for e in s.exec(
            select(AuditEvent).where(AuditEvent.dossier_id == d.id)).all()}
        assert ("user:canbo", "reclassified") in actions
        assert ("user:canbo", "closed") in actions
        assert ("user:canbo", "assigned") in actions
