"""Scalp phantoms with known hair: the ground truth every hairtrack number is held to.

Two kinds of phantom, matching the two kinds of photo (DESIGN.md):

* **close-up** fields, like a trichoscope or dermoscope: textured skin with pores, freckles
  and moles, follicle openings that stay put between visits, and hair shafts drawn as
  curved, anti-aliased strands of known width, grouped in follicular units of 1-4 hairs;
  clipped short (phototrichogram) or long; black, brown, grey or blond hair on skin from
  very light to dark; a known scale in px per mm.
* **global** photos of the crown: a head on a background, with clothes and optionally an
  ear at the edges, hair over the scalp and a thinning zone of known area where bare
  scalp shows through.

A *subject* (:class:`CloseupSubject`, :class:`GlobalSubject`) is what stays between
visits: skin, follicle positions, each hair's own width, length and curl. A *visit*
(:class:`HairState`) says which follicle slots carry a hair, how thick, and how it is
combed. A :class:`Camera` says how the photo was taken: a homography to the baseline
photo, light, white balance, exposure, blur, noise and JPEG quality. Rendering is a pure
function of the three and returns a :class:`Phantom`: the image, its exact hair mask in
the image's own frame, and the truth as a JSON-ready dict.

Hairs are rendered geometrically in each photo's own frame (an exact distance to each
strand's centre line): a pixel's hair alpha is the share of it the strand covers, and the
truth mask is the set of pixels whose centre lies within half a width of a strand (at
least :data:`MIN_MASK_HALF_WIDTH` px, so that thin strands stay connected).

Examples
--------
>>> import numpy as np
>>> from hairtrack import synth
>>> rng = np.random.default_rng(0)
>>> subject = synth.make_closeup_subject(rng, width=320, height=240)
>>> state = synth.visit_state(subject, rng=rng)
>>> ph = synth.render_closeup(subject, state, synth.Camera(), rng=rng)
>>> ph.image.shape, ph.hair_mask.dtype
((240, 320, 3), dtype('bool'))
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from hairtrack.files import write_atomic
from hairtrack.geometry import local_scale

__all__ = [
    "HAIR_COLOURS",
    "PRESETS",
    "SKIN_TONES",
    "Camera",
    "CloseupSubject",
    "GlobalSubject",
    "HairState",
    "HeadMotion",
    "Phantom",
    "apply_camera",
    "make_closeup_subject",
    "make_global_subject",
    "make_sample_set",
    "random_camera",
    "random_head_motion",
    "Still",
    "reshoot",
    "render_closeup",
    "render_global",
    "still",
    "synth",
    "visit_state",
    "write_phantom",
]

#: Skin tones, very light to dark (sRGB, 0-255), roughly Fitzpatrick I to VI.
SKIN_TONES: dict[str, tuple[int, int, int]] = {
    "very-light": (242, 216, 200),
    "light": (228, 190, 166),
    "medium": (200, 152, 120),
    "olive": (172, 128, 92),
    "brown": (128, 88, 62),
    "dark": (82, 56, 42),
}

#: Hair colours (sRGB, 0-255).
HAIR_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (28, 24, 24),
    "brown": (84, 58, 40),
    "grey": (172, 170, 168),
    "blond": (214, 180, 118),
}

#: Names accepted by ``hairtrack synth --preset``.
PRESETS = ("sample", "gallery", "large")


# ---- the camera ----------------------------------------------------------------------


@dataclass(frozen=True)
class Camera:
    """How one photo was taken, relative to the baseline photo of the same view.

    Attributes
    ----------
    rotation_deg, scale : float
        Rotation (counter-clockwise, degrees) and zoom of this photo's content relative to
        the baseline photo, about the image centre.
    shift : tuple of float
        Shift of the content as a fraction of (width, height).
    perspective : tuple of float
        The two projective terms of the homography, per pixel of the half-diagonal; ~1e-4
        is mild.
    light_gradient : float
        Relative brightness change across the frame (0 = flat, 0.4 = 40 %).
    light_angle_deg : float
        Direction of the lighting gradient.
    white_balance : tuple of float
        Gains applied to R, G, B.
    exposure, gamma : float
        Linear gain, then ``out = in ** gamma`` on 0-1 values.
    blur_sigma : float
        Gaussian blur, px.
    noise_sigma : float
        Gaussian sensor noise, in 0-255 units.
    jpeg_quality : int or None
        JPEG quality of the written photo; None writes PNG.
    """

    rotation_deg: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    perspective: tuple[float, float] = (0.0, 0.0)
    light_gradient: float = 0.0
    light_angle_deg: float = 0.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    exposure: float = 1.0
    gamma: float = 1.0
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int | None = 92

    def homography(self, width: int, height: int) -> np.ndarray:
        """Homography mapping this photo's pixels to the baseline photo's pixels.

        Parameters
        ----------
        width, height : int
            Size of both photos, px.

        Returns
        -------
        (3, 3) float64 ndarray
            ``H`` with ``[x_b, y_b, 1] ~ H @ [x, y, 1]``.
        """
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        half_diag = float(np.hypot(width, height)) / 2.0
        t = np.deg2rad(self.rotation_deg)
        # content of this photo = baseline content rotated by t and zoomed by s, so a
        # pixel here maps back to the baseline by the inverse similarity.
        c, s = np.cos(t) / self.scale, np.sin(t) / self.scale
        centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], float)
        back = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]], float)
        sim = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]], float)
        px, py = self.perspective
        proj = np.array([[1, 0, 0], [0, 1, 0], [px / half_diag, py / half_diag, 1]], float)
        shift = np.array(
            [[1, 0, -self.shift[0] * width], [0, 1, -self.shift[1] * height], [0, 0, 1]], float
        )
        h = back @ proj @ sim @ shift @ centre
        return h / h[2, 2]


def random_camera(
    rng: np.random.Generator,
    *,
    max_rotation_deg: float = 25.0,
    max_scale: float = 0.12,
    max_shift: float = 0.04,
    max_perspective: float = 0.05,
    photometric: bool = True,
    jpeg_quality: tuple[int, int] = (75, 92),
) -> Camera:
    """Draw a camera for a re-shoot: new angle, distance, light and phone.

    Parameters
    ----------
    rng : numpy.random.Generator
    max_rotation_deg, max_scale, max_shift, max_perspective : float
        Bounds of the geometric change (rotation +-deg, scale +-fraction, shift +-fraction
        of the frame, perspective +- fraction of the half-diagonal).
    photometric : bool
        Also change light gradient, white balance, exposure, gamma, blur and noise.
    jpeg_quality : (int, int)
        Range of JPEG quality.

    Returns
    -------
    Camera
    """
    u = rng.uniform
    geo: dict[str, Any] = {
        "rotation_deg": float(u(-max_rotation_deg, max_rotation_deg)),
        "scale": float(1.0 + u(-max_scale, max_scale)),
        "shift": (float(u(-max_shift, max_shift)), float(u(-max_shift, max_shift))),
        "perspective": (
            float(u(-max_perspective, max_perspective)),
            float(u(-max_perspective, max_perspective)),
        ),
        "jpeg_quality": int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1)),
    }
    if not photometric:
        return Camera(**geo)
    return Camera(
        **geo,
        light_gradient=float(u(0.0, 0.35)),
        light_angle_deg=float(u(0, 360)),
        white_balance=(float(u(0.88, 1.12)), 1.0, float(u(0.88, 1.12))),
        exposure=float(u(0.85, 1.15)),
        gamma=float(u(0.85, 1.18)),
        blur_sigma=float(u(0.0, 1.0)),
        noise_sigma=float(u(0.5, 4.0)),
    )


@dataclass(frozen=True)
class HeadMotion:
    """How the head sits in the room at a visit, relative to the baseline visit.

    A patient never sits exactly as before: the head turns, tilts and shifts against the
    background and the clothes (which follow the shoulders and the chair), and the camera
    follows the head. A global phantom's :class:`Camera` is the head's camera (its
    homography is the truth the registration is held to); the room is seen through the
    head's homography followed by this motion.

    Attributes
    ----------
    rotation_deg, scale : float
        Rotation (counter-clockwise, degrees) and zoom of the room against the head,
        about the head's centre (baseline frame).
    shift : tuple of float
        Shift of the room against the head, as a fraction of (width, height).
    """

    rotation_deg: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)

    def homography(self, centre: tuple[float, float], width: int, height: int) -> np.ndarray:
        """Map baseline head-frame pixels to baseline room-frame pixels.

        Parameters
        ----------
        centre : tuple of float
            Head centre in the baseline frame, px.
        width, height : int
            Photo size, px.

        Returns
        -------
        (3, 3) float64 ndarray
        """
        cx, cy = centre
        t = np.deg2rad(self.rotation_deg)
        c, s = np.cos(t) * self.scale, np.sin(t) * self.scale
        to_c = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], float)
        back = np.array(
            [[1, 0, cx + self.shift[0] * width], [0, 1, cy + self.shift[1] * height], [0, 0, 1]],
            float,
        )
        sim = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], float)
        return back @ sim @ to_c


def random_head_motion(
    rng: np.random.Generator,
    *,
    max_rotation_deg: float = 12.0,
    max_scale: float = 0.06,
    max_shift: float = 0.05,
) -> HeadMotion:
    """Draw how a patient sits differently at a visit (head against room and clothes).

    Parameters
    ----------
    rng : numpy.random.Generator
    max_rotation_deg, max_scale, max_shift : float
        Bounds: rotation +-deg, zoom +-fraction (the camera nearer the head than the
        wall), shift +-fraction of the frame.

    Returns
    -------
    HeadMotion
    """
    u = rng.uniform
    return HeadMotion(
        rotation_deg=float(u(-max_rotation_deg, max_rotation_deg)),
        scale=float(1.0 + u(-max_scale, max_scale)),
        shift=(float(u(-max_shift, max_shift)), float(u(-max_shift, max_shift))),
    )


def apply_camera(linear: np.ndarray, cam: Camera, rng: np.random.Generator) -> np.ndarray:
    """Apply a camera's light gradient, white balance, exposure, gamma, blur and noise.

    Parameters
    ----------
    linear : (M, N, 3) float32 ndarray
        The scene, RGB 0-1.
    cam : Camera
    rng : numpy.random.Generator
        For the noise.

    Returns
    -------
    (M, N, 3) uint8 ndarray
    """
    h, w = linear.shape[:2]
    img = linear
    if cam.light_gradient:
        a = np.deg2rad(cam.light_angle_deg)
        xs = (np.arange(w, dtype=np.float32) / max(w - 1, 1) - 0.5) * np.cos(a)
        ys = (np.arange(h, dtype=np.float32) / max(h - 1, 1) - 0.5) * np.sin(a)
        ramp = 1.0 + cam.light_gradient * (xs[None, :] + ys[:, None])
        img = img * ramp[..., None]
    gains = np.asarray(cam.white_balance, np.float32) * np.float32(cam.exposure)
    img = np.clip(img * gains, 0.0, 1.0)
    if cam.gamma != 1.0:
        img = img ** np.float32(cam.gamma)
    if cam.blur_sigma > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), cam.blur_sigma)
    img = img * 255.0
    if cam.noise_sigma > 0:
        img = img + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(cam.noise_sigma)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def reshoot(
    rgb: np.ndarray, camera: Camera, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Re-photograph any photo (a real one too) with a known camera.

    The photo is resampled through the camera's homography (borders reflected, as a
    slightly larger scene would show) and then given its light gradient, white balance,
    exposure, gamma, blur and noise. JPEG encoding is left to the caller.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    camera : Camera
    rng : numpy.random.Generator
        For the noise.

    Returns
    -------
    image : (M, N, 3) uint8 ndarray
        The re-shot photo.
    homography : (3, 3) float64 ndarray
        Maps re-shot pixels to ``rgb`` pixels.
    """
    h, w = rgb.shape[:2]
    hom = camera.homography(w, h)
    warped = cv2.warpPerspective(
        rgb.astype(np.float32) / 255.0,
        hom,
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    return apply_camera(warped, camera, rng), hom


def _map(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a homography to (N, 2) points."""
    if len(pts) == 0:
        return pts.reshape(0, 2).astype(float)
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)


# ---- textures ------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float) -> np.ndarray:
    """Zero-mean, unit-std smooth noise with features about ``cell_px`` across."""
    h, w = shape
    gh, gw = max(2, int(np.ceil(h / cell_px)) + 2), max(2, int(np.ceil(w / cell_px)) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    up = cv2.resize(
        grid, (w + int(2 * cell_px), h + int(2 * cell_px)), interpolation=cv2.INTER_CUBIC
    )
    up = up[int(cell_px) : int(cell_px) + h, int(cell_px) : int(cell_px) + w]
    return (up - up.mean()) / (up.std() + 1e-6)


def _fine_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Unit-std noise blurred by ``sigma`` px, made at a reduced size when sigma is large."""
    h, w = shape
    f = max(1.0, sigma / 1.5)
    sh, sw = max(2, int(h / f)), max(2, int(w / f))
    n = rng.standard_normal((sh, sw)).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), sigma / f)
    if f > 1:
        n = cv2.resize(n, (w, h), interpolation=cv2.INTER_LINEAR)
    return (n - n.mean()) / (n.std() + 1e-6)


