"""The phantoms' truth matches their pixels."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from hairtrack import synth


def _closeup(seed=0, **kw):
    rng = np.random.default_rng(seed)
    kw.setdefault("width", 400)
    kw.setdefault("height", 300)
    subject = synth.make_closeup_subject(rng, **kw)
    return subject, rng


def _render_pair(subject, state, camera, seed):
    """The same photo with and without hair (same noise, same dandruff)."""
    with_hair = synth.render_closeup(subject, state, camera, rng=np.random.default_rng(seed))
    bare = dataclasses.replace(state, active=np.zeros_like(state.active))
    without = synth.render_closeup(subject, bare, camera, rng=np.random.default_rng(seed))
    return with_hair, without


@pytest.mark.parametrize("skin", ["very-light", "medium", "dark"])
@pytest.mark.parametrize("hair", ["black", "blond", "grey"])
def test_closeup_mask_covers_exactly_the_drawn_strands(skin, hair):
    subject, rng = _closeup(skin=skin, hair=hair, clipped=skin != "medium")
    state = synth.visit_state(subject, rng=rng)
    ph, bare = _render_pair(subject, state, synth.Camera(), seed=3)
    diff = np.abs(ph.image.astype(int) - bare.image.astype(int)).max(axis=2)
    mask = ph.hair_mask
    assert mask.any()
    # every pixel outside the strands (1 px of anti-aliasing aside) is untouched; the
    # 1 px border is left out: a strand just outside the frame may tint it
    near = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert diff[1:-1, 1:-1][~near[1:-1, 1:-1]].max() == 0
    # every mask pixel is hair: its colour moved, most of them a good part of the way
    contrast = np.abs(np.asarray(synth.HAIR_COLOURS[hair], float) - synth.SKIN_TONES[skin]).max()
    assert diff[mask].min() > 0
    assert np.percentile(diff[mask], 1) > 0.08 * contrast
    assert np.median(diff[mask]) > 0.5 * contrast
    # and a pixel well inside no strand is not in the mask
    assert not (mask & ~(diff > 0)).any()


@pytest.mark.parametrize("width_px", [1.5, 3.0, 6.0])
def test_strand_width_in_mask_is_as_asked(width_px):
    alpha = np.zeros((120, 260), np.float32)
    colour = np.zeros((120, 260, 3), np.float32)
    pts = synth._bezier(np.array([30.0, 60.0]), 0.2, 200.0, 0.0)
    mask = np.zeros((120, 260), bool)
    synth._draw_strand(alpha, colour, mask, pts, width_px, np.zeros(3, np.float32), 1.0)
    # area / length of a straight strand is its width (ends add at most a pixel)
    measured = mask.sum() / 200.0
    assert measured == pytest.approx(width_px, rel=0.12, abs=0.15)
    # anti-aliased: the total alpha is the strand's area
    assert alpha.sum() / 200.0 == pytest.approx(width_px, rel=0.08)


def test_closeup_count_and_widths_as_asked():
    px_per_mm, fu_per_cm2 = 75.0, 70.0
    subject, rng = _closeup(width=1024, height=768, px_per_mm=px_per_mm, fu_per_cm2=fu_per_cm2)
    state = synth.visit_state(subject, rng=rng)
    ph = synth.render_closeup(subject, state, synth.Camera(), rng=rng)
    t = ph.truth
    area_cm2 = 1024 * 768 / px_per_mm**2 / 100
    mean_hairs_per_fu = np.dot([1, 2, 3, 4], [0.35, 0.4, 0.18, 0.07])
    expected = fu_per_cm2 * area_cm2 * mean_hairs_per_fu
    # the count is of hairs rooted in the field: the density asked for, times the area
    assert 0.85 * expected < t["hair_count"] < 1.15 * expected
    # more are visible: hairs rooted just outside reach in
    assert t["hairs_visible"] > t["hair_count"]
    roots = np.asarray(t["hair_roots_xy"])
    in_frame = (roots[:, 0] >= 0) & (roots[:, 0] < 1024) & (roots[:, 1] >= 0) & (roots[:, 1] < 768)
    assert in_frame.sum() == t["hair_count"]
    widths = np.asarray(t["widths_px"])
    assert len(widths) == t["hairs_visible"]
    # vellus 15-28 um, terminal 55-105 um at 75 px/mm
    assert widths.min() >= 15e-3 * px_per_mm - 1e-6
    assert widths.max() <= 105e-3 * px_per_mm + 1e-6
    assert 1.0 <= np.percentile(widths, 5) and np.percentile(widths, 95) <= 8.0
    assert t["coverage"] == pytest.approx(ph.hair_mask.mean(), abs=1e-6)


def test_visit_gains_and_losses_are_the_share_asked():
    subject, rng = _closeup(width=640, height=480)
    n_base = int(subject.baseline_active.sum())
    for change in (-0.3, -0.1, 0.2, 0.4):
        st = synth.visit_state(subject, hair_change=change, rng=rng)
        assert int(st.active.sum()) - n_base == round(change * n_base)
        assert (st.lost if change < 0 else st.gained) == round(abs(change) * n_base)
    # a trend is nested: the hairs lost at -10 % are also lost at -30 %
    a = synth.visit_state(subject, hair_change=-0.1, rng=rng).active
    b = synth.visit_state(subject, hair_change=-0.3, rng=rng).active
    assert not (b & ~a).any()


def test_visit_mask_warped_by_homography_lands_on_baseline_follicles():
    subject, rng = _closeup(width=640, height=480, px_per_mm=60.0)
    base_state = synth.visit_state(subject, comb_deg=80, rng=rng)
    base = synth.render_closeup(subject, base_state, synth.Camera(), rng=rng)
    cam = synth.Camera(rotation_deg=17, scale=1.08, shift=(0.02, -0.03), perspective=(0.03, -0.02))
    # re-combed: the shafts point elsewhere, only the roots stay
    visit = synth.render_closeup(
        subject, synth.visit_state(subject, comb_deg=200, rng=rng), cam, rng=rng
    )
    hom = np.asarray(visit.truth["homography_to_baseline"])
    warped = cv2.warpPerspective(
        visit.hair_mask.astype(np.uint8), hom, (640, 480), flags=cv2.INTER_NEAREST
    )
    roots = np.asarray(base.truth["hair_roots_xy"])
    inside = (roots[:, 0] > 5) & (roots[:, 0] < 635) & (roots[:, 1] > 5) & (roots[:, 1] < 475)
    # keep the roots well inside the re-shot frame
    corners = cv2.perspectiveTransform(
        np.array([[[0, 0]], [[639, 0]], [[639, 479]], [[0, 479]]], np.float64), hom
    ).reshape(-1, 2)
    poly = corners.astype(np.float32).reshape(-1, 1, 2)
    ok = [cv2.pointPolygonTest(poly, (float(x), float(y)), True) > 8 for x, y in roots[inside]]
    roots = roots[inside][np.asarray(ok)]
    assert len(roots) > 20
    hits = [
        warped[int(round(y)) - 2 : int(round(y)) + 3, int(round(x)) - 2 : int(round(x)) + 3].any()
        for x, y in roots
    ]
    assert np.mean(hits) > 0.995, np.mean(hits)
    # the follicle openings themselves map onto each other
    fb = np.asarray(base.truth["follicles_xy"])
    fv = np.asarray(visit.truth["follicles_xy"])
    fv_in_base = cv2.perspectiveTransform(fv.reshape(-1, 1, 2), hom).reshape(-1, 2)
    d = np.sqrt(((fv_in_base[:, None, :] - fb[None, :, :]) ** 2).sum(2)).min(1)
    near_edge = (fv_in_base < 1).any(1) | (fv_in_base[:, 0] > 638) | (fv_in_base[:, 1] > 478)
    assert np.median(d[~near_edge]) < 1e-3


def test_homography_maps_the_skin_not_just_points():
    """The warped re-shot skin matches the baseline skin; a wrong homography does not."""
    subject, rng = _closeup(width=512, height=384, fu_per_cm2=10)
    bare = synth.HairState(active=np.zeros_like(subject.baseline_active))
    base = synth.render_closeup(subject, bare, synth.Camera(), rng=rng)
    cam = synth.Camera(rotation_deg=-22, scale=0.9, shift=(-0.03, 0.02), perspective=(-0.04, 0.03))
    visit = synth.render_closeup(subject, bare, cam, rng=rng)
    hom = np.asarray(visit.truth["homography_to_baseline"])

    def ncc(h):
        w = cv2.warpPerspective(visit.image, h, (512, 384)).astype(float).mean(2)
        valid = cv2.warpPerspective(np.ones((384, 512), np.uint8), h, (512, 384)) > 0
        valid = cv2.erode(valid.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        a, b = w[valid], base.image.astype(float).mean(2)[valid]
        return np.corrcoef(a, b)[0, 1]

    shifted = hom @ np.array([[1, 0, 2], [0, 1, 0], [0, 0, 1.0]])
    assert ncc(hom) > 0.9
    assert ncc(shifted) < ncc(hom) - 0.03  # 2 px off is already visibly worse
    assert ncc(np.eye(3)) < 0.5


def test_camera_homography_geometry():
    cam = synth.Camera(rotation_deg=90, scale=2.0)
    h = cam.homography(101, 51)
    centre = cv2.perspectiveTransform(np.array([[[50.0, 25.0]]]), h)[0, 0]
    assert centre == pytest.approx([50.0, 25.0], abs=1e-9)
    # content zoomed 2x: 10 px here are 5 px in the baseline
    p = cv2.perspectiveTransform(np.array([[[60.0, 25.0]]]), h)[0, 0]
    assert np.hypot(*(p - centre)) == pytest.approx(5.0)
    assert np.allclose(synth.Camera().homography(640, 480), np.eye(3))


def test_photometric_camera_changes_pixels_not_truth():
    subject, rng = _closeup()
    state = synth.visit_state(subject, rng=rng)
    plain = synth.render_closeup(subject, state, synth.Camera(), rng=np.random.default_rng(1))
    cam = synth.Camera(
        light_gradient=0.3,
        white_balance=(1.1, 1.0, 0.9),
        exposure=0.9,
        gamma=1.1,
        blur_sigma=0.8,
        noise_sigma=3.0,
    )
    lit = synth.render_closeup(subject, state, cam, rng=np.random.default_rng(1))
    assert np.abs(plain.image.astype(int) - lit.image.astype(int)).mean() > 3
    assert np.array_equal(plain.hair_mask, lit.hair_mask)
    assert plain.truth["hair_count"] == lit.truth["hair_count"]


@pytest.mark.parametrize("skin,hair", [("light", "black"), ("dark", "grey"), ("medium", "blond")])
def test_global_truth(skin, hair):
    rng = np.random.default_rng(5)
    subject = synth.make_global_subject(rng, width=300, height=400, skin=skin, hair=hair)
    covs = []
    for change in (-0.5, 0.0, 0.5):
        st = synth.visit_state(subject, hair_change=change, comb_deg=10, rng=rng)
        ph = synth.render_global(subject, st, synth.Camera(), rng=rng)
        assert ph.truth["coverage"] == pytest.approx(ph.hair_mask[ph.region_mask].mean(), abs=1e-6)
        covs.append(ph.truth["coverage"])
    assert covs[0] < covs[1] < covs[2]
    # the scalp region is the head ellipse
    cx, cy, ax, ay = subject.head
    yy, xx = np.mgrid[0:400, 0:300]
    ell = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 <= 1
    iou = (ell & ph.region_mask).sum() / (ell | ph.region_mask).sum()
    assert iou > 0.98
    # the thinning zone has the share of the head asked for (default 0.3, jittered 0.81-1.21x)
    assert 0.24 < ph.truth["zone_share"] < 0.37
    # and bare scalp shows there: coverage inside the zone is well below outside
    zone = synth._in_ellipse(np.stack([xx.ravel(), yy.ravel()], 1).astype(float), subject.zone)
    zone = zone.reshape(400, 300) & ph.region_mask
    base = synth.render_global(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
    )
    assert base.hair_mask[zone].mean() < 0.7 * base.hair_mask[ph.region_mask & ~zone].mean()


def test_same_seed_same_bytes(tmp_path):
    p = dataclasses.replace(synth.SAMPLE_PATIENTS[0], sessions=2)
    kw = dict(closeup_size=(320, 240), global_size=(240, 320))
    synth.make_patient(tmp_path / "a", p, seed=7, **kw)
    synth.make_patient(tmp_path / "b", p, seed=7, **kw)
    synth.make_patient(tmp_path / "c", p, seed=8, **kw)
    files = sorted(
        f.relative_to(tmp_path / "a") for f in (tmp_path / "a").rglob("*") if f.is_file()
    )
    assert len(files) == 2 * 2 * 4  # two sessions, two views, photo + json + two masks
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert any(
        (tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes() for f in files
    )


def test_unknown_preset_and_bad_sizes():
    with pytest.raises(ValueError, match="preset"):
        synth.synth("/nonexistent", preset="nope")
    with pytest.raises(ValueError, match="64x64"):
        synth.make_closeup_subject(np.random.default_rng(0), width=20, height=20)
    with pytest.raises(ValueError, match="skin"):
        synth.make_closeup_subject(np.random.default_rng(0), skin="green")


def test_global_head_moves_against_the_room():
    """With a head motion, the truth homography maps the head (scalp, ear, roots) and the
    room (background, clothes) moves differently."""
    rng = np.random.default_rng(5)
    subject = synth.make_global_subject(rng, width=300, height=400, skin="medium", hair="black")
    bare = synth.visit_state(subject, rng=rng)
    bare = dataclasses.replace(bare, active=np.zeros_like(bare.active))
    base = synth.render_global(subject, bare, synth.Camera(), rng=np.random.default_rng(1))
    cam = synth.Camera(rotation_deg=10.0, scale=1.05, shift=(0.02, -0.01), jpeg_quality=None)
    motion = synth.HeadMotion(rotation_deg=-8.0, scale=0.95, shift=(0.05, 0.03))
    visit = synth.render_global(
        subject, bare, cam, rng=np.random.default_rng(1), head_motion=motion
    )
    h_head = np.asarray(visit.truth["homography_to_baseline"])
    h_room = np.asarray(visit.truth["room_homography_to_baseline"])
    np.testing.assert_allclose(h_head, cam.homography(300, 400), atol=1e-8)
    # the scalp region is the head ellipse mapped by the head's homography
    cx, cy, ax, ay = subject.head
    t = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    rim = np.stack([cx + 0.9 * ax * np.cos(t), cy + 0.9 * ay * np.sin(t)], axis=1)
    inside = synth._map(np.linalg.inv(h_head), rim).round().astype(int)
    assert visit.region_mask[inside[:, 1], inside[:, 0]].all()
    # warped back by the head's homography, the bare head matches the baseline ...
    head_back = cv2.warpPerspective(visit.image, h_head, (300, 400)).astype(float)
    room_back = cv2.warpPerspective(visit.image, h_room, (300, 400)).astype(float)
    core = cv2.erode(base.region_mask.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    err_head = np.abs(head_back - base.image)[core].mean()
    assert err_head < 6.0
    # ... the room does not (it moved), but matches when warped by the room's homography
    big = np.ones((61, 61), np.uint8)
    head_there = cv2.dilate(visit.region_mask.astype(np.uint8), big)
    head_there = cv2.warpPerspective(head_there, h_room, (300, 400)) > 0
    seen = cv2.warpPerspective(np.ones((400, 300), np.uint8), h_room, (300, 400))
    seen = cv2.erode(seen, np.ones((5, 5), np.uint8)) > 0
    room = (cv2.dilate(base.region_mask.astype(np.uint8), big) == 0) & ~head_there & seen
    assert room.mean() > 0.1
    assert np.abs(room_back - base.image)[room].mean() < 6.0
    assert np.abs(room_back - base.image)[core].mean() > 3 * err_head
    # no head motion: no room homography, and visit 0 renders as before
    still = synth.render_global(subject, bare, cam, rng=np.random.default_rng(1))
    assert "room_homography_to_baseline" not in still.truth


def test_still_photo_is_in_its_subjects_frame():
    """The single-photo phantom of the benchmarks: no geometric change, so its camera's
    homography is the identity and the truth mask is the photo's own."""
    s = synth.still(np.random.default_rng(7), skin="light", hair="black", width=320, height=240)
    assert np.allclose(s.camera.homography(320, 240), np.eye(3))
    assert s.phantom.image.shape[:2] == s.phantom.hair_mask.shape == (240, 320)
    assert abs(s.phantom.hair_mask.mean() - s.phantom.truth["coverage"]) < 0.05
    with pytest.raises(ValueError, match="view"):
        synth.still(np.random.default_rng(7), "crown")
