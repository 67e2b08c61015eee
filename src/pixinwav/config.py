"""Configuration: dataclasses, model presets, YAML files and ``key=value`` overrides.

A config is plain data; ``to_dict`` / ``from_dict`` round-trip it through JSON (stored in every checkpoint)
and YAML (the experiment files in ``configs/``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import PixinwavError


@dataclass
class UNetOptions:
    """Scheme "unet": PixInWav's learned residual in a spectral container. The defaults are the paper's best RGB model."""

    pixel_shuffle: bool = True  # RGB is padded with a zero channel and pixel-shuffled to one plane
    transform: str = "stdct"  # the container: "stdct" or "stft"
    window: str = "hamming"
    synthesis: str = "paper"  # STDCT inverse: "paper" or "least_squares"
    stft_part: str = "magnitude"  # STFT only: hide in "magnitude" or "phase"
    leaky_slope: float = 0.8
    batchnorm: bool = True
    embedding: str = "residual"  # "residual": U-Net output (paper resindep); "scaled": learned scalar x image
    cover_aware: bool = False  # the hiding net also sees the cover container (paper's "resdep")
    # When set, the hidden signal is scaled per clip to exactly this audio SNR (dB) against the cover, so
    # the audio quality is fixed by construction and training spends itself on the image. None: the
    # paper's unscaled residual, whose loudness the loss has to keep down.
    snr_db: float | None = None
    # Where the hiding net runs: "container" (paper: on the image stretched to F x N, 94 % of the model's
    # cost) or "plane" (at image-plane resolution, its output stretched: 16x fewer pixels at paper geometry).
    hide_at: str = "container"
    # How the reveal net's input is shrunk from the container to the image plane: "nearest" (paper: reads
    # every 8th bin and every 2nd frame, 1/16 of the container) or "area" (averages each cell, the matched
    # filter of the bilinear stretch: all of the hidden energy reaches the net).
    reveal_resize: str = "nearest"
    # "row": divide each frequency row of the received container by its RMS over the clip before the reveal
    # net (whitening: rows where the cover is loud are turned down, quiet rows where the hidden signal
    # dominates are turned up, as a per-bin LMMSE receiver would). "none": the paper's raw container.
    reveal_norm: str = "none"


@dataclass
class ModuloOptions:
    """Schemes "modulo" and "adaptive": informed modulo coding of the image's colour-DCT coefficients (models/modulo.py)."""

    # scheme "modulo" only: each used bin's step is this far (dB) under the median music spectrum ...
    bin_snr_db: float = 30.0
    # ... kept within these limits, in 16-bit LSBs (bins whose step would be under the minimum are not used:
    # the file's rounding, 0.29 LSB RMS, would drown their codes).
    min_step_lsb: float = 4.0
    max_step_lsb: float = 512.0
    code_range: float = 5.0  # image coefficients are sent within +- this many training deviations


LEVEL_MEASURES = ("centred-power", "past-magnitude")
LOW_RATE_CODES = ("regular", "irregular")


@dataclass
class AdaptiveOptions:
    """Scheme "adaptive": the modulo code in 23 ms MDCT cells whose steps follow this cover's masking
    (models/adaptive.py)."""

    masking_db: float = -18.0  # each cell's change (RMS) relative to the cover's local level around it
    cell_hop: int = 512  # MDCT hop: frames of 2 x 512 samples (23 ms at 44.1 kHz)
    sent_coefficients: int = 32000  # image coefficients sent; the remaining cells carry further copies
    # 0: the image's colour-DCT coefficients as analog codes. 1-8: the image compressed with image_codec,
    # LDPC-coded, this many bits per cell (Gray-coded places in the step), as large a file as the cover carries.
    bits_per_cell: int = 0
    # ... and the sender's noise-shaped rounding (a receiver reads any setting): the rounding error's spectrum goes
    # down to notch_db under the 16-bit floor where the cover is at that floor, and follows the cover up to
    # flat_above_floor_db over it, flat beyond (deeper and wider: harder to detect, more noise on the image's
    # codes; benchmarks/steganalysis.py measures -40 / 30, -60 / 45 and -60 / 60)
    notch_db: float = -60.0
    flat_above_floor_db: float = 45.0
    # how a cell's local level is measured (robust/masking.py): "centred-power" (the RMS of 5 frames around it, v1 to
    # v3) or "past-magnitude" (the mean magnitude of its frame and the 2 before it: a quiet moment before an onset
    # and a quiet cell among loud ones get smaller steps; adaptive-v4)
    level_measure: str = "centred-power"
    # the song model's code for a window whose codeword's rate is low (models/adaptive_song.py): "regular" (the
    # regular repeat-accumulate construction at every rate, v3 and v4) or "irregular" (robust/code.py's irregular
    # construction under IRREGULAR_BELOW, and the fill rule measured for it: a quiet window carries more; adaptive-v5)
    low_rate_code: str = "regular"