def _warp_scene(
    scene: np.ndarray, h: np.ndarray, margin: int, size: tuple[int, int], *, nearest: bool = False
) -> np.ndarray:
    """Sample a scene (baseline frame plus ``margin`` px) into a photo with homography ``h``."""
    shift = np.array([[1, 0, margin], [0, 1, margin], [0, 0, 1]], float)
    flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    return cv2.warpPerspective(scene, shift @ h, size, flags=flags, borderMode=cv2.BORDER_REFLECT)


# ---- strands ---------------------------------------------------------------------------


def _bezier(p0: np.ndarray, direction: float, length: float, curl: float) -> np.ndarray:
    """Points along a quadratic Bezier strand from ``p0``: (K, 2) float."""
    d = np.array([np.cos(direction), np.sin(direction)])
    n = np.array([-d[1], d[0]])
    p1 = p0 + d * length * 0.5 + n * curl * length
    p2 = p0 + d * length
    k = int(np.clip(length / 25.0, 4, 24)) + 1
    t = np.linspace(0.0, 1.0, k)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


#: A pixel belongs to a strand's mask when its centre lies within this many px of the
#: centre line, or within half the width if that is more: thin (vellus) strands stay
#: 8-connected instead of breaking up where no pixel centre falls inside them.
MIN_MASK_HALF_WIDTH = 0.71


