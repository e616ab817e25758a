"""Registration of a session photo onto its baseline, held to the phantoms' true homography.

The real-photo tests read ``../shared/realdata`` (never copied into the repository) and
skip when it is absent.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from hairtrack import synth
from hairtrack.align import (
    Alignment,
    _box_shares,
    _correlation,
    _dense_polish,
    _detect,
    _match,
    _ncc_significance,
    _ratio_matches,
    _suppress_hair,
    _two_nearest,
    align,
    corner_error,
    features,
    warp_to_reference,
)
from hairtrack.config import AlignParams, Params

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def _jpeg(rgb: np.ndarray, quality: int = 88) -> np.ndarray:
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _closeup_pair(seed, camera, *, hair_change=0.0, comb_deg=None, size=(640, 480), **kw):
    """Baseline and a re-shot visit of one close-up site: (ref, mov, true H)."""
    rng = np.random.default_rng(seed)
    subject = synth.make_closeup_subject(rng, width=size[0], height=size[1], **kw)
    before = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    state = synth.visit_state(subject, hair_change=hair_change, comb_deg=comb_deg, rng=rng)
    after = synth.render_closeup(subject, state, camera, rng=rng)
    h_true = np.asarray(after.truth["homography_to_baseline"])
    return _jpeg(before.image, 92), _jpeg(after.image, camera.jpeg_quality or 92), h_true


CAMERA = synth.Camera(
    rotation_deg=14.0,
    scale=1.08,
    shift=(0.02, -0.03),
    perspective=(0.03, -0.02),
    light_gradient=0.25,
    light_angle_deg=40.0,
    white_balance=(1.1, 1.0, 0.9),
    exposure=0.9,
    gamma=1.12,
    blur_sigma=0.6,
    noise_sigma=2.0,
    jpeg_quality=85,
)


def test_closeup_pair_with_known_camera_registers_to_the_true_homography():
    ref, mov, h_true = _closeup_pair(1, CAMERA, comb_deg=120.0)
    al = align(ref, mov)
    assert al.ok, al.reason
    assert al.model == "homography"
    assert corner_error(al.homography, h_true, mov.shape) < 2.0
    assert al.inliers >= 25 and al.rmse_px is not None and al.rmse_px < 2.0
    assert 0.7 < al.overlap <= 1.0


def test_halved_keypoints_sit_where_the_blobs_are():
    """Keypoints found on the halved copy, brought back to the working image, sit on the
    centres of dark blobs drawn at known sub-pixel places (half a px off would show)."""
    rng = np.random.default_rng(0)
    h, w = 540, 720
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centres = np.array(
        [
            (x + rng.uniform(-0.5, 0.5), y + rng.uniform(-0.5, 0.5))
            for y in range(30, h - 20, 40)
            for x in range(30, w - 20, 40)
        ]
    )
    img = np.full((h, w), 200.0, np.float32)
    for cx, cy in centres:
        img -= 120 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 4.0**2))
    img = np.clip(img, 0, 255).astype(np.uint8)
    xy, _ = _detect(img, None, AlignParams(), halved=True)
    dist = np.linalg.norm(xy[:, None, :] - centres[None], axis=2)
    near = dist.min(1) < 1.5
    assert near.sum() > len(centres)
    err = xy[near] - centres[dist.argmin(1)[near]]
    assert np.all(np.abs(np.median(err, axis=0)) < 0.1)


def test_block_matching_polishes_a_fit_off_by_a_pixel_or_two():
    ref, mov, h_true = _closeup_pair(1, CAMERA, comb_deg=120.0)
    p = AlignParams()
    f_ref, f_mov = features(ref), features(mov)
    to_ref, to_mov = f_ref.prepared.to_work, f_mov.prepared.to_work
    h_work = to_ref @ h_true @ np.linalg.inv(to_mov)
    off = np.array([[1.0, 0.004, 1.5], [-0.003, 1.0, -1.0], [0.0, 0.0, 1.0]])
    rough = off @ h_work
    full = np.linalg.inv(to_ref) @ rough @ to_mov
    assert corner_error(full, h_true, mov.shape) > 1.5
    polished = _dense_polish(f_ref.prepared, f_mov.prepared, rough, p)
    assert polished is not None
    _, h1, src, dst = polished
    assert len(src) >= p.min_inliers and len(src) == len(dst)
    full = np.linalg.inv(to_ref) @ h1 @ to_mov
    assert corner_error(full, h_true, mov.shape) < 0.5


def test_features_made_apart_serve_every_alignment_of_a_baseline():
    # a baseline's features, made once, register two session photos as align() alone does
    ref, mov1, h1 = _closeup_pair(1, CAMERA, comb_deg=120.0)
    cam2 = dataclasses.replace(CAMERA, rotation_deg=-9.0, scale=0.95)
    ref2, mov2, h2 = _closeup_pair(1, cam2, comb_deg=120.0)
    assert np.array_equal(ref2, ref)  # (the same baseline, shot again with another camera)
    f_ref = features(ref, view="closeup")
    for mov, h_true in ((mov1, h1), (mov2, h2)):
        alone = align(ref, mov)
        given = align(ref, mov, reference_features=f_ref, moving_features=features(mov))
        assert given.ok and corner_error(given.homography, h_true, mov.shape) < 2.0
        assert np.array_equal(given.homography, alone.homography)
        assert (given.inliers, given.model, given.ncc) == (alone.inliers, alone.model, alone.ncc)
    # features made for another view, other parameters or another photo are refused
    with pytest.raises(ValueError, match="reference_features"):
        align(ref, mov1, view="global", reference_features=f_ref)
    with pytest.raises(ValueError, match="reference_features"):
        align(ref, mov1, reference_features=f_ref, min_inliers=40)
    with pytest.raises(ValueError, match="moving_features"):
        align(ref, mov1[:400], moving_features=features(mov1))


def test_global_pair_registers():
    rng = np.random.default_rng(3)
    subject = synth.make_global_subject(rng, width=480, height=640, skin="medium", hair="black")
    before = synth.render_global(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.random_camera(rng)
    after = synth.render_global(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)
    h_true = np.asarray(after.truth["homography_to_baseline"])
    al = align(_jpeg(before.image), _jpeg(after.image, cam.jpeg_quality), view="global")
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, after.image.shape) < 2.0


def _global_pair_with_head_motion(seed, *, truth=False):
    """A crown re-shot where the patient sits differently: the head moves against the
    background and clothes; the truth is the head's homography (with ``truth``: the
    re-shot photo's whole truth record instead)."""
    rng = np.random.default_rng(seed)
    subject = synth.make_global_subject(rng, width=480, height=640, skin="medium", hair="black")
    before = synth.render_global(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.random_camera(rng)
    motion = synth.HeadMotion(rotation_deg=9.0, scale=1.05, shift=(0.04, -0.03))
    after = synth.render_global(
        subject, synth.visit_state(subject, rng=rng), cam, rng=rng, head_motion=motion
    )
    h_true = after.truth if truth else np.asarray(after.truth["homography_to_baseline"])
    return _jpeg(before.image), _jpeg(after.image, cam.jpeg_quality), h_true


@pytest.mark.parametrize("seed", [3, 4])
def test_global_pair_with_head_motion_is_not_registered_on_the_room(seed):
    ref, mov, h_true = _global_pair_with_head_motion(seed)
    al = align(ref, mov, view="global")
    # the background and clothes give far more matches than the head: a fit that follows
    # them must be refused
    if al.ok:
        assert corner_error(al.homography, h_true, mov.shape) < 10.0
    else:
        assert al.homography is None or corner_error(al.homography, h_true, mov.shape) > 10.0


@pytest.mark.parametrize("seed", [3, 4])
def test_scalp_skin_tells_the_head_fit_from_the_room_fit(seed):
    # the skin of the thinning crown stays on the head while hair is redrawn and the
    # room moves: under the head's homography it lines up, under the room's it lands off
    from hairtrack.align import _head_skin_check

    ref, mov, truth = _global_pair_with_head_motion(seed, truth=True)
    p = AlignParams()
    no_inliers = (np.zeros((0, 2)), np.eye(3))
    head = np.asarray(truth["homography_to_baseline"])
    room = np.asarray(truth["room_homography_to_baseline"])
    zero, best, off, _ = _head_skin_check(ref, mov, None, None, head, *no_inliers, p)
    assert zero > 0.3 and (off <= p.head_skin_max_shift_px or best - zero <= p.head_skin_min_gain)
    zero, best, off, _ = _head_skin_check(ref, mov, None, None, room, *no_inliers, p)
    assert off > p.head_skin_max_shift_px and best - zero > p.head_skin_min_gain


@pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 4): on phantom crowns the head shows too little that stays "
    "(hair hides the scalp, outline and ear are fuzzy): features on the head do not repeat, "
    "and the skin of the thinning zone (the one stable texture, used to refuse room fits) "
    "sits in the head's centre with a broad correlation peak, so a fit on it extrapolates "
    "to 4-9 px at the head's outline; a head that moved against the room is not "
    "registered yet",
)
def test_global_pair_with_head_motion_registers_on_the_head():
    ref, mov, h_true = _global_pair_with_head_motion(3)
    al = align(ref, mov, view="global")
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 3.0


