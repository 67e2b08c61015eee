"""The trainer: build data, build model, load or resume, train loop, validate, checkpoint.

Reads no argv and no environment: the CLI passes rank / world size for DistributedDataParallel runs
(``torchrun``; gloo on CPU, nccl on GPU). Only rank 0 validates, logs and writes checkpoints.
Run folder: ``latest.safetensors`` / ``best.safetensors`` (resumable), ``model.safetensors`` (release
format), ``train.csv``, ``val.csv``, ``tb/`` (TensorBoard), ``val_<step>.png`` figures, ``config.yaml``.
"""
from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm import tqdm

from . import checkpoint
from .config import Config, to_dict
from .data.datasets import TrainBatches, statistics_sample, validation_pairs
from .errors import PixinwavError
from .evaluate import measure_scheme, metric_rows, summarise
from .figures import example_figure
from .losses import StegoLoss
from .models import StegoScheme, build_model

STATISTICS_SAMPLE = 256  # training crops and covers measured by models with fit_statistics


class CsvLog:
    """Append-only CSV whose columns are fixed by the first row; on resume rows past ``keep_until`` are
    dropped (a killed run may have logged steps after its last checkpoint)."""

    def __init__(self, path: Path, keep_until: int | None):
        self.path, self.fields = path, None
        if path.exists() and keep_until is not None:
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]
            if rows:
                self.fields = list(rows[0])
            with open(path, "w", newline="") as f:
                if rows:
                    w = csv.DictWriter(f, self.fields)
                    w.writeheader()
                    w.writerows(rows)
        elif path.exists():
            path.unlink()

    def write(self, row: dict[str, Any]) -> None:
        new = self.fields is None
        if new:
            self.fields = list(row)
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, self.fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)


class Loggers:
    """The same slash-keyed dicts go to CSV, TensorBoard and (when asked) Weights & Biases."""

    def __init__(self, cfg: Config, out: Path, resume_step: int | None):
        self.train_csv = CsvLog(out / "train.csv", resume_step)
        self.val_csv = CsvLog(out / "val.csv", resume_step)
        self.tb = self.wandb = None
        if cfg.train.tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self.tb = SummaryWriter(str(out / "tb"), purge_step=resume_step)
        if cfg.train.wandb:
            try:
                import wandb
            except ImportError:
                raise PixinwavError("train.wandb=true needs Weights & Biases: pip install 'pixinwav[wandb]'") from None
            self.wandb = wandb.init(project=cfg.train.wandb_project, mode=cfg.train.wandb_mode, dir=str(out),
                                    config=to_dict(cfg), resume="allow")

    def log(self, kind: str, step: int, values: dict[str, float]) -> None:
        (self.train_csv if kind == "train" else self.val_csv).write({"step": step, **values})
        if self.tb:
            for key, value in values.items():
                self.tb.add_scalar(f"{kind}/{key}", value, step)
        if self.wandb:
            self.wandb.log({f"{kind}/{k}": v for k, v in values.items()}, step=step)

    def close(self) -> None:
        if self.tb:
            self.tb.close()
        if self.wandb:
            self.wandb.finish()


def make_loss(cfg: Config) -> StegoLoss:
    t = cfg.train
    return StegoLoss(t.beta, t.wave_weight, t.wave_loss, t.sdtw_weight, t.sdtw_frame, t.sdtw_gamma)


@torch.no_grad()
def validate(model: StegoScheme, loss_fn: StegoLoss, images: torch.Tensor, covers: torch.Tensor,
             figure: Path | None) -> dict[str, float]:
    """Metrics the way `pixinwav eval` measures (hide, a real 16-bit WAV, reveal: ``evaluate.measure_scheme``) plus
    the training loss on the same pairs (eval mode)."""
    measured = measure_scheme(model, images, covers)
    rows = metric_rows(measured)
    was_training = model.training
    model.eval()
    out = model(images, covers)
    values = {k: float(v) for k, v in loss_fn(out, images, covers).items()}
    model.train(was_training)
    values.update(summarise(rows))
    first = measured.first
    if figure is not None and first is not None:
        example_figure(figure, first["secret"], first["revealed"], torch.from_numpy(first["cover"][:, 0]),
                       torch.from_numpy(first["stego"][:, 0]), first["rate"],
                       title=f"{figure.stem}: SSIM {rows[first['pair']]['image/ssim']:.3f}, "
                       f"SNR {rows[first['pair']]['audio/snr']:.1f} dB (through a 16-bit WAV)")
    return values


def measure_statistics(cfg: Config, model, device) -> None:
    """For models that fit data statistics before training (the modulo scheme's coefficients and spectrum)."""
    model.fit_statistics(*(x.to(device) for x in statistics_sample(cfg.model, cfg.data, STATISTICS_SAMPLE, cfg.train.seed)))


