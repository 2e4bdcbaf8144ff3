"""Time a one-year report over N generated dossiers on SQLite and PostgreSQL.

Prints the report time, best and typical (median of --repeat runs), and its ratio to a
baseline measured in the same run on the same table (a plain ``SELECT COUNT(*)`` of the
period). Target: under 2 s for 1,000,000 dossiers.

    python bench/bench_stats.py                      # 1,000,000 rows, SQLite
    python bench/bench_stats.py --rows 200000 --db both --pg-url postgresql://u:p@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from mailbot.config import PROJECT_DIR  # noqa: E402
from mailbot.db import create_schema, get_engine  # noqa: E402
from mailbot.dossier.workflow import report_dates  # noqa: E402
from mailbot.report.periods import thads_year  # noqa: E402
from mailbot.report.stats import compute  # noqa: E402
from mailbot.workdays import WorkCalendar  # noqa: E402

RULES = PROJECT_DIR / "rules"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PERIOD = thads_year(2025)
UNITS = ["KG"] + [
    f"KG-{x}"
    for x in (
        "RACHGIA",
        "HATIEN",
        "KIENLUONG",
        "GIANGTHANH",
        "HONDAT",
        "TANHIEP",
        "CHAUTHANH",
        "GIONGRIENG",
        "GOQUAO",
        "ANBIEN",
        "ANMINH",
        "UMINHTHUONG",
        "VINHTHUAN",
        "PHUQUOC",
        "KIENHAI",
    )
]
TYPES = ["yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai", "to_cao", "hoi_dap"] * 8 + [
    "tu_dong",
    "thu_rac",
]
COLUMNS = (
    "code, receiving_unit, unit, handling_unit, request_type, status, needs_triage, confidence, "
    "channel, sender_addr, sender_name, subject, judgment_refs, enforcement_refs, explanation, "
    "received_at, effective_receipt, due_at, first_reply_at, answered_at, closed_at, result, "
    "paper_channel, return_channel, paused_at, paused_workdays, bounced, reopened_count, "
    "created_at, updated_at, first_reply_on, resolved_on, closed_on"
)


def rows(n: int, seed: int = 1) -> Iterator[tuple[object, ...]]:
    """Dossier rows as tuples in the stored formats (UTC timestamps as ISO text)."""
    rnd = random.Random(seed)
    cal = WorkCalendar.load(RULES)
    start = PERIOD.start - timedelta(days=20)
    days = [start + timedelta(days=i) for i in range(400)]
    work = [d for d in days if cal.is_working_day(d)]
    due = {d: cal.add_working_days(d, 2) for d in work}
    later = {d: [cal.add_working_days(d, k) for k in (0, 1, 2, 3, 5, 12)] for d in work}

    def utc(d: date, hour: int) -> datetime:
        return datetime(d.year, d.month, d.day, hour) - timedelta(hours=7)

    def ts(d: date, hour: int) -> str:
        return utc(d, hour).isoformat(sep=" ")

    # In arrival order, as a real register grows (row ids follow the receipt date).
    effs = sorted(rnd.choice(work) for _ in range(n))
    for i, eff in enumerate(effs):
        unit = rnd.choice(UNITS)
        fate = rnd.random()
        reply_day = rnd.choice(later[eff])
        answered_dt = utc(reply_day, rnd.choice((8, 10, 14, 16))) if fate < 0.7 else None
        closed_dt = utc(reply_day + timedelta(days=3), 9) if fate < 0.4 else None
        answered = answered_dt.isoformat(sep=" ") if answered_dt else None
        closed = closed_dt.isoformat(sep=" ") if closed_dt else None
        status = "da_dong" if closed else "da_tra_loi" if answered else "dang_xu_ly"
        received = ts(eff, 9)
        # The report dates, as the workflow stores them on every write.
        dates = report_dates(
            answered_at=answered_dt,
            closed_at=closed_dt,
            result="answer" if closed else None,
            status=status,
            first_reply_at=answered_dt,
            updated_at=utc(eff, 9),
        )
        yield (
            f"{unit}-{eff.year}-{i:07d}",
            unit,
            unit,
            unit,
            rnd.choice(TYPES),
            status,
            False,
            0.9,
            rnd.choice(("email", "email", "web_form")),
            f"x{i}@example.vn",
            "",
            "",
            "[]",
            "[]",
            "{}",
            received,
            eff.isoformat(),
            due[eff].isoformat(),
            answered,
            answered,
            closed,
            "answer" if closed else None,
            rnd.choice((None, None, "counter", "post")),
            rnd.choice((None, "email", "counter", "notice")) if answered else None,
            ts(eff, 15) if fate > 0.95 else None,
            0,
            False,
            1 if fate > 0.97 else 0,
            received,
            received,
            *(d.isoformat() if d else None for d in dates),
        )


def fill_sqlite(engine: Engine, n: int) -> None:
    marks = ", ".join("?" * len(COLUMNS.split(",")))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        batch: list[tuple[object, ...]] = []
        for r in rows(n):
            batch.append(r)
            if len(batch) == 50_000:
                cur.executemany(f"INSERT INTO dossier ({COLUMNS}) VALUES ({marks})", batch)
                batch.clear()
        if batch:
            cur.executemany(f"INSERT INTO dossier ({COLUMNS}) VALUES ({marks})", batch)
        raw.commit()
        cur.execute("ANALYZE")
    finally:
        raw.close()


def fill_postgres(engine: Engine, n: int) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY dossier ({COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            buf = io.StringIO()
            for k, r in enumerate(rows(n), start=1):
                buf.write("\t".join(_pg(v) for v in r) + "\n")
                if k % 50_000 == 0:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        raw.commit()
        cur.execute("ANALYZE dossier")
        raw.commit()
    finally:
        raw.close()


def _pg(v: object) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    s = str(v)
    # Timestamps are UTC wall time; the columns are timestamptz.
    return s + "+00" if len(s) >= 19 and s[10] == " " else s


def timings(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def measure(
    label: str, engine: Engine, n: int, fill: Callable[[Engine, int], None], repeat: int
) -> None:
    create_schema(engine)
    t0 = time.perf_counter()
    fill(engine, n)
    print(f"[{label}] generated {n:,} dossiers in {time.perf_counter() - t0:.1f} s")
    cal = WorkCalendar.load(RULES)

    def baseline() -> object:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT COUNT(*) FROM dossier WHERE effective_receipt BETWEEN :a AND :b"),
                {"a": PERIOD.start, "b": PERIOD.end},
            ).scalar()

    def report() -> object:
        return compute(engine, PERIOD, tz=TZ, calendar=cal, rules_dir=str(RULES))

    # Interleaved, so that both see the same load on a shared machine.
    base_t: list[float] = []
    rep_t: list[float] = []
    for _ in range(repeat):
        base_t += timings(baseline, 1)
        rep_t += timings(report, 1)
    total = compute(engine, PERIOD, tz=TZ, calendar=cal, rules_dir=str(RULES)).total
    base, rep = min(base_t), min(rep_t)
    base_med, rep_med = statistics.median(base_t), statistics.median(rep_t)
    print(
        f"[{label}] baseline SELECT COUNT(*) over the period: best {base:.3f} s, "
        f"typical {base_med:.3f} s"
    )
    print(
        f"[{label}] one-year report (all units):              best {rep:.3f} s, "
        f"typical {rep_med:.3f} s over {repeat} runs"
    )
    print(
        f"[{label}] ratio to baseline: best {rep / base:.1f}×, typical {rep_med / base_med:.1f}×; "
        f"target < 2 s: {'met' if rep_med < 2 else 'NOT met'} (typical)"
    )
    print(
        f"[{label}] received {total.received:,}, on time {total.resolved_on_time:,}, "
        f"late {total.resolved_late:,}, open {total.pending_not_due + total.pending_overdue:,}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("MAILBOT_TEST_PG_URL"))
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each query")
    args = ap.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            engine = get_engine(f"sqlite:///{tmp}/bench.db")
            measure("SQLite", engine, args.rows, fill_sqlite, args.repeat)
            engine.dispose()
    if args.db in ("postgresql", "both"):
        if not args.pg_url:
            sys.exit("PostgreSQL: pass --pg-url or set MAILBOT_TEST_PG_URL")
        import psycopg

        schema = f"bench_{secrets.token_hex(4)}"
        with psycopg.connect(args.pg_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            sep = "&" if "?" in args.pg_url else "?"
            url = f"{args.pg_url}{sep}options={quote(f'-csearch_path={schema}', safe='')}"
            engine = get_engine(url)
            measure("PostgreSQL", engine, args.rows, fill_postgres, args.repeat)
            engine.dispose()
        finally:
            with psycopg.connect(args.pg_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
