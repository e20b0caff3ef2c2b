"""A toy learning problem: ``D_X``, the target ``h*`` and uniform label noise, with exact errors.

References
----------
Sec. 3.1 (``err(h)``, realizable vs agnostic) and Condition 1 of the paper: with labels
``y = h*(x)`` flipped independently with probability ``eta < 1/2``, the error is
``err(h) = eta + (1 - 2 eta) d(h, h*)`` and every class satisfies Tsybakov's condition with
``alpha = 1`` relative to ``h*``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diamlib.theory.disagreement import disagreement_matrix
from diamlib.theory.distribution import FiniteDistribution


@dataclass(frozen=True)
class LearningProblem:
    """``D_X``, the Bayes-optimal target ``h*`` and the label-flip probability.

    Attributes
    ----------
    distribution : FiniteDistribution
    target : ndarray of bool, shape (n_points,)
        ``h*(x)`` on the support.
    noise : float
        Probability ``eta`` in ``[0, 1/2)`` that a label is flipped (0: noise-free labels).
    """

    distribution: FiniteDistribution
    target: np.ndarray
    noise: float = 0.0

    def __post_init__(self) -> None:
        target = np.asarray(self.target).astype(bool)
        if target.shape != (self.distribution.n_points,):
            raise ValueError(
                f"target must have shape ({self.distribution.n_points},); got {target.shape}"
            )
        if not 0.0 <= self.noise < 0.5:
            raise ValueError(f"noise must lie in [0, 0.5); got {self.noise}")
        object.__setattr__(self, "target", target)

    def distances_to_target(self, predictions: np.ndarray) -> np.ndarray:
        """``d(h, h*)`` for every row of ``predictions`` (n_h, n_points) -> (n_h,)."""
        return disagreement_matrix(predictions, self.distribution.weights, self.target[None, :])[:, 0]

    def errors(self, predictions: np.ndarray) -> np.ndarray:
        """Exact ``err(h) = eta + (1 - 2 eta) d(h, h*)``, shape (n_h,)."""
        return self.noise + (1.0 - 2.0 * self.noise) * self.distances_to_target(predictions)

    def excess_errors(self, predictions: np.ndarray) -> np.ndarray:
        """``err(h) - nu`` with ``nu = min_h err(h)`` over the given class, shape (n_h,)."""
        errors = self.errors(predictions)
        return errors - errors.min()
