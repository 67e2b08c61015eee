#!/usr/bin/env bash
# The GPU check (a few minutes on one GPU): 50 training steps of fast-rgb and paper-rgb with validation through
# real 16-bit WAV files (fast-rgb also in bf16 autocast), a one-process torchrun with NCCL, and the model-level
# benchmark on CUDA. Needs the demo data (bash scripts/fetch_demo_data.sh) or DATA=folder with train_images,
# train_audio, val_images and val_audio. Writes logs under ${OUT:-gpu_check}.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
DATA=${DATA:-data/demo}
OUT=${OUT:-gpu_check}
mkdir -p "$OUT"
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"
data="data.train_images=$DATA/train_images data.train_audio=$DATA/train_audio data.val_images=$DATA/val_images data.val_audio=$DATA/val_audio data.val_pairs=2"
common="train.device=cuda train.steps=50 train.val_every=25 train.ckpt_every=50 train.log_every=10 train.batch_size=8 train.tensorboard=false"
for preset in fast-rgb paper-rgb; do
  "$PY" -m pixinwav train --quiet model.preset=$preset $common $data train.out_dir="$OUT/$preset" | tee "$OUT/$preset.log"
done
"$PY" -m pixinwav train --quiet model.preset=fast-rgb train.amp=bf16 $common $data train.out_dir="$OUT/fast-rgb-bf16" | tee "$OUT/fast-rgb-bf16.log"
"$PY" -m torch.distributed.run --standalone --nproc_per_node 1 -m pixinwav train --quiet model.preset=fast-rgb \
  $common $data train.out_dir="$OUT/ddp" | tee "$OUT/ddp.log"
"$PY" benchmarks/bench_core.py --device cuda --presets paper-rgb fast-rgb modulo-rgb --batches 1 16 --repeats 3 \
  --out "$OUT/core_cuda.json" | tee "$OUT/bench_core_cuda.md"
for run in fast-rgb paper-rgb fast-rgb-bf16 ddp; do tail -n 2 "$OUT/$run/val.csv"; done
