"""Speed and memory on this machine, every ratio against `paper-rgb` measured in the same run.

For the STDCT at paper geometry: forward / inverse time against a dense per-frame DCT matrix. For each model
preset: parameters; GFLOP of hide (cover STDCT + hiding net + inverse STDCT) and of reveal (STDCT + reveal
net), counted by torch.utils.flop_counter; median latency of hide and of reveal at batch 1 and 8; one
training step (through the 16-bit channel) time and peak memory at batch 1 and 8; achieved GFLOP/s.
Each measurement runs in its own process, so peak memory (max RSS) belongs to it alone. Measurements whose
estimated memory exceeds --max-gib are skipped and say so. Benchmarks print; they never assert.

    python benchmarks/bench_core.py [--presets paper-rgb fast-rgb] [--batches 1 8] [--repeats 3]
    python benchmarks/bench_core.py --device cuda --batches 1 16   # on a GPU: peak memory is the GPU's
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import statistics
import time
from pathlib import Path

import torch

PAPER_PRESETS = ["paper-rgb", "paper-gray", "paper2-stft", "fast-rgb", "modulo-rgb"]


DEVICE = "cpu"  # set in each child process from --device


def _rss_gib() -> float:
    if DEVICE.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def _sync() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


def _use(device: str, threads: int) -> None:
    """A child process's settings: where it measures (memory and synchronisation follow) and its CPU threads."""
    global DEVICE
    DEVICE = device
    torch.set_num_threads(threads)


def _timed(fn, repeats: int) -> float:
    fn()  # warm-up
    _sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        _sync()  # GPU work is asynchronous: time until it is done
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure_ceilings(repeats: int, threads: int, device: str) -> dict:
    """What this device reaches in fp32 (its default precision settings) on the two kinds of work the nets do."""
    _use(device, threads)
    a, b = torch.randn(4096, 4096, device=device), torch.randn(4096, 4096, device=device)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(device)
    x = torch.randn(8, 64, 256, 256, device=device)
    with torch.no_grad():
        matmul_s = _timed(lambda: a @ b, repeats)
        conv_s = _timed(lambda: conv(x), repeats)
    return {"matmul_gflops": 2 * 4096**3 / matmul_s / 1e9, "conv_gflops": 2 * 8 * 64 * 64 * 9 * 256 * 256 / conv_s / 1e9}


def measure_stdct(repeats: int, threads: int, device: str) -> dict:
    from pixinwav.transforms import STDCT

    _use(device, threads)
    t = STDCT().to(device)
    wave = torch.randn(1, 67522, device=device)
    spec = t(wave)
    n = torch.arange(t.frame, dtype=torch.float64, device=device)  # the dense baseline: one 4096 x 4096 DCT matrix per frame
    basis = torch.cos(torch.pi * n[:, None] * (2 * n[None, :] + 1) / (2 * t.frame)) * (2 / t.frame) ** 0.5
    basis[0] /= 2**0.5
    basis = basis.float()
    dense = lambda: basis @ (wave.unfold(-1, t.frame, t.hop) * t.window).transpose(-1, -2)
    with torch.no_grad():
        return {"stdct_s": _timed(lambda: t(wave), repeats), "istdct_s": _timed(lambda: t.inverse(spec), repeats),
                "dense_stdct_s": _timed(dense, repeats), "dense_max_diff": float((dense() - spec).abs().max()),
                "round_trip_max_err": float((t.inverse(spec) - wave).abs().max())}


def measure_mdct(repeats: int, threads: int, device: str) -> dict:
    """The adaptive and robust models' MDCT (a 1.53 s window at 44.1 kHz: 130 frames of 1,024 samples) by the DCT-IV
    fold against the dense product it replaced (NumPy, the CPU, whatever ``device``)."""
    import numpy as np

    from pixinwav.robust import mdct

    _use("cpu", threads)
    hop, frames = 512, 130
    wave = np.random.default_rng(0).normal(size=(frames + 1) * hop)
    coefs = mdct.analyse(wave, hop, frames)
    view = np.lib.stride_tricks.sliding_window_view(wave, 2 * hop)[::hop][:frames]
    dense = lambda: view @ mdct.basis(hop)  # noqa: E731
    return {"mdct_s": _timed(lambda: mdct.analyse(wave, hop, frames), 20 * repeats),
            "imdct_s": _timed(lambda: mdct.synthesise(coefs, hop), 20 * repeats),
            "dense_mdct_s": _timed(dense, 20 * repeats), "dense_max_diff": float(np.abs(dense() - coefs).max()),
            "round_trip_max_err": float(np.abs(mdct.analyse(mdct.synthesise(coefs, hop), hop, frames) - coefs).max())}


