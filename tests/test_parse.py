"""Tests for mailbot.parse: corpus parses, charsets are repaired, hostile input is neutralised."""

from __future__ import annotations

import base64
import json
import unicodedata
from pathlib import Path

import pytest

from mailbot.errors import ParseError
from mailbot.parse import parse_mail, safe_filename

CORPUS = Path(__file__).parent / "data" / "corpus"
MANIFEST = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]


def _raw(name: str) -> bytes:
    return (CORPUS / "eml" / f"{name}.eml").read_bytes()


def _with_tag(tag: str) -> list[str]:
    return [m["file"] for m in MANIFEST if tag in m["tags"]]


def _is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# --- the corpus ---------------------------------------------------------------------------


def test_it_parses_every_corpus_mail() -> None:
    assert len(MANIFEST) == 314
    for entry in MANIFEST:
        mail = parse_mail((CORPUS / entry["file"]).read_bytes())
        assert mail.message_id.startswith("<") and mail.message_id.endswith(">"), entry["file"]
        assert _is_nfc(mail.text) and _is_nfc(mail.subject), entry["file"]
        assert mail.date is None or mail.date.tzinfo is not None
        assert "\r" not in mail.text


# (file, words expected in subject, words expected in text) from the real files.
CHARSET_CASES = [
    # windows_1258 + decomposed tones (combining marks must come out composed)
    ("ask-0044", "Hỏi về giấy mời của Chi cục An Biên", "Tôi tên Trần Văn Tám, 67 tuổi"),
    ("ask-0095", "Khiếu nại kê biên tài sản chung vợ chồng", "Tôi tên Lâm Thị Ngọc Hân"),
    ("ask-0109", "Tố cáo cán bộ Chi cục THADS Hòn Đất", "Tôi tên Tăng Văn Lộc"),
    ("req-0030", "Đơn xin thi hành án", "Nguyễn Văn Tư"),
    ("req-0046", "Đề nghị xác nhận đã thi hành án xong", "Tôi tên Phạm Văn Quang"),
    ("req-0047", "Đơn yêu cầu thi hành án", "Chi cục Thi hành án dân sự huyện An Biên"),
    ("sys-0035", "Trả lời tự động: UBND xã Bình An đã nhận thư", "Ủy ban nhân dân xã Bình An"),
    # mislabelled: declared iso-8859-1 / us-ascii, bytes are UTF-8
    ("ask-0003", "Hỏi lịch tiếp công dân của Cục trưởng", "Tôi muốn gặp trực tiếp ông Cục trưởng"),
    ("ask-0060", "tố cáo chấp hành viên giữ tiền thi hành án", "Tôi tên Trần Văn Sáu"),
    ("req-0032", "Đơn yêu cầu thi hành án - Vĩnh Thuận", "Tôi là Tô Văn Khải"),
    ("req-0049", "De nghi xac nhan ket qua THA", "Tôi là Lâm Hoàng Sơn"),
    # unlabelled 8-bit
    ("ask-0020", "Xin trả góp tiền thi hành án", "Em là Thu Sương ở thị trân Gò Quao"),
    ("req-0006", "Đơn yêu cầu thi hành án - Lê Hoàng Phúc", "Tôi là Lê Hoàng Phúc"),
    ("req-0050", "Xác nhận thi hành án", "Xin cấp giấy xác nhận đã thi hành xong bản án"),
    # html_only
    (
        "ask-0007",
        "TỐ CÁO – hành vi gây khó khăn",
        "Lãnh đạo Cục Thi hành án dân sự tỉnh Kiên Giang",
    ),
    ("ask-0013", "V/v khiếu nại Chấp hành viên", "Em là Huỳnh Thị Kim Ngân"),
    ("req-0076", "chia tài sản khi ly hôn", "Tôi là Đinh Thị Mỹ Dung"),
    ("req-0069", "Bản án lao động số 02/2019/LĐ-ST", "Đồng kính gửi: Chi cục Thi hành án dân sự"),
    # legacy charsets (spam in other scripts)
    ("sys-0048", "Базы для рассылок 2017", "Здравствуйте!"),
    ("sys-0044", "代开各地发票", "您好"),
]


@pytest.mark.parametrize(("name", "subject", "words"), CHARSET_CASES)
def test_it_decodes_charsets_to_nfc_vietnamese(name: str, subject: str, words: str) -> None:
    mail = parse_mail(_raw(name))
    assert subject in mail.subject
    assert words in mail.text
    assert words in mail.new_text
    assert not any(unicodedata.combining(c) for c in mail.text + mail.subject + mail.from_name)


def test_it_decodes_windows_1258_display_names() -> None:
    mail = parse_mail(_raw("ask-0044"))
    assert mail.from_name == "Trần Văn Tám"
    assert mail.from_addr == "tranvantam1950@gmail.com"


