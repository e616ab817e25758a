"""Blur matching of ``compare`` on 12 MP close-ups, against a known truth.

Run:  .venv/bin/python benchmarks/large_blur.py

The 12 MP close-up phantom of ``synth`` (preset "large", as ``benchmarks/speed.py``) is
compared with itself shifted by a few px and blurred by a known extra Gaussian (0-3 px):
the hair is the same, so the true change is 0, and ``compare`` should blur the baseline
by about the extra blur before reading its hair (``compare.match_sharpness``). Prints,
for each extra blur, the blur read on each photo in its own px
(:func:`hairtrack.compare._edge_blur_px`), what ``compare`` did about it and the change
it measured.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack import synth  # noqa: E402
from hairtrack.compare import _edge_blur_px, compare  # noqa: E402
from hairtrack.config import Params  # noqa: E402
from hairtrack.load import load_image  # noqa: E402


def main() -> None:
    p = Params().compare
    kw = {
        "deriv_sigma": p.sharpness_deriv_sigma,
        "window": p.sharpness_window,
        "edge_quantile": p.sharpness_edge_quantile,
    }
    with tempfile.TemporaryDirectory() as tmp:
        synth.synth(tmp, preset="large", seed=0)
        rgb = load_image(Path(tmp) / "visit-1" / "closeup.jpg").rgb
    shift = np.float32([[1, 0, 12], [0, 1, -9]])
    print(f"12 MP close-up {rgb.shape[1]} x {rgb.shape[0]}; true change 0 %")
    for sigma in (0.0, 1.0, 2.0, 3.0):
        soft = rgb if sigma == 0 else cv2.GaussianBlur(rgb, (0, 0), sigma)
        soft = cv2.warpAffine(soft, shift, rgb.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
        read_b = _edge_blur_px(rgb, None, p.sharpness_max_pixels, kw)
        read_a = _edge_blur_px(soft, None, p.sharpness_max_pixels, kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = compare(rgb, soft, view="closeup")
        did = [w for w in c.warnings if "blurred" in w] or ["no blur matching"]
        pct = c.change.coverage_pct
        print(
            f"extra blur {sigma:.1f} px: read {read_b:.2f} / {read_a:.2f} px; {did[0]}; "
            f"change {'n/a' if pct is None else format(pct, '+.2f')} % "
            f"({c.change.verdict}, registered {c.alignment.ok})"
        )


if __name__ == "__main__":
    main()
