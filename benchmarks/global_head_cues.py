"""What can register a global (crown) phantom pair on the head? Cues measured against truth.

Run:  .venv/bin/python benchmarks/global_head_cues.py [--seeds 0,1,2] [--pairs 12]

Every global phantom pair of ``benchmarks/pairs.py`` (a re-shoot: same hair, re-combed,
new camera, the head moved against the room) is refused by :func:`hairtrack.align.align`
today. This script measures, per pair and against the phantom's truth, the cues issue 4
names for global photos, apart from the product code (nothing here is used by
``hairtrack``):

``affine floor``
    Corner error (as ``pairs.py``: mean distance of the four image corners) of the
    least-squares *affine* fit to the true head homography over the session's scalp. The
    head covers the middle of the photo and the corners are an extrapolation of its plane:
    any registration without the camera's perspective (a similarity or affine from the
    head's outline, moments or low-frequency maps) is at least this far off.
``room``
    :func:`hairtrack.align.align` asked to look only OUTSIDE the head (background and
    clothes: the complement of the look masks ``compare`` passes): ok or not and its
    corner error against the room's true homography. In the phantom the head's homography
    is the room's followed by a similarity (the head motion); physically a camera rotation
    is one homography for every depth, so the perspective can come from the room.
``head similarity``
    Given the TRUE room homography, the remaining similarity (4 degrees of freedom) fitted
    on the head: the session's skin-likeness map (Lab distance to the head's two colour
    classes, the scalp's class the smaller) over the look mask, warped by the room
    homography, then a similarity maximising its NCC with the baseline's (grid over the
    rotation, Nelder-Mead). Reported: the corner error of (similarity o true room) against
    the head's truth, the rotation error, and the re-combing "swing" 0.6 (sin c2 - sin c1)
    rad (the common turn of every strand, ``synth.render_global``) with the correlation of
    the two over the pairs.

``moments``
    Given the TRUE room homography (and, apart, the room as registered when that is ok),
    the head's similarity from the head region's moments alone (``compare._where_to_look``
    of each photo, the session's warped by the room): shift from the centroids, zoom from
    the determinants of the second moments, rotation from their principal axes (a head
    fixed mask moves exactly by the head's similarity in the room's frame, so only what is
    not fixed to the head, the fringe of combed strands, can bias it). Reported: corner
    error and rotation error against the truth.
``ear``
    The same shift and zoom, the rotation from the ear instead: the centroid of the
    largest blob of skin-coloured pixels (nearer the head's scalp colour than to its hair
    colour and to three background colours) in a ring 0.8-1.35 head radii about the
    region's centroid, its angle about that centroid compared between the two photos.
    Reported: the ear centroid's distance from where the truth puts it, the rotation
    error and the corner error.
``tiles``
    From the moments' similarity on the true room, the skin texture of the bald zone
    matched tile by tile (lightness with strands closed and opened away at ``STRAND_PX``,
    band-passed ``TEXTURE_BAND``; ``TILE`` px tiles wholly in the baseline's skin, searched
    +-24, then +-8, then +-4 px) and a similarity fitted to the tiles' shifts by RANSAC,
    three rounds. Reported: corner error and the share of tiles the fit keeps.

The summary gives medians and the count of pairs within 2 and 10 px.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import minimize
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pairs import make_pair  # noqa: E402

from hairtrack.align import align, corner_error, skin_hair_colours  # noqa: E402
from hairtrack.compare import _look_masks, _where_to_look  # noqa: E402
from hairtrack.config import Params  # noqa: E402

SIDE = 512  # long side of the copies the similarity is fitted on, px
SIGMA = 2.0  # smoothing of the skin-likeness map on that copy, px


def affine_floor(h_true: np.ndarray, region: np.ndarray, shape: tuple[int, ...]) -> float:
    """Corner error of the least-squares affine approximation of ``h_true`` over ``region``."""
    ys, xs = np.nonzero(region[::8, ::8])
    p = np.stack([xs * 8.0, ys * 8.0, np.ones(len(xs))])
    q = h_true @ p
    q = q[:2] / q[2]
    a, *_ = np.linalg.lstsq(p.T, q.T, rcond=None)
    return corner_error(np.vstack([a.T, [0, 0, 1]]), h_true, shape)


def skin_likeness(rgb: np.ndarray, region: np.ndarray) -> np.ndarray:
    """0-1 map: how much nearer each pixel is to the head's scalp colour than to its hair."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    c_skin, c_hair = skin_hair_colours(lab, region)
    ds = np.linalg.norm(lab - c_skin, axis=2)
    dh = np.linalg.norm(lab - c_hair, axis=2)
    return (dh / (ds + dh + 1e-3)).astype(np.float32)


