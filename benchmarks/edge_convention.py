"""Where does a truth mask put a hair shaft's edge, as a share of the local contrast?

Run:  .venv/bin/python benchmarks/edge_convention.py

For each boundary pixel of a mask, the edge is taken midway between it and its
4-neighbours outside the mask; its level is compared with the shaft's core (the darkest
3x3-smoothed level of the mask within a few px; the lightest for light hair) and the skin
right beside it (median at 2-4 px outside the mask): ``f = (skin - edge) / (skin - core)``.
``f = 0.5`` is the edge of the hair's area (linear mixing); larger ``f`` is a tighter edge.
Printed for the hand masks of ``../shared/realdata/tiles`` and for phantom truth, next to
hairtrack's own mask on the same images. The core is a minimum, so noise biases every
``f`` a little low, the same for every mask measured.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TILES = REPO.parent / "shared" / "realdata" / "tiles"

from hairtrack import synth  # noqa: E402
from hairtrack.normalise import luminance  # noqa: E402
from hairtrack.segment import segment_closeup  # noqa: E402


def edge_shares(
    gray: np.ndarray, mask: np.ndarray, *, dark: bool, r: int, skin_d=(2, 4), n_max=3000, seed=0
) -> np.ndarray:
    """(K, 2) array: the edge's share of the local contrast, and the local mask width (px)."""
    g = gray.astype(np.float32) if dark else 255 - gray.astype(np.float32)
    gs = cv2.blur(g, (3, 3))
    m8 = mask.astype(np.uint8)
    din = cv2.distanceTransform(m8, cv2.DIST_L2, 5)
    dout = cv2.distanceTransform(1 - m8, cv2.DIST_L2, 5)
    h, w = g.shape
    bd = np.argwhere((m8 > 0) & (cv2.erode(m8, np.ones((3, 3), np.uint8)) == 0))
    bd = bd[(bd[:, 0] >= r) & (bd[:, 1] >= r) & (bd[:, 0] < h - r) & (bd[:, 1] < w - r)]
    if len(bd) > n_max:
        bd = bd[np.random.default_rng(seed).choice(len(bd), n_max, replace=False)]
    out = []
    for y, x in bd:
        nb = [
            g[y + dy, x + dx]
            for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))
            if not mask[y + dy, x + dx]
        ]
        if not nb:
            continue
        win = (slice(y - r, y + r + 1), slice(x - r, x + r + 1))
        ring = (dout[win] >= skin_d[0]) & (dout[win] <= skin_d[1])
        if ring.sum() < 5:
            continue
        skin = float(np.median(g[win][ring]))
        core = float(gs[win][mask[win]].min())
        if skin - core < 15:
            continue
        edge = 0.5 * (g[y, x] + float(np.mean(nb)))
        out.append(((skin - edge) / (skin - core), 2 * float(din[win].max())))
    return np.asarray(out, float).reshape(-1, 2)


def tiles() -> None:
    hand, ours = [], []
    for p in sorted(TILES.glob("[0-9]*.jpg")):
        if p.stem.endswith("_mask"):
            continue
        gray = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        gt = cv2.imread(str(p.with_name(p.stem + "_mask.jpg")), cv2.IMREAD_GRAYSCALE) < 128
        hand.append(edge_shares(gray, gt, dark=True, r=6, skin_d=(2, 5)))
        ours.append(edge_shares(gray, segment_closeup(gray).mask, dark=True, r=6, skin_d=(2, 5)))
    print(f"real tiles ({len(hand)}): edge share of the local contrast, median")
    for name, v in (("hand masks", hand), ("hairtrack", ours)):
        per = [np.median(f[:, 0]) for f in v if len(f) >= 20]
        a = np.concatenate(v)
        by_w = "  ".join(
            f"w {lo}-{hi} px {np.median(a[(a[:, 1] >= lo) & (a[:, 1] < hi), 0]):.3f}"
            for lo, hi in ((0, 6), (6, 10), (10, 99))
        )
        print(f"  {name:12s} per tile {np.median(per):.3f}   {by_w}")


def phantoms(seed: int = 11) -> None:
    rows: dict[tuple[str, str, str], list[np.ndarray]] = {}
    for i, skin in enumerate(list(synth.SKIN_TONES)[::2]):
        for j, hair in enumerate(synth.HAIR_COLOURS):
            for clipped in (True, False):
                rng = np.random.default_rng([seed, 2 * i, j, int(clipped)])
                ph = synth.still(rng, skin=skin, hair=hair, clipped=clipped).phantom
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    seg = segment_closeup(ph.image)
                gray = luminance(ph.image)
                dark = seg.polarity == "dark"
                group = ("black/brown" if hair in ("black", "brown") else "grey/blond") + (
                    "" if dark else " (light)"
                )
                for name, m in (("truth", ph.hair_mask), ("hairtrack", seg.mask)):
                    f = edge_shares(gray, m, dark=dark, r=5)
                    for wname, sel in (("w < 4 px", f[:, 1] < 4), ("w >= 4 px", f[:, 1] >= 4)):
                        rows.setdefault((group, wname, name), []).append(f[sel, 0])
    print(f"\nphantom close-ups (seed {seed}, every other skin tone): edge share, median")
    for k in sorted(rows):
        v = np.concatenate(rows[k])
        if len(v):
            print(f"  {k[0]:22s}{k[1]:11s}{k[2]:10s}{np.median(v):6.3f}  ({len(v)} px)")


if __name__ == "__main__":
    if TILES.is_dir():
        tiles()
    phantoms()
