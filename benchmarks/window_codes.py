"""How much more a whole-song adaptive model's windows would carry under another construction of its code: for real
windows, the largest message the regular repeat-accumulate code (``rows``: what adaptive-v3 and v4 send) and the
irregular one (``robust/code.py``'s, which `pixinwav-robust-v3` sends) decode, against what the model's fill rule
gives the window today (its packets' message bits; none where that is under two packets).

Each window is probed as the sender probes it (a random codeword written and read back from the 16-bit stego); its
soft bits, turned toward the all-zero codeword (belief propagation on a linear code does not depend on which
codeword was sent), are decoded by the sender's own check (the chain decoder within ``SENDER_CHAIN_ITERATIONS``) at
message sizes found by bisection to 2 %: the largest that decodes is the window's threshold for that construction.
One codeword per window, so a threshold is a sample, not a guarantee: a sender would still check what it writes.

    python benchmarks/window_codes.py --split train                # the music a fill rule is tuned on
    python benchmarks/window_codes.py --split val --songs Apnee battle_theme clavelian Etrange   # the songs that carry least
    python benchmarks/window_codes.py --split train --per-source 4 --windows 10 --band 0.15 0.45 \
        --constructions irregular --model pixinwav-adaptive-v5      # the windows adaptive-v5's fill rule is set on
    python benchmarks/window_codes.py --split val --songs Etrange Apnee --band 0.02 0.2 --constructions irregular \
        --repeat 1 2 4 8 --least-packets 1 --model pixinwav-adaptive-v5   # the quietest windows, each bit sent R times
    [--data data/debian] [--per-source 2] [--windows 8] [--model pixinwav-adaptive-v4]

Windows are spread evenly over each song's loud windows (quiet ones too), so the table covers the rates sparse
songs are sent at; with ``--band``, over those whose estimated capacity per coded bit lies in it. Each band's row
gives the mean threshold and its 10th percentile (the share of a window's capacity that 9 windows in 10 decode).
``--repeat R``: each coded bit also sent R times over the window (copy j of bit i in slot i + j n / R, the receiver
summing their log-likelihood ratios), the code then n / R bits long: a window too quiet for any code of n bits may
carry a packet or two that way (shares are still of the window's own capacity).
Benchmarks print; they never assert.
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

CONSTRUCTIONS = ("rows", "irregular")
RATE_BINS = (0.0, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.6, 1.0)  # capacity per coded bit


def threshold(zero: np.ndarray, drawn: str, most: int, least: int) -> int:
    """The largest message (bits, to 2 %) whose word ``drawn`` decodes from soft bits ``zero`` of the all-zero word;
    0 where even ``least`` (a window's smallest message: fewer bits are never sent) does not."""
    from pixinwav.robust import code

    def decodes(k: int) -> bool:
        bits, ok = code.decode(zero, k, code.SENDER_CHAIN_ITERATIONS, drawn, sender=True, flooding=False)
        return ok and not bits.any()

    if most < least or not decodes(least):
        return 0
    lo, hi = least, most
    while hi - lo > max(64, lo // 50):
        k = (lo + hi) // 2
        lo, hi = (k, hi) if decodes(k) else (lo, k)
    return lo


def repeated(zero: np.ndarray, copies: int) -> np.ndarray:
    """Soft bits of a word of ``len(zero) // copies`` bits, each sent ``copies`` times (copy j of bit i in slot
    i + j len / copies, spread over the window): their log-likelihood ratios summed."""
    m = len(zero) // copies
    return zero[:m * copies].reshape(copies, m).sum(axis=0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--split", choices=("train", "val"), default="train")
    p.add_argument("--per-source", type=int, default=2, help="songs of each source, spread over its tracks by name")
    p.add_argument("--songs", nargs="+", default=None, metavar="NAME", help="only songs whose file name holds one of these")
    p.add_argument("--windows", type=int, default=8, help="windows of each song, spread over its loud ones")
    p.add_argument("--model", default="pixinwav-adaptive-v4")
    p.add_argument("--constructions", nargs="+", default=list(CONSTRUCTIONS), choices=CONSTRUCTIONS)
    p.add_argument("--repeat", nargs="+", type=int, default=[1], metavar="R", help="each coded bit sent R times")
    p.add_argument("--least-packets", type=int, default=None, help="the smallest message tried (default: the model's "
                   "least, two packets)")
    p.add_argument("--band", nargs=2, type=float, default=None, metavar=("LOW", "HIGH"),
                   help="only windows whose estimated capacity per coded bit lies in LOW-HIGH")
    args = p.parse_args()
    # (construction, copies of each coded bit) by the name its column gets
    variants = {(d if r == 1 else f"{d} x{r}"): (d, r) for d in args.constructions for r in args.repeat}

    from pixinwav.api import load_model
    from pixinwav.data.audio import read_audio, resample
    from pixinwav.models.adaptive import MAX_RATE, read_back_capacity
    from pixinwav.models import adaptive_song
    from pixinwav.models.adaptive_song import MIN_WINDOW_PACKETS, message_bits

    scheme = load_model(args.model).model
    window, L = scheme.window, scheme.cfg.clip_samples
    least = message_bits(args.least_packets or MIN_WINDOW_PACKETS)
    root = args.data / f"{args.split}_audio"
    sources = sorted(d for d in root.iterdir() if d.is_dir()) if root.is_dir() else []
    if not sources:
        raise SystemExit(f"no music under {root}: run pixinwav data fetch --dest {args.data}")
    rows = []  # (source, song, capacity per coded bit, capacity, the fill rule's bits, {construction: threshold})
    for source in sources:
        tracks = sorted(f for f in source.iterdir() if f.suffix in (".ogg", ".opus", ".flac", ".wav"))
        if args.songs:
            tracks = [t for t in tracks if any(name in t.name for name in args.songs)]
        else:
            tracks = [tracks[i] for i in sorted(set(np.linspace(0, len(tracks) - 1, args.per_source).round().astype(int)))]
        for song in tracks:
            audio = read_audio(song)
            mono = resample(audio.mono(), audio.sample_rate, scheme.cfg.sample_rate).astype(np.float64)
            loud = [int(i) for i in scheme.loud(mono) if not scheme.clipped(mono, int(i) * L, int(i) * L + L)]
            if args.band:
                n = len(window.file_slots(scheme.window_layout(None, 0), None)[2])  # (the same in every window)
                loud = [i for i in loud if args.band[0] <= window.estimate_capacity(
                    mono[i * L:(i + 1) * L], scheme.window_layout(None, i), None) / n < args.band[1]]
            spread = np.unique(np.linspace(0, len(loud) - 1, min(args.windows, len(loud))).round().astype(int))
            for index in [loud[i] for i in spread] if loud else []:
                layout = scheme.window_layout(None, index)
                n = len(window.file_slots(layout, None)[2])
                probe, llr = window.probe_soft_bits(
                    mono[index * L:(index + 1) * L], layout, None, rounds=adaptive_song.FIXED_POINT_ROUNDS,
                    probe=np.random.default_rng(index).integers(0, 2, n).astype(np.uint8))[:2]
                capacity = read_back_capacity(probe, llr)
                if capacity <= 0:
                    continue
                zero = llr * (1.0 - 2.0 * probe)
                most = int(min(capacity, MAX_RATE * n))
                found = {name: threshold(repeated(zero, r), drawn, min(most, int(MAX_RATE * n / r)), least)
                         for name, (drawn, r) in variants.items()}
                packets = scheme.packets_for(capacity, n)  # what the model sends there (0: the window is not used)
                fill = message_bits(packets) if packets else 0
                rows.append((source.name, song.name, capacity / n, capacity, fill, found))
                print(f"{source.name} {song.name[-32:]} window {index}: {capacity / n:.2f} bit per coded bit, the fill rule "
                      f"{packets} packets ({fill:,} bits), " + ", ".join(f"{d} {found[d]:,}" for d in variants), flush=True)

    print(f"\n{args.model}, {args.split} music: {len(rows)} windows; thresholds as shares of each window's capacity "
          "(mean, and 10th percentile: what 9 windows in 10 decode), and the sum over the windows against the fill "
          "rule's\n")
    best = len(variants) > 1
    print("| capacity per coded bit | windows | the fill rule | "
          + " | ".join(f"{d} | {d}, 10th percentile" for d in variants) + (" | the better |" if best else " |"))
    print("|---|---|---|" + "---|---|" * len(variants) + ("---|" if best else ""))
    for lo, hi in zip(RATE_BINS, RATE_BINS[1:]):
        part = [r for r in rows if lo <= r[2] < hi]
        if not part:
            continue
        shares = lambda value: [value(r) / r[3] for r in part]  # noqa: E731
        print(f"| {lo:.2f}-{hi:.2f} | {len(part)} | {np.mean(shares(lambda r: r[4])):.2f} | "
              + " | ".join(f"{np.mean(shares(lambda r, d=d: r[5][d])):.2f} | "
                           f"{np.percentile(shares(lambda r, d=d: r[5][d]), 10):.2f}" for d in variants)
              + (f" | {np.mean(shares(lambda r: max(r[5].values()))):.2f} |" if best else " |"))
    print("\n| music | windows | the fill rule, kbit | " + " | ".join(f"{d}, kbit" for d in variants)
          + (" | the better, kbit |" if best else " |"))
    print("|---|---|---|" + "---|" * len(variants) + ("---|" if best else ""))
    groups = defaultdict(list)
    for r in rows:
        groups[r[1] if args.songs else r[0]].append(r)
    for name, part in [*groups.items(), ("all", rows)]:
        print(f"| {name[-40:]} | {len(part)} | {sum(r[4] for r in part) / 1000:,.0f} | "
              + " | ".join(f"{sum(r[5][d] for r in part) / 1000:,.0f}" for d in variants)
              + (f" | {sum(max(r[5].values()) for r in part) / 1000:,.0f} |" if best else " |"))

if __name__ == "__main__":
    main()
