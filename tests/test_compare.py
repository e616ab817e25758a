"""compare() against phantom truth: paired, unpaired and refused pairs; bad pairs; the CLI."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from hairtrack import synth
from hairtrack.align import _ncc_significance, corner_error, features
from hairtrack.compare import (
    _blocks,
    _edge_blur_px,
    _quantile,
    compare,
    edge_blur,
    jpeg_quality,
    match_photometry,
    photometry_copy,
    read_baseline,
    verdict_of,
)
from hairtrack.config import AlignParams, Params
from hairtrack.load import load_image


def _pair(change: float, seed: int = 0, cam: synth.Camera | None = None, size=(800, 600)):
    rng = np.random.default_rng([seed, int(1000 * change) + 5000])
    subject = synth.make_closeup_subject(rng, width=size[0], height=size[1])
    base = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = cam or synth.Camera(
        rotation_deg=14,
        scale=1.06,
        shift=(0.02, -0.01),
        perspective=(0.02, 0.01),
        light_gradient=0.25,
        white_balance=(1.08, 1.0, 0.92),
        gamma=1.1,
        noise_sigma=2.0,
        blur_sigma=0.6,
    )
    visit = synth.render_closeup(
        subject, synth.visit_state(subject, hair_change=change, rng=rng), cam, rng=rng
    )
    return base, visit


def _compare(b, a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare(b, a, **kw)


def _truth_pct(c, base, visit):
    tb = base.hair_mask[c.before.region_mask].mean()
    ta = visit.hair_mask[c.after.region_mask].mean()
    return 100 * (ta / tb - 1)


def _pairs_closeup(seed: int, pair: int, skin: str, hair: str, clipped: bool, change=0.0):
    """Close-up pair ``pair`` of ``benchmarks/pairs.py --seed seed`` (its phantom, camera
    and JPEG), compared: (baseline render, visit render, comparison)."""
    rng = np.random.default_rng([seed, pair, int(1000 * change) + 5000, False])
    subject = synth.make_closeup_subject(
        rng, width=1152, height=864, skin=skin, hair=hair, clipped=clipped
    )
    base = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.random_camera(rng)
    state = synth.visit_state(subject, hair_change=change, rng=rng)
    visit = synth.render_closeup(subject, state, cam, rng=rng)
    after = _jpeg(visit.image, cam.jpeg_quality)
    return base, visit, _compare(base.image, after, view="closeup")


def test_reshoot_of_the_same_scalp_is_no_change():
    base, visit = _pair(0.0, seed=1)
    c = _compare(base.image, visit.image, view="closeup")
    assert c.alignment.ok
    h_true = np.asarray(visit.truth["homography_to_baseline"])
    assert corner_error(c.alignment.homography, h_true, visit.image.shape) < 2.0
    assert c.change.paired
    # the measured change is the true change over the same region (re-combing moves hair
    # across the region's edge, so even a re-shoot changes a little)
    assert abs(c.change.coverage_pct - _truth_pct(c, base, visit)) < 5.0
    lo, hi = c.change.coverage_pct_ci
    assert lo < _truth_pct(c, base, visit) < hi


def test_true_loss_is_found_with_the_right_size():
    base, visit = _pair(-0.4, seed=2)
    c = _compare(base.image, visit.image, view="closeup")
    assert c.alignment.ok and c.change.verdict == "loss"
    assert c.change.coverage_pct == pytest.approx(_truth_pct(c, base, visit), abs=8.0)
    assert c.change.hair_count_pct < -20
    js = c.to_dict()
    assert set(js) == {"before", "after", "alignment", "change", "warnings"}
    assert js["change"]["verdict"] == "loss" and len(js["change"]["coverage_pct_ci"]) == 2


def test_a_gain_beyond_the_mdc_read_right_is_called_a_gain():
    """``benchmarks/pairs.py --seed 0``, close-up pair 28 (brown skin, grey clipped hair,
    25 % more hairs, re-combed and re-shot): its coverage grew ~21 %, well beyond the
    MDC, and reads close to that. The block bootstrap already carries the hair that
    re-combing moves from block to block; with the whole re-shoot spread added on top
    (``compare.reshoot_sd_pct_closeup`` 4.5 until 2026-11-25) the interval reached below
    0 and the verdict was "no detectable change"."""
    base, visit, c = _pairs_closeup(0, 28, "brown", "grey", True, change=0.25)
    truth = _truth_pct(c, base, visit)
    assert c.alignment.ok and truth > c.change.mdc_pct
    assert c.change.coverage_pct == pytest.approx(truth, abs=5.0)
    lo, hi = c.change.coverage_pct_ci
    assert lo < truth < hi
    assert c.change.verdict == "gain"


@pytest.mark.parametrize("view", ["closeup", "auto"])
def test_two_threads_or_one_give_the_same_comparison(view):
    # BEFORE's and AFTER's own work runs side by side when OpenCV may use threads, one
    # after the other when it is kept to one (a report worker): the figures are the same
    base, visit = _pair(-0.4, seed=2)
    threads = cv2.getNumThreads()
    try:
        cv2.setNumThreads(2)
        two = _compare(base.image, visit.image, view=view)
        cv2.setNumThreads(1)
        one = _compare(base.image, visit.image, view=view)
    finally:
        cv2.setNumThreads(threads)
    assert two.alignment.ok and two.change.verdict == "loss"
    assert two.change.coverage_pct == pytest.approx(_truth_pct(two, base, visit), abs=8.0)
    assert np.array_equal(two.alignment.homography, one.alignment.homography)
    assert two.to_dict() == one.to_dict()


def test_a_baseline_read_once_serves_each_comparison_with_it(tmp_path):
    # one baseline, a re-shoot and a true loss: read once, the baseline gives each pair
    # what compare() alone gives, held to the truth
    from hairtrack import series

    rng = np.random.default_rng(12)
    subject = synth.make_closeup_subject(rng, width=800, height=600)
    base = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.Camera(rotation_deg=10, scale=1.05, shift=(0.02, -0.01), light_gradient=0.2)
    same, lost = (
        synth.render_closeup(
            subject, synth.visit_state(subject, hair_change=ch, rng=rng), cam, rng=rng
        )
        for ch in (0.0, -0.4)
    )
    b = read_baseline(base.image, view="closeup")
    for visit, verdict in ((same, "no detectable change"), (lost, "loss")):
        alone = _compare(base.image, visit.image, view="closeup")
        given = _compare(base.image, visit.image, view="closeup", baseline=b)
        assert given.alignment.ok and given.change.verdict == verdict
        assert given.change.coverage_pct == pytest.approx(_truth_pct(given, base, visit), abs=8.0)
        assert given.to_dict() == alone.to_dict()
    with pytest.raises(ValueError, match="baseline was read"):
        _compare(base.image, lost.image, view="global", baseline=b)
    with pytest.raises(ValueError, match="baseline was read"):
        _compare(base.image[:500], lost.image, view="closeup", baseline=b)
    # a report's worker keeps the baseline for its next comparisons, and reads it again
    # when its file changes
    paths = {}
    for name, img in (("b", base.image), ("same", same.image), ("lost", lost.image)):
        paths[name] = str(tmp_path / f"{name}.png")
        Image.fromarray(img).save(paths[name])
    p = series.Params()
    series._BASELINES.clear()
    try:
        first = series._compare_job(paths["b"], paths["same"], "closeup", p, False)
        kept = next(iter(series._BASELINES.values()))[1]
        second = series._compare_job(paths["b"], paths["lost"], "closeup", p, False)
        assert len(series._BASELINES) == 1 and next(iter(series._BASELINES.values()))[1] is kept
        assert first["change"]["verdict"] == "no detectable change"
        assert second["change"]["verdict"] == "loss"
        direct = _compare(base.image, lost.image, view="closeup", params=p)
        assert second["change"] == direct.to_dict()["change"]
        Image.fromarray(same.image).save(paths["b"])  # the file changes: read afresh
        again = series._compare_job(paths["b"], paths["same"], "closeup", p, False)
        assert next(reversed(series._BASELINES.values()))[1] is not kept
        assert again["change"]["coverage_pct"] == pytest.approx(0.0, abs=1e-9)
    finally:
        series._BASELINES.clear()


def test_dark_hair_on_dark_skin_gain_is_read_alike_in_both_photos():
    """Black hair on dark skin grown by 40 %, re-shot with a new camera, light and white
    balance: AFTER must be read in the grey image BEFORE was read in. Decided afresh,
    AFTER's channel tipped to blue and the change read -18 % "loss" against a true +30 %
    (benchmarks/pairs.py, close-up pair 41, whose phantom and camera this is)."""
    base, visit, c = _pairs_closeup(0, 41, "dark", "black", False, change=0.4)
    assert c.alignment.ok
    true_pct = _truth_pct(c, base, visit)
    assert true_pct > c.change.mdc_pct  # a true gain beyond the MDC ...
    assert c.change.verdict == "gain"  # ... must read as one
    assert c.change.coverage_pct == pytest.approx(true_pct, abs=10.0)


def test_faint_hair_gets_no_gain_or_loss():
    """Blond hair on medium skin barely stands out in any grey image: each photo found
    only part of it, and which part moved with the light, so a re-shoot of the same hair
    read -16 % "loss" (benchmarks/pairs.py --seed 1, close-up re-shoot 14, whose phantom
    and camera this is; the photos read 0.57 of their true coverage), and the faint
    guard made it "unreliable". Read along its own colour (BEFORE's direction passed on
    to AFTER), both photos read their true coverage and the re-shoot no change."""
    base, visit, c = _pairs_closeup(1, 14, "medium", "blond", True)
    assert c.alignment.ok and c.change.paired
    assert c.before.coverage == pytest.approx(
        base.hair_mask[c.before.region_mask].mean(), abs=0.015
    )
    assert c.after.coverage == pytest.approx(visit.hair_mask[c.after.region_mask].mean(), abs=0.015)
    assert abs(_truth_pct(c, base, visit)) < c.change.mdc_pct  # no true change ...
    assert c.change.verdict == "no detectable change"  # ... and no false one
    assert c.change.coverage_pct == pytest.approx(_truth_pct(c, base, visit), abs=5.0)
    assert not any("hardly stands out" in w for w in c.warnings)


def test_faint_light_long_hair_registers_and_reads_along_its_colour():
    """Close-up re-shoot 14 of ``benchmarks/pairs.py`` (seed 0; blond long hair on medium
    skin): the session photo's faint shafts were left unfilled (the dark pass, which
    filled the skin between them, filled less and was kept), the photos were matched on
    re-combed hair and the fit found was 150 px off (refused: its texture NCC 0.02 stood
    1.6 SD above wrong warps). The shafts filled, it must register within 2 px; its hair,
    read in luma as dark (the skin between the shafts) and then too faint to read
    ("unreliable", -58.7 %), is read light along its own colour: both photos within 2
    points of their true coverage and the re-shoot no change; and fits 130 px or 20
    degrees off must still fail the weak-texture check against wrong warps."""
    base, visit, c = _pairs_closeup(0, 14, "medium", "blond", False)
    h_true = np.asarray(visit.truth["homography_to_baseline"])
    assert c.alignment.ok, c.alignment.reason
    assert corner_error(c.alignment.homography, h_true, base.image.shape) < 2.0
    assert c.before.coverage == pytest.approx(base.hair_mask[c.before.region_mask].mean(), abs=0.02)
    assert c.after.coverage == pytest.approx(visit.hair_mask[c.after.region_mask].mean(), abs=0.02)
    assert c.change.verdict == "no detectable change"
    assert not any("hardly stands out" in w for w in c.warnings)
    p = AlignParams()
    ref, mov = (features(x, view="closeup").prepared for x in (base.image, visit.image))
    h = ref.to_work @ h_true @ np.linalg.inv(mov.to_work)
    rh, rw = ref.image.shape
    turn = np.vstack([cv2.getRotationMatrix2D((rw / 2, rh / 2), 20.0, 1.0), [0, 0, 1]])
    for wrong in (np.array([[1, 0, 90], [0, 1, -100], [0, 0, 1.0]]), turn):
        assert _ncc_significance(ref, mov, wrong @ h, p) < p.min_ncc_significance


@pytest.mark.parametrize("gamma", [1.0, 1.15, 0.87])
def test_relighting_a_recombed_reshoot_keeps_the_hairs_contrast(gamma):
    # re-combed hair is dark in one photo where the other shows skin: fitted on, it
    # pulled the relighting's gamma to its lower bound (contrast x0.65-0.86 here); as
    # compare() relights, with the default parameters
    rng = np.random.default_rng([3, 5000])
    subject = synth.make_closeup_subject(rng, width=800, height=600)
    base = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    state = synth.visit_state(subject, rng=rng)
    geo = synth.Camera(rotation_deg=14, scale=1.06, shift=(0.02, -0.01), perspective=(0.02, 0.01))
    cam = dataclasses.replace(geo, gamma=gamma, white_balance=(1.08, 1.0, 0.92))
    # the truth: the same visit under the baseline's light (no noise: the same pixels)
    plain = synth.render_closeup(subject, state, geo, rng=np.random.default_rng(1))
    shot = synth.render_closeup(subject, state, cam, rng=np.random.default_rng(1))
    p = Params().compare
    relit = match_photometry(
        base.image,
        shot.image,
        np.asarray(shot.truth["homography_to_baseline"]),
        photometry_side=p.photometry_side,
        photometry_trim=p.photometry_trim,
        photometry_skin_window=p.photometry_skin_window,
        photometry_skin_step=p.photometry_skin_step,
        photometry_max_level=p.photometry_max_level,
    )

    def contrast(rgb):
        v = np.log1p(rgb.astype(float))
        return v[~plain.hair_mask].mean() - v[plain.hair_mask].mean()

    assert contrast(relit) == pytest.approx(contrast(plain.image), rel=0.1)


def test_relighting_with_copies_made_ahead_is_the_same_relighting():
    """compare makes the fitting copies while the pair is registered and hands them to
    match_photometry: the relit photo must be the very one it makes itself, and copies of
    another size (another photo, another photometry_side) must be refused."""
    rng = np.random.default_rng(11)
    subject = synth.make_closeup_subject(rng, width=640, height=480)
    base = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.Camera(rotation_deg=8, scale=1.04, gamma=0.9, white_balance=(1.1, 1.0, 0.9))
    shot = synth.render_closeup(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)
    h = np.asarray(shot.truth["homography_to_baseline"])
    p = Params().compare
    kw = {
        "photometry_side": p.photometry_side,
        "photometry_skin_step": p.photometry_skin_step,
        "photometry_max_level": p.photometry_max_level,
    }
    own = match_photometry(base.image, shot.image, h, **kw)
    # (the relighting must have done something, or the comparison below says nothing)
    assert np.abs(own.astype(int) - shot.image).mean() > 1.0
    ahead = match_photometry(
        base.image,
        shot.image,
        h,
        reference_copy=photometry_copy(base.image, p.photometry_side),
        moving_copy=photometry_copy(shot.image, p.photometry_side),
        **kw,
    )
    assert np.array_equal(own, ahead)
    with pytest.raises(ValueError, match="moving_copy"):
        match_photometry(
            base.image, shot.image, h, moving_copy=photometry_copy(shot.image, 128), **kw
        )


def test_relighting_falls_back_to_all_pixels_when_flat_skin_is_scarce():
    """Grey hair on dark skin, re-shot (benchmarks/pairs.py --seed 2, close-up re-shoot
    5, whose phantom and camera this is): only ~300 pixels of the fitting copy are flat
    skin in both photos, too few to pin down the lighting gradient (fitted on them
    alone, the pair read -24 % "loss" for a true +8 %). The fit on all pixels must be
    kept, and the change read as no change."""
    base, visit, c = _pairs_closeup(2, 5, "dark", "grey", True)
    assert c.alignment.ok
    true_pct = _truth_pct(c, base, visit)
    assert abs(true_pct) < c.change.mdc_pct  # no true change ...
    assert c.change.verdict == "no detectable change"  # ... and no false one
    assert c.change.coverage_pct == pytest.approx(true_pct, abs=5.0)


def test_recombed_long_hair_reshoot_is_judged_by_long_hairs_spread():
    """Long hair, re-combed and re-shot with no hair gained or lost
    (benchmarks/pairs.py --seed 1, close-up re-shoot 2, whose phantom and camera this
    is; a seed held out of the calibration): the re-combing itself moves the visible
    coverage by ~20 %, which the comparison reads accurately. Judged by clipped
    fields' spread that read as a "gain"; the pair must be known as long hair and get
    no gain or loss."""
    base, visit, c = _pairs_closeup(1, 2, "medium", "brown", False)
    assert c.alignment.ok and c.change.paired
    p = Params().compare
    assert c.change.mdc_pct == p.mdc_pct_closeup_long  # known as long hair
    # read close to the truth: the visible coverage did move (re-combing) ...
    assert c.change.coverage_pct == pytest.approx(_truth_pct(c, base, visit), abs=5.0)
    assert c.change.verdict == "no detectable change"  # ... but no hair was gained


def test_unrelated_photos_are_refused_and_unreliable():
    a, _ = _pair(0.0, seed=3)
    b, _ = _pair(0.0, seed=4)
    c = _compare(a.image, b.image, view="closeup")
    assert not c.alignment.ok and c.alignment.reason
    assert c.change.verdict == "unreliable" and not c.change.paired
    assert any("could not be registered" in w for w in c.warnings)
    # an unpaired figure is still given, with a wide interval
    lo, hi = c.change.coverage_pct_ci
    assert hi - lo > 20


def test_verdict_rules():
    assert verdict_of(-20.0, (-30.0, -10.0), paired=True, mdc_pct=5) == "loss"
    assert verdict_of(20.0, (10.0, 30.0), paired=True, mdc_pct=5) == "gain"
    assert verdict_of(3.0, (1.0, 5.0), paired=True, mdc_pct=5) == "no detectable change"
    assert verdict_of(20.0, (-1.0, 41.0), paired=True, mdc_pct=5) == "no detectable change"
    assert verdict_of(-20.0, (-30.0, -10.0), paired=False, mdc_pct=5) == "unreliable"
    assert verdict_of(None, None, paired=True, mdc_pct=5) == "unreliable"


def test_bad_pairs_sizes_grey_and_exif_rotation(tmp_path):
    """A re-shoot saved smaller, in grey, and rotated by EXIF still registers."""
    base, visit = _pair(0.0, seed=5, cam=synth.Camera(rotation_deg=5, scale=1.0))
    before = tmp_path / "before.png"
    Image.fromarray(base.image).save(before)
    # the visit: half size, grey, stored rotated with EXIF orientation 6 (rotate 90 CW)
    small = Image.fromarray(visit.image).resize((400, 300), Image.Resampling.LANCZOS).convert("L")
    stored = small.transpose(Image.Transpose.ROTATE_90)  # what a phone stores
    exif = Image.Exif()
    exif[0x0112] = 6
    after = tmp_path / "after.jpg"
    stored.save(after, quality=92, exif=exif)
    a = load_image(after)
    assert a.rgb.shape == (300, 400, 3)
    c = _compare(load_image(before).rgb, a.rgb, view="closeup")
    assert c.alignment.ok
    h_true = np.asarray(visit.truth["homography_to_baseline"]) @ np.diag([2.0, 2.0, 1.0])
    assert corner_error(c.alignment.homography, h_true, a.rgb.shape) < 3.0
    assert c.change.verdict in ("no detectable change", "gain", "loss")


def test_cli_compare_writes_pictures_without_metadata(tmp_path):
    base, visit = _pair(-0.3, seed=6)
    b, a = tmp_path / "b.png", tmp_path / "a.jpg"
    Image.fromarray(base.image).save(b)
    Image.fromarray(visit.image).save(a, quality=90)
    out = tmp_path / "out"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "hairtrack",
            "compare",
            str(b),
            str(a),
            "--json",
            "--view",
            "closeup",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    assert js["change"]["verdict"] == "loss"
    assert np.asarray(js["alignment"]["homography"]).shape == (3, 3)
    assert json.loads((out / "compare.json").read_text())["change"] == js["change"]
    for name in ("pair.png", "change_map.png", "blink.gif"):
        assert (out / name).stat().st_size > 0
        assert not Image.open(out / name).info.get("exif")
    r = subprocess.run(
        [sys.executable, "-m", "hairtrack", "compare", str(b), str(tmp_path / "missing.jpg")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "missing.jpg" in r.stderr


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_edge_blur_reads_a_camera_blur_and_ignores_noise():
    rng = np.random.default_rng(3)
    img = np.full((300, 400, 3), 200, np.uint8)
    for _ in range(25):
        p = rng.integers(0, [400, 300], size=(2, 2))
        cv2.line(img, tuple(map(int, p[0])), tuple(map(int, p[1])), (60, 50, 40), 4, cv2.LINE_AA)
    sharp = edge_blur(img)
    soft = edge_blur(cv2.GaussianBlur(img, (0, 0), 1.0))
    noisy = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    # Gaussians add in quadrature
    assert np.sqrt(soft**2 - sharp**2) == pytest.approx(1.0, abs=0.25)
    assert abs(edge_blur(noisy) - sharp) < 0.15


def test_a_large_photos_blur_is_read_on_a_reduced_copy_in_its_own_px():
    # compare reads a photo larger than sharpness_max_pixels on an area-reduced copy
    # and scales the blur back: a known extra blur, in the photo's px, is found again
    rng = np.random.default_rng(6)
    h, w = 1800, 2400
    img = np.full((h, w, 3), 200, np.uint8)
    for _ in range(60):
        p = rng.integers(0, [w, h], size=(2, 2))
        cv2.line(img, tuple(map(int, p[0])), tuple(map(int, p[1])), (60, 50, 40), 5, cv2.LINE_AA)
    valid = np.ones((h, w), bool)
    valid[:, :100] = False
    max_pixels = 600_000
    for sigma in (1.0, 2.5):
        soft = cv2.GaussianBlur(img, (0, 0), sigma)
        sharp_px = _edge_blur_px(img, valid, max_pixels, {})
        soft_px = _edge_blur_px(soft, valid, max_pixels, {})
        assert np.sqrt(soft_px**2 - sharp_px**2) == pytest.approx(sigma, abs=0.3)
    # a photo of at most max_pixels is read whole, as edge_blur reads it
    small = img[:600, :800]
    assert _edge_blur_px(small, valid[:600, :800], 600 * 800, {}) == edge_blur(
        small, valid[:600, :800]
    )


@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 0.97, 1.0])
def test_the_quick_quantile_is_numpys(q):
    # edge_blur's threshold: numpy's quantile exactly, also with ties and a sparse mask
    rng = np.random.default_rng(11)
    smooth = cv2.GaussianBlur(rng.normal(100, 30, (301, 407)).astype(np.float32), (0, 0), 2)
    ties = np.round(rng.gamma(2.0, 8.0, (301, 407))).astype(np.float32)
    for values in (smooth, ties):
        for where in (np.ones(values.shape, bool), rng.random(values.shape) < 0.3):
            assert _quantile(values, where, q) == float(np.quantile(values[where], q))


def test_a_blurrier_compressed_reshoot_is_matched_before_reading():
    cam = synth.Camera(rotation_deg=8, blur_sigma=0.9, noise_sigma=2.0)
    base, visit = _pair(0.0, seed=4, cam=cam)
    shot = _jpeg(visit.image, 78)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = compare(base.image, shot, view="closeup")
    assert any("baseline was blurred" in w for w in c.warnings)
    truth = 100 * (
        visit.hair_mask[c.after.region_mask].mean() / base.hair_mask[c.before.region_mask].mean()
        - 1
    )
    assert abs(c.change.coverage_pct - truth) < 3.0


def test_jpeg_quality_is_read_from_the_photo_and_none_for_a_clean_one():
    rng = np.random.default_rng(5)
    subject = synth.make_closeup_subject(rng, width=640, height=480)
    clean = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    ).image
    assert jpeg_quality(clean) is None
    for q in (77, 90):
        buf = io.BytesIO()
        Image.fromarray(clean).save(buf, "JPEG", quality=q)
        saved = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        assert jpeg_quality(saved) == q


def test_jpeg_quality_screened_search_reads_every_quality_saved():
    # the known quality of each save, 50-98, found with the screen on the crop's middle
    # and with the whole crop searched at every quality
    rng = np.random.default_rng(8)
    subject = synth.make_closeup_subject(rng, width=640, height=480, hair="brown")
    cam = synth.random_camera(rng)
    shot = synth.render_closeup(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)
    for q in range(50, 99, 3):
        buf = io.BytesIO()
        Image.fromarray(shot.image).save(buf, "JPEG", quality=q)
        saved = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        assert jpeg_quality(saved) == q
        assert jpeg_quality(saved, screen_side=0) == q
    assert jpeg_quality(shot.image) is None


def test_jpeg_quality_reads_high_qualities_of_camera_like_photos():
    # re-photographed phantoms (new light, noise, blur, re-combed) saved at high
    # qualities, whose re-encoding is not exactly idempotent (subsampled colour), and
    # their clean renders. The first, a re-shoot drawn as benchmarks/pairs.py does with
    # seed 1 (pair 13), was unread by the ratio test alone.
    cases = [(np.random.default_rng([1, 13, 5000, False]), "light", "grey", 1152, 864)]
    cases += [(np.random.default_rng(s), "medium", "blond", 640, 480) for s in (31, 32)]
    for rng, skin, hair, w, h in cases:
        subject = synth.make_closeup_subject(rng, width=w, height=h, skin=skin, hair=hair)
        clean = synth.render_closeup(
            subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
        ).image
        cam = synth.random_camera(rng)
        shot = synth.render_closeup(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)
        buf = io.BytesIO()
        Image.fromarray(shot.image).save(buf, "JPEG", quality=cam.jpeg_quality)
        saved = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        assert jpeg_quality(clean) is None, (skin, hair)
        assert jpeg_quality(saved) == cam.jpeg_quality, (skin, hair, cam.jpeg_quality)


def test_blocks_count_the_pixels_of_each_block():
    # the truth: each block's pixels counted one by one; a region off the frame's edges
    # (partial blocks at its right and bottom), blocks under a quarter full left out
    rng = np.random.default_rng(1)
    for h, w in ((900, 1300), (37, 53)):
        region = np.zeros((h, w), bool)
        region[h // 7 : h - h // 5, w // 9 : w - 3] = True
        region[h // 7 : h // 3, w // 9 : w // 4] = False
        hb, ha = rng.random((h, w)) < 0.3, rng.random((h, w)) < 0.2
        b = _blocks(hb & region, ha & region, region, n_blocks=64)
        assert len(b.origin) > 10
        for k, (x, y) in enumerate(b.origin):
            sl = (slice(y, y + b.size), slice(x, x + b.size))
            assert b.region_px[k] == region[sl].sum() >= 0.25 * b.size**2
            assert b.before_px[k] == (hb & region)[sl].sum()
            assert b.after_px[k] == (ha & region)[sl].sum()
        assert b.region_px.sum() > 0.9 * region.sum()


def test_closeup_overlays_found_once_serve_the_field_and_the_segmentation():
    """A close-up's capture overlays, found once on the segmentation's reduced copy,
    leave the burned-in boxes (truth) out of the field as the search on the full photo
    does, and segmenting with them gives what the segmentation's own search gives."""
    from hairtrack.compare import _closeup_field
    from hairtrack.overlays import capture_overlay_mask
    from hairtrack.segment import closeup_base, segment_closeup

    rng = np.random.default_rng(5)
    # over 1400 px: the reduced copy is a half, brought back up for the field
    subject = synth.make_closeup_subject(rng, width=1600, height=1200, px_per_mm=150.0)
    ph = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng, overlay=True
    )
    params = Params()
    field, found = _closeup_field(ph.image, params)
    assert found is not None and found.shape == closeup_base(ph.image).shape[:2]
    assert np.array_equal(field, ~capture_overlay_mask(ph.image, **params.closeup.overlay_kwargs()))
    # the header bar wholly, the scale bar's thin lines (part of their box) at least
    left_out = [
        (~field[y : y + h, x : x + w]).mean() for x, y, w, h in ph.truth["overlay_boxes_xywh"]
    ]
    assert len(left_out) == 2 and left_out[0] > 0.99 and left_out[1] > 0.05
    kw = params.closeup.segment_kwargs()
    own, given = segment_closeup(ph.image, **kw), segment_closeup(ph.image, overlays=found, **kw)
    assert np.array_equal(own.mask, given.mask) and np.array_equal(own.region, given.region)
    with pytest.raises(ValueError, match="overlays"):
        segment_closeup(ph.image, overlays=found[:-1], **kw)
