"""Security of the web desk over HTTP: login everywhere, unit scoping, CSRF, inert mail, files."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.routing import Route
from starlette.testclient import TestClient

from mailbot.dossier.models import AuditEvent, Dossier, OutboxItem, User
from mailbot.errors import ConfigError
from mailbot.web.app import load_secret
from tests.web.conftest import csrf_of, login
from tests.web.seed import PASSWORD, Seeded, add_dossier, make_config

PUBLIC_PREFIXES = ("/public/", "/login", "/static", "/robots.txt")


def _concrete(path: str, seeded: Seeded) -> str:
    return (path.replace("{code}", seeded.codes["rg"]).replace("{kind}", "tra-loi")
            .replace("{att}", str(seeded.attachments["rg"])).replace("{qid}", "1")
            .replace("{mid}", "1").replace("{token}", "x" * 32))


def test_every_page_needs_login_except_public_ones(client: TestClient, seeded: Seeded) -> None:
    checked = 0
    for route in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or route.path == "/":
            continue
        path = _concrete(route.path, seeded)
        public = route.path.startswith(PUBLIC_PREFIXES)
        if "GET" in (route.methods or set()):
            r = client.get(path)
            if public:
                assert r.status_code in (200, 410), path
            else:
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
                checked += 1
        else:
            # POST-only routes: without a session there is no CSRF token, so nothing passes.
            r = client.post(path, data={"csrf_token": "nope"})
            assert r.status_code == 403, path
            checked += 1
    assert checked >= 15


def test_a_clerk_sees_only_the_dossiers_of_their_units(client: TestClient,
                                                      seeded: Seeded) -> None:
    login(client, "canbo.rg")
    inbox = client.get("/ho-so").text
    assert seeded.codes["rg"] in inbox
    assert seeded.codes["ht"] not in inbox
    # URL guessing answers as if the dossier did not exist.
    assert client.get(f"/ho-so/{seeded.codes['ht']}").status_code == 404
    assert client.get("/ho-so/KG-2026-999999").status_code == 404
    # Searching for the other unit's code or sender finds nothing.
    assert seeded.codes["ht"] not in client.get("/ho-so", params={"q": "ha.tien"}).text
    assert seeded.codes["ht"] not in client.get(
        "/ho-so", params={"don_vi": "KG-HATIEN"}).text


def test_a_clerk_cannot_act_on_another_units_dossier(client: TestClient, seeded: Seeded,
                                                     engine: Engine) -> None:
    token = login(client, "canbo.rg")
    code = seeded.codes["ht"]
    attempts = [
        (f"/ho-so/{code}/phan-loai", {"request_type": "khieu_nai"}),
        (f"/ho-so/{code}/giao", {"user_id": "me"}),
        (f"/ho-so/{code}/don-vi", {"unit": "KG-RACHGIA"}),
        (f"/ho-so/{code}/thu/tra-loi", {"action": "send", "body": "x", "result": "answer"}),
        (f"/ho-so/{code}/thu/dong", {"action": "send", "result": "answer", "send_mail": "1",
                                     "body": "x"}),
    ]
    for path, data in attempts:
        r = client.post(path, data={**data, "csrf_token": token})
        assert r.status_code == 404, path
    with Session(engine) as s:
        d = s.exec(select(Dossier).where(Dossier.code == code)).one()
        assert (d.request_type, d.assigned_to, d.handling_unit, d.status) == (
            "yeu_cau_thi_hanh_an", None, "KG-HATIEN", "da_tiep_nhan")
        assert s.exec(select(OutboxItem)).all() == []


def test_attachments_of_another_unit_cannot_be_fetched(client: TestClient,
                                                       seeded: Seeded) -> None:
    login(client, "canbo.ht")
    att = seeded.attachments["rg"]
    assert client.get(f"/ho-so/{seeded.codes['rg']}/tep/{att}").status_code == 404
    # Nor through a dossier the clerk may see.
    assert client.get(f"/ho-so/{seeded.codes['ht']}/tep/{att}").status_code == 404


def test_to_cao_is_visible_only_to_leaders_and_kntc_staff(client: TestClient,
                                                         seeded: Seeded) -> None:
    code = seeded.codes["tc"]
    login(client, "canbo.rg")
    assert code not in client.get("/ho-so").text
    assert client.get(f"/ho-so/{code}").status_code == 404
    client.cookies.clear()
    login(client, "kntc.rg")
    assert client.get(f"/ho-so/{code}").status_code == 200
    client.cookies.clear()
    login(client, "lanhdao")
    assert code in client.get("/ho-so").text


def test_a_form_posted_without_the_csrf_token_is_refused(client: TestClient, seeded: Seeded,
                                                        engine: Engine) -> None:
    login(client, "canbo.rg")
    code = seeded.codes["rg"]
    r = client.post(f"/ho-so/{code}/phan-loai", data={"request_type": "khieu_nai"})
    assert r.status_code == 403
    assert "Biểu mẫu không hợp lệ" in r.text
    r = client.post(f"/ho-so/{code}/phan-loai",
                    data={"request_type": "khieu_nai", "csrf_token": "sai" * 12})
    assert r.status_code == 403
    # A token from another site's origin is refused even with the right token.
    token = csrf_of(client.get("/tai-khoan").text)
    r = client.post(f"/ho-so/{code}/phan-loai", headers={"Origin": "https://evil.example"},
                    data={"request_type": "khieu_nai", "csrf_token": token})
    assert r.status_code == 403
    with Session(engine) as s:
        assert s.exec(select(Dossier).where(Dossier.code == code)).one().request_type == "hoi_dap"
    # Login and logout forms are protected too.
    client.cookies.clear()
    r = client.post("/login", data={"username": "canbo.rg", "password": PASSWORD})
    assert r.status_code == 403


HOSTILE = {
    "script": "<script>alert('x')</script>",
    "handler": '<img src="http://tracker.example/p.gif" onerror="alert(1)">',
    "js_link": '<a href="javascript:alert(1)">bấm vào đây</a>',
    "css": "<style>body{display:none}</style><div style=\"position:fixed;top:0\">giả</div>",
    "rtl": "hoa-don\u202egpj.exe",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "entity": "&lt;script&gt;already escaped&lt;/script&gt;",
}


def test_hostile_mail_shows_as_inert_text(client: TestClient, seeded: Seeded,
                                         engine: Engine) -> None:
    body = "\n".join(HOSTILE.values())
    # As long as the register keeps (the pipeline cuts longer subjects); the body is huge.
    huge = HOSTILE["script"] + "Tiêu đề rất dài " * 200
    with Session(engine) as s:
        add_dossier(s, "KG-2026-000666", unit="KG-RACHGIA", subject=huge,
                    body=body + "\n" + "Dòng thư rất dài. " * 20000,
                    sender_name='"><script>alert(2)</script>', refs=["<b>1</b>/2017/DS-ST"])
        s.commit()
    login(client, "canbo.rg")
    for page in (client.get("/ho-so").text, client.get("/ho-so/KG-2026-000666").text,
                 client.get("/ho-so", params={"q": "Tiêu đề rất dài"}).text):
        assert "<script" not in page.lower()
        assert "<img" not in page.lower() and "<iframe" not in page.lower()
        assert "<style" not in page.lower() and ' style="' not in page
        assert 'href="javascript:' not in page.lower()
        assert "\u202e" not in page
    detail = client.get("/ho-so/KG-2026-000666").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in detail
    assert "onerror=&#34;alert(1)&#34;" in detail
    assert "hoa-don[U+202E]gpj.exe" in detail
    # Text that was already an entity is shown as typed, not decoded into markup.
    assert "&amp;lt;script&amp;gt;already escaped" in detail
    # The huge subject is clipped in the queue.
    inbox = client.get("/ho-so").text
    assert "Tiêu đề rất dài" in inbox and len(inbox) < 40_000


def test_attachment_names_are_neutralised_and_served_as_downloads(
        client: TestClient, seeded: Seeded) -> None:
    login(client, "canbo.rg")
    r = client.get(f"/ho-so/{seeded.codes['rg']}/tep/{seeded.attachments['rg']}")
    assert r.status_code == 200
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition.split("filename*=")[0].replace("attachment;", "")
    assert ".." not in disposition and "%2F" not in disposition and "\u202e" not in disposition
    assert "%E2%80%AE" not in disposition  # the RTL override is gone, even percent-encoded
    # Declared text/html is never served as such.
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content == b"%PDF-1.4 test\n"


def test_pages_carry_security_headers_and_no_inline_script(client: TestClient,
                                                          seeded: Seeded) -> None:
    assert "<script" not in client.get("/login").text
    login(client, "lanhdao")
    for path in ("/public/thu-tuc", "/public/don-vi", "/ho-so", f"/ho-so/{seeded.codes['rg']}",
                 f"/ho-so/{seeded.codes['rg']}/thu/tra-loi", "/cach-ly", "/thu-loc", "/bao-cao"):
        r = client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in r.text and " style=" not in r.text and " on" + "click" not in r.text


def test_a_session_expires_after_the_configured_idle_time(client: TestClient,
                                                         seeded: Seeded) -> None:
    login(client, "canbo.rg")
    assert client.get("/ho-so").status_code == 200
    minutes = client.app.state.config.web.session_minutes  # type: ignore[attr-defined]
    with time_machine.travel(timedelta(minutes=minutes + 1), tick=False):
        r = client.get("/ho-so")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_repeated_wrong_passwords_lock_the_account(client: TestClient, seeded: Seeded,
                                                  engine: Engine) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        r = client.post("/login", data={"username": "canbo.ht", "password": "sai-mat-khau-1",
                                        "csrf_token": token})
        assert r.status_code == 401
        assert "không đúng" in r.text
    r = client.post("/login", data={"username": "canbo.ht", "password": PASSWORD,
                                    "csrf_token": token})
    assert r.status_code == 401 and "tạm khóa" in r.text
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == "canbo.ht")).one()
        assert user.failed_logins == 5 and user.locked_until is not None
        actions = [e.action for e in s.exec(select(AuditEvent).where(
            AuditEvent.actor == "user:canbo.ht")).all()]
        assert actions.count("login_failed") == 5 and "login_refused" in actions


def test_leader_pages_are_refused_to_clerks(client: TestClient, seeded: Seeded) -> None:
    login(client, "canbo.rg")
    for path in ("/cach-ly", "/thu-loc", "/bao-cao", "/quan-tri/nguoi-dung"):
        assert client.get(path).status_code == 403, path


def test_login_redirects_only_to_local_pages(client: TestClient, seeded: Seeded) -> None:
    page = client.get("/login", params={"next": "https://evil.example/"})
    token = csrf_of(page.text)
    r = client.post("/login", data={"username": "canbo.rg", "password": PASSWORD,
                                    "csrf_token": token, "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/ho-so"


def test_a_password_change_ends_other_sessions(client: TestClient, seeded: Seeded,
                                               engine: Engine) -> None:
    login(client, "canbo.rg")
    other = TestClient(client.app, base_url="http://127.0.0.1:8000", follow_redirects=False)
    login(other, "canbo.rg")
    token = csrf_of(client.get("/tai-khoan").text)
    r = client.post("/tai-khoan", data={"csrf_token": token, "old_password": PASSWORD,
                                        "new_password": "mat-khau-moi-2026",
                                        "new_password2": "mat-khau-moi-2026"})
    assert r.status_code == 303
    assert client.get("/ho-so").status_code == 200
    assert other.get("/ho-so").status_code == 303


def test_rating_tokens_are_stored_hashed(client: TestClient, seeded: Seeded,
                                         engine: Engine) -> None:
    token = login(client, "canbo.rg")
    code = seeded.codes["rg"]
    r = client.post(f"/ho-so/{code}/thu/dong", data={
        "csrf_token": token, "action": "send", "result": "answer", "send_mail": "1",
        "body": "Hồ sơ đã giải quyết xong."})
    assert r.status_code == 303
    with Session(engine) as s:
        item = s.exec(select(OutboxItem).where(OutboxItem.kind == "closing")).one()
        raw = item.raw.decode("utf-8", "replace")
    import email
    from email import policy

    msg = email.message_from_string(raw, policy=policy.default)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    m = re.search(r"/public/danh-gia/([A-Za-z0-9_-]{20,})\?muc=hai_long", text)
    assert m, text
    rating_token = m.group(1)
    from mailbot.dossier.models import Rating

    with Session(engine) as s:
        stored = s.exec(select(Rating)).one()
        assert stored.token_hash == hashlib.sha256(rating_token.encode()).hexdigest()
        assert rating_token not in (stored.token_hash, stored.comment)


def test_a_bad_session_key_setting_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILBOT_TEST_WEB_KEY", "ngắn")
    cfg = make_config(tmp_path, "sqlite://", web={"secret_env": "MAILBOT_TEST_WEB_KEY"})
    with pytest.raises(ConfigError, match="biến môi trường MAILBOT_TEST_WEB_KEY") as err:
        load_secret(cfg)
    assert "openssl rand -hex 32" in str(err.value) and "web.secret_env" in str(err.value)
    (tmp_path / "key.txt").write_text("abc\n", encoding="utf-8")
    cfg = make_config(tmp_path, "sqlite://", web={"secret_file": str(tmp_path / "key.txt")})
    with pytest.raises(ConfigError, match="ít nhất 32 ký tự"):
        load_secret(cfg)
    cfg = make_config(tmp_path, "sqlite://", web={"secret_file": str(tmp_path / "none.txt")})
    with pytest.raises(ConfigError, match="không đọc được tệp khóa phiên"):
        load_secret(cfg)
