"""Take the README's screenshots of the web desk (PNG in docs/) with Debian's Chromium.

    python docs/screenshots.py [OUT_DIR]

Builds a throw-away register (the personas and dossiers of the web tests, plus a hostile
mail shown as text), serves it on a loopback port and photographs the main pages at
1366×768 and on a phone-sized screen. Never downloads a browser.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlmodel import Session  # noqa: E402

from mailbot.db import create_schema, get_engine  # noqa: E402
from mailbot.web.app import create_app  # noqa: E402
from tests.web.browser import ServerThread, free_port, launch  # noqa: E402
from tests.web.seed import PASSWORD, add_dossier, make_config, seed  # noqa: E402

SHOTS = (
    # (file, path, viewport)
    ("web-hang-cho.png", "/ho-so", (1366, 768)),
    ("web-ho-so.png", "/ho-so/KG-2026-000001", (1366, 768)),
    ("web-tra-loi.png", "/ho-so/KG-2026-000001/thu/tra-loi", (1366, 768)),
    ("web-dien-thoai.png", "/ho-so", (390, 844)),
)


def take(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="mailbot-shots-"))
    url = f"sqlite:///{tmp / 'mailbot.db'}"
    config = make_config(tmp, url)
    engine = get_engine(url)
    create_schema(engine)
    seed(engine, config)
    with Session(engine) as s:
        add_dossier(s, "KG-2026-000005", unit="KG-RACHGIA", request_type="yeu_cau_thi_hanh_an",
                    subject="<script>alert(1)</script> Đơn yêu cầu thi hành án",
                    body="<img src=x onerror=alert(1)> Thư có mã độc được hiện như chữ.",
                    sender_name="Lê Thị Mai", sender="le.thi.mai@example.org")
        s.commit()
    server = ServerThread(create_app(config, engine), free_port())
    server.start()
    written = []
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(server.url + "/public/thu-tuc")
            page.screenshot(path=str(out_dir / "web-thu-tuc.png"))
            written.append(out_dir / "web-thu-tuc.png")
            page.goto(server.url + "/login")
            page.screenshot(path=str(out_dir / "web-dang-nhap.png"))
            written.append(out_dir / "web-dang-nhap.png")
            page.fill("input[name=username]", "lanhdao")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/ho-so")
            for name, path, (w, h) in SHOTS:
                page.set_viewport_size({"width": w, "height": h})
                page.goto(server.url + path)
                if path.endswith("tra-loi"):
                    page.click("button[value=preview]")
                    page.wait_for_selector(".preview pre")
                page.screenshot(path=str(out_dir / name))
                written.append(out_dir / name)
            browser.close()
    finally:
        server.stop()
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for p in take(target):
        print(p)
