"""Wall time of the user commands on a long file: `pixinwav hide` and `pixinwav reveal` on a 3-minute
44.1 kHz stereo cover (load, resample, hide, write / load, resample, reveal, write), plus a 48 kHz copy that
needs resampling. Models: the shipped default and an untrained `fast-rgb` / `paper-rgb` at paper geometry
(speed does not depend on the weights). Median of --repeats runs; prints a Markdown table.

    python benchmarks/bench_commands.py [--seconds 180] [--repeats 3] [--models pixinwav-small-v0 fast-rgb]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from pixinwav.loader import DEFAULT_MODEL, registry
from pixinwav.checkpoint import save_model
from pixinwav.config import model_config
from pixinwav.models import build_model

ASSETS = Path(__file__).parents[1] / "src" / "pixinwav" / "assets"


def cover(seconds: float, rate: int) -> np.ndarray:
    """The bundled music clip looped to ``seconds`` (stereo), so the cover is real music."""
    clip, clip_rate = sf.read(ASSETS / "drascula-track2-3s.ogg", dtype="float32", always_2d=True)
    if clip_rate != rate:
        import soxr
        clip = soxr.resample(clip, clip_rate, rate)
    reps = int(np.ceil(seconds * rate / len(clip)))
    return np.tile(clip, (reps, 1))[: int(seconds * rate)]


def timed(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=180.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--models", nargs="+", default=[DEFAULT_MODEL, "fast-rgb"])
    args = p.parse_args()
    exe = [sys.executable, "-m", "pixinwav"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {}
        for rate in (44100, 48000):
            files[rate] = tmp / f"cover{rate}.wav"
            sf.write(files[rate], cover(args.seconds, rate), rate, subtype="PCM_16")
        startup = timed([*exe, "--version"], args.repeats)
        print(f"{args.seconds:.0f} s stereo covers; median of {args.repeats}; Python + import start-up alone {startup:.2f} s\n")
        print("| model | cover | hide s | reveal s |\n|---|---|---|---|")
        for name in args.models:
            model = name
            if name not in registry():
                torch.manual_seed(0)
                model = str(tmp / f"{name}.safetensors")
                save_model(model, build_model(model_config(name)).eval())
            for rate, path in files.items():
                out, png = tmp / "stego.wav", tmp / "revealed.png"
                hide = timed([*exe, "hide", "--image", str(ASSETS / "astronaut.jpg"), "--cover", str(path), "-o", str(out),
                              "--model", model, "--offset", str(args.seconds / 2), "--force"], args.repeats)
                reveal = timed([*exe, "reveal", str(out), "-o", str(png), "--model", model,
                                "--offset", str(args.seconds / 2), "--force"], args.repeats)
                print(f"| {name} | {rate} Hz | {hide:.2f} | {reveal:.2f} |", flush=True)


if __name__ == "__main__":
    main()
