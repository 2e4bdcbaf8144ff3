"""classify(): folding, rule loading, negative rules, machine mail, spam, closings."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailbot.classify import classify, load_ruleset
from mailbot.classify.ruleset import parse_rules
from mailbot.classify.textnorm import fold
from mailbot.config import PROJECT_DIR
from mailbot.errors import RuleError
from mailbot.parse import ParsedAttachment, ParsedMail

RULES = load_ruleset(PROJECT_DIR / "rules")


def mail(new_text: str, subject: str = "", *, headers: dict[str, str] | None = None,
         from_addr: str = "nguoidan@gmail.com", from_name: str = "Nguyễn Văn A",
         quoted: str = "", forwarded: str = "", content_type: str = "text/plain",
         attachments: tuple[ParsedAttachment, ...] = ()) -> ParsedMail:
    return ParsedMail(
        message_id="<t@example>", in_reply_to=None, references=(), subject=subject,
        from_addr=from_addr, from_name=from_name, to_addrs=("thads.kiengiang@moj.gov.vn",),
        date=datetime(2020, 3, 2, 9, 0, tzinfo=UTC), headers=headers or {},
        text=new_text + quoted, new_text=new_text, quoted_text=quoted,
        forwarded_text=forwarded, attachments=attachments, content_type=content_type,
    )


def test_fold_is_form_and_accent_insensitive():
    s = "Khiếu nại Quyết định ĐƠN"
    assert fold(s) == fold(unicodedata.normalize("NFD", s)) == "khieu nai quyet dinh don"
    # windows-1258 style: base letter + combining tone mark
    assert fold("Kho\u0302\u0301i") == "khoi"
    assert fold("đ Đ") == "d d"


def test_an_abstract_question_about_complaining_is_hoi_dap():
    c = classify(mail("Cho tôi hỏi: tôi có nên khiếu nại không? Thủ tục khiếu nại như thế nào?"),
                 RULES)
    assert c.request_type == "hoi_dap"
    assert any(h.rule == "kn.cau_hoi_chung" for h in c.hits)


def test_a_concrete_complaint_without_diacritics_is_khieu_nai():
    c = classify(mail("Toi khieu nai quyet dinh ke bien nha cua chap hanh vien Chi cuc THADS "
                      "huyen Tan Hiep, de nghi huy quyet dinh."), RULES)
    assert c.request_type == "khieu_nai"
    assert c.unit == "KG-TANHIEP"
    assert c.needs_reply and not c.needs_triage


def test_request_to_enforce_with_judgment_and_court():
    c = classify(mail("Tôi có bản án số 45/2017/DSST của TAND huyện Giồng Riềng, bên kia không "
                      "chịu trả tiền. Tôi làm đơn yêu cầu thi hành án nộp ở đâu?",
                      "Yêu cầu thi hành án"), RULES)
    assert c.request_type == "yeu_cau_thi_hanh_an"
    assert c.judgment_refs == ("45/2017/DS-ST",)
    assert c.unit == "KG-GIONGRIENG"
    assert c.instance == "so_tham"
    assert c.hits, "every decision keeps the rules that fired"


def test_denunciation_of_bribe():
    c = classify(mail("Tôi tố cáo chấp hành viên Chi cục THADS huyện An Biên đòi tiền bồi "
                      "dưỡng mới làm hồ sơ."), RULES)
    assert c.request_type == "to_cao"
    assert c.unit == "KG-ANBIEN"


def test_auto_submitted_header_makes_machine_mail():
    c = classify(mail("Tôi đang nghỉ phép đến thứ Hai.", "Trả lời tự động: Re: hồ sơ",
                      headers={"auto-submitted": "auto-replied"}), RULES)
    assert (c.request_type, c.machine_kind, c.needs_reply) == ("tu_dong", "auto_reply", False)
    assert c.unit is None and c.judgment_refs == ()


def test_delivery_report_is_a_bounce():
    c = classify(mail("Delivery to the following recipient failed permanently.",
                      "Undelivered Mail Returned to Sender", from_addr="mailer-daemon@x.vn",
                      content_type="multipart/report",
                      headers={"content-type": "multipart/report; report-type=delivery-status"}),
                 RULES)
    assert (c.request_type, c.machine_kind) == ("tu_dong", "bounce")


def test_colleague_forwarding_a_citizen_mail_is_not_machine_mail():
    c = classify(mail("Chuyển Bộ phận một cửa xử lý giúp.", "Fwd: đơn yêu cầu thi hành án",
                      from_addr="vanphong@moj.gov.vn",
                      forwarded="Tôi yêu cầu thi hành bản án số 12/2019/DS-ST của TAND thành "
                                "phố Rạch Giá, bên kia không trả tiền."), RULES)
    assert c.request_type == "yeu_cau_thi_hanh_an"
    assert c.unit == "KG-RACHGIA"


def test_debt_collection_advert_is_spam_despite_keywords():
    c = classify(mail("Dịch vụ đòi nợ thuê, thu hồi công nợ, hỗ trợ yêu cầu thi hành án nhanh. "
                      "Cam kết hiệu quả, tư vấn miễn phí.", "Thu hồi nợ khó đòi"), RULES)
    assert c.request_type == "thu_rac" and not c.needs_reply


def test_service_offer_with_commercial_signals_is_spam_despite_enforcement_words():
    # Offer language ("chúng tôi nhận", "quý khách") + commercial signals (%, hotline, liên hệ
    # ngay) outweigh "thắng kiện", "yêu cầu thi hành án", "không trả tiền".
    c = classify(mail("Kính chào quý khách, bạn đã thắng kiện mà bên kia không trả tiền? "
                      "Nộp đơn yêu cầu thi hành án mà chờ lâu? Chúng tôi nhận thu hồi thay bạn, "
                      "phí 20% số tiền thu được. Liên hệ ngay hotline 0900 000 000.",
                      "Bản án có hiệu lực mà không thu được tiền?"), RULES)
    assert c.request_type == "thu_rac" and not c.needs_reply
    assert {"spam.chao_moi_dich_vu", "spam.dau_hieu_thuong_mai"} <= {h.rule for h in c.hits}


@pytest.mark.parametrize("text", [
    # A citizen mentioning a lawyer, a debt, interest and a percentage is not an advert.
    "Tôi thắng kiện theo bản án số 12/2020/DS-ST của TAND huyện Gò Quao, bên kia vay tiền "
    "của tôi 200 triệu, lãi 10%/năm, đến nay không trả. Tôi đã thuê luật sư, phí dịch vụ "
    "đã trả. Đề nghị cơ quan thi hành án tổ chức thi hành. Liên hệ 0912 000 000.",
    "Công ty chúng tôi là người được thi hành án, khách hàng của chúng tôi nợ 15% giá trị "
    "hợp đồng theo bản án 3/2019/KDTM-ST. Chúng tôi cam kết cung cấp đủ hồ sơ, website "
    "công ty có thông tin. Đề nghị Cục tổ chức thi hành án.",
])
def test_citizen_mentioning_debts_lawyers_and_percentages_is_not_spam(text):
    c = classify(mail(text, "Yêu cầu thi hành án"), RULES)
    assert c.request_type == "yeu_cau_thi_hanh_an" and c.needs_reply


def test_commercial_signals_alone_do_not_count():
    # `requires`: without offer language the commercial rule is not counted at all.
    c = classify(mail("Bên kia vẫn chưa trả, lãi 10% mỗi năm, tôi cam kết nộp bổ sung hồ sơ. "
                      "Hotline của Cục là số nào?"), RULES)
    assert "spam.dau_hieu_thuong_mai" not in {h.rule for h in c.hits}
    assert c.request_type not in ("thu_rac", "tu_dong")


def test_loan_and_investment_adverts_are_spam():
    loan = classify(mail("Can tien gap? Vay nong, khong can the chap, giai ngan trong ngay."),
                    RULES)
    invest = classify(mail("San dau tu tien dien tu: loi nhuan 3%/ngay, tham gia ngay "
                           "https://t.me/abc. Chi con 24 gio!", "Co hoi dau tu"), RULES)
    assert loan.request_type == invest.request_type == "thu_rac"


def test_asking_the_court_to_correct_the_judgment_first_is_hoi_dap():
    c = classify(mail("Bản án số 5/2021/DS-ST của TAND huyện Hòn Đất ghi sai năm sinh của tôi. "
                      "Tôi phải xin Tòa đính chính bản án trước hay vẫn nộp đơn yêu cầu thi "
                      "hành án được?"), RULES)
    assert c.request_type == "hoi_dap"


def test_english_request_for_written_confirmation_is_xac_nhan():
    c = classify(mail("I paid everything under judgment No. 4/2019/HNGD-ST. I need a written "
                      "confirmation that the judgment has been fully enforced. Could you "
                      "issue it?", "Confirmation"), RULES)
    assert c.request_type == "xac_nhan_ket_qua"


def test_requires_must_name_existing_rules():
    base = {"types": {t: t for t in ("yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai",
                                     "to_cao", "hoi_dap", "tu_dong", "thu_rac")}}
    bad = dict(base, rule=[{"name": "x.a", "phrases": ["a"], "score": {"thu_rac": 1},
                            "requires": ["x.khong_co"]}])
    with pytest.raises(RuleError, match="x.a.*x.khong_co"):
        parse_rules(bad, "f.toml")
    ok = dict(base, rule=[{"name": "x.b", "phrases": ["b"], "score": {"thu_rac": 1},
                           "requires": ["x.c"]},
                          {"name": "x.c", "phrases": ["c"], "score": {"thu_rac": 1}}])
    rules, _, _ = parse_rules(ok, "f.toml")
    assert rules[0].requires == (1,)


def test_archive_attachment_phishing_is_spam():
    att = ParsedAttachment("thong_bao.zip", "application/zip", b"PK")
    c = classify(mail("Đề nghị Ông/Bà tải về, giải nén và xem nội dung.",
                      "Thông báo cưỡng chế", from_name="Tòa án nhân dân",
                      from_addr="toaan.thongbao@gmail.com", attachments=(att,)), RULES)
    assert c.request_type == "thu_rac"


def test_closing_thanks_needs_no_reply():
    c = classify(mail("Dạ tôi đã nhận đủ tiền rồi. Cảm ơn Cục nhiều."), RULES)
    assert c.request_type == "hoi_dap" and not c.needs_reply


def test_quoted_office_text_is_not_evidence():
    c = classify(mail("Cảm ơn, tôi đã nhận được.",
                      quoted="> Đơn khiếu nại của ông về quyết định kê biên số 12/QĐ-CCTHADS"),
                 RULES)
    assert c.request_type == "hoi_dap" and c.enforcement_refs == ()


def test_no_evidence_means_triage():
    c = classify(mail("xyz"), RULES)
    assert c.needs_triage and c.confidence < 0.5


def test_rule_errors_name_the_file_and_rule():
    base = {"types": {t: t for t in ("yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai",
                                     "to_cao", "hoi_dap", "tu_dong", "thu_rac")}}
    bad = dict(base, rule=[{"name": "x.sai", "phrases": ["a"], "score": {"khieu_nai_x": 1}}])
    with pytest.raises(RuleError, match=r"rules/classification.toml: quy tắc x.sai"):
        parse_rules(bad, "rules/classification.toml")
    bad = dict(base, rule=[{"name": "x.re", "patterns": ["("], "score": {"khieu_nai": 1}}])
    with pytest.raises(RuleError, match="x.re"):
        parse_rules(bad, "f.toml")
    with pytest.raises(RuleError, match="thiếu"):
        parse_rules({"types": {}}, "f.toml")


def test_missing_rules_dir_is_a_rule_error(tmp_path: Path):
    with pytest.raises(RuleError, match="classification.toml"):
        load_ruleset(tmp_path)


# ---------------------------------------------------------------- one-pass phrase scanning
CORPUS_EML = PROJECT_DIR / "tests" / "data" / "corpus" / "eml"


def _corpus_texts() -> list[str]:
    from mailbot.parse import parse_mail

    out = []
    for p in sorted(CORPUS_EML.glob("*.eml")):
        m = parse_mail(p.read_bytes())
        out += [fold(m.subject), fold(m.new_text + "\n" + m.forwarded_text), fold(m.quoted_text)]
    return [t for t in out if t]


EDGE_TEXTS = [
    "yêu cầu thi hành án",  # phrases inside phrases: "thi hành án", "yêu cầu THA"...
    "khiếu nại quyết định kê biên, khieu-nai; khieu_nai/khiếu  nại",
    "https://csgt-tracuu-phatnguoi.com/tra-cuu simsodep-giare.net hoadon_01.rar",
    "lời mời: họp; loi moi:x; đã hủy:ok; read: ; zoom.us; 550 5.1.1 *~*~*~*",
    "khieunai naikhieu nai ankhieu nai",  # glued words and word boundaries
    "thế nào?thế nàoo bao nhiêu, bao nhieu",
]


def test_scanners_find_what_each_rule_regex_finds():
    """The section scanners must give, per rule, the first match of the rule's own regex."""
    from mailbot.classify.types import _first, _phrase_spans

    texts = _corpus_texts() + [fold(t) for t in EDGE_TEXTS]
    checked = 0
    for section in RULES.sections.values():
        for text in texts:
            spans = _phrase_spans(section, text)
            for i in section.rules:
                rule = RULES.rules[i]
                if rule.patterns is not None:
                    continue  # phrases only: patterns are searched by their own regex
                m = rule.regex.search(text)
                got = _first(spans[i]) if i in spans else None
                assert got == (m.span() if m else None), (rule.name, text[:80])
                checked += m is not None
    assert checked > 500