def test_it_records_mislabelled_charsets() -> None:
    assert any(d.startswith("mislabelled_charset") for d in parse_mail(_raw("ask-0003")).defects)
    assert "unlabelled_charset" in parse_mail(_raw("ask-0020")).defects


def test_html_only_mails_lose_markup_and_mark_blockquotes() -> None:
    mail = parse_mail(_raw("ask-0010"))
    assert "<" not in mail.text.replace("<thads", "")
    assert mail.new_text.startswith("Đã nhận. Cảm ơn.")
    assert "86.500.000 đồng" in mail.quoted_text
    assert "86.500.000" not in mail.new_text


@pytest.mark.parametrize("file", _with_tag("dsn_report"))
def test_dsn_reports_yield_returned_message_ids(file: str) -> None:
    mail = parse_mail((CORPUS / file).read_bytes())
    assert mail.returned_message_ids
    assert all(i.startswith("<") and i.endswith(">") for i in mail.returned_message_ids)
    assert mail.message_id not in mail.returned_message_ids


def test_a_bounce_links_to_the_thread_it_belongs_to() -> None:
    # Every corpus bounce with thread_of: the thread's first Message-ID is among the returned
    # ids, or the returned reply points at it.
    by_file = {m["file"]: m for m in MANIFEST}
    checked = 0
    for entry in MANIFEST:
        if entry["machine_kind"] != "bounce" or not entry["thread_of"]:
            continue
        origin = parse_mail((CORPUS / by_file[entry["thread_of"]]["file"]).read_bytes())
        bounce = parse_mail((CORPUS / entry["file"]).read_bytes())
        thread_ids = {origin.message_id, *origin.references}
        if origin.in_reply_to:
            thread_ids.add(origin.in_reply_to)
        assert thread_ids & set(bounce.returned_message_ids), entry["file"]
        checked += 1
    assert checked > 0


def test_a_bounce_body_with_the_original_inline_yields_its_ids() -> None:
    mail = parse_mail(_raw("sys-0002"))
    assert "<a6e61f461979f5c20e1b3b27522ed672@moj.gov.vn>" in mail.returned_message_ids
    assert "Kính gửi" not in mail.new_text


def test_headers_keep_what_machine_mail_detection_needs() -> None:
    for entry in MANIFEST:
        mail = parse_mail((CORPUS / entry["file"]).read_bytes())
        assert all(k == k.lower() for k in mail.headers)
        assert "content-type" in mail.headers or mail.content_type == "text/plain"
    auto = [
        parse_mail((CORPUS / f).read_bytes())
        for f in (m["file"] for m in MANIFEST if m["machine_kind"] == "auto_reply")
    ]
    assert any("auto-submitted" in m.headers or "x-autoreply" in m.headers for m in auto)


def test_ids_are_parsed_into_angle_bracket_form() -> None:
    mail = parse_mail(_raw("ask-0002"))
    assert mail.in_reply_to is not None and mail.in_reply_to.startswith("<")
    assert all(r.startswith("<") and r.endswith(">") for r in mail.references)


# --- small hand-made mails ----------------------------------------------------------------


def _mail(headers: str, body: bytes = b"Noi dung.\r\n") -> bytes:
    return headers.replace("\n", "\r\n").encode("utf-8") + b"\r\n" + body


def test_a_missing_message_id_is_synthesised_from_the_content() -> None:
    raw = _mail("From: a@example.com\nSubject: x\n")
    first, second = parse_mail(raw), parse_mail(raw)
    assert first.message_id == second.message_id
    assert first.message_id.endswith("@mailbot.invalid>")
    assert len(first.message_id) == len("<@mailbot.invalid>") + 64
    assert "missing_message_id" in first.defects


def test_ids_without_angle_brackets_are_repaired() -> None:
    mail = parse_mail(
        _mail("Message-ID: abc@host\nIn-Reply-To: <x@y> (comment)\nReferences: <a@b>\n <c@d>\n")
    )
    assert mail.message_id == "<abc@host>"
    assert mail.in_reply_to == "<x@y>"
    assert mail.references == ("<a@b>", "<c@d>")


def test_rfc2047_headers_and_display_names_are_decoded() -> None:
    mail = parse_mail(
        _mail(
            "From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_A?= <A.Nguyen@Example.COM>\n"
            "To: b@x.vn, =?UTF-8?B?VHLhuqduIELDrG5o?= <c@x.vn>\n"
            "Subject: =?UTF-8?Q?Y=C3=AAu_c=E1=BA=A7u?= =?UTF-8?Q?_thi_h=C3=A0nh_=C3=A1n?=\n"
            "Date: Mon, 20 Nov 2017 08:30:13 +0700\n"
        )
    )
    assert mail.from_name == "Nguyễn Văn A"
    assert mail.from_addr == "a.nguyen@example.com"
    assert mail.to_addrs == ("b@x.vn", "c@x.vn")
    assert mail.subject == "Yêu cầu thi hành án"
    assert mail.date is not None and mail.date.utcoffset() is not None


