"""A photo's JPEG history: the quality it was last saved at, and re-encoding.

Pure functions on arrays. :func:`jpeg_quality` is read by ``compare`` (to bring a pair to
the same compression) and by the close-up segmentation (a JPEG's half-resolution colour
changes how thin light shafts look in one colour channel).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

__all__ = ["jpeg_quality", "reencode_jpeg"]


def reencode_jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """``rgb`` encoded as a JPEG of ``quality`` and decoded again."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    out = _bgr_jpeg(bgr, quality)
    return rgb if out is bgr else cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def _bgr_jpeg(bgr: np.ndarray, quality: int) -> np.ndarray:
    """A BGR image encoded as a JPEG of ``quality`` and decoded again (itself on failure)."""
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        return bgr
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def jpeg_quality(
    rgb: np.ndarray,
    *,
    side: int = 512,
    lo: int = 50,
    hi: int = 98,
    max_ratio: float = 0.5,
    max_dip_ratio: float = 0.75,
    screen_side: int = 128,
) -> int | None:
    """The JPEG quality a photo was last saved at, or None when it shows none.

    Re-encoding a decoded JPEG at its own quality (same quantisation tables, same 8 x 8
    grid) changes it far less than at any neighbouring quality, while otherwise the change
    falls smoothly with the quality. So a grid-aligned centre crop of up to ``side`` px is
    re-encoded at each quality ``lo..hi`` (libjpeg's standard tables), and the quality
    whose mean absolute change over the median of its neighbours' (+-4) is lowest is it,
    when that ratio is under ``max_ratio``, or under ``max_dip_ratio`` at a strict local
    minimum of the change (a clean photo's change falls monotonically with the quality,
    so it has no such dip: its best ratio, 0.71-0.84 on clean phantoms, is at ``hi``,
    which has neighbours on one side only). Decoding and re-encoding with subsampled
    colour is not exactly idempotent: phantom re-shoots saved at q86 and q90 dipped to
    only 0.55 and 0.63 of their neighbours, and unread, their clean baselines were not
    re-encoded to match (a re-shoot's change then read 7-8 points low).
    A photo resized, relit or cropped off the grid after its last save shows none.

    The lowest ratio is first looked for on the middle ``screen_side`` px of the crop (a
    sixteenth of the work at each quality); the ratios of that quality and of the two
    adjacent ones, and whether the lowest of them dips, are then read on the whole crop,
    as they would be without the screen (a ratio needs the change at the quality and at
    its neighbours only). On 128 phantom, real and 12 MP photos, and on 164 others
    (trichoscopy series, tiles, phantoms of another seed at qualities 50-98) the screen
    gave the quality the whole crop's search gives; alone, a 256 px crop read 4 of the
    128 otherwise.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        The photo as decoded.
    side : int
        Side of the centre crop, px.
    lo, hi : int
        Qualities searched.
    max_ratio : float
        A quality whose change is under this share of its neighbours' is the one saved.
    max_dip_ratio : float
        ... or under this share, when its change is also below both adjacent qualities'.
    screen_side : int
        Side of the middle of the crop the lowest ratio is looked for on, px; 0 (or at
        least ``side``) looks on the whole crop.

    Returns
    -------
    int or None
    """
    h, w = rgb.shape[:2]
    y0 = max(0, (h - side) // 2) // 8 * 8
    x0 = max(0, (w - side) // 2) // 8 * 8
    crop = np.ascontiguousarray(rgb[y0 : y0 + side, x0 : x0 + side])
    if min(crop.shape[:2]) < 64:
        return None
    qs = np.arange(lo, hi + 1)
    # in OpenCV's channel order throughout (the same encoding as :func:`reencode_jpeg`'s)
    bgr = cv2.cvtColor(crop, cv2.COLOR_RGB2BGR)
    ch, cw = bgr.shape[:2]
    if 64 <= screen_side < min(ch, cw):
        # the middle of the crop, on the colour's 16 px grid as the crop
        sy = (ch - screen_side) // 2 // 16 * 16
        sx = (cw - screen_side) // 2 // 16 * 16
        mid = np.ascontiguousarray(bgr[sy : sy + screen_side, sx : sx + screen_side])
        near = int(np.argmin(_jpeg_ratios(_jpeg_changes(mid, qs))))
        # (adjacent qualities' tables can differ in a few entries: the lowest may be one off)
        cand = range(max(0, near - 1), min(len(qs), near + 2))
        d = _jpeg_changes(bgr, qs, range(max(0, near - 5), min(len(qs), near + 6)))
        ratios = [_jpeg_ratios(d, c) for c in cand]
        i = cand[int(np.argmin(ratios))]
    else:
        d = _jpeg_changes(bgr, qs)
        i = int(np.argmin(_jpeg_ratios(d)))
    ratio = _jpeg_ratios(d, i)
    if ratio < max_ratio:
        return int(qs[i])
    dip = 0 < i < len(qs) - 1 and d[i] < d[i - 1] and d[i] < d[i + 1]
    return int(qs[i]) if dip and ratio < max_dip_ratio else None


def _jpeg_changes(bgr: np.ndarray, qs: np.ndarray, which: range | None = None) -> np.ndarray:
    """Mean absolute change of ``bgr`` re-encoded at each quality of ``qs`` (an exact
    sum), or at ``qs[which]`` only (NaN at the others)."""
    d = np.full(len(qs), np.nan)
    for i in range(len(qs)) if which is None else which:
        d[i] = cv2.norm(_bgr_jpeg(bgr, int(qs[i])), bgr, cv2.NORM_L1) / bgr.size
    return d


def _jpeg_ratios(d: np.ndarray, at: int | None = None) -> Any:
    """Each quality's change over the median of its neighbours' (+-4) (``d`` known at
    them), or that of quality ``at`` only."""

    def one(i: int) -> float:
        nb = np.r_[d[max(0, i - 4) : i], d[i + 1 : i + 5]]
        return d[i] / max(float(np.median(nb)), 1e-6)

    return one(at) if at is not None else np.array([one(i) for i in range(len(d))])
