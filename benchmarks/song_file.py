"""A real file, bit-exact, in a whole song, as a user meets it: `pixinwav hide --file` a photo's own JPEG into a whole
song (its OGG file), `pixinwav reveal` the 16-bit WAV it wrote and compare the bytes; again after the stego's
start is trimmed and 5 s of another song pasted before it (no offset given). Wall time and peak memory are the
CLI processes' own (GNU time), start-up and decoding included.

Music: whole validation songs of 2-4 minutes from four Debian packages of different games (the same songs as
`benchmarks/song.py`), reported per source. Files: the twelve `mate-backgrounds` JPEGs as they are (80 kB to
1.2 MB; `pixinwav data fetch --dest data/debian`), one per song in turn. A file larger than the song carries is
refused by `hide` with the song's capacity: counted as "too large", never as a failure to reveal.

    python benchmarks/song_file.py [--data data/debian] [--songs 5] [--out benchmarks/results/song_file.md]
    # the hard-to-detect model with the JPEGs of 250-400 kB (benchmarks/results/song_file_adaptive_v3.md):
    python benchmarks/song_file.py --model pixinwav-adaptive-v3 --kb 250 400 --out benchmarks/results/song_file_adaptive_v3.md
    # JPEGs of about 300 kB from every image package, on every song (packed as hide packs them; --no-pack: as they are)
    python benchmarks/song_file.py --model pixinwav-adaptive-v5 --songs 18 --kb 290 320 --any-package \
        --out benchmarks/results/song_file_adaptive_v5_300kB.md
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench_commands import source_trees
from song import CLI, KEY, SOURCES, TIME, snr, songs, trimmed_and_pasted

MODEL = "pixinwav-modulo-v2"


def run(args: list[str], log: Path, env: dict | None = None) -> tuple[int, float, float, str]:
    """(exit code, wall s, peak MiB, stdout+stderr) of one CLI command (``env``: another source tree's, see
    ``bench_commands.source_trees``)."""
    done = subprocess.run([TIME, "-f", "%e %M", "-o", str(log), *CLI, *args], capture_output=True, text=True, env=env)
    wall, kib = log.read_text().split()[-2:]
    return done.returncode, float(wall), float(kib) / 1024, done.stdout + done.stderr


def measure(song: Path, secret: Path, other: Path, work: Path, model: str = MODEL, env: dict | None = None,
            pack: bool = True) -> dict:
    stego, back, moved, log = work / "stego.wav", work / "back.bin", work / "moved.wav", work / "time.txt"
    for path in (stego, back, moved):
        path.unlink(missing_ok=True)
    code, hide_s, hide_mib, said = run(["hide", "--file", str(secret), "--cover", str(song), "-o", str(stego),
                                        "--model", model, "--key", KEY, *([] if pack else ["--no-pack"])], log, env)
    row = {"source": song.parent.name, "song": song.name, "file": secret.name, "kB": secret.stat().st_size / 1000,
           "hidden": code == 0}
    sent = re.search(r"sent as ([\d,]+) bytes", said)  # (a packed file; releases before 0.2.25 send files as they are)
    row["sent_kB"] = int(sent.group(1).replace(",", "")) / 1000 if sent else row["kB"]
    if code != 0:
        if "this song carries at most" not in said and "could be written" not in said:  # else: refused, and said so
            raise SystemExit(f"hide failed:\n{said}")
        return {**row, "exact": False, "exact_moved": False}
    payload = next(line for line in said.splitlines() if line.startswith("payload:"))
    used = float(re.search(r"([\d.]+) s of music used", payload).group(1))
    packets = int(re.search(r"in ([\d,]+) packets", payload).group(1).replace(",", ""))
    code, reveal_s, reveal_mib, _ = run(["reveal", str(stego), "-o", str(back), "--model", model, "--key", KEY], log, env)
    exact = code == 0 and back.read_bytes() == secret.read_bytes()
    trimmed_and_pasted(stego, other, moved)
    back.unlink(missing_ok=True)
    code, moved_s, _, _ = run(["reveal", str(moved), "-o", str(back), "--model", model, "--key", KEY], log, env)
    exact_moved = code == 0 and back.read_bytes() == secret.read_bytes()
    return {**row, "exact": exact, "exact_moved": exact_moved, "used_s": used, "packets": packets, "snr": snr(song, stego),
            "hide_s": hide_s, "reveal_s": reveal_s, "moved_s": moved_s, "peak_mib": max(hide_mib, reveal_mib)}


def table(rows: list[dict]) -> list[str]:
    out = ["| music | songs | file kB (median) | kB as sent (median) | too large | exact | exact after trim + paste | "
           "music used s median | SNR dB median | hide s | reveal s | reveal s after trim + paste | peak MiB |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for source in [*SOURCES, "all"]:
        part = [r for r in rows if source in ("all", r["source"])]
        hidden = [r for r in part if r["hidden"]]
        med = lambda key: statistics.median(r[key] for r in hidden) if hidden else float("nan")
        out.append(f"| {source} | {len(part)} | {statistics.median(r['kB'] for r in part):.0f} | "
                   f"{statistics.median(r['sent_kB'] for r in part):.0f} | "
                   f"{len(part) - len(hidden)} | {sum(r['exact'] for r in hidden)} of {len(hidden)} | "
                   f"{sum(r['exact_moved'] for r in hidden)} of {len(hidden)} | {med('used_s'):.0f} | {med('snr'):.1f} | "
                   f"{med('hide_s'):.2f} | {med('reveal_s'):.2f} | {med('moved_s'):.2f} | "
                   f"{max((r['peak_mib'] for r in hidden), default=0):.0f} |")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/debian"))
    parser.add_argument("--songs", type=int, default=5, help="songs per source (default 5)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/song_file.md"))
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--kb", type=float, nargs=2, default=(0, 1e9), metavar=("LOW", "HIGH"),
                        help="only the JPEGs of LOW-HIGH kB")
    parser.add_argument("--any-package", action="store_true",
                        help="JPEGs from every image package of the data (wallpapers, puzzles, ...), not only "
                             "mate-backgrounds")
    parser.add_argument("--no-pack", dest="pack", action="store_false", help="hide --no-pack: files sent as they are")
    parser.add_argument("--every-file", action="store_true",
                        help="every JPEG of the size range in every song (default: one per song, in turn); adds a "
                             "table per JPEG")
    parser.add_argument("--baseline", metavar="REV", help="also git revision REV's pixinwav, song by song in turn")
    args = parser.parse_args(argv)
    folders = "*" if args.any_package else "mate-backgrounds"
    files = sorted(f for f in (args.data / "train_images").glob(f"{folders}/*.jpg")
                   if args.kb[0] <= f.stat().st_size / 1000 <= args.kb[1])
    if not files:
        raise SystemExit(f"no JPEGs of that size under {args.data}/train_images/{folders}: run pixinwav data fetch")
    picked = songs(args.data, args.songs)
    every = [s for source in SOURCES for s in picked[source]]
    by_tree: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with source_trees(args.baseline, Path(tmp)) as trees:
            for env in trees.values():  # untimed: each tree's first run compiles its numba kernels into a cache
                measure(every[0], files[0], every[-1], Path(tmp), args.model, env)
            for i, song in enumerate(every):
                for tree, env in trees.items():  # (the baseline first, then this tree, song by song)
                    for secret in files if args.every_file else [files[i % len(files)]]:
                        row = measure(song, secret, every[(i + 1) % len(every)], Path(tmp), args.model, env, args.pack)
                        by_tree.setdefault(tree, []).append(row)
                        print(f"{i + 1}/{len(every)} [{tree}] {row['source']} {row['song'][-40:]}: {row['file'][-20:]} "
                              f"{row['kB']:.0f} kB hidden {row['hidden']} exact {row['exact']} moved {row['exact_moved']} "
                              f"hide {row.get('hide_s', float('nan')):.1f} s", flush=True)
    rows = by_tree["this tree"]
    kb = ("" if args.kb == (0, 1e9) else f" --kb {args.kb[0]:g} {args.kb[1]:g}") + (
        " --any-package" if args.any_package else "") + ("" if args.pack else " --no-pack") + (
        " --every-file" if args.every_file else "")
    base = f" --baseline {args.baseline}" if args.baseline else ""
    text = [f"# {args.model}: a JPEG bit-exact in a whole song", "",
            f"`python benchmarks/song_file.py --model {args.model} --songs {args.songs}{kb}{base}`: whole validation "
            "songs of 2-4 minutes "
            f"(their OGG files as covers); each carries one of the {'image packages' if args.any_package else 'mate'} "
            "JPEGs (of the size given) "
            + ("as `hide` sends it (packed where that is smaller: JPEG XL's lossless transcoding), " if args.pack
               else "as it is (`--no-pack`), ")
            + "hidden with `pixinwav hide --file` and revealed with the CLI from the 16-bit WAV it wrote, key "
            "set; 'exact' means byte-identical. 'After trim + paste': the stego's first 0.37 s cut off and 5 s "
            "of another song pasted before it, revealed with no offset. Times and memory: the CLI processes' "
            "own (start-up and OGG decoding included)." + (f" Each song is hidden and revealed by git revision "
            f"{args.baseline}'s pixinwav, then by this tree's, in turn, after one untimed run of each." if args.baseline
                                            else ""), ""]
    for tree, tree_rows in by_tree.items():
        text += ([f"{tree}:", ""] if args.baseline else []) + table(tree_rows) + [""]
    if args.every_file:
        text += ["Per JPEG (every song):", "", "| file | kB | kB as sent | songs it came back from exact | after trim + paste "
                 "| too large |", "|---|---|---|---|---|---|"]
        for name in dict.fromkeys(r["file"] for r in rows):
            mine = [r for r in rows if r["file"] == name]
            text.append(f"| {name[-40:]} | {mine[0]['kB']:.0f} | {mine[0]['sent_kB']:.0f} | "
                        f"**{sum(r['exact'] for r in mine)} of {len(mine)}** | {sum(r['exact_moved'] for r in mine)} | "
                        f"{sum(not r['hidden'] for r in mine)} |")
        text.append("")
    if args.baseline:
        other = by_tree[args.baseline]
        text += ["Song by song (seconds; packets sent):", "",
                 f"| song | kB | hide s ({args.baseline} / this tree) | reveal s | after trim + paste s | packets | "
                 "exact, and after trim + paste |", "|---|---|---|---|---|---|---|"]
        for old, new in zip(other, rows):
            def cell(key: str, fmt: str = "{:.2f}") -> str:
                return " / ".join(fmt.format(r[key]) if key in r else "-" for r in (old, new))

            exact = " / ".join(f"{r['exact']}, {r['exact_moved']}" if r["hidden"] else "too large" for r in (old, new))
            text.append(f"| {new['song'][-32:]} | {new['kB']:.0f} | {cell('hide_s')} | {cell('reveal_s')} | "
                        f"{cell('moved_s')} | {cell('packets', '{}')} | {exact} |")
        text.append("")
    text += ["| music | song | file | kB | kB as sent | exact | after trim + paste | music used s | SNR dB |",
             "|---|---|---|---|---|---|---|---|---|",
             *(f"| {r['source']} | {r['song'][-32:]} | {r['file'][-24:]} | {r['kB']:.0f} | {r['sent_kB']:.0f} | "
               f"{r['exact'] if r['hidden'] else 'too large'} | {r['exact_moved']} | {r.get('used_s', '-')} | "
               f"{r.get('snr', float('nan')):.1f} |" for r in rows)]
    args.out.write_text("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
