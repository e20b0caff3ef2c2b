"""Training and inference throughput of the CPU zoos' target models (images per second).

One JSON line per (zoo, model, threads): a training step is forward + backward + SGD
update of a batch (cross-entropy, 10 classes); inference is a forward pass in eval mode
without gradients. Run from the project root, e.g.

    python benchmarks/zoo_throughput.py --zoos cpu6 cpu4 smoke3 --threads 1 2

Each line records the numerics mode and ATen's kernels: compare ``DIAMLIB_NUMERICS=native``
with the default portable mode to see what the portable kernels cost on this CPU.

On a machine busy with other jobs, two intra-op threads can be many times slower than one
(each operation of these small nets waits for both threads); compare the wall-clock and
CPU-time rates before choosing the thread count.

References
----------
Sec. 6.1 of the paper (target models, scaled down here for a CPU).
"""
from __future__ import annotations

import argparse
import json
import time

from diamlib import numerics

numerics.initialise()  # this process's CPU kernels, chosen before anything loads PyTorch (diamlib.numerics)

import torch  # noqa: E402

from diamlib.numerics import folder_setting  # noqa: E402
from diamlib.zoo import build_zoo

N_CLASSES = 10


def _seconds_per_call(fn, repeats: int) -> tuple[float, float]:
    """Wall-clock and process CPU seconds per call (CPU time is robust to other load on a
    shared machine; with one thread it estimates the wall time of an idle machine)."""
    fn()  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - wall) / repeats, (time.process_time() - cpu) / repeats


def measure(model, resolution: int, batch_size: int, repeats: int) -> dict[str, float]:
    """Images per wall-clock second and per CPU second, of training steps and of inference."""
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

    rates = {}
    for label, fn in (("train", train_step), ("inference", inference)):
        wall, cpu = _seconds_per_call(fn, repeats)
        rates[f"{label}_images_per_s"] = batch_size / wall
        rates[f"{label}_images_per_cpu_s"] = batch_size / cpu
    return rates


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoos", nargs="+", default=["cpu6", "cpu4", "smoke3"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=None, help="override each zoo's resolution")
    parser.add_argument("--width-mult", type=float, default=None, help="override each zoo's width multiplier")
    args = parser.parse_args(argv)
    numerics = folder_setting()
    rows = []
    for zoo in args.zoos:
        for spec in build_zoo(zoo, n_outputs=N_CLASSES, resolution=args.resolution, width_mult=args.width_mult):
            torch.manual_seed(0)
            model = spec.factory(N_CLASSES)
            for threads in args.threads:
                torch.set_num_threads(threads)
                rates = measure(model, spec.resolution, args.batch_size, args.repeats)
                rows.append({
                    "zoo": zoo, "model": spec.name, "params": spec.info["params"], "macs": spec.info["macs"],
                    "resolution": spec.resolution, "width_mult": spec.info["width_mult"], "threads": threads,
                    "batch_size": args.batch_size, "numerics": numerics,
                    **{k: round(v, 1) for k, v in rates.items()},
                })
                print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    main()