def _draw_strand(
    alpha: np.ndarray,
    colour: np.ndarray,
    core: np.ndarray,
    pts: np.ndarray,
    width: float,
    rgb: np.ndarray,
    shade: float,
    sheen: bool = False,
) -> int:
    """Draw one strand of exact ``width``; return the number of mask pixels it adds.

    ``alpha`` gets the analytic coverage ``clip(width/2 - d + 0.5, 0, 1)`` (kept as a
    maximum over strands), where ``d`` is the distance of a pixel centre to the strand's
    centre line, so the strand's total alpha is its area. ``core`` (the truth mask) gets
    the pixels with ``d <= max(width/2, MIN_MASK_HALF_WIDTH)``. ``sheen`` shades a
    light (grey, blond) shaft brighter on its axis; dark shafts are lighter at the edges.
    """
    hgt, wid = alpha.shape
    pad = width / 2.0 + 2.0
    x0 = max(int(np.floor(pts[:, 0].min() - pad)), 0)
    x1 = min(int(np.ceil(pts[:, 0].max() + pad)) + 1, wid)
    y0 = max(int(np.floor(pts[:, 1].min() - pad)), 0)
    y1 = min(int(np.ceil(pts[:, 1].max() + pad)) + 1, hgt)
    if x0 >= x1 or y0 >= y1:
        return 0
    cand = np.zeros((y1 - y0, x1 - x0), np.uint8)
    shift = 4
    poly = np.round((pts - [x0, y0]) * (1 << shift)).astype(np.int32)
    cv2.polylines(cand, [poly], False, 1, thickness=int(np.ceil(width)) + 3, shift=shift)
    ys, xs = np.nonzero(cand)
    if len(xs) == 0:
        return 0
    px = np.stack([xs + x0, ys + y0], axis=1).astype(np.float64)
    a, b = pts[:-1], pts[1:]
    ab = b - a
    ab2 = np.maximum((ab**2).sum(1), 1e-12)
    # distance of every candidate to every segment, in chunks to bound memory
    d = np.full(len(px), np.inf)
    for s in range(0, len(a), 16):
        aa, abb, ab22 = a[s : s + 16], ab[s : s + 16], ab2[s : s + 16]
        rel = px[:, None, :] - aa[None]
        t = np.clip((rel * abb[None]).sum(2) / ab22[None], 0.0, 1.0)
        diff = rel - t[..., None] * abb[None]
        d = np.minimum(d, np.sqrt((diff**2).sum(2)).min(1))
    al = np.clip(width / 2.0 - d + 0.5, 0.0, 1.0).astype(np.float32)
    keep = al > 0
    gy, gx, al, d = ys[keep] + y0, xs[keep] + x0, al[keep], d[keep]
    inside = d <= max(width / 2.0, MIN_MASK_HALF_WIDTH)
    added = int((inside & ~core[gy, gx]).sum())
    core[gy[inside], gx[inside]] = True
    better = al > alpha[gy, gx]
    gy, gx, al, d = gy[better], gx[better], al[better], d[better]
    alpha[gy, gx] = al
    # a cylinder: dark hair a little lighter at its edges, light hair with a sheen on its axis
    r = np.clip(d / max(width / 2.0, 0.5), 0, 1)[:, None]
    if sheen:
        col = rgb[None, :] * (shade * (1.0 + 0.08 * (1 - r) - 0.04 * r))
    else:
        col = rgb[None, :] * (shade * (1.0 + 0.18 * r - 0.06 * (1 - r)))
    colour[gy, gx] = np.clip(col, 0, 1)
    return added if added else int(inside.any())


# ---- close-up phantoms ------------------------------------------------------------------


@dataclass(frozen=True)
class CloseupSubject:
    """One close-up site of one patient: what stays the same between visits.

    Coordinates are in the baseline photo's frame (px). Each follicular unit (FU) has
    four hair slots; a visit's :class:`HairState` says which slots carry a hair.

    Attributes
    ----------
    width, height : int
        Photo size, px.
    px_per_mm : float
        Scale of the baseline photo.
    skin_rgb, hair_rgb : tuple of int
        Base colours, sRGB 0-255.
    skin, hair : str
        Names of the tone and colour (keys of SKIN_TONES, HAIR_COLOURS).
    fu_xy : (F, 2) float ndarray
        Follicle opening centres.
    slot_offset : (F, 4, 2) float ndarray
        Where each slot's hair leaves the opening, relative to its centre.
    slot_width_px : (F, 4) float ndarray
        Each slot's shaft width at the baseline, px.
    slot_length_px : (F, 4) float ndarray
        Each slot's visible length, px.
    slot_curl : (F, 4) float ndarray
        Bend of each shaft (offset of the Bezier control point per unit length).
    slot_angle : (F, 4) float ndarray
        Each hair's own deviation from the combing direction, radians.
    slot_rank : (F, 4) float ndarray
        Uniform 0-1 number that orders which slots grow or shed first.
    baseline_active : (F, 4) bool ndarray
        Slots with a hair at the baseline.
    texture_seed : int
        Seed of the skin texture (pores, freckles, moles), the same at every visit.
    clipped : bool
        Phototrichogram: shafts clipped to ~1 mm.
    """

    width: int
    height: int
    px_per_mm: float
    skin_rgb: tuple[int, int, int]
    hair_rgb: tuple[int, int, int]
    skin: str
    hair: str
    fu_xy: np.ndarray
    slot_offset: np.ndarray
    slot_width_px: np.ndarray
    slot_length_px: np.ndarray
    slot_curl: np.ndarray
    slot_angle: np.ndarray
    slot_rank: np.ndarray
    baseline_active: np.ndarray
    texture_seed: int
    clipped: bool


def make_closeup_subject(
    rng: np.random.Generator,
    *,
    width: int = 1024,
    height: int = 768,
    px_per_mm: float = 75.0,
    skin: str = "light",
    hair: str = "black",
    fu_per_cm2: float = 70.0,
    hairs_per_fu: tuple[float, float, float, float] = (0.35, 0.4, 0.18, 0.07),
    vellus_share: float = 0.2,
    clipped: bool = True,
) -> CloseupSubject:
    """Draw a close-up site: skin, follicle openings and each slot's hair.

    Parameters
    ----------
    rng : numpy.random.Generator
    width, height : int
        Photo size, px (the default is about a 14 x 10 mm trichoscope field).
    px_per_mm : float
        Scale. At the default, terminal shafts (55-105 um) are 4-8 px wide and vellus
        shafts (15-28 um) 1-2 px.
    skin : str
        A key of :data:`SKIN_TONES`.
    hair : str
        A key of :data:`HAIR_COLOURS`.
    fu_per_cm2 : float
        Follicular units per cm2 (a healthy scalp has 65-85).
    hairs_per_fu : 4 floats
        Probability of a unit carrying 1, 2, 3 or 4 hairs at the baseline.
    vellus_share : float
        Share of thin (vellus-like) hairs.
    clipped : bool
        Phototrichogram: shafts clipped to 0.6-1.5 mm; otherwise 3-9 mm, curled.

    Returns
    -------
    CloseupSubject
    """
    if skin not in SKIN_TONES:
        raise ValueError(f"skin must be one of {sorted(SKIN_TONES)}, not {skin!r}")
    if hair not in HAIR_COLOURS:
        raise ValueError(f"hair must be one of {sorted(HAIR_COLOURS)}, not {hair!r}")
    if min(width, height) < 64:
        raise ValueError(f"phantom is {width}x{height} px; make it at least 64x64 px")
    area_cm2 = width * height / px_per_mm**2 / 100.0
    # openings may lie a little outside the frame: hairs grow in from the edges
    margin = 0.08
    n_fu = max(1, int(round(fu_per_cm2 * area_cm2 * (1 + 2 * margin) ** 2)))
    fu_xy = _spread_points(rng, n_fu, width, height, margin, min_dist=0.45 * px_per_mm)
    f = len(fu_xy)
    n_hairs = rng.choice(4, size=f, p=np.asarray(hairs_per_fu) / np.sum(hairs_per_fu)) + 1
    baseline_active = np.arange(4)[None, :] < n_hairs[:, None]
    um = px_per_mm / 1000.0
    vellus = rng.random((f, 4)) < vellus_share
    widths = np.where(vellus, rng.uniform(15, 28, (f, 4)), rng.uniform(55, 105, (f, 4))) * um
    if clipped:
        lengths = rng.uniform(0.6, 1.5, (f, 4)) * px_per_mm
        curl = rng.normal(0.0, 0.03, (f, 4))
    else:
        lengths = rng.uniform(3.0, 9.0, (f, 4)) * px_per_mm
        curl = rng.normal(0.0, 0.12, (f, 4))
    lengths = np.where(vellus, lengths * 0.6, lengths)
    # hairs of one unit leave one opening about a shaft's width apart and fan out a little,
    # as in real phototrichograms
    spread = rng.normal(0.0, 0.22, (f, 4))
    offset = rng.normal(0.0, 0.07 * px_per_mm, (f, 4, 2))
    return CloseupSubject(
        width=width,
        height=height,
        px_per_mm=float(px_per_mm),
        skin_rgb=SKIN_TONES[skin],
        hair_rgb=HAIR_COLOURS[hair],
        skin=skin,
        hair=hair,
        fu_xy=fu_xy,
        slot_offset=offset,
        slot_width_px=widths,
        slot_length_px=lengths,
        slot_curl=curl,
        slot_angle=spread,
        slot_rank=rng.random((f, 4)),
        baseline_active=baseline_active,
        texture_seed=int(rng.integers(2**31)),
        clipped=clipped,
    )


