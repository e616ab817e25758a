"""hairtrack.geometry: area reduction of large photos."""

from __future__ import annotations

import numpy as np

from hairtrack.geometry import halvings, shrink


def test_shrink_maps_pixel_centres_as_one_resize():
    # the truth: an area average of a linear ramp is the ramp at the box's centre, and
    # a pixel x of the copy is centred on (x + 0.5) * W / w - 0.5 of the photo (99 % of
    # them to 0.15 px: OpenCV's area tables are approximate; one resize to 1 MP is off by
    # 0.04 px, and one of 4000 px to 1633 puts one pixel 0.77 px off)
    h, w = 3000, 4000
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for size in ((1155, 866), (256, 192), (2000, 1500), (1633, 1225)):
        for ramp, centre in ((xs, size[0]), (ys, size[1])):
            out = shrink(ramp * 0.01, size)
            assert out.shape == (size[1], size[0])
            n = w if ramp is xs else h
            want = ((np.arange(centre) + 0.5) * n / centre - 0.5) * 0.01
            got = out[:, 0] if ramp is ys else out[0]
            assert np.percentile(np.abs(got - want), 99) < 0.15 * 0.01
    assert halvings((h, w), (1155, 866)) == 1 and halvings((h, w), (256, 192)) == 3
    assert halvings((h + 1, w), (256, 192)) == 0  # odd sides are not halved


def test_shrink_of_a_photo_is_close_to_one_area_resize():
    import cv2

    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8), (0, 0), 3)
    a = shrink(img, (256, 192)).astype(float)
    b = cv2.resize(img, (256, 192), interpolation=cv2.INTER_AREA).astype(float)
    # (a slightly wider box: smoother by a fraction of a grey level)
    assert np.abs(a - b).mean() < 1.0 and np.abs(a - b).max() < 8
