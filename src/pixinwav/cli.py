"""``pixinwav`` command line: a thin layer over the library. Errors print one line and exit with 1."""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import unicodedata
from pathlib import Path

from . import __version__
from .allocator import one_heap
from .errors import NotFound, PixinwavError


def _offset(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected seconds (a finite number) or 'auto', got {text!r}")
    return value


def _key(args) -> str | None:
    """--key, else the PIXINWAV_KEY environment variable (keeps the key out of the process list; empty counts as
    unset), else none. Normalised to Unicode NFC, so the same passphrase typed on any system is the same key."""
    key = args.key if args.key is not None else (os.environ.get("PIXINWAV_KEY") or None)
    return None if key is None else unicodedata.normalize("NFC", key)


def _model_arg(p: argparse.ArgumentParser, offset_help: str) -> None:
    p.add_argument("--model", default=None, help="shipped model name or a .safetensors file (default: the shipped default)")
    p.add_argument("--offset", type=_offset, default=0.0, help=offset_help)
    p.add_argument("--key", default=None, help="secret: without it the image cannot be revealed or even detected "
                   "(default: $PIXINWAV_KEY if set, else no key); every shipped model but pixinwav-small-v0")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")


def cmd_hide(args) -> None:
    from .data.images import LONGEST_SENT_SIDE, open_image
    from .files import check_output

    secret = args.image if args.image is not None else args.file
    out = check_output(args.output, args.force, (secret, args.cover))  # before the slow work
    if args.file is not None:
        from . import hidden_file

        image, file = None, hidden_file.read(args.file, pack=args.pack)
    else:  # The photo is decoded (and a large one reduced) before the model and its libraries (torch for the
        # U-Nets) are loaded: the two peaks never add up. It
        # is reduced to no less than a song model sends (a window model crops and scales it further).
        image, file = open_image(args.image, long_side=LONGEST_SENT_SIDE), None
    from .api import load_model
    from .data.audio import output_format

    output_format(out, args.format)
    model = load_model(args.model)
    if file is not None and not model.model.carries_files:
        raise PixinwavError("--file needs a model that carries files: --model pixinwav-adaptive-v5, v4 or v3, "
                            "pixinwav-modulo-v2, pixinwav-robust-v5, v4, v3 or v2")
    options = {name: getattr(args, name) for name in ("offset", "seconds", "quality", "max_side", "survive")}
    report, facts = model.hide_path(image if file is None else file, args.cover, out, key=_key(args), force=args.force,
                                    fmt=args.format, **options)
    a, b = report.window
    print(f"hid {secret} in {args.cover} [{a:.6f}-{b:.6f} s] -> {out} "
          f"({facts['rate']} Hz, {facts['channels']} ch, {facts['seconds']:.2f} s, 16-bit)")
    if report.payload is not None:
        print(f"payload: {report.payload.describe()}")
    print(f"container SNR vs cover: {report.snr_db:.2f} dB over the hidden window, {report.snr_file_db:.2f} dB over the file")
    if report.expected_ssim is not None:  # the sender read its own stego as the receiver will
        sent = f", an {model.cfg.image_codec.upper()} file of {report.image_bytes} bytes" if report.image_bytes else ""
        print(f"the receiver will reveal the image at SSIM {report.expected_ssim:.3f} (read back from the stego{sent})")
    for note in report.notes:
        print(note)
    for warning in report.warnings():
        print(f"pixinwav: warning: {warning}", file=sys.stderr)


def cmd_reveal(args) -> None:
    from .api import load_model
    from .files import check_output

    out = check_output(args.output, args.force, (args.stego,))
    if args.model is not None:
        _reveal(load_model(args.model), args, out)
        return
    from .data.audio import read_audio
    from .identify import identify
    from .loader import DEFAULT_MODEL

    audio = read_audio(args.stego)  # no --model: the model whose marks the file carries
    name = identify(audio, _key(args), args.offset)
    if name != DEFAULT_MODEL:
        print(f"the file carries {name}'s marks: revealing with it (pass --model {name} to go there directly)",
              file=sys.stderr)
    try:
        _reveal(load_model(name), args, out, audio)
    except NotFound as exc:
        if exc.lost:
            raise
        if name != DEFAULT_MODEL:  # (a clean 2.4-minute song matched robust-v2's frame grid, then read nothing)
            raise NotFound(f"{exc} ({name}'s marks matched, but plain audio can match them by chance)") from None
        raise NotFound("no hidden image found: no shipped model's marks are in this file (plain audio, another "
                            "--key, or a file changed after hiding; a model of your own: pass --model)") from None


def _reveal(model, args, out: Path, audio=None) -> None:
    """Reveal with ``model`` and write what it finds to ``out`` (``audio``: the stego already read, if it was)."""
    from .data.images import image_format, save_image

    if not model.model.carries_files and args.model is not None:  # an image it will be: a format Pillow cannot
        image_format(out, "RGB" if model.cfg.image_channels == 3 else "L")  # write fails now, not after the work
    revealed = model.reveal_path(args.stego, args.offset, check=args.check, key=_key(args), audio=audio)
    if revealed.file is not None:  # the exact bytes, whatever the output is called
        from .files import atomic_write

        file = revealed.file
        atomic_write(out, lambda tmp: Path(tmp).write_bytes(file.data), args.force)
        if args.json:
            _print_revealed(model, out, revealed, name=file.name, bytes=len(file.data), packing=file.packed[0],
                            sent_bytes=file.sent_bytes)
        else:
            packed = f"; {file.packing_said()}" if file.packing_said() else ""
            print(f"revealed the file {file.name or '(unnamed)'} ({len(file.data):,} bytes{packed}) from {args.stego} -> "
                  f"{out} ({revealed.detail})")
        if Path(file.name).suffix.lower() != out.suffix.lower():
            print(f"pixinwav: warning: the hidden file was named {file.safe_name()!r}; its bytes were written "
                  f"unchanged to {out}", file=sys.stderr)
        return
    save_image(out, revealed.image, force=args.force)
    if args.json:
        _print_revealed(model, out, revealed, width=int(revealed.image.shape[2]), height=int(revealed.image.shape[1]))
    else:
        print(f"revealed {tuple(revealed.image.shape[1:])} image from {args.stego} -> {out} ({revealed.detail})")
    if revealed.damaged:
        print(f"pixinwav: {revealed.line()}", file=sys.stderr)


def _print_revealed(model, out: Path, revealed, **facts) -> None:
    """``reveal --json``: what was written, for scripts (the verdict as a word, never to be read from the detail)."""
    print(json.dumps({"model": model.card.get("name") or model.source, "output": str(out),
                      "kind": "file" if revealed.file is not None else "image", "verdict": revealed.verdict,
                      "detail": revealed.detail, **facts}))


def cmd_train(args) -> None:
    from .config import load_config
    from .train import fit

    cfg = load_config(args.config, args.overrides)
    world = int(os.environ.get("WORLD_SIZE", "1"))  # set by torchrun
    rank = int(os.environ.get("RANK", "0"))
    distributed = "LOCAL_RANK" in os.environ  # launched by torchrun, even with one process
    device = None
    if distributed:
        import torch
        import torch.distributed as dist

        local = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = cfg.train.device.startswith("cuda")
        if use_cuda:
            torch.cuda.set_device(local)
            device = f"cuda:{local}"
        dist.init_process_group("nccl" if use_cuda else "gloo")
    try:
        summary = fit(cfg, resume=args.resume, rank=rank, world=world, progress=not args.quiet, device=device)
    finally:
        if distributed:
            import torch.distributed as dist
            dist.destroy_process_group()
    if rank == 0 and summary.get("statistics_only"):
        done = "measured the model's statistics" if summary["model"].measures_statistics else "nothing to learn"
        print(f"nothing to train by gradient: {done}; wrote {cfg.train.out_dir}/model.safetensors")
    elif rank == 0:
        print(f"trained to step {summary['step']}; run folder {cfg.train.out_dir}; "
              f"last loss {summary['last'].get('loss', float('nan')):.5f}")


def cmd_eval_attacks(args) -> None:
    import csv

    from . import evaluate_attacks as ea
    from .attacks import parse_attacks
    from .api import load_model
    from .baselines import BASELINES, Baseline
    from .data.audio import AUDIO_EXTENSIONS
    from .data.datasets import find_files
    from .data.images import IMAGE_EXTENSIONS
    from .evaluate import cover_clips, measure
    from .files import atomic_write, check_output

    attacks = parse_attacks(args.attacks)
    for path in (args.output, args.figure, args.report):
        if path:
            check_output(path, args.force)
    names = args.models.split(",")
    models = {name: Baseline(name) if name in BASELINES else load_model(name) for name in names}
    images = find_files(args.images, IMAGE_EXTENSIONS, "image")
    covers = cover_clips(args.audio, args.n, args.seconds, args.seed, whole=args.whole_songs)
    images = [images[i % len(images)] for i in range(len(covers))]
    rows = measure(models, images, covers, attacks, offset="auto", visqol=args.visqol, progress=not args.quiet,
                   payload_seconds=args.payload_seconds).rows
    table = ea.summary(rows)
    what = f"whole songs of {args.seconds:g} s or more" if args.whole_songs else f"covers of {args.seconds:g} s"
    lines = [f"{len(covers)} {what} (seed {args.seed}), each stego through a 16-bit WAV, then the "
             "attack, then reveal as the CLI does", "", ea.markdown(table)]
    per_source = ea.by_source(rows)
    if per_source:
        lines += ["", "Per source of music (the covers' folders under --audio): recovered / files, median SSIM "
                  "(failed = 0)", "", per_source]
    if not args.whole_songs:  # (whole songs are read one at a time, not kept)
        lines += ["", f"For scale: MP3 128 kbit/s's own coding noise is louder than the cover in "
                      f"{100 * ea.codec_louder_cells(covers):.1f} % of the same STFT cells."]
    if args.clean:  # windows drawn at random from the tracks (no image in them)
        clean = find_files(args.audio, AUDIO_EXTENSIONS, "audio")
        lines.append("")
        for name in names:
            found, count = ea.clean_false_found(models[name], clean, args.clean, args.clean_seconds, args.seed,
                                                not args.quiet)
            lines.append(f"{name}: an image was \"found\" in {found} of {count} clean {args.clean_seconds:g} s windows "
                         f"({100 * found / count:.1f} %)")
    text = "\n".join(lines)
    print(text)
    if args.output:
        def write(tmp):
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        atomic_write(Path(args.output), write, args.force)
    if args.report:
        atomic_write(Path(args.report), lambda tmp: Path(tmp).write_text(text + "\n"), args.force)
    if args.figure:
        atomic_write(Path(args.figure), lambda tmp: ea.figure(tmp, table), args.force)


def cmd_eval(args) -> None:
    import csv

    import numpy as np

    if args.n < 1:
        raise PixinwavError(f"--n must be at least 1, got {args.n}")
    if args.attacks:
        return cmd_eval_attacks(args)

    from .api import load_model
    from .data.datasets import find_files
    from .data.images import IMAGE_EXTENSIONS
    from .evaluate import cover_clips, measure, metric_rows, summarise
    from .files import atomic_write, check_output

    for path in (args.output, args.figure):
        if path:
            check_output(path, args.force)
    model = load_model(args.model)
    whole = model.model.full_image  # the photo at its own size in the whole song: measured on whole songs
    seconds = model.placement.eval_seconds
    covers = cover_clips(args.audio, args.n, seconds, args.seed, whole=whole)
    images = find_files(args.images, IMAGE_EXTENSIONS, "image")
    images = [images[i] for i in np.random.default_rng(args.seed).permutation(len(images))[: len(covers)]]
    covers = covers[: len(images)]
    name = model.card.get("name", model.source)
    # window models at 0.5 s into each clip (where a user would hide without searching), as in earlier releases
    measured = measure({name: model}, images, covers, offset=0.5, visqol=args.visqol, progress=not args.quiet,
                       keep=bool(args.figure))
    rows = measured.rows
    if args.output:
        def write(tmp):
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, list(rows[0]))
                w.writeheader()
                w.writerows(rows)

        atomic_write(Path(args.output), write, args.force)
    if args.figure:
        from .figures import pairs_figure

        secrets = [model.prepare_image(p) for p in images]
        revealed = [r if r is not None else s * 0 for r, s in zip(measured.revealed, secrets)]  # nothing: black
        labels = [f"SSIM {r['image/ssim']:.3f}, {r['image/psnr']:.1f} dB" if r["recovered"] or r["warned"]
                  else "nothing revealed" for r in rows]
        title = f"{model.card.get('name', model.source)}: each pair through a 16-bit WAV (seed {args.seed})"
        atomic_write(Path(args.figure), lambda tmp: pairs_figure(tmp, secrets, revealed, labels, title), args.force)
    metrics_only = metric_rows(measured)
    summary = summarise(metrics_only, ("mean", "median", "p10"))
    recovered, warned = sum(r["recovered"] for r in rows), sum(r["warned"] for r in rows)
    print(f"{len(rows)} image/cover pairs (seed {args.seed}), each hidden and revealed as the CLI does (covers at their "
          f"own rate, the stego through a 16-bit WAV file); model {model.source}"
          + ("; whole songs, photos at their own size, SSIM against the photo at the size sent" if whole else ""))
    print("| metric | mean | median | 10th percentile |\n|---|---|---|---|")
    for key in metrics_only[0]:
        print(f"| {key} | {summary[key]:.4f} | {summary[key + '/median']:.4f} | {summary[key + '/p10']:.4f} |")
    print(f"revealed intact: {recovered} of {len(rows)}"
          + (f"; written with a damage warning: {warned}" if warned else "")
          + (f"; nothing revealed (SSIM counted as 0): {len(rows) - recovered - warned}"
             if recovered < len(rows) else ""))


