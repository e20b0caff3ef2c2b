"""The landmark example figure: panels, landmark positions in pixels, errors."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from diamlib.data import ArrayDataset, load_dataset, plot_landmark_examples  # noqa: E402


def test_figure_has_one_panel_per_example_with_landmarks_in_pixels():
    ds = load_dataset("landmarks-digits", split="test")
    fig = plot_landmark_examples(ds, [3, 1, 4], ncols=2, predictions=ds.targets[[3, 1, 4]])
    try:
        visible = [ax for ax in fig.axes if ax.images]
        assert len(fig.axes) == 4 and len(visible) == 3
        offsets = visible[0].collections[0].get_offsets()
        np.testing.assert_allclose(offsets, ds.targets[3].reshape(5, 2) * 16, rtol=1e-6)
        assert len(visible[0].collections) == 2  # targets and predictions
        assert visible[1].get_title() == "#1"
    finally:
        plt.close(fig)


def test_figure_rejects_classification_and_bad_predictions():
    ds = load_dataset("digits", split="test")
    with pytest.raises(ValueError, match="regression dataset"):
        plot_landmark_examples(ds)
    reg = ArrayDataset("r", np.zeros((2, 4, 4, 3), np.uint8), np.full((2, 10), 0.5, np.float32), "regression", None)
    with pytest.raises(ValueError, match=r"predictions must have shape \(2, 10\)"):
        plot_landmark_examples(reg, predictions=np.zeros((2, 4)))
    fig = plot_landmark_examples(reg)
    plt.close(fig)
