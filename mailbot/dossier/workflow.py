"""Dossier status workflow: every allowed transition, each written to the audit trail.

new → acknowledged → in progress (assigned) → answered → closed, plus needs triage, waiting for
the citizen's supplement (the reply clock stops) and forwarded (chuyển đơn). The functions
change the dossier and add an AuditEvent in the caller's session; the caller commits. Audit
details hold codes, statuses, types and units only, never mail content or personal data.
Times may be given naive (taken as UTC) or aware; they are stored as aware UTC, which
sqlmodel's UTCDateTime columns require. Due dates are local dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlmodel import Session

from mailbot.deadlines import DEFAULT_TZ, DeadlinePolicy
from mailbot.dossier.models import (
    OPEN_STATUSES,
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    AuditEvent,
    Dossier,
    DossierStatus,
    RequestType,
    User,
)
from mailbot.errors import DossierError

S = DossierStatus

# Allowed moves through change_status (reopen() is the only way back from a final status).
_OPEN_TARGETS = "da_tiep_nhan can_phan_loai dang_xu_ly cho_bo_sung da_chuyen da_tra_loi da_dong"
TRANSITIONS: dict[str, frozenset[str]] = {
    "moi": frozenset(_OPEN_TARGETS.split()),
    "da_tiep_nhan": frozenset(_OPEN_TARGETS.split()) - {"da_tiep_nhan"},
    "can_phan_loai": frozenset(_OPEN_TARGETS.split()) - {"can_phan_loai"} | {"moi"},
    "dang_xu_ly": frozenset(_OPEN_TARGETS.split()) - {"dang_xu_ly"},
    "cho_bo_sung": frozenset(_OPEN_TARGETS.split()) - {"cho_bo_sung", "can_phan_loai"},
    # A guidance reply may ask for missing items: the dossier then waits for them.
    "da_tra_loi": frozenset({"cho_bo_sung", "da_dong"}),
    "da_chuyen": frozenset({"da_dong"}),
    "da_dong": frozenset(),
}
assert set(TRANSITIONS) == {s.value for s in DossierStatus}

FINAL_STATUSES = ("da_tra_loi", "da_chuyen", "da_dong")
# Outcomes of a reply (DOMAIN.md §2).
RESULTS = (
    "appointment",
    "guidance",
    "procedure_guidance",
    "answer",
    "forwarded",
    "no_reply",
    "paper_received",
)
RETURN_CHANNELS = ("counter", "notice", "email")
NEVER_ANSWERED = (RequestType.tu_dong.value, RequestType.thu_rac.value)


# The zone of the stored report dates (Dossier.first_reply_on, resolved_on, closed_on); a
# report in another zone computes them from the timestamps instead.
REPORT_DATES_TZ = DEFAULT_TZ


def resolution_moment(
    *,
    answered_at: datetime | None,
    closed_at: datetime | None,
    result: str | None,
    status: str,
    first_reply_at: datetime | None,
    updated_at: datetime | None,
) -> datetime | None:
    """When the office resolved the dossier, as the reports define it (report/stats.py).

    Answered, else closed with a result other than no_reply, else forwarded (the forward
    notice is the reply); None while it is not resolved.
    """
    if answered_at is not None:
        return answered_at
    if closed_at is not None and result is not None and result != "no_reply":
        return closed_at
    if status == S.da_chuyen.value or result == "forwarded":
        return first_reply_at or closed_at or updated_at
    return None


def report_dates(
    *,
    answered_at: datetime | None,
    closed_at: datetime | None,
    result: str | None,
    status: str,
    first_reply_at: datetime | None,
    updated_at: datetime | None,
) -> tuple[date | None, date | None, date | None]:
    """(first_reply_on, resolved_on, closed_on): local dates in REPORT_DATES_TZ."""
    resolved = resolution_moment(
        answered_at=answered_at,
        closed_at=closed_at,
        result=result,
        status=status,
        first_reply_at=first_reply_at,
        updated_at=updated_at,
    )
    first = first_reply_at or resolved

    def day(at: datetime | None) -> date | None:
        return None if at is None else _local_date(at, REPORT_DATES_TZ)

    return day(first), day(resolved), day(closed_at)


def set_report_dates(dossier: Dossier) -> None:
    """Derive the stored report dates from the dossier's own columns."""
    dossier.first_reply_on, dossier.resolved_on, dossier.closed_on = report_dates(
        answered_at=dossier.answered_at,
        closed_at=dossier.closed_at,
        result=dossier.result,
        status=dossier.status,
        first_reply_at=dossier.first_reply_at,
        updated_at=dossier.updated_at,
    )


