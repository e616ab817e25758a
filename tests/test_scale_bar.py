"""The burned-in 1 mm scale bar against phantom truth (hairtrack.synth overlays)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hairtrack import synth
from hairtrack.overlays import read_scale_bar


def _phantom(width: int, height: int, field_mm: float, seed: int) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    subject = synth.make_closeup_subject(
        rng, width=width, height=height, px_per_mm=width / field_mm, fu_per_cm2=40.0
    )
    ph = synth.render_closeup(
        subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng, overlay=True
    )
    ok, buf = cv2.imencode(".jpg", ph.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy(), float(ph.truth["px_per_mm"])


@pytest.mark.parametrize(
    "width,height,field_mm,seed",
    # the short arm is a third of the bar: it must reach scale_bar_min_run_px (12 px)
    [(640, 480, 10.0, 1), (640, 480, 14.0, 2), (1152, 864, 24.0, 3), (1800, 1350, 12.0, 4)],
)
def test_phantom_bar_reads_within_a_pixel(width, height, field_mm, seed) -> None:
    rgb, truth = _phantom(width, height, field_mm, seed)
    assert read_scale_bar(rgb) == pytest.approx(truth, abs=1.0)


def test_short_bar_on_a_wide_photo_is_read() -> None:
    """A 1 mm bar at 4 % of the long side (the old 5 % rule missed it), drawn as synth does."""
    rng = np.random.default_rng(5)
    rgb = rng.normal(120, 12, (1500, 2000, 3)).clip(0, 255).astype(np.uint8)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 1.5)
    ln, x0, y0 = 80, 1850, 1460
    cv2.line(rgb, (x0, y0), (x0 + ln, y0), (255, 255, 255), 3)
    cv2.line(rgb, (x0, y0), (x0, y0 - ln // 3), (255, 255, 255), 3)
    cv2.putText(rgb, "1.0 mm", (x0, y0 - ln // 3 - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
    assert read_scale_bar(rgb) == pytest.approx(ln, abs=1.0)
    assert read_scale_bar(rgb, scale_bar_mm=2.0) == pytest.approx(ln / 2, abs=0.5)


def test_no_bar_no_reading() -> None:
    rng = np.random.default_rng(6)
    rgb = rng.normal(150, 15, (600, 800, 3)).clip(0, 255).astype(np.uint8)
    cv2.line(rgb, (100, 300), (500, 300), (255, 255, 255), 2)  # a lone line is not a bar
    rgb[:30] = 30  # a header with text: its letters have L-shaped corners
    cv2.putText(rgb, "ID 0000 2026-01-01 20x", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                (235, 235, 235), 2, cv2.LINE_AA)  # fmt: skip
    assert read_scale_bar(rgb) is None


def test_bar_on_washed_out_skin_is_not_guessed() -> None:
    """White on near-white: no line to see, so no reading (never a wrong one)."""
    rgb = np.full((480, 640, 3), 253, np.uint8)
    cv2.line(rgb, (500, 450), (580, 450), (255, 255, 255), 3)
    cv2.line(rgb, (500, 450), (500, 424), (255, 255, 255), 3)
    assert read_scale_bar(rgb) is None


def _full_frame_runs(rgb: np.ndarray, axis: int, k: int, contrast: float, min_run: int):
    """Reference: the thin-line test and the opening over the whole photo, labelled at once."""
    ax = 0 if axis == 1 else 1
    out = []
    for pol in (0, 1):
        hit = np.zeros(rgb.shape[:2], bool)
        for ch in range(3):
            g = rgb[..., ch].astype(np.int16)
            a, b = np.roll(g, k, axis=ax), np.roll(g, -k, axis=ax)
            d = np.minimum(g - a, g - b) if pol == 0 else np.minimum(a - g, b - g)
            hit |= d >= contrast
        ker = np.ones((1, min_run) if axis == 1 else (min_run, 1), np.uint8)
        runs = cv2.morphologyEx(hit.astype(np.uint8), cv2.MORPH_OPEN, ker)
        n, _, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        boxes = [tuple(int(v) for v in s[:4]) for s in stats[1:n]]
        if axis == 0:  # in the transposed frame
            boxes = [(y, x, h, w) for x, y, w, h in boxes]
        out.append(boxes)
    return out


@pytest.mark.parametrize("seed,size", [(7, (1152, 864)), (8, (1600, 1200))])
def test_windowed_runs_are_the_whole_photo_runs(seed, size) -> None:
    """The scale bar is searched in small windows only: it must see every run, in order."""
    from hairtrack.overlays import _frame_runs, _whole_frame_runs

    rgb, _ = _phantom(size[0], size[1], 10.0, seed)
    for axis in (1, 0):
        want = _full_frame_runs(rgb, axis, 7, 20.0, 12)
        got = _frame_runs(rgb, axis, k=7, contrast=20.0, min_run=12)
        assert [[box for _, box in pol] for pol in got] == want
        # the fallback for photos full of straight lines
        got = _whole_frame_runs(rgb, axis, k=7, contrast=20.0, min_run=12)
        assert [[box for _, box in pol] for pol in got] == want


def test_helpers_equal_their_plain_numpy_forms() -> None:
    """The fast forms of a median, a strided gather and the header-strip test give the
    plain computation's result exactly."""
    from hairtrack.overlays import _edge_strips, _every_column, _median_u8

    rng = np.random.default_rng(9)
    for n in (1, 2, 3, 4, 50, 51):
        v = rng.integers(0, 256, n).astype(np.uint8)
        assert _median_u8(v) == float(np.median(v.astype(np.float32)))
    assert _median_u8(np.full(6, 7, np.uint8)) == 7.0
    rgb = rng.integers(0, 256, (37, 203, 3)).astype(np.uint8)
    for step in (1, 2, 3, 4):
        assert np.array_equal(_every_column(rgb, step), rgb[:, ::step])

    def whole(gray, contrast, min_length, depth):  # the test on every row, then the bands
        h = gray.shape[0]
        gy = np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)) / 4.0
        step = (gy >= contrast).astype(np.uint8)
        step = cv2.morphologyEx(step, cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
        step = cv2.morphologyEx(step, cv2.MORPH_OPEN, np.ones((1, min_length), np.uint8))
        rows = np.flatnonzero(step.any(axis=1))
        out = np.zeros(gray.shape, bool)
        lim = max(2, int(depth * h))
        top, bottom = rows[rows < lim], rows[rows >= h - lim]
        if top.size:
            out[: top.max() + 2] = True
        if bottom.size:
            out[max(bottom.min() - 1, 0) :] = True
        return out

    hits = 0
    for h in (3, 6, 40, 120):
        for _ in range(20):
            gray = rng.integers(0, 256, (h, 60)).astype(np.uint8)
            r = int(rng.integers(0, h))
            gray[r:] = np.clip(gray[r:].astype(int) + int(rng.integers(-150, 150)), 0, 255)
            gray = cv2.GaussianBlur(gray, (0, 0), 1.0) if h > 6 else gray
            want = whole(gray, 20.0, 12, 0.08)
            hits += int(want.any())
            assert np.array_equal(
                _edge_strips(gray, contrast=20.0, min_length=12, depth=0.08), want
            )
    assert hits > 0  # some strips were found: the comparison is not of empty masks
