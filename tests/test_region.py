"""Helpers of the global scalp region and hair share against NumPy's own figures."""

from __future__ import annotations

import numpy as np

from hairtrack.region import _median, _median_colour


def test_median_is_numpys_median() -> None:
    """The one-partition median gives np.median's value and type: odd and even sizes,
    ties, float32 and float64, a NaN."""
    rng = np.random.default_rng(3)
    for trial in range(3000):
        n = int(rng.integers(1, 300))
        x = (rng.random(n) * 10.0 ** rng.integers(0, 3)).astype((np.float32, np.float64)[trial % 2])
        if trial % 3 == 0:
            x = np.round(x * 2) / 2  # ties at the middle
        if trial % 97 == 0:
            x[rng.integers(0, n)] = np.nan
        a, b = np.median(x), _median(x)
        assert type(a) is type(b)
        assert a == b or (np.isnan(a) and np.isnan(b))


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
