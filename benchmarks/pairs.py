"""Before/after comparison against phantom truth: re-shoots, true changes, alignment.

Run:  .venv/bin/python benchmarks/pairs.py [--quick] [--view closeup|global] [--calibrate]
                                           [--real] [--config TOML] [--baseline-jpeg]
                                           [--seed N | --seeds N,N,...] [--comb-spread DEG]
                                           [--json PATH]

Each pair is one phantom scalp photographed twice: the visit with a new camera (rotation
up to +-25 deg, scale +-12 %, mild perspective, new light gradient, white balance,
exposure and gamma, blur, noise, JPEG quality 75-92) and the hair re-combed in any
direction (``--comb-spread DEG``: within DEG degrees of the baseline's) (global
photos: the head also moves against the background and clothes, up to +-12 deg, +-6 %
zoom and +-5 % shift, and the truth is the head's homography); either the
same hair (a re-shoot) or a true change of 10-40 % of the hairs, gained or lost. The
visit is JPEG-encoded and decoded, as a real photo would be (the baseline stays a clean
render unless ``--baseline-jpeg``).

The truth of each pair is the phantoms' exact hair masks over the very regions the
comparison measured (the common scalp, in each photo's own frame), so measured and true
change refer to the same scalp. Alignment error is the mean distance of the four image
corners mapped by the estimated and the true homography.

``--real`` adds real photos (../shared/realdata close-ups and global photos) warped by a
known homography and relit, with no hair change: the corner error and |coverage change|
are measured against that.

``--calibrate`` prints the re-shoot spread of the change (the minimal detectable change
and the re-shoot standard deviation beyond the block bootstrap) to put in
``hairtrack.config.CompareParams``: of the measured change over registered re-shoots of
an unchanged scalp whose hair stands out enough for a verdict (a faint pair is
"unreliable" whatever it reads), as CompareParams defines them (re-combing moves the
visible hair too), and, apart, of the measurement error against the truth.
``--seeds 0,3,4`` pools the pairs of several seeds (the calibration and the summary are
over all of them); the values in ``CompareParams`` say which seeds.

``--json PATH`` writes every pair's row (seed, truth, measured change, verdict, ...).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack import synth  # noqa: E402
from hairtrack.align import corner_error  # noqa: E402
from hairtrack.compare import _bootstrap_se_pct, compare  # noqa: E402
from hairtrack.config import Params  # noqa: E402
from hairtrack.measure import long_hair  # noqa: E402

SIZES = {"closeup": (1152, 864), "global": (768, 1024)}


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def make_pair(
    view: str,
    k: int,
    change: float,
    seed: int = 0,
    baseline_jpeg: bool = False,
    comb_spread: float | None = None,
):
    """A baseline phantom and a re-photographed visit with ``change`` of the hairs.

    With ``baseline_jpeg`` the baseline is JPEG-encoded too (quality 75-92, drawn apart
    from the rest), as a camera would save it. The visit's hair is combed in a new
    direction drawn over the whole circle, or, with ``comb_spread`` (degrees), within
    that many degrees of the baseline's (a clinic that combs and parts the hair the same
    way at every session).
    """
    rng = np.random.default_rng([seed, k, int(round(change * 1000)) + 5000, view == "global"])
    skin = list(synth.SKIN_TONES)[k % len(synth.SKIN_TONES)]
    hair = list(synth.HAIR_COLOURS)[(k // 2) % len(synth.HAIR_COLOURS)]
    w, h = SIZES[view]
    if view == "closeup":
        subject = synth.make_closeup_subject(
            rng, width=w, height=h, skin=skin, hair=hair, clipped=k % 3 != 2
        )
        render = synth.render_closeup
    else:
        subject = synth.make_global_subject(rng, width=w, height=h, skin=skin, hair=hair)
        render = synth.render_global
    first = synth.visit_state(subject, rng=rng)
    base = render(subject, first, synth.Camera(), rng=rng)
    cam = synth.random_camera(rng)
    comb = None
    if comb_spread is not None:
        turn = np.random.default_rng([seed, k, 55]).uniform(-comb_spread, comb_spread)
        comb = first.comb_deg + float(turn)
    state = synth.visit_state(subject, hair_change=change, comb_deg=comb, rng=rng)
    if view == "global":
        # the patient sits differently: the head moves against the room and the clothes
        motion = synth.random_head_motion(np.random.default_rng([seed, k, 77]))
        visit = render(subject, state, cam, rng=rng, head_motion=motion)
    else:
        visit = render(subject, state, cam, rng=rng)
    if baseline_jpeg:
        q = int(np.random.default_rng([seed, k, 99]).integers(75, 93))
        base = dataclasses.replace(base, image=_jpeg(base.image, q))
    return base, visit, _jpeg(visit.image, cam.jpeg_quality), skin, hair


def run_pair(
    view: str,
    k: int,
    change: float,
    params: Params,
    baseline_jpeg: bool = False,
    seed: int = 0,
    comb_spread: float | None = None,
) -> dict:
    base, visit, visit_img, skin, hair = make_pair(
        view, k, change, seed=seed, baseline_jpeg=baseline_jpeg, comb_spread=comb_spread
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = compare(base.image, visit_img, view=view, params=params)
    dt = time.perf_counter() - t0
    h_true = np.asarray(visit.truth["homography_to_baseline"])
    err = (
        corner_error(c.alignment.homography, h_true, base.image.shape)
        if c.alignment.homography is not None
        else np.inf
    )
    # truth over the regions the comparison measured
    tb = base.hair_mask[c.before.region_mask].mean() if c.before.region_mask.any() else np.nan
    ta = visit.hair_mask[c.after.region_mask].mean() if c.after.region_mask.any() else np.nan
    true_pct = 100 * (ta / tb - 1) if tb > 0 else np.nan
    ch = c.change
    ci = ch.coverage_pct_ci
    # the interval's block-bootstrap part, as compare drew it (its first use of the seed)
    se_blocks = (
        _bootstrap_se_pct(
            c.blocks, n=params.compare.bootstrap, rng=np.random.default_rng(params.compare.seed)
        )
        if c.blocks is not None
        else np.nan
    )
    # close-ups: the hair count's change against the hairs rooted in each photo's part of
    # the common region (what a density counts)
    true_count_pct = np.nan
    if view == "closeup" and c.alignment.ok:
        nb = _roots_in(base.truth, c.before.region_mask)
        na = _roots_in(visit.truth, c.after.region_mask)
        true_count_pct = 100 * (na / nb - 1) if nb else np.nan
    return {
        "seed": seed,
        "view": view,
        "k": k,
        "skin": skin,
        "hair": hair,
        "true_change": change,
        "true_pct": true_pct,
        "pct": ch.coverage_pct,
        "ci": ci,
        "se_blocks": se_blocks,
        "verdict": ch.verdict,
        "mdc": ch.mdc_pct,
        "ok": c.alignment.ok,
        "readable": not any("hardly stands out" in w for w in c.warnings),
        # long hair in one network (count withheld): its own MDC and spread
        "long": view == "closeup" and (long_hair(c.before) or long_hair(c.after)),
        "corner_err": err,
        "seconds": dt,
        "covered": ci is not None and ci[0] <= true_pct <= ci[1],
        "count_pct": ch.hair_count_pct,
        "true_count_pct": true_count_pct,
    }


def _roots_in(truth: dict, region: np.ndarray) -> int:
    """Truth hairs of a close-up phantom whose root lies in ``region``."""
    roots = np.asarray(truth["hair_roots_xy"], float).reshape(-1, 2)
    x, y = roots[:, 0].astype(int), roots[:, 1].astype(int)
    h, w = region.shape
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    return int(region[y[inside], x[inside]].sum())


def _jsonable(v: object) -> object:
    """numpy scalars as Python numbers (for ``--json``)."""
    return v.item() if isinstance(v, np.generic) else str(v)


def _nan(v: float | None) -> float:
    return float("nan") if v is None else v


def real_pairs(params: Params, quick: bool, views: tuple[str, ...] = ("closeup", "global")) -> dict:
    """Real photos re-shot by a known homography and new light: change must be ~0."""
    import glob

    from hairtrack.load import load_image

    root = Path(__file__).resolve().parents[2] / "shared" / "realdata"
    if not root.is_dir():
        print(f"real pairs: skipped, {root} is absent")
        return {}
    out = {}
    for view, pattern in (("closeup", "trichoscopy/*.jpg"), ("global", "global/*")):
        if view not in views:
            continue
        files = sorted(glob.glob(str(root / pattern)))[:: 4 if quick else 1]
        errs, changes, oks = [], [], []
        for k, f in enumerate(files):
            rgb = load_image(f).rgb
            h, w = rgb.shape[:2]
            rng = np.random.default_rng([21, k, view == "global"])
            cam = synth.random_camera(rng)
            shot, hom = synth.reshoot(rgb, cam, rng)  # hom: re-shot pixel -> original pixel
            shot = _jpeg(shot, cam.jpeg_quality)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                c = compare(rgb, shot, view=view, params=params)
            ok = c.alignment.ok
            oks.append(ok)
            if ok:
                errs.append(corner_error(c.alignment.homography, hom, shot.shape))
                if c.change.coverage_pct is not None:
                    changes.append(abs(c.change.coverage_pct))
            print(
                f"real {view:8}{Path(f).name:<22} ok={ok!s:<5} corner "
                f"{errs[-1] if ok else float('nan'):7.2f} px  change "
                f"{_nan(c.change.coverage_pct):+7.2f} %"
                f"  {c.change.verdict}",
                flush=True,
            )
        out[f"real {view}: alignment ok, % of re-shot photos"] = 100 * np.mean(oks)
        out[f"real {view}: corner error median, px (goal <= 2)"] = (
            np.median(errs) if errs else np.nan
        )
        out[f"real {view}: |coverage change| median, % (goal <= 2)"] = (
            np.median(changes) if changes else np.nan
        )
    return out


MISS_CAUSES = (
    "not registered (unreliable)",
    "hair too faint (unreliable)",
    "|measured| below the MDC (no detectable change)",
    "interval spans 0 (no detectable change)",
    "wrong sign (false call)",
)


def _miss_cause(r: dict, mdc: float) -> str | None:
    """Why a true change's pair did not get the right verdict (None: it did)."""
    if r["verdict"] == ("gain" if r["true_pct"] > 0 else "loss"):
        return None
    if r["verdict"] == "unreliable":
        return MISS_CAUSES[0] if not r["ok"] else MISS_CAUSES[1]
    if r["verdict"] == "no detectable change":
        return MISS_CAUSES[2] if abs(r["pct"]) < mdc else MISS_CAUSES[3]
    return MISS_CAUSES[4]


