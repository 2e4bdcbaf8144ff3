"""The pipeline's decisions on one mail, with a Maildir source, SQLite and a directory sink."""

from __future__ import annotations

import email
import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.attachments import store_path
from mailbot.config import Config, parse_config
from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import (
    Attachment,
    AuditEvent,
    Dossier,
    MailMessage,
    OutboxItem,
    Quarantined,
)
from mailbot.pipeline import poll_once

REQUEST = ("Tôi đề nghị Cục thi hành án dân sự tổ chức thi hành bản án số 45/2017/DS-ST ngày "
           "15/3/2017 của Tòa án nhân dân thành phố Rạch Giá. Bên kia không trả tiền theo bản án.")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    cfg = parse_config({
        "database_url": "sqlite:///mailbot.db",
        "data_dir": "var",
        "limits": {"max_mail_bytes": 200_000, "max_attachment_bytes": 5_000},
        "mailbox": [{"name": "mau", "unit": "KG", "kind": "maildir", "path": "box"}],
        "smtp": {"kind": "directory", "directory": "out"},
    }, base_dir=tmp_path)
    create_schema(get_engine(cfg.resolved_database_url))
    return cfg


def deliver(config: Config, msg: EmailMessage | bytes) -> None:
    box = mailbox.Maildir(Path(config.base_dir) / "box", create=True)
    box.add(msg if isinstance(msg, bytes) else msg.as_bytes())


def mail(sender: str = "nguyen.van.a@example.vn", subject: str = "Đơn yêu cầu thi hành án",
         body: str = REQUEST, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Nguyễn Văn A <{sender}>"
    msg["To"] = "thads.kiengiang@moj.gov.vn"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="example.vn")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def poll(config: Config) -> dict[str, int]:
    return poll_once(config, get_engine(config.resolved_database_url)).counts()


def sent(config: Config) -> list[email.message.Message]:
    out = Path(config.base_dir) / "out"
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(out.glob("*.eml"))]


def session(config: Config) -> Session:
    return Session(get_engine(config.resolved_database_url))


def test_a_request_opens_a_dossier_and_is_acknowledged_once(config: Config) -> None:
    first = mail()
    deliver(config, first)
    assert poll(config) == {"new_dossier": 1}
    assert poll(config) == {}
    replies = sent(config)
    assert len(replies) == 1
    assert replies[0]["In-Reply-To"] == first["Message-ID"]
    with session(config) as s:
        d = s.exec(select(Dossier)).one()
        assert d.request_type == "yeu_cau_thi_hanh_an"
        assert d.judgment_refs == ["45/2017/DS-ST"]
        assert d.status == "da_tiep_nhan" and d.acknowledged_at is not None
        assert d.due_at is not None and d.due_at > d.effective_receipt
        actions = [e.action for e in s.exec(select(AuditEvent).where(
            AuditEvent.dossier_id == d.id))]
        assert actions[0] == "received" and "mail_sent" in actions
        assert d.explanation["hits"], "the decision keeps the rules that fired"


def test_the_same_mail_twice_is_one_dossier(config: Config) -> None:
    msg = mail()
    deliver(config, msg)
    deliver(config, msg)
    assert poll(config) == {"new_dossier": 1, "duplicate": 1}
    assert len(sent(config)) == 1


def test_follow_up_joins_by_reference_and_gets_no_second_ack_today(config: Config) -> None:
    first = mail()
    deliver(config, first)
    poll(config)
    ack = sent(config)[0]
    reply = mail(subject="Re: " + str(email.header.make_header(
        email.header.decode_header(ack["Subject"]))), body="Tôi gửi bổ sung bản án.\n\n> trích",
        In_Reply_To=ack["Message-ID"], References=f"{first['Message-ID']} {ack['Message-ID']}")
    deliver(config, reply)
    assert poll(config) == {"follow_up": 1}
    assert len(sent(config)) == 1  # at most one automatic reply per sender per dossier per day
    with session(config) as s:
        assert len(s.exec(select(Dossier)).all()) == 1
        events = [e.action for e in s.exec(select(AuditEvent))]
        assert "ack_withheld" in events


def test_code_in_subject_joins_only_for_the_same_sender(config: Config) -> None:
    deliver(config, mail())
    poll(config)
    with session(config) as s:
        code = s.exec(select(Dossier)).one().code
    deliver(config, mail(subject=f"Bổ sung hồ sơ {code}", body="Tôi gửi thêm giấy tờ."))
    deliver(config, mail(sender="nguoi.khac@example.vn", subject=f"Hỏi về hồ sơ {code}",
                         body="Cho tôi hỏi hồ sơ này đã giải quyết tới đâu?"))
    counts = poll(config)
    assert counts == {"follow_up": 1, "new_dossier": 1}


