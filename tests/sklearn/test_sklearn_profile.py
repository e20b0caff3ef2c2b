"""The ``sklearn`` profile section: validation with the fix, the experiment copy, the shipped profiles."""
from __future__ import annotations

import pytest

from diamlib.config import SKLEARN_DIR, ConfigError, sklearn_experiment
from diamlib.experiment.setup import load_profile, profile_from_dict

SECTION = {"datasets": ["digits"], "zoo": "sklearn-smoke", "initial_labels": 30, "query_size": 20, "rounds": 2,
           "strategies": ["random", "diam"]}


def _profile(**sections):
    return profile_from_dict({"name": "p", **sections})


def test_the_sklearn_section_needs_an_sklearn_zoo():
    with pytest.raises(ConfigError, match=r"sklearn.zoo: 'smoke3' is a network zoo.*use one of sklearn6, sklearn-smoke"):
        _profile(sklearn={**SECTION, "zoo": "smoke3"})


def test_a_zoo_made_for_one_task_is_refused_for_the_other():
    with pytest.raises(ConfigError, match=r"classification.zoo: 'sklearn-reg' is a regression zoo"):
        _profile(classification={**SECTION, "zoo": "sklearn-reg"})
    with pytest.raises(ConfigError, match=r"sklearn.zoo: 'sklearn-reg' is a regression zoo"):
        _profile(sklearn={**SECTION, "zoo": "sklearn-reg"})
    with pytest.raises(ConfigError, match=r"regression.zoo: 'sklearn6' is a classification zoo"):
        _profile(regression={**SECTION, "datasets": ["landmarks-digits"], "zoo": "sklearn6",
                             "strategies": ["random"]})


def test_the_sklearn_section_is_a_classification_section():
    with pytest.raises(ConfigError, match=r"sklearn.datasets: unknown dataset 'landmarks-digits'"):
        _profile(sklearn={**SECTION, "datasets": ["landmarks-digits"]})
    with pytest.raises(ConfigError, match=r"sklearn.strategies: .*diam-svd"):
        _profile(sklearn={**SECTION, "strategies": ["diam-svd"]})


def test_network_options_are_refused_for_sklearn_zoos():
    with pytest.raises(ConfigError, match="width_mult and pretrained apply to network zoos"):
        _profile(sklearn={**SECTION, "width_mult": 0.5})


def test_section_seeds_are_checked_and_override_the_profile_seeds():
    with pytest.raises(ConfigError, match="seeds must be distinct"):
        _profile(sklearn={**SECTION, "seeds": [1, 1]})
    profile = _profile(seeds=[0], sklearn={**SECTION, "seeds": [3, 4]}, classification=SECTION)
    assert profile.seeds_for("classification") == [0]
    assert sklearn_experiment(profile).seeds_for("classification") == [3, 4]


def test_sklearn_experiment_swaps_in_the_sklearn_section_and_needs_one():
    profile = _profile(sklearn=SECTION, classification={**SECTION, "zoo": "smoke3"},
                       regression={**SECTION, "datasets": ["landmarks-digits"], "zoo": "smoke3",
                                   "strategies": ["random"]})
    experiment = sklearn_experiment(profile)
    assert experiment.classification == profile.sklearn and experiment.regression is None
    assert profile.classification.zoo == "smoke3", "the profile itself is unchanged"
    with pytest.raises(ConfigError, match="profile 'p' has no 'sklearn' section; add one to"):
        sklearn_experiment(_profile(classification=SECTION))
    assert SKLEARN_DIR == "sklearn"


def test_shipped_profiles_have_the_sklearn_benchmark():
    default = load_profile("default").sklearn
    assert default.zoo == "sklearn6" and default.datasets == ["fashion-mnist", "digits"]
    assert default.seeds == list(range(10))
    assert [e.method for e in default.strategies] == [
        "random", "entropy", "least-confidence", "margin", "coreset", "cal", "diam", "diam-nodiv", "diam-authors",
        "diam-beta-1", "diam-beta-10"]
    assert {e.strategy for e in default.strategies[-3:]} == {"diam"}  # the solver and the beta sweep
    # digits is used whole, and notebook 05's longer stopping schedule (4x the rounds) must fit in it
    assert default.sizes_for("digits") == (1258, 539)
    assert default.initial_labels + 4 * default.rounds * default.query_size <= default.sizes_for("digits")[0]
    smoke = load_profile("smoke").sklearn
    assert smoke.datasets == ["digits"] and smoke.zoo.startswith("sklearn") and len(smoke.seeds) == 2
