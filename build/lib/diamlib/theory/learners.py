"""Online learners on finite classes: CAL, soft-version-space learning (RobustCAL and
DIAM-online) and passive ERM, each returning the trajectory of what it could output.

Every learner reads the same :class:`~diamlib.theory.stream.LabelStream` and, at each
checkpoint, records the *worst* score over the hypotheses it may return under two output
rules: ``"erm"``, an empirical-error minimiser inside the (soft) version space (what
RobustCAL returns, and what passive ERM returns; ties count as possible outputs), and
``"version_space"``, any member of the soft version space (Algorithm 1, line 16: "return
arbitrary h_i in V_i"). For CAL both rules coincide. A hypothesis' score is supplied by the
caller: its excess error in its class, or for CAL' the largest excess error of its
projections (Theorem 1).

Empirical errors are computed from per-point label counts: with ``c[x] = #(y=0 at x) -
#(y=1 at x)`` over the labels seen, ``mistakes(h) = h . c + #(y=1)``, one matrix-vector
product per checkpoint.

References
----------
Sec. 4 (CAL), Algorithm 1 (DIAM-online) and Sec. 3.2 (passive learning ``P'``) of the paper;
Hanneke, "Theory of active learning" (2014), Sec. 5.2 (RobustCAL).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from diamlib.theory.bounds import robust_sigma
from diamlib.theory.disagreement import disagreement_region
from diamlib.theory.stream import LabelStream

SCORE_TOLERANCE = 1e-12
OUTPUT_RULES = ("erm", "version_space")


@dataclass(frozen=True)
class Trajectory:
    """What a learner could return at each checkpoint.

    Attributes
    ----------
    stream_positions : ndarray of int64, shape (n_checkpoints,)
        Number of stream examples seen, ``m``.
    labels : ndarray of int64, shape (n_checkpoints,)
        Number of labels queried so far.
    erm_excess : ndarray of float, shape (n_checkpoints, n_classes)
        Largest score over the empirical-error minimisers in each class's (soft) version
        space.
    version_space_excess : ndarray of float, shape (n_checkpoints, n_classes)
        Largest score over each class's whole (soft) version space.
    class_names : tuple of str, length n_classes
    info : dict of str -> ndarray, shape (n_checkpoints, n_classes)
        Extra per-checkpoint facts, e.g. ``"sigma"`` and ``"disagreement_mass"``.
    shared_info : dict of str -> ndarray, shape (n_checkpoints,)
        Facts about all classes together, e.g. ``"union_mass"`` and
        ``"intersection_mass"`` of the regions ``DIS(V_i)``.
    """

    stream_positions: np.ndarray
    labels: np.ndarray
    erm_excess: np.ndarray
    version_space_excess: np.ndarray
    class_names: tuple[str, ...]
    info: dict[str, np.ndarray] = field(default_factory=dict)
    shared_info: dict[str, np.ndarray] = field(default_factory=dict)

    def overall_worst(self, output: str = "erm") -> np.ndarray:
        """``max_i`` of the worst score under an output rule, shape (n_checkpoints,)."""
        if output not in OUTPUT_RULES:
            raise ValueError(f"unknown output rule {output!r}; valid: {', '.join(OUTPUT_RULES)}")
        values = self.erm_excess if output == "erm" else self.version_space_excess
        return values.max(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """One row per checkpoint: ``m``, ``labels``, the worst scores and per-class columns."""
        frame = pd.DataFrame(
            {
                "m": self.stream_positions,
                "labels": self.labels,
                "erm_excess": self.overall_worst("erm"),
                "version_space_excess": self.overall_worst("version_space"),
            }
        )
        for i, name in enumerate(self.class_names):
            frame[f"erm_excess[{name}]"] = self.erm_excess[:, i]
            frame[f"version_space_excess[{name}]"] = self.version_space_excess[:, i]
            for key, values in self.info.items():
                frame[f"{key}[{name}]"] = values[:, i]
        for key, values in self.shared_info.items():
            frame[key] = values
        return frame


def _check_inputs(
    classes: Sequence[np.ndarray], scores: Sequence[np.ndarray], stream: LabelStream
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if len(classes) == 0 or len(classes) != len(scores):
        raise ValueError(
            f"need one score vector per class and at least one class; got {len(classes)} "
            f"classes and {len(scores)} score vectors"
        )
    predictions = [np.asarray(p, dtype=bool) for p in classes]
    score_list = [np.asarray(s, dtype=float) for s in scores]
    n_points = predictions[0].shape[1]
    for i, (p, s) in enumerate(zip(predictions, score_list)):
        if p.ndim != 2 or p.shape[1] != n_points:
            raise ValueError(f"class {i}: predictions must be (n_h, {n_points}); got {p.shape}")
        if s.shape != (p.shape[0],):
            raise ValueError(f"class {i}: scores must have shape ({p.shape[0]},); got {s.shape}")
    if stream.indices.size and stream.indices.max() >= n_points:
        raise ValueError("the stream refers to points outside the classes' point set")
    return predictions, score_list


def _label_balance(stream: LabelStream, positions: np.ndarray, n_points: int) -> np.ndarray:
    """``#(y=0) - #(y=1)`` per support point over the given stream positions."""
    x = stream.indices[positions]
    y = stream.labels[positions]
    return np.bincount(x, weights=np.where(y, -1.0, 1.0), minlength=n_points)


