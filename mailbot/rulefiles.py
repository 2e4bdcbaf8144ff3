"""Read a TOML rules file once per modification time, with Vietnamese errors IT staff can act on."""

from __future__ import annotations

import errno
import tomllib
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, TypeVar

from mailbot.errors import RuleError

T = TypeVar("T")

# OS reasons are English in strerror; the common ones are said in Vietnamese.
_REASONS = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không có quyền truy cập",
    errno.ENOTDIR: "một phần của đường dẫn không phải thư mục",
    errno.EISDIR: "đây là thư mục, không phải tệp",
}


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def rules_mtime(path: Path, what: str) -> int:
    """Modification time (ns) of a rules file; RuleError naming rules_dir when it is missing.

    `what` says in Vietnamese what the file holds, e.g. "lịch ngày làm việc".
    """
    try:
        return path.stat().st_mtime_ns
    except OSError as exc:
        raise RuleError(
            f"{path}: không tìm thấy tệp {what} ({_reason(exc)}); hãy đặt rules_dir trong tệp "
            f"cấu hình là thư mục chứa {path.name} (thư mục rules/ của dự án có sẵn một bản)"
        ) from None


def read_rules_toml(path: Path, what: str) -> tuple[dict[str, Any], int]:
    """The parsed TOML of a rules file and its modification time (ns)."""
    mtime = rules_mtime(path, what)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RuleError(
            f"{path}: tệp {what} phải được lưu với bảng mã UTF-8; mở tệp bằng trình soạn thảo "
            "và lưu lại dưới dạng UTF-8"
        ) from None
    except OSError as exc:
        raise RuleError(
            f"{path}: không đọc được tệp {what} ({_reason(exc)}); kiểm tra quyền đọc của tài "
            "khoản chạy mailbot"
        ) from None
    try:
        return tomllib.loads(text), mtime
    except tomllib.TOMLDecodeError as exc:
        # tomllib's own text (English) gives the line and column of the mistake.
        raise RuleError(
            f"{path}: tệp {what} không đúng cú pháp TOML ({exc}); sửa chỗ sai ở dòng và cột "
            "được nêu rồi chạy lại"
        ) from None


class RulesCache(Generic[T]):
    """Objects built from rules files, rebuilt only when a file (or `depends`) changes.

    One object is kept per file, so an edited file replaces its old version.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[tuple[int, Hashable], T]] = {}

    def load(
        self,
        path: Path,
        what: str,
        build: Callable[[dict[str, Any], str], T],
        *,
        depends: Hashable = None,
    ) -> T:
        """build(data, file name) for path, or the cached result while nothing changed."""
        key = str(path.resolve())
        hit = self._items.get(key)
        if hit is not None and hit[0] == (rules_mtime(path, what), depends):
            return hit[1]
        data, mtime = read_rules_toml(path, what)
        built = build(data, str(path))
        self._items[key] = ((mtime, depends), built)
        return built

    def clear(self) -> None:
        self._items.clear()
