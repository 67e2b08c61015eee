"""How the adaptive model's receiver tells an intact stego from a damaged one: the pilots' error relative to the
rounding noise expected in their cells (``AdaptiveStego.pilot_noise``), on validation music, for intact 16-bit
WAV files and for everyday damage that leaves the pilots agreeing but every code a little off. The ranges set
``INTACT_NOISE_RATIO`` (above it, `pixinwav reveal` writes the image with a warning that it is damaged).

    pixinwav data fetch --dest data/debian
    python benchmarks/adaptive_damage.py [--clips 28]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from pixinwav import metrics
from pixinwav.api import load_model
from pixinwav.channel import pcm16_round_trip
from pixinwav.data.audio import AUDIO_EXTENSIONS
from pixinwav.data.datasets import find_files
from pixinwav.data.images import IMAGE_EXTENSIONS
from pixinwav.evaluate import through_file
from pixinwav.models.adaptive import INTACT_NOISE_RATIO

NAME = "pixinwav-adaptive-v1"


def damages(stego: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each a 16-bit file's samples: the stego as written, and after one everyday change."""
    level = np.sqrt(np.mean(np.square(stego)))

    def noise(db: float) -> np.ndarray:
        return rng.normal(0, level * 10 ** (db / 20), stego.shape).astype(np.float32)

    return {"intact 16-bit file": stego,
            "volume -0.1 dB": pcm16_round_trip(stego * 10 ** (-0.1 / 20)),
            "volume +0.05 dB": pcm16_round_trip(stego * 10 ** (0.05 / 20)),
            "noise 60 dB under the music": pcm16_round_trip(stego + noise(-60)),
            "noise 70 dB under the music": pcm16_round_trip(stego + noise(-70))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/debian")
    p.add_argument("--clips", type=int, default=28, help="validation tracks, one 20 s clip each")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    model = load_model(NAME)
    scheme = model.model
    tracks = [t for t in find_files(f"{args.data}/val_audio", AUDIO_EXTENSIONS, "audio") if sf.info(str(t)).duration >= 20]
    images = find_files(f"{args.data}/val_images", IMAGE_EXTENSIONS, "image")
    rng = np.random.default_rng(args.seed)
    ratios, ssims = {}, {}
    for i, track in enumerate(tqdm(tracks[: args.clips], desc="clips", unit="clip")):
        info = sf.info(str(track))
        n = int(20 * info.samplerate)
        audio, rate = sf.read(str(track), start=int(rng.integers(0, info.frames - n + 1)), frames=n, dtype="float32",
                              always_2d=True)
        image = images[i % len(images)]
        with tempfile.TemporaryDirectory(prefix="pixinwav-damage-") as folder:  # the stego as a real 16-bit WAV
            stego = through_file(model.hide(image, pcm16_round_trip(audio), rate, offset=1.0)[0], rate,
                                 Path(folder) / "stego.wav")
        secret = model.prepare_image(image)[None]
        for name, received in damages(stego, rng).items():
            window = model._mono(received, rate)[rate:rate + scheme.cfg.clip_samples]
            coefs = scheme.analyse(torch.from_numpy(np.ascontiguousarray(window))[None])[0].numpy()
            ratios.setdefault(name, []).append(scheme.read(coefs, scheme.layout())[3])
            revealed = model.reveal(received, rate, offset=1.0, check=False)[None]
            ssims.setdefault(name, []).append(float(metrics.ssim(revealed, secret)[0]))
    print(f"\n{NAME}, {len(ratios['intact 16-bit file'])} validation clips; threshold {INTACT_NOISE_RATIO}\n")
    print("| received | pilots' noise ratio: min / median / max | above the threshold | image SSIM median "
          "| image SSIM, worst of those not flagged |")
    print("|---|---|---|---|---|")
    for name, values in ratios.items():
        v, quality = np.array(values), np.array(ssims[name])
        passed = quality[v <= INTACT_NOISE_RATIO]  # what `reveal` would write without a warning
        worst = f"{passed.min():.3f}" if len(passed) else "- (all flagged)"
        print(f"| {name} | {v.min():.2f} / {np.median(v):.2f} / {v.max():.2f} | {np.mean(v > INTACT_NOISE_RATIO):.0%} | "
              f"{np.median(quality):.3f} | {worst} |")


if __name__ == "__main__":
    main()
