"""CPU numerics: which vector kernels PyTorch, oneDNN and MKL may use, so that numbers repeat across machines.

PyTorch picks its CPU kernels by the processor's vector instructions: ATen's vectorised
operations, oneDNN's convolutions and MKL's matrix products each have AVX2, AVX-512 and AMX
code paths whose floating-point results differ in the last bits. Training amplifies those bits,
so the same seed gives other accuracies on another processor. Two modes:

``portable`` (default)
    Every x86-64 processor runs the AVX2 kernels (:data:`PORTABLE_KERNELS`): the same seed,
    profile and package versions give the same bytes on the same kind of processor whatever
    its wider instructions (AVX-512, AMX: not used, which costs speed), and AVX2-rounded numbers
    elsewhere (see below for what still parts two vendors).
``native``
    The kernels the processor allows (fastest). Numbers then depend on the processor.

Importing ``diamlib`` changes nothing: no environment variable, no kernel. A process computes
in a mode once it asks, with :func:`initialise` (from the environment variable
``DIAMLIB_NUMERICS``, ``portable`` when unset), before PyTorch computes anything. The entry
points that compute ask: the command line (``python -m diamlib``), the test suite
(``conftest.py``), the benchmarks, and every experiment through :func:`require_numerics`
(called by ``configure_torch`` before a grid's first run, in the notebook kernel or in each Dask
worker). Processes started from a process that asked (notebook kernels, Dask workers) inherit
its mode; ``python -m diamlib run`` and ``refresh`` start their notebook kernels in the profile's
``numerics`` (or ``--numerics``), a ``LocalCluster`` its workers in the profile's, and
:func:`require_numerics` refuses to compute a profile's results in a process whose mode differs,
and says how to restart. A program that imports diamlib into its own process (a training
script, a notebook of its own) keeps its own kernels until it calls :func:`initialise` or runs
an experiment.

In portable mode a kernel variable that the environment already sets to another value is
overridden, with one line on stderr naming it (keep it with ``DIAMLIB_NUMERICS=native``).
Portable kernels exist only on x86-64: on other processors (ARM) portable mode leaves the
kernels alone and :func:`numerics_record` says that the numbers are the machine's own.

Portable mode fixes the instruction set, not the processor. Two x86-64 processors with AVX2 can
still give other bytes: MKL dispatches its matrix products by vendor (``MKL_CBWR=AVX2`` is not
the AVX2 branch on AMD processors), and oneDNN's convolutions block their loops by cache size.
So the stored numbers are a fact about the processors they were verified on, not about "any
AVX2 machine": :func:`canary_digest` trains a tiny network for a few steps and hashes its
weights, :func:`reference_canary` holds the digest of the processor that made the stored
outputs and the record, and the digests measured on other processors beside it
(``other_processors``). :func:`op_digests` hashes each kernel the experiments use, to see which
ones part two machines.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

#: Environment variable that chooses the mode of a process (read by :func:`initialise`).
NUMERICS_ENV = "DIAMLIB_NUMERICS"
MODES = ("portable", "native")
DEFAULT_MODE = "portable"
#: The kernel variables of portable mode: ATen's dispatch, oneDNN's largest ISA, MKL's code path
#: (``MKL_CBWR``: MKL's conditional numerical reproducibility, the same results on every AVX2 CPU).
PORTABLE_KERNELS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "MKL_CBWR": "AVX2",
}
#: One line per mode, for the runner and ``doctor``.
NUMERICS_DESCRIPTION = {
    "portable": "AVX2 kernels on every x86-64 CPU: the same numbers on the processors the canary was verified on",
    "native": "this CPU's fastest kernels: the numbers depend on the CPU",
}
#: What ``torch.backends.cpu.get_cpu_capability()`` reports when portable mode is in effect.
PORTABLE_CAPABILITY = "AVX2"
#: The stored canary digest (written by ``python -m diamlib doctor --update-canary``).
CANARY_REFERENCE = Path(__file__).with_name("canary_reference.json")


class NumericsError(RuntimeError):
    """A process cannot compute in the numerics mode asked for; the message says how to restart."""


#: The mode this process chose, and the kernel variables it found before overriding them.
_state: dict = {"mode": None, "original": {}, "announced": False}


def is_x86_64() -> bool:
    """Whether this processor is x86-64 (the only architecture with portable kernels)."""
    return platform.machine().lower() in ("x86_64", "amd64")


def parse_mode(value: str | None, *, source: str = NUMERICS_ENV) -> str:
    """A mode name (``None`` or empty: the default); anything else is a :class:`NumericsError`."""
    if not value:
        return DEFAULT_MODE
    mode = value.strip().lower()
    if mode not in MODES:
        raise NumericsError(f"{source}={value!r} is not a numerics mode; use one of {', '.join(MODES)} "
                            f"(portable: the same numbers on every x86-64 CPU; native: this CPU's fastest kernels)")
    return mode


def kernel_environment(mode: str, original: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """The kernel variables of ``mode``: name -> value, None meaning unset.

    Portable: :data:`PORTABLE_KERNELS` on x86-64. Native: the values the environment had before
    diamlib changed anything (``original``, default: what this process found at import).
    """
    original = _state["original"] if original is None else original
    if mode == "portable" and is_x86_64():
        return dict(PORTABLE_KERNELS)
    return {name: original.get(name) for name in PORTABLE_KERNELS}


@contextlib.contextmanager
def child_environment(mode: str):
    """Inside the block, processes started from this one (notebook kernels) compute in ``mode``.

    Sets ``DIAMLIB_NUMERICS`` and the kernel variables of ``mode`` in ``os.environ``, and
    restores every one of them afterwards. This process's own kernels do not change.
    """
    with scoped_environment({**kernel_environment(mode), NUMERICS_ENV: mode}):
        yield


@contextlib.contextmanager
def scoped_environment(values: dict):
    """Inside the block, ``os.environ`` holds ``values`` (``None``: unset); afterwards what it held before."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _apply(mode: str, environ) -> list[str]:
    """Write ``mode`` and its kernel variables into ``environ``; one note per overridden user value."""
    notes = []
    for name, value in kernel_environment(mode).items():
        current = environ.get(name)
        if value is None:
            environ.pop(name, None)
            continue
        if current is not None and current.lower() != value.lower() and _state["original"].get(name) == current:
            notes.append(f"diamlib: portable numerics replace {name}={current} from the environment by {value} "
                         f"(set {NUMERICS_ENV}=native to keep it)")
        environ[name] = value
    environ[NUMERICS_ENV] = mode
    return notes


