"""CAL, soft version spaces (RobustCAL / DIAM-online), passive ERM and labels_needed."""
import numpy as np
import pytest

from diamlib.seeding import child_rng
from diamlib.theory.bounds import robust_sigma
from diamlib.theory.distribution import uniform_grid
from diamlib.theory.hypotheses import thresholds
from diamlib.theory.learners import (
    Trajectory,
    geometric_checkpoints,
    labels_needed,
    run_cal,
    run_passive_erm,
    run_soft_version_space,
)
from diamlib.theory.problem import LearningProblem
from diamlib.theory.stream import draw_stream


def _threshold_problem(noise):
    distribution = uniform_grid(200)
    cls = thresholds(distribution, np.linspace(0, 1, 101))
    target = cls.predictions[cls.find(a=0.37)]
    return distribution, cls, LearningProblem(distribution, target, noise)


def test_errors_follow_the_noise_formula():
    distribution, cls, problem = _threshold_problem(0.1)
    errors = problem.errors(cls.predictions)
    assert errors[cls.find(a=0.37)] == pytest.approx(0.1)
    assert errors[cls.find(a=0.47)] == pytest.approx(0.1 + 0.8 * 0.1)
    with pytest.raises(ValueError, match="noise"):
        LearningProblem(distribution, problem.target, 0.5)


def test_stream_is_deterministic_and_noisy_at_the_right_rate():
    _, _, problem = _threshold_problem(0.2)
    a = draw_stream(problem, 20000, child_rng(3, "test"))
    b = draw_stream(problem, 20000, child_rng(3, "test"))
    np.testing.assert_array_equal(a.indices, b.indices)
    flipped = np.mean(a.labels != problem.target[a.indices])
    assert flipped == pytest.approx(0.2, abs=0.01)


def test_cal_binary_searches_a_threshold():
    _, cls, problem = _threshold_problem(0.0)
    excess = problem.excess_errors(cls.predictions)
    stream = draw_stream(problem, 2**14, child_rng(0, "test"))
    trajectory = run_cal(cls.predictions, excess, stream)
    assert trajectory.erm_excess[-1, 0] == 0.0
    # 101 hypotheses: CAL needs about log2(100) labels, passive about 100.
    assert trajectory.labels[-1] <= 15
    assert np.all(np.diff(trajectory.erm_excess[:, 0]) <= 0)


def test_cal_can_discard_the_best_hypothesis_under_noise():
    _, cls, problem = _threshold_problem(0.3)
    excess = problem.excess_errors(cls.predictions)
    finals = []
    for seed in range(5):
        stream = draw_stream(problem, 2**12, child_rng(seed, "test"))
        trajectory = run_cal(cls.predictions, excess, stream)
        # CAL only queries where V disagrees, so V never empties ...
        assert trajectory.erm_excess.shape[0] == trajectory.labels[-1] + 1
        finals.append(trajectory.erm_excess[-1, 0])
    # ... but a flipped label can make it keep a wrong threshold for good.
    assert max(finals) > 0.05


def test_soft_version_space_keeps_the_best_hypothesis_under_noise():
    _, cls, problem = _threshold_problem(0.1)
    excess = problem.excess_errors(cls.predictions)
    stream = draw_stream(problem, 2**14, child_rng(1, "test"))
    trajectory = run_soft_version_space([cls.predictions], [excess], stream, problem.distribution.weights)
    frame = trajectory.to_frame()
    updates = frame[~frame["sigma[C1]"].isna()]
    # Survivors have excess error at most 2 sigma (Bernstein bound), and the set shrinks.
    assert np.all(updates["version_space_excess[C1]"] <= 2 * updates["sigma[C1]"] + 1e-12)
    assert updates["disagreement_mass[C1]"].iloc[-1] < 0.2
    assert trajectory.labels[-1] < stream.length / 2
    assert trajectory.erm_excess[-1, 0] <= 0.02


def test_diam_online_with_identical_classes_equals_robustcal():
    _, cls, problem = _threshold_problem(0.1)
    excess = problem.excess_errors(cls.predictions)
    stream = draw_stream(problem, 2**12, child_rng(2, "test"))
    weights = problem.distribution.weights
    single = run_soft_version_space([cls.predictions], [excess], stream, weights)
    double = run_soft_version_space([cls.predictions] * 2, [excess] * 2, stream, weights, min_votes=2)
    np.testing.assert_array_equal(single.labels, double.labels)
    np.testing.assert_allclose(double.shared_info["union_mass"], double.shared_info["intersection_mass"])
    with pytest.raises(ValueError, match="min_votes"):
        run_soft_version_space([cls.predictions], [excess], stream, weights, min_votes=2)


def test_passive_erm_labels_everything():
    _, cls, problem = _threshold_problem(0.0)
    excess = problem.excess_errors(cls.predictions)
    stream = draw_stream(problem, 1000, child_rng(0, "test"))
    trajectory = run_passive_erm([cls.predictions], [excess], stream)
    np.testing.assert_array_equal(trajectory.labels, trajectory.stream_positions)
    assert trajectory.erm_excess[-1, 0] <= 0.01
    with pytest.raises(ValueError, match="checkpoints"):
        run_passive_erm([cls.predictions], [excess], stream, checkpoints=np.array([5, 3]))


def test_labels_needed_requires_staying_good():
    worst = np.array([0.5, 0.05, 0.2, 0.04, 0.01])[:, None]
    trajectory = Trajectory(np.arange(5), np.array([0, 10, 20, 30, 40]), worst, worst, ("C1",))
    np.testing.assert_array_equal(labels_needed(trajectory, [0.6, 0.1, 0.02]), [0, 30, 40])
    assert np.isnan(labels_needed(trajectory, [0.001])[0])
    with pytest.raises(ValueError, match="output rule"):
        labels_needed(trajectory, [0.1], output="best")


def test_geometric_checkpoints():
    points = geometric_checkpoints(16, per_doubling=2)
    np.testing.assert_array_equal(points, [1, 2, 3, 4, 6, 8, 11, 16])


def test_robust_sigma_shape():
    base = robust_sigma(1000, 0.5, 100, 3, 0.05)
    assert robust_sigma(4000, 0.5, 100, 3, 0.05) < base
    assert robust_sigma(1000, 0.1, 100, 3, 0.05) < base
    assert robust_sigma(1000, 0.5, 1000, 3, 0.05) > base
    log_term = np.log(100**2 * 4 * 5 / 0.05)
    assert base == pytest.approx(np.sqrt(2 * 0.5 * log_term / 1000) + 4 * log_term / 3000)
    with pytest.raises(ValueError, match="delta"):
        robust_sigma(10, 0.5, 10, 0, 1.5)
