"""rules/units.toml: the Cục and 15 Chi cục, validity dates, successors, validation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mailbot.config import PROJECT_DIR
from mailbot.errors import RuleError
from mailbot.units import load_units

UNITS = load_units(PROJECT_DIR / "rules")

CODES = {"KG", "KG-RACHGIA", "KG-HATIEN", "KG-KIENLUONG", "KG-GIANGTHANH", "KG-HONDAT",
         "KG-TANHIEP", "KG-CHAUTHANH", "KG-GIONGRIENG", "KG-GOQUAO", "KG-ANBIEN", "KG-ANMINH",
         "KG-UMINHTHUONG", "KG-VINHTHUAN", "KG-PHUQUOC", "KG-KIENHAI"}


def test_the_cuc_and_fifteen_chi_cuc_exist():
    active = {u.code for u in UNITS.active(date(2020, 1, 1))}
    assert active == CODES
    kg = UNITS.get("KG")
    assert kg is not None and kg.parent is None and kg.city == "Rạch Giá"
    gr = UNITS.get("KG-GIONGRIENG")
    assert gr is not None and gr.name == "Chi cục Thi hành án dân sự huyện Giồng Riềng"
    assert gr.parent == "KG"
    # contacts are the office's to fill in, never invented
    assert all(u.phone == "" for u in UNITS.all())


def test_successors_apply_from_the_2025_reorganisation():
    assert UNITS.resolve("KG-GIONGRIENG", date(2025, 6, 30)).code == "KG-GIONGRIENG"
    assert UNITS.resolve("KG-GIONGRIENG", date(2025, 7, 1)).code == "AG"
    assert "KG" not in {u.code for u in UNITS.active(date(2025, 7, 1))}


def test_court_names_change_with_dates():
    ht = UNITS.get("KG-HATIEN")
    assert ht is not None
    assert ht.court_name(date(2018, 5, 1)) == "Tòa án nhân dân thị xã Hà Tiên"
    assert ht.court_name(date(2019, 5, 1)) == "Tòa án nhân dân thành phố Hà Tiên"


def test_bad_units_file_names_file_and_unit(tmp_path: Path):
    (tmp_path / "units.toml").write_text(
        '[[unit]]\ncode = "X"\nname = "X"\nsuccessor = "Y"\n', encoding="utf-8")
    with pytest.raises(RuleError, match=r"units.toml: đơn vị X: successor"):
        load_units(tmp_path)
    with pytest.raises(RuleError, match="không có đơn vị mã"):
        UNITS.resolve("NOPE", date(2020, 1, 1))
