"""``python -m diamlib doctor``: what decides the numbers on this machine, and whether they are the stored ones.

It reports the numerics mode and the CPU kernels it gives, the installed package versions
against the lock file (``requirements.lock``), the data files with their SHA-256, and the
canary (:func:`diamlib.numerics.canary_digest`) against its stored reference. When the canary
differs, :func:`canary_check` says whether it equals a digest verified on another processor and
names the likely cause: kernels other than the portable ones, package versions off the lock, or
another processor (MKL dispatches by vendor, oneDNN blocks by cache size).

A differing canary is a report, not a failure, unless strict reproduction is asked for
(:data:`STRICT_ENV`): ``on`` fails wherever the canary differs; ``reference-cpu`` fails only on a
processor of the kind the reference was recorded on (vendor, model and vector extensions),
where the numbers must repeat; CI asks for ``reference-cpu``.
"""
from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import os
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
#: Asks for strict reproduction: ``on`` (the canary must equal the reference), ``reference-cpu``
#: (must equal it on a processor of the reference's kind), ``off`` or unset (report only).
STRICT_ENV = "DIAMLIB_STRICT_NUMERICS"
STRICT_VALUES = ("off", "on", "reference-cpu")
#: The vector extensions that decide which kernels can run.
VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile")


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


def processor_identity() -> dict[str, str]:
    """What tells processors apart for the kernels: vendor, model name, family/model numbers, vector extensions.

    Read from ``/proc/cpuinfo`` on Linux; elsewhere from :mod:`platform` (vendor and numbers unknown).
    """
    identity = {"vendor": "unknown", "model": platform.processor() or platform.machine(), "family": "?",
                "model_number": "?", "vector": ""}
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return identity
    text = cpuinfo.read_text(errors="replace")

    def field(name: str) -> str | None:
        match = re.search(rf"^{name}\s*:\s*(.+)$", text, re.M)
        return match.group(1).strip() if match else None

    flags = set((field("flags") or "").split())
    identity.update(vendor=field("vendor_id") or "unknown", model=field("model name") or identity["model"],
                    family=field("cpu family") or "?", model_number=field("model") or "?",
                    vector=" ".join(f for f in VECTOR_FLAGS if f in flags))
    return identity


def describe_processor(identity: dict) -> str:
    """One line: ``AMD EPYC (AuthenticAMD, family 25 model 17; avx2 avx512f avx512_bf16)``."""
    return (f"{identity.get('model', '?')} ({identity.get('vendor', '?')}, family {identity.get('family', '?')} "
            f"model {identity.get('model_number', '?')}; {identity.get('vector') or 'no AVX2'})")


def cpu_summary() -> str:
    """The processor's name and its vector extensions that matter for the kernels (Linux: /proc/cpuinfo)."""
    identity = processor_identity()
    return f"{identity['model']} ({platform.machine()}; {identity['vector'] or 'no AVX2'})"


def strict_request() -> str:
    """The value of :data:`STRICT_ENV` (``off`` when unset); another value is a ValueError naming the choices."""
    value = (os.environ.get(STRICT_ENV) or "off").strip().lower()
    value = {"1": "on", "0": "off", "true": "on", "false": "off"}.get(value, value)
    if value not in STRICT_VALUES:
        raise ValueError(f"{STRICT_ENV}={os.environ.get(STRICT_ENV)!r} is not one of {', '.join(STRICT_VALUES)} "
                         f"(on: this machine must reproduce the stored numbers; reference-cpu: only on the "
                         f"reference's kind of processor; off: report a difference)")
    return value


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


def is_reference_processor(reference: dict | None, processor: dict) -> bool:
    """Whether ``processor`` is of the kind the stored reference was recorded on."""
    recorded = (reference or {}).get("processor")
    return recorded is not None and recorded == processor


def must_reproduce(reference: dict | None, processor: dict, request: str | None = None) -> bool:
    """Whether a difference from ``reference`` must fail on ``processor``, given the strictness asked for.

    ``request`` defaults to :func:`strict_request`: ``on`` fails anywhere, ``reference-cpu`` on the
    reference's kind of processor, ``off`` nowhere.
    """
    request = strict_request() if request is None else request
    return request == "on" or (request == "reference-cpu" and is_reference_processor(reference, processor))


