"""``python -m diamlib doctor``: what decides the numbers on this machine, and whether they are the stored ones.

It reports the numerics mode and the CPU kernels it gives, the installed package versions
against the lock file (``requirements.lock``), the data files with their SHA-256, and the
canary (:func:`diamlib.numerics.canary_digest`) against its stored reference. When the canary
differs, :func:`canary_check` names the likely cause: kernels other than the portable ones, or
package versions off the lock.
"""
from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path

from diamlib import numerics
from diamlib.paths import project_root

#: The lock file of every package's exact version (made by pip-compile; see the README).
LOCK_FILE = "requirements.lock"
#: The packages whose versions decide training numbers (the first cause named by the canary).
NUMERIC_PACKAGES = ("torch", "numpy", "scipy", "scikit-learn")


def normalise(name: str) -> str:
    """A package name as PEP 503 compares them (lower case, runs of ``-_.`` as ``-``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path | None = None) -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line of the lock file (names normalised).

    Raises
    ------
    FileNotFoundError
        No lock file there (names the path).
    """
    path = Path(path) if path is not None else project_root() / LOCK_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no lock file {path}: diamlib is not installed from its checkout")
    pinned = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line.strip())
        if match:
            pinned[normalise(match.group(1))] = match.group(2)
    return pinned


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def version_matches(installed: str, locked: str) -> bool:
    """Equal versions, ignoring a local build tag of the installed one (``2.14.1+cu130`` is ``2.14.1``)."""
    return installed == locked or installed.split("+")[0] == locked.split("+")[0]


def versions_off_lock(lock: dict[str, str] | None = None) -> list[str]:
    """One line per locked package whose installed version differs from the lock, or that is missing."""
    lock = read_lock() if lock is None else lock
    problems = []
    for name, locked in sorted(lock.items()):
        installed = installed_version(name)
        if installed is None:
            problems.append(f"{name}: not installed (lock {locked})")
        elif not version_matches(installed, locked):
            problems.append(f"{name}: {installed} installed, lock {locked}")
    return problems


def cpu_summary() -> str:
    """The processor's name and its vector extensions that matter for the kernels (Linux: /proc/cpuinfo)."""
    name, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        text = cpuinfo.read_text(errors="replace")
        model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        name = model.group(1).strip() if model else name
        first = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
        flags = set(first.group(1).split()) if first else set()
    vector = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{name} ({platform.machine()}; {' '.join(vector) or 'no AVX2'})"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_files() -> list[tuple[str, Path | None]]:
    """``(dataset, file)`` for the offline datasets' files on this machine (None: not found)."""
    from importlib.resources import files

    from diamlib.data.locations import default_data_root, find_files
    from diamlib.data.mnist_family import IDX_SOURCES

    found = []
    for name in ("fashion-mnist", "mnist", "kmnist"):
        source = IDX_SOURCES[name]
        names = [n for split in ("train", "test") for n in source.files[split]]
        paths = find_files(source.folders(default_data_root()), names)
        if paths is not None:
            found.extend((name, paths[n]) for n in names)
        elif name == "fashion-mnist":
            found.append((name, None))
    digits = Path(str(files("sklearn.datasets") / "data" / "digits.csv.gz"))
    found.append(("digits", digits if digits.is_file() else None))
    return found


@dataclass(frozen=True)
class CanaryCheck:
    """The canary against its reference: ``ok``, the two digests, and the likely causes of a mismatch."""

    ok: bool
    digest: str
    reference: dict | None
    causes: list[str] = field(default_factory=list)

    def message(self) -> str:
        if self.reference is None:
            return (f"canary {self.digest[:16]}: no stored reference; record one in portable mode with "
                    f"`python -m diamlib doctor --update-canary`")
        if self.ok:
            return f"canary {self.digest[:16]} = reference: this machine reproduces the stored numbers"
        return (f"canary {self.digest[:16]} != reference {self.reference['digest'][:16]} (torch "
                f"{self.reference.get('torch')}): this machine's numbers differ from the stored ones. Likely "
                f"cause: " + "; ".join(self.causes))


def canary_check(lock: dict[str, str] | None = None) -> CanaryCheck:
    """Train the canary and compare it with the stored reference, naming the likely cause of a mismatch.

    Causes, in order of likelihood: kernels other than the portable ones (native mode, or a CPU
    without AVX2 or not x86-64), the numeric packages off the lock, other packages off the lock.
    """
    digest, reference = numerics.canary_digest(), numerics.reference_canary()
    if reference is None or digest == reference["digest"]:
        return CanaryCheck(ok=reference is not None, digest=digest, reference=reference)
    causes = []
    if not numerics.portable_in_effect():
        causes.append(f"the CPU kernels: this process uses {numerics.current_mode()} numerics with "
                      f"{numerics.cpu_capability()} kernels, the reference was recorded with portable AVX2 kernels "
                      f"(run in portable mode on an x86-64 CPU with AVX2)")
    try:
        off = versions_off_lock(lock)
    except FileNotFoundError as missing:
        off = [str(missing)]
    numeric = [line for line in off if normalise(line.split(":")[0]) in NUMERIC_PACKAGES]
    if numeric:
        causes.append("versions off the lock: " + ", ".join(numeric) + " (install the lock: `make env`)")
    elif off:
        causes.append(f"{len(off)} package(s) off the lock, e.g. " + ", ".join(off[:3]))
    if not causes:
        causes.append("none found: same mode, kernels and versions as the reference; a PyTorch build for another "
                      "platform or BLAS library (see the README's 'Same numbers on every machine')")
    return CanaryCheck(ok=False, digest=digest, reference=reference, causes=causes)


def doctor_lines() -> tuple[list[str], bool]:
    """The report's lines, and whether everything matches (canary equal, versions on the lock)."""
    import torch

    mode, record = numerics.current_mode(), numerics.numerics_record()
    other = "native" if mode == "portable" else "portable"
    kernels = ", ".join(f"{name}={record[name.lower()]}" for name in numerics.PORTABLE_KERNELS)
    lines = [f"numerics   {mode}: {numerics.NUMERICS_DESCRIPTION[mode]} (the other mode: "
             f"{numerics.NUMERICS_ENV}={other})",
             f"cpu        {cpu_summary()}",
             f"kernels    ATen {record['cpu_capability']}; {kernels}; torch {torch.__version__}, "
             f"{record['torch_threads']} thread(s)"]
    healthy = True
    try:
        lock = read_lock()
        off = versions_off_lock(lock)
        lines.append(f"versions   {len(lock) - len(off)} of {len(lock)} locked packages match {LOCK_FILE}"
                     + ("" if not off else ":\n" + "\n".join(f"             {line}" for line in off)))
        healthy &= not off
    except FileNotFoundError as missing:
        lock, healthy = None, False
        lines.append(f"versions   {missing}")
    for dataset, path in data_files():
        lines.append(f"data       {dataset}: " + (f"{path}  sha256 {sha256_file(path)[:16]}" if path else
                                                  "not found on this machine"))
    check = canary_check(lock)
    lines.append(f"canary     {check.message()}")
    return lines, healthy and check.ok
