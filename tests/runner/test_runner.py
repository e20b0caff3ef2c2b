"""The papermill runner: order, selection, and a failing notebook kept under a FAILED name."""
from __future__ import annotations

import nbformat
import pytest

from diamlib.runner import NotebookFailure, list_notebooks, run_notebooks


def write_notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "smoke"\noverrides = {}\nresults_root = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_notebooks_run_in_order_and_only_filters(tmp_path):
    for name in ("02_b.ipynb", "01_a.ipynb", "notes.ipynb"):
        write_notebook(tmp_path / name, "x = 1")
    assert [p.name for p in list_notebooks(folder=tmp_path)] == ["01_a.ipynb", "02_b.ipynb"]
    assert [p.name for p in list_notebooks(["02"], folder=tmp_path)] == ["02_b.ipynb"]
    with pytest.raises(ValueError, match="no notebook matches"):
        list_notebooks(["07"], folder=tmp_path)


def test_failing_notebook_stops_the_run_and_keeps_its_partial_output(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "01_ok.ipynb", "print(profile)")
    write_notebook(folder / "02_broken.ipynb", "print('before')", "raise RuntimeError('cell exploded')")
    write_notebook(folder / "03_never.ipynb", "print('never')")
    with pytest.raises(NotebookFailure) as info:
        run_notebooks("smoke", results_root=str(tmp_path / "results"), kernel_name="python3", folder=folder)
    out = tmp_path / "results" / "smoke"
    assert "RuntimeError: cell exploded" in str(info.value)
    assert (out / "01_ok.ipynb").is_file()
    assert (out / "02_broken.FAILED.ipynb").is_file() and not (out / "02_broken.ipynb").exists()
    assert not (out / "03_never.ipynb").exists()
    executed = nbformat.read(out / "01_ok.ipynb", as_version=4)
    assert any("smoke" in o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