@dataclass
class RobustOptions:
    """Scheme "robust": a compressed, LDPC-coded image spread over a whole song (models/robust.py); ``hop`` is its
    MDCT hop and ``band`` the part of the spectrum it writes in."""

    spread: int = 20  # MDCT coefficients per coded bit (spread-transform dither modulation)
    change_db: float = -12.0  # the change per coefficient, relative to the cover's local (masking) level
    payload_seconds: float = 30.0  # default music for one copy of the payload; the image quality follows from it
    # ... and with song=true (models/robust_song.py, pixinwav-robust-v2): the song in segments of this many frames,
    # one fountain-code packet each, LDPC-coded at code_rate; by default the photo is as large as the song over
    # redundancy carries (every packet sent about that many times over), a file at most that large
    segment_frames: int = 64
    code_rate: float = 0.5
    redundancy: float = 2.0
    # the packets' LDPC construction (robust/code.py): "regular" (every message bit in as many checks; robust-v2's)
    # or "irregular" (message bits of two degrees: closer to the channel's capacity at low rates)
    code: str = "regular"
    # the photo's two layers (robust/layers.py): "avif-webp" (a sharp AVIF and a WebP base; robust-v2 and v3) or
    # "bare-av1" (both as AVIF files without their container, encoded slower and tuned for SSIM; robust-v4)
    layer_codec: str = "avif-webp"
    # the coarse base image's packets (of 96 bytes; one segment in three carries one of them, cycling over one more
    # than this, so that a 30 s excerpt, 4 or 5 such segments, holds enough): 3 (robust-v2, v3) or 4 (robust-v4)
    base_packets: int = 3


# config sections of the model, one per scheme: ``model.<section>.<key>`` in YAML and overrides
SECTIONS: dict[str, type] = {"unet": UNetOptions, "modulo": ModuloOptions, "adaptive": AdaptiveOptions,
                             "robust": RobustOptions}
# the sections each scheme reads
SCHEME_SECTIONS: dict[str, tuple[str, ...]] = {"unet": ("unet",), "modulo": ("modulo",), "adaptive": ("modulo", "adaptive"),
                                               "robust": ("robust",)}
