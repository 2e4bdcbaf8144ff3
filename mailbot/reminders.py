"""Reminder sweep: morning digests, next-day warnings and overdue escalations into the outbox.

``sweep_once`` is a plain function the scheduler calls (any number of times): it looks at the
register and the clock and enqueues what is due by `now` (digest from ``digest_time``,
warnings from ``warning_time``, escalations from ``escalation_time``, local time, working
days only). Each mail carries a deterministic ``OutboxItem.once_key``, so a second call, a
restart or a second worker never enqueues it twice, and a late call still sends what was
missed. Mails list dossier codes, types, due dates and statuses only, never personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailbot.config import Config
from mailbot.deadlines import DeadlinePolicy
from mailbot.dossier.models import (
    OPEN_STATUSES,
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    Dossier,
)

log = logging.getLogger("mailbot.reminders")

# Statuses whose reply clock runs: open, minus the wait for the citizen (clock stopped).
RUNNING_STATUSES = tuple(s for s in OPEN_STATUSES if s != "cho_bo_sung")
# Denunciations are visible to leaders and KNTC staff only (DOMAIN.md §3): never in a
# clerks' mail; their warnings go to the unit's leader.
LEADER_ONLY_TYPES = ("to_cao",)


@dataclass
class UnitReport:
    """What one unit's clerks must look at today."""

    code: str
    overdue: list[Dossier] = field(default_factory=list)
    due_today: list[Dossier] = field(default_factory=list)
    due_tomorrow: list[Dossier] = field(default_factory=list)
    needs_triage: list[Dossier] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.overdue or self.due_today or self.due_tomorrow or self.needs_triage)