def transform_table(m: dict, name: str, shape: str, how: str, digits: int) -> None:
    """One transform against its dense baseline (``m``: :func:`measure_stdct` / :func:`measure_mdct` keys)."""
    key = name.lower()
    print(f"| transform ({shape}) | ms |\n|---|---|")
    print(f"| {name} ({how}) | {m[f'{key}_s'] * 1e3:.{digits}f} |\n| inverse {name} | {m[f'i{key}_s'] * 1e3:.{digits}f} |")
    print(f"| {name} as a dense matrix product (baseline) | {m[f'dense_{key}_s'] * 1e3:.{digits}f} |")
    print(f"\nround-trip max error {m['round_trip_max_err']:.2e}; {how} vs dense max difference {m['dense_max_diff']:.2e}; "
          f"{m[f'dense_{key}_s'] / m[f'{key}_s']:.1f}x faster\n", flush=True)


def _setup(preset: str, batch: int, threads: int, device: str):
    from pixinwav.config import model_config
    from pixinwav.models import build_model

    _use(device, threads)
    torch.manual_seed(0)
    cfg = model_config(preset)
    model = build_model(cfg).to(device)
    image = torch.rand(batch, cfg.image_channels, cfg.image_size, cfg.image_size, device=device)
    cover = 0.1 * torch.randn(batch, cfg.clip_samples, device=device)
    return model, image, cover


def measure_inference(preset: str, batch: int, repeats: int, threads: int, device: str = "cpu") -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    model, image, cover = _setup(preset, batch, threads, device)
    model.eval()
    with torch.no_grad():
        container = model.embed(image, cover).container
        flops = {}
        for name, fn in (("hide", lambda: model.embed(image, cover)), ("reveal", lambda: model.extract(container))):
            counter = FlopCounterMode(display=False)
            with counter:
                fn()
            flops[name] = counter.get_total_flops() / 1e9 / batch
        hide_s = _timed(lambda: model.embed(image, cover), repeats)
        reveal_s = _timed(lambda: model.extract(container), repeats)
    return {"params": sum(p.numel() for p in model.parameters()), "hide_gflop": flops["hide"],
            "reveal_gflop": flops["reveal"], "hide_s": hide_s, "reveal_s": reveal_s, "peak_gib": _rss_gib()}


def measure_train(preset: str, batch: int, repeats: int, threads: int, device: str = "cpu") -> dict:
    from pixinwav.losses import StegoLoss

    model, image, cover = _setup(preset, batch, threads, device)
    if not any(True for _ in model.parameters()):  # modulo-rgb: nothing to train by gradient
        return None
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = StegoLoss()

    def step():
        terms = loss_fn(model(image, cover), image, cover)
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()

    return {"step_s": _timed(step, repeats), "peak_gib": _rss_gib()}


