"""A results folder that cannot be written fails before training, or names the path and leaves nothing half-written."""
from __future__ import annotations

import errno
import io
import os

import pytest

import diamlib.experiment.loop as loop
import diamlib.fileio as fileio
import diamlib.runstore as runstore
from diamlib.fileio import StorageError
from tiny_run import run


def test_read_only_results_folder_fails_before_any_training(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # privileged users write anyway: deny the write as the OS would
        real_mkstemp = runstore.tempfile.mkstemp

        def denied(*args, dir=None, **kwargs):
            if dir is not None and os.fspath(dir).startswith(os.fspath(folder)):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(dir))
            return real_mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(runstore.tempfile, "mkstemp", denied)
    trained = []
    monkeypatch.setattr(loop, "train_round", lambda *args, **kwargs: trained.append(args))
    try:
        with pytest.raises(StorageError, match=rf"results folder {folder} is not writable"
                                               rf" \(Permission denied\); fix its permissions"):
            run(folder)
    finally:
        folder.chmod(0o755)
    assert trained == []
    assert not list(folder.rglob("*"))


class FullDisk(io.FileIO):
    """A file on a disk with ``room`` bytes left: writes beyond that fail with ENOSPC."""

    room = 4096

    def write(self, data):
        if self.tell() + len(data) > self.room:
            super().write(bytes(data)[: max(self.room - self.tell(), 0)])
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def test_full_disk_names_the_path_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setattr(fileio.os, "fdopen", lambda fd, mode="r": FullDisk(fd, mode.replace("b", "")))
    out = tmp_path / "tiny"
    with pytest.raises(StorageError, match=r"could not write .*_round0/seed0/evidence\.npz: No space left "
                                           r"on device\. Free disk space"):
        run(out)
    left = sorted(p.name for p in out.rglob("*") if p.is_file() and p.name != runstore.LOCK_FILE)
    assert left == [], f"nothing half-written may stay behind; found {left}"
    assert (out / runstore.LOCK_FILE).read_text() == "", "the results folder's lock is released"
