"""Measure hair in one photo: the ``measure`` stage.

``measure`` chains the pure stages for one photo and returns a :class:`Measurement`
whose :meth:`~Measurement.to_dict` is the JSON of ``hairtrack measure --json``
(DESIGN.md). It is two steps, so that a comparison can segment each photo once and then
measure both over their common region:

* :func:`analyse`: view, region, hair segmentation and scale of one photo
  (an :class:`Analysis`);
* :func:`summarise`: hair count, widths, density and coverage over a region.

Examples
--------
>>> import numpy as np
>>> from hairtrack import synth
>>> from hairtrack.measure import measure
>>> rng = np.random.default_rng(0)
>>> subject = synth.make_closeup_subject(rng, width=480, height=360)
>>> ph = synth.render_closeup(subject, synth.visit_state(subject, rng=rng), synth.Camera(),
...                           rng=rng)
>>> m = measure(ph.image, view="closeup", px_per_mm=75.0)
>>> m.view, 0 < m.coverage < 1
('closeup', True)
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from hairtrack.config import Params, kwargs_for
from hairtrack.count import count_hairs
from hairtrack.overlays import read_scale_bar
from hairtrack.region import _scalp_region, scalp_region
from hairtrack.segment import _nearest_map, _segment_global, segment_closeup, segment_global
from hairtrack.threads import side_by_side
from hairtrack.view import detect_view

__all__ = [
    "MIN_SIDE",
    "Analysis",
    "Measurement",
    "analyse",
    "global_copy",
    "measure",
    "shrink_to_side",
    "summarise",
]

#: Smallest photo side measured, px.
MIN_SIDE = 64


@dataclass(frozen=True)
class Measurement:
    """Hair measured in one photo.

    Scalars are what ``--json`` prints; the arrays (masks, per-hair values) are kept
    for pictures and comparisons and left out of :meth:`to_dict`.

    Attributes
    ----------
    view : {'closeup', 'global'}
    view_reason : str
        'given', or how ``auto`` decided.
    coverage : float
        Share of region pixels that are hair, 0-1.
    region_px : int
        Pixels in the analysed region (the field without capture overlays for
        close-ups; the scalp for global photos).
    hair_px : int
        Hair pixels inside the region.
    hair_count : int or None
        Hairs counted (close-ups); None for global photos.
    hair_per_cm2 : float or None
        Hairs per cm2 of region; None without a scale.
    mean_width_px, median_width_px, width_sd_px : float or None
        Shaft widths of the counted hairs, px.
    width_percentiles_px : tuple of float or None
        10th, 50th and 90th percentile of the shaft widths, px.
    mean_width_um : float or None
        Mean shaft width in micrometres; None without a scale.
    thin_share : float or None
        Share of counted hairs thinner than ``thin_cutoff_um`` (needs a scale).
    thin_cutoff_um : float
    length_mm_per_cm2 : float or None
        Hair length per area (needs a scale).
    px_per_mm : float or None
    scale_source : {'given', 'scale bar'} or None
    polarity : {'dark', 'light'} or None
        Hair darker or lighter than skin (close-ups).
    image_size : tuple of int
        (width, height), px.
    warnings : tuple of str
    path : str or None
    hair_mask, region_mask : (M, N) bool ndarray
    hair_xy : (K, 2) float ndarray
        (x, y) of each counted hair, for numbering on a picture.
    widths_px : (K,) float ndarray
    """

    view: str
    view_reason: str
    coverage: float
    region_px: int
    hair_px: int
    hair_count: int | None
    hair_per_cm2: float | None
    mean_width_px: float | None
    median_width_px: float | None
    width_sd_px: float | None
    width_percentiles_px: tuple[float, float, float] | None
    mean_width_um: float | None
    thin_share: float | None
    thin_cutoff_um: float
    length_mm_per_cm2: float | None
    px_per_mm: float | None
    scale_source: str | None
    polarity: str | None
    image_size: tuple[int, int]
    warnings: tuple[str, ...] = ()
    path: str | None = None
    hair_mask: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    region_mask: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    hair_xy: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    widths_px: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]

    _ARRAYS = ("hair_mask", "region_mask", "hair_xy", "widths_px")

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``hairtrack measure --json``: scalars only, rounded."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in self._ARRAYS:
                continue
            v = getattr(self, f.name)
            if isinstance(v, float):
                v = round(v, 6)
            elif isinstance(v, tuple):
                v = [round(x, 4) if isinstance(x, float) else x for x in v]
            out[f.name] = v
        return out


def _check_image(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image must be (M, N, 3) RGB, got shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {rgb.dtype}; load it with hairtrack.load")
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image is {w}x{h} px; hairtrack needs at least {MIN_SIDE}x{MIN_SIDE} px")
    return np.ascontiguousarray(rgb)


def _blank(rgb: np.ndarray) -> bool:
    """True when the photo is (nearly) one flat colour."""
    small = rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)]
    return float(small.astype(np.float32).std(axis=(0, 1)).max()) < 2.0


@dataclass(frozen=True)
class Analysis:
    """One photo segmented: what :func:`summarise` measures over any region.

    Attributes
    ----------
    view : {'closeup', 'global'}
    view_reason : str
    hair_mask, region_mask : (M, N) bool ndarray
        Hair pixels and the analysed region, full resolution.
    polarity : {'dark', 'light'} or None
    px_per_mm : float or None
    scale_source : {'given', 'scale bar'} or None
    work_mask : (m, n) bool ndarray or None
        Hair mask at the working scale on which hairs are counted (close-ups).
    work_scale : float
        Working size over full size.
    shaft_width_px : float or None
        Typical single-shaft width, full-resolution px (close-ups).
    notes : tuple of str
        Warnings found on the way.
    hair_weight : (m, n) float32 ndarray or None
        Soft hair share of each pixel, 0-1, at the working size (global photos, where
        single strands are not resolved; close-ups of dark hair, where a shaft's edge
        pixels are partly hair); coverage is its mean over the region, which is
        steadier than the share of mask pixels.
    unmixed : bool or None
        Global photos: whether the hair share was unmixed per pixel (strands resolved)
        rather than read from the zone-level score.
    hair_darker : bool or None
        Global photos read by unmixing: whether the hair was the darker colour.
    channel : str or None
        Close-ups: the grey image the hair was found in
        (:attr:`hairtrack.segment.CloseupSegmentation.channel`).
    hair_contrast : float or None
        Close-ups: median contrast of the hair against the skin
        (:attr:`hairtrack.segment.CloseupSegmentation.hair_contrast`); None when no
        hair was found.
    region_share : (region, share) or None
        Share (``(m, n)`` float32, 0-1) of each ``hair_weight`` pixel that lies in
        ``region`` (``(M, N)`` bool), when the segmentation knows it at that size
        (close-ups with overlays:
        :attr:`hairtrack.segment.CloseupSegmentation.work_region_share`). Used only
        while ``region`` is ``region_mask`` itself (a copy made with another
        ``region_mask`` brings that one down instead).
    skin_lightness : float or None
        Global photos: L* of the skin the zone-level score read darkness against
        (:attr:`hairtrack.segment.GlobalSegmentation.skin_lightness`).
    probe_width_px : float or None
        Close-ups: the shaft width that set the working scale
        (:attr:`hairtrack.segment.CloseupSegmentation.probe_width_px`); None without hair.
    colour_direction : (float, float, float) or None
        Close-ups: the colour direction the hair was read again along
        (:attr:`hairtrack.segment.CloseupSegmentation.colour_direction`); None when it
        was not.
    """

    view: str
    view_reason: str
    hair_mask: np.ndarray
    region_mask: np.ndarray
    polarity: str | None = None
    px_per_mm: float | None = None
    scale_source: str | None = None
    work_mask: np.ndarray | None = None
    work_scale: float = 1.0
    shaft_width_px: float | None = None
    notes: tuple[str, ...] = ()
    hair_weight: np.ndarray | None = None
    unmixed: bool | None = None
    hair_darker: bool | None = None
    channel: str | None = None
    hair_contrast: float | None = None
    region_share: tuple[np.ndarray, np.ndarray] | None = None
    skin_lightness: float | None = None
    probe_width_px: float | None = None
    colour_direction: tuple[float, float, float] | None = None


def measure(
    rgb: np.ndarray,
    *,
    view: str = "auto",
    px_per_mm: float | None = None,
    polarity: str = "auto",
    region: np.ndarray | None = None,
    params: Params | None = None,
    path: str | None = None,
) -> Measurement:
    """Measure the hair in one photo.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        The photo (:func:`hairtrack.load.load_image`).
    view : {'auto', 'closeup', 'global'}
        Kind of photo; 'auto' decides from the image (:func:`hairtrack.view.detect_view`).
    px_per_mm : float, optional
        Scale of a close-up. Without it, a burned-in 1 mm scale bar is read if there is
        one; otherwise density per cm2 and widths in um are None.
    polarity : {'auto', 'dark', 'light'}
        Hair darker or lighter than skin (close-ups).
    region : (M, N) bool ndarray, optional
        Where to measure; by default the field without capture overlays (close-ups) or
        the scalp found in the photo (global).
    params : Params, optional
        All tunable numbers; defaults when None.
    path : str, optional
        Recorded in the result.

    Returns
    -------
    Measurement
    """
    params = params or Params()
    a = analyse(
        rgb, view=view, px_per_mm=px_per_mm, polarity=polarity, region=region, params=params
    )
    return summarise(a, params=params, path=path, stacklevel=3)


def analyse(
    rgb: np.ndarray,
    *,
    view: str = "auto",
    px_per_mm: float | None = None,
    polarity: str = "auto",
    region: np.ndarray | None = None,
    params: Params | None = None,
    shrunk: np.ndarray | None = None,
    overlays: np.ndarray | None = None,
) -> Analysis:
    """Decide the view, find the region and segment the hair of one photo.

    Parameters are those of :func:`measure`, and:

    shrunk : (m, n, 3) uint8 ndarray, optional
        ``global_copy(rgb, params)`` when already at hand (a comparison reads a global
        photo more than once); not made again then. Unused for a close-up.
    overlays : (m, n) bool ndarray, optional
        A close-up's capture overlays when already found (as
        :func:`hairtrack.segment.segment_closeup`'s ``overlays``). Unused for a global
        photo.

    Returns
    -------
    Analysis
    """
    params = params or Params()
    rgb = _check_image(rgb)
    if view not in ("auto", "closeup", "global"):
        raise ValueError(f"view must be 'auto', 'closeup' or 'global', not {view!r}")
    if px_per_mm is not None and not px_per_mm > 0:
        raise ValueError(f"px_per_mm must be positive, got {px_per_mm}")
    if region is not None and region.shape != rgb.shape[:2]:
        raise ValueError(f"region is {region.shape}, image is {rgb.shape[:2]}")
    reason = "given"
    if view == "auto":
        view, reason = detect_view(
            rgb, **kwargs_for(detect_view, dataclasses.asdict(params.measure))
        )
    h, w = rgb.shape[:2]
    if _blank(rgb):
        reg = np.ones((h, w), bool) if region is None else region.astype(bool)
        return Analysis(
            view,
            reason,
            np.zeros((h, w), bool),
            reg,
            px_per_mm=px_per_mm,
            scale_source="given" if px_per_mm else None,
            notes=("the photo is one flat colour: no hair can be found",),
        )
    if view == "closeup":
        source = "given" if px_per_mm is not None else None
        notes = []
        # the scale bar is read on the photo alone: while the hair is segmented
        seg, bar = side_by_side(
            lambda: segment_closeup(
                rgb,
                region=region,
                polarity=polarity,
                overlays=overlays,
                **params.closeup.segment_kwargs(),
            ),
            lambda: (
                None
                if px_per_mm is not None
                else read_scale_bar(rgb, **params.closeup.scale_bar_kwargs())
            ),
        )
        if px_per_mm is None:
            px_per_mm = bar
            source = "scale bar" if px_per_mm is not None else None
        if px_per_mm is None:
            notes.append(
                "no scale (give --px-per-mm or photograph a scale bar): no density per cm2"
            )
        width = float(seg.shaft_width_px) if np.isfinite(seg.shaft_width_px) else None
        return Analysis(
            "closeup",
            reason,
            seg.mask,
            seg.region,
            seg.polarity,
            px_per_mm,
            source,
            seg.work_mask,
            seg.work_scale,
            width,
            tuple(notes),
            hair_weight=seg.hair_share,
            channel=seg.channel,
            hair_contrast=float(seg.hair_contrast) if np.isfinite(seg.hair_contrast) else None,
            region_share=None
            if seg.work_region_share is None
            else (seg.region, seg.work_region_share),
            probe_width_px=float(seg.probe_width_px) if np.isfinite(seg.probe_width_px) else None,
            colour_direction=seg.colour_direction,
        )
    p = dataclasses.asdict(params.global_view)
    # every global step runs at a long side of at most max(working_side, share_side): shrink
    # the photo to that once, instead of once per step from full resolution
    small = global_copy(rgb, params) if shrunk is None else shrunk
    if small.shape[:2] != _global_copy_shape(rgb.shape, params):
        raise ValueError("shrunk is not global_copy(rgb, params)")
    found = None
    if region is None:
        # its features and skin / hair-colour masks are reused by the segmentation
        found = _scalp_region(small, kwargs_for(scalp_region, p))
        region_small = found[0].mask
    else:
        region = region.astype(bool)
        region_small = _downsample(region, small.shape[:2])
    seg = _segment_global(small, region_small, kwargs_for(segment_global, p), found=found)
    if found is None:
        mask = _upsample(seg.working_mask, (h, w)) & region
    else:
        mask, region = _upsample_pair(seg.working_mask, found[0].working_mask, (h, w))
    weight = seg.hair_score.astype(np.float32)  # working size: _coverage brings the region down
    share = None if found is None else _area_share(found[0].working_mask, region, weight.shape)
    return Analysis(
        "global",
        reason,
        mask,
        region,
        hair_weight=weight,
        unmixed=seg.unmixed,
        hair_darker=seg.hair_darker,
        skin_lightness=float(seg.skin_lightness),
        region_share=None if share is None else (region, share),
    )


def _tile(full: int, out: int) -> tuple[int, int] | None:
    """(input px, output px) of the smallest block an area resize from ``full`` to ``out``
    px maps onto itself, when its output side is a power of two (at most 64) and
    divides ``out``: the scale is then a binary fraction, so OpenCV places every block's
    pixel weights alike. None otherwise."""
    for q in (1, 2, 4, 8, 16, 32, 64):
        if out % q == 0 and (full * q) % out == 0:
            return full * q // out, q
    return None


def _area_share(small: np.ndarray, full: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """``cv2.resize(full * 255, INTER_AREA)`` to ``shape``, over 255, as float32, where
    ``full`` is ``small`` brought up by nearest neighbour (:func:`_upsample`).

    The same values for a fraction of the work: the output is cut into blocks that the
    resize maps from blocks of ``full`` alone (:func:`_tile`); a block whose input is all
    in (all out) reads 255 (0), and only the blocks where ``full`` changes are resized,
    each from its own crop (the weights of a crop's pixels are those of the whole, the
    scale being a binary fraction). Which blocks change is read on ``small``, one pixel
    wider each way. On the 12 MP crown phantom, 88 of 768 blocks change: 22.6 -> 2-3 ms
    of CPU.

    Parameters
    ----------
    small : (m, n) bool ndarray
    full : (M, N) bool ndarray
        ``_upsample(small, (M, N))``.
    shape : (rows, cols)
        Output size, at most ``full``'s.

    Returns
    -------
    (rows, cols) float32 ndarray or None
        None when the sizes give no such blocks (or no reduction): resize ``full`` then.
    """
    (hh, ww), (h, w) = full.shape, shape
    ty, tx = _tile(hh, h), _tile(ww, w)
    if ty is None or tx is None or hh < h or ww < w or (hh, ww) == (h, w):
        return None
    (py, qy), (px, qx) = ty, tx
    # the rows (columns) of small under each block, one more each side
    rows, cols = _nearest_map(small.shape[0], hh), _nearest_map(small.shape[1], ww)
    r0 = np.maximum(rows[0:hh:py] - 1, 0)
    r1 = np.minimum(rows[py - 1 : hh : py] + 2, small.shape[0])
    c0 = np.maximum(cols[0:ww:px] - 1, 0)
    c1 = np.minimum(cols[px - 1 : ww : px] + 2, small.shape[1])
    acc = cv2.integral(small.view(np.uint8))
    inside = acc[r1][:, c1] - acc[r0][:, c1] - acc[r1][:, c0] + acc[r0][:, c0]
    area = (r1 - r0)[:, None] * (c1 - c0)[None, :]
    out = np.where(inside == area, np.uint8(255), np.uint8(0))
    out = np.repeat(np.repeat(out, qy, axis=0), qx, axis=1)
    mixed = (inside > 0) & (inside < area)
    _resize_blocks(full.view(np.uint8), out, mixed, (py, px), (qy, qx))
    return out.astype(np.float32) / 255.0


def _resize_blocks(
    f8: np.ndarray,
    out: np.ndarray,
    which: np.ndarray,
    block: tuple[int, int],
    out_block: tuple[int, int],
) -> None:
    """Area-resize the blocks ``which`` of a 0/1 uint8 mask ``f8`` (times 255) into their
    places in ``out``, each from its own crop (``block`` input px, ``out_block`` output
    px a block, rows and cols: :func:`_tile`'s, so that a crop's pixel weights are the
    whole resize's)."""
    (py, px), (qy, qx) = block, out_block
    for by, bx in np.argwhere(which).tolist():
        crop = f8[by * py : (by + 1) * py, bx * px : (bx + 1) * px] * np.uint8(255)
        out[by * qy : (by + 1) * qy, bx * qx : (bx + 1) * qx] = cv2.resize(
            crop, (qx, qy), interpolation=cv2.INTER_AREA
        )


def _area_resize(full: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``cv2.resize(full * 255, INTER_AREA)`` of a bool mask to ``shape`` (rows, cols),
    as uint8: the same values, block by block where the scale allows it.

    When the resize maps blocks of ``full`` onto blocks of the output (:func:`_tile`)
    and is not by a whole number of px (OpenCV's quick path), the blocks whose input is
    all in (all out) read 255 (0), found by one pass of minima and maxima over ``full``,
    and only the others are resized, each from its own crop (as :func:`_area_share`).
    A 12 MP crown's common region brought to the 512 x 384 hair weight: 23 -> 2-5 ms of
    CPU (11-15 ms when speckled all over).

    Parameters
    ----------
    full : (M, N) bool ndarray
    shape : (rows, cols)
        Output size, at most ``full``'s.

    Returns
    -------
    (rows, cols) uint8 ndarray
    """
    (hh, ww), (h, w) = full.shape, tuple(shape)
    f8 = np.ascontiguousarray(full, dtype=bool).view(np.uint8)
    ty, tx = _tile(hh, h), _tile(ww, w)
    whole = hh % h == 0 and ww % w == 0
    if ty is None or tx is None or hh < h or ww < w or whole:
        if (hh, ww) == (h, w):
            return f8 * np.uint8(255)
        return cv2.resize(f8 * np.uint8(255), (w, h), interpolation=cv2.INTER_AREA)
    (py, qy), (px, qx) = ty, tx
    ny, nx = hh // py, ww // px
    strips = f8.reshape(ny, py, ww)
    lo = strips.min(axis=1).reshape(ny, nx, px).min(axis=2)
    hi = strips.max(axis=1).reshape(ny, nx, px).max(axis=2)
    out = np.repeat(np.repeat(lo * np.uint8(255), qy, axis=0), qx, axis=1)
    _resize_blocks(f8, out, lo != hi, (py, px), (qy, qx))
    return out


def _global_side(params: Params) -> int:
    """The longer side every global step works at (at most): max(working_side, share_side)."""
    return max(int(params.global_view.working_side), int(params.global_view.share_side))


def _global_copy_shape(shape: tuple[int, ...], params: Params) -> tuple[int, int]:
    """(rows, columns) of :func:`global_copy` of a photo of ``shape``."""
    return _shrunk_shape(shape, _global_side(params))


def global_copy(rgb: np.ndarray, params: Params) -> np.ndarray:
    """The reduced copy of a global photo that :func:`analyse` reads it on.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    params : Params

    Returns
    -------
    (m, n, 3) uint8 ndarray
        :func:`shrink_to_side` to ``max(global_view.working_side, global_view.share_side)``.
    """
    return shrink_to_side(rgb, _global_side(params))


def shrink_to_side(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` reduced (area average) so that its longer side is ``side`` px.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    side : int
        Longer side wanted, px; a photo that is not larger is returned as it is.

    Returns
    -------
    (m, n, 3) uint8 ndarray
    """
    shape = _shrunk_shape(rgb.shape, side)
    if shape == rgb.shape[:2]:
        return rgb
    return cv2.resize(rgb, shape[::-1], interpolation=cv2.INTER_AREA)


def _shrunk_shape(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """(rows, columns) of :func:`shrink_to_side` of a photo of ``shape``."""
    h, w = shape[:2]
    if max(h, w) <= side:
        return h, w
    s = side / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def _upsample(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a bool mask to ``shape`` (rows, cols)."""
    if mask.shape == tuple(shape):
        return mask.copy()
    up = cv2.resize(mask.view(np.uint8), shape[::-1], interpolation=cv2.INTER_NEAREST)
    return up.view(bool)


def _upsample_pair(
    hair: np.ndarray, region: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """``(_upsample(hair, shape) & _upsample(region, shape), _upsample(region, shape))``.

    Both brought up in one resize of a two-bit code when they are the same size (a
    full-size resize and a full-size AND less: 14.4 -> 9.8 ms of CPU at 12 MP).
    """
    if hair.shape != region.shape or hair.shape == tuple(shape):
        up = _upsample(region, shape)
        return _upsample(hair, shape) & up, up
    code = hair.view(np.uint8) | (region.view(np.uint8) << 1)
    up = cv2.resize(code, shape[::-1], interpolation=cv2.INTER_NEAREST)
    inside = cv2.threshold(up, 1, 1, cv2.THRESH_BINARY)[1]  # code 2 or 3
    both = cv2.threshold(up, 2, 1, cv2.THRESH_BINARY)[1]  # code 3
    return both.view(bool), inside.view(bool)


def _downsample(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area-average a bool mask down to ``shape`` (rows, cols) and keep pixels >= half in."""
    if mask.shape == tuple(shape):
        return mask
    return _area_resize(mask, shape) >= 128


NETWORK_NOTE = (
    "long hair overlaps into one network across the field: hairs cannot be counted nor "
    "their shafts measured one by one (clip a small area for a phototrichogram); "
    "coverage is measured"
)

COLOUR_NOTE = (
    "the hair barely differs from the skin in brightness and was found by its colour: "
    "coverage is measured, but hairs are not counted nor their shafts measured (their "
    "edges are too ragged in colour)"
)


def long_hair(m: Measurement) -> bool:
    """Whether a close-up's hair is long: it forms one network across the field, so its
    count is withheld (:attr:`hairtrack.count.HairCount.network`)."""
    return NETWORK_NOTE in m.warnings


def faint(a: Analysis, params: Params, found_share: float) -> bool:
    """Whether a close-up's hair hardly stands out from its skin: a median contrast
    (:attr:`Analysis.hair_contrast`) below ``compare.min_hair_contrast_closeup``, over
    at least ``measure.faint_min_share`` of the region found as hair (``found_share``).

    Only part of such hair is found, and which part moves with light and blur; the
    skin's texture passes for hair. None of the 52 real trichoscopy photos of
    ``../shared/realdata`` is below it (lowest 0.34).
    """
    c = a.hair_contrast
    return (
        a.view == "closeup"
        and c is not None
        and c < params.compare.min_hair_contrast_closeup
        and found_share >= params.measure.faint_min_share
    )


def summarise(
    analysis: Analysis,
    *,
    region: np.ndarray | None = None,
    frame: np.ndarray | None = None,
    params: Params | None = None,
    path: str | None = None,
    stacklevel: int = 2,
) -> Measurement:
    """Measure a segmented photo over a region.

    Parameters
    ----------
    analysis : Analysis
    region : (M, N) bool ndarray, optional
        Where to measure, within the analysis's own region (e.g. the region two photos
        have in common); the analysis's region by default.
    frame : (M, N) bool ndarray, optional
        The part of the photo ``region`` is cut from when that is not the whole photo
        (e.g. where two registered photos overlap, capture overlays not taken out): a
        close-up hair reaching its edge is cut off, as one reaching the photo's edge is,
        and counts as ``closeup.count_border`` says. Without it, every piece of hair the
        cut leaves counted as a whole hair: a part of six phantom fields read a median
        6.6 % more against its truth than the whole field did, and over 32 registered
        phantom pairs (``benchmarks/pairs.py``'s clipped close-ups, seed 0) the hair
        count change read 4.4 points low (median; 1.2 with the frame).
    params : Params, optional
    path : str, optional
    stacklevel : int
        Of the warnings raised for the notes.

    Returns
    -------
    Measurement
    """
    params = params or Params()
    a = analysis
    reg = a.region_mask if region is None else (np.asarray(region, bool) & a.region_mask)
    hair = a.hair_mask & reg
    notes = list(a.notes)
    region_px = int(np.count_nonzero(reg))
    hair_px = int(np.count_nonzero(hair))
    if region_px == 0:
        notes.append("no scalp region found: coverage is 0")
    elif region_px < 0.02 * reg.size:
        notes.append(f"the region is small ({region_px} px): figures are uncertain")
    if hair_px == 0 and region_px and not a.notes:
        notes.append("no hair found in the region: coverage is 0")
    n: int | None = None
    widths = np.zeros(0)
    xy = np.zeros((0, 2))
    per_cm2 = length = mean_um = thin = None
    cutoff_um = params.measure.thin_cutoff_um
    if a.view == "closeup":
        n, widths, xy, total_len = 0, np.zeros(0), np.zeros((0, 2)), 0.0
        if a.work_mask is not None and hair_px:
            work = a.work_mask
            if region is not None:
                small = cv2.resize(
                    reg.view(np.uint8), work.shape[::-1], interpolation=cv2.INTER_NEAREST
                )
                work = work & small.astype(bool)
            single = a.shaft_width_px * a.work_scale if a.shaft_width_px else None
            cut = None
            if frame is not None:
                cut = cv2.resize(
                    np.asarray(frame, bool).view(np.uint8),
                    work.shape[::-1],
                    interpolation=cv2.INTER_NEAREST,
                ).view(bool)
            cnt = count_hairs(
                work,
                shaft_width_px=single,
                region=cut,
                pixel_size=1.0 / a.work_scale,
                **params.closeup.count_kwargs(),
            )
            n = int(cnt.count)
            widths = np.asarray(cnt.widths_px, float)
            widths = widths[np.isfinite(widths)]  # shafts whose width can be read
            xy = cnt.centroids[:, ::-1] / a.work_scale if n else np.zeros((0, 2))
            total_len = float(cnt.total_length_px)
            if cnt.network:
                # strokes run through crossings and side-by-side strands: neither a
                # count nor a shaft width can be read (counts read 1.4-7x the truth and
                # widths 40-95 % wide on long-hair phantoms)
                n, xy, widths = None, np.zeros((0, 2)), np.zeros(0)
                notes.append(NETWORK_NOTE)
            elif faint(a, params, hair_px / max(region_px, 1)):
                # the skin's own texture passes for hair where hair hardly stands out:
                # a clipped phantom of brown hair on dark skin (contrast 0.11) counted
                # 1027 hairs for 188, and read 5.5 % coverage for 9.2 %
                n, xy, widths = None, np.zeros((0, 2)), np.zeros(0)
                notes.append(
                    f"the hair hardly stands out from the skin (contrast {a.hair_contrast:.2f} "
                    f"below {params.compare.min_hair_contrast_closeup:.2f}): hairs are not "
                    "counted nor their shafts measured, and the coverage finds only part "
                    "of the hair"
                )
            elif a.colour_direction is not None:
                # hair found along its colour (:attr:`Analysis.colour_direction`) has its
                # area right but ragged edges, which break and widen its strokes: blond
                # on medium skin, clipped, read coverage -0.1 to -0.6 pp but counts -24 to
                # +17 % and widths +6 to +205 % (phantoms of seeds 11, 15, 16, 17)
                n, xy, widths = None, np.zeros((0, 2)), np.zeros(0)
                notes.append(COLOUR_NOTE)
        if a.px_per_mm and region_px:
            area_cm2 = region_px / a.px_per_mm**2 / 100.0
            per_cm2 = None if n is None else n / area_cm2
            length = (total_len / a.px_per_mm) / area_cm2
            if len(widths):
                um = widths / a.px_per_mm * 1000.0
                mean_um = float(um.mean())
                thin = float((um < cutoff_um).mean())
    for note in notes:
        warnings.warn(note, stacklevel=stacklevel)
    pct = tuple(float(v) for v in np.percentile(widths, [10, 50, 90])) if len(widths) else None
    h, w = hair.shape
    return Measurement(
        view=a.view,
        view_reason=a.view_reason,
        coverage=_coverage(a, reg, hair_px, region_px, own_region=region is None),
        region_px=region_px,
        hair_px=hair_px,
        hair_count=n,
        hair_per_cm2=per_cm2,
        mean_width_px=float(widths.mean()) if len(widths) else None,
        median_width_px=float(np.median(widths)) if len(widths) else None,
        width_sd_px=float(widths.std()) if len(widths) > 1 else None,
        width_percentiles_px=pct,  # type: ignore[arg-type]
        mean_width_um=mean_um,
        thin_share=thin,
        thin_cutoff_um=cutoff_um,
        length_mm_per_cm2=length,
        px_per_mm=a.px_per_mm,
        scale_source=a.scale_source,
        polarity=a.polarity,
        image_size=(w, h),
        warnings=tuple(notes),
        path=path,
        hair_mask=hair,
        region_mask=reg,
        hair_xy=xy,
        widths_px=widths,
    )


def _coverage(
    a: Analysis, region: np.ndarray, hair_px: int, region_px: int, *, own_region: bool = False
) -> float:
    """Hair share of the region: soft where the analysis has a hair weight, else of pixels.

    ``own_region``: ``region`` is the analysis's own (its ``region_share`` may apply).
    """
    if not region_px:
        return 0.0
    if a.hair_weight is not None:
        # the weight's mean over the region, each working pixel weighted by the share of
        # it the region covers (cheaper than bringing the weight up to full size)
        wt = a.hair_weight
        if region_px == region.size:  # the whole frame: every working pixel is all in
            share = np.full(wt.shape, 255.0, np.float32)
        elif (
            own_region
            and a.region_share is not None
            and a.region_share[0] is a.region_mask
            and a.region_share[1].shape == wt.shape
        ):
            share = a.region_share[1] * np.float32(255.0)  # known at the working size
        else:
            share = _area_resize(region, wt.shape).astype(np.float32)
        mean = float((wt * share).sum() / max(float(share.sum()), 1e-9))
        return float(np.clip(mean, 0.0, 1.0))
    return hair_px / region_px
