"""Build a small register for the web tests: units, staff personas, dossiers and their mail.

Rows are written directly (aware UTC datetimes, as sqlmodel's datetime columns require); the
browser flow test uses the real mail path instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mailbot.attachments import store_blob
from mailbot.config import Config, parse_config
from mailbot.dossier.models import Attachment, Dossier, MailMessage
from mailbot.users import create_user

PASSWORD = "mat-khau-thu-nghiem-1"
USERS: dict[str, dict[str, Any]] = {
    # Two clerks of different units, a leader, a KNTC clerk and an admin (personas).
    "canbo.rg": {"role": "clerk", "units": ["KG-RACHGIA"], "full_name": "Nguyễn Thị Lan"},
    "canbo.ht": {"role": "clerk", "units": ["KG-HATIEN"], "full_name": "Trần Văn Hải"},
    "kntc.rg": {"role": "clerk", "units": ["KG-RACHGIA"], "full_name": "Lê Minh Tâm",
                "kntc": True},
    "lanhdao": {"role": "leader", "units": ["KG-RACHGIA", "KG-HATIEN"],
                "full_name": "Phạm Quốc Việt"},
    "quantri": {"role": "admin", "units": ["*"], "full_name": "Quản trị hệ thống"},
}


def make_config(tmp: Path, database_url: str, **extra: Any) -> Config:
    data: dict[str, Any] = {"database_url": database_url, "data_dir": str(tmp / "var"),
                            "smtp": {"kind": "directory", "directory": str(tmp / "outbox")}}
    data.update(extra)
    return parse_config(data, file=str(tmp / "config.toml"), base_dir=tmp)


@dataclass
class Seeded:
    users: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, int] = field(default_factory=dict)


def now() -> datetime:
    return datetime.now(UTC)


def add_dossier(session: Session, code: str, *, unit: str, request_type: str = "hoi_dap",
                subject: str = "Hỏi về hồ sơ", body: str = "Xin hỏi tiến độ vụ việc.",
                sender: str = "nguoi.dan@example.org", sender_name: str = "Võ Văn Dân",
                due: date | None = None, needs_triage: bool = False,
                status: str = "da_tiep_nhan", refs: list[str] | None = None,
                explanation: dict[str, Any] | None = None) -> Dossier:
    t = now()
    d = Dossier(
        code=code, receiving_unit="KG", unit=unit, handling_unit=unit,
        request_type=request_type, status=status, needs_triage=needs_triage, confidence=0.42,
        sender_addr=sender, sender_name=sender_name, subject=subject[:1000],
        judgment_refs=refs or [], enforcement_refs=[],
        explanation=explanation or {"hits": [{"rule": "hoi_dap.tien_do", "score": 1.0,
                                              "where": "body", "detail": "tiến độ"}]},
        received_at=t - timedelta(hours=2), effective_receipt=t.date(),
        due_at=due or (t.date() + timedelta(days=2)), acknowledged_at=t,
        created_at=t, updated_at=t,
    )
    session.add(d)
    session.flush()
    raw = (f"From: {sender}\r\nSubject: x\r\nMessage-ID: <{code}@example.org>\r\n\r\n"
           "body\r\n").encode()
    m = MailMessage(
        dossier_id=d.id, direction="in", message_id=f"<{code}@example.org>",
        dedupe_key=hashlib.sha256(code.encode()).hexdigest(), subject=subject[:2000],
        from_addr=sender, from_name=sender_name, to_addr="thads.kiengiang@moj.gov.vn",
        received_at=t - timedelta(hours=2), request_type=request_type, body_text=body,
        new_text=body, raw=raw,
    )
    session.add(m)
    session.flush()
    return d


def seed(engine: Engine, config: Config) -> Seeded:
    out = Seeded()
    with Session(engine, expire_on_commit=False) as session:
        for username, spec in USERS.items():
            u = create_user(session, username, PASSWORD, role=spec["role"],
                            units=spec["units"], full_name=spec["full_name"],
                            kntc=spec.get("kntc", False))
            assert u.id is not None
            out.users[username] = u.id
        today = datetime.now(config.tz).date()
        rg = add_dossier(session, "KG-2026-000001", unit="KG-RACHGIA",
                         subject="Hỏi tiến độ bản án 12/2017/DS-ST",
                         refs=["12/2017/DS-ST", "124/2025/QĐST-KDTM"], needs_triage=True,
                         status="can_phan_loai")
        ht = add_dossier(session, "KG-2026-000002", unit="KG-HATIEN",
                         subject="Yêu cầu thi hành án Hà Tiên", request_type="yeu_cau_thi_hanh_an",
                         sender="ha.tien@example.org", sender_name="Đỗ Thị Hà")
        tc = add_dossier(session, "KG-2026-000003", unit="KG-RACHGIA", request_type="to_cao",
                         subject="Tố cáo cán bộ đòi tiền", sender="giau.ten@example.org",
                         sender_name="Người tố cáo")
        late = add_dossier(session, "KG-2026-000004", unit="KG-RACHGIA",
                           subject="Thư quá hạn", due=today - timedelta(days=3))
        for key, d in (("rg", rg), ("ht", ht), ("tc", tc), ("late", late)):
            out.codes[key] = d.code
        # An attachment with a hostile name on the Rạch Giá dossier.
        data = b"%PDF-1.4 test\n"
        sha = store_blob(config.data_path, data)
        msg_id = session.exec(
            __import__("sqlmodel").select(MailMessage.id).where(MailMessage.dossier_id == rg.id)
        ).first()
        att = Attachment(message_pk=msg_id, filename="../../etc/passwd\u202egpj.exe",
                         content_type="text/html", size=len(data), sha256=sha)
        session.add(att)
        session.commit()
        assert att.id is not None
        out.attachments["rg"] = att.id
    return out