def _joint_masses(regions: Sequence[np.ndarray], weights: np.ndarray) -> tuple[float, float]:
    """``P(union of DIS(V_i))`` and ``P(intersection of DIS(V_i))``."""
    stacked = np.vstack(regions)
    return float(weights[stacked.any(axis=0)].sum()), float(weights[stacked.all(axis=0)].sum())


def _erm_score(predictions: np.ndarray, scores: np.ndarray, balance: np.ndarray) -> float:
    """Largest score among the empirical-error minimisers (ties included)."""
    mistakes = predictions.astype(float) @ balance
    return float(scores[mistakes <= mistakes.min() + 0.5].max())


def run_cal(
    predictions: np.ndarray, scores: np.ndarray, stream: LabelStream, name: str = "class"
) -> Trajectory:
    """CAL: query ``x`` iff it lies in ``DIS(V)``, keep the hypotheses consistent with all labels.

    Parameters
    ----------
    predictions : ndarray of bool, shape (n_h, n_points)
        The class. CAL is meant for the realizable case; it never empties its version
        space (it only queries where ``V`` disagrees), but under label noise it can discard
        the best hypothesis for good.
    scores : ndarray of float, shape (n_h,)
        Score of each hypothesis (e.g. its excess error).
    stream : LabelStream
    name : str

    Returns
    -------
    Trajectory
        A checkpoint at the start and after every query; once ``DIS(V)`` has no mass, CAL
        never queries again and the last checkpoint is final.

    References
    ----------
    Sec. 4 of the paper (CAL queries the disagreement region of the version space).
    """
    (p,), (s,) = _check_inputs([predictions], [scores], stream)
    version_space = np.arange(p.shape[0])
    positions, labels, worst = [0], [0], [s.max()]
    position = 0
    while True:
        region = disagreement_region(p[version_space])
        if not region.any():
            break
        hits = np.flatnonzero(region[stream.indices[position:]])
        if hits.size == 0:
            break
        position += int(hits[0])
        x, y = stream.indices[position], stream.labels[position]
        position += 1
        version_space = version_space[p[version_space, x] == y]
        positions.append(position)
        labels.append(labels[-1] + 1)
        worst.append(s[version_space].max())
    worst_array = np.asarray(worst)[:, None]
    return Trajectory(
        np.asarray(positions, dtype=np.int64),
        np.asarray(labels, dtype=np.int64),
        worst_array,
        worst_array.copy(),
        (name,),
    )


