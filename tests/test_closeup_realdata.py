"""Close-up segmentation, hair counting and overlays: synthetic truth and real photos.

The real-photo tests read ``../shared/realdata`` (never copied into the repository) and
skip when it is absent; their thresholds sit a little below what the code reaches.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from hairtrack.config import CloseupParams, Params
from hairtrack.count import count_hairs
from hairtrack.normalise import flatten_illumination, grey_world
from hairtrack.overlays import capture_overlay_mask, read_scale_bar
from hairtrack.segment import decide_polarity, segment_closeup

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
SPEARMAN_MIN = 0.72  # reached ~0.78 (see benchmarks/realdata_closeup.py); the goal is 0.8
MAD_MAX = 2.3  # reached ~1.7


# ---- synthetic scenes ------------------------------------------------------------------


def _skin(shape: tuple[int, int], *, level: float, rng: np.random.Generator) -> np.ndarray:
    """Textured, unevenly lit skin as (M, N, 3) uint8: smoothed noise times a light ramp."""
    noise = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), 2.0)
    noise *= 6.0 / max(float(noise.std()), 1e-6)
    ramp = np.linspace(0.85, 1.1, shape[1], dtype=np.float32)[None, :]
    gray = (level + noise) * ramp
    rgb = np.stack([gray * 1.05, gray, gray * 0.92], axis=2)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _draw(img: np.ndarray, lines, *, width: int, colour) -> np.ndarray:
    """Draw hair shafts (segments) of a given width; returns the truth mask."""
    truth = np.zeros(img.shape[:2], np.uint8)
    for p, q in lines:
        cv2.line(img, p, q, colour, width, lineType=cv2.LINE_8)
        cv2.line(truth, p, q, 1, width, lineType=cv2.LINE_8)
    return truth.astype(bool)


def _scene(lines, *, polarity: str = "dark", width: int = 5, shape=(180, 260), seed=0):
    rng = np.random.default_rng(seed)
    if polarity == "dark":
        img = _skin(shape, level=190, rng=rng)
        colour = (45, 35, 30)
    else:
        img = _skin(shape, level=70, rng=rng)
        colour = (225, 220, 210)
    truth = _draw(img, lines, width=width, colour=colour)
    return img, truth


def _count(img: np.ndarray, **kw) -> int:
    seg = segment_closeup(img)
    w = seg.shaft_width_px * seg.work_scale
    return count_hairs(seg.work_mask, shaft_width_px=w, **kw).count


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * (a & b).sum() / max(a.sum() + b.sum(), 1))


@pytest.mark.parametrize("polarity", ["dark", "light"])
def test_segment_single_shaft_both_polarities(polarity: str) -> None:
    img, truth = _scene([((30, 40), (230, 140))], polarity=polarity, width=5)
    seg = segment_closeup(img)
    assert seg.polarity == polarity
    assert seg.mask.shape == img.shape[:2] and seg.mask.dtype == bool
    assert _dice(seg.mask, truth) > 0.8
    assert 4.0 <= seg.shaft_width_px <= 8.0


def test_polarity_override_and_bad_values() -> None:
    img, _ = _scene([((30, 40), (230, 140))])
    assert segment_closeup(img, polarity="light").polarity == "light"
    with pytest.raises(ValueError, match="polarity"):
        segment_closeup(img, polarity="bright")
    with pytest.raises(ValueError, match="at least"):
        segment_closeup(img[:10, :10])
    with pytest.raises(ValueError, match="uint8"):
        segment_closeup(img.astype(np.float32))
    with pytest.raises(TypeError):
        segment_closeup(img, count_border="half")


def test_decide_polarity_on_flattened_grey() -> None:
    img, _ = _scene([((20, 30), (240, 150)), ((20, 150), (240, 40))], polarity="light")
    flat = flatten_illumination(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), sigma=40)
    assert decide_polarity(flat) == "light"
    assert decide_polarity(2.0 - flat) == "dark"


def test_count_one_line() -> None:
    img, _ = _scene([((30, 40), (230, 140))])
    assert _count(img, count_border="include") == 1


@pytest.mark.parametrize("polarity", ["dark", "light"])
def test_count_two_crossing_lines(polarity: str) -> None:
    img, _ = _scene([((30, 30), (230, 150)), ((30, 150), (230, 30))], polarity=polarity)
    assert _count(img, count_border="include") == 2


def test_count_three_hairs_from_one_opening() -> None:
    root = (130, 170)
    ends = [(60, 30), (130, 25), (200, 30)]
    img, _ = _scene([(root, e) for e in ends])
    assert _count(img, count_border="include") == 3


def test_pore_and_dust_count_zero() -> None:
    rng = np.random.default_rng(3)
    img = _skin((180, 260), level=190, rng=rng)
    cv2.circle(img, (90, 90), 5, (50, 40, 35), -1)  # a pore
    cv2.circle(img, (180, 60), 3, (60, 50, 45), -1)  # a speck
    assert _count(img, count_border="include") == 0
    img2, _ = _scene([((30, 40), (230, 140))])
    cv2.circle(img2, (200, 40), 5, (50, 40, 35), -1)
    assert _count(img2, count_border="include") == 1


def _band(shape: tuple[int, int], p0, p1, width: float) -> np.ndarray:
    """Pixels whose centre lies within ``width / 2`` of the segment p0-p1 (exact width).

    (``cv2.line(..., thickness=5)`` is not 5 px wide on a diagonal: it covers ~7.)
    """
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(float)
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    ab = b - a
    t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / (ab @ ab), 0, 1)
    return np.hypot(xx - a[0] - t * ab[0], yy - a[1] - t * ab[1]) <= width / 2


def test_count_hairs_on_masks() -> None:
    mask = _band((120, 170), (10, 10), (160, 110), 5) | _band((120, 170), (10, 110), (160, 10), 5)
    hc = count_hairs(mask, count_border="include")
    assert hc.count == 2
    assert hc.widths_px.shape == (2,) and hc.lengths_px.shape == (2,)
    assert np.all(np.abs(hc.widths_px - 5) < 0.75)
    assert np.all(hc.lengths_px > 150)
    assert hc.centroids.shape == (2, 2)
    assert hc.labels.shape == mask.shape
    # cut by the frame: a hair running off the edge counts half by default
    edge = np.zeros((100, 150), bool)
    edge[48:53, 60:] = True
    assert count_hairs(edge, count_border="include").count == 1
    assert count_hairs(edge, count_border="exclude").count == 0
    assert count_hairs(np.zeros((50, 60), bool)).count == 0
    with pytest.raises(ValueError, match="2-D"):
        count_hairs(np.zeros((5, 5, 3), bool))


def test_count_pixel_size_scales_lengths() -> None:
    mask = np.zeros((60, 200), bool)
    mask[28:33, 20:180] = True
    a = count_hairs(mask, count_border="include")
    b = count_hairs(mask, count_border="include", pixel_size=0.5)
    assert b.lengths_px[0] == pytest.approx(0.5 * a.lengths_px[0])
    assert 150 <= a.lengths_px[0] <= 170


def test_overlays_synthetic_are_masked_and_not_counted() -> None:
    img, _ = _scene([((40, 60), (240, 160))], shape=(240, 320))
    plain = _count(img, count_border="include")
    ov = img.copy()
    cv2.circle(ov, (160, 150), 70, (255, 0, 0), 1)  # red measurement circle
    cv2.rectangle(ov, (0, 0), (150, 14), (60, 60, 60), -1)  # header box
    cv2.putText(ov, "A366 70x", (3, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1)
    cv2.line(ov, (20, 190), (120, 190), (30, 30, 30), 1)  # scale bar, L-shaped
    cv2.line(ov, (20, 90), (20, 190), (30, 30, 30), 1)
    mask = capture_overlay_mask(ov)
    assert mask[5, 60] and mask[190, 70] and mask[150, 230]
    assert mask.mean() < 0.3 and not mask[110, 140]  # the hair itself stays
    assert _count(ov, count_border="include") == plain
    assert read_scale_bar(ov) == pytest.approx(101, abs=3)
    assert read_scale_bar(img) is None


def test_flatten_and_grey_world() -> None:
    ramp = np.tile(np.linspace(80, 200, 160, dtype=np.float32), (120, 1))
    flat = flatten_illumination(ramp, sigma=20)
    assert flat.dtype == np.float32 and np.ptp(flat[:, 30:-30]) < 0.1
    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[...] = (200, 150, 100)
    bal = grey_world(rgb)
    assert np.ptp(bal.reshape(-1, 3).mean(0)) < 2
    with pytest.raises(ValueError):
        flatten_illumination(np.zeros((4, 4)))


def test_closeup_stages_take_their_defaults_from_the_config() -> None:
    """Every close-up default is written once (CloseupParams); each stage takes its
    share by name, refuses any other name, and every field belongs to some stage."""
    p = Params().closeup
    assert isinstance(p, CloseupParams)
    img = np.full((64, 64, 3), 200, np.uint8)
    shares = [
        (segment_closeup, p.segment_kwargs(), img),
        (count_hairs, p.count_kwargs(), np.zeros((64, 64), bool)),
        (capture_overlay_mask, p.overlay_kwargs(), img),
        (read_scale_bar, p.scale_bar_kwargs(), img),
    ]
    used: set[str] = set()
    for func, kwargs, arg in shares:
        func(arg, **kwargs)  # its own share is accepted
        with pytest.raises(TypeError, match="no_such_parameter"):
            func(arg, no_such_parameter=1)
        used |= set(kwargs)
    assert used == {f.name for f in dataclasses.fields(CloseupParams)}
    with pytest.raises(TypeError, match="count_border"):
        capture_overlay_mask(img, count_border="half")


# ---- real photographs ------------------------------------------------------------------

needs_tiles = pytest.mark.skipif(
    not (REALDATA / "tiles").is_dir(), reason="../shared/realdata/tiles absent"
)
needs_tricho = pytest.mark.skipif(
    not (REALDATA / "trichoscopy").is_dir(), reason="../shared/realdata/trichoscopy absent"
)
needs_series = pytest.mark.skipif(
    not (REALDATA / "trichoscopy_series").is_dir(),
    reason="../shared/realdata/trichoscopy_series absent",
)


@needs_tiles
def test_realdata_tiles_dice() -> None:
    scores = []
    for img_path in sorted((REALDATA / "tiles").glob("*.jpg")):
        if img_path.stem.endswith("_mask"):
            continue
        gray = cv2.imread(str(img_path), cv2.IMREAD_GRAYSCALE)
        gt = cv2.imread(str(img_path.with_name(img_path.stem + "_mask.jpg")), 0) < 128
        scores.append(_dice(segment_closeup(gray).mask, gt))
    assert len(scores) >= 40
    assert np.median(scores) >= 0.83


@needs_tricho
def test_realdata_trichoscopy_counts() -> None:
    from scipy.stats import spearmanr

    ours, boxes = [], []
    for img_path in sorted((REALDATA / "trichoscopy").glob("*.jpg")):
        xml = img_path.with_suffix(".xml")
        if not xml.exists():
            continue
        rgb = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
        ours.append(_count(rgb))
        boxes.append(len(re.findall(r"<object>", xml.read_text(errors="replace"))))
    ours_a, boxes_a = np.asarray(ours, float), np.asarray(boxes, float)
    assert spearmanr(ours_a, boxes_a)[0] >= SPEARMAN_MIN
    assert np.mean(np.abs(ours_a - boxes_a)) <= MAD_MAX


@needs_tricho
def test_realdata_dark_tuft_in_its_shadow_is_found() -> None:
    """Every boxed hair of 230219_A090_2 has mask pixels in its box: the dense tuft of 3
    (top left), in its opening's shadow and wider than the hairness disk, reads faint to
    the black-hat and was dropped whole (``CloseupParams.rel_dark``)."""
    img_path = REALDATA / "trichoscopy" / "230219_A090_2.jpg"
    rgb = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
    mask = segment_closeup(rgb).mask
    xml = img_path.with_suffix(".xml").read_text(errors="replace")
    boxes = [
        [float(re.search(rf"<{t}>\s*([-0-9.]+)\s*</{t}>", obj).group(1)) for t in tags]
        for obj in re.findall(r"<object>(.*?)</object>", xml, re.S)
        for tags in [("xmin", "ymin", "xmax", "ymax")]
    ]
    assert len(boxes) == 12
    found = []
    for xa, ya, xb, yb in boxes:  # corners in either order
        x0, x1, y0, y1 = min(xa, xb), max(xa, xb), min(ya, yb), max(ya, yb)
        found.append(mask[int(y0) : int(np.ceil(y1)) + 1, int(x0) : int(np.ceil(x1)) + 1].any())
    assert all(found)


@needs_series
def test_realdata_scale_bar_and_header() -> None:
    reads = []
    for img_path in sorted((REALDATA / "trichoscopy_series").rglob("*.jpg")):
        rgb = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
        v = read_scale_bar(rgb)
        if v is not None:
            reads.append(v)
        mask = capture_overlay_mask(rgb)
        assert mask.mean() < 0.25  # overlays only, never the scalp
    assert len(reads) >= 1
    assert all(340 <= v <= 380 for v in reads)  # the README: ~350-360 px per mm


def test_count_area_split_counts_fused_tufts() -> None:
    mask = np.zeros((200, 300), np.uint8)
    for y in (20, 60, 100):
        cv2.line(mask, (20, y), (140, y), 1, 5)  # three lone hairs
    cv2.line(mask, (160, 150), (280, 150), 1, 5)  # two hairs fused side by side
    cv2.line(mask, (160, 155), (280, 155), 1, 5)
    m = mask.astype(bool)
    lone = count_hairs(
        m,
        count_border="include",
        count_split_wide=False,
        count_area_split=False,
        count_breadth_ratio=0.0,
    )
    assert lone.count == 4
    # the single-hair area as the median of the four lone strokes (the fused one is lone
    # too); at the default high quantile so small a sample splits nothing
    fused = count_hairs(
        m,
        count_border="include",
        count_split_wide=False,
        count_area_quantile=0.5,
        count_breadth_ratio=0.0,
    )
    assert fused.count == 5


@needs_tricho
@pytest.mark.parametrize(
    "k, name", [(16, "230219_A060_2"), (21, "230219_A090_2"), (23, "230219_A120_2")]
)
def test_a_reshot_real_closeup_is_read_at_the_baseline_scale(k, name):
    """A real close-up re-shot (known homography, new light, JPEG) with no hair change
    reads ~0 change: AFTER is segmented at BEFORE's working scale. Read at the scale its
    own probe picked, these three read +9 %, +31 % and +8 %. The re-shoot is the one
    ``benchmarks/pairs.py --real`` makes of the k-th photo."""
    import io
    import warnings

    from PIL import Image

    from hairtrack import synth
    from hairtrack.compare import compare
    from hairtrack.load import load_image

    files = sorted((REALDATA / "trichoscopy").glob("*.jpg"))
    if len(files) <= k or files[k].stem != name:
        pytest.skip(f"{name} is not the {k}-th real close-up here")
    rgb = load_image(files[k]).rgb
    rng = np.random.default_rng([21, k, False])
    cam = synth.random_camera(rng)
    shot, _ = synth.reshoot(rgb, cam, rng)
    buf = io.BytesIO()
    Image.fromarray(shot).save(buf, "JPEG", quality=cam.jpeg_quality)
    shot = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = compare(rgb, shot, view="closeup")
    assert c.alignment.ok
    assert abs(c.change.coverage_pct) < 4.0
    assert c.change.verdict == "no detectable change"
