"""How many packets the default model's windows are given when their capacity is estimated instead of probed, and
whether the sender's own check then gets them back.

The default model (`--model`: adaptive-v3 or v4) gives each 1.53 s window as many packets as its capacity holds.
Up to 0.2.19 the sender measured that capacity with a probe: a random codeword written into the window and read
back as the receiver will.
Since 0.2.20 it estimates it from the window's steps and expected noise (`AdaptiveStego.estimate_capacity`), about a
sixth of the probe's time, and probes only where the file nears full scale. This prints, per source of music, for a
spread of loud windows of each song: the packets the probe's capacity gives them, the packets each share of the
estimate gives them, and what each count carries through the sender's own check (`write_window`: the stego written,
read back, chain-decoded within its iterations; where that fails, written again with 0.7 of the packets, then given
up), so an over-full count costs what it loses. Windows at full scale are left out (the hide probes those).

    python benchmarks/capacity_estimate.py --split train   # the music the share was tuned on
    python benchmarks/capacity_estimate.py --split val     # four other sources: the report
    [--data data/debian] [--per-source 3] [--windows 8] [--shares 1.0 0.98 0.97 0.96 0.95]

Songs at another rate than the model's (44.1 kHz) are resampled first, as the hide does. Benchmarks print; they
never assert.
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--split", choices=("train", "val"), default="val")
    p.add_argument("--per-source", type=int, default=3, help="songs of each source (the first by name)")
    p.add_argument("--windows", type=int, default=8, help="windows of each song, spread over its loud ones")
    p.add_argument("--shares", type=float, nargs="+", default=[1.0, 0.98, 0.97, 0.96, 0.95])
    p.add_argument("--model", default=None, help="a whole-song adaptive model (default: the default model)")
    args = p.parse_args()

    from pixinwav import hidden_file
    from pixinwav.api import load_model
    from pixinwav.data.audio import read_audio, resample
    from pixinwav.models import adaptive_song

    from pixinwav.loader import DEFAULT_MODEL

    scheme = load_model(args.model or DEFAULT_MODEL).model
    L, n = scheme.cfg.clip_samples, scheme._slots(scheme.window.layout(None), None)
    frame = bytes(np.random.default_rng(0).integers(0, 256, 400_000, dtype=np.uint8))
    packets = hidden_file.packets(frame, adaptive_song.SYMBOL, 800)
    root = args.data / f"{args.split}_audio"
    sources = sorted(d for d in root.iterdir() if d.is_dir())
    if not sources:
        raise SystemExit(f"no music under {root}: run pixinwav data fetch --dest {args.data}")
    rows = defaultdict(list)  # source -> (probe's count, {share: count}, {count: packets the window carries})
    took = defaultdict(float)
    for source in sources:
        for song in sorted(f for f in source.iterdir() if f.suffix in (".ogg", ".opus", ".flac", ".wav"))[:args.per_source]:
            audio = read_audio(song)
            mono = resample(audio.mono(), audio.sample_rate, scheme.cfg.sample_rate).astype(np.float64)
            for index in scheme.loud(mono).tolist()[::5][:args.windows]:
                cover = mono[index * L:(index + 1) * L]
                if scheme.clipped(mono, index * L, index * L + L) or np.abs(cover).max() >= adaptive_song.ESTIMATE_BELOW_PEAK:
                    continue
                layout = scheme.window_layout(None, index)
                t = time.perf_counter()
                probed = scheme.packets_for(
                    scheme.window.probe_capacity(cover, layout, None, rounds=adaptive_song.FIXED_POINT_ROUNDS)[0], n)
                took["probe"] += time.perf_counter() - t
                t = time.perf_counter()
                estimate = scheme.window.estimate_capacity(cover, layout, None)
                took["estimate"] += time.perf_counter() - t
                counts = {share: scheme.packets_for(share * estimate, n) for share in args.shares}
                carried = {m: scheme.write_window(cover, layout, None, "file", len(frame), packets[:m])[1]
                           for m in sorted({probed, *counts.values()} - {0})}
                rows[source.name].append((probed, counts, carried))
            print(f"{source.name}: {song.name}: {len(rows[source.name])} windows so far", flush=True)

    def summary(windows: list, count) -> str:
        carried = sum(w[2][count(w)] for w in windows if count(w))
        retried = sum(1 for w in windows if count(w) and w[2][count(w)] < count(w))
        return f"{carried} / {retried}"

    measures = len(rows) and sum(len(w) for w in rows.values())
    print(f"\n{args.model or DEFAULT_MODEL}, {args.split} music, {args.per_source} songs a source, "
          f"up to {args.windows} loud windows a song "
          f"({measures} windows under full scale); each cell: packets the windows carry after the sender's check / "
          "windows written again with fewer (or given up) because their check failed; a probe took "
          f"{took['probe'] / max(measures, 1):.3f} s a window, an estimate {took['estimate'] / max(measures, 1):.3f} s "
          "(one thread, this machine)\n")
    cols = ["source", "windows", "probe", *(f"estimate x {share}" for share in args.shares)]
    print(f"| {' | '.join(cols)} |\n|" + "---|" * len(cols))
    for source, windows in [*rows.items(), ("all", [w for ws in rows.values() for w in ws])]:
        cells = [summary(windows, lambda w: w[0]), *(summary(windows, lambda w, s=share: w[1][s]) for share in args.shares)]
        print(f"| {source} | {len(windows)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
