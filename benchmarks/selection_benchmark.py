"""Benchmark of the scalable selection solvers against dense references.

Measures DIAM's selection (kNN graphs of Eq. 10 for every target model, then the
default solver: greedy construction and improving swaps on the binary Eq. 9) and Coreset's k-center greedy
at the paper's scale: 12 target models, 1,280-dimensional penultimate features,
neighbours = 1 % of the pool, ``tau`` = 1,500, ``beta`` = -1, pools of 4,000 / 15,000 /
57,000 points (57,000 = CIFAR-10's 60,000 training images minus the 3,000 initially
labeled ones).

Usage::

    python benchmarks/selection_benchmark.py [--sizes 4000 15000 57000] [--quick]
        [--threads 2] [--approx-dim 128] [--graphs symmetrized|raw]
        [--only coreset-dense coreset diam-approx diam-exact diam-dense] [--output results.jsonl]

Every measurement runs in a fresh process (``multiprocessing`` with ``spawn``) so that
its peak resident memory (``ru_maxrss`` of that process, which includes the Python
interpreter, the imported libraries and the generated input features) is its own. One
JSON line is printed per measurement with the fields

``method``        ``"diam"`` or ``"coreset"``
``impl``          ``"ours"`` (diamlib.selection) or ``"dense-reference"``
``knn``           ``"exact"`` / ``"approx"`` (PCA to ``--approx-dim``) / ``"dense"``; null for coreset
``n, k, d, tau``  pool size, neighbours per point, feature dimension, batch size
``seconds``       wall time of the selection itself (input generation excluded)
``peak_rss_mb``   peak resident memory of the measuring process, in MiB
``objective``     DIAM: the exact Eq. 9 value ``sum_i b'S^i b + beta b'v`` of the final
                  binary selection under the graphs the method used; coreset: the
                  covering radius after selection
``graphs``        DIAM (ours): ``"summed"`` (one matrix ``sum_i symmetrize(knn_adjacency(...))``,
                  what the diam strategy passes to greedy-swap), ``"symmetrized"`` (one per
                  model, as in Algorithm 2) or ``"raw"`` (the symmetric part applied implicitly)
``recall``        approx kNN only: mean fraction of the exact neighbours recovered, over
                  200 sampled rows of every model
``objective_exact_graph``  approx kNN with ``n <= 15000`` only: Eq. 9 of its selection
                  under the exact graphs (computed after the timed part)

plus timings of the parts, solver statistics and ``input_mb`` (resident memory after
generating the inputs, before the timed part).

Synthetic data: every pool point has one of 10 classes; model ``i`` sees it through
its own class centres and a mix of shared and model-specific 32-dimensional
within-class variation, mapped to 1,280 dimensions by a model-specific random
projection plus small isotropic noise (so the neighbour graphs of the models differ
but overlap). Votes ``v`` are integers 0..12. All draws come from
``diamlib.seeding.child_rng``.

References
----------
Eq. 9-10, Algorithm 2 and Sec. 5.2 of the paper; Coreset baseline of Sec. 6.1; pool
sizes and ``tau`` from Sec. 6.1.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context

import numpy as np

from diamlib import numerics

numerics.initialise()  # this process's CPU kernels, chosen before anything loads PyTorch (diamlib.numerics)

N_MODELS = 12
DIM = 1280
N_CLASSES = 10
LATENT_DIM = 32
KNN_FRACTION = 0.01
TAU = 1500
BETA = -1.0
N_LABELED = 3000
DENSE_LIMIT = 5000          # dense references only up to this pool size
EXACT_OBJECTIVE_LIMIT = 15000  # exact-graph objective of approximate runs up to this size
RECALL_ROWS = 200


@dataclass(frozen=True)
class Spec:
    """One measurement."""

    method: str
    impl: str
    n: int
    knn: str | None
    tau: int
    seed: int
    threads: int
    approx_dim: int
    graphs: str = "symmetrized"
    n_models: int = N_MODELS
    dim: int = DIM
    n_labeled: int = N_LABELED


# --------------------------------------------------------------------------- data
def synthetic_features(n: int, model: int, *, seed: int, dim: int = DIM) -> np.ndarray:
    """Penultimate-layer-like float32 features of ``n`` pool points under one model.

    Parameters
    ----------
    n : int
    model : int
        Model number; the class structure and the shared variation depend only on
        ``(seed, n)``, the projection and the model-specific variation on ``model``.
    seed : int
    dim : int

    Returns
    -------
    ndarray of float32, shape (n, dim)
    """
    from diamlib.seeding import child_rng

    shared_rng = child_rng(seed, "benchmark-shared", n)
    labels = shared_rng.integers(0, N_CLASSES, size=n)
    shared = shared_rng.standard_normal((n, LATENT_DIM), dtype=np.float32)
    rng = child_rng(seed, "benchmark-model", n, model)
    centres = rng.normal(scale=3.0, size=(N_CLASSES, LATENT_DIM)).astype(np.float32)
    latent = centres[labels] + 0.6 * shared + 0.8 * rng.standard_normal((n, LATENT_DIM), dtype=np.float32)
    projection = rng.standard_normal((LATENT_DIM, dim), dtype=np.float32) / np.float32(np.sqrt(LATENT_DIM))
    features = latent @ projection
    features += np.float32(0.1) * rng.standard_normal((n, dim), dtype=np.float32)
    return features


def synthetic_votes(n: int, *, seed: int, n_models: int = N_MODELS) -> np.ndarray:
    """Informativeness votes ``v`` in ``0..n_models``, shape (n,), float64."""
    from diamlib.seeding import child_rng

    return child_rng(seed, "benchmark-votes", n).integers(0, n_models + 1, size=n).astype(np.float64)


# --------------------------------------------------------------------------- memory
def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def binary_indicator(n: int, positions: np.ndarray) -> np.ndarray:
    b = np.zeros(n)
    b[positions] = 1.0
    return b


# --------------------------------------------------------------------------- DIAM
def run_diam_ours(spec: Spec) -> dict:
    """kNN graphs (exact or PCA-approximate) -> greedy construction and swaps on the binary Eq. 9."""
    from diamlib.seeding import child_rng
    from diamlib.selection.greedy_swap import greedy_swap_selection
    from diamlib.selection.knn import knn_adjacency, knn_recall, neighbour_count, sum_symmetrized, symmetrize
    from diamlib.selection.objective import diam_objective

    n = spec.n
    features = [synthetic_features(n, model, seed=spec.seed, dim=spec.dim) for model in range(spec.n_models)]
    votes = synthetic_votes(n, seed=spec.seed, n_models=spec.n_models)
    k = neighbour_count(n, KNN_FRACTION)
    approx_dim = spec.approx_dim if spec.knn == "approx" else None
    input_mb = current_rss_mb()

    recalls = []
    recall_rows = child_rng(spec.seed, "benchmark-recall", n).choice(n, size=min(RECALL_ROWS, n), replace=False)

    def adjacencies():
        for model_features in features:
            adjacency = knn_adjacency(model_features, k, approx_dim=approx_dim)
            if approx_dim is not None:  # quality check (its seconds are subtracted below)
                check = time.perf_counter()
                recalls.append(knn_recall(model_features, adjacency, recall_rows))
                recall_seconds.append(time.perf_counter() - check)
            yield adjacency

    recall_seconds: list[float] = []
    start = time.perf_counter()
    # "summed": one matrix sum_i sym(S^i), built as the diam strategy builds it for greedy-swap;
    # "raw": the solver applies the symmetric part (Algorithm 2, line 6) implicitly
    if spec.graphs == "summed":
        similarities = [sum_symmetrized(adjacencies(), n)]
    else:
        similarities = [a if spec.graphs == "raw" else symmetrize(a) for a in adjacencies()]
    knn_seconds = time.perf_counter() - start - sum(recall_seconds)
    start = time.perf_counter()
    solution = greedy_swap_selection(similarities, votes, tau=spec.tau, beta=BETA)
    positions = solution.positions
    solve_seconds = time.perf_counter() - start
    peak = peak_rss_mb()

    b = binary_indicator(n, positions)
    record = {
        "seconds": knn_seconds + solve_seconds,
        "peak_rss_mb": peak,
        "objective": diam_objective(b, similarities, votes, BETA),
        "k": k,
        "knn_seconds": knn_seconds,
        "solve_seconds": solve_seconds,
        "solver": "greedy-swap",
        "greedy_objective": solution.greedy_objective,
        "swaps": solution.swaps,
        "swap_passes": solution.passes,
        "converged": solution.converged,
        "graph_nnz": int(sum(matrix.nnz for matrix in similarities)),
        "input_mb": input_mb,
    }
    if approx_dim is not None:
        record["recall"] = float(np.mean(recalls))
        if n <= EXACT_OBJECTIVE_LIMIT:
            del similarities
            exact = [symmetrize(knn_adjacency(model_features, k)) for model_features in features]
            record["objective_exact_graph"] = diam_objective(b, exact, votes, BETA)
    return record


def run_diam_dense(spec: Spec) -> dict:
    """Dense distances, dense kNN, dense S, eigvalsh repair, OSQP on the dense matrix."""
    import osqp
    import scipy.sparse as sp

    from diamlib.selection.knn import neighbour_count

    n = spec.n
    features = [synthetic_features(n, model, seed=spec.seed, dim=spec.dim) for model in range(spec.n_models)]
    votes = synthetic_votes(n, seed=spec.seed, n_models=spec.n_models)
    k = neighbour_count(n, KNN_FRACTION)
    input_mb = current_rss_mb()

    start = time.perf_counter()
    total = np.zeros((n, n))
    for model_features in features:
        points = model_features.astype(np.float64)
        norms = (points * points).sum(axis=1)
        distances = norms[:, None] + norms[None, :] - 2.0 * points @ points.T
        np.fill_diagonal(distances, np.inf)
        neighbours = np.argsort(distances, axis=1, kind="stable")[:, :k]
        adjacency = np.zeros((n, n))
        np.put_along_axis(adjacency, neighbours, 1.0, axis=1)
        total += 0.5 * (adjacency + adjacency.T)
        del distances, adjacency
    knn_seconds = time.perf_counter() - start
    start = time.perf_counter()
    shift = max(0.0, -float(np.linalg.eigvalsh(total)[0]))
    quadratic = sp.triu(sp.csc_matrix(2.0 * (total + shift * np.eye(n))), format="csc")
    constraints = sp.vstack([sp.identity(n, format="csc"), sp.csc_matrix(np.ones((1, n)))], format="csc")
    lower = np.concatenate([np.zeros(n), [spec.tau]])
    upper = np.concatenate([np.ones(n), [spec.tau]])
    solver = osqp.OSQP()
    solver.setup(quadratic, BETA * votes, constraints, lower, upper, eps_abs=1e-6, eps_rel=1e-6,
                 max_iter=20000, polishing=True, verbose=False)
    result = solver.solve()
    relaxed = np.clip(np.asarray(result.x, dtype=np.float64), 0.0, 1.0)
    positions = np.lexsort((np.arange(n), -votes, -relaxed))[:spec.tau]
    solve_seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    b = binary_indicator(n, positions)
    return {
        "seconds": knn_seconds + solve_seconds,
        "peak_rss_mb": peak,
        "objective": float(b @ total @ b + BETA * b @ votes),
        "k": k,
        "knn_seconds": knn_seconds,
        "solve_seconds": solve_seconds,
        "iterations": int(result.info.iter),
        "converged": str(result.info.status) in ("solved", "OSQP_SOLVED", "1"),
        "solver_status": str(result.info.status),
        "shift": shift,
        "input_mb": input_mb,
    }


# --------------------------------------------------------------------------- Coreset
def coreset_inputs(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    features = synthetic_features(spec.n + spec.n_labeled, 0, seed=spec.seed, dim=spec.dim)
    return features[:spec.n].copy(), features[spec.n:].copy()


def run_coreset_ours(spec: Spec) -> dict:
    from diamlib.selection.kcenter import kcenter_greedy

    pool, labeled = coreset_inputs(spec)
    input_mb = current_rss_mb()
    start = time.perf_counter()
    positions, radius = kcenter_greedy(pool, labeled, spec.tau)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "objective": radius, "k": None,
            "n_labeled": spec.n_labeled, "input_mb": input_mb, "first_picks": positions[:5].tolist()}


def run_coreset_dense(spec: Spec) -> dict:
    """Full pool-by-pool and pool-by-labeled distance matrices, greedy on them."""
    pool, labeled = coreset_inputs(spec)
    input_mb = current_rss_mb()
    start = time.perf_counter()
    points, centres = pool.astype(np.float64), labeled.astype(np.float64)
    norms = (points * points).sum(axis=1)
    between = np.sqrt(np.maximum(norms[:, None] + norms[None, :] - 2.0 * points @ points.T, 0.0))
    to_labeled = np.sqrt(np.maximum(norms[:, None] + (centres * centres).sum(axis=1)[None, :]
                                    - 2.0 * points @ centres.T, 0.0))
    nearest = to_labeled.min(axis=1)
    chosen = []
    for _ in range(spec.tau):
        candidates = nearest.copy()
        candidates[chosen] = -np.inf
        pick = int(np.argmax(candidates))
        chosen.append(pick)
        nearest = np.minimum(nearest, between[pick])
    nearest[chosen] = 0.0
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "objective": float(nearest.max()), "k": None,
            "n_labeled": spec.n_labeled, "input_mb": input_mb, "first_picks": chosen[:5]}


RUNNERS = {
    ("diam", "ours"): run_diam_ours,
    ("diam", "dense-reference"): run_diam_dense,
    ("coreset", "ours"): run_coreset_ours,
    ("coreset", "dense-reference"): run_coreset_dense,
}


# --------------------------------------------------------------------------- driver
def measure(spec: Spec) -> dict:
    """Run one measurement (in a fresh process) and return its JSON record."""
    import torch

    from diamlib.numerics import folder_setting

    torch.set_num_threads(spec.threads)
    runner = RUNNERS[(spec.method, spec.impl)]
    try:
        result = runner(spec)
    except MemoryError as error:
        result = {"error": f"MemoryError: {error}", "seconds": None, "peak_rss_mb": peak_rss_mb(), "objective": None}
    record = {"method": spec.method, "impl": spec.impl, "knn": spec.knn, "n": spec.n, "k": result.pop("k", None),
              "d": spec.dim, "tau": spec.tau}
    record.update(result)
    record.update({"n_models": spec.n_models if spec.method == "diam" else 1, "threads": spec.threads,
                   "seed": spec.seed, "numerics": folder_setting()})
    if spec.knn == "approx":
        record["approx_dim"] = spec.approx_dim
    if spec.method == "diam" and spec.impl == "ours":
        record["graphs"] = spec.graphs
    return {key: (round(value, 6) if isinstance(value, float) else value) for key, value in record.items()}


MEASUREMENT_NAMES = ("coreset-dense", "coreset", "diam-approx", "diam-exact", "diam-dense")


def plan(sizes: list[int], *, tau: int, seed: int, threads: int, approx_dim: int, dim: int, n_labeled: int,
         graphs: str = "symmetrized", measurements: tuple[str, ...] = MEASUREMENT_NAMES) -> list[Spec]:
    """The chosen measurements for every size, cheapest first (dense ones only up to DENSE_LIMIT)."""
    base = Spec(method="diam", impl="ours", n=0, knn="exact", tau=tau, seed=seed, threads=threads,
                approx_dim=approx_dim, graphs=graphs, dim=dim, n_labeled=n_labeled)
    variants = {
        "coreset-dense": dict(method="coreset", impl="dense-reference", knn=None),
        "coreset": dict(method="coreset", impl="ours", knn=None),
        "diam-approx": dict(knn="approx"),
        "diam-exact": dict(knn="exact"),
        "diam-dense": dict(impl="dense-reference", knn="dense"),
    }
    specs = []
    for n in sorted(sizes):
        for name in MEASUREMENT_NAMES:
            if name not in measurements or (name.endswith("-dense") and n > DENSE_LIMIT):
                continue
            specs.append(replace(base, n=n, tau=min(tau, n // 2), **variants[name]))
    return specs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 15000, 57000], help="pool sizes")
    parser.add_argument("--quick", action="store_true",
                        help="small smoke run: sizes 1000 and 2000, tau 100, 256-dim features, 300 labeled")
    parser.add_argument("--threads", type=int, default=2, help="BLAS/torch threads per measurement")
    parser.add_argument("--approx-dim", type=int, default=128, help="PCA dimension of the approximate kNN")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="also append the JSON lines to this file")
    parser.add_argument("--graphs", choices=("symmetrized", "raw", "summed"), default="summed",
                        help="DIAM (ours): one summed symmetrised graph (what the diam strategy passes to "
                             "greedy-swap), the symmetrised graphs (Algorithm 2) or the raw kNN adjacencies")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENT_NAMES, default=list(MEASUREMENT_NAMES),
                        help="run only these measurements")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    sizes, tau, dim, n_labeled = args.sizes, TAU, DIM, N_LABELED
    if args.quick:
        sizes, tau, dim, n_labeled = [1000, 2000], 100, 256, 300
    if min(sizes) < 100:
        parser.error("--sizes must be at least 100")
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)  # inherited by the spawned measuring processes
    specs = plan(sizes, tau=tau, seed=args.seed, threads=args.threads, approx_dim=min(args.approx_dim, dim),
                 dim=dim, n_labeled=n_labeled, graphs=args.graphs, measurements=tuple(args.only))
    context = get_context("spawn")
    for spec in specs:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
            try:
                record = executor.submit(measure, spec).result()
            except Exception as error:  # a crashed measurement (e.g. killed for memory) is reported, not hidden
                record = {**asdict(spec), "error": f"{type(error).__name__}: {error}"}
        line = json.dumps(record)
        print(line, flush=True)
        if args.output:
            with open(args.output, "a") as handle:
                handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
