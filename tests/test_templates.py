"""Render every mail template with a complete context, as the renderer does (StrictUndefined)."""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mailbot.mailtext import date_vn, datetime_vn, register_filters, weekday_vn

MAIL_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"

HUMAN_TYPES = ("yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai", "to_cao", "hoi_dap")
ACK_KINDS = tuple(f"ack_{t}" for t in HUMAN_TYPES)
CITIZEN_KINDS = (
    *ACK_KINDS,
    "ack_generic",
    "ack_followup",
    "reply",
    "supplement",
    "forward_notice",
    "closing",
)
STAFF_KINDS = ("digest", "warning", "escalation")
ALL_KINDS = CITIZEN_KINDS + STAFF_KINDS
LABELS = {
    "yeu_cau_thi_hanh_an": "Yêu cầu thi hành án",
    "xac_nhan_ket_qua": "Yêu cầu xác nhận kết quả thi hành án",
    "khieu_nai": "Khiếu nại về thi hành án",
    "to_cao": "Tố cáo về thi hành án",
    "hoi_dap": "Hỏi đáp, yêu cầu khác",
}
HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def env() -> Environment:
    e = Environment(
        loader=FileSystemLoader(str(MAIL_DIR)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"]),
    )
    register_filters(e)
    return e


def office() -> dict[str, Any]:
    return {
        "name": "Cục Thi hành án dân sự tỉnh Kiên Giang",
        "from_addr": "thads.kiengiang@moj.gov.vn",
        "from_name": "Bộ phận một cửa và hỗ trợ trực tuyến THADS",
        "public_url": "http://127.0.0.1:8000",
    }


def citizen_ctx(request_type: str = "yeu_cau_thi_hanh_an", **over: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "office": office(),
        "dossier": {
            "code": "KG-2017-000123",
            "request_type": request_type,
            "request_type_label": LABELS[request_type],
            "subject": "Đơn yêu cầu thi hành án",
            "received_at": datetime(2017, 1, 24, 9, 15),
            "effective_receipt": date(2017, 1, 24),
            "due": date(2017, 2, 7),
            "judgment_refs": ["45/2017/DS-ST"],
            "enforcement_refs": ["123/QĐ-CCTHADS"],
            "needs_triage": False,
            "status_label": "Đã tiếp nhận",
        },
        "citizen": {"name": "Nguyễn Văn An", "email": "an@example.vn"},
        "unit": {
            "code": "KG-RACHGIA",
            "name": "Chi cục Thi hành án dân sự thành phố Rạch Giá",
            "address": "số 1 đường Nguyễn Trung Trực, thành phố Rạch Giá",
            "phone": "0297 3862 000",
            "email": "rachgia@example.vn",
            "focal_officer": "Bà Trần Thị Bình",
        },
        "receiving_unit": {
            "code": "KG",
            "name": "Cục Thi hành án dân sự tỉnh Kiên Giang",
            "address": "thành phố Rạch Giá, tỉnh Kiên Giang",
            "phone": "0297 3800 000",
            "email": "thads.kiengiang@moj.gov.vn",
            "focal_officer": None,
        },
        "outside": False,
        "outside_hint": "",
        "statutory": [
            {
                "name": "Ra quyết định thi hành án",
                "amount": 5,
                "unit_label": "ngày làm việc",
                "basis": "Điều 36 Luật Thi hành án dân sự",
            }
        ],
        "flags": {"limitation_warning": False},
        "body": "Ông/Bà cần mang theo bản án.\nHẹn lúc 8 giờ.\n\nPhòng tiếp công dân.",
        "forward_target": "Cục Thi hành án dân sự tỉnh Long An",
        "result_label": "Đã hướng dẫn",
        "rating_url": "http://127.0.0.1:8000/danh-gia/abc123",
    }
    ctx.update(over)
    return ctx


def staff_ctx() -> dict[str, Any]:
    row = {
        "code": "KG-2017-000123",
        "request_type_label": "Yêu cầu thi hành án",
        "due": "07/02/2017",
        "status_label": "Đang xử lý",
    }
    return {
        "office": office(),
        "unit": {"code": "KG-RACHGIA", "name": "Chi cục Thi hành án dân sự thành phố Rạch Giá"},
        "today": date(2017, 2, 6),
        "due_today": [row],
        "due_tomorrow": [],
        "overdue": [dict(row, code="KG-2017-000099", status_label="Cần phân loại")],
        "needs_triage": [],
        "item": row,
    }


def ctx_for(kind: str) -> dict[str, Any]:
    if kind in STAFF_KINDS:
        return staff_ctx()
    if kind.startswith("ack_") and kind[4:] in LABELS:
        return citizen_ctx(kind[4:])
    return citizen_ctx()


def render(env: Environment, kind: str, ctx: dict[str, Any]) -> tuple[str, str, str]:
    return (
        env.get_template(f"{kind}.subject.txt").render(**ctx),
        env.get_template(f"{kind}.txt").render(**ctx),
        env.get_template(f"{kind}.html").render(**ctx),
    )


# ---------------------------------------------------------------- filters


def test_date_filters_write_vietnamese_dates() -> None:
    assert date_vn(date(2017, 2, 7)) == "07/02/2017"
    assert date_vn(None) == ""
    assert date_vn("07/02/2017") == "07/02/2017"
    assert weekday_vn(date(2017, 2, 7)) == "Thứ Ba"
    assert weekday_vn(date(2017, 2, 12)) == "Chủ nhật"
    assert weekday_vn(date(2017, 2, 6)) == "Thứ Hai"
    assert datetime_vn(datetime(2017, 1, 24, 9, 5)) == "09:05 ngày 24/01/2017"


# ---------------------------------------------------------------- presence


def test_each_human_type_has_its_acknowledgement() -> None:
    for kind in ACK_KINDS:
        for suffix in (".subject.txt", ".txt", ".html"):
            assert (MAIL_DIR / f"{kind}{suffix}").is_file(), f"{kind}{suffix} missing"


def test_every_kind_has_three_files() -> None:
    for kind in ALL_KINDS:
        for suffix in (".subject.txt", ".txt", ".html"):
            assert (MAIL_DIR / f"{kind}{suffix}").is_file(), f"{kind}{suffix} missing"


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_citizen_mail_renders_with_code_and_due_date(env: Environment, kind: str) -> None:
    subject, text, html = render(env, kind, ctx_for(kind))
    assert "\n" not in subject.strip()
    assert subject.startswith("[KG-2017-000123] ")
    assert "KG-2017-000123" in text and "KG-2017-000123" in html
    assert "Kính gửi Ông/Bà Nguyễn Văn An" in text
    assert "Trân trọng" in text and "Trân trọng" in html
    if kind.startswith("ack_"):
        assert "07/02/2017" in text and "07/02/2017" in html
    else:
        assert "24/01/2017" in text  # the receipt date identifies the dossier


@pytest.mark.parametrize("kind", ACK_KINDS)
def test_acknowledgement_states_type_refs_unit_and_deadline(env: Environment, kind: str) -> None:
    ctx = ctx_for(kind)
    _, text, html = render(env, kind, ctx)
    for part in (text, html):
        assert ctx["dossier"]["request_type_label"] in part
        assert "45/2017/DS-ST" in part and "123/QĐ-CCTHADS" in part
        assert "Thứ Ba, ngày 07/02/2017" in part
        assert "Chi cục Thi hành án dân sự thành phố Rạch Giá" in part
        assert "0297 3862 000" in part and "Bà Trần Thị Bình" in part
        assert "thuộc thẩm quyền của đơn vị trên vì" in part  # not the receiving unit: why
        assert "dữ liệu cá nhân" in part
        assert "05 ngày làm việc" in part
        assert "nộp đơn bằng văn bản" in part  # statutory limits start with the paper filing
        assert "chưa phải là văn bản giải quyết" in part  # no outcome promised


@pytest.mark.parametrize("kind", ACK_KINDS)
def test_acknowledgement_never_shows_statutory_section_when_empty(
    env: Environment, kind: str
) -> None:
    ctx = ctx_for(kind)
    ctx["statutory"] = []
    _, text, _ = render(env, kind, ctx)
    assert "THỜI HẠN THEO QUY ĐỊNH" not in text


@pytest.mark.parametrize("kind", STAFF_KINDS)
def test_staff_mail_renders(env: Environment, kind: str) -> None:
    subject, text, html = render(env, kind, staff_ctx())
    assert "\n" not in subject.strip()
    assert "KG-2017-000123" in text and "KG-2017-000123" in html
    assert "07/02/2017" in text and "07/02/2017" in html
    assert "http://127.0.0.1:8000" in text and 'href="http://127.0.0.1:8000"' in html


def test_digest_lists_every_section_with_counts(env: Environment) -> None:
    subject, text, html = render(env, "digest", staff_ctx())
    assert subject.startswith("[KG-RACHGIA] ")
    assert "06/02/2017" in subject
    assert "Thứ Hai, ngày 06/02/2017" in text
    for heading in ("QUÁ HẠN TRẢ LỜI (1)", "ĐẾN HẠN TRẢ LỜI HÔM NAY (1)", "CẦN PHÂN LOẠI (0)"):
        assert heading in text
    assert "KG-2017-000099" in text and "KG-2017-000099" in html
    assert "Không có hồ sơ." in text


def test_escalation_mentions_apology_slip(env: Environment) -> None:
    _, text, html = render(env, "escalation", staff_ctx())
    assert "Phiếu xin lỗi và hẹn lại ngày trả kết quả" in " ".join(text.split())
    assert "lãnh đạo" in html


# ---------------------------------------------------------------- content per type


def test_yeu_cau_guidance_lists_documents_and_articles(env: Environment) -> None:
    _, text, _ = render(env, "ack_yeu_cau_thi_hanh_an", ctx_for("ack_yeu_cau_thi_hanh_an"))
    flat = " ".join(text.split())
    for word in (
        "Đơn yêu cầu thi hành án",
        "Bản án, quyết định của Tòa án",
        "Giấy ủy quyền",
        "Giấy tờ tùy thân",
        "Bộ phận một cửa",
        "đường bưu điện",
        "Điều 30",
        "Điều 31",
        "Điều 35",
        "Điều 36",
    ):
        assert word in flat, word


def test_xac_nhan_cites_article_53(env: Environment) -> None:
    _, text, _ = render(env, "ack_xac_nhan_ket_qua", ctx_for("ack_xac_nhan_ket_qua"))
    flat = " ".join(text.split())
    assert "Điều 53" in flat and "thân nhân" in flat


def test_khieu_nai_gives_procedure_and_is_not_the_filing(env: Environment) -> None:
    _, text, _ = render(env, "ack_khieu_nai", ctx_for("ack_khieu_nai"))
    flat = " ".join(text.split())
    for word in ("Điều 140", "Điều 142", "Điều 145", "Điều 148", "chưa phải là đơn khiếu nại"):
        assert word in flat, word


def test_to_cao_keeps_identity_confidential_and_is_not_the_filing(env: Environment) -> None:
    ctx = ctx_for("ack_to_cao")
    _, text, html = render(env, "ack_to_cao", ctx)
    flat = " ".join(text.split())
    assert "giữ bí mật" in flat
    assert "nặc danh" in flat
    assert "Điều 154" in flat and "Luật Tố cáo" in flat
    assert "chưa phải là đơn tố cáo" in flat
    assert ctx["dossier"]["subject"] not in text  # the writer's subject may name the accused


def test_receipt_after_reorganisation_drops_old_competence_rules(env: Environment) -> None:
    dossier = dict(citizen_ctx("khieu_nai")["dossier"], effective_receipt=date(2025, 8, 1))
    _, text, _ = render(env, "ack_khieu_nai", citizen_ctx("khieu_nai", dossier=dossier))
    flat = " ".join(text.split())
    assert "Chi cục trưởng giải quyết lần đầu" not in flat
    assert "01/7/2025" in flat


def test_receipt_under_2026_law_cites_no_old_article_numbers(env: Environment) -> None:
    dossier = dict(citizen_ctx()["dossier"], effective_receipt=date(2026, 7, 2))
    _, text, _ = render(env, "ack_yeu_cau_thi_hanh_an", citizen_ctx(dossier=dossier))
    flat = " ".join(text.split())
    assert "106/2025/QH15" in flat and "Điều 36" not in flat.split("Căn cứ pháp lý")[1][:200]


def test_limitation_warning_only_when_flagged(env: Environment) -> None:
    _, text, _ = render(env, "ack_yeu_cau_thi_hanh_an", citizen_ctx())
    assert "Lưu ý về thời hiệu" not in text
    ctx = citizen_ctx(flags={"limitation_warning": True})
    for kind in ("ack_yeu_cau_thi_hanh_an", "ack_generic"):
        _, text, html = render(env, kind, ctx)
        assert "Lưu ý về thời hiệu" in text and "Lưu ý về thời hiệu" in html
        assert "có thể đã hết" in " ".join(text.split())


@pytest.mark.parametrize("kind", (*ACK_KINDS, "ack_generic", "ack_followup"))
def test_outside_province_names_the_other_office(env: Environment, kind: str) -> None:
    ctx = ctx_for(kind)
    ctx.update(outside=True, outside_hint="Cục Thi hành án dân sự tỉnh Long An", unit=None)
    _, text, html = render(env, kind, ctx)
    assert "Cục Thi hành án dân sự tỉnh Long An" in " ".join(text.split())
    assert "Cục Thi hành án dân sự tỉnh Long An" in html
    assert "tỉnh, thành phố khác" in " ".join(text.split())


def test_outside_without_hint_still_says_where_to_go(env: Environment) -> None:
    ctx = citizen_ctx(outside=True, outside_hint="", unit=None)
    _, text, _ = render(env, "ack_yeu_cau_thi_hanh_an", ctx)
    assert "nơi Tòa án đã xét xử sơ thẩm" in " ".join(text.split())


def test_unknown_unit_asks_for_the_court(env: Environment) -> None:
    ctx = citizen_ctx(unit=None)
    _, text, html = render(env, "ack_yeu_cau_thi_hanh_an", ctx)
    assert "chưa xác định được đơn vị có thẩm quyền" in " ".join(text.split())
    assert "chưa xác định được đơn vị có thẩm quyền" in html


def test_empty_name_refs_and_due_still_read_well(env: Environment) -> None:
    dossier = dict(citizen_ctx()["dossier"], due=None, judgment_refs=[], enforcement_refs=[])
    ctx = citizen_ctx(dossier=dossier, citizen={"name": "", "email": "a@example.vn"})
    for kind in CITIZEN_KINDS:
        _, text, html = render(env, kind, ctx)
        assert text.startswith("Kính gửi Ông/Bà,")
        assert "None" not in text and "None" not in html
    _, text, _ = render(env, "ack_hoi_dap", ctx)
    assert "chưa xác định được" in text
    assert "trong thời gian sớm nhất" in text


def test_same_unit_gives_no_transfer_reason(env: Environment) -> None:
    ctx = citizen_ctx()
    ctx["unit"] = dict(ctx["receiving_unit"])
    _, text, _ = render(env, "ack_yeu_cau_thi_hanh_an", ctx)
    assert "thuộc thẩm quyền của đơn vị trên vì" not in text


def test_closing_offers_three_single_use_rating_links(env: Environment) -> None:
    _, text, html = render(env, "closing", citizen_ctx())
    url = "http://127.0.0.1:8000/danh-gia/abc123"
    for key, label in (
        ("rat_hai_long", "Rất hài lòng"),
        ("hai_long", "Hài lòng"),
        ("chua_hai_long", "Chưa hài lòng"),
    ):
        assert f"{url}?muc={key}" in text
        assert f'href="{url}?muc={key}"' in html
        assert label in text and label in html
    assert "một lần" in text and "hết hạn" in text
    assert "Đã hướng dẫn" in text
    _, text, html = render(env, "closing", citizen_ctx(rating_url=""))
    assert "?muc=" not in text and "?muc=" not in html


def test_supplement_says_the_clock_stops(env: Environment) -> None:
    _, text, html = render(env, "supplement", citizen_ctx())
    assert "tạm dừng" in text and "tạm dừng" in html
    assert "Ông/Bà cần mang theo bản án." in text


def test_forward_notice_names_target_and_reason(env: Environment) -> None:
    _, text, html = render(env, "forward_notice", citizen_ctx())
    flat = " ".join(text.split())
    assert "Cục Thi hành án dân sự tỉnh Long An" in flat and "Lý do chuyển đơn" in flat
    assert "Cục Thi hành án dân sự tỉnh Long An" in html


def test_clerk_body_keeps_its_line_breaks_in_html(env: Environment) -> None:
    _, text, html = render(env, "reply", citizen_ctx())
    assert "Ông/Bà cần mang theo bản án.<br>Hẹn lúc 8 giờ.</p>" in html
    assert "Ông/Bà cần mang theo bản án.\nHẹn lúc 8 giờ.\n\nPhòng tiếp công dân." in text


# ---------------------------------------------------------------- safety and form


@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_html_escapes_hostile_values(env: Environment, kind: str) -> None:
    ctx = ctx_for(kind)
    ctx = copy.deepcopy(ctx)
    ctx["citizen"]["name"] = HOSTILE
    ctx["body"] = HOSTILE + "\nline two"
    ctx["forward_target"] = HOSTILE
    ctx["outside_hint"] = HOSTILE
    ctx["dossier"]["judgment_refs"] = [HOSTILE]
    _, text, html = render(env, kind, ctx)
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert HOSTILE in text  # plain text is not escaped: it is not HTML


def test_staff_html_escapes_hostile_values(env: Environment) -> None:
    ctx = staff_ctx()
    ctx["unit"]["name"] = HOSTILE
    ctx["item"] = dict(ctx["item"], request_type_label=HOSTILE)
    ctx["due_today"] = [ctx["item"]]
    for kind in STAFF_KINDS:
        _, _, html = render(env, kind, ctx)
        assert "<script" not in html and "&lt;script&gt;" in html


MARKDOWN = re.compile(r"\*\*|__|`|^#{1,6} |\[[^\]]+\]\(|^\s*\* ", re.MULTILINE)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_plain_text_is_clean_and_wrapped(env: Environment, kind: str) -> None:
    _, text, _ = render(env, kind, ctx_for(kind))
    assert not MARKDOWN.search(text), MARKDOWN.search(text)
    assert "\n\n\n\n" not in text
    assert "<" not in text  # no HTML tags leak into the text part
    for line in text.splitlines():
        # URLs cannot be broken; everything else stays within a mail client's width.
        if "http" not in line:
            assert len(line) <= 76, line


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_html_has_inline_styles_only_and_nothing_remote(env: Environment, kind: str) -> None:
    _, _, html = render(env, kind, ctx_for(kind))
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<style" not in lowered
    assert "<img" not in lowered
    assert "<link" not in lowered
    assert 'lang="vi"' in lowered and 'charset="utf-8"' in lowered


def test_templates_are_written_in_nfc_vietnamese() -> None:
    import unicodedata

    for path in MAIL_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert unicodedata.normalize("NFC", text) == text, path.name
