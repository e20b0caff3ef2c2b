"""Shared fixtures of the analysis tests: hand-made tidy tables and the authors' results."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diamlib.reporting.results import TIDY_COLUMNS



def tidy(values: dict, *, metric: str = "accuracy", dataset: str = "toy", task: str = "classification",
         source: str = "ours", strategies: dict | None = None, betas: dict | None = None,
         n_labeled: tuple = (10, 20, 30, 40)) -> pd.DataFrame:
    """Tidy rows from ``{method: array (n_seeds, n_rounds, n_models)}``."""
    rows = []
    for method, array in values.items():
        array = np.asarray(array, dtype=float)
        n_seeds, n_rounds, n_models = array.shape
        for seed in range(n_seeds):
            for r in range(n_rounds):
                for m in range(n_models):
                    rows.append({
                        "source": source, "task": task, "dataset": dataset, "method": method,
                        "strategy": (strategies or {}).get(method, method), "seed": seed,
                        "n_models": n_models, "round": r, "n_labeled": n_labeled[r], "model": f"m{m}",
                        "model_index": m, "metric": metric, "value": array[seed, r, m],
                        "beta": (betas or {}).get(method, math.nan),
                    })
    return pd.DataFrame(rows, columns=TIDY_COLUMNS)


@pytest.fixture
def make_tidy():
    return tidy


@pytest.fixture(scope="session")
def authors_dir() -> Path:
    from diamlib.reporting.authors_files import authors_results_folder

    folder = authors_results_folder()
    if folder is None:
        pytest.skip("the authors' published results are neither fetched (python -m diamlib fetch-authors) nor "
                    "beside the checkout")
    return folder


@pytest.fixture(scope="session")
def authors(authors_dir):
    from diamlib.reporting.results import load_authors_results
    return load_authors_results(authors_dir)