def test_glued_and_overlapping_phrases_fire():
    c = classify(mail("Tôi làm đơn yêu cầu thi hành án. Xem https://tra-cuu-phatnguoi.top/x"),
                 RULES)
    fired = {h.rule for h in c.hits}
    assert {"yc.yeu_cau_thi_hanh_an", "spam.lua_dao"} <= fired
    assert all(h.detail for h in c.hits if h.rule.startswith(("yc.", "spam.lua")))


def test_fold_fast_paths_equal_the_reference():
    import random

    from mailbot.classify.textnorm import _fold_reference

    rng = random.Random(7)
    pool = [chr(c) for c in [*range(32, 127), *range(0xA0, 0x250), *range(0x300, 0x370),
                             *range(0x1E00, 0x1F00), 0x200B, 0xAD, 0xFEFF, 0x2013, 0x201C,
                             0x212B, 0x2260, 0x3000, 9, 10, 13, 0x85, 0x400, 0x4E00, 0xFF21]]
    for _ in range(20000):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
        assert fold(s) == _fold_reference(s), repr(s)
    for t in _corpus_texts()[:200]:
        assert fold(t) == _fold_reference(t)


def test_fold_table_covers_every_character_with_vietnamese_marks():
    import re

    from mailbot.classify.textnorm import _STRIP

    marks = re.compile("[\u0300-\u036f]")
    missing = [hex(cp) for cp in range(0x80, 0x30000)
               if cp not in _STRIP and marks.search(unicodedata.normalize("NFD", chr(cp)))
               and not 0xD800 <= cp < 0xE000]
    assert missing == []


