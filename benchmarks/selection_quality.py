"""How good are DIAM's batches? Every solver judged on the binary objective of Eq. (9).

For each instance and each ``beta`` in {-0.1, -1, -10} (the paper's convention), run every
solver of the ``diam`` strategy and print one JSON line per (instance, beta, solver):

``instance``   name of the instance (synthetic parameters, or ``real-<profile>-<dataset>-seed<s>``)
``n, n_models, tau, k``  pool size, target models, batch size, neighbours (1 % of the pool)
``beta``       the paper's beta
``solver``     ``greedy-swap`` (default), ``authors`` (the authors' recipe), ``fista`` and
               ``cvxpy`` (the shifted convex relaxation, rounded to its top tau; cvxpy only
               for ``n <= 4000``)
``objective``  Eq. (9) of the binary batch, ``sum_i b'S^i b + beta b'v``, with ``S^i`` the
               kNN adjacency of Eq. (10) on the whole pool (self excluded): lower is better
``mean_v``     mean informativeness ``v`` of the batch
``overlap``    fraction of the batch shared with each other solver's batch
``seconds``    wall time of the solver (graphs included: the authors' recipe builds its own)

Synthetic instances: ``n`` pool points in 20 clusters, each model sees them through its own
random projection of an 8-dimensional latent position to 32 dimensions plus its own noise;
``v`` counts the models that disagree, drawn per point as Binomial(n_models, p_c) with a
cluster-dependent ``p_c`` around 0.05 (low), 0.3 (medium) or 0.8 (saturated disagreement).
``tau`` = 100. Real instances: the shared round-0 evidence (features and soft-version-space
votes of the trained target models) of a profile's classification task, trained once and
cached in the git-ignored run folder of that profile (the loop reuses it).

Usage::

    python benchmarks/selection_quality.py [--sizes 1000 4000 15000] [--models 6 12]
        [--real default smoke] [--no-synthetic] [--output quality.jsonl]

References
----------
Eq. 9-10 and Algorithm 2 of the paper; ``DIAM_qp`` in the authors' ``al_select.py``.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

import numpy as np

from diamlib import numerics

numerics.initialise()  # this process's CPU kernels, chosen before anything loads PyTorch (diamlib.numerics)

from diamlib.evidence import Evidence, ModelEvidence  # noqa: E402
from diamlib.numerics import folder_setting
from diamlib.seeding import child_rng
from diamlib.selection.knn import knn_adjacency, neighbour_count
from diamlib.selection.objective import diam_objective
from diamlib.strategies.disagreement import disagreement_votes, select_diam

BETAS = (-0.1, -1.0, -10.0)
SOLVERS = ("greedy-swap", "authors", "fista", "cvxpy")
CVXPY_LIMIT = 4000
TAU = 100
N_CLUSTERS = 20
LATENT_DIM = 8
FEATURE_DIM = 32
DISAGREEMENT = {"low": 0.05, "medium": 0.3, "saturated": 0.8}


def synthetic_evidence(n: int, n_models: int, disagreement: str, seed: int = 0) -> Evidence:
    """Clustered pool seen by ``n_models`` models, with snapshot predictions that yield the drawn votes."""
    rng = child_rng(seed, "quality-shared", n, n_models)
    clusters = rng.integers(0, N_CLUSTERS, size=n)
    latent = rng.normal(scale=4.0, size=(N_CLUSTERS, LATENT_DIM))[clusters] + rng.normal(size=(n, LATENT_DIM))
    level = DISAGREEMENT[disagreement]
    chance = np.clip(level * rng.uniform(0.3, 1.7, size=N_CLUSTERS), 0.0, 1.0)[clusters]
    votes = rng.binomial(n_models, chance)
    models = []
    for model in range(n_models):
        model_rng = child_rng(seed, "quality-model", n, n_models, model)
        projection = model_rng.normal(size=(LATENT_DIM, FEATURE_DIM)) / np.sqrt(LATENT_DIM)
        features = (latent @ projection + 0.3 * model_rng.normal(size=(n, FEATURE_DIM))).astype(np.float32)
        snapshots = np.zeros((2, n), dtype=np.int32)
        snapshots[1, votes > model] = 1  # exactly votes[m] models disagree on point m
        models.append(ModelEvidence(name=f"m{model}", pool_features=features, labeled_features=features[:2],
                                    snapshot_predictions=snapshots))
    return Evidence("classification", np.arange(n, dtype=np.int64), tuple(models))


def real_evidence(profile_name: str) -> list[tuple[str, Evidence, int]]:
    """Round-0 evidence of every (dataset, seed) of a profile's classification task (trained once, cached)."""
    from diamlib.experiment.loop import TaskContext, shared_round_zero
    from diamlib.experiment.setup import configure_torch, load_profile, load_task_data, resolve_zoo
    from diamlib.paths import profile_results_dir

    profile = load_profile(profile_name)
    configure_torch(profile)
    section = profile.experiment("classification")
    found = []
    for dataset in section.datasets:
        train, test = load_task_data(section, "classification", dataset)
        ctx = TaskContext(profile=profile, task="classification", dataset=dataset, section=section, train=train,
                          test=test, specs=resolve_zoo(section, train.n_outputs),
                          profile_dir=profile_results_dir(profile.name))
        for seed in profile.seeds:
            _, evidence, _, _ = shared_round_zero(ctx, seed)
            found.append((f"real-{profile.name}-{dataset}-seed{seed}", evidence, section.query_size))
    return found


