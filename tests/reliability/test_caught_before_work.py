"""Bad input is refused before any work starts, with an error naming the problem and the fix."""
from __future__ import annotations

import nbformat
import pytest

import diamlib.experiment.loop as loop
from diamlib.__main__ import main
from diamlib.config import ConfigError
from diamlib.data import load_dataset
from diamlib.experiment.grid import run_task
from diamlib.experiment.setup import NOTEBOOK_METHODS, check_notebook_methods, load_profile
from diamlib.runner import notebook_parameters, notebooks_dir, run_notebooks
from tiny_run import TASK, run, tiny_profile, tiny_zoo


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was trained before the bad input was reported")

    monkeypatch.setattr(loop, "train_round", refuse)


def write_notebook(path, parameters: str):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell, nbformat.v4.new_code_cell("print(profile)")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("text, message", [
    ("", "profile file {path} is empty"),
    ("# nothing yet\n", "profile file {path} is empty"),
    ("description: no sections\nseeds: [0]\n", "profile file {path} defines none of the sections theory, "
                                                "classification, regression"),
])
def test_empty_or_section_less_profile_names_the_file(tmp_path, text, message):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.format(path=path)):
        load_profile(path)


def test_missing_section_names_the_file_it_was_read_from(tmp_path):
    path = tmp_path / "theory-only.yaml"
    path.write_text("theory: {seeds: [0]}\n")
    with pytest.raises(ConfigError, match=f"no 'classification' section; add one to {path}"):
        load_profile(path).experiment("classification")


def test_unknown_task_has_a_did_you_mean(tmp_path, no_training):
    with pytest.raises(ConfigError, match="unknown task 'classfication'. Did you mean 'classification'"):
        run_task(tiny_profile(), "classfication", tmp_path, zoo=tiny_zoo())


def test_missing_data_root_is_an_error_never_a_fallback(tmp_path, no_training):
    missing = tmp_path / "no-such-folder"
    profile = tiny_profile(datasets=["fashion-mnist"], data_root=str(missing))
    with pytest.raises(ConfigError, match=f"classification.data_root: folder {missing} does not exist"):
        run_task(profile, TASK, tmp_path / "results", zoo=tiny_zoo())
    assert not (tmp_path / "results").exists()
    with pytest.raises(FileNotFoundError, match=f"data_root {missing} does not exist"):
        load_dataset("fashion-mnist", split="test", data_root=missing)


def test_runner_checks_data_root_before_any_notebook(tmp_path):
    profile = tmp_path / "elsewhere.yaml"
    profile.write_text(f"classification:\n  datasets: [fashion-mnist]\n  data_root: {tmp_path / 'gone'}\n"
                       f"  zoo: smoke3\n  initial_labels: 10\n  query_size: 5\n  rounds: 1\n"
                       f"  strategies: [random]\n")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "01_a.ipynb", 'profile = "smoke"')
    with pytest.raises(ConfigError, match="data_root: folder .*gone does not exist"):
        run_notebooks(str(profile), results_root=str(tmp_path / "results"), kernel_name="python3", folder=folder)
    assert not (tmp_path / "results").exists()


def test_unknown_notebook_parameter_is_refused_and_common_ones_go_where_declared(tmp_path):
    plain = write_notebook(tmp_path / "02_plain.ipynb", 'profile = "smoke"\noverrides = {}')
    analysis = write_notebook(tmp_path / "04_analysis.ipynb", 'profile = "smoke"\nreference_dir = None')
    common = {"profile": "smoke", "overrides": {}, "reference_dir": "ref"}
    with pytest.raises(ValueError, match="unknown notebook parameter 'profil'. Did you mean 'profile'"):
        notebook_parameters([plain, analysis], common, {"profil": "default"})
    given = notebook_parameters([plain, analysis], common, {"profile": "default"})
    assert given == {plain: {"profile": "default", "overrides": {}},
                     analysis: {"profile": "default", "reference_dir": "ref"}}


def test_cli_refuses_an_unknown_parameter_before_running(tmp_path, capsys):
    code = main(["run", "--profile", "smoke", "--only", "02", "--results-root", str(tmp_path),
                 "-p", "profil", "smoke"])
    assert code == 2
    assert "unknown notebook parameter 'profil'. Did you mean 'profile'" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.ipynb"))


def test_ctrl_c_prints_one_line_saying_what_is_kept(tmp_path, monkeypatch, capsys):
    import diamlib.runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(diamlib.runner, "run_notebooks", interrupted)
    assert main(["run", "--profile", "smoke", "--results-root", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err == (f"interrupted (Ctrl-C): every completed round is saved under {tmp_path / 'smoke'}; run the "
                   f"same command again to resume\n")


def test_kernels_run_without_the_unencrypted_tcp_warning(tmp_path, capfd):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "01_a.ipynb", 'profile = "smoke"\noverrides = {}\nresults_root = None')
    [executed] = run_notebooks("smoke", results_root=str(tmp_path / "results"), kernel_name="python3",
                               folder=folder)
    assert executed.is_file()
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out
    assert "Passed unknown parameter" not in captured.err + captured.out


def test_a_method_notebook_02_reads_but_the_profile_lacks_is_refused_before_any_grid(tmp_path, no_training):
    profile = tmp_path / "no-nodiv.yaml"
    profile.write_text("seeds: [0]\nclassification:\n  datasets: [digits]\n  zoo: smoke3\n  initial_labels: 10\n"
                       "  query_size: 5\n  rounds: 1\n  strategies: [random, diam]\n")
    with pytest.raises(ConfigError, match=(
            f"{profile}: notebook 02_classification reads the results of diam-nodiv, which "
            f"classification.strategies does not list; add diam-nodiv to classification.strategies, or leave "
            f"the notebook out")):
        run_notebooks(str(profile), only=["02"], results_root=str(tmp_path / "results"))
    assert not (tmp_path / "results").exists()


def test_a_notebook_without_its_section_is_refused_before_any_notebook_runs(tmp_path):
    profile = tmp_path / "classification-only.yaml"
    profile.write_text("seeds: [0]\nclassification:\n  datasets: [digits]\n  zoo: smoke3\n  initial_labels: 10\n"
                       "  query_size: 5\n  rounds: 1\n  strategies: [random, diam, diam-nodiv]\n")
    with pytest.raises(ConfigError, match=f"{profile}: notebook 03_regression runs the 'regression' section, which "
                                          f"this profile does not have"):
        run_notebooks(str(profile), only=["02", "03"], results_root=str(tmp_path / "results"))
    assert not (tmp_path / "results").exists()
    check_notebook_methods(load_profile(profile), "02")  # what 02 needs is there


@pytest.mark.parametrize("stem", sorted(NOTEBOOK_METHODS))
def test_the_methods_checked_are_the_methods_the_notebook_reads(stem):
    notebook = nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for methods in NOTEBOOK_METHODS[stem].values():
        for method in methods:
            assert f'"{method}"' in code, f"{stem} no longer reads {method}: update NOTEBOOK_METHODS"
    if "diam-nodiv" in code:
        assert any("diam-nodiv" in methods for methods in NOTEBOOK_METHODS[stem].values()), \
            f"{stem} reads diam-nodiv: add it to NOTEBOOK_METHODS"
