"""The authors' published raw results, fetched from their repository and checked file by file.

The paper's authors publish the per-model accuracies of their runs in the folder
``extracted_results/`` of their repository (GitHub ``tangypnuaa/DIAM``). That repository has no
licence file, so this project does not copy the files: :func:`fetch_authors_results` (the
command ``python -m diamlib fetch-authors``) downloads them at the pinned commit of
:data:`MANIFEST` and checks the SHA-256 of every file against it before anything is stored.

Where the files go: :data:`FETCHED_AUTHORS_RESULTS` inside the checkout (ignored by git).
:func:`authors_results_folder` is where notebook 04 and the tests look: the fetched folder
first, then the folder beside the checkout (:data:`AUTHORS_RESULTS_BESIDE_CHECKOUT`).

Sources (``source``):

- ``None``: the GitHub archive of the pinned commit (:func:`archive_url`);
- an ``http(s)://`` or ``file://`` URL of a ``.tar.gz`` archive of the repository (GitHub's
  layout, ``DIAM-<commit>/extracted_results/...``, or ``extracted_results/`` at the top);
- a local folder: a git repository of the authors' code (read at ``revision``, by default the
  pinned commit), a folder holding ``extracted_results/``, or the results folder itself.

Nothing is half-written: the files are read into a temporary folder beside the target, every
checksum is verified, and only then is the folder renamed into place.

References
----------
Sec. 6 of the paper (MNIST and Kuzushiji-MNIST, 2-12 OFA target models); the authors' files
are the raw numbers of their Tables 2-3 and Fig. 1-4.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from diamlib.paths import project_root

#: The manifest committed with diamlib: repository, pinned commit, folder and SHA-256 per file.
MANIFEST_FILE = Path(__file__).with_name("authors_results_manifest.json")
#: Where ``fetch-authors`` stores the files, relative to the project root (ignored by git).
FETCHED_AUTHORS_RESULTS = "reference/diam-authors-results"
#: Where a checkout may also find them, relative to the project root (a ``shared/`` folder beside it).
AUTHORS_RESULTS_BESIDE_CHECKOUT = "../shared/reference/diam-authors-results"
#: What a fetched folder records of its origin (repository, commit); not one of the authors' files.
SOURCE_RECORD = "SOURCE.json"
#: Seconds to wait for the network before giving up with a clear error.
DOWNLOAD_TIMEOUT = 60


class AuthorsFetchError(RuntimeError):
    """The authors' results could not be fetched or verified; the message names the fix."""


@dataclass(frozen=True)
class Manifest:
    """What :func:`fetch_authors_results` expects: the pinned commit and each file's SHA-256."""

    repository: str
    commit: str
    folder: str
    files: dict[str, str]


def load_manifest(path: Path = MANIFEST_FILE) -> Manifest:
    """The committed manifest (:data:`MANIFEST_FILE`)."""
    document = json.loads(Path(path).read_text())
    return Manifest(repository=document["repository"], commit=document["commit"], folder=document["folder"],
                    files=dict(document["files"]))


def archive_url(manifest: Manifest | None = None) -> str:
    """GitHub's ``.tar.gz`` archive of the pinned commit."""
    manifest = manifest or load_manifest()
    return f"https://codeload.github.com/{manifest.repository}/tar.gz/{manifest.commit}"


def fetched_authors_results() -> Path:
    """The folder ``fetch-authors`` writes: :data:`FETCHED_AUTHORS_RESULTS` under the project root."""
    return project_root() / FETCHED_AUTHORS_RESULTS


def authors_results_beside_checkout() -> Path | None:
    """The authors' results beside the checkout (:data:`AUTHORS_RESULTS_BESIDE_CHECKOUT`), if there."""
    folder = project_root() / AUTHORS_RESULTS_BESIDE_CHECKOUT
    return folder if folder.is_dir() else None


def authors_results_folder() -> Path | None:
    """Where notebook 04 and the tests read the authors' results: fetched first, else beside the checkout.

    Returns ``None`` when neither is there (``python -m diamlib fetch-authors`` fetches them).
    """
    fetched = fetched_authors_results()
    return fetched if fetched.is_dir() else authors_results_beside_checkout()


# --------------------------------------------------------------------------- reading a source
def _is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https", "file")


def _download(url: str, manifest: Manifest) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310 (http(s)/file only)
            return response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AuthorsFetchError(
            f"could not download {url}: {reason}. This needs a network that reaches GitHub. Without one, "
            f"fetch elsewhere and bring the archive (python -m diamlib fetch-authors --source FILE.tar.gz), or "
            f"clone https://github.com/{manifest.repository} and pass the clone (--source PATH)"
        ) from exc


