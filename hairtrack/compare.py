"""Compare two photos of the same view: the ``compare`` stage.

The number an injector shows a patient, so it must be about 0 when nothing changed,
right when something did, and say "unreliable" rather than guess:

1. each photo is segmented once (:func:`hairtrack.measure.analyse`), which flattens its
   lighting and reads its hair relative to its own skin, so exposure, white balance and
   a lighting gradient do not move the figures;
2. the AFTER photo is registered onto the BEFORE photo (:func:`hairtrack.align.align`)
   on what stays between visits (skin, follicle openings, the head's outline), with the
   hair suppressed. Close-ups, once registered, are also matched in quality before
   AFTER's hair is read (BEFORE is then read again): the sharper photo is blurred to
   the other's edge blur and a photo that shows no JPEG is re-encoded at the other's
   JPEG quality, so that thin and faint shafts, which a blurrier or more compressed
   photo loses, are judged alike;
3. when the registration is trusted, both photos are measured over the scalp they have
   in common (in the baseline frame, and mapped back into the AFTER frame), and the
   interval comes from resampling spatial blocks of that region, widened by the spread
   that re-photographing the same scalp gives (calibrated on phantom re-shoots,
   ``benchmarks/pairs.py``);
4. when it is not, the two photos are compared as wholes (unpaired), with a wider
   interval, and the verdict is "unreliable": a paired figure from a wrong alignment
   never comes out.

The verdict is "gain" or "loss" only when the change exceeds the minimal detectable
change (MDC) and its 95 % interval excludes zero; otherwise "no detectable change".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from hairtrack.align import Alignment, Features, align, features, warp_to_reference
from hairtrack.config import CompareParams, Params, kwargs_for
from hairtrack.geometry import local_scale
from hairtrack.jpeg import jpeg_quality, reencode_jpeg
from hairtrack.measure import (
    Analysis,
    Measurement,
    analyse,
    global_copy,
    long_hair,
    summarise,
)
from hairtrack.overlays import capture_overlay_mask
from hairtrack.region import scalp_region
from hairtrack.segment import closeup_base, closeup_base_step
from hairtrack.threads import side_by_side

__all__ = [
    "Baseline",
    "Blocks",
    "Change",
    "Comparison",
    "compare",
    "edge_blur",
    "jpeg_quality",
    "match_photometry",
    "photometry_copy",
    "read_baseline",
    "verdict_of",
]

VERDICTS = ("gain", "loss", "no detectable change", "unreliable")


@dataclass(frozen=True)
class Change:
    """How the hair changed from BEFORE to AFTER.

    Attributes
    ----------
    coverage_pp : float
        AFTER coverage minus BEFORE coverage, percentage points.
    coverage_pct : float or None
        Relative change of coverage, %; None when BEFORE has no hair.
    coverage_pct_ci : (float, float) or None
        95 % interval of ``coverage_pct``.
    hair_count_pct : float or None
        Relative change of the hair count (close-ups), %.
    width_pct : float or None
        Relative change of the mean shaft width (close-ups), %.
    mdc_pct : float
        Minimal detectable change used for the verdict, %.
    paired : bool
        Measured over the same patch of scalp (the alignment was trusted).
    verdict : {'gain', 'loss', 'no detectable change', 'unreliable'}
    """

    coverage_pp: float
    coverage_pct: float | None
    coverage_pct_ci: tuple[float, float] | None
    hair_count_pct: float | None
    width_pct: float | None
    mdc_pct: float
    paired: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (DESIGN.md's ``change`` object)."""

        def r(v: float | None, n: int = 3) -> float | None:
            return None if v is None else round(float(v), n)

        return {
            "coverage_pp": r(self.coverage_pp),
            "coverage_pct": r(self.coverage_pct, 2),
            "coverage_pct_ci": None
            if self.coverage_pct_ci is None
            else [r(self.coverage_pct_ci[0], 2), r(self.coverage_pct_ci[1], 2)],
            "hair_count_pct": r(self.hair_count_pct, 2),
            "width_pct": r(self.width_pct, 2),
            "mdc_pct": r(self.mdc_pct, 2),
            "paired": self.paired,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class Blocks:
    """Per-block pixel counts over the common region, in the BEFORE frame (change map).

    Attributes
    ----------
    size : int
        Block side, px.
    origin : (K, 2) int ndarray
        (x, y) of each block's top-left corner.
    region_px, before_px, after_px : (K,) int ndarray
        Region pixels, BEFORE hair pixels and AFTER hair pixels in each block.
    """

    size: int
    origin: np.ndarray
    region_px: np.ndarray
    before_px: np.ndarray
    after_px: np.ndarray


@dataclass(frozen=True)
class Comparison:
    """BEFORE and AFTER measured over the same scalp, their alignment and the change.

    ``to_dict`` is the JSON of ``hairtrack compare --json`` (DESIGN.md).
    """

    before: Measurement
    after: Measurement
    alignment: Alignment
    change: Change
    warnings: tuple[str, ...] = ()
    blocks: Blocks | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "alignment": self.alignment.to_dict(),
            "change": self.change.to_dict(),
            "warnings": list(self.warnings),
        }


def verdict_of(
    pct: float | None,
    ci: tuple[float, float] | None,
    *,
    paired: bool,
    mdc_pct: float,
    readable: bool = True,
) -> str:
    """The verdict on a change.

    Parameters
    ----------
    pct : float or None
        Relative change, %.
    ci : (float, float) or None
        Its 95 % interval.
    paired : bool
        Whether both photos were measured over the same patch of scalp.
    mdc_pct : float
        Minimal detectable change, %.
    readable : bool
        Whether the hair of both photos stood out from the skin enough to be read
        (:func:`compare`'s contrast check); False gives 'unreliable'.

    Returns
    -------
    {'gain', 'loss', 'no detectable change', 'unreliable'}
    """
    if not paired or not readable or pct is None or ci is None:
        return "unreliable"
    if abs(pct) < mdc_pct or ci[0] <= 0.0 <= ci[1]:
        return "no detectable change"
    return "gain" if pct > 0 else "loss"


@dataclass(frozen=True)
class Baseline:
    """What :func:`compare` reads of BEFORE alone (:func:`read_baseline`), to be reused
    for every photo compared with it.

    Attributes
    ----------
    analysis : Analysis
        BEFORE's hair and region, read as a comparison reads it.
    params_c : Params
        The parameters the pair's hair is read with (:func:`_for_comparing`).
    look : tuple of (M, N) bool ndarray and hairtrack.align.Features
        Where the registration looks in BEFORE, and BEFORE's registration features.
    shape : tuple of int
        BEFORE's (rows, columns).
    asked : tuple
        The ``view``, ``px_per_mm``, ``polarity`` and ``params`` it was read with.
    """

    analysis: Analysis
    params_c: Params
    look: tuple[np.ndarray, Features]
    shape: tuple[int, int]
    asked: tuple[Any, ...] = field(repr=False)


def read_baseline(
    before: np.ndarray,
    *,
    view: str = "auto",
    px_per_mm: float | None = None,
    polarity: str = "auto",
    params: Params | None = None,
) -> Baseline:
    """Read what :func:`compare` needs of BEFORE alone, once for all its comparisons.

    Parameters
    ----------
    before : (M, N, 3) uint8 ndarray
    view, px_per_mm, polarity, params
        As :func:`compare`'s, and the same as the comparisons it is given to.

    Returns
    -------
    Baseline
    """
    params = params or Params()
    an_b, small = _read_alone(before, view, px_per_mm, polarity, params)
    params_c = _for_comparing(an_b, params)
    if params_c is params:
        look = _before_features(before, an_b, params)
    else:
        # the registration needs only the single photo's region, which the pair's reading
        # keeps: the two side by side when threads are allowed
        single = an_b
        an_b, look = side_by_side(
            lambda: _read_again(before, single, params_c, small),
            lambda: _before_features(before, single, params),
        )
    return Baseline(
        an_b,
        params_c,
        look,
        tuple(np.shape(before)[:2]),
        (view, px_per_mm, polarity, params),
    )


