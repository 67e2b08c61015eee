"""The robust song model on whole songs, per source of music: hide a photo at its own aspect ratio (the API's
path, as `pixinwav hide` does), write the 16-bit WAV, pass it through an attack, reveal it as `pixinwav reveal`
does, and count what came back: the sharp image (exact bytes, SSIM against the photo at the sent size), only the
coarse base image (with its warning; SSIM the same way), or nothing. Also the audio: SNR, the share of STFT
cells where the change is louder than the cover against MP3 128's own coding noise on the same songs, ViSQOL.

Tune on the training music (``--split train``), report on validation music (``--split val``, four sources):

    pixinwav data fetch --dest data/debian
    python benchmarks/robust_song.py --split val --per-source 3 [--model pixinwav-robust-v2] [--sources a,b]
    # or two processes over halves of the sources, then one table:
    python benchmarks/robust_song.py --split val --sources drascula-music,freedroidrpg-data --out /tmp/a &
    python benchmarks/robust_song.py --split val --sources supertux-data,warmux-data --out /tmp/b
    python benchmarks/robust_song.py --split val --merge /tmp/a.json /tmp/b.json

The change level against what survives (a design experiment: the receiver must know the level, so each is
another model): runs at several ``--change-db``, then one table and a plot:

    python benchmarks/robust_song.py --model pixinwav-robust-v4 --split train --change-db -9 --out /tmp/c9 ...
    python benchmarks/robust_song.py --model pixinwav-robust-v4 --split train --curve 12=/tmp/c12.json 9=/tmp/c9.json

Writes ``benchmarks/results/<model>_<split>.md`` and ``.json`` (``--out`` to change). ``--model pixinwav-robust-v1``
measures v1 the same way (its 256 x 256 crop, one copy per 30 s), side by side.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

from pixinwav import metrics
from pixinwav.api import load_model
from pixinwav.attacks import apply, describe
from pixinwav.config import model_with
from pixinwav.errors import PixinwavError
from pixinwav.models import robust, robust_song
from pixinwav.robust import stdm
from pixinwav.data.audio import Audio
from pixinwav.evaluate import through_file
from pixinwav.identify import identify
from pixinwav.attacks import parse_attacks
from pixinwav.tiles import scaled

ATTACK_LIST = [("none", 0), ("mp3", 128), ("aac", 128), ("vorbis", 128), ("opus", 64), ("resample", 22050),
               ("white_noise", 30), ("trim_start", 1.0), ("excerpt", 30), ("aac", 64), ("mp3", 64), ("opus", 32),
               ("speed", 1.0), ("speed", -1.0), ("speed", 2.0), ("speed", -2.0), ("tempo", 1.0), ("tempo", -1.0),
               ("tempo", 2.0), ("tempo", -2.0), ("over_the_air", 30),
               ("speed:1+mp3:128", 0), ("tempo:-1+aac:128", 0)]  # a sped-up or stretched upload, re-encoded
MIN_SONG, MAX_SONG = 120.0, 240.0  # whole songs of 2-4 minutes (a longer one is cut at 4 minutes)


def with_ending(out: Path, ending: str) -> Path:
    """``out`` plus ``.md`` / ``.json``: a name with dots in it (``--out /tmp/rate_0.225``) keeps them."""
    return out.with_name(out.name + ending)


def songs(folder: Path, count: int) -> list[Path]:
    """Up to ``count`` files of 2-4 minutes (else the longest, cut later), spread over the folder's sorted list."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".ogg", ".opus", ".flac", ".wav", ".mp3"))
    durations = {p: sf.info(str(p)).duration for p in files}
    fitting = [p for p in files if MIN_SONG <= durations[p] <= MAX_SONG]
    pool = fitting if len(fitting) >= count else sorted(files, key=lambda p: -durations[p])[: max(count, len(fitting))]
    pick = np.linspace(0, len(pool) - 1, min(count, len(pool))).round().astype(int)
    return [pool[i] for i in sorted(set(pick))]


def song_arguments(p: argparse.ArgumentParser) -> None:
    """The options every whole-song robust benchmark takes: the model, and which songs of which split."""
    p.add_argument("--model", default="pixinwav-robust-v2")
    p.add_argument("--data", default="data/debian")
    p.add_argument("--split", default="val", choices=["train", "val"])
    p.add_argument("--per-source", type=int, default=3)
    p.add_argument("--sources", default=None, help="comma-separated source folders (default: all of the split)")


