"""Covers at low sample rates with pixinwav-modulo-v1 (the default model up to version 0.1): the layout follows
the cover's band (the receiver knows it from the file's rate), so a 16 kHz or 8 kHz cover still carries the image,
with fewer coefficients.

    pixinwav data fetch --dest data/debian
    python benchmarks/low_rate.py [--n 8]

For each rate: validation tracks resampled to it, a photo hidden at 1 s through the API, the stego written as
16-bit and read back at that rate, revealed; image SSIM (median and per file) and the pilot agreement.
"""
from __future__ import annotations

import argparse

import numpy as np
import soundfile as sf

from pixinwav import load_model, metrics
from pixinwav.channel import pcm16_round_trip
from pixinwav.data.audio import AUDIO_EXTENSIONS, resample
from pixinwav.data.datasets import find_files
from pixinwav.data.images import IMAGE_EXTENSIONS


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/debian")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--rates", type=int, nargs="+", default=[8000, 16000, 22050, 44100, 48000])
    args = p.parse_args()
    model = load_model("pixinwav-modulo-v1")
    tracks = find_files(f"{args.data}/val_audio", AUDIO_EXTENSIONS, "audio")
    images = find_files(f"{args.data}/val_images", IMAGE_EXTENSIONS, "image")
    print(f"{model.card.get('name')}: {args.n} validation tracks (first 4 s) x photos, stego through 16-bit at each rate\n")
    print("| cover rate Hz | band used Hz | median SSIM | SSIM per file | pilot agreement (min) |\n|---|---|---|---|---|")
    for rate in args.rates:
        ssims, agreements, band = [], [], None
        for i in range(args.n):
            audio, native = sf.read(str(tracks[(i * 3) % len(tracks)]), frames=4 * 48000, dtype="float32", always_2d=True)
            cover = resample(audio[: 4 * native], native, rate)
            stego, report = model.hide(images[i % len(images)], cover, rate, offset=1.0)
            image, found = model.reveal_with_report(pcm16_round_trip(stego), rate, offset=1.0)
            ssims.append(float(metrics.ssim(image[None], model.prepare_image(images[i % len(images)])[None])[0]))
            agreements.append(float(found.rsplit(" ", 1)[-1]))
            band = report.band_limit_hz
        used = f"under {band:.0f}" if band else f"all (to {model.model.top_frequency:.0f})"
        print(f"| {rate} | {used} | {np.median(ssims):.3f} | {' '.join(f'{s:.2f}' for s in ssims)} | {min(agreements):.2f} |")


if __name__ == "__main__":
    main()