def _read_again(
    before: np.ndarray, an_b: Analysis, params_c: Params, small: np.ndarray | None = None
) -> Analysis:
    """A global BEFORE's hair read as the pair's is (``params_c``,
    :func:`_for_comparing`), over the region (and so the registration) the single
    photo's analysis ``an_b`` has (``small``: BEFORE's :func:`global_copy` under
    parameters of the same working sides, when at hand)."""
    again = analyse(before, view="global", region=an_b.region_mask, params=params_c, shrunk=small)
    return dataclasses.replace(again, view_reason=an_b.view_reason)


def _read_alone(
    before: np.ndarray, view: str, px_per_mm: float | None, polarity: str, params: Params
) -> tuple[Analysis, np.ndarray | None]:
    """BEFORE's single-photo analysis, and the copy a global photo is read on
    (:func:`global_copy`; None for any other ``view``), to read it again on."""
    small = global_copy(before, params) if view == "global" else None
    an = analyse(
        before, view=view, px_per_mm=px_per_mm, polarity=polarity, params=params, shrunk=small
    )
    return an, small


def _before_features(
    before: np.ndarray, an_b: Analysis, params: Params
) -> tuple[np.ndarray, Features]:
    """Where registration looks in BEFORE, and BEFORE's registration features."""
    look = _look_masks(an_b.region_mask, an_b.view)
    return look, features(before, view=an_b.view, mask=look, **dataclasses.asdict(params.align))


def _read_single(
    before: np.ndarray, view: str, px_per_mm: float | None, polarity: str, params: Params
) -> tuple[Analysis, np.ndarray, Features, np.ndarray | None]:
    """BEFORE's single-photo analysis, where registration looks in it and its
    registration features (:func:`read_baseline` without the pair's reading again), and
    the copy a global BEFORE is read on (:func:`_read_alone`)."""
    an_b, small = _read_alone(before, view, px_per_mm, polarity, params)
    return an_b, *_before_features(before, an_b, params), small


def compare(
    before: np.ndarray,
    after: np.ndarray,
    *,
    view: str = "auto",
    px_per_mm: float | None = None,
    polarity: str = "auto",
    params: Params | None = None,
    before_path: str | None = None,
    after_path: str | None = None,
    rng: int | np.random.Generator | None = None,
    baseline: Baseline | None = None,
) -> Comparison:
    """Compare a session photo (AFTER) with the baseline photo (BEFORE) of the same view.

    Parameters
    ----------
    before, after : (M, N, 3) and (P, Q, 3) uint8 ndarray
        The two photos; they may differ in size.
    view : {'auto', 'closeup', 'global'}
        Decided on BEFORE when 'auto', and used for both.
    px_per_mm : float, optional
        Scale of the BEFORE close-up (else read from a scale bar if there is one).
    polarity : {'auto', 'dark', 'light'}
        Hair darker or lighter than skin; decided on BEFORE and used for both.
    params : Params, optional
    before_path, after_path : str, optional
        Recorded in the measurements.
    rng : int or numpy.random.Generator, optional
        For the block bootstrap; by default ``params.compare.seed``, so that the same
        pair gives the same interval.
    baseline : Baseline, optional
        :func:`read_baseline` of ``before`` with the same ``view``, ``px_per_mm``,
        ``polarity`` and ``params``: what BEFORE alone gives is then not read again (a
        baseline compared with every later session).

    Returns
    -------
    Comparison
    """
    with _one_blas_thread():
        return _compare(
            before,
            after,
            view=view,
            px_per_mm=px_per_mm,
            polarity=polarity,
            params=params,
            before_path=before_path,
            after_path=after_path,
            rng=rng,
            baseline=baseline,
        )