def initialise(environ=None) -> str:
    """Choose this process's mode from ``DIAMLIB_NUMERICS`` and set its kernel variables in ``environ``.

    Called by the entry points that compute, before anything loads PyTorch (see the module
    docstring); importing diamlib does not call it.

    Returns the mode. Overridden user values are reported on stderr, one line each.
    """
    environ = os.environ if environ is None else environ
    if _state["mode"] is None:
        _state["original"] = {name: environ.get(name) for name in PORTABLE_KERNELS}
    mode = parse_mode(environ.get(NUMERICS_ENV))
    for note in _apply(mode, environ):
        print(note, file=sys.stderr)
    _state["mode"] = mode
    return mode


def current_mode() -> str:
    """The mode this process computes in."""
    return _state["mode"] or initialise()


def cpu_capability() -> str:
    """The vector instruction set of ATen's kernels in this process (``AVX2``, ``AVX512``, ...)."""
    import torch

    return str(torch.backends.cpu.get_cpu_capability())


def require_numerics(mode: str) -> None:
    """Make sure this process computes in ``mode``, before any result is computed.

    The mode can change only while PyTorch is not yet loaded; otherwise a different mode is a
    :class:`NumericsError` that says how to start the process in ``mode``. In native mode one
    line on stderr says so (once per process); in portable mode on a processor without
    portable kernels, one line says that the numbers are this machine's own.
    """
    mode = parse_mode(mode, source="numerics")
    if mode != current_mode():
        if "torch" in sys.modules:
            raise NumericsError(
                f"the profile asks for numerics: {mode}, but this process loaded PyTorch with {current_mode()} "
                f"numerics, and its kernels are fixed once loaded. Start it with {NUMERICS_ENV}={mode} (e.g. "
                f"`{NUMERICS_ENV}={mode} jupyter lab`, or `python -m diamlib run --numerics {mode}`, which sets it "
                f"for its notebooks), or set numerics: {current_mode()} in the profile")
        _apply(mode, os.environ)
        _state["mode"] = mode
    if _state["announced"]:
        return
    _state["announced"] = True
    if mode == "native":
        print(f"diamlib: native numerics: PyTorch uses this CPU's {cpu_capability()} kernels (fastest); the "
              f"numbers differ from portable runs and from CPUs with other vector instructions", file=sys.stderr)
    elif not is_x86_64():
        print(f"diamlib: portable numerics pin x86-64 kernels; this {platform.machine()} CPU uses its own "
              f"({cpu_capability()}), so its numbers differ from the stored ones", file=sys.stderr)