def _spread_points(
    rng: np.random.Generator, n: int, width: int, height: int, margin: float, min_dist: float
) -> np.ndarray:
    """About ``n`` points over the frame (plus margin), no two closer than ``min_dist``."""
    lo = np.array([-margin * width, -margin * height])
    hi = np.array([(1 + margin) * width, (1 + margin) * height])
    cand = rng.uniform(lo, hi, size=(n * 3, 2))
    kept: list[np.ndarray] = []
    cell = max(min_dist, 1.0)
    grid: dict[tuple[int, int], list[int]] = {}
    for p in cand:
        gx, gy = int(p[0] // cell), int(p[1] // cell)
        ok = True
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in grid.get((gx + dx, gy + dy), ()):
                    if np.hypot(*(kept[j] - p)) < min_dist:
                        ok = False
                        break
        if ok:
            grid.setdefault((gx, gy), []).append(len(kept))
            kept.append(p)
            if len(kept) == n:
                break
    return np.array(kept, float).reshape(-1, 2)


@dataclass(frozen=True)
class HairState:
    """Which hair slots carry a hair at one visit, how thick, and how it is combed.

    Attributes
    ----------
    active : (F, S) bool ndarray
        Slots with a hair.
    width_factor : float
        Shaft width relative to the baseline.
    comb_deg : float
        Main combing direction, degrees.
    comb_seed : int
        Seed of the per-visit jitter of each hair's direction.
    gained, lost : int
        Hairs present now but not at the baseline, and the reverse.
    """

    active: np.ndarray
    width_factor: float = 1.0
    comb_deg: float = 0.0
    comb_seed: int = 0
    gained: int = 0
    lost: int = 0


def visit_state(
    subject: CloseupSubject | GlobalSubject,
    *,
    hair_change: float = 0.0,
    width_factor: float = 1.0,
    comb_deg: float | None = None,
    rng: np.random.Generator,
) -> HairState:
    """The hair at one visit: a known share of the baseline hairs gained or lost.

    Parameters
    ----------
    subject : CloseupSubject or GlobalSubject
    hair_change : float
        Relative change of the number of hairs against the baseline: +0.2 grows hairs in
        20 % as many empty slots as there are baseline hairs; -0.2 sheds 20 % of them.
        On a global subject only the thinning zone changes, and the share is of the
        zone's baseline hairs.
        Slots grow and shed in the order of ``slot_rank``, so successive visits of a
        trend are nested.
    width_factor : float
        Shaft width relative to the baseline (close-ups).
    comb_deg : float, optional
        Combing direction; random when not given.
    rng : numpy.random.Generator

    Returns
    -------
    HairState
    """
    base = subject.baseline_active
    eligible = subject.slot_eligible if isinstance(subject, GlobalSubject) else np.ones_like(base)
    n_base = int((base & eligible).sum())
    k = int(round(abs(hair_change) * n_base))
    active = base.copy()
    rank = subject.slot_rank
    if hair_change > 0:
        empty = np.flatnonzero(~base & eligible)
        order = empty[np.argsort(rank.ravel()[empty])][:k]
        active.ravel()[order] = True
    elif hair_change < 0:
        full = np.flatnonzero(base & eligible)
        order = full[np.argsort(-rank.ravel()[full])][:k]
        active.ravel()[order] = False
    if comb_deg is None:
        comb_deg = float(rng.uniform(0, 360))
    return HairState(
        active=active,
        width_factor=float(width_factor),
        comb_deg=float(comb_deg),
        comb_seed=int(rng.integers(2**31)),
        gained=int((active & ~base).sum()),
        lost=int((base & ~active).sum()),
    )


@dataclass(frozen=True)
class Phantom:
    """One rendered photo and its truth.

    Attributes
    ----------
    image : (H, W, 3) uint8 ndarray
        The photo as a camera would give it (before JPEG, which :func:`write_phantom`
        applies).
    hair_mask : (H, W) bool ndarray
        Exact hair mask in this photo's frame.
    region_mask : (H, W) bool ndarray or None
        Scalp region (global photos) or the field without capture overlays (close-ups).
    truth : dict
        JSON-ready ground truth (see :func:`write_phantom`).
    """

    image: np.ndarray
    hair_mask: np.ndarray
    region_mask: np.ndarray | None
    truth: dict[str, Any]


def _closeup_skin(subject: CloseupSubject, margin: int) -> np.ndarray:
    """Skin of a close-up site in the baseline frame plus margin, float32 RGB 0-1."""
    rng = np.random.default_rng(subject.texture_seed)
    h, w = subject.height + 2 * margin, subject.width + 2 * margin
    mm = subject.px_per_mm
    base = np.asarray(subject.skin_rgb, np.float32) / 255.0
    # blotches (~2 mm), mottling (~0.3 mm), fine grain, a pink tint varying with blood flow
    shade = (
        1.0
        + 0.05 * _smooth_noise(rng, (h, w), 2.0 * mm)
        + 0.035 * _fine_noise(rng, (h, w), 0.12 * mm)
        + 0.02 * _fine_noise(rng, (h, w), 0.7)
    )
    tint = 0.03 * _smooth_noise(rng, (h, w), 3.0 * mm)
    img = shade[..., None] * base[None, None, :]
    img[..., 0] += tint * 0.6
    img[..., 2] -= tint * 0.3
    # skin furrows: faint light lines in a criss-cross network
    furrow = np.zeros((h, w), np.float32)
    for _ in range(int(w * h / (1.5 * mm) ** 2 / 6)):
        p = rng.uniform([0, 0], [w, h])
        a = rng.uniform(0, np.pi)
        ln = rng.uniform(0.5, 2.0) * mm
        q = p + ln * np.array([np.cos(a), np.sin(a)])
        cv2.line(furrow, tuple(int(v) for v in p), tuple(int(v) for v in q), 1.0, 1, cv2.LINE_AA)
    furrow = cv2.GaussianBlur(furrow, (0, 0), 0.6)
    img += 0.04 * furrow[..., None]
    # pores: small soft darker dots
    dots = np.zeros((h, w), np.float32)
    for _ in range(int(w * h / mm**2 * 0.8)):
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        cv2.circle(dots, c, max(1, int(rng.uniform(0.02, 0.05) * mm)), 1.0, -1, cv2.LINE_AA)
    dots = cv2.GaussianBlur(dots, (0, 0), 0.8)
    img *= 1.0 - 0.10 * dots[..., None]
    # freckles and a mole or two: brown, soft-edged, a few hundred um
    spots = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(2, 6))):
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        r = max(2, int(rng.uniform(0.15, 0.6) * mm))
        cv2.circle(spots, c, r, float(rng.uniform(0.3, 0.8)), -1, cv2.LINE_AA)
    spots = cv2.GaussianBlur(spots, (0, 0), 0.1 * mm)
    brown = np.array([0.45, 0.30, 0.22], np.float32)
    img = img * (1 - spots[..., None] * 0.6) + brown * base * spots[..., None] * 0.6
    return np.clip(img, 0, 1)


def _follicle_openings(
    subject: CloseupSubject, h_inv: np.ndarray, size: tuple[int, int], scale: np.ndarray
) -> np.ndarray:
    """Darkening (0-1) of follicle openings in a photo's frame (grey-blue rings)."""
    w, h = size
    out = np.zeros((h, w), np.float32)
    xy = _map(h_inv, subject.fu_xy)
    r_mm = 0.07 * subject.px_per_mm
    for (x, y), s in zip(xy, scale, strict=True):
        if -20 <= x < w + 20 and -20 <= y < h + 20:
            cv2.circle(
                out,
                (int(round(x * 16)), int(round(y * 16))),
                int(r_mm * s * 16),
                0.8,
                -1,
                cv2.LINE_AA,
                shift=4,
            )
    return cv2.GaussianBlur(out, (0, 0), 0.35 * r_mm)


