"""A RoundData on flat inputs, for the scikit-learn tests."""
from __future__ import annotations

import numpy as np

from diamlib.training.round_result import RoundData


def round_data(flat, labeled: np.ndarray, task: str = "classification") -> RoundData:
    """``flat = (train_x, train_y, test_x, test_y)``; the unlabeled rest of the training set is the pool."""
    train_x, train_y, test_x, test_y = flat
    pool = np.setdiff1d(np.arange(len(train_x)), labeled)
    return RoundData(train_inputs=train_x, train_targets=train_y, test_inputs=test_x, test_targets=test_y,
                     labeled=np.asarray(labeled, dtype=np.int64), pool=pool, task=task)
