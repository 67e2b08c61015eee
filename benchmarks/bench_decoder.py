"""The LDPC decoders side by side on real windows of the default model (pixinwav-adaptive-v3): ldpc's flooding
product-sum (version 0.1), min-sum first where the rate is 0.3 or more (0.2.0), min-sum there then the chain-schedule
decoder then flooding (0.2.1-0.2.4), and the chain first (now).

    pixinwav data fetch --dest data/debian
    python benchmarks/bench_decoder.py [--songs PATH ...] [--image PATH]
    python benchmarks/bench_decoder.py --kernels [REV]   # the chain kernel against release REV's, same words
    python benchmarks/bench_decoder.py --threads         # words of each size on one and on every core, idle and busy

``--kernels``: this tree's chain kernel and the one of git revision REV (default: release 0.2.7's) on every window
of each song's stego and of a damaged copy (+-1 LSB of noise added to every sample: windows near and past the
code's limit), 40 iterations each: seconds, and whether both stop after the same number of iterations with the
same outcome and message.

A photo is hidden in each song by the CLI (16-bit WAV, with a key); every window the receiver reads from the file
is decoded by each decoder, on the same soft bits. Printed: per song and code rate, the windows, each decoder's
median seconds per window, the new order's speed-up over 0.1's and 0.2.4's, and whether every decoder gave the
same message (they must: each either satisfies every parity check or fails). The parity-check matrices and ldpc's
decoder objects are built before the timing (a real reveal builds min-sum's once per word size it meets, kept two
at a time: the builds are timed apart). Run alone: the times are wall clock.
"""
from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import soundfile as sf

from pixinwav.loader import load_scheme
from pixinwav.models.adaptive_song import RECEIVER_ITERATIONS, message_bits
from pixinwav.robust import accumulate_decode, code

KEY = "benchmark key"
ROOT = Path(__file__).parents[1]
RELEASE_0_2_7 = "ae8dbf3"
VAL = "data/debian/val_audio"
# the three validation songs whose windows carry the fewest packets (the slow tail of song_adaptive_v3.md), and two
# louder ones of other sources
SONGS = ("supertux-data/usr__share__games__supertux2__music__misc__battle_theme.ogg",
         "warmux-data/usr__share__games__warmux__music__ingame__Olivier_Militon.-.Apnee2.ogg",
         "warmux-data/usr__share__games__warmux__music__ingame__Olivier_Militon.-.Vogue_a_lame.ogg",
         "drascula-music/usr__share__scummvm__drascula__audio__track14.ogg",
         "freedroidrpg-data/usr__share__freedroidrpg__data__sound__music__TechBattle.ogg")


def min_sum_first(llr: np.ndarray, k: int) -> tuple[np.ndarray, bool]:
    """Version 0.2.0's rule: min-sum (at most 40 iterations) where the rate is 0.3 or more, then product-sum."""
    if k >= 0.3 * len(llr):
        message, ok = code.flooding_decode(llr, k, 40, "rows", "minimum_sum")
        if ok:
            return message, ok
    return code.flooding_decode(llr, k, RECEIVER_ITERATIONS, "rows")


def min_sum_then_chain(llr: np.ndarray, k: int) -> tuple[np.ndarray, bool]:
    """Versions 0.2.1-0.2.4: min-sum where the rate is 0.3 or more, then the chain schedule, then product-sum."""
    if k >= 0.3 * len(llr):
        message, ok = code.flooding_decode(llr, k, 40, "rows", "minimum_sum")
        if ok:
            return message, ok
    message, ok = accumulate_decode.decode(llr, k, code.parity_checks(k, len(llr) - k, "rows")[0], 40)
    return (message, ok) if ok else code.flooding_decode(llr, k, RECEIVER_ITERATIONS, "rows")


DECODERS = {
    "flooding (0.1)": lambda llr, k: code.flooding_decode(llr, k, RECEIVER_ITERATIONS, "rows"),
    "min-sum first (0.2.0)": min_sum_first,
    "min-sum, chain, flooding (0.2.4)": min_sum_then_chain,
    "chain first (now)": lambda llr, k: code.decode(llr, k, RECEIVER_ITERATIONS, "rows"),
}


