"""The AVIF quality search (``robust/payload.py: best_quality``) against plain bisection, the search up to 0.2.3:
the same quality found? how many encodings, how many seconds? On the validation photos (and four mate-backgrounds
photos when fetched) scaled to a long side of 1000 px, for budgets of 1.5-70 kB, from the top quality the song
models start at (80: adaptive-v3; 100: robust-v2); and the search aimed by a fast encoder's sizes (what
``robust/layers.py`` uses for photos of ``QUICK_FROM_PIXELS`` or more: ``--side 1700 --budgets 30000 70000 150000
300000 --tops 80 --min-pixels 500000``), with and without taking a quality whose quick file is identical to one
already encoded as that one (0.2.23: libavif maps qualities 60 and 61 to one quantiser).
Needs `pixinwav data fetch --dest data/debian`."""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from PIL import Image

from pixinwav.robust.layers import QUICK_FROM_PIXELS, QUICK_SPEED
from pixinwav.robust.payload import MIN_QUALITY, QuickSizes, best_quality, quick_share


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


class NoTwins(QuickSizes):
    """0.2.18-0.2.22's aimed search: every quality tried is encoded, whether or not its setting was."""

    def twin(self, quality, among):
        return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--side", type=int, default=1000)
    p.add_argument("--budgets", type=int, nargs="+", default=[1500, 5000, 12000, 30000, 70000], help="bytes")
    p.add_argument("--tops", type=int, nargs="+", default=[80, 100])
    p.add_argument("--min-pixels", type=int, default=0, help="only photos this large after scaling (the aimed search's "
                   f"own rule: {QUICK_FROM_PIXELS})")
    p.add_argument("--mate", type=int, default=4, help="how many mate-backgrounds photos to add (first by name)")
    p.add_argument("--shares", type=int, nargs="+", metavar="QUALITY", help="no search: the real encoder's size over "
                   "the quick one's at these qualities, per photo (what payload.QUICK_SHARE was set from: --side 1700 "
                   "--min-pixels 500000 --mate 8 --shares 30 45 57 70 80 90 100)")
    args = p.parse_args()
    mate = sorted((args.data / "train_images" / "mate-backgrounds").glob("*"))[:args.mate]
    photos = []
    for path in sorted((args.data / "val_images").glob("*/*")) + mate:
        with Image.open(path) as image:
            image.thumbnail((args.side, args.side))
            if image.width * image.height >= args.min_pixels:
                photos.append(path)
    if not photos:
        raise SystemExit(f"no photos under {args.data}: run `pixinwav data fetch --dest {args.data}`")
    if args.shares:
        return shares(photos, args.side, args.shares)
    print(f"{len(photos)} photos, long side {args.side}; each search from `top`, for budgets of "
          f"{', '.join(f'{b / 1000:g}' for b in args.budgets)} kB; 'aimed': the search aimed by libavif's speed "
          f"{QUICK_SPEED} sizes (quick encodings counted apart); the same answer: the same quality and bytes as the "
          "bisection; 'aimed 0.2.22': without twins\n")
    names = ("bisection", "line", "aimed 0.2.22", "aimed")
    print(f"| top | searches | same answer: {' / '.join(names[1:])} | encodings: {' / '.join(names)} (+ quick) | "
          f"seconds: {' / '.join(names)} |")
    print("|---|---|---|---|---|")
    for top in args.tops:
        count = 0
        same = dict.fromkeys(names[1:], 0)
        calls = dict.fromkeys((*names, "quick"), 0)
        seconds = dict.fromkeys(names, 0.0)
        for path in photos:
            image = Image.open(path).convert("RGB")
            image.thumbnail((args.side, args.side))

            def encode(q, name, speed=None):
                calls[name] += 1
                buffer = io.BytesIO()
                image.save(buffer, format="AVIF", quality=q, **({"speed": speed} if speed else {}))
                return buffer.getvalue()

            for budget in args.budgets:
                found = {}
                for name in names:
                    start = time.perf_counter()
                    if name == "bisection":
                        found[name] = bisection(lambda q: encode(q, name), budget, top)
                    else:
                        sizes = {"aimed": QuickSizes, "aimed 0.2.22": NoTwins}.get(name)
                        quick = sizes(lambda q: encode(q, "quick", QUICK_SPEED)) if sizes else None
                        found[name] = best_quality(lambda q: encode(q, name), budget, top, quick=quick)
                    seconds[name] += time.perf_counter() - start
                for name in same:
                    same[name] += found[name] == found["bisection"]
                count += 1
        print(f"| {top} | {count} | {' / '.join(str(same[n]) for n in names[1:])} | "
              f"{' / '.join(str(calls[n]) for n in names)} (+ {calls['quick']}) | "
              f"{' / '.join(f'{seconds[n]:.1f}' for n in names)} |", flush=True)


def shares(photos: list[Path], side: int, qualities: list[int]) -> None:
    """Per photo and quality: the real encoder's file size over libavif's fastest encoder's."""
    def size(image: Image.Image, quality: int, **options) -> int:
        buffer = io.BytesIO()
        image.save(buffer, format="AVIF", quality=quality, **options)
        return len(buffer.getvalue())

    print(f"{len(photos)} photos, long side {side}: the real encoder's file over libavif's speed {QUICK_SPEED} file, "
          "by quality\n")
    print("| photo | size | " + " | ".join(f"quality {q}" for q in qualities) + " |")
    print("|---|---|" + "---|" * len(qualities))
    rows = []
    for path in photos:
        image = Image.open(path).convert("RGB")
        image.thumbnail((side, side))
        rows.append([size(image, q) / size(image, q, speed=QUICK_SPEED) for q in qualities])
        print(f"| {path.name[-24:]} | {image.width} x {image.height} | " + " | ".join(f"{r:.3f}" for r in rows[-1])
              + " |", flush=True)
    print("| mean | | " + " | ".join(f"{sum(col) / len(col):.3f}" for col in zip(*rows)) + " |")
    print("| `payload.QUICK_SHARE` | | " + " | ".join(f"{quick_share(q):.3f}" for q in qualities) + " |")


if __name__ == "__main__":
    main()