# a section's key given at the model's top level (model files and configs written before the sections, and a
# shorthand in overrides: every section key has one owner) -> its section
SECTION_OF: dict[str, str] = {f.name: name for name, cls in SECTIONS.items() for f in dataclasses.fields(cls)}


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model: what every scheme shares, and one section of options per scheme. The
    defaults are the paper's best RGB model (``paper-rgb``)."""

    preset: str = "paper-rgb"
    # "unet": PixInWav's learned residual in the STDCT container (section ``unet``).
    # "modulo": informed modulo coding of the image's DCT into the cover's full-window DCT, optionally a conv refiner
    # (section ``modulo``; models/modulo.py).
    # "adaptive": the same coding into 23 ms MDCT cells whose steps follow this cover's masking (sections ``modulo``
    # and ``adaptive``; models/adaptive.py).
    # "robust": a compressed, LDPC-coded image spread over a whole song (section ``robust``; models/robust.py).
    scheme: str = "unet"
    image_size: int = 256  # the image side of window schemes (whole-song schemes: of the tiles, or of the smallest)
    image_channels: int = 3  # 3: RGB; 1: greyscale
    sample_rate: int = 44100
    # The window: STDCT frame length (or STFT n_fft), hop and frames; the clip length follows from them. The robust
    # scheme's MDCT: hop is its frame advance, frames the frames of one block.
    frame: int = 4096
    hop: int = 62
    frames: int = 1024
    widths: list[int] = field(default_factory=lambda: [64, 128])  # the U-Nets' (or the modulo refiner's) layers
    # What the reveal sees in training. "wav16" (default): the container written as a 16-bit waveform and
    # transformed again, i.e. a real file. "float": the same without quantisation. "spectrogram": the
    # container array itself, as in the papers (no audio ever exists; for reproducing them only).
    channel: str = "wav16"
    # The part of the container's frequency axis the image occupies, as fractions of the Nyquist band.
    # The paper uses all of it ([0, 1]); music is nearly empty above 11 kHz, so a blind residual placed
    # there competes with far less cover energy (measured on the Debian training music: median power per bin
    # -23 dB under 1 kHz, -57 dB at 4-8 kHz, -74 dB at 12-16 kHz).
    band: list[float] = field(default_factory=lambda: [0.0, 1.0])
    image_codec: str = "avif"  # schemes that send the photo compressed (robust; adaptive with bits_per_cell): "avif", "webp"
    # Scheme "modulo": false, one 256 x 256 image in one window at an offset (pixinwav-modulo-v1); true, the
    # photo at its own size in tiles, one per window, over the whole song, found without an offset
    # (models/song.py, pixinwav-modulo-v2). Scheme "robust": false, one image repeated (pixinwav-robust-v1); true,
    # rateless packets over the whole song, the photo at its own aspect or a file (models/robust_song.py). Scheme
    # "adaptive" (with bits_per_cell): v2's cells in as many windows as the photo or file needs
    # (models/adaptive_song.py, pixinwav-adaptive-v3 and v4)
    song: bool = False
    unet: UNetOptions = field(default_factory=UNetOptions)
    modulo: ModuloOptions = field(default_factory=ModuloOptions)
    adaptive: AdaptiveOptions = field(default_factory=AdaptiveOptions)
    robust: RobustOptions = field(default_factory=RobustOptions)

    @property
    def band_rows(self) -> tuple[int, int]:
        bins = self.container_shape[0]
        return round(self.band[0] * bins), round(self.band[1] * bins)

    @property
    def clip_samples(self) -> int:
        if self.unet.transform == "stdct" or self.scheme != "unet":
            return self.frame + (self.frames - 1) * self.hop
        # centred STFT (padding n_fft // 2 each side): frames = 1 + (T + 2 (n_fft // 2) - n_fft) // hop
        return (self.frames - 1) * self.hop + self.frame - 2 * (self.frame // 2)

    @property
    def container_shape(self) -> tuple[int, int]:
        bins = self.frame if self.unet.transform == "stdct" or self.scheme != "unet" else self.frame // 2 + 1
        return bins, self.frames

    @property
    def plane_size(self) -> int:
        """Side of the square image plane the nets work on (512 for the paper's pixel-shuffled 256 image)."""
        return self.image_size * 2 if self.unet.pixel_shuffle else self.image_size


# The allowed values of the string options, and the rules between fields: checked whenever a config is built
# (load, overrides, a model file's stored config), so a bad value never gets as far as a run folder.
CHOICES: dict[str, tuple[str, ...]] = {
    "scheme": ("unet", "modulo", "adaptive", "robust"),
    "channel": ("wav16", "float", "spectrogram"),
    "image_codec": ("avif", "webp"),
    "unet.transform": ("stdct", "stft"),
    "unet.window": ("hamming", "hann", "rect"),
    "unet.synthesis": ("paper", "least_squares"),
    "unet.stft_part": ("magnitude", "phase"),
    "unet.embedding": ("residual", "scaled"),
    "unet.hide_at": ("container", "plane"),
    "unet.reveal_norm": ("none", "row"),
    "unet.reveal_resize": ("nearest", "area"),
}
TRAIN_CHOICES: dict[str, tuple[str, ...]] = {"wave_loss": ("l1", "sse"), "wandb_mode": ("online", "offline", "disabled"),
                                             "amp": ("none", "bf16")}


def _choose(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise PixinwavError(f"unknown {where}.{key} {value!r}; choose one of {', '.join(allowed)}")


def _check_choices(cfg: ModelConfig) -> None:
    for key, allowed in CHOICES.items():
        section, _, name = key.rpartition(".")
        _choose("model", key, getattr(getattr(cfg, section) if section else cfg, name), allowed)


def validate_model(cfg: ModelConfig) -> ModelConfig:
    """One-line errors for every value the model cannot be built from; returns ``cfg``."""
    _check_choices(cfg)
    band = cfg.band
    if not (isinstance(band, list) and len(band) == 2 and all(isinstance(b, (int, float)) for b in band)
            and 0 <= band[0] < band[1] <= 1):
        raise PixinwavError(f"model.band must be a list [low, high] with 0 <= low < high <= 1, got {band!r}")
    if not (isinstance(cfg.widths, list) and all(isinstance(w, int) and w > 0 for w in cfg.widths)):
        raise PixinwavError(f"model.widths must be a list of positive integers, got {cfg.widths!r}")
    for key in ("image_size", "image_channels", "sample_rate", "frame", "hop", "frames"):
        if getattr(cfg, key) < 1:
            raise PixinwavError(f"model.{key} must be positive, got {getattr(cfg, key)}")
    if cfg.song and cfg.scheme not in ("modulo", "robust", "adaptive"):
        raise PixinwavError("model.song applies to schemes 'modulo', 'adaptive' and 'robust' only")
    if cfg.scheme == "unet":
        _validate_unet(cfg)
    elif cfg.scheme in ("modulo", "adaptive"):
        modulo, adaptive = cfg.modulo, cfg.adaptive
        if cfg.image_channels not in (1, 3):
            raise PixinwavError(f"scheme {cfg.scheme!r} hides greyscale (1) or RGB (3) images")
        if not 0 < modulo.min_step_lsb <= modulo.max_step_lsb:
            raise PixinwavError("model.modulo.min_step_lsb must be positive and at most model.modulo.max_step_lsb")
        if cfg.song and cfg.widths:
            raise PixinwavError(f"model.song needs scheme {cfg.scheme!r} without a refiner (model.widths=[])")
        if cfg.scheme == "adaptive" and cfg.widths:  # (its arithmetic is NumPy's: it loads without torch)
            raise PixinwavError("scheme 'adaptive' has no refiner: set model.widths=[] (the modulo scheme has one)")
        if cfg.song and cfg.scheme == "adaptive" and not adaptive.bits_per_cell:
            raise PixinwavError("model.song with scheme 'adaptive' carries packets: it needs adaptive.bits_per_cell >= 1")
        if cfg.scheme == "adaptive" and not (adaptive.masking_db < 0 and adaptive.sent_coefficients >= 1
                                             and 8 <= adaptive.cell_hop <= cfg.clip_samples // 2
                                             and adaptive.notch_db <= 0 <= adaptive.flat_above_floor_db
                                             and 0 <= adaptive.bits_per_cell <= 8
                                             and adaptive.level_measure in LEVEL_MEASURES
                                             and adaptive.low_rate_code in LOW_RATE_CODES):
            raise PixinwavError("scheme 'adaptive' needs model.adaptive.masking_db < 0, sent_coefficients >= 1, "
                                "8 <= cell_hop <= half the clip, notch_db <= 0 <= flat_above_floor_db, "
                                f"0 <= bits_per_cell <= 8, level_measure one of {', '.join(LEVEL_MEASURES)} and "
                                f"low_rate_code one of {', '.join(LOW_RATE_CODES)}")
    else:
        robust = cfg.robust
        if cfg.image_channels not in (1, 3):
            raise PixinwavError("scheme 'robust' hides greyscale (1) or RGB (3) images")
        if robust.spread < 1 or robust.payload_seconds <= 0 or robust.change_db >= 0:
            raise PixinwavError("scheme 'robust' needs model.robust.spread >= 1, payload_seconds > 0 and change_db < 0")
        if round(cfg.band[0] * cfg.hop) + robust.spread * 8 > round(cfg.band[1] * cfg.hop):
            raise PixinwavError("scheme 'robust': model.band holds too few MDCT bins for 8 groups of model.robust.spread")
        if cfg.song and not (8 <= robust.segment_frames <= 1024 and 0.1 <= robust.code_rate <= 0.9
                             and robust.redundancy >= 1):
            raise PixinwavError("scheme 'robust' with song=true needs model.robust.segment_frames in 8-1024, "
                                "code_rate in 0.1-0.9 and redundancy >= 1")
        if robust.code not in ("regular", "irregular"):
            raise PixinwavError(f"model.robust.code must be 'regular' or 'irregular', got {robust.code!r}")
        if not 1 <= robust.base_packets <= 4:
            raise PixinwavError("model.robust.base_packets must be 1-4 (a 30 s excerpt holds 4 base segments)")
        if robust.layer_codec not in ("avif-webp", "bare-av1"):
            raise PixinwavError(f"model.robust.layer_codec must be 'avif-webp' or 'bare-av1', got {robust.layer_codec!r}")
    return cfg


def _validate_unet(cfg: ModelConfig) -> None:
    unet = cfg.unet
    if cfg.hop > cfg.frame:
        raise PixinwavError(f"model.hop ({cfg.hop}) must be at most model.frame ({cfg.frame})")
    if unet.transform == "stdct" and unet.window == "hann":
        raise PixinwavError("model.unet.window 'hann' is zero at the frame edge, so the STDCT (no padding) cannot be "
                            "inverted; use 'hamming' or 'rect'")
    if unet.embedding == "scaled" and unet.cover_aware:
        raise PixinwavError("model.unet.embedding 'scaled' cannot be cover_aware")
    if unet.pixel_shuffle and cfg.image_channels > 4:
        raise PixinwavError("pixel shuffle packs at most 4 image channels")
    multiple = 8 ** len(cfg.widths)
    lo, hi = cfg.band_rows
    sizes = [("image plane", cfg.plane_size)]
    if unet.hide_at == "container" and unet.embedding == "residual":
        sizes += [("container bins", hi - lo), ("container frames", cfg.container_shape[1])]
    for name, size in sizes:
        if size % multiple:
            raise PixinwavError(f"{name} ({size}) must be divisible by {multiple} for a {len(cfg.widths)}-level U-Net")


def validate_train(cfg: TrainConfig) -> TrainConfig:
    for key, allowed in TRAIN_CHOICES.items():
        _choose("train", key, getattr(cfg, key), allowed)
    for key in ("steps", "batch_size", "val_every", "ckpt_every", "log_every", "sdtw_frame"):
        if getattr(cfg, key) < 1:
            raise PixinwavError(f"train.{key} must be positive, got {getattr(cfg, key)}")
    if not 0 <= cfg.beta <= 1:
        raise PixinwavError(f"train.beta must lie in [0, 1], got {cfg.beta}")
    return cfg


MODEL_PRESETS: dict[str, dict[str, Any]] = {
    # PixInWav 1's best model: RGB, pixel shuffle, residual-independent, STDCT 4096 x 1024.
    "paper-rgb": {},
    # Greyscale: the image is stretched x(16, 4) straight to the container, no pixel shuffle.
    "paper-gray": {"image_channels": 1, "unet": {"pixel_shuffle": False}},
    # PixInWav 2's STFT-magnitude container (n_fft 2047, hop 132 -> 1024 x 512).
    "paper2-stft": {"frame": 2047, "hop": 132, "frames": 512, "unet": {"transform": "stft", "window": "hann"}},
    # A CPU-trainable model: 64 x 64 RGB in 16,834 samples (0.38 s), narrow nets.
    # BatchNorm off: trained at batch 1 it normalises per clip, and eval mode's running averages then
    # disagree (validation L1 twice the training L1 in a BatchNorm run); PixInWav 2 dropped it too.
    "small-rgb": {"image_size": 64, "frame": 1024, "frames": 256, "widths": [16, 32],
                  "unet": {"synthesis": "least_squares", "snr_db": 25.0, "batchnorm": False, "reveal_norm": "row"}},
    # The fast architecture: paper geometry, both nets at image-plane resolution (512 x 512), BatchNorm-free,
    # the row-whitening receiver with matched (area) pooling, exact 25 dB SNR.
    "fast-rgb": {"widths": [16, 32], "unet": {"hide_at": "plane", "batchnorm": False, "reveal_norm": "row",
                                              "reveal_resize": "area", "synthesis": "least_squares", "snr_db": 25.0}},
    # Informed modulo coding at the paper's geometry (256 x 256 RGB in 67,522 samples), the shipped default.
    # No refiner: a 6 x 32 conv refiner (model.widths=[32,32,32,32,32,32]) trained through the channel left
    # validation SSIM where the training-free decoder has it (benchmarks/results/modulo_refiner_val.csv).
    "modulo-rgb": {"scheme": "modulo", "widths": []},
    # Cover-adaptive modulo coding at the same geometry: steps follow this cover's masking in 23 ms MDCT cells,
    # 18 dB under the local level, under 14.3 kHz (lossy sources often stop at 16 kHz: a change near that edge shows
    # in the band above it); 32,000 coefficients, the rest of the cells carry copies.
    "adaptive-rgb": {"scheme": "adaptive", "widths": [], "band": [0.0, 0.65]},
    # The robust scheme: 256 x 256 RGB as AVIF, LDPC-coded, in the MDCT (hop 512 at 16 kHz) of 300 Hz-7 kHz
    # of a whole song, 12 dB under its local level, about 0.9 kB in 30 s.
    "robust-rgb": {"scheme": "robust", "sample_rate": 16000, "hop": 512, "frame": 1024, "frames": 96,
                   "band": [0.0375, 0.875], "widths": []},
    # The robust scheme over the whole song (pixinwav-robust-v2): the same channel at 10 bins per bit, one
    # packet per 2 s segment under a rate-1/3 LDPC code (864 of 2,560 bits: 96 bytes of stream per packet); every
    # packet sent 1.5 times over, the copies' soft bits added up (tuned on training music).
    "robust-song-rgb": {"scheme": "robust", "song": True, "sample_rate": 16000, "hop": 512, "frame": 1024,
                        "frames": 96, "band": [0.0375, 0.875], "widths": [],
                        "robust": {"spread": 10, "code_rate": 0.3375, "redundancy": 1.5}},
    # pixinwav-robust-v3: robust-v2's channel, base image and layout, the sharp image's (or the file's) packets under an
    # irregular repeat-accumulate code of rate 0.225 (576 of 2,560 bits: 56 bytes of stream per packet), each sent
    # once: on a Gaussian channel 90 % of such packets decode at 0.286 bit per channel bit where v2's 1.5 copies of
    # rate 0.3375 need 0.442 (benchmarks/robust_code.py); tuned on training music (robust_song.py --code).
    "robust-song-irregular-rgb": {"scheme": "robust", "song": True, "sample_rate": 16000, "hop": 512, "frame": 1024,
                                  "frames": 96, "band": [0.0375, 0.875], "widths": [],
                                  "robust": {"spread": 10, "code_rate": 0.225, "redundancy": 1.0, "code": "irregular"}},
    # pixinwav-robust-v4: robust-v3's channel and packets, the photo's layers (the sharp image and the base) as AVIF
    # files without their container (15 bytes of properties instead of about 275; the receiver rebuilds the file),
    # encoded at libavif's speed 4 tuned for SSIM: at the same bytes, SSIM 0.02-0.03 higher (benchmarks/layer_codecs.py);
    # the coarse base in 4 packets (384 bytes) instead of 3, which a 30 s excerpt still holds (tuned on training music:
    # robust_song.py --split train --base-packets 4: SSIM >= 0.5 from an excerpt in 10 of 12 songs, 3 packets 8).
    "robust-song-av1-rgb": {"scheme": "robust", "song": True, "sample_rate": 16000, "hop": 512, "frame": 1024,
                            "frames": 96, "band": [0.0375, 0.875], "widths": [],
                            "robust": {"spread": 10, "code_rate": 0.225, "redundancy": 1.0, "code": "irregular",
                                       "layer_codec": "bare-av1", "base_packets": 4}},
    # pixinwav-robust-v5: robust-v4 with the change 9 dB under the song's local level instead of 12 (format 4 in the
    # layout header names the level, so any robust song model reads it at its own): for songs re-encoded at 64 kbit/s
    # or less. Tuned on training music (robust_song.py --split train --change-db D at -15 ... -6: the sharp photo back
    # through AAC 64 / Opus 32 in 1 / 1 of 12 songs at -12 dB, 8 / 10 at -9, 12 / 12 at -6, where the change is
    # louder than the song in 12 %, 20 % and 34 % of STFT cells).
    "robust-song-loud-rgb": {"scheme": "robust", "song": True, "sample_rate": 16000, "hop": 512, "frame": 1024,
                             "frames": 96, "band": [0.0375, 0.875], "widths": [],
                             "robust": {"spread": 10, "code_rate": 0.225, "redundancy": 1.0, "code": "irregular",
                                        "layer_codec": "bare-av1", "base_packets": 4, "change_db": -9.0}},
    # A toy model for tests: 32 x 32 RGB in 2,288 samples, 256 x 128 container.
    "tiny-rgb": {"image_size": 32, "frame": 256, "hop": 16, "frames": 128, "widths": [8, 16],
                 "unet": {"synthesis": "least_squares", "snr_db": 20.0, "batchnorm": False, "reveal_norm": "row"}},
}


# New trainings use the fast architecture unless a preset is named: at paper geometry it trains 45x faster than
# paper-rgb and revealed better images at equal steps and SNR (benchmarks/compare_quality.py).
DEFAULT_PRESET = "fast-rgb"


def model_config(preset: str = DEFAULT_PRESET, **overrides: Any) -> ModelConfig:
    """The preset's config with ``overrides`` (top-level keys, section dicts, or a section's keys given flat:
    ``model_config("robust-song-rgb", redundancy=2.0)``)."""
    if preset not in MODEL_PRESETS:
        raise PixinwavError(f"unknown model preset {preset!r}; choose one of {', '.join(MODEL_PRESETS)}")
    return validate_model(_build_model(merged(merged({"preset": preset}, MODEL_PRESETS[preset]), overrides)))


def model_with(cfg: ModelConfig, **changes: Any) -> ModelConfig:
    """``cfg`` with ``changes`` (as :func:`model_config` takes overrides), checked again."""
    return validate_model(_build_model(merged(to_dict(cfg), changes)))


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """A model dict with every section key inside its section: ``{"spread": 10}`` -> ``{"robust": {"spread": 10}}``.
    Model files and configs written before the sections (release 0.2.6 and earlier) hold them at the top; a
    section's own dict wins over a top-level key of the same name."""
    out: dict[str, Any] = {}
    values = {k: {} if k in SECTIONS and v is None else v for k, v in values.items()}  # (YAML's empty section)
    for key, value in values.items():
        if key in SECTION_OF:
            out.setdefault(SECTION_OF[key], {})[key] = value
        elif not (key in SECTIONS and isinstance(value, dict)):
            out[key] = value
    for key, value in values.items():
        if key in SECTIONS and isinstance(value, dict):
            out[key] = {**out.get(key, {}), **value}
    return out


def merged(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` over ``base`` (model dicts, either form), section by section."""
    out = nested(base)
    for key, value in nested(update).items():
        out[key] = {**out.get(key, {}), **value} if key in SECTIONS and isinstance(value, dict) else value
    return out


@dataclass
class DataConfig:
    train_images: str = ""
    train_audio: str = ""
    val_images: str = ""  # empty: a held-out part of train_images is not used; validation is skipped
    val_audio: str = ""
    val_pairs: int = 8
    crop_scale: list[float] = field(default_factory=lambda: [0.5, 1.0])  # random crop side / short side
    num_workers: int = 0


@dataclass
class TrainConfig:
    steps: int = 10000
    batch_size: int = 1
    lr: float = 1e-3
    beta: float = 0.25  # image weight: (1 - beta) * spectrogram MSE + beta * image L1
    wave_weight: float = 0.0  # lambda for the waveform term
    wave_loss: str = "l1"  # "l1" (PixInWav 2) or "sse" (what PixInWav 1's "soft-DTW" computed)
    sdtw_weight: float = 0.0  # genuine soft-DTW over frame sequences of the waveform
    sdtw_frame: int = 512
    sdtw_gamma: float = 1.0
    seed: int = 0
    val_every: int = 200
    ckpt_every: int = 200
    log_every: int = 10
    out_dir: str = "runs/default"
    tensorboard: bool = True
    wandb: bool = False
    wandb_mode: str = "offline"
    wandb_project: str = "pixinwav"
    device: str = "cpu"
    amp: str = "none"  # "bf16": the U-Nets in bfloat16 autocast (GPU); transforms and the 16-bit channel stay float32
    threads: int = 0  # 0: torch's default


@dataclass
class Config:
    model: ModelConfig = field(default_factory=lambda: model_config(DEFAULT_PRESET))
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def to_dict(obj) -> dict[str, Any]:
    return dataclasses.asdict(obj)


def scheme_dict(cfg: ModelConfig) -> dict[str, Any]:
    """``cfg`` as a dict without the sections its scheme does not read (what ``pixinwav info`` shows; they hold
    their defaults)."""
    unused = set(SECTIONS) - set(SCHEME_SECTIONS[cfg.scheme])
    return {k: v for k, v in to_dict(cfg).items() if k not in unused}


def _coerce(value: Any, kind: str, key: str) -> Any:
    """YAML reads ``1e-4`` as a string and ``3`` as an int: bring values to the field's declared type."""
    if value is None and "None" in kind:
        return None
    base = kind.split("|")[0].strip()
    try:
        if base == "float":
            return float(value)
        if base == "int":
            if float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        if base == "bool" and not isinstance(value, bool):
            raise ValueError
    except (TypeError, ValueError):
        raise PixinwavError(f"config key {key} must be {base}, got {value!r}") from None
    return value


def _build(cls, values: dict[str, Any], where: str):
    fields = {f.name: f.type for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise PixinwavError(f"unknown config key(s) in {where}: {', '.join(sorted(unknown))}")
    return cls(**{k: _coerce(v, str(fields[k]), f"{where}.{k}") for k, v in values.items()})


def _build_model(values: dict[str, Any]) -> ModelConfig:
    """The config of ``values``; the sections its scheme does not read keep their defaults, so two configs of one
    model are equal whatever else they were given (the flat model files of 0.2.6 and earlier carry every key)."""
    values = nested(values)
    sections = {}
    for name, cls in SECTIONS.items():
        if not isinstance(values.get(name, {}), dict):
            raise PixinwavError(f"config key model.{name} must be a mapping of options, got {values[name]!r}")
        sections[name] = _build(cls, values.pop(name, {}), f"model.{name}")
    cfg = dataclasses.replace(_build(ModelConfig, values, "model"), **sections)
    _check_choices(cfg)  # a bad value is refused even in a section the scheme does not read
    used = SCHEME_SECTIONS.get(cfg.scheme, tuple(SECTIONS))  # (an unknown scheme: validate_model names it)
    return dataclasses.replace(cfg, **{name: SECTIONS[name]() for name in SECTIONS if name not in used})


def model_config_from_dict(values: dict[str, Any]) -> ModelConfig:
    """A model config from its dict: the preset it names, then its values (sectioned, or flat as model files of
    release 0.2.6 and earlier store them)."""
    values = dict(values)
    preset = values.pop("preset", DEFAULT_PRESET)
    return validate_model(_build_model(merged(to_dict(model_config(preset)), values)))


def config_from_dict(values: dict[str, Any]) -> Config:
    unknown = set(values) - {"model", "data", "train"}
    if unknown:
        raise PixinwavError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    return Config(
        model=model_config_from_dict(values.get("model") or {}),
        data=_build(DataConfig, values.get("data") or {}, "data"),
        train=validate_train(_build(TrainConfig, values.get("train") or {}, "train")),
    )


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["train.lr=1e-4", "model.widths=[8,16]", "model.robust.spread=10"]`` -> nested dict; values are parsed as
    YAML."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise PixinwavError(f"override {pair!r} is not key=value")
        key, raw = pair.split("=", 1)
        parts = key.strip().split(".")
        if not (len(parts) == 2 or (len(parts) == 3 and parts[0] == "model" and parts[1] in SECTIONS)):
            raise PixinwavError(f"override key {key!r} must be section.name (e.g. train.lr) or model.<scheme>.name "
                                f"(e.g. model.robust.spread; schemes: {', '.join(SECTIONS)})")
        *path, name = parts
        target = out
        for part in path:
            target = target.setdefault(part, {})
        target[name] = yaml.safe_load(raw)
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise PixinwavError(f"config file not found: {path}") from None
        except yaml.YAMLError as exc:
            raise PixinwavError(f"config file {path} is not valid YAML: {exc}".splitlines()[0]) from None
        if not isinstance(values, dict):
            raise PixinwavError(f"config file {path} must hold a mapping of sections")
    for section, items in parse_overrides(overrides or []).items():
        if not isinstance(values.get(section) or {}, dict):
            raise PixinwavError(f"config file {path}: section {section} must be a mapping")
        current = values.get(section) or {}
        values[section] = merged(current, items) if section == "model" else {**current, **items}
    return config_from_dict(values)