def windows(stego: Path, scheme) -> list[tuple[int, np.ndarray]]:
    """(message bits, soft bits) of every window the receiver reads, as it reads them."""
    audio, _ = sf.read(str(stego), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1).astype(np.float64)
    L = scheme.cfg.clip_samples
    out = []
    for index in range(len(mono) // L):
        soft = scheme.window_soft_bits(mono[index * L:(index + 1) * L], scheme.window_layout(KEY, index), KEY)
        if soft is not None:
            out.append((message_bits(soft[0]), soft[1]))
    return out


def kernel_at(rev: str):
    """The chain kernel of ``accumulate_decode.py`` at git revision ``rev``, compiled as the module compiles it."""
    import numba

    source = subprocess.run(["git", "show", f"{rev}:src/pixinwav/robust/accumulate_decode.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType(f"accumulate_decode_{rev}")
    exec(compile(source, f"{rev}:accumulate_decode.py", "exec"), module.__dict__)
    return numba.njit(nogil=True, parallel=True)(module._decode)


def damaged(stego: Path, out: Path) -> Path:
    audio, rate = sf.read(str(stego), dtype="int16")
    noise = np.random.default_rng(1).integers(-1, 2, audio.shape)
    sf.write(str(out), np.clip(audio.astype(np.int32) + noise, -32768, 32767).astype(np.int16), rate, subtype="PCM_16")
    return out


def compare_kernels(songs: list[Path], image: Path, rev: str) -> None:
    scheme, _, _ = load_scheme("pixinwav-adaptive-v3")
    kernels = {rev: kernel_at(rev), "this tree": accumulate_decode._kernel()}
    print(f"pixinwav-adaptive-v3, {image.name} hidden in each song; the chain kernel of {rev} and of this tree, "
          f"{code.CHAIN_ITERATIONS} iterations at most, on the same soft bits\n")
    print(f"| song | copy | windows | decoded | {rev} s | this tree s | speed-up | same iterations | same outcome and message |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for song in songs:
            stego = Path(tmp) / "stego.wav"
            subprocess.run([sys.executable, "-m", "pixinwav", "hide", "--image", str(image), "--cover", str(song),
                            "-o", str(stego), "--key", KEY, "--force"], check=True, capture_output=True)
            for copy, path in (("as written", stego), ("+-1 LSB noise", damaged(stego, Path(tmp) / "noisy.wav"))):
                seconds = {name: 0.0 for name in kernels}
                decoded = same_iterations = same = 0
                found = windows(path, scheme)
                for k, llr in found:
                    h1 = code.parity_checks(k, len(llr) - k, "rows")[0]
                    args = (np.asarray(llr, np.float64), k, h1.indptr.astype(np.int64), h1.indices.astype(np.int64),
                            *code._columns(k, len(llr) - k, "rows"), code.CHAIN_ITERATIONS)
                    out = {}
                    for name, kernel in kernels.items():
                        kernel(*args[:-1], 1)  # compiled (or loaded) before timing
                        t = time.perf_counter()
                        out[name] = kernel(*args)
                        seconds[name] += time.perf_counter() - t
                    (w0, ok0, it0), (w1, ok1, it1) = out.values()
                    decoded += ok1
                    same_iterations += it0 == it1
                    same += ok0 == ok1 and (not ok0 or (w0[:k] == w1[:k]).all())
                old, new = seconds.values()
                print(f"| {song.stem[-28:]} | {copy} | {len(found)} | {decoded} | {old:.2f} | {new:.2f} | "
                      f"{old / max(new, 1e-9):.2f}x | {same_iterations} / {len(found)} | {same} / {len(found)} |")


# (coded bits, message bits, construction, noise deviation): a robust-v3+ packet, a robust-v2 packet, an adaptive-v3
# window at rate 0.1; noise that leaves the words decodable in a few iterations, and one past the code's limit (40)
THREAD_WORDS = ((2560, 576, "irregular", 0.9), (2560, 576, "irregular", 1.6), (5120, 2560, "rows", 0.75),
                (168408, 16600, "rows", 0.9))


def compare_threads(words: int = 8) -> None:
    """Milliseconds per word of the chain decoder (at most 40 iterations, no flooding) on one core and on every core,
    with the machine otherwise idle and with one busy process per core beside it (as the other checks of `reveal`
    without --model, or another program, share the cores). Which threads run it never changes the word decoded."""
    from pixinwav.threads import one_numba_thread

    rng = np.random.default_rng(0)
    cases = []
    for n, k, drawn, sigma in THREAD_WORDS:
        word = code.encode(rng.integers(0, 2, k).astype(np.uint8), n, drawn)
        cases.append((n, k, drawn, sigma, [2 * ((1 - 2.0 * word) + sigma * rng.normal(size=n)) / sigma**2
                                           for _ in range(words)]))
    code.decode(cases[0][4][0], cases[0][1], 40, cases[0][2])  # compile (or load) the kernel first

    def timed(n, k, drawn, llrs, one) -> tuple[float, int]:
        t, decoded = time.perf_counter(), 0
        for llr in llrs:
            with one_numba_thread() if one else contextlib.nullcontext():
                decoded += code.decode(llr, k, 40, drawn, flooding=False)[1]
        return (time.perf_counter() - t) / len(llrs) * 1000, decoded

    cores = os.cpu_count() or 1
    print(f"the chain decoder, ms per word (median of 3 passes over {words} words), {cores} cores\n")
    print("| coded bits | message bits | noise | decoded | idle, 1 core | idle, all cores | busy, 1 core | busy, all cores |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {}
    for busy in (False, True):
        burners = [mp.Process(target=_burn, daemon=True) for _ in range(cores if busy else 0)]
        for b in burners:
            b.start()
        try:
            for n, k, drawn, sigma, llrs in cases:
                for one in (True, False):
                    runs = [timed(n, k, drawn, llrs, one) for _ in range(3)]
                    rows.setdefault((n, k, sigma), {})[busy, one] = (statistics.median(r[0] for r in runs), runs[0][1])
        finally:
            for b in burners:
                b.terminate()
    for (n, k, sigma), got in rows.items():
        cells = [f"{got[busy, one][0]:.2f}" for busy in (False, True) for one in (True, False)]
        print(f"| {n:,} | {k:,} | {sigma} | {got[False, True][1]} of {words} | " + " | ".join(cells) + " |")


def _burn() -> None:
    while True:
        pass


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--songs", nargs="+", type=Path, default=[Path(VAL) / s for s in SONGS])
    p.add_argument("--image", type=Path, default=Path("data/debian/val_images/scikit-image/astronaut.png"))
    p.add_argument("--kernels", nargs="?", const=RELEASE_0_2_7, metavar="REV",
                   help="compare the chain kernel with git revision REV's (default: release 0.2.7's)")
    p.add_argument("--threads", action="store_true",
                   help="the chain decoder on one and on every core, the machine idle and with every core busy")
    args = p.parse_args(argv)
    if args.threads:
        compare_threads()
        return
    if args.kernels:
        compare_kernels(args.songs, args.image, args.kernels)
        return
    scheme, _, _ = load_scheme("pixinwav-adaptive-v3")
    code.decode(np.ones(64), 32)  # compile (or load the compiled decoder) before timing
    names = list(DECODERS)
    print(f"pixinwav-adaptive-v3, {args.image.name} hidden in each song; seconds per window decode (median)\n")
    print(f"| song | code rate | windows | {' | '.join(names)} | speed-up vs 0.1 | vs 0.2.4 | same messages |")
    print("|---|---|---|" + "---|" * (len(names) + 3))
    totals = {name: 0.0 for name in names}
    builds, sizes = 0.0, set()
    with tempfile.TemporaryDirectory() as tmp:
        for song in args.songs:
            stego = Path(tmp) / "stego.wav"
            subprocess.run([sys.executable, "-m", "pixinwav", "hide", "--image", str(args.image), "--cover", str(song),
                            "-o", str(stego), "--key", KEY, "--force"], check=True, capture_output=True)
            by_rate: dict[float, list[dict]] = {}
            for k, llr in windows(stego, scheme):
                # the matrices and ldpc's decoders built before timing (each decoder's first use builds them)
                if (k, len(llr)) not in sizes and k >= 0.3 * len(llr):  # what min-sum first pays per word size
                    sizes.add((k, len(llr)))
                    t = time.perf_counter()
                    code._decoder.__wrapped__(k, len(llr) - k, 40, "rows", "minimum_sum")
                    builds += time.perf_counter() - t
                for iterations, method in ((40, "minimum_sum"), (RECEIVER_ITERATIONS, "product_sum")):
                    code._decoder(k, len(llr) - k, iterations, "rows", method)
                row = {}
                for name, decode in DECODERS.items():
                    t = time.perf_counter()
                    message, ok = decode(llr, k)
                    row[name] = (time.perf_counter() - t, message.tobytes() if ok else None)
                    totals[name] += row[name][0]
                by_rate.setdefault(round(k / len(llr), 2), []).append(row)
            for rate, rows in sorted(by_rate.items()):
                med = {name: statistics.median(r[name][0] for r in rows) for name in names}
                same = all(len({r[name][1] for name in names}) == 1 and r[names[0]][1] is not None for r in rows)
                print(f"| {song.stem[-28:]} | {rate:.2f} | {len(rows)} | "
                      + " | ".join(f"{med[name]:.3f}" for name in names)
                      + f" | {med[names[0]] / med[names[-1]]:.1f}x | {med[names[2]] / med[names[-1]]:.1f}x | "
                      + ("yes" if same else "NO") + " |")
    print("\nall windows, seconds in all: " + ", ".join(f"{name} {totals[name]:.1f}" for name in names))
    print(f"min-sum's decoder objects, once per word size of rate 0.3 or more ({len(sizes)} sizes): {builds:.1f} s more "
          "for the orders that try min-sum first (0.2.0-0.2.4)")


if __name__ == "__main__":
    main()
