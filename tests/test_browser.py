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


def m4a(wav, out, kbps: int = 64) -> None:
    """The file as a phone or a messaging app passes it on: AAC at ``kbps`` in an MP4 (.m4a), FFmpeg's encoder."""
    import av

    audio, rate = sf.read(wav, dtype="float32", always_2d=True)
    with av.open(str(out), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.bit_rate, stream.layout = kbps * 1000, "stereo"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T), format="fltp", layout="stereo")
        frame.rate, frame.pts = rate, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


def test_a_robust_model_checks_the_photo_comes_back_after_the_codec_chosen_and_it_does_from_an_m4a(server, browser,
                                                                                                   tmp_path):
    """The re-encoding check is offered only for the models that size their photo to it; with robust-v4 and "AAC at
    64 kbit/s" the page says the photo was checked to come back, and it comes back through the page from the stego
    re-encoded as a 64 kbit/s m4a, as the photo the sender checked (the command line's reveal of the m4a, pixel for
    pixel)."""
    song, cat = tmp_path / "song.wav", tmp_path / "cat.png"
    sf.write(song, music(60.0, 44100, seed=3, channels=2), 44100, subtype="PCM_16")
    Image.fromarray(photo("chelsea")).save(cat)
    page = browser.new_page(accept_downloads=True)
    page.goto(server)
    page.wait_for_selector("#hide-model option", state="attached")
    assert page.locator("#survive-choice").is_hidden()  # the default model sends no smaller photo for a codec
    page.select_option("#hide-model", "pixinwav-robust-v4")
    assert page.locator("#survive-choice").is_visible()
    page.select_option("#survive", "aac:64")
    page.set_input_files("#secret", str(cat))
    page.set_input_files("#cover", str(song))
    page.click("#hide-button")
    page.wait_for_selector("#hide-result:not([hidden])", timeout=120000)
    assert "checked: it comes back after aac 64 kbit/s" in page.inner_text("#hide-facts")
    with page.expect_download() as download:
        page.click("#stego-download")
    stego, phone = tmp_path / "stego.wav", tmp_path / "from-a-phone.m4a"
    download.value.save_as(stego)
    m4a(stego, phone)

    page.set_input_files("#audio", str(phone))
    page.click("#reveal-button")
    page.wait_for_selector("#reveal-result:not([hidden])", timeout=60000)
    assert page.inner_text("#verdict").startswith("Found:") and "AV1 image" in page.inner_text("#verdict")
    with page.expect_download() as download:
        page.click("#revealed-download")
    from_page, from_cli = tmp_path / "from_page.png", tmp_path / "from_cli.png"
    download.value.save_as(from_page)
    done = subprocess.run([sys.executable, "-m", "pixinwav", "reveal", str(phone), "-o", str(from_cli)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "pixinwav-robust-v4" in done.stderr, done.stderr
    assert np.array_equal(*(np.asarray(Image.open(p).convert("RGB")) for p in (from_page, from_cli)))
    page.select_option("#hide-model", "pixinwav-modulo-v2")
    assert page.locator("#survive-choice").is_hidden() and page.locator("#survive").is_disabled()
