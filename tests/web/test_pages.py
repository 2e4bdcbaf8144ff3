"""The desk's pages do their job: filters and counts, dossier details, actions, public pages."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from mailbot.dossier.models import AuditEvent, Dossier, MailMessage, Quarantined
from tests.web.conftest import login
from tests.web.seed import Seeded, now


def test_the_inbox_filters_searches_and_flags_overdue(client: TestClient,
                                                     seeded: Seeded) -> None:
    login(client, "canbo.rg")
    page = client.get("/ho-so").text
    assert 'class="overdue' in page and "quá hạn" in page
    assert "Cần phân loại <b>1</b>" in page
    overdue = client.get("/ho-so", params={"han": "overdue"}).text
    assert seeded.codes["late"] in overdue and seeded.codes["rg"] not in overdue
    triage = client.get("/ho-so", params={"can_phan_loai": "1"}).text
    assert seeded.codes["rg"] in triage and seeded.codes["late"] not in triage
    # Search by judgment number, including its Vietnamese letters, and by code.
    for q in ("12/2017/DS-ST", "QĐST-KDTM", "000004", "tiến độ vụ việc"):
        found = client.get("/ho-so", params={"q": q}).text
        assert "hồ sơ." in found
        assert (seeded.codes["rg"] in found) or (seeded.codes["late"] in found), q
    mine = client.get("/ho-so", params={"cua_toi": "1"}).text
    assert "0 hồ sơ." in mine


def test_the_dossier_page_explains_and_records_actions(client: TestClient, seeded: Seeded,
                                                      engine: Engine) -> None:
    token = login(client, "canbo.rg")
    code = seeded.codes["rg"]
    page = client.get(f"/ho-so/{code}").text
    assert "Vì sao phân loại như vậy" in page and "hoi_dap.tien_do" in page
    assert "12/2017/DS-ST" in page and "124/2025/QĐST-KDTM" in page
    assert client.post(f"/ho-so/{code}/giao", data={"csrf_token": token, "user_id": "me"}
                       ).status_code == 303
    r = client.post(f"/ho-so/{code}/phan-loai",
                    data={"csrf_token": token, "request_type": "xac_nhan_ket_qua"})
    assert r.status_code == 303
    # A clerk cannot hand the dossier to someone else.
    r = client.post(f"/ho-so/{code}/giao", data={"csrf_token": token, "user_id": "1"})
    assert r.status_code == 403
    with Session(engine) as s:
        d = s.exec(select(Dossier).where(Dossier.code == code)).one()
        assert d.request_type == "xac_nhan_ket_qua" and d.assigned_to == seeded.users["canbo.rg"]
        events = s.exec(select(AuditEvent).where(AuditEvent.dossier_id == d.id)).all()
        assert {(e.actor, e.action) for e in events} >= {
            ("user:canbo.rg", "assigned"), ("user:canbo.rg", "reclassified")}
    history = client.get(f"/ho-so/{code}").text
    assert "Phân loại lại" in history and "user:canbo.rg" in history


def test_a_leader_reassigns_and_sees_quarantine_and_filtered_mail(
        client: TestClient, seeded: Seeded, engine: Engine) -> None:
    t = now()
    with Session(engine) as s:
        s.add(Quarantined(mailbox="hop-thu", source_ref="42", stage="parse",
                          reason="MIME hỏng <script>", raw=b"Subject: =?x?q?hong?=\r\n\r\n",
                          raw_sha256="0" * 64, at=t))
        s.add(MailMessage(direction="in", message_id="<spam@x>", dedupe_key="s" * 64,
                          subject="Vay tiền nhanh <b>0%</b>", from_addr="spam@x.example",
                          disposition="thu_rac", body_text="Bấm vào đây", raw=b"x",
                          received_at=t))
        s.commit()
    token = login(client, "lanhdao")
    code = seeded.codes["ht"]
    r = client.post(f"/ho-so/{code}/giao",
                    data={"csrf_token": token, "user_id": str(seeded.users["canbo.ht"])})
    assert r.status_code == 303
    # Someone who cannot see the dossier cannot be given it.
    r = client.post(f"/ho-so/{code}/giao",
                    data={"csrf_token": token, "user_id": str(seeded.users["canbo.rg"])})
    assert r.status_code == 400
    # Rejected and filtered mail have no dossier: the mailbox's unit decides who sees them. A
    # district leader does not see the province's; a province-wide account does.
    assert "MIME hỏng" not in client.get("/cach-ly").text
    assert "Vay tiền nhanh" not in client.get("/thu-loc").text
    client.cookies.clear()
    login(client, "quantri")
    quarantine = client.get("/cach-ly").text
    assert "MIME hỏng &lt;script&gt;" in quarantine
    filtered = client.get("/thu-loc").text
    assert "Vay tiền nhanh &lt;b&gt;0%&lt;/b&gt;" in filtered and "Thư rác <b>1</b>" in filtered


def test_an_admin_manages_users_in_the_browser_form(client: TestClient, seeded: Seeded) -> None:
    token = login(client, "quantri")
    r = client.post("/quan-tri/nguoi-dung", data={
        "csrf_token": token, "op": "create", "username": "canbo.moi", "full_name": "Cán bộ mới",
        "role": "clerk", "units": "KG-HATIEN", "password": "mat-khau-ban-dau"})
    assert r.status_code == 303
    page = client.get("/quan-tri/nguoi-dung").text
    assert "canbo.moi" in page
    r = client.post("/quan-tri/nguoi-dung", data={
        "csrf_token": token, "op": "create", "username": "x y", "role": "clerk",
        "units": "KG", "password": "mat-khau-ban-dau"})
    assert r.status_code == 200 and "không hợp lệ" in r.text


def test_public_pages_list_procedures_and_contacts(client: TestClient) -> None:
    procedures = client.get("/public/thu-tuc").text
    for text in ("Yêu cầu thi hành án", "Yêu cầu xác nhận kết quả thi hành án",
                 "Khiếu nại về thi hành án", "Điều 36 Luật Thi hành án dân sự", "Hồ sơ gồm"):
        assert text in procedures
    units = client.get("/public/don-vi").text
    assert "Chi cục Thi hành án dân sự thành phố Rạch Giá" in units
    assert "Cán bộ đầu mối" in units


def test_a_suggested_reply_is_not_sent_before_the_clerk_fills_it_in(
        client: TestClient, seeded: Seeded, engine: Engine) -> None:
    from mailbot.dossier.models import OutboxItem

    token = login(client, "canbo.rg")
    code = seeded.codes["rg"]
    form = client.get(f"/ho-so/{code}/thu/tra-loi").text
    assert "[Cán bộ ghi nội dung trả lời" in form
    body = "Về yêu cầu của Ông/Bà:\n[Cán bộ ghi nội dung trả lời tại đây.]"
    r = client.post(f"/ho-so/{code}/thu/tra-loi", data={
        "csrf_token": token, "action": "send", "result": "answer", "body": body})
    assert r.status_code == 200 and "trước khi gửi" in r.text
    preview = client.post(f"/ho-so/{code}/thu/tra-loi", data={
        "csrf_token": token, "action": "preview", "result": "answer",
        "body": "Hồ sơ <b>đầy đủ</b>, mời Ông/Bà đến nộp."})
    assert "Hồ sơ &lt;b&gt;đầy đủ&lt;/b&gt;" in preview.text and code in preview.text
    with Session(engine) as s:
        assert s.exec(select(OutboxItem).where(OutboxItem.kind == "reply")).all() == []


def test_supplement_and_forward_go_through_the_outbox(client: TestClient, seeded: Seeded,
                                                      engine: Engine) -> None:
    from mailbot.dossier.models import OutboxItem

    token = login(client, "canbo.rg")
    code = seeded.codes["rg"]
    r = client.post(f"/ho-so/{code}/thu/bo-sung", data={
        "csrf_token": token, "action": "send", "body": "Xin gửi bản sao bản án."})
    assert r.status_code == 303
    assert client.post(f"/ho-so/{code}/tiep-tuc", data={"csrf_token": token}).status_code == 303
    r = client.post(f"/ho-so/{code}/thu/chuyen", data={
        "csrf_token": token, "action": "send", "target_unit": "",
        "target_agency": "Cục THADS tỉnh An Giang", "body": "Đơn đã được chuyển."})
    assert r.status_code == 303
    with Session(engine) as s:
        d = s.exec(select(Dossier).where(Dossier.code == code)).one()
        assert d.status == "da_chuyen" and d.forwarded_to == "Cục THADS tỉnh An Giang"
        kinds = [o.kind for o in s.exec(select(OutboxItem).order_by(OutboxItem.id)).all()]
        assert kinds == ["supplement", "forward_notice"]
        actions = [e.action for e in s.exec(select(AuditEvent).where(
            AuditEvent.dossier_id == d.id, AuditEvent.actor == "user:canbo.rg")).all()]
        assert {"paused", "resumed", "forwarded"} <= set(actions)


def test_the_same_reply_form_sent_twice_queues_one_mail(client: TestClient, seeded: Seeded,
                                                        engine: Engine) -> None:
    import re

    from mailbot.dossier.models import OutboxItem

    token = login(client, "canbo.rg")
    code = seeded.codes["rg"]
    form = client.get(f"/ho-so/{code}/thu/tra-loi").text
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', form)
    assert nonce is not None
    data = {"csrf_token": token, "action": "send", "result": "answer", "nonce": nonce.group(1),
            "body": "Mời Ông/Bà đến Bộ phận một cửa nộp đơn."}
    assert client.post(f"/ho-so/{code}/thu/tra-loi", data=data).status_code == 303
    again = client.post(f"/ho-so/{code}/thu/tra-loi", data=data, follow_redirects=True)
    assert "đã được gửi trước đó" in again.text
    with Session(engine) as s:
        assert len(s.exec(select(OutboxItem).where(OutboxItem.kind == "reply")).all()) == 1
