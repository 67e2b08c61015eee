#!/usr/bin/env bash
# The GPU check (a few minutes on one GPU): 50 training steps of fast-rgb and paper-rgb with validation through
# real 16-bit WAV files (fast-rgb also in bf16 autocast), a one-process torchrun with NCCL, and the model-level
# benchmark on CUDA. Needs the demo data (bash scripts/fetch_demo_data.sh) or DATA=folder with train_images,
# train_audio, val_images and val_audio. Writes logs under ${OUT:-gpu_check}. Every stage runs even when an
# earlier one fails (a GPU session is short: one run should show every failure); the exit status says whether all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
DATA=${DATA:-data/demo}
OUT=${OUT:-gpu_check}
STEPS=${STEPS:-50}
mkdir -p "$OUT"
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.__version__, torch.cuda.get_device_name(0))" || exit 1
data="data.train_images=$DATA/train_images data.train_audio=$DATA/train_audio data.val_images=$DATA/val_images data.val_audio=$DATA/val_audio data.val_pairs=2"
common="train.device=cuda train.steps=$STEPS train.val_every=25 train.ckpt_every=50 train.log_every=10 train.batch_size=8 train.tensorboard=false"
failed=()
stage() {  # stage NAME COMMAND...: run it, log to $OUT/NAME.log, time it, remember a failure
  local name=$1; shift
  local start=$SECONDS
  echo "== $name: $*"
  if "$@" 2>&1 | tee "$OUT/$name.log"; then echo "== $name passed in $((SECONDS - start)) s"
  else echo "== $name FAILED after $((SECONDS - start)) s"; failed+=("$name"); fi
}
for preset in fast-rgb paper-rgb; do
  stage "$preset" "$PY" -m pixinwav train --quiet model.preset=$preset $common $data train.out_dir="$OUT/$preset"
done
stage fast-rgb-bf16 "$PY" -m pixinwav train --quiet model.preset=fast-rgb train.amp=bf16 $common $data train.out_dir="$OUT/fast-rgb-bf16"
stage ddp "$PY" -m torch.distributed.run --standalone --nproc_per_node 1 -m pixinwav train --quiet model.preset=fast-rgb \
  $common $data train.out_dir="$OUT/ddp"
stage bench_core_cuda "$PY" benchmarks/bench_core.py --device cuda --presets paper-rgb fast-rgb modulo-rgb --batches 1 16 \
  --repeats 3 --out "$OUT/core_cuda.json"
for run in fast-rgb paper-rgb fast-rgb-bf16 ddp; do
  [ -f "$OUT/$run/val.csv" ] && { echo "-- $run/val.csv"; head -n 1 "$OUT/$run/val.csv"; tail -n 2 "$OUT/$run/val.csv"; }
done
if [ ${#failed[@]} -gt 0 ]; then echo "GPU check: FAILED stages: ${failed[*]}"; exit 1; fi
echo "GPU check: every stage passed"
