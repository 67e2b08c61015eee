"""`pixinwav serve`: the web page and the HTTP API it uses, on the machine's own models.

Endpoints (multipart forms; errors are JSON ``{"error": "..."}`` with a 4xx status, never a traceback):

- ``GET /``: the page. ``GET /api/models``: the shipped models, with what each is for in plain words, whether each
  carries files and whether it takes ``survive``.
- ``POST /api/hide``: ``image`` (or ``file``, for models that carry files), ``cover``, optional ``model``, ``key``,
  ``format`` (``wav`` or ``flac``), ``survive`` (models that size their photo to it: attacks as ``hide --survive``
  names them, e.g. ``aac:64,opus:32``; empty: the model's own check, a 1 % slower tempo; ``none``: no check) -> the
  stego file; its report (SNR, seconds used, what was sent, the attacks
  it was checked to come back after, warnings) is the JSON in the ``X-Pixinwav-Report`` header.
- ``POST /api/reveal``: ``audio``, optional ``model`` (none or empty: the served model whose marks the file
  carries), ``key`` -> the image as PNG, or the hidden file's bytes (its name in ``Content-Disposition``); the
  verdict in one word in ``X-Pixinwav-Verdict`` ("exact": bytes that passed their checksum, "intact", "damaged" or
  "unchecked") and what was found, in a line, in ``X-Pixinwav-Detail``.
- ``POST /api/capacity``: ``audio``, optional ``model`` -> what the song carries (JSON).

Safety: uploads are counted while they stream and refused past ``max_upload_mb`` (413) before they are read whole;
every request works in its own private folder under the server's, removed when it answers (and the server's on
shutdown); an uploaded name is never used as a path (only its extension, from a fixed list, is kept so decoders
can tell the format); each request loads its own model, so concurrent requests share no state; the work runs in
a thread pool, so a long hide does not hold up other requests; keys are neither logged nor echoed.
"""

import functools
import json
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

from .errors import NotFound, PixinwavError

WEB = Path(__file__).parent / "web"
# What each model is for, in the words the page shows (the API lists them too)
PURPOSES = {
    "pixinwav-modulo-v2": "the whole photo, or any file exactly, in a file sent as it is (WAV, FLAC)",
    "pixinwav-modulo-v1": "a 256 x 256 photo in 1.5 s of a file sent as it is",
    "pixinwav-robust-v5": "will be re-encoded at 64 kbit/s or less (messaging apps, voice notes): as robust-v4, "
                          "3 dB louder (the change over the song in a fifth of its spectrogram)",
    "pixinwav-robust-v4": "will be re-encoded (MP3, AAC at 128 kbit/s, Opus 64): the photo grows with the song, or a "
                          "small file",
    "pixinwav-robust-v3": "as robust-v4, its photo in AVIF and WebP files (read by release 0.2.10)",
    "pixinwav-robust-v2": "will be re-encoded at 128 kbit/s (MP3, AAC): a slightly larger photo than v3, or a small file",
    "pixinwav-robust-v1": "will be re-encoded: a 256 x 256 crop, one copy per 30 s (files of the first release)",
    "pixinwav-adaptive-v5": "must stay undetected: the whole photo, or any file exactly (file sent as it is)",
    "pixinwav-adaptive-v4": "as adaptive-v5, less in a quiet song (files of releases 0.2.22 and 0.2.23)",
    "pixinwav-adaptive-v3": "as adaptive-v4, found more easily by a trained detector (files of releases 0.2 to 0.2.21)",
    "pixinwav-adaptive-v2": "must stay undetected (a 256 x 256 photo, file sent as it is)",
    "pixinwav-adaptive-v1": "a 256 x 256 crop that degrades instead of failing (a trained detector finds it)",
    "pixinwav-small-v0": "research: the paper's trainable networks",
}
SERVED_MODELS = ["pixinwav-modulo-v2", "pixinwav-modulo-v1", "pixinwav-robust-v4", "pixinwav-robust-v5",
                 "pixinwav-robust-v3", "pixinwav-robust-v2", "pixinwav-robust-v1", "pixinwav-adaptive-v5", "pixinwav-adaptive-v4",
                 "pixinwav-adaptive-v3", "pixinwav-adaptive-v2", "pixinwav-adaptive-v1"]
DEFAULT_WEB_MODEL = "pixinwav-modulo-v2"


class TooLarge(Exception):
    pass


def limit_uploads(app, max_bytes: int):
    """ASGI middleware: a request whose body passes ``max_bytes`` is answered 413 as soon as it does (by its
    Content-Length when it announces one, else while its bytes arrive), before the form is parsed."""
    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            return await _json(send, 413, f"the upload is {int(length) / 1e6:.0f} MB; this server takes at most "
                                          f"{max_bytes / 1e6:.0f} MB (pixinwav serve --max-upload-mb)")
        seen, over, replied = 0, False, False
        refusal = f"the upload is over {max_bytes / 1e6:.0f} MB, the most this server takes (pixinwav serve --max-upload-mb)"

        async def counted():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    over = True
                    raise TooLarge()  # the form parser may wrap this in its own 400: `answer` puts the 413 back
            return message

        async def answer(message):
            nonlocal replied
            if over:  # whatever the application made of the interrupted upload, the client hears why
                if message["type"] == "http.response.start" and not replied:
                    replied = True
                    await _json(send, 413, refusal)
                return
            replied = replied or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, counted, answer)
        except TooLarge:
            if not replied:
                await _json(send, 413, refusal)
    return guarded


