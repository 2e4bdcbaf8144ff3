"""route(): Điều 35 competence from the courts and offices a mail names."""

from __future__ import annotations

from datetime import date

import pytest

from mailbot.classify.textnorm import fold
from mailbot.config import PROJECT_DIR
from mailbot.route import route
from mailbot.units import load_units

UNITS = load_units(PROJECT_DIR / "rules")
D = date(2020, 5, 4)


def unit(text: str, kind: str = "yeu_cau_thi_hanh_an", refs: tuple[str, ...] = (),
         quoted: str = "", on: date = D) -> str | None:
    return route(fold(text), fold(quoted), kind, refs, UNITS, on).unit


@pytest.mark.parametrize(
    "text, expected",
    [
        ("bản án của TAND huyện Giồng Riềng", "KG-GIONGRIENG"),
        ("toa an nhan dan thi xa Ha Tien xu", "KG-HATIEN"),
        ("tòa Phú Quốc xử tháng 5", "KG-PHUQUOC"),
        ("Tòa án nhân dân tỉnh Kiên Giang xử sơ thẩm", "KG"),
        ("Tòa án nhân dân cấp cao tại TP Hồ Chí Minh", "KG"),
        ("phán quyết của Trung tâm trọng tài thương mại", "KG"),
        ("TAND huyện Cái Nước, tỉnh Cà Mau", "OUTSIDE"),
        ("Tòa án nhân dân quận Ninh Kiều", "OUTSIDE"),
        ("Tòa án nhân dân Quận 1", "OUTSIDE"),
        ("TAND huyện U Minh, Cà Mau", "OUTSIDE"),
        ("TAND huyện U Minh Thượng", "KG-UMINHTHUONG"),
        ("judgment of the People's Court of Phu Quoc City", "KG-PHUQUOC"),
        ("không nhắc tòa án nào", None),
    ],
)
def test_court_decides(text, expected):
    assert unit(text) == expected


def test_chau_thanh_needs_local_evidence():
    assert unit("bản án của TAND huyện Châu Thành") is None
    assert unit("bản án của TAND huyện Châu Thành, tỉnh Kiên Giang") == "KG-CHAUTHANH"
    assert unit("TAND huyện Châu Thành (Tiền Giang)") == "OUTSIDE"
    assert unit("tôi ở thị trấn Minh Lương; bản án TAND huyện Châu Thành") == "KG-CHAUTHANH"
    assert unit("tôi ở huyện Châu Thành, tỉnh An Giang. Bản án TAND huyện Châu Thành") == "OUTSIDE"


def test_provincial_appeal_without_district_is_undecidable():
    assert unit("bản án phúc thẩm của TAND tỉnh Kiên Giang", refs=("5/2019/DS-PT",)) is None
    assert unit("TAND huyện Tân Hiệp xử sơ thẩm, TAND tỉnh Kiên Giang xử phúc thẩm",
                refs=("5/2019/DS-PT",)) == "KG-TANHIEP"


def test_complaints_go_to_the_office_that_acted_and_leaders_to_the_cuc():
    assert unit("Tôi khiếu nại chấp hành viên Chi cục THADS huyện An Minh đã kê biên sai",
                "khieu_nai") == "KG-ANMINH"
    assert unit("Tôi tố cáo ông Chi cục trưởng Chi cục THADS huyện Gò Quao đã nhận tiền",
                "to_cao") == "KG"
    assert unit("khiếu nại chấp hành viên Chi cục THADS TP Long Xuyên", "khieu_nai") == "OUTSIDE"


def test_context_is_used_only_without_own_evidence():
    assert unit("Cảm ơn, tôi sẽ nộp hồ sơ.", "xac_nhan_ket_qua",
                quoted="> thuộc thẩm quyền của Chi cục THADS huyện Hòn Đất") == "KG-HONDAT"


def test_units_valid_on_the_receipt_date():
    assert unit("TAND huyện Giồng Riềng", on=date(2025, 8, 1)) == "AG"


