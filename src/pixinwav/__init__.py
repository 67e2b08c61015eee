"""pixinwav: hide images inside real audio files with deep networks (PixInWav), and reveal them again."""
__version__ = "0.2.26"

from .errors import PixinwavError  # noqa: E402

__all__ = ["PixinwavError", "Stego", "load_model", "__version__"]


def __getattr__(name: str):
    # ``pixinwav.Stego`` / ``pixinwav.load_model`` import the API on first use, so the command line can decode a
    # large photo before a model's libraries are loaded (and torch only for the models that need it).
    if name in ("Stego", "load_model"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'pixinwav' has no attribute {name!r}")
