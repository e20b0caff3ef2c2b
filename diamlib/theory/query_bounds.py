"""Theorem 2's query bound ``Lambda_2`` evaluated with its constant set to 1.

Theorem 2 bounds the queries of DIAM-online by ``min{Lambda_1, Lambda_2}`` up to a constant
(``<~``); this module evaluates the expression of ``Lambda_2`` (an upper bound of the minimum)
on a finite toy setting, where ``nu_i``, ``theta`` and ``d_i`` are exact or bounded.

References
----------
Theorem 2 of the paper (the agnostic case ``h* not in C~``); ``Log(a) = max{ln a, 1}`` as
defined in its Sec. 3.1.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from diamlib.theory.disagreement import disagreement_coefficient
from diamlib.theory.hypotheses import vc_dimension_bound
from diamlib.theory.settings import ToySetting


def paper_log(a: np.ndarray | float) -> np.ndarray:
    """``Log(a) = max{ln a, 1}`` for ``a > 0`` (the paper's notation), elementwise."""
    a = np.asarray(a, dtype=float)
    if np.any(a <= 0):
        raise ValueError(f"Log is defined for a > 0; got {a}")
    return np.maximum(np.log(a), 1.0)


def theorem2_lambda2_terms(
    nu: np.ndarray,
    theta: np.ndarray,
    vc_dimension: np.ndarray,
    epsilon: float,
    delta: float,
) -> np.ndarray:
    """Per-class terms of Theorem 2's ``Lambda_2``, with the hidden constant set to 1.

    ``term_i = theta_i (nu_i^2 / eps^2 + Log(1/eps)) (d_i Log(theta_i) + Log(Log(1/eps) / delta))``
    with ``theta_i = theta_{h_i*}^{C_i}(nu_i + eps)``; ``Lambda_2 = sum_i term_i``.

    Parameters
    ----------
    nu : ndarray of float, shape (k,)
        ``nu_i = err(h_i*) = min_{h in C_i} err(h)``, in ``[0, 1]``.
    theta : ndarray of float, shape (k,)
        Disagreement coefficients ``theta_{h_i*}^{C_i}(nu_i + eps)``, each ``>= 1``.
    vc_dimension : ndarray of int, shape (k,)
        ``d_i``, the VC dimension of ``C_i`` (or an upper bound), ``>= 0``.
    epsilon : float
        Accuracy ``eps`` in ``(0, 1)``.
    delta : float
        Confidence ``delta`` in ``(0, 1)``.

    Returns
    -------
    ndarray of float, shape (k,)

    References
    ----------
    Theorem 2 of the paper, the bound ``Lambda_2``.
    """
    nu = np.asarray(nu, dtype=float)
    theta = np.asarray(theta, dtype=float)
    d = np.asarray(vc_dimension, dtype=float)
    if nu.ndim != 1 or nu.size == 0 or theta.shape != nu.shape or d.shape != nu.shape:
        raise ValueError(
            f"nu, theta and vc_dimension must be 1-D arrays of one common length k >= 1; got "
            f"shapes {nu.shape}, {theta.shape}, {d.shape}"
        )
    if np.any((nu < 0) | (nu > 1)):
        raise ValueError(f"nu must lie in [0, 1]; got {nu}")
    if np.any(theta < 1):
        raise ValueError(f"disagreement coefficients are >= 1 by definition; got {theta}")
    if np.any(d < 0):
        raise ValueError(f"vc_dimension must be >= 0; got {d}")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must lie in (0, 1); got {epsilon}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1); got {delta}")
    log_inv_eps = paper_log(1.0 / epsilon)
    first = nu**2 / epsilon**2 + log_inv_eps
    second = d * paper_log(theta) + paper_log(log_inv_eps / delta)
    return theta * first * second


def theorem2_lambda2(
    nu: np.ndarray, theta: np.ndarray, vc_dimension: np.ndarray, epsilon: float, delta: float
) -> float:
    """Theorem 2's ``Lambda_2`` with its constant set to 1: the sum of
    :func:`theorem2_lambda2_terms` over the classes.

    References
    ----------
    Theorem 2 of the paper.
    """
    return float(theorem2_lambda2_terms(nu, theta, vc_dimension, epsilon, delta).sum())


def theorem2_terms_table(setting: ToySetting, epsilons: Sequence[float], delta: float) -> pd.DataFrame:
    """The ingredients and per-class terms of ``Lambda_2`` on a toy setting, per epsilon.

    ``nu_i`` is the exact ``min_{h in C_i} err(h)`` (label noise included), ``theta`` the exact
    ``theta_{h_i*}^{C_i}(nu_i + eps)`` of Definition 4, ``d_i`` from
    :func:`~diamlib.theory.hypotheses.vc_dimension_bound` (an upper bound; the smaller of the
    family's VC dimension and ``floor(log2 |C_i|)``).

    Parameters
    ----------
    setting : ToySetting
    epsilons : sequence of float
        Each in ``(0, 1)``.
    delta : float

    Returns
    -------
    pandas.DataFrame
        One row per (epsilon, class): ``epsilon, class, nu, theta, d, term``.

    References
    ----------
    Theorem 2 of the paper.
    """
    weights = setting.problem.distribution.weights
    errors = setting.errors()
    best = [int(np.argmin(e)) for e in errors]
    nu = np.array([float(e[b]) for e, b in zip(errors, best)])
    d = np.array([vc_dimension_bound(c) for c in setting.classes])
    rows = []
    for epsilon in epsilons:
        theta = np.array([
            disagreement_coefficient(c.predictions, weights, b, n + epsilon).theta
            for c, b, n in zip(setting.classes, best, nu)
        ])
        terms = theorem2_lambda2_terms(nu, theta, d, epsilon, delta)
        for name, n, t, di, term in zip(setting.class_names, nu, theta, d, terms):
            rows.append({"epsilon": epsilon, "class": name, "nu": n, "theta": t, "d": int(di), "term": term})
    return pd.DataFrame(rows)
