"""Accuracy, honesty and speed of :func:`hairtrack.align.align`.

Sets (each pair has a known true homography, or is known to be unregistrable):

* ``phantom closeup`` / ``phantom global``: phantoms re-photographed with
  ``synth.random_camera`` (rotation +-25 deg, scale +-12 %, mild perspective, new light,
  white balance, gamma, blur, noise, JPEG at the camera's quality), hair re-combed, with
  and without a true hair change of 10-40 %, over all skin tones and hair colours; in
  global pairs the head also moves against the room and clothes
  (``synth.random_head_motion``) and the truth is the head's homography.
* ``real closeup warp`` / ``real global warp``: real photos from ``../shared/realdata``
  warped by a known random homography (same ranges) and relit (gain gradient, gamma,
  white balance), JPEG.
* ``real global head motion``: the same real global photos, the head (hair, scalp and
  face skin: the head blob of :func:`hairtrack.region.scalp_region`, with a margin)
  re-shot by one random homography and the room around it (inpainted where the head
  was) by another (``synth.random_head_motion`` on top), then relit; the truth is the
  head's homography.
  Real textures in the room outnumber those on the head: a fit that follows the room must
  be refused.
* ``unrelated ...``: pairs that must be refused (different real close-ups, trichoscopy
  series fields of different visits, phantoms of two different patients).
* timing of a ~1 MP and a 12 MP close-up pair (single OpenCV thread), with the time to
  decode both JPEGs for comparison.

Columns: ``n`` pairs, ``ok`` share reported ok, ``med``/``p90``/``max`` corner error (mean
distance of the four image corners mapped by the estimated vs the true homography, in
reference px) over the pairs reported ok, ``bad ok`` pairs reported ok with a corner error
over 10 px (must be 0), ``head med`` (phantom global only) the median over the pairs
reported ok of the same distance at the corners of the scalp region's bounding box in the
session photo, ``t med`` median seconds per pair.

In a global phantom with head motion the truth homography is the head's: the room and the
clothes move by another one, so the photo's corners (background) are an extrapolation of
the head's plane. The image-corner error stays the headline figure (a paired figure is
drawn from the whole homography); ``head med`` is the error where the truth is valid and
where the paired figure is read.

Run ``python benchmarks/align_accuracy.py`` (``--quick`` for a small run, ``--view global``
for the global sets only, ``--csv FILE`` for one row per pair).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack import synth  # noqa: E402
from hairtrack.align import align, corner_error  # noqa: E402

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
CHANGES = (0.0, 0.0, -0.1, -0.2, -0.3, -0.4, 0.1, 0.2, 0.3, 0.4)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode to JPEG and decode again, as a real photo would arrive."""
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    )
    assert ok
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def read_rgb(path: Path) -> np.ndarray:
    """Read a photo as RGB uint8 (alpha composited on white)."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        a = img[..., 3:4].astype(np.float32) / 255.0
        img = (img[..., :3] * a + 255 * (1 - a)).astype(np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def phantom_pair(seed: int, view: str, *, size: tuple[int, int] | None = None, **subject_kw):
    """A baseline and a re-shot visit of one phantom.

    Returns (ref, mov, H_true, label, head): ``head`` is the session photo's scalp region
    (bool mask) for global phantoms, None for close-ups.
    """
    rng = np.random.default_rng([seed, 7])
    skins, hairs = list(synth.SKIN_TONES), list(synth.HAIR_COLOURS)
    skin = skins[seed % len(skins)]
    hair = hairs[(seed // len(skins)) % len(hairs)]
    change = CHANGES[seed % len(CHANGES)]
    if view == "closeup":
        w, h = size or (1152, 864)
        subject = synth.make_closeup_subject(
            rng, width=w, height=h, skin=skin, hair=hair, clipped=bool(seed % 2), **subject_kw
        )
        render = synth.render_closeup
    else:
        w, h = size or (768, 1024)
        subject = synth.make_global_subject(rng, width=w, height=h, skin=skin, hair=hair)
        render = synth.render_global
    before = render(subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng)
    cam = synth.random_camera(rng)
    state = synth.visit_state(
        subject, hair_change=change, comb_deg=float(rng.uniform(0, 360)), rng=rng
    )
    if view == "global":
        # the patient sits differently: the head moves against the room and the clothes
        motion = synth.random_head_motion(np.random.default_rng([seed, 13]))
        after = render(subject, state, cam, rng=rng, head_motion=motion)
    else:
        after = render(subject, state, cam, rng=rng)
    h_true = np.asarray(after.truth["homography_to_baseline"], np.float64)
    label = f"{skin}/{hair}/{'clipped' if view == 'closeup' and seed % 2 else 'long'}/{change:+.1f}"
    head = after.region_mask if view == "global" else None
    return jpeg(before.image, 92), jpeg(after.image, cam.jpeg_quality), h_true, label, head


def head_error(h_est: np.ndarray, h_true: np.ndarray, head: np.ndarray) -> float:
    """Mean distance, reference px, of the corners of ``head``'s bounding box (session
    photo) mapped by the estimated vs the true homography: the error on the head."""
    ys, xs = np.nonzero(head)
    box = np.array(
        [[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.max(), ys.max()], [xs.min(), ys.max()]],
        np.float64,
    ).reshape(-1, 1, 2)
    est = cv2.perspectiveTransform(box, np.asarray(h_est, np.float64))
    true = cv2.perspectiveTransform(box, np.asarray(h_true, np.float64))
    return float(np.linalg.norm(est - true, axis=2).mean())


def relit_warp(ref: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-shoot a real photo by a known random camera (homography and light); (mov, H)."""
    rng = np.random.default_rng([seed, 11])
    cam = synth.random_camera(rng)
    mov, hom = synth.reshoot(ref, cam, rng)
    return jpeg(mov, cam.jpeg_quality), hom


