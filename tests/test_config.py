"""Configs: YAML and overrides, every value checked when the config is built, nothing written for a bad one."""
import pytest

from pixinwav.cli import main
from pixinwav.config import load_config, model_config, parse_overrides
from pixinwav.errors import PixinwavError


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


def test_modulo_rules_are_checked_in_the_config():
    with pytest.raises(PixinwavError, match="snr_db"):
        model_config("modulo-rgb", snr_db=20.0)
    with pytest.raises(PixinwavError, match="min_step_lsb"):
        model_config("modulo-rgb", min_step_lsb=0.0)


def test_train_with_a_bad_config_writes_nothing(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "model.preset=tiny-rgb", "model.synthesis=x", f"train.out_dir={run}", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pixinwav: error:") and "synthesis" in err and len(err.splitlines()) == 1
    assert not run.exists()
