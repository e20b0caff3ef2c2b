"""The resolved protocol that ``python -m diamlib validate`` prints, for every shipped profile."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from diamlib.__main__ import main
from diamlib.config import available_profiles
from diamlib.experiment.protocol import format_protocol, label_schedule, resolved_protocol
from diamlib.experiment.setup import load_profile
from diamlib.strategies.registry import get_strategy


def test_paper_mnist_text_names_the_authors_training_protocol(capsys):
    assert main(["validate", "--profile", "paper-mnist"]) == 0
    text = capsys.readouterr().out
    for phrase in ("cosine schedule", "Nesterov", "label smoothing 0.1", "batch size 120", "20 epochs",
                   "snapshot epochs 10..20 (11 hypotheses per model)", "from scratch",
                   "weight decay 3e-05 (not on BatchNorm/bias)", "augmentation authors",
                   "3000 initial, 1500 per round x 10 rounds -> 18000 at the last round (6x)",
                   "target models: 12 (zoo paper12)", "diam: beta=-0.1, knn_fraction=0.01"):
        assert phrase in text, phrase
    assert "no Nesterov" not in text and "constant learning rate" not in text


def test_json_flag_prints_the_same_protocol_as_json(capsys):
    assert main(["validate", "--profile", "smoke", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(resolved_protocol(load_profile("smoke"))))


@pytest.mark.parametrize("name", available_profiles())
def test_every_shipped_profile_resolves_and_formats(name):
    profile = load_profile(name)
    protocol = resolved_protocol(profile)
    json.dumps(protocol)  # JSON-ready
    text = format_protocol(protocol)
    for task in ("classification", "regression"):
        section = getattr(profile, task)
        if section is None:
            assert task not in protocol
            continue
        resolved = protocol[task]
        assert resolved["zoo"]["n_models"] == len(resolved["zoo"]["members"]) >= 1
        assert all(m["params"] > 0 for m in resolved["zoo"]["members"])
        epochs = resolved["training"]["snapshot_epochs"]
        assert epochs == {"first": max(1, section.training.epochs // 2), "last": section.training.epochs,
                          "count": section.training.epochs - max(1, section.training.epochs // 2) + 1}
        for method, entry in zip(resolved["strategies"], section.strategies):
            model = get_strategy(entry.strategy).options_model
            assert set(method["options"]) == set(model.model_fields), "every option resolved, defaults included"
            assert method["method"] in text
        assert ("from scratch" in text) != section.pretrained


def test_defaults_left_out_of_a_profile_are_filled_in():
    smoke = resolved_protocol(load_profile("smoke"))["classification"]
    training = smoke["training"]
    assert training["nesterov"] is False and training["lr_schedule"] == "constant"
    assert training["label_smoothing"] == 0.0 and training["amp"] is False


def test_label_schedule_counts_the_labels_at_the_last_round():
    section = load_profile("paper-mnist").classification
    assert label_schedule(section) == {"initial_labels": 3000, "query_size": 1500, "rounds": 10,
                                       "labels_at_last_round": 18000, "growth_factor": 6.0}


def test_command_line_reports_an_invalid_profile_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("classification: {datasets: [digits], zoo: smoke3, initial_labels: 1}\n")
    result = subprocess.run([sys.executable, "-m", "diamlib", "validate", "--profile", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "invalid profile" in result.stderr and "Traceback" not in result.stderr