PORTAL_FORM = (
    "Có câu hỏi mới được gửi từ mục \"Hỏi đáp\":\n\nHọ và tên: Trần Thị B\n"
    "Điện thoại: 0912 345 678\nEmail: ttb@gmail.com\nLĩnh vực: Chi phí\nNội dung:\n"
    "Tôi được miễn chi phí cưỡng chế không, làm đơn gửi ai?\n---\n"
    "Thư được gửi tự động từ Cổng thông tin điện tử. Vui lòng không trả lời thư này."
)


def test_portal_form_relay_from_a_noreply_sender_is_human_mail():
    c = classify(mail(PORTAL_FORM, "[Hỗ trợ trực tuyến] Câu hỏi mới",
                      from_addr="noreply-hotro@thads-kiengiang.gov.vn",
                      from_name="Cổng thông tin điện tử"), RULES)
    assert c.request_type == "hoi_dap" and c.needs_reply


def test_noreply_auto_reply_without_form_fields_stays_machine_mail():
    c = classify(mail("Đây là thư trả lời tự động. Hệ thống đã nhận được thư của quý vị. "
                      "Vui lòng không trả lời thư này.", "Đã nhận: hồ sơ",
                      from_addr="noreply@congdichvu.gov.vn", from_name="Cổng dịch vụ công"),
                 RULES)
    assert c.request_type == "tu_dong" and not c.needs_reply


