"""Small homography helpers shared by the alignment stage and the phantom camera."""

from __future__ import annotations

import numpy as np


def local_scale(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Linear zoom of a homography at each point (sqrt of its Jacobian's determinant).

    Parameters
    ----------
    h : (3, 3) ndarray
    pts : (N, 2) float ndarray
        (x, y) points in the homography's source frame.

    Returns
    -------
    (N,) float ndarray
    """
    x, y = pts[:, 0], pts[:, 1]
    den = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    u = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / den
    v = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / den
    j00 = (h[0, 0] - u * h[2, 0]) / den
    j01 = (h[0, 1] - u * h[2, 1]) / den
    j10 = (h[1, 0] - v * h[2, 0]) / den
    j11 = (h[1, 1] - v * h[2, 1]) / den
    return np.sqrt(np.abs(j00 * j11 - j01 * j10))