def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def _local_now(config: Config, now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(config.tz)
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(config.tz)


def item_dict(d: Dossier) -> dict[str, Any]:
    """The per-dossier line of a clerk mail (templates/README.md): codes only."""
    return {
        "code": d.code,
        "request_type": d.request_type,
        "request_type_label": REQUEST_TYPE_LABELS.get(d.request_type, d.request_type),
        "due": d.due_at,
        "status_label": STATUS_LABELS.get(d.status, d.status),
    }


def open_dossiers(session: Session, unit: str | None = None) -> list[Dossier]:
    """Open dossiers (reply still owed), optionally of one handling unit, oldest due first."""
    stmt = select(Dossier).where(col(Dossier.status).in_(OPEN_STATUSES))
    if unit is not None:
        stmt = stmt.where(Dossier.handling_unit == unit)
    rows = list(session.exec(stmt))
    return sorted(rows, key=lambda d: (d.due_at or date.max, d.code))


def unit_report(
    dossiers: Iterable[Dossier], code: str, today: date, policy: DeadlinePolicy
) -> UnitReport:
    report = UnitReport(code)
    for d in dossiers:
        if d.handling_unit != code or d.request_type in LEADER_ONLY_TYPES:
            continue
        if d.status == "can_phan_loai" or d.needs_triage:
            report.needs_triage.append(d)
        if d.status not in RUNNING_STATUSES or d.due_at is None:
            continue
        if policy.is_overdue(d.due_at, today):
            report.overdue.append(d)
        elif policy.is_due_today(d.due_at, today):
            report.due_today.append(d)
        elif policy.is_due_soon(d.due_at, today):
            report.due_tomorrow.append(d)
    return report


def _unit_info(config: Config, code: str) -> dict[str, Any]:
    try:
        from mailbot.units import load_units

        unit = load_units(config.rules_path).get(code)
    except Exception:  # units.toml missing or broken: the code is still a usable name
        unit = None
    return {"code": code, "name": unit.name if unit else code}


def _office(config: Config) -> dict[str, Any]:
    return {
        "name": config.office.name,
        "from_addr": config.office.from_addr,
        "from_name": config.office.from_name,
        "public_url": config.office.public_url,
    }


def _enqueue(
    engine: Engine,
    config: Config,
    *,
    kind: str,
    to: str,
    context: dict[str, Any],
    once_key: str,
    dossier_id: int | None = None,
) -> bool:
    """One mail in its own transaction; False when its once_key was already used."""
    from mailbot.replies import enqueue_mail

    with Session(engine, expire_on_commit=False) as session:
        dossier = session.get(Dossier, dossier_id) if dossier_id is not None else None
        try:
            # Reminders are not threaded into the citizen's dossier mail: no dossier passed,
            # so no MailMessage copy and no In-Reply-To to the citizen's thread.
            item = enqueue_mail(
                session,
                config,
                kind=kind,
                to=to,
                context=context,
                once_key=once_key,
                automatic=True,
            )
            if item is not None and dossier is not None:
                item.dossier_id = dossier.id
                session.add(item)
            session.commit()
        except IntegrityError:  # another worker enqueued the same once_key first
            session.rollback()
            return False
    if item is None:
        return False
    # The key's first two parts (kind and unit or dossier code) name it without an address.
    log.info("reminder queued: %s", ":".join(once_key.split(":")[:2]))
    return True


def sweep_once(engine: Engine, config: Config, now: datetime | None = None) -> int:
    """Enqueue every reminder due by `now`; returns how many mails were queued."""
    local = _local_now(config, now)
    today, clock = local.date(), local.time()
    policy = DeadlinePolicy.load(config.rules_path)
    if not policy.calendar.is_working_day(today):
        return 0
    rem = config.reminders
    if not rem.units:
        return 0
    with Session(engine, expire_on_commit=False) as session:
        dossiers = open_dossiers(session)
    base = {"office": _office(config), "today": today}
    queued = 0

    if clock >= _hhmm(rem.digest_time):
        for code, contacts in sorted(rem.units.items()):
            report = unit_report(dossiers, code, today, policy)
            if report.is_empty() or not contacts.clerks:
                continue
            ctx = {
                **base,
                "unit": _unit_info(config, code),
                "overdue": [item_dict(d) for d in report.overdue],
                "due_today": [item_dict(d) for d in report.due_today],
                "due_tomorrow": [item_dict(d) for d in report.due_tomorrow],
                "needs_triage": [item_dict(d) for d in report.needs_triage],
                "item": None,
            }
            for clerk in contacts.clerks:
                key = f"digest:{code}:{today.isoformat()}:{clerk.lower()}"
                queued += _enqueue(
                    engine, config, kind="digest", to=clerk, context=ctx, once_key=key
                )

    for d in dossiers:
        contacts = rem.units.get(d.handling_unit)
        if contacts is None or d.due_at is None or d.status not in RUNNING_STATUSES:
            continue
        ctx = {
            **base,
            "unit": _unit_info(config, d.handling_unit),
            "item": item_dict(d),
            "overdue": [],
            "due_today": [],
            "due_tomorrow": [],
            "needs_triage": [],
        }
        due = d.due_at.isoformat()
        # Warning: on the working day before the deadline (DOMAIN.md §4.2 "due soon").
        if (
            clock >= _hhmm(rem.warning_time)
            and policy.calendar.working_days_between(today, d.due_at) == 1
        ):
            if d.request_type in LEADER_ONLY_TYPES:
                to_list = [contacts.leader] if contacts.leader else []
            else:
                to_list = list(contacts.clerks)
            for to in to_list:
                queued += _enqueue(
                    engine,
                    config,
                    kind="warning",
                    to=to,
                    context=ctx,
                    once_key=f"warn:{d.code}:{due}:{to.lower()}",
                    dossier_id=d.id,
                )
        # Escalation: the deadline has passed with no reply; to the leader, once per due date.
        if clock >= _hhmm(rem.escalation_time) and policy.is_overdue(d.due_at, today):
            if contacts.leader:
                queued += _enqueue(
                    engine,
                    config,
                    kind="escalation",
                    to=contacts.leader,
                    context=ctx,
                    once_key=f"escalate:{d.code}:{due}",
                    dossier_id=d.id,
                )
    if queued:
        log.info("reminder sweep %s: %d mail(s) queued", today.isoformat(), queued)
    return queued