def test_document_system_notice_without_auto_headers_is_machine_mail():
    c = classify(mail("Đơn vị của bạn có văn bản đến mới cần xử lý.\nSố/Ký hiệu: 12/TCTHADS\n"
                      "Đây là thư được gửi từ hệ thống.", "Văn bản đến mới: 12/TCTHADS",
                      from_addr="qlvb@moj.gov.vn", from_name="He thong QLVB"), RULES)
    assert c.request_type == "tu_dong"


def test_phone_style_abbreviations_match_full_phrases():
    assert RULES.abbreviations.expand("ben kia ko tra tien, dc ko a, lam j") == (
        "ben kia khong tra tien, duoc khong a, lam gi")
    # "đc:" in a form is an address, "k/g" is "kính gửi": left alone.
    assert RULES.abbreviations.expand("dc: ap 3\nk/g chi cuc") == "dc: ap 3\nk/g chi cuc"
    c = classify(mail("e muon xin doi chv khac thi lam don ntn a, bao lau co kq?",
                      "xin doi chap hanh vien"), RULES)
    assert c.request_type == "hoi_dap"


def test_scam_threatening_enforcement_unless_paid_is_spam():
    text = ("Hồ sơ của ông/bà đã chuyển sang giai đoạn cưỡng chế thi hành án. Để tránh bị kê "
            "biên nhà đất, vui lòng nộp ngay 18.500.000 đồng vào tài khoản tạm giữ, chủ TK: "
            "TRAN VAN A. Sau đó liên hệ Zalo 0587 221 903 để được hủy quyết định cưỡng chế.")
    c = classify(mail(text, "THÔNG BÁO CƯỠNG CHẾ THI HÀNH ÁN",
                      from_addr="cuongche.tha@gmail.com", from_name="Chap hanh vien A"), RULES)
    assert c.request_type == "thu_rac" and not c.needs_reply


