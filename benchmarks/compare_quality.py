"""Quality of `paper-rgb` against `fast-rgb` at equal training: same reduced geometry, data, seed, steps and
audio SNR; each trained through the 16-bit channel, then evaluated on the validation split with every pair
written to and read from a real 16-bit WAV. Prints a table side by side and writes JSON.

Reduced geometry (both train on this CPU): 32 x 32 RGB image, STDCT frame 256 / hop 16 / 128 frames (2,288
samples at 44.1 kHz, the same image values per audio sample ratio as the tiny preset), exact 20 dB SNR.

    bash scripts/fetch_demo_data.sh
    python benchmarks/compare_quality.py [--steps 400] [--batch 2] [--out-dir runs/compare]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pixinwav.config import load_config
from pixinwav.data.datasets import validation_pairs
from pixinwav.evaluate import measure_scheme, metric_rows, summarise
from pixinwav.train import fit

GEOMETRY = ["model.image_size=32", "model.frame=256", "model.hop=16", "model.frames=128", "model.unet.snr_db=20.0"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", nargs="+", default=["paper-rgb", "fast-rgb"])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--data", default="data/demo", help="folder with train_images, train_audio, val_images, val_audio")
    p.add_argument("--out-dir", default="runs/compare")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="validation pairings to average")
    p.add_argument("--set", nargs="*", default=[], help="extra section.key=value overrides for every preset")
    p.add_argument("--json", default=str(Path(__file__).parent / "results" / "compare_quality.json"))
    args = p.parse_args()

    data = [f"data.{split}={args.data}/{split}" for split in ("train_images", "train_audio", "val_images", "val_audio")]
    results = {}
    for preset in args.presets:
        cfg = load_config(None, [f"model.preset={preset}", *GEOMETRY, *data, f"train.steps={args.steps}",
                                 f"train.batch_size={args.batch}", "train.beta=0.9", "train.lr=0.001", "train.seed=0",
                                 f"train.out_dir={args.out_dir}/{preset}", f"train.val_every={args.steps}",
                                 f"train.ckpt_every={args.steps}", "train.tensorboard=false", "data.val_pairs=8",
                                 *args.set])
        began = time.perf_counter()
        model = fit(cfg, progress=True)["model"]
        minutes = (time.perf_counter() - began) / 60
        rows = []
        for seed in args.seeds:
            images, covers = validation_pairs(cfg.model, cfg.data, seed)
            rows += metric_rows(measure_scheme(model, images, covers))
        results[preset] = {"train_minutes": minutes, "pairs": len(rows),
                           "params": sum(p.numel() for p in model.parameters()), **summarise(rows)}

    print(f"\n{args.steps} steps, batch {args.batch}, 32 x 32 RGB in 2,288 samples at 20 dB, validation through "
          f"16-bit WAV files ({results[args.presets[0]]['pairs']} pairs)\n")
    print("| preset | params | train minutes | image SSIM | image PSNR dB | audio SNR dB | audio seg-SNR dB |")
    print("|---|---|---|---|---|---|---|")
    for preset, r in results.items():
        print(f"| {preset} | {r['params']:,} | {r['train_minutes']:.1f} | {r['image/ssim']:.3f} | {r['image/psnr']:.2f} | "
              f"{r['audio/snr']:.2f} | {r['audio/seg_snr']:.2f} |")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"steps": args.steps, "batch": args.batch, "overrides": args.set, "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
