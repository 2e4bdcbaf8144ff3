"""APScheduler wiring for `mailbot run`: it only ticks; all state lives in the database.

Jobs: poll every mailbox, drain the outbox, and the reminder sweeps (morning digest, warnings,
escalations). The reminder jobs are kept in the database job store so a restart keeps their
schedule and runs a missed one late (coalesced, never twice: reminders are also idempotent by
their outbox ``once_key``).
"""

from __future__ import annotations

import importlib.util
import logging
import signal
import threading
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.engine import Engine

from mailbot.config import Config, load_config
from mailbot.db import create_schema, get_engine

log = logging.getLogger("mailbot.scheduler")
_lock = threading.Lock()


def poll_job(config: Config, engine: Engine) -> None:
    from mailbot.pipeline import poll_once

    # One poll at a time in this process; other workers are kept apart by the database.
    if not _lock.acquire(blocking=False):
        return
    try:
        result = poll_once(config, engine, send=True)
        if result.outcomes or result.sent:
            log.info("poll: %s, sent %d", result.counts(), result.sent)
    except Exception:
        log.exception("poll failed; will try again at the next tick")
    finally:
        _lock.release()


def outbox_job(config: Config, engine: Engine) -> None:
    from mailbot.send import drain_once

    try:
        drain_once(engine, config)
    except Exception:
        log.exception("sending failed; will try again at the next tick")


def reminders_job(config_file: str) -> None:
    """Module-level and given only the config path, so the database job store can keep it."""
    from mailbot import reminders  # type: ignore[attr-defined]

    config = load_config(config_file)
    engine = get_engine(config.resolved_database_url)
    try:
        reminders.sweep_once(engine, config)
    except Exception:
        log.exception("reminder sweep failed; will try again at the next tick")


def idle_watch(config: Config, engine: Engine, scheduler: BlockingScheduler,
               stop: threading.Event) -> None:
    """Per IMAP mailbox with IDLE: wake the poll job as soon as the server announces mail."""
    from mailbot.config import ImapMailbox
    from mailbot.errors import MailbotError
    from mailbot.sources.imap import ImapSource

    def watch(mailbox: ImapMailbox) -> None:
        delay = 5.0
        while not stop.is_set():
            try:
                source = ImapSource(mailbox, engine, base_dir=config.base_dir)
                try:
                    while not stop.is_set():
                        if source.wait_for_mail(timeout=min(config.poll_interval, 290)):
                            job = scheduler.get_job("poll")
                            if job is not None:
                                job.modify(next_run_time=datetime.now(config.tz))
                        delay = 5.0
                finally:
                    source.close()
            except MailbotError as exc:
                log.warning("IDLE on %s: %s; retrying in %.0fs", mailbox.name, exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, 300.0)
            except Exception:
                log.exception("IDLE on %s failed; polling continues", mailbox.name)
                stop.wait(delay)
                delay = min(delay * 2, 300.0)

    for mb in config.mailbox:
        if isinstance(mb, ImapMailbox) and mb.idle:
            threading.Thread(target=watch, args=(mb,), name=f"idle-{mb.name}",
                             daemon=True).start()


def _hhmm(value: str) -> tuple[int, int]:
    hh, mm = value.split(":")
    return int(hh), int(mm)


def build_scheduler(config: Config, engine: Engine) -> BlockingScheduler:
    create_schema(engine)
    scheduler = BlockingScheduler(
        jobstores={
            "default": MemoryJobStore(),
            "db": SQLAlchemyJobStore(engine=engine, tablename="mailbot_jobs"),
        },
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 12 * 3600},
        timezone=config.tz,
    )
    now = datetime.now(config.tz)
    scheduler.add_job(poll_job, "interval", seconds=config.poll_interval, args=[config, engine],
                      id="poll", next_run_time=now)
    scheduler.add_job(outbox_job, "interval", seconds=config.outbox_interval,
                      args=[config, engine], id="outbox")
    if importlib.util.find_spec("mailbot.reminders") is not None and config.source_file:
        for job_id, at in (("digest", config.reminders.digest_time),
                           ("warning", config.reminders.warning_time),
                           ("escalation", config.reminders.escalation_time)):
            hh, mm = _hhmm(at)
            scheduler.add_job(reminders_job, "cron", day_of_week="mon-sat", hour=hh, minute=mm,
                              args=[config.source_file], id=f"reminders-{job_id}",
                              jobstore="db", replace_existing=True)
        # A sweep at start-up catches up what was missed while the service was down; it
        # never sends twice (each reminder has its once_key).
        scheduler.add_job(reminders_job, "date", run_date=now + timedelta(seconds=20),
                          args=[config.source_file], id="reminders-startup")
    return scheduler


def run_service(config: Config) -> None:
    """Run until SIGTERM or SIGINT; a running job finishes before the process exits."""
    engine = get_engine(config.resolved_database_url)
    scheduler = build_scheduler(config, engine)

    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.warning("signal %d received: stopping after the running jobs", signum)
        stop.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.warning("mailbot running: %d mailbox(es), poll every %ds", len(config.mailbox),
                config.poll_interval)
    idle_watch(config, engine, scheduler, stop)
    scheduler.start()


def describe(scheduler: Any) -> list[str]:
    return [f"{job.id}: {job.trigger}" for job in scheduler.get_jobs()]
