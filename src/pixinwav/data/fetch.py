"""`pixinwav data fetch`: real training and validation data from pinned Debian packages.

Each package is downloaded with `apt-get download` into a cache (or taken from a folder of .deb files),
unpacked with `dpkg-deb -x` into the cache (nothing is installed system-wide), and the files a split needs are
linked into ``DEST/{train,val}_{images,audio}/<package>/``. Validation photos come from the scikit-image and
matplotlib wheels. A manifest (``DEST/manifest.csv``: file, package, version, licence, split, kind, seconds or
pixels) lists every file. Running it again skips what is already there, so an interrupted fetch resumes.
"""
from __future__ import annotations

import csv
import glob
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..errors import PixinwavError


@dataclass(frozen=True)
class Source:
    package: str
    version: str
    split: str  # "train" or "val"
    kind: str  # "images" or "audio"
    patterns: tuple[str, ...]  # globs inside the unpacked package
    one_per_folder: bool = False  # wallpaper packages ship one photo at many sizes: keep the largest
    licence: str | None = None  # where the copyright file's first License: field is not the files' own


SOURCES = [
    Source("cimg-doc", "3.2.1+dfsg-1", "train", "images", ("usr/share/doc/cimg-dev/html/img/postcard*.jpg",)),
    Source("mate-backgrounds", "1.26.0-1", "train", "images", ("usr/share/backgrounds/mate/nature/*.jpg",)),
    Source("lomiri-wallpapers-16.04", "20.04.0-2", "train", "images", ("usr/share/backgrounds/*.jpg",)),
    Source("lomiri-wallpapers-20.04", "20.04.0-2", "train", "images", ("usr/share/backgrounds/*.jpg",)),
    Source("plasma-workspace-wallpapers", "4:5.27.5-2", "train", "images",
           ("usr/share/wallpapers/*/contents/images/*.jpg", "usr/share/wallpapers/*/contents/images/*.png"), True),
    Source("palapeli-data", "4:22.12.3-1", "train", "images", ("usr/share/palapeli/collection/*.jpg",)),
    # group photos and face crops; not video_frames/ (151 near-identical frames of one clip)
    Source("libdlib19.1", "19.24+dfsg-1", "train", "images",
           ("usr/share/doc/libdlib19.1/examples/*.jpg", "usr/share/doc/libdlib19.1/examples/faces/*.jpg",
            "usr/share/doc/libdlib19.1/examples/johns/**/*.jpg")),
    Source("warzone2100-music", "4.3.3-3", "train", "audio", ("usr/share/games/warzone2100/music/**/*.opus",)),
    Source("wesnoth-1.16-music", "1:1.16.9-1", "train", "audio", ("usr/share/games/wesnoth/1.16/data/core/music/*.ogg",)),
    Source("hedgewars-data", "1.0.2-6", "train", "audio", ("usr/share/games/hedgewars/Data/Music/**/*.ogg",)),
    Source("singularity-music", "007-2", "train", "audio", ("usr/share/games/singularity/music/*.ogg",)),
    # validation music of four games and composers, in four styles, so a result is not one soundtrack's
    Source("drascula-music", "1.0+ds4-2", "val", "audio", ("usr/share/scummvm/drascula/audio/*.ogg",)),
    Source("freedroidrpg-data", "1.0-1", "val", "audio", ("usr/share/freedroidrpg/data/sound/music/*.ogg",)),
    Source("supertux-data", "0.6.3-2", "val", "audio", ("usr/share/games/supertux2/music/**/*.ogg",),
           licence="GPL-2+, CC-BY-SA or CC0 per track (the package's copyright file)"),
    Source("warmux-data", "1:11.04.1+repack2-4", "val", "audio", ("usr/share/games/warmux/music/ingame/*.ogg",),
           licence="GPL-2+"),
]
SKIMAGE_PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina"]


def licence_of(root: Path, package: str) -> str:
    """The first ``License:`` field of the package's Debian copyright file."""
    copyright_file = root / "usr" / "share" / "doc" / package / "copyright"
    if copyright_file.exists():
        for line in copyright_file.read_text(errors="replace").splitlines():
            if line.startswith("License:") and line.split(":", 1)[1].strip():
                return line.split(":", 1)[1].strip()
    return "see the package's copyright file"


def deb_file(source: Source, cache: Path, debs: Path | None) -> Path:
    """The package's .deb in the cache: copied from ``debs`` if given, else downloaded with apt-get."""
    folder = cache / "debs"
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob(f"{source.package}_*.deb"))
    if found:
        return found[0]
    if debs is not None:
        offered = sorted(Path(debs).glob(f"{source.package}_*.deb"))
        if not offered:
            raise PixinwavError(f"no {source.package}_*.deb in {debs}")
        shutil.copy2(offered[0], folder / offered[0].name)
        return folder / offered[0].name
    if shutil.which("apt-get") is None:
        raise PixinwavError("apt-get not found: data fetch needs a Debian-based system (or --debs DIR)")
    cmd = ["apt-get", "download", "-o", "APT::Sandbox::User=root", f"{source.package}={source.version}"]
    run = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if run.returncode != 0:
        raise PixinwavError(f"apt-get download {source.package}={source.version} failed "
                            f"(run 'apt-get update' first?): {(run.stderr.strip().splitlines() or [''])[-1]}")
    return sorted(folder.glob(f"{source.package}_*.deb"))[0]


