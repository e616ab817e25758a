"""measure() against phantom truth, every hair colour and skin tone, both views; edge inputs."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from hairtrack import synth
from hairtrack.measure import analyse, measure, shrink_to_side


def _quiet(rgb, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return measure(rgb, **kw)


def _closeup(skin, hair, clipped=True, seed=0, **kw):
    rng = np.random.default_rng([seed, len(skin), len(hair), int(clipped)])
    kw.setdefault("width", 800)
    kw.setdefault("height", 600)
    subject = synth.make_closeup_subject(rng, skin=skin, hair=hair, clipped=clipped, **kw)
    cam = synth.Camera(light_gradient=0.15, noise_sigma=2.0, blur_sigma=0.5)
    return synth.render_closeup(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)


CLOSEUP_CASES = [
    ("very-light", "black"),
    ("light", "brown"),
    ("medium", "black"),
    ("olive", "grey"),
    ("brown", "blond"),
    ("dark", "grey"),
    ("dark", "blond"),
    ("very-light", "brown"),
]

# Where the code does not reach the tolerance yet (issue 3 is open), the case is a
# strict xfail naming the gap measured: it fails loudly once the gap is closed.
FUSED_FANS = "issue 3 open: fused follicular-unit fans, count reads 0.80 of truth"


def _cases(gaps: dict[tuple[str, str], str]) -> list:
    return [
        pytest.param(s, h, marks=pytest.mark.xfail(strict=True, reason=gaps[(s, h)]))
        if (s, h) in gaps
        else (s, h)
        for s, h in CLOSEUP_CASES
    ]


@pytest.mark.parametrize("skin,hair", CLOSEUP_CASES)
def test_closeup_mask_and_coverage_against_truth(skin, hair):
    ph = _closeup(skin, hair)
    t = ph.truth
    m = _quiet(ph.image, view="closeup", px_per_mm=t["px_per_mm"])
    assert m.polarity == ("dark" if hair in ("black", "brown") else "light")
    assert abs(m.coverage - t["coverage"]) < 0.02
    # the mask is where the hair is: most of the true hair, little else
    inter = (m.hair_mask & ph.hair_mask).sum()
    dice = 2 * inter / (m.hair_mask.sum() + ph.hair_mask.sum())
    assert dice > 0.8


@pytest.mark.parametrize(
    "skin,hair",
    # dark/grey reaches the tolerance since close-ups of <= 7.5 px shafts are analysed at
    # full size (112 of 120); very-light/black and /brown since fans broader than a lone
    # hair count two (count_breadth_ratio; 102 of 120 each, right at the 15 % edge);
    # light/brown, brown/blond and dark/blond since masses counted as 4+ hairs count
    # their area in lone hairs (count_mass_min_hairs: 100 -> 108 of 124, 97 -> 108 of
    # 124, 82 -> 86 of 100); olive/grey since the masses' lone-hair area leaves out
    # fragments and masses of 3 count too (count_mass_whole_only: 98 -> 114 of 119)
    _cases({("medium", "black"): FUSED_FANS}),
)
def test_closeup_count_against_truth(skin, hair):
    ph = _closeup(skin, hair)
    t = ph.truth
    m = _quiet(ph.image, view="closeup", px_per_mm=t["px_per_mm"])
    area_cm2 = m.region_px / t["px_per_mm"] ** 2 / 100
    assert m.hair_per_cm2 == pytest.approx(m.hair_count / area_cm2)
    assert m.hair_count == pytest.approx(t["hair_count"], rel=0.15)


def test_light_hair_is_not_undercounted():
    """Hair lighter than the skin (grey and blond on medium to dark skin, clipped):
    the median count over truth is within 3 % of 1. Its vellus shafts' ridges are held
    to a lower threshold than dark hair's (``CloseupParams.thin_snr_light``); at the dark
    hair's threshold these fields read 0.958 of the truth (none of them was tuned on)."""
    ratios = []
    for skin in ("medium", "olive", "brown", "dark"):
        for hair in ("grey", "blond"):
            ph = _closeup(skin, hair)
            m = _quiet(ph.image, view="closeup", px_per_mm=ph.truth["px_per_mm"])
            assert m.polarity == "light"
            if m.hair_count is not None:  # medium / blond is found by its colour: withheld
                ratios.append(m.hair_count / ph.truth["hair_count"])
    assert len(ratios) >= 6
    assert abs(float(np.median(ratios)) - 1) <= 0.03


