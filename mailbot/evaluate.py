"""Measure classification against a labelled corpus (eml/ + manifest.jsonl) and check targets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailbot.classify import Classification, classify
from mailbot.classify.ruleset import ALL_TYPES, HUMAN_TYPES, RuleSet
from mailbot.errors import MailbotError
from mailbot.parse import ParsedMail, parse_mail

# Targets of issue 4 (request types, machine mail, units, references).
TARGETS = {
    "type_accuracy": 0.97,
    "machine_spam_caught": 0.98,
    "unit_accuracy": 0.95,
    "judgment_refs_accuracy": 0.95,
}


@dataclass
class Miss:
    file: str
    what: str  # type | needs_reply | unit | judgment_refs | thread
    expected: Any
    got: Any
    hits: list[str] = field(default_factory=list)


@dataclass
class EvalReport:
    total: int
    confusion: dict[str, dict[str, int]]
    per_type: dict[str, dict[str, float]]
    type_accuracy: float
    needs_reply_missed: list[str]  # labelled true, predicted false
    needs_reply_extra: list[str]  # labelled false, predicted true
    human_as_machine: list[str]  # needs_reply=true mail classified tu_dong/thu_rac
    machine_spam_caught: float
    unit_accuracy: float
    unit_total: int
    unit_null_accuracy: float
    judgment_refs_accuracy: float
    enforcement_refs_accuracy: float
    thread_accuracy: float
    misses: list[Miss]

    @property
    def targets(self) -> dict[str, tuple[float, float, bool]]:
        out = {k: (getattr(self, k), v, getattr(self, k) >= v) for k, v in TARGETS.items()}
        out["no_human_as_machine"] = (float(len(self.human_as_machine)), 0.0,
                                      not self.human_as_machine)
        return out

    @property
    def targets_met(self) -> bool:
        return all(ok for _, _, ok in self.targets.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "type_accuracy": round(self.type_accuracy, 4),
            "confusion": self.confusion,
            "per_type": self.per_type,
            "needs_reply_missed": self.needs_reply_missed,
            "needs_reply_extra": self.needs_reply_extra,
            "human_as_machine": self.human_as_machine,
            "machine_spam_caught": round(self.machine_spam_caught, 4),
            "unit_accuracy": round(self.unit_accuracy, 4),
            "unit_total": self.unit_total,
            "unit_null_accuracy": round(self.unit_null_accuracy, 4),
            "judgment_refs_accuracy": round(self.judgment_refs_accuracy, 4),
            "enforcement_refs_accuracy": round(self.enforcement_refs_accuracy, 4),
            "thread_accuracy": round(self.thread_accuracy, 4),
            "targets": {k: {"value": round(v, 4), "target": t, "met": ok}
                        for k, (v, t, ok) in self.targets.items()},
            "targets_met": self.targets_met,
            "misses": [m.__dict__ for m in self.misses],
        }


def load_manifest(corpus: Path) -> list[dict[str, Any]]:
    path = corpus / "manifest.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise MailbotError(f"không đọc được {path}: {exc.strerror}; thư mục phải có "
                           "eml/ và manifest.jsonl") from exc
    return [json.loads(line) for line in lines if line.strip()]


def _ids(mail: ParsedMail) -> list[str]:
    return [mail.in_reply_to or "", *mail.references, *mail.returned_message_ids]


def link_threads(mails: dict[str, ParsedMail]) -> dict[str, str | None]:
    """file → file of the first corpus mail of its thread, by In-Reply-To/References/bounce."""
    by_id = {m.message_id: f for f, m in mails.items()}
    parent: dict[str, str | None] = {}
    for f, m in mails.items():
        found = None
        # The oldest reference that is a corpus mail opened the dossier.
        for mid in [*m.references, m.in_reply_to or "", *m.returned_message_ids]:
            if mid and mid in by_id and by_id[mid] != f:
                found = by_id[mid]
                break
        parent[f] = found

    def root(f: str) -> str | None:
        seen = {f}
        p = parent.get(f)
        while p is not None and parent.get(p) is not None and p not in seen:
            seen.add(p)
            p = parent[p]
        return p

    return {f: root(f) for f in mails}


def evaluate(corpus: Path, rules: RuleSet, *, threshold: float = 0.5) -> EvalReport:
    """Classify every labelled mail and compare with its labels."""
    rows = load_manifest(corpus)
    mails: dict[str, ParsedMail] = {}
    results: dict[str, Classification] = {}
    for row in rows:
        raw = (corpus / row["file"]).read_bytes()
        mails[row["file"]] = parse_mail(raw)
        results[row["file"]] = classify(mails[row["file"]], rules, threshold=threshold)
    threads = link_threads(mails)

    confusion: dict[str, dict[str, int]] = {t: dict.fromkeys(ALL_TYPES, 0) for t in ALL_TYPES}
    misses: list[Miss] = []
    nr_missed, nr_extra, human_machine = [], [], []
    unit_ok = unit_n = null_ok = null_n = ref_ok = ref_n = enf_ok = thr_ok = 0
    machine_n = machine_ok = 0
    for row in rows:
        f = row["file"]
        c = results[f]
        hits = [f"{h.rule}({h.where}:{h.score:g})" for h in c.hits]
        exp = row["request_type"]
        confusion[exp][c.request_type] += 1
        if c.request_type != exp:
            misses.append(Miss(f, "type", exp, c.request_type, hits))
        if exp in ("tu_dong", "thu_rac"):
            machine_n += 1
            machine_ok += c.request_type in ("tu_dong", "thu_rac")
        if row["needs_reply"] and not c.needs_reply:
            nr_missed.append(f)
            if c.request_type in ("tu_dong", "thu_rac"):
                human_machine.append(f)
        elif not row["needs_reply"] and c.needs_reply:
            nr_extra.append(f)
            misses.append(Miss(f, "needs_reply", False, True, hits))
        if row.get("unit") is not None:
            unit_n += 1
            if c.unit == row["unit"]:
                unit_ok += 1
            else:
                misses.append(Miss(f, "unit", row["unit"], c.unit,
                                   [h for h in hits if h.startswith("route")]))
        elif exp in HUMAN_TYPES:
            null_n += 1
            null_ok += c.unit is None
            if c.unit is not None:
                misses.append(Miss(f, "unit", None, c.unit,
                                   [h for h in hits if h.startswith("route")]))
        if exp != "thu_rac":
            ref_n += 1
            if set(c.judgment_refs) == set(row.get("judgment_refs", [])):
                ref_ok += 1
            else:
                misses.append(Miss(f, "judgment_refs", row.get("judgment_refs"),
                                   list(c.judgment_refs)))
            if set(c.enforcement_refs) == set(row.get("enforcement_refs", [])):
                enf_ok += 1
            else:
                misses.append(Miss(f, "enforcement_refs", row.get("enforcement_refs"),
                                   list(c.enforcement_refs)))
        if threads.get(f) == row.get("thread_of"):
            thr_ok += 1
        else:
            misses.append(Miss(f, "thread", row.get("thread_of"), threads.get(f)))

    per_type: dict[str, dict[str, float]] = {}
    for t in ALL_TYPES:
        tp = confusion[t][t]
        pred = sum(confusion[e][t] for e in ALL_TYPES)
        actual = sum(confusion[t].values())
        per_type[t] = {
            "precision": round(tp / pred, 4) if pred else 1.0,
            "recall": round(tp / actual, 4) if actual else 1.0,
            "support": actual,
        }
    n = len(rows) or 1
    correct = sum(confusion[t][t] for t in ALL_TYPES)
    return EvalReport(
        total=len(rows),
        confusion=confusion,
        per_type=per_type,
        type_accuracy=correct / n,
        needs_reply_missed=nr_missed,
        needs_reply_extra=nr_extra,
        human_as_machine=human_machine,
        machine_spam_caught=machine_ok / machine_n if machine_n else 1.0,
        unit_accuracy=unit_ok / unit_n if unit_n else 1.0,
        unit_total=unit_n,
        unit_null_accuracy=null_ok / null_n if null_n else 1.0,
        judgment_refs_accuracy=ref_ok / ref_n if ref_n else 1.0,
        enforcement_refs_accuracy=enf_ok / ref_n if ref_n else 1.0,
        thread_accuracy=thr_ok / n,
        misses=misses,
    )


def format_report(rep: EvalReport) -> str:
    """Readable Vietnamese summary for `mailbot eval`."""
    short = {t: t[:8] for t in ALL_TYPES}
    lines = [f"Số thư: {rep.total}", "", "Ma trận nhầm lẫn (hàng: nhãn, cột: kết quả):"]
    lines.append(" " * 22 + " ".join(f"{short[t]:>8}" for t in ALL_TYPES))
    for t in ALL_TYPES:
        lines.append(f"{t:<22}" + " ".join(f"{rep.confusion[t][p]:>8}" for p in ALL_TYPES))
    lines += ["", "Theo loại (độ chính xác / độ bao phủ / số thư):"]
    for t, v in rep.per_type.items():
        lines.append(f"  {t:<22} {v['precision']:.3f} / {v['recall']:.3f} / {v['support']:g}")
    lines += [
        "",
        f"Loại yêu cầu đúng: {rep.type_accuracy:.2%}",
        f"Thư tự động và thư rác bắt được: {rep.machine_spam_caught:.2%}",
        f"Cần trả lời nhưng bỏ sót: {len(rep.needs_reply_missed)} "
        f"{' '.join(rep.needs_reply_missed)}",
        f"Không cần trả lời nhưng đánh dấu cần: {len(rep.needs_reply_extra)} "
        f"{' '.join(rep.needs_reply_extra)}",
        f"Thư người gửi bị xếp là tự động/rác: {len(rep.human_as_machine)}",
        f"Đơn vị đúng (thư có nhãn đơn vị, {rep.unit_total}): {rep.unit_accuracy:.2%}; "
        f"thư không xác định được đơn vị: {rep.unit_null_accuracy:.2%}",
        f"Số bản án đúng hoàn toàn: {rep.judgment_refs_accuracy:.2%}; "
        f"số quyết định THA: {rep.enforcement_refs_accuracy:.2%}",
        f"Nối chuỗi thư đúng: {rep.thread_accuracy:.2%}",
        "",
        "Các trường hợp sai:",
    ]
    for m in rep.misses:
        lines.append(f"  {m.file} [{m.what}] nhãn={m.expected} kết quả={m.got}")
        if m.hits:
            lines.append("      quy tắc: " + ", ".join(m.hits[:12]))
    lines += ["", "Chỉ tiêu:"]
    for k, (v, t, ok) in rep.targets.items():
        lines.append(f"  {k}: {v:.4g} (chỉ tiêu {t:g}) {'ĐẠT' if ok else 'CHƯA ĐẠT'}")
    lines.append("Tất cả chỉ tiêu: " + ("ĐẠT" if rep.targets_met else "CHƯA ĐẠT"))
    return "\n".join(lines)
