"""Configs: YAML and overrides, every value checked when the config is built, nothing written for a bad one."""
import dataclasses
from pathlib import Path

import pytest

from pixinwav.cli import main
from pixinwav.config import (SECTIONS, RobustOptions, UNetOptions, load_config, model_config, model_config_from_dict,
                              parse_overrides, to_dict)
from pixinwav.errors import PixinwavError
from pixinwav.loader import load_scheme

ROOT = Path(__file__).parents[1]


def test_config_yaml_and_overrides(tmp_path):
    (tmp_path / "c.yaml").write_text("model:\n  preset: tiny-rgb\ntrain:\n  lr: 0.01\n")
    cfg = load_config(tmp_path / "c.yaml", ["train.lr=1e-4", "model.widths=[4, 8]", "data.crop_scale=[0.9,1.0]"])
    assert cfg.train.lr == 1e-4 and cfg.model.widths == [4, 8] and cfg.model.image_size == 32
    assert cfg.data.crop_scale == [0.9, 1.0]
    assert parse_overrides(["train.wandb=true"]) == {"train": {"wandb": True}}
    for bad in (["lr=1"], ["train.lr"], ["model.nonsense=1"], ["train.steps=ten"], ["train.steps=1.5"]):
        with pytest.raises(PixinwavError):
            load_config(None, bad)


@pytest.mark.parametrize("override,match", [
    ("model.synthesis=x", "synthesis"), ("model.window=hann", "window"), ("model.window=kaiser", "window"),
    ("model.band=0.5", "band"), ("model.band=[0.5]", "band"), ("model.band=[0.2,1.5]", "band"),
    ("model.widths=8", "widths"), ("model.scheme=lsb", "scheme"), ("model.transform=wavelet", "transform"),
    ("model.stft_part=both", "stft_part"), ("train.wave_loss=l2", "wave_loss"), ("train.steps=0", "steps"),
    ("train.beta=2", "beta"), ("model.hop=9999", "hop"),
])
def test_bad_values_are_refused_when_loading(override, match):
    with pytest.raises(PixinwavError, match=match):
        load_config(None, ["model.preset=tiny-rgb", override])


def test_scheme_rules_are_checked_in_the_config():
    with pytest.raises(PixinwavError, match="modulo.min_step_lsb"):
        model_config("modulo-rgb", min_step_lsb=0.0)
    with pytest.raises(PixinwavError, match="robust.spread"):
        model_config("robust-song-rgb", robust={"spread": 0})
    with pytest.raises(PixinwavError, match="adaptive.bits_per_cell"):
        model_config("adaptive-rgb", song=True)


def test_each_scheme_has_its_own_section(tmp_path):
    """``model.<scheme>.<key>`` in YAML and overrides; a section's key given at the top (configs and model files of
    0.2.6 and earlier, or shorthand) lands in its section; nothing else is taken."""
    (tmp_path / "c.yaml").write_text("model:\n  preset: adaptive-rgb\n  adaptive:\n    masking_db: -24.0\n"
                                     "  bits_per_cell: 4\n")
    cfg = load_config(tmp_path / "c.yaml", ["model.adaptive.notch_db=-40", "model.song=true"]).model
    assert (cfg.adaptive.masking_db, cfg.adaptive.bits_per_cell, cfg.adaptive.notch_db, cfg.song) == (-24.0, 4, -40.0, True)
    assert cfg.unet == UNetOptions() and cfg.robust == RobustOptions()  # the sections this scheme does not use
    assert parse_overrides(["model.robust.spread=12"]) == {"model": {"robust": {"spread": 12}}}
    # an explicit section value wins over the same key given at the top
    assert load_config(None, ["model.preset=robust-song-rgb", "model.redundancy=3", "model.robust.redundancy=2"]
                       ).model.robust.redundancy == 2.0
    flat = {k: v for k, v in to_dict(cfg).items() if k not in SECTIONS}
    for section in SECTIONS:
        flat.update(to_dict(cfg)[section])  # how model files of 0.2.6 and earlier store their config
    assert model_config_from_dict(flat) == cfg == model_config_from_dict(to_dict(cfg))
    for bad, match in ((["model.adaptive.nonsense=1"], "model.adaptive"), (["model.train.lr=1"], "model.<scheme>"),
                       (["model.robust.spread=ten"], "model.robust.spread"), (["model.unet.window=kaiser"], "window")):
        with pytest.raises(PixinwavError, match=match):
            load_config(None, ["model.preset=robust-song-rgb", *bad])
    (tmp_path / "empty.yaml").write_text("model:\n  preset: robust-song-rgb\n  robust:\n")  # an empty section
    assert load_config(tmp_path / "empty.yaml").model.robust == model_config("robust-song-rgb").robust
    (tmp_path / "bad.yaml").write_text("model:\n  robust: 3\n")
    with pytest.raises(PixinwavError, match="model.robust must be a mapping"):
        load_config(tmp_path / "bad.yaml")


