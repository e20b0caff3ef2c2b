"""The paper's own effect of DIAM against random sampling, beside our minimum detectable effect.

Table 3a of the paper prints, for each dataset and method, the mean over the learning curve
of the best and of the worst of the 12 target models (percent). DIAM minus random there is the
size of the gain the paper reports on that dataset: if it is far below the minimum detectable
effect of one of our experiments, that experiment cannot see a gain of the paper's size.

The rows of Table 3a follow the methods of Table 2 (DIAM, entropy, margin, least confidence,
CAL, random, coreset). Only the datasets that this project's experiments run are listed.

References
----------
Table 3a of the paper (Sec. 6.3); Fashion-MNIST column: best model DIAM 87.61, random 87.09;
worst model DIAM 82.56, random 81.91.
"""
from __future__ import annotations

#: Table 3a, curve means (percent) of DIAM and of random sampling, best and worst target model.
TABLE_3A_DIAM_AND_RANDOM = {
    "fashion-mnist": {"best model": (87.61, 87.09), "worst model": (82.56, 81.91)},
}


def paper_effect_vs_random(dataset: str) -> str:
    """The paper's DIAM-minus-random gain on ``dataset`` in points, or why there is none.

    Returns
    -------
    str
        E.g. ``"+0.5 points (best model), +0.7 points (worst model); Table 3a, curve means"``, or
        ``"not in the paper"`` for a dataset the paper did not run.
    """
    rows = TABLE_3A_DIAM_AND_RANDOM.get(dataset)
    if rows is None:
        return "not in the paper"
    gains = ", ".join(f"{diam - random:+.1f} points ({which})" for which, (diam, random) in rows.items())
    return f"{gains}; Table 3a, curve means"
