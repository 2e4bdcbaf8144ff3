"""Satisfaction ratings (đánh giá mức độ hài lòng): one-use, expiring links and their counts.

The token travels only in the closing mail; the database keeps its sha256, so a copy of the
register cannot be used to vote. A rating is never linked to a name in statistics.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from mailbot.dossier.models import AuditEvent, Dossier, Rating
from mailbot.errors import DossierError
from mailbot.users import aware, now_utc

LEVELS: dict[str, str] = {
    "rat_hai_long": "Rất hài lòng",
    "hai_long": "Hài lòng",
    "chua_hai_long": "Chưa hài lòng",
}
VALID_DAYS = 30
MAX_COMMENT = 2000
RATING_PATH = "/public/danh-gia/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def rating_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + RATING_PATH + token


def issue_rating(
    session: Session, dossier: Dossier, *, now: datetime | None = None, days: int = VALID_DAYS
) -> str:
    """Create a rating slot for a dossier and return its secret token (shown once)."""
    assert dossier.id is not None
    now = aware(now) or now_utc()
    token = secrets.token_urlsafe(24)
    session.add(Rating(dossier_id=dossier.id, token_hash=token_hash(token),
                       expires_at=now + timedelta(days=days), created_at=now))
    session.add(AuditEvent(dossier_id=dossier.id, at=now, actor="system",
                           action="rating_link_issued",
                           detail={"valid_days": days}))
    session.flush()
    return token


@dataclass(frozen=True)
class RatingState:
    """What the public page needs to know about a token: usable or why not."""

    rating: Rating | None
    dossier_code: str = ""
    problem: str = ""  # Vietnamese message when the link cannot be used


def lookup(session: Session, token: str, *, now: datetime | None = None) -> RatingState:
    now = aware(now) or now_utc()
    if not token or len(token) > 200:
        return RatingState(None, problem="Liên kết đánh giá không hợp lệ.")
    rating = session.exec(select(Rating).where(Rating.token_hash == token_hash(token))).first()
    if rating is None:
        return RatingState(None, problem="Liên kết đánh giá không hợp lệ.")
    dossier = session.get(Dossier, rating.dossier_id)
    code = dossier.code if dossier else ""
    if rating.used_at is not None:
        return RatingState(rating, code, "Hồ sơ này đã được đánh giá. Cảm ơn ông/bà.")
    if (aware(rating.expires_at) or now) <= now:
        return RatingState(rating, code, "Liên kết đánh giá đã hết hạn.")
    return RatingState(rating, code)


def submit(
    session: Session, token: str, level: str, comment: str = "", *, now: datetime | None = None
) -> Rating:
    """Record a rating once; a used, expired or unknown token raises DossierError."""
    now = aware(now) or now_utc()
    if level not in LEVELS:
        raise DossierError("Hãy chọn một mức đánh giá.")
    state = lookup(session, token, now=now)
    if state.rating is None or state.problem:
        raise DossierError(state.problem or "Liên kết đánh giá không hợp lệ.")
    rating = state.rating
    rating.used_at = now
    rating.level = level
    rating.comment = comment.strip()[:MAX_COMMENT]
    session.add(rating)
    session.add(AuditEvent(dossier_id=rating.dossier_id, at=now, actor="citizen", action="rated",
                           detail={"level": level}))
    session.flush()
    return rating


def counts(
    session: Session,
    *,
    units: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, int]:
    """Ratings per level for dossiers handled by `units` (None: all), by rating day."""
    stmt = (
        select(Rating.level, func.count())
        .join(Dossier, Dossier.id == Rating.dossier_id)  # type: ignore[arg-type]
        .where(Rating.level.is_not(None))  # type: ignore[union-attr]
        .group_by(Rating.level)
    )
    if units is not None:
        stmt = stmt.where(Dossier.handling_unit.in_(units))  # type: ignore[attr-defined]
    if start is not None:
        stmt = stmt.where(Rating.used_at >= datetime.combine(start, time(), UTC))
    if end is not None:
        stmt = stmt.where(Rating.used_at < datetime.combine(end + timedelta(days=1), time(),
                                                            UTC))
    out = dict.fromkeys(LEVELS, 0)
    for level, n in session.exec(stmt).all():
        if level in out:
            out[level] = int(n)
    return out
