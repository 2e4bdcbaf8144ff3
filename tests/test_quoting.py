"""Tests for mailbot.quoting: the writer's new text is split from quotes, forwards and footers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailbot.parse import parse_mail
from mailbot.quoting import split_quotes

CORPUS = Path(__file__).parent / "data" / "corpus"
MANIFEST = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]
OFFICE_ADDR = "thads.kiengiang@moj.gov.vn"


def _office_sentences(text: str) -> list[str]:
    """Long lines of the office's own text quoted in ``text``, found independently of
    split_quotes: "> " lines when the quote uses them (bottom-posted replies interleave new
    text), otherwise every line after an attribution or header block naming the office."""
    lines = text.split("\n")
    if any(line.startswith(">") for line in lines):
        return [ln.lstrip("> ").strip() for ln in lines if ln.startswith(">") and len(ln) > 42]
    found: list[str] = []
    after_office = False
    for line in lines:
        if OFFICE_ADDR in line or OFFICE_ATTRIBUTION.search(line):
            after_office = True
        elif after_office and len(line.strip()) > 40:
            found.append(line.strip())
    return found


OFFICE_ATTRIBUTION = re.compile(r"Cục (THADS|Thi hành án dân sự) tỉnh Kiên Giang.*(đã viết|wrote):")
QUOTING_OFFICE = [m["file"] for m in MANIFEST if "quotes_office_text" in m["tags"]]


@pytest.mark.parametrize("file", QUOTING_OFFICE)
def test_the_office_text_quoted_back_is_not_new_text(file: str) -> None:
    mail = parse_mail((CORPUS / file).read_bytes())
    sentences = _office_sentences(mail.text)
    for sentence in sentences:
        # Forwarded mails may carry the office's reply inside the forward (evidence).
        assert sentence not in mail.new_text, (file, sentence)


def test_office_text_detection_finds_something_in_most_mails() -> None:
    with_office = [
        f for f in QUOTING_OFFICE if _office_sentences(parse_mail((CORPUS / f).read_bytes()).text)
    ]
    assert len(with_office) >= len(QUOTING_OFFICE) // 2


@pytest.mark.parametrize(
    ("file", "forwarded_words"),
    [
        ("ask-0033", "Ba là Trần Văn Bé"),
        ("ask-0039", "Khiếu nại việc chi trả tiền cấp dưỡng sai người"),
        ("ask-0094", "gui luat su"),
        ("req-0022", "Cô làm đơn thi hành án giùm tôi"),
        ("req-0066", "Bộ phận thẩm định đã kiểm tra hồ sơ vay"),
        ("req-0079", "Tôi tên Nguyễn Văn Rở"),
    ],
)
def test_forwarded_content_goes_to_forwarded_text(file: str, forwarded_words: str) -> None:
    mail = parse_mail((CORPUS / "eml" / f"{file}.eml").read_bytes())
    assert forwarded_words in mail.forwarded_text
    assert forwarded_words not in mail.new_text
    assert mail.new_text.strip()


def test_every_forwarded_corpus_mail_has_forwarded_text() -> None:
    for entry in MANIFEST:
        if "forwarded" in entry["tags"]:
            mail = parse_mail((CORPUS / entry["file"]).read_bytes())
            assert mail.forwarded_text, entry["file"]


def test_bottom_posting_keeps_the_new_text_after_the_quote() -> None:
    mail = parse_mail((CORPUS / "eml" / "ask-0002.eml").read_bytes())
    assert "Tôi nhận ngày 08/9/2023" in mail.new_text
    assert "Tôi đã làm đơn khiếu nại gửi Chi cục trưởng An Minh" in mail.new_text
    assert "Kính gửi ông Nguyễn Văn Út" not in mail.new_text
    assert "Kính gửi ông Nguyễn Văn Út" in mail.quoted_text


def test_every_bottom_posted_corpus_mail_keeps_new_text() -> None:
    for entry in MANIFEST:
        if "bottom_posting" in entry["tags"]:
            mail = parse_mail((CORPUS / entry["file"]).read_bytes())
            assert mail.new_text.strip() and mail.quoted_text.strip(), entry["file"]


def test_legal_footer_goes_but_the_sign_off_stays() -> None:
    mail = parse_mail((CORPUS / "eml" / "ask-0092.eml").read_bytes())
    assert "Bùi Thị Lan Phương" in mail.new_text
    assert "confidential" not in mail.new_text
    assert "bảo mật" not in mail.new_text


# --- pure function on small texts ---------------------------------------------------------


def test_gmail_vietnamese_top_post() -> None:
    text = (
        "Cảm ơn Cục, tôi sẽ nộp đơn.\n\n"
        "Vào Th 4, 20 thg 9, 2023 lúc 15:40 Cục THADS <a@b.vn> đã viết:\n"
        "> Kính gửi ông A,\n> Cục đã nhận được thư.\n"
    )
    split = split_quotes(text)
    assert split.new == "Cảm ơn Cục, tôi sẽ nộp đơn."
    assert "Cục đã nhận được thư." in split.quoted


def test_english_attribution_wrapped_over_two_lines() -> None:
    text = "Thanks.\n\nOn Mon, Sep 3, 2021 at 9:40 AM Office <\nx@y.vn> wrote:\n> old text\n"
    split = split_quotes(text)
    assert split.new == "Thanks."
    assert split.quoted.endswith("old text")


def test_outlook_vietnamese_header_block() -> None:
    text = (
        "Tôi bổ sung hồ sơ.\n\n"
        "________________________________\n"
        "Từ: Cục THADS <a@b.vn>\nGửi: Thứ Hai, 14 tháng 8, 2023 15:48\n"
        "Đến: Tôi <c@d.vn>\nChủ đề: Trả lời đơn\n\nKính gửi ông, đề nghị bổ sung.\n"
    )
    split = split_quotes(text)
    assert split.new == "Tôi bổ sung hồ sơ."
    assert "đề nghị bổ sung" in split.quoted


def test_original_message_separator() -> None:
    text = "Xin hỏi thêm.\n-----Original Message-----\nFrom: x\nSent: y\nTo: z\nSubject: w\nCũ\n"
    assert split_quotes(text).new == "Xin hỏi thêm."


@pytest.mark.parametrize(
    "marker",
    [
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
        "-------- Thư chuyển tiếp --------",
    ],
)
def test_forward_markers(marker: str) -> None:
    text = f"Nhờ Cục xem giúp.\n\n{marker}\nFrom: Dân <d@x.vn>\n\nTôi yêu cầu thi hành án.\n"
    split = split_quotes(text)
    assert split.new == "Nhờ Cục xem giúp."
    assert "Tôi yêu cầu thi hành án." in split.forwarded


def test_outlook_block_with_fwd_subject_is_forwarded() -> None:
    text = (
        "Chuyển Cục.\n\nFrom: Dân <d@x.vn>\nSent: Monday\nTo: ls@x.vn\n"
        "Subject: FW: Đơn\n\nNội dung đơn.\n"
    )
    split = split_quotes(text)
    assert "Nội dung đơn." in split.forwarded and split.new == "Chuyển Cục."


def test_signature_after_dash_dash_is_dropped() -> None:
    split = split_quotes("Nội dung chính.\n\n-- \nNguyễn Văn A\n0901 234 567\n")
    assert split.new == "Nội dung chính."


def test_vietnamese_sign_off_stays() -> None:
    split = split_quotes("Xin cấp giấy xác nhận.\n\nTrân trọng,\nNguyễn Văn A\nĐT 0901 234 567\n")
    assert "Nguyễn Văn A" in split.new and "Trân trọng" in split.new


def test_mobile_tagline_is_dropped() -> None:
    assert split_quotes("Đã nhận.\n\nGửi từ iPhone của tôi\n").new == "Đã nhận."
    assert split_quotes("Ok.\nSent from my iPhone\n").new == "Ok."


def test_a_sentence_ending_with_viet_is_not_an_attribution() -> None:
    text = "Tôi đã viết:\nđơn khiếu nại gửi Chi cục.\n"
    assert "đơn khiếu nại" in split_quotes(text).new


def test_empty_text() -> None:
    split = split_quotes("")
    assert (split.new, split.quoted, split.forwarded) == ("", "", "")
