"""`pixinwav data fetch` on real .deb files built here with dpkg-deb (offline): unpack, select, link, manifest,
idempotent re-runs, clear errors."""
import csv
import subprocess

import pytest
import soundfile as sf
from PIL import Image

from helpers import music, photo
from pixinwav.cli import main
from pixinwav.data.fetch import SOURCES, fetch


def build_deb(tmp_path, package, version, files):
    root = tmp_path / "build" / package
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: test <t@example.org>\n"
        "Description: test package\n")
    doc = root / "usr" / "share" / "doc" / package
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nCopyright: someone\nLicense: CeCILL\n")
    for rel, write in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write(root / rel)
    out = tmp_path / "debs"
    out.mkdir(exist_ok=True)
    deb = out / f"{package}_{version.split(':')[-1]}_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True)
    return out


@pytest.mark.skipif(subprocess.run(["which", "dpkg-deb"], capture_output=True).returncode != 0, reason="needs dpkg-deb")
def test_fetch_from_local_debs(tmp_path, capsys):
    cimg = next(s for s in SOURCES if s.package == "cimg-doc")
    wesnoth = next(s for s in SOURCES if s.package == "wesnoth-1.16-music")
    img = lambda p: Image.fromarray(photo("coffee")).save(p)
    build_deb(tmp_path, cimg.package, cimg.version, {
        "usr/share/doc/cimg-dev/html/img/postcard1.jpg": img,
        "usr/share/doc/cimg-dev/html/img/postcard2.jpg": img,
        "usr/share/doc/cimg-dev/html/img/logo.jpg": img,  # not a postcard: not selected
    })
    debs = build_deb(tmp_path, wesnoth.package, wesnoth.version, {
        "usr/share/games/wesnoth/1.16/data/core/music/battle.ogg": lambda p: sf.write(p, music(2.0, 44100, 1), 44100),
    })
    dest = tmp_path / "data"
    argv = ["data", "fetch", "--dest", str(dest), "--debs", str(debs), "--only", cimg.package, wesnoth.package, "--quiet"]
    assert main(argv) == 0
    assert "3 files" in capsys.readouterr().out
    with open(dest / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["split"] + "/" + r["kind"] for r in rows} == {"train/images", "train/audio"}
    assert all(r["licence"] == "CeCILL" and r["version"] in (cimg.version, wesnoth.version) for r in rows)
    audio = [r for r in rows if r["kind"] == "audio"][0]
    assert audio["size"] == "2.00 s" and (dest / audio["file"]).exists()
    assert sorted(p.name for p in (dest / "train_images" / "cimg-doc").iterdir()) == [
        "usr__share__doc__cimg-dev__html__img__postcard1.jpg", "usr__share__doc__cimg-dev__html__img__postcard2.jpg"]
    # a second run reuses the cache and the links: same manifest, nothing unpacked again
    marker = dest / ".cache" / "root" / "cimg-doc" / ".unpacked"
    stamp = marker.stat().st_mtime_ns
    assert main(argv) == 0
    assert marker.stat().st_mtime_ns == stamp
    with open(dest / "manifest.csv") as f:
        assert list(csv.DictReader(f)) == rows


def test_fetch_errors(tmp_path, capsys):
    assert main(["data", "fetch", "--dest", str(tmp_path), "--debs", str(tmp_path), "--only", "cimg-doc", "--quiet"]) == 1
    assert "no cimg-doc_*.deb" in capsys.readouterr().err
    with pytest.raises(Exception, match="unknown package"):
        fetch(tmp_path, only=["not-a-package"], progress=False)
