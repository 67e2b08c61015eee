"""The stego schemes behind one interface (:class:`StegoScheme`), and the table that builds them from a config."""
from ..config import ModelConfig
from .adaptive import AdaptiveStego
from .adaptive_song import AdaptiveSongStego
from .base import Extracted, Hidden, Sent, StegoScheme
from .modulo import ModuloStego
from .robust import RobustStego
from .robust_song import RobustSongStego
from .song import SongStego
from .unet import UNet
from .unet_stego import UNetStego

# config ``model.scheme`` -> the class that implements it
SCHEMES: dict[str, type[StegoScheme]] = {"unet": UNetStego, "modulo": ModuloStego, "adaptive": AdaptiveStego,
                                         "robust": RobustStego}


def build_model(cfg: ModelConfig) -> StegoScheme:
    """The model a (validated) config describes."""
    if cfg.song:  # the whole-song variant of a window scheme
        return {"robust": RobustSongStego, "adaptive": AdaptiveSongStego}.get(cfg.scheme, SongStego)(cfg)
    return SCHEMES[cfg.scheme](cfg)


__all__ = ["SCHEMES", "AdaptiveSongStego", "AdaptiveStego", "Extracted",
           "Hidden", "Sent",
           "ModuloStego", "RobustSongStego", "RobustStego", "SongStego", "StegoScheme", "UNet", "UNetStego", "build_model"]
