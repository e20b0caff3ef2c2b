"""The i.i.d. stream of examples an online learner sees, with labels drawn in advance.

Drawing every label up front (and revealing it only when queried) lets several algorithms
run on exactly the same examples and noise, so their label counts are compared on common
random numbers.

References
----------
Algorithm 1, line 5 of the paper ("Request an unlabeled data x_m"): examples arrive i.i.d.
from ``D_X``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diamlib.theory.problem import LearningProblem


@dataclass(frozen=True)
class LabelStream:
    """Examples ``x_1, x_2, ...`` as support indices, and their (possibly noisy) labels.

    Attributes
    ----------
    indices : ndarray of int64, shape (length,)
        Support index of the m-th example.
    labels : ndarray of bool, shape (length,)
        Label the oracle returns if the m-th example is queried.
    """

    indices: np.ndarray
    labels: np.ndarray

    @property
    def length(self) -> int:
        return int(self.indices.shape[0])


def draw_stream(problem: LearningProblem, length: int, rng: np.random.Generator) -> LabelStream:
    """Draw ``length`` examples from ``D_X`` and their labels ``h*(x) xor Bernoulli(eta)``.

    Parameters
    ----------
    problem : LearningProblem
    length : int
        Number of examples (the horizon ``2^B`` of Algorithm 1).
    rng : numpy.random.Generator

    Returns
    -------
    LabelStream

    References
    ----------
    Algorithm 1 of the paper; Sec. 3.1 (examples i.i.d. from ``D_X``).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    if not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive integer; got {length!r}")
    weights = problem.distribution.weights
    indices = rng.choice(weights.size, size=int(length), p=weights).astype(np.int64)
    flips = rng.random(int(length)) < problem.noise
    return LabelStream(indices, problem.target[indices] ^ flips)