def cmd_data_fetch(args) -> None:
    import csv

    from .data.fetch import fetch

    manifest = fetch(args.dest, args.cache, args.debs, args.only, progress=not args.quiet)
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    counts: dict[str, int] = {}
    for r in rows:
        counts[f"{r['split']} {r['kind']}"] = counts.get(f"{r['split']} {r['kind']}", 0) + 1
    print(f"{len(rows)} files under {args.dest} ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}); "
          f"manifest {manifest}")


def cmd_capacity(args) -> None:
    from .api import load_model
    from .data.audio import read_audio

    model = load_model(args.model)
    size, length, file = None, None, None
    if args.file is not None:  # packed as hide packs it: the song carries the bytes as sent
        from . import hidden_file

        file = hidden_file.read(args.file)
        length = file.sent_bytes
    if args.image is not None:
        from .data.images import open_image
        with open_image(args.image, long_side=model.model.max_side) as img:  # upright, as hide reads it
            size = img.size
    audio = read_audio(args.song)
    report = model.capacity(audio.samples, audio.sample_rate, size, length)
    if file is not None and file.packing_said():
        report["file_packing"] = {"bytes": len(file.data), "sent_bytes": file.sent_bytes, "packing": file.packed[0]}
        report["lines"].insert(0, f"the file {file.name} is {len(file.data):,} bytes, {file.packing_said()} (the "
                                  "numbers below are for those)")
    if args.json:
        print(json.dumps({"song": str(args.song), "model": model.card.get("name", model.source), **report}, indent=2))
        return
    print(f"{args.song}: {report['seconds']:.1f} s; model {model.card.get('name', model.source)}")
    for line in report["lines"]:
        print(f"  {line}")


