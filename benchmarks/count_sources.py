"""Where the phantom close-up hair count goes wrong: hairs cut by the frame or inside it.

Phantom truth counts a hair when its root lies in the field (``hair_roots_xy``). Each
truth root inside the field is put on the mask component it lies on (its nearest hair
pixel, within ``ROOT_SNAP_WIDTHS`` shaft widths), and the counted hairs split the same way:

- frame-cut: components holding a stroke that reaches the frame (counted at half under
  ``count_border='half'``) against the roots inside the field on them;
- interior: every other component, split by how many counted strokes it holds (1, 2,
  3, >= 4: fused masses of hairs crossing or leaving one opening);
- uncounted: roots on components where no stroke was counted (pieces too short);
- off-mask: roots inside the field with no hair pixel near them (hair too thin or
  faint to segment, or its root end lost where it leaves the opening).

For each clipped field it prints the truth and the signed errors of each part; then the
median |error| of the count as it is, with the frame-cut components counted right
(more than telling a cut hair's root from its tip could give: their fused hairs too)
and with the rest counted right.

With ``--real``, the same question on ``../shared/realdata/trichoscopy`` (read in
place, never copied), whose hand boxes are the only truth there: which strokes cut by
the frame did the annotators box? Printed: the boxed share by the stroke's visible
length, and how often boxes agree with a rule that keeps a cut hair only when its root
is inside, with the hair's root side chosen per photo in hindsight (the better of the
two; an upper bound for any root-from-tip cue), against leaving every cut hair out.

With ``--hairs``, each true hair on its own: the hair loop of
:func:`hairtrack.synth.render_closeup` is replayed (checked against the truth's roots)
to draw every hair's own mask. Printed per field: the share of the hairs rooted in the
field that the working mask misses (less than half their pixels in it; thin vellus and
terminal shafts apart), and the count's error against the truth and against the hairs
the mask holds. A count cannot find what the segmentation lost.

With ``--tufts``, the geometry of hairs of one follicular unit on the phantoms against
the real trichoscopy set, by one measure on both: hair boxes (the real hand boxes; on
phantoms each hair's own box) are put on the mask component their centre lies on, as
``benchmarks/realdata_closeup.py``'s per-tuft check does. Printed: the share of boxes
sharing a component with 1 or 2+ others, the angle between two boxes' diagonals
(the diagonal nearer the photo's hair axis) for pairs on one component, and the boxes'
diagonal length in mm. Real boxes are a lower bound of the hairs (incomplete
annotation) and hand-drawn (their angles are noisier).

With ``--cut``, the strokes cut by the frame: on the phantoms, how many hairs rooted
in the field and outside it each carries (the true hairs' own masks, as ``--hairs``),
for strokes that leave a follicle opening in the field
(:attr:`hairtrack.count.HairCount.at_opening`: cut at one end, meeting other strokes
at the other) and the rest, and by visible length; on the real trichoscopy set, the
share of each kind the annotators boxed. Phantom truth counts a cut hair when its root
is in the field; the real boxes mostly leave cut hairs out. Also printed: the count's
|error| median against the truth, and with ``count_border='exclude'`` against the
hairs wholly in the field (a hair's box inside the frame: the annotators' convention).

Run: ``.venv/bin/python benchmarks/count_sources.py [--seed 11] [--real | --hairs |
--tufts | --cut]``. Seed 11
draws the fields ``benchmarks/accuracy.py --suite phantom-closeup`` scores; any other
seed draws fields that benchmark does not use.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# this checkout's package, not whichever one the environment has installed; the real-data
# box reader from the script beside this one
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from hairtrack import synth  # noqa: E402
from hairtrack.config import Params  # noqa: E402
from hairtrack.count import count_hairs  # noqa: E402
from hairtrack.geometry import local_scale  # noqa: E402
from hairtrack.measure import analyse  # noqa: E402

#: A truth root further than this many shaft widths from every hair pixel is off the
#: mask. Not less than 2: the segmentation often loses a hair's first pixels where it
#: leaves its (darkened) opening, and at 0.5 (3 px) a tenth of the roots fell off hairs
#: that were counted, moving their hairs from the interior parts to ``off``.
ROOT_SNAP_WIDTHS = 2.0
#: Interior components are grouped by counted strokes: 1, 2, 3 and this many or more.
MAX_STROKES_GROUP = 4


def clipped_field(seed: int, i: int, j: int) -> synth.Phantom:
    """The clipped close-up phantom of skin tone ``i`` and hair colour ``j``.

    Drawn exactly as ``benchmarks/accuracy.py`` draws its clipped fields (seed 11).
    """
    return _clipped_draw(seed, i, j)[0]


def _clipped_draw(seed: int, i: int, j: int):
    """:func:`clipped_field`'s phantom with the subject, visit state and camera drawn
    for it (what :func:`true_hairs` replays)."""
    skin = list(synth.SKIN_TONES)[i]
    hair = list(synth.HAIR_COLOURS)[j]
    rng = np.random.default_rng([seed, i, j, 1])
    s = synth.still(rng, skin=skin, hair=hair, clipped=True)
    return s.phantom, s.subject, s.state, s.camera


def count_input(ph: synth.Phantom, params: Params) -> tuple[np.ndarray, float | None, float]:
    """The mask, shaft width and work scale :func:`hairtrack.measure.measure` counts on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyse(ph.image, view="closeup", px_per_mm=ph.truth["px_per_mm"], params=params)
    # measure() without a region counts on the whole working mask (summarise())
    work = a.work_mask
    single = a.shaft_width_px * a.work_scale if a.shaft_width_px else None
    return work, single, float(a.work_scale)


