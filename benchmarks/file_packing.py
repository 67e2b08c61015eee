"""How much smaller `pixinwav hide --file` sends real files (``src/pixinwav/packing.py``): every JPEG of 20 kB or more
in the image packages of `pixinwav data fetch` (training and validation), per package, recompressed losslessly by
JPEG XL; and, for the other packings, the PNGs of the validation images and the songs (OGG) as files. Each file is
packed as `hide` packs it, unpacked as `reveal` unpacks it and compared byte for byte; the times are per MB of the
original, on this machine.

    python benchmarks/file_packing.py [--data data/debian] [--out benchmarks/results/file_packing.md]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from pixinwav import packing

SETS = {  # name: (glob under the data folder, smallest file in bytes)
    "JPEG": ("*_images/*/*.jpg", 20_000),
    "PNG (validation images)": ("val_images/*/*.png", 20_000),
    "OGG (validation songs)": ("val_audio/*/*.ogg", 0),
}


def measure(path: Path) -> dict:
    data = path.read_bytes()
    t0 = time.perf_counter()
    how, packed = packing.pack(data)
    t1 = time.perf_counter()
    back = packing.unpack(how, packed)
    t2 = time.perf_counter()
    return {"package": path.parent.name, "bytes": len(data), "sent": len(packed), "packing": how, "exact": back == data,
            "pack_s_per_mb": (t1 - t0) / len(data) * 1e6, "unpack_s_per_mb": (t2 - t1) / len(data) * 1e6}


def row(name: str, rows: list[dict]) -> str:
    saved = np.array([1 - r["sent"] / r["bytes"] for r in rows])
    p10, p50, p90 = np.percentile(saved, [10, 50, 90]) * 100
    hows = ", ".join(f"{h} {sum(r['packing'] == h for r in rows)}" for h in packing.IDS if any(r["packing"] == h for r in rows))
    return (f"| {name} | {len(rows)} | {statistics.median(r['bytes'] for r in rows) / 1000:.0f} | {hows} | "
            f"{100 * saved.min():.1f} | {p10:.1f} | **{p50:.1f}** | {p90:.1f} | {100 * saved.max():.1f} | "
            f"{sum(r['exact'] for r in rows)} of {len(rows)} | {statistics.median(r['pack_s_per_mb'] for r in rows):.2f} | "
            f"{statistics.median(r['unpack_s_per_mb'] for r in rows):.3f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/file_packing.md"))
    args = p.parse_args()
    lines = ["# Files as `hide --file` sends them", "",
             "`python benchmarks/file_packing.py`: each file packed as `hide` packs it (the smallest lossless form: a JPEG "
             "recompressed by JPEG XL, another file by LZMA where that saves room, else as it is), unpacked as `reveal` "
             "does and compared byte for byte. Saved: 1 - bytes sent / bytes of the file, in % over the files of the "
             "row; times: median seconds per MB of the file.", "",
             "| files | count | median kB | packing used | saved min | 10th pct | median | 90th pct | max | exact | "
             "pack s/MB | unpack s/MB |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, (pattern, smallest) in SETS.items():
        paths = sorted(f for f in args.data.glob(pattern) if f.stat().st_size >= smallest)
        if not paths:
            raise SystemExit(f"no {pattern} under {args.data}: run pixinwav data fetch --dest {args.data}")
        rows = [measure(f) for f in paths]
        print(f"{name}: {len(rows)} files", flush=True)
        if name == "JPEG":
            for package in sorted({r["package"] for r in rows}):
                lines.append(row(f"JPEG, {package}", [r for r in rows if r["package"] == package]))
        lines.append(row(f"**{name}, all**" if name == "JPEG" else name, rows))
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
