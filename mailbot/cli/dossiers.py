"""`mailbot dossiers` and `mailbot show CODE`: read the register from the command line."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import func
from sqlmodel import Session, select

from mailbot.cli._common import echo_json, get_config, get_db
from mailbot.dossier.models import (
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    Attachment,
    AuditEvent,
    Dossier,
    MailMessage,
    OutboxItem,
    as_utc,
)


def _iso(dt: Any) -> str | None:
    if dt is None:
        return None
    if hasattr(dt, "hour"):
        return as_utc(dt).isoformat()
    return dt.isoformat()


def dossier_summary(session: Session, d: Dossier) -> dict[str, Any]:
    message_ids = session.exec(
        select(MailMessage.message_id).where(MailMessage.dossier_id == d.id,
                                             MailMessage.direction == "in")
        .order_by(MailMessage.received_at, MailMessage.id)
    ).all()
    replies_sent = session.exec(
        select(func.count()).select_from(OutboxItem).where(OutboxItem.dossier_id == d.id,
                                                           OutboxItem.status == "sent")
    ).one()
    return {
        "code": d.code,
        "request_type": d.request_type,
        "status": d.status,
        "needs_triage": d.needs_triage,
        "unit": d.unit,
        "handling_unit": d.handling_unit,
        "receiving_unit": d.receiving_unit,
        "sender": d.sender_addr,
        "subject": d.subject,
        "judgment_refs": d.judgment_refs,
        "enforcement_refs": d.enforcement_refs,
        "received_at": _iso(d.received_at),
        "effective_receipt": _iso(d.effective_receipt),
        "due_at": _iso(d.due_at),
        "closed_at": _iso(d.closed_at),
        "message_ids": list(message_ids),
        "replies_sent": int(replies_sent),
        "bounced": d.bounced,
    }


@click.command("dossiers", help="Liệt kê hồ sơ trong sổ theo dõi (mới nhất trước).")
@click.option("--unit", help="Chỉ hồ sơ của đơn vị này (mã, ví dụ KG-RACHGIA).")
@click.option("--status", help="Chỉ hồ sơ ở trạng thái này (ví dụ da_tiep_nhan).")
@click.option("--limit", type=int, default=0, help="Số hồ sơ tối đa (0: tất cả).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (một mảng).")
@click.pass_context
def dossiers_cmd(ctx: click.Context, unit: str | None, status: str | None, limit: int,
                 as_json: bool) -> None:
    engine = get_db(ctx)
    with Session(engine) as session:
        stmt = select(Dossier).order_by(Dossier.received_at.desc(), Dossier.id.desc())  # type: ignore[attr-defined]
        if unit:
            stmt = stmt.where(Dossier.handling_unit == unit)
        if status:
            stmt = stmt.where(Dossier.status == status)
        if limit:
            stmt = stmt.limit(limit)
        rows = [dossier_summary(session, d) for d in session.exec(stmt).all()]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("Chưa có hồ sơ nào.")
        return
    click.echo(f"{'Mã hồ sơ':<22} {'Loại yêu cầu':<36} {'Trạng thái':<14} {'Đơn vị':<16} "
               f"{'Hạn trả lời':<11} Thư đã gửi")
    for r in rows:
        due = r["due_at"] or "-"
        if due != "-":
            y, m, d = due.split("-")
            due = f"{d}/{m}/{y}"
        click.echo(f"{r['code']:<22} {REQUEST_TYPE_LABELS.get(r['request_type'], '')[:36]:<36} "
                   f"{STATUS_LABELS.get(r['status'], r['status']):<14} "
                   f"{(r['unit'] or 'chưa xác định'):<16} {due:<11} {r['replies_sent']}")
    click.echo(f"Tổng: {len(rows)} hồ sơ.")


@click.command("show", help="Xem một hồ sơ: thông tin, các thư và lịch sử xử lý.")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_context
def show_cmd(ctx: click.Context, code: str, as_json: bool) -> None:
    engine = get_db(ctx)
    config = get_config(ctx)
    tz = config.tz
    with Session(engine) as session:
        d = session.exec(select(Dossier).where(Dossier.code == code.strip().upper())).first()
        if d is None:
            raise click.ClickException(f"không có hồ sơ mã {code}; xem danh sách: mailbot dossiers")
        summary = dossier_summary(session, d)
        msgs = session.exec(select(MailMessage).where(MailMessage.dossier_id == d.id)
                            .order_by(MailMessage.received_at, MailMessage.id)).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.dossier_id == d.id)
                              .order_by(AuditEvent.at, AuditEvent.id)).all()
        atts = {m.id: session.exec(select(Attachment).where(Attachment.message_pk == m.id)).all()
                for m in msgs}
        if as_json:
            summary["explanation"] = d.explanation
            summary["messages"] = [
                {"direction": m.direction, "message_id": m.message_id, "subject": m.subject,
                 "from": m.from_addr, "to": m.to_addr, "received_at": _iso(m.received_at),
                 "disposition": m.disposition, "new_text": m.new_text,
                 "attachments": [{"filename": a.filename, "size": a.size,
                                  "content_type": a.content_type} for a in atts[m.id]]}
                for m in msgs]
            summary["events"] = [{"at": _iso(e.at), "actor": e.actor, "action": e.action,
                                  "detail": e.detail} for e in events]
            echo_json(summary)
            return
    click.echo(f"Hồ sơ {d.code}: {REQUEST_TYPE_LABELS.get(d.request_type, d.request_type)}")
    click.echo(f"  Trạng thái: {STATUS_LABELS.get(d.status, d.status)}"
               + ("  (cần phân loại)" if d.needs_triage else ""))
    click.echo(f"  Người gửi: {d.sender_name} <{d.sender_addr}>")
    click.echo(f"  Tiêu đề: {d.subject}")
    click.echo(f"  Đơn vị có thẩm quyền: {d.unit or 'chưa xác định'}; đơn vị xử lý: "
               f"{d.handling_unit}")
    if d.judgment_refs:
        click.echo(f"  Bản án, quyết định: {', '.join(d.judgment_refs)}")
    if d.enforcement_refs:
        click.echo(f"  Quyết định thi hành án: {', '.join(d.enforcement_refs)}")
    click.echo(f"  Ngày tiếp nhận: {d.effective_receipt:%d/%m/%Y}; hạn trả lời: "
               + (f"{d.due_at:%d/%m/%Y}" if d.due_at else "không có"))
    click.echo("Thư:")
    for m in msgs:
        when = as_utc(m.received_at).astimezone(tz)
        arrow = "←" if m.direction == "in" else "→"
        click.echo(f"  {arrow} {when:%d/%m/%Y %H:%M} {_kind_label(m.disposition):<16} "
                   f"{m.subject}")
        for a in atts[m.id]:
            click.echo(f"      tệp đính kèm: {a.filename} ({a.size} byte)")
    from mailbot.web.templating import ACTION_LABELS

    click.echo("Lịch sử:")
    for e in events:
        when = as_utc(e.at).astimezone(tz)
        action = ACTION_LABELS.get(e.action, e.action)
        click.echo(f"  {when:%d/%m/%Y %H:%M} {e.actor:<18} {action} {e.detail or ''}")


# What a stored mail is (MailMessage.disposition), as the clerk reads it; unknown codes as is.
_KIND_LABELS = {
    "human": "thư yêu cầu",
    "follow_up": "thư tiếp theo",
    "closing": "thư kết thúc",
    "bounce": "thư bị trả về",
    "tu_dong": "thư tự động",
    "thu_rac": "thư rác",
    "reply": "thư trả lời",
    "supplement": "đề nghị bổ sung",
    "forward_notice": "báo chuyển đơn",
}


def _kind_label(disposition: str) -> str:
    if disposition.startswith("ack"):
        return "thư báo nhận"
    return _KIND_LABELS.get(disposition, disposition)


def register(group: click.Group) -> None:
    group.add_command(dossiers_cmd)
    group.add_command(show_cmd)