def sources(ph: synth.Phantom, params: Params) -> dict[str, float]:
    """Truth and counted hairs of one field, split by where they are (see module doc).

    Returns
    -------
    dict
        ``truth``, ``counted`` (the field's count), and per part (``edge``, ``int1`` ..
        ``int4``, ``off``) ``t_<part>`` (truth roots) and ``c_<part>`` (hairs counted,
        frame-cut ones at the weight ``count_border`` gives them).
    """
    mask, w, scale = count_input(ph, params)
    kw = params.closeup.count_kwargs()
    hc = count_hairs(mask, shaft_width_px=w, **kw)
    n, comp = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    mult = np.concatenate([[0], hc.multiplicity])
    at_edge = np.concatenate([[False], hc.at_edge]) if hc.at_edge is not None else mult > 0
    sel = hc.labels > 0
    pairs = np.unique(np.stack([comp[sel], hc.labels[sel]], 1), axis=0)
    pairs = pairs[mult[pairs[:, 1]] > 0]
    edge_comp = np.zeros(n, bool)
    edge_comp[pairs[at_edge[pairs[:, 1]], 0]] = True
    weight = np.where(at_edge, {"half": 0.5, "exclude": 0.0}.get(kw["count_border"], 1.0), 1.0)
    counted = np.bincount(pairs[:, 0], (mult * weight)[pairs[:, 1]], n)
    strokes = np.bincount(pairs[:, 0], minlength=n)
    # truth roots inside the field, on the component of their nearest hair pixel
    h, wd = mask.shape
    roots = np.asarray(ph.truth["hair_roots_xy"], float).reshape(-1, 2) * scale
    ix = np.floor(roots + 0.5).astype(int)
    inside = (ix[:, 0] >= 0) & (ix[:, 0] < wd) & (ix[:, 1] >= 0) & (ix[:, 1] < h)
    ix = ix[inside]
    dist, near = cv2.distanceTransformWithLabels(
        (~mask).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    rr, cc = np.nonzero(mask)
    comp_of = np.zeros(int(near.max()) + 1, int)
    comp_of[near[rr, cc]] = comp[rr, cc]
    root_comp = comp_of[near[ix[:, 1], ix[:, 0]]]
    root_comp[dist[ix[:, 1], ix[:, 0]] > ROOT_SNAP_WIDTHS * (w or 3.0)] = 0
    truth = np.bincount(root_comp, minlength=n).astype(float)
    group = np.where(edge_comp, -1, np.minimum(strokes, MAX_STROKES_GROUP))
    out = {"truth": float(ph.truth["hair_count"]), "counted": float(hc.count)}
    out["t_edge"] = float(truth[1:][edge_comp[1:]].sum())
    out["c_edge"] = float(counted[1:][edge_comp[1:]].sum())
    for g in range(1, MAX_STROKES_GROUP + 1):
        part = (group == g) & (np.arange(n) > 0)
        out[f"t_int{g}"] = float(truth[part].sum())
        out[f"c_int{g}"] = float(counted[part].sum())
    # frame-cut components as if each of their strokes counted whole
    out["c_whole"] = float(np.bincount(pairs[:, 0], mult[pairs[:, 1]], n)[1:][edge_comp[1:]].sum())
    # root told from tip: a counted cut stroke counts whole when a root inside the field
    # lies on it (nearest medial-axis pixel within the snap distance plus half a width),
    # else not at all
    dsk, nsk = cv2.distanceTransformWithLabels(
        (hc.labels == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    sr, sc = np.nonzero(hc.labels)
    stroke_of = np.zeros(int(nsk.max()) + 1, int)
    stroke_of[nsk[sr, sc]] = hc.labels[sr, sc]
    on = dsk[ix[:, 1], ix[:, 0]] <= (ROOT_SNAP_WIDTHS + 0.5) * (w or 3.0)
    rooted = np.zeros(len(mult), bool)
    rooted[stroke_of[nsk[ix[on, 1], ix[on, 0]]]] = True
    cut = at_edge & (mult > 0)
    out["root_rule"] = float(hc.count - (mult * weight)[cut].sum() + mult[cut & rooted].sum())
    # roots on hair components where no stroke was counted (pieces too short to count)
    out["t_none"] = float(truth[1:][(group[1:] == 0)].sum())
    out["c_none"] = 0.0
    out["t_off"] = float(truth[0])
    out["c_off"] = 0.0
    return out


REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def real_cut_strokes() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per trichoscopy photo: each counted cut stroke's visible length, box and side.

    Returns
    -------
    list of (length_w, boxed, side) (C,) ndarrays
        Visible length (medial-axis pixels over the shaft width), whether most of the
        stroke's medial axis lies in a hand box, and whether its cut end lies on the
        positive side of the photo's hair axis (the length-weighted mean orientation
        of the strokes not cut; its sign is arbitrary).
    """
    from realdata_closeup import annotated_photos, boxes_xyxy

    from hairtrack.segment import segment_closeup

    out = []
    for _, xml, rgb in annotated_photos(REALDATA / "trichoscopy"):
        seg = segment_closeup(rgb)
        w = seg.shaft_width_px * seg.work_scale if np.isfinite(seg.shaft_width_px) else 3.0
        mask = seg.work_mask
        hc = count_hairs(mask, shaft_width_px=w)
        inbox = np.zeros(mask.shape, bool)
        s = seg.work_scale
        for x0, y0, x1, y1 in boxes_xyxy(xml):
            inbox[
                int(y0 * s) : int(np.ceil(y1 * s)) + 1, int(x0 * s) : int(np.ceil(x1 * s)) + 1
            ] = True
        dt = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
        inside = np.zeros(mask.shape, np.uint8)
        inside[1:-1, 1:-1] = 1
        near = cv2.distanceTransform(inside, cv2.DIST_L2, 3) <= dt + 1.0
        axis, rows = 0j, []
        for k in np.flatnonzero(hc.multiplicity) + 1:
            rr, cc = np.nonzero(hc.labels == k)
            if hc.at_edge[k - 1]:
                cut = near[rr, cc]
                end = np.array([cc[cut].mean(), rr[cut].mean()]) if cut.any() else None
                rows.append((len(rr) / w, inbox[rr, cc].mean() > 0.5, end, cc.mean(), rr.mean()))
            elif len(rr) >= 3:
                ev, vec = np.linalg.eigh(np.cov(np.stack([cc, rr]).astype(float)))
                axis += len(rr) * np.exp(2j * np.arctan2(vec[1, 1], vec[0, 1]))
        th = np.angle(axis) / 2
        d = np.array([np.cos(th), np.sin(th)])
        rows = [r for r in rows if r[2] is not None]
        out.append(
            (
                np.array([r[0] for r in rows], float),
                np.array([r[1] for r in rows], bool),
                np.array([float((r[2] - [r[3], r[4]]) @ d) > 0 for r in rows], bool),
            )
        )
    return out


def main_real() -> int:
    """Print which cut strokes the annotators boxed (see module doc)."""
    if not (REALDATA / "trichoscopy").is_dir():
        print(f"real data not found at {REALDATA}; nothing to do")
        return 0
    photos = real_cut_strokes()
    length = np.concatenate([p[0] for p in photos])
    boxed = np.concatenate([p[1] for p in photos])
    print(f"trichoscopy: {len(boxed)} counted strokes cut by the frame, {boxed.mean():.0%} boxed")
    edges = np.quantile(length, [0, 0.25, 0.5, 0.75, 1.0])
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (length >= lo) & (length <= hi)
        print(f"  visible length {lo:5.1f}-{hi:5.1f} widths: {boxed[sel].mean():4.0%} boxed")
    best = sum(max(int((s == b).sum()), int((s != b).sum())) for _, b, s in photos)
    print(
        f"  boxes agree with: root inside (root side chosen per photo in hindsight)"
        f" {best / len(boxed):.0%}; every cut hair left out {np.mean(~boxed):.0%}"
    )
    return 0


#: A true hair is in the mask when at least this share of its own pixels is.
HELD_SHARE = 0.5
#: Truth's threshold between thin (vellus) and terminal shafts, in mm (synth's 35 um).
VELLUS_MM = 0.035
#: Scale of the real trichoscopy photos, px per mm (their 1.0 mm bars: about 350-360).
REAL_PX_PER_MM = 355.0


@dataclass(frozen=True)
class TrueHair:
    """One hair of a clipped phantom field, drawn on its own.

    Attributes
    ----------
    pix : (P,) int ndarray
        Flat indices of the hair's own mask pixels in the frame.
    box : (4,) float ndarray
        Its box (x0, y0, x1, y1), px: the centre line's extent plus half the width.
    width : float
        Shaft width, px.
    rooted : bool
        Its root lies in the field (it is one of the truth's ``hair_count``).
    """

    pix: np.ndarray
    box: np.ndarray
    width: float
    rooted: bool


def true_hairs(seed: int, i: int, j: int) -> tuple[synth.Phantom, list[TrueHair]]:
    """The clipped field of :func:`clipped_field` and each of its hairs drawn alone.

    Replays :func:`hairtrack.synth.render_closeup`'s hair loop (same random draws, in
    the same order); raises AssertionError when the replayed roots are not the truth's
    (synth changed: update the replay).
    """
    ph, subject, state, cam = _clipped_draw(seed, i, j)
    w, h = subject.width, subject.height
    h_inv = np.linalg.inv(cam.homography(w, h))
    zoom = local_scale(h_inv, subject.fu_xy)
    jit = np.random.default_rng(state.comb_seed)
    comb = np.deg2rad(state.comb_deg)
    act_f, act_s = np.nonzero(state.active)
    roots = synth._map(h_inv, subject.fu_xy[act_f] + subject.slot_offset[act_f, act_s])
    hairs, drawn_roots = [], []
    for root, f, s in zip(roots, act_f, act_s, strict=True):
        direction = comb + subject.slot_angle[f, s] + jit.normal(0, 0.12)
        length = subject.slot_length_px[f, s] * zoom[f]
        width = float(subject.slot_width_px[f, s] * state.width_factor * zoom[f])
        pts = synth._bezier(root, direction, length, subject.slot_curl[f, s])
        shade = float(jit.uniform(0.9, 1.1))
        own = np.zeros((h, w), bool)
        synth._draw_strand(
            np.zeros((h, w), np.float32),
            np.zeros((h, w, 3), np.float32),
            own,
            pts,
            width,
            np.zeros(3, np.float32),
            shade,
        )
        if not own.any():
            continue
        drawn_roots.append([round(float(v), 3) for v in root])
        r = width / 2
        box = np.array([*(pts.min(0) - r), *(pts.max(0) + r)])
        rooted = 0 <= drawn_roots[-1][0] < w and 0 <= drawn_roots[-1][1] < h
        hairs.append(TrueHair(np.flatnonzero(own), box, width, rooted))
    assert drawn_roots == ph.truth["hair_roots_xy"], "synth's hair loop changed"
    return ph, hairs


def main_hairs(seed: int) -> int:
    """Print, per clipped field, the true hairs the mask misses and the count's errors."""
    params = Params()
    kw = params.closeup.count_kwargs()
    print(f"clipped phantom close-ups, seed {seed}: hairs rooted in the field that the mask")
    print(f"misses (< {HELD_SHARE:.0%} of their own pixels in it), % of truth; count error, %")
    print(
        f"  {'skin':<11}{'hair':<7}{'truth':>6}{'vellus':>8}{'terminal':>9}{'vs truth':>10}"
        f"{'vs held':>9}"
    )
    rows = []
    for i, skin in enumerate(synth.SKIN_TONES):
        for j, hair in enumerate(synth.HAIR_COLOURS):
            ph, hairs = true_hairs(seed, i, j)
            work, w, _ = count_input(ph, params)
            n = count_hairs(work, shaft_width_px=w, **kw).count
            # the hairs' own masks are in the photo's frame
            mask = cv2.resize(
                work.view(np.uint8), ph.hair_mask.shape[::-1], interpolation=cv2.INTER_NEAREST
            ).astype(bool)
            flat = mask.ravel()
            thin = VELLUS_MM * ph.truth["px_per_mm"]
            rooted = [hr for hr in hairs if hr.rooted]
            held = np.array([flat[hr.pix].mean() >= HELD_SHARE for hr in rooted])
            vellus = np.array([hr.width < thin for hr in rooted])
            t = len(rooted)
            row = (
                100 * np.sum(~held & vellus) / t,
                100 * np.sum(~held & ~vellus) / t,
                100 * (n / t - 1),
                100 * (n / max(held.sum(), 1) - 1),
            )
            rows.append(row)
            print(
                f"  {skin:<11}{hair:<7}{t:6d}"
                + "".join(f"{v:{k}.1f}" for v, k in zip(row, (8, 9, 10, 9), strict=True))
            )
    a = np.array(rows)
    print(
        f"  median: missed vellus {np.median(a[:, 0]):.1f} %, missed terminal"
        f" {np.median(a[:, 1]):.1f} % of the truth; count |error| {np.median(abs(a[:, 2])):.1f} %"
        f" against the truth, {np.median(abs(a[:, 3])):.1f} % (signed"
        f" {np.median(a[:, 3]):+.1f}) against the hairs the mask holds"
    )
    return 0


def _tufts(mask: np.ndarray, scale: float, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per box, how many boxes share its mask component (0: off the mask); and for each
    pair of boxes on one component, the angle between their diagonals, degrees."""
    from realdata_closeup import box_components

    n, comp, lab_a = box_components(mask, boxes, scale)
    # the photo's hair axis: components' principal axes, weighted by their area
    axis = 0j
    for c in range(1, n):
        ys, xs = np.nonzero(comp == c)
        if len(ys) >= 20:
            _, vec = np.linalg.eigh(np.cov(np.stack([xs, ys]).astype(float)))
            axis += len(ys) * np.exp(2j * np.arctan2(vec[1, 1], vec[0, 1]))
    axis_deg = np.degrees(np.angle(axis) / 2)
    ang = []
    for x0, y0, x1, y1 in boxes:
        a = np.degrees(np.arctan2(y1 - y0, x1 - x0))
        ang.append(min((a, -a), key=lambda d: abs((d - axis_deg + 90) % 180 - 90)))
    ang_a = np.array(ang)
    sizes = np.array([np.sum(lab_a == k) if k else 0 for k in lab_a])
    i, j = np.triu_indices(len(lab_a), 1)
    pair = (lab_a[i] > 0) & (lab_a[i] == lab_a[j])
    diff = np.abs((ang_a[i[pair]] - ang_a[j[pair]] + 90) % 180 - 90)
    return sizes, diff


def _tuft_line(name: str, sizes: list, diffs: list, diag_mm: np.ndarray) -> None:
    s, d = np.concatenate(sizes), np.concatenate(diffs)
    on = s[s > 0]
    print(
        f"  {name}: {len(s)} boxes; sharing a component with 1+ others {np.mean(on >= 2):.0%},"
        f" 2+ others {np.mean(on >= 3):.0%}; {len(d)} pairs on one component: angle"
        f" between them median {np.median(d):.1f} deg (quartiles {np.quantile(d, 0.25):.1f}-"
        f"{np.quantile(d, 0.75):.1f}); box diagonal median {np.median(diag_mm):.2f} mm"
    )


def main_tufts(seed: int) -> int:
    """Print the hairs-of-one-unit geometry of phantoms and real photos (see module doc)."""
    params = Params()
    print("hairs sharing a mask component, by hair boxes (see the module doc)")
    if (REALDATA / "trichoscopy").is_dir():
        from realdata_closeup import annotated_photos, boxes_xyxy

        from hairtrack.segment import segment_closeup

        sizes, diffs, diag = [], [], []
        for _, xml, rgb in annotated_photos(REALDATA / "trichoscopy"):
            seg = segment_closeup(rgb)
            boxes = boxes_xyxy(xml)
            s, d = _tufts(seg.work_mask, seg.work_scale, boxes)
            sizes.append(s)
            diffs.append(d)
            diag.append(np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]))
        _tuft_line("real trichoscopy", sizes, diffs, np.concatenate(diag) / REAL_PX_PER_MM)
    sizes, diffs, diag = [], [], []
    for i in range(len(synth.SKIN_TONES)):
        for j in range(len(synth.HAIR_COLOURS)):
            ph, hairs = true_hairs(seed, i, j)
            boxes = np.array([hr.box for hr in hairs if hr.rooted])
            mask, _, scale = count_input(ph, params)
            s, d = _tufts(mask, scale, boxes)
            sizes.append(s)
            diffs.append(d)
            diag.append(np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]))
    _tuft_line(f"phantoms, seed {seed}", sizes, diffs, np.concatenate(diag) / ph.truth["px_per_mm"])
    return 0


#: A true hair carries a stroke when at least this share of the stroke's medial-axis
#: pixels lie in the hair's own mask (fused hairs of one opening share a stroke).
CARRY_SHARE = 0.3


def main_cut(seed: int) -> int:
    """Print how many rooted hairs the strokes cut by the frame carry (see module doc)."""
    params = Params()
    kw = params.closeup.count_kwargs()
    rows = []  # (at opening, visible length in widths, rooted hairs carried, others)
    conv = []  # count |error| %: exclude vs hairs wholly in the field; half vs the truth
    for i in range(len(synth.SKIN_TONES)):
        for j in range(len(synth.HAIR_COLOURS)):
            ph, hairs = true_hairs(seed, i, j)
            mask, w, scale = count_input(ph, params)
            if scale != 1.0:  # the hairs' own masks are in the photo's frame
                raise ValueError("phantom counted at another scale than it was drawn")
            hc = count_hairs(mask, shaft_width_px=w, **kw)
            # the annotators' convention: hairs wholly in the field, cut ones left out
            h, wd = mask.shape
            inside = sum(
                1
                for hr in hairs
                if hr.box[0] >= 0 and hr.box[1] >= 0 and hr.box[2] <= wd and hr.box[3] <= h
            )
            excl = count_hairs(mask, shaft_width_px=w, **{**kw, "count_border": "exclude"})
            conv.append(
                (100 * (excl.count / inside - 1), 100 * (hc.count / ph.truth["hair_count"] - 1))
            )
            if hc.at_edge is None:
                continue
            lab = hc.labels.ravel()
            n_lab = int(lab.max()) + 1
            cover = np.stack([np.bincount(lab[hr.pix], minlength=n_lab) for hr in hairs])
            rooted = np.array([hr.rooted for hr in hairs])
            size = np.bincount(lab, minlength=n_lab)
            for k in np.flatnonzero(hc.at_edge & (hc.multiplicity > 0)) + 1:
                carry = cover[:, k] >= CARRY_SHARE * size[k]
                rows.append(
                    (
                        bool(hc.at_opening[k - 1]),
                        size[k] / (w or 3.0),
                        int((carry & rooted).sum()),
                        int((carry & ~rooted).sum()),
                    )
                )
    a = np.array(rows, float)
    print(
        f"clipped phantom close-ups, seed {seed}: {len(a)} counted strokes cut by the frame;"
        " hairs carried per stroke (own mask over"
        f" >= {CARRY_SHARE:.0%} of its medial axis), rooted in the field / outside it"
    )
    for flag, name in ((True, "leaving an opening in the field"), (False, "other")):
        s = a[:, 0] == flag
        print(f"  {name:<32s}{int(s.sum()):5d}: {a[s, 2].mean():.2f} / {a[s, 3].mean():.2f}")
    edges = np.quantile(a[:, 1], [0, 0.25, 0.5, 0.75, 1.0])
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        s = (a[:, 1] >= lo) & (a[:, 1] <= hi)
        print(
            f"  visible length {lo:5.1f}-{hi:5.1f} widths: {a[s, 2].mean():.2f} /"
            f" {a[s, 3].mean():.2f}"
        )
    c = np.array(conv)
    print(
        f"  count |error| median (signed): count_border={kw['count_border']!r} against the"
        f" truth (root in the field) {np.median(abs(c[:, 1])):.1f} %"
        f" ({np.median(c[:, 1]):+.1f}); 'exclude' against the hairs wholly in the field"
        f" {np.median(abs(c[:, 0])):.1f} % ({np.median(c[:, 0]):+.1f})"
    )
    if not (REALDATA / "trichoscopy").is_dir():
        return 0
    from realdata_closeup import annotated_photos, boxes_xyxy

    from hairtrack.segment import segment_closeup

    boxed: dict[bool, list[bool]] = {True: [], False: []}
    for _, xml, rgb in annotated_photos(REALDATA / "trichoscopy"):
        seg = segment_closeup(rgb)
        w = seg.shaft_width_px * seg.work_scale if np.isfinite(seg.shaft_width_px) else None
        hc = count_hairs(seg.work_mask, shaft_width_px=w, **kw)
        if hc.at_edge is None:
            continue
        inbox = np.zeros(seg.work_mask.shape, bool)
        s = seg.work_scale
        for x0, y0, x1, y1 in boxes_xyxy(xml):
            inbox[
                int(y0 * s) : int(np.ceil(y1 * s)) + 1, int(x0 * s) : int(np.ceil(x1 * s)) + 1
            ] = True
        for k in np.flatnonzero(hc.at_edge & (hc.multiplicity > 0)) + 1:
            rr, cc = np.nonzero(hc.labels == k)
            boxed[bool(hc.at_opening[k - 1])].append(bool(inbox[rr, cc].mean() > 0.5))
    print("real trichoscopy: counted strokes cut by the frame that the annotators boxed")
    for flag, name in ((True, "leaving an opening in the field"), (False, "other")):
        v = np.array(boxed[flag], bool)
        print(f"  {name:<32s}{v.size:5d}: {v.mean() if v.size else float('nan'):.0%} boxed")
    return 0


def main() -> int:
    """Print each clipped field's error sources and the medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=11, help="11: the accuracy suite's fields")
    ap.add_argument("--real", action="store_true", help="the real trichoscopy set instead")
    ap.add_argument("--hairs", action="store_true", help="true hairs the mask misses")
    ap.add_argument("--tufts", action="store_true", help="unit geometry, phantoms vs real")
    ap.add_argument("--cut", action="store_true", help="hairs carried by cut strokes")
    args = ap.parse_args()
    if args.cut:
        return main_cut(args.seed)
    if args.real:
        return main_real()
    if args.hairs:
        return main_hairs(args.seed)
    if args.tufts:
        return main_tufts(args.seed)
    params = Params()
    parts = ["edge"] + [f"int{g}" for g in range(1, MAX_STROKES_GROUP + 1)] + ["none", "off"]
    rows = []
    print(f"clipped phantom close-ups, seed {args.seed}: signed error of each part, % of truth")
    head = "".join(f"{p:>8s}" for p in parts)
    print(f"  {'skin':<11}{'hair':<7}{'truth':>6}{'count %':>9}{head}")
    for i, skin in enumerate(synth.SKIN_TONES):
        for j, hair in enumerate(synth.HAIR_COLOURS):
            s = sources(clipped_field(args.seed, i, j), params)
            rows.append(s)
            t = s["truth"]
            errs = "".join(f"{100 * (s[f'c_{p}'] - s[f't_{p}']) / t:8.1f}" for p in parts)
            print(f"  {skin:<11}{hair:<7}{t:6.0f}{100 * (s['counted'] / t - 1):9.1f}{errs}")
    t = np.array([s["truth"] for s in rows])
    c = np.array([s["counted"] for s in rows])

    def med(v: np.ndarray) -> float:
        return float(np.median(np.abs(100 * (v / t - 1))))

    edge_exact = c - np.array([s["c_edge"] - s["t_edge"] for s in rows])
    inner = [f"int{g}" for g in range(1, MAX_STROKES_GROUP + 1)] + ["none", "off"]
    inner_exact = c - np.array([sum(s[f"c_{p}"] - s[f"t_{p}"] for p in inner) for s in rows])
    print("  median signed error of each part, % of truth:")
    for p in parts:
        e = np.array([100 * (s[f"c_{p}"] - s[f"t_{p}"]) / s["truth"] for s in rows])
        share = np.sum([s[f"t_{p}"] for s in rows]) / t.sum()
        print(f"    {p:<6}{np.median(e):+7.1f}   ({share:.0%} of the true hairs)")
    whole = np.array([100 * (s["c_whole"] - s["t_edge"]) / s["truth"] for s in rows])
    print(
        f"  frame-cut components with each cut stroke counted whole: {np.median(whole):+.1f} %"
        " median (hairs rooted inside them that the counter finds at all)"
    )
    root = np.array([s["root_rule"] for s in rows])
    print(f"  count |error| median, %: {med(c):.1f} as counted; {med(root):.1f} with each cut")
    print(f"    stroke's root told from its tip (truth); {med(edge_exact):.1f} with the frame-cut")
    print(f"    components counted right; {med(inner_exact):.1f} with the interior, uncounted")
    print("    and off-mask parts right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
