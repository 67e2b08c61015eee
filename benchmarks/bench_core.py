"""Core speed and memory on this machine: STDCT / inverse STDCT at paper geometry, and for each model preset
the hide + reveal forward time and one training step (time and peak memory) at batch 1.

Prints a Markdown table and writes benchmarks/results/core.json. Each measurement runs in its own
process, so peak memory (max RSS) belongs to that measurement alone. Benchmarks print; they never assert.

    python benchmarks/bench_core.py [--presets paper-rgb small-rgb] [--repeats 3] [--threads N]
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


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def _timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure_stdct(repeats: int, threads: int) -> dict:
    from pixinwav.transforms import STDCT

    torch.set_num_threads(threads)
    t = STDCT()
    wave = torch.randn(1, 67522)
    spec = t(wave)
    # the baseline the FFT route replaces: one dense 4096 x 4096 DCT matrix applied to every frame
    n = torch.arange(t.frame, dtype=torch.float64)
    basis = torch.cos(torch.pi * n[:, None] * (2 * n[None, :] + 1) / (2 * t.frame)) * (2 / t.frame) ** 0.5
    basis[0] /= 2**0.5
    basis = basis.float()
    dense = lambda: basis @ (wave.unfold(-1, t.frame, t.hop) * t.window).transpose(-1, -2)
    with torch.no_grad():
        return {"stdct_s": _timed(lambda: t(wave), repeats), "istdct_s": _timed(lambda: t.inverse(spec), repeats),
                "dense_stdct_s": _timed(dense, repeats),
                "dense_max_diff": float((dense() - spec).abs().max()),
                "round_trip_max_err": float((t.inverse(spec) - wave).abs().max())}


def measure_model(preset: str, mode: str, repeats: int, threads: int) -> dict:
    from pixinwav.config import model_config
    from pixinwav.losses import StegoLoss
    from pixinwav.models import build_model

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = model_config(preset)
    model = build_model(cfg)
    image = torch.rand(1, cfg.image_channels, cfg.image_size, cfg.image_size)
    cover = 0.1 * torch.randn(1, cfg.clip_samples)
    base = _rss_gib()
    if mode == "forward":
        model.eval()
        with torch.no_grad():
            seconds = _timed(lambda: model(image, cover), repeats)
    else:
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = StegoLoss()

        def step():
            terms = loss_fn(model(image, cover), image, cover)
            opt.zero_grad()
            terms["loss"].backward()
            opt.step()

        seconds = _timed(step, repeats)
    return {"seconds": seconds, "peak_gib": _rss_gib(), "peak_above_model_gib": _rss_gib() - base,
            "params": sum(p.numel() for p in model.parameters())}


def in_child(fn, *args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", nargs="+", default=["paper-rgb", "small-rgb", "tiny-rgb"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "core.json"))
    args = p.parse_args()

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    print(f"CPU: {cpu}; torch {torch.__version__}; {args.threads} threads; median of {args.repeats} after warm-up\n")
    stdct = in_child(measure_stdct, args.repeats, args.threads)
    print("| transform (67,522 samples -> 4096 x 1024) | ms |\n|---|---|")
    print(f"| STDCT (FFT-based DCT) | {stdct['stdct_s'] * 1e3:.1f} |\n| inverse STDCT | {stdct['istdct_s'] * 1e3:.1f} |")
    print(f"| STDCT as a dense per-frame matrix product (baseline) | {stdct['dense_stdct_s'] * 1e3:.1f} |")
    print(f"\nround-trip max error {stdct['round_trip_max_err']:.2e}; FFT vs dense max difference "
          f"{stdct['dense_max_diff']:.2e}; FFT route {stdct['dense_stdct_s'] / stdct['stdct_s']:.1f}x faster\n")

    rows = {}
    print("| preset | params | hide + reveal forward, s | training step, s | peak memory training, GiB | vs paper-rgb (step time) |")
    print("|---|---|---|---|---|---|")
    for preset in args.presets:
        fwd = in_child(measure_model, preset, "forward", args.repeats, args.threads)
        step = in_child(measure_model, preset, "train", args.repeats, args.threads)
        rows[preset] = {"forward": fwd, "train_step": step}
        ratio = (rows["paper-rgb"]["train_step"]["seconds"] / step["seconds"]) if "paper-rgb" in rows else float("nan")
        print(f"| {preset} | {fwd['params']:,} | {fwd['seconds']:.3f} | {step['seconds']:.3f} | "
              f"{step['peak_gib']:.2f} | {ratio:.1f}x faster |", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu": cpu, "threads": args.threads, "torch": torch.__version__, "stdct": stdct,
                               "models": rows}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
