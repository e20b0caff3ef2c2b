"""One paper-scale active-learning round of the target models, timed stage by stage.

The paper's classification round (Sec. 6.1): the 12 ``paper12`` OFA target models at their
own resolutions (160-192 px), each trained from scratch for 20 epochs on 3,000 labels, with
the hypotheses of the later epochs labelling the whole unlabeled pool (the soft version
space), then one pass for the pool's probabilities and features. The authors report
26 min 42 s for such a round of 12 models on an RTX 2080.

This script runs exactly that with the library's own code (the uint8 images uploaded once to
the device, :func:`diamlib.training.networks.train_model_round` for each model) and prints one
JSON line per resolution's data, per model and for the round, which it also appends to
``benchmarks/results/gpu_round.jsonl`` (``--out``; the format is in
``benchmarks/results/README.md``). Per stage: seconds and images per second of the data
(upload, input preparation), training, the snapshot passes, the final pass and the test pass;
on CUDA the GPU's sampled utilisation (``nvidia-smi``). On a GPU, e.g.

    python benchmarks/gpu_round.py --device cuda --amp --channels-last
    python benchmarks/gpu_round.py --device cuda --amp --channels-last --concurrency 3

and at a reduced size on a CPU (what the test suite runs):

    python benchmarks/gpu_round.py --device cpu --dataset digits --models 1 --labels 40 \\
        --pool 100 --test 50 --epochs 2 --resolution 32 --out /tmp/round.jsonl

``--estimate PROFILE --rates FILE`` estimates a profile's whole grid from measured rates
instead, ``--estimate PROFILE --assume-rates TRAIN,INFERENCE`` from two rates of the paper's
largest model (:mod:`gpu_estimate`).

References
----------
Sec. 6.1 of the paper (12 target models, 3,000 initial labels, 20 epochs).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from diamlib import numerics

numerics.initialise()  # this process's CPU kernels, chosen before anything loads PyTorch (diamlib.numerics)

import torch  # noqa: E402

from diamlib.data import load_dataset, subsample
from diamlib.evidence import snapshot_epochs
from diamlib.experiment.provenance import git_commit
from diamlib.numerics import folder_setting
from diamlib.paths import project_root
from diamlib.seeding import child_int_seed, child_rng
from diamlib.training.networks import ModelInputs, PassSettings, is_cuda, train_model_round, upload_images
from diamlib.training.round_result import RoundData
from diamlib.training.params import DeviceOptions, TrainingParams
from diamlib.zoo import build_zoo

#: Where the measurements accumulate (one JSON object per line).
DEFAULT_OUT = project_root() / "benchmarks" / "results" / "gpu_round.jsonl"
#: The utilisation query, one integer percentage per line (one line per GPU).
NVIDIA_SMI_QUERY = ("nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits")


# --------------------------------------------------------------------------- where it ran
def device_name(device: str) -> str:
    """The GPU's name on CUDA, else the CPU's model name (``/proc/cpuinfo``)."""
    if is_cuda(device):
        return torch.cuda.get_device_name(torch.device(device))
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class UtilisationSampler:
    """The GPU's utilisation, sampled in a background thread while a stage runs.

    Every ``interval`` seconds ``command`` (default :data:`NVIDIA_SMI_QUERY`) prints one
    percentage per GPU; the line of GPU ``gpu_index`` is kept. Use as a context manager.

    Attributes
    ----------
    samples : list of float
        Percentages, in the order sampled.
    """

    def __init__(self, gpu_index: int = 0, interval: float = 0.25, command: tuple[str, ...] = NVIDIA_SMI_QUERY):
        self.gpu_index, self.interval, self.command = gpu_index, interval, command
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                lines = subprocess.run(self.command, capture_output=True, text=True, timeout=5).stdout.split()
                self.samples.append(float(lines[self.gpu_index]))
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                pass  # a missed sample; the busy fraction is over the samples taken
            self._stop.wait(self.interval)

    def __enter__(self) -> "UtilisationSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def busy_fraction(self) -> float | None:
        """Mean utilisation / 100 over the samples (None without samples)."""
        return round(float(np.mean(self.samples)) / 100, 3) if self.samples else None


def utilisation_sampler(device: str) -> UtilisationSampler | None:
    """A sampler of ``device``'s GPU, or None on the CPU or without ``nvidia-smi``."""
    if not is_cuda(device) or shutil.which(NVIDIA_SMI_QUERY[0]) is None:
        return None
    index = torch.device(device).index
    return UtilisationSampler(gpu_index=0 if index is None else index)


