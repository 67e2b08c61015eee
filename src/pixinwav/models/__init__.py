from .stego import StegoModel, build_model
from .unet import UNet

__all__ = ["StegoModel", "UNet", "build_model"]
