"""How well a trained detector tells pixinwav stego audio from clean audio: a feature-based detector and a small
CNN on log spectrograms, each with cross-validation grouped by track.

Pairs come from the validation music: for each track, several clips at random offsets; each clip is taken
clean (as a 16-bit file holds it) and with a validation photo hidden (through the API, written to a 16-bit WAV
file as `pixinwav hide` writes it and read back; SSIM: revealed from that file's samples), and
the detector sees one analysis window per clip: the model's window for window models, the first
`--window` seconds for whole-file models and baselines. Features: for each of 64 log-spaced bands (50 Hz to
the Nyquist frequency) of a 1,024-point STFT of the window, the 5th percentile and the median over time of the
log magnitude (128 numbers: quiet moments expose a change that does not follow the music). Detectors: standard
scaling + logistic regression (scikit-learn), and a CNN (``cnn_detector.py``: four conv layers on the log
spectrogram, trained from scratch per fold on the CPU). ROC AUC with 4-fold cross-validation grouped by track, so
no track is in both the training and the test folds. 0.5 = the detector is guessing.

    pixinwav data fetch --dest data/debian
    pip install 'pixinwav[bench]'   # scikit-learn
    python benchmarks/steganalysis.py [--clips 3] [--pooled] [--settings adaptive modulo lsb1 null ...]
    # default settings: benchmarks/results/steganalysis.md (15 min on a 2-core CPU); the trade-off curves:
    python benchmarks/steganalysis.py --settings adaptive-shaped-30 adaptive-shaped-60 adaptive-24dB \
        adaptive-12dB adaptive-key modulo-key --out benchmarks/results/steganalysis_curve
    python benchmarks/steganalysis.py --settings adaptive-v2-18dB adaptive-v2-30dB adaptive-v2-key \
        --out benchmarks/results/steganalysis_curve_v2
    # which bands of the default model's change the CNN finds it in, and where the change raises the floor:
    python benchmarks/steganalysis.py --clips 2 --settings adaptive-v3 --change-bands 0-1 1-4 4-8 8-12 12-16 16-
    python benchmarks/steganalysis.py --clips 2 --settings adaptive-v3 adaptive-v2 --level-change --cnn-epochs 0
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import stft
from tqdm import tqdm

from audibility import louder_cells
from cnn_detector import cross_validated_scores, log_spectrogram
from pixinwav import metrics
from pixinwav.api import Stego, load_model
from pixinwav.baselines import Baseline
from pixinwav.channel import pcm16_round_trip
from pixinwav.config import model_with
from pixinwav.data.audio import AUDIO_EXTENSIONS
from pixinwav.data.datasets import find_files
from pixinwav.data.images import IMAGE_EXTENSIONS
from pixinwav.errors import PixinwavError
from pixinwav.evaluate import reveal_or_blank, through_file
from pixinwav.models import build_model

BOOTSTRAP_DRAWS = 1000  # resamplings of the tracks for each AUC's interval
SETTINGS = {  # name -> (model, hide options)
    "adaptive": ("pixinwav-adaptive-v1", {"offset": 1.0}),
    "adaptive-key": ("pixinwav-adaptive-v1", {"offset": 1.0, "key": "a secret"}),
    "adaptive-v2": ("pixinwav-adaptive-v2", {"offset": 1.0}),
    "adaptive-v2-key": ("pixinwav-adaptive-v2", {"offset": 1.0, "key": "a secret"}),
    # the whole-song model: the photo at its own size in as many windows as it needs; the detector sees the first
    # window it changed (a window it left alone would flatter it)
    "adaptive-v3": ("pixinwav-adaptive-v3", {"span": "written"}),
    "adaptive-v4": ("pixinwav-adaptive-v4", {"span": "written"}),
    "adaptive-v5": ("pixinwav-adaptive-v5", {"span": "written"}),  # (v4's cells, quieter windows used too)
    # adaptive-v3 with each cell's level measured as adaptive-v4 measures it (the mean magnitude of its frame and
    # the two before), at -22 dB under it (adaptive-v4 but for its statistics, equal to 1e-6) and at -24 dB
    "adaptive-v3-past-22dB": ("pixinwav-adaptive-v3", {"span": "written", "config": {
        "masking_db": -22.0, "level_measure": "past-magnitude"}}),
    "adaptive-v3-past-24dB": ("pixinwav-adaptive-v3", {"span": "written", "config": {
        "masking_db": -24.0, "level_measure": "past-magnitude"}}),
    "modulo": ("pixinwav-modulo-v1", {"offset": 1.0}),
    "modulo-key": ("pixinwav-modulo-v1", {"offset": 1.0, "key": "a secret"}),
    "robust": ("pixinwav-robust-v1", {}),
    "unet-small": ("pixinwav-small-v0", {"offset": 1.0}),  # the shipped PixInWav-style U-Net (64 x 64 in 0.38 s)
    "lsb1": ("lsb1", {}),
    "null": (None, {}),  # control: the "stego" is the clean clip one sample later; a sound harness gives about 0.5
    # the adaptive model with its change at another level under the cover's, or its rounding error shaped deeper
    # and wider (the trade-off curves)
    "adaptive-24dB": ("pixinwav-adaptive-v1", {"offset": 1.0, "config": {"masking_db": -24.0}}),
    "adaptive-12dB": ("pixinwav-adaptive-v1", {"offset": 1.0, "config": {"masking_db": -12.0}}),
    "adaptive-shaped-30": ("pixinwav-adaptive-v1",  # the rounding as the model was first released
                           {"offset": 1.0, "config": {"notch_db": -40.0, "flat_above_floor_db": 30.0}}),
    "adaptive-shaped-60": ("pixinwav-adaptive-v1",
                           {"offset": 1.0, "config": {"notch_db": -60.0, "flat_above_floor_db": 60.0}}),
    # the file-carrying model with its change at other levels (its trade-off curve)
    "adaptive-v2-18dB": ("pixinwav-adaptive-v2", {"offset": 1.0, "config": {"masking_db": -18.0}}),
    "adaptive-v2-30dB": ("pixinwav-adaptive-v2", {"offset": 1.0, "config": {"masking_db": -30.0}}),
}
DEFAULT_SETTINGS = ["adaptive-v2", "adaptive", "modulo", "robust", "lsb1", "null"]  # the others: --settings (each about 1 min)


def load(name: str, options: dict):
    """The model of a setting; ``config`` in the options: the shipped model with those config fields changed."""
    if name == "lsb1":
        return Baseline(name)
    if "config" not in options:
        return load_model(name)
    shipped = load_model(name).model
    variant = build_model(model_with(shipped.cfg, **options["config"]))
    variant.load_state_dict(shipped.state_dict())
    return Stego(variant.eval())


def written(stego: np.ndarray, rate: int) -> np.ndarray:
    """The stego as `pixinwav hide` writes it (a 16-bit WAV file) and a reader gets it back."""
    with tempfile.TemporaryDirectory(prefix="pixinwav-steganalysis-") as folder:
        return through_file(stego, rate, Path(folder) / "stego.wav")


def features(mono: np.ndarray, rate: int, bands: int = 64) -> np.ndarray:
    freq, _, spec = stft(mono, rate, nperseg=1024, noverlap=768)
    power = np.log(np.abs(spec) ** 2 + 1e-12)
    edges = np.geomspace(50, rate / 2, bands + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        rows = (freq >= lo) & (freq < hi)
        band = power[rows].mean(0) if rows.any() else power[np.argmin(np.abs(freq - lo))]
        out += [np.percentile(band, 5), np.median(band)]
    return np.array(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="data/debian")
    p.add_argument("--clips", type=int, default=3, help="clips per validation track")
    p.add_argument("--seconds", type=float, default=20.0, help="clip length (whole-file models need >= 14 s)")
    p.add_argument("--window", type=float, default=5.0, help="seconds the detector sees for whole-file models")
    p.add_argument("--pooled", action="store_true", help="the training split's music too (more tracks, other styles)")
    p.add_argument("--cnn-epochs", type=int, default=20, help="0: feature detector only")
    p.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS, choices=list(SETTINGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level-change", action="store_true",
                   help="also the mean change of the log spectrogram the CNN sees (stego minus clean), by band and by "
                        "the clean cell's level: where the change raises the floor")
    p.add_argument("--change-bands", nargs="+", default=[], metavar="LOW-HIGH",
                   help="also the CNN on stegos whose change (stego minus clean, on the window it sees) keeps only this "
                        "band, in kHz (e.g. 4-8; 16-: to the Nyquist frequency): which bands it finds the change in")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "steganalysis"))
    args = p.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    splits = ["val_audio", "train_audio"] if args.pooled else ["val_audio"]
    tracks = [t for split in splits for t in find_files(f"{args.data}/{split}", AUDIO_EXTENSIONS, "audio")
              if sf.info(str(t)).duration >= args.seconds]
    images = find_files(f"{args.data}/val_images", IMAGE_EXTENSIONS, "image")
    rng = np.random.default_rng(args.seed)
    clips = []
    for index, track in enumerate(tracks):
        info = sf.info(str(track))
        n = int(args.seconds * info.samplerate)
        for _ in range(args.clips):
            audio, rate = sf.read(str(track), start=int(rng.integers(0, info.frames - n + 1)), frames=n,
                                  dtype="float32", always_2d=True)
            if np.sqrt(np.mean(np.square(audio))) > 10 ** (-45 / 20):
                clips.append((index, pcm16_round_trip(audio), rate))
    results, curves = {}, {}
    for name in args.settings:
        model_name, options = SETTINGS[name]
        model = None if model_name is None else load(model_name, options)
        hide_options = {k: v for k, v in options.items() if k not in ("config", "span")}
        rows, spectrograms, labels, groups, ssims, louder, refused = [], [], [], [], [], [], 0
        windows = []  # (clean, stego, rate): the window the detectors see, mono, for --change-bands / --level-change
        for i, (group, audio, rate) in enumerate(tqdm(clips, desc=name, unit="clip")):
            if model is None:
                stego = np.roll(audio, 1, axis=0)
            else:
                try:
                    stego, report = model.hide(images[i % len(images)], audio, rate, **hide_options)
                except PixinwavError:  # a clip too quiet for the model: refused, with a message, and counted
                    refused += 1
                    continue
                if getattr(report, "sample_rate", None) not in (None, rate):  # written at the model's rate (48 kHz
                    continue  # tracks): clean and stego would differ in rate, which any detector sees
                stego = written(stego, rate)
                if isinstance(model, Stego) and model.full_image:  # the photo at the size it was sent
                    try:
                        found = model.reveal_payload(stego, rate, key=options.get("key")).image
                    except PixinwavError:  # an error, not a wrong image: counted as a blank one, as the window models'
                        found = np.zeros_like(np.asarray(report.payload.sent))
                    ssims.append(float(metrics.ssim(found[None], report.payload.sent[None])[0]))
                if "offset" in options:  # what the receiver gets from the 16-bit file (the path users take)
                    secret = model.prepare_image(images[i % len(images)])[None]
                    revealed = reveal_or_blank(model, stego, rate, offset=options["offset"], key=options.get("key"))[None]
                    ssims.append(float(metrics.ssim(revealed, secret)[0]))
            if "offset" in options or options.get("span") == "written":
                start = options["offset"] if "offset" in options else report.payload.starts[0]
                span = slice(int(start * rate), int((start + model.clip_seconds) * rate))
            else:
                span = slice(0, int(args.window * rate))
            if model is not None:  # audibility on the same pairs: the third target next to the two AUCs
                louder.append(louder_cells(audio[span].mean(axis=1).astype(np.float64),
                                           stego[span].mean(axis=1).astype(np.float64), rate))
            if args.change_bands or args.level_change:
                windows.append((audio[span].mean(axis=1), stego[span].mean(axis=1), rate))
            for label, x in ((0, audio), (1, stego)):
                rows.append(features(x[span].mean(axis=1), rate))
                spectrograms.append(log_spectrogram(x[span].mean(axis=1)))
                labels.append(label)
                groups.append(group)
        x, y, groups = np.array(rows), np.array(labels), np.array(groups)
        scores = np.zeros(len(y))
        for train, test in GroupKFold(n_splits=4).split(x, y, groups):
            detector = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
            detector.fit(x[train], y[train])
            scores[test] = detector.predict_proba(x[test])[:, 1]
        curves[name] = roc_curve(y, scores)[:2]
        held_out = {"auc": scores}  # the held-out scores of each detector
        if args.cnn_epochs:
            cnn = held_out["cnn_auc"] = cross_validated_scores(spectrograms, y, groups, args.cnn_epochs, args.seed)
            curves[name + " (CNN)"] = roc_curve(y, cnn)[:2]
        results[name] = {**scored(y, held_out, groups, np.ones(len(y), bool)),
                         "ssim_median": float(np.median(ssims)) if ssims else None,
                         "ssim_mean": float(np.mean(ssims)) if ssims else None,
                         "louder_worst_band": float(np.mean(louder, axis=0).max()) if louder else None,
                         "refused": refused}
        for text in args.change_bands if args.cnn_epochs and model is not None else []:
            low, high = (float(x) * 1000 if x else default for x, default in zip(text.split("-"), (0.0, np.inf)))
            banded = [log_spectrogram(x) for clean, stego, rate in windows
                      for x in (clean, clean + band_limited(stego - clean, rate, low, high))]
            cnn = cross_validated_scores(banded, y, groups, args.cnn_epochs, args.seed)
            results[name].setdefault("cnn_auc_change_bands", {})[text] = (float(roc_auc_score(y, cnn)),
                                                                          auc_interval(y, cnn, groups))
        if args.level_change and model is not None:
            results[name]["level_change"] = level_change(windows)
        # each source's pairs under the same held-out scores (the detectors trained on every source): whether one
        # style of music gives the change away where the pooled AUC hides it
        sources = np.array([tracks[g].parent.name for g in groups])
        results[name]["by_source"] = {source: scored(y, held_out, groups, sources == source)
                                      for source in sorted(set(sources))}
        print(f"{name}: ROC AUC {results[name]['auc']:.3f} features, {results[name].get('cnn_auc', float('nan')):.3f} "
              f"CNN ({results[name]['pairs']} pairs)", flush=True)

    music = "validation + training" if args.pooled else "validation"
    print(f"\nmusic: {music} split, {args.clips} clips per track, seed {args.seed}")
    print("\n| setting | pairs | tracks | feature detector ROC AUC (95 % interval) | CNN ROC AUC (95 % interval) | "
          "image SSIM median (mean) | change louder than the cover, worst band |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        quality = "-" if r["ssim_median"] is None else f"{r['ssim_median']:.3f} ({r['ssim_mean']:.3f})"
        louder = "-" if r["louder_worst_band"] is None else f"{100 * r['louder_worst_band']:.1f} %"
        pairs = f"{r['pairs']}" + (f" ({r['refused']} clips refused)" if r.get("refused") else "")
        print(f"| {name} | {pairs} | {r['tracks']} | {auc_text(r, 'auc')} | {auc_text(r, 'cnn_auc')} | {quality} | "
              f"{louder} |")
    print("\nPer source (the same held-out scores, each source's pairs alone: fewer pairs, wider intervals):\n\n"
          "| setting | source | pairs | tracks | feature detector ROC AUC (95 % interval) | "
          "CNN ROC AUC (95 % interval) |\n|---|---|---|---|---|---|")
    for name, r in results.items():
        for source, row in r["by_source"].items():
            print(f"| {name} | {source} | {row['pairs']} | {row['tracks']} | {auc_text(row, 'auc')} | "
                  f"{auc_text(row, 'cnn_auc')} |")
    for name, r in results.items():
        if r.get("cnn_auc_change_bands"):
            print(f"\n{name}, the CNN on the change limited to one band (kHz):\n\n| band | CNN ROC AUC (95 % interval) |\n"
                  "|---|---|")
            for text, (auc, (low, high)) in r["cnn_auc_change_bands"].items():
                print(f"| {text} | {auc:.3f} ({low:.2f}-{high:.2f}) |")
    for name, r in results.items():
        if r.get("level_change"):
            print(f"\n{name}, the mean change of the CNN's log spectrogram (stego minus clean, dB), by band and by the "
                  "clean cell's level (quarters of each band's cells, quietest first):\n\n| band (kHz) | all cells | "
                  "quietest quarter | second | third | loudest quarter |\n|---|---|---|---|---|---|")
            for band, row in r["level_change"].items():
                print(f"| {band} | " + " | ".join(f"{x:+.2f}" for x in row) + " |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    named = lambda ext: out.parent / (out.name + ext)  # noqa: E731  (not with_suffix: "..._0.2.23" has a dot)
    named(".json").write_text(json.dumps(results, indent=2))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.2))
    ax = fig.subplots()
    for name, (fpr, tpr) in curves.items():
        setting, cnn = name.removesuffix(" (CNN)"), name.endswith(" (CNN)")
        auc = results[setting]["cnn_auc" if cnn else "auc"]
        ax.plot(fpr, tpr, ls="--" if cnn else "-", label=f"{name} (AUC {auc:.2f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(named(".png"), dpi=100)
    print(f"wrote {named('.json')} and {named('.png')}")
    quality = {name: r for name, r in results.items() if r["ssim_median"] is not None}
    if len(quality) > 1:  # the trade-off the targets ask to show: detectability against image quality
        fig = Figure(figsize=(5, 4.2))
        ax = fig.subplots()
        for key, marker in (("auc", "o"), ("cnn_auc", "s")):
            points = [(r["ssim_median"], r[key], name) for name, r in quality.items() if key in r]
            ax.scatter([p[0] for p in points], [p[1] for p in points], marker=marker,
                       label="feature detector" if key == "auc" else "CNN")
            for x, y, name in points:
                ax.annotate(name, (x, y), fontsize=6, xytext=(3, 2), textcoords="offset points")
        ax.axhline(0.55, color="k", ls=":", lw=0.8)
        ax.set_xlabel("image SSIM (median, revealed from the 16-bit file)")
        ax.set_ylabel("detector ROC AUC (0.5: guessing)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out.parent / (out.name + "_tradeoff.png"), dpi=100)


LEVEL_BANDS_KHZ = ((0, 1), (1, 4), (4, 8), (8, 12), (12, 16), (16, None))


def level_change(windows: list) -> dict[str, list[float]]:
    """Per band of ``LEVEL_BANDS_KHZ``: the mean change (dB) of the CNN's log spectrogram from each clean window to its
    stego, over all cells and over each quarter of the cells by the clean cell's level. A change that adds power where
    the music is quiet shows as a rise in the quietest quarter."""
    change, level, rows_hz = [], [], None
    for clean, stego, rate in windows:
        a, b = log_spectrogram(clean), log_spectrogram(stego)
        frames = min(a.shape[1], b.shape[1])
        change.append(b[:, :frames] - a[:, :frames])
        level.append(a[:, :frames])
        rows_hz = np.arange(len(a)) * 4 * rate / 1024  # (log_spectrogram: 1,024-point STFT, bins averaged in fours)
    change, level = np.concatenate(change, axis=1), np.concatenate(level, axis=1)
    out = {}
    for low, high in LEVEL_BANDS_KHZ:
        rows = (rows_hz >= low * 1000) & (rows_hz < (high or np.inf) * 1000)
        x, at = change[rows].ravel() * 10 / np.log(10), level[rows].ravel()  # natural log of power -> dB
        edges = np.quantile(at, [0.25, 0.5, 0.75])
        quarter = np.searchsorted(edges, at, side="right")
        out[f"{low}-{high or ''}"] = [float(x.mean())] + [float(x[quarter == q].mean()) for q in range(4)]
    return out


def band_limited(change: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    """``change`` with its spectrum outside ``low``-``high`` Hz set to zero (one FFT over the window)."""
    spectrum = np.fft.rfft(change)
    freq = np.fft.rfftfreq(len(change), 1 / rate)
    spectrum[(freq < low) | (freq >= high)] = 0
    return np.fft.irfft(spectrum, len(change))


def scored(labels: np.ndarray, held_out: dict[str, np.ndarray], groups: np.ndarray, rows: np.ndarray) -> dict:
    """Pairs, tracks, and each detector's ROC AUC with its interval over ``rows`` (all pairs, or one source's)."""
    from sklearn.metrics import roc_auc_score

    out = {"pairs": int(rows.sum() // 2), "tracks": len(set(groups[rows]))}
    for key, scores in held_out.items():
        out[key] = float(roc_auc_score(labels[rows], scores[rows]))
        out[key + "_interval"] = auc_interval(labels[rows], scores[rows], groups[rows])
    return out


def auc_text(row: dict, key: str) -> str:
    """"0.535 (0.52-0.55)", or "-" where that detector did not run."""
    if key not in row:
        return "-"
    low, high = row[key + "_interval"]
    return f"{row[key]:.3f} ({low:.2f}-{high:.2f})"


def auc_interval(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, draws: int = BOOTSTRAP_DRAWS,
                 seed: int = 0) -> tuple[float, float]:
    """The 95 % interval of the ROC AUC over tracks drawn again with replacement (a track's clean and stego clips go
    together): with about 100 pairs it spans some +-0.08, so a single AUC of 0.55 or 0.58 says little on its own."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    tracks = np.unique(groups)
    rows = [np.flatnonzero(groups == t) for t in tracks]
    aucs = []
    for _ in range(draws):
        chosen = np.concatenate([rows[i] for i in rng.integers(0, len(tracks), len(tracks))])
        if len(set(labels[chosen])) == 2:
            aucs.append(roc_auc_score(labels[chosen], scores[chosen]))
    low, high = np.percentile(aucs, [2.5, 97.5])
    return float(low), float(high)


if __name__ == "__main__":
    main()
