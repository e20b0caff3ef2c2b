"""One paper-scale active-learning round of the target models, timed stage by stage.

The paper's classification round (Sec. 6.1): the 12 ``paper12`` OFA target models at their
own resolutions (160-224 px), each trained from scratch for 20 epochs on 3,000 labels, with
the hypotheses of the later epochs labelling the whole unlabeled pool (the soft version
space), then one pass for the pool's probabilities and features. The authors report
26 min 42 s for such a round of 12 models on an RTX 2080.

This script runs exactly that with the library's own training code
(:func:`diamlib.training.networks.train_model_round`) and prints one JSON line per model and one for
the round: seconds of training, of evidence (snapshot and final pool passes) and in all,
and images per second of each. On a GPU, e.g.

    python benchmarks/gpu_round.py --device cuda --amp

and at a reduced size on a CPU (what the test suite runs):

    python benchmarks/gpu_round.py --device cpu --dataset digits --models 1 --labels 40 \\
        --pool 100 --test 50 --epochs 2 --resolution 32

References
----------
Sec. 6.1 of the paper (12 target models, 3,000 initial labels, 20 epochs).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from diamlib.data import load_dataset, subsample
from diamlib.evidence import snapshot_epochs
from diamlib.seeding import child_int_seed, child_rng
from diamlib.training.networks import ModelInputs, RoundData, train_model_round
from diamlib.training.params import TrainingParams
from diamlib.zoo import build_zoo


def round_data(args: argparse.Namespace, resolution: int, pin: bool) -> RoundData:
    """Labeled set, pool and test set of the benchmark at one input resolution."""
    train = load_dataset(args.dataset, split="train", data_root=args.data_root, rng_seed=0)
    test = load_dataset(args.dataset, split="test", data_root=args.data_root, rng_seed=1)
    n_train = args.labels + args.pool
    if n_train > train.n:
        raise SystemExit(f"--labels + --pool = {n_train} exceeds the {train.n} training images of {args.dataset}")
    train = subsample(train, n_train, child_rng(0, "benchmark-train"))
    if args.test < test.n:
        test = subsample(test, args.test, child_rng(0, "benchmark-test"))
    return RoundData(train_inputs=ModelInputs(train.images, resolution, pin_memory=pin),
                     train_targets=train.targets,
                     test_inputs=ModelInputs(test.images, resolution, pin_memory=pin),
                     test_targets=test.targets, labeled=np.arange(args.labels, dtype=np.int64),
                     pool=np.arange(args.labels, n_train, dtype=np.int64), task="classification")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--zoo", default="paper12")
    parser.add_argument("--models", type=int, default=None, help="only the first N models of the zoo")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--labels", type=int, default=3000)
    parser.add_argument("--pool", type=int, default=57000)
    parser.add_argument("--test", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--eval-batch-size", type=int, default=1024)
    parser.add_argument("--resolution", type=int, default=None, help="override every model's resolution")
    parser.add_argument("--amp", action="store_true", help="bfloat16 mixed precision (CUDA)")
    args = parser.parse_args(argv)
    if args.amp and not args.device.startswith("cuda"):
        parser.error("--amp needs --device cuda")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda but no CUDA device is visible; use --device cpu for a reduced run")
    torch.backends.cudnn.benchmark = args.device.startswith("cuda")

    specs = build_zoo(args.zoo, n_outputs=10, resolution=args.resolution)[: args.models]
    training = TrainingParams(epochs=args.epochs, batch_size=args.batch_size, lr=7.5e-3, amp=args.amp)
    n_snapshots = len(snapshot_epochs(args.epochs))
    data_by_resolution: dict[int, RoundData] = {}
    rows, started = [], time.perf_counter()
    for position, spec in enumerate(specs):
        if spec.resolution not in data_by_resolution:
            data_by_resolution[spec.resolution] = round_data(args, spec.resolution, args.device.startswith("cuda"))
        data = data_by_resolution[spec.resolution]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(child_int_seed(0, "benchmark-init", position))
            model = spec.factory(10)
        start = time.perf_counter()
        result = train_model_round(model, data, training, rng=child_rng(0, "benchmark-shuffle", position),
                                   device=args.device, eval_batch_size=args.eval_batch_size)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        evidence_images = n_snapshots * len(data.pool) + len(data.labeled)
        row = {
            "model": spec.name, "resolution": spec.resolution, "device": args.device, "amp": args.amp,
            "labels": len(data.labeled), "pool": len(data.pool), "epochs": args.epochs,
            "seconds_training": round(result.seconds_training, 2),
            "seconds_evidence": round(result.seconds_evidence, 2), "seconds_total": round(seconds, 2),
            "train_images_per_s": round(len(data.labeled) * args.epochs / result.seconds_training, 1),
            "evidence_images_per_s": round(evidence_images / max(result.seconds_evidence, 1e-9), 1),
            "test_accuracy": round(result.metrics["accuracy"], 4),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    total = {
        "model": "round", "models": len(rows), "device": args.device, "amp": args.amp,
        "seconds_training": round(sum(r["seconds_training"] for r in rows), 1),
        "seconds_evidence": round(sum(r["seconds_evidence"] for r in rows), 1),
        "seconds_total": round(time.perf_counter() - started, 1),
    }
    if args.device.startswith("cuda"):
        total["gpu"] = torch.cuda.get_device_name()
        total["peak_gpu_memory_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    print(json.dumps(total), flush=True)
    return rows + [total]


if __name__ == "__main__":
    main()
