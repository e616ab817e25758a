"""Segment hair pixels: the ``segment`` stage.

Pure functions on arrays: an RGB image (and a region mask) in, a boolean hair mask out.
"""

from __future__ import annotations

from dataclasses import dataclass as _dataclass
from typing import Any

# ---- close-up photos (trichoscope / dermoscope) -------------------------------------
# Dark hair on light skin is the usual case, light (grey, blond, white) hair on dark skin
# the other: every step works on a "hairness" image in which hair is bright, whichever
# polarity the photo has. Sizes are relative to the typical shaft width, which is measured
# on a small probe copy first; the photo is then analysed at a working scale where shafts
# are about ``target_width_px`` wide (fast, and the same parameters fit every device).
import cv2 as _cv2
import numpy as _np

from hairtrack.config import closeup_stage_params
from hairtrack.jpeg import jpeg_quality as _jpeg_quality
from hairtrack.labels import component_axes as _component_axes
from hairtrack.labels import components_with_stats as _components_with_stats
from hairtrack.morph import disk_morph as _disk_morph
from hairtrack.morph import mean_depth as _mean_depth
from hairtrack.normalise import flatten_illumination as _flatten
from hairtrack.normalise import luminance as _luminance
from hairtrack.overlays import capture_overlay_mask as _capture_overlay_mask


@_dataclass(frozen=True)
class CloseupSegmentation:
    """Hair mask of a close-up photo and what was learnt on the way.

    Attributes
    ----------
    mask : (M, N) bool ndarray
        Hair pixels at the input's size, inside ``region`` only.
    polarity : {'dark', 'light'}
        Hair darker ('dark') or lighter ('light') than the skin.
    region : (M, N) bool ndarray
        Pixels analysed: the given region minus burned-in capture overlays.
    shaft_width_px : float
        Typical (median) shaft width in input pixels, over the shafts of the main
        detector (thin shafts found by the ridge filter left out); NaN when no hair was
        found.
    work_scale : float
        Size of the working copy over the input size (<= 1).
    work_mask : (m, n) bool ndarray
        Hair mask at the working scale (what :func:`hairtrack.count.count_hairs` takes).
        Overlays are painted over (inpainted) before segmenting, so a shaft crossing a
        drawn circle or scale bar stays whole here; ``mask`` leaves overlays out.
    work_region : (m, n) bool ndarray
        ``region`` at the working scale.
    hair_share : (m, n) float32 ndarray or None
        Estimated hair share of each working pixel (0-1): 1 inside the shafts, the
        pixel's contrast over its shaft's core contrast on the pixels along the shafts'
        edges (a pixel half covered by hair counts half), 0 elsewhere. Its mean is the
        coverage; ``work_mask`` keeps the edge a hand tracer draws (see
        :func:`_edge_share`). None when not computed.
    channel : {'luma', 'extreme', 'red', 'green', 'blue'}
        Grey image the hair was found in (``channel='auto'`` resolved; 'luma' for a grey
        photo). Another photo of the same scalp and hair is read alike by passing it on.
    hair_contrast : float
        Median relative contrast of the hair found against the skin around it (its
        hairness, 0-1, over the coarse detector's mask); NaN when no hair was found.
        Hair this faint is read unreliably: a small change of light or blur moves a large
        share of it across the detection threshold. Hair read again along its colour
        (``colour_direction``) has its contrast read in that projection, which keeps the
        skin's spread of the grey image: how far the hair stands above the skin's
        texture where it was found.
    colour_direction : (float, float, float) or None
        The colour direction the hair was read along when it was read again along its
        own colour (:func:`_colour_reread`, ``CloseupParams.colour_reread_below``) and
        that read kept: weights of the skin-flattened R, G, B contrasts; None when it
        was not. Another photo of the same scalp and hair, relit to this one, is read
        alike by passing it on (``CloseupParams.colour_direction``).
    probe_width_px : float
        Shaft width, input px, that set the working scale: the probe's estimate, or the
        width given (``given_width_px``); NaN when the probe found no hair.
    work_region_share : (m, n) float32 ndarray or None
        Share of each working pixel that lies in ``region`` (0-1), area-averaged from
        the reduced copy the overlays were found on (``region`` is those overlays
        brought up to full size); None when no region was given and no overlay found
        (the region is the whole frame), or when a region was given.
    """

    mask: _np.ndarray
    polarity: str
    region: _np.ndarray
    shaft_width_px: float
    work_scale: float
    work_mask: _np.ndarray
    work_region: _np.ndarray
    hair_share: _np.ndarray | None = None
    channel: str = "luma"
    hair_contrast: float = float("nan")
    work_region_share: _np.ndarray | None = None
    probe_width_px: float = float("nan")
    colour_direction: tuple[float, float, float] | None = None


def _check_closeup_image(image: _np.ndarray) -> _np.ndarray:
    """Return ``image`` as a C-contiguous (M, N) or (M, N, 3) uint8 array, or raise."""
    image = _np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected an (M, N, 3) RGB or (M, N) grey image, got {image.shape}")
    if image.dtype != _np.uint8:
        raise ValueError(f"expected uint8 pixels, got {image.dtype}; use skimage.util.img_as_ubyte")
    if min(image.shape[:2]) < 32:
        raise ValueError(
            f"image is {image.shape[1]}x{image.shape[0]} px; close-up segmentation needs "
            "at least 32x32 px"
        )
    return _np.ascontiguousarray(image)


def _resize(image: _np.ndarray, factor: float, interpolation: int = _cv2.INTER_AREA) -> _np.ndarray:
    """Resize by ``factor`` (no-op at 1.0)."""
    if factor == 1.0:
        return image
    inv = 1.0 / factor
    if abs(inv - round(inv)) < 1e-9:  # integer step: OpenCV's fast path
        return _cv2.resize(image, None, fx=factor, fy=factor, interpolation=interpolation)
    h, w = image.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return _cv2.resize(image, size, interpolation=interpolation)


def _nearest_map(n_src: int, n_dst: int) -> _np.ndarray:
    """Source index of each of ``n_dst`` output rows in OpenCV's nearest-neighbour resize
    from ``n_src`` rows (read off OpenCV itself, resizing the row numbers)."""
    rows = _np.arange(n_src, dtype=_np.float32).reshape(-1, 1)
    out = _cv2.resize(rows, (1, n_dst), interpolation=_cv2.INTER_NEAREST)
    return out.ravel().astype(_np.intp)


def _keep_up(drop: _np.ndarray, shape: tuple[int, int]) -> tuple[_np.ndarray, tuple]:
    """``~drop`` brought up to ``shape`` as ``cv2.resize(..., INTER_NEAREST)`` does.

    Where the pixels dropped are few (overlays in a corner or along an edge), only the
    box that holds them is filled from ``drop``, the rest set True.

    Returns
    -------
    keep : (M, N) bool ndarray
    box : tuple of slice
        The part of ``keep`` that may be False.
    """
    rr, cc = _np.nonzero(drop.any(axis=1))[0], _np.nonzero(drop.any(axis=0))[0]
    h, w = shape
    rows = _nearest_map(drop.shape[0], h)
    cols = _nearest_map(drop.shape[1], w)
    y0, y1 = _np.searchsorted(rows, rr[0]), _np.searchsorted(rows, rr[-1], side="right")
    x0, x1 = _np.searchsorted(cols, cc[0]), _np.searchsorted(cols, cc[-1], side="right")
    box = (slice(int(y0), int(y1)), slice(int(x0), int(x1)))
    if (y1 - y0) * (x1 - x0) > h * w // 4:  # a large box: OpenCV's resize is quicker
        keep = _cv2.resize((~drop).view(_np.uint8), (w, h), interpolation=_cv2.INTER_NEAREST)
        return keep.view(bool), (slice(0, h), slice(0, w))
    keep = _np.ones(shape, bool)
    keep[box] = ~drop[_np.ix_(rows[box[0]], cols[box[1]])]
    return keep, box


def _resize_mask(mask: _np.ndarray, shape: tuple[int, int]) -> _np.ndarray:
    """Resize a bool mask to ``shape`` (rows, cols) with linear interpolation at 0.5."""
    if mask.shape == tuple(shape):
        return mask
    m = _cv2.resize(mask.astype(_np.uint8) * 255, shape[::-1], interpolation=_cv2.INTER_LINEAR)
    return m >= 128


_RGB = ("red", "green", "blue")


