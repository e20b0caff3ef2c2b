"""The named zoos: they build, run, differ in size and are reproducible."""
import pytest
import torch

from diamlib.zoo import ZOOS, build_zoo, zoo_kind, zoo_names, zoo_table
from diamlib.zoo.published import PAPER12_PUBLISHED

CPU_ZOOS = ["cpu6", "cpu4", "cpu12", "smoke3", "smoke2"]
EXPECTED_SIZES = {"cpu6": 6, "cpu4": 4, "cpu12": 12, "smoke3": 3, "smoke2": 2, "paper12": 12, "paper6": 6,
                  "sklearn6": 6, "sklearn-smoke": 3, "sklearn-reg": 4}
NETWORK_ZOOS = [name for name in zoo_names() if zoo_kind(name) == "torch"]


def test_registry_lists_every_zoo():
    assert zoo_names() == list(ZOOS)
    assert set(zoo_names()) == set(EXPECTED_SIZES)


@pytest.mark.parametrize("name", NETWORK_ZOOS)
def test_each_zoo_has_distinct_names_and_sizes(name):
    specs = build_zoo(name, n_outputs=10)
    assert len(specs) == EXPECTED_SIZES[name]
    assert len({s.name for s in specs}) == len(specs)
    params = [s.info["params"] for s in specs]
    assert len(set(params)) == len(params)
    assert all(s.info["n_outputs"] == 10 for s in specs)


@pytest.mark.parametrize("name", CPU_ZOOS)
def test_cpu_zoo_models_run_and_expose_penultimate_features(name):
    for spec in build_zoo(name, n_outputs=7):
        torch.manual_seed(0)
        model = spec.factory(7)
        x = torch.randn(3, 3, spec.resolution, spec.resolution)
        outputs, features = model.forward_with_features(x)
        assert outputs.shape == (3, 7)
        assert features.shape == (3, model.feature_dim) == (3, spec.info["feature_dim"])
        assert model.n_parameters == spec.info["params"]
        torch.testing.assert_close(model(x), outputs)


def test_features_are_the_input_of_the_final_linear_layer():
    spec = build_zoo("smoke2", n_outputs=4)[0]
    torch.manual_seed(0)
    model = spec.factory(4).eval()
    x = torch.randn(2, 3, 16, 16)
    net = model.backbone
    expected = net.feature_mix_layer(net.global_avg_pool(net.final_expand_layer(
        torch.nn.Sequential(*net.blocks)(net.first_conv(x))))).flatten(1)
    outputs, features = model.forward_with_features(x)
    torch.testing.assert_close(features, expected)
    torch.testing.assert_close(outputs, model.head(expected))


def test_cpu_zoos_are_paper_architectures_scaled_down():
    paper = {s.name: s for s in build_zoo("paper12", n_outputs=10)}
    assert [s.name for s in build_zoo("cpu12", n_outputs=10)] == list(paper)
    for spec in build_zoo("cpu6", n_outputs=10) + build_zoo("cpu12", n_outputs=10):
        assert spec.info["arch"] == paper[spec.name].info["arch"]
        assert spec.info["width_mult"] == 0.35 and spec.resolution == 28
        assert spec.info["params"] < paper[spec.name].info["params"] / 4
    assert [s.info["feature_dim"] for s in build_zoo("paper12", n_outputs=10)] == [1280] * 12


@pytest.mark.parametrize("name", ["cpu6", "cpu4"])
def test_cpu_zoos_span_about_a_twofold_range_of_sizes(name):
    table = zoo_table(build_zoo(name, n_outputs=10))
    assert table["params"].max() / table["params"].min() > 1.9
    assert table["macs"].max() / table["macs"].min() > 2.0


def test_paper12_keeps_published_ids_and_order():
    specs = build_zoo("paper12", n_outputs=1000)
    assert [s.name for s in specs] == [net.name for net in PAPER12_PUBLISHED]
    assert [s.name.split("_")[0] for s in specs] == ["note10"] * 4 + ["note8"] * 4 + ["s7edge"] * 4
    assert all(160 <= s.resolution <= 224 for s in specs)


def test_paper6_is_two_models_per_phone_spanning_the_twelve_sizes():
    paper = zoo_table(build_zoo("paper12", n_outputs=1000))
    six = build_zoo("paper6", n_outputs=1000)
    by_name = {s.name: s for s in build_zoo("paper12", n_outputs=1000)}
    assert [s.name.split("_")[0] for s in six] == ["note10"] * 2 + ["note8"] * 2 + ["s7edge"] * 2
    for spec in six:  # the paper's own models, not scaled
        assert spec.info == by_name[spec.name].info and spec.resolution == by_name[spec.name].resolution
    table = zoo_table(six)
    for size in ("params", "macs"):
        assert table[size].min() == paper[size].min() and table[size].max() == paper[size].max()


def test_width_and_resolution_overrides():
    default = build_zoo("cpu4", n_outputs=10)
    wider = build_zoo("cpu4", n_outputs=10, width_mult=0.5, resolution=24)
    assert all(s.resolution == 24 and s.info["width_mult"] == 0.5 for s in wider)
    assert all(w.info["params"] > d.info["params"] for w, d in zip(wider, default))
    torch.manual_seed(0)
    model = wider[0].factory(10)
    assert model(torch.randn(2, 3, 24, 24)).shape == (2, 10)


def test_same_seed_same_weights_other_seed_other_weights():
    spec = build_zoo("smoke3", n_outputs=5)[1]

    def weights(seed):
        torch.manual_seed(seed)
        return torch.cat([p.detach().flatten() for p in spec.factory(5).parameters()])

    assert torch.equal(weights(1), weights(1))
    assert not torch.equal(weights(1), weights(2))


def test_building_a_zoo_does_not_consume_torch_randomness():
    torch.manual_seed(5)
    build_zoo("cpu6", n_outputs=3, width_mult=0.3)  # a supernet width not built before
    after = torch.rand(1)
    torch.manual_seed(5)
    assert torch.equal(torch.rand(1), after)


def test_unknown_zoo_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown model zoo 'paper13'") as error:
        build_zoo("paper13", n_outputs=10)
    for name in zoo_names():
        assert name in str(error.value)


@pytest.mark.parametrize("options, message", [
    ({"n_outputs": 0}, "n_outputs"),
    ({"n_outputs": 10, "resolution": 0}, "resolution"),
    ({"n_outputs": 10, "width_mult": 5.0}, "width_mult"),
])
def test_bad_options_are_rejected(options, message):
    with pytest.raises(ValueError, match=message):
        build_zoo("smoke2", **options)


def test_zoo_table_columns():
    table = zoo_table(build_zoo("cpu4", n_outputs=10))
    assert list(table.columns) == ["name", "params", "macs", "resolution", "n_outputs", "feature_dim",
                                   "width_mult", "arch"]
    assert table["arch"].str.startswith("d").all() and (table["feature_dim"] == 448).all()


def test_cpu_zoos_use_a_faster_batch_norm_momentum_and_paper12_keeps_ofas():
    torch.manual_seed(0)
    cpu_model = build_zoo("smoke2", n_outputs=3)[0].factory(3)
    paper_spec = build_zoo("paper12", n_outputs=3)[0]
    momenta = {m.momentum for m in cpu_model.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert momenta == {0.3} and paper_spec.info["bn_momentum"] == 0.1
    assert cpu_model.backbone.first_conv.conv.weight.is_contiguous(memory_format=torch.channels_last)
