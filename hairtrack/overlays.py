"""Find what capture software burns into a close-up photo: text, circles, scale bars.

Dermoscope and trichoscope software stamps its own graphics onto the saved photo: a
header of text boxes (subject, date, magnification), measurement circles in a pure
colour with a label box, an L-shaped scale bar with its ``1.0 mm`` label, flat grey bands
along an edge. None of it is hair, so the analysed region must leave it out.

The detectors are generic, not tuned to one device's pixel positions: burned-in graphics
are *flat* (no sensor noise, no texture), *pure in colour* (far from the local skin tone),
or *perfectly straight and axis-aligned* (a 1-2 px line hundreds of px long). A photograph
of skin is none of these.

Examples
--------
>>> import numpy as np

from hairtrack.config import closeup_stage_params
>>> rng = np.random.default_rng(0)
>>> rgb = rng.integers(150, 200, (256, 320, 3)).astype(np.uint8)
>>> rgb[:20, :120] = 60  # a flat header box
>>> mask = capture_overlay_mask(rgb)
>>> bool(mask[10, 60]), bool(mask[200, 200])
(True, False)
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from hairtrack.config import closeup_stage_params
from hairtrack.labels import components_with_stats

__all__ = ["capture_overlay_mask", "read_scale_bar"]


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Return ``rgb`` as a C-contiguous (M, N, 3) uint8 array, or raise a ValueError."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (M, N, 3) RGB image, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {rgb.dtype}; convert with skimage.util")
    if min(rgb.shape[:2]) < 16:
        raise ValueError(f"image is {rgb.shape[1]}x{rgb.shape[0]} px; need at least 16x16 px")
    return np.ascontiguousarray(rgb)


def _downscale(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink ``rgb`` (area average) so its longer side is at most ``max_side``.

    Returns
    -------
    small : (m, n, 3) uint8 ndarray
    factor : float
        ``small`` size over the input size (1.0 when not shrunk).
    """
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return rgb, 1.0
    # a whole number of pixels per output pixel: OpenCV's fast area path, 2-3x quicker
    # at 12 MP than an arbitrary factor (and the same copy segment_closeup makes)
    step = int(np.ceil(max(h, w) / float(max_side)))
    small = cv2.resize(rgb, None, fx=1.0 / step, fy=1.0 / step, interpolation=cv2.INTER_AREA)
    return small, small.shape[0] / float(h)


def _flat_mask(gray: np.ndarray, *, max_std: float, window: int) -> np.ndarray:
    """Pixels whose neighbourhood has (almost) no variation (in luminance).

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
        The photo's grey levels (``cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)``).
    max_std : float
        Largest local standard deviation (grey levels) still called flat.
    window : int
        Side of the square window, px.

    Returns
    -------
    (M, N) bool ndarray
    """
    f = gray.astype(np.float32)
    mean = cv2.blur(f, (window, window))
    var = cv2.blur(f * f, (window, window)) - mean * mean
    return var <= max_std * max_std


def _flat_boxes(flat: np.ndarray, *, min_area: int, min_fill: float, pad: int) -> np.ndarray:
    """Rectangular flat areas (text boxes, bands), glyph gaps included.

    Parameters
    ----------
    flat : (M, N) bool ndarray
        Output of :func:`_flat_mask`.
    min_area : int
        Smallest box area, px.
    min_fill : float
        Smallest share of its bounding box a component must fill to be called a box.
    pad : int
        Margin added around each box, px.

    Returns
    -------
    (M, N) bool ndarray
    """
    closed = cv2.morphologyEx(
        flat.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    )
    n, _, stats = components_with_stats(closed)
    out = np.zeros(flat.shape, bool)
    h, w = flat.shape
    for x, y, bw, bh, area in stats[1:]:
        if area < min_area or min(bw, bh) < 6:
            continue
        if area / float(bw * bh) < min_fill:
            continue
        out[max(y - pad, 0) : min(y + bh + pad, h), max(x - pad, 0) : min(x + bw + pad, w)] = True
    return out


def _pure_colour(rgb: np.ndarray, *, min_chroma: float, window: int) -> np.ndarray:
    """Pixels whose colour is far from the local skin tone (annotation ink).

    Chroma is measured as (R - G, B - G); the local tone is a box mean over ``window`` px
    (thin ink barely moves it). The pixel must also be saturated itself (max - min of
    R, G, B at least ``min_chroma``), so white or black drawing is left to the other
    detectors.
    Hair (near neutral) and skin (slightly red) stay below ``min_chroma``; pure red, blue,
    cyan or green drawing colours do not.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    min_chroma : float
        Smallest chroma distance from the local median still called ink, grey levels.
    window : int
        Window of the local tone, px.

    Returns
    -------
    (M, N) bool ndarray
    """
    r8, g8, b8 = cv2.split(rgb)
    out = np.zeros(rgb.shape[:2], bool)
    for x in (r8, b8):
        c = cv2.subtract(x, g8, dtype=cv2.CV_32F)
        out |= cv2.absdiff(c, cv2.blur(c, (window, window))) >= min_chroma
    # ink is saturated itself: white or black lines on tinted skin are not
    sat = cv2.subtract(cv2.max(cv2.max(r8, g8), b8), cv2.min(cv2.min(r8, g8), b8))
    out &= sat >= min_chroma
    return out


