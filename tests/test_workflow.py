"""Dossier status workflow on a real SQLite register: transitions, clock stop, audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from mailbot import db
from mailbot.config import PROJECT_DIR
from mailbot.db import create_schema, get_engine
from mailbot.deadlines import DeadlinePolicy
from mailbot.dossier import workflow
from mailbot.dossier.models import AuditEvent, Dossier, User
from mailbot.errors import DossierError

D = date


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    engine = get_engine(url)
    create_schema(engine)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    db._engines.pop(url, None)
    engine.dispose()


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return DeadlinePolicy.load(PROJECT_DIR / "rules")


def make_dossier(session: Session, **kw: object) -> Dossier:
    values: dict[str, object] = {
        "code": "KG-2026-000001",
        "receiving_unit": "KG",
        "unit": "KG",
        "handling_unit": "KG",
        "request_type": "yeu_cau_thi_hanh_an",
        "sender_addr": "citizen@example.org",
        # Monday 9/11/2026 09:00 in Vietnam = 02:00 UTC.
        "received_at": datetime(2026, 11, 9, 2, 0, tzinfo=UTC),
        "effective_receipt": D(2026, 11, 9),
        "due_at": D(2026, 11, 11),
        "acknowledged_at": datetime(2026, 11, 9, 2, 1, tzinfo=UTC),
        "status": "da_tiep_nhan",
        # Given explicitly: models.utcnow() is naive and sqlmodel's UTCDateTime refuses it.
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    values.update(kw)
    dossier = Dossier(**values)  # type: ignore[arg-type]
    session.add(dossier)
    session.commit()
    return dossier


def events(session: Session, dossier: Dossier) -> list[AuditEvent]:
    session.flush()
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.dossier_id == dossier.id).order_by(AuditEvent.id)
        )
    )


def add_user(session: Session, username: str = "lan", disabled: bool = False) -> int:
    user = User(
        username=username,
        password_hash="x",
        units=["KG"],
        disabled=disabled,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.commit()
    assert user.id is not None
    return user.id


def test_the_happy_path_writes_one_audit_event_per_change(session: Session) -> None:
    dossier = make_dossier(session, status="moi", acknowledged_at=None)
    workflow.acknowledge(
        session, dossier, actor="system", now=datetime(2026, 11, 9, 2, 1, tzinfo=UTC)
    )
    uid = add_user(session)
    workflow.assign(session, dossier, uid, actor="user:lan")
    workflow.mark_answered(
        session,
        dossier,
        actor="user:lan",
        now=datetime(2026, 11, 10, 3, 0, tzinfo=UTC),
        result="appointment",
    )
    workflow.close(
        session,
        dossier,
        actor="user:lan",
        now=datetime(2026, 11, 12, 3, 0, tzinfo=UTC),
        result="paper_received",
        return_channel="counter",
    )
    session.commit()
    got = [(e.action, e.detail["from"], e.detail["to"]) for e in events(session, dossier)]
    assert got == [
        ("acknowledged", "moi", "da_tiep_nhan"),
        ("assigned", "da_tiep_nhan", "dang_xu_ly"),
        ("answered", "dang_xu_ly", "da_tra_loi"),
        ("closed", "da_tra_loi", "da_dong"),
    ]
    assert all(e.actor in ("system", "user:lan") for e in events(session, dossier))
    assert dossier.first_reply_at == datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
    assert dossier.closed_at == datetime(2026, 11, 12, 3, 0, tzinfo=UTC)
    assert (dossier.result, dossier.return_channel) == ("paper_received", "counter")


def test_audit_details_hold_no_personal_data(session: Session) -> None:
    dossier = make_dossier(session, sender_name="Nguyễn Văn A", subject="Đơn của ông A")
    workflow.change_status(session, dossier, "can_phan_loai", actor="system")
    workflow.reclassify(session, dossier, "khieu_nai", actor="user:lan")
    workflow.change_unit(session, dossier, "KG-RACHGIA", actor="user:lan")
    text = repr([e.detail for e in events(session, dossier)])
    assert "citizen@example.org" not in text and "Nguyễn" not in text and "Đơn" not in text


def test_a_forbidden_move_is_refused_in_vietnamese(session: Session) -> None:
    dossier = make_dossier(session, status="da_dong")
    with pytest.raises(DossierError, match="Không thể chuyển hồ sơ KG-2026-000001") as err:
        workflow.change_status(session, dossier, "dang_xu_ly", actor="user:lan")
    assert "mở lại" in str(err.value)
    with pytest.raises(DossierError, match="không tồn tại"):
        workflow.change_status(session, dossier, "lost", actor="user:lan")
    assert events(session, dossier) == []


def test_triage_is_cleared_when_a_clerk_reclassifies(
    session: Session, policy: DeadlinePolicy
) -> None:
    dossier = make_dossier(session, status="can_phan_loai", needs_triage=True, confidence=0.31)
    event = workflow.reclassify(
        session, dossier, "xac_nhan_ket_qua", actor="user:lan", policy=policy
    )
    assert (dossier.status, dossier.needs_triage) == ("da_tiep_nhan", False)
    assert event.action == "reclassified"
    assert event.detail["from"] == "yeu_cau_thi_hanh_an"
    assert event.detail["to"] == "xac_nhan_ket_qua"
    assert event.detail["was_triage"] is True


def test_reclassifying_as_spam_closes_with_no_reply_owed(session: Session) -> None:
    dossier = make_dossier(session)
    workflow.reclassify(session, dossier, "thu_rac", actor="user:lan")
    assert (dossier.status, dossier.result, dossier.due_at) == ("da_dong", "no_reply", None)
    with pytest.raises(DossierError, match="Loại yêu cầu"):
        workflow.reclassify(session, dossier, "spam", actor="user:lan")


def test_changing_the_unit_keeps_the_dates(session: Session) -> None:
    dossier = make_dossier(session)
    workflow.change_unit(session, dossier, "KG-PHUQUOC", actor="user:lan")
    assert (dossier.unit, dossier.handling_unit, dossier.due_at) == (
        "KG-PHUQUOC",
        "KG-PHUQUOC",
        D(2026, 11, 11),
    )
    event = workflow.change_unit(session, dossier, "OUTSIDE", actor="user:lan")
    assert (dossier.unit, dossier.handling_unit) == ("OUTSIDE", "KG")
    assert event.detail == {
        "from": "KG-PHUQUOC",
        "to": "OUTSIDE",
        "handling_from": "KG-PHUQUOC",
        "handling_to": "KG",
    }


def test_assigning_needs_an_active_user(session: Session) -> None:
    dossier = make_dossier(session)
    locked = add_user(session, "khoa", disabled=True)
    with pytest.raises(DossierError, match="bị khóa"):
        workflow.assign(session, dossier, locked, actor="user:lan")
    uid = add_user(session, "lan")
    workflow.assign(session, dossier, uid, actor="user:lan")
    workflow.assign(session, dossier, None, actor="user:lan")
    assert (dossier.assigned_to, dossier.status) == (None, "da_tiep_nhan")


def test_the_clock_stops_while_waiting_for_the_citizen(
    session: Session, policy: DeadlinePolicy
) -> None:
    dossier = make_dossier(session)  # due Wednesday 11/11/2026
    # Paused Monday 9/11 at 10:00 Vietnam time: 2 working days left (10/11, 11/11).
    workflow.pause_for_supplement(
        session, dossier, actor="user:lan", now=datetime(2026, 11, 9, 3, 0, tzinfo=UTC)
    )
    assert dossier.status == "cho_bo_sung" and dossier.paused_at == datetime(
        2026, 11, 9, 3, 0, tzinfo=UTC
    )
    with pytest.raises(DossierError, match="đã đang chờ bổ sung"):
        workflow.pause_for_supplement(
            session, dossier, actor="user:lan", now=datetime(2026, 11, 9, 4, 0, tzinfo=UTC)
        )
    # The supplement arrives Friday 20/11 at 16:00 Vietnam time (after cut-off): it counts on
    # Monday 23/11; 2 wd later, skipping Tuesday 24/11 (a day off) → Thursday 26/11.
    event = workflow.resume_after_supplement(
        session,
        dossier,
        actor="system",
        now=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        policy=policy,
    )
    assert dossier.due_at == D(2026, 11, 26)
    assert dossier.status == "da_tiep_nhan" and dossier.paused_at is None
    assert event.detail["due_from"] == "2026-11-11" and event.detail["due_to"] == "2026-11-26"
    assert dossier.paused_workdays == 10  # 10/11 … 23/11, working days while paused
    assert [e.action for e in events(session, dossier)] == ["paused", "resumed"]


def test_leaving_the_wait_through_change_status_restarts_the_clock(
    session: Session, policy: DeadlinePolicy
) -> None:
    dossier = make_dossier(session)
    workflow.change_status(
        session,
        dossier,
        "cho_bo_sung",
        actor="user:lan",
        now=datetime(2026, 11, 9, 3, 0, tzinfo=UTC),
    )
    with pytest.raises(DossierError, match="tính lại hạn"):
        workflow.change_status(session, dossier, "dang_xu_ly", actor="user:lan")
    workflow.change_status(
        session,
        dossier,
        "dang_xu_ly",
        actor="user:lan",
        now=datetime(2026, 11, 16, 3, 0, tzinfo=UTC),
        policy=policy,
    )
    assert dossier.status == "dang_xu_ly" and dossier.due_at == D(2026, 11, 18)


def test_forwarding_is_a_reply_that_says_where(session: Session) -> None:
    dossier = make_dossier(session)
    with pytest.raises(DossierError, match="nơi chuyển đơn"):
        workflow.forward(
            session, dossier, "  ", actor="user:lan", now=datetime(2026, 11, 10, tzinfo=UTC)
        )
    workflow.forward(
        session,
        dossier,
        "THADS tỉnh Long An",
        actor="user:lan",
        now=datetime(2026, 11, 10, 2, 0, tzinfo=UTC),
    )
    assert (dossier.status, dossier.result, dossier.forwarded_to) == (
        "da_chuyen",
        "forwarded",
        "THADS tỉnh Long An",
    )
    assert dossier.answered_at == datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    with pytest.raises(DossierError):
        workflow.mark_answered(
            session,
            dossier,
            actor="user:lan",
            now=datetime(2026, 11, 10, tzinfo=UTC),
            result="answer",
        )


def test_reopening_gives_a_new_due_date(session: Session, policy: DeadlinePolicy) -> None:
    dossier = make_dossier(session)
    workflow.mark_answered(
        session,
        dossier,
        actor="user:lan",
        now=datetime(2026, 11, 10, 2, 0, tzinfo=UTC),
        result="guidance",
    )
    with pytest.raises(DossierError, match="không cần mở lại"):
        workflow.reopen(
            session,
            make_dossier(session, code="KG-2026-000002"),
            actor="system",
            now=datetime(2026, 11, 10, tzinfo=UTC),
            policy=policy,
        )
    # New mail Monday 23/11/2026 10:00 Vietnam → due Thursday 26/11 (24/11 off).
    workflow.reopen(
        session,
        dossier,
        actor="system",
        now=datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        policy=policy,
    )
    assert dossier.reopened_count == 1
    assert (dossier.status, dossier.due_at, dossier.answered_at) == (
        "da_tiep_nhan",
        D(2026, 11, 26),
        None,
    )
    assert dossier.first_reply_at == datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def test_wrong_result_or_channel_is_refused(session: Session) -> None:
    dossier = make_dossier(session)
    with pytest.raises(DossierError, match="Kết quả"):
        workflow.mark_answered(
            session, dossier, actor="u", now=datetime(2026, 11, 10, tzinfo=UTC), result="done"
        )
    with pytest.raises(DossierError, match="Hình thức"):
        workflow.close(
            session,
            dossier,
            actor="u",
            now=datetime(2026, 11, 10, tzinfo=UTC),
            result="answer",
            return_channel="fax",
        )


def test_nothing_is_committed_by_the_workflow(session: Session, tmp_path: Path) -> None:
    dossier = make_dossier(session)
    workflow.change_status(session, dossier, "dang_xu_ly", actor="user:lan")
    session.rollback()
    session.refresh(dossier)
    assert dossier.status == "da_tiep_nhan"
    assert events(session, dossier) == []


def stored_report_dates(session: Session, dossier: Dossier) -> tuple[object, object, object]:
    """The report dates as written to the database (not the objects' attributes)."""
    session.commit()
    t = Dossier.__table__
    row = session.connection().execute(
        sa_select(t.c.first_reply_on, t.c.resolved_on, t.c.closed_on).where(t.c.id == dossier.id)
    )
    return tuple(row.one())


def test_every_write_stores_the_report_dates_in_local_time(
    session: Session, policy: DeadlinePolicy
) -> None:
    dossier = make_dossier(session)
    assert stored_report_dates(session, dossier) == (None, None, None)
    # 18:30 UTC on 10/11 is 01:30 on 11/11 in Vietnam: the local date is what reports use.
    workflow.mark_answered(
        session,
        dossier,
        actor="user:lan",
        now=datetime(2026, 11, 10, 18, 30, tzinfo=UTC),
        result="guidance",
    )
    assert stored_report_dates(session, dossier) == (D(2026, 11, 11), D(2026, 11, 11), None)
    workflow.close(session, dossier, actor="user:lan", now=datetime(2026, 11, 12, 3, 0, tzinfo=UTC))
    assert stored_report_dates(session, dossier) == (
        D(2026, 11, 11),
        D(2026, 11, 11),
        D(2026, 11, 12),
    )
    # Reopened: no longer resolved nor closed, the first reply stays.
    workflow.reopen(
        session,
        dossier,
        actor="system",
        now=datetime(2026, 11, 16, 2, 0, tzinfo=UTC),
        policy=policy,
    )
    assert stored_report_dates(session, dossier) == (D(2026, 11, 11), None, None)
    workflow.forward(
        session,
        dossier,
        "KG-RACHGIA",
        actor="user:lan",
        now=datetime(2026, 11, 17, 2, 0, tzinfo=UTC),
    )
    assert stored_report_dates(session, dossier) == (D(2026, 11, 11), D(2026, 11, 17), None)


def test_closing_without_a_reply_stores_no_resolution(session: Session) -> None:
    dossier = make_dossier(session, code="KG-2026-000002")
    workflow.reclassify(
        session, dossier, "thu_rac", actor="user:lan", now=datetime(2026, 11, 9, 17, 5, tzinfo=UTC)
    )
    assert stored_report_dates(session, dossier) == (None, None, D(2026, 11, 10))
    # A closing with a result resolves the dossier on the closing day.
    other = make_dossier(session, code="KG-2026-000003")
    workflow.close(
        session,
        other,
        actor="user:lan",
        now=datetime(2026, 11, 13, 3, 0, tzinfo=UTC),
        result="paper_received",
        return_channel="counter",
    )
    assert stored_report_dates(session, other) == (
        D(2026, 11, 13),
        D(2026, 11, 13),
        D(2026, 11, 13),
    )


def test_a_dossier_logged_closed_gets_its_dates_on_insert(session: Session) -> None:
    # Like the intake of a standalone "thanks" mail: created already closed, no reply owed.
    dossier = make_dossier(
        session,
        code="KG-2026-000004",
        status="da_dong",
        result="no_reply",
        closed_at=datetime(2026, 11, 9, 2, 0, tzinfo=UTC),
    )
    assert stored_report_dates(session, dossier) == (None, None, D(2026, 11, 9))
