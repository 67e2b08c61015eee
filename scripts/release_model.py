"""Turn a training run into a shipped model: weights + card into src/pixinwav/weights/NAME.safetensors and
a registry entry with its sha256.

    python scripts/release_model.py runs/small-rgb/best.safetensors pixinwav-small-v0 \
        --config configs/small-rgb.yaml --summary "64 x 64 RGB in 0.38 s, 25 dB"

``--song`` ships a trained modulo model as its song-filling variant (``model.song=true``: the same statistics, the
photo at its own size over the whole song); pixinwav-modulo-v2 is made from pixinwav-modulo-v1 that way:

    python scripts/release_model.py src/pixinwav/weights/pixinwav-modulo-v1.safetensors pixinwav-modulo-v2 \
        --config configs/modulo-rgb.yaml --song --summary "..."
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import dataclasses

from pixinwav.checkpoint import load_model_file, read_file, save_model, sha256
from pixinwav.models import build_model

WEIGHTS = Path(__file__).parents[1] / "src" / "pixinwav" / "weights"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("name")
    p.add_argument("--config", required=True, help="the YAML that trained it (recorded in the card)")
    p.add_argument("--summary", default="")
    p.add_argument("--song", action="store_true", help="a modulo model as its song-filling variant (model.song=true)")
    args = p.parse_args()
    model, _ = load_model_file(args.checkpoint)
    if args.song:
        window = model
        model = build_model(dataclasses.replace(model.cfg, song=True)).eval()
        model.window.load_state_dict(window.state_dict())
    state = read_file(args.checkpoint)[1].get("state", {})
    retrain = f"pixinwav train --config {args.config}" + (" (then release_model.py --song)" if args.song else "")
    card = {"name": args.name, "summary": args.summary, "trained_steps": state.get("step"), "retrain": retrain,
            "card": f"model_cards/{args.name}.md"}
    out = save_model(WEIGHTS / f"{args.name}.safetensors", model, card)
    registry_path = WEIGHTS / "registry.json"
    registry = json.loads(registry_path.read_text())
    registry[args.name] = {"file": out.name, "sha256": sha256(out), "summary": args.summary}
    registry_path.write_text(json.dumps(registry, indent=2) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB), sha256 {registry[args.name]['sha256']}")


if __name__ == "__main__":
    main()
