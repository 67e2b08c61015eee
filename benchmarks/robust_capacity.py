"""The robust song model's rate against what its channel carries, per song and attack: how close the code comes to
the channel, and where the photo is lost because the channel is too poor rather than the code too weak.

Each whole song (2-4 minutes, validation music of several sources) hides a photo through the API's path (as
`pixinwav hide` does), is written as a 16-bit WAV and passed through each attack. The receiver then reads the file
once, as `pixinwav reveal` does: what came back, and every frame's soft bits (log-likelihood ratios), set against
the bits the sender wrote (rebuilt from the same photo, song and key). The channel's capacity per bit is the generalised mutual
information of those soft bits, ``max_a 1 - E[log2(1 + exp(-a * x * L))]`` (``x`` = +1 for a sent 0, -1 for a 1):
what an ideal code reading these LLRs (scaled by the best ``a``) could carry per channel bit. In bit/s it is that
times the data bits the song's frames carry per second. The model's rate is what it actually delivers: the
photo's AVIF and base image's bytes over the song's seconds. Their ratio is the share of the channel the model
uses; the photo came back (sharp / base only / none) is the receiver's own verdict on the same file.

    pixinwav data fetch --dest data/debian
    python benchmarks/robust_capacity.py [--per-source 3] [--sources a,b] [--attacks none:0,mp3:128,...]
    # two processes over halves of the sources, then one table and plot:
    python benchmarks/robust_capacity.py --sources drascula-music,freedroidrpg-data --out /tmp/a &
    python benchmarks/robust_capacity.py --sources supertux-data,warmux-data --out /tmp/b
    python benchmarks/robust_capacity.py --merge /tmp/a.json /tmp/b.json

Writes ``benchmarks/results/<model>_capacity.md``, ``.json`` and ``.png`` (``--out`` to change).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from pixinwav.api import load_model
from pixinwav.attacks import apply, describe
from pixinwav.errors import PixinwavError
from pixinwav.evaluate import through_file
from pixinwav.attacks import parse_attacks
from pixinwav.models.base import DAMAGED
from pixinwav.models.robust_song import STREAMS

from robust_song import MAX_SONG, song_arguments, songs, with_ending

ATTACKS = [("none", 0), ("mp3", 128), ("aac", 128), ("vorbis", 128), ("opus", 64), ("resample", 22050),
           ("white_noise", 30), ("aac", 64), ("mp3", 64), ("opus", 32), ("speed", 1.0), ("tempo", -1.0)]
KEY = "benchmark key"
SCALES = np.geomspace(0.02, 4.0, 60)  # the LLR scalings the capacity is maximised over
BANDS = [(0, 1000), (1000, 2000), (2000, 4000), (4000, 8000)]  # Hz, for the table by frequency


def capacity_per_bit(llr: np.ndarray, sent: np.ndarray) -> tuple[float, float]:
    """(generalised mutual information in bit per channel bit, the LLR scale that reaches it) of soft bits ``llr``
    (log P(0) / P(1)) against the ``sent`` 0/1 bits."""
    signed = np.where(sent == 0, llr, -llr).astype(np.float64)
    gmi = [1 - np.mean(np.logaddexp(0, -a * signed)) / np.log(2) for a in SCALES]
    best = int(np.argmax(gmi))
    return max(float(gmi[best]), 0.0), float(SCALES[best])


def measure(stego_api, scheme, attacked: np.ndarray, rate: int, bits: np.ndarray, streams: dict) -> dict:
    """One read of an attacked file, as `pixinwav reveal` reads it: what came back (sharp / base / none), and the
    receiver's soft bits against the ``bits [frames, groups]`` the sender wrote: the capacity over every frame and
    per group, and per packet of the sharp image (its copies' soft bits added up, as the receiver decodes them)
    whether its capacity clears the code's rate."""
    wave = stego_api._mono(attacked, rate).astype(np.float64)
    where, llr, read = scheme.read_frames(wave, KEY)
    got = scheme.extracted(*read)
    lost = float(got.presence[0]) == 0.0 or (got.lost is not None and bool(got.lost[0]))
    came_back = "none" if lost else "base" if got.verdict == DAMAGED else "sharp"
    if llr is None:
        return {"came_back": came_back, "found": False, "gmi": 0.0, "ber": 0.5, "frames": 0, "packets_over_rate": 0,
                "packets_decoded": 0, "group_gmi": [0.0] * len(scheme.data_groups)}
    first = scheme.frame_number(llr, KEY)
    numbers = first + np.arange(len(llr))
    inside = (numbers >= 0) & (numbers < len(bits))
    groups = scheme.data_groups
    received, sent = llr[inside][:, groups], bits[numbers[inside]][:, groups]
    gmi, scale = capacity_per_bit(received.reshape(-1), sent.reshape(-1))
    row = {"came_back": came_back, "found": True, "gmi": gmi, "scale": scale,
           "ber": float(np.mean((received < 0) != (sent == 1))), "frames": int(inside.sum()), "packets_over_rate": 0,
           "packets_decoded": 0, "group_gmi": [capacity_per_bit(received[:, j], sent[:, j])[0] for j in range(len(groups))]}
    layout, found, _ = read
    if layout is None:
        return row
    sharp, code_rate = STREAMS.index("sharp"), scheme.packet_code("sharp", layout.format).rate
    over = [capacity_per_bit(summed, scheme.codeword(streams, stream, cls, layout.format))[0] > code_rate
            for (stream, cls), (_, summed) in scheme.summed_copies(llr, first, layout, KEY).items() if stream == sharp]
    return {**row, "packets_over_rate": int(sum(over)), "packets_decoded": sum(s == "sharp" for s, _, _ in found),
            "packets": layout.classes, "packets_needed": scheme.source_of(layout.classes)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    song_arguments(p)
    p.add_argument("--attacks", default=None, help="NAME:STRENGTH,... (default: the list in this file)")
    p.add_argument("--out", default=None)
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON", help="no run: join runs into one table")
    args = p.parse_args()
    out = Path(args.out or Path(__file__).parent / "results" / f"{args.model}_capacity")
    if args.merge:
        rows = [r for f in args.merge for r in json.loads(Path(f).read_text())["rows"]]
    else:
        rows = run(args)
    with_ending(out, ".json").write_text(json.dumps({"model": args.model, "rows": [rounded(r) for r in rows]}))
    table = summary(rows, args.model)
    with_ending(out, ".md").write_text(table + "\n")
    plot(rows, args.model, with_ending(out, ".png"))
    print(table)


def rounded(row: dict) -> dict:
    """The row with its floats to 4 decimals (the JSON keeps every group's capacity)."""
    def r(x):
        return round(x, 4) if isinstance(x, float) else [r(v) for v in x] if isinstance(x, list) else x
    return {k: r(v) for k, v in row.items()}


def run(args) -> list[dict]:
    api = load_model(args.model)
    scheme = api.model
    if not hasattr(scheme, "sent_bits"):
        raise SystemExit(f"{args.model} is not a robust song model")
    root = Path(args.data) / f"{args.split}_audio"
    everything = sorted(d.name for d in root.iterdir() if d.is_dir())
    sources = args.sources.split(",") if args.sources else everything
    attacks = ATTACKS if not args.attacks else parse_attacks(args.attacks)
    photos = sorted((Path(args.data) / "val_images").rglob("*.*"))
    tmp = Path("/tmp") / f"pixinwav-robust-capacity-{time.time_ns()}"
    tmp.mkdir()
    bits_per_second = len(scheme.data_groups) * scheme.cfg.sample_rate / scheme.hop
    bin_hz = scheme.cfg.sample_rate / (2 * scheme.hop)
    centres = [(scheme.low + (g + 0.5) * scheme.cfg.robust.spread) * bin_hz for g in scheme.data_groups]
    rows = []
    for source in sources:
        for n, path in enumerate(songs(root / source, args.per_source)):
            cover, rate = sf.read(str(path), dtype="float32", always_2d=True)
            cover = cover[: int(MAX_SONG * rate)]
            photo_path = photos[(everything.index(source) * args.per_source + n) % len(photos)]
            try:
                stego, report = api.hide(photo_path, cover, rate, key=KEY)
            except PixinwavError as exc:
                print(f"{source}/{path.name}: hide refused: {exc}")
                continue
            stego = through_file(stego, rate, tmp / "stego.wav")
            # the bits the sender wrote, rebuilt from the same song, photo and key
            mono = api._song_mono(cover, rate).astype(np.float64)
            image = api.prepare_image(photo_path)[None]
            layout, streams = scheme.plan_photo(image, mono)[:2]
            bits = scheme.sent_bits(len(mono), KEY, layout, streams)
            sent = report.payload
            payload_bps = 8 * (sent.bytes + sent.base_bytes) / (len(cover) / rate)
            print(f"{source}/{path.name}: {len(cover) / rate:.0f} s, {sent.width} x {sent.height}, "
                  f"{payload_bps:.0f} bit/s of image", flush=True)
            for attack, strength in attacks:
                attacked, attacked_rate = apply(attack, stego, rate, strength, seed=n)
                got = measure(api, scheme, attacked, attacked_rate, bits, streams)
                rows.append({"source": source, "song": path.name, "attack": attack, "strength": strength,
                             "group_hz": centres, "payload_bps": payload_bps, "capacity_bps": got["gmi"] * bits_per_second,
                             **got})
                print(f"   {describe(attack, strength)}: capacity {got['gmi']:.3f} bit per bit "
                      f"({got['gmi'] * bits_per_second:.0f} bit/s), raw bit errors {got['ber']:.3f}; sharp packets "
                      f"over the code rate {got['packets_over_rate']}, decoded {got['packets_decoded']} of "
                      f"{got.get('packets', 0)} ({got.get('packets_needed', 0)} needed): {got['came_back']}", flush=True)
    return rows


def summary(rows: list[dict], model: str) -> str:
    attacks = list(dict.fromkeys((r["attack"], r["strength"]) for r in rows))
    songs_ = len({(r["source"], r["song"]) for r in rows})
    sources = len({r["source"] for r in rows})
    rate = np.median([r["payload_bps"] for r in rows])
    lines = [f"# {model}: its rate against the channel's capacity", "",
             f"`python benchmarks/robust_capacity.py` ({songs_} whole songs of {sources} sources, 16-bit WAV, then the "
             "attack). Capacity: the generalised mutual information of the receiver's soft bits against the bits "
             "sent, per channel bit and in bit/s, over the songs where the receiver found the frame grid; the "
             "model's rate: the image bytes it sends (sharp + base) over the song's seconds, median "
             f"{rate:.0f} bit/s; 'sharp back': the receiver's own result on the same file.", "",
             "| attack | grid found | capacity bit per bit (median) | raw bit errors (median) | capacity bit/s "
             "(median, min) | rate / capacity (median) | sharp packets whose copies clear the code rate / decoded / "
             "needed (share of those sent, median) | sharp back | any image back |",
             "|---|---|---|---|---|---|---|---|---|"]
    for attack, strength in attacks:
        group = [r for r in rows if (r["attack"], r["strength"]) == (attack, strength)]
        found = [r for r in group if r["found"]]
        head = f"| {describe(attack, strength)} | {len(found)} / {len(group)} | "
        back = (f"{sum(r['came_back'] == 'sharp' for r in group)} / {len(group)} | "
                f"{sum(r['came_back'] != 'none' for r in group)} / {len(group)} |")
        if not found:
            lines.append(head + "- | - | - | - | - | " + back)
            continue
        cap = [r["capacity_bps"] for r in found]
        used = [r["payload_bps"] / r["capacity_bps"] for r in found if r["capacity_bps"] > 0]
        lines.append(head + f"{np.median([r['gmi'] for r in found]):.3f} | {np.median([r['ber'] for r in found]):.3f} | "
                     f"{np.median(cap):.0f}, {min(cap):.0f} | "
                     f"{np.median(used) * 100 if used else float('nan'):.0f} % | {shares(found)} | " + back)
    lines += ["", "Capacity per channel bit by frequency (median over songs of each band's groups; the groups of one "
              "band carry equal shares of every packet):", "",
              "| attack | " + " | ".join(f"{lo / 1000:g}-{hi / 1000:g} kHz" for lo, hi in BANDS) + " |",
              "|---|" + "---|" * len(BANDS)]
    for attack, strength in attacks:
        group = [r for r in rows if (r["attack"], r["strength"]) == (attack, strength) and r["found"]]
        if not group:
            lines.append(f"| {describe(attack, strength)} | " + " | ".join("not found" for _ in BANDS) + " |")
            continue
        centres = np.array(group[0]["group_hz"])
        cells = [np.median([np.mean(np.array(r["group_gmi"])[(centres >= lo) & (centres < hi)]) for r in group])
                 for lo, hi in BANDS]
        lines.append(f"| {describe(attack, strength)} ({len(group)} found) | " + " | ".join(f"{c:.2f}" for c in cells)
                     + " |")
    return "\n".join(lines)


def shares(group: list[dict]) -> str:
    """Median shares of the sharp packets sent whose copies' capacity clears the code rate, that decoded, and that
    the fountain code needs."""
    sent = [r for r in group if r.get("packets")]
    if not sent:
        return "-"
    share = lambda key: np.median([r[key] / r["packets"] for r in sent]) * 100  # noqa: E731
    return f"{share('packets_over_rate'):.0f} / {share('packets_decoded'):.0f} / {share('packets_needed'):.0f} %"


def plot(rows: list[dict], model: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, by_hz) = plt.subplots(1, 2, figsize=(14, 6))
    colours = {"sharp": "tab:green", "base": "tab:orange", "none": "tab:red"}
    shown = [r for r in rows if r["found"] and r["capacity_bps"] > 0]
    for outcome, colour in colours.items():
        group = [r for r in shown if r["came_back"] == outcome]
        ax.scatter([r["capacity_bps"] for r in group], [r["payload_bps"] for r in group], s=18, color=colour,
                   alpha=0.75, label={"sharp": "sharp photo back", "base": "base image only",
                                      "none": "nothing back"}[outcome] + f" ({len(group)})")
    low = min(min(r["capacity_bps"] for r in shown), min(r["payload_bps"] for r in shown)) / 1.5
    top = max(max(r["capacity_bps"] for r in shown), max(r["payload_bps"] for r in shown)) * 1.5
    ax.plot([low, top], [low, top], "k--", lw=1, label="rate = capacity")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, top)
    ax.set_ylim(low, top)
    ax.set_xlabel("channel capacity after the attack (bit/s, generalised mutual information of the soft bits)")
    ax.set_ylabel("image bits sent per second of song")
    lost = len(rows) - len(shown)
    ax.set_title(f"{model}: rate against capacity, one point per song and attack"
                 + (f"\n({lost} files where the receiver found no frame grid are not shown)" if lost else ""), fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    palette = plt.get_cmap("tab20").colors
    for i, (attack, strength) in enumerate(dict.fromkeys((r["attack"], r["strength"]) for r in rows)):
        group = [r for r in rows if (r["attack"], r["strength"]) == (attack, strength) and r["found"]]
        if group:
            by_hz.plot(group[0]["group_hz"], np.median([r["group_gmi"] for r in group], axis=0), marker=".",
                       color=palette[(2 * i) % 20 + (2 * i) // 20], linestyle="-" if i < 10 else "--",
                       label=f"{describe(attack, strength)} ({len(group)})")
    by_hz.set_xlabel("group centre (Hz)")
    by_hz.set_ylabel("capacity per channel bit (median over the songs where the grid was found)")
    by_hz.set_title("where the capacity is: by frequency")
    by_hz.set_ylim(0, 1.02)
    by_hz.legend(fontsize=7, loc="lower left")
    by_hz.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
