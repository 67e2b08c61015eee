"""Progress bars on stderr for work that takes a while: shown in a terminal only, and only once the work has taken
``PROGRESS_AFTER_S`` (a quick command prints nothing extra)."""
from __future__ import annotations

from tqdm import tqdm

PROGRESS_AFTER_S = 2.0


def progress(total: int | None, what: str, initial: int = 0, unit: str = "packet") -> tqdm:
    return tqdm(total=total, initial=initial, desc=what, unit=unit, delay=PROGRESS_AFTER_S, disable=None, leave=False)