def head_map(
    rgb: np.ndarray,
    region: np.ndarray,
    look: np.ndarray,
    h: np.ndarray | None = None,
    ref_shape: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The normalised skin-likeness map over ``look`` on a copy ``SIDE`` px long.

    With ``h`` the photo is first warped by it into a frame of ``ref_shape``. Returns the
    map, the region mask on the copy and the copy's scale.
    """
    s = skin_likeness(rgb, region)
    if h is not None and ref_shape is not None:
        size = ref_shape[::-1]
        s = cv2.warpPerspective(s, h, size, flags=cv2.INTER_LINEAR)
        region = cv2.warpPerspective(region.view(np.uint8), h, size, flags=cv2.INTER_NEAREST) > 0
        look = cv2.warpPerspective(look.view(np.uint8), h, size, flags=cv2.INTER_NEAREST) > 0
    hh, ww = s.shape
    f = SIDE / max(hh, ww)
    size = (round(ww * f), round(hh * f))
    s = cv2.GaussianBlur(cv2.resize(s, size, interpolation=cv2.INTER_AREA), (0, 0), SIGMA)
    m = cv2.resize(look.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    r = cv2.resize(region.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    s = np.where(m, s - s[m].mean(), 0.0)
    return (s / (s[m].std() + 1e-6)).astype(np.float32), r, f


def similarity(p: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """3 x 3 similarity: shift (p[0], p[1]), turn p[2] rad and zoom exp(p[3]) about centre."""
    dx, dy, th, ls = p
    r = np.exp(ls) * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    out = np.eye(3)
    out[:2, :2] = r
    out[:2, 2] = centre + np.array([dx, dy]) - r @ centre
    return out


def fit_similarity(
    ref: np.ndarray, mov: np.ndarray, r_ref: np.ndarray, r_mov: np.ndarray
) -> np.ndarray:
    """The similarity (copy px) that best lays ``mov`` on ``ref`` (NCC), from the moments."""
    ys, xs = np.nonzero(r_ref)
    c_ref, a_ref = np.array([xs.mean(), ys.mean()]), len(xs)
    ys, xs = np.nonzero(r_mov)
    c_mov, a_mov = np.array([xs.mean(), ys.mean()]), len(xs)

    def cost(p: np.ndarray) -> float:
        w = cv2.warpAffine(mov, similarity(p, c_ref)[:2], ref.shape[::-1])
        return -float(np.corrcoef(w.ravel(), ref.ravel())[0, 1])

    d0, ls0 = c_ref - c_mov, 0.5 * np.log(a_ref / a_mov)
    starts = [np.array([d0[0], d0[1], th, ls0]) for th in np.deg2rad(np.arange(-14, 15, 2))]
    best = min(starts, key=cost)
    res = minimize(cost, best, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})
    return similarity(res.x, c_ref)


EAR_RING = (0.8, 1.35)  # where the ear is looked for, in head radii (moments' ellipse)
EAR_BLUR = 2.0  # smoothing of the skin vote before the ear blob is taken, px


def region_moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid (x, y) and second central moments (2 x 2) of a mask."""
    m = cv2.moments(mask.view(np.uint8), binaryImage=True)
    c = np.array([m["m10"], m["m01"]]) / m["m00"]
    return c, np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]


def axis_turn(c_ref: np.ndarray, c_mov: np.ndarray) -> float:
    """Rotation (rad, within +-90 deg) taking the principal axis of c_mov onto c_ref's."""

    def angle(c: np.ndarray) -> float:
        return 0.5 * np.arctan2(2 * c[0, 1], c[0, 0] - c[1, 1])

    return float((angle(c_ref) - angle(c_mov) + np.pi / 2) % np.pi - np.pi / 2)


def moments_similarity(
    ref: tuple[np.ndarray, np.ndarray], mov: tuple[np.ndarray, np.ndarray], turn: float
) -> np.ndarray:
    """Similarity mov -> ref: zoom from the moments, the given turn (rad) about the centroids."""
    (cr, vr), (cm, vm) = ref, mov
    z = (np.linalg.det(vr) / np.linalg.det(vm)) ** 0.25
    r = z * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    out = np.eye(3)
    out[:2, :2] = r
    out[:2, 2] = cr - r @ cm
    return out


