"""`pixinwav serve` against the command line on the same work: hide a photo in a 3-minute stereo song and reveal it,
through the HTTP API of a running server (upload, work, download) and through `pixinwav hide` / `reveal` processes
(start-up included, as a user pays it). Median of --repeats; a Markdown table with the difference.

    python benchmarks/bench_serve.py [--seconds 180] [--repeats 3] [--model pixinwav-modulo-v2]
"""
from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import skimage.data
import soundfile as sf
from PIL import Image

from bench_commands import cover


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=180.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--model", default="pixinwav-modulo-v2")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        song, photo = tmp / "song.wav", tmp / "retina.png"
        sf.write(song, cover(args.seconds, 44100), 44100, subtype="PCM_16")
        Image.fromarray(skimage.data.retina()).save(photo)
        exe = [sys.executable, "-m", "pixinwav"]
        whole = ("pixinwav-modulo-v2", "pixinwav-robust-v1", "pixinwav-robust-v2", "pixinwav-adaptive-v3")
        where = [] if args.model in whole else ["--offset", "auto"]
        cli_hide, cli_reveal = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            subprocess.run([*exe, "hide", "--image", str(photo), "--cover", str(song), "-o", str(tmp / "s.wav"),
                            "--model", args.model, *where, "--force"], check=True, capture_output=True)
            cli_hide.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run([*exe, "reveal", str(tmp / "s.wav"), "-o", str(tmp / "r.png"), "--model", args.model,
                            *where, "--force"], check=True, capture_output=True)
            cli_reveal.append(time.perf_counter() - t)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([*exe, "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(f"{url}/api/models", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            web_hide, web_reveal = [], []
            with httpx.Client(timeout=300) as client:
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    r = client.post(f"{url}/api/hide", data={"model": args.model},
                                    files={"image": ("retina.png", photo.read_bytes()), "cover": ("song.wav", song.read_bytes())})
                    r.raise_for_status()
                    web_hide.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    back = client.post(f"{url}/api/reveal", data={"model": args.model},
                                       files={"audio": ("stego.wav", r.content)})
                    back.raise_for_status()
                    web_reveal.append(time.perf_counter() - t)
        finally:
            server.terminate()
            server.wait(10)
    med = statistics.median
    print(f"{args.model}, a 1411 x 1411 photo in a {args.seconds:.0f} s stereo WAV; median of {args.repeats}\n")
    print("| step | command line s | HTTP API s (upload, work, download) | API - CLI s |")
    print("|---|---|---|---|")
    for step, cli, web in (("hide", cli_hide, web_hide), ("reveal", cli_reveal, web_reveal)):
        print(f"| {step} | {med(cli):.2f} | {med(web):.2f} | {med(web) - med(cli):+.2f} |")


if __name__ == "__main__":
    main()