def test_citizen_telling_that_the_office_threatened_enforcement_is_not_spam():
    text = ("Chi cục báo nếu không nộp sẽ bị cưỡng chế, nhưng tôi đã chuyển khoản vào tài khoản "
            "tạm giữ của Chi cục huyện Tân Hiệp rồi. Đề nghị Chi cục xem lại, tôi không đồng ý "
            "với quyết định cưỡng chế.")
    c = classify(mail(text, "Khiếu nại quyết định cưỡng chế"), RULES)
    assert c.request_type == "khieu_nai" and c.needs_reply


def test_advance_fee_fraud_using_enforcement_words_is_spam():
    text = ("Dear Beneficiary, the High Court ordered the enforcement of the judgment and release "
            "of the estate to the next of kin. You must pay the clearance fee of USD 850. This "
            "transaction is 100% risk free.")
    c = classify(mail(text, "ENFORCEMENT OF JUDGMENT - UNCLAIMED FUND",
                      from_addr="barrister@outlook.com"), RULES)
    assert c.request_type == "thu_rac"


def test_asking_where_to_sue_is_hoi_dap_not_a_request_to_enforce():
    c = classify(mail("Hang xom lan dat, hoa giai ko thanh. Toi muon kien thi nop don o dau, "
                      "ubnd xa hay toa an?", "hang xom lan dat"), RULES)
    assert c.request_type == "hoi_dap"


def test_status_of_a_confirmation_already_filed_is_hoi_dap():
    c = classify(mail("Tôi đã nộp đơn tại Chi cục theo hướng dẫn trên, tới nay vẫn chưa nhận "
                      "được giấy xác nhận. Xin hỏi hồ sơ của tôi đang bị vướng gì?",
                      "Re: Xin giấy xác nhận đã thi hành xong"), RULES)
    assert c.request_type == "hoi_dap"


def test_a_phrase_never_joins_two_sentences() -> None:
    from mailbot.classify.textnorm import fold, mark_sentences

    text = fold("Ông Tâm vẫn cấy lúa trên đất. Cho tôi hỏi hồ sơ tới đâu rồi? TP. Rạch Giá.")
    marked = mark_sentences(text)
    assert len(marked) == len(text)  # spans found in one are spans of the other
    assert "dat| cho" in marked  # sentence end: no phrase may run across it
    assert "tp. rach gia" in marked  # an abbreviation is not a sentence end
