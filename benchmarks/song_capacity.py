"""How many bytes each whole validation song carries, by `pixinwav capacity SONG --model M --json` (the CLI, which
measures a song as `hide` does): per source, the median and smallest, and the share of songs that carry a file of
each size asked (a phone JPEG of 300 kB: the whole-photo target). A distribution of every song, where
`benchmarks/song_file.py` hides one file per song and says whether it fitted.

    python benchmarks/song_capacity.py [--models pixinwav-adaptive-v4 pixinwav-adaptive-v3] [--kb 250 300 350]
        [--out benchmarks/results/song_capacity]   # writes .md, .json and .png (songs sorted by bytes, per source)
    # the robust models, whose photo grows with the song (file bytes; kB = 1,000 bytes):
    python benchmarks/song_capacity.py --models pixinwav-robust-v4 pixinwav-robust-v2 --kb 2 3 4 \
        --out benchmarks/results/song_capacity_robust_0.2.23
    # real JPEGs of about 300 kB, packed as `hide --file` packs them (JPEG XL's lossless transcoding):
    python benchmarks/song_capacity.py --models pixinwav-adaptive-v5 --jpegs 290 320 \
        --out benchmarks/results/song_capacity_0.2.25

Music: every validation song of 2-4 minutes from the four Debian packages of `benchmarks/song.py` (`--songs N`:
N per source). Needs `pixinwav data fetch --dest data/debian`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path

from song import CLI, SOURCES, songs

IMAGE_PACKAGES = "train_images"  # every image package's JPEGs: wallpapers, puzzles, photos of the docs


def capacity(song: Path, model: str) -> dict:
    """The CLI's own JSON report; a song it refuses (too short or quiet for the model) carries 0 bytes."""
    done = subprocess.run([*CLI, "capacity", str(song), "--model", model, "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        return {"file_bytes": 0, "windows": 0, "refused": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout)


def kb(count: int) -> str:
    """Bytes in kB: a decimal where it is small (a robust model's few kB)."""
    return f"{count / 1000:.1f}" if count < 100_000 else f"{count / 1000:.0f}"


def jpeg_table(data: Path, kb_range: list[float], models: list[str], bytes_: dict) -> list[str]:
    """Per JPEG of the size range: its bytes as `hide --file` sends them, and the songs whose capacity holds that."""
    from pixinwav import hidden_file

    files = sorted((f for f in (data / IMAGE_PACKAGES).glob("*/*.jpg")
                    if kb_range[0] <= f.stat().st_size / 1000 <= kb_range[1]), key=lambda f: f.stat().st_size)
    if not files:
        raise SystemExit(f"no JPEGs of {kb_range[0]:g}-{kb_range[1]:g} kB under {data / IMAGE_PACKAGES}")
    lines = [f"Real JPEGs of {kb_range[0]:g}-{kb_range[1]:g} kB from the image packages, as `hide --file` sends them "
             "(packed where that is smaller): the songs whose `file_bytes` holds them (name included).", "",
             "| model | JPEG | kB | kB as sent | packing | " + " | ".join(SOURCES) + " | all |",
             "|---|---|---|---|---|" + "---|" * (len(SOURCES) + 1)]
    packed = {f: hidden_file.read(f) for f in files}  # (each packed once, as `hide --file` packs it)
    for model in models:
        for f, file in packed.items():
            need = file.sent_bytes + len(file.name.encode())
            per = [sum(b >= need for _, b in bytes_[model][source]) for source in SOURCES]
            songs_ = sum(len(bytes_[model][source]) for source in SOURCES)
            lines.append(f"| {model} | {f.name[-40:]} | {len(file.data) / 1000:.0f} | {file.sent_bytes / 1000:.0f} | "
                         f"{file.packed[0]} | " + " | ".join(f"{n} of {len(bytes_[model][s])}" for n, s in zip(per, SOURCES))
                         + f" | **{sum(per)} of {songs_} ({100 * sum(per) / songs_:.0f} %)** |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--songs", type=int, default=100, help="songs per source (default: all of 2-4 minutes)")
    p.add_argument("--models", nargs="+", default=["pixinwav-adaptive-v4", "pixinwav-adaptive-v3"])
    p.add_argument("--kb", type=float, nargs="+", default=[250, 300, 350], help="file sizes to count songs for (kB)")
    p.add_argument("--jpegs", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="also count, for every JPEG of LOW-HIGH kB in the image packages, the songs that carry it as "
                        "`hide --file` sends it (packed: a JPEG recompressed losslessly by JPEG XL)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/song_capacity"))
    args = p.parse_args()
    chosen = songs(args.data, args.songs)
    bytes_ = {model: {source: [] for source in SOURCES} for model in args.models}
    for source, paths in chosen.items():
        for song in paths:
            for model in args.models:
                report = capacity(song, model)
                bytes_[model][source].append((song.name, report["file_bytes"]))
                units = f"{report['segments']} segments" if "segments" in report else f"{report['windows']} windows"
                print(f"{model} {source} {song.name}: {report['file_bytes']:,} bytes in {units}"
                      + (f" ({report['refused']})" if "refused" in report else ""), flush=True)

    sizes = " | ".join(f">= {size:g} kB" for size in args.kb)
    lines = [f"# Bytes each whole song carries: {', '.join(args.models)}", "",
             f"`python benchmarks/song_capacity.py --models {' '.join(args.models)} --kb "
             f"{' '.join(f'{size:g}' for size in args.kb)}"
             + (f" --jpegs {args.jpegs[0]:g} {args.jpegs[1]:g}" if args.jpegs else "")
             + "`: `pixinwav capacity SONG --model M --json` on every validation "
             "song of 2-4 minutes (OGG, as a user hands it in): the largest file `hide --file` carries exactly (its "
             "`file_bytes`). kB = 1,000 bytes.", "",
             f"| model | music | songs | median kB | smallest kB | songs carrying {sizes} |",
             "|---|---|---|---|---|" + "---|" * len(args.kb)]
    for model in args.models:
        for source in [*SOURCES, "all"]:
            values = [b for s in (SOURCES if source == "all" else [source]) for _, b in bytes_[model][s]]
            if not values:
                continue
            shares = " | ".join(f"{sum(v >= size * 1000 for v in values)} of {len(values)} "
                                f"({100 * sum(v >= size * 1000 for v in values) / len(values):.0f} %)" for size in args.kb)
            lines.append(f"| {model} | {source} | {len(values)} | {kb(statistics.median(values))} | {kb(min(values))} | "
                         f"{shares} |")
    lines += ["", "| music | song | " + " | ".join(f"{m} kB" for m in args.models) + " |",
              "|---|---|" + "---|" * len(args.models)]
    for source in SOURCES:
        for i, (name, _) in enumerate(bytes_[args.models[0]][source]):
            lines.append(f"| {source} | {name[-40:]} | " + " | ".join(
                kb(bytes_[m][source][i][1]) for m in args.models) + " |")
    if args.jpegs:
        lines += ["", *jpeg_table(args.data, args.jpegs, args.models, bytes_)]
    print("\n".join(lines))
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    named = lambda ext: out.parent / (out.name + ext)  # noqa: E731  (not with_suffix: a name may hold a dot)
    named(".md").write_text("\n".join(lines) + "\n")
    named(".json").write_text(json.dumps(bytes_, indent=2))
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for model, style in zip(args.models, ("-", "--", ":", "-.")):
        for source, colour in zip(SOURCES, ("C0", "C1", "C2", "C3")):
            values = sorted(b / 1000 for _, b in bytes_[model][source])
            ax.plot(values, [(i + 1) / len(values) for i in range(len(values))], style, color=colour, drawstyle="steps-post",
                    label=f"{source} ({model.removeprefix('pixinwav-')})")
    for size in args.kb:
        ax.axvline(size, color="k", lw=0.6, ls=":")
    ax.set_xlabel("bytes the song carries (kB)")
    ax.set_ylabel("share of the source's songs carrying at most that")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(named(".png"), dpi=100)
    print(f"wrote {named('.md')}, {named('.json')} and {named('.png')}")


if __name__ == "__main__":
    main()
