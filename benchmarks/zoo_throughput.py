"""Training and inference throughput of the CPU zoos' target models (images per second).

One JSON line per (zoo, model, threads): a training step is forward + backward + SGD
update of a batch (cross-entropy, 10 classes); inference is a forward pass in eval mode
without gradients. Run from the project root, e.g.

    python benchmarks/zoo_throughput.py --zoos cpu6 cpu4 smoke3 --threads 1 2

References
----------
Sec. 6.1 of the paper (target models, scaled down here for a CPU).
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from diamlib.zoo import build_zoo

N_CLASSES = 10


def _seconds_per_call(fn, repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def measure(model, resolution: int, batch_size: int, repeats: int) -> dict[str, float]:
    """Images per second of training steps and of inference for one model."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, 3, resolution, resolution, generator=generator)
    y = torch.randint(0, N_CLASSES, (batch_size,), generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train_step() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    @torch.no_grad()
    def inference() -> None:
        model.eval()
        model.forward_with_features(x)

    return {"train_images_per_s": batch_size / _seconds_per_call(train_step, repeats),
            "inference_images_per_s": batch_size / _seconds_per_call(inference, repeats)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoos", nargs="+", default=["cpu6", "cpu4", "smoke3"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=None, help="override each zoo's resolution")
    args = parser.parse_args()
    for zoo in args.zoos:
        for spec in build_zoo(zoo, n_outputs=N_CLASSES, resolution=args.resolution):
            torch.manual_seed(0)
            model = spec.factory(N_CLASSES)
            for threads in args.threads:
                torch.set_num_threads(threads)
                rates = measure(model, spec.resolution, args.batch_size, args.repeats)
                print(json.dumps({
                    "zoo": zoo, "model": spec.name, "params": spec.info["params"], "macs": spec.info["macs"],
                    "resolution": spec.resolution, "width_mult": spec.info["width_mult"], "threads": threads,
                    "batch_size": args.batch_size,
                    **{k: round(v, 1) for k, v in rates.items()},
                }), flush=True)


if __name__ == "__main__":
    main()
