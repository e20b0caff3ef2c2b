"""Profiles load through one schema; every kind of bad input gets its own clear error."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from diamlib.config import ConfigError, apply_overrides, available_profiles
from diamlib.experiment.setup import load_profile

SMOKE = {
    "name": "tiny",
    "classification": {
        "datasets": ["digits"], "train_size": 300, "zoo": "smoke3", "initial_labels": 20,
        "query_size": 10, "rounds": 2, "strategies": ["random", "diam"],
    },
}


def write_profile(tmp_path: Path, data: dict, name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def error_for(tmp_path: Path, overrides: dict) -> str:
    path = write_profile(tmp_path, apply_overrides(SMOKE, overrides))
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    return str(info.value)


def test_valid_profile_is_frozen(tmp_path):
    profile = load_profile(write_profile(tmp_path, SMOKE))
    assert profile.classification.rounds == 2
    assert [m.method for m in profile.classification.strategies] == ["random", "diam"]
    with pytest.raises(ValidationError, match="Instance is frozen"):
        profile.seeds = [1]


@pytest.mark.parametrize("name", available_profiles())
def test_every_shipped_profile_validates(name):
    assert load_profile(name).name == name


def test_missing_profile_lists_the_available_ones():
    with pytest.raises(ConfigError, match=r"not found.*Available profiles:.*smoke"):
        load_profile("no-such-profile")


def test_unknown_key_suggests_the_right_one(tmp_path):
    message = error_for(tmp_path, {"classification.query_sise": 3})
    assert "unknown key 'classification.query_sise'" in message
    assert "Did you mean 'query_size'?" in message


def test_unknown_top_level_key(tmp_path):
    assert "Did you mean 'classification'?" in error_for(tmp_path, {"clasification": {}})


def test_wrong_type_names_key_and_value(tmp_path):
    message = error_for(tmp_path, {"classification.rounds": "three"})
    assert "classification.rounds" in message and "'three'" in message


@pytest.mark.parametrize("key", ["classification.query_size", "classification.initial_labels"])
def test_negative_budget_is_rejected(tmp_path, key):
    message = error_for(tmp_path, {key: -5})
    assert key.split(".")[1] in message and "greater than" in message


def test_batch_larger_than_pool(tmp_path):
    message = error_for(tmp_path, {"classification.query_size": 200})
    assert "larger than the remaining pool" in message


def test_beta_must_be_negative(tmp_path):
    message = error_for(tmp_path, {"classification.strategy_options": {"diam": {"beta": 0.5}}})
    assert message.startswith("tiny.yaml: classification.strategy_options.diam: strategy 'diam', option 'beta' = 0.5")
    assert "less than 0" in message and "Fix it in classification.strategy_options.diam" in message


def test_beta_in_a_method_variant_is_checked_too(tmp_path):
    variant = {"strategy": "diam", "label": "diam-pos", "options": {"beta": 1.0}}
    message = error_for(tmp_path, {"classification.strategies": ["random", variant]})
    assert "method 'diam-pos' (strategy 'diam')" in message and "option 'beta' = 1.0" in message
    assert "less than 0" in message and "or the method's 'options'" in message


@pytest.mark.parametrize("fraction,valid", [(0.75, True), (1.0, True), (0.0, False), (1.5, False)])
def test_knn_fraction_range_is_the_one_of_select_diam(tmp_path, fraction, valid):
    overrides = {"classification.strategy_options": {"diam": {"knn_fraction": fraction}}}
    if valid:
        load_profile(write_profile(tmp_path, apply_overrides(SMOKE, overrides)))
    else:
        assert "option 'knn_fraction'" in error_for(tmp_path, overrides)


REGRESSION = {"datasets": ["landmarks-digits"], "train_size": 300, "zoo": "smoke3", "initial_labels": 20,
              "query_size": 10, "rounds": 2, "strategies": ["random", "bait"]}


def test_every_strategy_options_are_checked_at_load(tmp_path):
    typo = error_for(tmp_path, {"regression": {**REGRESSION, "strategy_options": {"bait": {"overselection": 1.0}}}})
    assert "strategy 'bait' has no option 'overselection'" in typo
    assert "Did you mean 'overselection_factor'?" in typo and "sigma" in typo
    low = error_for(tmp_path, {"regression": {**REGRESSION,
                                              "strategy_options": {"bait": {"overselection_factor": 0.5}}}})
    assert "option 'overselection_factor' = 0.5" in low and "greater than or equal to 1" in low


@pytest.mark.parametrize("options,expected", [
    ({"solver": "newton"}, "option 'solver' = 'newton'"),
    ({"max_iter": "many"}, "option 'max_iter' = 'many': Input should be a valid integer"),
    ({"knn_approx_dim": 2.5}, "option 'knn_approx_dim' = 2.5"),
    ({"beta": "-1"}, "option 'beta' = '-1': Input should be a valid number"),
])
def test_wrong_option_types_and_values_name_the_option(tmp_path, options, expected):
    assert expected in error_for(tmp_path, {"classification.strategy_options": {"diam": options}})


def test_options_of_an_unknown_strategy_are_rejected(tmp_path):
    message = error_for(tmp_path, {"classification.strategy_options": {"diamm": {"beta": -1.0}}})
    assert "classification.strategy_options: unknown classification strategy 'diamm'" in message
    assert "Did you mean 'diam'?" in message


def test_strategy_without_options_rejects_any(tmp_path):
    variant = {"strategy": "entropy", "label": "entropy-t", "options": {"temperature": 2.0}}
    message = error_for(tmp_path, {"classification.strategies": ["random", variant]})
    assert "strategy 'entropy' has no option 'temperature'" in message and "it takes no options" in message


def test_unknown_dataset_lists_valid_ones(tmp_path):
    message = error_for(tmp_path, {"classification.datasets": ["fashion-mnsit"]})
    assert "unknown dataset 'fashion-mnsit'" in message and "Did you mean 'fashion-mnist'?" in message
    assert "digits" in message


def test_unknown_strategy_lists_valid_ones(tmp_path):
    message = error_for(tmp_path, {"classification.strategies": ["entropie"]})
    assert "entropie" in message and "entropy" in message and "margin" in message


def test_regression_strategy_in_classification_is_rejected(tmp_path):
    assert "diam-svd" in error_for(tmp_path, {"classification.strategies": ["diam-svd"]})


def test_unknown_zoo_lists_valid_ones(tmp_path):
    message = error_for(tmp_path, {"classification.zoo": "paper13"})
    assert "unknown model-zoo name 'paper13'" in message and "paper12" in message


def test_duplicate_methods_need_labels(tmp_path):
    assert "listed twice" in error_for(tmp_path, {"classification.strategies": ["diam", "diam"]})


def test_dotted_and_nested_overrides_agree():
    nested = apply_overrides(SMOKE, {"classification": {"rounds": 5}})
    dotted = apply_overrides(SMOKE, {"classification.rounds": 5})
    assert nested == dotted and nested["classification"]["zoo"] == "smoke3"
    assert SMOKE["classification"]["rounds"] == 2  # the input is left unchanged


def test_cli_rejects_bad_profile_and_writes_nothing(tmp_path):
    path = write_profile(tmp_path, apply_overrides(SMOKE, {"classification.query_size": -1}), "bad")
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "diamlib", "run", "--profile", str(path),
                           "--results-root", str(results)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid profile" in done.stderr and "query_size" in done.stderr
    assert not results.exists()


def test_dataset_sizes_override_one_dataset_and_are_checked(tmp_path):
    section = {**SMOKE["classification"], "datasets": ["digits", "fashion-mnist"],
               "dataset_sizes": {"digits": {"train_size": 200}}}
    profile = load_profile(write_profile(tmp_path, {**SMOKE, "classification": section}))
    assert profile.classification.sizes_for("digits") == (200, None)
    assert profile.classification.sizes_for("fashion-mnist") == (300, None)
    message = error_for(tmp_path, {"classification": {**section, "dataset_sizes": {"mnist": {"train_size": 200}}}})
    assert "dataset_sizes names ['mnist']" in message and "add them to datasets" in message
    message = error_for(tmp_path, {"classification": {**section, "dataset_sizes": {"digits": {"train_size": 30}}}})
    assert "exceeds dataset_sizes.digits.train_size (30)" in message
    message = error_for(tmp_path, {"classification": {**section, "dataset_sizes": {"digits": {"train": 30}}}})
    assert "unknown key 'classification.dataset_sizes.digits.train'" in message
