"""Run by torchrun from test_train.py: train on 2 CPU processes (gloo), then save each rank's weights."""
import os
import sys

import torch.distributed as dist
from safetensors.torch import save_file

from pixinwav.config import load_config
from pixinwav.train import fit

config, out, *overrides = sys.argv[1:]
rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
dist.init_process_group("gloo")
cfg = load_config(config, overrides)
model = fit(cfg, rank=rank, world=world, progress=False)["model"]
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{out}/rank{rank}.safetensors")
dist.destroy_process_group()
