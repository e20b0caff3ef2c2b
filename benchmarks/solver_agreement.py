"""Does DIAM's scalable solver select what the cvxpy reference selects on real evidence?

For every shared round-0 evidence of a profile's classification runs (real features,
predictions and soft-version-space votes of the target models), run the ``diam`` strategy
with ``solver="fista"`` (the default) and with ``solver="cvxpy"`` (the small-n reference) and
print one JSON line each: pool size, the objective of Eq. (9) of both binary selections, and
how many of the ``query_size`` chosen indices agree.

    python benchmarks/solver_agreement.py --profile smoke [--results-root results]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from diamlib.config import load_profile
from diamlib.loop import load_shared_evidence
from diamlib.paths import profile_results_dir
from diamlib.selection.knn import knn_adjacency, neighbour_count, symmetrize
from diamlib.selection.qp import diam_objective
from diamlib.strategies.disagreement import disagreement_votes
from diamlib.strategies.registry import make_selector


def binary_objective(evidence, chosen: np.ndarray, beta: float, knn_fraction: float) -> float:
    """Eq. (9) at the binary selection ``chosen`` (training-set indices)."""
    k = neighbour_count(evidence.n_pool, knn_fraction)
    similarities = [symmetrize(knn_adjacency(m.pool_features, k)) for m in evidence.models]
    b = np.isin(evidence.unlabeled_indices, chosen).astype(float)
    return float(diam_objective(b, similarities, disagreement_votes(evidence).astype(float), beta))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--results-root", default=None)
    args = parser.parse_args()
    cfg = load_profile(args.profile)
    section = cfg.experiment("classification")
    entry = next(e for e in section.strategies if e.strategy == "diam")
    options = section.options_for(entry)
    profile_dir = profile_results_dir(cfg.name, args.results_root)
    for dataset in section.datasets:
        for seed in cfg.seeds:
            evidence = load_shared_evidence(profile_dir, "classification", dataset, seed)
            picks, seconds = {}, {}
            for solver in ("fista", "cvxpy"):
                select = make_selector("diam", "classification", {**options, "solver": solver})
                start = time.perf_counter()
                picks[solver] = select(evidence, budget=section.query_size, rng=np.random.default_rng(seed)).indices
                seconds[solver] = round(time.perf_counter() - start, 3)
            beta, fraction = options.get("beta", -1.0), options.get("knn_fraction", 0.01)
            print(json.dumps({
                "profile": cfg.name, "dataset": dataset, "seed": seed, "n_pool": evidence.n_pool,
                "tau": section.query_size, "same_indices": int(np.isin(picks["fista"], picks["cvxpy"]).sum()),
                "objective_fista": binary_objective(evidence, picks["fista"], beta, fraction),
                "objective_cvxpy": binary_objective(evidence, picks["cvxpy"], beta, fraction),
                "seconds": seconds,
            }))


if __name__ == "__main__":
    main()
