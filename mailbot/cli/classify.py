"""`mailbot classify FILE.eml…`: classify mail files offline (no database, no network)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from mailbot.classify import Classification, classify, load_ruleset
from mailbot.cli._common import echo_json
from mailbot.config import DEFAULT_CONFIG_NAME, PROJECT_DIR, load_config
from mailbot.parse import parse_mail


def rules_dir_for(ctx: click.Context, override: str | None) -> Path:
    """--rules, else the config's rules_dir if a config file exists, else the project's rules/."""
    if override:
        return Path(override)
    root = ctx.find_root()
    path = (root.obj or {}).get("config_path")
    path = path or os.environ.get("MAILBOT_CONFIG")
    if path or Path(DEFAULT_CONFIG_NAME).exists():
        return load_config(path).rules_path
    return PROJECT_DIR / "rules"


def as_json(file: str, c: Classification) -> dict[str, Any]:
    return {
        "file": file,
        "request_type": c.request_type,
        "needs_reply": c.needs_reply,
        "confidence": c.confidence,
        "needs_triage": c.needs_triage,
        "machine_kind": c.machine_kind,
        "unit": c.unit,
        "court": c.court,
        "instance": c.instance,
        "judgment_refs": list(c.judgment_refs),
        "enforcement_refs": list(c.enforcement_refs),
        "phones": list(c.phones),
        "id_numbers": list(c.id_numbers),
        "hits": [
            {"rule": h.rule, "score": h.score, "where": h.where, "detail": h.detail}
            for h in c.hits
        ],
    }


def _summary(file: str, c: Classification, type_names: dict[str, str]) -> str:
    lines = [
        f"{file}",
        f"  Loại: {type_names.get(c.request_type, c.request_type)} ({c.request_type}), "
        f"độ tin cậy {c.confidence:.2f}" + (" — cần phân loại thủ công" if c.needs_triage else ""),
        f"  Cần trả lời: {'có' if c.needs_reply else 'không'}"
        + (f"; thư tự động loại {c.machine_kind}" if c.machine_kind else ""),
        f"  Đơn vị có thẩm quyền: {c.unit or 'chưa xác định'}"
        + (f" (Tòa án: {c.court})" if c.court else ""),
        f"  Số bản án/quyết định: {', '.join(c.judgment_refs) or 'không có'}",
        f"  Số quyết định THA: {', '.join(c.enforcement_refs) or 'không có'}",
    ]
    if c.phones or c.id_numbers:
        lines.append(f"  Điện thoại: {', '.join(c.phones) or '-'}; "
                     f"CMND/CCCD: {', '.join(c.id_numbers) or '-'}")
    lines.append("  Quy tắc đã khớp: " + ", ".join(f"{h.rule} ({h.where} {h.score:g})"
                                               for h in c.hits))
    return "\n".join(lines)


@click.command("classify")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json_flag", is_flag=True, help="In mỗi thư một dòng JSON.")
@click.option("--rules", "rules", type=click.Path(file_okay=False), default=None,
              help="Thư mục quy tắc (mặc định: rules_dir trong cấu hình hoặc rules/ của dự án).")
@click.option("--threshold", type=float, default=0.5, show_default=True,
              help="Độ tin cậy dưới mức này thì đánh dấu cần phân loại thủ công.")
@click.pass_context
def classify_cmd(ctx: click.Context, files: tuple[str, ...], as_json_flag: bool,
                 rules: str | None, threshold: float) -> None:
    """Phân loại các tệp thư .eml: loại yêu cầu, đơn vị có thẩm quyền, số bản án."""
    ruleset = load_ruleset(rules_dir_for(ctx, rules))
    for f in files:
        mail = parse_mail(Path(f).read_bytes())
        c = classify(mail, ruleset, threshold=threshold)
        if as_json_flag:
            echo_json(as_json(f, c))
        else:
            click.echo(_summary(f, c, ruleset.type_names))


def register(group: click.Group) -> None:
    group.add_command(classify_cmd)
