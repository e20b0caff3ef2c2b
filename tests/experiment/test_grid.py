"""The experiment grid on Dask: same bytes whatever the workers, a killed worker, an external
scheduler, and the execution settings."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest
import torch
from torch import nn

from diamlib.config import ConfigError
from diamlib.experiment.grid import GridSpec, RunKey, resolve_workers, run_task, task_context, worker_gpu
from diamlib.experiment.setup import profile_from_dict
from diamlib.zoo import custom_zoo, wrap_module

# the zoo factories and hooks below are defined in this test module, which Dask's worker
# processes cannot import: send them by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

METHODS = ("random", "diam")
SEEDS = [0, 1]


def _cnn(width: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


def tiny_zoo():
    return custom_zoo({
        "cnn-4": lambda n_out: wrap_module("cnn-4", _cnn(4), 4, n_out),
        "cnn-6": lambda n_out: wrap_module("cnn-6", _cnn(6), 6, n_out),
    }, resolution=8)


def tiny_profile(**execution):
    return profile_from_dict({
        "name": "gridtest", "seeds": SEEDS, "threads": 1, "progress": False, "execution": execution,
        "classification": {
            "datasets": ["digits"], "train_size": 200, "test_size": 60, "zoo": "smoke3",
            "initial_labels": 20, "query_size": 10, "rounds": 2, "strategies": list(METHODS),
            "training": {"epochs": 2, "batch_size": 10, "lr": 0.05},
        },
    })


def result_bytes(folders) -> dict[str, bytes]:
    return {f"{Path(f).parent.name}/{Path(f).name}/{name}": (Path(f) / name).read_bytes()
            for f in folders for name in ("curve.csv", "queries.csv")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The grid run in this process, without Dask."""
    root = tmp_path_factory.mktemp("reference")
    folders = run_task(tiny_profile(workers=1), "classification", root, zoo=tiny_zoo())
    return result_bytes(folders)


def test_grid_order_and_layout(reference):
    assert list(reference)[:4] == ["random/seed0/curve.csv", "random/seed0/queries.csv",
                                   "diam/seed0/curve.csv", "diam/seed0/queries.csv"]
    assert len(reference) == 2 * len(METHODS) * len(SEEDS)


def test_two_workers_write_the_same_bytes_as_one(reference, tmp_path):
    folders = run_task(tiny_profile(workers=2), "classification", tmp_path, zoo=tiny_zoo())
    assert result_bytes(folders) == reference


def kill_once(marker: Path):
    """An after-round hook that SIGKILLs its worker process the first time round 1 is saved."""
    def hook(folder: Path, round_index: int) -> None:
        if round_index == 1 and not marker.exists():
            marker.write_text(f"{folder.parent.name}/{folder.name}")
            os.kill(os.getpid(), signal.SIGKILL)
    return hook


