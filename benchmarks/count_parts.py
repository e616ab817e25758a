"""Which mask components the clipped close-up hair count gains and loses its hairs in.

Each true hair of a clipped phantom field is drawn on its own (the hair loop of
:func:`hairtrack.synth.render_closeup` replayed by ``count_sources.true_hairs``); a hair
is held by the working mask when at least half its own pixels are in it, and belongs to
the mask component (8-connected) holding most of them. The truth of a component is the
held hairs rooted in the field (phantom truth counts a hair when its root is in the
field); its count is the hairs counted on its strokes (a stroke cut by the frame at the
weight ``count_border`` gives it). Components are grouped by their counted strokes:

- ``int1``, ``int2``, ``int3+``: not reaching the frame, with 1, 2, 3 or more strokes;
- ``cut-lone``: one stroke, cut by the frame;
- ``cut-meet``: several strokes, all cut by the frame (they meet inside the field);
- ``cut-mixed``: strokes cut by the frame and strokes that are not;
- ``lost``: rooted hairs the mask does not hold, or holds on a component where no stroke
  was counted (counted: 0).

The parts sum to the field's count error. Printed per seed: each part's signed error
(counted less rooted hairs, % of the field's truth: mean and sd over the fields); the median
|error| of the count as counted, with one part counted exactly (the others as they are),
and with the whole count scaled by a constant (how much the median moves with a
bias alone). Fields whose count is withheld (faint hair, a network of long hair) are
left out of the parts and count as a 100 % miss in the medians, as in
``benchmarks/accuracy.py``.

Run: ``.venv/bin/python benchmarks/count_parts.py [--seeds 11 12 13]``. Seed 11 draws
the fields ``benchmarks/accuracy.py --suite phantom-closeup`` scores.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np

# this checkout's package, and the hair replay of the script beside this one
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from count_sources import HELD_SHARE, true_hairs  # noqa: E402

from hairtrack import synth  # noqa: E402
from hairtrack.config import Params  # noqa: E402
from hairtrack.count import count_hairs  # noqa: E402
from hairtrack.measure import analyse, faint  # noqa: E402

PARTS = ("int1", "int2", "int3+", "cut-lone", "cut-meet", "cut-mixed", "lost")
#: Uniform scalings of the count whose median |error| is printed.
SCALES = (0.98, 0.99, 1.0, 1.01, 1.02)


def field_parts(seed: int, i: int, j: int, params: Params) -> tuple[np.ndarray, float] | None:
    """Signed error of each part (:data:`PARTS`) of one clipped field, and of its count.

    Returns
    -------
    (parts, error) : (len(PARTS),) float64 ndarray and float, or None
        Counted less rooted hairs per part, and the count less the truth, both % of the
        truth (the parts sum to the error but for the count's rounding of halves); None
        when the field's count is withheld.
    """
    ph, hairs = true_hairs(seed, i, j)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyse(ph.image, view="closeup", px_per_mm=ph.truth["px_per_mm"], params=params)
    share = np.count_nonzero(a.hair_mask & a.region_mask) / max(np.count_nonzero(a.region_mask), 1)
    if faint(a, params, share):
        return None
    if a.work_scale != 1.0:  # the hairs' own masks are in the photo's frame
        raise ValueError("phantom counted at another scale than it was drawn")
    mask = a.work_mask
    w = a.shaft_width_px * a.work_scale if a.shaft_width_px else None
    kw = params.closeup.count_kwargs()
    hc = count_hairs(mask, shaft_width_px=w, **kw)
    if hc.network or hc.at_edge is None:
        return None
    n, comp = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    mult = np.concatenate([[0], hc.multiplicity])
    cut = np.concatenate([[False], hc.at_edge])
    weight = np.where(cut, {"half": 0.5, "exclude": 0.0}.get(kw["count_border"], 1.0), 1.0)
    on = hc.labels > 0
    pairs = np.unique(np.stack([comp[on], hc.labels[on]], 1), axis=0)
    pairs = pairs[mult[pairs[:, 1]] > 0]
    counted = np.bincount(pairs[:, 0], (mult * weight)[pairs[:, 1]], n)
    n_cut = np.bincount(pairs[:, 0], cut[pairs[:, 1]], n)
    n_str = np.bincount(pairs[:, 0], minlength=n)
    kind = np.where(
        n_cut == 0,
        np.minimum(n_str, 3) - 1,  # int1, int2, int3+ (-1: nothing counted)
        np.where(n_str == 1, 3, np.where(n_cut == n_str, 4, 5)),
    )
    kind[n_str == 0] = 6  # lost
    kind[0] = 6
    # each rooted hair on the component holding most of its own pixels in the mask
    flat, lab = mask.ravel(), comp.ravel()
    truth = np.zeros(n)
    for hr in hairs:
        if not hr.rooted:
            continue
        inm = flat[hr.pix]
        if inm.mean() < HELD_SHARE:
            truth[0] += 1
            continue
        truth[np.bincount(lab[hr.pix[inm]]).argmax()] += 1
    total = float(ph.truth["hair_count"])
    if truth.sum() != total:
        raise AssertionError("the replayed rooted hairs are not the truth's count")
    parts = np.bincount(kind, counted - truth, len(PARTS))
    return 100 * parts / total, 100 * (hc.count / total - 1)


def main() -> int:
    """Print the parts of the count error of each seed's clipped fields."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[11])
    args = ap.parse_args()
    params = Params()
    pooled, pooled_withheld = [], 0
    for seed in args.seeds:
        rows = []
        for i in range(len(synth.SKIN_TONES)):
            for j in range(len(synth.HAIR_COLOURS)):
                r = field_parts(seed, i, j, params)
                if r is not None:
                    rows.append(r)
        withheld = len(synth.SKIN_TONES) * len(synth.HAIR_COLOURS) - len(rows)
        pooled += rows
        pooled_withheld += withheld
        _report(f"seed {seed}", rows, withheld)
    if len(args.seeds) > 1:
        _report(f"seeds {', '.join(map(str, args.seeds))} pooled", pooled, pooled_withheld)
    return 0


def _report(name: str, rows: list[tuple[np.ndarray, float]], withheld: int) -> None:
    """Print one group of fields' parts (see the module doc); ``withheld`` fields count
    as a 100 % miss in the medians."""
    err = np.array([r[0] for r in rows])  # per field and part, % of the field's truth
    e_all = np.array([r[1] for r in rows])

    def med(e: np.ndarray) -> float:
        return float(np.median(np.concatenate([np.abs(e), np.full(withheld, 100.0)])))

    print(
        f"clipped phantom close-ups, {name}: {len(rows)} fields counted, {withheld} withheld;"
        " per part, counted less rooted hairs, % of the field's truth (mean and sd over the"
        " fields; exact: the count's |error| median with that part counted exactly)"
    )
    print(f"  {'part':<10}{'mean %':>8}{'sd %':>7}{'exact':>7}")
    for k, part in enumerate(PARTS):
        print(
            f"  {part:<10}{err[:, k].mean():+8.2f}{err[:, k].std():7.2f}"
            f"{med(e_all - err[:, k]):7.2f}"
        )
    cut = [PARTS.index(p) for p in ("cut-lone", "cut-meet", "cut-mixed")]
    print(
        f"  count |error| median {med(e_all):.2f} % (signed {np.median(e_all):+.2f}, counted"
        " fields);"
        f" frame-cut parts exact {med(e_all - err[:, cut].sum(1)):.2f} %"
    )
    scaled = [med(100 * ((1 + e_all / 100) * s - 1)) for s in SCALES]
    print(
        "  count scaled by "
        + ", ".join(f"{s:.2f}: {m:.2f}" for s, m in zip(SCALES, scaled, strict=True))
        + " %"
    )


if __name__ == "__main__":
    sys.exit(main())
