"""Exact checks of the paper's theory (Sec. 3-5) on finite toy hypothesis classes.

Hypotheses are rows of a boolean prediction matrix (n_hypotheses, n_points) over a finite
support with known weights, so ``d(h, g)``, ``DIS(V)``, ``theta_h(r0)`` and ``err(h)`` are
exact sums.

Modules
-------
distribution   finite ``D_X`` (discretised uniform on [0, 1], uniform points in a square)
hypotheses     thresholds, intervals, decision stumps, linear separators, unions
disagreement   ``d(h, g)``, ``DIS(V)``, ``theta_h(r0)`` (Definitions 3-4)
closed_forms   textbook ``theta`` of thresholds and intervals
coefficients   numerical-versus-closed-form checks, pseudometric check, theta tables
problem        ``h*``, label noise and exact errors
settings       the toy settings of notebook 01
projection     Theorem 1's projection ``argmin_{h in C_i} d(h, h_A)`` and its bound
stream, bounds, learners   CAL, RobustCAL / DIAM-online (Algorithm 1), passive ERM
query_bounds   Theorem 2's query bound Lambda_2 evaluated with its constant set to 1
experiments    label complexity versus epsilon (Corollary 2, Theorems 2-3)
regression     Problem 1 (Eq. 12) and Problem 2 (leverage scores) of Sec. 5.3
plots          figures of notebook 01
"""
from diamlib.theory.closed_forms import (
    interval_disagreement_coefficient,
    threshold_disagreement_coefficient,
)
from diamlib.theory.coefficients import (
    assert_closed_forms,
    check_closed_forms,
    check_pseudometric,
    coefficient_curve,
    coefficient_table,
)
from diamlib.theory.disagreement import (
    assert_pseudometric,
    disagreement_coefficient,
    disagreement_mass,
    disagreement_matrix,
    disagreement_region,
)
from diamlib.theory.distribution import FiniteDistribution, uniform_grid, uniform_square
from diamlib.theory.experiments import (
    SETTINGS,
    ComparisonResult,
    assert_fewer_labels,
    assert_labels_grow_slower_than_theorem2,
    assert_reaches_every_epsilon,
    compare_agnostic,
    compare_realizable,
    compare_with_theorem2,
    make_setting,
    summarise_labels,
    theorem2_bounds,
    theorem3_conditions,
)
from diamlib.theory.hypotheses import (
    HypothesisClass,
    decision_stumps,
    intervals,
    linear_separators,
    shatters,
    thresholds,
    union_class,
    vc_dimension_bound,
)
from diamlib.theory.learners import (
    Trajectory,
    labels_needed,
    run_cal,
    run_passive_erm,
    run_soft_version_space,
)
from diamlib.theory.problem import LearningProblem
from diamlib.theory.projection import assert_projection_bound, check_projection_bound, projections
from diamlib.theory.query_bounds import (
    paper_log,
    theorem2_lambda2,
    theorem2_lambda2_terms,
    theorem2_terms_table,
)
from diamlib.theory.regression import (
    assert_problem1,
    assert_problem2,
    check_problem1,
    check_problem2,
    max_disagreement_cvxpy,
    max_disagreement_diam_svd,
)
from diamlib.theory.settings import ToySetting

__all__ = [
    "ComparisonResult",
    "FiniteDistribution",
    "HypothesisClass",
    "LearningProblem",
    "SETTINGS",
    "ToySetting",
    "Trajectory",
    "assert_closed_forms",
    "assert_fewer_labels",
    "assert_labels_grow_slower_than_theorem2",
    "assert_problem1",
    "assert_problem2",
    "assert_projection_bound",
    "assert_pseudometric",
    "assert_reaches_every_epsilon",
    "check_closed_forms",
    "check_problem1",
    "check_problem2",
    "check_projection_bound",
    "check_pseudometric",
    "coefficient_curve",
    "coefficient_table",
    "compare_agnostic",
    "compare_realizable",
    "compare_with_theorem2",
    "decision_stumps",
    "disagreement_coefficient",
    "disagreement_mass",
    "disagreement_matrix",
    "disagreement_region",
    "interval_disagreement_coefficient",
    "intervals",
    "labels_needed",
    "linear_separators",
    "make_setting",
    "max_disagreement_cvxpy",
    "max_disagreement_diam_svd",
    "paper_log",
    "projections",
    "run_cal",
    "run_passive_erm",
    "run_soft_version_space",
    "shatters",
    "summarise_labels",
    "theorem2_bounds",
    "theorem2_lambda2",
    "theorem2_lambda2_terms",
    "theorem2_terms_table",
    "theorem3_conditions",
    "threshold_disagreement_coefficient",
    "thresholds",
    "uniform_grid",
    "uniform_square",
    "union_class",
    "vc_dimension_bound",
]
