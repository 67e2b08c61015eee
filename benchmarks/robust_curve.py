"""The robust model's trade-off: music per payload copy (more seconds carry more bytes, so a better image, at
the same robustness per bit) against how many copies the clip holds (more copies, more robust). For each
(payload seconds, clip seconds): recovered fraction per attack and the median SSIM, every stego through a
16-bit WAV and revealed as `pixinwav reveal` does.

    pixinwav data fetch --dest data/debian
    python benchmarks/robust_curve.py [--n 12] [--configs 15:30 30:30 30:60 60:60]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pixinwav import evaluate_attacks as ea
from pixinwav.attacks import parse_attacks
from pixinwav.api import load_model
from pixinwav.data.datasets import find_files
from pixinwav.data.images import IMAGE_EXTENSIONS
from pixinwav.evaluate import cover_clips, measure

ATTACKS = "none,mp3:128,aac:128,opus:64,white_noise:30,resample:22050,trim_start:1"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/debian")
    p.add_argument("--n", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--configs", nargs="+", default=["15:30", "30:30", "30:60", "60:60"],
                   help="PAYLOAD_SECONDS:CLIP_SECONDS pairs")
    p.add_argument("--attacks", default=ATTACKS)
    p.add_argument("--json", default=str(Path(__file__).parent / "results" / "robust_curve.json"))
    args = p.parse_args()
    model = load_model("pixinwav-robust-v1")
    attacks = parse_attacks(args.attacks)
    images = find_files(f"{args.data}/val_images", IMAGE_EXTENSIONS, "image")
    results = []
    for config in args.configs:
        payload, clip = (float(x) for x in config.split(":"))
        covers = cover_clips(f"{args.data}/val_audio", args.n, clip, args.seed)
        rows = measure({"robust": model}, [images[i % len(images)] for i in range(len(covers))], covers, attacks,
                       visqol=False, progress=False, payload_seconds=payload).rows
        failed_hides = len({r["pair"] for r in rows if r["hide_error"]})
        table = ea.summary(rows)
        results.append({"payload_seconds": payload, "clip_seconds": clip, "table": table})
        print(f"payload {payload:g} s of music per copy, clips of {clip:g} s ({len(covers)} clips, {failed_hides} "
              "refused by hide: the image did not fit):", flush=True)
        print("  " + "; ".join(f"{r['attack']} {r['strength']:g}: {r['recovered'] * 100:.0f} % / SSIM "
                               f"{r['ssim_median']:.3f}" for r in table), flush=True)
    names = [f"{r['attack']} {r['strength']:g}" for r in results[0]["table"]]
    print("\n| payload s per copy | clip s | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for r in results:
        cells = [f"{t['recovered'] * 100:.0f} % / {t['ssim_median']:.2f}" for t in r["table"]]
        print(f"| {r['payload_seconds']:g} | {r['clip_seconds']:g} | " + " | ".join(cells) + " |")
    print("\neach cell: files recovered / median SSIM (failures count as 0)")
    Path(args.json).write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
