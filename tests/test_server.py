"""The HTTP API of `pixinwav serve`, through the framework's test client: real files hidden and revealed, a corpus
of bad requests answered 4xx with a JSON error (never 500, never a traceback) and the server still answering
after each, uploads refused while they stream, private folders removed, concurrent requests kept apart, keys
never logged."""
import io
import json
import logging
import threading

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from helpers import music, photo

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from pixinwav.server import create_app, limit_uploads  # noqa: E402

RATE = 44100
LIMIT = 8_000_000


def wav_bytes(audio: np.ndarray, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


SONG = wav_bytes(music(16.0, RATE, seed=3, channels=2))
CAT, COFFEE = png_bytes(photo("chelsea")), png_bytes(photo("coffee"))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(max_upload_mb=LIMIT / 1e6, workdir=tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(limit_uploads(app, LIMIT)) as c:
        yield c


def hide(client, secret=CAT, field="image", name="cat.png", **data):
    return client.post("/api/hide", files={field: (name, secret), "cover": ("song.wav", SONG)}, data=data)


def test_a_photo_and_a_file_round_trip_through_the_api(client, app):
    r = hide(client, key="open sesame")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    report = json.loads(r.headers["x-pixinwav-report"])
    assert report["payload"]["width"] == 451 and report["snr_db"] > 40 and report["warnings"] == []
    back = client.post("/api/reveal", files={"audio": ("stego.wav", r.content)}, data={"key": "open sesame"})
    assert back.status_code == 200 and back.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(back.content)).size == (451, 300)
    assert "every tile found" in back.headers["x-pixinwav-detail"] and back.headers["x-pixinwav-verdict"] == "intact"

    secret = np.random.default_rng(0).bytes(30_000)
    r = hide(client, secret, field="file", name="../../report.pdf", format="flac")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/flac"
    back = client.post("/api/reveal", files={"audio": ("stego.flac", r.content)})
    assert back.content == secret and "filename*=UTF-8''report.pdf" in back.headers["content-disposition"]
    assert back.headers["x-pixinwav-verdict"] == "exact"
    assert list(app.state.root.iterdir()) == []  # every request's private folder is gone


def test_a_window_model_and_capacity(client):
    r = hide(client, model="pixinwav-modulo-v1")  # the loudest window, found again by its pilots
    assert r.status_code == 200
    back = client.post("/api/reveal", files={"audio": ("s.wav", r.content)}, data={"model": "pixinwav-modulo-v1"})
    assert back.status_code == 200 and Image.open(io.BytesIO(back.content)).size == (256, 256)
    cap = client.post("/api/capacity", files={"audio": ("song.wav", SONG)}).json()
    assert cap["tiles"] == 10 and any("file of up to" in line for line in cap["lines"])
    models = {m["name"]: m for m in client.get("/api/models").json()}
    assert list(models)[0] == "pixinwav-modulo-v2" and "pixinwav-robust-v1" in models
    # the page offers the re-encoding check (hide --survive) for the models that size their photo to it
    assert [name for name, m in models.items() if m["sizes_to_survive"]] == ["pixinwav-robust-v4", "pixinwav-robust-v5",
                                                                           "pixinwav-robust-v3", "pixinwav-robust-v2"]


def test_survive_is_refused_by_name_for_a_model_that_does_not_size_to_it_and_an_empty_model_means_any(client):
    r = hide(client, survive="aac:64")
    assert r.status_code == 400 and "--survive does not apply to this model" in r.json()["error"]
    stego = hide(client, survive="")  # an empty field, as the page sends it: the model's own check (none for this one)
    back = client.post("/api/reveal", files={"audio": ("s.wav", stego.content)}, data={"model": ""})
    assert back.status_code == 200 and Image.open(io.BytesIO(back.content)).size == (451, 300)
    # a one-window model's window (the loudest, at 8.5 s here) carries no mark that names the model: found once chosen
    stego = hide(client, model="pixinwav-modulo-v1")
    back = client.post("/api/reveal", files={"audio": ("s.wav", stego.content)}, data={"model": ""})
    assert back.status_code == 404 and "one-window model (modulo-v1" in back.json()["error"]


def bad_requests():
    """(name, method, url, files, data, status) for at least 30 bad requests."""
    text = b"just some text, not audio\n"
    quiet = wav_bytes(np.zeros((RATE * 3, 2), np.float32))
    short = wav_bytes(music(0.5, RATE, seed=1))
    truncated = SONG[: len(SONG) // 3]  # a header announcing more audio than there is
    song = ("song.wav", SONG)
    return [
        ("hide without cover", "/api/hide", {"image": ("c.png", CAT)}, {}, 400),
        ("hide without image", "/api/hide", {"cover": song}, {}, 400),
        ("hide with image and file", "/api/hide", {"image": ("c.png", CAT), "file": ("f", b"x"), "cover": song}, {}, 400),
        ("hide empty image", "/api/hide", {"image": ("c.png", b""), "cover": song}, {}, 400),
        ("hide empty cover", "/api/hide", {"image": ("c.png", CAT), "cover": ("s.wav", b"")}, {}, 400),
        ("hide text as image", "/api/hide", {"image": ("c.png", text), "cover": song}, {}, 400),
        ("hide text named .wav", "/api/hide", {"image": ("c.png", CAT), "cover": ("s.wav", text)}, {}, 400),
        ("hide image as cover", "/api/hide", {"image": ("c.png", CAT), "cover": ("s.wav", CAT)}, {}, 400),
        ("hide silent cover", "/api/hide", {"image": ("c.png", CAT), "cover": ("s.wav", quiet)}, {}, 400),
        ("hide short cover", "/api/hide", {"image": ("c.png", CAT), "cover": ("s.wav", short)}, {}, 400),
        ("hide truncated wav", "/api/hide", {"image": ("c.png", CAT), "cover": ("s.wav", truncated)}, {}, 400),
        ("hide unknown model", "/api/hide", {"image": ("c.png", CAT), "cover": song}, {"model": "nope"}, 400),
        ("hide model as a path", "/api/hide", {"image": ("c.png", CAT), "cover": song},
         {"model": "/etc/passwd"}, 400),
        ("hide model file name", "/api/hide", {"image": ("c.png", CAT), "cover": song},
         {"model": "../weights/pixinwav-modulo-v1.safetensors"}, 400),
        ("hide bad format", "/api/hide", {"image": ("c.png", CAT), "cover": song}, {"format": "mp3"}, 400),
        ("hide file with an image model", "/api/hide", {"file": ("f.bin", b"abc"), "cover": song},
         {"model": "pixinwav-modulo-v1"}, 400),
        ("hide file too large for the song", "/api/hide",
         {"file": ("f.bin", np.random.default_rng(9).bytes(400_000)), "cover": song}, {}, 400),
        ("hide 1 x 1 image", "/api/hide", {"image": ("c.png", png_bytes(np.zeros((1, 1, 3), np.uint8))), "cover": song},
         {}, 400),
        ("hide as JSON", "/api/hide", None, {"json": "{}"}, 400),
        ("reveal without audio", "/api/reveal", {}, {}, 400),
        ("reveal empty", "/api/reveal", {"audio": ("s.wav", b"")}, {}, 400),
        ("reveal text", "/api/reveal", {"audio": ("s.wav", text)}, {}, 400),
        ("reveal an image", "/api/reveal", {"audio": ("s.wav", CAT)}, {}, 400),
        ("reveal plain audio", "/api/reveal", {"audio": song}, {}, 404),
        ("reveal plain audio, window model", "/api/reveal", {"audio": song}, {"model": "pixinwav-modulo-v1"}, 404),
        ("reveal plain audio, robust", "/api/reveal", {"audio": ("s.wav", wav_bytes(music(20.0, RATE, seed=4)))},
         {"model": "pixinwav-robust-v1"}, 404),
        ("reveal unknown model", "/api/reveal", {"audio": song}, {"model": "x"}, 400),
        ("reveal short", "/api/reveal", {"audio": ("s.wav", short)}, {}, 400),
        ("capacity without audio", "/api/capacity", {}, {}, 400),
        ("capacity of text", "/api/capacity", {"audio": ("s.wav", text)}, {}, 400),
        ("capacity unknown model", "/api/capacity", {"audio": song}, {"model": "y"}, 400),
        ("upload over the limit", "/api/hide", {"image": ("c.png", bytes(LIMIT + 1)), "cover": song}, {}, 413),
    ]


@pytest.mark.parametrize("name, url, files, data, status", bad_requests(), ids=[c[0] for c in bad_requests()])
def test_bad_requests_get_a_json_error_and_the_server_keeps_answering(client, app, name, url, files, data, status):
    if files is None:
        r = client.post(url, content=data["json"], headers={"content-type": "application/json"})
    else:
        r = client.post(url, files=files or None, data=data)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"] and "Traceback" not in body["error"]
    assert client.get("/api/models").status_code == 200  # still serving
    assert list(app.state.root.iterdir()) == []


def test_an_upload_without_a_length_is_refused_while_it_streams():
    """A real server and a raw chunked upload of 100 MB (no Content-Length to refuse it by): the 413 comes back
    after about the limit (8 MB) has arrived, while the client is still sending."""
    import select
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "pixinwav", "serve", "--port", str(port), "--max-upload-mb", "8"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        conn.sendall(b"POST /api/hide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\n\r\n")
        part = (b'--x\r\nContent-Disposition: form-data; name="cover"; filename="s.wav"\r\n\r\n')
        conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        sent, chunk = 0, bytes(1 << 20)
        while sent < 100 and not select.select([conn], [], [], 0.05)[0]:
            try:
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:  # the server closed its side: it has answered
                break
            sent += 1
        reply, conn_open = b"", True
        conn.settimeout(5)
        while conn_open and b"takes" not in reply:  # the headers and the body may come in separate packets
            try:
                data = conn.recv(4096)
            except OSError:
                break
            reply, conn_open = reply + data, bool(data)
        reply = reply.decode(errors="replace")
        conn.close()
    finally:
        server.terminate()
        server.wait(10)
    assert reply.startswith("HTTP/1.1 413") and "the most this server takes" in reply
    assert 8 <= sent < 30  # refused while streaming, not after 100 MB


def test_concurrent_requests_keep_their_outputs_apart_and_a_flood_gets_no_500(client):
    results = {}

    def one(name, image):
        r = hide(client, image, key=name)
        back = client.post("/api/reveal", files={"audio": ("s.wav", r.content)}, data={"key": name})
        results[name] = Image.open(io.BytesIO(back.content)).size

    threads = [threading.Thread(target=one, args=(n, img)) for n, img in (("cat", CAT), ("coffee", COFFEE))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"cat": (451, 300), "coffee": (600, 400)}

    statuses = []
    flood = [threading.Thread(target=lambda: statuses.append(
        client.post("/api/reveal", files={"audio": ("s.wav", b"not audio")}).status_code)) for _ in range(8)]
    for t in flood:
        t.start()
    for t in flood:
        t.join()
    assert statuses == [400] * 8 and client.get("/api/models").status_code == 200


def test_keys_are_never_logged_or_echoed_and_paths_never_served(client, caplog):
    with caplog.at_level(logging.DEBUG):
        r = hide(client, key="sekrit-passphrase-42")
        wrong = client.post("/api/reveal", files={"audio": ("s.wav", r.content)}, data={"key": "other-sekrit-7"})
    assert wrong.status_code == 404
    said = caplog.text + json.dumps(dict(r.headers)) + wrong.text
    assert "sekrit" not in said
    for path in ("/web/../server.py", "/web/index.html", "/web/%2e%2e%2fserver.py"):
        assert client.get(path).status_code == 404


def test_the_private_folder_is_removed_on_shutdown(tmp_path):
    app = create_app(workdir=tmp_path)
    with TestClient(app) as c:
        assert c.get("/").status_code == 200 and "<form" in c.get("/").text
        assert app.state.root.exists()
    assert not app.state.root.exists()


def test_a_long_hide_does_not_hold_up_other_requests(app):
    import time

    client = TestClient(app)  # no upload limit here: the song is 17 MB

    long_song = wav_bytes(np.tile(music(16.0, RATE, seed=5, channels=2), (6, 1)))  # 96 s: a hide of a few seconds
    done = threading.Event()

    status = []

    def slow():
        status.append(client.post("/api/hide", files={"image": ("c.png", CAT), "cover": ("s.wav", long_song)},
                                  data={"model": "pixinwav-robust-v1"}).status_code)
        done.set()

    worker = threading.Thread(target=slow)
    worker.start()
    answered = []  # how long each request took that came back while the hide was still working
    while not done.is_set():
        time.sleep(0.2)
        t = time.perf_counter()
        assert client.get("/api/models").status_code == 200
        if not done.is_set():
            answered.append(time.perf_counter() - t)
    worker.join()
    assert status == [200]
    # (the first may wait for the upload's form to be parsed: that runs in the event loop; the hide does not)
    assert len(answered) >= 3 and sorted(answered)[len(answered) // 2] < 0.2
