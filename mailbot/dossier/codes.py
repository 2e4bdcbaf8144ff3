"""Human-friendly dossier codes (mã hồ sơ), unique per receiving unit and year: KG-2017-000123.

No slash, so a code is never read as a judgment number; short enough to read on the phone.
"""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mailbot.dossier.models import DossierCounter

CODE_RE = re.compile(r"\b([A-Z]{2,10}(?:-[A-Z]{2,20})?-(?:19|20)\d{2}-\d{6})\b")


def format_code(unit: str, year: int, seq: int) -> str:
    return f"{unit}-{year}-{seq:06d}"


def find_codes(text: str) -> list[str]:
    """Dossier codes quoted in a subject or text, in order of appearance."""
    return list(dict.fromkeys(CODE_RE.findall(text.upper())))


def next_code(session: Session, unit: str, year: int) -> str:
    """Take the next number with a conditional UPDATE, safe with several workers."""
    for _ in range(20):
        counter = session.exec(
            select(DossierCounter).where(DossierCounter.unit == unit, DossierCounter.year == year)
        ).first()
        if counter is None:
            try:
                with session.begin_nested():
                    session.add(DossierCounter(unit=unit, year=year, last=1))
                return format_code(unit, year, 1)
            except IntegrityError:
                continue
        current = counter.last
        result = session.exec(  # type: ignore[call-overload]
            update(DossierCounter)
            .where(DossierCounter.id == counter.id, DossierCounter.last == current)
            .values(last=current + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            session.expire(counter)
            return format_code(unit, year, current + 1)
        session.expire(counter)
    raise RuntimeError("could not allocate a dossier code after 20 tries")
