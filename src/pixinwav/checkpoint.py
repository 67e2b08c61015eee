"""Model and training checkpoints: safetensors tensors + plain JSON metadata. Loading never unpickles.

Metadata keys: ``format`` ("pixinwav"), ``format_version``, ``kind`` ("model" or "train"), ``config``
(JSON) and, for training checkpoints, ``state`` (JSON: step, best metric, optimizer hyper-parameters,
Python-side RNG). Tensors: ``model/...`` weights, ``optim/<param>/<name>`` Adam state, ``rng/torch``.
Writes go to a temporary file renamed into place, so a kill never leaves a broken checkpoint. Files are read and
written as NumPy arrays (``safetensors.numpy``), so a model without nets loads without importing torch.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from .arrays import as_numpy
from .config import Config, ModelConfig, config_from_dict, model_config_from_dict, to_dict
from .files import atomic_write
from .errors import PixinwavError
from .models import StegoScheme, build_model

if TYPE_CHECKING:
    import torch

FORMAT = "pixinwav"
FORMAT_VERSION = 1


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write(path: Path, tensors: dict[str, Any], meta: dict[str, Any]) -> Path:
    """``tensors``: NumPy arrays or torch tensors (written as the same bytes)."""
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), **{k: json.dumps(v) for k, v in meta.items()}}
    tensors = {k: np.asarray(as_numpy(v), order="C") for k, v in tensors.items()}
    return atomic_write(Path(path), lambda tmp: save_file(tensors, tmp, metadata=meta), force=True)


def read_file(path: str | Path, arrays: bool = True) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays (none unless ``arrays``) and decoded metadata of a pixinwav safetensors file, with one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise PixinwavError(f"model file not found: {path}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            raw = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()} if arrays else {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise PixinwavError(f"{path} is not a readable model file ({str(exc).splitlines()[0]})") from None
    if raw.get("format") != FORMAT:
        raise PixinwavError(f"{path} is a safetensors file but not a pixinwav model")
    version = raw.get("format_version", "?")
    if version != str(FORMAT_VERSION):
        raise PixinwavError(f"{path} has model format version {version}; this pixinwav reads version {FORMAT_VERSION}")
    try:
        meta = {k: json.loads(v) for k, v in raw.items() if k not in ("format", "format_version")}
    except json.JSONDecodeError:
        raise PixinwavError(f"{path} has corrupt metadata") from None
    return tensors, meta


def save_model(path: str | Path, model: StegoScheme, card: dict[str, Any] | None = None) -> Path:
    """A release file: weights and the model config (and an optional card) only."""
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    return _write(Path(path), tensors, {"kind": "model", "config": to_dict(model.cfg), "card": card or {}})


def _load_weights(model: StegoScheme, tensors: dict[str, np.ndarray], path: Path) -> None:
    state = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise PixinwavError(f"{path} does not match its config: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for k, v in state.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise PixinwavError(f"{path}: tensor {k} has shape {tuple(v.shape)}, the config needs {tuple(expected[k].shape)}")
    model.load_state_dict(state)


def config_of(meta: dict[str, Any], path: Path) -> ModelConfig:
    """The model config a file's metadata holds (a release file's, or a training checkpoint's model section)."""
    try:
        if meta.get("kind") == "train":
            return config_from_dict(meta["config"]).model
        return model_config_from_dict(meta["config"])
    except (KeyError, TypeError, PixinwavError) as exc:
        raise PixinwavError(f"{path} has an unusable config ({exc})") from None


def load_model_file(path: str | Path) -> tuple[StegoScheme, dict[str, Any]]:
    """Rebuild a model from a release file or a training checkpoint. Returns (model in eval mode, card)."""
    path = Path(path)
    tensors, meta = read_file(path)
    model = build_model(config_of(meta, path))
    _load_weights(model, tensors, path)
    return model.eval(), meta.get("card") or {}


# --- training checkpoints --------------------------------------------------------------------------------
def save_training(path: str | Path, cfg: Config, model: StegoScheme, optimizer: torch.optim.Optimizer,
                  step: int, best: float | None, extra: dict[str, Any] | None = None) -> Path:
    import torch

    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for pid, pstate in opt["state"].items():
        for name, value in pstate.items():
            tensors[f"optim/{pid}/{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng/torch"] = torch.get_rng_state()
    state = {"step": step, "best": best, "param_groups": opt["param_groups"], **(extra or {})}
    return _write(Path(path), tensors, {"kind": "train", "config": to_dict(cfg), "state": state})


def load_training(path: str | Path, model: StegoScheme, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore model, optimizer and torch RNG in place; returns the JSON state (step, best, ...)."""
    import torch

    path = Path(path)
    tensors, meta = read_file(path)
    if meta.get("kind") != "train":
        raise PixinwavError(f"{path} is a release model, not a training checkpoint; it cannot be resumed")
    _load_weights(model, tensors, path)
    state = meta["state"]
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, pid, name = key.split("/", 2)
            opt_state.setdefault(int(pid), {})[name] = torch.from_numpy(value)
    optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})
    torch.set_rng_state(torch.from_numpy(tensors["rng/torch"]))
    return state

