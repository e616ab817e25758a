"""Scale-bar reading against phantom truth, and on the real close-ups.

Renders close-up phantoms with the burned-in capture overlay
(:func:`hairtrack.synth.render_closeup` with ``overlay=True``) over a grid of photo sizes
(1152x864 .. 4000x3000), zooms (field widths) and hair densities, reads each with
:func:`hairtrack.overlays.read_scale_bar` and prints the share read and the px-per-mm
error against ``truth["px_per_mm"]``. Then reads every real close-up in
``../shared/realdata`` (when present): the README says the bars there are about
350-360 px per mm, so a reading far from that is a false read.

Usage::

    python benchmarks/scale_bar.py            # 2 seeds a cell, 90 phantoms (5-8 min)
    python benchmarks/scale_bar.py --quick    # one seed a cell
    python benchmarks/scale_bar.py -v         # also list each miss and wrong read
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

# this checkout's package, not whichever one the environment has installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack.overlays import read_scale_bar  # noqa: E402
from hairtrack.synth import (  # noqa: E402
    make_closeup_subject,
    random_camera,
    render_closeup,
    visit_state,
)

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
SIZES = [(1152, 864), (1600, 1200), (2400, 1800), (3000, 2250), (4000, 3000)]
FIELD_MM = [8.0, 14.0, 24.0]  # field width: high zoom .. low zoom
DENSITY = [30.0, 70.0, 110.0]  # follicular units per cm2


def phantom(size: tuple[int, int], field_mm: float, fu: float, seed: int):
    """One overlaid close-up phantom; returns (rgb, true px per mm)."""
    rng = np.random.default_rng(seed)
    w, h = size
    subject = make_closeup_subject(
        rng,
        width=w,
        height=h,
        px_per_mm=w / field_mm,
        fu_per_cm2=fu,
        skin=str(rng.choice(["very-light", "light", "olive", "brown", "dark"])),
        hair=str(rng.choice(["black", "brown", "blond", "grey"])),
    )
    state = visit_state(subject, rng=rng)
    cam = random_camera(rng)
    ph = render_closeup(subject, state, cam, rng=rng, overlay=True)
    rgb = ph.image
    if cam.jpeg_quality is not None:  # as the photo is written (write_phantom)
        ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, cam.jpeg_quality])
        rgb = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    return rgb, float(ph.truth["px_per_mm"])


def bench_phantoms(seeds: int) -> None:
    """Share read and relative error per photo size."""
    print("phantoms: size, share read, |error| median / max (% of truth), wrong (>3 %)")
    all_err, all_n, all_read = [], 0, 0
    for size in SIZES:
        errs, n, t_read = [], 0, 0.0
        for fi, field_mm in enumerate(FIELD_MM):
            for di, fu in enumerate(DENSITY):
                for s in range(seeds):
                    seed = 1000 * s + 100 * fi + 10 * di + SIZES.index(size)
                    rgb, truth = phantom(size, field_mm, fu, seed)
                    t0 = time.perf_counter()
                    got = read_scale_bar(rgb)
                    t_read += time.perf_counter() - t0
                    n += 1
                    if got is not None:
                        errs.append(abs(got - truth) / truth * 100.0)
                    elif "-v" in sys.argv:
                        print(f"    miss {size} field {field_mm} mm fu {fu} seed {seed}")
                    if got is not None and errs[-1] > 3 and "-v" in sys.argv:
                        print(
                            f"    wrong {size} field {field_mm} fu {fu} seed {seed}: "
                            f"{got:.1f} vs {truth:.1f}"
                        )
        e = np.asarray(errs)
        med = f"{np.median(e):5.2f}" if e.size else "  -  "
        mx = f"{e.max():6.2f}" if e.size else "   -  "
        print(
            f"  {size[0]:4d}x{size[1]:<4d}  read {len(errs):2d}/{n:<2d}  |err| {med} / {mx} %"
            f"  wrong {int((e > 3).sum())}  ({t_read / n * 1e3:.0f} ms a read)"
        )
        all_err += errs
        all_n += n
        all_read += len(errs)
    e = np.asarray(all_err)
    print(
        f"  all        read {all_read}/{all_n}  |err| median {np.median(e):.2f} %, "
        f"max {e.max():.2f} %, wrong (>3 %) {int((e > 3).sum())}"
        if e.size
        else f"  all        read 0/{all_n}"
    )


def bench_real() -> None:
    """Readings on the real close-ups: bars there are about 350-360 px per mm."""
    paths = sorted(REALDATA.glob("trichoscopy*/**/*.jpg"))
    if not paths:
        print(f"\nreal data not found at {REALDATA}")
        return
    reads = []
    for p in paths:
        rgb = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
        v = read_scale_bar(rgb)
        if v is not None:
            reads.append((p.name, v))
    far = [r for r in reads if not 330 <= r[1] <= 380]
    print(f"\nreal close-ups: read {len(reads)} of {len(paths)}, outside 330-380 px/mm: {len(far)}")
    for name, v in reads:
        print(f"    {name:28s}{v:7.1f}")


def main() -> int:
    """Run the phantom grid, then the real photos."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one seed per cell")
    ap.add_argument("--seeds", type=int, default=2, help="seeds per cell (default 2)")
    ap.add_argument("-v", action="store_true", help="list misses and wrong reads")
    args = ap.parse_args()
    bench_phantoms(1 if args.quick else args.seeds)
    bench_real()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