def _hair_channel(image: _np.ndarray, polarity: str, channel: str) -> _np.ndarray:
    """Grey image in which hair stands out, as float32 (0-255).

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
    polarity : {'dark', 'light'}
    channel : {'extreme', 'luma', 'red', 'green', 'blue'}
        'extreme': max over R, G, B for dark hair, min for light hair (only hair is
        dark, or light, in every channel); 'luma': ITU-R 601 luma; 'red', 'green',
        'blue': that channel alone.

    Returns
    -------
    (M, N) float32 ndarray
    """
    if image.ndim == 2:
        return image.astype(_np.float32)
    if channel == "luma":
        return _luminance(image)
    if channel in _RGB:
        return image[..., _RGB.index(channel)].astype(_np.float32)
    if channel != "extreme":
        raise ValueError(
            f"channel must be 'extreme', 'luma', 'red', 'green' or 'blue', got {channel!r}"
        )
    ext = image.max(axis=2) if polarity == "dark" else image.min(axis=2)
    return ext.astype(_np.float32)


def _hairness(flat: _np.ndarray, polarity: str, diameter: int) -> _np.ndarray:
    """Local contrast of thin structures of the given polarity (hair bright, skin ~0).

    Black-hat (closing minus image) for dark hair, top-hat (image minus opening) for
    light hair, with a disk a few shaft widths across.

    Parameters
    ----------
    flat : (M, N) float32 ndarray
        Illumination-flattened grey image (skin ~1).
    polarity : {'dark', 'light'}
    diameter : int
        Disk diameter, px (larger than the widest shaft).

    Returns
    -------
    (M, N) float32 ndarray, >= 0
    """
    d = max(3, int(diameter) | 1)
    if polarity == "dark":  # black-hat: closing minus image
        local = _disk_morph(_disk_morph(flat, d, dilate=True), d, dilate=False) - flat
    else:  # top-hat: image minus opening
        local = flat - _disk_morph(_disk_morph(flat, d, dilate=False), d, dilate=True)
    # and against the smooth skin level (1.0): dark gaps between bright flakes are
    # locally dark but not darker than the skin, so they drop out
    broad = (1.0 - flat) if polarity == "dark" else (flat - 1.0)
    return _np.maximum(_np.minimum(local, broad), 0.0)


def _broad(flat: _np.ndarray, polarity: str) -> _np.ndarray:
    """Contrast of ``flat`` against the smooth skin level (1.0) at ``polarity``, >= 0."""
    return _np.maximum((1.0 - flat) if polarity == "dark" else (flat - 1.0), 0.0)


