"""Where the coverage change of a re-shot real global photo comes from.

A real global photo re-shot by a known homography and new light (as in
``benchmarks/pairs.py --real``) holds the same hair: any measured coverage change is an
error. This splits that error into its sources by re-running the comparison with one
cause taken away at a time:

* ``full``: new geometry and new light, registered by :func:`hairtrack.align.align`
  (what ``pairs.py --real`` reports);
* ``true H``: the same re-shot photo, registered by the true homography (alignment error
  taken away);
* ``geometry``: the geometry of the re-shoot only (no new light, blur or noise), true
  homography: resampling and segmenting a moved photo;
* ``light``: the light, blur and noise of the re-shoot only (the photo not moved),
  identity homography: photometric difference and segmentation;
* ``same``: the photo against a JPEG copy of itself, identity homography.

Columns are the median |coverage change|, % over the photos (and how many were
registered, for ``full``).

Run ``python benchmarks/global_change_sources.py [--quick]`` (``--quick``: every 4th
photo, as ``pairs.py --real --quick``).
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import io
import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack import compare as compare_mod  # noqa: E402
from hairtrack import synth  # noqa: E402
from hairtrack.align import Alignment  # noqa: E402
from hairtrack.config import Params  # noqa: E402
from hairtrack.load import load_image  # noqa: E402

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
GEOMETRY = ("rotation_deg", "scale", "shift", "perspective")


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _change(before, after, params, h_true=None) -> tuple[float, bool]:
    """Coverage change, %, and whether the pair was registered; ``h_true`` given: that
    homography is used instead of the registration's."""
    real_align = compare_mod.align

    def given(*args, **kw):
        return Alignment(True, np.asarray(h_true, np.float64), "given", 999, 0.0, 1.0, "")

    try:
        if h_true is not None:
            compare_mod.align = given
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = compare_mod.compare(before, after, view="global", params=params)
    finally:
        compare_mod.align = real_align
    pct = c.change.coverage_pct
    return (np.nan if pct is None else float(pct)), bool(c.alignment.ok)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="every 4th photo")
    args = ap.parse_args(argv)
    if not REALDATA.is_dir():
        print(f"no real data at {REALDATA}")
        return 0
    params = Params()
    files = sorted(glob.glob(str(REALDATA / "global" / "*")))[:: 4 if args.quick else 1]
    cols = ("full", "true H", "geometry", "light", "same")
    rows = {c: [] for c in cols}
    n_ok = 0
    for k, f in enumerate(files):
        rgb = load_image(f).rgb
        # the same re-shoot as pairs.py --real
        rng = np.random.default_rng([21, k, True])
        cam = synth.random_camera(rng)
        state = rng.bit_generator.state
        shot, hom = synth.reshoot(rgb, cam, rng)
        shot = _jpeg(shot, cam.jpeg_quality)
        full, ok = _change(rgb, shot, params)
        n_ok += ok
        rows["full"].append(full if ok else np.nan)
        rows["true H"].append(_change(rgb, shot, params, hom)[0])
        geo_cam = synth.Camera(
            **{g: getattr(cam, g) for g in GEOMETRY}, jpeg_quality=cam.jpeg_quality
        )
        rng.bit_generator.state = state
        geo, hom_g = synth.reshoot(rgb, geo_cam, rng)
        rows["geometry"].append(_change(rgb, _jpeg(geo, cam.jpeg_quality), params, hom_g)[0])
        light_cam = dataclasses.replace(
            cam, **{g: synth.Camera().__getattribute__(g) for g in GEOMETRY}
        )
        rng.bit_generator.state = state
        lit, _ = synth.reshoot(rgb, light_cam, rng)
        rows["light"].append(_change(rgb, _jpeg(lit, cam.jpeg_quality), params, np.eye(3))[0])
        rows["same"].append(_change(rgb, _jpeg(rgb, cam.jpeg_quality), params, np.eye(3))[0])
        print(
            f"{Path(f).name:16s} ok={ok!s:5s} "
            + " ".join(f"{c} {rows[c][-1]:+7.2f}" for c in cols),
            flush=True,
        )
    print(f"{len(files)} photos, {n_ok} registered by align")
    for c in cols:
        v = np.abs(np.asarray(rows[c], float))
        v = v[np.isfinite(v)]
        print(
            f"{c:10s} |coverage change| median {np.median(v) if len(v) else np.nan:6.2f} % "
            f"(p90 {np.percentile(v, 90) if len(v) else np.nan:6.2f} %, n={len(v)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
