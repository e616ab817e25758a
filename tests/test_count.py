"""count.py's array-at-once helpers against their per-segment definitions (phantom masks)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hairtrack import count, synth


def _walk(seg_lab: np.ndarray, n_seg: int) -> list[np.ndarray]:
    """Each segment's pixels in path order, walked pixel by pixel (the definition).

    From the segment's first pixel in raster order among those with the fewest
    neighbours in it, step to an unvisited neighbour, preferring the last 4-neighbour
    in ``count._STEPS`` order, else the first.
    """
    paths = [np.zeros((0, 2), int)]
    for k in range(1, n_seg + 1):
        pr, pc = np.nonzero(seg_lab == k)
        todo = set(zip(pr.tolist(), pc.tolist(), strict=True))
        deg = [
            sum((r + dr, c + dc) in todo for dr, dc in count._STEPS)
            for r, c in zip(pr.tolist(), pc.tolist(), strict=True)
        ]
        cur = (int(pr[int(np.argmin(deg))]), int(pc[int(np.argmin(deg))]))
        out = [cur]
        todo.discard(cur)
        while todo:
            nxt = None
            for dr, dc in count._STEPS:
                q = (cur[0] + dr, cur[1] + dc)
                if q in todo and (nxt is None or abs(dr) + abs(dc) == 1):
                    nxt = q
            if nxt is None:
                break
            out.append(nxt)
            todo.discard(nxt)
            cur = nxt
        paths.append(np.asarray(out, int).reshape(-1, 2))
    return paths


def _sharp_by_walk(skel, junction_radius, arm_px, cos_turn) -> np.ndarray:
    """Apexes of :func:`count._sharp_turns`, path by path from :func:`_walk`."""
    seg_lab, n_seg, _, _ = count._segments(skel, junction_radius)
    a = max(2, int(round(arm_px)))
    apex = []
    for path in _walk(seg_lab, n_seg)[1:]:
        n = len(path)
        if n < 2 * a + 1:
            continue
        p = path.astype(float)
        back = p[a : n - a] - p[: n - 2 * a]
        fwd = p[2 * a :] - p[a : n - a]
        cos = (back * fwd).sum(1) / np.maximum(np.hypot(*back.T) * np.hypot(*fwd.T), 1e-9)
        i = 0
        while i < len(cos):
            if cos[i] < cos_turn:
                j = i
                while j + 1 < len(cos) and cos[j + 1] < cos_turn:
                    j += 1
                apex.append(path[i + a + int(np.argmin(cos[i : j + 1]))])
                i = j + 1
            else:
                i += 1
    return np.asarray(apex, int).reshape(-1, 2)


def _phantom_mask(seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 3])
    subject = synth.make_closeup_subject(
        rng, skin="light", hair="black", clipped=bool(seed % 2), width=480, height=360
    )
    cam = synth.Camera(light_gradient=0.15, noise_sigma=2.0, blur_sigma=0.5)
    return synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), cam, rng=rng
    ).hair_mask


def _rings() -> np.ndarray:
    """Closed loops (segments with no end), touching the frame and each other."""
    m = np.zeros((120, 160), np.uint8)
    cv2.circle(m, (40, 40), 25, 1, 2)
    cv2.ellipse(m, (110, 70), (40, 20), 30, 0, 360, 1, 1)
    cv2.rectangle(m, (0, 90), (30, 119), 1, 1)
    cv2.circle(m, (70, 35), 12, 1, 3)
    return m.astype(bool)


@pytest.mark.parametrize("which", ["phantom-0", "phantom-1", "rings"])
def test_paths_and_sharp_turns_match_the_pixel_walk(which):
    mask = _rings() if which == "rings" else _phantom_mask(int(which[-1]))
    skel = count._skeleton(mask)
    for radius in (1.0, 3.0):
        seg_lab, n_seg, _, _ = count._segments(skel, radius)
        assert n_seg > 5
        pix, seg, pos = count._paths(seg_lab, n_seg)
        walked = _walk(seg_lab, n_seg)
        assert np.array_equal(pix, np.concatenate(walked[1:]))
        assert np.array_equal(seg, np.repeat(np.arange(n_seg + 1), [len(p) for p in walked]))
        assert np.array_equal(pos, np.concatenate([np.arange(len(p)) for p in walked[1:]]))
        for arm in (3.0, 8.0):
            got = count._sharp_turns(skel, radius, arm, np.cos(np.deg2rad(110)))
            want = _sharp_by_walk(skel, radius, arm, np.cos(np.deg2rad(110)))
            assert np.array_equal(got, want)
    if which == "rings":  # loops walked whole: no segment of the rings has an end
        seg_lab, n_seg, _, _ = count._segments(skel, 1.0)
        assert any(len(p) > 20 for p in _walk(seg_lab, n_seg))


def test_paths_of_one_pixel_segments_only():
    # a skeleton of isolated pixels has no step to walk (it raised IndexError on the
    # bald close-up phantom of seed 3, whose mask held only specks)
    seg_lab = np.zeros((12, 12), np.int32)
    for label, (r, c) in enumerate([(2, 3), (5, 9), (9, 1)], start=1):
        seg_lab[r, c] = label
    pix, seg, pos = count._paths(seg_lab, 3)
    assert pix.tolist() == [[2, 3], [5, 9], [9, 1]]
    assert seg.tolist() == [1, 2, 3] and pos.tolist() == [0, 0, 0]


def test_cut_hairs_leaving_an_opening_in_the_field_count_whole():
    """Two hairs drawn from one opening inside the field, both running out through the
    frame, are rooted in it: their strokes are flagged ``at_opening`` and, with
    ``count_edge_opening``, count whole; hairs cut by the frame with a free end in the
    field (root or tip) are not flagged and keep counting half."""
    m = np.zeros((240, 320), np.uint8)
    opening = (70, 120)  # (x, y): the V's apex, inside the field
    v_arms = [(0, 90), (0, 150)]  # both arms leave through the left edge
    for q in v_arms:
        cv2.line(m, opening, q, 1, 5)
    singles = [((319, 40), (230, 60)), ((200, 239), (180, 170))]  # cut, free inner end
    for p, q in singles:
        cv2.line(m, p, q, 1, 5)
    cv2.line(m, (160, 120), (230, 90), 1, 5)  # a V inside the field, not cut
    cv2.line(m, (160, 120), (230, 150), 1, 5)
    mask = m.astype(bool)

    def label_at(hc, x, y):
        k = hc.labels[y - 3 : y + 4, x - 3 : x + 4].max()
        assert k > 0
        return k - 1

    hc = count.count_hairs(mask, shaft_width_px=5.0)
    for q in v_arms:
        k = label_at(hc, (opening[0] + q[0]) // 2, (opening[1] + q[1]) // 2)
        assert hc.at_edge[k] and hc.at_opening[k]
    for p, q in singles:
        k = label_at(hc, (p[0] + q[0]) // 2, (p[1] + q[1]) // 2)
        assert hc.at_edge[k] and not hc.at_opening[k]
    k = label_at(hc, 195, 105)
    assert not hc.at_edge[k] and not hc.at_opening[k]
    # drawn truth: the V's 2 hairs and the inner V's 2 are rooted in the field; each
    # single cut hair is half a hair under the half rule
    assert hc.count == 4  # 2 x 1/2 + 2 x 1/2 + 2
    on = count.count_hairs(mask, shaft_width_px=5.0, count_edge_opening=True)
    assert on.count == 5  # 2 + 2 x 1/2 + 2


@pytest.mark.parametrize("share", [0.0, 0.1, 0.25, 0.4])
def test_fragment_split_lies_in_the_gap_whatever_the_fragments_share(share):
    """Lone pieces: whole stubs (areas 200-700 px) and fragments (20-120 px) in any
    share: the split between them lies in the gap, so the mass rule's lone-hair area
    is read off the whole stubs only (the median of all pieces falls in the fragments
    from a share of one half, and moves with every fragment from about a third)."""
    rng = np.random.default_rng(3)
    whole = rng.uniform(200, 700, 60)
    frags = rng.uniform(20, 120, int(round(share * 60 / (1 - share))))
    split = count._fragment_split(np.concatenate([whole, frags]))
    if share:
        assert 120 < split <= 200
    # without fragments nothing falls in a gap: the split keeps most of the stubs
    assert (whole >= split).mean() >= (0.5 if not share else 1.0)


def test_clipped_jpeg_field_counts_its_masses_against_whole_stubs():
    """A clipped phantom saved as JPEG (quality 75-92) whose lone pieces include JPEG
    fragments: its masses of crossing stubs are counted in whole stubs' area, within
    8 % of the hairs rooted in the field (was 154 for 176, -12.5 %, with the median of
    all lone pieces and masses of 4+ only). Drawn as benchmarks/count_sources.py
    draws seed 14 (not a seed the mass rule was tuned on; this field was picked for
    the change it shows)."""
    from hairtrack.measure import analyse

    skin, hair = list(synth.SKIN_TONES)[2], list(synth.HAIR_COLOURS)[2]
    rng = np.random.default_rng([14, 2, 2, 1])
    subject = synth.make_closeup_subject(rng, skin=skin, hair=hair, clipped=True)
    state = synth.visit_state(subject, rng=rng)
    cam = synth.random_camera(rng, max_rotation_deg=0, max_scale=0, max_shift=0, max_perspective=0)
    ph = synth.render_closeup(subject, state, cam, rng=rng)
    q = int(np.random.default_rng([14, 2, 2, 99]).integers(75, 93))
    ok, buf = cv2.imencode(".jpg", ph.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    rgb = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()
    a = analyse(rgb, view="closeup", px_per_mm=ph.truth["px_per_mm"])
    hc = count.count_hairs(a.work_mask, shaft_width_px=a.shaft_width_px * a.work_scale)
    assert hc.count == pytest.approx(ph.truth["hair_count"], rel=0.08)
