"""`make demo`: hide the bundled photo in the bundled music clip with the shipped model, write stego.wav,
reveal revealed.png from that file, print SSIM / PSNR / SNR and save a side-by-side figure. The default model
fills a 12 s clip with the photo at its own size; a window model (``--model pixinwav-modulo-v1``) hides a
256 x 256 crop at 1.0 s of a 3 s clip.

Every number printed here is measured on the files on disk (the stego WAV is read back before revealing).
"""
from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

import torch

from PIL import Image

from pixinwav import PixinwavError, load_model, metrics, tiles
from pixinwav.cli import main as cli
from pixinwav.data.audio import read_audio
from pixinwav.data.images import load_image, open_image, to_array
from pixinwav.figures import example_figure


def run(args) -> None:
    assets = resources.files("pixinwav") / "assets"
    image = Path(str(assets / "astronaut.jpg"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stego, revealed = out / "stego.wav", out / "revealed.png"
    model = load_model(args.model)
    whole = model.whole_file  # a whole-song model fills a 12 s clip; a window model one window of a 3 s clip
    cover = Path(str(assets / ("drascula-track2-12s.ogg" if whole else "drascula-track2-3s.ogg")))
    if whole:
        print(f"model: {model.card.get('name', model.source)} (the photo at its own size, spread over the song)")
    else:
        print(f"model: {model.card.get('name', model.source)} ({model.cfg.image_size} x {model.cfg.image_size} "
              f"{'RGB' if model.cfg.image_channels == 3 else 'grey'} in {model.clip_seconds:.3f} s at "
              f"{model.cfg.sample_rate} Hz)")

    # the same commands a user types
    common = (["--model", args.model] if args.model else []) + ([] if whole else ["--offset", "1.0"])
    for argv in (["hide", "--image", str(image), "--cover", str(cover), "-o", str(stego), "--force", *common],
                 ["reveal", str(stego), "-o", str(revealed), "--force", *common]):
        print("$ pixinwav " + " ".join(argv))
        if cli(argv) != 0:
            raise SystemExit(1)

    # metrics from the files on disk
    channels = model.cfg.image_channels
    if whole:  # against the photo at the size it was sent
        with Image.open(revealed) as img:
            shown = torch.from_numpy(to_array(img, channels)).permute(2, 0, 1)
        secret = tiles.scaled(torch.from_numpy(to_array(open_image(image), channels)).permute(2, 0, 1),
                              shown.shape[-1], shown.shape[-2])
    else:
        secret = load_image(image, model.cfg.image_size, channels)
        shown = load_image(revealed, model.cfg.image_size, channels)
    a, b = read_audio(cover), read_audio(stego)
    lo, hi = (0, len(a.samples)) if whole else (int(1.0 * a.sample_rate), int((1.0 + model.clip_seconds) * a.sample_rate))
    where = "whole file" if whole else "hidden window"
    ssim = float(metrics.ssim(shown[None], secret[None])[0])
    psnr = float(metrics.psnr(shown[None], secret[None])[0])
    snr = metrics.snr(a.samples[lo:hi], b.samples[lo:hi])
    seg = metrics.segmental_snr(a.mono()[lo:hi], b.mono()[lo:hi], frame=1024)
    mos = metrics.visqol_mos(a.mono()[lo:hi], b.mono()[lo:hi], a.sample_rate)  # NaN for windows under 1 s
    print(f"\nthrough {stego} (16-bit WAV): image SSIM {ssim:.3f}, PSNR {psnr:.2f} dB "
          f"({shown.shape[-1]} x {shown.shape[-2]}); audio SNR {snr:.2f} dB, segmental SNR {seg:.2f} dB, ViSQOL MOS-LQO "
          f"{mos:.2f} of 4.73 ({where})")
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
