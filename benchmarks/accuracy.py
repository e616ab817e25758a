"""Accuracy of hairtrack against ground truth: phantoms and real annotated photos.

Run:  .venv/bin/python benchmarks/accuracy.py [--quick] [--suite NAME ...]

Suites
------
phantom-closeup   every skin tone x hair colour, clipped and long: coverage error (pp),
                  hair count error (%) on clipped fields, mean shaft width error (%)
phantom-global    every skin tone x hair colour: coverage error (pp)
view              --view auto on phantoms and real photos: share decided right
realdata-closeup  ../shared/realdata/tiles: Dice of the hair mask vs the hand masks;
                  ../shared/realdata/trichoscopy: hair count vs the per-hair boxes
                  (benchmarks/realdata_closeup.py)
realdata-global   ../shared/realdata/global: coverage vs the hair-loss group (1-4)
                  (benchmarks/realdata_global.py)

Real-data suites are skipped when ../shared/realdata is absent. Every figure is computed
here from the truth; nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
REALDATA = REPO.parent / "shared" / "realdata"

from hairtrack import synth  # noqa: E402
from hairtrack.load import load_image  # noqa: E402
from hairtrack.measure import long_hair, measure  # noqa: E402
from hairtrack.view import detect_view  # noqa: E402


def _measure(rgb, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return measure(rgb, **kw)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """``rgb`` through a JPEG file of ``quality`` (OpenCV's encoder and decoder)."""
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def phantom_closeup(quick: bool) -> dict:
    """Coverage, count and width errors over skin tones x hair colours, clipped and long."""
    cov_err, count_err, width_err, rows = [], [], [], []
    uncountable_long: list[bool] = []
    withheld_as: list[str] = []
    count_err_jpeg: list[float] = []
    skins = list(synth.SKIN_TONES)[:: 2 if quick else 1]
    for i, skin in enumerate(skins):
        for j, hair in enumerate(synth.HAIR_COLOURS):
            for clipped in (True, False):
                rng = np.random.default_rng([11, i, j, int(clipped)])
                ph = synth.still(rng, skin=skin, hair=hair, clipped=clipped).phantom
                t = ph.truth
                m = _measure(ph.image, view="closeup", px_per_mm=t["px_per_mm"])
                ce = 100 * (m.coverage - t["coverage"])
                cov_err.append(abs(ce))
                we = 100 * (m.mean_width_px / t["mean_width_px"] - 1) if m.mean_width_px else 100
                width_err.append(abs(we))
                # None: the field was judged uncountable (long hair in one network, or
                # hair that hardly stands out from the skin); on a clipped field that
                # counts as a 100 % miss
                ke = (
                    100 * (m.hair_count / t["hair_count"] - 1)
                    if m.hair_count is not None
                    else float("nan")
                )
                if clipped:
                    count_err.append(abs(ke) if np.isfinite(ke) else 100.0)
                    # the same field saved as a camera or phone would: JPEG
                    q = int(np.random.default_rng([11, i, j, 99]).integers(75, 93))
                    mj = _measure(_jpeg(ph.image, q), view="closeup", px_per_mm=t["px_per_mm"])
                    kj = 100 * (mj.hair_count / t["hair_count"] - 1) if mj.hair_count else 100.0
                    count_err_jpeg.append(abs(kj))
                else:
                    uncountable_long.append(m.hair_count is None)
                rows.append((skin, hair, "clipped" if clipped else "long", ce, ke, we))
                withheld_as.append("long" if long_hair(m) else "faint" if ke != ke else "")
    print("\nphantom close-ups (signed errors)")
    print(f"  {'skin':<11}{'hair':<7}{'length':<8}{'cov pp':>8}{'count %':>9}{'width %':>9}")
    for r in rows:
        print(f"  {r[0]:<11}{r[1]:<7}{r[2]:<8}{r[3]:>8.2f}{r[4]:>9.1f}{r[5]:>9.1f}")
    return {
        "phantom close-up coverage |error| median, pp (goal <= 1)": np.median(cov_err),
        "phantom close-up count |error| median, clipped, % (goal <= 5)": np.median(count_err),
        "  the same fields saved as JPEG (quality 75-92), %": np.median(count_err_jpeg),
        "phantom close-up width |error| median, % (goal <= 15)": np.median(width_err),
        "  of which clipped (phototrichogram) fields, %": np.median(
            [abs(r[5]) for r in rows if r[2] == "clipped"]
        ),
        "  of which long hair (strands lying over each other), %": np.median(
            [abs(r[5]) for r in rows if r[2] == "long"]
        ),
        "clipped fields judged long hair (count withheld), % (should be 0)": 100
        * np.mean(
            [w == "long" for r, w in zip(rows, withheld_as, strict=True) if r[2] == "clipped"]
        ),
        "clipped fields of faint hair (count withheld), %": 100
        * np.mean(
            [w == "faint" for r, w in zip(rows, withheld_as, strict=True) if r[2] == "clipped"]
        ),
        "long-hair fields judged uncountable (count withheld), %": 100 * np.mean(uncountable_long),
    }


#: Skin and hair colours closer than this (CIE Lab Delta E) cannot be told apart in any
#: photo: such phantom pairs (brown hair on dark skin) are left out of the global grid.
MIN_GLOBAL_CONTRAST = 10.0


def _delta_e(rgb1: tuple[int, int, int], rgb2: tuple[int, int, int]) -> float:
    """CIE Lab Delta E 1976 of two sRGB colours (0-255)."""
    px = np.array([[rgb1, rgb2]], np.float32) / 255.0
    lab = cv2.cvtColor(px, cv2.COLOR_RGB2Lab)[0]
    return float(np.linalg.norm(lab[0] - lab[1]))


def phantom_global(quick: bool) -> dict:
    """Coverage error of global phantoms over skin tones x hair colours.

    Pairs whose skin and hair colours differ by less than ``MIN_GLOBAL_CONTRAST`` are
    skipped (and listed): no photo method can see that hair.
    """
    errs, rows, skipped = [], [], []
    skins = list(synth.SKIN_TONES)[:: 2 if quick else 1]
    for i, skin in enumerate(skins):
        for j, hair in enumerate(synth.HAIR_COLOURS):
            contrast = _delta_e(synth.SKIN_TONES[skin], synth.HAIR_COLOURS[hair])
            if contrast < MIN_GLOBAL_CONTRAST:
                skipped.append(f"{skin}/{hair} (Delta E {contrast:.1f})")
                continue
            rng = np.random.default_rng([12, i, j])
            ph = synth.still(rng, "global", skin=skin, hair=hair).phantom
            m = _measure(ph.image, view="global")
            e = 100 * (m.coverage - ph.truth["coverage"])
            iou = (m.region_mask & ph.region_mask).sum() / (m.region_mask | ph.region_mask).sum()
            errs.append(abs(e))
            rows.append((skin, hair, ph.truth["coverage"], m.coverage, e, iou))
    print("\nphantom global photos")
    print(f"  {'skin':<11}{'hair':<7}{'true':>7}{'meas':>7}{'err pp':>8}{'region IoU':>11}")
    for r in rows:
        print(f"  {r[0]:<11}{r[1]:<7}{r[2]:>7.3f}{r[3]:>7.3f}{r[4]:>8.2f}{r[5]:>11.3f}")
    if skipped:
        print(f"  left out, skin and hair alike: {', '.join(skipped)}")
    return {
        "phantom global coverage |error| median, pp (goal <= 1)": np.median(errs),
        "phantom global coverage |error| 90th percentile, pp": np.percentile(errs, 90),
    }


def view_suite(quick: bool) -> dict:
    """Share of photos whose view ``auto`` decides right."""
    cases: list[tuple[np.ndarray, str]] = []
    for k in range(3 if quick else 8):
        rng = np.random.default_rng([13, k])
        skin = list(synth.SKIN_TONES)[k % 6]
        hair = list(synth.HAIR_COLOURS)[k % 4]
        s = synth.make_closeup_subject(rng, skin=skin, hair=hair, clipped=k % 2 == 0)
        cam = synth.random_camera(rng)
        cases.append(
            (
                synth.render_closeup(
                    s, synth.visit_state(s, rng=rng), cam, rng=rng, overlay=k % 2 == 1
                ).image,
                "closeup",
            )
        )
        g = synth.make_global_subject(rng, skin=skin, hair=hair)
        cases.append(
            (synth.render_global(g, synth.visit_state(g, rng=rng), cam, rng=rng).image, "global")
        )
    real = []
    if REALDATA.is_dir():
        real += [(f, "closeup") for f in sorted(glob.glob(str(REALDATA / "trichoscopy/*.jpg")))]
        real += [(f, "global") for f in sorted(glob.glob(str(REALDATA / "global/*")))]
    ok_ph = np.mean([detect_view(img)[0] == v for img, v in cases])
    out = {"view auto right on phantoms, %": 100 * ok_ph}
    if real:
        wrong = [Path(f).name for f, v in real if detect_view(load_image(f).rgb)[0] != v]
        out["view auto right on real close-ups and global photos, %"] = 100 * (
            1 - len(wrong) / len(real)
        )
        if wrong:
            print(f"\nview auto wrong on: {', '.join(wrong)}")
    return out


SUITES = {
    "phantom-closeup": phantom_closeup,
    "phantom-global": phantom_global,
    "view": view_suite,
}


def _script_suite(script: str):
    """A real-data suite: the script beside this one, run as it is (it prints its table)."""

    def run(quick: bool) -> dict:
        import subprocess

        path = Path(__file__).resolve().parent / script
        r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
        print(r.stdout + r.stderr)
        return {}

    return run


SUITES["realdata-closeup"] = _script_suite("realdata_closeup.py")
SUITES["realdata-global"] = _script_suite("realdata_global.py")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer phantoms, for a fast look")
    ap.add_argument("--suite", nargs="*", choices=sorted(SUITES), help="suites to run (all)")
    args = ap.parse_args()
    summary: dict[str, float] = {}
    for name in args.suite or SUITES:
        if name.startswith("realdata") and not REALDATA.is_dir():
            print(f"\n{name}: skipped, {REALDATA} is absent")
            continue
        t0 = time.perf_counter()
        summary.update(SUITES[name](args.quick))
        print(f"  ({name}: {time.perf_counter() - t0:.0f} s)")
    print("\nsummary")
    for k, v in summary.items():
        print(f"  {k:<72}{v:>8.2f}")


if __name__ == "__main__":
    main()
