#!/usr/bin/env bash
# Fetch the data the shipped small model was trained on, from pinned Debian packages (no system install):
# train images: cimg-doc postcards; train audio: Wesnoth music; validation images: scikit-image photos;
# validation audio: Drascula music. Result: data/demo/{train,val}_{images,audio}. Idempotent.
# Needs apt-get (Debian 12) and the project's venv (for scikit-image). Licences: DATA.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-data/demo}
CACHE=${PIXINWAV_CACHE:-$HOME/.cache/pixinwav/deb}
PY=${PY:-.venv/bin/python}
PACKAGES=("cimg-doc=3.2.1+dfsg-1" "wesnoth-1.16-music=1:1.16.9-1" "drascula-music=1.0+ds4-2")
mkdir -p "$CACHE/debs" "$CACHE/root" "$DEST"/{train_images,train_audio,val_images,val_audio}
cd "$CACHE/debs"
for pkg in "${PACKAGES[@]}"; do
  name=${pkg%%=*}
  if ! ls "${name}"_*.deb >/dev/null 2>&1; then
    apt-get download -o APT::Sandbox::User=root "$pkg" || { apt-get update -qq && apt-get download -o APT::Sandbox::User=root "$pkg"; }
  fi
  dpkg-deb -x "${name}"_*.deb "$CACHE/root"
done
cd - >/dev/null
cp -u "$CACHE"/root/usr/share/doc/cimg-dev/html/img/postcard*.jpg "$DEST/train_images/"
cp -u "$CACHE"/root/usr/share/games/wesnoth/1.16/data/core/music/*.ogg "$DEST/train_audio/"
cp -u "$CACHE"/root/usr/share/scummvm/drascula/audio/*.ogg "$DEST/val_audio/"
"$PY" - "$DEST/val_images" <<'PYEOF'
import sys
from pathlib import Path
import skimage.data as d
from PIL import Image
from pixinwav.data.fetch import SKIMAGE_PHOTOS
for name in SKIMAGE_PHOTOS:
    out = Path(sys.argv[1]) / f"{name}.png"
    if not out.exists():
        Image.fromarray(getattr(d, name)()).convert("RGB").save(out)
PYEOF
echo "data ready under $DEST: $(ls "$DEST/train_images" | wc -l) train images, $(ls "$DEST/train_audio" | wc -l) train tracks, $(ls "$DEST/val_images" | wc -l) val images, $(ls "$DEST/val_audio" | wc -l) val tracks"
