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
