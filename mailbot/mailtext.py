"""Vietnamese date formatting for mail templates: plain functions the renderer registers as filters.

Register them as Jinja filters under their own names::

    env.filters.update(date_vn=date_vn, weekday_vn=weekday_vn, datetime_vn=datetime_vn)

or call ``register_filters(env)``. Each accepts ``None`` (renders "") and passes an
already formatted string through unchanged, so a template never fails on an empty value.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

# Monday = 0, as date.weekday() counts; "Chủ nhật" keeps its lower-case n, as offices write it.
WEEKDAYS_VN: tuple[str, ...] = (
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ nhật",
)


def date_vn(value: date | datetime | str | None) -> str:
    """Format a date as ``dd/mm/yyyy`` (e.g. ``07/02/2017``); ``None`` gives ``""``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def weekday_vn(value: date | datetime | str | None) -> str:
    """Name the weekday in Vietnamese: ``Thứ Hai`` … ``Chủ nhật``; ``None`` gives ``""``."""
    if value is None or isinstance(value, str):
        return ""
    return WEEKDAYS_VN[value.weekday()]


def datetime_vn(value: datetime | date | str | None) -> str:
    """Format a local date and time as ``HH:MM ngày dd/mm/yyyy`` (a plain date: ``dd/mm/yyyy``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        return date_vn(value)
    return f"{value.hour:02d}:{value.minute:02d} ngày {date_vn(value)}"


FILTERS: dict[str, Any] = {
    "date_vn": date_vn,
    "weekday_vn": weekday_vn,
    "datetime_vn": datetime_vn,
}


def register_filters(env: Any) -> None:
    """Add the filters above to a ``jinja2.Environment``."""
    env.filters.update(FILTERS)