# --------------------------------------------------------------------------- one process's models
def _synchronize(device: str) -> None:
    if is_cuda(device):
        torch.cuda.synchronize()


def benchmark_sets(args: argparse.Namespace):
    """The training images (labeled set then pool) and the test images of the benchmark."""
    train = load_dataset(args.dataset, split="train", data_root=args.data_root, rng_seed=0)
    test = load_dataset(args.dataset, split="test", data_root=args.data_root, rng_seed=1)
    n_train = args.labels + args.pool
    if n_train > train.n:
        raise SystemExit(f"--labels + --pool = {n_train} exceeds the {train.n} training images of {args.dataset}")
    train = subsample(train, n_train, child_rng(0, "benchmark-train"))
    if args.test < test.n:
        test = subsample(test, args.test, child_rng(0, "benchmark-test"))
    return train, test


class RoundInputs:
    """The round's data in one process: the images uploaded once, inputs per resolution, and their timings."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.train, self.test = benchmark_sets(args)
        start = time.perf_counter()
        self.images = (upload_images(self.train.images, args.device), upload_images(self.test.images, args.device))
        _synchronize(args.device)
        self.seconds_upload = time.perf_counter() - start
        self.rows: list[dict] = []
        self._data: dict[int, RoundData] = {}

    def at(self, resolution: int) -> RoundData:
        """The :class:`RoundData` at ``resolution`` (built once; its data row recorded)."""
        if resolution not in self._data:
            self._data[resolution] = self._build(resolution)
        return self._data[resolution]

    def _build(self, resolution: int) -> RoundData:
        args = self.args
        start = time.perf_counter()
        train_inputs, test_inputs = (ModelInputs(images, resolution) for images in self.images)
        _synchronize(args.device)
        seconds_inputs = time.perf_counter() - start
        pool = np.arange(args.labels, args.labels + args.pool, dtype=np.int64)
        batch = PassSettings.of(args.device, options=device_options(args)).eval_batch.size
        start = time.perf_counter()
        for begin in range(0, len(pool), batch):
            train_inputs.batch(pool[begin:begin + batch])
        _synchronize(args.device)
        seconds_prepare = time.perf_counter() - start
        first = not self.rows  # the upload, shared by every resolution, is counted with the first
        self.rows.append({"kind": "data", "resolution": resolution, "images": int(self.images[0].shape[0]),
                          "seconds_upload": round(self.seconds_upload if first else 0.0, 3),
                          "seconds_inputs": round(seconds_inputs, 3),
                          "seconds_prepare_pool": round(seconds_prepare, 3),
                          "prepare_images_per_s": _rate(len(pool), seconds_prepare)})
        return RoundData(train_inputs=train_inputs, train_targets=self.train.targets, test_inputs=test_inputs,
                         test_targets=self.test.targets, labeled=np.arange(args.labels, dtype=np.int64), pool=pool,
                         task="classification")


def device_options(args: argparse.Namespace) -> DeviceOptions:
    """The :class:`DeviceOptions` of the command line."""
    batch = args.eval_batch_size if args.eval_batch_size == "auto" else int(args.eval_batch_size)
    return DeviceOptions(channels_last=args.channels_last, cuda_graphs=args.cuda_graphs, eval_batch_size=batch)


def training_params(args: argparse.Namespace) -> TrainingParams:
    """The paper's SGD (lr 7.5e-3, momentum 0.9) with the command line's epochs, batch, augmentation, amp."""
    return TrainingParams(epochs=args.epochs, batch_size=args.batch_size, lr=7.5e-3, amp=args.amp,
                          augmentation=args.augmentation)


def _rate(images: float, seconds: float) -> float | None:
    return round(images / seconds, 1) if seconds > 0 else None


def model_row(args: argparse.Namespace, spec, data: RoundData, result, seconds: float) -> dict:
    """The JSON line of one model: seconds and images per second of every stage."""
    labels, pool = len(data.labeled), len(data.pool)
    passes = len(snapshot_epochs(args.epochs)) - 1  # the last snapshot is the final pass
    return {
        "kind": "model", "model": spec.name, "resolution": spec.resolution, "labels": labels, "pool": pool,
        "test": len(data.test_targets), "epochs": args.epochs, "eval_batch_size": result.eval_batch_size,
        "seconds_training": round(result.seconds_training, 2),
        "train_images_per_s": _rate(labels * args.epochs, result.seconds_training),
        "snapshot_passes": passes, "seconds_snapshots": round(result.seconds_snapshots, 2),
        "snapshot_images_per_s": _rate(passes * pool, result.seconds_snapshots),
        "seconds_final_pass": round(result.seconds_final_pass, 2),
        "final_images_per_s": _rate(pool + labels, result.seconds_final_pass),
        "seconds_test": round(result.seconds_test, 2),
        "test_images_per_s": _rate(len(data.test_targets), result.seconds_test),
        "seconds_evidence": round(result.seconds_evidence, 2),
        "evidence_images_per_s": _rate((passes + 1) * pool + labels, result.seconds_evidence),
        "seconds_total": round(seconds, 2), "test_accuracy": round(result.metrics["accuracy"], 4),
    }


def run_models(args: argparse.Namespace, positions: list[int]) -> list[dict]:
    """Train the zoo's models at ``positions`` one after the other in this process; their data and model rows.

    Each model's initial weights and training order come from its position, so a model trains
    the same whichever process runs it.
    """
    torch.backends.cudnn.benchmark = is_cuda(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    specs = build_zoo(args.zoo, n_outputs=10, resolution=args.resolution)
    inputs = RoundInputs(args)
    options, training = device_options(args), training_params(args)
    rows = []
    for position in positions:
        spec = specs[position]
        data = inputs.at(spec.resolution)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(child_int_seed(0, "benchmark-init", position))
            model = spec.factory(10)
        start = time.perf_counter()
        result = train_model_round(model, data, training, rng=child_rng(0, "benchmark-shuffle", position),
                                   device=args.device, options=options)
        rows.append(model_row(args, spec, data, result, time.perf_counter() - start))
    peak = round(torch.cuda.max_memory_allocated() / 2**30, 2) if is_cuda(args.device) else None
    return inputs.rows + [{**row, "peak_gpu_memory_gb": peak} for row in rows]


def run_concurrently(args: argparse.Namespace, n_models: int) -> list[dict]:
    """The models in ``args.concurrency`` processes sharing the device (model ``j`` in process ``j mod k``)."""
    positions = list(range(n_models))
    if args.concurrency == 1:
        return run_models(args, positions)
    shares = [positions[i::args.concurrency] for i in range(min(args.concurrency, n_models))]
    with ProcessPoolExecutor(max_workers=len(shares), mp_context=multiprocessing.get_context("spawn")) as pool:
        return [row for rows in pool.map(run_models, [args] * len(shares), shares) for row in rows]


# --------------------------------------------------------------------------- the round
def round_row(args: argparse.Namespace, model_rows: list[dict], seconds: float, busy: float | None,
              samples: int) -> dict:
    """The JSON line of the round: wall time, stage seconds summed over the models, and throughput."""
    summed = {f"seconds_{stage}": round(sum(r[f"seconds_{stage}"] for r in model_rows), 1)
              for stage in ("training", "snapshots", "final_pass", "test", "evidence")}
    trained = sum(r["labels"] * r["epochs"] for r in model_rows)
    inferred = sum((r["snapshot_passes"] + 1) * r["pool"] + r["labels"] + r["test"] for r in model_rows)
    peaks = [r["peak_gpu_memory_gb"] for r in model_rows if r["peak_gpu_memory_gb"] is not None]
    return {"kind": "round", "model": "round", "models": len(model_rows), **summed,
            "seconds_total": round(seconds, 1), "train_images_per_s": _rate(trained, summed["seconds_training"]),
            "round_images_per_s": _rate(trained + inferred, seconds), "gpu_busy": busy, "gpu_util_samples": samples,
            "peak_gpu_memory_gb": max(peaks, default=None)}


def context(args: argparse.Namespace) -> dict:
    """What every line records: where and how it ran."""
    return {"device": args.device, "device_name": device_name(args.device), "git_commit": git_commit(),
            "numerics": folder_setting(), "torch": torch.__version__, "zoo": args.zoo, "amp": args.amp,
            "channels_last": args.channels_last, "cuda_graphs": args.cuda_graphs,
            "augmentation": args.augmentation, "batch_size": args.batch_size, "concurrency": args.concurrency,
            "label": args.label}


def record(rows: list[dict], out: Path | None) -> None:
    """Print every row as a JSON line, and append them to ``out``."""
    lines = [json.dumps(row) for row in rows]
    print("\n".join(lines), flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a") as handle:
            handle.write("\n".join(lines) + "\n")


def _parser() -> argparse.ArgumentParser:
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
    parser.add_argument("--eval-batch-size", default="auto",
                        help="images per inference batch, or auto (CUDA: the largest that fits; CPU: 512)")
    parser.add_argument("--resolution", type=int, default=None, help="override every model's resolution")
    parser.add_argument("--amp", action="store_true", help="bfloat16 mixed precision, training and inference (CUDA)")
    parser.add_argument("--channels-last", action="store_true", help="channels-last models and batches (CUDA)")
    parser.add_argument("--cuda-graphs", action="store_true",
                        help="training steps as CUDA graphs, torch.compile(mode='reduce-overhead') (CUDA)")
    parser.add_argument("--augmentation", choices=("none", "authors"), default="none",
                        help="the authors' training augmentation, on the device")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="k models trained at once, in k processes sharing the device")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process (CPU)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSON lines are appended here ('-': nowhere)")
    parser.add_argument("--label", default=None, help="a note stored with every line (e.g. 'before')")
    parser.add_argument("--estimate", metavar="PROFILE", default=None,
                        help="estimate PROFILE's grid from --rates instead of measuring (gpu_estimate.py)")
    parser.add_argument("--rates", default=None, help="JSON lines of this script, for --estimate")
    parser.add_argument("--assume-rates", default=None, metavar="TRAIN,INFERENCE",
                        help="--estimate without --rates: every model's rates from the training and inference "
                             "img/s of the paper's largest model (gpu_estimate.assumed_rates)")
    parser.add_argument("--workers", type=int, default=None,
                        help="--estimate: models trained at once (default: the profile's workers_per_gpu)")
    parser.add_argument("--selection-seconds", type=float, default=0.0,
                        help="--estimate: seconds of one selection by a strategy that reads pool features")
    return parser


def main(argv: list[str] | None = None) -> list[dict] | dict:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.estimate is not None:
        from gpu_estimate import estimate_main

        if (args.rates is None) == (args.assume_rates is None):
            parser.error("--estimate needs --rates FILE (JSON lines of this script) or --assume-rates TRAIN,INFERENCE")
        assume = None
        if args.assume_rates is not None:
            try:
                assume = tuple(float(x) for x in args.assume_rates.split(","))
            except ValueError:
                assume = ()
            if len(assume) != 2 or min(assume) <= 0:
                parser.error(f"--assume-rates takes two positive img/s, TRAIN,INFERENCE; got {args.assume_rates!r}")
        return estimate_main(args.estimate, args.rates, assume=assume, workers=args.workers,
                             selection_seconds=args.selection_seconds)
    cuda = is_cuda(args.device)
    for flag, on in (("--amp", args.amp), ("--channels-last", args.channels_last),
                     ("--cuda-graphs", args.cuda_graphs)):
        if on and not cuda:
            parser.error(f"{flag} needs --device cuda")
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda but no CUDA device is visible; use --device cpu for a reduced run")
    if args.eval_batch_size != "auto" and not args.eval_batch_size.isdigit():
        parser.error(f"--eval-batch-size must be a positive number or auto; got {args.eval_batch_size!r}")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    n_models = len(build_zoo(args.zoo, n_outputs=10, resolution=args.resolution)[: args.models])

    sampler = utilisation_sampler(args.device)
    started = time.perf_counter()
    if sampler is not None:
        with sampler:
            rows = run_concurrently(args, n_models)
    else:
        rows = run_concurrently(args, n_models)
    seconds = time.perf_counter() - started
    model_rows = [r for r in rows if r["kind"] == "model"]
    total = round_row(args, model_rows, seconds, sampler.busy_fraction if sampler else None,
                      len(sampler.samples) if sampler else 0)
    shared = context(args)
    rows = [{**shared, **row} for row in rows + [total]]
    record(rows, None if args.out == "-" else Path(args.out))
    return rows


if __name__ == "__main__":
    main()
