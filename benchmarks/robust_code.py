"""How far the robust song model's packet code sits from the channel's capacity, and what other codes of the same
length would give: a design measurement for a successor of ``pixinwav-robust-v2``.

Each packet of robust-v2 is a repeat-accumulate LDPC word of 2,560 bits carrying 864 (rate 0.3375), and each packet
is sent 1.5 times over on average (half of them twice); the receiver adds up the copies' soft bits. Here the words
go through a binary-input Gaussian channel (bits as +-1, noise of deviation sigma, exact log-likelihood ratios), the
simplest channel whose capacity per bit is known, at noise levels around the code's threshold. For each code:

- the capacity per channel bit at which 90 % of the words decode (the share the fountain code needs: robust-v2's
  source packets are 89-90 % of the distinct ones), interpolated between the measured noise levels;
- its efficiency: the information per channel bit it delivers (rate over copies) divided by that capacity;
- the best any code of this length could do (the normal approximation of Polyanskiy, Poor and Verdu, 2010:
  ``log2 M ~ n C - sqrt(n V) Q^-1(eps) + log2(n) / 2``) for the same rate and 10 % word errors.

Codes: the shipped one through the receiver's own decoders (``robust/code.py``: chain schedule, then flooding);
the same construction with every check seeing as many message bits ("check-regular"); irregular repeat-accumulate
variants (message bits of two degrees); and a rate-0.225 word sent once, against the shipped 0.3375 with 1.5 copies
(equal information per channel bit). The alternatives decode with ``ldpc``'s flooding product-sum (100 iterations).
A Gaussian channel has no bursts: a codec's bad passage that hits one copy and spares the far one favours the
copies in real files, which this does not show.

    python benchmarks/robust_code.py [--words 100] [--out benchmarks/results/robust_code]
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy import integrate, stats

from pixinwav.robust import code

N, K = 2560, 864  # robust-v2's packet word: 40 data groups x 64 frames; 108 bytes of message
SIGMAS = np.round(np.arange(0.80, 1.75, 0.05), 2)
TARGET = 0.9  # share of words that must decode


def information_density(y: np.ndarray, sigma: float) -> np.ndarray:
    """Bits of information each received ``y`` (sent +1) gives: ``1 - log2(1 + exp(-2 y / sigma^2))``."""
    return 1 - np.logaddexp(0, -2 * y / sigma**2) / math.log(2)


def capacity(sigma: float) -> float:
    """Binary-input Gaussian channel's capacity per bit."""
    density = lambda y: stats.norm.pdf(y, 1, sigma) * information_density(y, sigma)
    return integrate.quad(density, 1 - 12 * sigma, 1 + 12 * sigma, limit=200)[0]


def dispersion(sigma: float) -> float:
    density = lambda y: stats.norm.pdf(y, 1, sigma) * information_density(y, sigma) ** 2
    second = integrate.quad(density, 1 - 12 * sigma, 1 + 12 * sigma, limit=200)[0]
    return second - capacity(sigma) ** 2


def best_possible(rate: float, n: int, errors: float = 1 - TARGET) -> float:
    """The capacity at which the best code of ``n`` bits and ``rate`` reaches ``errors`` word errors (normal
    approximation), by bisection over the noise."""
    lo, hi = 0.3, 3.0
    for _ in range(40):
        sigma = (lo + hi) / 2
        reachable = capacity(sigma) - math.sqrt(dispersion(sigma) / n) * stats.norm.isf(errors) + math.log2(n) / (2 * n)
        lo, hi = (sigma, hi) if reachable > rate else (lo, sigma)
    return capacity(lo)