def summarise(rows: list[dict], view: str, mdc: float) -> dict:
    same = [r for r in rows if r["true_change"] == 0]
    diff = [r for r in rows if r["true_change"] != 0]
    okr = [r for r in rows if r["ok"]]
    out = {}
    if same:
        out["re-shoot |coverage change| median, % (goal <= 2)"] = np.median(
            [abs(r["pct"]) for r in same if r["pct"] is not None]
        )
        out["re-shoot |measured - true| median, pct points"] = np.median(
            [abs(r["pct"] - r["true_pct"]) for r in same if r["pct"] is not None]
        )
        reg = [r for r in same if r["ok"] and r["pct"] is not None]
        if reg:
            out["registered re-shoots: |coverage change| median, %"] = np.median(
                [abs(r["pct"]) for r in reg]
            )
            out["registered re-shoots: |measured - true| median, pct points"] = np.median(
                [abs(r["pct"] - r["true_pct"]) for r in reg]
            )
            # re-combing moves the visible hair over the common region: the truth's own
            # change is the floor of the |coverage change| goal
            out["registered re-shoots: |true change| median, % (re-combing)"] = np.median(
                [abs(r["true_pct"]) for r in reg]
            )
            out["registered re-shoots: measured - true median (bias), pct points"] = np.median(
                [r["pct"] - r["true_pct"] for r in reg]
            )
            out["registered re-shoots: verdict 'no detectable change', %"] = 100 * np.mean(
                [r["verdict"] == "no detectable change" for r in reg]
            )
        out["re-shoot verdict 'no detectable change', % (goal >= 95)"] = 100 * np.mean(
            [r["verdict"] == "no detectable change" for r in same]
        )
        # the other verdicts of a re-shoot: "unreliable" (not registered, or hair too
        # faint to read) is honest, a gain or a loss is a false call
        out["re-shoot verdict 'unreliable' (not registered or too faint), %"] = 100 * np.mean(
            [r["verdict"] == "unreliable" for r in same]
        )
        out["re-shoot verdict gain or loss (false call), % (goal 0)"] = 100 * np.mean(
            [r["verdict"] in ("gain", "loss") for r in same]
        )
    if diff:
        out["true change: |measured - true| median, pct points (goal <= 3)"] = np.median(
            [abs(r["pct"] - r["true_pct"]) for r in diff if r["pct"] is not None]
        )
        # each pair's own MDC (close-ups of long hair have theirs)
        big = [r for r in diff if abs(r["true_pct"]) > r.get("mdc", mdc)]
        if big:
            out["right sign when |true| > MDC, % (goal >= 95)"] = 100 * np.mean(
                [r["verdict"] == ("gain" if r["true_pct"] > 0 else "loss") for r in big]
            )
            # why the others missed it: each pair counted under one cause
            causes = [_miss_cause(r, r.get("mdc", mdc)) for r in big]
            out["  of those, pairs counted"] = len(big)
            for cause in MISS_CAUSES:
                out[f"  missed: {cause}, count"] = causes.count(cause)
    counted = [
        r
        for r in okr
        if r.get("count_pct") is not None and np.isfinite(r.get("true_count_pct", np.nan))
    ]
    if counted:
        # close-ups whose count both photos give (clipped): the count's change over the
        # common region against the truth's hairs rooted in it
        err = [r["count_pct"] - r["true_count_pct"] for r in counted]
        out["hair count change: |measured - true| median, pct points"] = np.median(np.abs(err))
        out["hair count change: measured - true median (bias), pct points"] = np.median(err)
        out["hair count change: pairs counted"] = len(counted)
    out["95% interval covers the truth, % of paired"] = (
        100 * np.mean([r["covered"] for r in okr]) if okr else np.nan
    )
    out["alignment ok, % of pairs"] = 100 * len(okr) / len(rows)
    out["alignment corner error median, px (goal <= 2)"] = (
        np.median([r["corner_err"] for r in okr]) if okr else np.nan
    )
    out["alignment ok with corner error > 10 px, count (goal 0)"] = sum(
        r["corner_err"] > 10 for r in okr
    )
    out["seconds per pair, median"] = np.median([r["seconds"] for r in rows])
    return {f"{view}: {k}": v for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--view", choices=["closeup", "global"], nargs="*")
    ap.add_argument(
        "--calibrate", action="store_true", help="print the re-shoot spread to put in CompareParams"
    )
    ap.add_argument("--config", type=Path, help="parameters to change (TOML)")
    ap.add_argument(
        "--real",
        action="store_true",
        help="also re-shoot real photos (../shared/realdata) by known homographies",
    )
    ap.add_argument(
        "--baseline-jpeg",
        action="store_true",
        help="JPEG-encode the phantom baselines too (quality 75-92), as a camera would",
    )
    ap.add_argument(
        "--seed",
        type=int,
        default=0,
        help="draw other phantoms and cameras (0, the default, gives the figures quoted; "
        "another seed is a held-out set for a change tuned on them)",
    )
    ap.add_argument(
        "--seeds",
        help="comma-separated seeds whose pairs are pooled (e.g. 0,3,4, the calibration "
        "seeds of CompareParams); overrides --seed",
    )
    ap.add_argument(
        "--comb-spread",
        type=float,
        metavar="DEG",
        help="comb the visit's hair within DEG degrees of the baseline's direction "
        "(default: any direction, the figures quoted)",
    )
    ap.add_argument("--json", type=Path, help="write every pair's row to this file")
    args = ap.parse_args()
    seeds = [int(v) for v in args.seeds.split(",")] if args.seeds else [args.seed]
    n = 6 if args.quick else 24
    params = Params.from_toml(args.config) if args.config else Params()
    summary = {}
    all_rows: list[dict] = []
    for view in args.view or ("closeup", "global"):
        rows = []
        changes = [0.0] * n + list(np.resize([-0.4, -0.25, -0.1, 0.1, 0.25, 0.4], n))
        for seed, (k, ch) in ((s, kc) for s in seeds for kc in enumerate(changes)):
            rows.append(
                run_pair(view, k, float(ch), params, args.baseline_jpeg, seed, args.comb_spread)
            )
            r = rows[-1]
            print(
                f"{view:8}{seed:3}{k:4} {r['skin']:<11}{r['hair']:<7} true {r['true_change']:+.2f} "
                f"truth {r['true_pct']:+7.2f}% measured "
                f"{'   n/a' if r['pct'] is None else format(r['pct'], '+7.2f')}% "
                f"{r['verdict']:<21} ok={r['ok']!s:<5} corner {r['corner_err']:7.2f} px "
                f"{r['seconds']:.1f} s",
                flush=True,
            )
        mdc = params.compare.mdc_pct_closeup if view == "closeup" else params.compare.mdc_pct_global
        summary.update(summarise(rows, view, mdc))
        all_rows += rows
        if args.calibrate:
            # the pairs a verdict is given on: registered, and hair that stands out from
            # the skin (a faint pair is "unreliable" whatever its change: its spread is
            # not what the MDC must cover)
            reg = [
                r
                for r in rows
                if r["true_change"] == 0 and r["ok"] and r["readable"] and r["pct"] is not None
            ]
            if not reg:
                print(f"\ncalibration ({view}): no re-shoot was registered, nothing to calibrate")
                continue
            # close-ups: long hair (one network, count withheld) apart, as compare does
            groups = [("", reg)]
            if view == "closeup":
                groups = [
                    (" (not long hair)", [r for r in reg if not r["long"]]),
                    (" (long hair: the _long values)", [r for r in reg if r["long"]]),
                ]
            for label, sel in groups:
                if not sel:
                    continue
                change = np.array([r["pct"] for r in sel])
                error = np.array([r["pct"] - r["true_pct"] for r in sel])
                blocks = np.array([r["se_blocks"] for r in sel])
                # CompareParams' definitions: the change re-photographing an unchanged
                # scalp gives (new camera, light and combing: the visible hair moves too);
                # the re-shoot SD is the part of its spread the block bootstrap, which
                # every paired interval has, does not already carry
                beyond = np.sqrt(max(change.var() - np.mean(blocks**2), 0.0))
                print(
                    f"\ncalibration ({view}{label}, seeds {','.join(map(str, seeds))}, "
                    f"{len(sel)} registered re-shoots): MDC (95th pct of "
                    f"|change|) = {np.percentile(np.abs(change), 95):.2f} %, re-shoot SD = "
                    f"{beyond:.2f} % (spread of the change {change.std():.2f} %, "
                    f"block bootstrap SE {np.sqrt(np.mean(blocks**2)):.2f} % rms)\n"
                    f"  (of which measurement: 95th pct of |measured - true| = "
                    f"{np.percentile(np.abs(error), 95):.2f} %, SD {error.std():.2f} %)"
                )
    if args.real:
        summary.update(real_pairs(params, args.quick, tuple(args.view or ("closeup", "global"))))
    if args.json:
        args.json.write_text(json.dumps(all_rows, indent=1, default=_jsonable))
    print(f"\nsummary (seeds {','.join(map(str, seeds))})")
    for k, v in summary.items():
        print(f"  {k:<78}{v:>8.2f}")


if __name__ == "__main__":
    main()
