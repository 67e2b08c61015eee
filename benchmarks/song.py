"""The whole photo in the whole song, measured as a user meets it: `pixinwav hide` a photo at its own size into a
whole song (the song's own OGG file, as the user has it), `pixinwav reveal` the 16-bit WAV it wrote, and
compare the revealed photo with the original at the size it was sent (SSIM over RGB). Beside it, the same
songs and photos through `pixinwav-modulo-v1` (one 256 x 256 centre crop in the loudest window), so the
table shows what the song model adds. Per song also: a reveal after the stego's start is trimmed and 5 s of
another song pasted before it (no offset given). Wall time and peak memory are the CLI processes' own
(GNU time), Python start-up and file decoding included.

Music: whole validation songs of 2-4 minutes from four Debian packages of different games, composers and
styles (`pixinwav data fetch --dest data/debian --only drascula-music freedroidrpg-data supertux-data
warmux-data`), reported per source. Photos: the validation photos (scikit-image and matplotlib, 0.14-2.0 MP)
and, for photos of 1 MP and more, `retina` (2.0 MP) and the twelve `mate-backgrounds` photos (1.3-4.9 MP;
fetch with `--only mate-backgrounds`). Those photos are in the training pool, but v1 kept only per-coefficient
statistics of 256 crops of all training photos: no photo is stored or fitted.

    python benchmarks/song.py [--data data/debian] [--songs 5] [--out benchmarks/results/song.md] [--resume]
"""
from __future__ import annotations

import argparse
import csv
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from PIL import Image, ImageOps

from pixinwav import metrics
from pixinwav.data.fetch import validation_photos

SOURCES = ("drascula-music", "freedroidrpg-data", "supertux-data", "warmux-data")
TIME = "/usr/bin/time"  # GNU time (Debian package `time`): the command's own peak RSS
CLI = [sys.executable, "-m", "pixinwav"]
KEY = "benchmark key"