def _members_from_archive(data: bytes, folder: str, origin: str) -> dict[str, bytes]:
    """Files under ``folder/`` of a tar archive (at its top or under one top-level folder)."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive.getmembers():
                if not member.isfile():
                    continue
                parts = Path(member.name).parts
                if folder not in parts[:2]:
                    continue
                relative = Path(*parts[parts.index(folder) + 1:]).as_posix()
                handle = archive.extractfile(member)
                if handle is not None:
                    files[relative] = handle.read()
    except tarfile.TarError as exc:
        raise AuthorsFetchError(f"{origin} is not a readable .tar.gz archive ({exc}); pass GitHub's archive of "
                                f"the repository, a clone of it or a folder") from exc
    return files


def _members_from_git(repository: Path, revision: str, folder: str) -> dict[str, bytes]:
    """Files under ``folder/`` of a local git repository at ``revision`` (``git archive``)."""
    try:
        archive = subprocess.run(["git", "-C", str(repository), "archive", "--format=tar", revision, folder],
                                 capture_output=True, check=True).stdout
    except FileNotFoundError as exc:
        raise AuthorsFetchError("git is not installed: install it, or pass a folder or an archive") from exc
    except subprocess.CalledProcessError as exc:
        raise AuthorsFetchError(
            f"git could not read {folder}/ at {revision} in {repository}: {exc.stderr.decode().strip()}. "
            f"Fetch the pinned commit into that repository (git fetch origin {revision}), or pass --revision"
        ) from exc
    return _members_from_archive(archive, folder, str(repository))


def _members_from_folder(root: Path) -> dict[str, bytes]:
    """Files under ``root`` (a folder fetched before: its :data:`SOURCE_RECORD` is left out)."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).as_posix() != SOURCE_RECORD}


def _is_git_repository(folder: Path) -> bool:
    return (folder / ".git").exists() or ((folder / "HEAD").is_file() and (folder / "objects").is_dir())


def read_source(source: str | os.PathLike | None, manifest: Manifest, revision: str | None = None) -> dict[str, bytes]:
    """The files of ``extracted_results/`` from ``source`` (see the module docstring), path -> bytes."""
    if source is None:
        source = archive_url(manifest)
    text = os.fspath(source)
    if _is_url(text):
        return _members_from_archive(_download(text, manifest), manifest.folder, text)
    folder = Path(text)
    if folder.is_file():
        return _members_from_archive(folder.read_bytes(), manifest.folder, text)
    if not folder.is_dir():
        raise AuthorsFetchError(f"source {text!r} is neither a URL, an archive nor a folder; pass one of them "
                                f"(or no --source, to download from GitHub)")
    if _is_git_repository(folder):
        return _members_from_git(folder, revision or manifest.commit, manifest.folder)
    if (folder / manifest.folder).is_dir():
        return _members_from_folder(folder / manifest.folder)
    return _members_from_folder(folder)


# --------------------------------------------------------------------------- verifying and storing
def verify(files: dict[str, bytes], manifest: Manifest) -> None:
    """Every file of the manifest present with its SHA-256, and no other file.

    Raises
    ------
    AuthorsFetchError
        Names the missing, unexpected and altered files (at most five of each).
    """
    missing = sorted(set(manifest.files) - set(files))
    extra = sorted(set(files) - set(manifest.files))
    altered = sorted(path for path, digest in manifest.files.items()
                     if path in files and hashlib.sha256(files[path]).hexdigest() != digest)
    problems = [f"{len(paths)} {what} (e.g. {', '.join(paths[:5])})"
                for what, paths in (("missing", missing), ("unexpected", extra), ("with another SHA-256", altered))
                if paths]
    if problems:
        raise AuthorsFetchError(
            f"the source does not hold {manifest.folder}/ of {manifest.repository} at {manifest.commit[:7]}: "
            f"{'; '.join(problems)} file(s). Pass the repository at that commit; nothing was stored")


def fetch_authors_results(source: str | os.PathLike | None = None, *, destination: Path | None = None,
                          revision: str | None = None, force: bool = False) -> Path:
    """Fetch the authors' ``extracted_results/``, check every file's SHA-256, store it atomically.

    Parameters
    ----------
    source : str, path-like or None
        ``None`` (GitHub's archive of the pinned commit), a URL of an archive, an archive file,
        a git repository or a folder (see the module docstring).
    destination : Path, optional
        Target folder; default :func:`fetched_authors_results`.
    revision : str, optional
        Revision read from a git repository source; default the pinned commit.
    force : bool
        Replace a folder already there (default: keep it and return).

    Returns
    -------
    Path
        The folder, ``<n_models>/<dataset>/<method>/<iteration>/performances.txt`` (read by
        :func:`diamlib.reporting.results.load_authors_results`).

    Raises
    ------
    AuthorsFetchError
        The source cannot be read (network, missing commit) or a file differs from the manifest.
    """
    manifest = load_manifest()
    destination = Path(destination) if destination is not None else fetched_authors_results()
    if destination.is_dir() and not force:
        return destination
    files = read_source(source, manifest, revision)
    verify(files, manifest)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}."))
    old = None
    try:
        for relative, content in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        (staging / SOURCE_RECORD).write_text(json.dumps(
            {"repository": manifest.repository, "commit": manifest.commit, "folder": manifest.folder,
             "files": len(files)}, indent=1) + "\n")
        if destination.exists():
            old = destination.with_name(f".{destination.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(destination, old)
        os.replace(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists() and not destination.exists():
            os.replace(old, destination)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return destination