def cmd_info(args) -> None:
    from .data.audio import AUDIO_EXTENSIONS
    from .loader import DEFAULT_MODEL, load_scheme, registry

    if args.path is None:  # the shipped models, one line each
        for name, entry in registry().items():
            print(f"{name}{' (default)' if name == DEFAULT_MODEL else ''}: {entry.get('summary', '')}")
        return
    path = Path(args.path)

    if not path.exists() and args.path not in registry() and path.suffix.lower() not in AUDIO_EXTENSIONS:
        raise PixinwavError(f"no shipped model and no file named {args.path} (shipped models: {', '.join(registry())})")
    if args.path in registry() or path.suffix == ".safetensors":
        from .checkpoint import read_file
        from .config import scheme_dict
        model, _, file = load_scheme(args.path)  # hash-checked for shipped models
        _, meta = read_file(file)
        params = model.parameter_count
        window = {"image": f"{model.cfg.image_size} x {model.cfg.image_size} x {model.cfg.image_channels}",
                  **model.geometry(),  # its window, or the song it fills
                  "sample_rate": model.cfg.sample_rate, "top_frequency_hz": round(model.top_frequency)}
        window.update(model.carries())  # (a model that sends the photo at its own size says how)
        # a release file's config as it loads: its scheme's own sections (whatever form the file holds them in)
        config = scheme_dict(model.cfg) if meta.get("kind") == "model" else meta.get("config")
        print(json.dumps({"file": str(file), "kind": meta.get("kind"), "parameters": params, "carries": window,
                          "config": config, "card": meta.get("card"),
                          **({"state": {k: v for k, v in meta["state"].items() if k != "param_groups"}}
                             if "state" in meta else {})}, indent=2))
        return
    from .data.audio import read_audio

    audio = read_audio(path)
    if audio.decoder == "libsndfile":
        import soundfile as sf

        info = sf.info(str(path))
        kind = {"format": info.format, "subtype": info.subtype}
    else:  # a container read through FFmpeg
        kind = {"format": path.suffix.lstrip(".").upper() or "?", "subtype": audio.decoder.split(" ", 1)[1].upper()}
    peak = float(abs(audio.samples).max())
    print(json.dumps({"file": str(path), **kind, "decoder": audio.decoder,
                      "sample_rate": audio.sample_rate, "channels": audio.channels,
                      "frames": int(audio.samples.shape[0]), "seconds": round(audio.duration, 3),
                      "peak": round(peak, 5), "silent": peak == 0.0}, indent=2))


