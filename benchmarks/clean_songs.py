"""False finds on whole clean songs, as a user meets them: `pixinwav reveal SONG -o OUT` without `--model` on every
song of the Debian music packages (nothing hidden in any), so each shipped model's marks are searched as `reveal`
searches them. A song is a false find when `reveal` writes anything or exits 0; the model its marks named (the
first line of its error, "the file carries X's marks") is counted too, since naming one for plain music is a wrong
statement even where nothing is written. Reported per source; times are the CLI's own (start-up and decoding
included).

    python benchmarks/clean_songs.py [--data data/debian] [--split both] [--key K] [--out benchmarks/results/clean_songs.md]

Needs `pixinwav data fetch --dest data/debian`. Every song is used (220 of 5 s to 9.3 minutes, OGG and Opus;
`--longest` leaves out longer ones).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import soundfile as sf

from song import CLI


def reveal(song: Path, out: Path, key: str | None) -> dict:
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run([*CLI, "reveal", str(song), "-o", str(out), *(["--key", key] if key else [])],
                          capture_output=True, text=True)
    named = re.search(r"the file carries (\S+)'s marks", done.stderr)
    return {"exit": done.returncode, "written": out.exists(), "named": named.group(1) if named else None,
            "seconds": time.perf_counter() - start, "said": (done.stderr.strip().splitlines() or [""])[-1][:200]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--split", choices=["val", "train", "both"], default="both")
    p.add_argument("--key", default=None, help="the key reveal is given (default: none)")
    p.add_argument("--longest", type=float, default=600.0, help="leave out songs longer than this (s; default 600)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/clean_songs.md"))
    args = p.parse_args()
    splits = ["val", "train"] if args.split == "both" else [args.split]
    minutes = {f: sf.info(str(f)).duration / 60 for split in splits for f in sorted((args.data / f"{split}_audio").glob("*/*"))
               if f.suffix in (".ogg", ".opus")}
    songs = [f for f, length in minutes.items() if length * 60 <= args.longest]
    if not songs:
        raise SystemExit(f"no songs under {args.data}: run pixinwav data fetch --dest {args.data}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, song in enumerate(songs):
            row = {"source": song.parent.name, "song": song.name, "minutes": minutes[song],
                   **reveal(song, Path(tmp) / "out.png", args.key)}
            rows.append(row)
            print(f"{i + 1}/{len(songs)} {row['source']} {song.name[-40:]}: exit {row['exit']} named {row['named']} "
                  f"{row['seconds']:.1f} s", flush=True)
    sources = sorted({r["source"] for r in rows}, key=lambda s: [r["source"] for r in rows].index(s))
    lines = ["# False finds on whole clean songs", "",
             f"`python benchmarks/clean_songs.py --split {args.split}"
             + (f" --key {args.key!r}" if args.key else "") + "`: `pixinwav reveal SONG -o OUT` without `--model`"
             + (" with that key" if args.key else ", no key")
             + f", on every song of the music packages up to {args.longest:g} s long (nothing hidden). A false find: "
             "`reveal` exited 0 or wrote a file. A model named: "
             "its marks were taken for that model's before its reveal read nothing.", "",
             "| music | songs | minutes (median) | false finds | a model named | reveal s median | max |",
             "|---|---|---|---|---|---|---|"]
    for source in [*sources, "all"]:
        part = [r for r in rows if source in ("all", r["source"])]
        found = sum(r["exit"] == 0 or r["written"] for r in part)
        named = [r["named"] for r in part if r["named"]]
        said = ", ".join(f"{n} {named.count(n)}" for n in sorted(set(named))) or "none"
        lines.append(f"| {'**all**' if source == 'all' else source} | {len(part)} | "
                     f"{statistics.median(r['minutes'] for r in part):.1f} | **{found}** | {len(named)} ({said}) | "
                     f"{statistics.median(r['seconds'] for r in part):.1f} | {max(r['seconds'] for r in part):.1f} |")
    odd = [r for r in rows if r["named"] or r["exit"] == 0 or r["written"]]
    if odd:
        lines += ["", "| music | song | minutes | exit | named | what reveal said |", "|---|---|---|---|---|---|",
                  *(f"| {r['source']} | {r['song'][-40:]} | {r['minutes']:.1f} | {r['exit']} | {r['named']} | "
                    f"{r['said']} |" for r in odd)]
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
