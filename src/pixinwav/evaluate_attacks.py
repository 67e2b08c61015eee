"""What a stego file survives, as tables: the rows of ``evaluate.measure`` (every model
hides in the same covers, each stego goes through a 16-bit WAV, each attack, and ``reveal``) summarised per model,
attack and strength, per source of music, and as a figure; how often a model "finds" an image in clean music."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import metrics
from .attacks import ATTACKS, CHAIN, apply, describe
from .errors import PixinwavError
from .evaluate import AUDIO_KEYS



def codec_louder_cells(covers: list[tuple[np.ndarray, int, str]], codec: str = "mp3", kbps: float = 128) -> float:
    """Mean fraction of STFT cells where a codec's own coding noise is louder than the cover: the audibility
    yardstick for the models' ``audio/louder_cells`` (FFmpeg's MP3 decoder removes the encoder delay)."""
    fractions = []
    for audio, rate, _ in covers:
        coded, coded_rate = apply(codec, audio, rate, kbps)
        n = min(len(coded), len(audio))
        if coded_rate == rate:
            fractions.append(metrics.louder_cells(audio[:n], coded[:n], rate))
    return float(np.mean(fractions)) if fractions else float("nan")


def _finite_mean(values: list[float]) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")


def summary(rows: list[dict]) -> list[dict]:
    """Per model, attack and strength: recovered fraction, median SSIM counting failures as 0, mean PSNR of the
    recovered images, and the stego's audio figures (the same for every attack)."""
    keys = sorted({(r["model"], r["attack"], r["strength"]) for r in rows},
                  key=lambda k: ([r["model"] for r in rows].index(k[0]), list(ATTACKS).index(k[1]), -abs(k[2])))
    out = []
    for model, attack, strength in keys:
        group = [r for r in rows if (r["model"], r["attack"], r["strength"]) == (model, attack, strength)]
        ssim = np.array([r["image/ssim"] if r["recovered"] else 0.0 for r in group])  # failed or damaged: 0
        psnr = np.array([r["image/psnr"] for r in group if r["recovered"]])
        out.append({"model": model, "attack": attack, "strength": strength, "files": len(group),
                    "recovered": float(np.mean([r["recovered"] for r in group])),
                    "warned": float(np.mean([r["warned"] for r in group])), "ssim_median": float(np.median(ssim)),
                    "psnr_mean": float(psnr.mean()) if len(psnr) else float("nan"),
                    **{k: _finite_mean([r.get(k, np.nan) for r in group]) for k in AUDIO_KEYS}})
    return out


def markdown(table: list[dict]) -> str:
    lines = ["| model | attack | strength | recovered | written with a damage warning | median SSIM (failed = 0) "
             "| mean PSNR dB (recovered) | audio SNR dB (file) | ViSQOL | cells louder than cover |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table:
        attack, strength = (describe(r["attack"], 0.0), "") if CHAIN in r["attack"] else \
            (r["attack"], f"{r['strength']:g} {ATTACKS[r['attack']].unit}")  # a chain's strengths are in its steps
        lines.append(f"| {r['model']} | {attack} | {strength} | {r['recovered'] * 100:.0f} % | "
                     f"{r['warned'] * 100:.0f} % | "
                     f"{r['ssim_median']:.3f} | {r['psnr_mean']:.1f} | {r['audio/snr_file']:.1f} | "
                     f"{r.get('audio/visqol', float('nan')):.2f} | {r['audio/louder_cells'] * 100:.1f} % |")
    return "\n".join(lines)


def by_source(rows: list[dict]) -> str:
    """Markdown: per model, attack and strength, recovered / files and median SSIM (failed = 0) for each source of
    music (the covers' first folder under ``--audio``) and for all; empty when the covers have no sources."""
    sources = sorted({r["source"] for r in rows if r.get("source")})
    if len(sources) < 2:
        return ""
    lines = ["| model | attack | " + " | ".join(sources) + " | all |", "|---|---|" + "---|" * (len(sources) + 1)]
    for r in summary(rows):
        cells = []
        for source in sources + [None]:
            group = [x for x in rows if (x["model"], x["attack"], x["strength"]) == (r["model"], r["attack"], r["strength"])
                     and (source is None or x["source"] == source)]
            ssim = np.median([x["image/ssim"] if x["recovered"] else 0.0 for x in group])
            cells.append(f"{sum(x['recovered'] for x in group)}/{len(group)} {ssim:.2f}")
        lines.append(f"| {r['model']} | {describe(r['attack'], r['strength'])} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def clean_windows(files: list[Path], count: int, seconds: float, seed: int = 0):
    """``count`` windows ``(samples [T, channels], rate)`` of ``seconds`` drawn at random from ``files`` (with no image
    hidden in them), the same for the same seed; files shorter than a window are skipped."""
    import soundfile as sf

    files = [f for f in files if sf.info(str(f)).duration >= seconds]
    if not files:
        raise PixinwavError(f"no audio file lasts {seconds:g} s: nothing to draw clean windows from")
    rng = np.random.default_rng([seed, 7])
    for _ in range(count):
        path = files[int(rng.integers(len(files)))]
        info = sf.info(str(path))
        n = int(seconds * info.samplerate)
        yield sf.read(str(path), start=int(rng.integers(0, info.frames - n + 1)), frames=n, dtype="float32",
                      always_2d=True)


def clean_false_found(model, files: list[Path], count: int, seconds: float, seed: int = 0,
                      progress: bool = True) -> tuple[int, int]:
    """Reveal on ``count`` windows of ``seconds`` drawn at random from ``files`` (:func:`clean_windows`): (times an
    image was "found", windows tried)."""
    found = 0
    offset = {"offset": "auto"} if "offset" in model.options else {}  # a window model: hidden and found by itself
    for audio, rate in tqdm(clean_windows(files, count, seconds, seed), total=count, desc="clean windows",
                            unit="window", disable=not progress):
        try:
            model.reveal(audio, rate, **offset)
            found += 1
        except PixinwavError:
            pass
    return found, count


def figure(path, table: list[dict]) -> None:
    """SSIM (failures = 0) per attack and strength, one line per model."""
    from matplotlib.figure import Figure

    labels = []
    for r in table:
        label = f"{r['attack']} {r['strength']:g}"
        if label not in labels:
            labels.append(label)
    fig = Figure(figsize=(max(8, 0.45 * len(labels)), 4.2))
    ax = fig.subplots()
    for model in dict.fromkeys(r["model"] for r in table):
        values = {f"{r['attack']} {r['strength']:g}": r["ssim_median"] for r in table if r["model"] == model}
        ax.plot(range(len(labels)), [values.get(k, np.nan) for k in labels], "o-", label=model, ms=4)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("median image SSIM (failed = 0)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