def test_hair_found_by_its_colour_gets_coverage_but_no_count_nor_width():
    """Blond hair on medium skin barely differs from it in brightness and is found along
    its colour: its coverage is near the truth, but its ragged edges would count and
    size the shafts wrongly, so neither is given (with a note), as for faint hair."""
    from hairtrack.measure import COLOUR_NOTE

    for seed in (0, 1):
        ph = _closeup("medium", "blond", seed=seed)
        t = ph.truth
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = measure(ph.image, view="closeup", px_per_mm=t["px_per_mm"])
        assert abs(m.coverage - t["coverage"]) < 0.015
        assert m.hair_count is None and m.hair_per_cm2 is None
        assert m.mean_width_px is None
        assert any(COLOUR_NOTE in str(w.message) for w in caught)


@pytest.mark.parametrize("skin,hair", CLOSEUP_CASES)
def test_closeup_width_against_truth(skin, hair):
    ph = _closeup(skin, hair)
    t = ph.truth
    m = _quiet(ph.image, view="closeup", px_per_mm=t["px_per_mm"])
    assert m.mean_width_px == pytest.approx(t["mean_width_px"], rel=0.25)


@pytest.mark.parametrize("skin,hair", [("very-light", "black"), ("medium", "grey")])
def test_long_hair_network_gets_no_count_but_clipped_fields_do(skin, hair):
    """Long hair overlapping across the whole field cannot be counted: no number (and a
    note) rather than a count several times the truth; clipped fields keep theirs."""
    long = _closeup(skin, hair, clipped=False)
    with pytest.warns(UserWarning, match="cannot be counted"):
        m = measure(long.image, view="closeup", px_per_mm=long.truth["px_per_mm"])
    assert m.hair_count is None and m.hair_per_cm2 is None and m.mean_width_px is None
    assert abs(m.coverage - long.truth["coverage"]) < 0.05  # coverage still measured
    clipped = _closeup(skin, hair)
    m = _quiet(clipped.image, view="closeup", px_per_mm=clipped.truth["px_per_mm"])
    assert m.hair_count == pytest.approx(clipped.truth["hair_count"], rel=0.35)


def test_closeup_count_follows_true_change():
    """Fewer hairs in the same field: the count drops by about the true share (a 29 %
    loss read as 19 % until masses counted as 4+ hairs were counted by their area: 23 %)."""
    rng = np.random.default_rng(4)
    subject = synth.make_closeup_subject(rng, width=800, height=600)
    counts = []
    for change in (0.0, -0.3):
        st = synth.visit_state(subject, hair_change=change, rng=rng)
        ph = synth.render_closeup(subject, st, synth.Camera(), rng=rng)
        counts.append((ph.truth["hair_count"], _quiet(ph.image, view="closeup").hair_count))
    true_drop = counts[1][0] / counts[0][0] - 1
    measured_drop = counts[1][1] / counts[0][1] - 1
    assert measured_drop == pytest.approx(true_drop, abs=0.08)


def test_count_splits_a_stroke_that_steps_to_twice_its_own_width():
    """Two hairs of one opening side by side, one ending early: two, not one."""
    import cv2

    from hairtrack.count import count_hairs

    m = np.zeros((80, 160), np.uint8)
    cv2.line(m, (20, 40), (140, 40), 1, 6)
    single = count_hairs(m.astype(bool), shaft_width_px=6.0)
    cv2.line(m, (20, 46), (60, 46), 1, 6)  # fused along a third of the long one
    pair = count_hairs(m.astype(bool), shaft_width_px=6.0)
    off = count_hairs(m.astype(bool), shaft_width_px=6.0, count_step_ratio=0)
    assert (single.count, pair.count, off.count) == (1, 2, 1)
    # the fused mass's hairs are counted, their own widths are not read off it
    assert np.isnan(pair.widths_px).all()


