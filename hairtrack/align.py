"""Register a session photo onto the baseline photo: the ``align`` stage.

:func:`align` finds the homography that maps the pixels of a session photo (AFTER, the
*moving* image) onto the baseline photo of the same view (BEFORE, the *reference*), and
says honestly whether it can be trusted. :func:`warp_to_reference` then resamples a
moving-frame image or mask into the reference frame.

Hair moves between visits (combed, grown, shed, washed), so the registration looks at what
stays: skin texture, follicle openings, pores and moles in close-ups; the head outline,
ears and whatever else stays put in global photos. Each photo is reduced to a working
scale (about 1 MP), turned to luminance, has its thin dark and light ridges (hair) found
with black-hat / top-hat filters and filled in, its illumination flattened (divided by a
large blur) and its contrast equalised (CLAHE), so that new lighting, white balance and
gamma do not matter. SIFT features (at the working scale and on a ~0.1 MP copy) are
matched with a ratio test and a cross-check; a similarity, an affine map and a homography
are fitted robustly (RANSAC / MAGSAC), the simplest model is kept unless a richer one
explains the matches clearly better, and a second, guided round of matching (each feature
only against those near where the first fit sends it) refines the fit. A close-up's
keypoints are found on a halved copy of the working image (described on the working
image itself), and its fit is then polished by block matching the hair-suppressed skin
(as below), whose agreeing patches are the correspondences checked. When dense hair
leaves too few distinctive matches, a rough similarity is found from loose matches or by
a brute-force rotation x zoom search with phase correlation on small copies, and grown
into a full fit by rounds of guided matching; close-ups then have it refined by block
matching the hair-suppressed skin around it (each patch's best match is a correspondence,
kept only when most patches agree on one fit). The result is expressed in full-resolution
coordinates.

An :class:`Alignment` is ``ok`` only when every check passes: enough consistent matches,
a high enough share of them, a small residual, enough overlap, a plausible geometry
(scale 0.5-2, mild perspective, no mirror image), a fit that stays put at the corners
when refitted to halves of its inliers, matches spread over the frame, the fine skin
texture of the hair-suppressed images correlating after warping, and no tile of the
overlap left with a measurable shift. A close-up whose skin has little texture against
its noise (dark or even skin) correlates weakly even when right: there the correlation
must stand well above what the same texture gives under deliberately wrong (shifted)
warps, and the tiles are checked on a coarser band of the texture, lining up on median
(a fit found by block matching is judged on its own matched skin patches instead: under
long hair most tiles are hair, and their few skin pixels shift at random).
Global photos must also show that the fit holds on
the head, which can move apart from the background and clothes between visits: with
masks, enough inliers inside the head (not only in the band around it); the scalp skin
that the hair surrounds (the one texture that stays on the head while hair is redrawn)
must line up, not correlate better a few px beside (unless hundreds of inliers lie inside
the head); and the hair mass of the warped photo must land on the hair mass, not tens of
px beside it (the hair inside the look masks, when given: thin structure in the room is
found as hair too, and moves with the room). With look masks, the matches must spread
over the part of the overlap both masks cover, and a global fit keeps, through guided
matching, the model its distinctive matches proved (a perspective is not talked back
down to a similarity by many looser matches).
Otherwise ``ok`` is False and ``reason`` says why; the homography is still reported when
one was found, for inspection, but must not be used for a paired figure.

Examples
--------
>>> import numpy as np
>>> from hairtrack import synth
>>> from hairtrack.align import align
>>> rng = np.random.default_rng(0)
>>> subject = synth.make_closeup_subject(rng, width=640, height=480)
>>> before = synth.render_closeup(subject, synth.visit_state(subject, rng=rng),
...                               synth.Camera(), rng=rng)
>>> cam = synth.Camera(rotation_deg=8.0, scale=1.05)
>>> after = synth.render_closeup(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)
>>> result = align(before.image, after.image)
>>> result.ok
True
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from scipy.spatial import cKDTree

from hairtrack.config import AlignParams
from hairtrack.geometry import local_scale
from hairtrack.labels import components_with_stats
from hairtrack.morph import mean_depth
from hairtrack.threads import side_by_side

__all__ = [
    "Alignment",
    "Features",
    "align",
    "corner_error",
    "features",
    "warp_to_reference",
]

logger = logging.getLogger(__name__)

#: Smallest photo side accepted, px.
MIN_SIDE = 64

_VIEWS = ("closeup", "global")
_MODELS = ("auto", "homography", "affine", "similarity")
_ORDERS = ("auto", "dark", "light")


@dataclass(frozen=True)
class Alignment:
    """The registration of a moving (session) photo onto the reference (baseline) photo.

    Attributes
    ----------
    ok : bool
        True only when every quality check passed and the pair is registered.
    homography : (3, 3) float64 ndarray or None
        Maps moving-photo pixels to reference-photo pixels, full-resolution coordinates
        (``[x_ref, y_ref, 1] ~ H @ [x_mov, y_mov, 1]``, pixel centres at integers). Given
        when a model was fitted, even if ``ok`` is False; None when none could be.
    model : {'homography', 'similarity', 'affine', 'none'}
        The model chosen.
    inliers : int
        Matches consistent with the model.
    rmse_px : float or None
        Root mean square reprojection residual of the inliers, reference full-res px.
    overlap : float
        Share of the reference frame covered by the warped moving frame, 0-1.
    reason : str
        Empty when ``ok``, else why the pair was refused.
    ncc : float or None
        Normalised cross-correlation of the hair-suppressed images on the overlap.
    """

    ok: bool
    homography: np.ndarray | None
    model: str
    inliers: int
    rmse_px: float | None
    overlap: float
    reason: str
    ncc: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values.

        Returns
        -------
        dict
            Keys ``ok, homography`` (3x3 nested list or None), ``model, inliers, rmse_px,
            overlap, reason, ncc``.
        """
        hom = None if self.homography is None else np.asarray(self.homography).tolist()
        return {
            "ok": bool(self.ok),
            "homography": hom,
            "model": self.model,
            "inliers": int(self.inliers),
            "rmse_px": None if self.rmse_px is None else round(float(self.rmse_px), 4),
            "overlap": round(float(self.overlap), 4),
            "reason": self.reason,
            "ncc": None if self.ncc is None else round(float(self.ncc), 4),
        }


@dataclass
class _Prepared:
    """One photo at the working scale, ready for matching."""

    image: np.ndarray  # (h, w) uint8, hair suppressed, flattened, CLAHE
    mask: np.ndarray | None  # (h, w) uint8 255 = look here, or None
    to_work: np.ndarray  # (3, 3) full-res px -> working px
    full_shape: tuple[int, int]
    hair: np.ndarray  # (h, w) bool, filled-in hair
    detect_mask: np.ndarray | None  # (h, w) uint8 255 = detect features here
    order: str = ""  # which hair pass ran first: 'dark', 'light' ('' when none ran)
    order_open: bool = False  # both orders ran in full, and filled different pixels


@dataclass(frozen=True)
class Features:
    """One photo made ready for :func:`align` by :func:`features`.

    What :func:`align` computes of each photo on its own, before the two meet: made
    apart, the two photos' features can be computed at the same time (two threads), and
    a baseline's can serve every session photo compared with it.

    Attributes
    ----------
    prepared : _Prepared
        The photo at the working scale, hair suppressed, light flattened.
    xy, desc : (N, 2) and (N, 128) float32 ndarray
        SIFT points (working px) and RootSIFT descriptors of the working image.
    coarse_xy, coarse_desc : (K, 2) float64 and (K, 128) float32 ndarray
        The same on a copy of about ``coarse_pixels`` (points in working px); empty when
        ``coarse_pixels`` is 0.
    view : str
        The view they were made for.
    params : AlignParams
        The parameters they were made with.
    """

    prepared: _Prepared
    xy: np.ndarray
    desc: np.ndarray
    coarse_xy: np.ndarray
    coarse_desc: np.ndarray
    view: str
    params: AlignParams


# ---- input checks ------------------------------------------------------------------------


def _check_image(image: np.ndarray, name: str) -> np.ndarray:
    """Return ``image`` as a C-contiguous (M, N, 3) uint8 array, or raise a helpful error."""
    image = np.asarray(image)
    if image.ndim == 2:
        raise ValueError(
            f"{name} is a 2-D (grey) array; pass (M, N, 3) RGB, e.g. np.dstack([g, g, g])"
        )
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name} must be an (M, N, 3) RGB array, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"{name} must be uint8, got {image.dtype}; convert with skimage.util.img_as_ubyte"
        )
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"{name} is {w}x{h} px; hairtrack needs at least {MIN_SIDE}x{MIN_SIDE} px")
    return np.ascontiguousarray(image)


def _check_mask(mask: np.ndarray | None, shape: tuple[int, ...], name: str) -> np.ndarray | None:
    """Return ``mask`` as (M, N) bool, or None; raise if its shape does not fit the image."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != tuple(shape[:2]):
        raise ValueError(
            f"{name} has shape {mask.shape}, but its image is {shape[1]}x{shape[0]} px; "
            f"pass a ({shape[0]}, {shape[1]}) bool mask"
        )
    mask = mask.astype(bool)
    if not mask.any():
        raise ValueError(f"{name} is empty: it leaves nothing to register on")
    return mask


# ---- preprocessing -----------------------------------------------------------------------


def _scale_matrix(sx: float, sy: float) -> np.ndarray:
    """Homography of a resize by (sx, sy) with pixel centres at integers (as cv2.resize)."""
    return np.array(
        [[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]], np.float64
    )


def _odd(n: float) -> int:
    """Nearest odd integer >= 3."""
    return max(3, int(round(n)) | 1)


def _suppress_hair(
    gray: np.ndarray,
    *,
    kernel_px: int,
    min_contrast: float = 0.12,
    min_elongation: float = 4.0,
    min_length_px: float = 0.0,
    max_kernel_px: int = 15,
    chroma: np.ndarray | None = None,
    chroma_contrast: float = 0.3,
    max_thickness_px: float = 0.0,
    thickness_on_core: bool = False,
    either_polarity_first: bool = False,
    order_early_ratio: float = 0.0,
    order: str = "auto",
) -> tuple[np.ndarray, np.ndarray, str, bool]:
    """Find thin dark and light ridges (hair) and fill them with the surrounding skin.

    Black-hat (closing minus image) finds dark structures narrower than ``kernel_px``,
    top-hat (image minus opening) light ones. Their responses are thresholded at
    ``k_sigma`` robust standard deviations above the median; connected pieces that are
    elongated (a hair, not a pore, an opening or a freckle, which are kept) are replaced by
    the closing (dark hair) or the opening (light hair), i.e. by the skin around them.

    Parameters
    ----------
    gray : (M, N) float32 ndarray
        Luminance, any scale.
    kernel_px : int
        Side of the elliptical structuring element, px; wider than the widest shaft.
    min_contrast : float
        A hair pixel is at least this much darker than the skin around it (relative to
        the closing), or lighter (relative to itself, against the opening); a piece must
        also reach twice that somewhere (hysteresis).
    min_elongation : float
        Smallest ``length**2 / area`` of a piece called hair (a disc has 2.5, a
        shaft of length L and width W about L / W).
    min_length_px : float
        Shortest piece called hair (bounding-box diagonal), px.
    chroma : (M, N) float ndarray, optional
        A colourfulness image (e.g. ``R - B``) in which grey or white hair shows as a
        dark ridge against the skin and blond hair as a light one; searched first.
    chroma_contrast : float
        ``min_contrast`` in ``chroma`` (colour is noisier than brightness).
    max_kernel_px : int
        The filters run on a copy reduced so that the structuring element is at most this
        wide (for speed); the fill is made there too, the mask is brought back to full
        size.
    max_thickness_px : float
        Pieces whose mean half-thickness (distance to their edge) is at most this are
        hair too, however compact their bounding box: dense hair crosses into one
        network that spans the photo and is not elongated as a whole. 0 turns it off.
    thickness_on_core : bool
        Measure that half-thickness on each piece's core (its pixels at twice
        ``min_contrast``) instead of on the whole piece: the faint rim a blurred, JPEG'd
        shaft leaves around it widens the piece, and in dense hair closes the narrow gaps
        between shafts, so a network's whole-piece depth grows with the hair's density
        (``AlignParams.hair_thickness_core``).
    either_polarity_first : bool
        Try the light ridges first as well as the dark ones, and keep the order whose
        filled pixels are thinner (:func:`mean_depth`): with light hair on darker
        skin, the skin between the shafts reads as dark ridges when the dark pass comes
        first, and what is filled is the wedges of skin between them, not the shafts.
    order_early_ratio : float
        With ``either_polarity_first`` and ``chroma``: when, after both orders' passes in
        ``chroma``, one order's filled pixels are this many times deeper than the
        other's, the thinner order is kept without the other's passes in ``gray``; 0
        runs both orders in full.
    order : {'auto', 'dark', 'light'}
        'dark' or 'light' runs that pass first and only that order, whatever
        ``either_polarity_first`` says; 'auto' chooses as above.

    Returns
    -------
    suppressed : (M, N) float32 ndarray
        ``gray`` with the hair filled in.
    hair : (M, N) bool ndarray
        The pixels filled.
    kept : {'dark', 'light'}
        Which pass ran first in the order kept.
    open : bool
        Whether both orders ran in full (neither was decided early) and filled
        different pixels: the choice between them was the depth comparison's alone.
    """
    opts = dict(
        kernel_px=kernel_px,
        min_contrast=min_contrast,
        min_elongation=min_elongation,
        min_length_px=min_length_px,
        max_kernel_px=max_kernel_px,
        max_thickness_px=max_thickness_px,
        thickness_on_core=thickness_on_core,
    )
    if order in ("dark", "light") or not either_polarity_first:
        first = order != "light"
        out, hair = _suppress_in_order(gray, chroma, (first, not first), chroma_contrast, opts)
        return out, hair, "dark" if first else "light", False
    orders = ((True, False), (False, True))
    gray = np.asarray(gray, np.float32)
    chroma = None if chroma is None else np.asarray(chroma, np.float32)
    # (the reduced copies both orders start from, made once)
    start = [
        None if img is None else _reduced(img, kernel_px, max_kernel_px) for img in (gray, chroma)
    ]
    staged = [_chroma_passes(gray, chroma, order, chroma_contrast, opts, start) for order in orders]
    if chroma is not None and order_early_ratio > 0:
        # the passes in colour find most of a photo's hair when it has colour to find: when
        # one order's fill is already far thicker there, its passes in brightness did not
        # make it the thinner (``AlignParams.hair_order_early_ratio``)
        d = [mean_depth(hair) for _, _, hair in staged]
        lo, hi = min(d), max(d)
        if lo > 0 and hi >= order_early_ratio * lo:
            k = int(np.argmin(d))
            out, _, hair = staged[k]
            return (*_gray_passes(out, hair, orders[k], opts, start), ("dark", "light")[k], False)
    fills = [
        _gray_passes(out, hair, o, opts, start)
        for o, (out, _, hair) in zip(orders, staged, strict=True)
    ]
    best, best_depth, kept = None, np.inf, 0
    for k, found in enumerate(fills):
        # the order that filled the shafts fills thin lines; the other fills the wedges
        # of skin between them. Which fills less is no guide: faint light shafts are
        # found only in part, and the wedges found instead filled less on a phantom of
        # blond hair on medium skin (0.239 against 0.256 of the photo), which was then
        # matched on its shafts and not registered (benchmarks/pairs.py seed 0, pair 14)
        depth = mean_depth(found[1])
        if best is None or depth < best_depth:
            best, best_depth, kept = found, depth, k
    return (*best, ("dark", "light")[kept], not np.array_equal(fills[0][1], fills[1][1]))


def _suppress_in_order(
    gray: np.ndarray,
    chroma: np.ndarray | None,
    order: tuple[bool, bool],
    chroma_contrast: float,
    opts: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_suppress_hair` with the dark (True) and light (False) passes in ``order``."""
    out, _, hair = _chroma_passes(gray, chroma, order, chroma_contrast, opts)
    return _gray_passes(out, hair, order, opts)


