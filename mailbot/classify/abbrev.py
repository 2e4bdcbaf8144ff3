"""Expand phone-style abbreviations ("ko", "dc", "j") in folded text before phrases are matched."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.classify.textnorm import ALNUM, fold_phrase
from mailbot.errors import RuleError


@dataclass(frozen=True)
class Abbreviations:
    """Whole-word abbreviations → their folded full form, from [abbreviations] of the rules."""

    regex: re.Pattern[str] | None
    full: dict[str, str]

    @classmethod
    def build(cls, table: object, where: str) -> Abbreviations:
        if not table:
            return cls(None, {})
        if not isinstance(table, dict):
            raise RuleError(f"{where}: [abbreviations] phải là bảng, ví dụ ko = \"không\"")
        full: dict[str, str] = {}
        for short, long in table.items():
            key = fold_phrase(str(short))
            if not key or " " in key or not isinstance(long, str) or not fold_phrase(long):
                raise RuleError(f"{where}: [abbreviations] {short!r}: cần một từ viết tắt và "
                                "cụm từ đầy đủ, ví dụ ko = \"không\"")
            full[key] = fold_phrase(long)
        alt = "|".join(sorted(map(re.escape, full), key=len, reverse=True))
        # Whole words only; "đc:" (địa chỉ in a form) and "k/g" (kính gửi) keep their meaning.
        return cls(re.compile(rf"(?<![{ALNUM}/])(?:{alt})(?![{ALNUM}/:])"), full)

    def expand(self, folded: str) -> str:
        """The text with every abbreviation written out (same text when there is none)."""
        if self.regex is None or not folded:
            return folded
        full = self.full
        return self.regex.sub(lambda m: full[m.group(0)], folded)