def ear_centroid(
    rgb: np.ndarray, region: np.ndarray, mom: tuple[np.ndarray, np.ndarray]
) -> np.ndarray | None:
    """Centroid of the largest skin-coloured blob in the ring about the head, or None."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    pts = np.ascontiguousarray(lab[region][:: max(1, int(region.sum()) // 20000)])
    _, lbl, c = cv2.kmeans(pts, 2, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    ks = int(np.argmin(np.bincount(lbl.ravel(), minlength=2)))
    d_skin = np.linalg.norm(lab - c[ks], axis=2)
    d_hair = np.linalg.norm(lab - c[1 - ks], axis=2)
    out = ~cv2.dilate(region.view(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
    pts = np.ascontiguousarray(lab[out][:: max(1, int(out.sum()) // 20000)])
    _, _, c_bg = cv2.kmeans(pts, 3, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    d_bg = np.min([np.linalg.norm(lab - cc, axis=2) for cc in c_bg], axis=0)
    vote = (d_skin < np.minimum(d_hair, d_bg)).astype(np.float32)
    skin = cv2.GaussianBlur(vote, (0, 0), EAR_BLUR) > 0.5
    centre, cov = mom
    yy, xx = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]]
    d = np.stack([xx - centre[0], yy - centre[1]], -1)
    # a uniform ellipse of semi-axes a, b has second moments a^2/4, b^2/4
    r = np.sqrt(np.einsum("...i,ij,...j->...", d, np.linalg.inv(4 * cov), d))
    cand = skin & (r > EAR_RING[0]) & (r < EAR_RING[1])
    n, _, stats, cents = cv2.connectedComponentsWithStats(cand.view(np.uint8))
    if n < 2:
        return None
    return cents[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]


STRAND_PX = 5  # closing / opening that takes single strands out of the skin texture, px
TEXTURE_BAND = (2.0, 10.0)  # difference of Gaussians kept of the skin texture, px
TILE, TILE_STEP = 48, 24  # texture tiles and their spacing, px
TILE_MIN_NCC = 0.3  # a tile's match counts above this correlation


def skin_texture(rgb: np.ndarray) -> np.ndarray:
    """Lightness without single strands, band-passed: the scalp skin's own texture."""
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (STRAND_PX, STRAND_PX))
    s = cv2.morphologyEx(cv2.morphologyEx(lum, cv2.MORPH_CLOSE, se), cv2.MORPH_OPEN, se)
    lo, hi = TEXTURE_BAND
    return cv2.GaussianBlur(s, (0, 0), lo) - cv2.GaussianBlur(s, (0, 0), hi)


def _vertex(a: float, b: float, c: float) -> float:
    d = a - 2 * b + c
    return 0.0 if d >= 0 else 0.5 * (a - c) / d


def tile_shifts(ref: np.ndarray, mov: np.ndarray, zone: np.ndarray, r: int) -> tuple:
    """Where each texture tile of ``ref`` (wholly in ``zone``) is found in ``mov``, +-r px."""
    h, w = ref.shape
    src, dst = [], []
    for y in range(r, h - TILE - r, TILE_STEP):
        for x in range(r, w - TILE - r, TILE_STEP):
            if zone[y : y + TILE, x : x + TILE].mean() < 0.8:
                continue
            t = ref[y : y + TILE, x : x + TILE]
            score = cv2.matchTemplate(mov[y - r : y + TILE + r, x - r : x + TILE + r], t, 5)
            _, top, _, (ix, iy) = cv2.minMaxLoc(score)
            if top < TILE_MIN_NCC or ix in (0, 2 * r) or iy in (0, 2 * r):
                continue
            dx = _vertex(*score[iy, ix - 1 : ix + 2])
            dy = _vertex(*score[iy - 1 : iy + 2, ix])
            cx, cy = x + TILE / 2, y + TILE / 2
            src.append((cx + ix - r + dx, cy + iy - r + dy))
            dst.append((cx, cy))
    return np.array(src, np.float32).reshape(-1, 2), np.array(dst, np.float32).reshape(-1, 2)


def tile_similarity(
    ref: np.ndarray, mov: np.ndarray, zone: np.ndarray, s0: np.ndarray
) -> tuple[np.ndarray | None, float]:
    """Refine the similarity ``s0`` (mov -> ref) on the texture tiles; the kept share."""
    s, kept = s0.copy(), 0.0
    for r in (24, 8, 4):
        src, dst = tile_shifts(ref, cv2.warpAffine(mov, s[:2], ref.shape[::-1]), zone, r)
        if len(src) < 6:
            return None, kept
        m, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.5)
        if m is None:
            return None, kept
        s, kept = np.vstack([m, [0, 0, 1]]) @ s, float(inl.mean())
    return s, kept


def wrap_deg(a: float) -> float:
    """An angle difference, degrees, within (-180, 180]."""
    return float(-((-a + 180.0) % 360.0 - 180.0))