@dataclass(frozen=True)
class CanaryCheck:
    """The canary against its reference.

    ``ok``: equal to the reference (this machine reproduces the stored outputs and the record);
    ``same_as``: the entry of ``other_processors`` it equals, if any; ``causes``: the likely
    causes of a mismatch; ``processor``: this machine's :func:`processor_identity`.
    """

    ok: bool
    digest: str
    reference: dict | None
    causes: list[str] = field(default_factory=list)
    same_as: dict | None = None
    processor: dict = field(default_factory=dict)

    @property
    def reference_processor(self) -> bool:
        """Whether this processor is of the kind the reference was recorded on."""
        return is_reference_processor(self.reference, self.processor)

    def strict(self, request: str | None = None) -> bool:
        """Whether a mismatch must fail here, given the strictness asked for (default: :func:`strict_request`)."""
        return must_reproduce(self.reference, self.processor, request)

    def message(self) -> str:
        if self.reference is None:
            return (f"canary {self.digest[:16]}: no stored reference; record one in portable mode with "
                    f"`python -m diamlib doctor --update-canary`")
        made_on = self.reference.get("processor")
        where = f" (recorded on {describe_processor(made_on)})" if made_on else ""
        if self.ok:
            return (f"canary {self.digest[:16]} = reference{where}: this machine reproduces the stored outputs "
                    f"and the record byte for byte")
        if self.same_as is not None:
            return (f"canary {self.digest[:16]} != reference {self.reference['digest'][:16]}{where}, but equal to "
                    f"the canary verified on {describe_processor(self.same_as['processor'])}: this machine computes "
                    f"that processor's numbers. Expect the trained models' numbers to differ from the stored ones in "
                    f"their digits; the conclusions carry over (tests/numerics/test_outcomes_across_machines.py "
                    f"states the tolerances)")
        return (f"canary {self.digest[:16]} != reference {self.reference['digest'][:16]}{where} (torch "
                f"{self.reference.get('torch')}): this machine's numbers differ from the stored ones. Likely "
                f"cause: " + "; ".join(self.causes))


def canary_check(lock: dict[str, str] | None = None) -> CanaryCheck:
    """Train the canary and compare it with the stored reference, naming the likely cause of a mismatch.

    Causes, in order of likelihood: kernels other than the portable ones (native mode, or a CPU
    without AVX2 or not x86-64), the numeric packages off the lock, other packages off the lock,
    and another processor than the reference's (MKL's vendor dispatch, oneDNN's cache blocking:
    see :func:`diamlib.numerics.op_digests`).
    """
    digest, reference, processor = numerics.canary_digest(), numerics.reference_canary(), processor_identity()
    if reference is None or digest == reference["digest"]:
        return CanaryCheck(ok=reference is not None, digest=digest, reference=reference, processor=processor)
    same_as = next((entry for entry in reference.get("other_processors", []) if entry["digest"] == digest), None)
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
    recorded_on = reference.get("processor")
    if not causes and recorded_on is not None and recorded_on != processor:
        causes.append(f"another processor: {describe_processor(processor)}, the reference was recorded on "
                      f"{describe_processor(recorded_on)}; the same AVX2 kernels round differently there (MKL "
                      f"dispatches by vendor, oneDNN blocks by cache size: `python -m diamlib doctor --ops` "
                      f"names the kernels that differ)")
    if not causes:
        causes.append("none found: same mode, kernels, versions and processor as the reference; a PyTorch build "
                      "for another platform or BLAS library (see the README's 'Same numbers on every machine')")
    return CanaryCheck(ok=False, digest=digest, reference=reference, causes=causes, same_as=same_as,
                       processor=processor)


def op_comparison(check: CanaryCheck | None = None) -> list[tuple[str, str, str | None]]:
    """``(kernel, this machine's digest, the reference processor's digest or None)`` per kernel and the canary.

    ``check``: a :func:`canary_check` of this process, whose digest and reference are reused.
    """
    reference = numerics.reference_canary() if check is None else check.reference
    recorded = (reference or {}).get("ops", {})
    digests = numerics.op_digests(canary=None if check is None else check.digest)
    return [(name, digest, recorded.get(name)) for name, digest in digests.items()]


def doctor_lines(*, ops: bool = False, strict: str | None = None) -> tuple[list[str], bool]:
    """The report's lines, and whether everything matches (canary equal, versions on the lock).

    ``ops``: append :func:`op_lines`. ``strict``: the strictness asked for (``doctor --strict``
    gives ``"on"``; default :func:`strict_request`).
    """
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
    request = strict or strict_request()
    must = check.strict(request)
    if not check.ok:
        lines.append(f"strict     {STRICT_ENV}={request}: " + (
            "this machine must reproduce the stored numbers, and does not" if must else
            "a difference is reported, not failed (on: fail wherever the canary differs; reference-cpu: fail on the "
            "reference's kind of processor)"))
    if ops:
        lines += op_lines(check)
    return lines, healthy and (check.ok or not must)


def op_lines(check: CanaryCheck | None = None) -> list[str]:
    """``doctor --ops``: each kernel's digest here beside the reference processor's, the differing ones marked.

    ``check``: a :func:`canary_check` of this process, whose digest, reference and processor are reused.
    """
    reference = (numerics.reference_canary() if check is None else check.reference) or {}
    processor = processor_identity() if check is None else check.processor
    made_on = describe_processor(reference["processor"]) if reference.get("processor") else "no recorded processor"
    lines = [f"{'kernel':28s} {'here':12s} {'reference':12s}  (reference: {made_on}; here: "
             f"{describe_processor(processor)})"]
    for name, here, recorded in op_comparison(check):
        mark = "" if recorded == here else ("  differs" if recorded else "  (no reference)")
        lines.append(f"{name:28s} {here:12s} {recorded or '-':12s}{mark}")
    return lines
