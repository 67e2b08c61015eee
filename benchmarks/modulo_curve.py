"""Image quality against audio loudness for the modulo scheme: one row per ``bin_snr_db`` (how far each step
sits under the training music's median spectrum), every pair hidden, written to a real 16-bit WAV, read back
and revealed. Rows use the training-free decoder with statistics fitted on the training split (as the
shipped model is); ``--model`` adds the shipped model itself as a check. Prints a Markdown table, writes JSON and
a PNG plot of image SSIM against ViSQOL and SNR.

    pixinwav data fetch --dest data/debian
    python benchmarks/modulo_curve.py [--data data/debian] [--n 8] [--snrs 20 25 30 35 40 45]
    python benchmarks/modulo_curve.py --snrs 30 --set min_step_lsb=8 code_range=6 --model ''   # other settings
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from pixinwav.api import load_model  # noqa: E402
from pixinwav.config import DataConfig, model_config, model_config_from_dict, parse_overrides  # noqa: E402
from pixinwav.data.datasets import statistics_sample, validation_pairs  # noqa: E402
from pixinwav.evaluate import measure_scheme, metric_rows, summarise  # noqa: E402
from pixinwav.models import build_model  # noqa: E402
from pixinwav.train import STATISTICS_SAMPLE  # noqa: E402

RESULTS = Path(__file__).parent / "results"
KEYS = ["image/ssim", "image/psnr", "audio/snr", "audio/seg_snr", "audio/visqol"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/debian", help="folder with train_images, train_audio, val_images, val_audio")
    p.add_argument("--n", type=int, default=8, help="validation pairs (one per image)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--snrs", nargs="+", type=float, default=[20, 25, 30, 35, 40, 45])
    p.add_argument("--set", nargs="*", default=[], help="other model.key=value settings for every row, e.g. min_step_lsb=8")
    p.add_argument("--model", default="pixinwav-modulo-v1", help="shipped model to add as its own row ('' for none)")
    p.add_argument("--json", default=str(RESULTS / "modulo_curve.json"))
    p.add_argument("--plot", default=str(RESULTS / "modulo_curve.png"))
    args = p.parse_args()

    data = DataConfig(**{split: f"{args.data}/{split}" for split in ("train_images", "train_audio", "val_images", "val_audio")},
                      val_pairs=args.n)
    base = model_config("modulo-rgb")
    settings = parse_overrides([f"model.{pair}" for pair in args.set]).get("model", {})
    sample = statistics_sample(base, data, STATISTICS_SAMPLE, seed=0)  # the same sample training measures
    images, covers = validation_pairs(base, data, args.seed)
    rows = []
    for snr in args.snrs:
        model = build_model(model_config_from_dict({**settings, "preset": "modulo-rgb", "bin_snr_db": snr}))
        model.fit_statistics(*sample)
        summary = summarise(metric_rows(measure_scheme(model, images, covers, visqol=True)))
        rows.append({"decoder": "training-free", "bin_snr_db": snr, "capacity": model.capacity, **summary})
        print(rows[-1], flush=True)
    if args.model:
        shipped = load_model(args.model).model
        summary = summarise(metric_rows(measure_scheme(shipped, images, covers, visqol=True)))
        rows.append({"decoder": f"{args.model} (shipped)", "bin_snr_db": shipped.cfg.modulo.bin_snr_db,
                     "capacity": shipped.capacity, **summary})

    print(f"\n{len(images)} validation pairs from {args.data}, each through a 16-bit WAV (seed {args.seed})"
          + (f"; settings {' '.join(args.set)}" if args.set else "") + "\n")
    print("| decoder | bin SNR dB | coefficients sent | image SSIM | image PSNR dB | audio SNR dB | seg-SNR dB "
          "| ViSQOL MOS-LQO |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['decoder']} | {r['bin_snr_db']:g} | {r['capacity']:,} | " + " | ".join(
            f"{r[k]:.3f}" if k in ("image/ssim", "audio/visqol") else f"{r[k]:.2f}" for k in KEYS) + " |")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"data": args.data, "pairs": len(images), "seed": args.seed, "rows": rows}, indent=2))

    free = [r for r in rows if r["decoder"] == "training-free"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, label in ((axes[0], "audio/snr", "audio SNR of stego vs cover (dB)"),
                           (axes[1], "audio/visqol", "ViSQOL MOS-LQO (4.73 = identical)")):
        ax.plot([r[key] for r in free], [r["image/ssim"] for r in free], "o-", label="training-free decoder")
        for r in free:
            ax.annotate(f"{r['bin_snr_db']:g}", (r[key], r["image/ssim"]), textcoords="offset points", xytext=(4, 4), fontsize=7)
        for r in rows[len(free):]:
            ax.plot(r[key], r["image/ssim"], "r*", markersize=11, label=r["decoder"])
        ax.set_xlabel(label)
        ax.set_ylabel("image SSIM")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("modulo scheme: image SSIM against audio quality (labels: bin SNR dB)", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"wrote {args.json} and {args.plot}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
