"""``python -m diamlib fetch-authors``: fetched from a local mirror, checked against the manifest, stored atomically."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from diamlib.paths import project_root
from diamlib.reporting import authors_files
from diamlib.reporting.authors_files import AuthorsFetchError, fetch_authors_results, load_manifest


@pytest.fixture(scope="module")
def original() -> Path:
    """The authors' files as this checkout finds them (fetched, else beside the checkout), to build mirrors from."""
    folder = authors_files.authors_results_folder()
    if folder is None:
        pytest.skip("the authors' published results are neither fetched nor beside the checkout: no mirror to "
                    "build (python -m diamlib fetch-authors fetches them)")
    return folder


def _github_archive(folder: Path, out: Path) -> Path:
    """A .tar.gz laid out as GitHub's archive of the repository: ``DIAM-<commit>/extracted_results/...``."""
    manifest = load_manifest()
    top = f"DIAM-{manifest.commit}/{manifest.folder}"
    with tarfile.open(out, "w:gz") as archive:
        for relative in manifest.files:
            archive.add(folder / relative, arcname=f"{top}/{relative}")
        readme = b"not part of the results\n"
        info = tarfile.TarInfo(f"DIAM-{manifest.commit}/README.md")
        info.size = len(readme)
        archive.addfile(info, io.BytesIO(readme))
    return out


def _fresh_copy(tmp_path: Path) -> Path:
    """The package alone in a new folder: a checkout with nothing beside it and nothing fetched."""
    clone = tmp_path / "clone"
    shutil.copytree(project_root() / "diamlib", clone / "diamlib", ignore=shutil.ignore_patterns("__pycache__"))
    return clone


def _python(clone: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(clone)}
    return subprocess.run([sys.executable, *args], cwd=clone, env=environment, capture_output=True, text=True,
                          timeout=300)


FIND_PART_A = ("from pathlib import Path\n"
               "from diamlib.reporting.analysis import load_sources\n"
               "ours, authors, notes = load_sources(Path('results'), 'auto')\n"
               "print('authors', 'none' if authors is None else authors.groupby(['n_models', 'dataset', "
               "'method']).ngroups)\n")


def test_fetch_from_a_file_url_makes_notebook_04_part_a_appear_in_a_fresh_copy(original, tmp_path):
    clone = _fresh_copy(tmp_path)
    before = _python(clone, "-c", FIND_PART_A)
    assert before.returncode == 0, before.stderr
    assert before.stdout.split() == ["authors", "none"]  # nothing beside the copy, nothing fetched
    url = _github_archive(original, tmp_path / "mirror.tar.gz").as_uri()
    fetched = _python(clone, "-m", "diamlib", "fetch-authors", "--source", url)
    assert fetched.returncode == 0, fetched.stderr
    folder = clone / authors_files.FETCHED_AUTHORS_RESULTS
    assert "fetched and verified" in fetched.stdout and str(folder) in fetched.stdout
    assert len(list(folder.rglob("performances.txt"))) == len(load_manifest().files)
    assert not (folder / "README.md").exists()  # only extracted_results/ is taken
    after = _python(clone, "-c", FIND_PART_A)
    assert after.returncode == 0, after.stderr
    # 5 model counts x 2 datasets x 7 methods: every curve notebook 04's part A reads
    assert after.stdout.split() == ["authors", "70"]
    again = _python(clone, "-m", "diamlib", "fetch-authors", "--source", url)
    assert again.returncode == 0 and "already" in again.stdout


def test_fetch_from_a_local_git_repository_at_a_revision(original, tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repository = tmp_path / "DIAM"
    shutil.copytree(original, repository / "extracted_results", ignore=shutil.ignore_patterns("SOURCE.json"))
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "mirror"]):
        subprocess.run(git + command, check=True, capture_output=True)
    with pytest.raises(AuthorsFetchError, match="git fetch origin"):  # the pinned commit is not in this mirror
        fetch_authors_results(repository, destination=tmp_path / "pinned")
    assert not (tmp_path / "pinned").exists()
    folder = fetch_authors_results(repository, destination=tmp_path / "out", revision="HEAD")
    assert len(list(folder.rglob("performances.txt"))) == len(load_manifest().files)


def test_an_altered_or_missing_file_is_refused_and_nothing_is_stored(original, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(original, mirror, ignore=shutil.ignore_patterns("SOURCE.json"))
    first = sorted(load_manifest().files)[0]
    with open(mirror / first, "a") as handle:
        handle.write("1.0 2.0\n")
    (mirror / sorted(load_manifest().files)[1]).unlink()
    destination = tmp_path / "out"
    with pytest.raises(AuthorsFetchError, match=r"1 missing .*1 with another SHA-256") as error:
        fetch_authors_results(mirror, destination=destination)
    assert first in str(error.value) and "nothing was stored" in str(error.value)
    assert list(tmp_path.iterdir()) == [mirror]  # no target, no temporary folder left behind


def test_a_replaced_folder_is_swapped_whole(original, tmp_path):
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "stale.txt").write_text("old")
    assert fetch_authors_results(original, destination=destination) == destination
    assert (destination / "stale.txt").exists()  # kept without force
    fetch_authors_results(original, destination=destination, force=True)
    assert not (destination / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_no_network_fails_clearly_naming_the_fix(tmp_path):
    with pytest.raises(AuthorsFetchError, match=r"could not download .*--source FILE.tar.gz.*--source PATH"):
        fetch_authors_results("http://127.0.0.1:9/DIAM.tar.gz", destination=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_source_that_is_nothing_is_named(tmp_path):
    with pytest.raises(AuthorsFetchError, match="neither a URL, an archive nor a folder"):
        fetch_authors_results(tmp_path / "nowhere", destination=tmp_path / "out")


def test_the_default_source_is_githubs_archive_of_the_pinned_commit():
    manifest = load_manifest()
    assert len(manifest.commit) == 40 and manifest.folder == "extracted_results"
    assert authors_files.archive_url(manifest) == (f"https://codeload.github.com/tangypnuaa/DIAM/tar.gz/"
                                                   f"{manifest.commit}")