def real_head_motion(ref: np.ndarray, seed: int) -> tuple:
    """Re-shoot a real global photo with the head moving against the room.

    Returns (mov, H_head, head): the re-shot photo (JPEG), the head's true homography
    (re-shot px -> ``ref`` px) and the head in the re-shot photo (bool), or None when no
    head region is found.
    """
    import warnings

    from hairtrack.region import scalp_region

    rng = np.random.default_rng([seed, 17])
    h, w = ref.shape[:2]
    f = min(1.0, 512.0 / max(h, w))
    small = cv2.resize(ref, (max(32, round(w * f)), max(32, round(h * f))), cv2.INTER_AREA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the whole head (hair, scalp and face skin), not only the scalp region: all of
        # it moves together
        region = scalp_region(small).head_mask
    if region.sum() < 0.02 * region.size or region.mean() > 0.8:
        return None
    region = cv2.resize(region.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    r = max(2, int(0.03 * max(h, w)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    head = cv2.dilate(region, disk)
    # the room behind the head: filled in from around it (on the small copy: inpainting
    # a 100 px radius at 8 MP takes minutes), the rest of the room kept sharp
    hole = cv2.dilate(head, disk)
    hole_small = cv2.resize(hole, small.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    r_small = max(2, int(round(r * f)))
    fill = cv2.inpaint(small, hole_small * np.uint8(255), r_small, cv2.INPAINT_TELEA)
    fill = cv2.resize(fill, (w, h), interpolation=cv2.INTER_LINEAR)
    room = np.where(hole[..., None] > 0, fill, ref)
    alpha = cv2.GaussianBlur(head.astype(np.float32), (0, 0), max(1.0, r / 3.0))
    cam = synth.random_camera(rng)
    h_head = cam.homography(w, h)
    ys, xs = np.nonzero(region)
    motion = synth.random_head_motion(rng)
    h_room = motion.homography((float(xs.mean()), float(ys.mean())), w, h) @ h_head
    h_room = h_room / h_room[2, 2]

    def shoot(img: np.ndarray, hom: np.ndarray, border: int = cv2.BORDER_REFLECT_101):
        return cv2.warpPerspective(
            img, hom, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border
        )

    # the room's borders are reflected (a larger scene), the head is not repeated
    a = shoot(alpha, h_head, cv2.BORDER_CONSTANT)[..., None]
    scene = shoot(ref.astype(np.float32) / 255, h_head) * a + shoot(
        room.astype(np.float32) / 255, h_room
    ) * (1 - a)
    mov = synth.apply_camera(scene.astype(np.float32), cam, rng)
    head_mov = shoot(region.astype(np.float32), h_head, cv2.BORDER_CONSTANT) > 0.5
    return jpeg(mov, cam.jpeg_quality), h_head, head_mov


def run_pair(ref, mov, h_true, view, head=None):
    t = time.perf_counter()
    al = align(ref, mov, view=view)
    dt = time.perf_counter() - t
    err = head_err = np.nan
    if al.homography is not None and h_true is not None:
        err = corner_error(al.homography, h_true, mov.shape)
        if head is not None and head.any():
            head_err = head_error(al.homography, h_true, head)
    return al, err, head_err, dt


def summarise(name: str, rows: list[dict], registrable: bool) -> str:
    n = len(rows)
    ok = np.array([r["ok"] for r in rows], bool)
    err = np.array([r["err"] for r in rows], float)
    head = np.array([r["head_err"] for r in rows], float)[ok]
    t = np.array([r["t"] for r in rows], float)
    eo = err[ok]
    fmt = lambda v: f"{v:7.2f}" if np.isfinite(v) else "     - "  # noqa: E731
    if registrable:
        bad = int(np.sum(ok & (err > 10)))
        med = np.median(eo) if len(eo) else np.nan
        p90 = np.percentile(eo, 90) if len(eo) else np.nan
        mx = eo.max() if len(eo) else np.nan
    else:
        bad, med, p90, mx = int(ok.sum()), np.nan, np.nan, np.nan
    head_med = np.median(head) if registrable and np.isfinite(head).any() else np.nan
    return (
        f"{name:28s} {n:4d} {ok.mean() if n else 0:6.1%} {fmt(med)} {fmt(p90)} {fmt(mx)} "
        f"{bad:6d}  {fmt(head_med)} {np.median(t) if n else 0:6.2f}"
    )


def timing(reps: int) -> list[str]:
    """Seconds per ~1 MP and 12 MP close-up pair, one OpenCV thread, vs JPEG decoding."""
    lines = []
    cv2.setNumThreads(1)
    for label, size, ppm in (("1 MP", (1152, 864), 75.0), ("12 MP", (4000, 3000), 290.0)):
        rng = np.random.default_rng(5)
        subject = synth.make_closeup_subject(rng, width=size[0], height=size[1], px_per_mm=ppm)
        before = synth.render_closeup(
            subject, synth.visit_state(subject, rng=rng), synth.Camera(), rng=rng
        )
        cam = synth.random_camera(rng)
        after = synth.render_closeup(
            subject, synth.visit_state(subject, hair_change=-0.2, rng=rng), cam, rng=rng
        )
        bufs = [
            cv2.imencode(".jpg", im.image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1]
            for im in (before, after)
        ]
        t = time.perf_counter()
        for _ in range(reps):
            imgs = [
                cv2.cvtColor(cv2.imdecode(b, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for b in bufs
            ]
        t_dec = (time.perf_counter() - t) / reps
        times, errs, oks = [], [], []
        for _ in range(reps):
            t = time.perf_counter()
            al = align(imgs[0], imgs[1])
            times.append(time.perf_counter() - t)
        h_true = np.asarray(after.truth["homography_to_baseline"])
        errs.append(corner_error(al.homography, h_true, imgs[1].shape))
        oks.append(al.ok)
        lines.append(
            f"{label:6s} {size[0]}x{size[1]}: align {np.median(times):.2f} s "
            f"(decode both {t_dec:.2f} s, ratio {np.median(times) / t_dec:.1f}x), "
            f"ok={oks[0]}, corner error {errs[0]:.2f} px"
        )
    cv2.setNumThreads(-1)
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small run (about a minute)")
    ap.add_argument("--csv", help="write one row per pair to this file")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument(
        "--view", choices=["closeup", "global"], help="only the sets of this view (and no timing)"
    )
    args = ap.parse_args(argv)
    n_cu, n_gl, n_real = (12, 6, 6) if args.quick else (96, 48, 40)
    views = (args.view,) if args.view else ("closeup", "global")
    if args.view:
        args.no_timing = True
        n_cu, n_gl = (n_cu if "closeup" in views else 0), (n_gl if "global" in views else 0)
    rows: dict[str, list[dict]] = {}
    registrable: dict[str, bool] = {}

    def add(set_name, reg, ref, mov, h_true, view, label, head=None):
        al, err, head_err, dt = run_pair(ref, mov, h_true, view, head)
        rows.setdefault(set_name, []).append(
            {
                "set": set_name,
                "label": label,
                "ok": al.ok,
                "err": err,
                "head_err": head_err,
                "t": dt,
                "inliers": al.inliers,
                "ncc": al.ncc,
                "reason": al.reason,
                "model": al.model,
            }
        )
        registrable[set_name] = reg
        print(
            f"  {set_name:24s} {label:40s} ok={al.ok!s:5s} err={err:8.2f} head={head_err:7.2f} "
            f"inl={al.inliers:5d} ncc={al.ncc if al.ncc is not None else float('nan'):5.2f} "
            f"t={dt:5.2f} {al.reason}",
            file=sys.stderr,
        )

    for s in range(n_cu):
        ref, mov, h, label, _ = phantom_pair(s, "closeup")
        add("phantom closeup", True, ref, mov, h, "closeup", label)
    for s in range(n_gl):
        ref, mov, h, label, head = phantom_pair(s, "global")
        add("phantom global", True, ref, mov, h, "global", label, head)
    n_unrel = 4 if args.quick else 16
    for s in range(n_unrel):
        view = "closeup" if s % 2 == 0 else "global"
        if view not in views:
            continue
        a, _, _, la, _ = phantom_pair(1000 + s, view)
        # patient B: same skin and hair colour, a different subject
        other = 1000 + s + len(synth.SKIN_TONES) * len(synth.HAIR_COLOURS)
        b, _, _, lb, _ = phantom_pair(other, view)
        if a.shape == b.shape:
            add("unrelated phantoms", False, a, b, None, view, f"{la} vs {lb}")

    tricho = sorted((REALDATA / "trichoscopy").glob("*.jpg")) if "closeup" in views else []
    glob_ = sorted(p for p in (REALDATA / "global").glob("*") if p.suffix in (".jpg", ".png"))
    glob_ = glob_ if "global" in views else []
    series = sorted((REALDATA / "trichoscopy_series" / "A366").glob("*.jpg"))
    series = series if "closeup" in views else []
    if not (REALDATA / "trichoscopy").is_dir():
        print(f"(no real data at {REALDATA}: real sets skipped)", file=sys.stderr)
    for i, path in enumerate(tricho[:n_real]):
        ref = read_rgb(path)
        mov, h = relit_warp(ref, i)
        add("real closeup warp", True, ref, mov, h, "closeup", path.name)
    for i, path in enumerate(glob_[:n_real]):
        ref = read_rgb(path)
        mov, h = relit_warp(ref, 100 + i)
        add("real global warp", True, ref, mov, h, "global", path.name)
    for i, path in enumerate(glob_[:n_real]):
        ref = read_rgb(path)
        made = real_head_motion(ref, 200 + i)
        if made is not None:
            mov, h, head_mov = made
            add("real global head motion", True, ref, mov, h, "global", path.name, head_mov)
    step = 4 if args.quick else 1
    for i in range(0, min(len(tricho), n_real), step):
        a, b = tricho[i], tricho[(i + 1) % len(tricho)]
        add(
            "unrelated real closeups",
            False,
            read_rgb(a),
            read_rgb(b),
            None,
            "closeup",
            f"{a.stem} vs {b.stem}",
        )
    pairs = [(a, b) for a in series for b in series if a.name[:6] < b.name[:6]]
    for a, b in pairs[:: step * 2 if args.quick else 1]:
        add(
            "unrelated series fields",
            False,
            read_rgb(a),
            read_rgb(b),
            None,
            "closeup",
            f"{a.stem} vs {b.stem}",
        )

    head = (
        f"{'set':28s} {'n':>4s} {'ok':>6s} {'med':>7s} {'p90':>7s} {'max':>7s} "
        f"{'bad ok':>6s} {'head med':>8s} {'t med':>6s}"
    )
    print(head)
    print("-" * len(head))
    for name, rs in rows.items():
        print(summarise(name, rs, registrable[name]))
    print(
        "(corner errors in reference px over pairs reported ok; for unrelated sets "
        "'bad ok' counts every pair reported ok)"
    )
    if not args.no_timing:
        for line in timing(2 if args.quick else 3):
            print(line)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            wr = csv.DictWriter(fh, fieldnames=list(next(iter(rows.values()))[0]))
            wr.writeheader()
            for rs in rows.values():
                wr.writerows(rs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