def numbering_z_of_clean(model, files: list[Path], count: int, seconds: float = 60.0, seed: int = 0) -> np.ndarray:
    """The z-score a receiver's last resort (``RobustChannel.locate``: the keyed frame numbering along the grid the
    alignment found) reaches on the clean windows ``clean_false_found`` reveals on (the same seed, the same windows)."""
    from pixinwav.data.audio import resample
    from pixinwav.evaluate_attacks import clean_windows
    from pixinwav.robust import alignment

    scheme, out = model.model, []
    lattice = scheme.lattice(None)
    for audio, rate in clean_windows(files, count, seconds, seed):
        wave = resample(audio.mean(1), rate, scheme.cfg.sample_rate).astype(np.float64)
        shift, _ = alignment.align(wave, lattice, scheme.hop)
        out.append(alignment.numbering_z(scheme.frames_at(wave, shift, None)[:, scheme.numbering_group], None))
    return np.array(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    song_arguments(p)
    p.add_argument("--attacks", default=None, help="NAME:STRENGTH,... (default: the list in this file); a chain "
                   "NAME:STRENGTH+NAME:STRENGTH runs its steps in turn (speed:1+mp3:128)")
    p.add_argument("--seconds", type=float, default=None, help="hide --seconds: music per copy (default: the model's)")
    p.add_argument("--survive", default=None, help="hide --survive: attacks the sender reads its stego back through")
    p.add_argument("--code-rate", type=float, default=None,
                   help="design experiment: robust-v2 with this LDPC code rate (not a released model: its files need it)")
    p.add_argument("--redundancy", type=float, default=None, help="design experiment: copies of each packet")
    p.add_argument("--code", choices=["regular", "irregular"], default=None,
                   help="design experiment: the packets' LDPC construction (model.robust.code)")
    p.add_argument("--layer-codec", choices=["avif-webp", "bare-av1"], default=None,
                   help="design experiment: the photo layers' codec (robust/layers.py)")
    p.add_argument("--base-packets", type=int, default=None, help="design experiment: the base image's packets")
    p.add_argument("--change-db", type=float, default=None,
                   help="design experiment: the change per coefficient under the song's local level (model.robust."
                        "change_db; the receiver must know it: another value is another model)")
    p.add_argument("--neighbours", default=None, metavar="FRAMES,GROUPS",
                   help="receiver experiment: the neighbourhood (each side) over which the receiver of a file read on "
                        "one frame grid measures each bit's noise (default: robust/stdm.py's GRID_NEIGHBOURS)")
    p.add_argument("--recalibration-passes", type=int, default=None, metavar="N",
                   help="receiver experiment: times the packets that failed are decoded again with each group's "
                        "ratios re-weighed by the decoded ones (0: never; default: models/robust_song.py's "
                        "RECALIBRATION_PASSES)")
    p.add_argument("--identify", action="store_true",
                   help="reveal as `pixinwav reveal` without --model does: the model its marks name (the table counts "
                        "the songs read by another)")
    p.add_argument("--visqol", action="store_true", help="ViSQOL on the first 20 s of each stego (slow)")
    p.add_argument("--out", default=None)
    p.add_argument("--clean", type=int, default=0, metavar="N",
                   help="no run: reveal on N clean 60 s windows of the split's music and count false finds")
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                   help="no run: join the JSON of runs over different --sources or --attacks into one table (--out)")
    p.add_argument("--curve", nargs="+", default=None, metavar="DB=JSON",
                   help="no run: runs at different --change-db side by side (DB: how far under the local level, 12 for "
                        "-12), one row per level, and a plot of the sharp photo's share through each codec against the "
                        "cells louder than the cover (--out)")
    args = p.parse_args()
    if args.curve:
        out = Path(args.out or Path(__file__).parent / "results" / f"{args.model}_{args.split}_change_curve")
        print(change_curve({-abs(float(pair.split("=", 1)[0])): json.loads(Path(pair.split("=", 1)[1]).read_text())
                            for pair in args.curve}, out))
        return
    if args.clean:
        from pixinwav.evaluate_attacks import clean_false_found

        files = sorted((Path(args.data) / f"{args.split}_audio").rglob("*.ogg"))
        model = designed(load_model(args.model), args)
        found, count = clean_false_found(model, files, args.clean, 60.0, progress=False)
        level = f" at {args.change_db:g} dB" if args.change_db else ""
        print(f"{args.model}{level}: an image was \"found\" in {found} of {count} clean 60 s windows of the "
              f"{args.split} music")
        z = numbering_z_of_clean(model, files, args.clean)
        print(f"the keyed frame numbering at the best grid of clean windows (a grid counts from "
              f"{robust.NUMBERED_Z:g}): median {np.median(z):.2f}, 99th percentile {np.percentile(z, 99):.2f}, "
              f"highest {z.max():.2f} standard errors over chance, of {len(z)} windows")
        return
    if args.merge:
        runs = [json.loads(Path(f).read_text()) for f in args.merge]
        rows, audio = [r for run in runs for r in run["rows"]], {}
        for a in (a for run in runs for a in run["audio"]):  # runs of other attacks on the same songs: each song once,
            known = audio.get((a["source"], a["song"]))  # with its ViSQOL where a run measured it
            if known is None or (not np.isfinite(known["visqol"]) and np.isfinite(a["visqol"])):
                audio[a["source"], a["song"]] = a
        audio_rows = list(audio.values())
        refused = [r for run in runs for r in run.get("refused", [])]
        sources = list(dict.fromkeys(a["source"] for a in audio_rows))
        attacks = list(dict.fromkeys((r["attack"], r["strength"]) for r in rows))
        out = Path(args.out or Path(__file__).parent / "results" / f"{args.model}_{args.split}")
        with_ending(out, ".json").write_text(json.dumps({"rows": rows, "audio": audio_rows, "refused": refused}, indent=1))
        with_ending(out, ".md").write_text(summary(rows, audio_rows, sources, attacks, refused) + "\n")
        print(with_ending(out, ".md").read_text())
        return

    model = designed(load_model(args.model), args)
    if args.neighbours:
        stdm.GRID_NEIGHBOURS = tuple(int(x) for x in args.neighbours.split(","))
    if args.recalibration_passes is not None:
        robust_song.RECALIBRATION_PASSES = args.recalibration_passes
    root = Path(args.data) / f"{args.split}_audio"
    everything = sorted(d.name for d in root.iterdir() if d.is_dir())
    sources = args.sources.split(",") if args.sources else everything
    attacks = ATTACK_LIST if not args.attacks else parse_attacks(args.attacks)
    photos = sorted((Path(args.data) / "val_images").rglob("*.*"))
    out = Path(args.out or Path(__file__).parent / "results" / f"{args.model}_{args.split}")
    rows, audio_rows, refused = [], [], []
    tmp = Path("/tmp") / f"pixinwav-robust-song-{time.time_ns()}"
    tmp.mkdir()
    for source in sources:
        for n, path in enumerate(songs(root / source, args.per_source)):
            cover, rate = sf.read(str(path), dtype="float32", always_2d=True)
            cover = cover[: int(MAX_SONG * rate)]
            # each song its own photo, in turn (the same song gets the same photo whichever --sources are run)
            photo_path = photos[(everything.index(source) * args.per_source + n) % len(photos)]
            start = time.perf_counter()
            try:
                stego, report = model.hide(photo_path, cover, rate, seconds=args.seconds, survive=args.survive)
            except PixinwavError as exc:
                print(f"{source}/{path.name}: hide refused: {exc}")
                refused.append({"source": source, "song": path.name, "reason": str(exc)})
                continue
            hide_s = time.perf_counter() - start
            stego = through_file(stego, rate, tmp / "stego.wav")
            sent = report.payload
            # the photo as hide read it (v1: its 256 x 256 centre crop), at the size it was sent
            reference = scaled(model.prepare_image(photo_path), sent.width, sent.height)
            codec_noise, _ = apply("mp3", cover, rate, 128)
            m = min(len(codec_noise), len(cover))
            audio_rows.append({"source": source, "song": path.name, "seconds": len(cover) / rate,
                               "photo": photo_path.name, "sent": f"{sent.width} x {sent.height}",
                               "sharp_bytes": sent.bytes, "snr": report.snr_db,
                               "louder": metrics.louder_cells(cover, stego, rate),
                               "mp3_louder": metrics.louder_cells(cover[:m], codec_noise[:m], rate),
                               "visqol": metrics.visqol_mos(cover[: 20 * rate].mean(1), stego[: 20 * rate].mean(1), rate)
                               if args.visqol else float("nan"), "hide_s": hide_s,
                               "checked": sent.survives, "at_risk": sent.at_risk})
            print(f"{source}/{path.name}: {len(cover) / rate:.0f} s, {photo_path.name} sent at {sent.width} x "
                  f"{sent.height} ({sent.bytes} bytes), SNR {report.snr_db:.1f} dB, hide {hide_s:.1f} s"
                  + (f", checked: it comes back after {sent.survives}" if sent.survives else "")
                  + (f", warned: {sent.at_risk}" if sent.at_risk else ""), flush=True)
            for attack, strength in attacks:
                attacked, attacked_rate = apply(attack, stego, rate, strength, seed=n)
                start, read_by = time.perf_counter(), None
                try:
                    if args.identify:
                        read_by = identify(Audio(attacked, attacked_rate), None)
                    found = (load_model(read_by) if read_by else model).reveal_payload(attacked, attacked_rate)
                    image = found.image
                    kind = "base" if found.damaged else "sharp"
                    if image.shape[1:] != reference.shape[1:]:
                        image = scaled(image, reference.shape[2], reference.shape[1])
                    score = float(metrics.ssim(image[None], reference[None])[0])
                except PixinwavError as exc:
                    kind, score, found = "none", 0.0, exc
                decoded = re.search(r"(\d+) of (\d+) packets decoded", str(getattr(found, "detail", found)))
                rows.append({"source": source, "song": path.name, "attack": attack, "strength": strength,
                             "came_back": kind, "ssim": score, "reveal_s": time.perf_counter() - start,
                             "read_by": read_by,
                             "packets": [int(decoded[1]), int(decoded[2])] if decoded else None})
                print(f"   {attack} {strength:g}: {kind} SSIM {score:.3f}", flush=True)
    table = summary(rows, audio_rows, sources, attacks, refused)
    with_ending(out, ".json").write_text(json.dumps({"rows": rows, "audio": audio_rows, "refused": refused}, indent=1))
    with_ending(out, ".md").write_text(table + "\n")
    print(table)


