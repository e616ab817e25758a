"""Helpers of the global scalp region and hair share against NumPy's own figures."""

from __future__ import annotations

import numpy as np

from hairtrack.region import _median_colour


def test_median_colour_is_per_channel_median() -> None:
    """Per-channel medians of the selected pixels of a float32 image, and of a window of it."""
    rng = np.random.default_rng(4)
    for _ in range(50):
        img = (rng.random((60, 45, 3)) * 3).astype(np.float32)
        sel = rng.random((60, 45)) < rng.random()
        sel[0, 0] = True
        for im, s in ((img, sel), (img[5:50, 3:40], sel[5:50, 3:40])):
            if not s.any():
                continue
            truth = np.array([np.median(im[..., c][s]) for c in range(3)], np.float64)
            assert np.array_equal(_median_colour(im, s), truth)