def _one_blas_thread() -> Any:
    """numpy's BLAS kept to one thread (a context manager).

    :func:`compare` shares the cores out itself (:func:`~hairtrack.threads.side_by_side`);
    its BLAS calls are small least-squares fits and one descriptor product, and BLAS's
    own threads (one per core, spinning between calls) competed with its threads for the
    cores: on the 12 MP close-up pair the CPU time fell from 21.3 to 19.5 times the
    decode of both (``benchmarks/speed.py``'s measure).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _compare(
    before: np.ndarray,
    after: np.ndarray,
    *,
    view: str,
    px_per_mm: float | None,
    polarity: str,
    params: Params | None,
    before_path: str | None,
    after_path: str | None,
    rng: int | np.random.Generator | None,
    baseline: Baseline | None,
) -> Comparison:
    """:func:`compare` (BLAS on one thread)."""
    params = params or Params()
    p = params.compare
    rng = np.random.default_rng(p.seed if rng is None else rng)
    align_kw = dataclasses.asdict(params.align)

    jpeg_kw = {
        "max_ratio": p.jpeg_max_ratio,
        "max_dip_ratio": p.jpeg_max_dip_ratio,
        "screen_side": p.jpeg_screen_side,
    }
    # the photos' JPEG qualities (close-ups), when read ahead
    qualities: tuple[int | None, int | None] | None = None

    # AFTER's fitting copy for relighting, when made ahead
    mov_copy: np.ndarray | None = None
    # the copies global photos are read on (:func:`global_copy`), when made ahead: each
    # photo is reduced once, not once per reading (BEFORE is read twice, AFTER's region
    # is found before it is read)
    small_b: np.ndarray | None = None
    small_a: np.ndarray | None = None
    # a close-up AFTER's capture overlays, found on it as given (for its segmentation:
    # relighting does not move them)
    overlays_a: np.ndarray | None = None

    def after_side(v: str, ahead: bool = False) -> tuple[np.ndarray, np.ndarray, Features]:
        nonlocal qualities, mov_copy, small_a, overlays_a
        small_a = global_copy(after, params) if v == "global" else None
        if v == "closeup":
            region, overlays_a = _closeup_field(after, params)
        else:
            region = _where_to_look(after, v, params, small_a)
        look = _look_masks(region, v)
        f = features(after, view=v, mask=look, **align_kw)
        # read while BEFORE's (longer) side is still read (unused if the registration
        # is refused)
        if ahead and v == "closeup" and p.match_jpeg_adaptive:
            # (on the photos as given)
            qualities = (jpeg_quality(before, **jpeg_kw), jpeg_quality(after, **jpeg_kw))
        if ahead and p.match_photometry:
            mov_copy = photometry_copy(after, p.photometry_side)
        return region, look, f

    asked = (view, px_per_mm, polarity, params)
    if baseline is not None:
        if baseline.asked != asked or baseline.shape != np.shape(before)[:2]:
            raise ValueError(
                "baseline was read from another photo or with other arguments "
                "(view, px_per_mm, polarity, params) than this comparison's"
            )
        an_b, params_c, look_b, f_b = baseline.analysis, baseline.params_c, *baseline.look
        mov_region, look_a, f_a = after_side(an_b.view)
    elif view in ("closeup", "global"):
        # BEFORE's and AFTER's own work (reading BEFORE, each photo's registration
        # features) side by side when threads are allowed
        (an_b, look_b, f_b, small_b), (mov_region, look_a, f_a) = side_by_side(
            lambda: _read_single(before, *asked),
            lambda: after_side(view, ahead=True),
        )
        params_c = _for_comparing(an_b, params)
    else:  # (AFTER's side needs the view BEFORE is read as)
        an_b = analyse(before, view=view, px_per_mm=px_per_mm, polarity=polarity, params=params)
        params_c = _for_comparing(an_b, params)
        (look_b, f_b), (mov_region, look_a, f_a) = side_by_side(
            lambda: _before_features(before, an_b, params),
            lambda: after_side(an_b.view, ahead=True),
        )
    # a global BEFORE's hair is read again as the pair's (:func:`_read_again`) while the
    # pair is registered: registration needs only the single photo's region, which the
    # pair's reading keeps (read beside the features, it lengthened the busier side)
    again = baseline is None and params_c is not params
    # the view chosen (and why) is in each measurement's view and view_reason: an
    # ordinary automatic choice is not a warning
    notes: list[str] = []
    after_in = after
    single_b = an_b

    def before_reads() -> tuple[Analysis, np.ndarray | None, float | None]:
        # what relighting and quality matching need of BEFORE alone, read while the
        # pair is registered (unused if the registration is refused)
        small = small_b if _global_sides(params_c) == _global_sides(params) else None
        an = _read_again(before, single_b, params_c, small) if again else single_b
        copy = photometry_copy(before, p.photometry_side) if p.match_photometry else None
        blur = None
        if an.view == "closeup" and p.match_sharpness:
            blur = _edge_blur_px(before, an.region_mask, p.sharpness_max_pixels, _sharp_kw(p))
        return an, copy, blur

    al, (an_b, ref_copy, blur_ahead) = side_by_side(
        lambda: align(
            before,
            after,
            view=an_b.view,
            reference_mask=look_b,
            moving_mask=look_a,
            reference_features=f_b,
            moving_features=f_a,
            **align_kw,
        ),
        before_reads,
    )

    def relight() -> np.ndarray:
        if not (al.ok and p.match_photometry):
            return after
        # relight AFTER to BEFORE on the scalp both show, before its hair is read (the
        # trimmed fit leaves out hair that moved)
        return match_photometry(
            before,
            after,
            al.homography,
            reference_valid=an_b.region_mask,
            photometry_side=p.photometry_side,
            photometry_trim=p.photometry_trim,
            photometry_skin_window=p.photometry_skin_window,
            # close-ups only: on real global photos (re-shot, pairs.py --real) it moved
            # |change| from 3.33 to 4.98 %
            photometry_skin_step=p.photometry_skin_step if an_b.view == "closeup" else 0.0,
            photometry_max_level=p.photometry_max_level if an_b.view == "closeup" else 256.0,
            reference_copy=ref_copy,
            moving_copy=mov_copy,
        )

    def quality_reads() -> tuple[int | None, int | None] | None:
        # read on the photos as given: relighting and blurring hide the JPEG's traces
        if qualities is not None or not p.match_jpeg_adaptive:
            return qualities
        return jpeg_quality(before, **jpeg_kw), jpeg_quality(after_in, **jpeg_kw)

    def read_after(after: np.ndarray, an_b: Analysis) -> Analysis:
        params_a = _read_alike(params_c, an_b)
        if al.ok and p.read_at_before_scale:
            params_a = _at_before_scale(params_a, an_b, al.homography, after.shape[:2])
        if an_b.view == "global" and an_b.unmixed is not None:
            # AFTER's hair read by the method BEFORE's got: a re-shoot's blur or light
            # moves the "strands resolved" evidence, and the two methods differ by tens of
            # points
            method = "unmixed" if an_b.unmixed else "zone"
            given = {"share_method": method}
            if an_b.hair_darker is not None:
                # ... and with the same end of the colour axis as hair
                given["share_hair_end"] = "darker" if an_b.hair_darker else "lighter"
            if al.ok and p.match_photometry and an_b.skin_lightness:
                # ... and, relit to BEFORE's skin, against BEFORE's skin lightness: each
                # photo's own skin model picks other pixels as the framing changes (a
                # real photo of dark hair zoomed by 10 % read -42 % with its own)
                given["given_skin_lightness"] = float(an_b.skin_lightness)
            params_a = params_a.replace(global_view=given)
        # (AFTER's copy made ahead, unless AFTER was relit since)
        reuse = after is after_in and _global_sides(params_a) == _global_sides(params)
        return analyse(
            after,
            view=an_b.view,
            polarity=an_b.polarity or "auto",
            region=mov_region if an_b.view == "global" else None,
            params=params_a,
            shrunk=small_a if reuse and an_b.view == "global" else None,
            overlays=overlays_a if an_b.view == "closeup" else None,
        )

    an_a = None
    if al.ok and an_b.view == "closeup":
        # (the photos' own reads need not wait for AFTER's relighting)
        after, qualities = side_by_side(relight, quality_reads)
        relit, before_in, an_b_in = after, before, an_b
        if _reencodes(qualities, p) or cv2.getNumThreads() <= 1:
            before, after, an_b = _match_quality(
                before, after, an_b, mov_region, params, notes, qualities, blur_ahead
            )
        else:
            # AFTER's hair read while the pair's blur is matched, and kept when neither
            # photo was changed (only a difference of blur can change one now)
            (before, after, an_b), an_a = side_by_side(
                lambda: _match_quality(
                    before_in, relit, an_b_in, mov_region, params, notes, qualities, blur_ahead
                ),
                lambda: read_after(relit, an_b_in),
            )
            if before is not before_in or after is not relit:
                an_a = None
    else:
        after = relight()
    if al.ok and an_b.view == "global":
        # read AFTER's hair on the scalp BEFORE shows where the two overlap: its skin
        # lightness (the darkness threshold) then comes from the same patch of scalp
        inv = dataclasses.replace(al, homography=np.linalg.inv(al.homography))
        b_in_a = warp_to_reference(an_b.region_mask, inv, after.shape[:2], nearest=True)
        b_in_a = b_in_a.astype(bool)
        if b_in_a.any():
            mov_region = b_in_a
    if an_a is None:
        an_a = read_after(after, an_b)
    mdc = p.mdc_pct_closeup if an_b.view == "closeup" else p.mdc_pct_global
    reshoot = p.reshoot_sd_pct_closeup if an_b.view == "closeup" else p.reshoot_sd_pct_global
    if al.ok:
        common_b, common_a, hair_a_in_b = _common_region(an_b, an_a, al)
        if np.count_nonzero(common_b) < p.min_common_share * np.count_nonzero(an_b.region_mask):
            notes.append("the photos share too little scalp for a paired figure")
            al = dataclasses.replace(al, ok=False, reason="too little common scalp region")
    if al.ok:
        shape_b, shape_a = an_b.region_mask.shape, an_a.region_mask.shape
        frames = (
            _footprint(al.homography, shape_a, shape_b),
            _footprint(np.linalg.inv(al.homography), shape_b, shape_a),
        )
        m_b, m_a = _summarise_both(
            an_b, common_b, an_a, common_a, params, before_path, after_path, frames
        )
        if an_b.view == "closeup" and _long_hair(m_b, m_a):
            mdc, reshoot = p.mdc_pct_closeup_long, p.reshoot_sd_pct_closeup_long
        blocks = _blocks(
            an_b.hair_mask & common_b, hair_a_in_b & common_b, common_b, n_blocks=p.blocks
        )
        se_boot = _bootstrap_se_pct(blocks, n=p.bootstrap, rng=rng)
        se = float(np.hypot(se_boot, reshoot))
        paired = True
    else:
        notes.append(
            f"the photos could not be registered ({al.reason}): the change compares the two "
            "photos as wholes, not the same patch of scalp"
        )
        m_b, m_a = _summarise_both(an_b, None, an_a, None, params, before_path, after_path)
        blocks = None
        se_b = _bootstrap_se_cov(an_b, n_blocks=p.blocks, n=p.bootstrap, rng=rng)
        se_a = _bootstrap_se_cov(an_a, n_blocks=p.blocks, n=p.bootstrap, rng=rng)
        se = None
        if m_b.coverage > 0 and m_a.coverage > 0:
            ratio = m_a.coverage / m_b.coverage
            rel = np.hypot(se_a / m_a.coverage, se_b / m_b.coverage)
            se = float(np.hypot(100 * ratio * rel, p.unpaired_sd_pct))
        paired = False
    pct = 100.0 * (m_a.coverage / m_b.coverage - 1.0) if m_b.coverage > 0 else None
    readable = _readable(an_b, an_a, p.min_hair_contrast_closeup, notes)
    if not readable and se is not None:
        # hair found only in part, which part moving with each photo's light and blur:
        # the interval says how little the figure (kept as a note) is worth
        se = float(np.hypot(se, p.faint_sd_pct_closeup))
    ci = None
    if pct is not None and se is not None:
        ci = (pct - 1.96 * se, pct + 1.96 * se)
    change = Change(
        coverage_pp=100.0 * (m_a.coverage - m_b.coverage),
        coverage_pct=pct,
        coverage_pct_ci=ci,
        hair_count_pct=_pct(m_a.hair_count, m_b.hair_count),
        width_pct=_pct(m_a.mean_width_px, m_b.mean_width_px),
        mdc_pct=mdc,
        paired=paired,
        verdict=verdict_of(pct, ci, paired=paired, mdc_pct=mdc, readable=readable),
    )
    if pct is None:
        notes.append("no hair was found in the BEFORE photo: no relative change")
    notes += [f"before: {w}" for w in m_b.warnings] + [f"after: {w}" for w in m_a.warnings]
    return Comparison(m_b, m_a, al, change, tuple(notes), blocks)


#: ``_match_quality``'s ``blur_b`` when BEFORE's blur is not read yet (None is a reading)
_UNREAD = object()


def _reencodes(qualities: tuple[int | None, int | None] | None, p: CompareParams) -> bool:
    """Whether :func:`_match_quality` will re-encode a photo, from the photos' JPEG
    qualities (:func:`jpeg_quality`, None when not read)."""
    if qualities is None:
        return bool(p.match_jpeg_quality)
    return (qualities[0] is None) != (qualities[1] is None)


def _sharp_kw(p: CompareParams) -> dict[str, Any]:
    """:func:`edge_blur`'s keyword arguments from ``compare``'s parameters."""
    return {
        "deriv_sigma": p.sharpness_deriv_sigma,
        "window": p.sharpness_window,
        "edge_quantile": p.sharpness_edge_quantile,
    }


def _match_quality(
    before: np.ndarray,
    after: np.ndarray,
    an_b: Analysis,
    after_region: np.ndarray,
    params: Params,
    notes: list[str],
    qualities: tuple[int | None, int | None] | None = None,
    blur_b: Any = _UNREAD,
) -> tuple[np.ndarray, np.ndarray, Analysis]:
    """Bring a registered close-up pair to the same compression and blur, so that thin
    and faint shafts are judged alike in both (BEFORE is re-analysed when it changed).

    The sharper photo is blurred to the other's edge blur (:func:`edge_blur`; Gaussians
    add in quadrature; a 0.8 px blur alone moved a re-shoot's change by -1 to -8 %),
    then both go through JPEG at ``compare.match_jpeg_quality`` (a photo already at that
    quality or lower hardly changes; a cleaner one loses what the other lost: a q78
    session photo against a clean baseline read blond hair 29-34 % low). With
    ``compare.match_jpeg_adaptive`` and the photos' own JPEG qualities (``qualities``,
    :func:`jpeg_quality`, None for a photo that shows no JPEG), only a clean photo is
    re-encoded, at the other's quality; two JPEGs are left as they are (re-encoding both
    at q75 moved real re-shoots by 2.9 % instead of 2.1 %, and phantoms whose baseline is
    a JPEG too gained nothing from it). ``blur_b``: BEFORE's :func:`_edge_blur_px`
    (float or None) when already read.
    """
    p = params.compare
    before_in = before
    if p.match_sharpness:
        kw = _sharp_kw(p)
        if blur_b is _UNREAD:
            blur_b = _edge_blur_px(before, an_b.region_mask, p.sharpness_max_pixels, kw)
        blur_a = _edge_blur_px(after, after_region, p.sharpness_max_pixels, kw)
        sigma = 0.0
        # soft edges (light hair's sheen) read with too little precision to compare
        if (
            blur_b is not None
            and blur_a is not None
            and max(blur_a, blur_b) > p.sharpness_min_ratio * min(blur_a, blur_b)
        ):
            d = blur_a * blur_a - blur_b * blur_b
            sigma = float(np.copysign(np.sqrt(abs(d)), d))
        if sigma > p.sharpness_min_sigma:
            before = cv2.GaussianBlur(before, (0, 0), sigma)
            notes.append(f"the baseline was blurred by {sigma:.2f} px to match the session photo")
        elif sigma < -p.sharpness_min_sigma:
            after = cv2.GaussianBlur(after, (0, 0), -sigma)
            notes.append(f"the session photo was blurred by {-sigma:.2f} px to match the baseline")
    if qualities is not None:
        q_b, q_a = qualities
        if q_b is None and q_a is not None:
            before = reencode_jpeg(before, q_a)
            notes.append(f"the baseline was re-encoded at the session photo's JPEG quality {q_a}")
        elif q_a is None and q_b is not None:
            after = reencode_jpeg(after, q_b)
            notes.append(f"the session photo was re-encoded at the baseline's JPEG quality {q_b}")
    elif p.match_jpeg_quality:
        before = reencode_jpeg(before, p.match_jpeg_quality)
        after = reencode_jpeg(after, p.match_jpeg_quality)
    if before is not before_in:
        # the same scale (a scale bar is read on the original) and polarity
        an_b = dataclasses.replace(
            analyse(
                before,
                view=an_b.view,
                px_per_mm=an_b.px_per_mm,
                polarity=an_b.polarity or "auto",
                params=_read_alike(params, an_b),
            ),
            view_reason=an_b.view_reason,
            scale_source=an_b.scale_source,
            region_mask=an_b.region_mask,
        )
    return before, after, an_b


def _edge_blur_px(
    rgb: np.ndarray, valid: np.ndarray | None, max_pixels: int, kw: dict[str, Any]
) -> float | None:
    """:func:`edge_blur` of a photo in its own px, read on a copy of at most
    ``max_pixels`` pixels (``compare.sharpness_max_pixels``).

    On a larger photo, hair shafts' edges are a falling share of the pixels whose local
    contrast is high while the skin's smooth shading is a growing one: on the 12 MP
    phantoms half of the "edges" read were such shading (>= 10 px), the median sat
    between the two modes (~10 px), and a known extra blur of 1-5 px read as 9.7-9.0 px.
    On a copy area-reduced by ``f`` the edges are read as at the benchmarks' sizes; the
    reduction adds a box of one reduced px (variance 1/12), taken out in quadrature,
    and the rest is scaled back by ``1 / f``. The grey photo is reduced (what
    :func:`edge_blur` reads of a reduced colour photo, for a third of the work; not
    halved by 2 x 2 means first, OpenCV's quick path: that read the 12 MP phantom's own
    blur 0.03-0.05 px higher).
    """
    h, w = rgb.shape[:2]
    if max_pixels <= 0 or h * w <= max_pixels:
        return edge_blur(rgb, valid, **kw)
    s = float(np.sqrt(max_pixels / float(h * w)))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
    small_valid = None
    if valid is not None and not valid.all():
        # the pixels of the copy wholly within ``valid`` (an overlay's edge stays out)
        m = cv2.resize(valid.astype(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA)
        small_valid = m == 255
    blur = edge_blur(small, small_valid, **kw)
    if blur is None:
        return None
    f = float(np.sqrt(size[0] / w * size[1] / h))
    return float(np.sqrt(max(blur * blur - 1.0 / 12.0, 0.0)) / f)


def _long_hair(m_b: Measurement, m_a: Measurement) -> bool:
    """Whether a close-up pair's hair is long: it forms one network across the field in
    either photo (its count is withheld, :attr:`hairtrack.count.HairCount.network`).

    Re-combed between two visits, such hair moves across the field, and the visible
    coverage of an unchanged scalp moves with it, about twice as much as on a clipped
    field: the pair's verdict uses ``compare.mdc_pct_closeup_long`` and
    ``compare.reshoot_sd_pct_closeup_long``.
    """
    return long_hair(m_b) or long_hair(m_a)


def _readable(an_b: Analysis, an_a: Analysis, min_contrast: float, notes: list[str]) -> bool:
    """Whether both close-ups' hair stands out from the skin enough for a verdict.

    Hair barely lighter or darker than the skin (blond on medium skin, brown on dark
    skin) is found only in part, and which part moves with the light and blur of each
    photo: on phantoms such photos read 7-36 % of their true coverage, and a re-shoot
    read -16 % "loss". A note says why the verdict is "unreliable"; the figure stays.
    """
    if an_b.view != "closeup":
        return True
    faint = [
        name
        for name, a in (("baseline", an_b), ("session photo", an_a))
        if a.hair_contrast is not None and a.hair_contrast < min_contrast
    ]
    if faint:
        notes.append(
            f"the hair hardly stands out from the skin in the {' and the '.join(faint)} "
            f"(contrast below {min_contrast:.2f}): too little of it is found for a verdict"
        )
    return not faint


def _for_comparing(an_b: Analysis, params: Params) -> Params:
    """``params`` with which a global pair's hair is read: its texture on a coarser copy
    (``compare.global_texture_preblur``), as both its photos are; ``params`` itself
    otherwise.

    The zone-level hair score of a global photo (strands not resolved) rests on a
    texture energy that falls steeply with blur, and two visits differ in focus and
    resampling: a re-shot real photo (new camera blur, resampled, noisier) read its
    coverage a median 2 % lower than the photo it was shot from. Read on copies blurred
    more than either photo's own blur, the texture changes much less with the difference
    (Gaussians add in quadrature). A single photo's ``measure``, its scalp region and
    so the registration keep the finer texture, which ranks photos of different people
    better.
    """
    blur = params.compare.global_texture_preblur
    if an_b.view != "global" or blur <= 0 or blur <= params.global_view.texture_preblur:
        return params
    return params.replace(global_view={"texture_preblur": blur})


def _read_alike(params: Params, an_b: Analysis) -> Params:
    """``params`` with a close-up's hair read in the grey image BEFORE's was read in.

    Both photos show the same scalp and hair, so the channel decided on BEFORE
    (:attr:`hairtrack.measure.Analysis.channel`) holds for AFTER. Decided afresh, a
    session photo's new white balance and light can tip it to another channel, which
    reads the same hair differently: a pair of black hair on dark skin whose coverage
    grew by 30 % read -18 % with AFTER in the blue channel and BEFORE in luma. Faint
    hair read again along its colour on BEFORE
    (:attr:`hairtrack.measure.Analysis.colour_direction`) is read along the same one on
    AFTER (relit to BEFORE), and AFTER is read so only then.
    """
    if an_b.view != "closeup":
        return params
    change: dict[str, Any] = {}
    if an_b.channel is not None and params.closeup.channel == "auto":
        change["channel"] = an_b.channel
    if an_b.colour_direction is not None:
        change["colour_direction"] = tuple(an_b.colour_direction)
    elif not any(params.closeup.colour_direction):
        change["colour_reread_below"] = 0.0
    return params.replace(closeup=change) if change else params


def _at_before_scale(
    params: Params, an_b: Analysis, homography: np.ndarray, shape: tuple[int, int]
) -> Params:
    """``params`` with a registered close-up AFTER read at BEFORE's px per mm of scalp.

    The working scale follows the shaft width the photo's own probe reads; read afresh
    on AFTER, a few tenths of a px of difference can move it (0.200 vs 0.228 on a real
    re-shot photo) and the coverage with it (+0.8 % became +8.4 %). So AFTER is given
    BEFORE's width, in AFTER's px: divided by the homography's zoom (BEFORE px per AFTER
    px) at AFTER's centre.
    """
    if an_b.view != "closeup" or not an_b.probe_width_px or params.closeup.given_width_px:
        return params
    centre = np.array([[(shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0]])
    zoom = float(local_scale(np.asarray(homography, float), centre)[0])
    if not np.isfinite(zoom) or zoom <= 0:
        return params
    return params.replace(closeup={"given_width_px": an_b.probe_width_px / zoom})


def _pct(after: float | None, before: float | None) -> float | None:
    if after is None or not before:
        return None
    return 100.0 * (after / before - 1.0)


def _summarise_both(
    an_b: Analysis,
    region_b: np.ndarray | None,
    an_a: Analysis,
    region_a: np.ndarray | None,
    params: Params,
    before_path: str | None,
    after_path: str | None,
    frames: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Measurement, Measurement]:
    """The two photos' measurements over their regions (side by side when threads are
    allowed); ``frames``: where each photo overlaps the other (:func:`_footprint`), whose
    edge cuts hairs off as the photo's own edge does."""
    import warnings

    frame_b, frame_a = frames if frames is not None else (None, None)
    # (one filter for both threads: catch_warnings is not thread-safe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notes travel in the result
        return side_by_side(
            lambda: summarise(
                an_b, region=region_b, frame=frame_b, params=params, path=before_path
            ),
            lambda: summarise(an_a, region=region_a, frame=frame_a, params=params, path=after_path),
        )


