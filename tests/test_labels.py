"""A clerk's correction comes back out as labelled data that `mailbot eval` can read."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, select

from mailbot.classify import load_ruleset
from mailbot.config import Config
from mailbot.db import get_engine
from mailbot.dossier import workflow
from mailbot.dossier.models import Dossier, utcnow
from mailbot.evaluate import evaluate
from mailbot.labels import export_labels
from mailbot.parse import parse_mail
from mailbot.pipeline import poll_once
from tests.test_pipeline import config, deliver, mail  # noqa: F401  (fixture and helpers)


def test_corrections_export_as_a_corpus(config: Config, tmp_path: Path) -> None:  # noqa: F811
    deliver(config, mail())
    deliver(config, mail(sender="b@example.vn", subject="Hỏi giờ làm việc",
                         body="Cho tôi hỏi giờ làm việc của Cục vào thứ Bảy?"))
    engine = get_engine(config.resolved_database_url)
    poll_once(config, engine)
    with Session(engine) as s:
        d = s.exec(select(Dossier).where(Dossier.request_type == "yeu_cau_thi_hanh_an")).one()
        workflow.reclassify(s, d, "khieu_nai", actor="user:lan", now=utcnow())
        s.commit()
        code = d.code
    result = export_labels(engine, tmp_path / "labels")
    assert result.count == 1
    manifest = (tmp_path / "labels" / "manifest.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(x) for x in manifest.splitlines()]
    assert rows[0]["file"] == f"eml/{code}.eml" and rows[0]["request_type"] == "khieu_nai"
    assert rows[0]["tags"] == ["clerk_corrected"]
    exported = (tmp_path / "labels" / rows[0]["file"]).read_bytes()
    assert b"45/2017/DS-ST" in parse_mail(exported).text.encode()
    report = evaluate(tmp_path / "labels", load_ruleset(config.rules_path))
    assert report.total == 1
    assert export_labels(engine, tmp_path / "all", corrected_only=False).count == 2