def run_soft_version_space(
    classes: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    stream: LabelStream,
    weights: np.ndarray,
    *,
    min_votes: int = 1,
    delta: float = 0.05,
    names: Sequence[str] | None = None,
    checkpoints_per_doubling: int = 8,
) -> Trajectory:
    """DIAM-online (Algorithm 1); with one class it is RobustCAL.

    For ``m = 1, 2, ...``: query ``x_m`` iff it lies in at least ``min_votes`` (``q``) of the
    regions ``DIS(V_i)``; when ``m`` is a power of two, shrink every soft version space to
    ``V_i <- {h in V_i : er_m(h) - min_{g in V_i} er_m(g) <= sigma_i}`` with ``sigma_i`` from
    :func:`~diamlib.theory.bounds.robust_sigma` (``p = P(DIS(V_i))``, ``n = |C_i|``).

    ``er_m`` is the empirical error over all ``m`` stream examples. It is known up to a
    constant shared by all of ``V_i`` from the queried labels alone when ``q = 1``: every
    example in ``DIS(V_i)`` was queried (``V_i`` only shrinks), and all of ``V_i`` agree
    elsewhere. For ``q > 1`` examples in a single region are skipped and the comparison is
    over the queried examples only (the paper's more aggressive variant).

    Parameters
    ----------
    classes : sequence of ndarray of bool, each shape (n_h_i, n_points)
        The classes ``C_1, ..., C_k``.
    scores : sequence of ndarray of float, each shape (n_h_i,)
    stream : LabelStream
    weights : ndarray of float, shape (n_points,)
        ``D_X`` (gives the exact ``P(DIS(V_i))``).
    min_votes : int, default 1
        ``q`` of Algorithm 1, ``1 <= q <= k``.
    delta : float, default 0.05
    names : sequence of str, optional
    checkpoints_per_doubling : int, default 8
        Extra checkpoints between updates (at ``m = round(2^(i / this))``): a query budget
        that runs out there stops the algorithm with the current ``V_i``, whose ERM uses all
        labels so far.

    Returns
    -------
    Trajectory
        A checkpoint at the start, after each update (``m = 1, 2, 4, ...``) and at the
        extra checkpoints, with ``info["sigma"]`` (``nan`` between updates),
        ``info["disagreement_mass"]`` and ``shared_info["union_mass"]`` /
        ``shared_info["intersection_mass"]`` of the regions ``DIS(V_i)`` (equal when the
        regions coincide, as Theorem 3 assumes).

    References
    ----------
    Algorithm 1 of the paper; Hanneke (2014), Sec. 5.2 (RobustCAL, updates at powers of 2).
    """
    predictions, score_list = _check_inputs(classes, scores, stream)
    k = len(predictions)
    if not 1 <= min_votes <= k:
        raise ValueError(f"min_votes (q) must lie in [1, {k}]; got {min_votes}")
    names = tuple(names) if names is not None else tuple(f"C{i + 1}" for i in range(k))
    if len(names) != k:
        raise ValueError(f"need {k} names; got {len(names)}")
    weights = np.asarray(weights, dtype=float)
    n_points = predictions[0].shape[1]
    if weights.shape != (n_points,):
        raise ValueError(f"weights must have shape ({n_points},); got {weights.shape}")

    version_spaces = [np.arange(p.shape[0]) for p in predictions]
    regions = [disagreement_region(p) for p in predictions]
    balance = np.zeros(n_points)
    n_labels = 0
    positions, labels = [0], [0]
    worst = [[s.max() for s in score_list]]
    worst_erm = [[s.max() for s in score_list]]
    sigmas = [[np.nan] * k]
    masses = [[float(weights[r].sum()) for r in regions]]
    joint = [_joint_masses(regions, weights)]

    fine = geometric_checkpoints(stream.length, checkpoints_per_doubling)
    m, j = 0, 0
    while 2**j <= stream.length:
        end = 2**j
        epoch = np.arange(m, end)
        votes = np.zeros(epoch.size, dtype=np.int64)
        for region in regions:
            votes += region[stream.indices[epoch]]
        is_queried = votes >= min_votes
        # Budgets that run out inside the epoch: V_i is fixed, the ERM in V_i moves on.
        for stop in fine[(fine > m) & (fine < end)]:
            inside = epoch[: stop - m][is_queried[: stop - m]]
            partial = balance + _label_balance(stream, inside, n_points)
            positions.append(int(stop))
            labels.append(n_labels + inside.size)
            worst.append([score_list[i][v].max() for i, v in enumerate(version_spaces)])
            worst_erm.append(
                [_erm_score(p[v], score_list[i][v], partial) for i, (p, v) in
                 enumerate(zip(predictions, version_spaces))]
            )
            sigmas.append([np.nan] * k)
            masses.append([float(weights[r].sum()) for r in regions])
            joint.append(_joint_masses(regions, weights))
        queried = epoch[is_queried]
        balance += _label_balance(stream, queried, n_points)
        n_labels += queried.size
        m = end
        row_sigma, row_mass, row_worst, row_erm = [], [], [], []
        for i, p in enumerate(predictions):
            mass_before = float(weights[regions[i]].sum())
            sigma = robust_sigma(m, mass_before, p.shape[0], j, delta)
            members = version_spaces[i]
            mistakes = p[members].astype(float) @ balance
            keep = (mistakes - mistakes.min()) / m <= sigma + SCORE_TOLERANCE
            erm_score = _erm_score(p[members], score_list[i][members], balance)
            version_spaces[i] = members[keep]
            regions[i] = disagreement_region(p[version_spaces[i]])
            row_sigma.append(sigma)
            row_mass.append(float(weights[regions[i]].sum()))
            row_worst.append(score_list[i][version_spaces[i]].max())
            row_erm.append(erm_score)
        positions.append(m)
        labels.append(n_labels)
        worst.append(row_worst)
        worst_erm.append(row_erm)
        sigmas.append(row_sigma)
        masses.append(row_mass)
        joint.append(_joint_masses(regions, weights))
        j += 1
    return Trajectory(
        np.asarray(positions, dtype=np.int64),
        np.asarray(labels, dtype=np.int64),
        np.asarray(worst_erm, dtype=float),
        np.asarray(worst, dtype=float),
        names,
        {"sigma": np.asarray(sigmas), "disagreement_mass": np.asarray(masses)},
        {"union_mass": np.asarray(joint)[:, 0], "intersection_mass": np.asarray(joint)[:, 1]},
    )


