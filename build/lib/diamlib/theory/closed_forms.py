"""Closed forms of the disagreement coefficient on ``[0, 1]`` under the uniform distribution.

These are the textbook values the numerical :func:`~diamlib.theory.disagreement.disagreement_coefficient`
is checked against. On each piece where the ball's disagreement mass ``m(r)`` is affine,
``m(r) = c + k r`` with ``c >= 0``, the ratio ``m(r) / r`` is non-increasing, so the supremum
over ``r > r0`` is taken at the left end of a piece or as ``r -> r0+``.

References
----------
Definition 4 of the paper (``theta_h^C(r0)``); Hanneke, "Theory of active learning" (2014),
Sec. 7: thresholds have ``theta = 2``, intervals of width ``w`` have ``theta = max(4, 1/w)``.
"""
from __future__ import annotations


def _check_r0(r0: float) -> None:
    if r0 < 0:
        raise ValueError(f"r0 must be >= 0; got {r0}")


def threshold_disagreement_coefficient(t: float, r0: float) -> float:
    """``theta`` of the threshold ``1[x >= t]`` among all thresholds, ``x ~ U[0, 1]``.

    The ball ``B(h_t, r)`` holds the thresholds in ``[t - r, t + r]``, so
    ``m(r) = P(DIS(B(h_t, r))) = min(t + r, 1) - max(t - r, 0)`` and

    ``theta(r0) = max(1, m(r0) / r0)`` for ``r0 > 0``, which equals 2 whenever
    ``r0 <= min(t, 1 - t)`` and is capped by ``1 / r0`` for large ``r0``;
    ``theta(0) = 2`` for ``0 < t < 1`` and 1 at the ends.

    Parameters
    ----------
    t : float
        Threshold position in ``[0, 1]``.
    r0 : float
        ``r0 >= 0``.

    Returns
    -------
    float

    References
    ----------
    Definition 4 of the paper.
    """
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must lie in [0, 1]; got {t}")
    _check_r0(r0)
    if r0 == 0:
        return 2.0 if 0.0 < t < 1.0 else 1.0
    mass = min(t + r0, 1.0) - max(t - r0, 0.0)
    return max(1.0, mass / r0)


def interval_disagreement_coefficient(a: float, b: float, r0: float, step: float = 0.0) -> float:
    """``theta`` of the interval ``1[a <= x < b]`` among all intervals, ``x ~ U[0, 1]``.

    With width ``w = b - a`` the ball's disagreement mass is, piecewise,

    * ``r < w / 2``: two bands around the endpoints,
      ``m(r) = 2 r + min(r, a) + min(r, 1 - b)`` (``4 r`` away from the borders);
    * ``w / 2 <= r <= w``: the bands merge, ``m(r) = min(b + r, 1) - max(a - r, 0)``;
    * ``r > w`` (continuous) or ``r >= w + step`` (endpoints on a grid of spacing ``step``):
      tiny intervals anywhere are within ``r`` of ``h``, so ``m(r) = 1``.

    Hence ``theta(r0) = max(1, 4 [r0 < w/2], m(max(r0, w/2)) / max(r0, w/2),
    1 / max(r0, w + step))`` with the border terms included, which for an interval away from
    the borders is the classical ``max(4, 1 / w)`` at small ``r0``.

    Parameters
    ----------
    a, b : float
        Endpoints, ``0 <= a < b <= 1``.
    r0 : float
        ``r0 >= 0``.
    step : float, default 0
        Spacing of the endpoint grid of a discretised class (0 for the continuous class). The
        smallest non-empty interval has width ``step``, which moves the ``1 / w`` term to
        ``1 / (w + step)``.

    Returns
    -------
    float

    References
    ----------
    Definition 4 of the paper.
    """
    if not 0.0 <= a < b <= 1.0:
        raise ValueError(f"need 0 <= a < b <= 1; got a={a}, b={b}")
    if step < 0:
        raise ValueError(f"step must be >= 0; got {step}")
    _check_r0(r0)
    w = b - a
    candidates = [1.0]
    if r0 < w / 2:
        if r0 == 0:
            candidates.append(2.0 + (a > 0) + (b < 1))
        else:
            candidates.append((2 * r0 + min(r0, a) + min(r0, 1 - b)) / r0)
    merged_end = w + step if step > 0 else w
    if r0 < merged_end:
        r = max(r0, w / 2)
        radius_for_mass = min(r, w)
        candidates.append((min(b + radius_for_mass, 1.0) - max(a - radius_for_mass, 0.0)) / r)
    candidates.append(1.0 / max(r0, w + step))
    return float(max(candidates))