def test_an_encoded_word_split_inside_a_character_is_joined() -> None:
    # "ệ" is E1 BB 87 in UTF-8; the split falls between its bytes.
    mail = parse_mail(_mail("Subject: =?UTF-8?Q?Vi=E1=BB?= =?UTF-8?Q?=87c?=\n"))
    assert mail.subject == "Việc"


def test_raw_8bit_headers_try_utf8_then_cp1258() -> None:
    head = b"From: Tr\xe1\xba\xa7n <a@b.vn>\r\nSubject: Ho\xd2i vi\xea\xf2c\r\n\r\nx\r\n"
    mail = parse_mail(head)
    assert mail.from_name == "Trần"
    assert mail.subject == "Hỏi việc"


def test_invalid_date_gives_none() -> None:
    mail = parse_mail(_mail("Date: not a date\nSubject: x\n"))
    assert mail.date is None


def test_declared_utf8_but_invalid_falls_back_to_cp1258() -> None:
    raw = _mail(
        "Subject: x\nContent-Type: text/plain; charset=utf-8\n",
        "Ti\xea\xf2n thi ha\xccnh a\xecn".encode("latin-1"),
    )
    mail = parse_mail(raw)
    assert "Tiện thi hành án" in mail.text
    assert "invalid_utf8" in mail.defects


def test_unknown_charset_never_raises_and_is_recorded() -> None:
    raw = _mail(
        "Subject: x\nContent-Type: text/plain; charset=x-unknown\n", "Xin chào Cục".encode()
    )
    mail = parse_mail(raw)
    assert "Xin chào Cục" in mail.text
    raw = _mail("Subject: x\nContent-Type: text/plain; charset=klingon-9\n", b"caf\xe9\r\n")
    mail = parse_mail(raw)
    assert any(d.startswith("unknown_charset") for d in mail.defects)
    assert mail.text.strip()


def test_a_multipart_without_boundary_never_raises() -> None:
    raw = _mail("Subject: x\nContent-Type: multipart/mixed\n", b"Van ban khong co ranh gioi\r\n")
    mail = parse_mail(raw)
    assert "Van ban khong co ranh gioi" in mail.text
    assert mail.defects


def test_a_multipart_with_an_unclosed_boundary_never_raises() -> None:
    raw = _mail(
        'Subject: x\nContent-Type: multipart/mixed; boundary="b1"\n',
        b"--b1\r\nContent-Type: text/plain\r\n\r\nPhan mot\r\n",
    )
    mail = parse_mail(raw)
    assert "Phan mot" in mail.text


def test_bad_base64_never_raises() -> None:
    raw = _mail(
        "Subject: x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n",
        b"SGVsbG8gd29ybGQ!!!*\r\n===\r\n",
    )
    mail = parse_mail(raw)
    assert isinstance(mail.text, str)


def test_html_is_turned_into_readable_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style>"
        "<script>alert('x')</script></head><body><p>Kính gửi&nbsp;Cục,</p>"
        "<div>Dòng&nbsp;1<br>Dòng 2 &amp; 3</div><img src='http://tracker/x.png'>"
        "<blockquote>Thư cũ của Cục</blockquote><p>Cảm ơn.</p></body></html>"
    )
    raw = _mail("Subject: x\nContent-Type: text/html; charset=utf-8\n", html.encode())
    mail = parse_mail(raw)
    assert "alert" not in mail.text and "color" not in mail.text
    assert "Dòng 1\nDòng 2 & 3" in mail.text
    assert "> Thư cũ của Cục" in mail.text
    assert "Thư cũ của Cục" not in mail.new_text
    assert "Cảm ơn." in mail.new_text
    assert "tracker" not in mail.text


# --- attachments --------------------------------------------------------------------------


