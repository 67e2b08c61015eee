"""Where the default model's hide spends its time, one 1.53 s window at a time: the stages every window of
`pixinwav-adaptive-v3` goes through (its noise-shaping filters, the probe that measures its capacity or the estimate
that stands in for it, the writing of its packets, the soft bits the check reads, the check's decoder), median
seconds per window on the loudest windows of real songs; then the whole sender (its room measured as the hide
measures it, write, check) over the same windows on the hide's own threads, wall seconds per window; and what
the windows carry (the probe's capacity, the estimate, the packets the hide gives them, the sender's checks passed).
With --baseline, git revision REV's code measured in turn on the same windows, and the ratios.

    python benchmarks/bench_window_stages.py --songs SONG [SONG ...] [--windows 12] [--repeats 3] [--baseline REV]

Each tree runs in its own process (REV's from a temporary worktree on PYTHONPATH), after one untimed pass
(numba's caches). Benchmarks print; they never assert.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# (the write reads its own soft bits once, as the check will: "soft bits" is that reading alone, timed again)
# ("estimate": the capacity from the window's steps and expected noise, which the hide takes instead of the probe
# since 0.2.20 where the file stays under 0.95 of full scale; a tree without it shows nothing there)
STAGES = ("shaping", "probe", "estimate", "write", "soft bits", "check decode")


def measure(songs: list[str], windows: int, repeats: int) -> dict:
    """{song: {stage: median seconds per window}} in this process's pixinwav."""
    import numpy as np

    from pixinwav import hidden_file
    from pixinwav.api import load_model
    from pixinwav.data.audio import read_audio
    from pixinwav.models import adaptive_song
    from pixinwav.robust import code

    scheme = load_model("pixinwav-adaptive-v3").model
    # the song model's own fixed-point rounds where it has them (0.2.20: 3; the window model's default is 6)
    rounds = {"rounds": adaptive_song.FIXED_POINT_ROUNDS} if hasattr(adaptive_song, "FIXED_POINT_ROUNDS") else {}
    L, out = scheme.cfg.clip_samples, {}
    for song in songs:
        audio = read_audio(song)
        if audio.sample_rate != scheme.cfg.sample_rate:
            raise SystemExit(f"{song}: {audio.sample_rate} Hz; the model's windows are at {scheme.cfg.sample_rate} Hz")
        mono = audio.mono().astype(np.float64)
        picked = scheme.loud(mono)[:windows].tolist()
        covers = [mono[i * L:(i + 1) * L].astype(np.float64) for i in picked]
        layouts = [scheme.window_layout(None, i) for i in picked]
        n = scheme._slots(scheme.window.layout(None), None)
        frame = bytes(np.random.default_rng(0).integers(0, 256, 400_000, dtype=np.uint8))
        packets = hidden_file.packets(frame, adaptive_song.SYMBOL, 800)
        times = {stage: [] for stage in (*STAGES, "sender on threads")}
        carried = {}  # what the windows carry: the same in every pass (each stage is a pure function of its window)
        for rep in range(repeats + 1):  # the first pass is not timed
            took = {stage: 0.0 for stage in times}
            counts, written, capacities, estimates, checked = [], [], [], [], 0
            for index, cover, layout in zip(picked, covers, layouts):
                t = time.perf_counter()
                scheme.window.shaping(cover[:(scheme.window.frames + 1) * scheme.hop] * 32768)
                took["shaping"] += time.perf_counter() - t
                t = time.perf_counter()
                capacity = scheme.window.probe_capacity(cover, layout, None, **rounds)[0]
                took["probe"] += time.perf_counter() - t
                capacities.append(capacity)
                if hasattr(scheme, "window_packets"):
                    t = time.perf_counter()
                    estimates.append(scheme.window.estimate_capacity(cover, layout, None))
                    took["estimate"] += time.perf_counter() - t
                    counts.append(max(scheme.window_packets(mono, index, layout, None, None, n), 1))  # the hide's own
                else:
                    counts.append(max(scheme.packets_for(capacity, n), 1))
            at = 0
            for cover, layout, m in zip(covers, layouts, counts):
                t = time.perf_counter()
                stego = scheme.embed_packets(cover, layout, None, "file", len(frame), packets[at:at + m])[0]
                took["write"] += time.perf_counter() - t
                t = time.perf_counter()
                count, llr = scheme.window_soft_bits(stego, layout, None)
                took["soft bits"] += time.perf_counter() - t
                t = time.perf_counter()
                checked += code.decode(llr, adaptive_song.message_bits(count), adaptive_song.SENDER_ITERATIONS, "rows",
                                       True, flooding=False)[1]  # (as the sender: a window its chain does not decode
                # within SENDER_CHAIN_ITERATIONS is written again with fewer packets)
                took["check decode"] += time.perf_counter() - t
                written.append((at, m))
                at += m

            def sender(job):  # the hide's own path for one window: its room measured, then written and checked
                (index, cover, layout), (at, m) = job
                if hasattr(scheme, "window_packets"):
                    scheme.window_packets(mono, index, layout, None, None, n)
                else:
                    scheme.packets_for(scheme.window.probe_capacity(cover, layout, None, **rounds)[0], n)
                return scheme.write_window(cover, layout, None, "file", len(frame), packets[at:at + m])

            t = time.perf_counter()
            with ThreadPoolExecutor(adaptive_song.SEND_THREADS) as pool:
                list(pool.map(sender, zip(zip(picked, covers, layouts), written)))
            took["sender on threads"] = time.perf_counter() - t
            if rep:
                for stage, seconds in took.items():
                    times[stage].append(seconds / len(covers) if seconds or stage != "estimate" else float("nan"))
            carried = {"capacity": statistics.mean(capacities), "packets": sum(counts), "checks passed": checked,
                       "estimated capacity": statistics.mean(estimates) if estimates else float("nan")}
        out[Path(song).stem.split("__")[-1]] = {**{stage: statistics.median(v) for stage, v in times.items()}, **carried}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", nargs="+", required=True)
    p.add_argument("--windows", type=int, default=12, help="the loudest windows of each song")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--baseline", metavar="REV", help="also measure git revision REV (a temporary worktree)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure(args.songs, args.windows, args.repeats)))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_commands import source_trees

    from pixinwav.models import adaptive_song

    child = [sys.executable, __file__, "--child", "--songs", *args.songs, "--windows", str(args.windows),
             "--repeats", str(args.repeats)]
    with tempfile.TemporaryDirectory() as tmp, source_trees(args.baseline, Path(tmp)) as trees:
        got = {tree: json.loads(subprocess.run(child, env=env, capture_output=True, text=True, check=True).stdout)
               for tree, env in trees.items()}
    print(f"median seconds per window of {args.repeats} passes over the {args.windows} loudest windows of each song "
          f"(one untimed pass first); trees: {', '.join(got)}; 'sender on threads': probe, write and check of every "
          "window on the hide's threads, wall seconds per window\n")
    columns = [*STAGES, "sender on threads"]
    cols = ["song", "tree", *columns]
    print(f"| {' | '.join(cols)} |\n|" + "---|" * len(cols))
    for song in got["this tree"]:
        for tree in got:
            print(f"| {song} | {tree} | " + " | ".join(f"{got[tree][song][c]:.4f}".replace("nan", "-") for c in columns)
                  + " |")
        if args.baseline:
            ratios = [got[args.baseline][song][c] / got["this tree"][song][c] for c in columns]
            print(f"| {song} | ratio | " + " | ".join(f"{r:.2f}x".replace("nanx", "-") for r in ratios) + " |")
    print(f"\nwhat the same windows carry: the probe's capacity and the estimate (bits per window, mean), the packets of "
          f"{adaptive_song.SYMBOL} bytes the hide gives them (sum), and the windows whose packets the sender's check "
          "decoded\n")
    print("| song | tree | probe's capacity | estimate | packets | checks passed |\n|---|---|---|---|---|---|")
    for song in got["this tree"]:
        for tree in got:
            row = got[tree][song]
            print(f"| {song} | {tree} | {row['capacity']:.0f} | {row['estimated capacity']:.0f} | {row['packets']} | ".replace(
                "nan", "-") + f"{row['checks passed']} of {args.windows} |")


if __name__ == "__main__":
    main()
