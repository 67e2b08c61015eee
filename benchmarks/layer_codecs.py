"""The robust song model's photo layers in each codec style, at the bytes a song gives them: SSIM and encoding time.

The layers (``robust/layers.py``) are whole image files under a byte budget: the sharp one at the photo's own aspect
ratio (short side 256 at the budgets of a 2-4 minute song), the base in 288 bytes of frame (robust-v2 and v3: three
packets) or 384 (robust-v4: four), shown scaled up to the sharp layer's size. Styles (config
``robust.layer_codec``): "avif-webp" (robust-v2 and v3: the sharp layer an AVIF file, the base WebP, libavif's
default speed 6) and "bare-av1" (robust-v4: both AVIF without the container's ~275 bytes, libavif speed 4 tuned for
SSIM). Every layer goes through ``layers.encode`` as ``hide`` calls it and comes back
through ``Layer.from_frame(...).image()`` as ``reveal`` does (the bare files rebuilt into AVIF); SSIM against the
photo at the sharp layer's size, as ``benchmarks/robust_song.py`` scores it. No audio: through a lossless file or any
attack that keeps the packets, this is the image a song brings back. Also writes a picture (``.png``): for two
photos, each style's sharp layer at 2,800 bytes and its base (288 and 384 bytes), side by side, as revealed.

    python benchmarks/layer_codecs.py [--budgets 1000,1600,2800,4000] [--out benchmarks/results/layer_codecs]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pixinwav import metrics
from pixinwav.data.images import open_image, to_array, to_pil
from pixinwav.robust import layers

BASE_BUDGETS = (288, 384)  # the base layer's frame: three packets of 96 bytes (robust-v2, v3), four (robust-v4)
STYLES = ("avif-webp", "bare-av1")
SHOWN = ("astronaut.png", "coffee.png")  # the photos of the picture


def at_size(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(to_pil(photo).resize((width, height), Image.LANCZOS), np.float32).transpose(2, 0, 1) / 255


def score(layer: layers.Layer, reference: np.ndarray) -> float:
    image = layers.Layer.from_frame(layer.frame()).image()  # what the receiver rebuilds and decodes
    return float(metrics.ssim(image[None], reference[None])[0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/debian", help="holds val_images/ (pixinwav data fetch)")
    p.add_argument("--budgets", default="1000,1600,2800,4000", help="the sharp layer's frame bytes")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "layer_codecs"))
    args = p.parse_args()
    photos = sorted((Path(args.data) / "val_images").rglob("*.*"))
    if not photos:
        raise SystemExit(f"no photos under {args.data}/val_images: run `pixinwav data fetch --dest {args.data}` first")
    rows, shown = [], {}
    for path in photos:
        photo = np.ascontiguousarray(to_array(open_image(path, long_side=4096), 3).transpose(2, 0, 1))
        for budget in [*BASE_BUDGETS, *map(int, args.budgets.split(","))]:
            layer = "base" if budget in BASE_BUDGETS else "sharp"
            show = layers.planned_size(photo.shape[2], photo.shape[1], 2800)  # the base is shown at a 3-minute song's
            for style in STYLES:
                start = time.perf_counter()
                made = layers.encode(photo, layer, budget, show=show if layer == "base" else None, style=style)
                seconds = time.perf_counter() - start
                reference = at_size(photo, made.width, made.height)
                if path.name in SHOWN and budget in (2800, *BASE_BUDGETS):
                    shown[path.name, layer, budget, style] = layers.Layer.from_frame(made.frame()).image()
                rows.append({"photo": path.name, "layer": layer, "budget": budget, "style": style, "codec": made.codec,
                             "sent": f"{made.width} x {made.height}", "bytes": len(made.data),
                             "ssim": score(made, reference), "encode_s": seconds})
                print(f"{path.name} {layer} {budget} {style}: {made.codec} {len(made.data)} bytes at {made.width} x "
                      f"{made.height}, SSIM {rows[-1]['ssim']:.3f}, {seconds:.2f} s", flush=True)
    table = summary(rows, photos)
    picture(shown, Path(args.out).with_suffix(".png"))
    Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=1))
    Path(args.out).with_suffix(".md").write_text(table + "\n")
    print(table)


def picture(shown: dict, path: Path) -> None:
    """One row per photo: v2/v3's and v4's sharp layer (2,800 bytes), then v3's base (288) and v4's (384)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [("sharp", 2800, "avif-webp", "v3: AVIF, 2,800 B"), ("sharp", 2800, "bare-av1", "v4: bare AV1, 2,800 B"),
             ("base", 288, "avif-webp", "v3 base: WebP, 288 B"), ("base", 384, "bare-av1", "v4 base: bare AV1, 384 B")]
    names = [n for n in SHOWN if any(k[0] == n for k in shown)]
    if not names:
        return
    figure, axes = plt.subplots(len(names), len(cells), figsize=(3.2 * len(cells), 3.2 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        for ax, (layer, budget, style, title) in zip(row, cells):
            ax.axis("off")
            if (name, layer, budget, style) in shown:  # (not when --budgets leaves 2,800 out)
                ax.imshow(shown[name, layer, budget, style].transpose(1, 2, 0))
                ax.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def summary(rows: list[dict], photos: list[Path]) -> str:
    lines = [f"{len(photos)} photos (the validation images); SSIM against the photo at the sharp layer's size, the base "
             f"scaled up to a 3-minute song's sharp size; encoding time of one layer (the quality search included)", "",
             "| layer | frame bytes | style | median SSIM | mean | lowest | SSIM >= 0.5 | median encode s | "
             "bare-av1 - avif-webp (median of per-photo gains) |", "|---|---|---|---|---|---|---|---|---|"]
    for budget in dict.fromkeys(r["budget"] for r in rows):
        for style in STYLES:
            group = [r for r in rows if r["budget"] == budget and r["style"] == style]
            ssims = np.array([r["ssim"] for r in group])
            gain = ""
            if style == STYLES[-1]:
                before = {r["photo"]: r["ssim"] for r in rows if r["budget"] == budget and r["style"] == STYLES[0]}
                gain = f"{np.median([r['ssim'] - before[r['photo']] for r in group]):+.3f}"
            lines.append(f"| {group[0]['layer']} | {budget} | {style} | {np.median(ssims):.3f} | {ssims.mean():.3f} | "
                         f"{ssims.min():.3f} | {int((ssims >= 0.5).sum())} of {len(ssims)} | "
                         f"{np.median([r['encode_s'] for r in group]):.2f} | {gain} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
