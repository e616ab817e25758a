"""Close-up registration of 12 MP phantom pairs against their true homography, and its CPU.

Run:  .venv/bin/python benchmarks/large_align.py [--seeds 0,1,...] [--cache DIR]

Each seed is ``synth.synth(..., preset="large")``'s pair (the one ``speed.py`` times is
seed 0), written once into ``--cache`` (about a minute a seed) and read from there after.
For each pair: the two photos' features (:func:`hairtrack.align.features`, with the look
masks ``compare`` gives them) and the alignment, each timed in process CPU seconds with
OpenCV on one thread, and the corner error of the fit against the truth. The median
corner error over the seeds is printed last.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack import synth  # noqa: E402
from hairtrack.align import align, corner_error, features  # noqa: E402
from hairtrack.compare import _closeup_field, _look_masks  # noqa: E402
from hairtrack.config import Params  # noqa: E402
from hairtrack.load import load_image  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/hairtrack-large"))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    cv2.setNumThreads(1)
    params = Params()
    errors = []
    for seed in (int(s) for s in args.seeds.split(",")):
        root = args.cache / f"seed{seed}"
        if not (root / "visit-2" / ".truth" / "closeup.json").exists():
            synth.synth(root, preset="large", seed=seed)
        rgb_b = load_image(root / "visit-1" / "closeup.jpg").rgb
        rgb_a = load_image(root / "visit-2" / "closeup.jpg").rgb
        truth = json.loads((root / "visit-2" / ".truth" / "closeup.json").read_text())
        h_true = np.asarray(truth["homography_to_baseline"])
        look_b = _look_masks(_closeup_field(rgb_b, params)[0], "closeup")
        look_a = _look_masks(_closeup_field(rgb_a, params)[0], "closeup")
        t0 = time.process_time()
        f_b = features(rgb_b, view="closeup", mask=look_b)
        f_a = features(rgb_a, view="closeup", mask=look_a)
        t_features = time.process_time() - t0
        t0 = time.process_time()
        al = align(
            rgb_b,
            rgb_a,
            view="closeup",
            reference_mask=look_b,
            moving_mask=look_a,
            reference_features=f_b,
            moving_features=f_a,
        )
        t_align = time.process_time() - t0
        err = np.nan
        if al.homography is not None:
            err = corner_error(al.homography, h_true, rgb_a.shape)
        errors.append(err)
        print(
            f"seed {seed}: ok {al.ok} corner error {err:.3f} px, inliers {al.inliers}, "
            f"features CPU {t_features:.3f} s, align CPU {t_align:.3f} s {al.reason}",
            flush=True,
        )
    print(f"corner error median {np.nanmedian(errors):.3f} px over {len(errors)} pairs")


if __name__ == "__main__":
    main()