def test_a_complaint_sent_to_a_chi_cuc_leader_is_not_about_that_leader():
    # "Kính gửi: Chi cục trưởng", "khiếu nại gửi Chi cục trưởng": he decides, not accused.
    text = ("ĐƠN TỐ CÁO\nKính gửi: Chi cục trưởng Chi cục THADS huyện Tân Hiệp\n"
            "Tôi tố cáo Chấp hành viên Chi cục THADS huyện Tân Hiệp nhận tiền.")
    assert unit(text, "to_cao") == "KG-TANHIEP"
    assert unit("Tôi đã làm đơn khiếu nại gửi Chi cục trưởng Chi cục THADS huyện An Minh "
                "ngày 21/9 về việc chấp hành viên kê biên sai.", "khieu_nai") == "KG-ANMINH"
    assert unit("Tôi tố cáo ông Phó Chi cục trưởng Chi cục THADS huyện Kiên Lương",
                "to_cao") == "KG"


def test_a_decision_or_officer_of_the_cuc_means_the_cuc():
    assert unit("Chấp hành viên thi hành Quyết định số 44/QĐ-CTHADS đã nhận tiền",
                "to_cao") == "KG"
    assert unit("Tôi tố cáo một chấp hành viên của Cục đã nhận tiền", "to_cao") == "KG"
    assert unit("Quyết định số 12/QĐ-CCTHADS", "khieu_nai") is None


def test_english_provincial_court_first_instance_is_the_cuc():
    assert unit("the People's Court of Kien Giang Province issued first-instance judgment"
                ) == "KG"


def test_a_general_question_naming_no_court_or_office_is_undecidable():
    # DOMAIN.md §5.1: nothing decidable → None (the guidance asks which court judged it).
    assert unit("Cho tôi hỏi chung: thời hiệu yêu cầu thi hành án là bao lâu?", "hoi_dap") is None
    assert unit("Chào Cục, nhờ Cục giải đáp: khiếu nại ở đâu?", "hoi_dap") is None


def test_questions_about_the_cuc_itself_or_its_own_thread_go_to_the_cuc():
    assert unit("Xin địa chỉ trụ sở Cục và giờ làm việc của bộ phận một cửa của Cục",
                "hoi_dap") == "KG"
    quoted = ("Vào Th 4, 10 thg 6, 2020 lúc 10:40 Cục THADS tỉnh Kiên Giang "
              "<thads.kiengiang@moj.gov.vn> đã viết:\n> Về câu hỏi của ông, Cục trả lời như sau")
    assert unit("Cho tôi hỏi thêm về phí.", "hoi_dap", quoted=quoted) == "KG"


def test_the_offices_own_reply_names_its_own_chau_thanh():
    quoted = ("On Mon, Cục THADS tỉnh Kiên Giang <thads.kiengiang@moj.gov.vn> wrote:\n"
              "> Hồ sơ do Chi cục THADS huyện Châu Thành phụ trách.")
    assert unit("Chi cục tiếp dân ngày nào?", "hoi_dap", quoted=quoted) == "KG-CHAUTHANH"
    # The citizen's own "Châu Thành" without the province stays undecidable.
    assert unit("Chi cục THADS huyện Châu Thành tiếp dân ngày nào?", "hoi_dap") is None


def test_asking_the_address_or_hours_of_the_cuc_goes_to_the_cuc():
    assert unit("Cho tôi xin địa chỉ Cục THADS tỉnh Kiên Giang và giờ làm việc", "hoi_dap") == "KG"
    assert unit("Could you tell me the exact address of the Provincial Civil Judgment "
                "Enforcement Department and your office hours?", "hoi_dap") == "KG"
    # Greeting the Cục by name is not a question about the Cục.
    assert unit("Kính gửi Cục THADS tỉnh Kiên Giang, thời hiệu yêu cầu thi hành án là bao lâu?",
                "hoi_dap") is None
