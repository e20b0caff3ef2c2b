"""Peak memory of recording a target model's evidence with ``EvidenceRecorder``.

At the paper's scale: a pool of 57,000 points (CIFAR-10's 60,000 training images minus the
3,000 initially labeled) and 1,280 penultimate features (the width of OFA's MobileNetV3
subnets). The model is a small synthetic network whose penultimate layer has that width
(``Linear(input_dim, d) -> ReLU -> Linear(d, 10)``), so that the figure is the recorder's own
memory and not a convolutional network's activations; its inputs are float32 vectors.

Usage::

    python benchmarks/recorder_memory.py [--n-pool 57000] [--dim 1280] [--epochs 10]
        [--input-dim 32] [--batch-size 512]

The measurement runs in a fresh process (``multiprocessing`` with ``spawn``). It prints one
JSON line with

``n_pool, dim, epochs, snapshots``  the sizes (``snapshots`` = epochs floor(T/2)..T recorded)
``features_mib``     the size of one float32 copy of the pool's features, n_pool * dim * 4 bytes
``traced_peak_mib``  peak of the memory that Python and numpy allocated while recording
                     (``tracemalloc``; torch's own tensors are not traced)
``rss_growth_mib``   growth of the process's peak resident memory (``ru_maxrss``) over its value
                     before the first ``record`` call: everything, torch included
``seconds``          wall time of all ``record`` calls
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
import tracemalloc

MIB = 1024.0 * 1024.0


def measure(n_pool: int, dim: int, epochs: int, input_dim: int, batch_size: int, seed: int = 0) -> dict:
    """Record ``epochs`` epochs of a synthetic model's evidence on a pool of ``n_pool`` inputs; memory figures."""
    import numpy as np
    import torch
    from torch import nn

    from diamlib.evidence import snapshot_epochs
    from diamlib.userfiles.torch_evidence import EvidenceRecorder

    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(seed)
    pool = torch.randn(n_pool, input_dim, generator=generator)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(input_dim, dim), nn.ReLU(), nn.Linear(dim, 10))
    recorder = EvidenceRecorder(pool, epochs=epochs, batch_size=batch_size)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        with torch.no_grad():
            model[0].weight.mul_(0.99)  # a "training step": the weights change between epochs
        recorder.record(model, epoch)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert recorder.pool_features.shape == (n_pool, dim) and recorder.complete
    return {"n_pool": n_pool, "dim": dim, "epochs": epochs, "snapshots": len(snapshot_epochs(epochs)),
            "features_mib": round(n_pool * dim * np.dtype(np.float32).itemsize / MIB, 1),
            "traced_peak_mib": round(traced_peak / MIB, 1),
            "rss_growth_mib": round((rss_after - rss_before) / 1024.0, 1), "seconds": round(seconds, 2)}


def _child(queue, kwargs: dict) -> None:
    queue.put(measure(**kwargs))


def measure_in_fresh_process(**kwargs) -> dict:
    """:func:`measure` in a spawned process, so that its peak resident memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, kwargs))
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"the measuring process exited with code {process.exitcode}")
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=57_000)
    parser.add_argument("--dim", type=int, default=1_280)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--input-dim", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args(argv)
    result = measure_in_fresh_process(n_pool=args.n_pool, dim=args.dim, epochs=args.epochs,
                                      input_dim=args.input_dim, batch_size=args.batch_size)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
