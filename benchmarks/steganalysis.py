"""How well a trained detector tells pixinwav stego audio from clean audio: the feature-based part of a
steganalysis benchmark (a CNN detector is not included yet).

Pairs come from the validation music: for each track, several clips at random offsets; each clip is taken
clean and with a validation photo hidden (through the API, written as 16-bit as `pixinwav hide` writes it), and
the detector sees one analysis window per clip: the model's window for window models, the first
`--window` seconds for whole-file models and baselines. Features: for each of 64 log-spaced bands (50 Hz to
the Nyquist frequency) of a 1,024-point STFT of the window, the 5th percentile and the median over time of the
log magnitude (128 numbers: quiet moments expose a change that does not follow the music). Detector: standard
scaling + logistic regression (scikit-learn); ROC AUC with 4-fold cross-validation grouped by track, so no track
is in both the training and the test folds. 0.5 = the detector is guessing.

    pixinwav data fetch --dest data/debian
    pip install 'pixinwav[bench]'   # scikit-learn
    python benchmarks/steganalysis.py [--clips 3] [--settings modulo modulo-key robust lsb1 null]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import stft
from tqdm import tqdm

from pixinwav.api import load_model
from pixinwav.baselines import Baseline
from pixinwav.channel import pcm16_round_trip
from pixinwav.data.audio import AUDIO_EXTENSIONS
from pixinwav.data.datasets import find_files
from pixinwav.data.images import IMAGE_EXTENSIONS

SETTINGS = {  # name -> (model, hide options)
    "modulo": ("pixinwav-modulo-v1", {"offset": 1.0}),
    "modulo-key": ("pixinwav-modulo-v1", {"offset": 1.0, "key": "a secret"}),
    "robust": ("pixinwav-robust-v1", {}),
    "lsb1": ("lsb1", {}),
    "null": (None, {}),  # control: the "stego" is the clean clip one sample later; a sound harness gives about 0.5
}


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
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "steganalysis"))
    args = p.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tracks = [t for t in find_files(f"{args.data}/val_audio", AUDIO_EXTENSIONS, "audio")
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
        model = None if model_name is None else Baseline(model_name) if model_name == "lsb1" else load_model(model_name)
        rows, labels, groups = [], [], []
        for i, (group, audio, rate) in enumerate(tqdm(clips, desc=name, unit="clip")):
            if model is None:
                stego = np.roll(audio, 1, axis=0)
            else:
                stego = pcm16_round_trip(model.hide(images[i % len(images)], audio, rate, **options)[0])
            if "offset" in options:
                span = slice(int(options["offset"] * rate), int((options["offset"] + model.clip_seconds) * rate))
            else:
                span = slice(0, int(args.window * rate))
            for label, x in ((0, audio), (1, stego)):
                rows.append(features(x[span].mean(axis=1), rate))
                labels.append(label)
                groups.append(group)
        x, y, groups = np.array(rows), np.array(labels), np.array(groups)
        scores = np.zeros(len(y))
        for train, test in GroupKFold(n_splits=4).split(x, y, groups):
            detector = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
            detector.fit(x[train], y[train])
            scores[test] = detector.predict_proba(x[test])[:, 1]
        results[name] = {"auc": float(roc_auc_score(y, scores)), "pairs": int(len(y) // 2), "tracks": len(set(groups))}
        curves[name] = roc_curve(y, scores)[:2]
        print(f"{name}: ROC AUC {results[name]['auc']:.3f} ({results[name]['pairs']} pairs)", flush=True)

    print("\n| setting | pairs | tracks | feature detector ROC AUC (grouped 4-fold) |\n|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['pairs']} | {r['tracks']} | {r['auc']:.3f} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.2))
    ax = fig.subplots()
    for name, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUC {results[name]['auc']:.2f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=100)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