# On every insert and update, whoever writes (workflow, intake, web desk): the dates can never
# disagree with the timestamps they come from.
@event.listens_for(Dossier, "before_insert")
@event.listens_for(Dossier, "before_update")
def _derive_report_dates(_mapper: Any, _connection: Any, dossier: Dossier) -> None:
    set_report_dates(dossier)


def _label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def _local_date(at: datetime, tz: ZoneInfo) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(tz).date()


def _utc(at: datetime | None) -> datetime:
    """Aware UTC: what sqlmodel's UTCDateTime columns take and return; naive input is UTC."""
    if at is None:
        return datetime.now(UTC)
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _audit(
    session: Session,
    dossier: Dossier,
    actor: str,
    action: str,
    now: datetime,
    detail: dict[str, Any],
) -> AuditEvent:
    if dossier.id is None:  # a new dossier: give it its id so the event can point to it
        session.add(dossier)
        session.flush()
    event = AuditEvent(dossier_id=dossier.id, at=now, actor=actor, action=action, detail=detail)
    dossier.updated_at = now
    session.add(dossier)
    session.add(event)
    return event


def _check_move(dossier: Dossier, new_status: str) -> None:
    if new_status not in TRANSITIONS:
        raise DossierError(
            f"Trạng thái “{new_status}” không tồn tại; dùng một trong: " + ", ".join(TRANSITIONS)
        )
    if new_status not in TRANSITIONS.get(dossier.status, frozenset()):
        hint = (
            " Hồ sơ đã kết thúc: hãy mở lại hồ sơ trước."
            if dossier.status in FINAL_STATUSES
            else ""
        )
        raise DossierError(
            f"Không thể chuyển hồ sơ {dossier.code} từ trạng thái “{_label(dossier.status)}” "
            f"sang “{_label(new_status)}”.{hint}"
        )


def _set_status(dossier: Dossier, new_status: str) -> None:
    dossier.status = new_status
    # needs_triage mirrors "can_phan_loai": leaving it means a person has looked at it.
    dossier.needs_triage = new_status == S.can_phan_loai.value


def _open_status(dossier: Dossier) -> str:
    """Where an open dossier goes back to: in progress if someone has it, else acknowledged."""
    if dossier.assigned_to is not None:
        return S.dang_xu_ly.value
    return S.da_tiep_nhan.value if dossier.acknowledged_at else S.moi.value


