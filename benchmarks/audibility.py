"""How audible the change of each window model is, next to the image quality it buys: ViSQOL of the stego window
against the cover, and the share of STFT cells where the change is louder than the cover itself (per band; the
worst band is the one a listener, or a detector, finds first), through 16-bit WAV files.

One 1.53 s window per validation track (at 1.0 s into the track), the validation photos in turn.

    pixinwav data fetch --dest data/debian
    python benchmarks/audibility.py [--tracks 24] [--models pixinwav-modulo-v1 pixinwav-adaptive-v1 pixinwav-adaptive-v2]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import stft
from tqdm import tqdm

from pixinwav import metrics
from pixinwav.api import load_model
from pixinwav.channel import pcm16_round_trip
from pixinwav.data.audio import AUDIO_EXTENSIONS, read_audio
from pixinwav.data.datasets import find_files
from pixinwav.data.images import IMAGE_EXTENSIONS
from pixinwav.evaluate import reveal_or_blank, through_file

BANDS_HZ = [0, 250, 500, 1000, 2000, 4000, 8000, 12000, 16000, 22050]


def louder_cells(cover: np.ndarray, stego: np.ndarray, rate: int) -> np.ndarray:
    """Per band of ``BANDS_HZ``: the share of STFT cells (1,024 points, hop 256) where the change is louder than
    the cover. Cells where both are under the 16-bit floor do not count."""
    freq, _, c = stft(cover, rate, nperseg=1024, noverlap=768)
    _, _, d = stft(stego - cover, rate, nperseg=1024, noverlap=768)
    floor = 1 / 32768 / np.sqrt(12) / 32  # a bin's share of the rounding noise, well under it
    live = (np.abs(c) > floor) | (np.abs(d) > floor)
    louder = (np.abs(d) > np.abs(c)) & live
    out = []
    for lo, hi in zip(BANDS_HZ[:-1], BANDS_HZ[1:]):
        rows = (freq >= lo) & (freq < hi)
        out.append(louder[rows].sum() / max(live[rows].sum(), 1))
    return np.array(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/debian")
    p.add_argument("--tracks", type=int, default=24)
    p.add_argument("--models", nargs="+", default=["pixinwav-modulo-v1", "pixinwav-adaptive-v1", "pixinwav-adaptive-v2"])
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "audibility"))
    args = p.parse_args()
    tracks = [t for t in find_files(f"{args.data}/val_audio", AUDIO_EXTENSIONS, "audio")
              if sf.info(str(t)).duration >= 3.0][: args.tracks]
    images = find_files(f"{args.data}/val_images", IMAGE_EXTENSIONS, "image")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            model = load_model(name)
            rows = []
            for i, track in enumerate(tqdm(tracks, desc=name, unit="track")):
                cover = read_audio(track)
                stego, _ = model.hide(images[i % len(images)], cover.samples, cover.sample_rate, offset=1.0)
                back = through_file(stego, cover.sample_rate, Path(tmp) / "stego.wav")  # [T, channels]
                rate = cover.sample_rate
                window = slice(rate, rate + int(model.clip_seconds * rate))
                plain = pcm16_round_trip(cover.samples).mean(axis=1)[window]  # the cover as a 16-bit file holds it
                received = back.mean(axis=1)[window]
                revealed = reveal_or_blank(model, back, rate, offset=1.0)[None]
                secret = model.prepare_image(images[i % len(images)])[None]
                rows.append({"track": track.name, "ssim": float(metrics.ssim(revealed, secret)[0]),
                             "visqol": metrics.visqol_mos(plain, received, rate),
                             "snr_db": metrics.snr(plain, received),
                             "louder": louder_cells(plain.astype(np.float64), received.astype(np.float64), rate).tolist()})
            louder = np.array([r["louder"] for r in rows])
            results[name] = {"windows": len(rows), "ssim_median": float(np.median([r["ssim"] for r in rows])),
                             "visqol_median": float(np.median([r["visqol"] for r in rows])),
                             "visqol_min": float(np.min([r["visqol"] for r in rows])),
                             "snr_median_db": float(np.median([r["snr_db"] for r in rows])),
                             "louder_by_band": louder.mean(0).tolist(), "louder_worst_band": float(louder.mean(0).max()),
                             "rows": rows}
    bands = [f"{lo / 1000:g}-{hi / 1000:g}k" for lo, hi in zip(BANDS_HZ[:-1], BANDS_HZ[1:])]
    print(f"\n{len(tracks)} validation tracks, one window each, through 16-bit WAV files\n")
    print("| model | image SSIM (median) | ViSQOL median (min) | SNR median | change louder than cover: worst band | "
          + " | ".join(bands) + " |")
    print("|---|---|---|---|---|" + "---|" * len(bands))
    for name, r in results.items():
        print(f"| {name} | {r['ssim_median']:.3f} | {r['visqol_median']:.2f} ({r['visqol_min']:.2f}) | "
              f"{r['snr_median_db']:.1f} dB | {100 * r['louder_worst_band']:.1f} % | "
              + " | ".join(f"{100 * v:.1f} %" for v in r["louder_by_band"]) + " |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
