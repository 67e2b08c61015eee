"""`make demo`: hide the bundled photo in the bundled music clip with the shipped model, write stego.wav,
reveal revealed.png from that file, print SSIM / PSNR / SNR and save a side-by-side figure.

Every number printed here is measured on the files on disk (the stego WAV is read back before revealing).
"""
from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

import torch

from pixinwav import PixinwavError, load_model, metrics
from pixinwav.cli import main as cli
from pixinwav.data.audio import read_audio
from pixinwav.data.images import load_image
from pixinwav.figures import example_figure


def run(args) -> None:
    assets = resources.files("pixinwav") / "assets"
    image, cover = Path(str(assets / "astronaut.jpg")), Path(str(assets / "drascula-track2-3s.ogg"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stego, revealed = out / "stego.wav", out / "revealed.png"
    model = load_model(args.model)
    print(f"model: {model.card.get('name', model.source)} ({model.cfg.image_size} x {model.cfg.image_size} "
          f"{'RGB' if model.cfg.image_channels == 3 else 'grey'} in {model.clip_seconds:.3f} s at {model.cfg.sample_rate} Hz)")

    # the same commands a user types
    common = ["--model", args.model] if args.model else []
    for argv in (["hide", "--image", str(image), "--cover", str(cover), "-o", str(stego), "--offset", "1.0", "--force", *common],
                 ["reveal", str(stego), "-o", str(revealed), "--offset", "1.0", "--force", *common]):
        print("$ pixinwav " + " ".join(argv))
        if cli(argv) != 0:
            raise SystemExit(1)

    # metrics from the files on disk
    secret = load_image(image, model.cfg.image_size, model.cfg.image_channels)
    shown = load_image(revealed, model.cfg.image_size, model.cfg.image_channels)
    a, b = read_audio(cover), read_audio(stego)
    lo, hi = int(1.0 * a.sample_rate), int((1.0 + model.clip_seconds) * a.sample_rate)
    ssim = float(metrics.ssim(shown[None], secret[None])[0])
    psnr = float(metrics.psnr(shown[None], secret[None])[0])
    snr = metrics.snr(a.samples[lo:hi], b.samples[lo:hi])
    seg = metrics.segmental_snr(a.mono()[lo:hi], b.mono()[lo:hi], frame=1024)
    mos = metrics.visqol_mos(a.mono()[lo:hi], b.mono()[lo:hi], a.sample_rate)  # NaN for windows under 1 s
    print(f"\nthrough {stego} (16-bit WAV): image SSIM {ssim:.3f}, PSNR {psnr:.2f} dB; "
          f"audio SNR {snr:.2f} dB, segmental SNR {seg:.2f} dB, ViSQOL MOS-LQO {mos:.2f} of 4.73 (hidden window)")
    figure = example_figure(out / "demo.png", secret, shown, torch.from_numpy(a.mono()[lo:hi].copy()),
                            torch.from_numpy(b.mono()[lo:hi].copy()), a.sample_rate,
                            title=f"SSIM {ssim:.3f}, PSNR {psnr:.1f} dB, SNR {snr:.1f} dB (through a 16-bit WAV)")
    print(f"figure: {figure}  (secret | revealed | cover and stego spectrograms)")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="demo_out", help="folder for stego.wav, revealed.png and demo.png")
    p.add_argument("--model", default=None, help="model name or file (default: the shipped default)")
    return p.parse_args()


if __name__ == "__main__":
    try:
        run(parse())
    except PixinwavError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        sys.exit(1)