def render_closeup(
    subject: CloseupSubject,
    state: HairState,
    camera: Camera,
    *,
    rng: np.random.Generator,
    overlay: bool = False,
) -> Phantom:
    """Render a close-up photo of ``subject`` at one visit, taken with ``camera``.

    Parameters
    ----------
    subject : CloseupSubject
    state : HairState
        The hair at this visit (:func:`visit_state`).
    camera : Camera
        Identity for the baseline photo.
    rng : numpy.random.Generator
        For sensor noise and dandruff.
    overlay : bool
        Burn in what capture software adds: a header bar with text and a 1 mm scale bar.

    Returns
    -------
    Phantom
        ``truth`` has ``hair_count`` (hairs rooted in the field, what a density counts),
        ``hairs_visible`` (hairs with at least one mask pixel in the frame),
        ``widths_px`` (the visible hairs' shaft widths in this frame), ``px_per_mm`` (this frame),
        ``coverage`` (hair share of the field), ``follicles_xy`` (openings in this frame)
        and ``homography_to_baseline``.
    """
    w, h = subject.width, subject.height
    hom = camera.homography(w, h)
    h_inv = np.linalg.inv(hom)
    margin = int(0.15 * max(w, h))
    skin = _warp_scene(_closeup_skin(subject, margin), hom, margin, (w, h))
    # openings in this frame
    open_xy = _map(h_inv, subject.fu_xy)
    zoom = local_scale(h_inv, subject.fu_xy)
    openings = _follicle_openings(subject, h_inv, (w, h), zoom)
    base = np.asarray(subject.skin_rgb, np.float32) / 255.0
    opening_rgb = np.array([0.55, 0.58, 0.66], np.float32) * base
    skin = skin * (1 - 0.5 * openings[..., None]) + opening_rgb * 0.5 * openings[..., None]
    # dandruff: a few white flakes, new at every visit
    flakes = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(0, 6))):
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        ax = (max(1, int(rng.uniform(0.05, 0.2) * subject.px_per_mm)),) * 2
        cv2.ellipse(flakes, c, ax, float(rng.uniform(0, 180)), 0, 360, 0.7, -1, cv2.LINE_AA)
    skin = skin * (1 - flakes[..., None]) + 0.95 * flakes[..., None]
    # hair
    alpha = np.zeros((h, w), np.float32)
    colour = np.zeros((h, w, 3), np.float32)
    mask = np.zeros((h, w), bool)
    jit = np.random.default_rng(state.comb_seed)
    comb = np.deg2rad(state.comb_deg)
    hair_rgb = np.asarray(subject.hair_rgb, np.float32) / 255.0
    widths, follicles, counted = [], [], 0
    light_hair = float(hair_rgb.mean()) > float(base.mean())
    thin = subject.slot_width_px < 0.035 * subject.px_per_mm
    act_f, act_s = np.nonzero(state.active)
    roots = _map(h_inv, subject.fu_xy[act_f] + subject.slot_offset[act_f, act_s])
    for root, f, s in zip(roots, act_f, act_s, strict=True):
        direction = comb + subject.slot_angle[f, s] + jit.normal(0, 0.12)
        length = subject.slot_length_px[f, s] * zoom[f]
        width = subject.slot_width_px[f, s] * state.width_factor * zoom[f]
        pts = _bezier(root, direction, length, subject.slot_curl[f, s])
        # vellus hair is less pigmented: its colour is pulled towards the skin
        rgb = hair_rgb * 0.6 + base * 0.4 if thin[f, s] else hair_rgb
        n = _draw_strand(
            alpha, colour, mask, pts, width, rgb, float(jit.uniform(0.9, 1.1)), sheen=light_hair
        )
        if n > 0:
            counted += 1
            widths.append(round(float(width), 4))
            follicles.append([round(float(v), 3) for v in root])
    img = skin * (1 - alpha[..., None]) + colour * alpha[..., None]
    photo = apply_camera(img, camera, rng)
    field_mask = np.ones((h, w), bool)
    overlays: list[list[int]] = []
    px_per_mm_here = subject.px_per_mm * float(np.median(zoom)) if len(zoom) else subject.px_per_mm
    if overlay:
        overlays = _burn_in(photo, field_mask, px_per_mm_here)
        mask &= field_mask
    inside = (open_xy[:, 0] >= 0) & (open_xy[:, 0] < w) & (open_xy[:, 1] >= 0) & (open_xy[:, 1] < h)
    # density counts hairs rooted in the field; hairs that only reach in are "visible"
    rooted = sum(
        0 <= x < w and 0 <= y < h and bool(field_mask[int(y), int(x)]) for x, y in follicles
    )
    truth = {
        "kind": "closeup",
        "hair_count": rooted,
        "hairs_visible": counted,
        "widths_px": widths,
        "mean_width_px": round(float(np.mean(widths)), 4) if widths else None,
        "thin_share": round(float(np.mean(np.asarray(widths) < 0.035 * px_per_mm_here)), 4)
        if widths
        else None,
        "px_per_mm": round(px_per_mm_here, 4),
        "coverage": round(float(mask[field_mask].mean()), 6),
        "hair_px": int(mask.sum()),
        "field_px": int(field_mask.sum()),
        "hairs_gained": state.gained,
        "hairs_lost": state.lost,
        "width_factor": state.width_factor,
        "comb_deg": round(state.comb_deg, 3),
        "skin": subject.skin,
        "hair": subject.hair,
        "clipped": subject.clipped,
        "homography_to_baseline": np.round(hom, 10).tolist(),
        "follicles_xy": [[round(float(x), 3), round(float(y), 3)] for x, y in open_xy[inside]],
        "hair_roots_xy": follicles,
        "overlay_boxes_xywh": overlays,
        "camera": _camera_dict(camera),
    }
    return Phantom(photo, mask, field_mask, truth)


