"""Count hair shafts in a close-up hair mask, and measure their widths and lengths.

Pure functions on arrays. The mask's medial axis (skeleton) is cut where it folds back on
itself (the apex of a V of two hairs fused at one opening) and split at its junctions
into segments; segments that continue each other straight through a junction (two
hairs crossing) are joined again; short side branches (spurs of a ragged edge) and
short isolated pieces (pores, dandruff, debris) are dropped. Each remaining stroke is
one hair, or more when it is much wider than a single shaft (hairs of one follicular
unit lying side by side, fused in the mask), or when it steps from its own narrow part
to about twice that width (side-by-side hairs of one opening that end at different
lengths: the lone tip is the single-shaft reference, whatever the spread of widths
between hairs), or when it is alone in a mask component much broader than the lone
hairs' (a V or fan of two hairs from one opening whose medial axis was not cut), or
when its mass has more free medial-axis ends than its strokes account for (fused hairs
whose tips still end free). Width is twice the distance to the mask edge along the
stroke's medial axis, less one pixel (the distance is measured to the centre of the first
background pixel).

Examples
--------
>>> import cv2, numpy as np
>>> mask = np.zeros((120, 160), np.uint8)
>>> _ = cv2.line(mask, (10, 10), (150, 110), 1, 5)
>>> _ = cv2.line(mask, (10, 110), (150, 10), 1, 5)
>>> hc = count_hairs(mask.astype(bool))
>>> hc.count
2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from hairtrack.config import closeup_stage_params
from hairtrack.labels import label_axes

__all__ = ["HairCount", "count_hairs"]

_NB8 = np.ones((3, 3), np.float32)


@dataclass(frozen=True)
class HairCount:
    """Hairs found in a mask.

    Attributes
    ----------
    count : int
        Number of hairs (a stroke judged to be k side-by-side hairs counts k; with
        ``count_border='half'`` a hair cut off by the frame counts 1/2, rounded total).
    widths_px : (H,) float64 ndarray
        Shaft width of each hair kept, px (a fused stroke's width divided among its
        hairs). H = ``count`` except under ``'half'``, where cut-off hairs are listed.
        NaN for a hair counted in a fused mass, whose own width cannot be read.
    lengths_px : (H,) float64 ndarray
        Length of each hair kept, px (ends included).
    labels : (M, N) int32 ndarray
        Medial-axis pixels labelled by stroke (1..K, 0 elsewhere); several hairs of one
        fused stroke share its label.
    centroids : (H, 2) float64 ndarray
        (row, col) of each counted hair's stroke, for numbering on an overlay.
    total_length_px : float
        Summed length of all counted strokes, px.
    multiplicity : (K,) int ndarray
        Hairs counted for each stroke label 1..K (0 for strokes not counted).
    n_edge : int
        Strokes long enough to count that reach the frame or the region's edge (cut-off
        hairs), whatever ``count_border`` did with them.
    network : bool
        The hair forms one network across the field (long, overlapping hair: see
        ``count_network_share``): ``count`` is then not a count of hairs (strokes run
        through crossings of many hairs, masses are split by area) and should not be
        reported as one; nor should ``widths_px`` (side-by-side strands read as one
        wide shaft).
    at_edge : (K,) bool ndarray or None
        For each stroke label 1..K: it reaches the frame or the region's edge (a hair
        cut off by it; ``n_edge`` counts those that are counted). None for an empty
        mask.
    at_opening : (K,) bool ndarray or None
        For each stroke label 1..K: it is cut by the frame at one end and meets other
        strokes at the other, where hairs of one opening part (a hair rooted in the
        field; see ``count_edge_opening`` in :class:`hairtrack.config.CloseupParams`).
        None for an empty mask.
    """

    count: int
    widths_px: np.ndarray
    lengths_px: np.ndarray
    labels: np.ndarray
    centroids: np.ndarray
    total_length_px: float
    multiplicity: np.ndarray
    n_edge: int = 0
    network: bool = False
    at_edge: np.ndarray | None = None
    at_opening: np.ndarray | None = None


def _skeleton(mask: np.ndarray) -> np.ndarray:
    """Medial axis, 8-connected, one pixel thick (scikit-image's thinning)."""
    from skimage.morphology import skeletonize

    return skeletonize(mask)


def _pixels(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the non-zero pixels of a bool or uint8 image, in raster order
    (``np.nonzero``'s; OpenCV's scan is several times faster on a mostly empty image)."""
    b8 = np.ascontiguousarray(binary)
    if b8.dtype == bool:
        b8 = b8.view(np.uint8)
    pts = cv2.findNonZero(b8)
    if pts is None:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    pts = pts.reshape(-1, 2).astype(np.intp)
    return pts[:, 1], pts[:, 0]


def _index_image(rr: np.ndarray, cc: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Each listed pixel's index at (row + 1, col + 1) of an (M + 2, N + 2) int32 image,
    -1 elsewhere: the 8 neighbours of any pixel are read without clipping."""
    index = np.full((shape[0] + 2, shape[1] + 2), -1, np.int32)
    index[rr + 1, cc + 1] = np.arange(rr.size, dtype=np.int32)
    return index


def _segments(skel: np.ndarray, junction_radius: float):
    """Split a skeleton at its junctions.

    Parameters
    ----------
    skel : (M, N) bool ndarray
    junction_radius : float
        Skeleton pixels within this distance of a branch point belong to the junction
        (thick crossings make a small cluster of branch points), px.

    Returns
    -------
    seg_lab : (M, N) int32 ndarray
        Segment labels 1..S (0 elsewhere).
    n_seg : int
    zone_lab : (M, N) int32 ndarray
        Junction-zone labels 1..Z on skeleton pixels.
    n_zone : int
    """
    sk8 = skel.astype(np.uint8)
    nb = cv2.filter2D(sk8, cv2.CV_16S, _NB8, borderType=cv2.BORDER_CONSTANT) - sk8
    branch = skel & (nb >= 3)
    r = max(1, int(round(junction_radius)))
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    zone = (cv2.dilate(branch.astype(np.uint8), se) > 0) & skel
    n_zone, zone_lab = cv2.connectedComponents(zone.astype(np.uint8), connectivity=8)
    n_seg, seg_lab = cv2.connectedComponents((skel & ~zone).astype(np.uint8), connectivity=8)
    return seg_lab, n_seg - 1, zone_lab, n_zone - 1


#: the 8 neighbour steps (row, col), in the order a path's first step is chosen in
_STEPS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _paths(seg_lab: np.ndarray, n_seg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels of every segment in path order, all segments at once.

    A segment of :func:`_segments` is a simple 8-connected path (or loop): its pixels are
    not branch points, so each has at most two neighbours in it. It is walked from its
    first pixel in raster order among those with the fewest neighbours (an end; any
    pixel of a loop, which starts towards its last 4-neighbour in :data:`_STEPS` order,
    else its first neighbour). The walk is list ranking over directed neighbour steps
    (pointer jumping: a few array passes, whatever the paths' lengths).

    Returns
    -------
    pix : (P, 2) int ndarray
        (row, col) of every segment pixel, ordered by segment, then along its path.
    seg : (P,) int ndarray
        Segment label (1..S) of each.
    pos : (P,) int ndarray
        Position of each along its path (0 at the start).
    """
    rr, cc = _pixels(seg_lab > 0)
    n_pix = rr.size
    ll = seg_lab[rr, cc]
    if n_pix == 0:
        return np.zeros((0, 2), int), np.zeros(0, int), np.zeros(0, int)
    index = _index_image(rr, cc, seg_lab.shape)
    # directed steps (arcs) between neighbouring pixels, grouped by source in step order
    src_l, dst_l, dir_l = [], [], []
    for k, (dr, dc) in enumerate(_STEPS):
        q = index[rr + 1 + dr, cc + 1 + dc]
        ok = np.flatnonzero(q >= 0)
        src_l.append(ok)
        dst_l.append(q[ok].astype(np.intp))
        dir_l.append(np.full(ok.size, k))
    src, dst, step = np.concatenate(src_l), np.concatenate(dst_l), np.concatenate(dir_l)
    order = np.argsort(src, kind="stable")
    src, dst, step = src[order], dst[order], step[order]
    deg = np.bincount(src, minlength=n_pix)
    first_out = np.searchsorted(src, np.arange(n_pix))
    # start of each segment: its first pixel (raster order) with the fewest neighbours
    by_deg = np.lexsort((deg, ll))
    start = by_deg[np.searchsorted(ll[by_deg], np.arange(1, n_seg + 1))]
    if src.size == 0:  # only one-pixel segments: no steps to walk
        pix = start  # (one per segment, in label order)
        return np.stack([rr[pix], cc[pix]], 1), ll[pix], np.zeros(pix.size, np.int64)
    is_start = np.zeros(n_pix, bool)
    is_start[start] = True
    # the step after u -> v: v's other step (v's only step leads back to u: an end)
    o0 = first_out[dst]
    succ = np.where(dst[np.minimum(o0, dst.size - 1)] == src, o0 + 1, o0)
    # a walk ends at an end, and a loop before its start (nothing leads on from a start,
    # so that no step precedes a start's first step)
    succ[(deg[dst] < 2) | is_start[dst]] = -1
    has = succ >= 0
    succ[has & is_start[dst[np.where(has, succ, 0)]]] = -1
    # first step from each start: a loop's towards its last 4-neighbour, else the first
    s_deg = deg[start]
    f0 = first_out[start]
    f1 = np.minimum(f0 + 1, dst.size - 1)
    four = np.array([abs(dr) + abs(dc) == 1 for dr, dc in _STEPS])
    first = np.where((s_deg == 2) & four[step[f1]], f1, f0)
    # pointer jumping: steps to the end of each chain of steps, and the chain's last step
    jump, last = succ.copy(), np.arange(src.size)
    togo = (succ >= 0).astype(np.int64)
    live = np.flatnonzero(jump >= 0)
    while live.size:
        j = jump[live]
        togo[live] += togo[j]
        last[live] = last[j]
        jump[live] = jump[j]
        live = live[jump[live] >= 0]
    walked = s_deg > 0
    chain_of = np.full(src.size, -1, np.int64)
    chain_of[last[first[walked]]] = np.flatnonzero(walked)
    arcs = np.flatnonzero(chain_of[last] >= 0)
    k_of = chain_of[last[arcs]]
    pos = np.concatenate([np.zeros(n_seg, np.int64), togo[first[k_of]] - togo[arcs] + 1])
    pix = np.concatenate([start, dst[arcs]])
    seg = ll[pix]
    o = np.lexsort((pos, seg))
    pix, seg, pos = pix[o], seg[o], pos[o]
    return np.stack([rr[pix], cc[pix]], 1), seg, pos


def _sharp_turns(
    skel: np.ndarray,
    junction_radius: float,
    arm_px: float,
    cos_turn: float,
    *,
    segments: tuple | None = None,
) -> np.ndarray:
    """Skeleton pixels where a path folds back on itself (the apex of a V).

    Two hairs leaving one follicle opening side by side, fused at the opening, have one
    medial axis that runs up one hair and down the other, with no branch point. Along
    each junction-free path, the chord back ``arm_px`` and the chord forward ``arm_px``
    from a pixel make an angle; where their cosine drops below ``cos_turn`` (a hair
    does not fold over a few shaft widths) the sharpest pixel is an apex.

    ``segments``: what :func:`_segments` returns for ``skel``, when known.

    Returns
    -------
    (P, 2) int ndarray
        (row, col) of each apex.
    """
    seg_lab, n_seg, _, _ = segments or _segments(skel, junction_radius)
    none = np.zeros((0, 2), int)
    if n_seg == 0:
        return none
    a = max(2, int(round(arm_px)))
    pix, seg, pos = _paths(seg_lab, n_seg)
    n_of = np.bincount(seg, minlength=n_seg + 1)[seg]
    # pixels with a full chord either side (never across two segments: a >= 2)
    mid = np.flatnonzero((pos >= a) & (pos < n_of - a))
    if mid.size == 0:
        return none
    p = pix.astype(float)
    back = p[mid] - p[mid - a]
    fwd = p[mid + a] - p[mid]
    cos = (back * fwd).sum(1) / np.maximum(np.hypot(*back.T) * np.hypot(*fwd.T), 1e-9)
    sharp = cos < cos_turn
    at, cs = mid[sharp], cos[sharp]
    if at.size == 0:
        return none
    # one apex per run of sharp pixels along a path: the sharpest (the first, if tied)
    run = np.cumsum(np.concatenate([[True], np.diff(at) != 1])) - 1
    order = np.lexsort((np.arange(at.size), cs, run))
    first = order[np.searchsorted(run[order], np.arange(run[-1] + 1))]
    return pix[at[first]]


def _segment_geometry(rr: np.ndarray, cc: np.ndarray, ll: np.ndarray, n_seg: int, index):
    """Length (px, diagonal steps counted as sqrt 2), centroid and end points per segment.

    Parameters
    ----------
    rr, cc, ll : (P,) int ndarray
        Row, column and segment label (1..S) of every segment pixel, in raster order.
    n_seg : int
    index : (M + 2, N + 2) int32 ndarray
        :func:`_index_image` of the segment pixels.

    Returns
    -------
    length : (S + 1,) float64 ndarray
    centroid : (S + 1, 2) float64 ndarray
    ends : (S + 1, 2, 2) float64 ndarray
        The two extreme pixels of each segment along its principal axis, (row, col).
    """
    n = n_seg + 1
    cnt = np.maximum(np.bincount(ll, minlength=n), 1).astype(float)
    mr = np.bincount(ll, rr, n) / cnt
    mc = np.bincount(ll, cc, n) / cnt
    dr, dc = rr - mr[ll], cc - mc[ll]
    srr = np.bincount(ll, dr * dr, n) / cnt
    scc = np.bincount(ll, dc * dc, n) / cnt
    src = np.bincount(ll, dr * dc, n) / cnt
    theta = 0.5 * np.arctan2(2 * src, srr - scc)  # principal axis angle in (row, col)
    ur, uc = np.cos(theta), np.sin(theta)
    proj = dr * ur[ll] + dc * uc[ll]
    order = np.lexsort((proj, ll))
    first = np.searchsorted(ll[order], np.arange(n), side="left")
    last = np.searchsorted(ll[order], np.arange(n), side="right") - 1
    ends = np.zeros((n, 2, 2))
    valid = last >= first
    idx_lo = order[np.clip(first, 0, len(order) - 1)] if len(order) else np.zeros(n, int)
    idx_hi = order[np.clip(last, 0, len(order) - 1)] if len(order) else np.zeros(n, int)
    if len(order):
        ends[valid, 0] = np.stack([rr[idx_lo], cc[idx_lo]], 1)[valid]
        ends[valid, 1] = np.stack([rr[idx_hi], cc[idx_hi]], 1)[valid]

    # length: 8-neighbour steps inside each segment (diagonals sqrt 2); neighbours in the
    # skeleton belong to one segment (segments are 8-connected components)
    def on(dr: int, dc: int) -> np.ndarray:
        return index[rr + 1 + dr, cc + 1 + dc] >= 0

    right, down, left = on(0, 1), on(1, 0), on(0, -1)
    # a diagonal step only counts where no 4-neighbour path joins the two pixels
    d1 = on(1, 1) & ~right & ~down
    d2 = on(1, -1) & ~left & ~down
    length = (
        np.bincount(ll[right], minlength=n)
        + np.bincount(ll[down], minlength=n)
        + np.sqrt(2) * np.bincount(ll[d1], minlength=n)
        + np.sqrt(2) * np.bincount(ll[d2], minlength=n)
    ).astype(float) + 1.0
    length[0] = 0.0
    centroid = np.stack([mr, mc], 1)
    return length, centroid, ends


def _touching(
    seg_index: np.ndarray, seg_of: np.ndarray, zr: np.ndarray, zc: np.ndarray, zl: np.ndarray
) -> np.ndarray:
    """(segment, zone) pairs that touch (8-neighbours), as a sorted (P, 2) int array.

    Parameters
    ----------
    seg_index : (M + 2, N + 2) int32 ndarray
        :func:`_index_image` of the segment pixels.
    seg_of : (P,) int ndarray
        Segment label of each segment pixel.
    zr, zc, zl : (Q,) int ndarray
        Row, column and zone label of every junction-zone pixel.
    """
    keys = []
    n_zone = int(zl.max()) + 1 if zl.size else 1
    for dr, dc in _STEPS:
        q = seg_index[zr + 1 + dr, zc + 1 + dc]
        ok = q >= 0
        keys.append(seg_of[q[ok]].astype(np.int64) * n_zone + zl[ok])
    if not keys or not sum(k.size for k in keys):
        return np.zeros((0, 2), int)
    key = np.unique(np.concatenate(keys))
    return np.stack([key // n_zone, key % n_zone], 1)


def _near_edge(shape: tuple[int, int], region: np.ndarray | None) -> np.ndarray:
    """Distance of every pixel to the frame or to the outside of ``region``, px (float32).

    A medial-axis pixel whose inscribed disk (radius = distance to the mask edge)
    reaches that distance belongs to a hair cut off by the frame.
    """
    inside = np.zeros(shape, np.uint8)
    inside[1:-1, 1:-1] = 1
    if region is not None:
        inside &= region.astype(np.uint8)
    return cv2.distanceTransform(inside, cv2.DIST_L2, 3)


@dataclass(frozen=True)
class _Components:
    """8-connected components of a hair mask, and which strokes lie in which.

    One labelling serves every step that looks at whole components (the numbers are
    those of :func:`hairtrack.labels.components_with_stats` and
    :func:`hairtrack.labels.component_axes`).

    Attributes
    ----------
    n : int
        Labels, background (0) included.
    area : (n,) int ndarray
        Pixels of each component.
    minor : (n,) float64 ndarray
        Minor axis of each component's ellipse of equal second moments
        (:func:`hairtrack.labels.component_axes`).
    pairs : (P, 2) int ndarray
        Distinct (component, stroke) pairs, sorted, over every stroke pixel.
    big_box : (int, int)
        Width and height of the largest component's bounding box, px ((0, 0) without
        components).
    labels : (M, N) int32 ndarray
        Component label of every pixel (0: background).
    """

    n: int
    area: np.ndarray
    minor: np.ndarray
    pairs: np.ndarray
    big_box: tuple[int, int]
    labels: np.ndarray


def _components(
    mask: np.ndarray, lr: np.ndarray, lc: np.ndarray, ll: np.ndarray, n_stroke: int
) -> _Components:
    """Label ``mask`` once, with each component's area and minor axis, and pair every
    stroke (pixels ``lr``, ``lc`` labelled ``ll``) with its component."""
    n, lab = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    rr, cc = _pixels(mask)
    cl = lab[rr, cc]
    area = np.bincount(cl, minlength=n)
    _, minor = label_axes(rr, cc, cl, n)
    key = np.unique(lab[lr, lc].astype(np.int64) * (n_stroke + 1) + ll)
    pairs = np.stack([key // (n_stroke + 1), key % (n_stroke + 1)], 1)
    box = (0, 0)
    if n > 1:
        on = cl == int(np.argmax(area[1:])) + 1
        box = (int(np.ptp(cc[on])) + 1, int(np.ptp(rr[on])) + 1)
    return _Components(n, area, minor, pairs, box, lab)


def _rescue_blobs(
    comps: _Components, stroke_len: np.ndarray, counted: np.ndarray, *, min_area: float
) -> np.ndarray:
    """Strokes to count so that every large mask component counts at least once.

    A short, wide tuft (stubs fused side by side) has a medial axis broken into pieces
    each shorter than a hair; its longest stroke is counted.

    Returns
    -------
    (K + 1,) bool ndarray
        True for the longest stroke of each component of at least ``min_area`` px that
        has no counted stroke yet.
    """
    extra = np.zeros_like(counted)
    if comps.n <= 1:
        return extra
    pairs = comps.pairs
    has = np.zeros(comps.n, bool)
    has[pairs[counted[pairs[:, 1]], 0]] = True
    big = comps.area >= min_area
    big[0] = False
    need = big & ~has
    if not need.any():
        return extra
    # longest stroke per needy component (the first, if tied)
    best = {}
    for c, k in pairs[need[pairs[:, 0]]]:
        if c not in best or stroke_len[k] > stroke_len[best[c]]:
            best[c] = k
    extra[list(best.values())] = True
    return extra


def _area_split(
    comps: _Components,
    mult: np.ndarray,
    at_edge: np.ndarray,
    max_per_stroke: int,
    ref_quantile: float = 0.5,
    min_count: int = 1,
    whole_only: bool = False,
) -> np.ndarray:
    """Raise each mask component's count to its area over a single hair's area.

    Clipped stubs of one photo have similar lengths, so a component (a tuft of stubs
    fused side by side, a fan from one opening) holds about ``area / single area``
    hairs. The single area is the ``ref_quantile`` quantile over components holding
    exactly one counted stroke that does not reach the frame (a high quantile: only
    components clearly larger than a long single hair are split); with ``whole_only``,
    over those of them above :func:`_fragment_split` (whole stubs, not the fragments
    of broken or faint ones). Only components already counted at least ``min_count``
    hairs are raised. Counts only ever go up.

    Returns
    -------
    (K + 1,) int ndarray
        New multiplicity per stroke label.
    """
    n = comps.n
    pairs, per_comp, edge_comp = _strokes_by_component(n, comps.pairs, mult, at_edge)
    if len(pairs) == 0:
        return mult
    strokes_in = np.bincount(pairs[:, 0], minlength=n)
    single = (strokes_in == 1) & (per_comp == 1) & ~edge_comp
    if single.sum() < 3:
        return mult
    area = comps.area.astype(float)
    lone = area[single]
    if whole_only:
        lone = lone[lone >= _fragment_split(lone)]
    ref = float(np.quantile(lone, ref_quantile))
    est = np.floor(area / ref + 0.5).astype(int)
    out = mult.copy()
    for c in np.flatnonzero((est > per_comp) & (per_comp >= max(min_count, 1))):
        ks = pairs[pairs[:, 0] == c, 1]
        k = ks[np.argmax(mult[ks])]
        out[k] = min(out[k] + int(est[c] - per_comp[c]), max_per_stroke * len(ks))
    return out


def _fragment_split(area: np.ndarray) -> float:
    """Area splitting lone pieces into fragments and whole stubs (Otsu on log area).

    The lone pieces of a clipped field are whole stubs and, a fifth to a third of them,
    fragments several times smaller (a stub broken by a crossing, its faint part lost,
    JPEG noise): their areas have a gap, on which a median of all pieces can sit, and
    a few fragments more or less move it across. The split is the log area that best
    separates the two groups (largest between-group variance), so it lies in the gap,
    wherever the pieces' median falls.

    Parameters
    ----------
    area : (A,) float ndarray
        Areas of the lone pieces, px (A >= 2, > 0).

    Returns
    -------
    float
        The geometric mean of the largest fragment's area and the smallest whole
        stub's: pieces at least this large are whole stubs.
    """
    la = np.sort(np.log(np.maximum(area, 1.0)))
    k = np.arange(1, la.size)
    cum = np.cumsum(la)[:-1]
    m0 = cum / k
    m1 = (la.sum() - cum) / (la.size - k)
    between = k * (la.size - k) * (m0 - m1) ** 2
    j = 1 + int(np.argmax(between))
    return float(np.exp(0.5 * (la[j - 1] + la[j])))


def _end_count(
    comps: _Components,
    mult: np.ndarray,
    at_edge: np.ndarray,
    sr: np.ndarray,
    sc: np.ndarray,
    sl: np.ndarray,
    free: np.ndarray,
    stroke_free: np.ndarray,
    apex: np.ndarray,
    min_ends: int,
) -> np.ndarray:
    """Raise a fused mass's count to the hairs its free medial-axis ends show.

    Hairs fused in one mask component (hairs of one or more openings lying along and
    across each other) lose their own medial-axis strokes where they merge, but their
    tips still end free, also where the free arm is too short to count as a stroke. A
    counted stroke with both ends free is a whole hair and accounts for its two ends
    (or for its multiplicity, when its width says more); every other free end is one
    more hair's. Components with fewer than ``min_ends`` free ends (a lone hair: 2; a
    V: 3) keep their count, and so do components reaching the frame (their cut ends
    are not free). Counts only ever go up.

    Parameters
    ----------
    comps : _Components
    mult, at_edge : (K + 1,) ndarray
        Hairs counted for, and reaching the frame, per stroke.
    sr, sc, sl : (P,) int ndarray
        Row, column and segment label (1..S) of every medial-axis segment pixel.
    free : (S + 1,) int ndarray
        Free ends of each segment (0 for spurs and the background label).
    apex : (A, 2) int ndarray
        (row, col) of the V apices where the medial axis was cut; each cut made two
        free ends that are not a hair's.
    min_ends : int

    Returns
    -------
    (K + 1,) int ndarray
        New multiplicity per stroke label (the extra hairs go to the component's
        stroke counted most, as in :func:`_area_split`).
    """
    n = comps.n
    seg_comp = np.zeros(len(free), np.int64)
    seg_comp[sl] = comps.labels[sr, sc]
    ends = np.bincount(seg_comp, free, n)
    if len(apex):
        ends -= 2 * np.bincount(comps.labels[apex[:, 0], apex[:, 1]], minlength=n)
    ends[0] = 0
    pairs, per_comp, edge_comp = _strokes_by_component(n, comps.pairs, mult, at_edge)
    # a counted stroke with both ends free is a whole hair (or its width says more):
    # it accounts for its two ends; each other free end is one hair's
    whole = np.zeros(len(mult), bool)
    whole[pairs[:, 1]] = stroke_free[pairs[:, 1]] >= 2
    wp = pairs[whole[pairs[:, 1]]]
    est = ends + np.bincount(wp[:, 0], mult[wp[:, 1]] - 2.0, n)
    out = mult.copy()
    grow = (ends >= min_ends) & (est > per_comp) & (per_comp > 0) & ~edge_comp
    for c in np.flatnonzero(grow):
        ks = pairs[pairs[:, 0] == c, 1]
        k = ks[np.argmax(mult[ks])]
        out[k] += int(est[c] - per_comp[c])
    return out


def _strokes_by_component(
    n: int, all_pairs: np.ndarray, mult: np.ndarray, at_edge: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which counted strokes lie in which mask component.

    Parameters
    ----------
    n : int
        Components, background included.
    all_pairs : (P, 2) int ndarray
        :attr:`_Components.pairs`.
    mult, at_edge : (K + 1,) ndarray
        Hairs counted for, and reaching the frame, per stroke.

    Returns
    -------
    pairs : (P, 2) int ndarray
        Distinct (component, stroke) pairs of strokes counted at least once.
    per_comp : (n,) float64 ndarray
        Hairs counted in each component.
    edge_comp : (n,) bool ndarray
        Components holding a stroke that reaches the frame.
    """
    pairs = all_pairs[mult[all_pairs[:, 1]] > 0]
    per_comp = np.bincount(pairs[:, 0], mult[pairs[:, 1]], n)
    edge_comp = np.zeros(n, bool)
    edge_comp[pairs[at_edge[pairs[:, 1]], 0]] = True
    return pairs, per_comp, edge_comp


def _cut_at_opening(
    skel: np.ndarray,
    lr: np.ndarray,
    lc: np.ndarray,
    ll: np.ndarray,
    hit: np.ndarray,
    apex: np.ndarray,
    n_stroke: int,
) -> np.ndarray:
    """Strokes cut by the frame at one end that leave a follicle opening at the other.

    Hairs of one opening part from it: a stroke's end that is not free (it meets other
    strokes in a junction) or that an apex cut made (:func:`_sharp_turns`) lies where
    hairs part, at their roots. A stroke cut by the frame at one end and ending there at
    the other is a hair rooted in the field; a cut stroke with a free end in the field
    may end in its root or its tip.

    Parameters
    ----------
    skel : (M, N) bool ndarray
        The medial axis the strokes were read from (apex cuts made).
    lr, lc, ll : (P,) int ndarray
        Row, column and stroke label (1..K) of every medial-axis pixel of a stroke.
    hit : (P,) bool ndarray
        Those pixels whose inscribed disk reaches the frame or the region's edge.
    apex : (A, 2) int ndarray
        (row, col) of the apex cuts.
    n_stroke : int

    Returns
    -------
    (K + 1,) bool ndarray
        Per stroke label (0: background, False).
    """
    sk8 = skel.astype(np.uint8)
    nb = cv2.filter2D(sk8, cv2.CV_16S, _NB8, borderType=cv2.BORDER_CONSTANT) - sk8
    end = nb[lr, lc] <= 1  # a free end of the medial axis (a junction end has 2)
    # an apex cut cleared the apex's 3 x 3 block: the ends it made lie within 2 px of it
    apex_img = np.zeros(skel.shape, np.uint8)
    apex_img[apex[:, 0], apex[:, 1]] = 1
    apex_img = cv2.dilate(apex_img, np.ones((5, 5), np.uint8))
    near_apex = apex_img[lr, lc] > 0
    cut_ends = np.bincount(ll[end & hit], minlength=n_stroke + 1)
    inner_free = np.bincount(ll[end & ~hit & ~near_apex], minlength=n_stroke + 1)
    pixels = np.bincount(ll, minlength=n_stroke + 1)
    out = (cut_ends == 1) & (inner_free == 0) & (pixels > 1)
    out[0] = False
    return out


def _broad_singles(
    comps: _Components, mult: np.ndarray, at_edge: np.ndarray, ratio: float
) -> np.ndarray:
    """Raise to two the count of lone strokes whose component is much broader than a hair.

    Two hairs leaving one opening fused into one V or fan often keep one medial axis
    (no branch point, no fold sharp enough to cut) and one narrow enough width along it,
    but their component spreads across its principal axis. A component's breadth
    (W for an L x W bar: the minor axis of :func:`hairtrack.labels.component_axes`
    times sqrt(12) / 4) is compared with the median breadth of the components
    counted as one hair that do not reach the frame, in the same mask (at least 3
    needed): scale-free, and no shaft width enters.

    Returns
    -------
    (K + 1,) int ndarray
        New multiplicity per stroke label.
    """
    breadth = comps.minor * (np.sqrt(12.0) / 4)
    pairs, per_comp, edge_comp = _strokes_by_component(comps.n, comps.pairs, mult, at_edge)
    if len(pairs) == 0:
        return mult
    single = (per_comp == 1) & ~edge_comp
    if single.sum() < 3:
        return mult
    ref = float(np.median(breadth[single]))
    out = mult.copy()
    broad = single & (breadth >= ratio * ref)
    ks = pairs[broad[pairs[:, 0]] & (mult[pairs[:, 1]] == 1), 1]
    out[ks] = 2
    return out


def _territory_width(
    mask: np.ndarray,
    lr: np.ndarray,
    lc: np.ndarray,
    ll: np.ndarray,
    stroke_len: np.ndarray,
) -> np.ndarray:
    """Mean width of each stroke: the mask area nearest to its medial axis over its length.

    ``lr``, ``lc``, ``ll``: row, column and stroke label of every medial-axis pixel.

    Returns
    -------
    (K + 1,) float64 ndarray
    """
    n = len(stroke_len)
    if ll.size == 0:
        return np.zeros(n)
    free = np.ones(mask.shape, np.uint8)
    free[lr, lc] = 0
    _, near = cv2.distanceTransformWithLabels(free, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    of_pix = np.zeros(int(near.max()) + 1, np.int64)
    of_pix[near[lr, lc]] = ll
    area = np.bincount(of_pix[near[mask]], minlength=n).astype(float)
    return area / np.maximum(stroke_len, 1.0)


def _group_quantile(v: np.ndarray, start: np.ndarray, size: np.ndarray, q: float) -> np.ndarray:
    """``np.quantile(v[s : s + m], q)`` (its 'linear' method) for every group at once.

    ``v`` holds float32 values sorted within each group; group ``i`` is
    ``v[start[i] : start[i] + size[i]]`` (``size`` >= 1). Evaluated as NumPy evaluates it
    for one group of float32 values, so the figures are the same.
    """
    vi = (size - 1) * q
    lo = np.floor(vi)
    t = vi - lo
    i0 = start + lo.astype(np.intp)
    i1 = np.minimum(i0 + 1, start + size - 1)
    a, b = v[i0], v[i1]
    diff = b - a
    out = a + diff * t.astype(np.float32)
    hi = t >= 0.5
    out[hi] = b[hi] - diff[hi] * (1 - t[hi]).astype(np.float32)
    return out


def _width_step(
    skel: np.ndarray,
    lr: np.ndarray,
    lc: np.ndarray,
    ll: np.ndarray,
    zones: np.ndarray,
    dt: np.ndarray,
    n_stroke: int,
    w: float,
    quantiles: tuple[float, float],
    min_widths: float,
) -> np.ndarray:
    """Ratio of each stroke's wide part to its own narrow part.

    One shaft keeps its width along its length; hairs of one opening fused side by side
    end at different lengths, so their stroke steps from one shaft's width (where only
    the longest goes on) to several. The stroke's own narrow part is the single-shaft
    reference, whatever the spread of widths between hairs. Widths near a free end (the
    tip tapers in the medial axis) or a junction (a crossing widens the mask) are left
    out.

    ``lr``, ``lc``, ``ll``: row, column and stroke label of every medial-axis pixel of
    a stroke, in raster order.

    Returns
    -------
    (K + 1,) float64 ndarray
        High over low width quantile per stroke (1 where too little is left to read).
    """
    sk8 = skel.astype(np.uint8)
    nb = cv2.filter2D(sk8, cv2.CV_16S, _NB8, borderType=cv2.BORDER_CONSTANT) - sk8
    near = (skel & (nb <= 1)) | zones
    r = max(1, int(round(w)))
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    near = cv2.dilate(near.astype(np.uint8), se) > 0
    sel = ~near[lr, lc]
    out = np.ones(n_stroke + 1)
    if not sel.any():
        return out
    ll = ll[sel]
    wv = np.maximum(2.0 * dt[lr[sel], lc[sel]] - 1.0, 1.0)
    order = np.lexsort((wv, ll))
    ll, wv = ll[order], wv[order]
    bounds = np.searchsorted(ll, np.arange(n_stroke + 2))
    size = np.diff(bounds)[1:]
    ok = np.flatnonzero(size >= min_widths * w) + 1
    if ok.size == 0:
        return out
    lo_q, hi_q = quantiles
    lo = _group_quantile(wv, bounds[ok], size[ok - 1], lo_q).astype(float)
    hi = _group_quantile(wv, bounds[ok], size[ok - 1], hi_q).astype(float)
    out[ok] = hi / np.maximum(lo, 1.0)
    return out


class _UnionFind:
    """Minimal union-find over 0..n-1."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def count_hairs(
    mask: np.ndarray,
    *,
    shaft_width_px: float | None = None,
    region: np.ndarray | None = None,
    pixel_size: float = 1.0,
    **params: Any,
) -> HairCount:
    """Count hair shafts in a binary hair mask.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Hair pixels (e.g. :attr:`CloseupSegmentation.work_mask`).
    shaft_width_px : float, optional
        Typical shaft width, px (e.g. ``seg.shaft_width_px * seg.work_scale``); sets the
        junction size and the length thresholds. By default the median width over the
        mask.
    **params
        Any of the fields :meth:`hairtrack.config.CloseupParams.count_kwargs`
        returns; their defaults and meaning are documented in
        :class:`hairtrack.config.CloseupParams`. An unknown name raises TypeError.
    region : (M, N) bool ndarray, optional
        Analysed region; a stroke reaching its edge counts as cut off. Overlays masked
        out of the region should not be passed here (a hair crossing a drawn circle is
        not cut off).
    pixel_size : float
        Multiplies the returned widths and lengths (e.g. ``1 / work_scale`` to report
        input-image pixels, or mm per px).

    Returns
    -------
    HairCount
    """
    p = closeup_stage_params(params, "count_kwargs", "count_hairs")
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (M, N), got shape {mask.shape}")
    mask = mask.astype(bool)
    if pixel_size <= 0:
        raise ValueError(f"pixel_size must be > 0, got {pixel_size}")
    if p.count_split_measure not in ("median", "territory"):
        raise ValueError(
            f"count_split_measure must be 'median' or 'territory', got {p.count_split_measure!r}"
        )
    if p.count_border not in ("exclude", "include", "half"):
        raise ValueError(
            f"count_border must be 'exclude', 'include' or 'half', got {p.count_border!r}"
        )
    if region is not None:
        region = np.asarray(region, bool)
        if region.shape != mask.shape:
            raise ValueError(f"region is {region.shape}, mask is {mask.shape}")
    empty = HairCount(
        0,
        np.zeros(0),
        np.zeros(0),
        np.zeros(mask.shape, np.int32),
        np.zeros((0, 2)),
        0.0,
        np.zeros(0, int),
    )
    if not mask.any():
        return empty
    skel = _skeleton(mask)
    dt = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    if shaft_width_px is None:
        vals = dt[skel]
        shaft_width_px = float(2 * np.median(vals) - 1) if vals.size else 1.0
    w = max(float(shaft_width_px), 1.0)

    segments = _segments(skel, junction_radius=0.5 * w)
    apex = np.zeros((0, 2), int)
    if p.count_fold_deg < 180:
        # cut the medial axis at the apex of every V (two hairs from one opening)
        apex = _sharp_turns(
            skel,
            0.5 * w,
            p.count_fold_arm_widths * w,
            float(np.cos(np.deg2rad(p.count_fold_deg))),
            segments=segments,
        )
        for r0, c0 in apex:
            skel[max(r0 - 1, 0) : r0 + 2, max(c0 - 1, 0) : c0 + 2] = False
        if len(apex):
            segments = _segments(skel, junction_radius=0.5 * w)
    seg_lab, n_seg, zone_lab, n_zone = segments
    if n_seg == 0:
        return empty
    # the medial axis as pixel lists (raster order): segment pixels and junction pixels
    kr, kc = _pixels(skel)
    k_seg, k_zone = seg_lab[kr, kc], zone_lab[kr, kc]
    on = k_seg > 0
    sr, sc, sl = kr[on], kc[on], k_seg[on]
    on = k_zone > 0
    zr, zc, zl = kr[on], kc[on], k_zone[on]
    seg_index = _index_image(sr, sc, mask.shape)
    length, centroid, ends = _segment_geometry(sr, sc, sl, n_seg, seg_index)
    pairs = _touching(seg_index, sl, zr, zc, zl)
    zones_of = [[] for _ in range(n_seg + 1)]
    segs_of = [[] for _ in range(n_zone + 1)]
    for s, z in pairs.tolist():
        zones_of[s].append(z)
        segs_of[z].append(s)
    n_zones_of = np.bincount(pairs[:, 0], minlength=n_seg + 1)

    # junction centres
    zcnt = np.maximum(np.bincount(zl, minlength=n_zone + 1), 1)
    zcen = np.stack(
        [np.bincount(zl, zr, n_zone + 1) / zcnt, np.bincount(zl, zc, n_zone + 1) / zcnt], 1
    )

    # spurs: short, one end free
    alive = ~((n_zones_of == 1) & (length < p.count_spur_widths * w))
    alive[0] = False

    # join segments through junctions
    uf = _UnionFind(n_seg + 1)
    cos_lim = -np.cos(np.deg2rad(p.count_merge_angle_deg))
    cos_fork = np.cos(np.deg2rad(p.count_fork_angle_deg)) if p.count_fork_angle_deg > 0 else 2.0
    for z in range(1, n_zone + 1):
        segs = [s for s in segs_of[z] if alive[s]]
        if len(segs) < 2:
            continue
        # outgoing direction: from the junction to the far end of each segment
        dirs = {}
        for s in segs:
            e0, e1 = ends[s]
            far = e0 if np.hypot(*(e0 - zcen[z])) > np.hypot(*(e1 - zcen[z])) else e1
            v = far - zcen[z]
            dirs[s] = v / max(np.hypot(*v), 1e-9)
        if len(segs) == 2:  # a bend, a crossing whose other arms were spurs, or a fork
            a, b = segs
            # two arms leaving the junction side by side: two hairs from one opening
            fork = float(dirs[a] @ dirs[b]) > cos_fork
            fork &= min(length[a], length[b]) >= p.count_fork_arm_widths * w
            if not fork:
                uf.union(a, b)
            continue
        cand = []
        for i, a in enumerate(segs):
            for b in segs[i + 1 :]:
                c = float(dirs[a] @ dirs[b])
                if c <= cos_lim:
                    cand.append((c, a, b))
        used = set()
        for _c, a, b in sorted(cand):
            if a not in used and b not in used:
                uf.union(a, b)
                used.update((a, b))

    roots = np.array([uf.find(s) for s in range(n_seg + 1)])
    roots[~alive] = 0
    uniq, stroke_of = np.unique(roots, return_inverse=True)
    if uniq[0] != 0:  # make label 0 the background
        uniq = np.concatenate([[0], uniq])
        stroke_of = stroke_of + 1
    n_stroke = len(uniq) - 1
    stroke_of[~alive] = 0
    stroke_len = np.bincount(stroke_of, length, n_stroke + 1)
    # junctions passed add their span; free ends add the half-width hidden by thinning
    free_ends = np.bincount(stroke_of, np.maximum(0, 2 - n_zones_of), n_stroke + 1)
    stroke_len = stroke_len + free_ends * 0.5 * w
    # the strokes' medial-axis pixels (raster order), and as an image
    st = stroke_of[sl]
    on = st > 0
    lr, lc, ll = sr[on], sc[on], st[on]
    labels = np.zeros(mask.shape, np.int32)
    labels[lr, lc] = ll

    width = np.zeros(n_stroke + 1)
    cen = np.zeros((n_stroke + 1, 2))
    if ll.size:
        # median medial-axis width per stroke (float32, as np.median has it)
        wv = np.maximum(2.0 * dt[lr, lc] - 1.0, 1.0)
        order = np.lexsort((wv, ll))
        wv_s = wv[order]
        bounds = np.searchsorted(ll[order], np.arange(n_stroke + 2))
        size = np.diff(bounds)[1:]
        has = np.flatnonzero(size) + 1
        mid_lo = bounds[has] + (size[has - 1] - 1) // 2
        mid_hi = bounds[has] + size[has - 1] // 2
        width[has] = (wv_s[mid_lo] + wv_s[mid_hi]) / np.float32(2)
        cnt = np.maximum(np.bincount(ll, minlength=n_stroke + 1), 1)
        cen = np.stack(
            [np.bincount(ll, lr, n_stroke + 1) / cnt, np.bincount(ll, lc, n_stroke + 1) / cnt],
            1,
        )
    counted = stroke_len >= p.count_min_length_widths * w
    if p.count_branch_widths < p.count_min_length_widths:
        # an arm that leaves a junction free-ended: the tip of a hair whose base is fused
        # in the stem it branches from (hairs of one follicle opening)
        n_junc = np.bincount(stroke_of, n_zones_of, n_stroke + 1)
        n_parts = np.bincount(stroke_of, minlength=n_stroke + 1)
        arm = (n_parts == 1) & (n_junc == 1)
        counted |= arm & (stroke_len >= p.count_branch_widths * w)
    counted[0] = False
    comps = _components(mask, lr, lc, ll, n_stroke)
    counted |= _rescue_blobs(comps, stroke_len, counted, min_area=p.count_tuft_area * w * w)
    # strokes reaching the frame (or the edge of the analysed region): cut-off hairs
    hit = _near_edge(mask.shape, region)[lr, lc] <= dt[lr, lc] + 1.0
    at_edge = np.zeros(n_stroke + 1, bool)
    at_edge[ll[hit]] = True
    at_edge[0] = False
    n_edge_strokes = int((counted & at_edge).sum())
    if p.count_border == "exclude":
        counted &= ~at_edge
    mult = counted.astype(int)

    if p.count_split_wide and counted.sum() >= 3:
        # a single shaft's width: a low quantile of the counted strokes' widths
        # (length-weighted), as fused pairs and triples only ever widen a stroke
        if p.count_split_measure == "median":
            wk = width
        else:
            wk = _territory_width(mask, lr, lc, ll, stroke_len)
        ws, ls = wk[counted], stroke_len[counted]
        order = np.argsort(ws)
        cum = np.cumsum(ls[order]) / ls.sum()
        single = float(ws[order][np.searchsorted(cum, p.count_single_quantile)])
        ratio = wk / max(single, 1.0)
        extra = np.floor(ratio - p.count_split_ratio + 1.0).astype(int)  # 2.2 -> +1, 3.2 -> +2
        mult = np.where(counted, np.clip(1 + np.maximum(extra, 0), 1, p.count_max_per_stroke), 0)
    # hairs side by side across a stroke share its width; hairs added below from the
    # stroke's area lie along it, so they do not narrow each other
    mult_across = mult.copy()
    if p.count_step_ratio > 0 and counted.any():
        # a stroke that steps from its own single-shaft width to about twice it: hairs of
        # one opening fused side by side over part of their length (their widths are
        # not read: the stroke's mean width mixes the fused and the lone part)
        steps = _width_step(
            skel,
            lr,
            lc,
            ll,
            zone_lab > 0,
            dt,
            n_stroke,
            w,
            p.count_step_quantiles,
            p.count_step_min_widths,
        )
        extra = np.floor(steps - p.count_step_ratio + 1.0).astype(int)
        extra[at_edge] = 0  # a cut-off end is no tip: no step can be read against it
        stepped = np.clip(np.maximum(mult, 1 + np.maximum(extra, 0)), 1, p.count_max_per_stroke)
        mult = np.where(counted, stepped, 0)
    mult_own = mult.copy()  # before hairs are added to a stroke from elsewhere in its mass
    if p.count_ends_min > 0:
        # ends the apex cuts made are no hair's: two per cut
        free = np.where(alive, np.maximum(0, 2 - n_zones_of), 0)
        stroke_free = np.bincount(stroke_of, free, n_stroke + 1)
        mult = _end_count(
            comps, mult, at_edge, sr, sc, sl, free, stroke_free, apex, p.count_ends_min
        )
    if p.count_mass_min_hairs > 0:
        # a mass already counted as several hairs: stubs crossing and lying along each
        # other, their strokes lost where they overlap; a lone hair's typical area
        mult = _area_split(
            comps,
            mult,
            at_edge,
            p.count_max_per_stroke,
            ref_quantile=p.count_mass_area_quantile,
            min_count=p.count_mass_min_hairs,
            whole_only=p.count_mass_whole_only,
        )
    # hairs the free ends and the mass's area add lie elsewhere in the mass, not in the
    # stroke that carries them: its own width is still read
    from_mass = mult - mult_own
    if p.count_area_split:
        mult = _area_split(
            comps, mult, at_edge, p.count_max_per_stroke, ref_quantile=p.count_area_quantile
        )
    if p.count_breadth_ratio > 0:
        mult = _broad_singles(comps, mult, at_edge, p.count_breadth_ratio)
    ks = np.repeat(np.arange(n_stroke + 1), mult)
    total = float(mult.sum())
    # a cut stroke that leaves an opening in the field is rooted in it
    opening = np.zeros(n_stroke + 1, bool)
    if at_edge.any():
        opening = _cut_at_opening(skel, lr, lc, ll, hit, apex, n_stroke) & at_edge
    if p.count_border == "half":
        halved = at_edge & ~opening if p.count_edge_opening else at_edge
        total -= 0.5 * float(mult[halved].sum())
    # a shaft's width is its territory's area over its length: the medial-axis distance
    # reads a digital shaft 10-35 % narrow (1.5 px lines as 1.0, 5 px as 4.6)
    tw = _territory_width(mask, lr, lc, ll, stroke_len) if ks.size else width
    hair_w = (tw / np.maximum(mult_across, 1))[ks] * pixel_size
    # a stroke given more hairs by its area or a width step is a fused mass: its hairs
    # are counted, but no single shaft's width can be read off it
    fused = mult - from_mass > mult_across
    # each stroke's hairs in order: its own first, then those its mass added
    rank = np.arange(ks.size) - np.repeat(np.cumsum(mult) - mult, mult)
    hair_w[fused[ks] | (rank >= (mult - from_mass)[ks])] = np.nan
    hair_len = stroke_len[ks] * pixel_size
    return HairCount(
        count=int(round(total)),
        widths_px=hair_w,
        lengths_px=hair_len,
        labels=labels,
        centroids=cen[ks],
        total_length_px=float(stroke_len[counted].sum() * pixel_size),
        multiplicity=mult[1:],
        n_edge=n_edge_strokes,
        at_edge=at_edge[1:],
        at_opening=opening[1:],
        network=_is_network(
            comps,
            mask.shape,
            mult,
            min_share=p.count_network_share,
            min_extent=p.count_network_extent,
            min_hairs=p.count_network_min_hairs,
        ),
    )


def _is_network(
    comps: _Components,
    shape: tuple[int, int],
    mult: np.ndarray,
    *,
    min_share: float,
    min_extent: float,
    min_hairs: int,
) -> bool:
    """True when one connected hair mass holds ``min_share`` of the mask, spans
    ``min_extent`` of the field's width or height and joins at least ``min_hairs``
    counted hairs (long hair, overlapping; one long hair across the field is not)."""
    if comps.n < 2:
        return False
    area = comps.area[1:]
    big = int(np.argmax(area)) + 1
    inside = comps.pairs[comps.pairs[:, 0] == big, 1]
    if int(mult[inside].sum()) < min_hairs:
        return False
    share = float(area[big - 1]) / float(area.sum())
    width, height = comps.big_box
    extent = max(width / shape[1], height / shape[0])
    return share >= min_share and extent >= min_extent
