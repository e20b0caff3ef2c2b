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


def test_the_analysis_runs_after_every_notebook_whose_runs_it_reads(tmp_path):
    for name in ("05_e.ipynb", "04_analysis.ipynb", "03_c.ipynb"):
        write_notebook(tmp_path / name, "x = 1")
    assert [p.name for p in list_notebooks(folder=tmp_path)] == ["03_c.ipynb", "05_e.ipynb", "04_analysis.ipynb"]
    assert [p.name for p in list_notebooks(["04", "05"], folder=tmp_path)] == ["05_e.ipynb", "04_analysis.ipynb"]


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


def test_records_carry_no_widget_state(tmp_path):
    from diamlib.runner import WIDGET_VIEW, strip_widget_state

    path = tmp_path / "01_a.ipynb"
    write_notebook(path, "x = 1")
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m": {}}}}
    notebook.cells[1].outputs = [
        nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "m"}, "text/plain": "0%|"}),
        nbformat.v4.new_output("stream", text="kept\n"),
    ]
    nbformat.write(notebook, path)
    strip_widget_state(path)
    stripped = nbformat.read(path, as_version=4)
    assert "widgets" not in stripped.metadata
    assert [o["output_type"] for o in stripped.cells[1].outputs] == ["stream"]


def test_refreshed_notebooks_store_their_outputs_without_injected_parameters(tmp_path):
    from diamlib.stored_outputs import refresh_stored_outputs, strip_injected_parameters

    write_notebook(tmp_path / "01_a.ipynb", "print(profile)")
    assert refresh_stored_outputs(kernel_name="python3", folder=tmp_path) == [tmp_path / "01_a.ipynb"]
    stored = nbformat.read(tmp_path / "01_a.ipynb", as_version=4)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in stored.cells)
    assert stored.cells[1].outputs[0]["text"] == "smoke\n"
    assert stored.metadata["papermill"]["parameters"] == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_a.ipynb"]
    # a notebook executed with parameters gets an injected cell, which is removed
    import papermill as pm

    pm.execute_notebook(str(tmp_path / "01_a.ipynb"), str(tmp_path / "02_b.ipynb"), parameters={"profile": "x"},
                        kernel_name="python3", progress_bar=False)
    assert strip_injected_parameters(tmp_path / "02_b.ipynb") == 1
    assert strip_injected_parameters(tmp_path / "02_b.ipynb") == 0


def test_refresh_computes_runs_in_a_fresh_results_root_and_runs_what_the_analysis_reads(tmp_path, monkeypatch):
    """Never a cache that older code wrote: each refresh gets an empty results root of its own."""
    from diamlib.stored_outputs import refresh_stored_outputs

    stale = tmp_path / "stale"
    monkeypatch.setenv("DIAMLIB_RESULTS_DIR", str(stale))
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "02_runs.ipynb", "import os, pathlib\nroot = pathlib.Path(os.environ['DIAMLIB_RESULTS_DIR'])\n"
                                             "print(root != pathlib.Path(" + repr(str(stale)) + "), list(root.iterdir()))\n"
                                             "(root / 'run.txt').write_text('computed')")
    write_notebook(folder / "04_analysis.ipynb", "import os, pathlib\n"
                                                 "print((pathlib.Path(os.environ['DIAMLIB_RESULTS_DIR']) / 'run.txt').read_text())")
    before = (folder / "02_runs.ipynb").read_text()
    # --only 04: notebook 02 runs first for its runs, but only 04 is stored
    assert refresh_stored_outputs(["04"], kernel_name="python3", folder=folder) == [folder / "04_analysis.ipynb"]
    assert nbformat.read(folder / "04_analysis.ipynb", as_version=4).cells[1].outputs[0]["text"] == "computed\n"
    assert (folder / "02_runs.ipynb").read_text() == before
    assert sorted(p.name for p in folder.iterdir()) == ["02_runs.ipynb", "04_analysis.ipynb"]
    refresh_stored_outputs(["02"], kernel_name="python3", folder=folder)
    assert nbformat.read(folder / "02_runs.ipynb", as_version=4).cells[1].outputs[0]["text"] == "True []\n"
    assert not stale.exists()


def test_a_failing_refresh_leaves_the_stored_notebook_as_it_was(tmp_path):
    from diamlib.stored_outputs import refresh_stored_outputs

    write_notebook(tmp_path / "01_broken.ipynb", "raise RuntimeError('cell exploded')")
    before = (tmp_path / "01_broken.ipynb").read_text()
    with pytest.raises(NotebookFailure, match="cell exploded"):
        refresh_stored_outputs(kernel_name="python3", folder=tmp_path)
    assert (tmp_path / "01_broken.ipynb").read_text() == before
    assert (tmp_path / "01_broken.FAILED.ipynb").is_file()


def test_refresh_command_names_an_unknown_notebook(capsys):
    from diamlib.__main__ import main

    assert main(["refresh", "--only", "99"]) == 2
    assert "no notebook matches ['99']" in capsys.readouterr().err