def designed(model, args):
    """``model`` with the design experiment's settings of ``args`` (another code, split between code and copies,
    layer codec, base size or change level), at both ends."""
    design = {k: v for k, v in (("code_rate", args.code_rate), ("redundancy", args.redundancy),
                                ("layer_codec", args.layer_codec), ("base_packets", args.base_packets),
                                ("code", args.code), ("change_db", args.change_db)) if v}
    if design:
        model.model.cfg = model_with(model.model.cfg, **design)
    return model


def change_curve(runs: dict[float, dict], out: Path) -> str:
    """Runs at several change levels (dB under the local level -> a run's JSON): a Markdown table, one row per
    level (sharp / any image back per attack, packets, the audio's SNR and cells louder than the cover), written
    to ``out`` + ``.md``, and a plot of each attack's sharp share against the louder cells to ``out`` + ``.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted(runs)
    attacks = list(dict.fromkeys((r["attack"], r["strength"]) for level in levels for r in runs[level]["rows"]))
    group = {(level, attack): [r for r in runs[level]["rows"] if (r["attack"], r["strength"]) == attack]
             for level in levels for attack in attacks}
    louder = {level: np.mean([a["louder"] for a in runs[level]["audio"]]) * 100 for level in levels}
    mp3 = np.mean([a["mp3_louder"] for level in levels for a in runs[level]["audio"]])
    lines = [f"{len(runs[levels[0]]['audio'])} whole songs per level; per attack: sharp photo back / any image back / "
             "songs, packets decoded; audio: mean SNR and share of STFT cells where the change is louder than the "
             f"cover (MP3 128's own coding noise on the same songs: {mp3 * 100:.1f} %)", "",
             "| change dB | " + " | ".join(describe(a, s) for a, s in attacks) + " | SNR dB | cells louder than cover |",
             "|---|" + "---|" * (len(attacks) + 2)]
    sharp = {key: sum(r["came_back"] == "sharp" for r in rows) for key, rows in group.items()}
    for level in levels:
        cells = []
        for attack in attacks:
            rows = group[level, attack]
            counted = [r["packets"] for r in rows if r.get("packets")]
            cells.append(f"{sharp[level, attack]}/{sum(r['came_back'] != 'none' for r in rows)}/{len(rows)}, "
                         f"{sum(c[0] for c in counted)} of {sum(c[1] for c in counted)}" if rows else "-")
        lines.append(f"| {level:g} | " + " | ".join(cells) + f" | {np.mean([a['snr'] for a in runs[level]['audio']]):.1f}"
                     f" | {louder[level]:.1f} % |")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for attack in attacks:
        measured = [level for level in levels if group[level, attack]]
        ax.plot([louder[level] for level in measured],
                [100 * sharp[level, attack] / len(group[level, attack]) for level in measured], "o-",
                label=describe(*attack))
    for level in levels:
        ax.annotate(f"{level:g} dB", (louder[level], 2), ha="center", fontsize=8, color="0.4")
    ax.axvline(mp3 * 100, color="0.6", linestyle="--", label="MP3 128's own coding noise")
    ax.set_xlabel("STFT cells where the change is louder than the cover (%)")
    ax.set_ylabel("songs whose sharp photo came back (%)")
    ax.set_ylim(-5, 105)
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(with_ending(out, ".png"), dpi=110)
    plt.close(fig)
    with_ending(out, ".md").write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def summary(rows: list[dict], audio_rows: list[dict], sources: list[str], attacks: list,
            refused: list[dict] = ()) -> str:
    seconds = [a["seconds"] for a in audio_rows] or [0.0]
    lines = [f"{len(audio_rows)} whole songs ({min(seconds) / 60:.1f}-{max(seconds) / 60:.1f} min) of {len(sources)} "
             "sources; per cell: sharp image back / any "
             "image back (the base alone, with its warning) / median SSIM against the photo at the sent size, "
             "nothing back = 0", ""]
    if refused:  # (hide --survive refuses a song whose photo does not come back: not in the table, said here)
        lines += [f"hide refused {len(refused)} more songs:", *(f"- {r['source']}/{r['song']}: {r['reason']}"
                                                               for r in refused), ""]
    lines += ["| attack | " + " | ".join(sources) + " | all | packets decoded (all songs) |",
              "|---|" + "---|" * (len(sources) + 2)]
    for attack, strength in attacks:
        cells = []
        for source in [*sources, None]:
            group = [r for r in rows if r["attack"] == attack and r["strength"] == strength
                     and (source is None or r["source"] == source)]
            if not group:
                cells.append("-")
                continue
            sharp = sum(r["came_back"] == "sharp" for r in group)
            some = sum(r["came_back"] != "none" for r in group)
            cells.append(f"{sharp}/{some}/{len(group)} {np.median([r['ssim'] for r in group]):.2f}")
        counted = [r["packets"] for r in rows if r["attack"] == attack and r["strength"] == strength and r.get("packets")]
        packets = f"{sum(c[0] for c in counted)} of {sum(c[1] for c in counted)}" if counted else "-"
        lines.append(f"| {describe(attack, strength)} | " + " | ".join(cells) + f" | {packets} |")
    checks = [a for a in audio_rows if a.get("checked") or a.get("at_risk")]
    if checks:  # (hide's own read-back, or --survive's)
        shrunk = [a for a in checks if "tries)" in (a.get("checked") or "")]
        warned = [a for a in checks if a.get("at_risk")]
        lines += [f"hide read each stego back through its check (hide's own, or --survive's): "
                  f"{len(checks) - len(shrunk) - len(warned)} photos came back as first made, {len(shrunk)} were made "
                  f"smaller first"
                  + "".join(f" ({a['source']}/{a['song']}: {a['checked']})" for a in shrunk)
                  + f", {len(warned)} were sent with a warning" + "".join(f" ({a['source']}/{a['song']})" for a in warned), ""]
    readers = Counter(r["read_by"] for r in rows if r.get("read_by"))
    if readers:  # (--identify)
        lines += ["", "Revealed without --model (as `pixinwav reveal` does): read by " +
                  ", ".join(f"{name} in {n} of {len(rows)}" for name, n in readers.most_common())]
    lines += ["", "| source | songs | sent (median) | sharp bytes (median) | audio SNR dB | cells louder than cover | "
              "MP3 128's own | ViSQOL | hide s | reveal s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for source in [*sources, None]:
        group = [a for a in audio_rows if source is None or a["source"] == source]
        reveal = [r["reveal_s"] for r in rows if (source is None or r["source"] == source) and r["attack"] == "none"]
        if not group:
            continue
        sizes = sorted(group, key=lambda a: a["sharp_bytes"])[len(group) // 2]
        visqol = [a["visqol"] for a in group if np.isfinite(a["visqol"])]
        lines.append(f"| {source or 'all'} | {len(group)} | {sizes['sent']} | "
                     f"{np.median([a['sharp_bytes'] for a in group]):.0f} | {np.mean([a['snr'] for a in group]):.1f} | "
                     f"{np.mean([a['louder'] for a in group]) * 100:.1f} % | "
                     f"{np.mean([a['mp3_louder'] for a in group]) * 100:.1f} % | "
                     f"{np.mean(visqol) if visqol else float('nan'):.2f} | {np.median([a['hide_s'] for a in group]):.1f} | "
                     f"{np.median(reveal) if reveal else float('nan'):.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