def _with_attachment(disposition: str, ctype: str = "application/octet-stream") -> bytes:
    return _mail(
        'Subject: x\nContent-Type: multipart/mixed; boundary="B"\n',
        (
            "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nXem tệp.\r\n"
            f"--B\r\nContent-Type: {ctype}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(b"DATA").decode()
            + "\r\n--B--\r\n"
        ).encode("utf-8"),
    )


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="..\\\\..\\\\x.exe"', "x.exe"),
        ('attachment; filename="C:\\\\Windows\\\\evil.bat"', "evil.bat"),
        ('attachment; filename=".htaccess"', "htaccess"),
        (
            "attachment; filename*=UTF-8''%C4%90%C6%A1n%20khi%E1%BA%BFu%20n%E1%BA%A1i.pdf",
            "Đơn khiếu nại.pdf",
        ),
        ('attachment; filename="=?UTF-8?B?QuG6o24gw6FuLnBkZg==?="', "Bản án.pdf"),
        ('attachment; filename=""', "tep-dinh-kem.bin"),
        ("attachment", "tep-dinh-kem.bin"),
    ],
)
def test_hostile_attachment_names_are_neutralised(disposition: str, expected: str) -> None:
    mail = parse_mail(_with_attachment(disposition))
    assert [a.filename for a in mail.attachments] == [expected]
    assert mail.attachments[0].data == b"DATA"
    assert mail.new_text == "Xem tệp."


def test_rtl_override_is_removed_from_names() -> None:
    assert safe_filename("invoice\u202egpj.exe") == "invoicegpj.exe"
    assert safe_filename("a\u2066b\u2069\u200f.pdf") == "ab.pdf"
    assert safe_filename("x\x00y\x1f.txt") == "xy.txt"


def test_very_long_names_are_cut_keeping_the_extension() -> None:
    name = safe_filename("đơn " * 100 + ".docx")
    assert len(name) <= 150 and name.endswith(".docx")


def test_empty_names_get_a_default_with_an_extension() -> None:
    assert safe_filename("", "application/pdf") == "tep-dinh-kem.pdf"
    assert safe_filename(None, "image/jpeg") == "tep-dinh-kem.jpg"
    assert safe_filename("...", "image/png") == "tep-dinh-kem.png"


def test_corpus_attachments_and_inline_images_are_kept() -> None:
    for file in _with_tag("attachment") + _with_tag("inline_image"):
        mail = parse_mail((CORPUS / file).read_bytes())
        assert mail.attachments, file
        for att in mail.attachments:
            assert att.filename and "/" not in att.filename and "\\" not in att.filename
            assert not att.filename.startswith(".")


def test_a_forwarded_mail_attached_as_rfc822_becomes_forwarded_text() -> None:
    inner = (
        "From: Công dân <cd@x.vn>\r\nSubject: =?UTF-8?Q?=C4=90=C6=A1n?=\r\n"
        "Message-ID: <inner@x.vn>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Tôi yêu cầu thi hành bản án 45/2017/DS-ST.\r\n"
    )
    raw = _mail(
        'Subject: Fwd: Đơn\nContent-Type: multipart/mixed; boundary="B"\n',
        (
            "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nChuyển Cục xem.\r\n"
            "--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "--B--\r\n"
        ).encode("utf-8"),
    )
    mail = parse_mail(raw)
    assert "45/2017/DS-ST" in mail.forwarded_text
    assert "45/2017/DS-ST" not in mail.new_text
    assert mail.new_text == "Chuyển Cục xem."
    assert "<inner@x.vn>" in mail.returned_message_ids
    assert any(a.content_type == "message/rfc822" for a in mail.attachments)


# --- not a mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"just some words\nno header\n",
        b"Subject: x\x00\x01\x02\r\n\r\n",
    ],
)
def test_input_that_is_not_a_mail_raises_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_mail(raw)
    assert str(info.value)


def test_a_header_only_mail_parses() -> None:
    mail = parse_mail(b"Subject: Hoi\r\nFrom: a@b.vn\r\n")
    assert mail.subject == "Hoi"
    assert mail.text == ""


def test_encoded_references_are_decoded_into_message_ids() -> None:
    raw = (
        b"From: a@example.vn\r\nTo: b@example.vn\r\nSubject: Re: x\r\n"
        b"Message-ID: <new@example.vn>\r\n"
        b"In-Reply-To: =?utf-8?q?=3Cfirst=40example=2Evn=3E?=\r\n"
        b"References: =?utf-8?q?=3Cfirst=40example=2Evn=3E_=3Csecond=40example=2Evn=3E?=\r\n"
        b"\r\nbody\r\n"
    )
    mail = parse_mail(raw)
    assert mail.in_reply_to == "<first@example.vn>"
    assert mail.references == ("<first@example.vn>", "<second@example.vn>")


def test_nul_characters_never_reach_the_register() -> None:
    import base64

    body = base64.b64encode("Xin chào\x00 cán bộ".encode()).decode()
    raw = (
        "From: a@example.vn\r\nTo: b@example.vn\r\nSubject: =?utf-8?b?"
        + base64.b64encode("Hỏi\x00 thủ tục".encode()).decode()
        + "?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + body + "\r\n"
    ).encode()
    mail = parse_mail(raw)
    assert "\x00" not in mail.text and "\x00" not in mail.subject
    assert "nul_removed" in mail.defects
