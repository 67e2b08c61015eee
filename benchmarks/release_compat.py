"""Two releases, each other's files: per model and song, git revision REV's `pixinwav hide` and this tree's hide the
same photo with the same key (whole CLI commands), and each tree reveals both stego files. Prints how far the two
stego files differ (16-bit samples) and each reveal's SSIM against the photo as the model sends it, so a change of
arithmetic (0.2.12: the modulo schemes' DCTs SciPy's instead of torch's) shows whether files still read alike.

    python benchmarks/release_compat.py --baseline 556eb7a --models pixinwav-modulo-v1 pixinwav-modulo-v2 \\
        --pairs SONG=PHOTO [SONG=PHOTO ...]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

from bench_commands import source_trees, whole_song
from pixinwav import metrics, tiles
from pixinwav.api import load_model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", required=True, metavar="REV", help="the earlier release's git revision")
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--pairs", nargs="+", required=True, metavar="SONG=PHOTO")
    p.add_argument("--key", default="compat")
    args = p.parse_args()
    exe = [sys.executable, "-m", "pixinwav"]
    pairs = [tuple(map(Path, pair.split("=", 1))) for pair in args.pairs]
    with tempfile.TemporaryDirectory() as folder, source_trees(args.baseline, Path(folder)) as trees:
        tmp = Path(folder)
        names = list(trees)  # baseline first, then "this tree"
        print(f"{names[0]} against this tree; each tree hides with `pixinwav hide --model M --key K` (window models: "
              "`--offset auto`) and reveals both files\n")
        print("| model | song | photo | samples differing (max LSB) | " +
              " | ".join(f"SSIM: {writer}'s file read by {reader}" for writer in names for reader in names) + " |")
        print("|" + "---|" * (4 + len(names) ** 2))
        for name in args.models:
            model = load_model(name)
            where = [] if whole_song(name) else ["--offset", "auto"]
            for song, photo in pairs:
                stegos = {}
                for tree, env in trees.items():
                    stegos[tree] = tmp / f"{len(stegos)}.wav"
                    subprocess.run([*exe, "hide", "--image", str(photo), "--cover", str(song), "-o", str(stegos[tree]),
                                    "--model", name, "--key", args.key, "--force", *where], env=env, check=True,
                                   capture_output=True)
                a, b = (sf.read(stegos[tree], dtype="int16")[0].astype(np.int64) for tree in names)
                diff = np.abs(a - b)
                cells = []
                for writer in names:
                    for reader, env in trees.items():
                        out = tmp / "revealed.png"
                        done = subprocess.run([*exe, "reveal", str(stegos[writer]), "-o", str(out), "--model", name,
                                               "--key", args.key, "--force", *where], env=env, capture_output=True)
                        cells.append(f"{ssim_to_photo(model, photo, out):.4f}" if done.returncode == 0 else "nothing")
                print(f"| {name} | {song.stem[-28:]} | {photo.name} | {np.count_nonzero(diff):,} of {diff.size:,} "
                      f"({diff.max()}) | {' | '.join(cells)} |", flush=True)


def ssim_to_photo(model, photo: Path, revealed: Path) -> float:
    """SSIM of a revealed PNG against the photo as ``model`` sends it (a window model's square, or the photo at the
    size the file carries)."""
    got = np.asarray(Image.open(revealed).convert("RGB"), np.float32).transpose(2, 0, 1) / 255
    sent = tiles.scaled(model.prepare_image(photo), got.shape[2], got.shape[1])
    return float(metrics.ssim(got[None], sent[None])[0])


if __name__ == "__main__":
    main()
