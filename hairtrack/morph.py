"""Morphology of masks: dilation and erosion by OpenCV's elliptic element, the same
values in less time (:func:`disk_morph`), and how thick a mask is (:func:`mean_depth`).

OpenCV filters a rectangle separably but an ellipse point by point; its
``MORPH_ELLIPSE`` element is a union of centred rectangles, so a dilation (erosion) by it
is the maximum (minimum) of the dilations (erosions) by those rectangles.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

__all__ = ["disk_morph", "disk_rects", "mean_depth"]


@lru_cache(maxsize=32)
def disk_rects(d: int) -> tuple[tuple[int, int], ...] | None:
    """OpenCV's ``MORPH_ELLIPSE`` element of side ``d`` as a union of centred rectangles.

    Each row of the element is one run of ones centred on the middle column, and the
    runs widen towards the middle row, so the element is the union, over each distinct
    half-width ``a`` of its rows, of the rectangle of half-width ``a`` and half-height
    the farthest row that is at least that wide.

    Returns
    -------
    tuple of (half_height, half_width), or None
        None when the element is not such a union (then it is used as it is).
    """
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))
    c = d // 2
    half = {}
    for i, row in enumerate(se):
        on = np.flatnonzero(row)
        if on.size:
            half[i - c] = int(c - on[0])
    if not half:
        return None
    rects = tuple(
        (max(abs(dy) for dy, w in half.items() if w >= a), a) for a in sorted(set(half.values()))
    )
    # the union must be the element itself
    check = np.zeros((d, d), np.uint8)
    for v, a in rects:
        check[c - v : c + v + 1, c - a : c + a + 1] = 1
    return rects if np.array_equal(check, se) else None


def disk_morph(image: np.ndarray, d: int, *, dilate: bool) -> np.ndarray:
    """Dilation (or erosion) by OpenCV's ``MORPH_ELLIPSE`` element of side ``d``.

    The same values as ``cv2.dilate(image, ellipse)`` (maxima and minima are exact, and
    pixels outside the image are left out in both), as the maximum over the element's
    rectangles (:func:`disk_rects`) of a dilation by each: OpenCV filters a rectangle
    separably, the ellipse point by point. The rectangles widen as they flatten, so each
    one's row maximum is the previous one's taken again over the few columns more
    (windows clipped to the image compose exactly). Their column maxima are nested the
    same way: with heights ``v1 > v2 > ...``, the maximum over ``col(v1, rows1)``,
    ``col(v2, rows2)``, ... is ``col(v_last, ... max(col(v1 - v2, rows1), rows2) ...)``,
    so the columns are filtered over ``2 v1 + 1`` rows in all instead of the sum of the
    heights (per disk on a 12 MP close-up, CPU: 31 px on the 512 x 384 probe 4.1 ->
    1.3 ms, 21 px on the 914 x 686 working copy 11.4 -> 3.8 ms; OpenCV's ellipse took
    4.6 and 6.8 ms).

    Parameters
    ----------
    image : (M, N) float32 or uint8 ndarray
    d : int
        Side of the element, px (odd).
    dilate : bool
        Dilation (maximum) when True, erosion (minimum) when False.

    Returns
    -------
    (M, N) ndarray
        Of the input's type.
    """
    morph = cv2.dilate if dilate else cv2.erode
    rects = disk_rects(d)
    if rects is None:
        return morph(image, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
    pick = cv2.max if dilate else cv2.min
    inner, last = None, 0  # last: height (half) of the previous rectangle
    rows, done = image, 0  # rows: the row maxima (minima) over +- done columns
    for v, a in rects:  # a increasing, v decreasing
        if a > done:
            rows = morph(rows, np.ones((1, 2 * (a - done) + 1), np.uint8))
            done = a
        if inner is None:
            inner = rows.copy()
        else:
            if last > v:
                inner = morph(inner, np.ones((2 * (last - v) + 1, 1), np.uint8))
            inner = pick(inner, rows, dst=inner)
        last = v
    return morph(inner, np.ones((2 * last + 1, 1), np.uint8)) if last else inner


def mean_depth(mask: np.ndarray) -> float:
    """Mean distance (px) of ``mask``'s pixels to its edge: about a quarter of the
    width of a band, half the radius of a disc; 0 for an empty mask.

    Thin lines (hair shafts) read shallow, and the wedges of skin between dense shafts,
    read as hair of the wrong polarity, deep: how both hair suppression
    (:func:`hairtrack.align._suppress_hair`) and the polarity of a dense close-up
    (:func:`hairtrack.segment.decide_polarity`) tell the two apart.

    Parameters
    ----------
    mask : (M, N) bool ndarray

    Returns
    -------
    float
    """
    if not mask.any():
        return 0.0
    depth = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 3)
    return float(depth[mask].mean())