def _high_percentile(values: _np.ndarray, q: float) -> float:
    """``float(np.percentile(values, q))`` of a large finite 1-D sample, for ``q`` near 100.

    The same value, without partitioning the whole sample: np.percentile interpolates
    between two neighbouring order statistics; a strided subsample gives a level that
    (checked) leaves both above it, and only the values above it are partitioned. The
    two are then interpolated by np.quantile itself (at the same fraction), so the
    rounding is NumPy's. Small samples, lower percentiles or a level that does not
    hold go to np.percentile.
    """
    v = values.ravel()
    n = v.size
    vi = (n - 1) * (q / 100.0)  # as np.percentile computes the position
    lo = int(_np.floor(vi))
    need = n - lo  # the order statistics lo .. n - 1
    if n < 4096 or not 0 <= lo < n - 1 or need > n // 16:
        return float(_np.percentile(v, q))
    sample = v[::32]
    k = max(0, sample.size - 1 - 4 * (need // 32 + 1))  # ~4x the share needed above it
    level = _np.partition(sample, k)[k]
    top = v[v >= level]
    if top.size < need:
        return float(_np.percentile(v, q))
    j = top.size - need  # order statistic lo of v is order statistic j of top
    pair = _np.partition(top, (j, j + 1))[j : j + 2]
    return float(_np.quantile(pair, vi - lo))


def _otsu(values: _np.ndarray) -> float:
    """Otsu threshold of a 1-D float sample (256 bins between 0 and its 99.9th percentile)."""
    if values.size == 0:
        return float("inf")
    top = _high_percentile(values, 99.9)
    if top <= 0:
        return float("inf")
    v8 = _np.clip(values * (255.0 / top), 0, 255).astype(_np.uint8).reshape(-1, 1)
    t, _ = _cv2.threshold(v8, 0, 255, _cv2.THRESH_BINARY + _cv2.THRESH_OTSU)
    return float(t) * top / 255.0


def _hysteresis(image: _np.ndarray, low: float, high: float) -> _np.ndarray:
    """Pixels >= ``low`` that are 8-connected to a pixel >= ``high``."""
    weak = (image >= low).astype(_np.uint8)
    n, lab = _cv2.connectedComponents(weak, connectivity=8)
    keep = _np.zeros(n, bool)
    keep[lab[image >= high]] = True
    keep[0] = False
    return keep[lab]


def _refine_edges(h: _np.ndarray, seeds: _np.ndarray, *, frac: float, radius: int) -> _np.ndarray:
    """Trace shaft edges at a share ``frac`` of the local peak hairness (half-maximum).

    A fixed threshold makes strong hairs fat and faint hairs thin; cutting each shaft at
    a share of its own ridge height gives the edge a hand tracer would draw.

    Parameters
    ----------
    h : (M, N) float32 ndarray
        Hairness.
    seeds : (M, N) bool ndarray
        Detected hair.
    frac : float
        Share of the local peak at which the edge is drawn (0-1).
    radius : int
        How far from the detection the edge may move, px (about one shaft width).

    Returns
    -------
    (M, N) bool ndarray
    """
    r = max(1, int(radius))
    se = _cv2.getStructuringElement(_cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    peak = _cv2.dilate(_np.where(seeds, h, 0).astype(_np.float32), se)
    grow = _cv2.dilate(seeds.astype(_np.uint8), se) > 0
    return grow & (h >= frac * peak) & (peak > 0)


def _edge_share(
    h: _np.ndarray, mask: _np.ndarray, *, radius: int, core_sigma: float, ring: int
) -> _np.ndarray:
    """Hair share of each pixel (0-1) from a shaft mask and its hairness.

    A pixel on a shaft's edge is partly hair: with skin at hairness 0 and the shaft's
    core at ``c``, a pixel of hairness ``h`` is about ``h / c`` hair (linear mixing of
    the two). Pixels inside the mask (not on its boundary) count 1, pixels on the
    mask's boundary and in the ``ring`` px outside it count ``clip(h / c, 0, 1)``, all
    others 0. The core level ``c`` is the largest smoothed hairness of the mask within
    ``radius`` (smoothing keeps noise from inflating it).

    Parameters
    ----------
    h : (M, N) float32 ndarray
        Hairness.
    mask : (M, N) bool ndarray
        Shaft mask (edges drawn at a share of the core contrast).
    radius : int
        How far the core level is looked for, px (about one shaft width).
    core_sigma : float
        Gaussian smoothing of the hairness before its core level is taken, px.
    ring : int
        Width of the ring outside the mask whose pixels may be partly hair, px (the
        edge's 1 px ramp plus the camera's blur).

    Returns
    -------
    (M, N) float32 ndarray
    """
    share = mask.astype(_np.float32)
    if not mask.any():
        return share
    r = max(1, int(radius))
    se = _cv2.getStructuringElement(_cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    hs = _cv2.GaussianBlur(h.astype(_np.float32), (0, 0), core_sigma) if core_sigma > 0 else h
    core = _cv2.dilate(_np.where(mask, hs, 0).astype(_np.float32), se)
    m8 = mask.view(_np.uint8)
    k3 = _np.ones((3, 3), _np.uint8)
    k_out = _np.ones((2 * max(0, int(ring)) + 1,) * 2, _np.uint8)
    band = (_cv2.dilate(m8, k_out) > 0) & ~(_cv2.erode(m8, k3) > 0) & (core > 0)
    share[band] = _np.clip(h[band] / core[band], 0.0, 1.0)
    return share


def _drop_blobs(
    mask: _np.ndarray, *, min_length: float, min_elongation: float, max_blob: float
) -> _np.ndarray:
    """Remove components too short, or round and small (pores, dandruff, debris).

    Parameters
    ----------
    mask : (M, N) bool ndarray
    min_length : float
        Shortest component kept (major axis), px.
    min_elongation : float
        Components with major/minor below this are kept only when at least ``max_blob``
        long (a tuft of short stubs side by side is round too, but larger than a pore).
    max_blob : float
        Longest round component dropped, px.

    Returns
    -------
    (M, N) bool ndarray
    """
    lab, major, minor = _component_axes(mask)
    elong = major / _np.maximum(minor, 1.0)
    keep = (major >= min_length) & ((elong >= min_elongation) | (major >= max_blob))
    keep[0] = False
    return keep[lab]


def _drop_faint(
    mask: _np.ndarray,
    h: _np.ndarray,
    *,
    rel_peak: float,
    broad: _np.ndarray | None = None,
    rel_dark: float = 0.0,
) -> _np.ndarray:
    """Remove components whose peak hairness is below ``rel_peak`` x that of the strong ones.

    The reference is the 90th percentile of the component peaks: faint, fuzzy companions
    (the bluish sheath at a follicle opening, scale, shadows) are much weaker than the
    shafts of the same photo. With ``broad``, a component whose peak contrast against
    the smooth skin level reaches ``rel_dark`` x the same reference of that contrast is
    kept whatever its hairness: a tuft wider than the hairness disk, or lying in its
    opening's shadow, reads faint to the black-hat though it is as dark as any shaft.

    Parameters
    ----------
    mask : (M, N) bool ndarray
    h : (M, N) float32 ndarray
        Hairness.
    rel_peak : float
        Share of the reference peak a component must reach (0 keeps all).
    broad : (M, N) float32 ndarray, optional
        Contrast against the smooth skin level (``1 - flat`` for dark hair).
    rel_dark : float
        Share of the reference peak of ``broad`` that keeps a component (0: not used).

    Returns
    -------
    (M, N) bool ndarray
    """
    if rel_peak <= 0 or not mask.any():
        return mask
    n, lab = _cv2.connectedComponents(mask.astype(_np.uint8), connectivity=8)
    if n <= 1:
        return mask
    ll = lab[mask]
    order = _np.argsort(ll, kind="stable")
    starts = _np.searchsorted(ll[order], _np.arange(1, n))
    peaks = _np.maximum.reduceat(h[mask][order].astype(float), starts)
    ref = float(_np.percentile(peaks, 90))
    keep = peaks >= rel_peak * ref
    if broad is not None and rel_dark > 0:
        dark = _np.maximum.reduceat(broad[mask][order].astype(float), starts)
        keep |= dark >= rel_dark * float(_np.percentile(dark, 90))
    return _np.concatenate([[False], keep])[lab]


def _detect(
    h: _np.ndarray,
    region: _np.ndarray | None,
    *,
    width: float,
    hysteresis_low: float,
    hysteresis_high: float,
    min_contrast: float,
    edge_frac: float,
    min_length_widths: float,
    min_elongation: float,
    max_blob_widths: float,
    rel_peak: float,
    broad: _np.ndarray | None = None,
    rel_dark: float = 0.0,
) -> _np.ndarray:
    """Hairness -> hair mask: hysteresis on Otsu's threshold, edge tracing, blob removal.

    Parameters
    ----------
    h : (M, N) float32 ndarray
        Hairness.
    region : (M, N) bool ndarray or None
        Pixels analysed.
    width : float
        Typical shaft width at this scale, px.
    hysteresis_low, hysteresis_high, min_contrast, edge_frac, min_length_widths,
    min_elongation, max_blob_widths, rel_peak
        As in :func:`segment_closeup`.
    broad, rel_dark
        As in :func:`_drop_faint` (``rel_dark``: ``CloseupParams.rel_dark``).

    Returns
    -------
    (M, N) bool ndarray
    """
    vals = h[region] if region is not None else h.ravel()
    t = max(_otsu(vals), min_contrast)
    seeds = _hysteresis(h, hysteresis_low * t, hysteresis_high * t)
    if region is not None:
        seeds &= region
    mask = _refine_edges(h, seeds, frac=edge_frac, radius=max(1, round(width)))
    mask &= h >= 0.5 * hysteresis_low * t
    if region is not None:
        mask &= region
    mask = _drop_blobs(
        mask,
        min_length=min_length_widths * width,
        min_elongation=min_elongation,
        max_blob=max_blob_widths * width,
    )
    return _drop_faint(mask, h, rel_peak=rel_peak, broad=broad, rel_dark=rel_dark)


def _median_width(mask: _np.ndarray, q: float = 50.0) -> float:
    """Shaft width (2 x distance to the edge on the medial axis), px; NaN if empty.

    ``q`` is the percentile over medial-axis pixels (50: the median).
    """
    if not mask.any():
        return float("nan")
    from skimage.morphology import skeletonize

    dt = _cv2.distanceTransform(mask.astype(_np.uint8), _cv2.DIST_L2, 5)
    sk = skeletonize(mask)
    vals = dt[sk]
    return float(2.0 * _np.percentile(vals, q)) if vals.size else float("nan")


def decide_polarity(
    flat: _np.ndarray,
    *,
    region: _np.ndarray | None = None,
    diameter: int = 15,
    min_contrast: float = 0.1,
    depth_ratio: float = 0.0,
) -> str:
    """Decide whether hair is darker or lighter than the skin.

    Both polarities are segmented coarsely; the one whose elongated (line-like)
    structures carry more contrast wins (sum of the cubed hairness over line-like
    components, i.e. large extent for little area: the cube favours a few strong shafts
    over much faint skin texture). Round bright flakes and round dark pores add nothing.

    With ``depth_ratio``, a close call (neither polarity carrying ``depth_ratio`` times
    the other's contrast) goes to the polarity whose line-like structures are thinner
    (:func:`_mean_depth`): in a dense field of long hair the skin between the shafts
    reads as ridges of the other polarity, wedges wider than the shafts, and carries
    about as much contrast as the shafts themselves.

    Parameters
    ----------
    flat : (M, N) float32 ndarray
        Illumination-flattened grey image (skin ~1), e.g. from
        :func:`hairtrack.normalise.flatten_illumination`.
    region : (M, N) bool ndarray, optional
        Pixels to look at.
    diameter : int
        Disk diameter of the hairness filter, px (a few shaft widths).
    min_contrast : float
        Weakest relative contrast counted.
    depth_ratio : float
        Score ratio below which the thinner structures decide (0: never;
        ``CloseupParams.polarity_depth_ratio``).

    Returns
    -------
    {'dark', 'light'}
    """
    return _decide_polarity(flat, region, diameter, min_contrast, depth_ratio)[0]


def _decide_polarity(
    flat: _np.ndarray,
    region: _np.ndarray | None,
    diameter: int,
    min_contrast: float,
    depth_ratio: float = 0.0,
) -> tuple[str, _np.ndarray]:
    """:func:`decide_polarity`, and the hairness of ``flat`` at the polarity decided."""
    flat = _np.asarray(flat, _np.float32)
    if flat.ndim != 2:
        raise ValueError(f"expected an (M, N) grey image, got shape {flat.shape}")
    hs = {pol: _hairness(flat, pol, diameter) for pol in ("dark", "light")}
    found = {
        pol: _line_mask(
            flat, pol, region=region, diameter=diameter, min_contrast=min_contrast, h=hs[pol]
        )
        for pol in ("dark", "light")
    }
    scores = {pol: _cubed_sum(hs[pol], found[pol]) for pol in found}
    pol = "light" if scores["light"] > scores["dark"] else "dark"
    other = "dark" if pol == "light" else "light"
    if depth_ratio > 0 and scores[pol] < depth_ratio * scores[other]:
        depth = {k: _mean_depth(m) for k, m in found.items()}
        if depth[other] > 0 and depth[other] < depth[pol]:
            pol = other
    return pol, hs[pol]


def _cubed_sum(h: _np.ndarray, mask: _np.ndarray) -> float:
    """Sum of ``h ** 3`` over ``mask`` (float64)."""
    hv = h[mask].astype(_np.float64)
    return float((hv * hv * hv).sum())


def _line_mask(
    flat: _np.ndarray,
    polarity: str,
    *,
    region: _np.ndarray | None,
    diameter: int,
    min_contrast: float,
    h: _np.ndarray | None = None,
) -> _np.ndarray:
    """The line-like components (large extent for little area: a line, a cross, a fan
    of shafts) of a coarse hysteresis mask of one polarity's hairness.
    ``h``: the hairness of ``flat``, when known."""
    if h is None:
        h = _hairness(flat, polarity, diameter)
    vals = h[region] if region is not None else h.ravel()
    t = max(_otsu(vals), min_contrast)
    seeds = _hysteresis(h, 0.7 * t, 1.3 * t)
    if region is not None:
        seeds &= region
    _, lab, stats = _components_with_stats(seeds)
    extent = _np.hypot(stats[:, 2], stats[:, 3]).astype(float)
    good = (extent >= diameter / 2) & (stats[:, 4] <= 0.2 * extent * extent)
    good[0] = False
    return good[lab]


def _line_score(
    flat: _np.ndarray,
    polarity: str,
    *,
    region: _np.ndarray | None,
    diameter: int,
    min_contrast: float,
) -> float:
    """Contrast carried by line-like structures of one polarity (see :func:`decide_polarity`):
    the sum of the cubed hairness over the line-like components (:func:`_line_mask`)."""
    h = _hairness(flat, polarity, diameter)
    mask = _line_mask(
        flat, polarity, region=region, diameter=diameter, min_contrast=min_contrast, h=h
    )
    return _cubed_sum(h, mask)


def choose_channel(
    image: _np.ndarray,
    *,
    polarity: str = "auto",
    region: _np.ndarray | None = None,
    diameter: int = 15,
    sigma: float = 40.0,
    switch_ratio: float = 3.0,
) -> tuple[str, str]:
    """Pick the grey image (luma or one of R, G, B) and polarity in which hair shows best.

    Luma mixes the channels: grey hair on pink skin, or blond hair on light skin, can be
    as bright as the skin in luma yet clearly darker in one channel (blond lacks blue,
    grey lacks red) or lighter in another. Each candidate is flattened and scored like
    :func:`decide_polarity` (the contrast carried by line-like structures); luma, the
    least noisy, is kept unless a single channel scores ``switch_ratio`` times higher
    (at 2 a few real dark-hair trichoscopy photos switch to a channel and count worse;
    at 3 none does, while grey and blond hair on light skin still switch).

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        Small copy of the photo.
    polarity : {'auto', 'dark', 'light'}
        Polarities to consider ('auto': both).
    region : (M, N) bool ndarray, optional
        Pixels to look at.
    diameter : int
        Disk diameter of the hairness filter, px (a few shaft widths).
    sigma : float
        Scale of the illumination flattening, px.
    switch_ratio : float
        How many times better than luma a single channel must score to be used.

    Returns
    -------
    channel : {'luma', 'red', 'green', 'blue'}
    polarity : {'dark', 'light'}
    """
    pols = ("dark", "light") if polarity == "auto" else (polarity,)
    names = ("luma",) + (_RGB if image.ndim == 3 else ())
    scores = {}
    for name in names:
        flat = _flatten(_hair_channel(image, "dark", name), sigma=sigma)
        for pol in pols:
            scores[name, pol] = _line_score(
                flat, pol, region=region, diameter=diameter, min_contrast=0.1
            )
    luma = max((k for k in scores if k[0] == "luma"), key=lambda k: scores[k])
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > switch_ratio * scores[luma] else luma


def _line_strength(flat: _np.ndarray, polarity: str, sigma: float) -> _np.ndarray:
    """Scale-normalised contrast of thin lines of the given polarity (Hessian ridges).

    Across a thin dark line the second derivative is strongly positive and along it
    about zero; a round pore or flake curves both ways and scores ~0. The value is
    ``sigma**2 * (lambda_across - |lambda_along|)``, clipped at 0.

    Parameters
    ----------
    flat : (M, N) float32 ndarray
        Illumination-flattened grey image (skin ~1).
    polarity : {'dark', 'light'}
    sigma : float
        Gaussian scale, px (about a thin shaft's width).

    Returns
    -------
    (M, N) float32 ndarray, >= 0
    """
    g = _cv2.GaussianBlur(flat.astype(_np.float32), (0, 0), sigma)
    kxx = _np.array([[1.0, -2.0, 1.0]], _np.float32)
    kxy = _np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 1.0]], _np.float32) / 4
    dxx = _cv2.filter2D(g, -1, kxx, borderType=_cv2.BORDER_REFLECT)
    dyy = _cv2.filter2D(g, -1, kxx.T, borderType=_cv2.BORDER_REFLECT)
    dxy = _cv2.filter2D(g, -1, kxy, borderType=_cv2.BORDER_REFLECT)
    # the eigenvalues 0.5 (dxx + dyy +- sqrt((dxx - dyy)^2 + 4 dxy^2)), in a few buffers
    # reused in place (the same operations in the same order as the plain expressions)
    root = _np.subtract(dxx, dyy)
    _np.multiply(root, root, out=root)
    cross = _np.multiply(dxy, 4)
    cross *= dxy
    root += cross
    _np.sqrt(root, out=root)
    trace = _np.add(dxx, dyy, out=dxx)
    big = _np.add(trace, root, out=dyy)
    big *= 0.5
    small = _np.subtract(trace, root, out=root)
    small *= 0.5
    if polarity == "dark":
        r = _np.subtract(big, _np.abs(small, out=small), out=big)
    else:
        r = _np.subtract(_np.negative(small, out=small), _np.abs(big, out=big), out=small)
    _np.maximum(r, 0, out=r)
    r *= sigma * sigma
    return r


def _thin_shafts(
    flat: _np.ndarray,
    polarity: str,
    coarse: _np.ndarray,
    region: _np.ndarray | None,
    *,
    width: float,
    sigma_widths: float,
    snr: float,
    min_contrast: float,
    min_length_widths: float,
    min_elongation: float,
    pad_widths: float,
) -> _np.ndarray:
    """Thin (vellus) shafts the coarse detector misses: long, thin Hessian ridges.

    The black-hat / top-hat of :func:`_hairness` is tuned to terminal shafts; a shaft of
    a quarter of their width is lost in its threshold. Here thin lines are found with a
    ridge filter at about their own width, thresholded against the ridge response of the
    bare skin (its 99th percentile, away from the coarse mask); only long, straight-ish,
    thin components are kept, so pores, flakes and skin texture stay out. Pixels next to
    the coarse mask are left out (a thick shaft's edge is a ridge too).

    Parameters
    ----------
    flat : (M, N) float32 ndarray
        Illumination-flattened grey image (skin ~1), working scale.
    polarity : {'dark', 'light'}
    coarse : (M, N) bool ndarray
        Mask found by the coarse detector.
    region : (M, N) bool ndarray or None
        Pixels analysed.
    width : float
        Typical (terminal) shaft width, px.
    sigma_widths, snr, min_contrast, min_length_widths, min_elongation, pad_widths
        As ``thin_*`` in :func:`segment_closeup`.

    Returns
    -------
    (M, N) bool ndarray
        Thin-shaft pixels (not touching ``coarse``).
    """
    sigma = max(0.7, sigma_widths * width)
    r = _line_strength(flat, polarity, sigma)
    free = _away_from(coarse, region, max(1, round(pad_widths * width)))
    if free.sum() < 100:
        return _np.zeros_like(coarse)
    noise = _high_percentile(r[free], 99.0)
    high = max(snr * noise, min_contrast)
    cand = _hysteresis(_np.where(free, r, 0), 0.5 * high, high)
    # the line's own width: half its local peak
    cand = _refine_edges(_np.where(free, r, 0), cand, frac=0.5, radius=1)
    if not cand.any():
        return cand
    return _long_thin(cand, min_length_widths * width, min_elongation, 0.6 * width)


def _faint_shafts(
    h: _np.ndarray,
    coarse: _np.ndarray,
    region: _np.ndarray | None,
    *,
    width: float,
    high: float,
    low: float,
    min_length_widths: float,
    min_elongation: float,
    max_width_widths: float,
    pad_widths: float,
) -> _np.ndarray:
    """Faint shafts the coarse detector's threshold leaves out: long, thin components of
    the hairness at a lower hysteresis.

    Parameters
    ----------
    h : (M, N) float32 ndarray
        Hairness (working scale).
    coarse : (M, N) bool ndarray
        Mask found so far.
    region : (M, N) bool ndarray or None
    width : float
        Typical shaft width, px.
    high, low : float
        Hysteresis thresholds of the hairness.
    min_length_widths, min_elongation, max_width_widths, pad_widths
        As ``faint_*`` in :class:`hairtrack.config.CloseupParams`.

    Returns
    -------
    (M, N) bool ndarray
        Faint-shaft pixels (not touching ``coarse``).
    """
    free = _away_from(coarse, region, max(1, round(pad_widths * width)))
    cand = _hysteresis(_np.where(free, h, 0), low, high)
    if not cand.any():
        return cand
    return _long_thin(cand, min_length_widths * width, min_elongation, max_width_widths * width)


def _away_from(coarse: _np.ndarray, region: _np.ndarray | None, pad: int) -> _np.ndarray:
    """Pixels of ``region`` (everywhere when None) farther than ``pad`` px from
    ``coarse``: where a second pass may look for shafts the first one left out."""
    se = _cv2.getStructuringElement(_cv2.MORPH_ELLIPSE, (2 * pad + 1, 2 * pad + 1))
    near = _cv2.dilate(coarse.astype(_np.uint8), se) > 0
    return ~near if region is None else (region & ~near)


def _long_thin(
    cand: _np.ndarray, min_length: float, min_elongation: float, max_width: float
) -> _np.ndarray:
    """The components of ``cand`` shaped like a shaft: at least ``min_length`` px long,
    ``min_elongation`` times longer than broad, and at most ``max_width`` px wide on mean
    (area over length)."""
    lab, major, minor = _component_axes(cand)
    area = _np.bincount(lab.ravel(), minlength=len(major)).astype(float)
    mean_w = area / _np.maximum(major, 1.0)
    keep = (
        (major >= min_length)
        & (major >= min_elongation * _np.maximum(minor, 1.0))
        & (mean_w <= max_width)
    )
    keep[0] = False
    return keep[lab]


def _colour_projection(
    rgb: _np.ndarray,
    hair: _np.ndarray,
    skin: _np.ndarray,
    grey_flat: _np.ndarray,
    *,
    sigma: float,
    hair_size: float,
    direction: _np.ndarray | None = None,
) -> tuple[_np.ndarray, float, _np.ndarray] | None:
    """The photo projected on the colour direction that best tells its hair from its
    skin (Fisher's linear discriminant).

    Each channel is flattened against the skin (skin ~1); the hair's mean contrast
    ``delta`` (3 channels) and the skin's covariance ``C`` give the direction
    ``w = C^-1 delta``: skin mottling, shading and follicle openings change the three
    channels together, the hair's colour does not, so the projection keeps the hair's
    contrast and drops much of the skin's texture. The projection is scaled to the
    skin's standard deviation in ``grey_flat`` (the grey image read so far): every
    threshold sees the skin as it did, and the hair stands out by the ratio of the two
    separations.

    Parameters
    ----------
    rgb : (M, N, 3) float32 ndarray
        The photo at the working scale.
    hair : (M, N) bool ndarray
        Strong hair pixels.
    skin : (M, N) bool ndarray
        Bare skin pixels (away from every shaft found).
    grey_flat : (M, N) float32 ndarray
        The flattened grey image the hair was found in (skin ~1).
    sigma, hair_size : float
        As in :func:`hairtrack.normalise.flatten_illumination`, px.
    direction : (3,) float ndarray, optional
        Weights learnt on another photo of the same hair (``weights`` below), used as
        they are: a photo relit to that one is read along the same colour, at the same
        scale.

    Returns
    -------
    flat : (M, N) float32 ndarray
        The projection: skin ~1, hair off 1 on the same side as in ``grey_flat``.
    separation : float
        Hair-skin separation along it: mean difference over the skin's standard
        deviation (``sqrt(delta C^-1 delta)`` for the direction learnt here).
    weights : (3,) float64 ndarray
        The scaled direction: ``flat = 1 + (contrasts - skin mean) @ weights``.
    None when there are too few hair or skin pixels.
    """
    if hair.sum() < 50 or skin.sum() < 500:
        return None
    rel = _flatten(rgb, sigma=sigma, hair_size=hair_size, skin=skin)
    rel -= 1.0
    xs = rel[skin].astype(_np.float64)
    mu_s = xs.mean(axis=0)
    delta = rel[hair].astype(_np.float64).mean(axis=0) - mu_s
    cov = _np.cov(xs.T) + 1e-8 * _np.eye(3)
    if direction is None:
        w = _np.linalg.solve(cov, delta)
        sep = float(_np.sqrt(max(float(w @ delta), 0.0)))  # w.delta / sqrt(w C w)
        gs = grey_flat[skin].astype(_np.float64)
        g_delta = float(grey_flat[hair].mean() - gs.mean())
        g_sd = float(gs.std())
        if sep <= 0 or g_sd <= 0 or g_delta == 0:
            return None
        w *= _np.sign(g_delta) * g_sd / sep  # the skin's spread of grey_flat, hair its side
    else:
        w = _np.asarray(direction, _np.float64)
        sd = float(_np.sqrt(max(float(w @ cov @ w), 1e-18)))
        sep = abs(float(w @ delta)) / sd
    proj = rel @ w.astype(_np.float32)
    proj += _np.float32(1.0 - float(mu_s @ w))
    return proj, sep, w


def _colour_reread(
    rgb: _np.ndarray,
    grey_flat: _np.ndarray,
    hairness: _np.ndarray,
    mask: _np.ndarray,
    region: _np.ndarray,
    *,
    polarity: str,
    width: float,
    rounds: int,
    min_separation: float,
    skin_pad_widths: float,
    flatten_widths: float,
    closing_widths: float,
    detect: Any,
    direction: _np.ndarray | None = None,
) -> tuple[_np.ndarray, _np.ndarray, _np.ndarray, _np.ndarray] | None:
    """Read faint hair again along its own colour (:func:`_colour_projection`).

    The strong half of the shafts found so far (hairness above its median over
    ``mask``) and the skin away from them give the direction; the hair is found again
    along it, and the direction is learnt again from what was found, ``rounds`` times
    at most (in a dense field of long hair the first read finds a part of the shafts,
    and the others, left in the skin sample, blur the skin's colour spread); it stops
    early when a round finds the same hair as the one before.

    Parameters
    ----------
    rgb : (M, N, 3) float32 ndarray
        The photo at the working scale (overlays painted over).
    grey_flat : (M, N) float32 ndarray
        The flattened grey image read so far.
    hairness : (M, N) float32 ndarray
        Its hairness.
    mask : (M, N) bool ndarray
        The hair found in it.
    region : (M, N) bool ndarray
        Pixels analysed.
    polarity : {'dark', 'light'}
    width : float
        Typical shaft width, px.
    rounds : int
        Most times the direction is learnt.
    min_separation : float
        The last round's hair-skin separation (skin standard deviations along the
        direction) below which the re-read is not kept: what was found is then the
        skin's own texture, which a direction learnt from it only brings out more.
    skin_pad_widths, flatten_widths, closing_widths : float
        As ``colour_skin_pad_widths``, ``flatten_widths``, ``closing_widths`` in
        :class:`hairtrack.config.CloseupParams`.
    detect : callable
        ``detect(hairness, flat) -> mask``, the coarse detector.
    direction : (3,) float ndarray, optional
        A direction learnt on another photo of the same hair
        (``CloseupParams.colour_direction``): used as it is, and the re-read kept
        whatever its separation (the other photo's decided that the hair has a colour
        of its own); the rounds then only refine the skin the channels are flattened
        against.

    Returns
    -------
    flat, hairness, mask : (M, N) ndarrays
        The projection, its hairness and the hair found in it.
    weights : (3,) float64 ndarray
        The scaled direction (:func:`_colour_projection`).
    None when the hair is not read again.
    """
    pad = 2 * max(1, round(skin_pad_widths * width)) + 1
    se = _np.ones((pad, pad), _np.uint8)
    out, sep = None, 0.0
    h = hairness
    for _ in range(max(1, int(rounds))):
        strong = mask & (h >= _np.median(h[mask]))
        near = _cv2.dilate(mask.view(_np.uint8), se) > 0
        got = _colour_projection(
            rgb,
            strong,
            region & ~near,
            grey_flat,
            sigma=flatten_widths * width,
            hair_size=flatten_widths * width,
            direction=direction,
        )
        if got is None:
            break
        flat = got[0]
        h = _hairness(flat, polarity, round(closing_widths * width))
        found = detect(h, flat)
        if not found.any():
            break
        done = out is not None and _np.array_equal(found, mask)
        out, sep, mask = (flat, h, found, got[2]), got[1], found
        if done:  # the direction learnt from this hair finds the same hair
            break
    if out is None or (direction is None and sep < min_separation):
        return None
    return out


def _probe_width(h: _np.ndarray, region: _np.ndarray, d: int, pol: str, p: Any) -> float:
    """Typical shaft width on a probe copy, px: hair detected with a hairness disk of
    ``d`` px, then an upper percentile of the strong shafts' medial-axis widths (tapering
    tips and frayed edges add thin medial-axis pixels). NaN without hair."""
    probe_mask = _detect(
        h,
        region,
        width=d / p.closing_widths,
        hysteresis_low=p.hysteresis_low,
        hysteresis_high=p.hysteresis_high,
        min_contrast=p.min_contrast,
        edge_frac=p.edge_frac if pol == "dark" else p.edge_frac_light,
        min_length_widths=p.min_length_widths,
        min_elongation=p.min_elongation,
        max_blob_widths=p.max_blob_widths,
        rel_peak=p.rel_peak,
    )
    strong = _drop_faint(probe_mask, h, rel_peak=max(p.rel_peak, 0.7))
    return _median_width(strong, p.probe_width_percentile)


#: longest side of the reduced copy :func:`segment_closeup` starts from (at most), px
_BASE_SIDE = 1400.0


def closeup_base(image: _np.ndarray) -> _np.ndarray:
    """The reduced copy :func:`segment_closeup` starts from and finds capture overlays on.

    Area-reduced by :func:`closeup_base_step` px per copy px (a whole number: OpenCV's
    quick path); the photo itself when that is 1.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray

    Returns
    -------
    (m, n, 3) or (m, n) uint8 ndarray
    """
    return _resize(image, 1.0 / closeup_base_step(image.shape))


def closeup_base_step(shape: tuple[int, ...]) -> int:
    """Px of a photo of ``shape`` per px of its :func:`closeup_base`: the fewest that bring
    the longer side to at most 1400 px."""
    return max(1, int(_np.ceil(max(shape[:2]) / _BASE_SIDE)))


def segment_closeup(
    image: _np.ndarray,
    *,
    region: _np.ndarray | None = None,
    polarity: str = "auto",
    overlays: _np.ndarray | None = None,
    **params: Any,
) -> CloseupSegmentation:
    """Segment hair shafts in a close-up (trichoscope / dermoscope / macro) photo.

    Parameters
    ----------
    image : (M, N, 3) uint8 ndarray or (M, N) uint8 ndarray
        RGB photo (or a grey one; burned-in overlays are then not looked for).
    region : (M, N) bool ndarray, optional
        Pixels to analyse; the whole frame by default. Capture overlays are removed
        from it when ``mask_overlays``.
    polarity : {'auto', 'dark', 'light'}
        Hair darker or lighter than skin; 'auto' decides from the image.
    overlays : (m, n) bool ndarray, optional
        The capture overlays when already found: ``capture_overlay_mask`` of
        :func:`closeup_base` of the photo as captured, with the overlay parameters
        given here (a comparison finds them on the session photo before relighting it,
        and they are not looked for again on the relit photo). Used when
        ``mask_overlays`` and ``image`` is RGB.
    **params
        Any of the fields :meth:`hairtrack.config.CloseupParams.segment_kwargs` returns
        (the overlay ones are passed on to
        :func:`hairtrack.overlays.capture_overlay_mask`); their defaults and meaning are
        documented in :class:`hairtrack.config.CloseupParams`. An unknown name raises
        TypeError.

    Returns
    -------
    CloseupSegmentation

    Examples
    --------
    >>> import cv2, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> img = rng.normal(200, 4, (160, 200, 3)).clip(0, 255).astype(np.uint8)
    >>> _ = cv2.line(img, (20, 30), (180, 130), (40, 30, 30), 5)
    >>> seg = segment_closeup(img)
    >>> seg.polarity, bool(seg.mask[80, 100]), bool(seg.mask[20, 150])
    ('dark', True, False)
    """
    p = closeup_stage_params(params, "segment_kwargs", "segment_closeup")
    image = _check_closeup_image(image)
    if polarity not in ("auto", "dark", "light"):
        raise ValueError(f"polarity must be 'auto', 'dark' or 'light', got {polarity!r}")
    if p.target_width_px <= 0 or p.closing_widths <= 1:
        raise ValueError("target_width_px must be > 0 and closing_widths > 1")
    full_shape = image.shape[:2]
    user_region = None
    if region is not None:
        user_region = _np.asarray(region, bool)
        if user_region.shape != full_shape:
            raise ValueError(f"region is {user_region.shape}, image is {full_shape}")
    overlay_params = {k: v for k, v in vars(p).items() if k.startswith("overlay_")}

    # one shared reduced copy (speed on 12 MP photos); overlays are found on it
    base_factor = 1.0 / closeup_base_step(full_shape)  # integer steps: fast area resize
    base = _resize(image, base_factor)
    overlay_base = None
    if p.mask_overlays and image.ndim == 3:
        if overlays is None:
            overlay_base = _capture_overlay_mask(base, **overlay_params)
        else:
            overlay_base = _np.asarray(overlays, bool)
            if overlay_base.shape != base.shape[:2]:
                raise ValueError(
                    f"overlays are {overlay_base.shape}, closeup_base(image) is {base.shape[:2]}"
                )
        if not overlay_base.any():
            overlay_base = None
    user_base = None if user_region is None else _resize_mask(user_region, base.shape[:2])
    region_base = _np.ones(base.shape[:2], bool) if user_base is None else user_base.copy()
    if overlay_base is not None:
        region_base &= ~overlay_base

    # probe: polarity and shaft width on a small copy
    pf = min(1.0, p.probe_side / max(base.shape[:2]))
    small = _resize(base, pf)
    region_p = _resize_mask(region_base, small.shape[:2])
    d_p = max(15, round(p.probe_diameter_frac * max(small.shape[:2])))
    pol = polarity
    channel = p.channel
    if channel == "auto" and small.ndim == 3:
        # on a half-size copy (speed); with luma, polarity is decided as usual below
        half = _resize(small, 0.5) if max(small.shape[:2]) > 256 else small
        d_h = max(15, round(p.probe_diameter_frac * max(half.shape[:2])))
        channel, pol_c = choose_channel(
            half,
            polarity=polarity,
            region=_resize_mask(region_p, half.shape[:2]),
            diameter=d_h,
            sigma=2.5 * d_h,
            switch_ratio=p.channel_switch_ratio,
        )
        if channel != "luma":
            pol = pol_c
    h_p = None
    if pol == "auto":
        flat_luma = _flatten(_luminance(small), sigma=2.5 * d_p)
        pol, h_luma = _decide_polarity(flat_luma, region_p, d_p, 0.1, p.polarity_depth_ratio)
        if channel == "luma" or small.ndim == 2:  # the same flattened grey image
            h_p = h_luma
    # the shafts' width sets the working scale: as given, or read on the probe
    if p.given_width_px > 0:
        width_p, f_p = float(p.given_width_px), 1.0
    else:
        if h_p is None:
            flat_p = _flatten(_hair_channel(small, pol, channel), sigma=2.5 * d_p)
            h_p = _hairness(flat_p, pol, d_p)
        width_p = _probe_width(h_p, region_p, d_p, pol, p)
        f_p = pf * base_factor  # probe size / input size
    # a shaft the probe cannot resolve reads about as wide as the probe's own blur,
    # whatever its true width (5-8 px shafts of a 12 MP photo read 15.6 px): measure
    # again on copies twice as large until the shafts are resolved or the copy is full
    while f_p < 1.0 and not (_np.isfinite(width_p) and width_p > p.probe_min_width_px):
        f_p = min(1.0, 2.0 * f_p)
        src, f_src = (image, f_p) if f_p > base_factor else (base, f_p / base_factor)
        small = _resize(src, f_src)
        region_p = _resize_mask(region_base, small.shape[:2])
        d_p = max(15, round(p.probe_diameter_frac * p.probe_side))
        flat_p = _flatten(_hair_channel(small, pol, channel), sigma=2.5 * d_p)
        h_p = _hairness(flat_p, pol, d_p)
        width_p = _probe_width(h_p, region_p, d_p, pol, p)
    width_full = width_p / f_p if _np.isfinite(width_p) else float("nan")

    # working copy: shafts ~target_width_px wide
    if _np.isfinite(width_full) and width_full > 0:
        # no small reductions: they save little time and blur the shafts' edges
        scale = 1.0 if width_full <= p.max_width_px else min(1.0, p.target_width_px / width_full)
    else:
        scale = pf * base_factor
    rgb_w = _resize(image, scale) if scale > base_factor else _resize(base, scale / base_factor)
    gray_w = _hair_channel(rgb_w, pol, channel)
    region_w = _resize_mask(region_base, gray_w.shape)
    width_w = width_full * scale if _np.isfinite(width_full) else p.target_width_px
    width_w = float(min(max(width_w, 1.5), 4 * p.target_width_px))
    if channel in _RGB and pol == "dark" and image.ndim == 3 and p.jpeg_sheen_widths > 0:
        # a colour channel of a JPEG is sharp luma plus chroma at half resolution: a
        # light shaft's axial sheen (luma) shows through its blurred colour dip
        # (chroma), and the shaft reads as a hollow outline whose two edges, and the
        # rim round its tip, are traced and counted as hairs. Bright detail narrower
        # than a shaft is never dark hair: it is taken out of the channel.
        if _jpeg_quality(image) is not None:
            d = max(3, 2 * round(p.jpeg_sheen_widths * width_w / 2) + 1)
            se = _cv2.getStructuringElement(_cv2.MORPH_ELLIPSE, (d, d))
            luma_w = _luminance(rgb_w)
            gray_w -= luma_w - _cv2.morphologyEx(luma_w, _cv2.MORPH_OPEN, se)
    if overlay_base is not None:
        # paint over the overlays, so a drawn circle or bar does not cut a shaft in two
        ov_w = _resize_mask(overlay_base, gray_w.shape)
        gray_w = _cv2.inpaint(
            _np.clip(gray_w, 0, 255).astype(_np.uint8),
            ov_w.astype(_np.uint8),
            max(2.0, width_w),
            _cv2.INPAINT_TELEA,
        ).astype(_np.float32)
    # hair, and clusters of hair with their shadow, are suppressed up to the same scale
    flat_w = _flatten(
        gray_w, sigma=p.flatten_widths * width_w, hair_size=p.flatten_widths * width_w
    )
    h_w = _hairness(flat_w, pol, round(p.closing_widths * width_w))
    detect_kw = {
        "width": width_w,
        "hysteresis_low": p.hysteresis_low,
        "hysteresis_high": p.hysteresis_high,
        "min_contrast": p.min_contrast,
        "edge_frac": p.edge_frac if pol == "dark" else p.edge_frac_light,
        "min_length_widths": p.min_length_widths,
        "min_elongation": p.min_elongation,
        "max_blob_widths": p.max_blob_widths,
        "rel_peak": p.rel_peak,
        "rel_dark": p.rel_dark,
    }
    user_w = None if user_base is None else _resize_mask(user_base, gray_w.shape)
    work_mask = _detect(h_w, user_w, broad=_broad(flat_w, pol), **detect_kw)
    cover_1 = float(work_mask[region_w].mean()) if region_w.any() else 0.0
    if p.skin_flatten and work_mask.any() and cover_1 >= p.skin_flatten_min_cover:
        # second pass: background from the skin between the shafts found
        pad = 2 * max(0, int(p.skin_pad_px)) + 1
        near = _cv2.dilate(work_mask.view(_np.uint8), _np.ones((pad, pad), _np.uint8)) > 0
        flat_w = _flatten(
            gray_w,
            sigma=p.flatten_widths * width_w,
            hair_size=p.flatten_widths * width_w,
            skin=region_w & ~near,
        )
        h_w = _hairness(flat_w, pol, round(p.closing_widths * width_w))
        work_mask = _detect(h_w, user_w, broad=_broad(flat_w, pol), **detect_kw)
    # the hair's contrast: the median hairness over what was found
    contrast = float(_np.median(h_w[work_mask])) if work_mask.any() else float("nan")
    direction = None
    given = _np.asarray(p.colour_direction, _np.float64)
    if given.shape != (3,):
        raise ValueError(f"colour_direction must be 3 numbers, got {p.colour_direction!r}")
    if (
        rgb_w.ndim == 3
        and work_mask.any()
        and (given.any() or (p.colour_reread_below > 0 and contrast < p.colour_reread_below))
    ):
        # hair that hardly stands out in any one grey image: read it again along the
        # colour direction that best tells this hair from this skin
        rgb_f = rgb_w
        if overlay_base is not None:
            rgb_f = _cv2.inpaint(rgb_w, ov_w.view(_np.uint8), max(2.0, width_w), _cv2.INPAINT_TELEA)
        got = _colour_reread(
            rgb_f.astype(_np.float32),
            flat_w,
            h_w,
            work_mask,
            region_w,
            polarity=pol,
            width=width_w,
            rounds=p.colour_reread_rounds,
            min_separation=p.colour_reread_min_separation,
            skin_pad_widths=p.colour_skin_pad_widths,
            flatten_widths=p.flatten_widths,
            closing_widths=p.closing_widths,
            detect=lambda h, flat: _detect(h, user_w, broad=_broad(flat, pol), **detect_kw),
            direction=given if given.any() else None,
        )
        if got is not None:
            flat_w, h_w, work_mask, direction = got
            contrast = float(_np.median(h_w[work_mask]))
    del rgb_w
    # typical width from the terminal shafts the coarse detector found
    width_out = _median_width(work_mask) / scale if work_mask.any() else float("nan")
    share = (
        _edge_share(
            h_w,
            work_mask,
            radius=max(1, round(width_w)),
            core_sigma=p.edge_core_sigma,
            ring=p.edge_share_ring_px,
        )
        if p.edge_share and pol == "dark"
        else None
    )
    if p.thin_detect:
        thin = _thin_shafts(
            flat_w,
            pol,
            work_mask,
            None if user_base is None else _resize_mask(user_base, gray_w.shape),
            width=width_w,
            sigma_widths=p.thin_sigma_widths,
            snr=p.thin_snr_light if pol == "light" and p.thin_snr_light > 0 else p.thin_snr,
            min_contrast=p.thin_min_contrast,
            min_length_widths=p.thin_min_length_widths,
            min_elongation=p.thin_min_elongation,
            pad_widths=p.thin_pad_widths,
        )
        work_mask |= thin
        if share is not None:
            share = _np.maximum(share, thin.astype(_np.float32))  # thin shafts count whole
    if p.faint_high > 0 and _np.isfinite(width_out):
        # faint beside the shafts found: the coarse detector's threshold (as in _detect)
        # is set by them; on bare skin it is the skin's own texture, so the seeds must
        # still reach min_contrast (without that floor, bald phantom skin read 5-17 hairs)
        t = max(_otsu(h_w.ravel() if user_w is None else h_w[user_w]), p.min_contrast)
        faint = _faint_shafts(
            h_w,
            work_mask,
            user_w,
            width=width_w,
            high=max(p.faint_high * t, p.min_contrast),
            low=p.faint_low * t,
            min_length_widths=p.faint_min_length_widths,
            min_elongation=p.faint_min_elongation,
            max_width_widths=p.faint_max_width_widths,
            pad_widths=p.faint_pad_widths,
        )
        work_mask |= faint
        if share is not None:
            share = _np.maximum(share, faint.astype(_np.float32))
    # back to the input's size: hair mask (linear), region (nearest, cheap), each made in
    # one full-size buffer (at 12 MP every fresh full-size temporary costs)
    region_share = None
    if overlay_base is None:
        region_full = _np.ones(full_shape, bool) if user_region is None else user_region
    else:
        if user_region is None:
            # the region's share of each working pixel, without a full-size image
            keep = (~overlay_base).view(_np.uint8) * _np.uint8(255)
            region_share = _cv2.resize(keep, gray_w.shape[::-1], interpolation=_cv2.INTER_AREA)
            region_share = region_share.astype(_np.float32) / 255.0
        region_full, box = _keep_up(overlay_base, full_shape)
        if user_region is not None:
            region_full &= user_region
    if work_mask.shape == full_shape:
        # (not in place: work_mask keeps the shafts whole under the overlays)
        mask = work_mask & region_full
    else:
        up = _cv2.resize(
            work_mask.view(_np.uint8) * _np.uint8(255),
            full_shape[::-1],
            interpolation=_cv2.INTER_LINEAR,
        )
        _cv2.threshold(up, 127, 1, _cv2.THRESH_BINARY, dst=up)  # >= 128, as _resize_mask
        mask = up.view(bool)
        if user_region is not None:
            mask &= region_full
        elif overlay_base is not None:
            mask[box] &= region_full[box]  # (True elsewhere)
    return CloseupSegmentation(
        mask=mask,
        polarity=pol,
        region=region_full,
        shaft_width_px=width_out,
        work_scale=float(gray_w.shape[0] / full_shape[0]),
        work_mask=work_mask,
        work_region=region_w,
        hair_share=share,
        channel="luma" if channel == "auto" else channel,
        hair_contrast=contrast,
        work_region_share=region_share,
        probe_width_px=float(width_full),
        colour_direction=None if direction is None else tuple(float(v) for v in direction),
    )


# ---- global photos (crown, vertex, part, hairline) -----------------------------------

# Global photos: each pixel's hair share (0-1) comes from linear unmixing of the skin and
# hair colours (:func:`hairtrack.region.hair_share`), on a copy where strands of 1-2 px are
# resolved; coverage is the mean share over the region, the hair mask is share >= 0.5.
# Where strands are not resolved (small or soft photos) unmixing cannot tell which colour
# is hair, and a zone-level score is used instead: how hair-textured a neighbourhood is and
# how much darker than the skin, in a colour hair can have. The region (with the face rule
# and the fringe trim) comes from :mod:`hairtrack.region`; both share one working copy and
# one parameters object. Skin and hair of nearly the same colour (Delta E < ~10) cannot be
# told apart by any photo method: nothing special is done, the caller may warn.


@_dataclass(frozen=True)
class GlobalSegmentation:
    """Hair mask and coverage of a global (crown / vertex / part / hairline) photo.

    Attributes
    ----------
    mask : (H, W) bool ndarray
        Hair pixels at the input's size, inside ``region`` only.
    region : (H, W) bool ndarray
        Scalp region the coverage refers to.
    coverage : float
        Share of the region that is hair, 0-1 (NaN when the region is empty): the mean
        of ``hair_score`` over the region. It grows smoothly with hair density, where
        the mask's share of the region (``mask[region].mean()``) jumps.
    working_mask, working_region : (h, w) bool ndarray
        The same at the working size (long side ``working_side``).
    hair_score : (h, w) float32 ndarray
        Hair share of each pixel, 0-1, at the working size (0 outside the region): the
        unmixed share where strands are resolved, else the zone-level score; the mask is
        ``hair_score >= 0.5``.
    working_scale : float
        Working size / input size.
    skin_lightness : float
        Median L* of the skin in the region.
    face_removed : float
        Share of the head left out as face (0 when a region was given).
    hair_darker : bool or None
        With ``unmixed``: whether the hair was the darker colour (a comparison reads its
        second photo with the same ends: ``share_hair_end``).
    unmixed : bool
        True when strands were resolved and ``hair_score`` is the unmixed per-pixel hair
        share; False when it is the zone-level score.
    """

    mask: _np.ndarray
    region: _np.ndarray
    coverage: float
    working_mask: _np.ndarray
    working_region: _np.ndarray
    hair_score: _np.ndarray
    working_scale: float
    skin_lightness: float
    face_removed: float
    unmixed: bool = False
    hair_darker: bool | None = None


def _global_params(params: dict) -> dict:
    """Check keyword parameters against :class:`hairtrack.config.GlobalParams`."""
    from hairtrack import region as _region

    return _region._global_params(params)


def segment_global(
    rgb: _np.ndarray, *, region: _np.ndarray | None = None, **params: float
) -> GlobalSegmentation:
    """Segment hair in a global photo and measure its coverage of the scalp.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
        The photo, RGB order, at least 32x32 px.
    region : (H, W) bool ndarray, optional
        Scalp region to measure in (e.g. the common region of a baseline photo); found
        with :func:`hairtrack.region.scalp_region` when not given.
    **params
        Any :class:`hairtrack.config.GlobalParams` value, by name.

    Returns
    -------
    GlobalSegmentation

    Raises
    ------
    ValueError
        On a malformed image or region, or an unknown parameter.

    Examples
    --------
    >>> import numpy as np, cv2
    >>> rng = np.random.default_rng(0)
    >>> img = np.full((360, 480, 3), (90, 120, 200), np.uint8)
    >>> _ = cv2.ellipse(img, (240, 190), (150, 160), 0, 0, 360, (225, 180, 160), -1)
    >>> seg = segment_global(img)
    >>> round(seg.coverage, 2), seg.mask.shape
    (0.0, (360, 480))
    """
    return _segment_global(rgb, region, params)


def _segment_global(
    rgb: _np.ndarray,
    region: _np.ndarray | None,
    params: dict,
    *,
    found: tuple | None = None,
    stacklevel: int = 4,
) -> GlobalSegmentation:
    """:func:`segment_global`; ``found`` is what :func:`hairtrack.region._scalp_region`
    returned for this photo with these ``params`` (its features, skin and hair-colour
    masks are then reused, not computed again)."""
    from hairtrack import region as _region

    p = _global_params(params)
    rgb = _region._check_rgb(rgb)
    _region._warn_if_blank(rgb, stacklevel=stacklevel)
    if int(p["working_side"]) < 64:
        raise ValueError(f"working_side={p['working_side']} is too small; use at least 64 px")
    full_shape = rgb.shape[:2]
    feature_p = {
        k: p.pop(k) for k in ("working_side", "texture_radius", "texture_sigma", "texture_preblur")
    }
    if found is not None:
        f, out_found = found[1], found[2]
    else:
        out_found = None
        f = _region._features(
            rgb,
            working_side=int(feature_p["working_side"]),
            texture_radius=int(feature_p["texture_radius"]),
            texture_sigma=float(feature_p["texture_sigma"]),
            texture_preblur=float(feature_p["texture_preblur"]),
        )
    shape_w = f.lightness.shape
    share_p = {k: p.pop(k) for k in _region.SHARE_PARAMS}
    method = p.pop("share_method")
    if method not in ("auto", "unmixed", "zone"):
        raise ValueError(f"share_method must be 'auto', 'unmixed' or 'zone', not {method!r}")
    if method == "unmixed":
        share_p["share_min_evidence"] = 0.0
    fringe_p = {k: p.pop(k) for k in _region.FRINGE_PARAMS}
    given_l = float(p.pop("given_skin_lightness"))
    if given_l < 0:
        raise ValueError(f"given_skin_lightness must be 0 (from the photo) or an L*, not {given_l}")
    if region is None:
        out = _region._region_working(f, **p)
        region_w = _region.trim_fringe(
            rgb,
            out["region"],
            out["skin"],
            out["background_colours"],
            share_side=share_p["share_side"],
            background_distance=p["background_distance"],
            background_skin_distance=p["background_skin_distance"],
            **fringe_p,
        )
        skin_l = out["skin_lightness"]
        zone_w = out["hair_score"]
        if given_l > 0:
            skin_l = given_l
            zone_w = _region._hair_score(
                f,
                out["colour_ok"],
                skin_l,
                texture_threshold=p["texture_threshold"],
                dark_ratio=p["dark_ratio"],
                soft_width=p["soft_width"],
            )
            zone_w = _np.where(out["region"], zone_w, 0.0).astype(_np.float32)
        face = out["face_share"]
        region_full = _region._upsample(region_w, full_shape)
    else:
        region_full = _np.asarray(region)
        if region_full.shape != full_shape:
            raise ValueError(
                f"region is {region_full.shape[1]}x{region_full.shape[0]} px but the image is "
                f"{full_shape[1]}x{full_shape[0]} px; give a mask of the image's size"
            )
        region_full = region_full.astype(bool)
        small = _cv2.resize(
            region_full.astype(_np.float32), shape_w[::-1], interpolation=_cv2.INTER_AREA
        )
        region_w = small >= 0.5
        if out_found is not None:  # the same features and parameters: the same masks
            skin, colour_ok = out_found["skin"], out_found["colour_ok"]
        else:
            skin, colour_ok = _global_masks(_region, f, p)
        if given_l > 0:
            skin_l = given_l
        else:
            skin_in = skin & region_w
            skin_l = _region._skin_lightness(f, skin_in, p["skin_lightness_quantile"])
        zone_w = _region._hair_score(
            f,
            colour_ok,
            skin_l,
            texture_threshold=p["texture_threshold"],
            dark_ratio=p["dark_ratio"],
            soft_width=p["soft_width"],
        )
        zone_w = _np.where(region_w, zone_w, 0.0).astype(_np.float32)
        face = 0.0
    share = _region.hair_share(rgb, region_w, **share_p)
    if share.resolved and method != "zone":
        score_w = share.share
    else:
        # strands not resolved: zone-level score (texture or darkness in a hair colour)
        score_w = zone_w
    hair_w = score_w >= 0.5
    n_region = int(region_w.sum())
    coverage = float(score_w[region_w].mean()) if n_region else float("nan")
    mask = _region._upsample(hair_w, full_shape) & region_full
    return GlobalSegmentation(
        mask=mask,
        region=region_full,
        coverage=coverage,
        working_mask=hair_w,
        working_region=region_w,
        hair_score=score_w,
        working_scale=f.scale,
        skin_lightness=skin_l,
        face_removed=face,
        unmixed=share.resolved and method != "zone",
        hair_darker=share.hair_darker if share.resolved and method != "zone" else None,
    )


def _global_masks(_region, f, p: dict) -> tuple[_np.ndarray, _np.ndarray]:
    """Skin and hair-colour masks of a global photo's working-size features."""
    skin, _, _ = _region._skin_model(
        f,
        skin_hue_range=(p["skin_hue_min"], p["skin_hue_max"]),
        skin_prior_chroma=p["skin_prior_chroma"],
        skin_prior_max_chroma=p["skin_prior_max_chroma"],
        skin_prior_max_saturation=p["skin_prior_max_saturation"],
        skin_max_saturation=p["skin_max_saturation"],
        skin_prior_texture=p["skin_prior_texture"],
        skin_mahalanobis=p["skin_mahalanobis"],
        skin_min_chroma=p["skin_min_chroma"],
    )
    colour_ok = _region._hair_colour_ok(
        f,
        hair_grey_chroma=p["hair_grey_chroma"],
        hair_hue_range=(p["hair_hue_min"], p["hair_hue_max"]),
        hair_max_chroma=p["hair_max_chroma"],
    )
    return skin, colour_ok
