"""Read a local Maildir (demos, tests, a server's spool) and file handled mail into subfolders.

Mail still in the Maildir's ``new/`` or ``cur/`` is unhandled; handled mail is renamed (not
rewritten, so its bytes never change) into the Maildir++ subfolder ``.Processed`` or
``.Quarantine``.
"""

from __future__ import annotations

import logging
import mailbox
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from mailbot.config import MaildirMailbox
from mailbot.errors import SourceError
from mailbot.sources import FetchedMail

log = logging.getLogger(__name__)

PROCESSED = "Processed"
QUARANTINE = "Quarantine"


class MaildirSource:
    """One Maildir as a ``MailSource``; refs are Maildir keys (file names without ``:2,`` info)."""

    def __init__(self, cfg: MaildirMailbox, base_dir: Path | str = ".") -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.unit = cfg.unit
        path = Path(cfg.path).expanduser()
        self.path = path if path.is_absolute() else Path(base_dir) / path
        try:
            self._md = mailbox.Maildir(self.path, factory=None, create=True)
        except OSError as exc:
            raise SourceError(
                f"không mở hoặc tạo được thư mục Maildir {self.path}: {exc.strerror}; kiểm tra "
                f"khóa path của hộp thư {cfg.name} và quyền ghi của mailbot",
                permanent=True,
            ) from exc
        # Where fetch_new last saw each key, so marking does not rescan the folder.
        self._seen: dict[str, Path] = {}

    def _files(self, root: Path) -> list[tuple[float, str, Path]]:
        """(mtime, key, file) of the messages in ``root``'s new/ and cur/."""
        found = []
        for sub in ("new", "cur"):
            try:
                entries = list(os.scandir(root / sub))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SourceError(
                    f"không đọc được thư mục {root / sub}: {exc.strerror}; kiểm tra quyền đọc",
                ) from exc
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                try:
                    mtime = entry.stat().st_mtime
                except FileNotFoundError:  # moved away meanwhile
                    continue
                key = entry.name.split(self._md.colon)[0]
                found.append((mtime, key, Path(entry.path)))
        return sorted(found)

    def fetch_new(self) -> Iterator[FetchedMail]:
        """Yield every mail not yet filed away, oldest first (by arrival = file mtime)."""
        for mtime, key, file in self._files(self.path):
            self._seen[key] = file
            try:
                raw = file.read_bytes()
            except FileNotFoundError:
                continue  # handled by another worker in the meantime
            except OSError as exc:
                raise SourceError(
                    f"không đọc được tệp thư {file}: {exc.strerror}; kiểm tra quyền đọc"
                ) from exc
            yield FetchedMail(
                mailbox=self.name,
                ref=key,
                raw=raw,
                arrived_at=datetime.fromtimestamp(mtime, UTC),
            )

    def _folder_root(self, folder: str) -> Path:
        root = self.path / f".{folder}"
        if not (root / "cur").is_dir():
            self._md.add_folder(folder)
        return root

    def _file_into(self, ref: str, folder: str) -> None:
        target = self._folder_root(folder)
        known = self._seen.pop(ref, None)
        if known is not None and known.exists():
            candidates = [known]
        else:
            candidates = [file for _m, key, file in self._files(self.path) if key == ref]
        for file in candidates:
            # Keep the sub-directory (new/ or cur/) and the name: flags and bytes unchanged.
            dest = target / file.parent.name / file.name
            try:
                os.replace(file, dest)
            except FileNotFoundError:
                return
            except OSError as exc:
                raise SourceError(
                    f"không chuyển được tệp thư {file} vào {target}: {exc.strerror}; kiểm tra "
                    "quyền ghi trên thư mục Maildir"
                ) from exc
            return
        # Not in the inbox any more: already filed (marking twice is harmless).
        log.debug("Maildir %s: %s already filed", self.name, ref)

    def mark_processed(self, ref: str) -> None:
        self._file_into(ref, PROCESSED)

    def mark_quarantined(self, ref: str) -> None:
        self._file_into(ref, QUARANTINE)

    def wait_for_mail(self, timeout: float, interval: float = 0.5) -> bool:
        """Poll until a mail is waiting (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._files(self.path):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(interval, left))

    def close(self) -> None:
        """Nothing to release: each call opens and closes its own files."""