def _burn_in(photo: np.ndarray, field_mask: np.ndarray, px_per_mm: float) -> list[list[int]]:
    """Draw a capture header bar and an L-shaped 1 mm scale bar; return their boxes."""
    h, w = photo.shape[:2]
    bar_h = max(12, h // 24)
    photo[:bar_h] = (30, 30, 30)
    cv2.putText(
        photo,
        "ID 0000  2026-01-01  20x",
        (8, int(bar_h * 0.75)),
        cv2.FONT_HERSHEY_SIMPLEX,
        bar_h / 36.0,
        (235, 235, 235),
        1,
        cv2.LINE_AA,
    )
    field_mask[:bar_h] = False
    ln = int(round(px_per_mm))
    x0, y0 = w - ln - 30, h - 30
    cv2.line(photo, (x0, y0), (x0 + ln, y0), (255, 255, 255), 3)
    cv2.line(photo, (x0, y0), (x0, y0 - ln // 3), (255, 255, 255), 3)
    cv2.putText(
        photo,
        "1.0 mm",
        (x0, y0 - ln // 3 - 6),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    box = [x0 - 4, y0 - ln // 3 - 24, ln + 60, ln // 3 + 30]
    field_mask[max(box[1], 0) : box[1] + box[3], max(box[0], 0) : box[0] + box[2]] = False
    return [[0, 0, w, bar_h], box]


def _camera_dict(camera: Any) -> dict[str, Any]:
    return {
        k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(camera).items()
    }


# ---- global phantoms ----------------------------------------------------------------------


@dataclass(frozen=True)
class GlobalSubject:
    """One patient's crown seen from above: what stays the same between visits.

    Attributes
    ----------
    width, height : int
        Photo size, px.
    skin_rgb, hair_rgb : tuple of int
        Base colours, sRGB 0-255.
    skin, hair : str
        Names of the tone and colour.
    head : tuple of float
        Head ellipse ``(cx, cy, ax, ay)`` in the baseline frame, px.
    zone : tuple of float
        Thinning-zone ellipse ``(cx, cy, ax, ay, angle_deg)``.
    whorl_xy : tuple of float
        Centre of the hair whorl.
    fu_xy : (F, 2) float ndarray
        Hair roots (one slot each: ``slot_*`` arrays are (F, 1)).
    slot_rank : (F, 1) float ndarray
        Order in which roots in the zone grow or shed.
    slot_eligible : (F, 1) bool ndarray
        Roots in the thinning zone, the only ones that change between visits.
    baseline_active : (F, 1) bool ndarray
    slot_length_px, slot_angle : (F, 1) float ndarray
    strand_px : float
        Strand thickness, px.
    background_rgb, clothes_rgb : tuple of int
    ear : bool
        An ear shows at the side of the head.
    texture_seed : int
    """

    width: int
    height: int
    skin_rgb: tuple[int, int, int]
    hair_rgb: tuple[int, int, int]
    skin: str
    hair: str
    head: tuple[float, float, float, float]
    zone: tuple[float, float, float, float, float]
    whorl_xy: tuple[float, float]
    fu_xy: np.ndarray
    slot_rank: np.ndarray
    slot_eligible: np.ndarray
    baseline_active: np.ndarray
    slot_length_px: np.ndarray
    slot_angle: np.ndarray
    strand_px: float
    background_rgb: tuple[int, int, int]
    clothes_rgb: tuple[int, int, int]
    ear: bool
    texture_seed: int


def make_global_subject(
    rng: np.random.Generator,
    *,
    width: int = 768,
    height: int = 1024,
    skin: str = "light",
    hair: str = "brown",
    zone_share: float = 0.3,
    zone_density: float = 0.12,
    ear: bool = True,
) -> GlobalSubject:
    """Draw a crown: head, a thinning zone of known size, roots and their strands.

    Parameters
    ----------
    rng : numpy.random.Generator
    width, height : int
        Photo size, px (portrait, as phones take it).
    skin, hair : str
        Keys of :data:`SKIN_TONES` and :data:`HAIR_COLOURS`.
    zone_share : float
        Area of the thinning zone as a share of the head's area.
    zone_density : float
        Hair density in the zone at the baseline, relative to the rest of the head.
    ear : bool
        Show an ear at one side.

    Returns
    -------
    GlobalSubject
    """
    if skin not in SKIN_TONES or hair not in HAIR_COLOURS:
        raise ValueError(f"unknown skin {skin!r} or hair {hair!r}")
    cx, cy = width * rng.uniform(0.47, 0.53), height * rng.uniform(0.42, 0.48)
    ax, ay = width * rng.uniform(0.33, 0.38), height * rng.uniform(0.30, 0.34)
    zr = np.sqrt(zone_share)
    zone = (
        cx + ax * rng.uniform(-0.1, 0.1),
        cy + ay * rng.uniform(-0.15, 0.05),
        ax * zr * rng.uniform(0.9, 1.1),
        ay * zr * rng.uniform(0.9, 1.1),
        float(rng.uniform(-30, 30)),
    )
    # roots: dense enough that full hair hides the scalp
    strand = max(1.0, round(min(width, height) / 700.0, 1))
    n = int(np.pi * ax * ay / (strand * 7.0))
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.sqrt(rng.uniform(0, 1, n)) * 0.97
    xy = np.stack([cx + ax * r * np.cos(t), cy + ay * r * np.sin(t)], axis=1)
    in_zone = _in_ellipse(xy, zone)
    rank = rng.random((n, 1))
    active = np.ones((n, 1), bool)
    active[in_zone, 0] = rank[in_zone, 0] < zone_density
    lengths = rng.uniform(0.02, 0.05, (n, 1)) * min(width, height)
    return GlobalSubject(
        width=width,
        height=height,
        skin_rgb=SKIN_TONES[skin],
        hair_rgb=HAIR_COLOURS[hair],
        skin=skin,
        hair=hair,
        head=(cx, cy, ax, ay),
        zone=zone,
        whorl_xy=(zone[0] + rng.normal(0, ax * 0.05), zone[1] + rng.normal(0, ay * 0.05)),
        fu_xy=xy,
        # the rank orders growth (low first) and shedding (high first) in the zone
        slot_rank=np.where(in_zone[:, None], rank, 1.0),
        slot_eligible=in_zone[:, None],
        baseline_active=active,
        slot_length_px=lengths,
        slot_angle=rng.normal(0, 0.25, (n, 1)),
        strand_px=strand,
        background_rgb=tuple(int(v) for v in rng.integers(150, 235, 3)),
        clothes_rgb=tuple(
            int(v)
            for v in rng.choice(
                [[30, 40, 80], [70, 70, 75], [225, 225, 230], [120, 30, 40], [40, 90, 60]]
            )
        ),
        ear=ear,
        texture_seed=int(rng.integers(2**31)),
    )


def _in_ellipse(xy: np.ndarray, ell: tuple[float, ...]) -> np.ndarray:
    cx, cy, ax, ay = ell[:4]
    a = np.deg2rad(ell[4]) if len(ell) > 4 else 0.0
    dx, dy = xy[:, 0] - cx, xy[:, 1] - cy
    u = dx * np.cos(a) + dy * np.sin(a)
    v = -dx * np.sin(a) + dy * np.cos(a)
    return (u / ax) ** 2 + (v / ay) ** 2 <= 1.0


def _global_scene(subject: GlobalSubject, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """Background, clothes, ear and bare head in the baseline frame plus margin.

    Returns the float32 RGB scene and the uint8 scalp-region mask (255 = scalp).
    """
    room, layers, region = _global_layers(subject, margin)
    img = room
    for colour, a in layers:
        img = img * (1 - a) + colour * a
    return np.clip(img, 0, 1).astype(np.float32), region


def _global_layers(
    subject: GlobalSubject, margin: int
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """The room (background and clothes) and the head's layers, baseline frame plus margin.

    Returns
    -------
    room : (H, W, 3) float32 ndarray
    layers : list of (colour (H, W, 3), alpha (H, W, 1)) float32 pairs
        The ear (if any) and the bare head, to be laid over the room in this order.
    region : (H, W) uint8 ndarray
        The scalp (255).
    """
    rng = np.random.default_rng(subject.texture_seed)
    h, w = subject.height + 2 * margin, subject.width + 2 * margin
    bg = np.asarray(subject.background_rgb, np.float32) / 255.0
    ys = np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(bg, (h, w, 3)) * (1.0 + 0.15 * ys)
    img = img + 0.015 * _smooth_noise(rng, (h, w), 40)[..., None]
    cx, cy, ax, ay = subject.head
    cx, cy = cx + margin, cy + margin
    # clothes: shoulders under the head, at the bottom edge
    clothes = np.zeros((h, w), np.uint8)
    cv2.ellipse(
        clothes,
        (int(cx), int(cy + ay * 1.55)),
        (int(ax * 2.3), int(ay * 0.9)),
        0,
        0,
        360,
        255,
        -1,
        cv2.LINE_AA,
    )
    cl = np.asarray(subject.clothes_rgb, np.float32) / 255.0
    cloth_tex = 1.0 + 0.05 * _fine_noise(rng, (h, w), 2.0)
    a = (clothes.astype(np.float32) / 255.0)[..., None]
    img = img * (1 - a) + (cl * cloth_tex[..., None]) * a
    skin = np.asarray(subject.skin_rgb, np.float32) / 255.0
    skin_tex = 1.0 + 0.04 * _smooth_noise(rng, (h, w), 25) + 0.02 * _fine_noise(rng, (h, w), 1.0)
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    if subject.ear:
        side = 1 if rng.random() < 0.5 else -1
        ear = np.zeros((h, w), np.uint8)
        cv2.ellipse(
            ear,
            (int(cx + side * ax * 0.98), int(cy + ay * 0.15)),
            (int(ax * 0.12), int(ay * 0.2)),
            0,
            0,
            360,
            255,
            -1,
            cv2.LINE_AA,
        )
        a = (ear.astype(np.float32) / 255.0)[..., None]
        layers.append((skin * 0.9 * skin_tex[..., None], a))
    region = np.zeros((h, w), np.uint8)
    cv2.ellipse(
        region,
        (int(round(cx)), int(round(cy))),
        (int(round(ax)), int(round(ay))),
        0,
        0,
        360,
        255,
        -1,
    )
    head_aa = np.zeros((h, w), np.uint8)
    cv2.ellipse(
        head_aa,
        (int(round(cx)), int(round(cy))),
        (int(round(ax)), int(round(ay))),
        0,
        0,
        360,
        255,
        -1,
        cv2.LINE_AA,
    )
    # a dome: a little darker towards the rim
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rr = np.clip(((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2, 0, 1)
    dome = 1.0 - 0.25 * rr**2
    a = (head_aa.astype(np.float32) / 255.0)[..., None]
    layers.append((skin * (skin_tex * dome)[..., None], a))
    return img, layers, region


def render_global(
    subject: GlobalSubject,
    state: HairState,
    camera: Camera,
    *,
    rng: np.random.Generator,
    head_motion: HeadMotion | None = None,
) -> Phantom:
    """Render a global crown photo of ``subject`` at one visit, taken with ``camera``.

    Parameters
    ----------
    subject : GlobalSubject
    state : HairState
    camera : Camera
        The head's camera.
    rng : numpy.random.Generator
    head_motion : HeadMotion, optional
        How the head sits against the room (background, clothes) compared with the
        baseline; None keeps head and room together (one homography for the photo).

    Returns
    -------
    Phantom
        ``region_mask`` is the scalp (the head, without ear, clothes or background).
        ``truth`` has ``coverage`` (hair share of the scalp region), ``zone_area_px`` and
        ``zone_share`` (thinning zone, baseline frame), ``hair_count`` (strands) and
        ``homography_to_baseline`` (the head's: scalp, ear and hair roots); with a
        ``head_motion`` also ``room_homography_to_baseline`` (background and clothes)
        and ``head_motion``.
    """
    w, h = subject.width, subject.height
    hom = camera.homography(w, h)
    h_inv = np.linalg.inv(hom)
    margin = int(0.12 * max(w, h))
    room_hom = None
    if head_motion is None:
        scene, region_scene = _global_scene(subject, margin)
        img = _warp_scene(scene, hom, margin, (w, h))
    else:
        head = subject.head
        room_hom = head_motion.homography((head[0], head[1]), w, h) @ hom
        room_hom = room_hom / room_hom[2, 2]
        room, layers, region_scene = _global_layers(subject, margin)
        img = _warp_scene(room, room_hom, margin, (w, h))
        for colour, a in layers:
            a = _warp_scene(a[..., 0], hom, margin, (w, h))[..., None]
            img = img * (1 - a) + _warp_scene(colour, hom, margin, (w, h)) * a
        img = np.clip(img, 0, 1).astype(np.float32)
    region = _warp_scene(region_scene, hom, margin, (w, h), nearest=True) > 127
    # strands, drawn in this frame
    roots = _map(h_inv, subject.fu_xy[state.active[:, 0]])
    zoom = local_scale(h_inv, subject.fu_xy[state.active[:, 0]])
    jit = np.random.default_rng(state.comb_seed)
    wx, wy = _map(h_inv, np.array([subject.whorl_xy]))[0]
    comb = np.deg2rad(state.comb_deg)
    ang = (
        np.arctan2(roots[:, 1] - wy, roots[:, 0] - wx)
        + 0.6 * np.sin(comb)
        + subject.slot_angle[state.active[:, 0], 0]
        + jit.normal(0, 0.15, len(roots))
    )
    lengths = subject.slot_length_px[state.active[:, 0], 0] * zoom
    curls = jit.normal(0, 0.15, len(roots))
    canvas = np.zeros((h, w), np.uint8)
    polys = []
    for p, a, ln, c in zip(roots, ang, lengths, curls, strict=True):
        pts = _bezier(p, a, ln, c)
        polys.append(
            np.round(pts[np.linspace(0, len(pts) - 1, 4).astype(int)] * 16).astype(np.int32)
        )
    thick = max(1, int(round(subject.strand_px)))
    if polys:
        cv2.polylines(canvas, polys, False, 255, thickness=thick, lineType=cv2.LINE_AA, shift=4)
    alpha = canvas.astype(np.float32) / 255.0
    hair_rgb = np.asarray(subject.hair_rgb, np.float32) / 255.0
    tex = 1.0 + 0.12 * _fine_noise(np.random.default_rng(state.comb_seed + 1), (h, w), 1.5)
    hair_img = hair_rgb[None, None, :] * tex[..., None]
    img = img * (1 - alpha[..., None]) + hair_img * alpha[..., None]
    photo = apply_camera(img, camera, rng)
    mask = canvas >= 128
    n_zone = int(subject.slot_eligible.sum())
    ax, ay = subject.zone[2], subject.zone[3]
    head_area = np.pi * subject.head[2] * subject.head[3]
    zone_area = np.pi * ax * ay
    truth = {
        "kind": "global",
        "view": "crown",
        "coverage": round(float(mask[region].mean()) if region.any() else 0.0, 6),
        "hair_px_in_region": int((mask & region).sum()),
        "region_px": int(region.sum()),
        "hair_count": int(state.active.sum()),
        "hair_count_in_zone": int((state.active & subject.slot_eligible).sum()),
        "zone_roots": n_zone,
        "hairs_gained": state.gained,
        "hairs_lost": state.lost,
        "zone_area_px": round(zone_area, 1),
        "zone_share": round(zone_area / head_area, 6),
        "zone_ellipse_baseline": [round(float(v), 3) for v in subject.zone],
        "head_ellipse_baseline": [round(float(v), 3) for v in subject.head],
        "skin": subject.skin,
        "hair": subject.hair,
        "comb_deg": round(state.comb_deg, 3),
        "homography_to_baseline": np.round(hom, 10).tolist(),
        "camera": _camera_dict(camera),
    }
    if room_hom is not None:
        truth["room_homography_to_baseline"] = np.round(room_hom, 10).tolist()
        truth["head_motion"] = _camera_dict(head_motion)
    return Phantom(photo, mask, region, truth)


@dataclass(frozen=True)
class Still:
    """A phantom photographed once by a still camera, with what it was drawn from.

    Attributes
    ----------
    phantom : Phantom
    subject : CloseupSubject or GlobalSubject
    state : HairState
    camera : Camera
        No geometric change (identity homography); light, white balance, exposure,
        gamma, blur and noise drawn as for any visit.
    """

    phantom: Phantom
    subject: CloseupSubject | GlobalSubject
    state: HairState
    camera: Camera


def still(rng: np.random.Generator, view: str = "closeup", **subject: Any) -> Still:
    """Draw a subject, its hair at one visit and a still camera, and render the photo.

    The single-photo phantom of the accuracy benchmarks and tests: the truth is in the
    photo's own frame. The draws are made in a fixed order from ``rng``, so a seed
    gives the same photo wherever it is used.

    Parameters
    ----------
    rng : numpy.random.Generator
    view : {'closeup', 'global'}
    **subject
        Passed to :func:`make_closeup_subject` or :func:`make_global_subject` (``skin``,
        ``hair``, ``clipped``, ``width``, ...).

    Returns
    -------
    Still
    """
    if view not in ("closeup", "global"):
        raise ValueError(f"view must be 'closeup' or 'global', not {view!r}")
    make, render = (
        (make_closeup_subject, render_closeup)
        if view == "closeup"
        else (make_global_subject, render_global)
    )
    subj = make(rng, **subject)
    state = visit_state(subj, rng=rng)
    cam = random_camera(rng, max_rotation_deg=0, max_scale=0, max_shift=0, max_perspective=0)
    return Still(render(subj, state, cam, rng=rng), subj, state, cam)


# ---- writing -------------------------------------------------------------------------------


def _encode(array: np.ndarray, fmt: str, quality: int | None = None) -> bytes:
    buf = io.BytesIO()
    im = Image.fromarray(array)
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=int(quality or 92), subsampling=0, optimize=False)
    else:
        im.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def write_phantom(
    phantom: Phantom, image_path: str | os.PathLike[str], *, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write a phantom photo and its truth beside it.

    The photo goes to ``image_path`` (JPEG at the camera's quality when the suffix is
    ``.jpg``, else PNG). The truth goes to a hidden ``.truth/`` folder beside it, which
    the patient-folder scanner ignores: ``.truth/<stem>.json``, ``.truth/<stem>_hair.png``
    (255 = hair, this image's frame) and, where there is one,
    ``.truth/<stem>_region.png``.

    Parameters
    ----------
    phantom : Phantom
    image_path : str or path-like
    meta : dict, optional
        Patient / visit / view metadata merged into the truth.

    Returns
    -------
    dict
        The truth as written.
    """
    path = Path(image_path)
    truth_dir = path.parent / ".truth"
    jpeg = path.suffix.lower() in (".jpg", ".jpeg")
    q = phantom.truth.get("camera", {}).get("jpeg_quality") or 92
    write_atomic(path, _encode(phantom.image, "JPEG" if jpeg else "PNG", q))
    truth = dict(meta or {})
    truth.update(phantom.truth)
    truth["image"] = path.name
    truth["hair_mask"] = f"{path.stem}_hair.png"
    write_atomic(
        truth_dir / truth["hair_mask"], _encode(phantom.hair_mask.astype(np.uint8) * 255, "PNG")
    )
    if phantom.region_mask is not None:
        truth["region_mask"] = f"{path.stem}_region.png"
        write_atomic(
            truth_dir / truth["region_mask"],
            _encode(phantom.region_mask.astype(np.uint8) * 255, "PNG"),
        )
    text = json.dumps(truth, indent=1, sort_keys=True) + "\n"
    write_atomic(truth_dir / f"{path.stem}.json", text.encode())
    return truth


# ---- patient folders -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patient:
    name: str
    trend: str
    hair_change_per_visit: float
    width_change_per_visit: float
    skin: str
    hair: str
    layout: str  # "dated-folders", "flat" or "compact-dates"
    sessions: int
    first_date: date = field(default=date(2026, 1, 12))


SAMPLE_PATIENTS = (
    _Patient("anna-improving", "improving", 0.10, 0.03, "light", "brown", "dated-folders", 5),
    _Patient("ben-stable", "stable", 0.0, 0.0, "medium", "black", "flat", 5),
    _Patient("carla-declining", "declining", -0.08, -0.02, "olive", "black", "compact-dates", 5),
)


def _session_path(root: Path, p: _Patient, i: int, d: date, view: str, suffix: str) -> Path:
    if p.layout == "flat":
        return root / p.name / f"{d.isoformat()}_{view}{suffix}"
    if p.layout == "compact-dates":
        return root / p.name / d.strftime("%Y%m%d") / f"{view}{suffix}"
    return root / p.name / d.isoformat() / f"{view}{suffix}"


def make_patient(
    out: str | os.PathLike[str],
    patient: _Patient,
    *,
    seed: int,
    closeup_size: tuple[int, int] = (1024, 768),
    global_size: tuple[int, int] = (768, 1024),
    overlay: bool = True,
) -> list[dict[str, Any]]:
    """Write one phantom patient folder: a close-up and a crown photo per session.

    Returns the truths written, one per photo.
    """
    root = Path(out)
    rng = np.random.default_rng(seed)
    cu = make_closeup_subject(
        rng, width=closeup_size[0], height=closeup_size[1], skin=patient.skin, hair=patient.hair
    )
    gl = make_global_subject(
        rng, width=global_size[0], height=global_size[1], skin=patient.skin, hair=patient.hair
    )
    truths = []
    for i in range(patient.sessions):
        d = patient.first_date + timedelta(
            days=int(round(i * 30 + (rng.uniform(-3, 3) if i else 0)))
        )
        change = patient.hair_change_per_visit * i
        wf = 1.0 + patient.width_change_per_visit * i
        for view, subject in (("closeup", cu), ("crown", gl)):
            cam = Camera() if i == 0 else random_camera(rng, max_rotation_deg=15, max_scale=0.08)
            cam = dataclasses.replace(cam, jpeg_quality=int(rng.integers(85, 93)))
            st = visit_state(subject, hair_change=change, width_factor=wf, rng=rng)
            if view == "closeup":
                ph = render_closeup(cu, st, cam, rng=rng, overlay=overlay)
            else:
                ph = render_global(gl, st, cam, rng=rng)
            meta = {
                "patient": patient.name,
                "trend": patient.trend,
                "session": i + 1,
                "date": d.isoformat(),
                "view": view,
                "true_hair_change": round(change, 6),
                "seed": seed,
            }
            truths.append(
                write_phantom(ph, _session_path(root, patient, i, d, view, ".jpg"), meta=meta)
            )
    return truths


def make_sample_set(out: str | os.PathLike[str], *, seed: int = 0) -> list[dict[str, Any]]:
    """Write the bundled ``sample_images/`` set: three patients, five sessions, two views.

    One patient improves (+10 % hairs a session), one is stable, one declines (-8 %); each
    uses a different folder convention of DESIGN.md (dated folders, flat dated files,
    compact YYYYMMDD folders).

    Parameters
    ----------
    out : str or path-like
        Folder to write (created).
    seed : int

    Returns
    -------
    list of dict
        Every truth written.
    """
    truths = []
    for k, p in enumerate(SAMPLE_PATIENTS):
        truths += make_patient(out, p, seed=seed * 1000 + k)
    return truths


def make_gallery(out: str | os.PathLike[str], *, seed: int = 0) -> list[dict[str, Any]]:
    """Single close-ups and crowns over every skin tone and hair colour (no visits)."""
    root = Path(out)
    truths = []
    for i, skin in enumerate(SKIN_TONES):
        for j, hair in enumerate(HAIR_COLOURS):
            rng = np.random.default_rng([seed, i, j])
            clipped = (i + j) % 2 == 0
            cu = make_closeup_subject(rng, skin=skin, hair=hair, clipped=clipped)
            ph = render_closeup(cu, visit_state(cu, rng=rng), Camera(), rng=rng)
            meta = {"skin": skin, "hair": hair, "view": "closeup", "seed": seed}
            truths.append(write_phantom(ph, root / "closeup" / f"{skin}_{hair}.png", meta=meta))
            gl = make_global_subject(rng, skin=skin, hair=hair)
            ph = render_global(gl, visit_state(gl, rng=rng), Camera(), rng=rng)
            meta = {"skin": skin, "hair": hair, "view": "crown", "seed": seed}
            truths.append(write_phantom(ph, root / "global" / f"{skin}_{hair}.png", meta=meta))
    return truths


def make_large(out: str | os.PathLike[str], *, seed: int = 0) -> list[dict[str, Any]]:
    """A 12 MP close-up and a 12 MP crown, baseline and a re-shot visit with 20 % fewer hairs."""
    root = Path(out)
    truths = []
    rng = np.random.default_rng(seed)
    cu = make_closeup_subject(rng, width=4000, height=3000, px_per_mm=290.0)
    gl = make_global_subject(rng, width=3000, height=4000)
    for i, change in enumerate((0.0, -0.2)):
        for view, subject in (("closeup", cu), ("crown", gl)):
            cam = Camera() if i == 0 else random_camera(rng)
            st = visit_state(subject, hair_change=change, rng=rng)
            render = render_closeup if view == "closeup" else render_global
            ph = render(subject, st, cam, rng=rng)
            meta = {
                "patient": "large",
                "session": i + 1,
                "view": view,
                "seed": seed,
                "true_hair_change": change,
            }
            truths.append(write_phantom(ph, root / f"visit-{i + 1}" / f"{view}.jpg", meta=meta))
    return truths


def synth(out: str | os.PathLike[str], *, preset: str = "sample", seed: int = 0) -> list[dict]:
    """Write a preset set of phantoms with their truth.

    Parameters
    ----------
    out : str or path-like
        Output folder (created; existing phantom files are overwritten).
    preset : {'sample', 'gallery', 'large'}
        ``sample``: three patient folders as bundled in ``sample_images/``;
        ``gallery``: every skin tone x hair colour, close-up and crown;
        ``large``: a 12 MP close-up and crown pair.
    seed : int
        The same seed writes the same bytes.

    Returns
    -------
    list of dict
        The truths written.
    """
    makers = {"sample": make_sample_set, "gallery": make_gallery, "large": make_large}
    if preset not in makers:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return makers[preset](out, seed=seed)