class Code:
    """A repeat-accumulate word of ``n`` bits with a ``k``-bit message whose message bits have the given degrees
    (a dict, decoded by ``ldpc``'s flooding), or one of ``robust/code.py``'s constructions ("rows", "irregular",
    decoded by the receiver's own decoders)."""

    def __init__(self, name: str, k: int, n: int, degrees: dict[int, float] | str, copies: float = 1.0):
        self.name, self.k, self.n, self.copies = name, k, n, copies
        self.decoder, self.drawn = None, degrees
        if isinstance(degrees, str):
            return
        from ldpc import BpDecoder

        m, rng = n - k, np.random.default_rng(20261205)
        counts = np.floor(np.array(list(degrees.values())) * k).astype(int)
        counts[0] += k - counts.sum()
        per_bit = np.repeat(list(degrees), counts)
        self.h1, self.h = code.repeat_accumulate(code.irregular_rows(m, per_bit, rng), per_bit, m)
        self.decoder = BpDecoder(self.h, error_rate=0.1, max_iter=100, bp_method="product_sum",
                                 input_vector_type="received_vector")

    @property
    def rate(self) -> float:
        """Information per channel bit, copies counted."""
        return self.k / self.n / self.copies

    def encode(self, message: np.ndarray) -> np.ndarray:
        if self.decoder is None:
            return code.encode(message, self.n, drawn=self.drawn)
        parity = np.cumsum((self.h1 @ message.astype(np.int64)) % 2) % 2
        return np.concatenate([message, parity.astype(np.uint8)])

    def decodes(self, llr: np.ndarray, message: np.ndarray) -> bool:
        if self.decoder is None:
            got, ok = code.decode(llr, self.k, 100, drawn=self.drawn)
            return ok and np.array_equal(got, message)
        flip = 1.0 / (1.0 + np.exp(np.minimum(np.abs(llr), 30.0)))
        self.decoder.update_channel_probs(np.clip(flip, 1e-12, 0.5 - 1e-9))
        word = self.decoder.decode((llr < 0).astype(np.uint8))
        return bool(self.decoder.converge) and np.array_equal(word[: self.k], message)

    def decoded_share(self, sigma: float, words: int, rng: np.random.Generator) -> float:
        """Share of words that decode at noise ``sigma`` per copy; with 1.5 copies, every other word has two (their
        soft bits added: twice the signal's energy)."""
        ok = 0
        for w in range(words):
            message = rng.integers(0, 2, self.k).astype(np.uint8)
            sent = 1.0 - 2.0 * self.encode(message)
            copies = 2 if self.copies > 1 and w % 2 else 1
            llr = sum(2 * (sent + sigma * rng.standard_normal(self.n)) / sigma**2 for _ in range(copies))
            ok += self.decodes(llr, message)
        return ok / words


def threshold(shares: list[tuple[float, float]]) -> float:
    """The capacity (linear between measured points) where the decoded share crosses ``TARGET``; NaN outside."""
    for (c0, s0), (c1, s1) in zip(shares, shares[1:]):  # capacity falling, share falling
        if s0 >= TARGET > s1:
            return c1 + (c0 - c1) * (TARGET - s1) / (s0 - s1)
    return float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--words", type=int, default=100, help="words per noise level and code")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "robust_code"))
    args = p.parse_args()
    k_low = round(0.225 * N / 8) * 8
    codes = [Code("shipped: rate 0.3375, message bits in 6 checks, x1.5 copies (receiver's decoders)", K, N, "rows", 1.5),
             Code("the same, once (no copies)", K, N, "rows"),
             Code("check-regular, degree 6, x1.5 copies", K, N, {6: 1.0}, 1.5),
             Code("irregular: 60 % degree 3, 40 % degree 10, x1.5 copies", K, N, {3: 0.6, 10: 0.4}, 1.5),
             Code("irregular: 75 % degree 4, 25 % degree 12, x1.5 copies", K, N, {4: 0.75, 12: 0.25}, 1.5),
             Code(f"rate {k_low / N:.3f} once (shipped construction)", k_low, N, "rows"),
             Code(f"rate {k_low / N:.3f} once, irregular 60 % degree 3, 40 % degree 14", k_low, N, {3: 0.6, 14: 0.4}),
             Code(f"rate {k_low / N:.3f} once, robust/code.py's irregular construction (receiver's decoders)", k_low, N,
                  "irregular")]
    caps = {s: capacity(s) for s in SIGMAS}
    lines = ["# robust-v2's packet code against the channel's capacity (binary-input Gaussian channel)", "",
             f"`python benchmarks/robust_code.py --words {args.words}`: words of {N} bits, {args.words} per noise level; "
             f"the capacity per channel bit (of one copy) at which {TARGET:.0%} of the words decode, and the information "
             "per channel bit delivered (message bits over channel bits, copies counted) over it. 'Best possible': the "
             "normal approximation for one word of this length and rate at 10 % word errors.", "",
             "| code | information per channel bit | capacity needed for 90 % of words | efficiency | best possible: capacity | "
             "best possible: efficiency |", "|---|---|---|---|---|---|"]
    for c in codes:
        rng = np.random.default_rng(1)
        shares = []
        for s in SIGMAS:
            share = c.decoded_share(float(s), args.words, rng)
            shares.append((caps[s], share))
            print(f"{c.name}: sigma {s:.2f} capacity {caps[s]:.3f}: {share:.2f} decoded", flush=True)
            if share == 0.0:
                break
        needed = threshold(shares)
        word_rate = c.k / c.n
        # a word sent twice gets twice the energy; the bound is for one word of this rate at its own noise
        bound = best_possible(word_rate, c.n) if c.copies == 1 else float("nan")
        lines.append(f"| {c.name} | {c.rate:.3f} | {needed:.3f} | {c.rate / needed:.0%} | "
                     + (f"{bound:.3f} | {c.rate / bound:.0%} |" if not math.isnan(bound) else "- | - |"))
        print(lines[-1], flush=True)
    out = Path(args.out)
    out.with_name(out.name + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