def measure(name: str, evidence: Evidence, tau: int, beta: float) -> list[dict]:
    """Every solver on one instance; the objective is always evaluated on the full-pool graphs."""
    n = evidence.n_pool
    k = neighbour_count(n, 0.01)
    graphs = [knn_adjacency(np.asarray(m.pool_features), k) for m in evidence.models]
    votes = disagreement_votes(evidence).astype(np.float64)
    rows, batches = [], {}
    for solver in SOLVERS:
        if solver == "cvxpy" and n > CVXPY_LIMIT:
            continue
        start = time.perf_counter()
        selection = select_diam(evidence, budget=tau, rng=np.random.default_rng(0), beta=beta, solver=solver)
        seconds = time.perf_counter() - start
        positions = np.searchsorted(evidence.unlabeled_indices, selection.indices)
        b = np.zeros(n)
        b[positions] = 1.0
        batches[solver] = set(positions.tolist())
        rows.append({"instance": name, "n": n, "n_models": len(evidence.models), "tau": tau, "k": k, "beta": beta,
                     "solver": solver, "objective": round(diam_objective(b, graphs, votes, beta), 6),
                     "mean_v": round(float(votes[positions].mean()), 4), "seconds": round(seconds, 3),
                     "numerics": folder_setting()})
    for row in rows:
        own = batches[row["solver"]]
        row["overlap"] = {other: round(len(own & batch) / tau, 4) for other, batch in batches.items()
                          if other != row["solver"]}
    return rows


def markdown_table(rows: list[dict]) -> str:
    """Objective per instance, beta and solver (and seconds), as a Markdown table."""
    solvers = [s for s in SOLVERS if any(r["solver"] == s for r in rows)]
    lines = ["| instance | beta | " + " | ".join(solvers) + " | seconds (" + ", ".join(solvers) + ") |",
             "|---|---|" + "---|" * (len(solvers) + 1)]
    keys = sorted({(r["instance"], r["beta"]) for r in rows}, key=lambda key: (key[0], -key[1]))
    for instance, beta in keys:
        cells = {r["solver"]: r for r in rows if r["instance"] == instance and r["beta"] == beta}
        objective = [f"{cells[s]['objective']:.1f}" if s in cells else "" for s in solvers]
        seconds = [f"{cells[s]['seconds']:.1f}" if s in cells else "-" for s in solvers]
        lines.append(f"| {instance} | {beta} | " + " | ".join(objective) + " | " + ", ".join(seconds) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 15000])
    parser.add_argument("--models", type=int, nargs="+", default=[6, 12])
    parser.add_argument("--disagreement", nargs="+", default=list(DISAGREEMENT), choices=list(DISAGREEMENT))
    parser.add_argument("--real", nargs="*", default=["default", "smoke"],
                        help="profiles whose round-0 evidence to use")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--output", default=None, help="also append the JSON lines to this file")
    args = parser.parse_args(argv)

    instances = []
    if not args.no_synthetic:
        for n, n_models, level in itertools.product(args.sizes, args.models, args.disagreement):
            instances.append((f"synthetic-n{n}-m{n_models}-{level}", lambda n=n, m=n_models, lv=level:
                              synthetic_evidence(n, m, lv), TAU))
    for profile_name in args.real:
        for name, evidence, tau in real_evidence(profile_name):
            instances.append((name, lambda e=evidence: e, tau))
    rows = []
    for name, build, tau in instances:
        evidence = build()
        for beta in BETAS:
            for row in measure(name, evidence, tau, beta):
                line = json.dumps(row)
                print(line, flush=True)
                if args.output:
                    with open(args.output, "a") as handle:
                        handle.write(line + "\n")
                rows.append(row)
    print(markdown_table(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
