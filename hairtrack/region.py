"""Find the scalp region of a global photo: the ``region`` stage.

A global photo (crown, vertex, part line or hairline, taken with a phone or a camera)
shows a head on a background, often with clothes, ears and part of a face. The scalp
region is the hair plus the bare scalp skin of the head; everything else is left out.

Method, all at a fixed working size (long side ``working_side`` px), then upsampled:

1. Features: CIE Lab, chroma and hue of (a*, b*), and a hair-texture energy (black-hat
   of L* at the scale of a few strands, smoothed), which is high on hair (dark strands,
   or the dark gaps between light ones) and low on skin, walls and most clothes.
2. Skin model: a Gaussian in (a*, b*) learned from the image itself, seeded by a broad
   skin prior (warm hue, some chroma, smooth) in the central part of the frame.
3. Background: colours of the side bands and top corners (k-means), where smooth and
   connected to the border. The middle of the top edge is left out of the model because
   frontal photos often crop the hair there.
4. Head blob: the largest blob of what is not background, opened (cuts thin bridges to
   clutter) and with holes filled.
5. Clothes: smooth, non-skin blobs that touch the bottom edge and start in the lower part
   of the frame.
6. Face: skin below the convex hull of the hair is face (forehead, eyes), not scalp,
   unless the hull's lowest left and right points are not level (no hairline: hair on
   one side, or clutter) or the cut would remove more than ``max_face_fraction`` of the
   head (a bald head has no hairline to go by).
7. What is neither skin nor a hair colour (blue, green, purple, saturated red: clothes,
   pillows, leftover background) is left out, and the largest remaining blob is the
   region.
8. Fringe: strands sticking out past the head's outline are left out where, at a size
   that resolves strands, the background shows between them (:func:`trim_fringe`).

:func:`hair_share` gives each region pixel its hair share by linear unmixing of the
skin and hair colours (used by :func:`hairtrack.segment.segment_global`).

Functions here are pure: arrays in, a frozen dataclass out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from hairtrack.morph import disk_morph

__all__ = ["ScalpRegion", "scalp_region"]


@dataclass(frozen=True)
class ScalpRegion:
    """The scalp region of one global photo.

    Attributes
    ----------
    mask : (H, W) bool ndarray
        Scalp region at the input's full resolution.
    working_mask : (h, w) bool ndarray
        The same at the working size.
    head_mask : (h, w) bool ndarray
        Head blob at the working size before the face rule (scalp plus face skin).
    working_scale : float
        Working size / input size (< 1 for large photos).
    skin_mean : (2,) float ndarray
        Mean (a*, b*) of the image's skin.
    skin_cov : (2, 2) float ndarray
        Covariance of (a*, b*) of the image's skin.
    skin_lightness : float
        Median L* (0-100) of skin pixels in the head.
    face_removed : float
        Share of the head blob left out as face (0 when the face rule did not apply).
    """

    mask: np.ndarray
    working_mask: np.ndarray
    head_mask: np.ndarray
    working_scale: float
    skin_mean: np.ndarray
    skin_cov: np.ndarray
    skin_lightness: float
    face_removed: float

    @property
    def area_fraction(self) -> float:
        """Share of the frame that is scalp region."""
        return float(self.working_mask.mean())


# ---- small helpers ---------------------------------------------------------------------


def _disk(radius: int) -> np.ndarray:
    """Elliptic structuring element of the given radius (px)."""
    r = max(int(radius), 0)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the holes of a boolean mask (pixels not reachable from the border)."""
    m = mask.astype(np.uint8)
    outside = np.pad(1 - m, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    return mask | (outside[1:-1, 1:-1] == 1)


def _largest_blob(mask: np.ndarray) -> np.ndarray:
    """Largest 8-connected component of a boolean mask (all False when empty)."""
    n, lbl, area = _components_area(mask)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    return lbl == 1 + int(np.argmax(area[1:]))


def _components_area(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected components of a mask and their areas: the labels and the area column
    of ``cv2.connectedComponentsWithStats``, from the plain labelling and a count
    (0.5 ms instead of 1.25 ms at 512 x 384 in the OpenCV build used here)."""
    n, lbl = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return n, lbl, np.bincount(lbl.ravel(), minlength=n)


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Validate an RGB image at the door; return it as a C-contiguous uint8 array."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(
            f"expected an RGB image of shape (H, W, 3), got shape {rgb.shape}; "
            "convert grayscale or RGBA photos to RGB first"
        )
    if rgb.dtype != np.uint8:
        raise ValueError(
            f"expected a uint8 image, got {rgb.dtype}; scale to 0-255 and cast to uint8"
        )
    if min(rgb.shape[:2]) < 32:
        raise ValueError(
            f"image is {rgb.shape[1]}x{rgb.shape[0]} px; a global photo needs at least 32x32 px"
        )
    return np.ascontiguousarray(rgb)


def _warn_if_blank(rgb: np.ndarray, *, stacklevel: int = 3) -> None:
    """Warn when the photo is (nearly) one flat colour: nothing to measure."""
    step = max(1, max(rgb.shape[:2]) // 256)
    if float(rgb[::step, ::step].std()) < 1.0:
        warnings.warn(
            "the image is one flat colour; its scalp region and coverage mean nothing",
            stacklevel=stacklevel,
        )


# ---- features --------------------------------------------------------------------------


def _global_params(params: dict, names: tuple[str, ...] | None = None) -> dict:
    """The :class:`hairtrack.config.GlobalParams` defaults updated with ``params``.

    Every default is written once, in the config; the stages take theirs from there.
    ``names`` limits the result (and the accepted names) to those of one stage.

    Raises
    ------
    ValueError
        On a name that is not a global parameter (of that stage).
    """
    from dataclasses import asdict

    from hairtrack.config import GlobalParams

    defaults = asdict(GlobalParams())
    known = set(defaults) if names is None else set(names)
    unknown = set(params) - known
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)} for global photos; known: {sorted(known)}"
        )
    out = {k: v for k, v in defaults.items() if k in known}
    out.update(params)
    return out


@dataclass(frozen=True)
class _Features:
    """Per-pixel features at the working size (all (h, w) float32 unless noted)."""

    rgb: np.ndarray  # (h, w, 3) float32, 0-1
    lightness: np.ndarray  # L*, 0-100
    a: np.ndarray
    b: np.ndarray
    chroma: np.ndarray
    hue: np.ndarray  # degrees, -180..180
    texture: np.ndarray  # smoothed black-hat energy of L*
    texture_fine: np.ndarray  # the same, smoothed only a little (sharp edges)
    scale: float


def _features(
    rgb: np.ndarray,
    *,
    working_side: int,
    texture_radius: int,
    texture_sigma: float,
    texture_preblur: float = 0.0,
) -> _Features:
    """Resize to the working size and compute colour and texture features.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
    working_side : int
        Long side of the working image, px.
    texture_radius : int
        Radius (px, working size) of the black-hat element: a bit wider than a strand.
    texture_sigma : float
        Gaussian smoothing (px) of the black-hat response into a texture energy.
    texture_preblur : float
        Gaussian blur of L* before the black-hat, in px of the photo as given (not of the
        working size): a blur the photo already has, from a re-shoot's resampling or
        focus, then changes the texture energy little.

    Returns
    -------
    _Features
    """
    h, w = rgb.shape[:2]
    scale = working_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, size, interpolation=interp).astype(np.float32) / 255.0
    lab = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2Lab), (0, 0), 0.8)
    lightness, a, b = cv2.split(lab)
    sharp = lightness
    if texture_preblur * scale > 0.8:  # beyond the 0.8 px every feature already has
        extra = float(np.sqrt((texture_preblur * scale) ** 2 - 0.8**2))
        sharp = cv2.GaussianBlur(lightness, (0, 0), extra)
    blackhat = cv2.morphologyEx(sharp, cv2.MORPH_BLACKHAT, _disk(texture_radius))
    texture = cv2.GaussianBlur(blackhat, (0, 0), texture_sigma)
    texture_fine = cv2.GaussianBlur(blackhat, (0, 0), 1.0)
    return _Features(
        rgb=small,
        lightness=lightness,
        a=a,
        b=b,
        chroma=np.hypot(a, b),
        hue=np.degrees(np.arctan2(b, a)).astype(np.float32),
        texture=texture,
        texture_fine=texture_fine,
        scale=float(scale),
    )


def _skin_model(
    f: _Features,
    *,
    skin_hue_range: tuple[float, float],
    skin_prior_chroma: float,
    skin_prior_max_chroma: float,
    skin_prior_texture: float,
    skin_mahalanobis: float,
    skin_min_chroma: float,
    skin_prior_max_saturation: float,
    skin_max_saturation: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Learn the image's skin colour in (a*, b*) and return a skin mask.

    The prior (warm hue, some chroma but not dark and saturated, smooth, not black or
    blown out) is taken from the central two thirds of the frame when enough of it is
    there, else from the whole frame; its mean and covariance define a Gaussian, and skin
    is within ``skin_mahalanobis`` standard deviations of it and not more saturated
    (chroma / L*) than ``skin_max_saturation``.

    Returns
    -------
    skin : (h, w) bool ndarray
    mean : (2,) float ndarray
    cov : (2, 2) float ndarray
    """
    h, w = f.lightness.shape
    prior = (
        (f.hue > skin_hue_range[0])
        & (f.hue < skin_hue_range[1])
        & (f.chroma > skin_prior_chroma)
        & (f.chroma < skin_prior_max_chroma)
        & (f.chroma < skin_prior_max_saturation * f.lightness)
        & (f.lightness > 20)
        & (f.lightness < 97)
        & (f.texture < skin_prior_texture)
    )
    centre = np.zeros_like(prior)
    centre[h // 6 : h - h // 6, w // 6 : w - w // 6] = True
    if (prior & centre).sum() > 200:
        prior &= centre
    ab = np.dstack([f.a, f.b])
    if prior.sum() > 200:
        mean = ab[prior].mean(axis=0).astype(np.float64)
        cov = np.cov(ab[prior].T).astype(np.float64) + np.eye(2) * 4.0
    else:
        mean = np.array([14.0, 18.0])
        cov = np.array([[40.0, 20.0], [20.0, 60.0]])
    d = ab - mean.astype(np.float32)
    icov = np.linalg.inv(cov).astype(np.float32)
    md2 = np.einsum("...i,ij,...j->...", d, icov, d)
    skin = (md2 < skin_mahalanobis**2) & (f.lightness > 15) & (f.chroma > skin_min_chroma)
    skin &= f.chroma < skin_max_saturation * f.lightness
    return skin, mean, cov


def _background(
    f: _Features,
    skin: np.ndarray,
    *,
    background_band: float,
    background_corner: float,
    background_side_height: float,
    background_clusters: int,
    background_distance: float,
    background_skin_distance: float,
    background_texture: float,
) -> np.ndarray:
    """Background: smooth pixels close to a border colour, connected to the border.

    Skin-coloured backgrounds (beige and pink walls) are background too when they match
    the border; the sampled border leaves out the middle of the top edge and the lower
    part of the sides, where hair and faces touch the frame.

    Returns
    -------
    mask : (h, w) bool ndarray
    colours : (k, 3) float32 ndarray
        The background colours (Lab).
    """
    h, w = f.lightness.shape
    band = max(3, int(round(background_band * h)))
    corner = max(band, int(round(background_corner * w)))
    side = max(band, int(round(background_side_height * h)))
    sample = np.zeros((h, w), bool)
    sample[:band, :corner] = True
    sample[:band, w - corner :] = True
    sample[:side, :band] = True
    sample[:side, w - band :] = True
    lab = np.dstack([f.lightness, f.a, f.b]).astype(np.float32)
    px = lab[sample]
    k = int(min(background_clusters, len(px)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(px, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    dist = np.sqrt(_min_sq_dist(lab, centres))
    limit = np.where(skin, background_skin_distance, background_distance)
    like = (dist < limit) & (f.texture_fine < background_texture)
    n, lbl = cv2.connectedComponents(like.astype(np.uint8), connectivity=4)
    touching = np.unique(np.concatenate([lbl[0], lbl[:, 0], lbl[:, -1]]))
    touching = touching[touching > 0]
    return np.isin(lbl, touching), centres


def _min_sq_dist(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distance of each pixel of an (h, w, 3) float32 image to its nearest centre.

    OpenCV element-wise operations: the same sums as NumPy, without its (h, w, 3)
    temporaries per centre.
    """
    ones = np.ones((1, 3), np.float32)
    d2 = np.full(lab.shape[:2], np.inf, np.float32)
    for c in np.asarray(centres, np.float32):
        diff = cv2.subtract(lab, (float(c[0]), float(c[1]), float(c[2]), 0.0))
        d2 = cv2.min(d2, cv2.transform(cv2.multiply(diff, diff), ones))
    return d2


def _hair_colour_ok(
    f: _Features,
    *,
    hair_grey_chroma: float,
    hair_hue_range: tuple[float, float],
    hair_max_chroma: float,
) -> np.ndarray:
    """Pixels whose colour can be hair: grey-ish, or warm hue with moderate chroma.

    Blue, green, purple and strongly saturated pixels (clothes, backgrounds) cannot.
    The decision is smoothed over a few pixels so that strand edges do not flicker.
    """
    ok = (f.chroma < hair_grey_chroma) | (
        (f.hue > hair_hue_range[0]) & (f.hue < hair_hue_range[1]) & (f.chroma < hair_max_chroma)
    )
    return cv2.GaussianBlur(ok.astype(np.float32), (0, 0), 3) > 0.5


def _hair_score(
    f: _Features,
    colour_ok: np.ndarray,
    skin_lightness: float,
    *,
    texture_threshold: float,
    dark_ratio: float,
    soft_width: float,
) -> np.ndarray:
    """Soft hair score (0-1) at zone level: texture or darkness, in a hair colour.

    Two ramps, the larger one wins: texture energy over ``texture_threshold``, and
    darkness (skin L* minus the pixel's smoothed L*) over ``(1 - dark_ratio)`` of the
    skin's L*. Each ramp goes from 0 at ``1 - soft_width / 2`` to 1 at
    ``1 + soft_width / 2`` times its threshold, so a score of 0.5 is exactly the hard rule
    "texture above ``texture_threshold`` or L* below ``dark_ratio`` of the skin's", and
    the mean score grows smoothly with hair density instead of jumping.

    Returns
    -------
    (h, w) float32 ndarray in [0, 1]
    """
    width = min(max(float(soft_width), 1e-3), 2.0)
    lo = 1.0 - width / 2.0
    r_tex = f.texture / texture_threshold
    smooth_l = cv2.GaussianBlur(f.lightness, (0, 0), 2)
    r_dark = (skin_lightness - smooth_l) / ((1.0 - dark_ratio) * skin_lightness)
    score = np.clip((np.maximum(r_tex, r_dark) - lo) / width, 0.0, 1.0)
    return (score * colour_ok).astype(np.float32)


def _skin_lightness(f: _Features, skin: np.ndarray, quantile: float) -> float:
    """L* of the skin: a quantile of L* over skin-coloured pixels (60 when there are few).

    Brown hair has the chroma of skin, so where it dominates the median of skin-coloured
    pixels is the hair's lightness; a higher quantile guards against that but also calls
    shading on bald scalps hair (on the real photos: 0.5 -> Spearman -0.76, bald mean
    coverage 0.17; 0.75 -> -0.81 but bald mean 0.25).
    """
    if skin.sum() <= 100:
        return 60.0
    return float(np.quantile(f.lightness[skin], quantile))


def _clothes(
    f: _Features,
    head: np.ndarray,
    skin: np.ndarray,
    *,
    texture_threshold: float,
    clothes_min_area: float,
    clothes_top: float,
    clothes_band: float,
    clothes_distance: float,
    clothes_hair_distance: float,
    skin_max_chroma: float,
) -> np.ndarray:
    """Clothes: smooth non-skin blobs in the head blob, touching the bottom edge, low down.

    Two rules, either finds clothes. (1) A smooth non-skin blob that starts below
    ``clothes_top`` of the height. (2) Dark hair is smooth too at the working size, so a
    dark shirt and dark hair form one smooth blob that starts high up; then the
    clothes' own colour tells them apart: the median colour of the smooth non-skin
    pixels of the head blob's bottom ``clothes_band`` of rows, matched within
    ``clothes_distance`` (Lab) below ``clothes_top``. Rule (2) is skipped when that
    colour is within ``clothes_hair_distance`` of the median colour of the blob's top
    third (the bottom is then hair, as in close crown photos, not clothes).
    """
    h, w = head.shape
    # too saturated for skin (a maroon shirt that a broad skin model took in) is not skin
    cand = head & (~skin | (f.chroma > skin_max_chroma)) & (f.texture < texture_threshold)
    cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, _disk(3))
    low = np.zeros((h, w), bool)
    low[int(clothes_top * h) :] = True
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    out = np.zeros((h, w), bool)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area >= clothes_min_area * h * w and y + bh >= h - 1 and y >= clothes_top * h:
            out |= lbl == i
    band = max(3, int(round(clothes_band * h)))
    bottom = cand.astype(bool) & ~out
    bottom[: h - band] = False
    rows = np.flatnonzero(head.any(axis=1))
    if bottom.sum() >= band * 10 and rows.size:
        lab = np.dstack([f.lightness, f.a, f.b])
        colour = np.median(lab[bottom], axis=0)
        top = head.copy()
        top[rows[0] + (rows[-1] - rows[0]) // 3 :] = False
        hair_colour = np.median(lab[top], axis=0)
        if np.linalg.norm(colour - hair_colour) > clothes_hair_distance:
            near = np.linalg.norm(lab - colour, axis=-1) < clothes_distance
            like = cand.astype(bool) & low & near
            like = cv2.morphologyEx(like.astype(np.uint8), cv2.MORPH_OPEN, _disk(3))
            like = _fill_holes(like.astype(bool)).astype(np.uint8)
            n, lbl, stats, _ = cv2.connectedComponentsWithStats(like, connectivity=8)
            for i in range(1, n):
                x, y, bw, bh, area = stats[i]
                if area >= clothes_min_area * h * w and y + bh >= h - 1:
                    out |= lbl == i
    return cv2.dilate(out.astype(np.uint8), _disk(2)).astype(bool)


def _below_hairline(
    hair: np.ndarray,
    head: np.ndarray,
    *,
    min_hair_component: float,
    max_hairline_slope: float,
) -> np.ndarray:
    """Pixels of ``head`` below the convex hull of the hair (per column), i.e. the face.

    Only hair blobs of at least ``min_hair_component`` of the head's area count. Columns
    the hull does not reach keep everything. Photos are taken upright, so a hairline runs
    across the frame: when the lowest hair points of the hull's left and right halves
    differ in height by more than ``max_hairline_slope`` times their distance, the hull is
    not a hairline (hair on one side only, or clutter) and nothing is removed.
    """
    h, w = head.shape
    none = np.zeros((h, w), bool)
    clean = cv2.morphologyEx(hair.astype(np.uint8), cv2.MORPH_OPEN, _disk(2))
    n, lbl, area = _components_area(clean)
    least = min_hair_component * head.sum()  # (once, not once per component)
    big = [i for i in range(1, n) if area[i] >= least]
    if not big:
        return none
    pts = cv2.findNonZero(np.isin(lbl, big).astype(np.uint8))
    hull = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(pts), 1)
    hull = hull.astype(bool)
    has = hull.any(axis=0)
    bottom = np.where(has, h - 1 - np.argmax(hull[::-1], axis=0), -1)
    cols = np.flatnonzero(has)
    if cols.size < 2:
        return none
    mid = (cols[0] + cols[-1]) // 2
    left, right = bottom[: mid + 1], bottom[mid + 1 :]
    xl, xr = int(np.argmax(left)), mid + 1 + int(np.argmax(right))
    slope = abs(int(bottom[xl]) - int(bottom[xr])) / max(xr - xl, 1)
    if slope > max_hairline_slope:
        return none
    bottom = np.where(has, bottom, h)
    return head & (np.arange(h)[:, None] > bottom[None, :])


#: Names of the :class:`hairtrack.config.GlobalParams` values used by :func:`trim_fringe`.
FRINGE_PARAMS = ("fringe_sigma", "fringe_background")
#: All the parameters :func:`trim_fringe` takes.
TRIM_PARAMS = ("share_side", "background_distance", "background_skin_distance") + FRINGE_PARAMS


def trim_fringe(
    rgb: np.ndarray,
    region: np.ndarray,
    skin: np.ndarray,
    background_colours: np.ndarray,
    **params: float,
) -> np.ndarray:
    """Leave out the fringe of strands that stick out past the head's outline.

    Past the outline, between the strands, the background shows; inside it, skin or
    hair. At a size where strands are resolved (long side ``share_side``), pixels of a
    background colour are counted in a Gaussian window (``fringe_sigma`` of the long
    side), and the region's pixels where they are more than ``fringe_background`` of
    the window are left out.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
    region, skin : (h, w) bool ndarray
        Region and skin-coloured pixels at the working size.
    background_colours : (k, 3) ndarray
        Background colours (Lab), as found by the region steps.
    **params
        ``share_side``, ``background_distance``, ``background_skin_distance``,
        ``fringe_sigma``, ``fringe_background`` (defaults:
        :class:`hairtrack.config.GlobalParams`).

    Returns
    -------
    (h, w) bool ndarray
        The region without its fringe (unchanged when that would leave little).
    """
    p = _global_params(params, TRIM_PARAMS)
    share_side = int(p["share_side"])
    background_distance = float(p["background_distance"])
    background_skin_distance = float(p["background_skin_distance"])
    fringe_sigma = float(p["fringe_sigma"])
    fringe_background = float(p["fringe_background"])
    if fringe_background >= 1.0 or len(background_colours) == 0 or not region.any():
        return region
    hw, ww = region.shape
    h, w = rgb.shape[:2]
    s = min(1.0, share_side / max(h, w))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    img = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if s < 1 else rgb
    sigma = max(fringe_sigma * max(size), 0.5)
    # only the share at region pixels is used: the window is the region's bounding box at
    # this size with a margin wider than the blur's kernel (and the frame's edge stays
    # the frame's edge), so the share there is that of the whole frame, for less work
    fy, fx = size[1] / hw, size[0] / ww
    margin = int(np.ceil(4 * sigma)) + 3
    x0, y0, bw, bh = cv2.boundingRect(region.astype(np.uint8))
    win = (
        slice(max(int(y0 * fy) - margin, 0), min(int(np.ceil((y0 + bh) * fy)) + margin, size[1])),
        slice(max(int(x0 * fx) - margin, 0), min(int(np.ceil((x0 + bw) * fx)) + margin, size[0])),
    )
    lab = cv2.cvtColor(img[win].astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    d2 = _min_sq_dist(lab, background_colours)
    skin_s = cv2.resize(skin.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)[win] > 0
    limit = np.where(skin_s, np.float32(background_skin_distance), np.float32(background_distance))
    like = (d2 < limit * limit).astype(np.float32)
    share = np.zeros(size[::-1], np.float32)
    share[win] = cv2.GaussianBlur(like, (0, 0), sigma)
    share_w = cv2.resize(share, (ww, hw), interpolation=cv2.INTER_AREA)
    trimmed = region & (share_w <= fringe_background)
    trimmed = _fill_holes(_largest_blob(trimmed))
    if trimmed.sum() < 0.5 * region.sum():
        return region
    return trimmed


# ---- per-pixel hair share (linear unmixing) --------------------------------------------

#: Names of the :class:`hairtrack.config.GlobalParams` values used by :func:`hair_share`
#: only (not by the region steps).
#: Least L* of skin: a darker colour is hair (or shadow), never skin.
MIN_SKIN_LIGHTNESS = 15.0
#: Least chroma of skin (as ``skin_min_chroma``): a greyer colour is not skin.
MIN_SKIN_CHROMA = 5.0
#: Hue range (degrees) any skin falls in under any white balance: a broad warm range.
SKIN_HUE_RANGE = (-10.0, 110.0)

SHARE_PARAMS = (
    "share_side",
    "share_blur",
    "share_axis_blur",
    "share_end_quantile",
    "share_thin_radius",
    "share_thin_contrast",
    "share_min_evidence",
    "share_line_contrast",
    "share_line_length",
    "share_min_line_evidence",
    "share_sure_ratio",
    "share_vote_ratio",
    "share_hair_end",
    "share_vote_sigma",
    "share_skin_refine",
    "share_field_passes",
    "share_field_sigma",
    "share_zone_sigma",
    "share_pure",
    "share_smooth",
    "share_edge",
    "share_edge_mix",
)


@dataclass(frozen=True)
class HairShare:
    """Per-pixel hair share of a global photo, from linear unmixing.

    Attributes
    ----------
    share : (h, w) float32 ndarray
        Hair share 0-1 of each pixel at the working size, 0 outside the region.
    skin_rgb, hair_rgb : (3,) float ndarray
        Skin and hair colours (sRGB 0-255) the unmixing started from.
    contrast : float
        CIE Lab distance between them (Delta E 1976); below ~10 no photo can tell hair
        from skin and the share means little.
    evidence : float
        Share of the region's pixels that are strand-like (thin and of at least
        ``share_thin_contrast`` of the skin-hair contrast); ~0 when strands are not
        resolved (small photos, distant heads) or there is no hair.
    resolved : bool
        Strands are resolved (``evidence >= share_min_evidence`` or ``line_evidence >=
        share_min_line_evidence``) and ``share`` holds the unmixed hair share; when
        False ``share`` is all 0 and the caller should fall back to a zone-level score.
    hair_darker : bool
        Property: hair is the darker of the two colours.
    line_evidence : float
        Share of the region's pixels on line-shaped thin structures (at least
        ``share_line_length`` px long, of at least ``share_line_contrast`` of the zones'
        contrast): faint strands that noise would hide from ``evidence``.
    """

    share: np.ndarray
    skin_rgb: np.ndarray
    hair_rgb: np.ndarray
    contrast: float
    evidence: float
    resolved: bool
    line_evidence: float = 0.0

    @property
    def hair_darker(self) -> bool:
        """The hair end is the darker one (CIE L*)."""
        return float(_lab(self.hair_rgb / 255.0)[0]) < float(_lab(self.skin_rgb / 255.0)[0])


def _field(
    img: np.ndarray, weight: np.ndarray, sigma: float, fallback: np.ndarray, *, side: int = 128
) -> np.ndarray:
    """Smooth local mean colour of the weighted pixels (normalised convolution).

    Computed on a copy with long side ``side``; ``sigma`` is a share of that long side.
    Where few pixels are weighted the field falls back to ``fallback`` (a colour).
    """
    h, w = weight.shape
    s = side / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    wt = weight.astype(np.float32)
    ws = cv2.resize(wt, size, interpolation=cv2.INTER_AREA)
    iw = cv2.resize(img * wt[..., None], size, interpolation=cv2.INTER_AREA)
    sg = max(sigma * side, 0.5)
    gw = cv2.GaussianBlur(ws, (0, 0), sg)
    gi = cv2.GaussianBlur(iw, (0, 0), sg)
    k = np.float32(0.02)
    field = (gi + k * fallback.astype(np.float32)[None, None, :]) / (gw + k)[..., None]
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def _unmix(img: np.ndarray, skin: np.ndarray, hair: np.ndarray) -> np.ndarray:
    """Unclipped hair share ``a`` of ``img = a * hair + (1 - a) * skin`` (projection).

    ``skin`` and ``hair`` are one colour each (the usual case) or per-pixel fields; one
    colour each is one float32 projection (:func:`_project`; no float64 copy of the image).
    """
    if np.ndim(skin) == 1 and np.ndim(hair) == 1 and img.dtype == np.float32:
        d = np.asarray(hair, np.float64) - np.asarray(skin, np.float64)
        n2 = max(float(d @ d), 1e-6)
        dn = (d / n2).astype(np.float32)
        a = _project(img, dn)
        a -= np.float32(np.asarray(skin, np.float64) @ d / n2)
        return a
    d = hair - skin
    n2 = np.maximum((d * d).sum(-1), 1e-6)
    return (((img - skin) * d).sum(-1) / n2).astype(np.float32)


def _project(img: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each pixel of an (h, w, 3) float32 image projected on the vector ``v``: (h, w).

    ``cv2.transform`` (a per-pixel 1x3 matrix product) is many times faster than NumPy's
    ``img @ v`` on an image.
    """
    return cv2.transform(img, np.asarray(v, np.float32).reshape(1, 3))


def _median_colour(img: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Per-channel median (float64) of the ``sel`` pixels of an (h, w, 3) image.

    The same as ``np.median(img[sel], axis=0)``, channel by channel (faster than a
    median along the first axis of an (N, 3) array). The pixels are picked by their
    flat indices from the (P, 3) view, once for all channels: a boolean pick from each
    strided channel took about twice the time.
    """
    idx = np.flatnonzero(sel)
    flat = img.reshape(-1, img.shape[-1])
    return np.array([np.median(flat[idx, c]) for c in range(img.shape[-1])], np.float64)


def _principal_axis(x: np.ndarray) -> np.ndarray:
    """First principal axis (unit, float32) of centred (N, 3) colours.

    The leading eigenvector of their 3x3 scatter matrix: the first right singular vector
    of ``x`` (the sign is arbitrary either way), without an SVD of the (N, 3) array.
    """
    xd = np.asarray(x, np.float64)
    _, vecs = np.linalg.eigh(xd.T @ xd)
    return vecs[:, -1].astype(np.float32)


def _line_share(thin: np.ndarray, zones: np.ndarray, length: int) -> float:
    """Share of ``zones`` covered by pieces of ``thin`` at least ``length`` px long.

    A piece's length is the longer side of its bounding box (8-connected); strands are
    lines, noise specks are not.
    """
    if not zones.any():
        return 0.0
    m = (thin & zones).astype(np.uint8)
    n, lbl, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    keep = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= length
    keep[0] = False
    # every pixel of a component is a pixel of ``m``: the kept pixels are their areas
    return float(stats[keep, cv2.CC_STAT_AREA].sum()) / float(np.count_nonzero(zones))


def _delta_e(c1: np.ndarray, c2: np.ndarray) -> float:
    """CIE Lab distance of two sRGB colours given as 0-1 floats."""
    px = np.stack([c1, c2]).astype(np.float32)[None]
    lab = cv2.cvtColor(np.clip(px, 0, 1), cv2.COLOR_RGB2Lab)[0]
    return float(np.linalg.norm(lab[0] - lab[1]))


def _lab(c: np.ndarray) -> np.ndarray:
    """CIE Lab of one sRGB colour given as 0-1 floats."""
    px = np.clip(np.asarray(c, np.float32), 0, 1).reshape(1, 1, 3)
    return cv2.cvtColor(px, cv2.COLOR_RGB2Lab)[0, 0].astype(np.float64)


def _skin_plausible(colour: np.ndarray) -> bool:
    """Could this sRGB colour (0-1 floats) be skin: not near-black, grey, blue or green?"""
    lab = _lab(colour)
    hue = float(np.degrees(np.arctan2(lab[2], lab[1])))
    return bool(
        lab[0] >= MIN_SKIN_LIGHTNESS
        and np.hypot(lab[1], lab[2]) >= MIN_SKIN_CHROMA
        and SKIN_HUE_RANGE[0] <= hue <= SKIN_HUE_RANGE[1]
    )


def _side_colour(img: np.ndarray, t: np.ndarray, sel: np.ndarray, span: float) -> np.ndarray:
    """Colour at the mode of the projection ``t`` over ``sel`` (median of pixels near it).

    The mode, not an extreme quantile: texture, noise and shine would bias an extreme.
    """
    v = t[sel]
    if v.size == 0:
        return np.median(img.reshape(-1, 3), axis=0)
    hist, edges = np.histogram(v, 128)
    hist = np.convolve(hist, np.ones(5) / 5, mode="same")
    mode = 0.5 * (edges[:-1] + edges[1:])[int(np.argmax(hist))]
    near = sel & (np.abs(t - mode) < 0.05 * max(span, 1e-6))
    return _median_colour(img, near if near.any() else sel)


def _is_mix(c: np.ndarray, skin: np.ndarray, hair: np.ndarray, tol: float) -> bool:
    """Whether colour ``c`` lies on the segment from ``skin`` towards ``hair``.

    True when ``c - skin`` points towards ``hair`` (its part off that direction is at
    most ``tol`` of its length) and ``c`` is not past ``hair``.
    """
    d = np.asarray(hair, np.float64) - skin
    v = np.asarray(c, np.float64) - skin
    nd, nv = float(np.linalg.norm(d)), float(np.linalg.norm(v))
    if nd == 0 or nv == 0:
        return False
    along = float(v @ d) / nd
    off = float(np.sqrt(max(nv * nv - along * along, 0.0)))
    return 0 < along <= nd and off <= tol * nv


def _ends(
    img: np.ndarray,
    t: np.ndarray,
    sel: np.ndarray,
    quantile: float,
    *,
    sure: bool = False,
    fixed: bool = False,
) -> tuple[np.ndarray, float, float, np.ndarray, np.ndarray]:
    """Skin and hair colours at the ends of the colour axis ``t`` over ``sel``.

    Skin is the median of the ``quantile`` extreme at the low end, hair the mode of the
    high side. Skin is never near-black, grey, blue or green while hair can be: when
    only the high end is plausible skin, the axis is flipped. When the strands were
    resolved and voted clearly (``sure``), the hair end stands and an implausible skin
    extreme is something else the region let in (a white shirt or wall at its edge):
    skin is then the mode of its side, as hair is, if that is plausible skin. Returns
    the (possibly flipped) axis, its ends, and the skin and hair colours (RGB, 0-1).
    With ``fixed`` the axis is never flipped (the hair end was given).
    """
    lo, hi = (float(v) for v in np.quantile(t[sel], [quantile, 1 - quantile]))
    skin0 = _median_colour(img, sel & (t <= lo))
    hair0 = _side_colour(img, t, sel & (t >= 0.5 * (lo + hi)), hi - lo)
    if sure and not _skin_plausible(skin0):
        mode = _side_colour(img, -t, sel & (t <= 0.5 * (lo + hi)), hi - lo)
        if _skin_plausible(mode):
            return t, lo, hi, mode, hair0
    if not fixed and not _skin_plausible(skin0) and _skin_plausible(hair0):
        # the vote read highlights or gaps as strands
        t, lo, hi = -t, -hi, -lo
        skin0 = _median_colour(img, sel & (t <= lo))
        hair0 = _side_colour(img, t, sel & (t >= 0.5 * (lo + hi)), hi - lo)
    return t, lo, hi, skin0, hair0


def hair_share(rgb: np.ndarray, region: np.ndarray, **params: float) -> HairShare:
    """Hair share of each pixel of the region: linear unmixing of skin and hair colour.

    Each pixel is modelled as ``I = a * H + (1 - a) * S`` with ``S`` the local skin colour
    and ``H`` the local hair colour, and ``a`` (the share of the pixel that is hair) is
    the projection of ``I - S`` on ``H - S``. Unmixing is linear, so blurring (optics,
    resizing) does not bias the region's mean share; what matters is that ``S`` and ``H``
    are right. Steps, on a copy with long side ``share_side`` (strands of 1-2 px stay
    resolved):

    1. Colour axis: the first principal axis of the region's colours after a blur of
       ``share_axis_blur`` px, so that zone-scale differences (bare scalp against hair),
       not strand texture, set it.
    2. Which end is hair: the end that forms thin structures (strands, top-hat or
       black-hat of radius ``share_thin_radius`` and at least ``share_thin_contrast`` of
       the end-to-end contrast), each counted as a share of the zones it lies on (light
       strands on dark zones, dark strands on light zones; zones smoothed by
       ``share_vote_sigma`` px), so that strands on bare scalp outvote the few gaps in
       dense hair. Without a clear vote (``share_vote_ratio``) the darker end is hair.
       Skin is never near-black, grey, blue or green: if the skin end is and the hair
       end is not, they swap. Skin is the colour of the ``share_end_quantile`` extreme
       pixels (pure skin shows between strands); hair is the mode of the projection on
       its side (not its extreme: hair texture and noise would bias it).
    3. Skin, refined: the median colour of the pixels in zones whose share (smoothed by
       ``share_zone_sigma`` px) is below ``share_skin_refine``, i.e. typical bare skin
       rather than its extreme (which shading and skin texture push away from hair).
       Lighting (``share_field_passes`` > 0 only): local skin and hair colours are
       smooth means (normalised convolution, ``share_field_sigma`` of the long side) of
       the pixels in pure zones (zone share, smoothed by ``share_zone_sigma`` px, below
       ``share_pure`` or above ``1 - share_pure``), falling back to the global colours.
       Off by default: with one colour each, a lighting gradient over- and
       under-estimates on either side and averages out in the mean, while the choice of
       pure zones biases local colours.
    4. The unclipped share is averaged to the region's working size, smoothed by
       ``share_smooth`` px and only then clipped to 0-1: clipping noisy pixels one by one
       would bias the mean towards 0.5.

    When fewer than ``share_min_evidence`` of the pixels are strands, and fewer than
    ``share_min_line_evidence`` lie on faint line-shaped ones (``line_evidence``),
    strands are not resolved (small or soft photos, or no hair): which colour is hair
    cannot be told and ``resolved`` is False, with a share of 0; the caller falls back
    to a zone-level score. The faint lines are for low-contrast pairs (brown hair on
    brown skin, grey on very light) in noisy photos: noise widens the sharp copy's
    end-to-end range, so their strands fall under ``share_thin_contrast`` of it, but
    they reach ``share_line_contrast`` of the zones' range (the axis on the blurred
    copy) and, unlike noise specks, run ``share_line_length`` px or more. Skin and hair
    of nearly the same colour (``contrast`` below ~10) cannot be told apart at all.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
    region : (h, w) bool ndarray
        Scalp region at the working size; the share is returned at this size.
    **params
        Any of ``SHARE_PARAMS`` (defaults: :class:`hairtrack.config.GlobalParams`).

    Returns
    -------
    HairShare

    Raises
    ------
    ValueError
        On a parameter that is not one of ``SHARE_PARAMS``.
    """
    p = _global_params(params, SHARE_PARAMS)
    share_side = int(p["share_side"])
    share_blur = float(p["share_blur"])
    share_axis_blur = float(p["share_axis_blur"])
    share_end_quantile = float(p["share_end_quantile"])
    share_thin_radius = int(p["share_thin_radius"])
    share_thin_contrast = float(p["share_thin_contrast"])
    share_min_evidence = float(p["share_min_evidence"])
    share_line_contrast = float(p["share_line_contrast"])
    share_line_length = int(p["share_line_length"])
    share_min_line_evidence = float(p["share_min_line_evidence"])
    share_sure_ratio = float(p["share_sure_ratio"])
    share_vote_ratio = float(p["share_vote_ratio"])
    share_hair_end = str(p["share_hair_end"])
    if share_hair_end not in ("auto", "darker", "lighter"):
        raise ValueError(
            f"share_hair_end must be 'auto', 'darker' or 'lighter', not {share_hair_end!r}"
        )
    share_vote_sigma = float(p["share_vote_sigma"])
    share_skin_refine = float(p["share_skin_refine"])
    share_field_passes = int(p["share_field_passes"])
    share_field_sigma = float(p["share_field_sigma"])
    share_zone_sigma = float(p["share_zone_sigma"])
    share_pure = float(p["share_pure"])
    share_smooth = float(p["share_smooth"])
    share_edge = float(p["share_edge"])
    share_edge_mix = float(p["share_edge_mix"])
    hw, ww = region.shape
    h, w = rgb.shape[:2]
    s = min(1.0, share_side / max(h, w))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    img = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if s < 1 else rgb
    reg = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    zero = np.zeros((hw, ww), np.float32)
    grey = np.full(3, np.nan)
    if np.count_nonzero(reg) < 100:
        return HairShare(zero, grey, grey, 0.0, 0.0, False)
    px_scale = max(size) / 1024.0
    # steps 1-3 run on the region's bounding box with a margin wider than any of their
    # kernels (blurs, morphology; the frame's edge stays the frame's edge): their values
    # at region pixels are those of the whole frame, for less work. Not with the lighting
    # fields, which are smoothed at a size set by the whole frame.
    reg_full = reg
    win: tuple[slice, slice] = (slice(None), slice(None))
    if share_field_passes == 0:
        sigma = max(share_blur, share_axis_blur * px_scale, share_vote_sigma * px_scale)
        sigma = max(sigma, share_zone_sigma * px_scale, 1.0)
        margin = int(np.ceil(4 * sigma)) + 2 * (share_thin_radius + 2) + 4
        x0, y0, bw, bh = cv2.boundingRect(reg.view(np.uint8))
        win = (
            slice(max(y0 - margin, 0), min(y0 + bh + margin, size[1])),
            slice(max(x0 - margin, 0), min(x0 + bw + margin, size[0])),
        )
        reg = reg[win]
    img = img[win].astype(np.float32) / 255.0
    if share_blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), share_blur)
    # the colours are learnt away from the region's edge, where a wrong region lets in
    # background, fringe or clothes (which then pass for the skin end)
    edge = int(round(share_edge * max(size)))
    # (the ellipse's rectangles: OpenCV's erosion by a 63 px ellipse at share_side 1024
    # took 2.5x the time, the same pixels)
    core = reg
    if edge > 0:
        core = disk_morph(reg.astype(np.uint8), 2 * edge + 1, dilate=False).astype(bool)
    if np.count_nonzero(core) < 0.25 * np.count_nonzero(reg):
        core = reg
    # 1. colour axis
    big = cv2.GaussianBlur(img, (0, 0), max(share_axis_blur * px_scale, 0.5))
    # all the region's pixels: a 3x3 scatter matrix costs less than drawing a subsample
    x = big[reg]
    mu = x.mean(axis=0)
    x -= mu
    u = _principal_axis(x)
    t = _project(img, u) - np.float32(mu @ u)
    t = np.where(reg, t, np.float32(np.median(t[reg])))
    lo, hi = (float(v) for v in np.quantile(t[reg], [share_end_quantile, 1 - share_end_quantile]))
    # 2. which end is hair
    k = _disk(share_thin_radius)
    inner = cv2.erode(reg.astype(np.uint8), _disk(share_thin_radius + 2)).astype(bool)
    if not inner.any():
        inner = reg
    need = share_thin_contrast * (hi - lo)
    # thin structures are counted on the background they lie on: light ones in dark
    # zones, dark ones in light zones, each as a share of its zones (strands are many on
    # bare scalp; gaps between dense strands are few)
    zone_t = cv2.GaussianBlur(t, (0, 0), max(share_vote_sigma * px_scale, 1.0))
    low_z = inner & (zone_t < 0.5 * (lo + hi))
    high_z = inner & ~low_z
    top_hat = cv2.morphologyEx(t, cv2.MORPH_TOPHAT, k)
    black_hat = cv2.morphologyEx(t, cv2.MORPH_BLACKHAT, k)
    top = float((top_hat[low_z] > need).mean()) if low_z.any() else 0.0
    black = float((black_hat[high_z] > need).mean()) if high_z.any() else 0.0
    evidence = max(top, black)
    # faint strands (low skin-hair contrast in a noisy photo): line-shaped thin
    # structures judged against the zones' contrast (the axis on the blurred copy, which
    # pixel noise does not widen); their length tells them from noise specks
    t_zone = _project(x[:, None, :], u)[:, 0]  # the blurred copy's region pixels, centred
    lo_z, hi_z = np.quantile(t_zone, [share_end_quantile, 1 - share_end_quantile])
    need_line = share_line_contrast * float(hi_z - lo_z)
    line_top = _line_share(top_hat > need_line, low_z, share_line_length)
    line_black = _line_share(black_hat > need_line, high_z, share_line_length)
    line_evidence = max(line_top, line_black)
    if black > top:
        t, lo, hi = -t, -hi, -lo  # hair-like thin structures at the high end
    # the hair end is sure when the line-shaped strands (resolved) side with the vote and
    # outnumber the other end's by far; gaps between dense strands, read as strands,
    # do not
    sure = line_evidence >= share_min_line_evidence and (
        line_black >= share_sure_ratio * line_top
        if black > top
        else line_top >= share_sure_ratio * line_black
    )
    if max(top, black) <= share_vote_ratio * min(top, black):
        sure = False
        # no clear vote (also none at all: no thin structure at either end, as in a
        # soft re-shot photo read with per-pixel unmixing): the darker end is hair. The
        # axis's sign is arbitrary, so without this a tie left the ends to chance
        end_lo = _median_colour(img, reg & (t <= lo))
        end_hi = _median_colour(img, reg & (t >= hi))
        if _lab(end_hi)[0] > _lab(end_lo)[0]:
            t, lo, hi = -t, -hi, -lo
    fixed = share_hair_end != "auto"
    if fixed:
        # the hair end is given (a comparison's second photo follows the first): the
        # high end is made the darker or the lighter one, whatever this photo's vote
        sure = False
        end_lo = _median_colour(img, reg & (t <= lo))
        end_hi = _median_colour(img, reg & (t >= hi))
        if (_lab(end_hi)[0] < _lab(end_lo)[0]) != (share_hair_end == "darker"):
            t, lo, hi = -t, -hi, -lo
    # skin: its extreme pixels (pure skin shows between strands); hair: the mode of its
    # side, because hair texture and noise would bias its extreme; both in the core,
    # unless the core holds no pure skin (dense hair, skin only at the edge, such as a
    # forehead under the hairline): its skin end is then a mix of the whole region's
    # skin and hair, on the line between them (a shirt or wall is off that line)
    t, lo, hi, skin0, hair0 = _ends(img, t, core, share_end_quantile, sure=sure, fixed=fixed)
    if core is not reg:
        t_r, lo_r, hi_r, skin_r, hair_r = _ends(
            img, t, reg, share_end_quantile, sure=sure, fixed=fixed
        )
        if _is_mix(skin0, skin_r, hair_r, share_edge_mix):
            t, lo, hi, skin0, hair0 = t_r, lo_r, hi_r, skin_r, hair_r
    contrast = _delta_e(skin0, hair0)
    if evidence < share_min_evidence and line_evidence < share_min_line_evidence:
        # strands are not resolved: which colour is hair is not known
        return HairShare(
            zero, skin0 * 255.0, hair0 * 255.0, contrast, evidence, False, line_evidence
        )
    # 3. typical skin; local skin and hair colours (off by default)
    a = _unmix(img, skin0, hair0)
    skin_c, hair_c = skin0, hair0
    zs = max(share_zone_sigma * px_scale, 0.5)
    if share_skin_refine > 0:
        az = cv2.GaussianBlur(a, (0, 0), zs)
        # ... and near the first skin colour: not leftover background or clothes
        near = _min_sq_dist(img, skin0[None]) < 0.25 * float(np.sum((hair0 - skin0) ** 2))
        pure = core & (az < share_skin_refine) & near
        if np.count_nonzero(pure) >= 100:
            skin0 = _median_colour(img, pure)
            skin_c = skin0
            a = _unmix(img, skin0, hair0)
    for _ in range(share_field_passes):
        az = cv2.GaussianBlur(a, (0, 0), zs)
        skin_c = _field(img, reg & (az < share_pure), share_field_sigma, skin0)
        hair_c = _field(img, reg & (az > 1 - share_pure), share_field_sigma, hair0)
        a = _unmix(img, skin_c, hair_c)
    # 4. to the working size, then clip
    a_full = np.zeros(reg_full.shape, np.float32)
    a_full[win] = np.where(reg, a, 0)
    am = cv2.resize(a_full, (ww, hw), interpolation=cv2.INTER_AREA)
    rm = cv2.resize(reg_full.astype(np.float32), (ww, hw), interpolation=cv2.INTER_AREA)
    am = am / np.maximum(rm, 1e-6)
    if share_smooth > 0:
        wt = region.astype(np.float32)
        am = cv2.GaussianBlur(am * wt, (0, 0), share_smooth) / np.maximum(
            cv2.GaussianBlur(wt, (0, 0), share_smooth), 1e-6
        )
    share = np.where(region, np.clip(am, 0.0, 1.0), 0.0).astype(np.float32)
    return HairShare(share, skin0 * 255.0, hair0 * 255.0, contrast, evidence, True, line_evidence)


def _upsample(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour upsampling of a working-size mask to ``shape`` (H, W)."""
    if mask.shape == shape:
        return mask.copy()
    up = cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return up.astype(bool)


# ---- public --------------------------------------------------------------------------------


def _region_working(
    f: _Features,
    *,
    skin_hue_min: float,
    skin_hue_max: float,
    skin_prior_chroma: float,
    skin_prior_max_chroma: float,
    skin_prior_max_saturation: float,
    skin_max_saturation: float,
    skin_prior_texture: float,
    skin_mahalanobis: float,
    skin_min_chroma: float,
    background_band: float,
    background_corner: float,
    background_side_height: float,
    background_clusters: int,
    background_distance: float,
    background_skin_distance: float,
    background_texture: float,
    head_opening: float,
    texture_threshold: float,
    dark_ratio: float,
    soft_width: float,
    skin_lightness_quantile: float,
    hair_grey_chroma: float,
    hair_hue_min: float,
    hair_hue_max: float,
    hair_max_chroma: float,
    clothes_min_area: float,
    clothes_top: float,
    clothes_band: float,
    clothes_distance: float,
    clothes_hair_distance: float,
    min_hair_component: float,
    max_hairline_slope: float,
    max_face_fraction: float,
    face_max_score: float,
) -> dict:
    """All region steps at the working size; returns the intermediate masks and models."""
    h, w = f.lightness.shape
    skin, skin_mean, skin_cov = _skin_model(
        f,
        skin_hue_range=(skin_hue_min, skin_hue_max),
        skin_prior_chroma=skin_prior_chroma,
        skin_prior_max_chroma=skin_prior_max_chroma,
        skin_prior_max_saturation=skin_prior_max_saturation,
        skin_max_saturation=skin_max_saturation,
        skin_prior_texture=skin_prior_texture,
        skin_mahalanobis=skin_mahalanobis,
        skin_min_chroma=skin_min_chroma,
    )
    bg, bg_centres = _background(
        f,
        skin,
        background_band=background_band,
        background_corner=background_corner,
        background_side_height=background_side_height,
        background_clusters=background_clusters,
        background_distance=background_distance,
        background_skin_distance=background_skin_distance,
        background_texture=background_texture,
    )
    radius = max(2, int(round(head_opening * max(h, w))))
    fg = cv2.morphologyEx((~bg).astype(np.uint8), cv2.MORPH_OPEN, _disk(radius))
    head = _fill_holes(_largest_blob(fg))
    if not head.any():
        head = np.ones((h, w), bool)
    clothes = _clothes(
        f,
        head,
        skin,
        texture_threshold=texture_threshold,
        clothes_min_area=clothes_min_area,
        clothes_top=clothes_top,
        clothes_band=clothes_band,
        clothes_distance=clothes_distance,
        clothes_hair_distance=clothes_hair_distance,
        skin_max_chroma=skin_prior_max_chroma,
    )
    if clothes.any():
        rest = cv2.morphologyEx((head & ~clothes).astype(np.uint8), cv2.MORPH_OPEN, _disk(3))
        rest = _fill_holes(_largest_blob(rest))
        if rest.any():
            head = rest
    skin_in = skin & head
    skin_l = _skin_lightness(f, skin_in, skin_lightness_quantile)
    colour_ok = _hair_colour_ok(
        f,
        hair_grey_chroma=hair_grey_chroma,
        hair_hue_range=(hair_hue_min, hair_hue_max),
        hair_max_chroma=hair_max_chroma,
    )
    score = _hair_score(
        f,
        colour_ok,
        skin_l,
        texture_threshold=texture_threshold,
        dark_ratio=dark_ratio,
        soft_width=soft_width,
    )
    hair = (score >= 0.5) & head
    face = _below_hairline(
        hair,
        head,
        min_hair_component=min_hair_component,
        max_hairline_slope=max_hairline_slope,
    )
    face_share = float(face.sum()) / max(int(head.sum()), 1)
    region = head
    bare = face.any() and float(score[face].mean()) <= face_max_score
    if 0 < face_share <= max_face_fraction and bare:
        region = head & ~face
    else:
        face_share = 0.0
    # neither skin nor a hair colour (blue, green, purple, saturated red): clothes,
    # pillows, background left in the blob
    other = region & ~skin & ~colour_ok & (f.texture < texture_threshold)
    other = cv2.morphologyEx(other.astype(np.uint8), cv2.MORPH_OPEN, _disk(2)).astype(bool)
    if other.any() and (region & ~other).any():
        region = region & ~other
    # one head: drop pieces the cuts left behind (corners of clothes, stray bits)
    main = _largest_blob(region)
    if main.any():
        region = main
    return {
        "skin": skin,
        "skin_mean": skin_mean,
        "skin_cov": skin_cov,
        "skin_lightness": skin_l,
        "background": bg,
        "background_colours": bg_centres,
        "clothes": clothes,
        "head": head,
        "hair": hair & region,
        "hair_score": np.where(region, score, 0.0).astype(np.float32),
        "colour_ok": colour_ok,
        "region": region,
        "face_share": face_share,
    }


def scalp_region(rgb: np.ndarray, **params: float) -> ScalpRegion:
    """Find the scalp region (hair plus bare scalp skin) of a global photo.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 ndarray
        The photo, RGB order, at least 32x32 px.
    **params
        Any :class:`hairtrack.config.GlobalParams` value, by name (the defaults are
        there: ``working_side``, ``texture_radius`` and ``texture_sigma`` set the working
        image; the ``skin_*``, ``background_*``, ``head_opening``, ``texture_threshold``,
        ``dark_ratio``, ``soft_width``, ``hair_*``, ``clothes_*``, face-rule and
        ``fringe_*`` values the region steps; the ``share_*`` values are for
        :func:`hair_share` and accepted so that one parameters object serves both).

    Returns
    -------
    ScalpRegion

    Raises
    ------
    ValueError
        If ``rgb`` is not an (H, W, 3) uint8 array of at least 32x32 px, or on an unknown
        parameter.

    Examples
    --------
    >>> import numpy as np, cv2
    >>> img = np.full((300, 400, 3), (90, 120, 200), np.uint8)
    >>> _ = cv2.ellipse(img, (200, 160), (110, 130), 0, 0, 360, (225, 180, 160), -1)
    >>> r = scalp_region(img)
    >>> r.mask.shape, r.mask.dtype
    ((300, 400), dtype('bool'))
    """
    return _scalp_region(rgb, params)[0]


def _scalp_region(
    rgb: np.ndarray, params: dict, *, stacklevel: int = 3
) -> tuple[ScalpRegion, _Features, dict]:
    """:func:`scalp_region`, also returning its working-size features and region steps.

    For a caller that goes on to segment the same photo (:func:`hairtrack.measure.analyse`):
    the features and the skin and hair-colour masks need not be computed twice.
    ``stacklevel`` is that of the warnings, counted from here.
    """
    p = _global_params(params)
    rgb = _check_rgb(rgb)
    _warn_if_blank(rgb, stacklevel=stacklevel + 1)
    working_side = int(p.pop("working_side"))
    if working_side < 64:
        raise ValueError(f"working_side={working_side} is too small; use at least 64 px")
    f = _features(
        rgb,
        working_side=working_side,
        texture_radius=int(p.pop("texture_radius")),
        texture_sigma=float(p.pop("texture_sigma")),
        texture_preblur=float(p.pop("texture_preblur")),
    )
    trim_p = {k: p[k] for k in TRIM_PARAMS}
    for k in SHARE_PARAMS + FRINGE_PARAMS + ("share_method", "given_skin_lightness"):
        p.pop(k)
    out = _region_working(f, **p)
    region = trim_fringe(rgb, out["region"], out["skin"], out["background_colours"], **trim_p)
    if region.mean() < 0.02:
        warnings.warn(
            f"scalp region covers only {100 * region.mean():.1f}% of the frame; "
            "is there a head in the photo?",
            stacklevel=stacklevel,
        )
    found = ScalpRegion(
        mask=_upsample(region, rgb.shape[:2]),
        working_mask=region,
        head_mask=out["head"],
        working_scale=f.scale,
        skin_mean=out["skin_mean"],
        skin_cov=out["skin_cov"],
        skin_lightness=out["skin_lightness"],
        face_removed=out["face_share"],
    )
    return found, f, out