def turn_deg(h: np.ndarray) -> float:
    """Rotation of a (near-)similarity, degrees."""
    return float(np.degrees(np.arctan2(h[1, 0], h[0, 0])))


def run(seed: int, k: int, params: Params) -> dict:
    """All measurements of one re-shoot pair."""
    base, visit, visit_img, skin, hair = make_pair("global", k, 0.0, seed=seed)
    shape = base.image.shape
    h_head = np.asarray(visit.truth["homography_to_baseline"])
    h_room = np.asarray(visit.truth["room_homography_to_baseline"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg_b = _where_to_look(base.image, "global", params)
        reg_a = _where_to_look(visit_img, "global", params)
        look_b, look_a = _look_masks(reg_b, "global"), _look_masks(reg_a, "global")
        room = align(
            base.image,
            visit_img,
            view="global",
            reference_mask=~look_b,
            moving_mask=~look_a,
            **dataclasses.asdict(params.align),
        )
    room_err = (
        corner_error(room.homography, h_room, shape) if room.homography is not None else np.inf
    )
    # the head's similarity on top of the true room homography (look a little wider: the ear)
    wide_b, wide_a = _look_masks(look_b, "global"), _look_masks(look_a, "global")
    m_ref, r_ref, f = head_map(base.image, reg_b, wide_b)
    m_mov, r_mov, _ = head_map(visit_img, reg_a, wide_a, h_room, shape[:2])
    s_copy = fit_similarity(m_ref, m_mov, r_ref, r_mov)
    s_full = np.diag([1 / f, 1 / f, 1]) @ s_copy @ np.diag([f, f, 1])
    s_true = h_head @ np.linalg.inv(h_room)
    # the head's similarity from its region's moments (and the ear) on top of the room
    size = shape[1::-1]
    mom_b = region_moments(reg_b)
    e_b = ear_centroid(base.image, reg_b, mom_b)
    cues = {}
    for name, h_r in (("true", h_room), ("est", room.homography if room.ok else None)):
        if h_r is None:
            continue
        warped = cv2.warpPerspective(visit_img, h_r, size)
        reg_w = cv2.warpPerspective(reg_a.view(np.uint8), h_r, size, flags=cv2.INTER_NEAREST) > 0
        mom_w = region_moments(reg_w)
        s_mom = moments_similarity(mom_b, mom_w, axis_turn(mom_b[1], mom_w[1]))
        cues[f"mom_{name}"] = corner_error(s_mom @ h_r, h_head, shape)
        cues[f"mom_turn_{name}"] = wrap_deg(turn_deg(s_mom) - turn_deg(h_head @ np.linalg.inv(h_r)))
        if name == "true":
            zone = cv2.GaussianBlur(skin_likeness(base.image, reg_b), (0, 0), 6.0) > 0.5
            s_tiles, kept = tile_similarity(
                skin_texture(base.image), skin_texture(warped), zone & reg_b, s_mom
            )
            cues["tiles"] = (
                corner_error(s_tiles @ h_r, h_head, shape) if s_tiles is not None else np.inf
            )
            cues["tiles_kept"] = kept
        e_w = ear_centroid(warped, reg_w, mom_w)
        if e_b is None or e_w is None:
            continue
        a_b = np.arctan2(e_b[1] - mom_b[0][1], e_b[0] - mom_b[0][0])
        a_w = np.arctan2(e_w[1] - mom_w[0][1], e_w[0] - mom_w[0][0])
        s_ear = moments_similarity(mom_b, mom_w, float((a_b - a_w + np.pi) % (2 * np.pi) - np.pi))
        s_t = h_head @ np.linalg.inv(h_r)
        e_t = s_t @ [e_w[0], e_w[1], 1.0]
        cues[f"ear_{name}"] = corner_error(s_ear @ h_r, h_head, shape)
        cues[f"ear_turn_{name}"] = wrap_deg(turn_deg(s_ear) - turn_deg(s_t / s_t[2, 2]))
        cues[f"ear_pos_{name}"] = float(np.hypot(*(e_t[:2] / e_t[2] - e_b)))
    c1, c2 = np.deg2rad(base.truth["comb_deg"]), np.deg2rad(visit.truth["comb_deg"])
    return {
        "seed": seed,
        "k": k,
        "skin": skin,
        "hair": hair,
        "affine_floor": affine_floor(h_head, visit.region_mask, shape),
        "room_ok": room.ok,
        "room_err": room_err,
        "sim_err": corner_error(s_full @ h_room, h_head, shape),
        "turn_err": turn_deg(s_full) - turn_deg(s_true / s_true[2, 2]),
        "swing": 0.6 * (np.sin(c2) - np.sin(c1)),
        **cues,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0", help="comma-separated seeds")
    ap.add_argument("--pairs", type=int, default=12, help="re-shoot pairs per seed")
    args = ap.parse_args()
    params = Params()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for k in range(args.pairs):
            r = run(seed, k, params)
            rows.append(r)
            print(
                f"seed {seed} k {k:2d} {r['skin']:<10} {r['hair']:<6} affine floor "
                f"{r['affine_floor']:6.1f} px | room ok={r['room_ok']!s:<5} "
                f"{r['room_err']:7.2f} px | head similarity {r['sim_err']:7.1f} px, turn "
                f"{r['turn_err']:+6.2f} deg, comb swing {r['swing']:+5.2f} rad | moments "
                f"{r['mom_true']:6.1f} px ({r['mom_turn_true']:+5.2f} deg), ear "
                f"{r.get('ear_true', np.inf):6.1f} px ({r.get('ear_turn_true', np.nan):+6.2f} "
                f"deg, ear {r.get('ear_pos_true', np.nan):5.1f} px off), tiles "
                f"{r['tiles']:6.1f} px "
                f"(kept {r['tiles_kept']:.0%}) | on the room found: "
                f"moments {r.get('mom_est', np.inf):6.1f}, ear {r.get('ear_est', np.inf):6.1f} px",
                flush=True,
            )
    af = np.array([r["affine_floor"] for r in rows])
    room_ok = [r for r in rows if r["room_ok"]]
    se = np.array([r["sim_err"] for r in rows])
    turn, swing = np.array([r["turn_err"] for r in rows]), np.array([r["swing"] for r in rows])
    print(f"\nsummary ({len(rows)} re-shoot pairs, seeds {args.seeds})")
    print(f"  affine floor, corner px: median {np.median(af):.1f}, <= 10 px {np.sum(af <= 10)}")
    print(
        f"  room registered ok: {len(room_ok)} of {len(rows)}, corner px vs room truth "
        f"median {np.median([r['room_err'] for r in room_ok]) if room_ok else np.nan:.2f}, "
        f"max {max((r['room_err'] for r in room_ok), default=np.nan):.2f}"
    )
    print(
        f"  head similarity on the true room, corner px: median {np.median(se):.1f}, "
        f"<= 2 px {np.sum(se <= 2)}, <= 10 px {np.sum(se <= 10)}"
    )
    for key, what in (
        ("mom_true", "head moments on the true room"),
        ("ear_true", "moments + ear turn on the true room"),
        ("mom_est", "head moments on the room found (room ok only)"),
        ("ear_est", "moments + ear turn on the room found (room ok only)"),
    ):
        e = np.array([r.get(key, np.inf) for r in rows])
        t = np.array([r[key.replace("_", "_turn_")] for r in rows if key in r])
        print(
            f"  {what}, corner px: median {np.median(e):.1f}, <= 2 px {np.sum(e <= 2)}, "
            f"<= 10 px {np.sum(e <= 10)} of {len(rows)}; |turn error| median "
            f"{np.median(np.abs(t)) if len(t) else np.nan:.2f} deg, <= 0.9 deg "
            f"{np.sum(np.abs(t) <= 0.9)} of {len(t)}"
        )
    e = np.array([r["tiles"] for r in rows])
    print(
        f"  moments + texture tiles on the true room, corner px: median {np.median(e):.1f}, "
        f"<= 2 px {np.sum(e <= 2)}, <= 10 px {np.sum(e <= 10)} of {len(rows)}; tiles kept "
        f"median {np.median([r['tiles_kept'] for r in rows]):.0%}"
    )
    ep = np.array([r["ear_pos_true"] for r in rows if "ear_pos_true" in r])
    print(
        f"  ear centroid off its true place (true room): median {np.median(ep):.1f} px, "
        f"<= 4 px {np.sum(ep <= 4)} of {len(ep)}"
    )
    # gross failures (the head's region read differently in the two photos) aside
    fine = np.abs(turn) < 8.0
    fit = np.polyfit(swing[fine], turn[fine], 1) if fine.sum() > 2 else [np.nan]
    print(
        f"  turn error vs comb swing: Spearman {spearmanr(swing, turn)[0]:+.2f} (all); over "
        f"the {int(fine.sum())} with |turn error| < 8 deg r = "
        f"{np.corrcoef(swing[fine], turn[fine])[0, 1]:+.2f}, slope {fit[0]:+.1f} deg per rad"
    )


if __name__ == "__main__":
    main()
