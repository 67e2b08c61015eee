"""Images in and out. Any Pillow mode (RGB, RGBA, L, P, 16-bit, ...) and size is brought to the model's
square size by a centred square crop of the short side followed by a Lanczos resize (the paper cropped
31/32 of the short side; we keep the whole short side so nothing of a square image is lost).
Tensors are ``[C, H, W]`` float32 in [0, 1]."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..arrays import as_numpy
from ..errors import PixinwavError
from ..files import atomic_write

if TYPE_CHECKING:
    import torch

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
MAX_PIXELS = 100_000_000  # refuse decompression bombs (a 10,000 x 10,000 photo is the largest accepted)
MIN_SIDE = 8
# A larger photo is box-averaged to this short side as soon as it is decoded (before its copies: upright turn,
# crop, float conversion), so a 10,000 x 10,000 16-bit PNG costs its decoded 200 MB once, briefly.
REDUCE_TO_SIDE = 2048
LONGEST_SENT_SIDE = 4096  # the longest side a model that sends the photo at its own size sends (--max-side caps it)


def open_image(path: str | Path, size_hint: int | None = None, long_side: int | None = None) -> Image.Image:
    """Open, upright (EXIF orientation applied: phone photos are stored sideways with a tag), decoded at no
    more than needed: with ``size_hint``, JPEGs decode at a reduced scale still at least twice that size; any
    photo with a short side over ``REDUCE_TO_SIDE`` is box-averaged to it (aspect kept). With ``long_side``
    (models that send the photo at its own size), the limit is the long side instead, so nothing the model
    could send is thrown away."""
    if str(path) == "-":
        raise PixinwavError("reading the image from standard input is not supported; give a file name")
    path = Path(path)
    if not path.exists():
        raise PixinwavError(f"image file not found: {path}")
    if path.is_dir():
        raise PixinwavError(f"expected an image file, got a folder: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            img = Image.open(path)
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise PixinwavError(f"{path} is {w} x {h} pixels, above the {MAX_PIXELS:,}-pixel limit")
            # how far the photo is reduced: its short side to REDUCE_TO_SIDE, or its long side to long_side
            scale = min(1.0, long_side / max(w, h) if long_side else REDUCE_TO_SIDE / min(w, h))
            if img.format == "JPEG":
                side = min(2 * size_hint, REDUCE_TO_SIDE) if size_hint else None
                img.draft(img.mode, (side, side) if side else (max(1, int(w * scale)), max(1, int(h * scale))))
            img.load()
            scale = min(1.0, long_side / max(img.size) if long_side else REDUCE_TO_SIDE / min(img.size))
            if scale < 1.0 and img.mode not in ("1", "P"):  # (palette images resize by nearest)
                reduced = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                                     Image.Resampling.BOX)
                img.close()
                img = reduced
            img = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PixinwavError(f"{path} is too large (over {MAX_PIXELS:,} pixels; possible decompression bomb)") from None
    except UnidentifiedImageError:
        raise PixinwavError(f"{path} is not an image Pillow can read") from None
    except OSError as exc:
        raise PixinwavError(f"{path} is a corrupt or truncated image ({exc})") from None
    if min(img.size) < MIN_SIDE:
        raise PixinwavError(f"{path} is {img.size[0]} x {img.size[1]} pixels; need at least {MIN_SIDE} x {MIN_SIDE}")
    return img


def to_array(img: Image.Image, channels: int) -> np.ndarray:
    """Any mode -> ``[H, W, channels]`` float32 in [0, 1]. 16- and 32-bit modes are scaled by their range;
    transparency is composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        grey = np.clip(arr / top, 0, 1).astype(np.float32)
        return np.repeat(grey[..., None], channels, axis=2) if channels == 3 else grey[..., None]
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    arr = np.asarray(img.convert("RGB" if channels == 3 else "L"), dtype=np.float32) / 255.0
    return arr if arr.ndim == 3 else arr[..., None]


def crop_square(img: Image.Image, box_side: int | None = None, left: int | None = None, top: int | None = None) -> Image.Image:
    """Square crop: centred and as large as possible unless a side and corner are given."""
    w, h = img.size
    side = box_side or min(w, h)
    left = (w - side) // 2 if left is None else left
    top = (h - side) // 2 if top is None else top
    return img.crop((left, top, left + side, top + side))


def prepare_array(img: Image.Image, size: int, channels: int) -> np.ndarray:
    """Pillow image -> model input ``[C, size, size]`` float32 (centred square crop, Lanczos resize; a photo of more
    than 8 bits a channel is resized in floats, by the antialiased bicubic of :func:`~pixinwav.tiles.scaled`)."""
    from ..tiles import scaled

    img = crop_square(img)
    if img.mode not in ("RGB", "L", "RGBA", "LA", "P", "PA"):
        if img.width > 2 * size:  # box-average in Pillow first: a 16-bit photo becomes floats only at twice the size
            img = img.resize((2 * size, 2 * size), Image.Resampling.BOX)
        arr = to_array(img, channels)  # high bit depth: scale first, resize in float
        return scaled(np.ascontiguousarray(arr.transpose(2, 0, 1)), size, size)
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    return np.ascontiguousarray(to_array(img, channels).transpose(2, 0, 1))


def prepare_image(img: Image.Image, size: int, channels: int) -> torch.Tensor:
    """:func:`prepare_array` as a tensor (the training data)."""
    import torch

    return torch.from_numpy(prepare_array(img, size, channels))


def load_image(path: str | Path, size: int, channels: int) -> torch.Tensor:
    return prepare_image(open_image(path), size, channels)


def image_format(path: str | Path, mode: str = "RGB") -> str:
    """The Pillow format an image of ``mode`` is written in at ``path`` (by its extension), or an error naming why
    not: an unknown extension, a format Pillow only reads (.psd), one that cannot hold the mode (.xbm: 1-bit only)."""
    import io

    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt is None:
        raise PixinwavError(f"cannot tell the image format from {path}; use .png")
    if fmt not in Image.SAVE:
        raise PixinwavError(f"cannot write {fmt} images (Pillow only reads them); use .png")
    try:
        Image.new(mode, (8, 8)).save(io.BytesIO(), format=fmt)
    except (OSError, ValueError, KeyError) as exc:
        raise PixinwavError(f"cannot write an {mode} image as {Path(path).suffix} ({exc}); use .png") from None
    return fmt


def to_pil(image) -> Image.Image:
    """``[C, H, W]`` in [0, 1] (an array or a tensor) -> an 8-bit Pillow image (RGB or L)."""
    arr = (np.clip(as_numpy(image), 0, 1).transpose(1, 2, 0) * 255).round().astype(np.uint8)
    return Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)


def save_image(path: str | Path, image, force: bool = False) -> Path:
    """``[C, H, W]`` in [0, 1] -> 8-bit PNG (or any Pillow format by extension that holds the image), atomically."""
    pil = to_pil(image)
    fmt = image_format(path, pil.mode)
    return atomic_write(Path(path), lambda tmp: pil.save(tmp, format=fmt), force)
