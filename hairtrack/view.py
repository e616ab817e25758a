"""Tell a close-up from a global photo: the ``--view auto`` decision."""

from __future__ import annotations

import cv2
import numpy as np

VIEWS = ("closeup", "global")


def detect_view(
    rgb: np.ndarray, *, view_threshold: float = 1.45, view_probe_side: int = 256
) -> tuple[str, str]:
    """Decide whether a photo is a close-up or a global photo of the head.

    A close-up is filled edge to edge by skin and hair shafts, with little structure
    larger than a hair; a global photo holds a head against a background, so its
    brightness varies on the scale of the head and its border differs from its centre.
    The score adds three cues measured on a small copy with the top and bottom 8 %
    (where capture software burns in its bars) left out: the share of brightness
    variance at the scale of 1/20 of the frame, the share of the border whose colour is
    far (Delta E > 30) from the centre's, and the spread of the large-scale brightness
    (/50). Close-ups score about 0.3-1.7, global photos about 1.3-3.1
    (``benchmarks/accuracy.py`` measures the error rate on real and phantom photos).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    view_threshold : float
        Scores above it are global photos.
    view_probe_side : int
        Longer side of the small copy, px.

    Returns
    -------
    view : {'closeup', 'global'}
    reason : str
        The score and the rule, for the user.
    """
    score = _view_score(rgb, probe_side=view_probe_side)
    view = "global" if score > view_threshold else "closeup"
    return view, f"auto: layout score {score:.2f}, global above {view_threshold}"


def _view_score(rgb: np.ndarray, *, probe_side: int) -> float:
    """The close-up / global score of :func:`detect_view`."""
    h = rgb.shape[0]
    rgb = rgb[int(0.08 * h) : max(int(0.92 * h), int(0.08 * h) + 1)]
    h, w = rgb.shape[:2]
    s = probe_side / max(h, w)
    small = cv2.resize(
        rgb, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA
    )
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    hh, ww = lab.shape[:2]
    light = lab[..., 0]
    low = cv2.GaussianBlur(light, (0, 0), max(hh, ww) / 20)
    large_share = float(low.var() / (light.var() + 1e-6))
    b = max(2, int(0.1 * min(hh, ww)))
    border = np.concatenate(
        [lab[:b].reshape(-1, 3), lab[:, :b].reshape(-1, 3), lab[:, -b:].reshape(-1, 3)]
    )
    centre = np.median(lab[hh // 4 : 3 * hh // 4, ww // 4 : 3 * ww // 4].reshape(-1, 3), axis=0)
    far_border = float((np.sqrt(((border - centre) ** 2).sum(1)) > 30).mean())
    return large_share + far_border + float(np.std(low)) / 50.0
