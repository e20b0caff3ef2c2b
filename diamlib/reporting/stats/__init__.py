"""Statistics over the tidy results table of :mod:`diamlib.reporting.results`.

Each function takes the tidy table (or the learning curves computed from it) and returns a
tidy :class:`pandas.DataFrame`. A *context* is one comparable set of curves: the columns
:data:`CONTEXT` (source, task, dataset, number of target models, metric).

Seeds. Where a run was repeated over several seeds, a curve point is the mean over seeds of
the per-seed means over target models, and its spread is the standard deviation over target
models of the seed-averaged per-model values. Per-model comparisons (win/tie/loss, best and
worst model) also use the seed-averaged per-model values. Beyond the paper, the win/tie/loss
test can also be applied to each seed on its own (:func:`compare_per_seed`) or over all (model,
seed) pairs (:func:`compare_pooled`, :func:`pooled_summary`), and :func:`seed_curves` gives the
spread of the learning curves over seeds.

Standard deviations are population standard deviations (``ddof=0``): the target models, and
the points of a learning curve, are the whole population described, not a sample. With this
convention the best/worst summaries of the authors' raw results reproduce the published
Table 3a to the printed digits for the six baselines.

Modules, one per kind of analysis: ``common`` (contexts, metrics, method order, row
selection), ``curves`` (learning curves, Fig. 1-4), ``wtl`` (win / tie / loss, Table 2),
``seeds`` (per seed and pooled over seeds; ours), ``seed_level`` (DIAM against a baseline with
the seed as the unit of replication, Holm adjustment, minimum detectable effect; ours, the
verdict's one path), ``regime`` (the gate: can a row test the claim; ours), ``best_worst`` (Table 3), ``beta``
(Sec. 6.4), ``model_counts`` (Fig. 2, 4) and ``efficiency`` (area under the curve, labels to
reach a target; ours). Everything public is importable from this package.
"""
from diamlib.reporting.stats.best_worst import best_worst
from diamlib.reporting.stats.beta import beta_sensitivity
from diamlib.reporting.stats.common import (CONTEXT, METRIC_DIRECTION, OUTCOMES, PRIMARY_METRIC, TESTS,
                                            default_reference, higher_is_better, order_methods, per_model_values,
                                            reference_methods, select)
from diamlib.reporting.stats.curves import curve_summary, learning_curves, seed_curves
from diamlib.reporting.stats.efficiency import area_under_curve, label_savings, labels_to_reach, normalised_area
from diamlib.reporting.stats.model_counts import first_models, largest_model_count, model_count_table
from diamlib.reporting.stats.regime import GATE_DEFINITION, GateResult, constant_gate, regime_gate
from diamlib.reporting.stats.seed_level import (PAPERS_TEST, TInterval, compare_over_seeds, effect_sentences,
                                                holm_adjust, minimum_detectable_effect, papers_test_per_seed,
                                                per_model_over_seeds, seed_effects, t_interval)
from diamlib.reporting.stats.seeds import (POOLED_UNIT, compare_per_seed, compare_pooled, pair_areas, pooled_pairs,
                                           pooled_summary, pooled_table, wtl_by_seed)
from diamlib.reporting.stats.wtl import (compare_all, compare_methods, format_wtl, paired_outcome, resolve_baselines,
                                         wtl_table, wtl_totals)

__all__ = [
    "CONTEXT", "METRIC_DIRECTION", "PRIMARY_METRIC", "TESTS", "OUTCOMES", "higher_is_better", "order_methods",
    "reference_methods", "default_reference", "select", "per_model_values", "learning_curves", "seed_curves",
    "curve_summary", "paired_outcome", "resolve_baselines", "compare_methods", "compare_all", "wtl_totals",
    "format_wtl", "wtl_table", "POOLED_UNIT", "compare_per_seed", "wtl_by_seed", "pooled_pairs", "compare_pooled",
    "pair_areas", "pooled_summary", "pooled_table", "best_worst", "beta_sensitivity", "largest_model_count",
    "first_models", "model_count_table", "area_under_curve", "normalised_area", "labels_to_reach", "label_savings",
    "TInterval", "t_interval", "seed_effects", "compare_over_seeds", "effect_sentences", "papers_test_per_seed",
    "per_model_over_seeds", "holm_adjust", "minimum_detectable_effect", "PAPERS_TEST", "GATE_DEFINITION", "GateResult", "regime_gate",
    "constant_gate",
]