def geometric_checkpoints(length: int, per_doubling: int = 8) -> np.ndarray:
    """Distinct integers ``round(2^(i / per_doubling))`` up to ``length``, starting at 1."""
    if length < 1 or per_doubling < 1:
        raise ValueError("length and per_doubling must be >= 1")
    exponents = np.arange(0, int(np.floor(np.log2(length) * per_doubling)) + 1) / per_doubling
    points = np.unique(np.round(2.0**exponents).astype(np.int64))
    return points[points <= length]


def run_passive_erm(
    classes: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    stream: LabelStream,
    *,
    checkpoints: np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> Trajectory:
    """Passive learning ``P'``: label every stream example, return an ERM in every class.

    Parameters
    ----------
    classes : sequence of ndarray of bool, each shape (n_h_i, n_points)
    scores : sequence of ndarray of float, each shape (n_h_i,)
    stream : LabelStream
    checkpoints : ndarray of int, optional
        Numbers of labels at which to evaluate (default: 8 per doubling up to the stream
        length).
    names : sequence of str, optional

    Returns
    -------
    Trajectory
        ``labels == stream_positions``; the worst score over each class's set of empirical
        risk minimisers (ties are part of what ERM may return).

    References
    ----------
    Sec. 3.2 of the paper: ``P'`` queries at random and outputs the empirical minimiser of
    each target model, so its query complexity is at most ``max_i Lambda_i(P)``.
    """
    predictions, score_list = _check_inputs(classes, scores, stream)
    k = len(predictions)
    names = tuple(names) if names is not None else tuple(f"C{i + 1}" for i in range(k))
    if checkpoints is None:
        checkpoints = geometric_checkpoints(stream.length)
    checkpoints = np.asarray(checkpoints, dtype=np.int64)
    if checkpoints.size == 0 or np.any(np.diff(checkpoints) <= 0) or checkpoints[0] < 1:
        raise ValueError("checkpoints must be positive and strictly increasing")
    if checkpoints[-1] > stream.length:
        raise ValueError(f"checkpoints go beyond the stream length {stream.length}")
    n_points = predictions[0].shape[1]
    as_float = [p.astype(np.float32) for p in predictions]
    balance = np.zeros(n_points)
    worst = [[s.max() for s in score_list]]
    previous = 0
    for t in checkpoints:
        balance += _label_balance(stream, np.arange(previous, t), n_points)
        previous = int(t)
        row = []
        for p, s in zip(as_float, score_list):
            mistakes = p @ balance.astype(np.float32)
            minimisers = mistakes <= mistakes.min() + 0.5
            row.append(s[minimisers].max())
        worst.append(row)
    steps = np.concatenate([[0], checkpoints])
    worst_array = np.asarray(worst, dtype=float)
    return Trajectory(steps, steps.copy(), worst_array, worst_array.copy(), names)


def labels_needed(
    trajectory: Trajectory, epsilons: Sequence[float], output: str = "erm"
) -> np.ndarray:
    """Labels after which every class stays ``epsilon``-good until the end of the run.

    Parameters
    ----------
    trajectory : Trajectory
    epsilons : sequence of float, length n_eps
    output : {"erm", "version_space"}, default "erm"
        Which output rule's scores to use (see the module docstring).

    Returns
    -------
    ndarray of float, shape (n_eps,)
        For each ``epsilon``, the labels at the first checkpoint from which on the worst
        excess error of every class is ``<= epsilon``; ``nan`` if the last checkpoint is not
        ``epsilon``-good (not reached within the stream).

    References
    ----------
    Definitions 1-2 of the paper: the query complexity is a budget ``t`` such that every
    budget ``>= t`` gives ``epsilon``-good hypotheses.
    """
    overall = trajectory.overall_worst(output)
    result = np.empty(len(epsilons))
    for e, epsilon in enumerate(epsilons):
        bad = np.flatnonzero(overall > epsilon + SCORE_TOLERANCE)
        if bad.size == 0:
            result[e] = trajectory.labels[0]
        elif bad[-1] == overall.size - 1:
            result[e] = np.nan
        else:
            result[e] = trajectory.labels[bad[-1] + 1]
    return result
