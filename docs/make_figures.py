"""Remake the README's figures from the bundled sample images: python docs/make_figures.py"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from hairtrack.load import load_image, save_png

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "sample_images"


def phantom_figure() -> None:
    """A sample close-up beside the same photo with its true hair mask outlined."""
    session = SAMPLES / "anna-improving" / "2026-01-12"
    photo = load_image(session / "closeup.jpg").rgb
    mask = cv2.imread(str(session / ".truth" / "closeup_hair.png"), cv2.IMREAD_GRAYSCALE) > 127
    y0, x0, h, w = 200, 300, 300, 400
    crop = photo[y0 : y0 + h, x0 : x0 + w].copy()
    m = mask[y0 : y0 + h, x0 : x0 + w].astype(np.uint8)
    outlined = crop.copy()
    contours, _ = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(outlined, contours, -1, (0, 220, 255), 1)
    gap = np.full((h, 8, 3), 255, np.uint8)
    save_png(HERE / "phantom.png", np.hstack([crop, gap, outlined]))


def compare_figure() -> None:
    """The declining sample patient: baseline and latest close-up, aligned, hair tinted."""
    import warnings

    from hairtrack import plots
    from hairtrack.compare import compare

    folder = SAMPLES / "carla-declining"
    before = load_image(folder / "20260112" / "closeup.jpg").rgb
    after = load_image(folder / "20260514" / "closeup.jpg").rgb
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = compare(before, after, view="closeup")
    b, a = plots.aligned_pair(before, after, c, max_side=480)
    save_png(HERE / "compare.png", plots.side_by_side(b, a))


if __name__ == "__main__":
    phantom_figure()
    compare_figure()