def change_status(
    session: Session,
    dossier: Dossier,
    new_status: str | DossierStatus,
    *,
    actor: str,
    reason: str = "",
    now: datetime | None = None,
    policy: DeadlinePolicy | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> AuditEvent:
    """Move a dossier to another status after checking the move is allowed.

    Entering cho_bo_sung stops the reply clock; leaving it for an open status restarts it,
    which needs the deadline policy (use resume_after_supplement).
    """
    new = new_status.value if isinstance(new_status, DossierStatus) else str(new_status)
    _check_move(dossier, new)
    now = _utc(now)
    old = dossier.status
    if old == S.cho_bo_sung.value and new in OPEN_STATUSES:
        if policy is None:
            raise DossierError(
                f"Hồ sơ {dossier.code} đang chờ bổ sung: hãy ghi nhận việc công dân đã bổ sung "
                "để tính lại hạn trả lời."
            )
        return resume_after_supplement(
            session, dossier, actor=actor, now=now, policy=policy, tz=tz, to_status=new
        )
    if new == S.cho_bo_sung.value:
        dossier.paused_at = dossier.paused_at or now
    elif old == S.cho_bo_sung.value:
        dossier.paused_at = None
    _set_status(dossier, new)
    detail: dict[str, Any] = {"from": old, "to": new}
    if reason:
        detail["reason"] = reason[:200]
    return _audit(session, dossier, actor, "status_changed", now, detail)


def acknowledge(session: Session, dossier: Dossier, *, actor: str, now: datetime) -> AuditEvent:
    """The acknowledgement went out: the citizen has the code and the due date."""
    now = _utc(now)
    dossier.acknowledged_at = dossier.acknowledged_at or now
    old = dossier.status
    if old == S.moi.value:
        _set_status(dossier, S.da_tiep_nhan.value)
    return _audit(session, dossier, actor, "acknowledged", now, {"from": old, "to": dossier.status})


def assign(
    session: Session,
    dossier: Dossier,
    user_id: int | None,
    *,
    actor: str,
    now: datetime | None = None,
) -> AuditEvent:
    """Give the dossier to a clerk (in progress); None takes it back (acknowledged)."""
    now = _utc(now)
    if dossier.status in FINAL_STATUSES:
        raise DossierError(
            f"Hồ sơ {dossier.code} đã ở trạng thái “{_label(dossier.status)}”; hãy mở lại hồ sơ "
            "trước khi phân công."
        )
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.disabled:
            raise DossierError(
                f"Không thể phân công hồ sơ {dossier.code}: người dùng số {user_id} không tồn "
                "tại hoặc đã bị khóa."
            )
    old_status, old_user = dossier.status, dossier.assigned_to
    dossier.assigned_to = user_id
    if user_id is not None and dossier.status in (
        S.moi.value,
        S.da_tiep_nhan.value,
        S.can_phan_loai.value,
    ):
        _set_status(dossier, S.dang_xu_ly.value)
    elif user_id is None and dossier.status == S.dang_xu_ly.value:
        _set_status(dossier, _open_status(dossier))
    return _audit(
        session,
        dossier,
        actor,
        "assigned",
        now,
        {"from_user": old_user, "to_user": user_id, "from": old_status, "to": dossier.status},
    )


def reclassify(
    session: Session,
    dossier: Dossier,
    request_type: str,
    *,
    actor: str,
    now: datetime | None = None,
    policy: DeadlinePolicy | None = None,
) -> AuditEvent:
    """Correct the request type (labelled data for the classifier: detail from/to).

    With a policy the due date follows the new type from the same effective receipt; machine
    mail and spam are closed with no reply owed.
    """
    now = _utc(now)
    if request_type not in REQUEST_TYPE_LABELS:
        raise DossierError(
            f"Loại yêu cầu “{request_type}” không tồn tại; dùng một trong: "
            + ", ".join(REQUEST_TYPE_LABELS)
        )
    old_type, old_status, old_due = dossier.request_type, dossier.status, dossier.due_at
    dossier.request_type = request_type
    detail: dict[str, Any] = {
        "from": old_type,
        "to": request_type,
        "confidence": round(dossier.confidence, 3),
        "was_triage": dossier.needs_triage,
    }
    if request_type in NEVER_ANSWERED:
        dossier.due_at = None
        if dossier.status not in FINAL_STATUSES:
            _set_status(dossier, S.da_dong.value)
            dossier.closed_at = now
            dossier.result = "no_reply"
    else:
        if policy is not None and dossier.status in OPEN_STATUSES:
            dossier.due_at = policy.reply_due(request_type, dossier.effective_receipt)
        if dossier.status == S.can_phan_loai.value:
            _set_status(dossier, _open_status(dossier))
        dossier.needs_triage = dossier.status == S.can_phan_loai.value
    if dossier.status != old_status:
        detail["status_from"], detail["status_to"] = old_status, dossier.status
    if dossier.due_at != old_due:
        detail["due_from"] = old_due.isoformat() if old_due else None
        detail["due_to"] = dossier.due_at.isoformat() if dossier.due_at else None
    return _audit(session, dossier, actor, "reclassified", now, detail)


def change_unit(
    session: Session,
    dossier: Dossier,
    unit: str | None,
    *,
    actor: str,
    now: datetime | None = None,
) -> AuditEvent:
    """Set the competent unit (a unit code, "OUTSIDE" or None) and the handling unit.

    A transfer inside the province keeps the receipt and due dates (DOMAIN.md §4.2).
    """
    now = _utc(now)
    if unit is not None and not unit.strip():
        raise DossierError("Mã đơn vị không được để trống; dùng mã như KG-RACHGIA hoặc OUTSIDE.")
    old_unit, old_handling = dossier.unit, dossier.handling_unit
    dossier.unit = unit
    dossier.handling_unit = unit if unit and unit != "OUTSIDE" else dossier.receiving_unit
    return _audit(
        session,
        dossier,
        actor,
        "unit_changed",
        now,
        {
            "from": old_unit,
            "to": unit,
            "handling_from": old_handling,
            "handling_to": dossier.handling_unit,
        },
    )


def pause_for_supplement(
    session: Session, dossier: Dossier, *, actor: str, now: datetime
) -> AuditEvent:
    """Wait for the citizen to complete the request (chờ bổ sung): the reply clock stops."""
    now = _utc(now)
    if dossier.status == S.cho_bo_sung.value:
        raise DossierError(f"Hồ sơ {dossier.code} đã đang chờ bổ sung.")
    _check_move(dossier, S.cho_bo_sung.value)
    old = dossier.status
    dossier.paused_at = now
    _set_status(dossier, S.cho_bo_sung.value)
    return _audit(
        session,
        dossier,
        actor,
        "paused",
        now,
        {
            "from": old,
            "to": dossier.status,
            "due": dossier.due_at.isoformat() if dossier.due_at else None,
        },
    )


def resume_after_supplement(
    session: Session,
    dossier: Dossier,
    *,
    actor: str,
    now: datetime,
    policy: DeadlinePolicy,
    tz: ZoneInfo = DEFAULT_TZ,
    to_status: str | None = None,
) -> AuditEvent:
    """The citizen supplemented: the clock restarts with the working days that were left.

    The supplement counts as received like any mail (office hours, cut-off); see
    DeadlinePolicy.resume_due for how the remaining days are carried over.
    """
    now = _utc(now)
    if dossier.status != S.cho_bo_sung.value:
        raise DossierError(
            f"Hồ sơ {dossier.code} không ở trạng thái “Chờ bổ sung” (hiện là "
            f"“{_label(dossier.status)}”)."
        )
    resumed = policy.effective_receipt(now, tz, dossier.handling_unit)
    paused_day = _local_date(dossier.paused_at or now, tz)
    old_due = dossier.due_at
    if old_due is not None:
        new_due: date | None = policy.resume_due(old_due, paused_day, resumed)
    else:
        new_due = policy.reply_due(dossier.request_type, resumed)
    paused_wd = max(policy.calendar.working_days_between(paused_day, resumed), 0)
    dossier.paused_workdays += paused_wd
    dossier.paused_at = None
    dossier.due_at = new_due
    new_status = to_status or _open_status(dossier)
    _set_status(dossier, new_status)
    return _audit(
        session,
        dossier,
        actor,
        "resumed",
        now,
        {
            "from": S.cho_bo_sung.value,
            "to": new_status,
            "due_from": old_due.isoformat() if old_due else None,
            "due_to": new_due.isoformat() if new_due else None,
            "paused_workdays": paused_wd,
        },
    )


def mark_answered(
    session: Session, dossier: Dossier, *, actor: str, now: datetime, result: str
) -> AuditEvent:
    """The office's reply was sent (appointment, guidance, answer...): đã trả lời."""
    now = _utc(now)
    if result not in RESULTS:
        raise DossierError(f"Kết quả “{result}” không hợp lệ; dùng một trong: {', '.join(RESULTS)}")
    _check_move(dossier, S.da_tra_loi.value)
    old = dossier.status
    dossier.first_reply_at = dossier.first_reply_at or now
    dossier.answered_at = now
    dossier.result = result
    dossier.paused_at = None
    _set_status(dossier, S.da_tra_loi.value)
    return _audit(
        session,
        dossier,
        actor,
        "answered",
        now,
        {
            "from": old,
            "to": dossier.status,
            "result": result,
            "due": dossier.due_at.isoformat() if dossier.due_at else None,
        },
    )


def forward(
    session: Session, dossier: Dossier, target: str, *, actor: str, now: datetime
) -> AuditEvent:
    """Chuyển đơn: the request goes to another body and the writer is told where (a reply)."""
    now = _utc(now)
    target = target.strip()
    if not target:
        raise DossierError("Hãy ghi rõ nơi chuyển đơn đến (mã đơn vị hoặc tên cơ quan).")
    _check_move(dossier, S.da_chuyen.value)
    old = dossier.status
    dossier.forwarded_to = target[:200]
    dossier.result = "forwarded"
    dossier.first_reply_at = dossier.first_reply_at or now
    dossier.answered_at = now
    dossier.paused_at = None
    _set_status(dossier, S.da_chuyen.value)
    return _audit(
        session,
        dossier,
        actor,
        "forwarded",
        now,
        {"from": old, "to": dossier.status, "target": dossier.forwarded_to},
    )


def close(
    session: Session,
    dossier: Dossier,
    *,
    actor: str,
    now: datetime,
    result: str | None = None,
    return_channel: str | None = "email",
) -> AuditEvent:
    """Close with a result and how it was returned (counter | notice | email)."""
    now = _utc(now)
    if result is not None and result not in RESULTS:
        raise DossierError(f"Kết quả “{result}” không hợp lệ; dùng một trong: {', '.join(RESULTS)}")
    if return_channel is not None and return_channel not in RETURN_CHANNELS:
        raise DossierError(
            f"Hình thức trả kết quả “{return_channel}” không hợp lệ; dùng: "
            + ", ".join(RETURN_CHANNELS)
        )
    _check_move(dossier, S.da_dong.value)
    old = dossier.status
    dossier.closed_at = now
    dossier.result = result or dossier.result
    dossier.return_channel = return_channel
    dossier.paused_at = None
    _set_status(dossier, S.da_dong.value)
    return _audit(
        session,
        dossier,
        actor,
        "closed",
        now,
        {
            "from": old,
            "to": dossier.status,
            "result": dossier.result,
            "return_channel": return_channel,
        },
    )


def reopen(
    session: Session,
    dossier: Dossier,
    *,
    actor: str,
    now: datetime,
    policy: DeadlinePolicy,
    tz: ZoneInfo = DEFAULT_TZ,
) -> AuditEvent:
    """A new request on an answered, forwarded or closed dossier: it is owed a new reply.

    The new due date counts from the effective receipt of `now`; the earlier answer stays in
    first_reply_at and the audit trail.
    """
    now = _utc(now)
    if dossier.status not in FINAL_STATUSES:
        raise DossierError(
            f"Hồ sơ {dossier.code} đang mở (“{_label(dossier.status)}”), không cần mở lại."
        )
    if dossier.request_type in NEVER_ANSWERED:
        raise DossierError(
            f"Hồ sơ {dossier.code} là {REQUEST_TYPE_LABELS[dossier.request_type].lower()}: hãy "
            "phân loại lại trước khi mở lại."
        )
    old, old_due = dossier.status, dossier.due_at
    effective = policy.effective_receipt(now, tz, dossier.handling_unit)
    dossier.due_at = policy.reply_due(dossier.request_type, effective)
    dossier.reopened_count += 1
    dossier.closed_at = None
    dossier.answered_at = None
    dossier.result = None
    dossier.return_channel = None
    _set_status(dossier, _open_status(dossier))
    return _audit(
        session,
        dossier,
        actor,
        "reopened",
        now,
        {
            "from": old,
            "to": dossier.status,
            "reopened_count": dossier.reopened_count,
            "due_from": old_due.isoformat() if old_due else None,
            "due_to": dossier.due_at.isoformat() if dossier.due_at else None,
        },
    )
