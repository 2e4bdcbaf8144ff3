"""Content-addressed attachment store: each file once, under its sha256, with a size limit."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def store_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "attachments" / sha256[:2] / sha256[2:4] / sha256


def store_blob(data_dir: Path, data: bytes) -> str:
    """Write the bytes once (atomically) and return their sha256."""
    digest = hashlib.sha256(data).hexdigest()
    target = store_path(data_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return digest


def read_blob(data_dir: Path, sha256: str) -> bytes:
    return store_path(data_dir, sha256).read_bytes()
