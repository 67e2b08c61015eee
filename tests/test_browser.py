"""The page of `pixinwav serve` in a real browser (Debian's Chromium, driven by Playwright): choose a photo and a
song, hide, download the stego, reveal it, and compare the photo with what the command line reveals from the same
file. `.ci/run` installs Chromium where it is missing and sets PIXINWAV_REQUIRE_BROWSER, so there it never skips."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from helpers import music, photo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM) and not os.environ.get("PIXINWAV_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pixinwav", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/api/models", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"the server did not start: {proc.stdout.read()}")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chrome
        chrome.close()


def test_hide_and_reveal_through_the_page_match_the_command_line(server, browser, tmp_path):
    song, cat = tmp_path / "song.wav", tmp_path / "cat.png"
    sf.write(song, music(16.0, 44100, seed=3, channels=2), 44100, subtype="PCM_16")
    Image.fromarray(photo("chelsea")).save(cat)
    page = browser.new_page(viewport={"width": 390, "height": 844}, accept_downloads=True)  # a phone-sized screen
    page.goto(server)
    page.wait_for_selector("#hide-model option", state="attached")
    page.set_input_files("#secret", str(cat))
    page.set_input_files("#cover", str(song))
    page.wait_for_function("document.getElementById('capacity').textContent.includes('windows')")
    page.fill("#hide-form input[name=key]", "a passphrase")
    page.click("#hide-button")
    page.wait_for_selector("#hide-result:not([hidden])", timeout=60000)
    assert "SNR" in page.inner_text("#hide-facts") and "451 x 300" in page.inner_text("#hide-facts")
    page.wait_for_selector("#spectrograms canvas", timeout=30000)
    assert page.locator("#spectrograms canvas").count() == 3  # cover, stego, difference
    # PIXINWAV_SCREENSHOT=docs/web-page.png: the README's picture of the page, after a hide
    page.screenshot(path=os.environ.get("PIXINWAV_SCREENSHOT") or str(tmp_path / "page.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#stego-download")
    stego = tmp_path / "stego.wav"
    download.value.save_as(stego)

    page.set_input_files("#audio", str(stego))
    page.fill("#reveal-form input[name=key]", "a passphrase")
    page.click("#reveal-button")
    page.wait_for_selector("#reveal-result:not([hidden])", timeout=60000)
    assert page.inner_text("#verdict").startswith("Found:")
    with page.expect_download() as download:
        page.click("#revealed-download")
    from_page = tmp_path / "from_page.png"
    download.value.save_as(from_page)
    from_cli = tmp_path / "from_cli.png"
    done = subprocess.run([sys.executable, "-m", "pixinwav", "reveal", str(stego), "-o", str(from_cli), "--model",
                           "pixinwav-modulo-v2", "--key", "a passphrase"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page_pixels, cli_pixels = (np.asarray(Image.open(p).convert("RGB")) for p in (from_page, from_cli))
    assert page_pixels.shape == (300, 451, 3) and np.array_equal(page_pixels, cli_pixels)  # SSIM 1: the same image

    page.fill("#reveal-form input[name=key]", "another key")  # nothing hidden under it: said, not a blank image
    page.click("#reveal-button")
    page.wait_for_function("document.getElementById('verdict').textContent.startsWith('Nothing revealed')")
    assert page.locator("#revealed").is_hidden()
