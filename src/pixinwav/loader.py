"""Finding and loading models: the registry of shipped models, names or paths, the sha256 check."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import PixinwavError

if TYPE_CHECKING:
    from .config import ModelConfig
    from .models import StegoScheme
# (the checkpoint reader and the models are imported when a model is loaded: listing the shipped models, as
# `pixinwav info` does, then takes no torch)

# (pixinwav-adaptive-v4 in 0.2.22 and 0.2.23, v3 in 0.2 to 0.2.21, pixinwav-modulo-v1 up to 0.1)
DEFAULT_MODEL = "pixinwav-adaptive-v5"


def registry() -> dict[str, dict]:
    """Models shipped inside the package: name -> {file, sha256, summary}."""
    text = resources.files("pixinwav").joinpath("weights/registry.json").read_text()
    return json.loads(text)


def resolve_model(name_or_path: str | Path | None) -> tuple[Path, str | None]:
    """A registered name or a file path -> (file, expected sha256 or None)."""
    name_or_path = str(name_or_path or DEFAULT_MODEL)
    models = registry()
    if name_or_path in models:
        entry = models[name_or_path]
        path = Path(str(resources.files("pixinwav").joinpath("weights", entry["file"])))
        return path, entry["sha256"]
    path = Path(name_or_path)
    if not path.exists():
        raise PixinwavError(f"no model file {path} and no shipped model of that name (shipped: {', '.join(models)})")
    return path, None


def model_config(name_or_path: str | Path | None = None) -> "ModelConfig":
    """A shipped or saved model's config, read from its file's metadata alone (no weights, no scheme built)."""
    from .checkpoint import config_of, read_file

    path, _ = resolve_model(name_or_path)
    return config_of(read_file(path, arrays=False)[1], path)


def load_scheme(name_or_path: str | Path | None = None) -> tuple["StegoScheme", dict[str, Any], Path]:
    """(model in eval mode, card, file) for a shipped name (hash-checked) or a model / checkpoint file."""
    from .checkpoint import load_model_file, sha256

    path, expected = resolve_model(name_or_path)
    if expected is not None:
        if not path.is_file():
            raise PixinwavError(f"shipped model file is missing from the installation: {path}")
        actual = sha256(path)
        if actual != expected:
            raise PixinwavError(f"shipped model {path.name} is corrupt (sha256 {actual[:12]}..., expected {expected[:12]}...)")
    model, card = load_model_file(path)
    return model, card, path