def portable_in_effect() -> bool:
    """Whether this process computes with the portable kernels (portable mode on an AVX2 x86-64 CPU)."""
    return current_mode() == "portable" and is_x86_64() and cpu_capability() == PORTABLE_CAPABILITY


def numerics_record() -> dict:
    """What decides this process's CPU numbers, for ``run.json`` and ``doctor``.

    ``mode`` and ``cpu_capability`` are settings of a results folder (runs that differ in them
    are never mixed); the kernel variables and the thread count are recorded beside them.
    """
    import torch

    record = {"mode": current_mode(), "cpu_capability": cpu_capability(), "machine": platform.machine(),
              "portable_in_effect": portable_in_effect(), "torch_threads": torch.get_num_threads()}
    record.update({name.lower(): os.environ.get(name, "native") for name in PORTABLE_KERNELS})
    return record


def folder_setting() -> dict:
    """The part of :func:`numerics_record` that a results folder's runs must share."""
    return {"mode": current_mode(), "cpu_capability": cpu_capability()}


# --------------------------------------------------------------------------- canary
def canary_digest(steps: int = 24) -> str:
    """SHA-256 of a tiny network's weights after ``steps`` seeded SGD steps, on one thread.

    The network uses the kernels the experiments use (convolutions, depthwise convolutions,
    BatchNorm, hard-swish, average pooling, a linear head, cross-entropy, SGD with Nesterov
    momentum and weight decay), so a machine whose kernels differ gets another digest within
    seconds instead of other numbers after an hour.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.Hardswish(),
                nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                nn.Conv2d(16, 24, 1, bias=False), nn.BatchNorm2d(24), nn.Hardswish(),
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 10))
            generator = torch.Generator().manual_seed(0)
            images = torch.rand(64, 3, 16, 16, generator=generator)
            labels = torch.randint(0, 10, (64,), generator=generator)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
            for step in range(steps):
                batch = slice((step % 4) * 16, (step % 4 + 1) * 16)
                optimizer.zero_grad()
                F.cross_entropy(model(images[batch]), labels[batch]).backward()
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def reference_canary() -> dict | None:
    """The stored canary: ``{"digest", "torch", "recorded_with"}``, or None if none is stored."""
    if not CANARY_REFERENCE.is_file():
        return None
    return json.loads(CANARY_REFERENCE.read_text())


def write_reference_canary(processor: dict) -> dict:
    """Store this process's canary digest as the reference; only in portable mode with portable kernels.

    ``processor`` describes this machine's processor (``diamlib.doctor.processor_identity``).
    The digest the reference held before, if made on another processor with the same PyTorch,
    is kept under ``other_processors`` (a digest verified there); entries of other PyTorch
    versions are dropped, since their digests no longer say anything.

    Raises
    ------
    NumericsError
        Portable kernels are not in effect (native mode, or a processor without them).
    """
    import torch

    if not portable_in_effect():
        raise NumericsError(f"the reference canary is recorded in portable mode on an x86-64 CPU with AVX2; this "
                            f"process runs {current_mode()} numerics with {cpu_capability()} kernels")
    previous = reference_canary() or {}
    known = [entry for entry in [previous, *previous.get("other_processors", [])]
             if entry.get("processor") and entry["processor"] != processor and entry.get("torch") == torch.__version__]
    digest = canary_digest()
    reference = {"digest": digest, "torch": torch.__version__,
                 "recorded_with": {"mode": "portable", "cpu_capability": cpu_capability()},
                 "processor": processor, "ops": op_digests(canary=digest),
                 "other_processors": [{key: entry[key] for key in ("digest", "torch", "processor")} for entry in known]}
    CANARY_REFERENCE.write_text(json.dumps(reference, indent=2) + "\n")
    return reference


# --------------------------------------------------------------------------- kernel by kernel
def _kernel_cases(torch, generator):
    """name -> a function returning the output and gradients of one kernel the experiments use."""
    import torch.nn.functional as F

    def rand(*shape):
        return (torch.rand(*shape, generator=generator) - 0.5).requires_grad_(True)

    def forward_backward(function, *inputs):
        output = function(*inputs)
        upstream = torch.rand(output.shape, generator=generator)
        return (output, *torch.autograd.grad(output, inputs, upstream))

    def conv(padding=0, groups=1):
        return lambda x, w: F.conv2d(x, w, padding=padding, groups=groups)

    return {
        "conv3x3 3->16 28px b32": lambda: forward_backward(conv(1), rand(32, 3, 28, 28), rand(16, 3, 3, 3)),
        "conv1x1 40->240 14px b32": lambda: forward_backward(conv(), rand(32, 40, 14, 14), rand(240, 40, 1, 1)),
        "depthwise5x5 120 14px b32": lambda: forward_backward(conv(2, 120), rand(32, 120, 14, 14), rand(120, 1, 5, 5)),
        "depthwise7x7 240 7px b32": lambda: forward_backward(conv(3, 240), rand(32, 240, 7, 7), rand(240, 1, 7, 7)),
        "conv3x3 16->16 16px b16": lambda: forward_backward(conv(1), rand(16, 16, 16, 16), rand(16, 16, 3, 3)),
        "batchnorm train 64 b32": lambda: forward_backward(
            lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), rand(32, 64, 14, 14), rand(64), rand(64)),
        "hardswish": lambda: forward_backward(F.hardswish, rand(32, 64, 14, 14)),
        "adaptive avgpool": lambda: forward_backward(lambda x: F.adaptive_avg_pool2d(x, 1), rand(32, 240, 7, 7)),
        "linear 1280->10 b32": lambda: forward_backward(F.linear, rand(32, 1280), rand(10, 1280), rand(10)),
        "matmul 256x512x128": lambda: forward_backward(torch.matmul, rand(256, 512), rand(512, 128)),
        "cross entropy smoothing": lambda: forward_backward(
            lambda x: F.cross_entropy(x, torch.arange(32) % 10, label_smoothing=0.1), rand(32, 10)),
        "softmax": lambda: forward_backward(lambda x: torch.softmax(x, 1), rand(64, 10)),
        "bilinear resize 28->64": lambda: forward_backward(
            lambda x: F.interpolate(x, size=64, mode="bilinear", align_corners=False), rand(8, 3, 28, 28)),
    }


def op_digests(canary: str | None = None) -> dict[str, str]:
    """The first 12 hex digits of the SHA-256 of each kernel's output and gradients, and of the canary.

    The inputs come from a seeded ``torch.Generator``, so they are the same bytes on every
    machine; only the kernels this process uses can make a digest differ. One thread. Compare
    two machines' tables line by line to see which kernels part them (``python -m diamlib
    doctor --ops``). ``canary``: this process's :func:`canary_digest` where the caller has it
    already (it is not trained again).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(0)
        digests = {}
        for name, case in _kernel_cases(torch, generator).items():
            digest = hashlib.sha256()
            for tensor in case():
                digest.update(tensor.detach().contiguous().numpy().tobytes())
            digests[name] = digest.hexdigest()[:12]
    finally:
        torch.set_num_threads(threads)
    digests["canary"] = (canary or canary_digest())[:12]
    return digests
