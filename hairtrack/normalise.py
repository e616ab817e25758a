"""Flatten lighting and white balance: the ``normalise`` stage.

Pure functions on arrays. A dermoscope's ring light leaves a bright centre and dark
corners; phone photos have colour casts. Dividing by a large-scale background estimate
(with the hair suppressed first, so it does not darken the background) and a grey-world
white balance take most of that out before hair is segmented.

Examples
--------
>>> import numpy as np
>>> yy, xx = np.mgrid[:96, :128]
>>> gray = (120 + xx).astype(np.uint8)  # a lighting ramp
>>> flat = flatten_illumination(gray, sigma=20)
>>> bool(np.ptp(flat[:, 20:-20]) < 0.15)
True
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["flatten_illumination", "grey_world", "luminance"]


def _check_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as an array if it is (M, N) or (M, N, 3), else raise ValueError."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected an (M, N) or (M, N, 3) image, got shape {image.shape}")
    if min(image.shape[:2]) < 8:
        raise ValueError(f"image is {image.shape[1]}x{image.shape[0]} px; need at least 8x8 px")
    if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"expected uint8 or float pixels, got {image.dtype}")
    return image


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601 weights) as float32.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 or float ndarray, or (M, N) ndarray (returned as float32)

    Returns
    -------
    (M, N) float32 ndarray
        Same scale as the input (0-255 for uint8).
    """
    rgb = _check_image(rgb)
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    return cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY)


def _suppress_thin(image: np.ndarray, *, size: int) -> np.ndarray:
    """Remove thin dark and light structures (hair) narrower than ``size`` px.

    A closing followed by an opening with a square of side ``size``: hair and pores go,
    the slowly varying skin tone stays.
    """
    se = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    return cv2.morphologyEx(cv2.morphologyEx(image, cv2.MORPH_CLOSE, se), cv2.MORPH_OPEN, se)


def _fill_from_skin(
    f: np.ndarray, skin: np.ndarray, small_size: tuple[int, int], sigma_small: float
) -> np.ndarray:
    """Replace the non-skin pixels of ``f`` by the local mean of the skin pixels.

    The local mean is a normalised convolution (Gaussian of ``sigma_small`` px on a copy
    of ``small_size``); pixels with under 5 % skin weight nearby keep their value.
    """
    skin = np.asarray(skin, bool)
    if skin.shape != f.shape[:2]:
        raise ValueError(f"skin is {skin.shape}, image is {f.shape[:2]}")
    wgt = skin.astype(np.float32)
    w3 = wgt[..., None] if f.ndim == 3 else wgt
    num = cv2.GaussianBlur(
        cv2.resize(f * w3, small_size, interpolation=cv2.INTER_AREA), (0, 0), sigma_small
    )
    den = cv2.GaussianBlur(
        cv2.resize(wgt, small_size, interpolation=cv2.INTER_AREA), (0, 0), sigma_small
    )
    if f.ndim == 3:
        den = den[..., None]
    level = np.where(den >= 0.05, num / np.maximum(den, 1e-6), 0.0).astype(np.float32)
    ok = (den >= 0.05).astype(np.float32)
    h, w = f.shape[:2]
    level = cv2.resize(level, (w, h), interpolation=cv2.INTER_LINEAR)
    ok = cv2.resize(ok, (w, h), interpolation=cv2.INTER_LINEAR)
    if f.ndim == 3:
        ok = ok.reshape(h, w, -1)
        level = level.reshape(h, w, -1)
    use = ~w3.astype(bool) & (ok > 0.5)
    return np.where(use, level, f)


def flatten_illumination(
    image: np.ndarray,
    *,
    sigma: float = 40.0,
    hair_size: int = 0,
    skin: np.ndarray | None = None,
) -> np.ndarray:
    """Divide an image by its large-scale background, so the skin becomes ~1.0 everywhere.

    The background is estimated on a copy reduced by about ``sigma / 4``: hair is
    removed with a closing and an opening (``hair_size`` px, in the input's pixels), then
    the result is blurred with a Gaussian of ``sigma`` px and brought back to full size.

    Parameters
    ----------
    image : (M, N) or (M, N, 3) uint8 or float ndarray
        Grey or RGB image; each channel is flattened on its own.
    sigma : float
        Scale of the lighting variation to remove, px (larger than any hair's width).
    hair_size : int
        Widest structure to suppress before estimating the background, px; 0 means
        ``sigma / 2``.
    skin : (M, N) bool ndarray, optional
        Pixels known to be bare skin (e.g. everything outside a first hair mask). All
        other pixels are first replaced by the local mean of the skin pixels
        (normalised convolution at ``sigma``), so dense hair does not drag the
        background down: the reduced copy averages hair and skin in each cell, which no
        closing on it can undo. Pixels with hardly any skin near (under 5 % weight) keep
        their value.

    Returns
    -------
    (M, N) or (M, N, 3) float32 ndarray
        ``image / background``; skin ~1.0, dark hair < 1, light hair > 1.
    """
    image = _check_image(image)
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0 px, got {sigma}")
    f = image.astype(np.float32)
    h, w = f.shape[:2]
    step = max(1.0, sigma / 4.0)
    small_size = (max(8, round(w / step)), max(8, round(h / step)))
    if skin is not None:
        f = _fill_from_skin(f, skin, small_size, sigma / step)
    small = cv2.resize(f, small_size, interpolation=cv2.INTER_AREA)
    k = max(3, int(round((hair_size or sigma / 2.0) / step)) | 1)
    bg = _suppress_thin(small, size=k)
    bg = cv2.GaussianBlur(bg, (0, 0), sigma / step)
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    return image.astype(np.float32) / np.maximum(bg, 1e-3 * max(float(bg.max()), 1e-6))


def grey_world(rgb: np.ndarray, *, mask: np.ndarray | None = None) -> np.ndarray:
    """Grey-world white balance: scale each channel so their means are equal.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    mask : (M, N) bool ndarray, optional
        Pixels to take the means over (e.g. the scalp region); all by default.

    Returns
    -------
    (M, N, 3) uint8 ndarray
    """
    rgb = _check_image(rgb)
    if rgb.ndim != 3:
        raise ValueError("grey_world needs an (M, N, 3) RGB image")
    f = rgb.astype(np.float32)
    sel = f.reshape(-1, 3) if mask is None else f[np.asarray(mask, bool)]
    if sel.size == 0:
        raise ValueError("mask selects no pixels")
    means = np.maximum(sel.mean(axis=0), 1e-3)
    out = f * (means.mean() / means)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
