"""pixinwav: hide images inside real audio files with deep networks (PixInWav), and reveal them again."""
__version__ = "0.1.0"

from .api import Stego, load_model  # noqa: E402
from .errors import PixinwavError  # noqa: E402

__all__ = ["PixinwavError", "Stego", "load_model", "__version__"]
