"""Count dossiers per unit and period in SQL (GROUP BY with CASE): the numbers behind reports.

Definitions (DOMAIN.md §8.2 [A]), status evaluated at the end of the period's last day:
- a dossier belongs to the period by its ``effective_receipt`` date in [from, to];
- ``received`` counts human requests only (types in HUMAN_TYPES) and equals
  resolved_on_time + resolved_late + pending_not_due + pending_overdue;
- resolved (giải quyết xong) = answered (``answered_at``), or closed with a result other than
  ``no_reply``, or forwarded (status ``da_chuyen`` / result ``forwarded``: the forward notice is
  the reply), at or before the period end; its moment is the first of those that applies;
- on time = local date of that moment ≤ ``due_at`` (no due date counts as on time);
- open at period end: overdue when ``due_at`` ≤ period end (chưa tới hạn needs due_at > end);
  while the clock is stopped (``paused_at`` set at or before the end) it is overdue only if it
  was already past due when paused (due_at < local date of paused_at);
- closed with ``no_reply`` (closing thanks, duplicates) before the end: no reply was owed, so it
  is left out of ``received`` and counted in ``closed_without_reply``;
- dossiers a clerk re-typed as machine mail or spam are left out of ``received``
  (``marked_machine``); machine mail and spam without a dossier are counted from MailMessage.

Every figure is additive (counts and day histograms), so reports merge exactly (merge.py).
"""

from __future__ import annotations

import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Date,
    String,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from mailbot.dossier.models import HUMAN_TYPES, AuditEvent, Dossier, MailMessage, Rating
from mailbot.dossier.workflow import REPORT_DATES_TZ
from mailbot.errors import ExportError
from mailbot.report.hierarchy import UnitInfo, load_unit_tree, scope, sort_units
from mailbot.report.periods import Period

HUMAN = tuple(t.value for t in HUMAN_TYPES)
MACHINE_DISPOSITIONS = ("tu_dong", "thu_rac")
CHANNELS = ("email", "web_form", "counter")
RATING_LEVELS = ("rat_hai_long", "hai_long", "chua_hai_long")
ProgressFn = Callable[[str], None]


# ---- SQL helpers that differ between SQLite and PostgreSQL ----------------------------------
class local_date(FunctionElement[date]):  # noqa: N801  (reads like a SQL function)
    """Local calendar date of a naive-UTC timestamp, at a fixed offset in minutes."""

    type = Date()
    inherit_cache = True
    name = "local_date"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: Any, **kw: Any) -> str:
    expr, minutes = list(element.clauses)
    return f"date({compiler.process(expr, **kw)}, '{int(minutes.name):+d} minutes')"


@compiles(local_date)
def _local_date_default(element: local_date, compiler: Any, **kw: Any) -> str:
    expr, minutes = list(element.clauses)
    sql = compiler.process(expr, **kw)
    if getattr(expr.type, "timezone", False):
        # timestamptz: take its UTC wall time, so the session TimeZone plays no part.
        sql = f"({sql}) AT TIME ZONE 'UTC'"
    return f"CAST(({sql}) + INTERVAL '{int(minutes.name)} minutes' AS DATE)"


def _local(expr: Any, minutes: int) -> local_date:
    return local_date(expr, literal_column(str(int(minutes))))


class local_on_or_before(FunctionElement[bool]):  # noqa: N801
    """local_date(ts) <= day, written so the database compares plain values (fast on 1M rows)."""

    type = Boolean()
    inherit_cache = True
    name = "local_on_or_before"


@compiles(local_on_or_before, "sqlite")
def _le_sqlite(element: local_on_or_before, compiler: Any, **kw: Any) -> str:
    ts, day, minutes = list(element.clauses)
    m = int(minutes.name)
    ts_sql, day_sql = compiler.process(ts, **kw), compiler.process(day, **kw)
    if 0 <= m < 24 * 60:
        # Local midnight after `day` is `day` at (24h − offset) UTC; SQLite keeps timestamps as
        # "YYYY-MM-DD HH:MM:SS.ffffff" text, so a text comparison decides without date().
        cut = 24 * 60 - m
        return f"({ts_sql} < {day_sql} || ' {cut // 60:02d}:{cut % 60:02d}')"
    return f"(date({ts_sql}, '{m:+d} minutes') <= {day_sql})"