def test_recombed_pair_with_30_percent_hair_loss_still_aligns():
    ref, mov, h_true = _closeup_pair(
        4, CAMERA, hair_change=-0.3, comb_deg=250.0, skin="brown", hair="black", clipped=False
    )
    al = align(ref, mov)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 2.0


def test_long_hair_on_dark_skin_registers_by_block_matching_the_skin():
    """Long dense hair on dark skin leaves few distinctive features: the rough fallback fit
    (33 px off at the corners here, and not refused) is refined by block matching the skin
    around it."""
    rng = np.random.default_rng([3, 31])
    subject = synth.make_closeup_subject(
        rng, width=800, height=600, skin="dark", hair="grey", clipped=False
    )
    before = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.random_camera(rng)
    after = synth.render_closeup(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)
    h_true = np.asarray(after.truth["homography_to_baseline"])
    mov = _jpeg(after.image, cam.jpeg_quality)
    al = align(before.image, mov)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 2.0


def test_block_matching_does_not_register_unrelated_dark_long_hair_phantoms():
    a, _, _ = _closeup_pair(12, synth.Camera(), skin="dark", hair="brown", clipped=False)
    b, _, _ = _closeup_pair(13, CAMERA, skin="dark", hair="brown", clipped=False)
    al = align(a, b)
    assert not al.ok and al.reason