def _footprint(
    homography: np.ndarray, src_shape: tuple[int, ...], dst_shape: tuple[int, ...]
) -> np.ndarray:
    """Where a photo of ``src_shape`` lands in a frame of ``dst_shape`` under
    ``homography`` (src -> dst px), as a bool mask of ``dst_shape``.

    The edge of the overlap of two registered photos, inside a frame, cuts hairs off:
    the hair count of the common region counts such hairs as the photo's own edge does.
    """
    h, w = src_shape[:2]
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    pts = cv2.perspectiveTransform(corners[None], np.asarray(homography, float))[0]
    out = np.zeros(dst_shape[:2], np.uint8)
    cv2.fillPoly(out, [np.round(pts * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return out.view(bool)


def _where_to_look(
    rgb: np.ndarray, view: str, params: Params, small: np.ndarray | None = None
) -> np.ndarray:
    """The region of a photo before its hair is read: the field without capture overlays
    (close-ups), or the scalp (global photos; ``small``: ``global_copy(rgb, params)``
    when at hand)."""
    if view == "closeup":
        return _closeup_field(rgb, params)[0]
    p = dataclasses.asdict(params.global_view)
    # found at the working size of :func:`hairtrack.measure.analyse`, like BEFORE's
    small = global_copy(rgb, params) if small is None else small
    work = scalp_region(small, **kwargs_for(scalp_region, p)).working_mask
    up = cv2.resize(work.view(np.uint8), rgb.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    return up.view(bool)


def _closeup_field(rgb: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray | None]:
    """A close-up's field without capture overlays (:func:`capture_overlay_mask`), and
    the overlays as :func:`segment_closeup` finds them on its reduced copy
    (:func:`closeup_base`), for its ``overlays``; None when the two look at copies of
    other sizes (``closeup.overlay_max_side`` below the segmentation's copy's side)."""
    kw = params.closeup.overlay_kwargs()
    h, w = rgb.shape[:2]
    side = int(params.closeup.overlay_max_side)
    # (the step capture_overlay_mask reduces the photo by)
    step = int(np.ceil(max(h, w) / float(side))) if max(h, w) > side else 1
    if step != closeup_base_step(rgb.shape):
        return ~capture_overlay_mask(rgb, **kw), None
    # the same copy: the overlays found once, for the field and the segmentation
    found = capture_overlay_mask(closeup_base(rgb), **kw)
    full = found
    if found.shape != (h, w):
        full = cv2.resize(found.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        full = full.view(bool)
    return ~full, found


def _global_sides(params: Params) -> tuple[int, int]:
    """The sizes :func:`global_copy` depends on: a copy made under one ``params`` serves
    another with the same."""
    return params.global_view.working_side, params.global_view.share_side


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Grow ``mask`` by a disk of radius ``r`` px (to within ``r / 16`` px).

    By the Euclidean distance to the mask, on a copy reduced by ``r // 16``, rather than
    a dilation with a disk at full size: a 241 px disk on a 12 MP photo took seconds.
    """
    if not mask.any():
        return np.zeros(mask.shape, bool)
    h, w = mask.shape
    f = max(1, r // 16)
    m = mask.astype(bool).view(np.uint8)
    if f > 1:
        m = cv2.resize(m * np.uint8(255), (-(-w // f), -(-h // f)), interpolation=cv2.INTER_AREA)
        m = (m > 0).view(np.uint8)
    dist = cv2.distanceTransform(1 - m, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    grown = (dist <= r / f).view(np.uint8)
    if f > 1:
        grown = cv2.resize(grown, (w, h), interpolation=cv2.INTER_NEAREST)
    return grown.view(bool)


def _look_masks(region: np.ndarray, view: str) -> np.ndarray:
    """Where alignment may look: the close-up field, or the head with a margin around it
    (its outline is what stays put between visits)."""
    if view == "closeup":
        return region
    return _dilate(region, max(3, int(0.03 * max(region.shape))))


def _common_region(
    an_b: Analysis, an_a: Analysis, al: Alignment
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scalp both photos show: in the BEFORE frame, in the AFTER frame, and AFTER's hair
    warped into the BEFORE frame."""
    shape_b = an_b.region_mask.shape
    # AFTER's region (bit 0) and hair (bit 1) warped in one pass: nearest-neighbour
    # sampling takes the same pixel for both, as two warps would
    region_a = np.asarray(an_a.region_mask, bool).view(np.uint8)
    both = region_a | (np.asarray(an_a.hair_mask, bool).view(np.uint8) << np.uint8(1))
    both_in_b = warp_to_reference(both, al, shape_b, nearest=True)
    common_b = an_b.region_mask & (both_in_b & np.uint8(1)).view(bool)
    inv = dataclasses.replace(al, homography=np.linalg.inv(al.homography))
    # (as 0/1 bytes both ways: views, not 12 MP copies, of the same values)
    common_a = warp_to_reference(common_b.view(np.uint8), inv, an_a.region_mask.shape, nearest=True)
    common_a = common_a.view(bool) & an_a.region_mask
    hair_a_in_b = both_in_b >= 2
    return common_b, common_a, hair_a_in_b


def _blocks(hair_b: np.ndarray, hair_a: np.ndarray, region: np.ndarray, *, n_blocks: int):
    """Cut the common region's bounding box into about ``n_blocks`` square blocks."""
    rows = np.flatnonzero(region.any(axis=1))
    if len(rows) == 0:
        return Blocks(1, np.zeros((0, 2), int), *(np.zeros(0, int),) * 3)
    cols = np.flatnonzero(region.any(axis=0))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    size = max(8, int(np.sqrt(np.count_nonzero(region) / n_blocks)))
    ny, nx = -(-(y1 - y0) // size), -(-(x1 - x0) // size)
    # block edges, clipped to the box (the last row and column of blocks may be partial)
    ey = np.minimum(np.arange(ny + 1) * size, y1 - y0)
    ex = np.minimum(np.arange(nx + 1) * size, x1 - x0)

    def sums(m: np.ndarray) -> np.ndarray:
        # each row of blocks summed down its columns (OpenCV's reduce: many times quicker
        # than numpy's reduceat on a 12 MP mask), then the columns of each block
        sub = m[y0:y1, x0:x1].view(np.uint8)
        rows = np.stack(
            [
                cv2.reduce(sub[a:b], 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[0]
                for a, b in zip(ey[:-1], ey[1:], strict=True)
            ]
        )
        return np.add.reduceat(rows, ex[:-1], axis=1, dtype=np.int64).ravel()

    reg = sums(region)
    keep = reg >= 0.25 * size * size
    gy, gx = np.divmod(np.arange(ny * nx), nx)
    origin = np.stack([x0 + gx * size, y0 + gy * size], axis=1)
    return Blocks(size, origin[keep], reg[keep], sums(hair_b)[keep], sums(hair_a)[keep])


def _bootstrap_se_pct(b: Blocks, *, n: int, rng: np.random.Generator) -> float:
    """Standard error of the paired relative change (%) by resampling blocks."""
    k = len(b.region_px)
    if k < 2 or b.before_px.sum() == 0:
        return float("inf")
    idx = rng.integers(0, k, size=(n, k))
    hb = b.before_px[idx].sum(1).astype(float)
    ha = b.after_px[idx].sum(1).astype(float)
    ok = hb > 0
    return float(np.std(100.0 * (ha[ok] / hb[ok] - 1.0)))


def _bootstrap_se_cov(a: Analysis, *, n_blocks: int, n: int, rng: np.random.Generator) -> float:
    """Standard error of one photo's coverage by resampling its blocks."""
    b = _blocks(
        a.hair_mask & a.region_mask, a.hair_mask & a.region_mask, a.region_mask, n_blocks=n_blocks
    )
    k = len(b.region_px)
    if k < 2:
        return float("inf")
    idx = rng.integers(0, k, size=(n, k))
    cov = b.before_px[idx].sum(1) / np.maximum(b.region_px[idx].sum(1), 1)
    return float(np.std(cov))


def match_photometry(
    reference: np.ndarray,
    moving: np.ndarray,
    homography: np.ndarray,
    *,
    reference_valid: np.ndarray | None = None,
    photometry_side: int = 256,
    photometry_trim: float = 0.25,
    photometry_skin_window: int = 5,
    photometry_skin_step: float = 0.0,
    photometry_max_level: float = 256.0,
    reference_copy: np.ndarray | None = None,
    moving_copy: np.ndarray | None = None,
) -> np.ndarray:
    """Relight a registered photo so that its skin looks as in the reference photo.

    Fits, per colour channel and on the pixels both photos show, ``log(ref + 1) =
    a + b * log(mov + 1) + q(x, y)`` where ``q`` is a quadratic in the moving photo's
    coordinates: ``a, b`` absorb exposure, white balance and gamma, ``q`` a lighting
    gradient. With ``photometry_skin_step`` > 0 only skin where both photos are flat
    (:func:`_flat_skin`) is fitted: hair that moved between them is dark in one only,
    and fitted on, it pulls ``b`` towards 0 (a regression slope diluted by what the two
    do not share), unless its relit skin's standard error somewhere in the frame
    exceeds that of the fit on all pixels (:func:`_relight_fit`): few flat pixels, or
    all in one corner, leave the lighting gradient free to swing, and the fit on all is
    then kept. The fit is least squares, refitted without the ``photometry_trim`` share
    of worst residuals (hair that moved, dandruff, highlights), then applied to
    ``moving`` in its own frame.

    Parameters
    ----------
    reference, moving : (M, N, 3) and (P, Q, 3) uint8 ndarray
    homography : (3, 3) ndarray
        Maps ``moving`` pixels to ``reference`` pixels.
    reference_valid : (M, N) bool ndarray, optional
        Reference pixels to fit on (e.g. skin of the region: not hair, not overlays).
    photometry_side : int
        Longer side of the copies the fit is made on, px.
    photometry_trim : float
        Share of the worst-fitting pixels left out of the second fit.
    photometry_skin_window, photometry_skin_step
        Only pixels whose ``photometry_skin_window`` px square (on the copies) stays
        within ``photometry_skin_step`` of them, in log units, in both photos are fitted
        (:func:`_flat_skin`), when that fit is at least as precise as the fit on all; a
        step of 0 fits all.
    photometry_max_level : float
        A channel's pixels at or above this level (0-255) on either copy are clipped,
        or partly so, and left out of its fit; 256 keeps all.
    reference_copy, moving_copy : (m, n, 3) uint8 ndarray, optional
        ``photometry_copy(reference, photometry_side)`` and ``photometry_copy(moving,
        photometry_side)`` when already made (e.g. while the pair was being
        registered); made here otherwise.

    Returns
    -------
    (P, Q, 3) uint8 ndarray
        ``moving`` relit.
    """
    hr, wr = reference.shape[:2]
    hm, wm = moving.shape[:2]
    sr = photometry_side / max(hr, wr)
    sm = photometry_side / max(hm, wm)
    ref_u8 = (
        photometry_copy(reference, photometry_side) if reference_copy is None else reference_copy
    )
    size_r = ref_u8.shape[1::-1]
    mov_s = photometry_copy(moving, photometry_side) if moving_copy is None else moving_copy
    for name, img, copy in (("reference", reference, ref_u8), ("moving", moving, mov_s)):
        if copy.shape[1::-1] != _copy_size(img.shape, photometry_side):
            raise ValueError(f"{name}_copy is not photometry_copy({name}, photometry_side)")
    h_small = np.diag([sr, sr, 1.0]) @ homography @ np.diag([1 / sm, 1 / sm, 1.0])
    warped_u8 = cv2.warpPerspective(mov_s, h_small, size_r, flags=cv2.INTER_LINEAR)
    ref_s, warped = ref_u8.astype(np.float32), warped_u8.astype(np.float32)
    inside = (
        cv2.warpPerspective(
            np.ones(mov_s.shape[:2], np.uint8), h_small, size_r, flags=cv2.INTER_NEAREST
        )
        > 0
    )
    inside = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if reference_valid is not None:
        v = cv2.resize(reference_valid.astype(np.uint8), size_r, interpolation=cv2.INTER_NEAREST)
        inside &= v > 0
    fits = _relight_fit(
        ref_s, warped, inside, h_small, mov_s.shape, photometry_trim, photometry_max_level
    )
    if photometry_skin_step > 0:
        # skin in both photos: hair that moved (re-combing) is dark in one photo only and
        # drags the pointwise slope towards 0 (a gamma of 0.3-0.5 on pairs of the same light)
        skin = _flat_skin(ref_u8, photometry_skin_window, photometry_skin_step)
        skin &= _flat_skin(warped_u8, photometry_skin_window, photometry_skin_step)
        on_skin = _relight_fit(
            ref_s,
            warped,
            inside & skin,
            h_small,
            mov_s.shape,
            photometry_trim,
            photometry_max_level,
        )
        # ... unless too few or too bunched flat pixels pin the relighting down less well
        # over the frame than all of them (a grey-on-dark pair's 318 flat pixels were
        # known to within 0.29 log units, all pixels to within 0.02): the fit on skin is
        # unbiased, so when it is also at least as precise, it is surely no worse
        if on_skin is not None and (fits is None or on_skin[1] <= fits[1]):
            fits = on_skin
    if fits is None:
        return moving
    # the three channels at once (no split and merge of the 12 MP photo), in bands of
    # rows that stay in cache: ``(lut[v] + 1) * exp(field) - 1``, rounded, as one channel
    # at a time over the whole photo gave (the same float32 operations, pixel for pixel)
    gu, gw = np.meshgrid(np.linspace(-0.5, 0.5, 64), np.linspace(-0.5, 0.5, 48))
    fields, luts = [], []
    for coef in fits[0]:
        c0, c1, c2, c3, c4, c5, b = coef
        field = c1 * gu + c2 * gw + c3 * gu * gu + c4 * gw * gw + c5 * gu * gw
        # a lamp does not change light by more than 2x
        fields.append(np.clip(field, -0.7, 0.7).astype(np.float32))
        lut1 = np.exp(c0 + b * np.log1p(np.arange(256, dtype=np.float32))).astype(np.float32)
        luts.append(lut1.reshape(1, 256))
    gain = cv2.resize(cv2.merge(fields), (wm, hm), interpolation=cv2.INTER_LINEAR)
    lut3 = cv2.merge(luts)
    out = np.empty((hm, wm, 3), np.uint8)

    def apply(rows: range) -> None:
        for r0 in rows:
            r1 = min(hm, r0 + _APPLY_ROWS)
            v = cv2.LUT(moving[r0:r1], lut3)
            cv2.multiply(v, cv2.exp(gain[r0:r1]), dst=v)
            # (OpenCV's subtraction rounds and saturates into the uint8 photo)
            cv2.subtract(v, 1.0, dst=out[r0:r1], dtype=cv2.CV_8U)

    # the top and the bottom half side by side when threads are allowed (each band is
    # too small for OpenCV to share out)
    bands = range(0, hm, _APPLY_ROWS)
    half = len(bands) // 2
    side_by_side(lambda: apply(bands[:half]), lambda: apply(bands[half:]))
    return out


#: rows of the photo :func:`match_photometry` relights at a time (a few MB of float32 that
#: stay in cache; any number gives the same pixels)
_APPLY_ROWS = 64


def _copy_size(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """(width, height) of :func:`photometry_copy` of a photo of ``shape``."""
    h, w = shape[:2]
    s = side / max(h, w)
    return max(8, round(w * s)), max(8, round(h * s))


def photometry_copy(rgb: np.ndarray, side: int = 256) -> np.ndarray:
    """The reduced copy (longer side ``side`` px, area-averaged) of a photo that
    :func:`match_photometry` fits its relighting on.

    A large photo is first area-reduced by the largest whole number of px per copy px
    that leaves its longer side at least ``side`` (OpenCV's quick path for whole
    steps), then the rest of the way: a 12 MP photo's copy took a third of the time
    (8 ms against 24 ms), and the fit, on a smooth model of the light, does not see the
    difference of weights at the cells' edges.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    side : int
        ``photometry_side``.

    Returns
    -------
    (m, n, 3) uint8 ndarray
    """
    size = _copy_size(rgb.shape, side)
    step = max(rgb.shape[:2]) // max(int(side), 1)
    if step >= 2:
        rgb = cv2.resize(rgb, None, fx=1.0 / step, fy=1.0 / step, interpolation=cv2.INTER_AREA)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _relight_fit(
    ref_s: np.ndarray,
    warped: np.ndarray,
    mask: np.ndarray,
    h_small: np.ndarray,
    mov_shape: tuple[int, ...],
    trim: float,
    max_level: float = 256.0,
) -> tuple[list[np.ndarray], float] | None:
    """:func:`match_photometry`'s fit on the pixels of ``mask`` (fitting copies).

    Per channel, ``log(ref + 1) = a + b * log(mov + 1) + q(u, w)``, least squares, then
    refitted without the ``trim`` share of worst residuals; ``b`` is kept within
    0.75-1.35 (the gamma of a phone, not a flat image). Pixels clipped in either photo
    are left out of a channel's fit: a photo whose red is at 255 over light skin showed
    no slope, and the fitted gamma rose to 1.3-2.6 for a camera's 0.94-0.98.

    Parameters
    ----------
    ref_s, warped : (m, n, 3) float32 ndarray
        The reference copy and the moving copy warped onto it.
    mask : (m, n) bool ndarray
        Pixels to fit on.
    h_small : (3, 3) ndarray
        Moving copy pixels -> reference copy pixels.
    mov_shape : tuple
        Shape of the moving copy (its coordinates ``u, w`` span -0.5..0.5).
    trim : float
        Share of the worst-fitting pixels left out of the refit.
    max_level : float
        A channel's pixels at or above this in either copy are left out of its fit
        (clipped), unless fewer than 200 would remain.

    Returns
    -------
    (list of (7,) ndarray, float) or None
        Each channel's ``(c0, c1..c5, b)`` (constant, quadratic ``q``, slope), and the
        largest standard error, log units, of the relit skin (the channel's median
        fitted value) anywhere in the moving frame, from the refit's residuals; None
        when fewer than 200 pixels are given.
    """
    if np.count_nonzero(mask) < 200:
        return None
    # the lighting gradient belongs to the camera that took the moving photo: fit it in
    # that photo's own coordinates, so that it never extrapolates beyond its frame
    ys, xs = np.nonzero(mask)
    pts = np.stack([xs, ys], axis=1).astype(np.float64).reshape(-1, 1, 2)
    pm = cv2.perspectiveTransform(pts, np.linalg.inv(h_small)).reshape(-1, 2)
    u = np.clip(pm[:, 0] / mov_shape[1], 0, 1) - 0.5
    w = np.clip(pm[:, 1] / mov_shape[0], 0, 1) - 0.5
    base = np.stack([np.ones_like(u), u, w, u * u, w * w, u * w], axis=1)
    # where the relit skin's error is read: a grid over the moving frame
    gu, gw = (g.ravel() for g in np.meshgrid(np.linspace(-0.5, 0.5, 9), np.linspace(-0.5, 0.5, 9)))
    grid = np.stack([np.ones_like(gu), gu, gw, gu * gu, gw * gw, gu * gw], axis=1)
    coefs, worst = [], 0.0
    for c in range(3):
        y = np.log1p(ref_s[..., c][mask])
        x = np.log1p(warped[..., c][mask])
        # clipped pixels say nothing of the mapping (a bright visit's red on light skin)
        lit = (ref_s[..., c][mask] < max_level) & (warped[..., c][mask] < max_level)
        base_c = base
        if not lit.all() and np.count_nonzero(lit) >= 200:
            y, x, base_c = y[lit], x[lit], base[lit]
        a = np.column_stack([base_c, x])
        coef = _lsq(a, y)
        res = np.abs(a @ coef - y)
        keep = res <= np.quantile(res, 1.0 - trim)
        coef = _lsq(a[keep], y[keep])
        worst = max(worst, _prediction_se(a[keep], y[keep], coef, grid, float(np.median(x))))
        b = float(np.clip(coef[-1], 0.75, 1.35))  # gamma of a phone, not a flat image
        if b != coef[-1]:
            coef = _lsq(base_c[keep], y[keep] - b * x[keep])
            coef = np.append(coef, b)
        coefs.append(coef)
    return coefs, worst


def _prediction_se(
    a: np.ndarray, y: np.ndarray, coef: np.ndarray, grid: np.ndarray, x0: float
) -> float:
    """Largest standard error of a least-squares fit's value at the ``grid`` rows (with
    the slope's regressor at ``x0``), from its residuals; inf when it is singular."""
    r = y - a @ coef
    dof = len(y) - a.shape[1]
    if dof <= 0:
        return float("inf")
    try:
        cov = np.linalg.inv(a.T @ a) * float(r @ r) / dof
    except np.linalg.LinAlgError:
        return float("inf")
    g = np.column_stack([grid, np.full(len(grid), x0)])
    var = np.einsum("ij,jk,ik->i", g, cov, g)
    return float(np.sqrt(max(float(var.max()), 0.0)))


def _flat_skin(rgb: np.ndarray, window: int, max_step: float) -> np.ndarray:
    """Pixels of ``rgb`` in a flat neighbourhood: skin away from any shaft's edge.

    A pixel is kept when, in every channel, the brightest and the darkest pixel of the
    ``window`` px square around it are within ``max_step`` of it in log units (a local
    max and min filter). Skin texture and noise on the fitting copies move a few %; a
    shaft, a flake or a highlight within reach moves tens of %. A median-based test
    kept the middle of dense hair, where the median is itself hair.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    window : int
        Side of the square, px.
    max_step : float
        Largest departure, log units, of a neighbour from the pixel.

    Returns
    -------
    (M, N) bool ndarray
    """
    g = np.log1p(rgb.astype(np.float32))
    box = np.ones((max(1, int(window)),) * 2, np.uint8)
    hi = cv2.dilate(g, box) - g
    lo = g - cv2.erode(g, box)
    return ((hi <= max_step) & (lo <= max_step)).all(axis=2)


def edge_blur(
    rgb: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    deriv_sigma: float = 0.7,
    window: int = 11,
    edge_quantile: float = 0.9,
) -> float | None:
    """Blur of a photo's strong edges (hair shafts' sides), as a Gaussian sigma in px.

    A step of height ``h`` blurred by a Gaussian of sigma ``s`` has a steepest slope of
    ``h / (sqrt(2 pi) s)``. The grey photo is smoothed by ``deriv_sigma`` (so that noise
    hardly moves the slopes), and at the pixels where the slope peaks (within 3 x 3) and
    the local contrast (max - min over ``window`` px) is in the top ``1 - edge_quantile``
    share, the median slope over contrast gives ``s``; ``deriv_sigma`` is then taken
    back out in quadrature. Registration plays no part, so warping, which softens fine
    texture, does not read as blur.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        The photo (or its grey image, (M, N) uint8).
    valid : (M, N) bool ndarray, optional
        Pixels to look at.
    deriv_sigma : float
        Smoothing before the slopes are taken, px.
    window : int
        Side of the square the local contrast is taken over, px.
    edge_quantile : float
        Only edges whose local contrast is above this quantile are used.

    Returns
    -------
    float or None
        None when fewer than 50 edge pixels are found.
    """
    # (full-size float buffers are reused: at 12 MP each fresh one costs)
    g = (rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).astype(np.float32)
    cv2.GaussianBlur(g, (0, 0), deriv_sigma, dst=g)
    # central differences: the kernel's 1/2 in Sobel's scale (a power of two: exact)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=1, scale=0.5)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=1, scale=0.5)
    slope = cv2.magnitude(gx, gy, gx)
    box = np.ones((window, window), np.uint8)
    contrast = cv2.dilate(g, box)
    cv2.subtract(contrast, cv2.erode(g, box, dst=gy), dst=contrast)
    ok = np.ones(g.shape, bool) if valid is None else valid.astype(bool)
    if not ok.any():
        return None
    high = _quantile(contrast, ok, edge_quantile)
    peak = slope >= cv2.dilate(slope, np.ones((3, 3), np.uint8), dst=g)
    sel = ok & peak & (contrast >= max(5.0, high))
    if np.count_nonzero(sel) < 50:
        return None
    rho = float(np.median(slope[sel] / contrast[sel]))
    total = 1.0 / (np.sqrt(2.0 * np.pi) * max(rho, 1e-6))
    return float(np.sqrt(max(total * total - deriv_sigma * deriv_sigma, 0.0)))


def _quantile(values: np.ndarray, where: np.ndarray, q: float, *, step: int = 4) -> float:
    """``np.quantile(values[where], q)``, exactly, without sorting all of ``values[where]``.

    numpy's default ('linear') quantile interpolates between two order statistics of the
    ``n`` values. A quantile of every ``step``-th row and column brackets them (six
    standard errors either side); the values inside the bracket, a few % of all, are
    then searched for them. When the bracket misses them, or the values are few, numpy
    is called on them all. At 12 MP this is several times quicker than numpy's partition.

    Parameters
    ----------
    values : (M, N) float32 ndarray
    where : (M, N) bool ndarray
        The values to take the quantile of; at least one True.
    q : float
        Quantile, 0-1.
    step : int
        Subsampling step of the bracket's estimate.

    Returns
    -------
    float
    """
    q = float(q)
    n = int(np.count_nonzero(where))
    sub = values[::step, ::step][where[::step, ::step]]
    if n < 20_000 or sub.size < 1000:
        return float(np.quantile(values[where], q))
    virtual = (n - 1) * q  # as numpy: between order statistics lo and hi
    lo = int(np.floor(virtual))
    hi = min(lo + 1, n - 1)
    se = np.sqrt(q * (1.0 - q) / sub.size)
    pad = 6.0 * se + 2.0 / sub.size
    a, b = np.quantile(sub, [max(q - pad, 0.0), min(q + pad, 1.0)])
    below = int(np.count_nonzero(where & (values < a)))
    inside = values[where & (values >= a) & (values <= b)]
    if not below <= lo or not hi < below + inside.size:
        return float(np.quantile(values[where], q))
    inside.partition([lo - below, hi - below])
    # numpy's interpolation between them, done by numpy: on the two values, the
    # quantile at the fraction of the way between them is the same interpolation
    pair = inside[[lo - below, hi - below]]
    return float(np.quantile(pair, float(virtual - lo)))


def _lsq(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares solution of ``a @ coef = y``, by the normal equations.

    A few columns and tens of thousands of rows: far quicker than an SVD (used when the
    normal matrix is singular).
    """
    try:
        return np.linalg.solve(a.T @ a, a.T @ y)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, y, rcond=None)[0]
