"""A/B test of close-up count parameters: clipped phantoms of several seeds and the real set.

Each clipped phantom field is drawn as ``benchmarks/accuracy.py --suite phantom-closeup``
draws it (seed 11 is that suite's; any other seed draws fields it does not use), clean
and saved as JPEG (quality 75-92), segmented once, then counted with the default
parameters (A) and with the ones given by ``--set`` (B). Printed per seed: the clipped
count |error| median, clean / JPEG, A -> B; then pooled over the tuned seeds and over the
held-out ones, and the signed median (a change that only moves the count up or down
helps the seeds that read low and hurts the others). Fields withheld (faint hair, one
network of long hair) count as a 100 % miss, as in ``accuracy.py``.

Then, unless ``--no-real``, the real trichoscopy photos of ``../shared/realdata`` (read
in place): the count's Spearman rank correlation and mean absolute difference against
the hand boxes, A -> B (``benchmarks/realdata_closeup.py`` reads the same figures).

Only count parameters (``count_*``, :meth:`hairtrack.config.CloseupParams.count_kwargs`)
may be set: the segmentation is shared by A and B.

Run: ``.venv/bin/python benchmarks/count_ab.py --set count_step_ratio=1.8
[--seeds 11 12 13] [--held 14 15 18 19] [--no-real]``
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np

# this checkout's package, and the real-data box reader beside this script
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from hairtrack import synth  # noqa: E402
from hairtrack.config import Params  # noqa: E402
from hairtrack.count import count_hairs  # noqa: E402
from hairtrack.measure import analyse, summarise  # noqa: E402

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """``rgb`` through a JPEG file of ``quality`` (as ``accuracy.py`` saves it)."""
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _error(analysis, params: Params, truth: int) -> float:
    """Signed count error of one analysed field, %; NaN when the count is withheld."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = summarise(analysis, params=params).hair_count
    return float("nan") if n is None else 100.0 * (n / truth - 1.0)


def seed_errors(seed: int, params: list[Params]) -> np.ndarray:
    """Signed count errors, %, of the clipped fields of ``seed``.

    Returns
    -------
    (P, 2, F) float64 ndarray
        Per parameter set, clean and JPEG, per field (skin tone x hair colour).
    """
    out = []
    for i, skin in enumerate(synth.SKIN_TONES):
        for j, hair in enumerate(synth.HAIR_COLOURS):
            rng = np.random.default_rng([seed, i, j, 1])
            ph = synth.still(rng, skin=skin, hair=hair, clipped=True).phantom
            q = int(np.random.default_rng([seed, i, j, 99]).integers(75, 93))
            row = []
            for img in (ph.image, _jpeg(ph.image, q)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    a = analyse(img, view="closeup", px_per_mm=ph.truth["px_per_mm"])
                row.append([_error(a, p, ph.truth["hair_count"]) for p in params])
            out.append(row)
    return np.transpose(np.asarray(out), (2, 1, 0))


def abs_median(errors: np.ndarray) -> float:
    """Median |error|, a withheld field (NaN) counting 100 %."""
    return float(np.median(np.where(np.isnan(errors), 100.0, np.abs(errors))))


def real_counts(params: list[Params]) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the real trichoscopy photos under each parameter set, and their boxes.

    As ``benchmarks/realdata_closeup.py`` counts them (default segmentation, edge hairs
    half).
    """
    from realdata_closeup import annotated_photos, n_boxes

    from hairtrack.segment import segment_closeup

    counts, boxes = [], []
    for _, xml, rgb in annotated_photos(REALDATA / "trichoscopy"):
        seg = segment_closeup(rgb)
        w = seg.shaft_width_px * seg.work_scale if np.isfinite(seg.shaft_width_px) else None
        counts.append(
            [
                count_hairs(seg.work_mask, shaft_width_px=w, **p.closeup.count_kwargs()).count
                for p in params
            ]
        )
        boxes.append(n_boxes(xml))
    return np.asarray(counts, float).T, np.asarray(boxes, float)


def _parse_set(items: list[str]) -> dict:
    """``NAME=VALUE`` pairs (VALUE a Python literal) for count parameters."""
    names = set(Params().closeup.count_kwargs())
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in names:
            raise SystemExit(
                f"--set {item!r}: give NAME=VALUE with NAME a count parameter "
                f"({', '.join(sorted(names))})"
            )
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[name] = value
    return out


def main() -> int:
    """Print the A/B table (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13], help="tuned on")
    ap.add_argument("--held", type=int, nargs="+", default=[14, 15, 18, 19], help="held out")
    ap.add_argument("--no-real", action="store_true", help="skip the real trichoscopy set")
    args = ap.parse_args()
    change = _parse_set(args.set)
    base = Params()
    new = dataclasses.replace(base, closeup=dataclasses.replace(base.closeup, **change))
    print(f"clipped count |error| median, %, clean / JPEG: defaults -> {change or 'defaults'}")
    errs = {}
    for seed in [*args.seeds, *args.held]:
        e = seed_errors(seed, [base, new])
        errs[seed] = e
        tag = "tuned" if seed in args.seeds else "held out"
        print(
            f"  seed {seed:<3} ({tag:<8}) {abs_median(e[0, 0]):5.2f} / {abs_median(e[0, 1]):5.2f}"
            f"  ->  {abs_median(e[1, 0]):5.2f} / {abs_median(e[1, 1]):5.2f}",
            flush=True,
        )
    for name, seeds in (("tuned", args.seeds), ("held out", args.held)):
        e = np.concatenate([errs[s] for s in seeds], axis=2)
        signed = f"{np.nanmedian(e[0, 0]):+.1f} -> {np.nanmedian(e[1, 0]):+.1f}"
        print(
            f"  pooled {name:<9}      {abs_median(e[0, 0]):5.2f} / {abs_median(e[0, 1]):5.2f}"
            f"  ->  {abs_median(e[1, 0]):5.2f} / {abs_median(e[1, 1]):5.2f}"
            f"   (signed median, clean: {signed})"
        )
    if not args.no_real:
        if not REALDATA.is_dir():
            print(f"real trichoscopy: skipped, {REALDATA} is absent")
            return 0
        from scipy.stats import spearmanr

        counts, boxes = real_counts([base, new])
        rho = [spearmanr(c, boxes)[0] for c in counts]
        mad = [float(np.mean(np.abs(c - boxes))) for c in counts]
        print(
            f"real trichoscopy ({len(boxes)} photos): Spearman {rho[0]:.3f} -> {rho[1]:.3f},"
            f" MAD {mad[0]:.2f} -> {mad[1]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
