"""The reconstructed 12 target models match the published parameters and MACs (Sec. 6.1)."""
import pytest
import torch

from diamlib.zoo import build_zoo, count_macs, paper12_match_table
from diamlib.zoo.published import PAPER12_PUBLISHED

TOLERANCE = 0.10


@pytest.fixture(scope="module")
def built_sizes():
    """Parameters and MACs of the 12 models, built with 1,000 outputs and counted by hooks."""
    sizes = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        for spec in build_zoo("paper12", n_outputs=1000):
            model = spec.factory(1000)
            sizes[spec.name] = (model.n_parameters, count_macs(model, (3, spec.resolution, spec.resolution)))
    return sizes


@pytest.mark.parametrize("published", PAPER12_PUBLISHED, ids=lambda net: net.name.split("_top1")[0])
def test_built_model_is_within_ten_percent_of_the_published_figures(built_sizes, published):
    params, macs = built_sizes[published.name]
    assert abs(params / published.params - 1) <= TOLERANCE
    assert abs(macs / published.macs - 1) <= TOLERANCE


def test_match_table_agrees_with_the_built_models(built_sizes):
    table = paper12_match_table()
    assert table["name"].tolist() == [net.name for net in PAPER12_PUBLISHED]
    assert table["within_tolerance"].all()
    for row in table.itertuples():
        assert (row.params, row.macs) == built_sizes[row.name]
        assert row.params_rel_error == pytest.approx(row.params / row.published_params - 1)


def test_spec_info_records_published_and_reconstructed_sizes():
    spec = build_zoo("paper12", n_outputs=1000)[0]
    assert spec.info["published_params"] == 5_900_000 and spec.info["published_macs"] == 237_000_000
    assert spec.info["published_top1"] == 76.6
    assert abs(spec.info["params"] / spec.info["published_params"] - 1) <= TOLERANCE
