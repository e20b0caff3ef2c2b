"""A batch through a real Label Studio server and back into the label store.

Starts ``label-studio`` from its own virtual environment (``make labelstudio`` creates
``.venv-labelstudio``: its Django dependencies do not resolve together with the project's lock),
with SQLite in a temporary folder, on a free port of 127.0.0.1, offline. The API client
authenticates with the user token given at start, legacy tokens being enabled for the new
organization with ``--enable-legacy-api-token`` (Label Studio 1.23 turns them off by default).
The test creates a project, imports the tasks with every model's pre-label and DIAM's score,
sorts them by the score in a Data Manager view, annotates every task through the API, exports
the project and imports the export into a :class:`~diamlib.userfiles.labelling.LabelStore`. A
second test makes the same round trip with the README's Label Studio SDK calls, run by the
server's own Python (the SDK is installed with the server).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from diamlib.paths import project_root
from diamlib.userfiles.batchfile import read_batch_csv
from diamlib.userfiles.evidence_files import run_select
from diamlib.userfiles.labelling import (LabelStore, import_label_studio_json, label_studio_config, local_files_url,
                                         write_label_studio_tasks, write_pool_images)

#: Label Studio's virtual environment (``make labelstudio``); another one with DIAMLIB_LABEL_STUDIO_VENV.
VENV = Path(os.environ.get("DIAMLIB_LABEL_STUDIO_VENV", project_root() / ".venv-labelstudio"))
SERVER = VENV / "bin" / "label-studio"
#: Seconds to wait for the server's first answer (migrations of a new database included).
START_TIMEOUT = 300
CLASSES = [str(d) for d in range(10)]

pytestmark = pytest.mark.skipif(not SERVER.is_file(), reason=f"Label Studio is not installed in {VENV}: run "
                                                              f"`make labelstudio` (its own virtual environment)")


class LabelStudioAPI:
    """The few REST calls of the round trip, with the user's token (``Authorization: Token ...``)."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token

    def call(self, method: str, path: str, body=None, *, raw: bool = False):
        request = urllib.request.Request(
            self.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:500]!r}") from None
        return data if raw else json.loads(data or b"null")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    """A fresh server; yields ``(api, document_root)``; stopped (its process group) afterwards."""
    folder = tmp_path_factory.mktemp("label-studio")
    port, token = free_port(), secrets.token_hex(20)
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(folder / "data"),
           "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
           "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(folder), "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}
    log = open(folder / "server.log", "wb")
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(SERVER), "start", "--no-browser", "--port", str(port), "--internal-host", "127.0.0.1",
         "--username", "labeller@example.com", "--password", secrets.token_hex(12), "--user-token", token,
         "--enable-legacy-api-token"],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            if server.poll() is not None:
                pytest.fail(f"label-studio exited with {server.returncode}:\n"
                            + (folder / "server.log").read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(url + "/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.perf_counter() - started > START_TIMEOUT:
                pytest.fail(f"label-studio did not answer /health within {START_TIMEOUT} s:\n"
                            + (folder / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(1)
        print(f"label-studio answered after {time.perf_counter() - started:.0f} s")
        yield LabelStudioAPI(url, token), folder
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_a_batch_goes_through_label_studio_and_its_labels_into_the_store(label_studio, tmp_path, model_arrays,
                                                                         evidence_paths):
    api, document_root = label_studio
    digits = load_digits()
    # DIAM's batch from the three models' evidence files, as the command line makes it
    csv_path, _, _ = run_select(evidence_paths, budget=8, out=tmp_path / "batch.csv", seed=1)
    batch = read_batch_csv(csv_path)
    pool_ids = model_arrays[0]["pool_ids"]
    rows = {pool_id: int(pool_id.split("-")[1]) for pool_id in pool_ids}  # digit-0123 -> row 123 of digits
    images = (digits.images[[rows[i] for i in batch["pool_id"]]] * (255 / 16)).round().astype(np.uint8)
    paths = write_pool_images(document_root / "pool", images, batch["pool_id"].tolist())
    probs = {path.stem: np.load(path)["pool_probs"] for path in evidence_paths}
    tasks_path = write_label_studio_tasks(tmp_path / "tasks.json", batch,
                                          {i: local_files_url(p, document_root) for i, p in paths.items()},
                                          pool_probs=probs, classes=CLASSES)

    project = api.call("POST", "/api/projects", {"title": "DIAM batch", "label_config": label_studio_config(CLASSES)})
    # the project may show files below this folder (a Local Storage; its tasks are imported below, not synced)
    api.call("POST", "/api/storages/localfiles/", {"project": project["id"], "title": "pool",
                                                   "path": str(document_root / "pool"), "use_blob_urls": False})
    imported = api.call("POST", f"/api/projects/{project['id']}/import", json.loads(tasks_path.read_text()))
    assert imported["task_count"] == 8 and imported["prediction_count"] == 8 * 3

    # Label Studio's own task JSON shows each model's pre-label and DIAM's score; a view sorts by the score
    view = api.call("POST", "/api/dm/views/", {"project": project["id"], "data": {"ordering": ["-tasks:data.score"]}})
    listed = api.call("GET", f"/api/tasks/?project={project['id']}&view={view['id']}&fields=all")["tasks"]
    assert [t["data"]["pool_id"] for t in listed] == batch["pool_id"].tolist()  # DIAM's order: rank 1 first
    for task, row in zip(listed, batch.itertuples(index=False)):
        assert task["data"]["score"] == pytest.approx(row.score)
        assert sorted(p["model_version"] for p in task["predictions"]) == ["model0", "model1", "model2"]
        for prediction in task["predictions"]:
            model_probs = probs[prediction["model_version"]][row.pool_index]
            assert prediction["score"] == pytest.approx(model_probs.max())
            assert prediction["result"][0]["value"]["choices"] == [CLASSES[int(model_probs.argmax())]]
    served = api.call("GET", listed[0]["data"]["image"], raw=True)  # the server shows the pool's image files
    assert served == paths[listed[0]["data"]["pool_id"]].read_bytes()

    # the labeller answers every task (the true digit), one annotation each, through the API
    truth = {pool_id: str(digits.target[rows[pool_id]]) for pool_id in batch["pool_id"]}
    for task in listed:
        api.call("POST", f"/api/tasks/{task['id']}/annotations/",
                 {"result": [{"from_name": "label", "to_name": "image", "type": "choices",
                              "value": {"choices": [truth[task["data"]["pool_id"]]]}}]})
    export = api.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true",
                      raw=True)
    (tmp_path / "export.json").write_bytes(export)

    store = LabelStore(tmp_path / "labels.csv", CLASSES, pool_ids=pool_ids)
    assert import_label_studio_json(tmp_path / "export.json", store, batch_ids=batch["pool_id"]) == 8
    assert store.labels == truth and store.pending(batch["pool_id"]) == []
    # the next round trains on these: class indices in the pool's order of the batch
    np.testing.assert_array_equal(store.class_indices(batch["pool_id"]),
                                  digits.target[[rows[i] for i in batch["pool_id"]]])
    assert import_label_studio_json(tmp_path / "export.json", store) == 0  # a re-import changes nothing


#: The README's Label Studio block, with the SDK, run by the server's own Python; then the labeller's answers.
SDK_ROUND_TRIP = """
import json, sys
from pathlib import Path

from label_studio_sdk.client import LabelStudio

url, token, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
tasks, truth = json.loads((folder / "tasks.json").read_text()), json.loads((folder / "truth.json").read_text())
ls = LabelStudio(base_url=url, api_key=token)
project = ls.projects.create(title="DIAM round 1", label_config=(folder / "config.xml").read_text())
ls.import_storage.local.create(project=project.id, path=str(folder / "pool"), use_blob_urls=False)
ls.projects.import_tasks(id=project.id, request=tasks)
for task in ls.tasks.list(project=project.id):
    ls.annotations.create(id=task.id, result=[{"from_name": "label", "to_name": "image", "type": "choices",
                                               "value": {"choices": [truth[task.data["pool_id"]]]}}])
export = b"".join(ls.projects.exports.download_sync(project.id, export_type="JSON", download_all_tasks=True))
(folder / "export.json").write_bytes(export)
"""


def test_the_readmes_sdk_calls_make_the_same_round_trip(label_studio, model_arrays, evidence_paths):
    api, document_root = label_studio
    digits = load_digits()
    folder = document_root / "sdk"
    csv_path, _, _ = run_select(evidence_paths, budget=6, out=document_root / "sdk-batch.csv", seed=2)
    batch = read_batch_csv(csv_path)
    rows = {pool_id: int(pool_id.split("-")[1]) for pool_id in batch["pool_id"]}
    images = (digits.images[list(rows.values())] * (255 / 16)).round().astype(np.uint8)
    paths = write_pool_images(folder / "pool", images, batch["pool_id"].tolist())
    probs = {path.stem: np.load(path)["pool_probs"] for path in evidence_paths}
    write_label_studio_tasks(folder / "tasks.json", batch,
                             {i: local_files_url(p, document_root) for i, p in paths.items()},
                             pool_probs=probs, classes=CLASSES)
    truth = {pool_id: str(digits.target[row]) for pool_id, row in rows.items()}
    (folder / "truth.json").write_text(json.dumps(truth))
    (folder / "config.xml").write_text(label_studio_config(CLASSES))
    run = subprocess.run([str(VENV / "bin" / "python"), "-c", SDK_ROUND_TRIP, api.url, api.token, str(folder)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    exported = json.loads((folder / "export.json").read_text())
    assert len(exported) == 6 and all(len(task["predictions"]) == 3 for task in exported)  # one per model
    store = LabelStore(folder / "labels.csv", CLASSES, pool_ids=model_arrays[0]["pool_ids"])
    assert import_label_studio_json(folder / "export.json", store, batch_ids=batch["pool_id"]) == 6
    assert store.labels == truth
