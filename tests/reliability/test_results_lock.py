"""One run per results folder: a live holder refuses others (its own children share it), a dead one is taken over."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from diamlib.runstore import LOCK_FILE, ResultsFolderBusy, results_folder_lock

HOLDER = textwrap.dedent("""
    import subprocess, sys
    from diamlib.runstore import results_folder_lock
    CHILD = "from diamlib.runstore import results_folder_lock\\nwith results_folder_lock(%r): print('shared')"
    with results_folder_lock(%r, command="holder --of the folder"):
        print("held", flush=True)
        print(subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True).stdout.strip(), flush=True)
        sys.stdin.read()
""")


def test_a_live_holder_refuses_others_and_shares_with_its_children(tmp_path):
    folder = tmp_path / "results"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER % (str(folder), str(folder))], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert holder.stdout.readline().strip() == "shared", "a process the holder started shares its lock"
        with pytest.raises(ResultsFolderBusy, match=(
                rf"results folder {folder} is in use by another run \(pid {holder.pid} on host "
                rf"{socket.gethostname()}, started .*, running `holder --of the folder`\).*stop it "
                rf"\(kill {holder.pid}: every completed round is kept\)")):
            with results_folder_lock(folder):
                pass
    finally:
        holder.communicate(input="")
    assert (folder / LOCK_FILE).read_text() == "", "the holder empties the record when it leaves"


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_note(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = {"pid": dead.pid, "host": socket.gethostname(), "started": "2026-01-01T00:00:00+00:00",
              "command": "python -m diamlib run --profile default"}
    (tmp_path / LOCK_FILE).write_text(json.dumps(record))
    notes = []
    with results_folder_lock(tmp_path, note=notes.append):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert notes == [f"note: {tmp_path} was locked by pid {dead.pid} on {socket.gethostname()} (started "
                     f"2026-01-01T00:00:00+00:00), which no longer holds it (killed?); this run takes it over"]
    with results_folder_lock(tmp_path, note=notes.append):
        pass
    assert len(notes) == 1, "a lock released normally leaves nothing to take over"
