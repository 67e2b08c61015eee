"""What a stego file survives: hide with a model (through the public API, as `pixinwav hide` does), pass the
stego audio through one everyday transformation, reveal, and report image SSIM / PSNR per transformation.

Transformations: the 16-bit WAV the CLI writes (reference), FLAC, the float stego written by soundfile
(libsndfile floors instead of rounding: -0.5 LSB on every sample), a writer scaling by 32767 instead of 32768,
a 48 kHz round trip (soxr), -1 and -6 dB gains, white noise at -90 and -80 dBFS, MP3 at the highest bitrate
(libsndfile's LAME); and two windows with no image, to show what the reveal check sees: the stego trimmed by
one sample, and the plain cover; and two ways a window is damaged after hiding: a second image hidden over it
half a second later, and a cover so loud that 14 % of the window's samples clip. Prints a Markdown table (image
quality without the check, and the pilot agreement the check uses) and writes JSON: these ranges set the
thresholds of `pixinwav reveal` (under PRESENCE_MIN: no image; under PRESENCE_INTACT: written with a warning).

    pixinwav data fetch --dest data/debian
    python benchmarks/robustness.py [--model pixinwav-modulo-v1] [--n 8]
"""
from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from pixinwav import metrics
from pixinwav.api import PRESENCE_INTACT, PRESENCE_MIN, load_model
from pixinwav.channel import pcm16_round_trip as pcm16, to_pcm16
from pixinwav.data.audio import resample
from pixinwav.data.datasets import AudioPool, ImagePool

RATE = 44100


def through(fmt: str, subtype: str | None, audio: np.ndarray, rate: int, **kw) -> np.ndarray:
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format=fmt, subtype=subtype, **kw)
    buffer.seek(0)
    return sf.read(buffer, dtype="float32")[0]


def noise(x: np.ndarray, dbfs: float) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 10 ** (dbfs / 20), x.shape)


TRANSFORMS = {
    "16-bit WAV (pixinwav's writer)": lambda x, cover: pcm16(x),
    "16-bit FLAC": lambda x, cover: through("FLAC", "PCM_16", to_pcm16(x), RATE),
    "float stego saved by soundfile (libsndfile floors)": lambda x, cover: through("WAV", "PCM_16", x, RATE),
    "int16 by x 32767 instead of 32768": lambda x, cover: np.round(x * 32767).astype(np.float32) / 32768,
    "48 kHz round trip (soxr HQ)": lambda x, cover: pcm16(resample(pcm16(resample(x, RATE, 48000)), 48000, RATE)),
    "-1 dB gain": lambda x, cover: pcm16(x * 10 ** (-1 / 20)),
    "-6 dB gain": lambda x, cover: pcm16(x * 10 ** (-6 / 20)),
    "white noise at -90 dBFS (1 LSB RMS)": lambda x, cover: pcm16(x + noise(x, -90)),
    "white noise at -80 dBFS": lambda x, cover: pcm16(x + noise(x, -80)),
    "MP3 (LAME, highest bitrate)":
        lambda x, cover: through("MP3", "MPEG_LAYER_III", pcm16(x), RATE, compression_level=0.0)[: len(x)],
    "one sample trimmed from the start (window off by one)": lambda x, cover: pcm16(x[1:]),
    "the cover itself (no image hidden)": lambda x, cover: pcm16(cover),
}
DAMAGE = ("a second image hidden over it 0.5 s later", "a cover so loud that 14 % of the window clips")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="shipped model name or file (default: the package default)")
    p.add_argument("--data", default="data/debian", help="folder with val_images and val_audio")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=str(Path(__file__).parent / "results" / "robustness.json"))
    args = p.parse_args()

    model = load_model(args.model)
    images = ImagePool(f"{args.data}/val_images")
    audio = AudioPool(f"{args.data}/val_audio", RATE, int(model.clip_seconds * RATE) + RATE)
    rng = np.random.default_rng([args.seed, 4242])
    pairs = [(images.files[i], audio.window(rng)) for i in rng.permutation(len(images.files))[: args.n]]
    results = {name: [] for name in (*TRANSFORMS, *DAMAGE)}
    for i, (path, cover) in enumerate(pairs):
        secret = model.prepare_image(path)[None]
        stego, _ = model.hide(path, cover, RATE, offset=0.5)
        other = pairs[(i + 1) % len(pairs)][0]
        loud = cover * (1.0 / np.quantile(np.abs(cover), 0.86))  # 14 % of samples beyond full scale
        damaged = {DAMAGE[0]: pcm16(model.hide(other, pcm16(stego[:, 0]), RATE, offset=1.0)[0][:, 0]),
                   DAMAGE[1]: pcm16(model.hide(path, np.clip(loud, -1, 1), RATE, offset=0.5)[0][:, 0])}
        for name in (*TRANSFORMS, *DAMAGE):
            received = damaged[name] if name in damaged else TRANSFORMS[name](stego[:, 0], cover)
            revealed = model.reveal(received, RATE, offset=0.5, check=False)[None]
            start = int(0.5 * RATE)
            window = torch.from_numpy(np.ascontiguousarray(received[start:start + model.cfg.clip_samples]))
            presence = model.model.presence(window) if model.model.has_presence else None
            results[name].append((float(metrics.ssim(revealed, secret)[0]), float(metrics.psnr(revealed, secret)[0]),
                                  np.nan if presence is None else presence))
    name = model.card.get("name", args.model)
    print(f"\n{name}: {len(pairs)} validation photos in Drascula windows, stego written as 16-bit then transformed\n")
    print("| transformation | image SSIM | image PSNR dB | pilot agreement (min - max) |")
    print("|---|---|---|---|")
    summary = {}
    for key, rows in results.items():
        rows = np.array(rows)
        ssim, psnr = rows[:, :2].mean(axis=0)
        summary[key] = {"ssim": ssim, "psnr": psnr, "presence_min": rows[:, 2].min(), "presence_max": rows[:, 2].max()}
        print(f"| {key} | {ssim:.3f} | {psnr:.2f} | {rows[:, 2].min():.2f} - {rows[:, 2].max():.2f} |")
    print(f"\npilot agreement: what `pixinwav reveal` checks (below {PRESENCE_MIN} it reports that no image is hidden "
          f"there; below {PRESENCE_INTACT} it writes the image with a warning that it is damaged)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"model": name, "pairs": len(pairs), "results": summary}, indent=2))


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
