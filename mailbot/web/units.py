"""The units the web desk shows (names, contacts), read once from rules/units.toml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mailbot.config import Config


@dataclass(frozen=True)
class UnitView:
    """A unit as the pages show it; contact fields may be empty until the office fills them."""

    code: str
    name: str
    short_name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    focal_officer: str = ""
    current: bool = True


@lru_cache(maxsize=4)
def _load(rules_dir: str) -> tuple[UnitView, ...]:
    from mailbot.units import load_units

    units = load_units(Path(rules_dir))
    out = []
    for u in units.all():
        valid_to = getattr(u, "valid_to", None)
        out.append(UnitView(
            code=u.code,
            name=u.name,
            short_name=getattr(u, "short_name", "") or u.name,
            address=getattr(u, "address", "") or "",
            phone=getattr(u, "phone", "") or "",
            email=getattr(u, "email", "") or "",
            focal_officer=getattr(u, "focal_officer", "") or "",
            current=valid_to is None,
        ))
    return tuple(out)


def unit_choices(config: Config) -> list[UnitView]:
    return list(_load(str(config.rules_path)))


def unit_name(config: Config, code: str | None) -> str:
    if not code:
        return "Chưa xác định"
    if code == "OUTSIDE":
        return "Ngoài tỉnh"
    for u in unit_choices(config):
        if u.code == code:
            return u.short_name
    return code