@compiles(local_on_or_before)
def _le_default(element: local_on_or_before, compiler: Any, **kw: Any) -> str:
    ts, day, minutes = list(element.clauses)
    m = int(minutes.name)
    ts_sql, day_sql = compiler.process(ts, **kw), compiler.process(day, **kw)
    cut = f"(CAST({day_sql} AS TIMESTAMP) + INTERVAL '{24 * 60 - m} minutes')"
    if getattr(ts.type, "timezone", False):
        cut = f"({cut} AT TIME ZONE 'UTC')"
    return f"({ts_sql} < {cut})"


def _on_or_before(ts: Any, day: Any, minutes: int) -> local_on_or_before:
    return local_on_or_before(ts, day, literal_column(str(int(minutes))))


class day_token(FunctionElement[str]):  # noqa: N801
    """A text from which Python reads the local date of a timestamp (see `_token_day`).

    SQLite: the stored UTC text cut to the minute (date() on every row costs more than the
    whole scan); PostgreSQL: the local date itself, 'YYYY-MM-DD'.
    """

    type = String()
    inherit_cache = True
    name = "day_token"


@compiles(day_token, "sqlite")
def _day_token_sqlite(element: day_token, compiler: Any, **kw: Any) -> str:
    expr, _minutes = list(element.clauses)
    return f"substr({compiler.process(expr, **kw)}, 1, 16)"


@compiles(day_token)
def _day_token_default(element: day_token, compiler: Any, **kw: Any) -> str:
    expr, minutes = list(element.clauses)
    return f"to_char({compiler.process(local_date(expr, minutes), **kw)}, 'YYYY-MM-DD')"


class date_text(FunctionElement[str]):  # noqa: N801
    """A date as 'YYYY-MM-DD' text (SQLite keeps dates as that text already)."""

    type = String()
    inherit_cache = True
    name = "date_text"


