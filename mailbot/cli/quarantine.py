"""`mailbot quarantine list|show|retry`: mail that could not be processed, kept with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlmodel import Session, select

from mailbot.cli._common import echo_json, get_config, get_db
from mailbot.dossier.models import Quarantined, as_utc


@click.group("quarantine", help="Thư bị cách ly (không xử lý được): xem, xuất, xử lý lại.")
def quarantine_group() -> None:
    pass


@quarantine_group.command("list", help="Liệt kê thư bị cách ly chưa xử lý.")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    engine = get_db(ctx)
    tz = get_config(ctx).tz
    with Session(engine) as session:
        rows = session.exec(select(Quarantined).where(Quarantined.resolved == False)  # noqa: E712
                            .order_by(Quarantined.at)).all()
    if as_json:
        echo_json([{"id": q.id, "mailbox": q.mailbox, "ref": q.source_ref, "stage": q.stage,
                    "reason": q.reason, "at": as_utc(q.at).isoformat(),
                    "size": len(q.raw)} for q in rows])
        return
    if not rows:
        click.echo("Không có thư nào bị cách ly.")
    for q in rows:
        when = as_utc(q.at).astimezone(tz)
        click.echo(f"#{q.id} {when:%d/%m/%Y %H:%M} hộp thư {q.mailbox} ({q.stage}): {q.reason}")


@quarantine_group.command("export", help="Ghi thư gốc (.eml) của thư cách ly số ID ra tệp.")
@click.argument("qid", type=int)
@click.argument("output", type=click.Path(dir_okay=False, writable=True))
@click.pass_context
def export_cmd(ctx: click.Context, qid: int, output: str) -> None:
    engine = get_db(ctx)
    with Session(engine) as session:
        q = session.get(Quarantined, qid)
        if q is None:
            raise click.ClickException(f"không có thư cách ly số {qid}")
        with open(output, "wb") as fh:
            fh.write(q.raw)
    click.echo(f"Đã ghi {output}")


@quarantine_group.command("retry", help="Xử lý lại thư cách ly số ID (sau khi sửa lỗi).")
@click.argument("qid", type=int)
@click.pass_context
def retry_cmd(ctx: click.Context, qid: int) -> None:
    from mailbot.pipeline import Pipeline
    from mailbot.sources import FetchedMail

    config = get_config(ctx)
    engine = get_db(ctx)
    with Session(engine) as session:
        q = session.get(Quarantined, qid)
        if q is None:
            raise click.ClickException(f"không có thư cách ly số {qid}")
        raw, mailbox, at = q.raw, q.mailbox, q.at
    unit = next((m.unit for m in config.mailbox if m.name == mailbox), None)
    if unit is None:
        raise click.ClickException(f"hộp thư {mailbox} không còn trong cấu hình")
    fetched = FetchedMail(mailbox=mailbox, ref=f"quarantine:{qid}", raw=raw,
                          arrived_at=as_utc(at) if at else datetime.now(UTC))
    outcome = Pipeline(config, engine).process(mailbox, unit, fetched)
    if outcome.action == "quarantined":
        raise click.ClickException(f"vẫn không xử lý được: {outcome.reason}")
    with Session(engine) as session:
        q = session.get(Quarantined, qid)
        if q is not None:
            q.resolved = True
            session.add(q)
            session.commit()
    click.echo(f"Đã xử lý lại: {outcome.log_line()}")


def register(group: click.Group) -> None:
    group.add_command(quarantine_group)