def test_train_with_a_bad_config_writes_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "model.preset=tiny-rgb", "model.synthesis=x", f"train.out_dir={run}", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pixinwav: error:") and "synthesis" in err and len(err.splitlines()) == 1
    assert not run.exists()


@pytest.mark.parametrize("name, path", [
    ("pixinwav-adaptive-v5", "adaptive-song-irregular-rgb.yaml"),
    ("pixinwav-adaptive-v4", "adaptive-song-past-rgb.yaml"), ("pixinwav-adaptive-v3", "adaptive-song-rgb.yaml"),
    ("pixinwav-adaptive-v2", "adaptive-file-rgb.yaml"),
    ("pixinwav-adaptive-v1", "adaptive-rgb.yaml"), ("pixinwav-modulo-v1", "modulo-rgb.yaml"),
    ("pixinwav-robust-v1", "robust-rgb.yaml"), ("pixinwav-robust-v2", "robust-song-rgb.yaml"),
    ("pixinwav-robust-v3", "robust-song-irregular-rgb.yaml"), ("pixinwav-robust-v4", "robust-song-av1-rgb.yaml"),
    ("pixinwav-robust-v5", "robust-song-loud-rgb.yaml")])
def test_each_shipped_model_is_the_config_that_retrains_it(name, path):
    """The config a shipped model file holds (flat, written by 0.2.6 and earlier) loads equal to the one its YAML in
    configs/ builds: `pixinwav train --config` rebuilds that model. Options of other schemes do not count."""
    assert load_scheme(name)[0].cfg == load_config(ROOT / "configs" / path).model


def test_adaptive_v4_is_adaptive_v3_but_for_how_it_measures_a_cells_level():
    """pixinwav-adaptive-v4 differs from adaptive-v3 in how a cell's level is measured and how far under it the change
    sits; its statistics (which rank the bins) are v3's to float rounding, so its layout is v3's."""
    import numpy as np

    v4, v3 = (load_scheme(name)[0] for name in ("pixinwav-adaptive-v4", "pixinwav-adaptive-v3"))
    assert (v4.cfg.adaptive.level_measure, v4.cfg.adaptive.masking_db) == ("past-magnitude", -22.0)
    assert (v3.cfg.adaptive.level_measure, v3.cfg.adaptive.masking_db) == ("centred-power", -24.0)
    assert dataclasses.replace(v4.cfg.adaptive, level_measure="centred-power", masking_db=-24.0) == v3.cfg.adaptive
    assert dataclasses.replace(v4.cfg, adaptive=v3.cfg.adaptive) == v3.cfg
    assert np.array_equal(v4.window.layout("k").cells, v3.window.layout("k").cells)


def test_adaptive_v5_is_adaptive_v4_but_for_a_quiet_windows_code():
    """pixinwav-adaptive-v5 differs from adaptive-v4 in the code of a low-rate window alone: the same statistics (to
    the bit), cells and change."""
    import numpy as np

    v5, v4 = (load_scheme(name)[0] for name in ("pixinwav-adaptive-v5", "pixinwav-adaptive-v4"))
    assert (v5.cfg.adaptive.low_rate_code, v4.cfg.adaptive.low_rate_code) == ("irregular", "regular")
    assert dataclasses.replace(v5.cfg.adaptive, low_rate_code="regular") == v4.cfg.adaptive
    assert dataclasses.replace(v5.cfg, adaptive=v4.cfg.adaptive) == v4.cfg
    assert np.array_equal(v5.window.layout("k").cells, v4.window.layout("k").cells)


def test_robust_v5_is_robust_v4_but_for_its_change_level():
    """pixinwav-robust-v5 (the change 9 dB under the song's level, for 64 kbit/s codecs) differs from robust-v4 in
    that one setting (and its preset's name), which its layout header's format names to the receiver."""
    v5, v4 = (load_scheme(name)[0].cfg for name in ("pixinwav-robust-v5", "pixinwav-robust-v4"))
    assert v5.robust.change_db == -9.0 and v4.robust.change_db == -12.0
    louder = to_dict(v4)
    louder["robust"]["change_db"], louder["preset"] = -9.0, v5.preset
    assert model_config_from_dict(louder) == v5