@compiles(date_text, "sqlite")
def _date_text_sqlite(element: date_text, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(date_text)
def _date_text_default(element: date_text, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


class tokens_agg(FunctionElement[str]):  # noqa: N801
    """Comma-separated non-NULL values of a group (group_concat / string_agg)."""

    type = String()
    inherit_cache = True
    name = "tokens_agg"


@compiles(tokens_agg, "sqlite")
def _tokens_agg_sqlite(element: tokens_agg, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


@compiles(tokens_agg)
def _tokens_agg_default(element: tokens_agg, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def _token_day(token: str, minutes: int) -> date:
    if len(token) == 10:  # already a local date
        return date.fromisoformat(token)
    # UTC "YYYY-MM-DD HH:MM": seconds never move a local midnight, the offset is whole minutes.
    return (datetime.fromisoformat(token[:16]) + timedelta(minutes=minutes)).date()


# ---- the additive figures of one unit -------------------------------------------------------
def _counter() -> dict[str, int]:
    return {}


@dataclass
class UnitStats:
    """Every figure of one unit (or a sum of units) for one period; all of them add up."""

    received: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    pending_not_due: int = 0
    pending_overdue: int = 0
    closed_without_reply: int = 0
    forwarded: int = 0
    reopened: int = 0
    marked_machine: int = 0
    # request type → figures of Biểu số 2 (form.TYPE_FIGURES)
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=_counter)
    machine_mail: dict[str, int] = field(default_factory=_counter)  # tu_dong / thu_rac
    # working days → number of dossiers
    first_reply_days: dict[int, int] = field(default_factory=dict)
    closing_days: dict[int, int] = field(default_factory=dict)
    ratings: dict[str, int] = field(default_factory=_counter)
    classified: int = 0
    corrected: int = 0
    corrections: dict[str, int] = field(default_factory=_counter)  # "from>to" → count
    # "YYYY-MM" of effective receipt → received / resolved / resolved_on_time
    monthly: dict[str, dict[str, int]] = field(default_factory=dict)

    # ---- derived values (never stored as inputs of a merge) ---------------------------------
    @property
    def resolved(self) -> int:
        return self.resolved_on_time + self.resolved_late

    @property
    def machine_filtered(self) -> int:
        return sum(self.machine_mail.values())

    @property
    def on_time_rate(self) -> float | None:
        return self.resolved_on_time / self.resolved if self.resolved else None

    @property
    def accuracy(self) -> float | None:
        return 1 - self.corrected / self.classified if self.classified else None

    def is_empty(self) -> bool:
        return self == UnitStats()

    def add(self, other: UnitStats) -> None:
        for f in fields(self):
            setattr(self, f.name, _plus(getattr(self, f.name), getattr(other, f.name)))


def _plus(a: Any, b: Any) -> Any:
    if isinstance(a, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _plus(out[k], v) if k in out else (dict(v) if isinstance(v, dict) else v)
        return out
    return a + b


def total_of(stats: Iterable[UnitStats]) -> UnitStats:
    out = UnitStats()
    for s in stats:
        out.add(s)
    return out


def percentile(hist: dict[int, int], p: float) -> int | None:
    """Nearest-rank percentile of a histogram (value → count); exact, so merges agree."""
    n = sum(hist.values())
    if not n:
        return None
    rank = max(1, math.ceil(p * n - 1e-9))  # nearest rank; the epsilon absorbs float noise
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value
    return max(hist)


@dataclass
class UnitReport:
    unit: UnitInfo
    stats: UnitStats


@dataclass
class Report:
    """A period's figures for a set of units, Cục first, each followed by its Chi cục."""

    period: Period
    units: list[UnitReport]
    timezone: str = "Asia/Ho_Chi_Minh"
    generated_at: datetime | None = None
    sources: list[str] = field(default_factory=list)  # export ids merged into this report

    @property
    def total(self) -> UnitStats:
        return total_of(u.stats for u in self.units)

    def section(self, level: str) -> UnitStats:
        return total_of(u.stats for u in self.units if u.unit.level == level)


# ---- the queries -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Params:
    period: Period
    end_utc: datetime
    start_utc: datetime
    minutes: int
    # Dossier.first_reply_on / resolved_on / closed_on are in the report's zone.
    stored_dates: bool = True


def _ts(name: str, value: datetime, column: Any) -> Any:
    """A timestamp parameter typed like `column`: aware UTC for timezone columns (sqlmodel's
    UTCDateTime), naive UTC otherwise, so PostgreSQL never applies its session time zone."""
    aware = bool(getattr(column.type, "timezone", False))
    v = value.replace(tzinfo=UTC) if aware else value
    return bindparam(name, v, type_=column.type)


def _offset_minutes(tz: ZoneInfo, period: Period) -> int:
    # Fixed offset taken at the period end: exact for zones without DST (Asia/Ho_Chi_Minh).
    off = datetime.combine(period.end, datetime.min.time(), tzinfo=tz).utcoffset()
    return int(off.total_seconds() // 60) if off else 0


def _resolved_ts(d: Any) -> Any:
    forwarded = or_(d.c.status == "da_chuyen", d.c.result == "forwarded")
    return case(
        (d.c.answered_at.isnot(None), d.c.answered_at),
        (
            and_(d.c.closed_at.isnot(None), d.c.result.isnot(None), d.c.result != "no_reply"),
            d.c.closed_at,
        ),
        (forwarded, func.coalesce(d.c.first_reply_at, d.c.closed_at, d.c.updated_at)),
        else_=None,
    )


class _Packed:
    """Several 0/1 figures of a row packed into one integer, so that one SUM counts them all.

    SQLite pays for every aggregate call on every row (tens of ns each): one SUM of a packed
    value replaces one SUM per figure. Field i holds bits [i*bits, (i+1)*bits) of the sum, so
    the packed sum is exact while every group has fewer than 2**bits rows (fields*bits <= 63
    keeps it inside SQLite's 64-bit integers); `exact=True` gives one SUM per field instead,
    for a register whose groups are larger.
    """

    def __init__(self, label: str, names: tuple[str, ...], bits: int) -> None:
        assert len(names) * bits <= 63
        self.label, self.names, self.bits = label, names, bits

    @property
    def max_group(self) -> int:
        return (1 << self.bits) - 1

    def bit(self, cond: Any, name: str) -> Any:
        """`name`'s unit when `cond` holds, else 0."""
        return case((cond, self.unit(name)), else_=literal_column("0"))

    def unit(self, name: str) -> Any:
        return literal_column(str(1 << (self.bits * self.names.index(name))))

    def sums(self, row: Any, exact: bool) -> list[Any]:
        if not exact:
            return [func.sum(row).label(self.label)]
        return [
            func.sum(row.op(">>")(literal_column(str(self.bits * i))).op("&")(1)).label(
                f"{self.label}_{i}"
            )
            for i in range(len(self.names))
        ]

    def values(self, r: Any, exact: bool) -> list[int]:
        """The fields of one result row, in the order of `names`."""
        if exact:
            return [int(getattr(r, f"{self.label}_{i}")) for i in range(len(self.names))]
        v, mask, bits = int(getattr(r, self.label)), self.max_group, self.bits
        return [(v >> (bits * i)) & mask for i in range(len(self.names))]


# Per row: its outcome at period end, and for resolved ones the forward and return channel.
# "closed" (closed without a reply) is the rest: n minus the four outcomes.
_OUTCOMES = _Packed(
    "outcomes",
    (
        "resolved_on_time",
        "resolved_late",
        "pending_not_due",
        "pending_overdue",
        "forwarded",
        "return_counter",
        "return_notice",
    ),
    bits=9,
)
# Per row counted in `received`: paper channel, arrival channel and reopening.
_RECEIVED = _Packed(
    "received_flags",
    ("paper_counter", "paper_post", "ch_email", "ch_web_form", "ch_counter", "reopened"),
    bits=10,
)
assert tuple(f"ch_{c}" for c in CHANNELS) == _RECEIVED.names[2:5]


def _outcome_row(d: Any, p: _Params) -> Any:
    """The packed `_OUTCOMES` of one row: one CASE, so the outcome is worked out once."""
    o = _OUTCOMES
    end = _ts("end_utc", p.end_utc, d.c.answered_at)
    last = bindparam("last_day", p.period.end, type_=Date())
    res = _resolved_ts(d)
    paused = and_(d.c.paused_at.isnot(None), d.c.paused_at < end)
    resolved_flags = (
        o.bit(or_(d.c.status == "da_chuyen", d.c.result == "forwarded"), "forwarded")
        + o.bit(d.c.return_channel == "counter", "return_counter")
        + o.bit(d.c.return_channel == "notice", "return_notice")
    )
    on_time = or_(d.c.due_at.is_(None), _on_or_before(res, d.c.due_at, p.minutes))
    return case(
        (
            res < end,
            case((on_time, o.unit("resolved_on_time")), else_=o.unit("resolved_late"))
            + resolved_flags,
        ),
        (d.c.closed_at < end, literal_column("0")),  # closed without a reply
        (
            paused,
            case(
                # due_at < local date of paused_at: it was already late when the clock stopped
                (~_on_or_before(d.c.paused_at, d.c.due_at, p.minutes), o.unit("pending_overdue")),
                else_=o.unit("pending_not_due"),
            ),
        ),
        (d.c.due_at <= last, o.unit("pending_overdue")),
        else_=o.unit("pending_not_due"),
    )


def _received_row(d: Any, p: _Params) -> Any:
    """The packed `_RECEIVED` of one row, 0 when it was closed without a reply."""
    r = _RECEIVED
    end = _ts("end_utc", p.end_utc, d.c.answered_at)
    flags = r.bit(d.c.paper_channel == "counter", "paper_counter") + r.bit(
        d.c.paper_channel == "post", "paper_post"
    )
    for ch in CHANNELS:
        flags = flags + r.bit(d.c.channel == ch, f"ch_{ch}")
    flags = flags + r.bit(d.c.reopened_count > 0, "reopened")
    # Closed without a reply = closed by the end and not resolved by then; testing closed_at
    # first spares the resolution CASE on every row that is still open.
    return case(
        (d.c.closed_at < end, case((_resolved_ts(d) < end, flags), else_=literal_column("0"))),
        else_=flags,
    )


def _in_period(d: Any, p: _Params, units: list[str] | None) -> Any:
    cond = and_(
        d.c.effective_receipt >= bindparam("first_day", p.period.start, type_=Date()),
        d.c.effective_receipt <= bindparam("last_day", p.period.end, type_=Date()),
    )
    if units is not None:
        cond = and_(cond, d.c.handling_unit.in_(units))
    return cond


def _main_counts(
    conn: Connection, p: _Params, units: list[str] | None, acc: _Acc, calendar: Any
) -> None:
    """Outcomes, channels and reply/closing days per unit, request type and receipt day.

    Grouped by the leading columns of ix_dossier_report, so SQLite aggregates in index order
    (no temporary B-tree); the month is taken from the day here. The moments of first reply
    and closing come back as per-group token lists (`_duration_tokens`), so the working-day
    histograms need neither a second scan nor a sort. PostgreSQL would sort the rows for
    string_agg instead of hashing them: there a second, hash-grouped query is cheaper
    (`_durations_grouped`).
    """
    tokens = conn.dialect.name == "sqlite"
    d = Dossier.__table__
    keys = (d.c.effective_receipt, d.c.handling_unit, d.c.request_type)

    def query(exact: bool) -> Any:
        return (
            select(
                *keys,
                func.count().label("n"),
                *_OUTCOMES.sums(_outcome_row(d, p), exact),
                *_RECEIVED.sums(_received_row(d, p), exact),
                *(_duration_tokens(d, p) if tokens else ()),
            )
            .where(_in_period(d, p, units))
            .group_by(*keys)
        )

    limit = min(_OUTCOMES.max_group, _RECEIVED.max_group)
    exact = False
    try:
        rows = conn.execute(query(exact)).all()
    except OperationalError:  # SQLite's SUM overflowed: a group far above the packing limit
        rows = []
        exact = True
    if exact or any(r.n > limit for r in rows):
        exact = True
        rows = conn.execute(query(exact)).all()
    durations = _Durations(p, calendar)
    # Rows are summed per unit, request type and month first (lists added element-wise), so
    # the bookkeeping below runs once per month instead of once per receipt day.
    width = 1 + len(_OUTCOMES.names)
    totals: dict[tuple[str, str, str], list[int]] = {}
    months: dict[Any, str] = {}
    for r in rows:
        if tokens and r.request_type in HUMAN:
            durations.add(r)
        month = months.get(r.effective_receipt)
        if month is None:
            month = months[r.effective_receipt] = _as_date(r.effective_receipt).strftime("%Y-%m")
        vec = [int(r.n), *_OUTCOMES.values(r, exact), *_RECEIVED.values(r, exact)]
        key = (r.handling_unit, r.request_type, month)
        old = totals.get(key)
        totals[key] = vec if old is None else list(map(operator.add, old, vec))
    for (unit, rtype, month), vec in sorted(totals.items(), key=lambda kv: kv[0][2]):
        s = acc.unit(unit)
        n = vec[0]
        s.classified += n
        if rtype not in HUMAN:
            s.marked_machine += n
            continue
        o = dict(zip(_OUTCOMES.names, vec[1:width], strict=True))
        received = o["resolved_on_time"] + o["resolved_late"]
        received += o["pending_not_due"] + o["pending_overdue"]
        s.closed_without_reply += n - received
        if not received:
            continue
        f = dict(zip(_RECEIVED.names, vec[width:], strict=True))
        s.received += received
        t = s.by_type.setdefault(rtype, {})
        _inc(t, "received", received)
        for name in ("resolved_on_time", "resolved_late", "pending_not_due", "pending_overdue"):
            setattr(s, name, getattr(s, name) + o[name])
            _inc(t, name, o[name])
        s.reopened += f["reopened"]
        _inc(t, "paper_counter", f["paper_counter"])
        _inc(t, "paper_post", f["paper_post"])
        known = 0
        for ch in CHANNELS:
            known += f[f"ch_{ch}"]
            _inc(s.by_channel, ch, f[f"ch_{ch}"])
        _inc(s.by_channel, "khac", received - known)
        m = s.monthly.setdefault(month, {})
        _inc(m, "received", received)
        resolved = o["resolved_on_time"] + o["resolved_late"]
        if resolved:
            s.forwarded += o["forwarded"]
            _inc(t, "return_counter", o["return_counter"])
            _inc(t, "return_notice", o["return_notice"])
            # No return channel recorded: the reply went by e-mail (column 13).
            _inc(t, "return_email", resolved - o["return_counter"] - o["return_notice"])
            _inc(m, "resolved", resolved)
            _inc(m, "resolved_on_time", o["resolved_on_time"])
    if not tokens:
        _durations_grouped(conn, p, units, durations)
    durations.finish(acc)


def _inc(d: dict[Any, int], key: Any, n: int) -> None:
    if n:
        d[key] = d.get(key, 0) + n


def _duration_days(d: Any, p: _Params) -> tuple[Any, Any]:
    """Per row, the local day of the first reply and of the closing, NULL when not counted.

    First reply = first staff answer, else the resolution; closing only for dossiers counted
    in `received` (resolved by then), not for the ones closed without a reply; both only up
    to the period end. The dates stored at write time are used when they are in the report's
    zone; a row written before they existed (NULL) gets them computed here, so the figures
    are the same either way. Without stored dates, SQLite gets day tokens (`day_token`).
    """
    end = _ts("end_utc", p.end_utc, d.c.answered_at)
    minutes = literal_column(str(int(p.minutes)))
    first_ts = func.coalesce(d.c.first_reply_at, _resolved_ts(d))
    if not p.stored_dates:
        counted_close = and_(d.c.closed_at < end, _resolved_ts(d) < end)
        first = case((first_ts < end, day_token(first_ts, minutes)))
        close = case((counted_close, day_token(d.c.closed_at, minutes)))
        return first, close
    last = bindparam("last_day", p.period.end, type_=Date())
    first_on = func.coalesce(d.c.first_reply_on, _local(first_ts, p.minutes))
    closed_on = func.coalesce(d.c.closed_on, _local(d.c.closed_at, p.minutes))
    resolved_on = func.coalesce(d.c.resolved_on, _local(_resolved_ts(d), p.minutes))
    first = case((first_on <= last, first_on))
    close = case((and_(closed_on <= last, resolved_on <= last), closed_on))
    return first, close


def _duration_tokens(d: Any, p: _Params) -> list[Any]:
    """Per group, the comma-separated days (or day tokens) of `_duration_days`."""
    first, close = _duration_days(d, p)
    if p.stored_dates:
        first, close = date_text(first), date_text(close)
    return [tokens_agg(first).label("first_tokens"), tokens_agg(close).label("close_tokens")]


def _durations_grouped(
    conn: Connection, p: _Params, units: list[str] | None, durations: _Durations
) -> None:
    """The days of `_duration_days` counted per unit, receipt day and day (hash-grouped)."""
    d = Dossier.__table__
    first, close = _duration_days(d, p)
    q = (
        select(
            d.c.handling_unit,
            d.c.effective_receipt,
            first.label("first_day"),
            close.label("close_day"),
            func.count().label("n"),
        )
        .where(and_(_in_period(d, p, units), d.c.request_type.in_(HUMAN)))
        .group_by(*(literal_column(str(i)) for i in range(1, 5)))
    )
    counts = durations.counts
    for unit, effective_receipt, first_day, close_day, n in conn.execute(q).all():
        if first_day is not None:
            key = ("first_reply_days", unit, effective_receipt, first_day)
            counts[key] = counts.get(key, 0) + n
        if close_day is not None:
            key = ("closing_days", unit, effective_receipt, close_day)
            counts[key] = counts.get(key, 0) + n


class _Durations:
    """Working days from effective receipt to first reply and to closing, as histograms.

    Tokens are counted per unit and receipt day first, so the calendar is looked up once per
    distinct (receipt day, event day) of a unit, not once per dossier.
    """

    def __init__(self, p: _Params, calendar: Any) -> None:
        self.minutes = p.minutes
        first, last = p.period.start, p.period.end
        # Cumulative working days over the period: receipt days lie in it and event days are
        # at most its last day; an earlier event day is before the receipt day anyway.
        self.first = first
        self.cum: list[int] = []
        count = 0
        for i in range((last - first).days + 1):
            count += bool(calendar.is_working_day(first + timedelta(days=i)))
            self.cum.append(count)
        self.pos: dict[Any, int] = {}  # day or token → index in cum (-1: before the period)
        # (histogram, unit, receipt day) → token lists of its groups (one per request type)
        self.tokens: dict[tuple[str, str, Any], list[str]] = defaultdict(list)
        # (histogram, unit, receipt day, day or token) → dossiers
        self.counts: dict[tuple[str, str, Any, Any], int] = {}

    def _index(self, token: Any) -> int:
        i = self.pos.get(token)
        if i is None:
            day = token if isinstance(token, date) else _token_day(str(token), self.minutes)
            i = (day - self.first).days
            i = self.pos[token] = i if i >= 0 else -1
        return i

    def add(self, r: Any) -> None:
        lists = (("first_reply_days", r.first_tokens), ("closing_days", r.close_tokens))
        for attr, tokens in lists:
            if tokens:
                self.tokens[(attr, r.handling_unit, r.effective_receipt)].append(tokens)

    def finish(self, acc: _Acc) -> None:
        counts = self.counts
        for (attr, unit, effective_receipt), parts in self.tokens.items():
            for token, n in Counter(",".join(parts).split(",")).items():
                key = (attr, unit, effective_receipt, token)
                counts[key] = counts.get(key, 0) + n
        ats: dict[Any, int] = {}
        for (attr, unit, effective_receipt, token), n in counts.items():
            at = ats.get(effective_receipt)
            if at is None:
                at = ats[effective_receipt] = (_as_date(effective_receipt) - self.first).days
            i = self._index(token)
            # An answer before the effective receipt (mail after 15:00 answered that evening):
            # 0 days.
            days = self.cum[i] - self.cum[at] if i > at else 0
            hist = getattr(acc.unit(unit), attr)
            hist[days] = hist.get(days, 0) + n


def _as_date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _ratings(conn: Connection, p: _Params, units: list[str] | None, acc: _Acc) -> None:
    """Ratings used by the period end, per unit of their dossier.

    Ratings are counted per dossier first: the grouped subquery cannot be flattened, so the
    join starts from the (small) rating side on every database, even where SQLite has no
    statistics on `rating` and would otherwise walk the period's dossiers.
    """
    d, r = Dossier.__table__, Rating.__table__
    end = _ts("end_utc", p.end_utc, r.c.used_at)
    used = (
        select(r.c.dossier_id, r.c.level, func.count().label("n"))
        .where(and_(r.c.used_at.isnot(None), r.c.used_at < end, r.c.level.isnot(None)))
        .group_by(r.c.dossier_id, r.c.level)
        .subquery("used")
    )
    q = (
        select(d.c.handling_unit, used.c.level, func.sum(used.c.n).label("n"))
        .select_from(used.join(d, used.c.dossier_id == d.c.id))
        .where(and_(_in_period(d, p, units), d.c.request_type.in_(HUMAN)))
        .group_by(d.c.handling_unit, used.c.level)
    )
    for row in conn.execute(q):
        _inc(acc.unit(row.handling_unit).ratings, str(row.level), int(row.n))


def _corrections(conn: Connection, p: _Params, units: list[str] | None, acc: _Acc) -> None:
    d, a = Dossier.__table__, AuditEvent.__table__
    end = _ts("end_utc", p.end_utc, a.c.at)
    q = (
        select(d.c.handling_unit, a.c.dossier_id, a.c.detail)
        .select_from(a.join(d, a.c.dossier_id == d.c.id))
        .where(and_(_in_period(d, p, units), a.c.action == "reclassified", a.c.at < end))
        .order_by(a.c.dossier_id, a.c.at, a.c.id)
    )
    seen: set[int] = set()
    for row in conn.execute(q):
        s = acc.unit(row.handling_unit)
        if row.dossier_id not in seen:
            seen.add(row.dossier_id)
            s.corrected += 1
        detail = row.detail or {}
        _inc(s.corrections, f"{detail.get('from', '?')}>{detail.get('to', '?')}", 1)


def _machine_mail(
    conn: Connection, p: _Params, acc: _Acc, mailbox_units: dict[str, str], default_unit: str
) -> None:
    m = MailMessage.__table__
    q = (
        select(m.c.source, m.c.disposition, func.count().label("n"))
        .where(
            and_(
                m.c.direction == "in",
                m.c.dossier_id.is_(None),
                m.c.disposition.in_(MACHINE_DISPOSITIONS),
                m.c.received_at >= _ts("start_utc", p.start_utc, m.c.received_at),
                m.c.received_at < _ts("end_utc", p.end_utc, m.c.received_at),
            )
        )
        .group_by(m.c.source, m.c.disposition)
    )
    for row in conn.execute(q):
        unit = mailbox_unit(row.source or "", mailbox_units) or default_unit
        _inc(acc.unit(unit).machine_mail, str(row.disposition), int(row.n))


def mailbox_unit(source: str, mailbox_units: dict[str, str]) -> str | None:
    """Unit of the mailbox a mail came from: MailMessage.source starts with the mailbox name."""
    best = None
    for name in sorted(mailbox_units, key=len, reverse=True):
        if source == name or (source.startswith(name) and not source[len(name)].isalnum()):
            best = mailbox_units[name]
            break
    return best


class _Acc:
    def __init__(self) -> None:
        self.units: dict[str, UnitStats] = defaultdict(UnitStats)

    def unit(self, code: str) -> UnitStats:
        return self.units[code]


# ---- entry point -----------------------------------------------------------------------------
def compute(
    engine: Engine,
    period: Period,
    *,
    tz: ZoneInfo,
    calendar: Any,
    rules_dir: str | None = None,
    units: Iterable[str] | None = None,
    exact: bool = False,
    mailbox_units: dict[str, str] | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """The report of `period` for `units` (and their Chi cục unless exact), or for all units.

    `calendar` needs ``is_working_day(date)`` (mailbot.workdays.WorkCalendar);
    `mailbox_units` maps a mailbox name to its unit, to place machine mail.
    """
    step = progress or (lambda _msg: None)
    minutes = _offset_minutes(tz, period)
    stored = _offset_minutes(REPORT_DATES_TZ, period) == minutes
    p = _Params(period, period.end_utc(tz), period.start_utc(tz), minutes, stored)
    tree = load_unit_tree(rules_dir)
    span = {"start": period.start, "end": period.end}
    unknown = sorted(set(units or ()) - set(tree))
    if unknown:
        raise ExportError(
            f"không có đơn vị mã {', '.join(unknown)} trong {rules_dir}/units.toml; "
            "kiểm tra mã đơn vị (ví dụ KG, KG-RACHGIA)"
        )
    wanted = None if units is None else scope(tree, list(units), exact=exact, **span)
    acc = _Acc()
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            # Room to hash-aggregate in memory (the default 4 MB sorts on disk), and no JIT:
            # compiling these CASE trees costs more than it saves on a one-off report.
            conn.execute(text("SET LOCAL work_mem = '64MB'"))
            conn.execute(text("SET LOCAL jit = off"))
        step(
            "Đếm hồ sơ theo đơn vị, loại yêu cầu và kết quả; tính thời gian trả lời và đóng hồ "
            "sơ (ngày làm việc)"
        )
        _main_counts(conn, p, wanted, acc, calendar)
        step("Đếm đánh giá mức độ hài lòng")
        _ratings(conn, p, wanted, acc)
        step("Đếm các lần cán bộ sửa phân loại")
        _corrections(conn, p, wanted, acc)
        step("Đếm thư tự động và thư rác")
        mb_units = mailbox_units or {}
        roots = [c for c, u in tree.items() if u.parent is None]
        default_unit = (wanted or [None])[0] or (roots[0] if roots else "KG")
        _machine_mail(conn, p, acc, mb_units, default_unit)
    tree = load_unit_tree(rules_dir, extra=acc.units)
    if wanted is None:
        # Every unit that existed during the period, and any unit that has figures.
        codes = scope(tree, None, exact=True, **span) + [c for c in acc.units if c in tree]
    else:
        # Figures of units outside the scope (machine mail of another mailbox) are dropped.
        codes = wanted
    codes = sort_units(tree, codes)
    rows = [UnitReport(tree[c], acc.units.get(c, UnitStats())) for c in codes if c in tree]
    return Report(period, rows, timezone=tz.key, generated_at=datetime.now(tz).replace(tzinfo=None))