def run(args: list[str], log: Path) -> tuple[float, float, str]:
    """(wall s, peak MiB, stdout+stderr) of one CLI command; a failure stops the benchmark with its output."""
    done = subprocess.run([TIME, "-f", "%e %M", "-o", str(log), *CLI, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: pixinwav {' '.join(args)}\n{done.stdout}{done.stderr}")
    wall, kib = log.read_text().split()[-2:]
    return float(wall), float(kib) / 1024, done.stdout + done.stderr


def songs(data: Path, per_source: int) -> dict[str, list[Path]]:
    """``per_source`` songs of 2-4 minutes from each source, evenly spread over its tracks sorted by name."""
    out = {}
    for source in SOURCES:
        tracks = [f for f in sorted((data / "val_audio" / source).glob("*.ogg")) if 120 <= sf.info(str(f)).duration <= 240]
        if not tracks:
            raise SystemExit(f"no songs of 2-4 minutes under {data}/val_audio/{source}: run pixinwav data fetch --dest "
                             f"{data} --only {' '.join(SOURCES)}")
        picks = np.linspace(0, len(tracks) - 1, min(per_source, len(tracks))).round().astype(int)
        out[source] = [tracks[i] for i in sorted(set(picks))]
    return out


def photos(data: Path) -> tuple[list[Path], list[Path]]:
    """(validation photos, photos of 1 MP or more)."""
    small = [Path(r["file"]) for r in validation_photos(data)]
    large = [p for p in small if _pixels(p) >= 1e6] + sorted((data / "train_images" / "mate-backgrounds").glob("*.jpg"))
    return [p for p in small if _pixels(p) < 1e6], large


def _oriented_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return ImageOps.exif_transpose(img).size


def _pixels(path: Path) -> int:
    with Image.open(path) as img:
        return img.size[0] * img.size[1]


def as_tensor(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]


def photo_ssim(original: Path, revealed: Path, crop: int | None = None) -> tuple[float, tuple[int, int]]:
    """SSIM of the revealed photo against the original as the CLI reads it (EXIF orientation applied), scaled as
    the model scales it (bicubic, antialiased) when it was sent smaller; ``crop``: against the centred square
    crop of that side a window model sends."""
    with Image.open(original) as img:
        ref = as_tensor(ImageOps.exif_transpose(img))
    with Image.open(revealed) as img:
        got = as_tensor(img)
    h, w = got.shape[-2:]
    if crop:
        side = min(ref.shape[-2:])
        top, left = (ref.shape[-2] - side) // 2, (ref.shape[-1] - side) // 2
        ref = torch.nn.functional.interpolate(ref[..., top:top + side, left:left + side], size=(crop, crop),
                                              mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)
    elif ref.shape[-2:] != got.shape[-2:]:
        ref = torch.nn.functional.interpolate(ref, size=(h, w), mode="bicubic", antialias=True,
                                              align_corners=False).clamp(0, 1)
    return float(metrics.ssim(ref, got)[0]), (w, h)


def snr(cover: Path, stego: Path) -> float:
    a, _ = sf.read(str(cover), dtype="float32", always_2d=True)
    b, _ = sf.read(str(stego), dtype="float32", always_2d=True)
    n = min(len(a), len(b))
    return metrics.snr(np.clip(a[:n], -1, 32767 / 32768), b[:n])


def trimmed_and_pasted(stego: Path, other: Path, out: Path, trim_s: float = 0.37, paste_s: float = 5.0) -> None:
    """The stego with its first ``trim_s`` seconds cut off and ``paste_s`` seconds of another song before it."""
    audio, rate = sf.read(str(stego), dtype="int16", always_2d=True)
    before, other_rate = sf.read(str(other), dtype="float32", always_2d=True, frames=int(paste_s * 44100))
    before = (np.clip(before, -1, 32767 / 32768) * 32768).astype(np.int16)[:, : audio.shape[1]]
    sf.write(str(out), np.concatenate([before, audio[int(trim_s * rate):]]), rate, subtype="PCM_16")


def measure(song: Path, photo: Path, other: Path, work: Path, model: str = "pixinwav-modulo-v2") -> dict:
    stego, revealed, log = work / "stego.wav", work / "revealed.png", work / "time.txt"
    for f in (stego, revealed):
        f.unlink(missing_ok=True)
    hide_s, hide_mib, said = run(["hide", "--model", model, "--image", str(photo), "--cover", str(song),
                                  "-o", str(stego), "--key", KEY], log)
    row = {"song": song.name.split("__")[-1], "photo": photo.name.split("__")[-1], "hide_s": hide_s, "hide_mib": hide_mib,
           "snr_db": snr(song, stego)}
    used = [line for line in said.splitlines() if line.startswith("payload:")]
    row["tiles"] = int(used[0].split(" in ")[1].split()[0]) if used and " tiles of " in used[0] else 0
    row["seconds_used"] = float(re.search(r"([\d.]+) s of music used", used[0]).group(1)) if used else 0.0
    row["reveal_s"], row["reveal_mib"], said = run(["reveal", str(stego), "-o", str(revealed), "--model", model,
                                                    "--key", KEY], log)
    row["warned"] = "warning" in said
    row["ssim"], (w, h) = photo_ssim(photo, revealed)
    row["size"] = f"{w}x{h}"
    row["megapixels"] = w * h / 1e6
    row["scaled"] = (w, h) != _oriented_size(photo)
    moved = work / "moved.wav"
    trimmed_and_pasted(stego, other, moved)
    revealed.unlink()
    row["moved_s"] = run(["reveal", str(moved), "-o", str(revealed), "--model", model, "--key", KEY], log)[0]
    row["ssim_moved"] = photo_ssim(photo, revealed)[0]
    # modulo-v1 on the same song and photo: one centre crop in the loudest window
    for f in (stego, revealed):
        f.unlink()
    v1 = ["--model", "pixinwav-modulo-v1", "--key", KEY, "--offset", "auto"]
    run(["hide", "--image", str(photo), "--cover", str(song), "-o", str(stego), *v1], log)
    run(["reveal", str(stego), "-o", str(revealed), *v1], log)
    row["v1_ssim"] = photo_ssim(photo, revealed, crop=256)[0]
    row["v1_pixel_share"] = 256 * 256 / _pixels(photo)
    return row


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def p10(values: list[float]) -> float:
    return float(np.percentile(values, 10))


def table(rows: list[dict], title: str) -> list[str]:
    lines = [f"### {title}", "",
             "| music | songs | photo MP (median) | SSIM median | SSIM p10 | after trim + paste, median | SNR dB median "
             "| tiles median | s of music used | hide s | reveal s | peak MiB | v1 SSIM (its 256 crop) | v1 share of the "
             "photo's pixels |", "|" + "---|" * 14]
    groups = {s: [r for r in rows if r["source"] == s] for s in SOURCES}
    groups["all"] = rows
    for name, group in groups.items():
        if not group:
            continue
        med = lambda k: statistics.median(r[k] for r in group)  # noqa: E731
        lines.append(f"| {name} | {len(group)} | {med('megapixels'):.2f} | {med('ssim'):.3f} | "
                     f"{p10([r['ssim'] for r in group]):.3f} | {med('ssim_moved'):.3f} | {med('snr_db'):.1f} | "
                     f"{med('tiles'):.0f} | {med('seconds_used'):.1f} | {med('hide_s'):.2f} | {med('reveal_s'):.2f} | "
                     f"{max(max(r['hide_mib'], r['reveal_mib']) for r in group):.0f} | {med('v1_ssim'):.3f} | "
                     f"{100 * med('v1_pixel_share'):.1f} % |")
    scaled = sum(r["scaled"] for r in rows)
    warned = sum(r["warned"] for r in rows)
    lines += ["", f"{scaled} of {len(rows)} photos were sent smaller than their own size (the song had too little "
              f"room, or the photo is over the model's longest side; `hide` said so); {warned} reveals warned of damage."]
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/debian", type=Path)
    ap.add_argument("--songs", type=int, default=5, help="songs per source")
    ap.add_argument("--out", default="benchmarks/results/song.md", type=Path, help="the table; its rows in .csv")
    ap.add_argument("--resume", action="store_true", help="keep the rows of the .csv an interrupted run wrote")
    ap.add_argument("--model", default="pixinwav-modulo-v2", help="a whole-song model that takes a photo")
    args = ap.parse_args(argv)
    chosen = songs(args.data, args.songs)
    small, large = photos(args.data)
    table_csv = args.out.with_suffix(".csv")
    rows = []
    if args.resume and table_csv.exists():  # the rows an interrupted run finished
        with open(table_csv, newline="") as fh:
            rows = [{k: (v == "True" if v in ("True", "False") else _number(v)) for k, v in r.items()}
                    for r in csv.DictReader(fh)]
    done = {(r["song"], r["photo"]) for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        flat = [(s, song) for s in SOURCES for song in chosen[s]]
        for i, (source, song) in enumerate(flat):
            other = flat[(i + 1) % len(flat)][1]
            for group, pool in (("large", large), ("small", small)):
                photo = pool[i % len(pool)]
                if (song.name.split("__")[-1], photo.name.split("__")[-1]) in done:
                    continue
                row = measure(song, photo, other, work, args.model) | {"source": source, "group": group}
                rows.append(row)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                with open(table_csv, "a" if table_csv.exists() and len(rows) > 1 else "w", newline="") as fh:
                    writer = csv.DictWriter(fh, list(row))
                    if fh.tell() == 0:
                        writer.writeheader()
                    writer.writerow(row)
                print(f"{source:18s} {row['song'][:28]:28s} {row['photo'][:22]:22s} {row['size']:>10s} SSIM "
                      f"{row['ssim']:.3f} (moved {row['ssim_moved']:.3f}; v1 {row['v1_ssim']:.3f}) SNR "
                      f"{row['snr_db']:.1f} dB hide {row['hide_s']:.1f} s reveal {row['reveal_s']:.1f} s", flush=True)
    model = "" if args.model == "pixinwav-modulo-v2" else f" --model {args.model}"
    lines = [f"# {args.model}: whole songs, photos at their own size", "",
             f"`python benchmarks/song.py --songs {args.songs}{model}`: whole validation songs of 2-4 minutes (their OGG files "
             "as covers), hidden with the CLI and revealed from the 16-bit WAV it wrote, key set; SSIM against the "
             "original at the size sent. 'After trim + paste': the stego's first 0.37 s cut off and 5 s of another "
             "song pasted before it, revealed with no offset. Times and memory are the CLI processes' own "
             "(start-up and OGG decoding included). v1: `pixinwav-modulo-v1 --offset auto` on the same song and "
             "photo (SSIM against the 256 x 256 centre crop it sends).", ""]
    lines += table([r for r in rows if r["group"] == "large"], "Photos of 1 MP and more (retina, mate-backgrounds)")
    lines += [""] + table([r for r in rows if r["group"] == "small"], "Validation photos under 1 MP (scikit-image, "
                                                                        "matplotlib)")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