async def _json(send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(max_upload_mb: float = 200.0, workdir: str | Path | None = None):
    """The FastAPI application (``workdir``: where each request's private folder goes; default a new temporary
    folder, removed on shutdown)."""
    from contextlib import asynccontextmanager

    from typing import Annotated

    from fastapi import FastAPI, File, Form, Request, UploadFile
    from fastapi.concurrency import run_in_threadpool
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, Response

    root = Path(tempfile.mkdtemp(prefix="pixinwav-serve-", dir=workdir))

    @asynccontextmanager
    async def lifespan(app):
        yield
        shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(title="pixinwav", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.root = root

    @app.exception_handler(PixinwavError)
    async def refused(request: Request, exc: PixinwavError):
        status = 404 if isinstance(exc, NotFound) else 400
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError):
        missing = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("type") == "missing"})
        words = f"missing form field(s): {', '.join(missing)}" if missing else "the form's fields are not what this " \
                "endpoint takes (multipart: files image or file, cover / audio; text model, key, format)"
        return JSONResponse({"error": words}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # a bug, not bad input: no traceback goes out
        import logging

        logging.getLogger("pixinwav.serve").exception("internal error on %s", request.url.path)
        return JSONResponse({"error": f"internal error ({type(exc).__name__}); the server keeps running"},
                            status_code=500)

    @app.get("/")
    async def page():
        return FileResponse(WEB / "index.html", media_type="text/html")

    @app.get("/web/{name}")
    async def asset(name: str):
        files = {"app.js": "text/javascript", "style.css": "text/css"}
        if name not in files:  # a fixed list: no path from the request reaches the disk
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(WEB / name, media_type=files[name])

    @app.get("/api/models")
    async def models():
        from .loader import DEFAULT_MODEL, registry

        shipped = registry()
        return [{"name": name, "purpose": PURPOSES.get(name, ""), "summary": shipped[name].get("summary", ""),
                 "default": name == DEFAULT_WEB_MODEL, "cli_default": name == DEFAULT_MODEL,
                 **_capabilities(name)} for name in SERVED_MODELS if name in shipped]

    @app.post("/api/hide")
    async def hide(cover: Annotated[UploadFile, File()], image: Annotated[UploadFile | None, File()] = None,
                   file: Annotated[UploadFile | None, File()] = None,
                   model: Annotated[str | None, Form()] = None, key: Annotated[str | None, Form()] = None,
                   format: Annotated[str, Form()] = "wav", survive: Annotated[str | None, Form()] = None):
        if (image is None) == (file is None):
            raise PixinwavError("send exactly one of the fields image (a photo) or file (any file, for models that "
                                "carry files)")
        if format not in ("wav", "flac"):
            raise PixinwavError(f"format must be wav or flac, got {format!r}")
        folder = Path(tempfile.mkdtemp(dir=root))
        try:
            cover_path = await _save(cover, folder, "cover")
            secret_path = await _save(image or file, folder, "secret")
            name = Path(file.filename or "file").name if file is not None else None
            body, report = await run_in_threadpool(_hide, model, secret_path, name, cover_path, key or None, format,
                                                   folder, survive or None)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return Response(body, media_type="audio/wav" if format == "wav" else "audio/flac",
                        headers={"Content-Disposition": f'attachment; filename="stego.{format}"',
                                 "X-Pixinwav-Report": json.dumps(report, ensure_ascii=True)})

    @app.post("/api/reveal")
    async def reveal(audio: Annotated[UploadFile, File()], model: Annotated[str | None, Form()] = None,
                     key: Annotated[str | None, Form()] = None):
        folder = Path(tempfile.mkdtemp(dir=root))
        try:
            path = await _save(audio, folder, "stego")
            body, media, filename, found = await run_in_threadpool(_reveal, model or None, path, key or None, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return Response(body, media_type=media,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
                                 "X-Pixinwav-Verdict": found.verdict,
                                 "X-Pixinwav-Detail": found.detail.encode("ascii", "replace").decode()})

    @app.post("/api/capacity")
    async def capacity(audio: Annotated[UploadFile, File()], model: Annotated[str | None, Form()] = None):
        folder = Path(tempfile.mkdtemp(dir=root))
        try:
            path = await _save(audio, folder, "song")
            return await run_in_threadpool(_capacity, model, path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return app


async def _save(upload, folder: Path, stem: str) -> Path:
    """An upload copied into ``folder`` as ``stem`` plus its extension when that is one the readers know: the
    client's name is never a path here."""
    from .data.audio import AUDIO_EXTENSIONS
    from .data.images import IMAGE_EXTENSIONS

    suffix = Path(upload.filename or "").suffix.lower()
    path = folder / (stem + (suffix if suffix in AUDIO_EXTENSIONS | IMAGE_EXTENSIONS else ".bin"))
    with open(path, "wb") as out:
        while chunk := await upload.read(1 << 20):
            out.write(chunk)
    if path.stat().st_size == 0:
        raise PixinwavError(f"the uploaded {stem if stem != 'secret' else 'image or file'} is empty")
    return path


@functools.lru_cache(maxsize=None)
def _capabilities(name: str) -> dict:
    """What the page offers for the model, from its own capabilities, asked once per server."""
    scheme = _model(name).model
    return {"carries_files": scheme.carries_files, "sizes_to_survive": scheme.sizes_to_survive}


def _model(name: str | None):
    from .api import load_model

    name = name or DEFAULT_WEB_MODEL
    if name not in SERVED_MODELS:  # names only: a request never names a file on this machine
        raise PixinwavError(f"unknown model {name!r}; served: {', '.join(SERVED_MODELS)}")
    return load_model(name)


def _hide(model_name, secret: Path, file_name, cover: Path, key, fmt: str, folder: Path,
          survive: str | None = None) -> tuple[bytes, dict]:
    from .data.audio import read_audio, write_audio
    from .hidden_file import HiddenFile

    model = _model(model_name)
    song = read_audio(cover)  # (decoded here and needed no more once hidden in: the stego is written into it)
    if file_name is not None:  # (hide_file refuses a model that carries images only)
        stego, report = model.hide_file(HiddenFile(file_name, secret.read_bytes()), song.samples, song.sample_rate, key=key,
                                        in_place=True, survive=survive)
    else:
        from .data.images import LONGEST_SENT_SIDE, open_image

        photo = open_image(secret, long_side=LONGEST_SENT_SIDE)
        where = {"offset": "auto"} if "offset" in model.options else {}  # a window model: the loudest window
        stego, report = model.hide(photo, song.samples, song.sample_rate, key=key, in_place=True, survive=survive,
                                   **where)
    rate = report.sample_rate or song.sample_rate
    out = write_audio(folder / f"stego.{fmt}", stego, rate, fmt=fmt, tags=song.tags)
    sent = report.payload
    payload = {k: v for k, v in sent.summary().items() if k != "starts"} if sent else {}
    starts = (sent.starts if sent else None) or [report.window[0]]
    summary = {"snr_db": round(report.snr_db, 2), "seconds": round(song.duration, 3), "sample_rate": rate,
               "first_window_s": round(float(min(starts)), 3),
               "window": [round(report.window[0], 6), round(report.window[1], 6)], "payload": payload,
               "seconds_used": round(sent.seconds_used if sent else report.window[1] - report.window[0], 2),
               "warnings": report.warnings()}
    return out.read_bytes(), summary


def _reveal(model_name, path: Path, key, folder: Path) -> tuple[bytes, str, str, str]:
    import io

    from .data.audio import read_audio
    from .data.images import to_pil

    from .loader import DEFAULT_MODEL

    audio = read_audio(path)
    searched = model_name is None
    if searched:  # the served model whose marks the file carries (else the default, which searches)
        from .identify import identify

        found = identify(audio, key)
        model_name = found if found in SERVED_MODELS else None
    model = _model(model_name)
    try:  # (a window model: the window its pilots recognise; a song model finds its payload anywhere)
        found = model.reveal_payload(audio.samples, audio.sample_rate, "auto", key=key)
    except NotFound as exc:
        if not searched or model_name not in (None, DEFAULT_MODEL) or exc.lost:
            raise
        # the page hides with a one-window model at the loudest window, where no mark says which model it was
        raise NotFound("no hidden image found: no served model's marks are in this file (plain audio, another key, or "
                       "a file changed after hiding); a photo hidden with a one-window model (modulo-v1, adaptive-v1 "
                       "or adaptive-v2) is found when that model is chosen") from None
    if found.file is not None:
        return found.file.data, "application/octet-stream", found.file.safe_name(), found
    buffer = io.BytesIO()
    to_pil(found.image).save(buffer, format="PNG")
    return buffer.getvalue(), "image/png", "revealed.png", found


def _capacity(model_name, path: Path) -> dict:
    from .data.audio import read_audio

    model = _model(model_name)
    audio = read_audio(path)
    report = model.capacity(audio.samples, audio.sample_rate)
    return {"model": model_name or DEFAULT_WEB_MODEL, **report}


def serve(host: str = "127.0.0.1", port: int = 8000, max_upload_mb: float = 200.0) -> None:
    import uvicorn

    app = limit_uploads(create_app(max_upload_mb), int(max_upload_mb * 1e6))
    print(f"pixinwav: serving on http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