def in_child(fn, *args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def fmt(x, spec=".3f", unit=""):
    return "skipped" if x is None else format(x, spec) + unit


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", nargs="+", default=PAPER_PRESETS)
    p.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    p.add_argument("--repeats", type=int, default=3, help="timed runs after one warm-up (batch > 1: at most 2)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--max-gib", type=float, default=None,
                   help="skip measurements estimated to need more memory (default 20 on the CPU, 90%% of a GPU's)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (GPU timings synchronise; memory is GPU peak)")
    p.add_argument("--out", default=None, help="JSON results (default results/core.json, or core_cuda.json)")
    p.add_argument("--transforms-only", action="store_true", help="the transform tables alone (no models)")
    args = p.parse_args()
    if args.max_gib is None:
        args.max_gib = 20.0 if args.device == "cpu" else 0.9 * torch.cuda.get_device_properties(0).total_memory / 2**30
    args.out = args.out or str(Path(__file__).parent / "results" / ("core.json" if args.device == "cpu" else "core_cuda.json"))
    if "paper-rgb" in args.presets:  # the baseline first, so every ratio comes from this run
        args.presets = ["paper-rgb"] + [x for x in args.presets if x != "paper-rgb"]

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    if args.device != "cpu":
        cpu = f"{torch.cuda.get_device_name(0)} (host {cpu})"
    ceilings = in_child(measure_ceilings, args.repeats, args.threads, args.device)
    print(f"device: {cpu}; torch {torch.__version__}; {args.threads} threads; median of {args.repeats} after a warm-up; "
          f"measured ceilings {ceilings['matmul_gflops']:.0f} GFLOP/s (4096 x 4096 fp32 matmul), "
          f"{ceilings['conv_gflops']:.0f} GFLOP/s (64-channel 3x3 conv, 8 x 256 x 256)\n")
    stdct = in_child(measure_stdct, args.repeats, args.threads, args.device)
    transform_table(stdct, "STDCT", "67,522 samples -> 4096 x 1024", "FFT-based DCT", 1)
    mdct = in_child(measure_mdct, args.repeats, args.threads, args.device)
    transform_table(mdct, "MDCT", "67,072 samples -> 130 x 512, float64", "DCT-IV fold", 2)
    if args.transforms_only:
        return

    results: dict = {}
    for preset in args.presets:
        results[preset] = {}
        for batch in args.batches:
            repeats = args.repeats if batch == 1 else min(args.repeats, 2)
            one = results[preset].get(1)
            row = {}
            if one and one["inference"]["peak_gib"] * batch > args.max_gib:
                row["inference"] = None
            else:
                row["inference"] = in_child(measure_inference, preset, batch, repeats, args.threads, args.device)
            if one and one["train"] and one["train"]["peak_gib"] * batch > args.max_gib:
                row["train"] = None
            else:
                row["train"] = in_child(measure_train, preset, batch, repeats, args.threads, args.device)
            results[preset][batch] = row
            print(f"  measured {preset} batch {batch}", flush=True)

    base = results.get("paper-rgb", {}).get(1)
    print("\n| preset | params | hide GFLOP | reveal GFLOP | batch | hide s | reveal s | hide+reveal GFLOP/s "
          "| train step s | train peak GiB | hide+reveal vs paper-rgb | train step vs paper-rgb |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for preset, rows in results.items():
        for batch, row in rows.items():
            inf, tr = row["inference"], row["train"]
            per_image = (inf["hide_s"] + inf["reveal_s"]) / batch if inf else None
            rate = (inf["hide_gflop"] + inf["reveal_gflop"]) / per_image if inf else None
            ref = results.get("paper-rgb", {}).get(batch) or {}
            ref_inf, ref_tr = ref.get("inference"), ref.get("train")
            speed = (ref_inf["hide_s"] + ref_inf["reveal_s"]) / (inf["hide_s"] + inf["reveal_s"]) if inf and ref_inf else None
            tspeed = ref_tr["step_s"] / tr["step_s"] if tr and ref_tr else None
            info = inf or (rows.get(1) or {}).get("inference") or {}
            print(f"| {preset} | {info.get('params', 0):,} | {fmt(info.get('hide_gflop'), '.1f')} | "
                  f"{fmt(info.get('reveal_gflop'), '.1f')} | {batch} | {fmt(inf and inf['hide_s'])} | "
                  f"{fmt(inf and inf['reveal_s'])} | {fmt(rate, '.1f')} | {fmt(tr and tr['step_s'])} | "
                  f"{fmt(tr and tr['peak_gib'], '.2f')} | {fmt(speed, '.1f', 'x')} | {fmt(tspeed, '.1f', 'x')} |")
    if base is None:
        print("\n(paper-rgb not measured: no ratios)")
    print("\n'skipped': estimated memory above --max-gib, or no trainable parameters; ratios compare the same batch size; "
          "GFLOP/s = counted GFLOP per image / (hide + reveal seconds per image).")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu": cpu, "threads": args.threads, "torch": torch.__version__, "ceilings": ceilings,
                               "stdct": stdct,
                               "models": {k: {str(b): r for b, r in v.items()} for k, v in results.items()}}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