def cmd_serve(args) -> None:
    try:
        from .server import serve
        import fastapi, multipart, uvicorn  # noqa: F401,E401 (the web extra)
    except ImportError:
        raise PixinwavError("the web page needs the web extra: pip install 'pixinwav[web]'") from None
    if args.max_upload_mb <= 0:
        raise PixinwavError(f"--max-upload-mb must be positive, got {args.max_upload_mb}")
    serve(args.host, args.port, args.max_upload_mb)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixinwav", description="Hide images inside real audio files and reveal them again.")
    parser.add_argument("--version", action="version", version=f"pixinwav {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("hide", help="hide an image (or any file) in an audio file, writing a 16-bit stego file")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", help="secret image (any format Pillow reads)")
    what.add_argument("--file", help="pixinwav-adaptive-v5 (the default), v4 and v3, modulo-v2 and robust-v2 to "
                      "v5: any file, hidden and revealed bit-exact (a photo's own JPEG, a PDF, an archive); `reveal` "
                      "writes its bytes")
    p.add_argument("--no-pack", dest="pack", action="store_false",
                   help="--file: send its bytes as they are. By default a JPEG is recompressed losslessly by JPEG XL "
                        "(about 15 %% smaller) and other files compressed by LZMA where that saves room; the receiver "
                        "gets the very bytes back either way, but receivers on pixinwav 0.2.24 or older read only "
                        "unpacked files")
    p.add_argument("--cover", required=True, help="cover audio (WAV, FLAC, OGG, Opus, MP3; any rate and channels)")
    p.add_argument("-o", "--output", required=True, help="stego file to write (.wav, or .flac)")
    p.add_argument("--format", choices=["wav", "flac"], default=None, help="output format (default: from the extension)")
    p.add_argument("--seconds", type=float, default=None,
                   help="robust models: music per copy of the payload (robust-v1: default 30; robust-v2: default the "
                        "song over 1.5; robust-v3, v4 and v5: the whole song); more seconds, a better image, less to spare for "
                        "damage. On 12 songs: robust-v2 --seconds 60 survives Opus 64 in all (SSIM 0.72), 40 also MP3 / "
                        "AAC 64 and Opus 32 in most (0.69); robust-v3 --seconds 60 Opus and MP3 64 in all, AAC 64 and "
                        "Opus 32 in 9 of 12 (0.69; robust-v4 the same at 256 px, 0.67)")
    p.add_argument("--survive", default=None, metavar="ATTACKS",
                   help="robust song models (robust-v2 to v5): read the stego back through these attacks before "
                        "writing it (as `pixinwav eval --attacks` names them: aac:64, opus:32, mp3:64, tempo:-1, ...; "
                        "FFmpeg's own encoders) and send a smaller photo until it comes back after each (a file that "
                        "does not is refused). Each try costs a codec round trip, a few seconds for a 3-minute song. "
                        "Without --survive a photo is read back through a 1 %% slower tempo (pitch kept), made smaller "
                        "once where it loses packets there, and sent with a warning where it still does; "
                        "--survive none skips that check")
    p.add_argument("--quality", type=int, default=None,
                   help="robust models: image codec quality 0-100 instead of the best that fits --seconds; "
                        "pixinwav-adaptive-v5 (the default), v4 and v3: the photo's AVIF quality (default 80)")
    p.add_argument("--max-side", type=int, default=None,
                   help="the whole-song models (the default, pixinwav-modulo-v2, -robust-v2 to v5): send the photo with its "
                        "long side at most this many pixels (default: its own size, up to 2048 for the default model, "
                        "4096 for modulo-v2, and what the song holds)")
    _model_arg(p, "window models (pixinwav-modulo-v1, adaptive-v1 / v2): where the image goes, in seconds (default "
                  "0), or 'auto': the loudest window on the 0.5 s grid; the whole-song models (the default "
                  "pixinwav-adaptive-v5, adaptive-v4 and v3, modulo-v2, robust-v1 to v5) fill the song and need none")
    p.set_defaults(func=cmd_hide)

    p = sub.add_parser("reveal", help="reveal the image (or file) hidden in a stego audio file")
    p.add_argument("stego", help="stego audio file")
    p.add_argument("-o", "--output", required=True,
                   help="image to write (.png); a hidden file (hide --file) is written there byte for byte")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="window models: write the image even when the pilots say none is hidden at this offset "
                        "(the robust model never writes an image that fails its CRC)")
    _model_arg(p, "window models: where the image lives, in seconds (default 0), or 'auto': the window the model's "
                  "pilots recognise on the 0.5 s grid (models without pilots cannot: give the offset hide printed); "
                  "whole-song models need none. Without --model, the model is read from the file's own marks")
    p.add_argument("--json", action="store_true",
                   help="print what was written as one JSON object (model, output, kind, verdict: exact / intact / "
                        "damaged / unchecked, detail, and the image's size or the file's name and bytes)")
    p.set_defaults(func=cmd_reveal)

    p = sub.add_parser("capacity", help="how large a photo a song carries, and how much of the song a photo needs")
    p.add_argument("song", help="cover audio file")
    p.add_argument("--model", default=None, help="shipped model name or a .safetensors file (default: the shipped default)")
    p.add_argument("--image", default=None, help="a photo: how many tiles and seconds it needs at its own size")
    p.add_argument("--file", default=None, help="a file: how many windows and seconds it needs (hide --file; packed as "
                   "hide packs it)")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.set_defaults(func=cmd_capacity)

    p = sub.add_parser("train", help="train a model (torchrun for several processes)")
    p.add_argument("--config", default=None, help="YAML config (see configs/)")
    p.add_argument("--resume", default=None, help="checkpoint to resume from, or 'auto' for the run folder's latest")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", help="section.key=value overrides, e.g. train.lr=1e-4 model.preset=tiny-rgb")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="metrics over seeded image/cover pairs, each through a real 16-bit WAV")
    p.add_argument("--model", default=None, help="shipped model name or a .safetensors file")
    p.add_argument("--images", required=True, help="folder of images (searched recursively)")
    p.add_argument("--audio", required=True, help="folder of cover audio (searched recursively)")
    p.add_argument("--n", type=int, default=16, help="number of pairs (at most one per image; default 16)")
    p.add_argument("--seed", type=int, default=0, help="pairing and window seed (default 0)")
    p.add_argument("-o", "--output", default=None, help="CSV with one row per pair")
    p.add_argument("--figure", default=None, help="PNG with every secret over its revealed image")
    p.add_argument("--no-visqol", dest="visqol", action="store_false",
                   help="skip ViSQOL MOS-LQO (it costs about 10 s once, then under a second per pair)")
    p.add_argument("--force", action="store_true", help="overwrite the CSV and the figure if they exist")
    p.add_argument("--attacks", default=None,
                   help="robustness instead: 'all' or NAME[:STRENGTH],... (mp3, aac, opus, vorbis, white_noise, "
                        "pink_noise, resample, gain, trim_start, append_silence, lowpass, mono, quantise, speed, tempo, "
                        "excerpt, over_the_air); covers are --seconds clips at their own rate")
    p.add_argument("--models", default="pixinwav-robust-v1,pixinwav-modulo-v1,lsb1,lsb2,qim",
                   help="with --attacks: models and baselines (lsb1, lsb2, qim) to compare in the same run")
    p.add_argument("--seconds", type=float, default=30.0, help="with --attacks: length of each cover clip (default 30)")
    p.add_argument("--whole-songs", action="store_true",
                   help="with --attacks: whole songs of at least --seconds instead of clips (the robust models' use)")
    p.add_argument("--clean", type=int, default=0,
                   help="with --attacks: also reveal on this many clean windows of the audio folder's tracks and count "
                        "false finds")
    p.add_argument("--clean-seconds", type=float, default=30.0, help="with --clean: window length (default 30)")
    p.add_argument("--payload-seconds", type=float, default=None,
                   help="with --attacks: robust models' music per payload copy (their hide --seconds; default 30)")
    p.add_argument("--report", default=None, help="with --attacks: write the printed Markdown here too")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("data", help="training data: 'data fetch' builds splits from Debian packages")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    p = data_sub.add_parser("fetch", help="download pinned Debian packages and build train / val splits + manifest")
    p.add_argument("--dest", default="data/debian", help="where the splits and manifest.csv go (default data/debian)")
    p.add_argument("--cache", default=None, help="where .deb files are kept and unpacked (default DEST/.cache)")
    p.add_argument("--debs", default=None, help="take .deb files from this folder instead of apt-get download")
    p.add_argument("--only", nargs="+", default=None, help="fetch only these packages")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_data_fetch)

    p = sub.add_parser("serve", help="a web page and HTTP API to hide and reveal, on this machine")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--max-upload-mb", type=float, default=200.0, help="largest request accepted, in MB (default 200)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("info", help="show a model's card and config, or an audio file's facts; alone: the models")
    p.add_argument("path", nargs="?", default=None,
                   help="model name, .safetensors file or audio file (none: list the shipped models)")
    p.set_defaults(func=cmd_info)
    return parser


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through atomic_write's cleanup: no stray temporary file is left


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    one_heap()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        args.func(args)
    except PixinwavError as exc:
        print(f"pixinwav: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pixinwav: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