def _chroma_passes(
    gray: np.ndarray,
    chroma: np.ndarray | None,
    order: tuple[bool, bool],
    chroma_contrast: float,
    opts: dict[str, Any],
    start: list | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The passes of :func:`_suppress_in_order` in ``chroma`` (none without it): ``gray``
    and ``chroma`` filled, and the pixels filled. ``start``: the reduced copies
    (:func:`_reduced`) of ``gray`` and ``chroma``, when at hand."""
    kernel_px, max_kernel_px = opts["kernel_px"], opts["max_kernel_px"]
    out = np.asarray(gray, np.float32)
    hair = np.zeros(out.shape, bool)
    if chroma is None:
        return out, None, hair
    # grey, white and blond hair can match the skin in brightness, not in colour:
    # less colourful (grey, white) or more (blond)
    chroma = np.asarray(chroma, np.float32)
    red_out = None if start is None else start[0]
    red = None if start is None else start[1]
    for dark in order:
        # (the reduced copies the filters and the fill are made on, made once)
        if red is None:
            red = _reduced(chroma, kernel_px, max_kernel_px)
        found = _ridges(chroma, dark=dark, **{**opts, "min_contrast": chroma_contrast}, reduced=red)
        if found.any():
            hair |= found
            out, chroma = _fill(
                [out, chroma],
                found,
                sigma_px=kernel_px / 2.0,
                max_kernel_px=max_kernel_px,
                reduced=[red_out, red],
            )
            red_out = red = None
    return out, chroma, hair


def _gray_passes(
    out: np.ndarray,
    hair: np.ndarray,
    order: tuple[bool, bool],
    opts: dict[str, Any],
    start: list | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The passes of :func:`_suppress_in_order` in brightness, after those in colour
    (:func:`_chroma_passes`: its ``out`` and ``hair``): ``out`` filled,
    and all the pixels filled. ``start``: as :func:`_chroma_passes`', for when nothing was
    filled in colour."""
    kernel_px, max_kernel_px = opts["kernel_px"], opts["max_kernel_px"]
    hair = hair.copy()
    red = start[0] if start is not None and not hair.any() else None
    for dark in order:  # (dark hair first: the light pass then sees skin around)
        if red is None:
            red = _reduced(out, kernel_px, max_kernel_px)
        found = _ridges(out, dark=dark, **opts, reduced=red) & ~hair
        if found.any():
            hair |= found
            (out,) = _fill(
                [out], found, sigma_px=kernel_px / 2.0, max_kernel_px=max_kernel_px, reduced=[red]
            )
            red = None
    return out, hair


def _reduced(gray: np.ndarray, kernel_px: float, max_kernel_px: int) -> tuple:
    """A copy of ``gray`` reduced so that ``kernel_px`` becomes at most ``max_kernel_px``."""
    h, w = gray.shape
    f = min(1.0, max_kernel_px / float(kernel_px))
    if f >= 1.0:
        return gray, 1.0
    size = (max(8, round(w * f)), max(8, round(h * f)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), f


def _ridges(
    gray: np.ndarray,
    *,
    dark: bool,
    kernel_px: int,
    min_contrast: float,
    min_elongation: float,
    min_length_px: float,
    max_kernel_px: int,
    max_thickness_px: float = 0.0,
    thickness_on_core: bool = False,
    reduced: tuple[np.ndarray, float] | None = None,
) -> np.ndarray:
    """Elongated (or thin) dark (black-hat) or light (top-hat) pieces narrower than
    ``kernel_px`` (``reduced``: ``_reduced(gray, kernel_px, max_kernel_px)`` when at hand;
    ``thickness_on_core``: as :func:`_suppress_hair`'s).

    Returns
    -------
    (M, N) bool ndarray
    """
    h, w = gray.shape
    small, f = _reduced(gray, kernel_px, max_kernel_px) if reduced is None else reduced
    k = _odd(kernel_px * f)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    env = cv2.morphologyEx(small, cv2.MORPH_CLOSE if dark else cv2.MORPH_OPEN, kernel)
    if f < 1:  # the envelope is smooth: bring it back to full size
        env = cv2.resize(env, (w, h), interpolation=cv2.INTER_LINEAR)
    if dark:
        response = (env - gray) / np.maximum(env, 1.0)
    else:
        response = (gray - env) / np.maximum(gray, 1.0)
    weak = (response > min_contrast).astype(np.uint8)
    # (the labels and stats of cv2.connectedComponentsWithStats, in under half the time)
    n, labels, stats = components_with_stats(weak)
    if n <= 1:
        return np.zeros(gray.shape, bool)
    area = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    diag2 = (
        stats[1:, cv2.CC_STAT_WIDTH].astype(np.float64) ** 2
        + stats[1:, cv2.CC_STAT_HEIGHT].astype(np.float64) ** 2
    )
    n_strong = np.bincount(labels[response > 2 * min_contrast], minlength=n)[1:]
    shape_ok = diag2 / np.maximum(area, 1.0) >= min_elongation
    if max_thickness_px > 0:
        # a network of crossing shafts is thin everywhere, though not elongated as a whole
        # (on its core: the rim of the shafts merges the gaps of dense hair)
        core = (response > 2 * min_contrast).view(np.uint8) if thickness_on_core else weak
        depth = cv2.distanceTransform(core, cv2.DIST_L2, 3)
        # summed over the pieces' own pixels only (elsewhere the label is 0 and the depth
        # 0): the same sums, in the same order, without a float64 copy of the whole image
        inside = core.view(bool)
        size = area if core is weak else np.bincount(labels[inside], minlength=n)[1:]
        piece_depth = np.bincount(labels[inside], depth[inside], minlength=n)[1:] / np.maximum(
            size, 1.0
        )
        shape_ok |= piece_depth <= max_thickness_px
    keep = shape_ok & (diag2 >= min_length_px**2) & (n_strong > 0)
    lut = np.concatenate([[0], keep]).astype(np.uint8)
    return cv2.dilate(lut[labels], np.ones((5, 5), np.uint8)).astype(bool)


def _fill(
    images: list[np.ndarray],
    holes: np.ndarray,
    *,
    sigma_px: float,
    max_kernel_px: int,
    reduced: list[tuple[np.ndarray, float] | None] | None = None,
) -> list[np.ndarray]:
    """Fill ``holes`` in each of ``images`` with a Gaussian-weighted mean of the pixels
    around them.

    Normalised convolution, made on a reduced copy (the fill is smooth anyway); where
    the holes are wider than the blur, a four times wider blur is used. The weights
    (the holes' blurred complement) serve all the images; ``reduced`` holds, per image,
    its ``_reduced(image, 2 * sigma_px, max_kernel_px)`` when at hand (else None).
    """
    h, w = holes.shape
    reduced = reduced or [None] * len(images)
    keep_full = 1.0 - holes.astype(np.float32)
    weights = None
    out = []
    for gray, red in zip(images, reduced, strict=True):
        small, f = _reduced(gray, 2 * sigma_px, max_kernel_px) if red is None else red
        if weights is None:
            keep = keep_full
            if f < 1:
                keep = cv2.resize(keep, small.shape[::-1], interpolation=cv2.INTER_AREA)
            sigma = max(sigma_px * f, 1.0)
            den = cv2.GaussianBlur(keep, (0, 0), sigma)
            wide = (den <= 0.05).any()  # the wide blur only where holes are wider than it
            wden = cv2.GaussianBlur(keep, (0, 0), 4 * sigma) if wide else None
            weights = keep, sigma, den, wide, wden
        keep, sigma, den, wide, wden = weights
        num = cv2.GaussianBlur(small * keep, (0, 0), sigma)
        fill = num / np.maximum(den, 1e-6)
        if wide:
            wnum = cv2.GaussianBlur(small * keep, (0, 0), 4 * sigma)
            fill = np.where(den > 0.05, fill, wnum / np.maximum(wden, 1e-6))
        if f < 1:
            fill = cv2.resize(fill.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        out.append(np.where(holes, fill, gray).astype(np.float32))
    return out


def _normalise(gray: np.ndarray, *, flatten_sigma_px: float, clahe_clip: float) -> np.ndarray:
    """Divide by a large blur (illumination), then CLAHE; float in, uint8 out.

    Parameters
    ----------
    gray : (M, N) float32 ndarray
    flatten_sigma_px : float
        Sigma of the illumination estimate, px.
    clahe_clip : float
        CLAHE clip limit (8 x 8 tiles).

    Returns
    -------
    (M, N) uint8 ndarray
    """
    h, w = gray.shape
    # the blur is computed at a small size: it is smooth anyway
    f = min(1.0, 128.0 / max(h, w))
    small = cv2.resize(gray, (max(8, round(w * f)), max(8, round(h * f))), cv2.INTER_AREA)
    light = cv2.GaussianBlur(small, (0, 0), max(flatten_sigma_px * f, 1.0))
    light = cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = gray / np.maximum(light, 1.0)
    lo, hi = np.percentile(flat[::4, ::4], [0.5, 99.5])
    u8 = np.clip((flat - lo) * (255.0 / max(hi - lo, 1e-6)), 0, 255).astype(np.uint8)
    clahe = cv2.createCLAHE(clipLimit=clahe_clip, tileGridSize=(8, 8))
    return clahe.apply(u8)


def _prepare(rgb: np.ndarray, mask: np.ndarray | None, view: str, p: AlignParams) -> _Prepared:
    """Reduce a photo to the working scale and make it hair- and light-independent."""
    h, w = rgb.shape[:2]
    f = min(1.0, float(np.sqrt(p.max_work_pixels / float(h * w))))
    wh, ww = max(MIN_SIDE, round(h * f)), max(MIN_SIDE, round(w * f))
    # (not halved by 2 x 2 means first, OpenCV's quick path: on nine 12 MP close-up
    # pairs that moved the corner errors from a median of 0.50 to 0.64 px)
    small = cv2.resize(rgb, (ww, wh), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    long_side = max(wh, ww)
    hair = np.zeros(gray.shape, bool)
    order, order_open = "", False
    if p.suppress_hair:
        frac = p.hair_kernel_closeup if view == "closeup" else p.hair_kernel_global
        rgbf = small.astype(np.float32)
        chroma = np.maximum(rgbf[..., 0] - rgbf[..., 2], 0.0) if p.hair_use_colour else None
        gray, hair, order, order_open = _suppress_hair(
            gray,
            chroma=chroma,
            chroma_contrast=p.hair_colour_contrast,
            kernel_px=_odd(frac * long_side),
            min_contrast=p.hair_min_contrast,
            min_elongation=p.hair_min_elongation,
            min_length_px=p.hair_min_length * long_side,
            max_thickness_px=p.hair_max_thickness_closeup * long_side if view == "closeup" else 0,
            thickness_on_core=p.hair_thickness_core,
            either_polarity_first=p.hair_either_polarity_closeup and view == "closeup",
            order_early_ratio=p.hair_order_early_ratio,
            order=p.hair_order_closeup if view == "closeup" else "auto",
        )
    image = _normalise(gray, flatten_sigma_px=p.flatten_sigma * long_side, clahe_clip=p.clahe_clip)
    work_mask = None
    if mask is not None and mask.all():
        work_mask = np.full((wh, ww), 255, np.uint8)  # (what reducing it would give)
    elif mask is not None:
        m = cv2.resize(mask.view(np.uint8) * np.uint8(255), (ww, wh), interpolation=cv2.INTER_AREA)
        work_mask = np.where(m >= 255, 255, 0).astype(np.uint8)
    detect = work_mask
    if hair.any():
        # features on the edge of a filled hair are artefacts of the fill
        near = cv2.dilate(hair.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        if (~near).mean() > 0.05:
            detect = np.where(near, 0, 255 if work_mask is None else work_mask).astype(np.uint8)
    to_work = _scale_matrix(ww / w, wh / h)
    return _Prepared(image, work_mask, to_work, (h, w), hair, detect, order, order_open)


# ---- features and models -------------------------------------------------------------------


def _detect(
    img: np.ndarray, mask: np.ndarray | None, p: AlignParams, halved: bool = False
) -> tuple:
    """SIFT keypoints (N, 2) float32 and RootSIFT descriptors (N, 128) float32.

    ``halved``: the keypoints are found on a copy halved by 2 x 2 means (OpenCV's SIFT
    doubles the image it is given, so its first octave is then the image itself, not
    an interpolated copy four times its size), and their descriptors are computed on
    ``img``; see ``AlignParams.detect_halved_closeup``.
    """
    sift = cv2.SIFT_create(nfeatures=p.max_features, contrastThreshold=p.contrast_threshold)
    h, w = img.shape
    if halved and min(h, w) >= 4 * MIN_SIDE:
        size = (w // 2, h // 2)
        half = cv2.resize(img[: 2 * size[1], : 2 * size[0]], size, interpolation=cv2.INTER_AREA)
        half_mask = None
        if mask is not None:
            m = cv2.resize(mask[: 2 * size[1], : 2 * size[0]], size, interpolation=cv2.INTER_AREA)
            half_mask = np.where(m >= 255, 255, 0).astype(np.uint8)
        # (a half px's centre x sits at 2 x + 0.5 working px, but OpenCV reports points
        # a quarter px of its doubled first octave, here a quarter half px, beyond
        # where they are: 2 x is where they are; one octave up in ``img``)
        kps = [
            cv2.KeyPoint(
                2.0 * k.pt[0],
                2.0 * k.pt[1],
                2.0 * k.size,
                k.angle,
                k.response,
                (k.octave & ~255) | (((k.octave & 255) + 1) & 255),
                k.class_id,
            )
            for k in sift.detect(half, half_mask)
        ]
        kps, desc = sift.compute(img, kps) if kps else ((), None)
    else:
        kps, desc = sift.detectAndCompute(img, mask)
    if desc is None or len(kps) == 0:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    desc = desc / (np.abs(desc).sum(1, keepdims=True) + 1e-7)
    desc = np.sqrt(desc).astype(np.float32)
    xy = np.array([k.pt for k in kps], np.float32)
    return xy, desc


def _scores(d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """``|b|^2 - 2 a.b`` for every row ``a`` of ``d1`` and ``b`` of ``d2``, (N, M) float32:
    in each row, it ranks the rows of ``d2`` as ``|a - b|`` does (``|a|^2`` is the row's
    own constant). One matrix product."""
    d1 = np.ascontiguousarray(d1, np.float32)
    d2 = np.ascontiguousarray(d2, np.float32)
    score = d1 @ d2.T
    score *= -2.0
    score += np.einsum("ij,ij->i", d2, d2)
    return score


def _two_nearest(
    d1: np.ndarray, d2: np.ndarray, score: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of ``d1``, its nearest and second-nearest rows of ``d2`` (L2).

    The brute-force search OpenCV's ``BFMatcher.knnMatch(k=2)`` makes, by a matrix
    product (:func:`_scores`, ties to the lower index, as OpenCV); the two distances are
    then taken directly. A few times quicker on thousands of SIFT descriptors.

    Parameters
    ----------
    d1, d2 : (N, D) and (M, D) float32 ndarray
        Descriptors; ``M >= 2``.
    score : (N, M) float32 ndarray, optional
        ``_scores(d1, d2)`` when already at hand (left as it was).

    Returns
    -------
    nearest : (N,) int64 ndarray
        Index into ``d2`` of each row's nearest.
    dist1, dist2 : (N,) float32 ndarray
        Distances to the nearest and the second nearest.
    """
    score = _scores(d1, d2) if score is None else score
    rows = np.arange(len(d1))
    first = np.argmin(score, axis=1)
    best = score[rows, first]
    score[rows, first] = np.inf
    second = np.argmin(score, axis=1)
    score[rows, first] = best
    dist1 = np.linalg.norm(d1 - d2[first], axis=1)
    dist2 = np.linalg.norm(d1 - d2[second], axis=1)
    return first, dist1, dist2


def _ratio_matches(
    d1: np.ndarray, d2: np.ndarray, ratio: float, score: np.ndarray | None = None
) -> np.ndarray:
    """Indices j into d2 for each row of d1 passing the ratio test, else -1 (``score``:
    :func:`_two_nearest`'s)."""
    out = np.full(len(d1), -1, np.int64)
    if len(d1) == 0 or len(d2) < 2:
        return out
    nearest, dist1, dist2 = _two_nearest(d1, d2, score)
    ok = dist1 < ratio * dist2
    out[ok] = nearest[ok]
    return out


def _match(d_ref: np.ndarray, d_mov: np.ndarray, ratio: float, cross_check: bool) -> np.ndarray:
    """Tentative matches (K, 2): [index into moving, index into reference].

    Moving features are matched to the reference with Lowe's ratio test; with
    ``cross_check`` a match is kept only when the reference feature's own best match
    (also passing the ratio test) is the same moving feature. One matrix product of the
    descriptors serves both directions.
    """
    none = np.zeros((0, 2), np.int64)
    if len(d_mov) < (2 if cross_check else 1) or len(d_ref) < 2:
        return none  # (no match passes the ratio test one way or the other)
    d_mov = np.ascontiguousarray(d_mov, np.float32)
    d_ref = np.ascontiguousarray(d_ref, np.float32)
    score = _scores(d_mov, d_ref)
    fwd = _ratio_matches(d_mov, d_ref, ratio, score)
    idx = np.flatnonzero(fwd >= 0)
    if cross_check and len(idx):
        # only the matched reference features need a reverse search; its ranks need
        # |moving|^2 in place of |reference|^2
        targets = np.unique(fwd[idx])
        back_score = score[:, targets].T
        back_score -= np.einsum("ij,ij->i", d_ref[targets], d_ref[targets])[:, None]
        back_score += np.einsum("ij,ij->i", d_mov, d_mov)
        back_sub = _ratio_matches(d_ref[targets], d_mov, ratio, np.ascontiguousarray(back_score))
        back = np.full(len(d_ref), -1, np.int64)
        back[targets] = back_sub
        idx = idx[back[fwd[idx]] == idx]
    return np.stack([idx, fwd[idx]], axis=1) if len(idx) else none


def _coarse_features(prep: _Prepared, p: AlignParams) -> tuple[np.ndarray, np.ndarray]:
    """SIFT features of a reduced copy (about ``coarse_pixels``): points (N, 2) in
    working px and descriptors (N, 128).

    Large, stable structure (blotches of the skin, moles, the head outline) shows there
    even where hair hides most of the fine texture.
    """
    h, w = prep.image.shape
    f = min(1.0, float(np.sqrt(p.coarse_pixels / float(h * w))))
    size = (max(16, round(w * f)), max(16, round(h * f)))
    img = cv2.resize(prep.image, size, interpolation=cv2.INTER_AREA)
    mask = None
    if prep.detect_mask is not None:
        small = cv2.resize(prep.detect_mask, size, interpolation=cv2.INTER_AREA)
        mask = np.where(small >= 255, 255, 0)
        mask = mask.astype(np.uint8)
    xy, desc = _detect(img, mask, p)
    back = np.linalg.inv(_scale_matrix(size[0] / w, size[1] / h))
    return _project(back, xy), desc


def _coarse_matches(ref: Features, mov: Features, p: AlignParams) -> tuple:
    """Matches between the photos' coarse features (:func:`_coarse_features`), in working
    px: (moving points, reference points)."""
    pairs = _match(ref.coarse_desc, mov.coarse_desc, p.ratio, p.cross_check)
    if len(pairs) == 0:
        return np.zeros((0, 2)), np.zeros((0, 2))
    return mov.coarse_xy[pairs[:, 0]], ref.coarse_xy[pairs[:, 1]]


def _project(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a homography to (N, 2) points."""
    if len(pts) == 0:
        return np.zeros((0, 2), np.float64)
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)


def _residuals(h: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    return np.linalg.norm(_project(h, src) - dst, axis=1)


def _lsq(model: str, src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    """Least-squares fit of ``model`` to inlier correspondences (Levenberg-Marquardt)."""
    if model == "homography":
        if len(src) < 4:
            return None
        h, _ = cv2.findHomography(src, dst, 0)
        return None if h is None else h / h[2, 2]
    fn = cv2.estimateAffinePartial2D if model == "similarity" else cv2.estimateAffine2D
    if len(src) < 3:
        return None
    a, _ = (
        fn(src, dst, method=cv2.LMEDS)
        if len(src) < 6
        else fn(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1e9)
    )
    if a is None:
        return None
    return np.vstack([a, [0.0, 0.0, 1.0]])


def _robust_fit(
    model: str, src: np.ndarray, dst: np.ndarray, p: AlignParams
) -> tuple[np.ndarray | None, np.ndarray]:
    """Robust fit of ``model``; returns the homography and the inlier mask."""
    none = (None, np.zeros(len(src), bool))
    if model == "homography":
        if len(src) < 4:
            return none
        h, inl = cv2.findHomography(
            src,
            dst,
            cv2.USAC_MAGSAC,
            p.ransac_threshold_px,
            maxIters=p.max_iters,
            confidence=p.confidence,
        )
        if h is None:
            return none
        return h / h[2, 2], inl.ravel().astype(bool)
    if len(src) < 3:
        return none
    fn = cv2.estimateAffinePartial2D if model == "similarity" else cv2.estimateAffine2D
    a, inl = fn(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=p.ransac_threshold_px,
        maxIters=p.max_iters,
        confidence=p.confidence,
    )
    if a is None:
        return none
    return np.vstack([a, [0.0, 0.0, 1.0]]), inl.ravel().astype(bool)


def _fit_models(
    src: np.ndarray, dst: np.ndarray, p: AlignParams, floor: str | None = None
) -> tuple[str, np.ndarray | None, np.ndarray]:
    """Fit the candidate models and keep the simplest one the matches support.

    With ``floor`` (a model name), no simpler model than that is tried: a richer model
    that distinctive matches already proved is kept when many looser matches follow.

    The largest inlier set is the common ground: each model's residuals on it are
    compared, and a richer model is taken only when it keeps clearly more inliers, or
    when it lowers the sum of squared residuals significantly for its extra parameters
    (an F statistic over ``model_f_threshold``) and the RMS residual by more than
    ``model_min_gain_px``. With many matches a small but real perspective is kept; with
    few, or on identical photos, the simpler model wins.
    """
    models = ("similarity", "affine", "homography") if p.model == "auto" else (p.model,)
    if floor in models:
        models = models[models.index(floor) :]
    fits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for m in models:
        h, inl = _robust_fit(m, src, dst, p)
        if h is not None and inl.sum() >= 4:
            h2 = _lsq(m, src[inl], dst[inl])
            if h2 is not None:
                h = h2
            fits[m] = (h, _residuals(h, src, dst) <= p.ransac_threshold_px)
    if not fits:
        return "none", None, np.zeros(len(src), bool)
    if len(fits) == 1:
        m = next(iter(fits))
        return m, fits[m][0], fits[m][1]
    # common inlier set: the largest one
    base = max(fits.values(), key=lambda t: t[1].sum())[1]
    rms, ss = {}, {}
    n = int(base.sum())
    for m, (h, _inl) in fits.items():
        r = _residuals(h, src[base], dst[base])
        ss[m] = float(np.sum(np.minimum(r, 3 * p.ransac_threshold_px) ** 2))
        rms[m] = float(np.sqrt(ss[m] / max(n, 1)))
    dof = {"similarity": 4, "affine": 6, "homography": 8}
    chosen = None
    for m in ("similarity", "affine", "homography"):
        if m not in fits:
            continue
        if chosen is None:
            chosen = m
            continue
        f_stat = ((ss[chosen] - ss[m]) / (dof[m] - dof[chosen])) / max(
            ss[m] / max(2 * n - dof[m], 1), 1e-12
        )
        better = f_stat > p.model_f_threshold and rms[chosen] - rms[m] > p.model_min_gain_px
        more = fits[m][1].sum() > 1.1 * fits[chosen][1].sum() + 5
        if better or more:
            chosen = m
    h, inl = fits[chosen]
    return chosen, h, inl


def _guided_matches(
    h: np.ndarray,
    xy_mov: np.ndarray,
    d_mov: np.ndarray,
    xy_ref: np.ndarray,
    d_ref: np.ndarray,
    radius: float,
    p: AlignParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Match each moving feature only against the reference features within ``radius``
    of where ``h`` sends it (best descriptor, ratio test among those candidates).

    Returns
    -------
    src, dst : (K, 2) float64 ndarray
        Moving and reference points, working px.
    """
    empty = (np.zeros((0, 2)), np.zeros((0, 2)))
    if len(xy_mov) == 0 or len(xy_ref) < 2:
        return empty
    proj = _project(h, xy_mov)
    tree = cKDTree(xy_ref)
    k = min(8, len(xy_ref))
    dist_xy, idx = tree.query(proj, k=k, distance_upper_bound=radius)
    idx = np.atleast_2d(idx).reshape(len(proj), k)
    near = np.isfinite(np.atleast_2d(dist_xy).reshape(len(proj), k))
    safe = np.where(near, idx, 0)
    dd = np.linalg.norm(d_ref[safe] - d_mov[:, None, :], axis=2)
    dd = np.where(near, dd, np.inf)
    order = np.argsort(dd, axis=1)
    best = np.take_along_axis(dd, order[:, :1], 1)[:, 0]
    second = np.take_along_axis(dd, order[:, 1:2], 1)[:, 0] if k > 1 else np.full(len(dd), np.inf)
    ok = np.isfinite(best) & (best < p.guided_ratio * second) & (best < p.guided_max_dist)
    if ok.sum() == 0:
        return empty
    j = np.take_along_axis(safe, order[:, :1], 1)[:, 0]
    # one reference feature per match: keep the closest descriptor
    cand = np.flatnonzero(ok)
    cand = cand[np.argsort(best[cand])]
    _, first = np.unique(j[cand], return_index=True)
    cand = cand[first]
    return xy_mov[cand].astype(np.float64), xy_ref[j[cand]].astype(np.float64)


def _guided_refine(
    h: np.ndarray,
    xy_mov: np.ndarray,
    d_mov: np.ndarray,
    xy_ref: np.ndarray,
    d_ref: np.ndarray,
    radius: float,
    p: AlignParams,
    floor: str | None = None,
) -> tuple[str, np.ndarray | None, np.ndarray, np.ndarray]:
    """Guided matching around ``h``, then the model fit again on those matches (no
    simpler model than ``floor``, when given: see :func:`_fit_models`).

    Returns
    -------
    model : str
    h : (3, 3) ndarray or None
    src, dst : (K, 2) ndarray
        The inliers.
    """
    src, dst = _guided_matches(h, xy_mov, d_mov, xy_ref, d_ref, radius, p)
    if len(src) < 8:
        return "none", None, src[:0], dst[:0]
    tight = dataclasses.replace(p, ransac_threshold_px=min(p.ransac_threshold_px, radius))
    model, h2, inl = _fit_models(src, dst, tight, floor)
    if h2 is None:
        return "none", None, src[:0], dst[:0]
    return model, h2, src[inl], dst[inl]


def _loose_candidates(
    xy_ref: np.ndarray, d_ref: np.ndarray, xy_mov: np.ndarray, d_mov: np.ndarray, p: AlignParams
) -> tuple[np.ndarray, np.ndarray]:
    """Matches passing a loose ratio test (``fallback_ratio``), no cross-check."""
    fwd = _ratio_matches(d_mov, d_ref, p.fallback_ratio)
    i = np.flatnonzero(fwd >= 0)
    return xy_mov[i].astype(np.float64), xy_ref[fwd[i]].astype(np.float64)


def _search_similarity(ref: _Prepared, mov: _Prepared, p: AlignParams) -> np.ndarray | None:
    """A similarity found by brute force on small, blurred copies (working px).

    Every rotation (``fallback_max_rotation_deg`` in steps of ``fallback_rotation_step``)
    and zoom (+-``fallback_max_zoom``) is tried; the shift of each comes from phase
    correlation, and the strongest peak wins. Then a finer search around it. This relies
    on the large structure only (skin blotches, moles, the head outline), which dense
    hair leaves visible once filled in.
    """
    side = float(p.fallback_search_side)

    def small(prep: _Prepared) -> tuple[np.ndarray, float]:
        h, w = prep.image.shape
        f = side / max(h, w)
        img = cv2.resize(
            prep.image, (max(16, round(w * f)), max(16, round(h * f))), interpolation=cv2.INTER_AREA
        ).astype(np.float32)
        img = cv2.GaussianBlur(img, (0, 0), 1.0)
        return img - img.mean(), f

    a, fr = small(ref)
    b, fm = small(mov)
    hr, wr = a.shape
    hm, wm = b.shape
    win = cv2.createHanningWindow((wr, hr), cv2.CV_32F)

    def score(rot: float, zoom: float) -> tuple[float, np.ndarray]:
        m = cv2.getRotationMatrix2D(((wm - 1) / 2.0, (hm - 1) / 2.0), rot, zoom)
        m[:, 2] += [(wr - wm) / 2.0, (hr - hm) / 2.0]
        warped = cv2.warpAffine(
            b, m, (wr, hr), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        # (copies: phaseCorrelate may window its inputs in place)
        (dx, dy), _ = cv2.phaseCorrelate(a.copy(), warped.copy(), win)
        m[:, 2] -= [dx, dy]
        # score by the correlation of the shifted copy, inside the frame only
        warped = cv2.warpAffine(b, m, (wr, hr), flags=cv2.INTER_LINEAR, borderValue=np.nan)
        ok = np.isfinite(warped)
        if ok.mean() < 0.3:
            return -1.0, m
        x, y = a[ok] - a[ok].mean(), warped[ok] - warped[ok].mean()
        den = float(np.sqrt((x * x).sum() * (y * y).sum()))
        return (float((x * y).sum()) / den if den > 0 else -1.0), m

    step, zmax = p.fallback_rotation_step, p.fallback_max_zoom
    best = (-1.0, None, 0.0, 1.0)
    for rot in np.arange(-p.fallback_max_rotation_deg, p.fallback_max_rotation_deg + 1e-9, step):
        for zoom in np.exp(np.linspace(-np.log1p(zmax), np.log1p(zmax), 5)):
            r, m = score(float(rot), float(zoom))
            if r > best[0]:
                best = (r, m, float(rot), float(zoom))
    _, m, rot0, zoom0 = best
    zstep = np.log1p(zmax) / 2.0
    for rot in rot0 + np.linspace(-step / 2, step / 2, 5):
        for zoom in zoom0 * np.exp(np.linspace(-zstep / 2, zstep / 2, 5)):
            r, mm = score(float(rot), float(zoom))
            if r > best[0]:
                best = (r, mm, float(rot), float(zoom))
    if best[1] is None:  # nothing correlates anywhere (a blank photo)
        return None
    m = np.vstack([best[1], [0.0, 0.0, 1.0]])
    # small ref px <- small mov px, to working px
    return np.linalg.inv(_scale_matrix(fr, fr)) @ m @ _scale_matrix(fm, fm)


def _loose_similarity(src: np.ndarray, dst: np.ndarray, p: AlignParams) -> np.ndarray | None:
    """A similarity from many, mostly wrong matches (2-point RANSAC, loose threshold)."""
    if len(src) < 3:
        return None
    a, inl = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=p.fallback_threshold_px,
        maxIters=p.fallback_iters,
        confidence=0.999,
        refineIters=10,
    )
    if a is None or inl.sum() < p.fallback_min_inliers:
        return None
    return np.vstack([a, [0.0, 0.0, 1.0]])


def _band(img: np.ndarray, sigmas: tuple[float, float]) -> np.ndarray:
    """``img`` smoothed by ``sigmas[0]`` minus smoothed by ``sigmas[1]`` (float32)."""
    f = img.astype(np.float32)
    fine = cv2.GaussianBlur(f, (0, 0), float(sigmas[0]))
    return fine - cv2.GaussianBlur(f, (0, 0), float(sigmas[1]))


def _peak_offset(score: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    """Sub-pixel (dx, dy) of the peak at (iy, ix) of ``score``, by parabolas."""

    def vertex(lo: float, mid: float, hi: float) -> float:
        den = lo - 2.0 * mid + hi
        return 0.5 * (lo - hi) / den if den < 0 else 0.0

    h, w = score.shape
    dx = vertex(*score[iy, ix - 1 : ix + 2]) if 0 < ix < w - 1 else 0.0
    dy = vertex(*score[iy - 1 : iy + 2, ix]) if 0 < iy < h - 1 else 0.0
    return float(dx), float(dy)


def _dense_matches(
    ref: _Prepared,
    mov: _Prepared,
    h0: np.ndarray,
    radius: int,
    p: AlignParams,
    step: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block matching of the skin around a rough fit ``h0`` (moving -> reference, working px).

    The moving image is warped by ``h0``; both are band-passed (``dense_band_px``) with the
    hair of either photo blanked, and each reference patch (``dense_patch_px``, every half
    side, or every ``step`` px) with enough skin is searched for within ``radius`` px. A
    match whose correlation reaches ``dense_min_score`` is one correspondence.

    Returns
    -------
    src, dst : (K, 2) float64 ndarray
        Moving and reference points, working px.
    gain : (K,) float64 ndarray
        How much each match's correlation beats the one where ``h0`` puts the patch.
    """
    rh, rw = ref.image.shape
    warped = cv2.warpPerspective(mov.image, h0, (rw, rh), flags=cv2.INTER_LINEAR)
    seen = np.full(mov.image.shape, 255, np.uint8) if mov.mask is None else mov.mask
    seen = cv2.warpPerspective(seen, h0, (rw, rh), flags=cv2.INTER_NEAREST) > 0
    hair_m = (
        cv2.warpPerspective(mov.hair.astype(np.uint8), h0, (rw, rh), flags=cv2.INTER_NEAREST) > 0
    )
    skin_a = ~ref.hair if ref.mask is None else ~ref.hair & (ref.mask > 0)
    skin_b = seen & ~hair_m
    a = np.where(skin_a, _band(ref.image, p.dense_band_px), 0.0).astype(np.float32)
    b = np.where(skin_b, _band(warped, p.dense_band_px), 0.0).astype(np.float32)
    # skin shares of each patch and of each search window, from integral images (the
    # same pixel counts over the same sizes as the slices' means: the same shares)
    half = p.dense_patch_px // 2
    step = max(1, half) if step is None else max(1, int(step))
    ys = np.arange(radius + half, rh - radius - half, step)
    xs = np.arange(radius + half, rw - radius - half, step)
    share_a = _box_shares(skin_a, ys, xs, half)
    share_b = _box_shares(skin_b, ys, xs, half + radius)
    src, dst, gain = [], [], []
    for i, cy in enumerate(ys):
        for j, cx in enumerate(xs):
            if share_a[i, j] < p.dense_min_skin or share_b[i, j] < p.dense_min_skin:
                continue
            pa = (slice(cy - half, cy + half), slice(cx - half, cx + half))
            pb = (
                slice(cy - half - radius, cy + half + radius),
                slice(cx - half - radius, cx + half + radius),
            )
            ta, tb = a[pa], b[pb]
            if float(ta.std()) <= 0 or float(tb.std()) <= 0:
                continue
            score = cv2.matchTemplate(tb, ta, cv2.TM_CCOEFF_NORMED)
            iy, ix = np.unravel_index(int(np.argmax(score)), score.shape)
            if score[iy, ix] < p.dense_min_score:
                continue
            dx, dy = _peak_offset(score, int(iy), int(ix))
            # the reference patch at (cx, cy) sits at (cx, cy) + shift in the warped photo
            src.append((cx + ix - radius + dx, cy + iy - radius + dy))
            dst.append((cx, cy))
            gain.append(float(score[iy, ix] - score[radius, radius]))
    if not src:
        return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
    src_m = _project(np.linalg.inv(h0), np.asarray(src, np.float64))
    return src_m, np.asarray(dst, np.float64), np.asarray(gain, np.float64)


def _box_shares(mask: np.ndarray, ys: np.ndarray, xs: np.ndarray, half: int) -> np.ndarray:
    """Share of ``mask``'s pixels that are True in the square ``[y - half, y + half)`` x
    ``[x - half, x + half)`` around each ``(y, x)`` of ``ys`` x ``xs`` (all inside).

    From an integral image: the count of each square is exact, and divided by the
    square's area as ``mask[square].mean()`` divides its sum (one division of two exact
    integers), so the shares are the same numbers, for a few ms instead of a mean per
    square.

    Returns
    -------
    (len(ys), len(xs)) float64 ndarray
    """
    if len(ys) == 0 or len(xs) == 0:
        return np.zeros((len(ys), len(xs)))
    s = cv2.integral(mask.view(np.uint8), sdepth=cv2.CV_32S).astype(np.int64)
    y0, y1 = ys[:, None] - half, ys[:, None] + half
    x0, x1 = xs[None, :] - half, xs[None, :] + half
    count = s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]
    return count / float((2 * half) * (2 * half))


def _dense_refine(
    ref: _Prepared, mov: _Prepared, starts: list[np.ndarray], p: AlignParams
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, int, float, float] | None:
    """The best fit grown by block matching (:func:`_dense_matches`) from rough ``starts``.

    Each start is refined over ``dense_rounds`` rounds (the search radius halved each
    round), and its last round that passes is its fit (a wider round matches more
    patches, less precisely); the start whose fit most patches agree with wins. A
    round's fit counts only when at least ``min_inliers`` patches and a
    ``dense_min_inlier_ratio`` share of the matched ones agree with it; the first
    ``dense_loose_rounds`` rounds, which search widest, may go on from a fit that only
    ``dense_first_min_inlier_ratio`` of its patches agree with (there a wrong peak is
    likelier, a chance agreement of many patches no likelier), but such a fit is only a
    start for the next round.

    Returns
    -------
    (model, h, src, dst, n_matched, apart, off) or None
        The model, its homography (working px), its inlier correspondences, the
        number of patches matched in its round, the median distance (working px) of
        all of that round's matched patches from where the fit puts them, and the share
        of them that are off: more than ``max_local_shift_px`` from it, and matched
        clearly better there (by ``shift_min_gain``) than where the round began, the
        tile test of :func:`align` on these smaller tiles.
    """
    best = None
    for h0 in starts:
        if h0 is None or _geometry_problem(h0, mov.image.shape[:2], p, ref.image.shape[:2]):
            continue
        h, radius = h0, int(p.dense_radius_px)
        last = None  # (each start's last, finest round: a wider one matches more patches)
        for i in range(max(1, p.dense_rounds)):
            src, dst, gain = _dense_matches(ref, mov, h, radius, p)
            if len(src) < p.min_inliers:
                break
            model, h1, inl = _fit_models(src, dst, p)
            n = int(inl.sum())
            loose = i < p.dense_loose_rounds
            share = p.dense_first_min_inlier_ratio if loose else p.dense_min_inlier_ratio
            if h1 is None or n < p.min_inliers or n < share * len(src):
                break
            h, radius = h1, max(2, radius // 2)
            if n >= p.dense_min_inlier_ratio * len(src):
                dist = np.linalg.norm(_project(h1, src) - dst, axis=1)
                off = float(np.mean((dist > p.max_local_shift_px) & (gain > p.shift_min_gain)))
                last = (model, h1, src[inl], dst[inl], len(src), float(np.median(dist)), off)
        if last is not None and (best is None or len(last[2]) > len(best[2])):
            best = last
    return best


def _dense_polish(
    ref: _Prepared, mov: _Prepared, h: np.ndarray, p: AlignParams
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray] | None:
    """A close-up's fit ``h`` (working px) refined by one round of block matching
    (:func:`_dense_matches`) within ``dense_final_radius_px`` of where it puts each
    patch, the patches ``dense_final_step_px`` apart.

    Kept only when at least ``min_inliers`` patches, and a ``dense_min_inlier_ratio``
    share of those matched, agree with it (within ``dense_final_threshold_px``), and it
    moves no corner of the moving image further than twice the search radius.

    Returns
    -------
    (model, h, src, dst) or None
        The model, its homography (working px) and the patches that agree with it
        (moving and reference points, working px).
    """
    if _geometry_problem(h, mov.image.shape[:2], p, ref.image.shape[:2]):
        return None
    radius = int(p.dense_final_radius_px)
    src, dst, _ = _dense_matches(ref, mov, h, radius, p, step=p.dense_final_step_px)
    if len(src) < p.min_inliers:
        return None
    tight = dataclasses.replace(p, ransac_threshold_px=p.dense_final_threshold_px)
    model, h1, inl = _fit_models(src, dst, tight)
    n = int(inl.sum()) if h1 is not None else 0
    if n < p.min_inliers or n < p.dense_min_inlier_ratio * len(src):
        return None
    c = _corners(mov.image.shape[:2])
    # (the patches lie inside the frame: at its corners the fit may move a little further)
    if np.linalg.norm(_project(h1, c) - _project(h, c), axis=1).max() > 2 * radius:
        return None
    return model, h1, src[inl], dst[inl]


# ---- quality checks -------------------------------------------------------------------------


def _corners(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    return np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)


def _geometry_problem(
    h: np.ndarray,
    mov_shape: tuple[int, int],
    p: AlignParams,
    ref_shape: tuple[int, int] | None = None,
) -> str:
    """Why ``h`` (moving -> reference, any consistent scale) is implausible, or ''.

    The zoom is judged after taking out the photos' resolution ratio (given
    ``ref_shape``), so a re-shoot saved at half the pixels is not an implausible zoom.
    """
    quad = _project(h, _corners(mov_shape))
    x, y = _corners(mov_shape)[:, 0], _corners(mov_shape)[:, 1]
    den = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    if np.any(den <= 1e-6):
        return "degenerate transform (the horizon crosses the photo)"
    # orientation: the mapped corners must keep their winding and stay convex
    cross = []
    for i in range(4):
        a, b, c = quad[i], quad[(i + 1) % 4], quad[(i + 2) % 4]
        cross.append((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    cross = np.asarray(cross)
    if not (np.all(cross > 0) or np.all(cross < 0)):
        return "degenerate transform (the photo folds over)"
    if np.all(cross < 0) != np.all(_winding(_corners(mov_shape)) < 0):
        return "mirrored transform (flipped orientation)"
    sc = local_scale(h, np.vstack([_corners(mov_shape), [[(x[1]) / 2, (y[2]) / 2]]]))
    centre = float(sc[-1])
    if ref_shape is not None:
        centre /= float(np.sqrt(ref_shape[0] * ref_shape[1] / (mov_shape[0] * mov_shape[1])))
    if not p.min_scale <= centre <= p.max_scale:
        return f"implausible scale change ({centre:.2f}x)"
    spread = float(sc.max() / max(sc.min(), 1e-9))
    if spread > p.max_perspective:
        return f"implausible perspective (zoom varies {spread:.2f}x across the photo)"
    return ""


def _winding(quad: np.ndarray) -> np.ndarray:
    out = []
    for i in range(4):
        a, b, c = quad[i], quad[(i + 1) % 4], quad[(i + 2) % 4]
        out.append((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    return np.asarray(out)


def _overlap(h: np.ndarray, mov_shape: tuple[int, int], ref_shape: tuple[int, int]) -> float:
    """Share of the reference frame covered by the moving frame mapped through ``h``."""
    quad = _project(h, _corners(mov_shape)).astype(np.float32)
    rh, rw = ref_shape
    box = _corners(ref_shape).astype(np.float32)
    area, _ = cv2.intersectConvexConvex(quad, box)
    return float(np.clip(area / max((rw - 1) * (rh - 1), 1.0), 0.0, 1.0))


def _texture_bands(
    ref: _Prepared, mov: _Prepared, h_work: np.ndarray, sig: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fine skin texture of both photos, warped to the reference, and where to compare.

    Returns
    -------
    a, b : (h, w) float32 ndarray
        Band of ``sig``..``3 sig`` (working px) of the reference and of the warped
        moving photo: it decorrelates after a shift of a few px, so a misregistration
        cannot pass on the strength of large blotches.
    valid : (h, w) bool ndarray
        The pixels compared (in both frames, hair filled in neither when enough is left).
    """
    rh, rw = ref.image.shape
    flags = cv2.INTER_LINEAR
    warped = cv2.warpPerspective(mov.image, h_work, (rw, rh), flags=flags).astype(np.float32)
    valid = np.full(mov.image.shape, 255, np.uint8) if mov.mask is None else mov.mask
    valid = cv2.warpPerspective(valid, h_work, (rw, rh), flags=cv2.INTER_NEAREST) > 0
    valid = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if ref.mask is not None:
        valid &= ref.mask > 0
    # compare skin with skin: leave out the hair filled in either photo
    hair = ref.hair | (
        cv2.warpPerspective(mov.hair.astype(np.uint8), h_work, (rw, rh), flags=cv2.INTER_NEAREST)
        > 0
    )
    if (valid & ~hair).sum() >= 0.1 * valid.sum():
        valid &= ~hair
    a = cv2.GaussianBlur(ref.image.astype(np.float32), (0, 0), sig)
    b = cv2.GaussianBlur(warped, (0, 0), sig)
    a = a - cv2.GaussianBlur(a, (0, 0), 3 * sig)
    b = b - cv2.GaussianBlur(b, (0, 0), 3 * sig)
    return a, b, valid


def _ncc(x: np.ndarray, y: np.ndarray) -> float:
    """Normalised cross-correlation of two equal-length samples (0 when either is flat)."""
    x = x - x.mean()
    y = y - y.mean()
    d = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / d) if d > 0 else 0.0


def _correlation(
    ref: _Prepared,
    mov: _Prepared,
    h_work: np.ndarray,
    p: AlignParams,
    blur_px: float | None = None,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Check the registration on the pixels themselves, after warping.

    ``blur_px`` (working px, default ``p.ncc_blur_px``) sets the band of texture
    compared (:func:`_texture_bands`).

    Returns
    -------
    ncc : float
        Normalised cross-correlation of the fine texture (hair left out) on the overlap.
    share : float
        Share of the tiles (``tile_grid`` x ``tile_grid``) whose own NCC reaches
        ``tile_ncc``.
    valid : (h, w) bool ndarray
        The pixels compared (working reference frame).
    shifts : (T, 4) float ndarray
        Per tile with enough pixels: the residual shift (dx, dy, px) left between the
        photos, found by searching +-``shift_search_px`` for the best correlation of the
        fine texture, that best correlation, and the correlation at zero shift. A right
        registration leaves ~0 everywhere; one that is off at a corner shows it there.
    """
    rh, rw = ref.image.shape
    a, b, valid = _texture_bands(ref, mov, h_work, p.ncc_blur_px if blur_px is None else blur_px)
    if valid.sum() < 100:
        return 0.0, 0.0, valid, np.zeros((0, 4))

    total = _ncc(a[valid], b[valid])
    n = p.tile_grid
    good = count = 0
    shifts = []
    am, bm = a * valid, b * valid
    for i in range(n):
        for j in range(n):
            ys = slice(i * rh // n, (i + 1) * rh // n)
            xs = slice(j * rw // n, (j + 1) * rw // n)
            v = valid[ys, xs]
            if v.sum() < max(200, 0.1 * v.size):
                continue
            count += 1
            good += _ncc(a[ys, xs][v], b[ys, xs][v]) >= p.tile_ncc
            tb = np.ascontiguousarray(bm[ys, xs])
            # search up to shift_search_px, less in the small tiles of a small photo
            r = int(min(p.shift_search_px, (min(tb.shape) - 16) // 2))
            if v.mean() >= p.shift_min_valid and r >= 2 * p.max_local_shift_px:
                # the reference tile's centre, searched for in the warped photo's tile
                ta = np.ascontiguousarray(am[ys, xs][r:-r, r:-r])
                if float(ta.std()) <= 0 or float(tb.std()) <= 0:
                    continue
                score = cv2.matchTemplate(tb, ta, cv2.TM_CCOEFF_NORMED)
                iy, ix = np.unravel_index(int(np.argmax(score)), score.shape)
                shifts.append((ix - r, iy - r, score[iy, ix], score[r, r]))
    return total, (good / count if count else 0.0), valid, np.asarray(shifts).reshape(-1, 4)


def _null_shifts(p: AlignParams) -> list[tuple[int, int]]:
    """The deliberately wrong offsets (dx, dy), working px, of :func:`_ncc_significance`.

    ``ncc_null_count`` offsets, their lengths spread evenly over ``ncc_null_min_px`` ..
    ``ncc_null_max_px`` and their directions turned by the golden angle (no two alike).
    """
    n = max(2, p.ncc_null_count)
    lengths = np.linspace(p.ncc_null_min_px, p.ncc_null_max_px, n)
    turns = np.arange(n) * np.pi * (3.0 - np.sqrt(5.0))
    steps = zip(lengths, turns, strict=True)
    return [(int(round(r * np.cos(t))), int(round(r * np.sin(t)))) for r, t in steps]


def _ncc_significance(ref: _Prepared, mov: _Prepared, h_work: np.ndarray, p: AlignParams) -> float:
    """How far the fit's texture NCC stands above what the same texture gives when wrong.

    The warped session photo's fine texture (:func:`_texture_bands`) is shifted by each
    of :func:`_null_shifts`, well beyond the few px over which a right registration
    still correlates: the NCCs there are what this pair's texture, light, noise and JPEG
    give by chance. Dark or even skin has little texture against its noise, and a right
    fit reads an NCC of only ~0.08-0.2 (phantom dark-skin re-shoots, where a right fit
    and the true homography read the same); a wrong one reads as little as the shifted
    ones.

    Returns
    -------
    float
        (NCC as fitted - median shifted NCC) / SD of the shifted NCCs; 0 when they
        cannot be measured.
    """
    a, b, valid = _texture_bands(ref, mov, h_work, p.ncc_blur_px)
    if valid.sum() < 100:
        return 0.0
    at_fit = _ncc(a[valid], b[valid])
    rh, rw = a.shape
    null = []
    for dx, dy in _null_shifts(p):
        # b moved by (dx, dy): its pixel (y, x) compared with a's (y + dy, x + dx)
        ya, yb = slice(max(dy, 0), rh + min(dy, 0)), slice(max(-dy, 0), rh + min(-dy, 0))
        xa, xb = slice(max(dx, 0), rw + min(dx, 0)), slice(max(-dx, 0), rw + min(-dx, 0))
        v = valid[ya, xa] & valid[yb, xb]
        if v.sum() >= 100:
            null.append(_ncc(a[ya, xa][v], b[yb, xb][v]))
    if len(null) < 3:
        return 0.0
    sd = float(np.std(null))
    return float((at_fit - np.median(null)) / sd) if sd > 0 else 0.0


def _corner_instability(
    model: str, src: np.ndarray, dst: np.ndarray, h: np.ndarray, shape: tuple[int, int]
) -> float:
    """How far the photo's corners move when the model is refitted to halves of the inliers.

    The inliers are split at random into two halves, three times; each half is fitted by
    least squares, and the largest mean corner distance to ``h`` is returned (working px).
    A fit supported by few or clustered inliers extrapolates badly to the corners, and
    this shows it.
    """
    if len(src) < 16:
        return np.inf
    rng = np.random.default_rng(0)
    corners = _corners(shape)
    base = _project(h, corners)
    worst = 0.0
    for _ in range(3):
        order = rng.permutation(len(src))
        for half in (order[: len(src) // 2], order[len(src) // 2 :]):
            hh = _lsq(model, src[half], dst[half])
            if hh is None:
                return np.inf
            worst = max(worst, float(np.linalg.norm(_project(hh, corners) - base, axis=1).mean()))
    return worst


def _hair_map_offset(
    ref: _Prepared, mov: _Prepared, h_work: np.ndarray, p: AlignParams
) -> tuple[float, float, float]:
    """How far the hair mass of the warped moving photo sits from the reference's.

    Where the hair mass sits is fixed on the head, whatever the combing; the background
    and the clothes can move apart from the head between visits, and a fit that follows
    them puts the hair mass off. The two photos' hair maps (blurred by
    ``hair_map_sigma`` of the longer side) are compared on a small copy; the warped map
    is turned about the reference's hair mass by each of ``hair_map_rotations_deg`` and
    shifted by up to ``hair_map_search`` of the longer side, and the best correlation
    wins.

    Returns
    -------
    off : float
        Mean distance the photo's corners move under the best turn and shift, working px
        (0 when the fit puts the hair mass right).
    at_zero, best : float
        Correlation of the hair maps as warped, and at the best turn and shift.
    """
    rh, rw = ref.image.shape
    f = min(1.0, p.hair_map_side / float(max(rh, rw)))
    size = (max(16, round(rw * f)), max(16, round(rh * f)))
    sig = max(1.0, p.hair_map_sigma * max(size))
    s = _scale_matrix(f, f)
    # the hair on the head only (the look masks, when given): thin structure in the room
    # (wallpaper, fabric) is found as hair too, and moves with the room
    hair_a, hair_b = (
        prep.hair if prep.mask is None else prep.hair & (prep.mask > 0) for prep in (ref, mov)
    )
    a = cv2.resize(hair_a.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    b = cv2.warpPerspective(
        hair_b.astype(np.float32), s @ h_work, size, flags=cv2.INTER_LINEAR, borderValue=np.nan
    )
    seen = np.isfinite(b)
    if seen.sum() < 100 or a.std() <= 0:
        return 0.0, 0.0, 0.0
    b = np.where(seen, b, float(np.nanmean(b)))
    a = cv2.GaussianBlur(a, (0, 0), sig)
    b = cv2.GaussianBlur(b, (0, 0), sig)
    m = cv2.moments(a)
    centre = (m["m10"] / max(m["m00"], 1e-9), m["m01"] / max(m["m00"], 1e-9))
    r = max(2, int(round(p.hair_map_search * max(size))))
    corners = _corners((size[1], size[0]))
    at_zero, best, off = 0.0, -1.0, 0.0
    for rot in (0.0, *p.hair_map_rotations_deg, *(-x for x in p.hair_map_rotations_deg)):
        turn = cv2.getRotationMatrix2D(centre, float(rot), 1.0)
        bb = cv2.warpAffine(b, turn, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        pad = cv2.copyMakeBorder(bb, r, r, r, r, cv2.BORDER_CONSTANT, value=float(bb.mean()))
        score = cv2.matchTemplate(pad, a, cv2.TM_CCOEFF_NORMED)
        iy, ix = np.unravel_index(int(np.argmax(score)), score.shape)
        if rot == 0.0:
            at_zero = float(score[r, r])
        if score[iy, ix] > best:
            best = float(score[iy, ix])
            moved = corners @ turn[:, :2].T + turn[:, 2] + [ix - r, iy - r]
            off = float(np.linalg.norm(moved - corners, axis=1).mean()) / f
    return off, at_zero, best


def _head_mask(rgb: np.ndarray, look: np.ndarray | None, side: int) -> np.ndarray:
    """The head (hair plus scalp) of a global photo on a copy ``side`` px long.

    The look mask when the caller gave one, else :func:`hairtrack.region.scalp_region`.
    """
    h, w = rgb.shape[:2]
    f = min(1.0, side / float(max(h, w)))
    size = (max(16, round(w * f)), max(16, round(h * f)))
    if look is not None:
        m = cv2.resize(look.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        return m > 0
    from hairtrack.region import scalp_region  # noqa: PLC0415 (region is heavy)

    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if f < 1 else rgb
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "is there a head?": no head simply gives no evidence
        return scalp_region(small).mask


def skin_hair_colours(lab: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scalp skin's and the hair's colours on a head: two k-means classes in Lab.

    The smaller class is the skin (hair covers most of a crown). Seeded, so a photo
    always gives the same split.

    Parameters
    ----------
    lab : (M, N, 3) float32 ndarray
        The photo in OpenCV's 8-bit Lab.
    head : (M, N) bool ndarray
        The head's pixels (at most 20000 of them, evenly spaced, are clustered).

    Returns
    -------
    skin, hair : (3,) float32 ndarray
        The two class centres.
    """
    pts = np.ascontiguousarray(lab[head][:: max(1, int(head.sum()) // 20000)])
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, lbl, centres = cv2.kmeans(pts, 2, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    k_skin = int(np.argmin(np.bincount(lbl.ravel(), minlength=2)))
    return centres[k_skin], centres[1 - k_skin]


def _head_skin(rgb: np.ndarray, head: np.ndarray, p: AlignParams) -> tuple:
    """The skin texture of the scalp that hair surrounds, on a copy ``head_skin_side`` long.

    Hair is redrawn at every visit, the room moves apart from the head; what stays on
    the head is the scalp skin (its blotches), seen where the hair is thin. The head's
    pixels are split by colour into two classes (k-means in Lab); the smaller is the skin
    (hair covers most of a crown). Only skin enclosed by hair counts (holes of the closed
    hair mass: not the background or clothes beside the head). The skin's brightness is
    its local envelope (a closing for hair darker than skin, an opening for lighter), so
    strands, sharp or blurred, do not darken it; smoothed, band-passed and normalised.

    Returns
    -------
    image : (h, w) float32 ndarray
        Band-passed skin brightness, unit variance on ``valid``, 0 elsewhere.
    valid : (h, w) bool ndarray
        Where the skin is known (empty when the photo shows no enclosed scalp).
    """
    h, w = rgb.shape[:2]
    f = min(1.0, p.head_skin_side / float(max(h, w)))
    size = (max(16, round(w * f)), max(16, round(h * f)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if f < 1 else rgb
    long_side = max(size)
    empty = (np.zeros(size[::-1], np.float32), np.zeros(size[::-1], bool))
    head = cv2.resize(head.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    if head.sum() < 500:
        return empty
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    c_skin, c_hair = skin_hair_colours(lab, head)
    if np.linalg.norm(c_skin - c_hair) < p.head_skin_min_colour_gap:
        return empty  # hair and skin alike in colour: no skin to find
    d_skin = np.linalg.norm(lab - c_skin, axis=2)
    d_hair = np.linalg.norm(lab - c_hair, axis=2)
    skin = (d_skin < d_hair) & head
    hair = (~skin & head).astype(np.float32)
    # the scalp hair surrounds: inside the dense hair mass
    sig = p.head_skin_ring_sigma * long_side
    ring = (cv2.GaussianBlur(hair, (0, 0), sig) > p.head_skin_ring_density).astype(np.uint8)
    if not ring.any():
        return empty
    # inside the ring's convex hull (a ring with gaps, e.g. light hair, still encloses)
    hull = cv2.convexHull(cv2.findNonZero(ring))
    enclosed = np.zeros(ring.shape, np.uint8)
    cv2.fillConvexPoly(enclosed, hull, 1)
    enclosed = (enclosed > 0) & (ring == 0)
    skin &= enclosed
    dens = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), 2 * p.head_skin_sigma * long_side)
    valid = (dens > p.head_skin_min_density) & skin.any()
    if valid.sum() < p.head_skin_min_pixels:
        return empty
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    dark_hair = c_hair[0] < c_skin[0]
    k = _odd(p.head_skin_envelope * long_side)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    env = cv2.morphologyEx(gray, cv2.MORPH_CLOSE if dark_hair else cv2.MORPH_OPEN, kernel)
    wgt = valid.astype(np.float32)

    def smooth(x: np.ndarray, sigma: float) -> np.ndarray:
        num = cv2.GaussianBlur(x * wgt, (0, 0), sigma)
        return num / np.maximum(cv2.GaussianBlur(wgt, (0, 0), sigma), 1e-3)

    img = smooth(env, p.head_skin_sigma * long_side)
    img = img - smooth(img, p.head_skin_band * long_side)
    sd = float(img[valid].std())
    if sd <= 0:
        return empty
    return np.where(valid, img / sd, 0.0).astype(np.float32), valid


def _head_skin_check(
    reference: np.ndarray,
    moving: np.ndarray,
    reference_mask: np.ndarray | None,
    moving_mask: np.ndarray | None,
    h_full: np.ndarray,
    in_dst: np.ndarray,
    ref_to_work: np.ndarray,
    p: AlignParams,
) -> tuple[float, float, float, int]:
    """Does the fit put the scalp skin on the scalp skin? See :func:`_head_skin`.

    Returns
    -------
    at_zero, best, off : float
        The skin NCC as warped and at the best shift, and that shift (px of the
        ``head_skin_side`` copy); NaN when either photo shows no scalp skin hair
        surrounds (no evidence either way).
    on_head : int
        Inliers (``in_dst``, reference working px) inside the reference's head, away from
        its outline: matched features that moved with the head.
    """

    def head_and_skin(rgb: np.ndarray, look: np.ndarray | None) -> tuple:
        head = _head_mask(rgb, look, p.head_skin_side)
        return head, _head_skin(rgb, head, p)

    sides = [(reference, reference_mask), (moving, moving_mask)]
    if reference_mask is not None and moving_mask is not None:
        # each photo's own, in two threads when allowed (no look mask: the head is found
        # under catch_warnings, which is not thread-safe)
        both = side_by_side(
            lambda: head_and_skin(reference, reference_mask),
            lambda: head_and_skin(moving, moving_mask),
        )
    else:
        both = [head_and_skin(*s) for s in sides]
    heads, skins = [h for h, _ in both], [k for _, k in both]
    (a, _), (b, _) = skins
    hm = heads[0].astype(np.uint8)
    r = max(1, int(round(p.head_interior_margin * max(hm.shape))))
    interior = cv2.erode(hm, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    to_h = _scale_matrix(hm.shape[1] / reference.shape[1], hm.shape[0] / reference.shape[0])
    on_head = int(_inside(_project(to_h @ np.linalg.inv(ref_to_work), in_dst), interior > 0).sum())
    to_a = _scale_matrix(a.shape[1] / reference.shape[1], a.shape[0] / reference.shape[0])
    to_b = _scale_matrix(b.shape[1] / moving.shape[1], b.shape[0] / moving.shape[0])
    h_small = to_a @ h_full @ np.linalg.inv(to_b)
    at_zero, best, off, n = _head_skin_offset(skins[0], skins[1], h_small, p)
    logger.debug(
        "head skin: NCC %.3f -> %.3f at %.1f px (%d px); %d inliers on the head",
        at_zero,
        best,
        off,
        n,
        on_head,
    )
    return at_zero, best, off, on_head


def _head_skin_offset(
    ref_skin: tuple, mov_skin: tuple, h_small: np.ndarray, p: AlignParams
) -> tuple[float, float, float, int]:
    """Where the warped session photo's scalp skin best correlates with the baseline's.

    ``h_small`` maps the moving skin copy's pixels onto the reference copy's. Shifts of
    up to ``head_skin_search`` (share of the longer side) are tried in 1 px steps.

    Returns
    -------
    at_zero, best : float
        NCC of the skin textures on the pixels both show, as warped and at the best shift.
    off : float
        Length of the best shift, px of the copy (NaN when nothing is comparable).
    n : int
        Pixels compared at zero shift.
    """
    a, va = ref_skin
    b, vb = mov_skin
    if not va.any() or not vb.any():
        return np.nan, np.nan, np.nan, 0
    hh, ww = a.shape
    bw = cv2.warpPerspective(b, h_small, (ww, hh), flags=cv2.INTER_LINEAR)
    vw = cv2.warpPerspective(vb.astype(np.uint8), h_small, (ww, hh), flags=cv2.INTER_NEAREST)
    r = max(1, int(round(p.head_skin_search * max(hh, ww))))
    # b shifted by (dx, dy) against a: correlation of the masked images, normalised by
    # the masked energies over the pixels both show (masked NCC, Padfield 2010)
    pad = lambda x: cv2.copyMakeBorder(x, r, r, r, r, cv2.BORDER_CONSTANT, value=0)  # noqa: E731
    vaf, vbf = va.astype(np.float32), (vw > 0).astype(np.float32)
    bz = bw * vbf
    ys, xs = np.nonzero(va)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    tmpl = [np.ascontiguousarray(x[y0:y1, x0:x1]) for x in (a * vaf, vaf, a * a * vaf)]
    big = [pad(x)[y0 : y1 + 2 * r, x0 : x1 + 2 * r] for x in (bz, vbf, bz * bz)]
    corr = lambda i, t: cv2.matchTemplate(big[i], tmpl[t], cv2.TM_CCORR)  # noqa: E731
    n = corr(1, 1)
    sa, sb = corr(1, 0), corr(0, 1)
    saa, sbb, sab = corr(1, 2), corr(2, 1), corr(0, 0)
    nn = np.maximum(n, 1.0)
    cov = sab - sa * sb / nn
    var = np.maximum(saa - sa * sa / nn, 1e-9) * np.maximum(sbb - sb * sb / nn, 1e-9)
    ncc = np.where(n >= p.head_skin_min_pixels, cov / np.sqrt(var), -1.0)
    if ncc[r, r] <= -1.0:
        return np.nan, np.nan, np.nan, int(n[r, r])
    iy, ix = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
    # matchTemplate slides the template over the padded moving image: a peak at
    # (ix, iy) means the moving texture sits (ix - r, iy - r) px from where it should
    return float(ncc[r, r]), float(ncc[iy, ix]), float(np.hypot(ix - r, iy - r)), int(n[r, r])


def _interior(mask: np.ndarray, p: AlignParams) -> np.ndarray:
    """The head's interior: a look mask (255 = look) eroded by ``head_interior_margin``.

    Eroded by a disk, as the pixels farther than its radius from any pixel outside the
    mask (the exact Euclidean distance; the frame's edge does not erode, as with
    ``cv2.erode``): at the working size of a 12 MP photo the erosion with a ~105 px
    ellipse took ~0.07 s per mask.
    """
    r = max(1, int(round(p.head_interior_margin * max(mask.shape))))
    inside = (mask > 0).view(np.uint8)
    return cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > r


def _inside(pts: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Which of the (N, 2) points (working px) fall on True pixels of ``mask``."""
    if len(pts) == 0:
        return np.zeros(0, bool)
    h, w = mask.shape
    xy = np.round(pts).astype(np.int64)
    ok = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    out = np.zeros(len(pts), bool)
    out[ok] = mask[xy[ok, 1], xy[ok, 0]]
    return out


def _look_overlap_px(ref: _Prepared, mov: _Prepared, h_work: np.ndarray) -> float:
    """Area, reference working px, that both photos show and were asked to look at.

    The overlap of the two frames, narrowed to the look masks when both were given (the
    head of a global photo: the matches need to spread over the head, not over a room
    they were kept out of).
    """
    frames = _overlap(h_work, mov.image.shape, ref.image.shape) * ref.image.size
    if ref.mask is None or mov.mask is None:
        return frames
    rh, rw = ref.image.shape
    warped = cv2.warpPerspective(mov.mask, h_work, (rw, rh), flags=cv2.INTER_NEAREST)
    return float(min(frames, np.count_nonzero((warped > 0) & (ref.mask > 0))))


def _spread(pts: np.ndarray, overlap_px: float) -> float:
    """Area of the convex hull of ``pts`` as a share of the overlap area (working px)."""
    if len(pts) < 3:
        return 0.0
    hull = cv2.convexHull(pts.astype(np.float32))
    return float(cv2.contourArea(hull) / max(overlap_px, 1.0))


# ---- the stage ------------------------------------------------------------------------------


def features(
    image: np.ndarray,
    *,
    view: str = "closeup",
    mask: np.ndarray | None = None,
    **params: Any,
) -> Features:
    """Prepare one photo for :func:`align`: its working image and SIFT features.

    :func:`align` makes these itself when not given them; made here, the two photos'
    can be made at the same time (OpenCV and numpy release the GIL) and a baseline's
    can be made once for all its comparisons.

    Parameters
    ----------
    image : (M, N, 3) uint8 ndarray
        An RGB photo.
    view : {'closeup', 'global'}
    mask : (M, N) bool ndarray, optional
        Where to look (True), as :func:`align`'s ``reference_mask`` / ``moving_mask``.
    **params
        Any field of :class:`hairtrack.config.AlignParams`.

    Returns
    -------
    Features

    Raises
    ------
    ValueError
        As :func:`align`.
    """
    p = _params(params)
    if view not in _VIEWS:
        raise ValueError(f"view must be one of {_VIEWS}, not {view!r}")
    image = _check_image(image, "image")
    mask = _check_mask(mask, image.shape, "mask")
    return _features(image, mask, view, p)


def _features(image: np.ndarray, mask: np.ndarray | None, view: str, p: AlignParams) -> Features:
    """:func:`features` of a checked photo and mask."""
    prep = _prepare(image, mask, view, p)
    halved = view == "closeup" and p.detect_halved_closeup
    if p.coarse_pixels > 0:
        # the coarse copy's features while the working image's are found (two threads
        # when allowed: in compare, BEFORE's reading and features are the longest chain)
        (xy, desc), (c_xy, c_desc) = side_by_side(
            lambda: _detect(prep.image, prep.detect_mask, p, halved),
            lambda: _coarse_features(prep, p),
        )
    else:
        xy, desc = _detect(prep.image, prep.detect_mask, p, halved)
        c_xy, c_desc = np.zeros((0, 2)), np.zeros((0, 128), np.float32)
    return Features(prep, xy, desc, c_xy, c_desc, view, p)


def _given(
    f: Features | None,
    image: np.ndarray,
    mask: np.ndarray | None,
    view: str,
    p: AlignParams,
    name: str,
) -> Features:
    """``f`` when it was made of a photo of this size, for this view and parameters; the
    photo's own features when ``f`` is None."""
    if f is None:
        return _features(image, mask, view, p)
    if f.view != view or f.params != p or f.prepared.full_shape != tuple(image.shape[:2]):
        raise ValueError(
            f"{name} were made for another view, photo size or parameters "
            f"({f.view}, {f.prepared.full_shape[1]}x{f.prepared.full_shape[0]} px) than "
            f"this alignment's ({view}, {image.shape[1]}x{image.shape[0]} px)"
        )
    return f


def align(
    reference: np.ndarray,
    moving: np.ndarray,
    *,
    view: str = "closeup",
    reference_mask: np.ndarray | None = None,
    moving_mask: np.ndarray | None = None,
    reference_features: Features | None = None,
    moving_features: Features | None = None,
    **params: Any,
) -> Alignment:
    """Register ``moving`` (a session photo) onto ``reference`` (the baseline photo).

    Parameters
    ----------
    reference, moving : (M, N, 3) and (P, Q, 3) uint8 ndarray
        RGB photos of the same view; they may differ in size. A grey photo is passed as
        three equal channels.
    view : {'closeup', 'global'}
        Close-ups register on skin texture with hair suppressed at the scale of a shaft
        (a refused close-up pair is registered again with a photo's other hair order when
        its choice was close: ``hair_order_retry_closeup``); global photos suppress only
        thin strands.
    reference_mask, moving_mask : (M, N) and (P, Q) bool ndarray, optional
        Where to look (True), e.g. the field without burned-in capture overlays, or the
        head region of a global photo. Pass them: burned-in overlays sit at the same
        pixels in every photo of a device and would otherwise vote for the identity.
    reference_features, moving_features : Features, optional
        The photos' :func:`features`, when already made (e.g. both at once in two
        threads, or a baseline's made once for all its comparisons); they must have been
        made with the same masks (which are still passed), view and parameters.
    **params
        Any field of :class:`hairtrack.config.AlignParams`.

    Returns
    -------
    Alignment
        ``homography`` maps moving full-resolution pixels to reference full-resolution
        pixels; ``ok`` only when every quality check passed.

    Raises
    ------
    ValueError
        On images that are not (M, N, 3) uint8 of at least 64 x 64 px, masks of the
        wrong shape, an unknown view or an unknown parameter.
    """
    p = _params(params)
    if view not in _VIEWS:
        raise ValueError(f"view must be one of {_VIEWS}, not {view!r}")
    reference = _check_image(reference, "reference")
    moving = _check_image(moving, "moving")
    reference_mask = _check_mask(reference_mask, reference.shape, "reference_mask")
    moving_mask = _check_mask(moving_mask, moving.shape, "moving_mask")

    f_ref = _given(reference_features, reference, reference_mask, view, p, "reference_features")
    f_mov = _given(moving_features, moving, moving_mask, view, p, "moving_features")
    found = _register(reference, moving, view, reference_mask, moving_mask, f_ref, f_mov, p)
    if view != "closeup" or found.ok or not p.hair_order_retry_closeup:
        return found
    # dense long hair: the thinner fill may be the skin between the shafts, not the
    # shafts (both fills are thick); a photo whose choice was that close is prepared
    # again with the other order, and the pair registered again (the checks judge it)
    for side in ("moving", "reference"):
        f = f_mov if side == "moving" else f_ref
        if not f.prepared.order_open:
            continue
        other = dataclasses.replace(
            p, hair_order_closeup="light" if f.prepared.order == "dark" else "dark"
        )
        if side == "moving":
            f_ref2, f_mov2 = f_ref, _features(moving, moving_mask, view, other)
        else:
            f_ref2, f_mov2 = _features(reference, reference_mask, view, other), f_mov
        again = _register(reference, moving, view, reference_mask, moving_mask, f_ref2, f_mov2, p)
        if again.ok:
            logger.debug("registered with the %s photo's other hair order", side)
            return again
    return found


def _register(
    reference: np.ndarray,
    moving: np.ndarray,
    view: str,
    reference_mask: np.ndarray | None,
    moving_mask: np.ndarray | None,
    f_ref: Features,
    f_mov: Features,
    p: AlignParams,
) -> Alignment:
    """:func:`align` of checked photos, masks and their features, in one hair order each:
    :func:`_align`, again on keypoints found on the working images themselves when the
    halved keypoints' fit was not polished."""
    found, polished = _align(reference, moving, view, reference_mask, moving_mask, f_ref, f_mov, p)
    if view == "closeup" and p.detect_halved_closeup and not polished:
        # the halved keypoints' fit was not confirmed by the skin (few or bunched
        # keypoints: dark skin, dense hair): the keypoints are found again on the
        # working images themselves, and the photos registered on those
        full = dataclasses.replace(p, detect_halved_closeup=False)
        f_ref, f_mov = _unhalved(f_ref, full), _unhalved(f_mov, full)
        found, _ = _align(reference, moving, view, reference_mask, moving_mask, f_ref, f_mov, full)
    return found


def _unhalved(f: Features, p: AlignParams) -> Features:
    """``f`` with its working image's keypoints found on that image itself (``p``)."""
    xy, desc = _detect(f.prepared.image, f.prepared.detect_mask, p)
    return dataclasses.replace(f, xy=xy, desc=desc, params=p)


def _align(
    reference: np.ndarray,
    moving: np.ndarray,
    view: str,
    reference_mask: np.ndarray | None,
    moving_mask: np.ndarray | None,
    f_ref: Features,
    f_mov: Features,
    p: AlignParams,
) -> tuple[Alignment, bool]:
    """:func:`align` of checked photos, masks and their features; and whether the fit
    was polished by block matching (:func:`_dense_polish`)."""
    ref, mov = f_ref.prepared, f_mov.prepared
    xy_ref, d_ref, xy_mov, d_mov = f_ref.xy, f_ref.desc, f_mov.xy, f_mov.desc
    pairs = _match(d_ref, d_mov, p.ratio, p.cross_check)
    src = xy_mov[pairs[:, 0]].astype(np.float64)
    dst = xy_ref[pairs[:, 1]].astype(np.float64)
    if p.coarse_pixels > 0:
        c_src, c_dst = _coarse_matches(f_ref, f_mov, p)
        src, dst = np.vstack([src, c_src]), np.vstack([dst, c_dst])
    n_tent = len(src)
    logger.debug("features %d / %d, tentative matches %d", len(xy_ref), len(xy_mov), n_tent)
    model, h_work, inl = _fit_models(src, dst, p)
    n_inl = int(inl.sum())
    in_src, in_dst = src[inl], dst[inl]
    by_blocks = False
    blocks_apart = blocks_off = 0.0
    if (
        h_work is None
        or n_inl < p.min_inliers
        or _geometry_problem(h_work, mov.image.shape[:2], p, ref.image.shape[:2])
    ):
        # few distinctive matches (dense hair hides most skin): look for a rough
        # similarity among the loosely matched features, then match again around it
        l_src, l_dst = _loose_candidates(xy_ref, d_ref, xy_mov, d_mov, p)
        starts = [_loose_similarity(l_src, l_dst, p)]
        tried = [h_work, starts[0]]
        best = n_inl if h_work is not None else 0
        for k in range(2):
            if k == 1:
                if best >= p.min_inliers:
                    break
                starts = [_search_similarity(ref, mov, p)]
                tried.append(starts[0])
            h0 = starts[0]
            found = 0
            for _ in range(p.fallback_rounds if h0 is not None else 0):
                # each round reaches further out from where the last fit was right
                m1, h1, s1, d1 = _guided_refine(
                    h0, xy_mov, d_mov, xy_ref, d_ref, p.fallback_threshold_px, p
                )
                if h1 is None or len(s1) <= found:
                    break
                found, h0 = len(s1), h1
                if found > best:
                    best = found
                    model, h_work, in_src, in_dst = m1, h1, s1, d1
                    n_inl = found
                    n_tent = max(n_tent, n_inl)
        if view == "closeup" and p.dense_closeup:
            # the few features are matched loosely: the skin itself, patch by patch,
            # says where the rough fit is off (dark skin, long dense hair)
            dense = _dense_refine(ref, mov, [h_work, *tried], p)
            if dense is not None:
                model, h_work, in_src, in_dst, n_tent, blocks_apart, blocks_off = dense
                n_inl = len(in_src)
                by_blocks = True
    if h_work is None:
        return _refuse("no consistent transform found", None, "none", 0, None, 0.0), False
    if n_inl < p.min_inliers:
        refused = _refuse(f"too few consistent matches ({n_inl})", None, "none", n_inl, None, 0.0)
        return refused, False
    if (
        p.refine
        and not by_blocks
        and not _geometry_problem(h_work, mov.image.shape[:2], p, ref.image.shape[:2])
    ):
        # global photos: the guided matches (many on a head's few distinctive places, the
        # rest loose) must not talk a proved perspective back down to a similarity, which
        # is off by pixels at the head's edge of a small photo
        floor = model if view == "global" else None
        m2, h2, s2, d2 = _guided_refine(
            h_work, xy_mov, d_mov, xy_ref, d_ref, p.guided_radius_px, p, floor
        )
        if h2 is not None and len(s2) >= n_inl:
            model, h_work, in_src, in_dst = m2, h2, s2, d2
    polished = False
    if view == "closeup" and p.dense_final_closeup and not by_blocks:
        # the features' fit polished by block matching of the skin: the patches that
        # agree with it are then the correspondences the checks below judge (as for a
        # fit found by block matching)
        fine = _dense_polish(ref, mov, h_work, p)
        if fine is not None:
            model, h_work, in_src, in_dst = fine
            polished = True
    res = _residuals(h_work, in_src, in_dst)
    rmse_work = float(np.sqrt(np.mean(res**2))) if len(res) else np.inf
    h_full = np.linalg.inv(ref.to_work) @ h_work @ mov.to_work
    h_full = h_full / h_full[2, 2]
    # residual in reference full-res px: working px over the working scale
    rmse_full = rmse_work / float(np.sqrt(abs(np.linalg.det(ref.to_work[:2, :2]))))
    overlap = _overlap(h_full, moving.shape[:2], reference.shape[:2])
    ratio = n_inl / max(n_tent, 1)
    n_inl = len(in_src)

    def result(reason: str, ncc: float | None = None) -> tuple[Alignment, bool]:
        if reason:
            logger.debug("alignment refused: %s", reason)
        found = Alignment(
            ok=not reason,
            homography=h_full,
            model=model,
            inliers=n_inl,
            rmse_px=rmse_full,
            overlap=overlap,
            reason=reason,
            ncc=ncc,
        )
        return found, polished

    geom = _geometry_problem(h_full, moving.shape[:2], p, reference.shape[:2])
    if geom:
        return result(geom)
    if n_inl < p.min_inliers:
        return result(f"too few consistent matches ({n_inl})")
    if view == "global" and ref.mask is not None and mov.mask is not None:
        # the room and the clothes move apart from the head between visits: only
        # matches on the head itself vouch for the head's registration
        on_head = int(
            (
                _inside(in_dst, _interior(ref.mask, p)) & _inside(in_src, _interior(mov.mask, p))
            ).sum()
        )
        if on_head < p.min_head_inliers:
            return result(f"too few consistent matches on the head itself ({on_head})")
    if ratio < p.min_inlier_ratio:
        return result(f"too few of the matches are consistent ({n_inl} of {n_tent})")
    if rmse_work > p.max_rmse_px:
        return result(f"residual too high ({rmse_work:.2f} working px)")
    if overlap < p.min_overlap:
        return result(f"photos overlap too little ({overlap:.0%} of the baseline)")
    unstable = _corner_instability(model, in_src, in_dst, h_work, mov.image.shape)
    max_unstable = (
        p.max_corner_instability_closeup if view == "closeup" else p.max_corner_instability_global
    )
    if unstable > max_unstable:
        return result(f"fit is unstable at the corners ({unstable:.1f} working px)")
    ncc, share, valid, shifts = _correlation(ref, mov, h_work, p)
    # (close-ups: the whole overlap, as before; their look masks only leave out overlays)
    spread = _spread(
        in_dst,
        _look_overlap_px(ref, mov, h_work)
        if view == "global"
        else _overlap(h_work, mov.image.shape, ref.image.shape) * ref.image.size,
    )
    if spread < p.min_spread:
        return result(f"matches cover too little of the overlap ({spread:.0%})", ncc)
    weak = ncc < (p.min_ncc_closeup if view == "closeup" else p.min_ncc_global)
    if weak:
        # dark or even skin: little texture against the noise, a right fit correlates
        # weakly; it must then stand well above the same texture under wrong warps
        z = _ncc_significance(ref, mov, h_work, p) if view == "closeup" else 0.0
        if z < p.min_ncc_significance:
            return result(
                f"skin texture does not correlate after warping (NCC {ncc:.2f}, "
                f"{z:.1f} SD above wrong warps)",
                ncc,
            )
        # ... and its tiles are judged on a coarser band of the texture, which stands
        # out more from the noise (the fine band measures too few of them)
        _, share, _, shifts = _correlation(ref, mov, h_work, p, p.low_texture_blur_px)
        logger.debug("low-texture skin: NCC %.3f, %.1f SD above wrong warps", ncc, z)
        # there the residual shift of a single tile is noisy (a right fit shows a few of
        # 4-8 px, with little gain over zero shift): the tiles must line up on median
        seen = shifts[shifts[:, 2] >= p.shift_min_response]
        apart = float(np.median(np.hypot(seen[:, 0], seen[:, 1]))) if len(seen) else 0.0
        what = "its tiles"
        if by_blocks:
            # a fit the skin's own patches were matched to has hundreds of small tiles
            # to judge it by: under long hair most of the six-by-six tiles are hair,
            # and their few skin pixels shift at random (a right fit read 9.5 px there)
            apart, what = blocks_apart, "its matched skin patches"
        if apart > p.max_local_shift_px:
            return result(
                f"the photos do not line up (weak skin texture, {what} {apart:.1f} "
                "working px apart on median)",
                ncc,
            )
    if view == "global":
        skin_zero, skin_best, skin_off, on_head = _head_skin_check(
            reference, moving, reference_mask, moving_mask, h_full, in_dst, ref.to_work, p
        )
        if (
            on_head < p.head_skin_trusted_inliers
            and skin_off > p.head_skin_max_shift_px
            and skin_best - skin_zero > p.head_skin_min_gain
        ):
            return result(
                f"the scalp skin lands {skin_off:.0f} px off the baseline's (skin NCC "
                f"{skin_zero:.2f}, {skin_best:.2f} when shifted): the fit follows the "
                "background or clothes, not the head",
                ncc,
            )
        off, at_zero, best = _hair_map_offset(ref, mov, h_work, p)
        logger.debug("hair map: off %.1f working px, NCC %.3f -> %.3f", off, at_zero, best)
        if (
            off > p.hair_map_max_shift_px
            and best - at_zero > p.hair_map_min_gain
            and at_zero >= p.hair_map_min_ncc
        ):
            return result(
                f"the hair mass lands {off:.0f} working px off the hair mass (hair map NCC "
                f"{at_zero:.2f}, {best:.2f} when shifted): the fit may follow the background, "
                "not the head",
                ncc,
            )
    measured = shifts[:, 2] >= p.shift_min_response
    off = (
        measured
        & (np.hypot(shifts[:, 0], shifts[:, 1]) > p.max_local_shift_px)
        & (shifts[:, 2] - shifts[:, 3] > p.shift_min_gain)
    )
    logger.debug("tile shifts %s", np.round(shifts, 2).tolist())
    if by_blocks and weak:
        # weak texture under long hair: the few six-by-six tiles with skin in them shift
        # at random; the fit's own matched skin patches are the tiles judged
        if blocks_off > p.max_off_share:
            return result(
                f"the photos do not line up everywhere ({blocks_off:.0%} of the matched "
                "skin patches are off)",
                ncc,
            )
    elif off.sum() > p.max_off_share * measured.sum() or measured.sum() < p.min_measured_tiles:
        return result(
            f"the photos do not line up everywhere ({int(off.sum())} of {int(measured.sum())} "
            "checked tiles are off)",
            ncc,
        )
    if share < p.min_tile_share and not (by_blocks and weak):
        # (a fit by blocks: dense_min_inlier_ratio of its skin patches agreed with it)
        return result(
            f"skin texture correlates in only {share:.0%} of the overlap (NCC {ncc:.2f})", ncc
        )
    return result("", ncc)


def _refuse(
    reason: str,
    h: np.ndarray | None,
    model: str,
    inliers: int,
    rmse: float | None,
    overlap: float,
) -> Alignment:
    logger.debug("alignment refused: %s", reason)
    return Alignment(False, h, model, inliers, rmse, overlap, reason)


def _params(params: dict[str, Any]) -> AlignParams:
    """AlignParams from keyword arguments, with a helpful error for unknown names."""
    known = {f.name for f in dataclasses.fields(AlignParams)}
    unknown = set(params) - known
    if unknown:
        raise ValueError(
            f"unknown alignment parameter(s) {sorted(unknown)}; known: {sorted(known)}"
        )
    p = AlignParams(**params)
    if p.model not in _MODELS:
        raise ValueError(f"model must be one of {_MODELS}, not {p.model!r}")
    if p.hair_order_closeup not in _ORDERS:
        raise ValueError(
            f"hair_order_closeup must be one of {_ORDERS}, not {p.hair_order_closeup!r}"
        )
    return p


def warp_to_reference(
    image: np.ndarray,
    alignment: Alignment,
    reference_shape: tuple[int, ...],
    *,
    nearest: bool = False,
) -> np.ndarray:
    """Resample a moving-frame image or mask into the reference frame.

    Parameters
    ----------
    image : (P, Q) or (P, Q, C) ndarray
        An image or mask in the moving photo's frame (bool masks are supported).
    alignment : Alignment
        With a homography (``ok`` is not checked here: the caller decides).
    reference_shape : tuple of int
        Shape of the reference photo; its first two entries are used.
    nearest : bool
        Nearest-neighbour sampling (masks, labels); bilinear otherwise.

    Returns
    -------
    (M, N) or (M, N, C) ndarray
        Same dtype as ``image``; pixels outside the moving photo are 0 (False).
    """
    if alignment.homography is None:
        raise ValueError(f"alignment has no homography ({alignment.reason or 'none found'})")
    image = np.asarray(image)
    rh, rw = int(reference_shape[0]), int(reference_shape[1])
    is_bool = image.dtype == bool
    src = image.astype(np.uint8) if is_bool else image
    flags = cv2.INTER_NEAREST if (nearest or is_bool) else cv2.INTER_LINEAR
    out = cv2.warpPerspective(
        src,
        np.asarray(alignment.homography, np.float64),
        (rw, rh),
        flags=flags,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return out.astype(bool) if is_bool else out


def corner_error(h_est: np.ndarray, h_true: np.ndarray, shape: tuple[int, ...]) -> float:
    """Mean distance of the four image corners mapped by two homographies.

    Parameters
    ----------
    h_est, h_true : (3, 3) ndarray
        Moving -> reference homographies.
    shape : tuple of int
        Shape of the moving photo (its first two entries).

    Returns
    -------
    float
        Mean corner distance, reference px.
    """
    c = _corners((int(shape[0]), int(shape[1])))
    return float(np.linalg.norm(_project(h_est, c) - _project(h_true, c), axis=1).mean())
