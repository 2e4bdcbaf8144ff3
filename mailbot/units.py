"""The enforcement units (Cục, Chi cục, successors) from rules/units.toml, valid between dates."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from mailbot.errors import RuleError

UNITS_FILE = "units.toml"
OUTSIDE = "OUTSIDE"  # competent unit is in another province


@dataclass(frozen=True)
class Court:
    """A court whose first-instance judgments a unit enforces, with the dates the name was used."""

    name: str
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )


@dataclass(frozen=True)
class Unit:
    """One office: codes as in DOMAIN.md §5.2; contacts are filled in by the office."""

    code: str
    name: str  # full Vietnamese name, e.g. "Chi cục Thi hành án dân sự huyện Giồng Riềng"
    short_name: str
    parent: str | None = None  # None for the provincial office (Cục)
    address: str = ""
    city: str = ""
    phone: str = ""
    email: str = ""
    focal_officer: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    successor: str | None = None
    places: tuple[str, ...] = ()  # district/city names of the unit's area
    kinds: tuple[str, ...] = ()  # "huyện", "thị xã", "thành phố" as the place has been called
    local_places: tuple[str, ...] = ()  # communes and towns: local evidence for ambiguous names
    ambiguous: bool = False  # the place name exists in other provinces too (Châu Thành)
    courts: tuple[Court, ...] = ()

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )

    @property
    def court_aliases(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.courts)

    def court_name(self, on: date | None = None) -> str | None:
        """The court's name valid on a date (judgment date), else the latest name."""
        if not self.courts:
            return None
        if on is not None:
            for c in self.courts:
                if c.valid_on(on):
                    return c.name
        return self.courts[-1].name


@dataclass(frozen=True)
class Province:
    """Province-level facts used by routing: its names, its courts, what belongs to the Cục."""

    name: str = ""
    aliases: tuple[str, ...] = ()
    provincial_court: str = ""
    high_court: str = ""
    high_court_aliases: tuple[str, ...] = ()
    cuc_matters: tuple[str, ...] = ()
    outside_provinces: tuple[str, ...] = ()
    outside_places: tuple[str, ...] = ()
    ambiguous_places: tuple[str, ...] = ()


@dataclass(frozen=True)
class Units:
    """All units of rules/units.toml, with lookups by code and by date."""

    units: tuple[Unit, ...]
    province: Province = field(default_factory=Province)
    source: str = ""

    def get(self, code: str) -> Unit | None:
        for u in self.units:
            if u.code == code:
                return u
        return None

    def all(self) -> list[Unit]:
        return list(self.units)

    def active(self, on: date) -> list[Unit]:
        return [u for u in self.units if u.valid_on(on)]

    def resolve(self, code: str, on: date) -> Unit:
        """The unit that handles `code`'s matters on `on`, following successors.

        A unit without a successor stays itself after its end date (the office has not yet
        said who took over); an unknown code is a RuleError naming the file.
        """
        unit = self.get(code)
        if unit is None:
            raise RuleError(f"{self.source}: không có đơn vị mã {code!r}; kiểm tra mã trong tệp")
        seen = {unit.code}
        while not unit.valid_on(on) and unit.successor and (
            unit.valid_to is not None and on > unit.valid_to
        ):
            nxt = self.get(unit.successor)
            if nxt is None or nxt.code in seen:
                break
            seen.add(nxt.code)
            unit = nxt
        return unit


def _date(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise RuleError(f"{where}: ngày {value!r} không hợp lệ; viết dạng 2025-07-01") from exc


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: cần một danh sách chuỗi, ví dụ [\"Rạch Giá\"]")
    return tuple(value)


_UNIT_KEYS = {
    "code", "name", "short_name", "parent", "address", "city", "phone", "email",
    "focal_officer", "valid_from", "valid_to", "successor", "places", "kinds", "local_places",
    "ambiguous", "courts",
}


def parse_units(data: dict[str, Any], source: str) -> Units:
    """Validate the TOML structure; every error names the file and the unit."""
    units: list[Unit] = []
    for i, raw in enumerate(data.get("unit", []), 1):
        where = f"{source}: [[unit]] thứ {i}"
        if not isinstance(raw, dict) or not raw.get("code") or not raw.get("name"):
            raise RuleError(f"{where}: thiếu code hoặc name")
        where = f"{source}: đơn vị {raw['code']}"
        unknown = set(raw) - _UNIT_KEYS
        if unknown:
            raise RuleError(f"{where}: khóa không biết {', '.join(sorted(unknown))}")
        courts = []
        for c in raw.get("courts", []):
            if not isinstance(c, dict) or not c.get("name"):
                raise RuleError(f"{where}: mỗi tòa án cần name")
            courts.append(Court(c["name"], _date(c.get("valid_from"), where),
                                _date(c.get("valid_to"), where)))
        units.append(
            Unit(
                code=str(raw["code"]),
                name=str(raw["name"]),
                short_name=str(raw.get("short_name") or raw["name"]),
                parent=raw.get("parent") or None,
                address=str(raw.get("address", "")),
                city=str(raw.get("city", "")),
                phone=str(raw.get("phone", "")),
                email=str(raw.get("email", "")),
                focal_officer=str(raw.get("focal_officer", "")),
                valid_from=_date(raw.get("valid_from"), where),
                valid_to=_date(raw.get("valid_to"), where),
                successor=raw.get("successor") or None,
                places=_strs(raw.get("places"), where + " places"),
                kinds=_strs(raw.get("kinds"), where + " kinds"),
                local_places=_strs(raw.get("local_places"), where + " local_places"),
                ambiguous=bool(raw.get("ambiguous", False)),
                courts=tuple(courts),
            )
        )
    codes = [u.code for u in units]
    dup = {c for c in codes if codes.count(c) > 1}
    if dup:
        raise RuleError(f"{source}: mã đơn vị bị lặp: {', '.join(sorted(dup))}")
    for u in units:
        for ref, label in ((u.parent, "parent"), (u.successor, "successor")):
            if ref and ref not in codes:
                raise RuleError(f"{source}: đơn vị {u.code}: {label} = {ref!r} không có trong tệp")
    p = data.get("province", {})
    o = data.get("outside", {})
    province = Province(
        name=str(p.get("name", "")),
        aliases=_strs(p.get("aliases"), f"{source}: [province] aliases"),
        provincial_court=str(p.get("provincial_court", "")),
        high_court=str(p.get("high_court", "")),
        high_court_aliases=_strs(p.get("high_court_aliases"), f"{source}: [province]"),
        cuc_matters=_strs(p.get("cuc_matters"), f"{source}: [province] cuc_matters"),
        outside_provinces=_strs(o.get("provinces"), f"{source}: [outside] provinces"),
        outside_places=_strs(o.get("places"), f"{source}: [outside] places"),
        ambiguous_places=_strs(o.get("ambiguous"), f"{source}: [outside] ambiguous"),
    )
    return Units(tuple(units), province, source)


@lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> Units:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise RuleError(f"không đọc được {path}: {exc.strerror}; kiểm tra thư mục rules") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: lỗi cú pháp TOML: {exc}") from exc
    return parse_units(data, path)


def load_units(rules_dir: Path) -> Units:
    """Load (cached per path and modification time) rules_dir/units.toml."""
    path = Path(rules_dir) / UNITS_FILE
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise RuleError(f"không tìm thấy {path}; kiểm tra rules_dir trong cấu hình") from exc
    return _load(str(path), mtime)
