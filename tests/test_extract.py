"""Judgment and enforcement-decision numbers, phones and ID numbers (DOMAIN.md §6)."""

from __future__ import annotations

import tomllib

import pytest

from mailbot.classify.extract import compile_refs, extract_all, id_numbers, phones
from mailbot.classify.textnorm import fold
from mailbot.config import PROJECT_DIR

REFS = compile_refs(tomllib.loads((PROJECT_DIR / "rules" / "references.toml").read_text()))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ban an so 45/2017/DSST", ["45/2017/DS-ST"]),
        ("BA 12/2016/HNGD - PT", ["12/2016/HNGĐ-PT"]),
        ("số: 08/2017/QĐST-DS", ["8/2017/QĐST-DS"]),
        ("Bản án số 12 / 2017 / DS - ST", ["12/2017/DS-ST"]),
        ("số 37/2016/HSPT", ["37/2016/HS-PT"]),
        ("09/2017/QĐPT-HNGĐ; 15/2019/KDTM-GĐT; 12/2017/QĐ-BPKCTT",
         ["9/2017/QĐPT-HNGĐ", "15/2019/KDTM-GĐT", "12/2017/QĐ-BPKCTT"]),
        ("3/2018/KDTM-PT và 7/2018/LĐ-ST", ["3/2018/KDTM-PT", "7/2018/LĐ-ST"]),
        ("Ba\u0309n a\u0301n 120/2019/HS-ST", ["120/2019/HS-ST"]),
        ("15/2019/TLST-DS, 20/2019/QĐXXST-DS, 04/2016/AL, ngày 15/3/2017", []),
        ("05/2017/QĐ-PT", []),
    ],
)
def test_judgment_refs_are_normalised(text, expected):
    assert extract_all(text, REFS)[0] == expected


def test_enforcement_decisions_are_kept_apart():
    j, e = extract_all("QĐ thi hành án số 123/QĐ-CCTHADS và 45/qd - cthads, "
                       "kế hoạch 373/KH-CTHADS, bản án 1/2020/DS-ST", REFS)
    assert e == ["123/QĐ-CCTHADS", "45/QĐ-CTHADS"]
    assert j == ["1/2020/DS-ST"]


def test_phones_and_ids():
    text = fold("ĐT 0913 480 216, bàn 0297.3871.559; CMND số 371052846; CCCD 091085001234")
    assert phones(text) == ["0913480216", "02973871559"]
    assert id_numbers(text) == ["371052846", "091085001234"]
    assert id_numbers(fold("số tiền 350000000 đồng")) == []


def test_fast_patterns_equal_their_lookbehind_forms():
    """The patterns open with a digit, not a lookbehind (speed); matches must not change."""
    import random
    import re

    from mailbot.classify import extract as ex

    ref_phone = re.compile(r"(?<![\d/.])(?:\+?84[\s.\-]?|0)(\d(?:[\s.\-]?\d){8,9})(?![\d/])")
    ref_id = re.compile(r"(?<![\d/.\-])(\d{9}|\d{12})(?![\d/.\-])")
    ref_j = re.compile(REFS.judgment.pattern.replace(
        r"(?P<no>\d(?<![\d/]\d)\d{0,4})", r"(?<![\d/])(?P<no>\d{1,5})"), re.VERBOSE)
    assert ref_j.pattern != REFS.judgment.pattern
    rng = random.Random(3)
    toks = ["0", "1", "8", "84", "+", "/", "-", " ", ".", "2017", "/ds-st", "qd", "09", "x",
            "1234567"]
    for _ in range(20000):
        s = "".join(rng.choice(toks) for _ in range(rng.randint(0, 12)))
        for ref, fast in ((ref_phone, ex._PHONE_RE), (ref_id, ex._ID_RE),
                          (ref_j, REFS.judgment)):
            assert [m.span() for m in ref.finditer(s)] == [m.span() for m in fast.finditer(s)], s
