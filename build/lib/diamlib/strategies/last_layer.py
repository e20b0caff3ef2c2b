"""Last-layer kernel conditioned on the labeled set, shared by BADGE and BAIT.

BM-DAL's regression versions of BADGE and BAIT work with the gradient of the network
output with respect to the last linear layer ("ll" kernel): for a linear head with bias
that gradient is ``phi(x) = [x, 1]`` with ``x`` the penultimate-layer features. The kernel
is scaled so that its mean diagonal on the labeled set is one and then replaced by the
Gaussian-process posterior after observing the labeled set with noise ``sigma``:

.. math:: k_post(x, y) = \\sigma^2 \\phi(x)^\\top (\\Phi_L^\\top \\Phi_L + \\sigma^2 I)^{-1} \\phi(y).

Its feature map is ``phi_post(x) = sigma G^-1 phi(x)`` with ``G G' = Phi_L' Phi_L + sigma^2 I``
(Cholesky).

References
----------
Sec. 6.6 of the paper ("We implement BADGE and BAIT algorithms using the BM-DAL
toolbox"); BM-DAL's configurations ``kmeanspp-p_ll_train`` (BADGE) and
``bait-fb-p_ll_train`` (BAIT) with ``sigma = 0.1``.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cholesky, solve_triangular


def last_layer_features(features: np.ndarray, *, with_bias: bool) -> np.ndarray:
    """Gradient of a linear head's output with respect to its weights (and bias).

    Parameters
    ----------
    features : ndarray, shape (n, d)
        Penultimate-layer features.
    with_bias : bool
        Append the constant 1 (gradient with respect to the bias).

    Returns
    -------
    ndarray, shape (n, d + with_bias)

    References
    ----------
    Sec. 6.6 of the paper (BM-DAL "ll" kernel).
    """
    if not with_bias:
        return np.array(features, dtype=np.float64)
    return np.hstack([features, np.ones((features.shape[0], 1))])


def posterior_features(pool: np.ndarray, labeled: np.ndarray, *, sigma: float,
                       with_bias: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Feature maps of the scaled last-layer kernel conditioned on the labeled set.

    Parameters
    ----------
    pool : ndarray, shape (n_pool, d)
    labeled : ndarray, shape (n_labeled, d), n_labeled >= 1
    sigma : float
        Gaussian-process noise standard deviation (BM-DAL default 0.1), > 0.
    with_bias : bool
        Include the bias gradient (a constant feature).

    Returns
    -------
    pool_posterior : ndarray, shape (n_pool, d + with_bias)
    labeled_posterior : ndarray, shape (n_labeled, d + with_bias)

    Raises
    ------
    ValueError
        ``sigma <= 0``, no labeled points, or labeled features that are all zero.

    References
    ----------
    Sec. 6.6 of the paper; the posterior kernel of a Gaussian process with the last-layer
    kernel as prior.
    """
    if not sigma > 0:
        raise ValueError(f"sigma (Gaussian-process noise of BADGE/BAIT) must be positive, got {sigma}")
    if labeled.shape[0] == 0:
        raise ValueError("BADGE and BAIT condition on the labeled set; the evidence has no labeled points")
    pool_ll = last_layer_features(pool, with_bias=with_bias)
    labeled_ll = last_layer_features(labeled, with_bias=with_bias)
    mean_sq_norm = float(np.mean(np.sum(labeled_ll**2, axis=1)))
    if mean_sq_norm <= 0:
        raise ValueError("the labeled features are all zero, so the last-layer kernel cannot be scaled")
    factor = 1.0 / np.sqrt(mean_sq_norm)
    pool_ll *= factor
    labeled_ll *= factor
    covariance = labeled_ll.T @ labeled_ll + sigma**2 * np.eye(labeled_ll.shape[1])
    lower = cholesky(covariance, lower=True)

    def transform(rows: np.ndarray) -> np.ndarray:
        return sigma * solve_triangular(lower, rows.T, lower=True).T

    return transform(pool_ll), transform(labeled_ll)