def _hairpin(gap: int, width: int, spread: int) -> np.ndarray:
    """Two hairs fused only at their opening: a V whose apex is a flat cap, no branch."""
    import cv2

    m = np.zeros((130, 120), np.uint8)
    pts = np.array([[40 - spread, 110], [40, 15], [40 + gap, 15], [40 + gap + spread, 110]])
    cv2.polylines(m, [pts.astype(np.int32)], False, 1, width)
    return m.astype(bool)


@pytest.mark.parametrize("gap,width,spread", [(6, 5, 10), (8, 6, 10), (10, 5, 20), (6, 4, 30)])
def test_count_cuts_a_v_fused_at_its_opening(gap, width, spread):
    """The medial axis of a flat-capped V runs up one hair and down the other: two."""
    from hairtrack.count import count_hairs

    mask = _hairpin(gap, width, spread)
    assert count_hairs(mask, count_border="include", count_fold_deg=180.0).count == 1
    assert count_hairs(mask, count_border="include").count == 2


def _singles_and_wedge(spread: int | None) -> np.ndarray:
    """Four lone straight hairs and, unless ``spread`` is None, a wedge of two hairs
    leaving one opening ``spread`` px apart at their tips (fused all along: one stroke)."""
    import cv2

    m = np.zeros((200, 260), np.uint8)
    for k, (x, y) in enumerate([(20, 20), (20, 70), (20, 120), (140, 20)]):
        cv2.line(m, (x, y), (x + 60, y + 10 * (k % 2)), 1, 5)
    if spread is not None:
        cv2.line(m, (140, 150), (200, 150 - spread // 2), 1, 5)
        cv2.line(m, (140, 150), (200, 150 + spread // 2), 1, 5)
    return m.astype(bool)


@pytest.mark.parametrize("spread", [4, 6])
def test_count_breadth_rule_counts_a_fused_wedge_as_two(spread):
    """A wedge of two hairs broader than the lone hairs counts two; lone hairs one."""
    from hairtrack.count import count_hairs

    kw = {"shaft_width_px": 5.0, "count_breadth_ratio": 1.3}
    assert count_hairs(_singles_and_wedge(None), **kw).count == 4
    assert count_hairs(_singles_and_wedge(spread), **kw).count == 6


def test_count_keeps_a_curved_hair_whole():
    import cv2

    from hairtrack.count import count_hairs

    m = np.zeros((140, 200), np.uint8)
    xs = np.arange(10, 190)
    ys = (70 + 30 * np.sin(xs / 30)).astype(int)
    cv2.polylines(m, [np.stack([xs, ys], 1).astype(np.int32)], False, 1, 6)
    assert count_hairs(m.astype(bool), count_border="include").count == 1


def test_closeup_scale_bar_is_read_and_overlays_are_not_hair():
    rng = np.random.default_rng(9)
    subject = synth.make_closeup_subject(rng, width=800, height=600, px_per_mm=75.0)
    ph = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng, overlay=True
    )
    m = _quiet(ph.image, view="closeup")
    assert m.scale_source == "scale bar"
    assert m.px_per_mm == pytest.approx(75.0, rel=0.05)
    # nothing is found as hair in the burned-in header bar
    bar = ph.truth["overlay_boxes_xywh"][0]
    assert not m.hair_mask[: bar[3], :].any()
    assert abs(m.coverage - ph.truth["coverage"]) < 0.02


@pytest.mark.parametrize(
    "skin,hair", [("light", "black"), ("medium", "brown"), ("dark", "grey"), ("brown", "blond")]
)
def test_global_against_truth(skin, hair):
    rng = np.random.default_rng([7, len(skin), len(hair)])
    subject = synth.make_global_subject(rng, width=480, height=640, skin=skin, hair=hair)
    ph = synth.render_global(subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng)
    m = _quiet(ph.image, view="global")
    assert m.hair_count is None and m.hair_per_cm2 is None
    iou = (m.region_mask & ph.region_mask).sum() / (m.region_mask | ph.region_mask).sum()
    assert iou > 0.85
    assert abs(m.coverage - ph.truth["coverage"]) < 0.04


def _global_phantom(seed, skin, hair):
    rng = np.random.default_rng(seed)
    s = synth.still(rng, "global", skin=skin, hair=hair)
    return s.subject, s.phantom


def test_global_faint_strands_are_unmixed():
    # grey hair on very light skin in a noisy photo: the strands are too faint for a share
    # of the noise-widened end-to-end contrast, but run as lines; read by the zone-level
    # score instead of unmixing, this phantom was 80 points under its truth
    _, ph = _global_phantom([5, len("very-light"), len("grey")], "very-light", "grey")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyse(ph.image, view="global")
        m = measure(ph.image, view="global")
    assert a.unmixed
    assert abs(m.coverage - ph.truth["coverage"]) < 0.04


def test_global_maroon_shirt_is_not_scalp():
    # blond hair (a skin-like hue) and a maroon shirt in the centre widened the skin model
    # until the shirt was skin and stayed in the region: -19 pp, region IoU 0.60
    subject, ph = _global_phantom([47, 1, 3], "light", "blond")
    assert subject.clothes_rgb == (120, 30, 40)
    m = _quiet(ph.image, view="global")
    iou = (m.region_mask & ph.region_mask).sum() / (m.region_mask | ph.region_mask).sum()
    assert iou > 0.9
    assert abs(m.coverage - ph.truth["coverage"]) < 0.04


def test_global_coverage_follows_thinning():
    rng = np.random.default_rng(3)
    subject = synth.make_global_subject(rng, width=480, height=640)
    truth, got = [], []
    for change in (-0.8, 0.0, 1.5):
        st = synth.visit_state(subject, hair_change=change, comb_deg=30, rng=rng)
        ph = synth.render_global(subject, st, synth.Camera(), rng=rng)
        truth.append(ph.truth["coverage"])
        got.append(_quiet(ph.image, view="global").coverage)
    assert truth[0] < truth[1] < truth[2]
    assert got[0] < got[1] < got[2]


def test_auto_view_on_phantoms():
    rng = np.random.default_rng(1)
    cu = synth.make_closeup_subject(rng, width=640, height=480)
    ph = synth.render_closeup(cu, synth.visit_state(cu, rng=rng), synth.Camera(), rng=rng)
    m = _quiet(ph.image)
    assert m.view == "closeup" and m.view_reason.startswith("auto")
    gl = synth.make_global_subject(rng, width=480, height=640)
    ph = synth.render_global(gl, synth.visit_state(gl, rng=rng), synth.Camera(), rng=rng)
    assert _quiet(ph.image).view == "global"


@pytest.mark.parametrize("value", [0, 255])
@pytest.mark.parametrize("view", ["closeup", "global"])
def test_flat_photo_gives_zero_and_a_warning(value, view):
    img = np.full((300, 400, 3), value, np.uint8)
    with pytest.warns(UserWarning):
        m = measure(img, view=view)
    assert m.coverage == 0.0 and m.warnings


@pytest.mark.parametrize("view", ["closeup", "global"])
def test_bald_skin_gives_no_hair_and_a_warning(view):
    rng = np.random.default_rng(2)
    if view == "closeup":
        s = synth.make_closeup_subject(rng, width=640, height=480)
        bare = synth.HairState(active=np.zeros_like(s.baseline_active))
        img = synth.render_closeup(s, bare, synth.Camera(noise_sigma=2), rng=rng).image
    else:
        s = synth.make_global_subject(rng, width=480, height=640)
        bare = synth.HairState(active=np.zeros_like(s.baseline_active))
        img = synth.render_global(s, bare, synth.Camera(noise_sigma=2), rng=rng).image
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        m = measure(img, view=view)
    assert m.coverage < 0.01
    if view == "closeup":
        assert m.hair_count <= 2


def test_analyse_refuses_a_global_copy_of_another_size():
    # (a comparison hands analyse the copy it made of the photo; one made to another
    # side would be read at the wrong working scale)
    rgb = np.random.default_rng(0).integers(0, 255, (1300, 1000, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="shrunk"):
        analyse(rgb, view="global", shrunk=shrink_to_side(rgb, 512))


def test_tiny_and_wrong_inputs_are_refused_clearly():
    with pytest.raises(ValueError, match="at least 64x64"):
        measure(np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        measure(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(ValueError, match="view"):
        measure(np.zeros((100, 100, 3), np.uint8), view="side")


def test_cli_measure_contract(tmp_path):
    ph = _closeup("light", "black", width=640, height=480)
    photo = tmp_path / "field.png"
    Image.fromarray(ph.image).save(photo)
    mask_out = tmp_path / "mask.png"
    out = tmp_path / "out"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "hairtrack",
            "measure",
            str(photo),
            "--json",
            "--view",
            "closeup",
            "--mask-out",
            str(mask_out),
            "-o",
            str(out),
            "--px-per-mm",
            "75",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    for key in (
        "path",
        "view",
        "coverage",
        "hair_count",
        "hair_per_cm2",
        "mean_width_px",
        "region_px",
    ):
        assert key in js
    mask = np.asarray(Image.open(mask_out))
    assert mask.shape == ph.image.shape[:2] and set(np.unique(mask)) <= {0, 255}
    assert (out / "field_overlay.png").exists() and (out / "field.json").exists()
    # the overlay carries no metadata
    assert not Image.open(out / "field_overlay.png").info.get("exif")
    r = subprocess.run(
        [sys.executable, "-m", "hairtrack", "measure", str(tmp_path / "no.jpg")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "no.jpg" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_large_closeup_shafts_are_resolved_before_the_working_scale_is_chosen():
    """At 4000x3000 (12 MP) the probe copy is ~0.13x: 5 px shafts are under 1 px on it
    and read as wide as its blur (~15 px), which sent the photo to a 0.32x working copy
    and over-read coverage by 2-3 pp. The width is measured again on larger copies."""
    rng = np.random.default_rng([7, 0])
    subject = synth.make_closeup_subject(
        rng, skin="light", hair="black", width=4000, height=3000, px_per_mm=75.0
    )
    cam = synth.Camera(noise_sigma=2.0, blur_sigma=0.6)
    ph = synth.render_closeup(subject, synth.visit_state(subject, rng=rng), cam, rng=rng)
    t = ph.truth
    a = analyse(ph.image, view="closeup", px_per_mm=t["px_per_mm"])
    assert a.shaft_width_px == pytest.approx(t["mean_width_px"], rel=0.3)
    m = _quiet(ph.image, view="closeup", px_per_mm=t["px_per_mm"])
    assert abs(m.coverage - t["coverage"]) < 0.01


def test_count_flags_the_strokes_cut_by_the_frame_and_the_region():
    """at_edge marks exactly the drawn hairs that reach the frame or the region's edge."""
    import cv2

    from hairtrack.count import count_hairs

    m = np.zeros((160, 240), np.uint8)
    segs = [
        ((30, 40), (90, 40), False),  # inside
        ((0, 100), (50, 110), True),  # cut by the left edge
        ((150, 120), (239, 130), True),  # cut by the right edge
        ((120, 0), (130, 60), True),  # cut by the top edge
        ((140, 80), (200, 90), False),  # inside
    ]
    for p, q, _ in segs:
        cv2.line(m, p, q, 1, 5)
    hc = count_hairs(m.astype(bool), shaft_width_px=5.0, count_border="include")
    assert hc.count == len(segs)
    for p, q, cut in segs:
        mid = ((p[1] + q[1]) // 2, (p[0] + q[0]) // 2)
        k = hc.labels[mid[0] - 3 : mid[0] + 4, mid[1] - 3 : mid[1] + 4].max()
        assert k > 0
        assert bool(hc.at_edge[k - 1]) is cut
    assert hc.n_edge == sum(cut for *_, cut in segs)
    # a region ending across the first hair cuts it off too
    region = np.ones(m.shape, bool)
    region[:, :60] = False
    hc = count_hairs(m.astype(bool) & region, shaft_width_px=5.0, region=region)
    k = hc.labels[38:43, 60:90].max()
    assert k > 0 and hc.at_edge[k - 1]


def test_closeup_coverage_with_the_region_share_made_at_the_working_size():
    """Coverage weighs each working pixel by the share of it inside the region: the share
    made at the working size from the reduced copy's overlays gives what the full-size
    region gives, and a copy of the analysis with another region uses that region."""
    import dataclasses

    from hairtrack.measure import _coverage, summarise

    rng = np.random.default_rng(11)
    subject = synth.make_closeup_subject(rng, width=1600, height=1200, px_per_mm=150.0)
    ph = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng, overlay=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyse(ph.image, view="closeup")
        assert a.region_share is not None and a.work_mask.shape != a.region_mask.shape
        m = summarise(a)
        full = _coverage(a, a.region_mask, 0, int(a.region_mask.sum()))  # full-size region
        assert m.coverage == pytest.approx(full, abs=1e-4)
        assert abs(m.coverage - ph.truth["coverage"]) < 0.02
        other = a.region_mask.copy()
        other[:, : other.shape[1] // 2] = False
        b = dataclasses.replace(a, region_mask=other)
        assert summarise(b).coverage == _coverage(b, other, 0, int(other.sum()))


def _long_hair_with_fused_tips(tip_px: int) -> np.ndarray:
    """A long hair (both ends free) and two shorter hairs of its opening lying fused along
    it from the root, whose last ``tip_px`` leave it, one to either side."""
    import cv2

    m = np.zeros((140, 160), np.uint8)
    cv2.line(m, (30, 130), (110, 20), 1, 6)
    leave = np.array([78, 64])
    d = np.array([80, -110]) / np.hypot(80, 110)
    n = np.array([110, 80]) / np.hypot(80, 110)
    for side in (-1, 1):
        tip = leave + tip_px * (0.5 * d + 0.87 * side * n)
        cv2.line(m, (30, 130), (78, 64), 1, 6)
        cv2.line(m, (78, 64), (int(tip[0]), int(tip[1])), 1, 6)
    return m.astype(bool)


@pytest.mark.parametrize("tip_px", [14, 16])
def test_count_finds_fused_hairs_by_their_free_ends(tip_px):
    """Three hairs drawn, fused but for two short tips (shorter than a countable arm):
    the mass has 4 free ends and the long hair accounts for 2 of them, so 3 hairs. One
    long hair is one; two crossing hairs (4 free ends, two whole strokes) stay two."""
    import cv2

    from hairtrack.count import count_hairs

    fused = _long_hair_with_fused_tips(tip_px)
    assert count_hairs(fused, shaft_width_px=6.0, count_ends_min=0).count == 1
    hc = count_hairs(fused, shaft_width_px=6.0)
    assert hc.count == 3
    # the long hair's own width is read (drawn 6 px); the fused hairs' cannot be
    assert np.isfinite(hc.widths_px).sum() == 1
    assert np.nanmedian(hc.widths_px) == pytest.approx(6.0, rel=0.2)
    lone = np.zeros((140, 160), np.uint8)
    cv2.line(lone, (30, 130), (110, 20), 1, 6)
    assert count_hairs(lone.astype(bool), shaft_width_px=6.0).count == 1
    cv2.line(lone, (30, 20), (110, 130), 1, 6)
    assert count_hairs(lone.astype(bool), shaft_width_px=6.0).count == 2


def test_count_over_part_of_the_field_cuts_hairs_at_its_frame():
    """Counted over the part of a field another photo also shows (a turned, zoomed
    footprint), with that part's ``frame``: a hair its edge cuts counts as one the photo's
    own edge cuts, and the count over the part reads the truth (hairs rooted in it) as the
    count over the whole field reads its own. Without the frame, every piece the edge
    leaves counted as a whole hair: the part read 4.8-24 % higher against its truth than
    the whole field did (median 6.6 % on these six fields)."""
    from hairtrack.measure import summarise

    h, w = 864, 1152
    turn = np.vstack([cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 12, 1.15), [0, 0, 1]])
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    pts = cv2.perspectiveTransform(corners[None], np.linalg.inv(turn))[0]
    part = np.zeros((h, w), np.uint8)
    cv2.fillPoly(part, [np.round(pts).astype(np.int32)], 1)
    part = part.astype(bool)
    excess = []
    for seed in range(6):
        rng = np.random.default_rng([seed, 4242])
        subject = synth.make_closeup_subject(
            rng, width=w, height=h, skin="light", hair="black", clipped=True
        )
        ph = synth.render_closeup(
            subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
        )
        roots = np.asarray(ph.truth["hair_roots_xy"])
        x, y = roots[:, 0].astype(int), roots[:, 1].astype(int)
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        true_part = int(part[y[inside], x[inside]].sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            an = analyse(ph.image, view="closeup")
            whole = summarise(an).hair_count
            in_part = summarise(an, region=part, frame=part).hair_count
        excess.append(in_part / true_part - whole / ph.truth["hair_count"])
    assert abs(float(np.median(excess))) < 0.03


def test_faint_hair_gets_no_count():
    """Brown hair on dark skin hardly stands out (contrast 0.11 on this phantom): the
    skin's texture passes for hair, and the count read 1027 hairs for 188 drawn. No
    count, no widths, and a note saying why; the coverage stays (under-read, and said)."""
    skins, hairs = list(synth.SKIN_TONES), list(synth.HAIR_COLOURS)
    rng = np.random.default_rng([11, skins.index("dark"), hairs.index("brown"), 1])
    ph = synth.still(rng, skin="dark", hair="brown", clipped=True).phantom
    with pytest.warns(UserWarning, match="hardly stands out"):
        m = measure(ph.image, view="closeup", px_per_mm=ph.truth["px_per_mm"])
    assert m.hair_count is None and m.hair_per_cm2 is None and m.mean_width_px is None
    assert 0 < m.coverage < ph.truth["coverage"]


@pytest.mark.parametrize(
    "full, out, small",
    [
        ((4000, 3000), (512, 384), (512, 384)),
        ((3024, 4032), (384, 512), (384, 512)),
        ((1080, 1920), (288, 512), (144, 256)),
        ((4000, 3000), (512, 384), (1000, 750)),
    ],
)
def test_area_share_is_opencvs_area_resize(full, out, small) -> None:
    """The global region's share of each working pixel, made block by block from the
    working mask, is OpenCV's area resize of the full-size region, value for value: on
    ellipses, speckle, an all-in region, and sizes whose scale is no binary fraction
    (None: the caller resizes)."""
    from hairtrack.measure import _area_share, _upsample

    rng = np.random.default_rng(0)
    for trial in range(4):
        m = np.zeros(small, np.uint8)
        for _ in range(3):
            centre = (int(rng.integers(0, small[1])), int(rng.integers(0, small[0])))
            axes = (int(rng.integers(5, small[1])), int(rng.integers(5, small[0])))
            cv2.ellipse(m, centre, axes, float(rng.integers(0, 180)), 0, 360, 1, -1)
        if trial == 1:
            m |= (rng.random(small) < 0.01).astype(np.uint8)
        if trial == 2:
            m[:] = 1
        m = m.astype(bool)
        region = _upsample(m, full)
        full8 = region.view(np.uint8) * np.uint8(255)
        truth = cv2.resize(full8, out[::-1], interpolation=cv2.INTER_AREA)
        share = _area_share(m, region, out)
        assert share is not None
        assert np.array_equal(share * np.float32(255.0), truth.astype(np.float32))
    assert _area_share(m, _upsample(m, (3456, 5184)), (341, 512)) is None


@pytest.mark.parametrize(
    "full, out",
    [
        ((4000, 3000), (512, 384)),  # blocks of 125 px -> 16 px
        ((3024, 4032), (384, 512)),
        ((4000, 3000), (500, 375)),  # a whole number of px: OpenCV's own
        ((3000, 4000), (686, 914)),  # no blocks: OpenCV's own
        ((4000, 3000), (4000, 3000)),
    ],
)
def test_area_resize_is_opencvs_area_resize(full, out) -> None:
    """A bool mask's area resize, block by block where the scale allows, is OpenCV's
    area resize of the mask times 255, value for value: ellipses, with speckle, all
    in, all out."""
    from hairtrack.measure import _area_resize

    rng = np.random.default_rng(1)
    for trial in range(4):
        m = np.zeros(full, np.uint8)
        for _ in range(2):
            centre = (int(rng.integers(0, full[1])), int(rng.integers(0, full[0])))
            axes = (int(rng.integers(50, full[1])), int(rng.integers(50, full[0])))
            cv2.ellipse(m, centre, axes, float(rng.integers(0, 180)), 0, 360, 1, -1)
        if trial == 1:
            m &= (rng.random(full) > 0.001).astype(np.uint8)
        if trial >= 2:
            m[:] = 1 if trial == 2 else 0
        m = m.astype(bool)
        truth = m.view(np.uint8) * np.uint8(255)
        if out != full:
            truth = cv2.resize(truth, out[::-1], interpolation=cv2.INTER_AREA)
        assert np.array_equal(_area_resize(m, out), truth)
