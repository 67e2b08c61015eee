"""Wall time and peak memory of the user commands on a long file: `pixinwav hide` and `pixinwav reveal` on a
3-minute 44.1 kHz stereo cover (load, resample, hide, write / load, resample, reveal, write), plus a 48 kHz
copy that needs resampling; window models also `reveal --offset auto` (the scan), the robust model no offset
at all. Models: the shipped default, the robust model and an untrained `fast-rgb` at paper geometry (speed does
not depend on the weights). Median of --repeats runs; peak RSS of the command's process; a Markdown table.

    python benchmarks/bench_commands.py [--seconds 180] [--repeats 3] [--models pixinwav-robust-v1 fast-rgb]
    (with pixinwav-modulo-v2 or pixinwav-adaptive-v3 / v4 among the models, also `hide --file` of a JPEG of about 300 kB
    and its reveal)
    python benchmarks/bench_commands.py --photos     # `pixinwav hide` with photos at the 100-megapixel limit
    python benchmarks/bench_commands.py --songs 8 --models pixinwav-adaptive-v2   # real validation songs instead
        (OGG files of 2-4 minutes from four sources, `--offset auto`: a window model's time depends on the music;
        `--photo PATH`: another photo than the bundled 512 x 512 one)
    python benchmarks/bench_commands.py --pairs SONG=PHOTO ... --models pixinwav-adaptive-v3 --baseline REV
        (given songs, each with its own photo, one row each: hide, reveal and `pixinwav capacity SONG --image PHOTO`;
        `--baseline REV`: every command also run with git revision REV's pixinwav on the path, interleaved with this
        tree's, and the ratio printed; `--repeats`; `--loop 600`: each song looped to 10 minutes first, the 1 GiB
        target on a quiet song)
    python benchmarks/bench_commands.py --identify --pairs SONG=PHOTO ... --models M ... [--baseline REV]
        (`pixinwav reveal` without --model, which tells the model by the file's marks, of each model's stego of each
        song, whole and with its first 1.234 s cut off; which model it named and whether it found the photo;
        `--long 600`: also the songs looped to 10 minutes with nothing hidden; `--attacked tempo:1`: also each stego
        through that attack)
    python benchmarks/bench_commands.py --startup [--baseline REV] [--repeats 7]
        (start-up of every shipped model: `pixinwav info MODEL`, which loads it, and `pixinwav reveal` of a 2 s
        clip with nothing hidden in it; wall time, peak memory and whether torch was imported)
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import skimage.data
import soundfile as sf
import torch
from PIL import Image

from pixinwav.attacks import apply
from pixinwav.loader import model_config as shipped_config, registry
from pixinwav.checkpoint import save_model
from pixinwav.config import model_config
from pixinwav.models import build_model

ASSETS = Path(__file__).parents[1] / "src" / "pixinwav" / "assets"
# timed with `hide --file` of a 300 kB JPEG too
CARRY_FILES = ("pixinwav-modulo-v2", "pixinwav-adaptive-v3", "pixinwav-adaptive-v4")
TIME = "/usr/bin/time"  # GNU time (Debian package `time`) reports the command's own peak RSS


def whole_song(name: str) -> bool:
    """A shipped model that fills the whole song (no --offset): a robust or a song model."""
    if name not in registry():
        return False
    cfg = shipped_config(name)
    return cfg.song or cfg.scheme == "robust"


def whole_photo(name: str) -> bool:
    """A shipped model that sends the photo at its own size or aspect (timed with a large photo)."""
    return name in registry() and shipped_config(name).song


def cover(seconds: float, rate: int) -> np.ndarray:
    """The bundled music clip looped to ``seconds`` (stereo), so the cover is real music."""
    clip, clip_rate = sf.read(ASSETS / "drascula-track2-3s.ogg", dtype="float32", always_2d=True)
    if clip_rate != rate:
        import soxr
        clip = soxr.resample(clip, clip_rate, rate)
    return looped(clip, int(seconds * rate))


def looped(clip: np.ndarray, samples: int) -> np.ndarray:
    """``clip [T, C]`` repeated to ``samples`` frames."""
    return np.tile(clip, (int(np.ceil(samples / len(clip))), 1))[:samples]


def large_photos(folder: Path) -> dict[str, Path]:
    """Photos at the 100-megapixel limit, as PNG (decoded whole by Pillow; a JPEG decodes at a reduced scale):
    10,000 x 10,000 16-bit grey and 8-bit RGB, smooth content so the files stay small on disk."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    y, x = np.mgrid[0:10000, 0:10000].astype(np.float32)
    grey = ((np.sin(x / 300) + np.cos(y / 200) + 2) * 16000).astype(np.uint16)
    photos = {"10000 x 10000 16-bit grey PNG": folder / "grey16.png", "10000 x 10000 RGB PNG": folder / "rgb.png",
              "10000 x 10000 RGB JPEG": folder / "rgb.jpg"}
    Image.fromarray(grey).save(photos["10000 x 10000 16-bit grey PNG"])
    del grey
    rgb = np.stack([(x // 40) % 256, (y // 40) % 256, ((x + y) // 80) % 256], -1).astype(np.uint8)
    Image.fromarray(rgb).save(photos["10000 x 10000 RGB PNG"])
    Image.fromarray(rgb).save(photos["10000 x 10000 RGB JPEG"], quality=90)
    return photos


def timed(cmd: list[str], repeats: int, env: dict | None = None, codes: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(median wall seconds, largest peak RSS in MiB) of ``cmd`` run ``repeats`` times. The peak comes from GNU
    time wrapping the command: a child's own rusage would also count the pages it shared with this (large,
    torch-importing) process between fork and exec."""
    times, peaks = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        r = subprocess.run([TIME, "-f", "%M", *cmd], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t)
        if r.returncode not in codes:
            raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
        peaks.append(int(r.stderr.strip().splitlines()[-1]) / 1024)  # KiB
    return statistics.median(times), max(peaks)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=180.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--models", nargs="+", default=["pixinwav-modulo-v1", "pixinwav-modulo-v2", "pixinwav-adaptive-v4",
                                                   "pixinwav-robust-v1", "fast-rgb"])
    p.add_argument("--photos", action="store_true", help="hide photos at the size limit instead (--photo-model)")
    p.add_argument("--photo-model", default="pixinwav-modulo-v1", help="the model --photos hides with (the default model "
                   "up to version 0.1, which commands_photos.md measured)")
    p.add_argument("--songs", type=int, default=0, help="time the models on this many validation songs instead")
    p.add_argument("--photo", default=str(ASSETS / "astronaut.jpg"), help="the photo hidden in each song (--songs)")
    p.add_argument("--data", type=Path, default=Path("data/debian"))
    p.add_argument("--pairs", nargs="+", metavar="SONG=PHOTO", help="time these songs, each with its photo")
    p.add_argument("--baseline", metavar="REV", help="with --pairs or --startup: also run git revision REV's pixinwav, "
                   "interleaved")
    p.add_argument("--startup", action="store_true", help="time the start of a command with each shipped model")
    p.add_argument("--identify", action="store_true", help="with --pairs: time `reveal` without --model")
    p.add_argument("--attacked", nargs="+", metavar="NAME:STRENGTH", help="with --identify: also each stego through "
                   "these attacks (pixinwav.attacks, e.g. tempo:1 speed:-2)")
    p.add_argument("--long", type=float, metavar="SECONDS", help="with --identify: also a song with nothing hidden of "
                   "this length (the pairs' songs one after another, looped; the 1 GiB target is for 600 s)")
    p.add_argument("--loop", type=float, metavar="SECONDS", help="with --pairs: each song looped to this length (a "
                   "16-bit WAV), e.g. 600 for the 1 GiB target on a quiet song")
    args = p.parse_args()
    exe = [sys.executable, "-m", "pixinwav"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.startup:
            return on_startup(args, exe, tmp)
        if args.identify:
            return on_identify(args, exe, tmp)
        if args.pairs:
            return on_pairs(args, exe, tmp)
        if args.songs:
            return on_songs(args, exe, tmp)
        if args.photos:
            cover_path = tmp / "cover.wav"
            sf.write(cover_path, cover(10.0, 44100), 44100, subtype="PCM_16")
            photos = {"the bundled 512 x 512 JPEG (baseline)": ASSETS / "astronaut.jpg", **large_photos(tmp)}
            print(f"`pixinwav hide` ({args.photo_model}, 10 s cover); median of {args.repeats}\n")
            print("| photo | file MB | hide s | hide peak MiB |")
            print("|---|---|---|---|")
            for label, photo in photos.items():
                seconds, mib = timed([*exe, "hide", "--image", str(photo), "--cover", str(cover_path), "-o",
                                      str(tmp / "stego.wav"), "--model", args.photo_model, "--force"], args.repeats)
                print(f"| {label} | {photo.stat().st_size / 1e6:.2f} | {seconds:.2f} | {mib:.0f} |", flush=True)
            return
        files = {}
        for rate in (44100, 48000):
            files[rate] = tmp / f"cover{rate}.wav"
            sf.write(files[rate], cover(args.seconds, rate), rate, subtype="PCM_16")
        startup, _ = timed([sys.executable, "-c", "import pixinwav.api"], args.repeats)  # Python, torch, pixinwav
        print(f"{args.seconds:.0f} s stereo covers; median of {args.repeats}; "
              f"Python + torch + pixinwav import alone {startup:.2f} s\n")
        # the song model sends the photo at its own size: give it a photo of 2 MP (36 tiles, 55 s of the song)
        retina = tmp / "retina.png"
        Image.fromarray(skimage.data.retina()).save(retina)
        print("| model | photo | cover | hide s | hide peak MiB | reveal s | reveal peak MiB | reveal --offset auto s |")
        print("|---|---|---|---|---|---|---|---|")
        for name in args.models:
            model = name
            if name not in registry():
                torch.manual_seed(0)
                model = str(tmp / f"{name}.safetensors")
                save_model(model, build_model(model_config(name)).eval())
            whole = whole_song(name)
            photo = retina if whole_photo(name) else ASSETS / "astronaut.jpg"
            where = [] if whole else ["--offset", str(args.seconds / 2)]
            for rate, path in files.items():
                out, png = tmp / "stego.wav", tmp / "revealed.png"
                hide, hide_mib = timed([*exe, "hide", "--image", str(photo), "--cover", str(path),
                                        "-o", str(out), "--model", model, *where, "--force"], args.repeats)
                reveal, reveal_mib = timed([*exe, "reveal", str(out), "-o", str(png), "--model", model, *where, "--force"],
                                           args.repeats)
                auto = "-"
                if not whole and name in registry():  # untrained U-Nets have no pilots: nothing to scan for
                    scan = [*exe, "reveal", str(out), "-o", str(png), "--model", model, "--offset", "auto", "--force"]
                    auto = f"{timed(scan, args.repeats)[0]:.2f}"
                label = "1411 x 1411 (retina)" if photo == retina else "512 x 512 (astronaut)"
                print(f"| {name} | {label} | {rate} Hz | {hide:.2f} | {hide_mib:.0f} | {reveal:.2f} | {reveal_mib:.0f} "
                      f"| {auto} |", flush=True)
        for name in (m for m in args.models if m in CARRY_FILES):  # a file, bit-exact: retina as a JPEG of ~300 kB
            jpeg = tmp / "retina.jpg"
            Image.fromarray(skimage.data.retina()).save(jpeg, quality=92)
            out, back = tmp / "stego.wav", tmp / "back.jpg"
            hide, hide_mib = timed([*exe, "hide", "--file", str(jpeg), "--cover", str(files[44100]), "-o", str(out),
                                    "--model", name, "--force"], args.repeats)
            reveal, reveal_mib = timed([*exe, "reveal", str(out), "-o", str(back), "--model", name, "--force"],
                                       args.repeats)
            assert back.read_bytes() == jpeg.read_bytes()
            print(f"| {name} --file | a {jpeg.stat().st_size / 1e3:.0f} kB JPEG, bit-exact | 44100 Hz | "
                  f"{hide:.2f} | {hide_mib:.0f} | {reveal:.2f} | {reveal_mib:.0f} | - |", flush=True)


@contextlib.contextmanager
def source_trees(baseline: str | None, tmp: Path):
    """{name: environment} of the source trees to run: this one, and git revision ``baseline``'s first (a temporary
    worktree on ``PYTHONPATH``, removed after)."""
    if not baseline:
        yield {"this tree": None}
        return
    base = tmp / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(base), baseline], check=True, capture_output=True)
    try:
        yield {baseline: {**os.environ, "PYTHONPATH": str(base / "src")}, "this tree": None}
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], capture_output=True)


def print_head(lead: list[str], commands: tuple[str, ...], trees: dict, baseline: str | None, tail: list[str]) -> None:
    """A table's header: ``lead`` columns, seconds per command and tree, the ratios against ``baseline``, ``tail``."""
    cols = [*lead, *(f"{what} s ({tree})" for what in commands for tree in trees),
            *((f"{what} ratio" for what in commands) if baseline else ()), *tail]
    print(f"| {' | '.join(cols)} |")
    print("|" + "---|" * len(cols))


def timing_cells(got: dict, commands: tuple[str, ...], trees: dict, baseline: str | None) -> list[str]:
    """Seconds per command and tree (``got[command, tree]``), then each command's baseline / this tree ratio."""
    cells = [f"{got[what, tree]:.2f}" for what in commands for tree in trees]
    return cells + ([f"{got[what, baseline] / got[what, 'this tree']:.2f}x" for what in commands] if baseline else [])


def on_startup(args, exe: list[str], tmp: Path) -> None:
    """Per shipped model and source tree: `pixinwav info MODEL` (imports, the model file hash-checked and loaded) and
    `pixinwav reveal` of a 2 s music clip that holds nothing (a command's whole start and its first reading, until
    "no hidden image found"), median wall seconds and peak MiB, and whether the command imported torch (a
    ``python -X importtime`` run of the same command)."""
    clip = tmp / "clip.wav"
    sf.write(clip, cover(2.0, 44100), 44100, subtype="PCM_16")
    with source_trees(args.baseline, tmp) as trees:
        for env in trees.values():  # numba compiles into each tree's cache once: not timed
            for name in registry():
                subprocess.run([*exe, "reveal", str(clip), "-o", str(tmp / "x.png"), "--model", name, "--force"],
                               capture_output=True, env=env)
        print(f"median of {args.repeats} runs per command (the trees in turn), after one untimed run per tree and model; trees: "
              f"{', '.join(trees)}; `reveal`: a 2 s clip with nothing hidden (exit 1: no hidden image found)\n")
        print_head(["model"], ("info", "reveal"), trees, args.baseline, [f"peak MiB ({' / '.join(trees)})", "torch imported"])
        for name in registry():
            info = [*exe, "info", name]
            reveal = [*exe, "reveal", str(clip), "-o", str(tmp / "x.png"), "--model", name, "--force"]
            runs, peaks, torch_used = {}, dict.fromkeys(trees, 0.0), {}
            for _ in range(args.repeats):  # the trees in turn, run after run: a busy moment weighs on both alike
                for tree, env in trees.items():
                    for what, cmd in (("info", info), ("reveal", reveal)):
                        seconds, peak = timed(cmd, 1, env, codes=(0, 1))
                        runs.setdefault((what, tree), []).append(seconds)
                        peaks[tree] = max(peaks[tree], peak)
            got = {k: statistics.median(v) for k, v in runs.items()}
            for tree, env in trees.items():
                trace = subprocess.run([sys.executable, "-X", "importtime", *exe[1:], "reveal", str(clip), "-o",
                                        str(tmp / "x.png"), "--model", name, "--force"], capture_output=True, text=True,
                                       env=env).stderr
                torch_used[tree] = "yes" if re.search(r"\|\s+torch\n", trace) else "no"
            cells = timing_cells(got, ("info", "reveal"), trees, args.baseline)
            print(f"| {name} | {' | '.join(cells)} | {' / '.join(f'{peaks[t]:.0f}' for t in trees)} "
                  f"| {' / '.join(torch_used[t] for t in trees)} |", flush=True)


def on_identify(args, exe: list[str], tmp: Path) -> None:
    """Per song and model: the stego this tree's `hide` writes, whole and with its first 1.234 s cut off, revealed
    without `--model` by each tree (median seconds, the trees in turn), the model it named and whether it wrote the
    photo; first the song itself, with nothing hidden (every model's search runs and finds nothing)."""
    pairs = [tuple(map(Path, pair.split("=", 1))) for pair in args.pairs]
    with source_trees(args.baseline, tmp) as trees:
        print(f"median of {args.repeats} run(s) per command (the trees in turn); `reveal` without --model\n")
        print_head(["model", "song", "file"], ("reveal",), trees, args.baseline,
                   [f"peak MiB ({' / '.join(trees)})", "named (this tree)", "photo written"])
        if args.long:  # the songs one after another, looped to that length (real music at the length a memory target names)
            songs = [sf.read(song, dtype="int16", always_2d=True) for song, _ in pairs]
            joined = np.concatenate([samples[:, :2] if samples.shape[1] > 1 else np.repeat(samples, 2, 1)
                                     for samples, _ in songs])
            long_song = tmp / f"songs_looped_to_{args.long:g}_s.wav"
            sf.write(long_song, looped(joined, int(args.long * songs[0][1])), songs[0][1], subtype="PCM_16")
            pairs = [*pairs, (long_song, None)]
        warmed = set()
        for name in ["nothing hidden", *args.models]:
            for song, photo in pairs:
                stego = tmp / "stego.wav"
                if photo is None and name != "nothing hidden":
                    continue
                if name == "nothing hidden":
                    files = (("the song", song),)
                else:
                    subprocess.run([*exe, "hide", "--image", str(photo), "--cover", str(song), "-o", str(stego),
                                    "--model", name, "--force"], capture_output=True, check=True)
                    samples, rate = sf.read(stego, dtype="int16")
                    trimmed = tmp / "trimmed.wav"
                    sf.write(trimmed, samples[int(1.234 * rate):], rate, subtype="PCM_16")
                    files = [("whole", stego), ("first 1.234 s cut", trimmed)]
                    for attack in args.attacked or ():  # e.g. tempo:1: the stego as a stretched copy of it is
                        attacked_name, strength = attack.split(":")
                        changed, changed_rate = apply(attacked_name, samples / 32768, rate, float(strength))
                        attacked = tmp / f"attacked_{len(files)}.wav"
                        sf.write(attacked, changed, changed_rate, subtype="PCM_16")
                        files.append((attack, attacked))
                for label, path in files:
                    out = tmp / "revealed.png"
                    cmd = [*exe, "reveal", str(path), "-o", str(out), "--force"]
                    runs, peaks = {}, {}
                    if name not in warmed:  # a first run per model, not timed: a new tree compiles its modules and
                        warmed.add(name)  # its decoder kernels (the numba cache) on its first run
                        for env in trees.values():
                            timed(cmd, 1, env, codes=(0, 1))
                    for _ in range(args.repeats):
                        for tree, env in trees.items():
                            seconds, peak = timed(cmd, 1, env, codes=(0, 1))
                            runs.setdefault(("reveal", tree), []).append(seconds)
                            peaks[tree] = max(peaks.get(tree, 0.0), peak)
                    got = {k: statistics.median(v) for k, v in runs.items()}
                    out.unlink(missing_ok=True)
                    said = subprocess.run(cmd, capture_output=True, text=True).stderr
                    named = re.search(r"carries (\S+)'s marks", said)
                    cells = " | ".join(timing_cells(got, ("reveal",), trees, args.baseline))
                    print(f"| {name} | {song.stem[-28:]} | {label} | {cells} | {' / '.join(f'{peaks[t]:.0f}' for t in trees)} "
                          f"| {named.group(1) if named else 'the default'} "
                          f"| {'yes' if out.exists() else 'no'} |", flush=True)


def on_pairs(args, exe: list[str], tmp: Path) -> None:
    """Hide and reveal of given songs with their own photos, one row per song and model; with ``--baseline``,
    each command run with that revision's source tree first, then this tree's, and their ratio."""
    pairs = [tuple(map(Path, pair.split("=", 1))) for pair in args.pairs]
    if any(len(pair) != 2 for pair in pairs):
        raise SystemExit("--pairs takes SONG=PHOTO")
    if args.loop:
        from pixinwav.data.audio import read_audio

        for i, (song, photo) in enumerate(pairs):
            audio = read_audio(song)
            longer = Path(tmp) / f"{song.stem}-{args.loop:.0f}s.wav"
            sf.write(longer, looped(audio.samples, int(args.loop * audio.sample_rate)), audio.sample_rate,
                     subtype="PCM_16")
            pairs[i] = (longer, photo)
    with source_trees(args.baseline, tmp) as trees:
        pair_rows(args, exe, tmp, pairs, trees)


def pair_rows(args, exe: list[str], tmp: Path, pairs: list, trees: dict) -> None:
    def commands(name: str, song: Path, photo: Path, out: Path, png: Path) -> tuple[list[str], list[str], list[str]]:
        where = [] if whole_song(name) else ["--offset", "auto"]
        return ([*exe, "hide", "--image", str(photo), "--cover", str(song), "-o", str(out), "--model", name, *where,
                 "--force"], [*exe, "reveal", str(out), "-o", str(png), "--model", name, *where, "--force"],
                [*exe, "capacity", str(song), "--model", name, "--image", str(photo)])

    for env in trees.values():  # numba compiles its kernels into each tree's cache once: not timed
        hide, reveal, _ = commands(args.models[0], *pairs[0], tmp / "warm.wav", tmp / "warm.png")
        subprocess.run(hide, capture_output=True, env=env, check=True)
        subprocess.run(reveal, capture_output=True, env=env)
    print(f"median of {args.repeats} run(s) per command, after one untimed hide and reveal per tree; trees: "
          f"{', '.join(trees)}\n")
    # (capacity: `pixinwav capacity SONG --image PHOTO`, what the song carries, measured as hide measures it)
    print_head(["model", "song", "photo"], ("hide", "reveal", "capacity"), trees, args.baseline,
               [f"peak MiB ({' / '.join(trees)})"])
    for name in args.models:
        for song, photo in pairs:
            got, peaks = {}, {}
            hide, reveal, capacity = commands(name, song, photo, tmp / "stego.wav", tmp / "revealed.png")
            for tree, env in trees.items():
                got["hide", tree], mib = timed(hide, args.repeats, env)
                got["reveal", tree], mib2 = timed(reveal, args.repeats, env)
                got["capacity", tree], _ = timed(capacity, args.repeats, env)
                peaks[tree] = max(mib, mib2)
            cells = timing_cells(got, ("hide", "reveal", "capacity"), trees, args.baseline)
            print(f"| {name} | {song.stem[-28:]} | {photo.name} | {' | '.join(cells)} | "
                  f"{' / '.join(f'{peaks[t]:.0f}' for t in trees)} |", flush=True)


def on_songs(args, exe: list[str], tmp: Path) -> None:
    """Hide (at the loudest window for window models) and reveal on real songs: per model, median and slowest."""
    from song import SOURCES, songs

    picked = songs(args.data, max(1, args.songs // len(SOURCES)))
    tracks = [t for source in SOURCES for t in picked[source]][: args.songs]
    print(f"{len(tracks)} validation songs of 2-4 minutes (OGG, {', '.join(SOURCES)}); one run each; the photo "
          f"{Path(args.photo).name}\n")
    print("| model | hide s median | hide s slowest | reveal s median | reveal s slowest | peak MiB |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        whole = whole_song(name)
        where = [] if whole else ["--offset", "auto"]
        hides, reveals, peaks = [], [], []
        for track in tracks:
            out, png = tmp / "stego.wav", tmp / "revealed.png"
            hide, hide_mib = timed([*exe, "hide", "--image", args.photo, "--cover", str(track), "-o",
                                    str(out), "--model", name, *where, "--force"], 1)
            reveal, reveal_mib = timed([*exe, "reveal", str(out), "-o", str(png), "--model", name, *where, "--force"], 1)
            hides.append(hide)
            reveals.append(reveal)
            peaks.append(max(hide_mib, reveal_mib))
        print(f"| {name} | {statistics.median(hides):.2f} | {max(hides):.2f} | {statistics.median(reveals):.2f} | "
              f"{max(reveals):.2f} | {max(peaks):.0f} |", flush=True)


if __name__ == "__main__":
    main()