def unpack(source: Source, cache: Path, debs: Path | None) -> Path:
    root = cache / "root" / source.package
    done = root / ".unpacked"
    if not done.exists():
        deb = deb_file(source, cache, debs)
        root.mkdir(parents=True, exist_ok=True)
        run = subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True)
        if run.returncode != 0:
            raise PixinwavError(f"dpkg-deb could not unpack {deb.name}: {run.stderr.strip()}")
        done.touch()
    return root


def select(source: Source, root: Path) -> list[Path]:
    files = sorted({Path(p) for pattern in source.patterns for p in glob.glob(str(root / pattern), recursive=True)})
    if source.one_per_folder:  # the largest rendition of each wallpaper (<name>/contents/images/<size>.jpg)
        by_wallpaper: dict[Path, list[Path]] = {}
        for f in files:
            by_wallpaper.setdefault(f.parents[2], []).append(f)
        files = sorted(max(group, key=lambda f: f.stat().st_size) for group in by_wallpaper.values())
    return files


def describe(path: Path, kind: str) -> str:
    if kind == "audio":
        import soundfile as sf

        return f"{sf.info(str(path)).duration:.2f} s"
    from PIL import Image

    with Image.open(path) as img:
        return f"{img.size[0]} x {img.size[1]}"


def _link(src: Path, dst: Path) -> None:
    if dst.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    src = src.resolve()  # packages ship symlinks between sizes; link the real file
    try:
        dst.hardlink_to(src)  # no second copy on disk
    except OSError:
        shutil.copy2(src, dst)


def validation_photos(dest: Path) -> list[dict]:
    """Photos bundled in PyPI wheels: scikit-image's test images and matplotlib's Grace Hopper."""
    import numpy as np
    from PIL import Image

    rows = []
    folder = dest / "val_images"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import skimage
        import skimage.data
    except ImportError:
        raise PixinwavError("validation photos need scikit-image: pip install scikit-image") from None
    for name in SKIMAGE_PHOTOS:
        out = folder / "scikit-image" / f"{name}.png"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.asarray(getattr(skimage.data, name)())).convert("RGB").save(out)
        rows.append({"file": out, "package": "scikit-image (PyPI)", "version": skimage.__version__,
                     "licence": "public domain / CC0 (scikit-image data README)", "split": "val", "kind": "images"})
    import matplotlib

    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if hopper.exists():
        out = folder / "matplotlib" / "grace_hopper.jpg"
        _link(hopper, out)
        rows.append({"file": out, "package": "matplotlib (PyPI)", "version": matplotlib.__version__,
                     "licence": "public domain (US Navy photo)", "split": "val", "kind": "images"})
    return rows


def fetch(dest: str | Path = "data/debian", cache: str | Path | None = None, debs: str | Path | None = None,
          only: list[str] | None = None, progress: bool = True) -> Path:
    """Build the splits under ``dest`` and return the manifest path. ``only``: package names to fetch."""
    dest = Path(dest)
    cache = Path(cache) if cache else dest / ".cache"
    sources = [s for s in SOURCES if only is None or s.package in only]
    if only is not None and len(sources) != len(set(only)):
        unknown = set(only) - {s.package for s in SOURCES}
        raise PixinwavError(f"unknown package(s): {', '.join(sorted(unknown))}")
    rows: list[dict] = []
    for source in tqdm(sources, desc="packages", unit="pkg", disable=not progress):
        root = unpack(source, cache, Path(debs) if debs else None)
        licence = source.licence or licence_of(root, source.package)
        files = select(source, root)
        if not files:
            raise PixinwavError(f"{source.package} {source.version} holds no files matching {source.patterns}")
        for f in files:
            out = dest / f"{source.split}_{source.kind}" / source.package / f.relative_to(root).as_posix().replace("/", "__")
            _link(f, out)
            rows.append({"file": out, "package": source.package, "version": source.version, "licence": licence,
                         "split": source.split, "kind": source.kind})
    if only is None:
        rows += validation_photos(dest)
    for row in tqdm(rows, desc="manifest", unit="file", disable=not progress):
        row["size"] = describe(Path(row["file"]), row["kind"])
        row["file"] = Path(row["file"]).relative_to(dest).as_posix()
    manifest = dest / "manifest.csv"
    if only is not None and manifest.exists():  # a partial fetch keeps the rows of the packages it did not touch
        with open(manifest, newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["package"] not in only] + rows
    with open(manifest, "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["file", "package", "version", "licence", "split", "kind", "size"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest
