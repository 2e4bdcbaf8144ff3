"""Jinja2 set-up for the web desk: autoescaping everywhere and the Vietnamese display filters.

Mail content is shown through ``inert``: HTML-escaped by autoescape, with bidirectional
overrides and control characters made visible, so a hostile mail can neither run nor disguise
itself (e.g. an RTL override turning "gpj.exe" into "exe.jpg").
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from mailbot.dossier.models import REQUEST_TYPE_LABELS, STATUS_LABELS
from mailbot.ratings import LEVELS
from mailbot.users import ROLE_LABELS

# Bidi embeddings/overrides/isolates and marks, zero-width and other invisible format chars.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff]")
# C0/C1 controls except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

RESULT_LABELS: dict[str, str] = {
    "appointment": "Thông báo lịch hẹn nộp hồ sơ",
    "guidance": "Hướng dẫn bổ sung, hoàn thiện",
    "procedure_guidance": "Hướng dẫn trình tự, thủ tục (khiếu nại, tố cáo)",
    "answer": "Trả lời câu hỏi",
    "forwarded": "Chuyển đơn",
    "no_reply": "Không cần trả lời",
    "paper_received": "Đã nhận hồ sơ giấy",
}

ACTION_LABELS: dict[str, str] = {
    "received": "Nhận thư, lập hồ sơ",
    "message_added": "Nhận thư tiếp theo",
    "acknowledged": "Đã gửi thư báo nhận",
    "due_changed": "Đổi hạn trả lời",
    "bounce_received": "Thư trả lời bị trả về",
    "send_failed": "Gửi thư lỗi",
    "reopen_reason": "Lý do mở lại",
    "created": "Lập hồ sơ",
    "dossier_created": "Lập hồ sơ",
    "classified": "Phân loại tự động",
    "reclassified": "Phân loại lại",
    "reclassify": "Phân loại lại",
    "assigned": "Giao xử lý",
    "assign": "Giao xử lý",
    "unit_changed": "Đổi đơn vị",
    "change_unit": "Đổi đơn vị",
    "status_changed": "Đổi trạng thái",
    "mail_queued": "Xếp thư vào hàng gửi",
    "mail_sent": "Đã gửi thư",
    "ack_withheld": "Không gửi thư báo nhận",
    "paused": "Tạm dừng chờ bổ sung",
    "resumed": "Tiếp tục sau bổ sung",
    "answered": "Đã trả lời",
    "forwarded": "Chuyển đơn",
    "closed": "Đóng hồ sơ",
    "reopened": "Mở lại hồ sơ",
    "follow_up": "Thư tiếp theo của người gửi",
    "bounced": "Thư trả lời bị trả về",
    "rating_link_issued": "Gửi liên kết đánh giá",
    "rated": "Người dân đánh giá",
    "attachment_downloaded": "Tải tệp đính kèm",
    "viewed": "Xem hồ sơ",
}


def inert(value: Any) -> str:
    """Text from a mail, safe to show: invisible and direction-changing characters are marked."""
    if value is None:
        return ""
    text = str(value)
    text = _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    text = _INVISIBLE.sub("", text)
    return _CONTROL.sub("\ufffd", text)


def clip(value: Any, length: int = 120) -> str:
    text = inert(value)
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def date_vn(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def make_local(tz: ZoneInfo):  # type: ignore[no-untyped-def]
    def to_local(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(tz)

    def datetime_vn(value: datetime | None) -> str:
        local = to_local(value)
        if local is None:
            return ""
        return f"{local.hour:02d}:{local.minute:02d} {date_vn(local)}"

    def date_local(value: datetime | date | None) -> str:
        if isinstance(value, datetime):
            return date_vn(to_local(value))
        return date_vn(value)

    return datetime_vn, date_local


def build_environment(templates_root: Path, tz: ZoneInfo) -> jinja2.Environment:
    """Pages come from templates/web/; "mail/_texts.jinja" (shared wording) is reachable too."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(templates_root / "web"), str(templates_root)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    datetime_vn, date_local = make_local(tz)
    env.filters.update(
        inert=inert,
        clip=clip,
        date_vn=date_local,
        datetime_vn=datetime_vn,
        status_label=lambda s: STATUS_LABELS.get(s or "", s or ""),
        type_label=lambda t: REQUEST_TYPE_LABELS.get(t or "", t or ""),
        result_label=lambda r: RESULT_LABELS.get(r or "", r or ""),
        action_label=lambda a: ACTION_LABELS.get(a or "", a or ""),
        level_label=lambda lv: LEVELS.get(lv or "", lv or ""),
        role_label=lambda r: ROLE_LABELS.get(r or "", r or ""),
    )
    env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        REQUEST_TYPE_LABELS=REQUEST_TYPE_LABELS,
        RESULT_LABELS=RESULT_LABELS,
        LEVELS=LEVELS,
        ROLE_LABELS=ROLE_LABELS,
    )
    return env