def test_a_killed_worker_does_not_change_the_results(reference, tmp_path):
    marker = tmp_path / "killed"
    folders = run_task(tiny_profile(workers=2), "classification", tmp_path / "runs", zoo=tiny_zoo(),
                       after_round=kill_once(marker))
    assert marker.exists(), "the hook killed a worker"
    killed_run = tmp_path / "runs" / "classification" / "digits" / marker.read_text()
    assert "resuming after round 1" in (killed_run / "log.txt").read_text()
    assert result_bytes(folders) == reference


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_grid_runs_on_an_external_scheduler_and_worker(reference, tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--nworkers", "1", "--dashboard-address", ":0"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        folders = run_task(tiny_profile(scheduler=address), "classification", tmp_path, zoo=tiny_zoo())
        assert result_bytes(folders) == reference
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


# --------------------------------------------------------------------------- settings
def test_execution_defaults_to_one_worker_per_core_and_caps_at_the_runs():
    assert tiny_profile().execution.workers == "auto"
    assert resolve_workers("auto", 100) == len(os.sched_getaffinity(0))
    assert resolve_workers(8, 3) == 3 and resolve_workers(1, 10) == 1


@pytest.mark.parametrize("execution, message", [
    ({"workers": 0}, "positive number of worker processes"),
    ({"workers": "many"}, "workers"),
    ({"scheduler": "localhost:8786"}, "tcp://127.0.0.1:8786"),
])
def test_bad_execution_settings_are_refused_with_the_fix(execution, message):
    with pytest.raises(ConfigError, match=message):
        tiny_profile(**execution)


def test_grid_spec_lists_runs_dataset_then_seed_then_method():
    profile = tiny_profile()
    spec = GridSpec(profile, "classification", Path("x"), methods=tuple(profile.classification.strategies))
    assert spec.runs() == [RunKey("digits", s, m) for s in SEEDS for m in METHODS]


def test_a_task_context_uploads_the_images_once_for_every_resolution(tmp_path):
    profile = tiny_profile()
    ctx = task_context(GridSpec(profile, "classification", tmp_path, methods=()), "digits")
    train, test = ctx.device_images()
    assert train.dtype == torch.uint8 and train.shape[0] == ctx.train.n and test.shape[0] == ctx.test.n
    for resolution in (16, 8):
        train_inputs, test_inputs = ctx.inputs(resolution)
        assert train_inputs.images is train and test_inputs.images is test
        assert train_inputs.resolution == resolution


def test_local_gpu_workers_take_one_gpu_each():
    assert [worker_gpu(i, 4) for i in range(6)] == [0, 1, 2, 3, 0, 1]
    assert worker_gpu("gpu-node-a", 4) == 0 and worker_gpu("3", 2) == 1


def test_workers_per_gpu_multiplies_the_auto_workers_on_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_workers("auto", 100, "cuda") == 2
    assert resolve_workers("auto", 100, "cuda", workers_per_gpu=3) == 6
    assert resolve_workers("auto", 5, "cuda", workers_per_gpu=3) == 5  # never more than runs
    assert resolve_workers(4, 100, "cuda", workers_per_gpu=3) == 4  # a number is taken as it is
    assert resolve_workers("auto", 100, "cpu", workers_per_gpu=3) == len(os.sched_getaffinity(0))
    # the k x n workers of a LocalCluster: each GPU gets k of them
    gpus = [worker_gpu(i, 2) for i in range(resolve_workers("auto", 100, "cuda", workers_per_gpu=3))]
    assert gpus == [0, 1, 0, 1, 0, 1] and gpus.count(0) == gpus.count(1) == 3


def gpu_profile(device: str = "cuda", execution: dict | None = None, device_options: dict | None = None,
                amp: bool = False):
    data = tiny_profile().model_dump()
    data.update(device=device, execution={**data["execution"], **(execution or {})},
                device_options={**data["device_options"], **(device_options or {})})
    data["classification"]["training"]["amp"] = amp
    return profile_from_dict(data)


def test_gpu_settings_are_accepted_on_cuda_without_a_gpu_present():
    profile = gpu_profile(execution={"workers_per_gpu": 2}, amp=True,
                          device_options={"channels_last": True, "eval_batch_size": 4096, "cuda_graphs": True})
    assert profile.execution.workers_per_gpu == 2 and profile.device_options.channels_last
    assert gpu_profile(device_options={"eval_batch_size": "auto"}).device_options.eval_batch_size == "auto"


@pytest.mark.parametrize("settings, named", [
    ({"amp": True}, "classification.training.amp needs device: cuda"),
    ({"execution": {"workers_per_gpu": 2}}, "execution.workers_per_gpu needs device: cuda"),
    ({"device_options": {"channels_last": True}}, "device_options.channels_last needs device: cuda"),
    ({"device_options": {"cuda_graphs": True}}, "device_options.cuda_graphs needs device: cuda"),
    ({"device_options": {"eval_batch_size": 1024}}, "device_options.eval_batch_size needs device: cuda"),
    ({"amp": True, "device_options": {"channels_last": True}},
     "classification.training.amp, device_options.channels_last need device: cuda"),
])
def test_gpu_settings_are_refused_on_a_cpu_profile_by_name(settings, named):
    with pytest.raises(ConfigError, match=named + ".*set device: cuda or remove them"):
        gpu_profile(device="cpu", **settings)


@pytest.mark.parametrize("execution, message", [
    ({"workers_per_gpu": 0}, "greater than or equal to 1"),
    ({"workers_per_gpu": 2, "workers": 4}, "workers_per_gpu: 2 sets the number of local workers"),
    ({"workers_per_gpu": 2, "scheduler": "tcp://h:1"}, "needs workers: auto and no scheduler"),
])
def test_workers_per_gpu_needs_local_auto_workers(execution, message):
    with pytest.raises(ConfigError, match=message):
        gpu_profile(execution=execution)


@pytest.mark.parametrize("value, message", [(0, "positive number of images"), ("most", "eval_batch_size")])
def test_bad_eval_batch_size_is_refused(value, message):
    with pytest.raises(ConfigError, match=message):
        gpu_profile(device_options={"eval_batch_size": value})


def test_cli_passes_workers_scheduler_and_numerics_as_profile_overrides():
    from diamlib.__main__ import _parser, run_overrides

    args = _parser().parse_args(["run", "--profile", "smoke", "--workers", "2", "--scheduler", "tcp://h:1",
                                 "--numerics", "native"])
    assert run_overrides(args.workers, args.scheduler, args.numerics) == {
        "execution": {"workers": 2, "scheduler": "tcp://h:1"}, "numerics": "native"}
    assert run_overrides(None, None) == {}
    with pytest.raises(SystemExit):
        _parser().parse_args(["run", "--profile", "smoke", "--numerics", "fast"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["run", "--profile", "smoke", "--workers", "0"])


def test_progress_lines_report_rounds_runs_and_the_runs_under_way(tmp_path, monkeypatch, capsys):
    import json

    from diamlib.experiment.grid import PROGRESS_LINES_ENV, GridProgress
    from diamlib.paths import run_dir

    monkeypatch.setenv(PROGRESS_LINES_ENV, "1")
    profile = tiny_profile()
    spec = GridSpec(profile, "classification", tmp_path, methods=tuple(profile.classification.strategies))
    progress = GridProgress(spec, enabled=True, line_seconds=0.0)
    for key, completed in zip(spec.runs(), [2, 1, -1, -1]):
        if completed >= 0:
            folder = run_dir(tmp_path, "classification", key.dataset, key.method, key.seed)
            folder.mkdir(parents=True)
            (folder / "run.json").write_text(json.dumps({"completed_rounds": completed}))
    progress.update()
    progress.update()  # nothing new: no second line
    progress.close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("[classification] rounds 5/12 | runs 1/4 | at diam s0 r2 |")