def fit_statistics_only(cfg: Config, model, out: Path, rank: int, device) -> dict[str, Any]:
    """A model with nothing to train by gradient: measuring its statistics is the whole training. Validates
    once (step 0) and writes the release file."""
    if model.measures_statistics:
        measure_statistics(cfg, model, device)
    best = math.inf
    if rank == 0:
        loggers = Loggers(cfg, out, None)
        if cfg.data.val_images and not model.whole_file:  # whole-file schemes: `pixinwav eval --attacks` measures them
            images, covers = validation_pairs(cfg.model, cfg.data, cfg.train.seed)
            values = validate(model, make_loss(cfg), images.to(device), covers.to(device), out / "val_0000000.png")
            loggers.log("val", 0, values)
            best = values["loss"]
        checkpoint.save_model(out / "model.safetensors", model)
        loggers.close()
    return {"step": 0, "last": {}, "best": best, "model": model, "statistics_only": True}


def fit(cfg: Config, resume: str | Path | None = None, rank: int = 0, world: int = 1,
        progress: bool = True, device: str | None = None) -> dict[str, Any]:
    """Train ``cfg``; ``resume`` is a checkpoint path or "auto" (the run folder's latest, if any).
    Returns a summary: final step, last training losses, best validation loss. ``train.threads`` (and, for
    bfloat16 on a CPU, PyTorch's own kernels instead of oneDNN's) hold while it runs; the process's settings are put
    back after (a caller's later work keeps its own)."""
    threads, onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    if cfg.train.amp == "bf16" and torch.device(device or cfg.train.device).type == "cpu":
        # oneDNN's bfloat16 kernels gave the reveal net a NaN loss in about 1 of 16 runs of the same 2-step CPU
        # training, inputs and weights identical to the bit (Intel Xeon, torch 2.13); PyTorch's own kernels in none of 84
        torch.backends.mkldnn.enabled = False
    try:
        return _fit(cfg, resume, rank, world, progress, device)
    finally:
        torch.set_num_threads(threads)
        torch.backends.mkldnn.enabled = onednn


def _fit(cfg: Config, resume: str | Path | None, rank: int, world: int, progress: bool,
         device: str | None) -> dict[str, Any]:
    t = cfg.train
    device = torch.device(device or t.device)
    out = Path(t.out_dir)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))

    torch.manual_seed(t.seed)  # identical initial weights on every rank
    model = build_model(cfg.model).to(device)
    model.net_dtype = torch.bfloat16 if t.amp == "bf16" else None
    if not model.trainable:  # e.g. the modulo scheme without a refiner, the adaptive and robust schemes
        return fit_statistics_only(cfg, model, out, rank, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=t.lr)
    loss_fn = make_loss(cfg)

    start, best = 0, math.inf
    if resume == "auto":
        resume = out / "latest.safetensors" if (out / "latest.safetensors").exists() else None
    if resume:
        state = checkpoint.load_training(resume, model, optimizer)
        start, best = state["step"], state["best"] if state["best"] is not None else math.inf
    if not resume and model.measures_statistics:
        measure_statistics(cfg, model, device)
    loggers = Loggers(cfg, out, start if resume else None) if rank == 0 else None

    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    data = TrainBatches(cfg.model, cfg.data, t.batch_size, t.seed, rank)
    loader = torch.utils.data.DataLoader(data, batch_size=None, sampler=range(start, t.steps),
                                         num_workers=cfg.data.num_workers, persistent_workers=False)
    val = validation_pairs(cfg.model, cfg.data, t.seed) if (rank == 0 and cfg.data.val_images) else None

    model.train()
    bar = tqdm(total=t.steps, initial=start, disable=not progress or rank != 0, desc="train", unit="step")
    last: dict[str, float] = {}
    began = time.perf_counter()
    for step, (images, covers) in enumerate(loader, start=start + 1):
        images, covers = images.to(device), covers.to(device)
        terms = loss_fn(net(images, covers), images, covers)
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
        last = {k: float(v.detach()) for k, v in terms.items()}
        bar.update(1)
        if rank != 0:
            continue
        if step % t.log_every == 0 or step == t.steps:
            loggers.log("train", step, {**last, "time/step_s": (time.perf_counter() - began) / (step - start)})
            bar.set_postfix(loss=f"{last['loss']:.4f}", img_l1=f"{last['image/l1']:.3f}")
        if val is not None and (step % t.val_every == 0 or step == t.steps):
            values = validate(model, loss_fn, val[0].to(device), val[1].to(device), out / f"val_{step:07d}.png")
            loggers.log("val", step, values)
            if values["loss"] < best:
                best = values["loss"]
                checkpoint.save_training(out / "best.safetensors", cfg, model, optimizer, step, best)
        if step % t.ckpt_every == 0 or step == t.steps:
            checkpoint.save_training(out / "latest.safetensors", cfg, model, optimizer, step, best)
    bar.close()
    if world > 1:  # DDP syncs BatchNorm buffers from rank 0 before each forward; the last step's update is not
        for buffer in model.buffers():
            torch.distributed.broadcast(buffer, src=0)
    if rank == 0:
        checkpoint.save_model(out / "model.safetensors", model)
        loggers.close()
    return {"step": t.steps, "last": last, "best": best, "model": model}
