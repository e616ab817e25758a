"""Which hair-suppression order registration keeps on close-ups, against phantom truth.

Run:  .venv/bin/python benchmarks/suppress_order.py [--seeds 0,1,2,3,4] [--cache DIR]

Close-ups are registered on their skin with the hair filled in
(:func:`hairtrack.align._suppress_hair`): a dark pass (black-hat) and a light pass
(top-hat), in either order, and one order's result is kept. For each photo of
``benchmarks/pairs.py``'s close-up pairs (the baseline and the JPEG visit), this prints,
for both orders, the share of the photo filled, the recall and precision of the filled
pixels against the phantom's true hair mask (at the working scale) and their mean
distance to the mask's edge (and that of the pixels filled by its passes in colour);
then which order the rule in ``hairtrack.align`` keeps (the thinner fill, decided after
the passes in colour when one is ``AlignParams.hair_order_early_ratio`` times deeper:
"early"), which the earlier rule (the order that fills less) kept, and which is closer
to the truth (recall x precision); last, on how many photos the early decision kept
another order than the full comparison would have. ``--cache DIR`` keeps each rendered pair
(``make_pair``'s output, pickled) there, so that a second run renders nothing.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pairs import make_pair  # noqa: E402

from hairtrack import align  # noqa: E402
from hairtrack.config import AlignParams  # noqa: E402
from hairtrack.morph import mean_depth  # noqa: E402

N = 24
CHANGES = [0.0] * N + list(np.resize([-0.4, -0.25, -0.1, 0.1, 0.25, 0.4], N))


def _pair(seed: int, k: int, cache: Path | None):
    """``make_pair('closeup', k, ...)`` of ``pairs.py``, from ``cache`` when there."""
    path = None if cache is None else cache / f"pair_{seed}_{k}.pkl"
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())[1]
    out = make_pair("closeup", k, float(CHANGES[k]), seed=seed)
    if path is not None:
        path.write_bytes(pickle.dumps((float(CHANGES[k]), out)))
    return out


def orders(rgb: np.ndarray, truth: np.ndarray, p: AlignParams) -> list[tuple[float, ...]]:
    """(filled share, recall, precision, mean depth px, mean depth px after the passes in
    colour) of the dark-first and the light-first order, as ``align._prepare`` runs them
    on a close-up."""
    h, w = rgb.shape[:2]
    f = min(1.0, float(np.sqrt(p.max_work_pixels / float(h * w))))
    wh, ww = max(align.MIN_SIDE, round(h * f)), max(align.MIN_SIDE, round(w * f))
    small = cv2.resize(rgb, (ww, wh), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    tm = cv2.resize(truth.astype(np.uint8), (ww, wh), interpolation=cv2.INTER_NEAREST) > 0
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    rgbf = small.astype(np.float32)
    chroma = np.maximum(rgbf[..., 0] - rgbf[..., 2], 0.0) if p.hair_use_colour else None
    side = max(wh, ww)
    opts = {
        "kernel_px": align._odd(p.hair_kernel_closeup * side),
        "min_contrast": p.hair_min_contrast,
        "min_elongation": p.hair_min_elongation,
        "min_length_px": p.hair_min_length * side,
        "max_kernel_px": 15,
        "max_thickness_px": p.hair_max_thickness_closeup * side,
        "thickness_on_core": p.hair_thickness_core,
    }
    out = []
    for order in ((True, False), (False, True)):
        staged = align._chroma_passes(gray, chroma, order, p.hair_colour_contrast, opts)
        _, hair = align._gray_passes(staged[0], staged[2], order, opts)
        hit = float((hair & tm).sum())
        out.append(
            (
                float(hair.mean()),
                hit / max(float(tm.sum()), 1.0),
                hit / max(float(hair.sum()), 1.0),
                mean_depth(hair),
                mean_depth(staged[2]),
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--cache", type=Path, help="keep the rendered pairs here (pickles)")
    args = ap.parse_args()
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)
    p = AlignParams()
    changed, better, worse = 0, [], []
    early = early_other = photos = 0
    for seed in (int(s) for s in args.seeds.split(",")):
        for k in range(2 * N):
            base, visit, visit_img, skin, hair = _pair(seed, k, args.cache)
            for name, rgb, truth in (
                ("baseline", base.image, base.hair_mask),
                ("visit", visit_img, visit.hair_mask),
            ):
                (f0, r0, p0, d0, c0), (f1, r1, p1, d1, c1) = orders(rgb, truth, p)
                full = 0 if d0 <= d1 else 1  # align._suppress_hair: the thinner fill ...
                kept, how = full, ""
                lo, hi = min(c0, c1), max(c0, c1)
                ratio = p.hair_order_early_ratio
                if p.hair_use_colour and ratio > 0 and lo > 0 and hi >= ratio * lo:
                    # ... decided after the passes in colour
                    kept, how = (0 if c0 <= c1 else 1), " early"
                    early += 1
                    early_other += kept != full
                photos += 1
                before = 0 if f0 <= f1 else 1  # the earlier rule: the smaller fill
                score = (r0 * p0, r1 * p1)
                print(
                    f"{seed:3}{k:4} {name:<9}{skin:<11}{hair:<7}"
                    f"dark first: filled {f0:.3f} recall {r0:.2f} precision {p0:.2f} "
                    f"depth {d0:5.2f} | light first: filled {f1:.3f} recall {r1:.2f} "
                    f"precision {p1:.2f} depth {d1:5.2f} | colour depths {c0:5.2f} {c1:5.2f} | "
                    f"kept {'dark light'.split()[kept]}{how}",
                    flush=True,
                )
                if kept != before:
                    changed += 1
                    gain = score[kept] - score[before]
                    (better if gain > 0 else worse).append(gain)
    print(
        f"\nphotos whose kept order differs from the smaller fill's: {changed}; closer to "
        f"the truth (recall x precision) on {len(better)} "
        f"({', '.join(f'{g:+.3f}' for g in sorted(better))}), further on {len(worse)} "
        f"({', '.join(f'{g:+.3f}' for g in sorted(worse))}); decided early on {early} of "
        f"{photos}, another order than the full comparison's on {early_other}"
    )


if __name__ == "__main__":
    main()
