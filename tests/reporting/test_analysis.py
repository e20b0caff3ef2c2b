"""The analysis of notebook 04 as one library call: sections, files, absent sources."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from diamlib.config import AnalysisParams  # noqa: E402
from diamlib.reporting import analysis, report, stats  # noqa: E402

BASE = np.array([0.60, 0.70, 0.80, 0.90])
NOISE = np.array([0.001, -0.002, 0.0015, -0.0005])


def _rounds(lift, noise):
    return np.stack([BASE, BASE + lift + noise, BASE + 2 * lift - noise])[None]


@pytest.fixture
def ours(make_tidy):
    """Two datasets, four models; diam beats random clearly, entropy is close to diam; DIAM run with β = -1."""
    return pd.concat([
        make_tidy({"diam": _rounds(0.05, NOISE), "random": _rounds(0.02, NOISE),
                   "entropy": _rounds(0.049, NOISE[::-1])},
                  dataset=name, n_labeled=(10, 20, 30), betas={"diam": -1.0})
        for name in ("mnist", "kmnist")
    ], ignore_index=True)


def _names(items, kind):
    return [item.name for item in items if isinstance(item, kind)]


def test_every_section_of_our_runs_is_filled_and_the_authors_are_absent(ours):
    result = analysis.analyse(ours, params=AnalysisParams(model_subsets=[2]))
    assert result.authors is None
    part = result.ours
    assert _names(part.curves, analysis.Plot) == ["fig1_ours_classification_accuracy"]
    assert _names(part.model_counts, analysis.Plot) == ["fig2_ours_classification_accuracy"]
    assert _names(part.aulc, analysis.Plot) == ["aulc_ours_classification_accuracy"]
    assert len(_names(part.wtl, analysis.Table)) == 2  # one W/T/L table per dataset
    assert len(_names(part.best_worst, analysis.Table)) == 2  # best and worst
    # one beta only: the curve summary of DIAM and a note saying how to fill Table 3b
    assert [type(item) for item in part.beta] == [analysis.Note, analysis.Table]
    assert part.second_test == ()
    assert set(part.files) == {"best_worst_ours", "aulc_ours", "label_savings_ours"}


def test_the_sections_hold_the_numbers_of_the_stats_functions(ours):
    part = analysis.analyse(ours).ours
    comparison = stats.compare_all(ours, test="t-test", alpha=0.05)
    expected = report.wtl_tables(comparison)
    assert list(part.wtl_files) == list(expected)
    for stem, (caption, table) in expected.items():
        assert part.wtl_files[stem][0] == caption
        pd.testing.assert_frame_equal(part.wtl_files[stem][1], table)
    curves = stats.learning_curves(ours)
    assert part.summary == report.summary_text(curves, stats.area_under_curve(curves), comparison)
    pd.testing.assert_frame_equal(part.files["best_worst_ours"], stats.best_worst(ours))


def test_test_and_level_of_the_profile_are_used(ours):
    part = analysis.analyse(ours, params=AnalysisParams(test="wilcoxon", alpha=0.2)).ours
    assert all(stem.endswith("_wilcoxon") for stem in part.wtl_files)
    assert "wilcoxon, alpha 0.2" in part.summary


def test_several_betas_fill_table_3b(make_tidy):
    table = make_tidy({"diam": _rounds(0.05, NOISE), "diam-beta-0.1": _rounds(0.04, NOISE)},
                      n_labeled=(10, 20, 30), strategies={"diam-beta-0.1": "diam"},
                      betas={"diam": -1.0, "diam-beta-0.1": -0.1})
    part = analysis.analyse(table).ours
    (beta_table,) = part.beta
    assert list(beta_table.frame.index) == ["β = -0.1", "β = -1"]
    assert "beta_sensitivity_ours" in part.files


def test_another_solver_at_the_same_beta_is_named_in_table_3b(make_tidy):
    table = make_tidy({"diam": _rounds(0.05, NOISE), "diam-authors": _rounds(0.03, NOISE),
                       "diam-beta-1": _rounds(0.04, NOISE)}, n_labeled=(10, 20, 30),
                      strategies={"diam-authors": "diam", "diam-beta-1": "diam"},
                      betas={"diam": -0.1, "diam-authors": -0.1, "diam-beta-1": -1.0})
    (beta_table,) = analysis.analyse(table).ours.beta
    assert list(beta_table.frame.index) == ["β = -0.1 (diam)", "β = -0.1 (diam-authors)", "β = -1"]


def test_no_diam_run_leaves_beta_empty_without_hiding_errors(make_tidy):
    table = make_tidy({"random": _rounds(0.02, NOISE), "entropy": _rounds(0.03, NOISE)}, n_labeled=(10, 20, 30))
    part = analysis.analyse(table).ours
    assert part.beta == ()
    assert [type(item) for item in part.wtl] == [analysis.Note]  # nothing to compare without DIAM


def test_model_counts_prefer_separate_runs_then_the_profile_subsets(make_tidy):
    four = make_tidy({"diam": _rounds(0.05, NOISE)}, n_labeled=(10, 20, 30))
    assert analysis.model_counts(four, [2, 4, 8]) == [2, 4]
    assert analysis.model_counts(four, [4, 8]) == []
    two = make_tidy({"diam": _rounds(0.05, NOISE)[:, :, :2]}, n_labeled=(10, 20, 30))
    assert analysis.model_counts(pd.concat([four, two]), [3]) == [2]


def test_no_source_gives_an_empty_analysis_and_show_displays_nothing(capsys):
    result = analysis.analyse(None, None)
    assert result.ours is None and result.authors is None
    result.show("authors", "curves")
    result.show("ours", "summary")
    assert capsys.readouterr().out == ""


def test_show_rejects_unknown_names(ours):
    result = analysis.analyse(ours)
    with pytest.raises(ValueError, match="unknown section 'curve'"):
        result.show("ours", "curve")
    with pytest.raises(ValueError, match="unknown source 'mine'"):
        result.show("mine", "curves")


def test_save_writes_tables_figures_and_summary(ours, tmp_path):
    part = analysis.analyse(ours).ours
    written = analysis.save_analysis(analysis.Analysis(ours=part, authors=None), tmp_path)
    names = {path.relative_to(tmp_path).as_posix() for path in written}
    assert all(path.is_file() for path in written)
    assert "tables/summary_ours.txt" in names and "tables/best_worst_ours.csv" in names
    assert {f"tables/{stem}.{ext}" for stem in part.wtl_files for ext in ("csv", "tex")} <= names
    assert {f"figures/{plot.name}.{ext}" for plot in part.plots() for ext in ("png", "svg")} <= names
    assert (tmp_path / "tables" / "summary_ours.txt").read_text() == part.summary + "\n"


def test_auto_reads_the_authors_results_only_where_they_are(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis, "authors_results_folder", lambda: None)
    assert analysis.load_sources(tmp_path, "auto")[1] is None
    monkeypatch.setattr(analysis, "authors_results_folder", lambda: tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):
        analysis.load_sources(tmp_path, "auto")


def test_load_sources_reports_missing_runs_and_rejects_a_missing_reference(tmp_path):
    ours, authors, notes = analysis.load_sources(tmp_path, None)
    assert ours is None and authors is None
    assert any("No results of our runs" in note for note in notes)
    with pytest.raises(FileNotFoundError, match="reference_dir 'nowhere-at-all' does not exist"):
        analysis.load_sources(tmp_path, "nowhere-at-all")


def test_authors_results_are_set_beside_the_printed_tables(authors):
    part = analysis.analyse(None, authors).authors
    names = _names(part.wtl + part.second_test + part.best_worst, analysis.Table)
    assert {"authors-wtl-printed", "authors-wilcoxon", "authors-3a-printed"} <= set(names)
    assert _names(part.model_counts, analysis.Plot) == ["fig2_authors_classification_accuracy"]
    assert any(stem.endswith("_wilcoxon") for stem in part.wtl_files)
    assert part.beta[-1].frame.shape[0] == 1 + 3  # DIAM's curve and the three printed betas