def _straight_lines(
    gray: np.ndarray, *, min_length: int, contrast: float, size: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Thin (< ``size`` px) axis-aligned lines at least ``min_length`` px long, dark or light.

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
        The photo's grey levels.
    min_length : int
        Shortest line kept, px.
    contrast : float
        Smallest contrast of the line against its ``size`` px neighbourhood, grey levels.
    size : int
        Side of the square the line must be thinner than, px.

    Returns
    -------
    horizontal, vertical : (M, N) bool ndarray
    """
    se = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    thin = np.maximum(
        cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, se), cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, se)
    )
    thin = (thin >= contrast).astype(np.uint8)
    hor = cv2.morphologyEx(thin, cv2.MORPH_OPEN, np.ones((1, min_length), np.uint8)) > 0
    ver = cv2.morphologyEx(thin, cv2.MORPH_OPEN, np.ones((min_length, 1), np.uint8)) > 0
    return hor, ver


def _edge_bands(flat: np.ndarray, *, min_share: float) -> np.ndarray:
    """Uniform bands along the top or bottom edge (rows almost entirely flat).

    Parameters
    ----------
    flat : (M, N) bool ndarray
    min_share : float
        Smallest share of flat pixels in a row for the row to belong to a band.

    Returns
    -------
    (M, N) bool ndarray
    """
    out = np.zeros(flat.shape, bool)
    f8 = np.ascontiguousarray(flat).view(np.uint8)
    for axis in (1, 0):
        # flat.mean(axis=axis), the same float64 values (an exact count over n): numpy
        # averages a bool image through float64, 10x slower than OpenCV's integer sums
        count = cv2.reduce(f8, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        share = count / flat.shape[axis]
        band = share >= min_share
        n = band.size
        first = int(np.argmin(band)) if not band.all() else n
        last = int(np.argmin(band[::-1])) if not band.all() else n
        if axis == 1:
            out[:first] = True
            out[n - last :] = True
        else:
            out[:, :first] = True
            out[:, n - last :] = True
    return out


def _step_rows(gray: np.ndarray, contrast: float, min_length: int) -> np.ndarray:
    """Rows of ``gray`` holding a straight horizontal step (see :func:`_edge_strips`).

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
    contrast : float
        Smallest step across the edge, grey levels.
    min_length : int
        Shortest straight run of the edge, px.

    Returns
    -------
    (K,) int ndarray
        Indices of the rows, ascending.
    """
    gy = np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)) / 4.0
    step = (gy >= contrast).astype(np.uint8)
    step = cv2.morphologyEx(step, cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
    step = cv2.morphologyEx(step, cv2.MORPH_OPEN, np.ones((1, min_length), np.uint8))
    return np.flatnonzero(step.any(axis=1))


def _edge_strips(gray: np.ndarray, *, contrast: float, min_length: int, depth: float) -> np.ndarray:
    """Header or footer strips: a perfectly straight horizontal edge near the top or bottom.

    Text bars of capture software are often semi-transparent (the photo shows through),
    but their lower (or upper) border is a straight, axis-aligned step that a photo of
    skin does not have. Everything between that border and the frame edge is masked.

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
    contrast : float
        Smallest step across the border, grey levels.
    min_length : int
        Shortest straight run of the border, px.
    depth : float
        Largest strip height, as a share of the image height.

    Returns
    -------
    (M, N) bool ndarray
    """
    h = gray.shape[0]
    out = np.zeros(gray.shape, bool)
    lim = max(2, int(depth * h))
    if 2 * (lim + 1) < h:
        # only rows within ``lim`` of the top or bottom count, and each row's test needs
        # its neighbour rows alone (3x3 Sobel, then 1-row morphology): test the two bands,
        # each with one more row than is used (the frame's own edge is the band's edge)
        top = _step_rows(gray[: lim + 1], contrast, min_length)
        top = top[top < lim]
        bottom = _step_rows(gray[h - lim - 1 :], contrast, min_length)
        bottom = (h - lim - 1) + bottom[bottom >= 1]
    else:
        rows = _step_rows(gray, contrast, min_length)
        top = rows[rows < lim]
        bottom = rows[rows >= h - lim]
    if top.size:
        out[: top.max() + 2] = True
    if bottom.size:
        out[max(bottom.min() - 1, 0) :] = True
    return out


def capture_overlay_mask(
    rgb: np.ndarray,
    **params: Any,
) -> np.ndarray:
    """Mask of graphics burned into a close-up photo by the capture software.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        The photo, RGB order.
    **params
        Any of the fields :meth:`hairtrack.config.CloseupParams.overlay_kwargs`
        returns; their defaults and meaning are documented in
        :class:`hairtrack.config.CloseupParams`. An unknown name raises TypeError.

    Returns
    -------
    (M, N) bool ndarray
        True where the pixel belongs to an overlay (not to be analysed).
    """
    p = closeup_stage_params(params, "overlay_kwargs", "capture_overlay_mask")
    rgb = _check_rgb(rgb)
    full_shape = rgb.shape[:2]
    rgb, _ = _downscale(rgb, p.overlay_max_side)
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)  # one grey copy for the three detectors
    flat = _flat_mask(gray, max_std=p.overlay_flat_std, window=5)
    min_area = max(64, int(2e-4 * h * w))
    mask = _flat_boxes(flat, min_area=min_area, min_fill=0.7, pad=p.overlay_pad_px)
    mask |= _edge_bands(flat, min_share=0.9)
    mask |= _edge_strips(
        gray,
        contrast=p.overlay_line_contrast,
        min_length=max(24, int(p.overlay_strip_min_frac * w)),
        depth=p.overlay_strip_depth,
    )

    ink = _pure_colour(rgb, min_chroma=p.overlay_min_chroma, window=21)
    if ink.any():
        # text clusters -> their bounding box (a label box is often semi-transparent)
        ink8 = ink.astype(np.uint8)
        grown = cv2.dilate(ink8, np.ones((15, 15), np.uint8))
        n, lab, stats = components_with_stats(grown)
        diag = np.hypot(h, w)
        curves = np.zeros(n, bool)
        for i, (x, y, bw, bh, _area) in enumerate(stats[1:], start=1):
            n_ink = int(ink[y : y + bh, x : x + bw].sum())
            if n_ink < 40:  # a few odd pixels: skin, not ink
                continue
            if np.hypot(bw, bh) < 0.3 * diag:
                pad = p.overlay_pad_px
                mask[max(y - pad, 0) : y + bh + pad, max(x - pad, 0) : x + bw + pad] = True
            else:  # long curves (circles, pointer lines): the ink itself, grown
                curves[i] = True
        if curves.any():
            mask |= curves[lab] & (cv2.dilate(ink8, np.ones((3, 3), np.uint8)) > 0)

    min_len = max(24, int(p.overlay_line_min_frac * max(h, w)))
    hor, ver = _straight_lines(gray, min_length=min_len, contrast=p.overlay_line_contrast)
    mask |= hor | ver
    k = 2 * p.overlay_pad_px + 1
    mask = cv2.dilate(mask.astype(np.uint8), np.ones((k, k), np.uint8))
    if mask.shape != full_shape:
        mask = cv2.resize(mask, full_shape[::-1], interpolation=cv2.INTER_NEAREST)
    return mask > 0


def _thin_runs(line: np.ndarray, axis: int) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x, y, w, h) of line components at most 6 px thick.

    ``axis`` 1: horizontal lines (thickness = height); 0: vertical (thickness = width).
    """
    _, _, stats = components_with_stats(line)
    out = []
    for x, y, bw, bh in stats[1:, :4]:
        if (bh if axis == 1 else bw) <= 6:
            out.append((int(x), int(y), int(bw), int(bh)))
    return out


def _join_collinear(
    boxes: list[tuple[int, int, int, int]], *, gap: int, short_len: int
) -> list[tuple[int, int, int, int]]:
    """Join runs on the same line separated by at most ``gap`` px; keep the long ones.

    Boxes are horizontal when wider than tall, vertical otherwise; runs join when their
    centre lines are within 2 px and the gap along the line is at most ``gap``.
    """
    boxes = sorted(boxes, key=lambda b: (b[0], b[1]))
    merged: list[list[int]] = []
    for x, y, bw, bh in boxes:
        horizontal = bw >= bh
        for m in merged:
            mx, my, mw, mh = m
            if horizontal and mw >= mh:
                same = abs((y + bh / 2) - (my + mh / 2)) <= 2
                near = x - (mx + mw) <= gap and mx - (x + bw) <= gap
            elif not horizontal and mw < mh:
                same = abs((x + bw / 2) - (mx + mw / 2)) <= 2
                near = y - (my + mh) <= gap and my - (y + bh) <= gap
            else:
                continue
            if same and near:
                nx, ny = min(mx, x), min(my, y)
                m[:] = [nx, ny, max(mx + mw, x + bw) - nx, max(my + mh, y + bh) - ny]
                break
        else:
            merged.append([x, y, bw, bh])
    return [tuple(m) for m in merged if max(m[2], m[3]) >= short_len]


def _ridges_at(
    rgb: np.ndarray, axis: int, r0: int, r1: int, c0: int, c1: int, k: int, contrast: float
) -> tuple[np.ndarray, np.ndarray]:
    """Thin-line test across the lines of a frame, in one window of it.

    The frame is the photo for horizontal lines (``axis`` 1) and its transpose for
    vertical ones (0). A pixel is *bright* (*dark*) when, in any colour channel, it is
    brighter (darker) by at least ``contrast`` than both pixels ``k`` px away across the
    line; the neighbours wrap around the photo's sides (as ``np.roll`` does).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    axis : {1, 0}
    r0, r1, c0, c1 : int
        Frame rows ``r0:r1`` and columns ``c0:c1`` tested.
    k : int
        Distance of the neighbours, px.
    contrast : float

    Returns
    -------
    bright, dark : (r1 - r0, c1 - c0) bool ndarray
        In frame coordinates.
    """
    n = rgb.shape[0] if axis == 1 else rgb.shape[1]  # across the lines
    block = rgb[:, c0:c1] if axis == 1 else rgb[c0:c1]
    ax = 0 if axis == 1 else 1

    def lines(lo: int) -> np.ndarray:  # frame rows lo:lo + r1 - r0, wrapped
        if 0 <= lo and lo + r1 - r0 <= n:
            idx: slice | np.ndarray = slice(lo, lo + r1 - r0)
        else:
            idx = np.arange(lo, lo + r1 - r0) % n
        return block[idx] if ax == 0 else block[:, idx]

    g, a, b = lines(r0), lines(r0 - k), lines(r0 + k)
    if contrast > 0:
        # saturated uint8 differences are >= contrast exactly when the signed ones are;
        # a pixel passes in any channel when the channels' largest difference does
        # (a few OpenCV calls: most windows are small, and numpy's per-call cost dominated)
        ch_b = cv2.split(cv2.subtract(g, cv2.max(a, b)))
        ch_d = cv2.split(cv2.subtract(cv2.min(a, b), g))
        bright = cv2.max(cv2.max(ch_b[0], ch_b[1]), ch_b[2]) >= contrast
        dark = cv2.max(cv2.max(ch_d[0], ch_d[1]), ch_d[2]) >= contrast
    else:
        g, a, b = (v.astype(np.int16) for v in (g, a, b))
        bright = np.minimum(g - a, g - b) >= contrast
        dark = np.minimum(a - g, b - g) >= contrast
        # (an explicit OR: numpy's reductions over a last axis of 3 are slow)
        bright = bright[..., 0] | bright[..., 1] | bright[..., 2]
        dark = dark[..., 0] | dark[..., 1] | dark[..., 2]
    if axis == 0:
        return np.ascontiguousarray(bright.T), np.ascontiguousarray(dark.T)
    return bright, dark


def _every_column(rgb: np.ndarray, step: int) -> np.ndarray:
    """``rgb[:, ::step]`` as a C-contiguous copy.

    For a step of 2 or 4 OpenCV's nearest-neighbour resize makes the same copy 2-3x
    faster than numpy's strided gather: with a power-of-two step its source column
    ``floor(x * step)`` is computed exactly (``1 / step`` and ``step`` are exact floats).
    """
    wid = rgb.shape[1]
    full = wid // step
    if step not in (2, 4) or full == 0:
        return np.ascontiguousarray(rgb[:, ::step])
    out = cv2.resize(rgb[:, : full * step], (full, rgb.shape[0]), interpolation=cv2.INTER_NEAREST)
    if wid > full * step:  # the last column, of a width not a multiple of the step
        out = np.concatenate([out, rgb[:, full * step :: step]], axis=1)
    return out


def _run_seeds(
    rgb: np.ndarray, axis: int, *, k: int, contrast: float, min_run: int, step: int
) -> list[tuple[int, int, int, int]]:
    """Boxes around every place where a thin straight run may lie: a cheap superset.

    A run of at least ``min_run`` pixels that pass :func:`_ridges_at` holds at least
    ``min_run // step`` consecutive samples (every ``step``-th pixel along the line), each
    passing the same test; so do the in-frame parts (at least ``step`` px) of the shorter
    runs the opening keeps at the frame's ends. Boxes around the samples found here
    therefore hold a pixel of every run :func:`_bar_arms` looks at (and more), for a
    ``step``-th of the work. The photo is scanned in strips (small buffers, no full-size
    temporaries).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    axis : {1, 0}
        1: horizontal lines (frame = the photo), 0: vertical lines (frame = its transpose).
    k, contrast
        As in :func:`_ridges_at`.
    min_run : int
        Shortest run, px.
    step : int
        Sampling step along the lines, px (at most half of ``min_run``).

    Returns
    -------
    list of (r0, r1, c0, c1)
        Frame rows ``r0:r1`` and columns ``c0:c1`` of boxes whose union covers every
        seed (the box of each 8-connected group of nearby seeds that is not enclosed by
        another group).
    """
    need = max(1, min_run // step)
    edge = -(-min_run // step) + 1  # samples near the ends, where shorter runs are kept
    ker = np.ones((1, need) if axis == 1 else (need, 1), np.uint8)
    reach = max(3, 2 * min_run // step)  # nearby seeds share one box
    near = np.ones((5, reach) if axis == 1 else (reach, 5), np.uint8)
    hgt, wid = rgb.shape[:2]
    n_lines = hgt if axis == 1 else -(-hgt // step)  # strips run over these
    strip, over = 256, (0 if axis == 1 else need - 1)
    boxes = []
    # every step-th column, once (a strided gather per strip cost more than the tests)
    cols = _every_column(rgb, step) if axis == 1 else rgb
    for s0 in range(0, n_lines, strip):
        e0, e1 = max(s0 - over, 0), min(s0 + strip + over, n_lines)
        if axis == 1:  # rows e0:e1 with k rows either side (wrapping), every step-th column
            if e0 - k >= 0 and e1 + k <= hgt:
                ext = cols[e0 - k : e1 + k]
            else:
                ext = cols[np.arange(e0 - k, e1 + k) % hgt]
            n = e1 - e0
            g, a, b = ext[k : k + n], ext[:n], ext[2 * k : 2 * k + n]
        else:  # every step-th row, with k columns either side (wrapping)
            sub = rgb[e0 * step : e1 * step : step]
            kk = k % wid
            ext = np.concatenate([sub[:, wid - kk :], sub, sub[:, :kk]], axis=1)
            if kk != k:  # k >= wid: the general (slow) gather
                ext = sub[:, np.arange(-k, wid + k) % wid]
            g, a, b = ext[:, k : k + wid], ext[:, :wid], ext[:, 2 * k : 2 * k + wid]
        # saturated differences: >= contrast exactly when the signed ones are (contrast
        # > 0); at contrast <= 0 everything passes, still a superset
        d = cv2.split(cv2.max(cv2.subtract(g, cv2.max(a, b)), cv2.subtract(cv2.min(a, b), g)))
        ridge = (cv2.max(cv2.max(d[0], d[1]), d[2]) >= contrast).view(np.uint8)
        seeds = cv2.morphologyEx(ridge, cv2.MORPH_OPEN, ker)
        if axis == 1:
            seeds[:, :edge] |= ridge[:, :edge]
            seeds[:, -edge:] |= ridge[:, -edge:]
        else:
            if e0 < edge:
                seeds[: edge - e0] |= ridge[: edge - e0]
            if e1 > n_lines - edge:
                first = max(n_lines - edge - e0, 0)
                seeds[first:] |= ridge[first:]
        # each component's box: outer contours only (a component in another's hole lies
        # in that one's box, and the boxes serve only as the union of windows)
        contours, _ = cv2.findContours(
            cv2.dilate(seeds, near), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        for x, y, w, h in map(cv2.boundingRect, contours):
            if axis == 1:
                boxes.append((e0 + y, e0 + y + h, x * step, (x + w - 1) * step + 1))
            else:
                boxes.append((x, x + w, (e0 + y) * step, (e0 + y + h - 1) * step + 1))
    return boxes


def _block_key(rr: np.ndarray, cc: np.ndarray) -> tuple[int, int]:
    """Where OpenCV's 2x2-block labelling first meets a component (photo coordinates).

    ``cv2.connectedComponents`` numbers components in the order in which its scan over
    2x2 blocks (row pairs, then columns) first meets them; sorting by this key restores
    the order a labelling of the whole photo would give.
    """
    pair = int(rr.min()) // 2
    return pair, int(cc[rr // 2 == pair].min()) // 2


def _frame_runs(
    rgb: np.ndarray,
    axis: int,
    *,
    k: int,
    contrast: float,
    min_run: int,
) -> list[list[tuple[tuple[int, int], tuple[int, int, int, int]]]]:
    """The thin straight runs of the whole photo, found in small windows.

    The same components (in the same order) as labelling
    ``open(_ridges_at(whole frame), 1 x min_run)`` over the whole photo, for each
    polarity: windows are opened around the seeds of :func:`_run_seeds`, grown until no
    run touches their edge, where the opening is not exact (``min_run`` px from a side
    that is not the frame's end).

    Returns
    -------
    list (bright, dark) of list of (key, (x, y, w, h))
        Each run's box in frame coordinates, in labelling order; ``key`` is its
        :func:`_block_key`.
    """
    hgt, wid = rgb.shape[:2] if axis == 1 else rgb.shape[1::-1]  # the frame's
    step = max(1, min(4, (min_run + 1) // 2))
    boxes = _run_seeds(rgb, axis, k=k, contrast=contrast, min_run=min_run, step=step)
    ker = np.ones((1, min_run), np.uint8)
    found: list[dict] = [{}, {}]
    windows = _merge_boxes(boxes, hgt, wid, pad_rows=1, pad_cols=2 * min_run + 2)
    # photos full of long straight lines (combed hair) would need windows as large as the
    # photo, many times over: those are searched whole
    budget = 0.3 * hgt * wid - sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in windows)
    for r0, r1, c0, c1 in windows:
        while True:
            budget -= (r1 - r0) * (c1 - c0)
            if budget < 0:
                return _whole_frame_runs(rgb, axis, k=k, contrast=contrast, min_run=min_run)
            bright, dark = _ridges_at(rgb, axis, r0, r1, c0, c1, k, contrast)
            runs = [cv2.morphologyEx(m.view(np.uint8), cv2.MORPH_OPEN, ker) for m in (bright, dark)]
            on = runs[0] | runs[1]
            # exact columns: [xa, xb) (min_run px in from a side that is not the frame's)
            xa = c0 + min_run if c0 > 0 else 0
            xb = c1 - min_run if c1 < wid else wid
            grow = [
                r0 > 0 and bool(on[0].any()),
                r1 < hgt and bool(on[-1].any()),
                c0 > 0 and bool(on[:, xa - c0].any()),
                c1 < wid and bool(on[:, xb - 1 - c0].any()),
            ]
            if not any(grow):
                break
            # geometric growth: a run as long as the frame costs a few rounds, not hundreds
            dr, dc = max(16, (r1 - r0) // 2), max(4 * min_run, (c1 - c0) // 2)
            r0 = max(r0 - dr, 0) if grow[0] else r0
            r1 = min(r1 + dr, hgt) if grow[1] else r1
            c0 = max(c0 - dc, 0) if grow[2] else c0
            c1 = min(c1 + dc, wid) if grow[3] else c1
        for pol in (0, 1):
            if not cv2.countNonZero(runs[pol]):
                continue  # (most windows hold runs of one polarity only)
            m, lab, stats = components_with_stats(runs[pol])
            for i in range(1, m):
                x, y, w, h, _area = (int(v) for v in stats[i])
                if x < xa - c0 or x + w > xb - c0:
                    continue  # outside the exact columns: another window's (or none)
                rr, cc = np.nonzero(lab[y : y + h, x : x + w] == i)
                rr, cc = rr + y + r0, cc + x + c0
                key = _block_key(rr, cc) if axis == 1 else _block_key(cc, rr)
                found[pol][key] = (x + c0, y + r0, w, h)
    return [sorted(f.items()) for f in found]


def _whole_frame_runs(
    rgb: np.ndarray, axis: int, *, k: int, contrast: float, min_run: int
) -> list[list[tuple[None, tuple[int, int, int, int]]]]:
    """What :func:`_frame_runs` returns, found over the whole photo at once (its fallback
    when the windows would cover much of the photo)."""
    hgt, wid = rgb.shape[:2] if axis == 1 else rgb.shape[1::-1]  # the frame's
    maps = [np.empty((hgt, wid), bool), np.empty((hgt, wid), bool)]
    for s0 in range(0, hgt, 256):  # in strips: small temporaries
        s1 = min(s0 + 256, hgt)
        maps[0][s0:s1], maps[1][s0:s1] = _ridges_at(rgb, axis, s0, s1, 0, wid, k, contrast)
    ker = np.ones((1, min_run), np.uint8)
    out: list[list[tuple[None, tuple[int, int, int, int]]]] = []
    for m in maps:
        runs = cv2.morphologyEx(m.view(np.uint8), cv2.MORPH_OPEN, ker)
        # labelled in the photo's orientation: the order _frame_runs reproduces
        n, _, st = components_with_stats(runs if axis == 1 else np.ascontiguousarray(runs.T))
        boxes = [tuple(b) for b in st[1:n, :4].tolist()]
        if axis == 0:
            boxes = [(y, x, h, w) for x, y, w, h in boxes]
        out.append([(None, b) for b in boxes])
    return out


def _merge_boxes(
    boxes: list[tuple[int, int, int, int]], hgt: int, wid: int, *, pad_rows: int, pad_cols: int
) -> list[tuple[int, int, int, int]]:
    """Padded boxes, those that touch merged into their common bounding box (fewer, larger
    windows: each window costs a few array calls).

    Parameters
    ----------
    boxes : list of (r0, r1, c0, c1)
    hgt, wid : int
        Frame size; boxes are clipped to it.
    pad_rows, pad_cols : int
        Margin added on each side, px.

    Returns
    -------
    list of (r0, r1, c0, c1)
    """
    if not boxes:
        return []
    cell = 16
    grid = np.zeros((-(-hgt // cell), -(-wid // cell)), np.uint8)
    for r0, r1, c0, c1 in boxes:
        r0, r1 = max(r0 - pad_rows, 0), min(r1 + pad_rows, hgt)
        c0, c1 = max(c0 - pad_cols, 0), min(c1 + pad_cols, wid)
        grid[r0 // cell : (r1 - 1) // cell + 1, c0 // cell : (c1 - 1) // cell + 1] = 1
    n, _, st = components_with_stats(grid)
    return [
        (y * cell, min((y + h) * cell, hgt), x * cell, min((x + w) * cell, wid))
        for x, y, w, h, _area in st[1:n].tolist()
    ]


def _run_through(ok: np.ndarray, i: int) -> tuple[int, int]:
    """First and last index of the run of True in ``ok`` on either side of index ``i``."""
    bad = np.flatnonzero(~ok)
    j0 = int(np.searchsorted(bad, i, side="left"))
    j1 = int(np.searchsorted(bad, i, side="right"))
    i0 = int(bad[j0 - 1]) + 1 if j0 > 0 else 0
    i1 = int(bad[j1]) - 1 if j1 < bad.size else ok.size - 1
    return i0, i1


def _grow(ok: np.ndarray, i: int, limit: int) -> tuple[int, int]:
    """First and last index of the run of True in ``ok`` through index ``i``, at most
    ``limit`` px either side."""
    i0 = i1 = i
    n = ok.size
    while i0 > 0 and ok[i0 - 1] and i - i0 < limit:
        i0 -= 1
    while i1 < n - 1 and ok[i1 + 1] and i1 - i < limit:
        i1 += 1
    return i0, i1


def _grey_line(rgb: np.ndarray, axis: int, index: int) -> np.ndarray:
    """Grey levels of one row (``axis`` 1) or column (0) of ``rgb``, as
    ``cv2.cvtColor(rgb, COLOR_RGB2GRAY)`` has them (no full-size grey copy is made)."""
    line = rgb[index] if axis == 1 else rgb[:, index]
    return cv2.cvtColor(np.ascontiguousarray(line)[None], cv2.COLOR_RGB2GRAY)[0]


def _median_u8(values: np.ndarray) -> float:
    """``float(np.median(values))`` of a 1-D uint8 array, from its histogram.

    The same value (the middle one, or the mean of the two middle ones, which is exact
    for integers this small) for a tenth of the time of a partition on short runs.
    """
    cum = np.cumsum(np.bincount(values, minlength=256))
    n = values.size
    lo = int(np.searchsorted(cum, (n - 1) // 2, side="right"))
    hi = int(np.searchsorted(cum, n // 2, side="right"))
    return (lo + hi) / 2.0


def _bar_arms(
    rgb: np.ndarray,
    axis: int,
    *,
    contrast: float,
    max_thick: int,
    min_run: int,
    max_std: float,
    min_support: float,
) -> list[tuple[float, int, int, int, float]]:
    """Thin, straight, flat-coloured runs along ``axis`` (1 = horizontal, 0 = vertical).

    Every pixel is tested at full resolution (a 3 px bar line vanishes in a reduced copy),
    but only in small windows around the runs (:func:`_frame_runs`), and the thin-line
    test along an arm only where its colour runs on.

    Returns
    -------
    list of (centre, start, end, thickness, grey)
        ``centre`` is the row (column) of the run's middle line, ``start`` / ``end`` its
        outer ends along the line (inclusive), ``thickness`` across it, px, and ``grey``
        its grey level.
    """
    out: list[tuple[float, int, int, int, float]] = []
    hgt = rgb.shape[0] if axis == 1 else rgb.shape[1]  # the frame's rows
    found = _frame_runs(rgb, axis, k=max_thick, contrast=contrast, min_run=min_run)
    for pol, runs in enumerate(found):
        for _key, (x, y, length, thick) in runs:
            if thick > max_thick:
                continue
            c0, s0 = y + thick // 2, x
            prof = _grey_line(rgb, axis, c0)
            core = prof[s0 + thick : s0 + length - thick]
            if core.size < 4:
                continue
            grey = _median_u8(core)
            # follow the bar's colour past where a crossing hair broke the line test ...
            same = np.abs(prof.astype(np.float32) - grey) <= contrast
            i0, i1 = _run_through(same, s0 + length // 2)
            rows = (max(c0 - 1, 0), min(c0 + 2, hgt))
            sup = _ridges_at(rgb, axis, *rows, i0, i1 + 1, max_thick, contrast)[pol].any(axis=0)
            if sup.mean() < min_support:
                continue
            # ... but end where it is still a thin line: a dark hair or a label box running
            # on from the bar has the bar's colour, not its thinness
            on = np.flatnonzero(sup)
            i0, i1 = i0 + int(on[0]), i0 + int(on[-1])
            # burned-in graphics are flat: the middle line barely changes along the arm
            core = prof[i0 + thick : i1 + 1 - thick].astype(np.float32)
            if core.size < 4 or float(np.std(core)) > max_std:
                continue
            mid = (i0 + i1) // 2
            across = _grey_line(rgb, 1 - axis, mid)
            j0, j1 = _grow(
                np.abs(across.astype(np.float32) - grey) <= contrast / 2, c0, limit=max_thick
            )
            t = j1 - j0 + 1
            if t > max_thick:
                continue
            arm = ((j0 + j1) / 2.0, i0, i1, t, grey)
            if not any(a[:4] == arm[:4] for a in out):
                out.append(arm)
    return out


def read_scale_bar(
    rgb: np.ndarray,
    **params: Any,
) -> float | None:
    """Read the burned-in scale bar into pixels per millimetre.

    The bar is an L of two thin, perfectly axis-aligned, flat-coloured lines meeting at a
    corner. It is read at full resolution (a 1 mm bar may be under 3 % of a 12 MP
    photo's side, and its 3-5 px lines vanish when the photo is shrunk). Each arm's
    length is its centre line: the outer extent minus the line's thickness (the caps
    at both ends), the corner counted in both arms. The longer arm is taken. A lone
    straight line is not trusted, nor an L with more of its colour inside its corner
    (letters of burned-in text): a wrong scale is worse than none. The label cannot be
    read without OCR, so the bar's length in mm is a parameter.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    **params
        Any of the fields :meth:`hairtrack.config.CloseupParams.scale_bar_kwargs`
        returns; their defaults and meaning are documented in
        :class:`hairtrack.config.CloseupParams`. An unknown name raises TypeError.

    Returns
    -------
    float or None
        Pixels per millimetre, or None when no bar is found.
    """
    p = closeup_stage_params(params, "scale_bar_kwargs", "read_scale_bar")
    rgb = _check_rgb(rgb)
    if p.scale_bar_mm <= 0:
        raise ValueError(f"scale_bar_mm must be > 0, got {p.scale_bar_mm}")
    contrast = p.overlay_line_contrast
    kw = {
        "contrast": contrast,
        "max_thick": p.scale_bar_max_thick,
        "min_run": p.scale_bar_min_run_px,
        "max_std": p.scale_bar_max_std,
        "min_support": p.scale_bar_min_support,
    }
    min_len = p.scale_bar_min_frac * max(rgb.shape[:2])
    # An arm of an L is at least 0.2 x its length >= 0.2 x min_len long, and the corner
    # adds at most tol - thickness <= max_thick + 1 px to an arm's own extent: arms
    # shorter can be in no L. Without a vertical arm that long there is no L at all,
    # and the horizontal search (the same result, None) is skipped.
    shortest = 0.2 * min_len - p.scale_bar_max_thick - 2

    def arms(axis: int) -> list[tuple[float, int, int, int, float]]:
        return [a for a in _bar_arms(rgb, axis, **kw) if a[2] - a[1] + 1 >= shortest]

    ver = arms(0)
    hor = arms(1) if ver else []
    pad = p.scale_bar_max_thick + 2
    best = 0.0
    for hy, hx0, hx1, ht, hc in hor:
        for vx, vy0, vy1, vt, vc in ver:
            if abs(hc - vc) > contrast:
                continue
            # an L: a vertical arm ends where a horizontal does
            tol = max(ht, vt) + 2
            left, right = abs(vx - hx0 - vt / 2), abs(hx1 - vt / 2 - vx)
            top, bottom = abs(hy - vy0 - ht / 2), abs(vy1 - ht / 2 - hy)
            if min(left, right) > tol or min(top, bottom) > tol:
                continue
            # the corner belongs to both arms: each runs to the other's outer edge
            x0, x1, y0, y1 = hx0, hx1, vy0, vy1
            if left <= right:
                x0 = min(x0, int(round(vx - (vt - 1) / 2)))
            else:
                x1 = max(x1, int(round(vx + (vt - 1) / 2)))
            if top <= bottom:
                y0 = min(y0, int(round(hy - (ht - 1) / 2)))
            else:
                y1 = max(y1, int(round(hy + (ht - 1) / 2)))
            lh, lv = x1 - x0 + 1 - ht, y1 - y0 + 1 - vt
            length = max(lh, lv)
            if min(lh, lv) < 0.2 * length or length < min_len or length <= best:
                continue
            # an L stands alone: little of its colour inside its corner's box (letters have)
            yy, xx = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
            away = (np.abs(yy - hy) > pad) & (np.abs(xx - vx) > pad)
            # in colour: a white bar and pale skin differ little in grey
            colour = np.median(rgb[int(round(hy)), hx0 : hx1 + 1].astype(np.float32), axis=0)
            box = rgb[y0 : y1 + 1, x0 : x1 + 1].astype(np.float32)
            inside = np.abs(box - colour).max(axis=2) <= contrast
            if not away.any() or float(inside[away].mean()) > p.scale_bar_max_interior:
                continue
            best = float(length)
    if best == 0:
        return None
    return best / p.scale_bar_mm
