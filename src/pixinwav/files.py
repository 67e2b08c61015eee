"""Writing outputs safely: never over an existing file without ``force``, never half-written, checked before
the work starts, with the permissions the user's umask asks for."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import PixinwavError


def refuse_existing(path: str | Path, force: bool) -> None:
    if Path(path).exists() and not force:
        raise PixinwavError(f"{path} exists; pass --force to overwrite it")


def check_output(path: str | Path, force: bool, inputs: tuple = ()) -> Path:
    """Everything that can be known about an output path before the slow work: not standard output, not a
    folder, not one of the ``inputs``, not existing (without ``force``), in a folder that exists and is writable."""
    if str(path) == "-":
        raise PixinwavError("writing to standard output is not supported; give a file name with -o")
    path = Path(path)
    if path.is_dir():
        raise PixinwavError(f"{path} is a folder, not a file path")
    for src in inputs:
        if Path(src).exists() and path.resolve() == Path(src).resolve():
            raise PixinwavError(f"output {path} is one of the inputs; choose another path")
    refuse_existing(path, force)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PixinwavError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise PixinwavError(f"output folder is not writable: {folder}")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write, force: bool) -> Path:
    """Call ``write(tmp_path)`` then move it onto ``path``: a crash or a kill never leaves a half-written output
    (or a stray temporary: a kill raises SystemExit through the CLI's handler, and this cleans up). Without
    ``force`` the output is created exclusively, so two writers racing for one new path cannot both win."""
    path = check_output(path, force)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise PixinwavError(f"output folder is not writable: {folder} ({exc.strerror})") from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a normal new file follows the umask
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the path appeared meanwhile
            except FileExistsError:
                raise PixinwavError(f"{path} exists; pass --force to overwrite it") from None
            except OSError:  # file systems without hard links: fall back to a rename
                refuse_existing(path, force)
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
