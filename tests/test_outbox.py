"""The outbox: a claimed item belongs to one worker; a stale claim is never sent twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from mailbot import outbox
from mailbot.db import create_schema, get_engine
from mailbot.dossier.models import OutboxItem, utcnow


def test_a_reclaimed_item_is_not_sent_by_its_first_worker(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'o.db'}")
    create_schema(engine)
    with Session(engine) as s:
        s.add(OutboxItem(kind="ack_hoi_dap", to_addr="a@example.vn", message_id="<1@x>",
                         raw=b"x"))
        s.commit()
    start = utcnow()
    (first,) = outbox.claim_due(engine, now=start)
    assert outbox.claim_due(engine, now=start) == []  # nobody else gets it meanwhile
    # The first worker hangs past the stale limit; a second worker takes the item over.
    later = start + outbox.STALE_AFTER + timedelta(seconds=1)
    (second,) = outbox.claim_due(engine, now=later)
    assert outbox.renew(engine, first) is None  # the first worker must not send it now
    assert outbox.mark_sent(engine, first) is False
    mine = outbox.renew(engine, second)
    assert mine is not None and outbox.mark_sent(engine, mine) is True
    with Session(engine) as s:
        item = s.exec(select(OutboxItem)).one()
        assert item.status == "sent" and item.attempts == 2
