"""The AVIF quality search (``robust/payload.py: best_quality``) against plain bisection, the search up to 0.2.3:
the same quality found? how many encodings, how many seconds? On the validation photos (and four mate-backgrounds
photos when fetched) scaled to a long side of 1000 px, for budgets of 1.5-70 kB, from the top quality the song
models start at (80: adaptive-v3; 100: robust-v2). Needs `pixinwav data fetch --dest data/debian`."""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from PIL import Image

from pixinwav.robust.payload import MIN_QUALITY, best_quality


def bisection(encode, max_bytes: int, top: int = 100):
    """0.2.3's search: ``top`` first, then bisection over ``MIN_QUALITY``-``top - 1``."""
    lo, hi, fit = MIN_QUALITY, top, None
    data = encode(top)
    if len(data) <= max_bytes:
        return data, top
    hi = top - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        data = encode(mid)
        if len(data) <= max_bytes:
            fit, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    return fit


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--side", type=int, default=1000)
    args = p.parse_args()
    mate = sorted((args.data / "train_images" / "mate-backgrounds").glob("*"))[:4]
    photos = sorted((args.data / "val_images").glob("*/*")) + mate
    if not photos:
        raise SystemExit(f"no photos under {args.data}: run `pixinwav data fetch --dest {args.data}`")
    print(f"{len(photos)} photos, long side {args.side}; each search from `top`, for budgets 1.5-70 kB\n")
    print("| top | searches | same quality and bytes | encodings: bisection -> now | seconds: bisection -> now |")
    print("|---|---|---|---|---|")
    for top in (80, 100):
        same = count = 0
        calls, seconds = {"old": 0, "new": 0}, {"old": 0.0, "new": 0.0}
        for path in photos:
            image = Image.open(path).convert("RGB")
            image.thumbnail((args.side, args.side))
            for budget in (1500, 5000, 12000, 30000, 70000):
                found = {}
                for name, search in (("old", bisection), ("new", best_quality)):
                    def encode(q, name=name):
                        calls[name] += 1
                        buffer = io.BytesIO()
                        image.save(buffer, format="AVIF", quality=q)
                        return buffer.getvalue()
                    start = time.perf_counter()
                    found[name] = search(encode, budget, top)
                    seconds[name] += time.perf_counter() - start
                same += found["old"] == found["new"]
                count += 1
        print(f"| {top} | {count} | {same} | {calls['old']} -> {calls['new']} | {seconds['old']:.1f} -> {seconds['new']:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
