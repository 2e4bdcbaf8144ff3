"""The unit tree a report is laid out on: which units are Cục, which Chi cục belong to which."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mailbot.units import load_units

OUTSIDE = "OUTSIDE"


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    parent: str | None
    valid_from: date | None = None
    valid_to: date | None = None

    def active_between(self, start: date, end: date) -> bool:
        """True if the unit existed on some day of [start, end]."""
        return (self.valid_from is None or self.valid_from <= end) and (
            self.valid_to is None or self.valid_to >= start
        )

    @property
    def level(self) -> str:
        """'cuc' for a provincial office, 'chi_cuc' for a district office under it."""
        return "chi_cuc" if self.parent else "cuc"


def _derived(code: str) -> UnitInfo:
    # Corpus convention (DOMAIN.md §5.2): "KG" is the Cục, "KG-*" its Chi cục.
    head, sep, _ = code.partition("-")
    return UnitInfo(code, code, head if sep else None)


def load_unit_tree(rules_dir: Path | str | None, extra: Iterable[str] = ()) -> dict[str, UnitInfo]:
    """Units of rules/units.toml (`mailbot.units`) plus any code met in the data.

    A unit whose parent is not itself a known unit (e.g. the Tổng cục) is treated as a Cục; a
    code met only in the data gets its parent from its prefix ("KG-RACHGIA" under "KG").
    """
    tree: dict[str, UnitInfo] = {}
    if rules_dir is not None:
        for u in load_units(Path(rules_dir)).all():
            if u.code != OUTSIDE:
                tree[u.code] = UnitInfo(u.code, u.name, u.parent, u.valid_from, u.valid_to)
    for code in extra:
        if code and code != OUTSIDE and code not in tree:
            tree[code] = _derived(code)
    # A parent outside the tree (Tổng cục) makes the unit a Cục for the form.
    return {
        c: (
            u
            if u.parent is None or u.parent in tree
            else UnitInfo(u.code, u.name, None, u.valid_from, u.valid_to)
        )
        for c, u in tree.items()
    }


def scope(
    tree: dict[str, UnitInfo],
    codes: Iterable[str] | None,
    *,
    exact: bool,
    start: date,
    end: date,
) -> list[str]:
    """The units a report covers: the given ones and, unless exact, their Chi cục that existed
    during [start, end]; without codes, every unit that existed then."""
    if codes is None:
        chosen = {c for c, u in tree.items() if u.active_between(start, end)}
    else:
        chosen = set()
        for code in codes:
            chosen.add(code)
            if not exact:
                chosen.update(
                    c for c, u in tree.items() if u.parent == code and u.active_between(start, end)
                )
    return sort_units(tree, chosen)


def sort_units(tree: dict[str, UnitInfo], codes: Iterable[str]) -> list[str]:
    """Cục first, each followed by its Chi cục in code order."""

    def key(code: str) -> tuple[str, int, str]:
        u = tree.get(code) or _derived(code)
        return ((u.parent or u.code), 0 if u.parent is None else 1, u.code)

    return sorted(set(codes), key=key)