def test_machine_mail_and_noreply_senders_get_nothing(config: Config) -> None:
    deliver(config, mail(subject="Trả lời tự động: Vắng mặt", Auto_Submitted="auto-replied",
                         body="Tôi đang nghỉ phép đến hết tuần."))
    deliver(config, mail(sender="no-reply@ngan-hang.example", subject="Đơn yêu cầu thi hành án"))
    counts = poll(config)
    assert counts.get("machine", 0) >= 1 and sum(counts.values()) == 2
    assert sent(config) == []
    with session(config) as s:
        machine = s.exec(select(MailMessage).where(MailMessage.disposition == "tu_dong")).all()
        assert machine and all(m.dossier_id is None for m in machine)
        # If the no-reply mail was taken as a request, its acknowledgement was withheld.
        withheld = s.exec(select(AuditEvent).where(AuditEvent.action == "ack_withheld")).all()
        assert len(withheld) == counts.get("new_dossier", 0)


def test_attachments_are_stored_once_and_over_the_limit_kept_in_raw_only(config: Config) -> None:
    msg = mail()
    msg.add_attachment(b"%PDF-1.4 ban an", maintype="application", subtype="pdf",
                       filename="../../ban-an.pdf")
    msg.add_attachment(b"x" * 6_000, maintype="application", subtype="octet-stream",
                       filename="lon.bin")
    deliver(config, msg)
    poll(config)
    with session(config) as s:
        atts = {a.filename: a for a in s.exec(select(Attachment))}
    assert set(atts) == {"ban-an.pdf", "lon.bin"}
    assert atts["ban-an.pdf"].stored
    assert store_path(config.data_path, atts["ban-an.pdf"].sha256).read_bytes().startswith(b"%PDF")
    assert not atts["lon.bin"].stored and "giới hạn" in atts["lon.bin"].note


def test_too_large_and_broken_mail_are_quarantined_not_lost(config: Config) -> None:
    big = mail(body="a" * 250_000)
    deliver(config, big)
    deliver(config, b"day khong phai la thu\r\n\r\nkhong co dong tieu de")
    deliver(config, mail())
    counts = poll(config)
    assert counts == {"quarantined": 2, "new_dossier": 1}
    with session(config) as s:
        rows = s.exec(select(Quarantined)).all()
        assert {q.stage for q in rows} == {"size", "parse"}
        assert any(q.raw == big.as_bytes() for q in rows)
    quarantine = Path(config.base_dir) / "box" / ".Quarantine"
    assert len(list((quarantine / "cur").iterdir()) + list((quarantine / "new").iterdir())) == 2


def test_bounce_of_our_reply_flags_the_dossier(config: Config) -> None:
    first = mail()
    deliver(config, first)
    poll(config)
    ack = sent(config)[0]
    bounce = EmailMessage()
    bounce["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.vn>"
    bounce["To"] = "thads.kiengiang@moj.gov.vn"
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = make_msgid(domain="mx.example.vn")
    bounce["Auto-Submitted"] = "auto-replied"
    bounce.set_content("This is the mail system. Your message could not be delivered.")
    returned = EmailMessage()
    returned["Message-ID"] = ack["Message-ID"]
    returned["In-Reply-To"] = first["Message-ID"]
    returned["Subject"] = "x"
    returned.set_content("...")
    bounce.add_attachment(returned)  # message/rfc822, as mail servers return it
    bounce.replace_header("Content-Type", bounce["Content-Type"].replace("mixed", "report"))
    deliver(config, bounce)
    assert poll(config) == {"bounce": 1}
    with session(config) as s:
        d = s.exec(select(Dossier)).one()
        assert d.bounced
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "bounce_received")).one()
        assert len(s.exec(select(OutboxItem)).all()) == 1  # a bounce is never answered


def test_reply_to_is_trusted_only_from_a_portal_noreply_sender(config: Config) -> None:
    # An ordinary sender cannot steer the office's mail to a third party with Reply-To.
    deliver(config, mail(sender="tran.b@example.vn", Reply_To="nan.nhan@example.vn",
                         body="Họ và tên: Trần B\n" + REQUEST))
    # A portal form relay from a no-reply address is answered at the citizen's address.
    deliver(config, mail(sender="noreply@cong-thong-tin.example", Reply_To="le.c@example.vn",
                         subject="Yêu cầu hỗ trợ trực tuyến mới",
                         body="Họ và tên: Lê C\nEmail: le.c@example.vn\nNội dung yêu cầu:\n"
                              + REQUEST))
    poll(config)
    assert sorted(m["To"] for m in sent(config)) == ["le.c@example.vn", "tran.b@example.vn"]


def test_someone_else_in_the_thread_neither_reopens_nor_is_answered(config: Config) -> None:
    first = mail()
    deliver(config, first)
    poll(config)
    other = mail(sender="ben.kia@example.vn", subject="Re: Đơn yêu cầu thi hành án",
                 body="Tôi không đồng ý, tôi đã trả đủ tiền rồi.",
                 In_Reply_To=first["Message-ID"], References=first["Message-ID"])
    deliver(config, other)
    assert poll(config) == {"follow_up": 1}
    assert len(sent(config)) == 1
    with session(config) as s:
        events = [e.action for e in s.exec(select(AuditEvent))]
        assert "other_sender_in_thread" in events
