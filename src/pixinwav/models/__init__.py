"""The stego schemes behind one interface (:class:`StegoScheme`), and the table that builds them from a config.

A scheme's module is imported when a model of it is built: the adaptive and robust schemes never import torch
(the modulo and U-Net schemes do), so loading the default model takes none of torch's start-up."""
from importlib import import_module

from ..config import ModelConfig
from .base import Extracted, Hidden, Sent, StegoScheme

# config ``model.scheme`` (and ``model.song``: the whole-song variant) -> (module, class) that implements it
SCHEME_CLASSES: dict[tuple[str, bool], tuple[str, str]] = {
    ("unet", False): ("unet_stego", "UNetStego"), ("modulo", False): ("modulo", "ModuloStego"),
    ("adaptive", False): ("adaptive", "AdaptiveStego"), ("robust", False): ("robust", "RobustStego"),
    ("modulo", True): ("song", "SongStego"), ("adaptive", True): ("adaptive_song", "AdaptiveSongStego"),
    ("robust", True): ("robust_song", "RobustSongStego")}


def scheme_class(scheme: str, song: bool = False) -> type[StegoScheme]:
    module, name = SCHEME_CLASSES[scheme, song]
    return getattr(import_module(f".{module}", __name__), name)


def build_model(cfg: ModelConfig) -> StegoScheme:
    """The model a (validated) config describes (the window modulo scheme with ``widths``: with its refiner)."""
    if cfg.scheme == "modulo" and not cfg.song and cfg.widths:
        return getattr(import_module(".refiner", __name__), "RefinedModuloStego")(cfg)
    return scheme_class(cfg.scheme, cfg.song)(cfg)


_LAZY = {"AdaptiveSongStego": "adaptive_song", "AdaptiveStego": "adaptive", "ModuloStego": "modulo",
         "RefinedModuloStego": "refiner",
         "RobustSongStego": "robust_song", "RobustStego": "robust", "SongStego": "song", "UNet": "unet",
         "UNetStego": "unet_stego", "NetScheme": "net_scheme"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SCHEME_CLASSES", "Extracted", "Hidden", "Sent", "StegoScheme", "build_model", "scheme_class", *sorted(_LAZY)]
