"""Writing outputs safely: never over an existing file without ``force``, never half-written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import PixinwavError


def refuse_existing(path: str | Path, force: bool) -> None:
    if Path(path).exists() and not force:
        raise PixinwavError(f"{path} exists; pass --force to overwrite it")


def atomic_write(path: Path, write, force: bool) -> Path:
    """Call ``write(tmp_path)`` then rename onto ``path``: a crash never leaves a half-written output."""
    path = Path(path)
    refuse_existing(path, force)
    if path.is_dir():
        raise PixinwavError(f"{path} is a folder, not a file path")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PixinwavError(f"output folder does not exist: {folder}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise PixinwavError(f"output folder is not writable: {folder} ({exc.strerror})") from None
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
