"""Export dossiers as labelled mail in the corpus format (eml/ + manifest.jsonl).

A clerk's correction (reclassified, unit changed) is the label of record: exported mail can be
measured with `mailbot eval DIR` and used to improve rules/. The export holds personal data
(the original mail), so it is written with owner-only permissions and logged in the audit trail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailbot.dossier.models import HUMAN_TYPES, AuditEvent, Dossier, MailMessage

CORRECTIONS = ("reclassified", "unit_changed")


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    count: int


def export_labels(engine: Engine, out: Path, *, corrected_only: bool = True, actor: str = "cli",
                  on_item: Callable[[], None] | None = None) -> ExportResult:
    """Write one .eml and one manifest line per dossier (only corrected ones by default)."""
    (out / "eml").mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    humans = {t.value for t in HUMAN_TYPES}
    lines = []
    with Session(engine) as session:
        corrected = set(session.exec(
            select(AuditEvent.dossier_id).where(AuditEvent.action.in_(CORRECTIONS))  # type: ignore[attr-defined]
        ).all())
        for dossier in session.exec(select(Dossier).order_by(Dossier.id)).all():
            if corrected_only and dossier.id not in corrected:
                continue
            first = session.exec(
                select(MailMessage).where(MailMessage.dossier_id == dossier.id,
                                          MailMessage.direction == "in")
                .order_by(MailMessage.received_at, MailMessage.id)
            ).first()
            if first is None:
                continue
            name = f"eml/{dossier.code}.eml"
            path = out / name
            path.write_bytes(first.raw)
            os.chmod(path, 0o600)
            human = dossier.request_type in humans
            lines.append({
                "file": name,
                "request_type": dossier.request_type,
                "needs_reply": human and dossier.result != "no_reply",
                "machine_kind": None,
                "unit": dossier.unit if human else None,
                "judgment_refs": list(dossier.judgment_refs or []),
                "enforcement_refs": list(dossier.enforcement_refs or []),
                "thread_of": None,
                "tags": ["clerk_corrected"] if dossier.id in corrected else [],
            })
            if on_item:
                on_item()
        session.add(AuditEvent(actor=actor, action="labels_exported",
                               detail={"count": len(lines), "corrected_only": corrected_only}))
        session.commit()
    manifest = out / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                        encoding="utf-8")
    os.chmod(manifest, 0o600)
    return ExportResult(out, len(lines))