def _dark_skin_pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``benchmarks/pairs.py``'s close-up pair 35 of seed 0 (brown long hair on dark skin
    grown by 40 %, new camera, light and JPEG): (baseline, visit, true H)."""
    rng = np.random.default_rng([0, 35, 400 + 5000, False])
    subject = synth.make_closeup_subject(
        rng, width=1152, height=864, skin="dark", hair="brown", clipped=False
    )
    base = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.random_camera(rng)
    visit = synth.render_closeup(
        subject, synth.visit_state(subject, hair_change=0.4, rng=rng), cam, rng=rng
    )
    h_true = np.asarray(visit.truth["homography_to_baseline"])
    return base.image, _jpeg(visit.image, cam.jpeg_quality), h_true


def _pairs_py_pair(
    seed: int, k: int, change: float, skin: str, hair: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``benchmarks/pairs.py``'s close-up pair ``k`` of ``seed`` (long hair, as every
    ``k % 3 == 2``): (baseline, visit, true H)."""
    return _pairs_py_pair_and_hair(seed, k, change, skin, hair)[:3]


def _pairs_py_pair_and_hair(
    seed: int, k: int, change: float, skin: str, hair: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_pairs_py_pair`, and the visit's true hair mask."""
    rng = np.random.default_rng([seed, k, round(change * 1000) + 5000, False])
    subject = synth.make_closeup_subject(
        rng, width=1152, height=864, skin=skin, hair=hair, clipped=False
    )
    base = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    cam = synth.random_camera(rng)
    visit = synth.render_closeup(
        subject, synth.visit_state(subject, hair_change=change, rng=rng), cam, rng=rng
    )
    h_true = np.asarray(visit.truth["homography_to_baseline"])
    return base.image, _jpeg(visit.image, cam.jpeg_quality), h_true, visit.hair_mask


@pytest.mark.parametrize(
    ("seed", "k", "change", "skin", "hair"),
    [(4, 29, 0.4, "dark", "grey"), (0, 47, 0.4, "dark", "blond")],
)
def test_light_long_hair_on_dark_skin_registers_from_a_rough_start(seed, k, change, skin, hair):
    """Light long hair, re-combed, covers 60-75 % of dark skin: the rough fallback fit is
    36-65 px off at the corners, beyond the reach of block matching within 16 px, and the
    six-by-six texture tiles, mostly hair, shift at random under the right fit (9.5 px on
    median for seed 4's pair). Both pairs were refused; they must register within 2 px."""
    ref, mov, h_true = _pairs_py_pair(seed, k, change, skin, hair)
    al = align(ref, mov)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 2.0


def test_dense_grey_long_hair_on_dark_skin_is_filled_not_the_skin_between():
    """pairs.py seed 3 pair 29's visit: grey long hair grown by 40 % covers 48 % of dark
    skin. In colour the shafts' network reads 4.9 px deep with the rim that blur and JPEG
    leave around them (over ``hair_max_thickness_closeup``, 4.6 px here), 3.9 px on its
    core: measured on the whole piece it was left, the wedges of skin between the shafts
    were filled instead (91 % of the skin, 80 % of the hair)."""
    _, mov, _, truth = _pairs_py_pair_and_hair(3, 29, 0.4, "dark", "grey")
    p = AlignParams()
    hair = features(mov, view="closeup", **dataclasses.asdict(p)).prepared.hair
    truth = truth.astype(bool)
    assert hair.shape == truth.shape  # (the working scale is the photo's own here)
    assert hair[truth].mean() > 0.95
    assert hair[~truth].mean() < 0.75


@pytest.mark.parametrize(
    ("seed", "k", "change", "skin", "hair"),
    [(3, 29, 0.4, "dark", "grey"), (1, 23, 0.0, "dark", "blond")],
)
def test_dense_light_long_hair_on_dark_skin_registers(seed, k, change, skin, hair):
    """Two pairs.py pairs that were refused: seed 3's pair 29 (its visit's skin was
    filled, not its hair: the test above) and seed 1's pair 23, blond, a re-shoot, whose
    block matching of the skin, started from the true homography itself, agrees in
    under 40 % of the patches at 24 px (``dense_loose_rounds``). Both must register
    within 2 px."""
    ref, mov, h_true = _pairs_py_pair(seed, k, change, skin, hair)
    al = align(ref, mov)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 2.0


def test_dense_blond_long_hair_registers_with_its_other_hair_order():
    """pairs.py seed 3 pair 47: blond long hair grown by 40 % over dark skin. Its visit's
    fill of the wedges of skin between the shafts reads thinner (8.5 px) than the fill of
    the shafts (10.7 px) and was kept: refused, too few consistent matches. Refused in
    that order, the visit is prepared again with the other (``hair_order_retry_closeup``),
    and the pair must register within 2 px; without the retry it is refused, not
    registered wrong."""
    ref, mov, h_true = _pairs_py_pair(3, 47, 0.4, "dark", "blond")
    refused = align(ref, mov, hair_order_retry_closeup=False)
    assert not refused.ok and refused.reason
    al = align(ref, mov)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 2.0


def test_a_hair_order_can_be_asked_for():
    gray = np.full((200, 200), 180.0, np.float32)
    cv2.line(gray, (20, 40), (180, 120), 40.0, 5)
    kw = {"kernel_px": 21, "either_polarity_first": True}
    for order in ("dark", "light"):
        _, hair, kept, open_ = _suppress_hair(gray, **kw, order=order)
        assert kept == order and not open_
    _, hair, kept, _ = _suppress_hair(gray, **kw)
    assert kept in ("dark", "light") and hair[80, 100]  # the dark shaft is filled
    with pytest.raises(ValueError, match="hair_order_closeup"):
        align(
            np.zeros((100, 100, 3), np.uint8),
            np.zeros((100, 100, 3), np.uint8),
            hair_order_closeup="up",
        )


def test_weak_texture_of_dark_skin_is_judged_against_wrong_warps():
    """Dark skin has little texture against its noise: under the TRUE homography its
    texture NCC is far below ``min_ncc_closeup`` (a fixed threshold refused right fits),
    yet far above what the same texture gives under wrong warps; wrong warps (shifted,
    turned) of the same photos must not pass."""
    ref_img, mov_img, h_true = _dark_skin_pair()
    p = AlignParams()
    ref, mov = (features(x).prepared for x in (ref_img, mov_img))
    h = ref.to_work @ h_true @ np.linalg.inv(mov.to_work)
    ncc = _correlation(ref, mov, h, p)[0]
    assert ncc < p.min_ncc_closeup  # the case: the fixed threshold refuses the truth
    assert _ncc_significance(ref, mov, h, p) >= p.min_ncc_significance
    rh, rw = ref.image.shape
    turn = np.vstack([cv2.getRotationMatrix2D((rw / 2, rh / 2), 3.0, 1.0), [0, 0, 1]])
    for wrong in (np.array([[1, 0, 30], [0, 1, -20], [0, 0, 1.0]]), turn):
        assert _ncc_significance(ref, mov, wrong @ h, p) < p.min_ncc_significance


def test_dark_skin_pair_with_weak_texture_registers():
    """The dark-skin pair above is registered within 2 px of the truth (its right fit
    was refused for its texture NCC of 0.11, below ``min_ncc_closeup``)."""
    ref_img, mov_img, h_true = _dark_skin_pair()
    al = align(ref_img, mov_img)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov_img.shape) < 2.0


def test_unrelated_phantoms_are_refused_with_a_reason():
    a, _, _ = _closeup_pair(10, synth.Camera())
    b, _, _ = _closeup_pair(11, synth.Camera())
    al = align(a, b)
    assert not al.ok
    assert al.reason
    assert json.loads(json.dumps(al.to_dict()))["ok"] is False


@pytest.mark.skipif(
    not (REALDATA / "trichoscopy").is_dir(), reason="../shared/realdata/trichoscopy absent"
)
def test_unrelated_real_closeups_are_refused():
    files = sorted((REALDATA / "trichoscopy").glob("*.jpg"))
    a, b = (cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files[2:4])
    al = align(a, b)
    assert not al.ok
    assert al.reason


@pytest.mark.skipif(
    not (REALDATA / "trichoscopy_series" / "A366").is_dir(),
    reason="../shared/realdata/trichoscopy_series absent",
)
def test_series_fields_of_different_visits_are_refused():
    folder = REALDATA / "trichoscopy_series" / "A366"
    a = cv2.cvtColor(cv2.imread(str(folder / "220110_A366_1.jpg")), cv2.COLOR_BGR2RGB)
    b = cv2.cvtColor(cv2.imread(str(folder / "220706_A366_1.jpg")), cv2.COLOR_BGR2RGB)
    assert not align(a, b).ok


def test_identical_images_give_the_identity():
    ref, _, _ = _closeup_pair(2, synth.Camera())
    al = align(ref, ref.copy())
    assert al.ok, al.reason
    assert al.model == "similarity"
    assert corner_error(al.homography, np.eye(3), ref.shape) < 0.1
    assert al.overlap > 0.99


def test_different_sizes_and_a_grey_moving_image():
    ref, mov, h_true = _closeup_pair(5, CAMERA, comb_deg=30.0)
    # the session photo comes smaller and without colour
    f = 0.75
    small = cv2.resize(mov, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    small_grey = np.dstack([grey, grey, grey])
    sx = small.shape[1] / mov.shape[1]
    sy = small.shape[0] / mov.shape[0]
    to_small = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1.0]])
    h_small = h_true @ np.linalg.inv(to_small)
    al = align(ref, small_grey)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_small, small_grey.shape) < 2.0


def _relit_warp(ref: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A known random homography with a fixed new light: gradient, white balance, gamma."""
    rng = np.random.default_rng(seed)
    cam = dataclasses.replace(
        synth.random_camera(rng, photometric=False),
        light_gradient=0.3,
        white_balance=(1.08, 1.0, 0.9),
        gamma=1.15,
    )
    mov, hom = synth.reshoot(ref, cam, rng)
    return _jpeg(mov, 80), hom


@pytest.mark.skipif(
    not (REALDATA / "trichoscopy").is_dir(), reason="../shared/realdata/trichoscopy absent"
)
def test_real_closeup_warped_by_a_known_homography():
    path = sorted((REALDATA / "trichoscopy").glob("*.jpg"))[0]
    ref = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    mov, h_true = _relit_warp(ref, 7)
    al = align(ref, mov)
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 2.0


@pytest.mark.skipif(not (REALDATA / "global").is_dir(), reason="../shared/realdata/global absent")
def test_real_global_photo_warped_by_a_known_homography():
    path = REALDATA / "global" / "group2_30.png"
    bgra = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    ref = np.ascontiguousarray(cv2.cvtColor(bgra[..., :3], cv2.COLOR_BGR2RGB))
    mov, h_true = _relit_warp(ref, 8)
    al = align(ref, mov, view="global")
    assert al.ok, al.reason
    assert corner_error(al.homography, h_true, mov.shape) < 2.0


def _look_masks(rgb: np.ndarray) -> np.ndarray:
    """Where :func:`hairtrack.compare.compare` lets a global photo's alignment look."""
    from hairtrack.compare import _look_masks, _where_to_look

    return _look_masks(_where_to_look(rgb, "global", Params()), "global")


def _head_error(h_est: np.ndarray, h_true: np.ndarray, head: np.ndarray) -> float:
    """Mean distance, px, of the corners of ``head``'s bounding box mapped by the two."""
    ys, xs = np.nonzero(head)
    box = np.array([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.max(), ys.max()]], float)
    est = cv2.perspectiveTransform(box[None], np.asarray(h_est, float))[0]
    true = cv2.perspectiveTransform(box[None], np.asarray(h_true, float))[0]
    return float(np.linalg.norm(est - true, axis=1).mean())


def _real_head_motion(ref: np.ndarray, seed: int) -> tuple:
    """Re-shoot a real global photo with the head (hair, scalp and face skin, with a margin) moving
    by one homography and the room around it (filled in where the head was) by another.

    Returns (mov, H_head: re-shot px -> ``ref`` px, the head in the re-shot photo).
    """
    from hairtrack.region import scalp_region

    h, w = ref.shape[:2]
    found = scalp_region(ref)
    region = cv2.resize(found.head_mask.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    r = max(2, int(0.03 * max(h, w)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    head = cv2.dilate(region, disk)
    room = cv2.inpaint(ref, cv2.dilate(head, disk) * np.uint8(255), r, cv2.INPAINT_TELEA)
    alpha = cv2.GaussianBlur(head.astype(np.float32), (0, 0), max(1.0, r / 3.0))
    rng = np.random.default_rng(seed)
    cam = synth.random_camera(rng)
    h_head = cam.homography(w, h)
    ys, xs = np.nonzero(region)
    motion = synth.random_head_motion(rng)
    h_room = motion.homography((float(xs.mean()), float(ys.mean())), w, h) @ h_head

    def shoot(img, hom, border=cv2.BORDER_REFLECT_101):
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        return cv2.warpPerspective(img, hom, (w, h), flags=flags, borderMode=border)

    a = shoot(alpha, h_head, cv2.BORDER_CONSTANT)[..., None]
    scene = shoot(ref.astype(np.float32) / 255, h_head) * a + shoot(
        room.astype(np.float32) / 255, h_room / h_room[2, 2]
    ) * (1 - a)
    mov = synth.apply_camera(scene.astype(np.float32), cam, rng)
    head_mov = shoot(region.astype(np.float32), h_head, cv2.BORDER_CONSTANT) > 0.5
    return _jpeg(mov, cam.jpeg_quality or 90), h_head, head_mov


@pytest.mark.skipif(not (REALDATA / "global").is_dir(), reason="../shared/realdata/global absent")
def test_real_global_photo_whose_room_moved_registers_on_the_head():
    # the wallpaper and fabric around a real head move apart from it: the hair mass and
    # the matches' spread are judged on the head (the look masks), where the fit holds
    bgra = cv2.imread(str(REALDATA / "global" / "group1_12.png"), cv2.IMREAD_UNCHANGED)
    ref = np.ascontiguousarray(cv2.cvtColor(bgra[..., :3], cv2.COLOR_BGR2RGB))
    mov, h_head, head = _real_head_motion(ref, 5)
    al = align(
        ref, mov, view="global", reference_mask=_look_masks(ref), moving_mask=_look_masks(mov)
    )
    assert al.ok, al.reason
    assert _head_error(al.homography, h_head, head) < 2.0


@pytest.mark.parametrize("seed", [3, 4])
def test_global_pair_with_head_motion_and_look_masks_is_not_registered_on_the_room(seed):
    # as compare() calls it: the look masks keep the hair maps on the head, and a fit that
    # follows the room's band around the head must still be refused
    ref, mov, h_true = _global_pair_with_head_motion(seed)
    al = align(
        ref, mov, view="global", reference_mask=_look_masks(ref), moving_mask=_look_masks(mov)
    )
    if al.ok:
        assert corner_error(al.homography, h_true, mov.shape) < 10.0
    else:
        assert al.homography is None or corner_error(al.homography, h_true, mov.shape) > 10.0


def test_warp_to_reference_maps_a_moving_mask_onto_the_reference_frame():
    ref, mov, h_true = _closeup_pair(1, CAMERA, comb_deg=120.0)
    truth = Alignment(True, h_true, "homography", 100, 0.5, 0.9, "")
    mask = np.zeros(mov.shape[:2], bool)
    mask[200:260, 300:380] = True
    warped = warp_to_reference(mask, truth, ref.shape)
    assert warped.dtype == bool and warped.shape == ref.shape[:2]
    centre = np.array(np.nonzero(warped)).mean(axis=1)[::-1]
    expect = cv2.perspectiveTransform(np.array([[[339.5, 229.5]]]), h_true)[0, 0]
    assert np.hypot(*(centre - expect)) < 1.5
    img = warp_to_reference(mov, truth, ref.shape)
    assert img.dtype == np.uint8 and img.shape == ref.shape
    with pytest.raises(ValueError, match="no homography"):
        warp_to_reference(mask, Alignment(False, None, "none", 0, None, 0.0, "x"), ref.shape)


def test_suppress_hair_removes_a_shaft_and_keeps_a_pore():
    gray = np.full((200, 200), 180.0, np.float32)
    cv2.line(gray, (20, 40), (180, 120), 40.0, 5)
    cv2.circle(gray, (60, 150), 4, 120.0, -1)
    out, hair, *_ = _suppress_hair(gray, kernel_px=21)
    assert hair[80, 100] and abs(out[80, 100] - 180.0) < 15  # on the line
    assert not hair[150, 60] and out[150, 60] == 120.0  # the pore stays


def test_suppress_hair_fills_dense_light_hair_not_the_skin_between():
    # a network of light shafts crossing over dark skin (spans the photo, so it is not
    # elongated as a whole; the skin between reads as dark ridges if looked for first)
    rng = np.random.default_rng(3)
    gray = np.full((400, 400), 60.0, np.float32)
    truth = np.zeros((400, 400), np.uint8)
    for _ in range(30):
        p = rng.uniform(0, 400, 2)
        a = rng.uniform(0, np.pi)
        q = p + 600 * np.array([np.cos(a), np.sin(a)])
        p = p - 600 * np.array([np.cos(a), np.sin(a)])
        cv2.line(gray, tuple(map(int, p)), tuple(map(int, q)), 190.0, 3)
        cv2.line(truth, tuple(map(int, p)), tuple(map(int, q)), 1, 3)
    kw = {"kernel_px": 21, "min_length_px": 4.0}
    _, old, *_ = _suppress_hair(gray, **kw)
    out, hair, *_ = _suppress_hair(gray, **kw, max_thickness_px=1.6, either_polarity_first=True)
    near = cv2.dilate(truth, np.ones((5, 5), np.uint8)).astype(bool)
    # the shafts are filled, and what is filled is (near) the shafts
    assert hair[truth > 0].mean() > 0.95
    assert (hair & near).sum() / hair.sum() > 0.95
    assert hair.mean() < old.mean()
    assert abs(float(np.median(out[truth > 0])) - 60.0) < 15  # filled with skin


@pytest.mark.parametrize("seed", [1, 3, 4, 5])
def test_suppress_hair_fills_faint_light_shafts_not_the_skin_between(seed):
    # faint light shafts (about 15 % above the skin) lying nearly parallel over blotchy
    # skin: the light pass finds the shafts, the dark pass (first) the strips of skin
    # between them, which fill less of the photo here. (Seeds 1, 3, 4, 5 of six draws of
    # this scene: on the other two, and with denser or blotchier skin, the strips are as
    # thin as the shafts and the dark pass is kept whichever rule chooses.)
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (400, 400)).astype(np.float32), (0, 0), 6)
    gray = (150.0 + 10.0 * noise / noise.std() + rng.normal(0, 3, (400, 400))).astype(np.float32)
    truth = np.zeros((400, 400), np.uint8)
    for _ in range(25):
        p = rng.uniform(0, 400, 2)
        a = rng.uniform(-0.4, 0.4)
        d = 600 * np.array([np.cos(a), np.sin(a)])
        level = 178.0 * rng.uniform(0.97, 1.05)
        cv2.line(gray, tuple(map(int, p - d)), tuple(map(int, p + d)), float(level), 3)
        cv2.line(truth, tuple(map(int, p - d)), tuple(map(int, p + d)), 1, 3)
    out, hair, *_ = _suppress_hair(
        gray, kernel_px=21, min_length_px=4.0, max_thickness_px=1.6, either_polarity_first=True
    )
    near = cv2.dilate(truth, np.ones((7, 7), np.uint8)).astype(bool)
    # (keeping the order that fills less: 34-52 % of the shafts, 74-82 % near them)
    assert hair[truth > 0].mean() > 0.75
    assert (hair & near).sum() / hair.sum() > 0.95
    assert abs(float(np.median(out[truth > 0])) - 150.0) < 10  # filled with skin


@pytest.mark.parametrize("early", [0.0, 2.0])
def test_suppress_hair_fills_grey_shafts_found_in_colour(early, monkeypatch):
    # grey shafts over skin of their own brightness, dense and crossing: in colour (R - B)
    # they are dark ridges, and the light pass, first, fills the skin between them as
    # well. Kept early (``order_early_ratio``: the dark-first order's fill is over twice
    # as thin after the passes in colour) or after both orders' passes in brightness, the
    # fill is the shafts
    import hairtrack.align as align_mod

    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (400, 400)).astype(np.float32), (0, 0), 6)
    gray = (140.0 + 6.0 * noise / noise.std() + rng.normal(0, 2, (400, 400))).astype(np.float32)
    chroma = (40.0 + 4.0 * noise / noise.std() + rng.normal(0, 2, (400, 400))).astype(np.float32)
    truth = np.zeros((400, 400), np.uint8)
    for _ in range(30):
        p = rng.uniform(0, 400, 2)
        a = rng.uniform(0, np.pi)
        d = 600 * np.array([np.cos(a), np.sin(a)])
        cv2.line(chroma, tuple(map(int, p - d)), tuple(map(int, p + d)), 0.0, 3)
        cv2.line(truth, tuple(map(int, p - d)), tuple(map(int, p + d)), 1, 3)
    calls = []
    gray_passes = align_mod._gray_passes
    monkeypatch.setattr(
        align_mod, "_gray_passes", lambda *a, **k: calls.append(1) or gray_passes(*a, **k)
    )
    out, hair, *_ = _suppress_hair(
        gray,
        chroma=chroma,
        kernel_px=21,
        min_length_px=4.0,
        max_thickness_px=1.6,
        either_polarity_first=True,
        order_early_ratio=early,
    )
    assert len(calls) == (1 if early else 2)  # one order's passes in brightness, or both
    near = cv2.dilate(truth, np.ones((5, 5), np.uint8)).astype(bool)
    assert hair[truth > 0].mean() > 0.9
    assert (hair & near).sum() / hair.sum() > 0.95


def test_bad_inputs_are_refused_with_a_helpful_message():
    good = np.zeros((100, 100, 3), np.uint8)
    with pytest.raises(ValueError, match="at least 64x64"):
        align(np.zeros((3, 2, 3), np.uint8), good)
    with pytest.raises(ValueError, match="RGB"):
        align(good[..., 0], good)
    with pytest.raises(ValueError, match="uint8"):
        align(good.astype(np.float32), good)
    with pytest.raises(ValueError, match="reference_mask"):
        align(good, good, reference_mask=np.ones((10, 10), bool))
    with pytest.raises(ValueError, match="unknown alignment parameter"):
        align(good, good, no_such_thing=1)
    with pytest.raises(ValueError, match="view"):
        align(good, good, view="side")


def test_a_blank_pair_is_refused_not_crashed():
    blank = np.full((128, 160, 3), 128, np.uint8)
    al = align(blank, blank)
    assert not al.ok and al.reason and al.homography is None


def test_parameters_live_in_the_config():
    p = Params()
    assert isinstance(p.align, AlignParams)
    p2 = p.replace(align={"min_inliers": 40})
    assert p2.align.min_inliers == 40


def test_two_nearest_are_the_brute_force_nearest_descriptors():
    # the truth: every distance, in float64, sorted; descriptors as RootSIFT (unit
    # norm, non-negative), some near duplicates; more rows than one chunk
    rng = np.random.default_rng(3)
    d2 = np.sqrt(rng.dirichlet(np.full(128, 0.3), size=700)).astype(np.float32)
    d1 = d2[rng.integers(0, 700, 1100)] + rng.normal(0, 0.02, (1100, 128)).astype(np.float32)
    d1[:300] = np.sqrt(rng.dirichlet(np.full(128, 0.3), size=300))
    dist = np.linalg.norm(d1[:, None, :].astype(np.float64) - d2[None].astype(np.float64), axis=2)
    order = np.argsort(dist, axis=1, kind="stable")
    nearest, dist1, dist2 = _two_nearest(d1, d2)
    assert np.array_equal(nearest, order[:, 0])
    rows = np.arange(len(d1))
    assert np.allclose(dist1, dist[rows, order[:, 0]], rtol=1e-5, atol=1e-6)
    assert np.allclose(dist2, dist[rows, order[:, 1]], rtol=1e-5, atol=1e-6)
    # the ratio test on them: matches only where the nearest is clearly the nearest
    out = _ratio_matches(d1, d2, 0.8)
    passed = dist[rows, order[:, 0]] < 0.8 * dist[rows, order[:, 1]]
    assert np.array_equal(out >= 0, passed) and np.array_equal(out[passed], order[passed, 0])
    assert passed[300:].mean() > 0.9 and passed[:300].mean() < 0.1
    # cross-checked: also the reference feature's own nearest (passing the test) back
    back = np.argsort(dist, axis=0, kind="stable")
    cols = np.arange(len(d2))
    back_ok = dist[back[0], cols] < 0.8 * dist[back[1], cols]
    mutual = [
        (i, j) for i, j in enumerate(order[:, 0]) if passed[i] and back_ok[j] and back[0, j] == i
    ]
    pairs = _match(d2, d1, 0.8, cross_check=True)  # (reference, moving)
    assert sorted(map(tuple, pairs.tolist())) == mutual and len(mutual) > 200


def test_box_shares_are_the_means_of_the_squares():
    # the truth: each square's mean, as block matching took it; a non-square mask with
    # squares touching its edges
    rng = np.random.default_rng(5)
    mask = rng.random((90, 130)) < 0.3
    mask[20:60, 40:100] = True
    half = 7
    ys, xs = np.arange(half, 90 - half + 1, 5), np.arange(half, 130 - half + 1, 6)
    got = _box_shares(mask, ys, xs, half)
    want = [[mask[y - half : y + half, x - half : x + half].mean() for x in xs] for y in ys]
    assert got.shape == (len(ys), len(xs)) and np.array_equal(got, np.asarray(want))
    assert _box_shares(mask, ys[:0], xs, half).shape == (0, len(xs))
