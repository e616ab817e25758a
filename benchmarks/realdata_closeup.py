"""Close-up segmentation, hair count and scale bar against real annotated photos.

Reads ``../shared/realdata`` (next to the repository; never copied into it) and prints a
table:

- ``tiles/``: Dice of the hair mask vs hand masks (median, mean), and the naive
  black-hat + Otsu baseline;
- ``trichoscopy/``: hair count vs the number of annotated boxes (Spearman rank
  correlation with its bootstrap interval over photos, mean absolute difference, mean
  signed difference), and a naive
  connected-components baseline; per tuft (each mask component holding box centres),
  hairs counted vs boxes, which hairs cut by the frame and unannotated hairs (no box)
  do not confound; the share of the boxes of each class (``undersize``: thin / vellus
  shafts) whose centre lies on a mask component, here and in ``trichoscopy_series/``;
- the px-per-mm read from burned-in scale bars;
- time per 1280x1024 photo and for a 12 MP photo, against OpenCV's JPEG decode time.

Run: ``.venv/bin/python benchmarks/realdata_closeup.py``. Exits 0 with a note when the
real data is absent.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from scipy.stats import spearmanr

# this checkout's package, not whichever one the environment has installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hairtrack.count import count_hairs  # noqa: E402
from hairtrack.overlays import read_scale_bar  # noqa: E402
from hairtrack.segment import segment_closeup  # noqa: E402

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two bool masks (1.0 when both are empty)."""
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else float(2 * (a & b).sum() / s)


def naive_mask(gray: np.ndarray, diameter: int = 15) -> np.ndarray:
    """Baseline: black-hat with a disk, thresholded at Otsu."""
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))
    bh = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, se)
    _, m = cv2.threshold(bh, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return m > 0


def naive_count(rgb: np.ndarray) -> int:
    """Baseline: connected components of the naive mask at quarter size (> 20 px)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    m = naive_mask(small, 25)
    _, _, stats, _ = cv2.connectedComponentsWithStats(m.astype(np.uint8))
    return int((stats[1:, 4] > 20).sum())


def annotated_photos(root: Path) -> Iterator[tuple[Path, Path, np.ndarray]]:
    """The annotated photos of ``root`` in name order: (photo, its boxes' XML, RGB),
    each decoded when reached. A photo without an XML file beside it is left out."""
    for img_path in sorted(root.glob("*.jpg")):
        xml = img_path.with_suffix(".xml")
        if xml.exists():
            yield img_path, xml, cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)


def n_boxes(xml_path: Path) -> int:
    """Number of annotated hair boxes in a Pascal-VOC-like file."""
    return len(re.findall(r"<object>", xml_path.read_text(errors="replace")))


def boxes_xyxy(xml_path: Path) -> np.ndarray:
    """(B, 4) annotated hair boxes as (x0, y0, x1, y1), corners put in order."""
    out = []
    for obj in re.findall(r"<object>(.*?)</object>", xml_path.read_text(errors="replace"), re.S):
        v = []
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            m = re.search(rf"<{tag}>\s*([-0-9.]+)\s*</{tag}>", obj)
            v.append(float(m.group(1)) if m else np.nan)
        out.append([min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3])])
    a = np.asarray(out, float).reshape(-1, 4)
    return a[np.isfinite(a).all(1)]


def box_classes(xml_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Annotated hair boxes, as :func:`boxes_xyxy`, and each one's ``<class>``.

    Returns
    -------
    boxes : (B, 4) ndarray
    classes : (B,) str ndarray
        'premium', 'single', 'undersize' (thin / vellus), 'abnormal' or '' when absent.
    """
    boxes, classes = [], []
    for obj in re.findall(r"<object>(.*?)</object>", xml_path.read_text(errors="replace"), re.S):
        v = []
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            m = re.search(rf"<{tag}>\s*([-0-9.]+)\s*</{tag}>", obj)
            v.append(float(m.group(1)) if m else np.nan)
        if not np.isfinite(v).all():
            continue
        boxes.append([min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3])])
        c = re.search(r"<class>\s*([^<]*?)\s*</class>", obj)
        classes.append(c.group(1) if c else "")
    return np.asarray(boxes, float).reshape(-1, 4), np.asarray(classes, str)


def box_components(
    mask: np.ndarray, boxes: np.ndarray, scale: float
) -> tuple[int, np.ndarray, np.ndarray]:
    """The mask's components and, per box, the component its centre lies on.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Hair mask at the working size.
    boxes : (B, 4) ndarray
        Boxes (x0, y0, x1, y1) in full-size pixels.
    scale : float
        Working size over full size.

    Returns
    -------
    n : int
        Number of component labels (background 0 included).
    comp : (M, N) int32 ndarray
        Component labels (8-connected).
    lab : (B,) int ndarray
        Per box, the component its centre lies on or within 3 working px of (0: none).
    """
    n, comp = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    dist, near = cv2.distanceTransformWithLabels(
        (~mask).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    rr, cc = np.nonzero(mask)
    comp_of = np.zeros(int(near.max()) + 1, int)
    comp_of[near[rr, cc]] = comp[rr, cc]
    lab = np.zeros(len(boxes), int)
    for b, (x0, y0, x1, y1) in enumerate(boxes):
        y = int(np.clip((y0 + y1) / 2 * scale, 0, mask.shape[0] - 1))
        x = int(np.clip((x0 + x1) / 2 * scale, 0, mask.shape[1] - 1))
        if dist[y, x] <= 3:
            lab[b] = comp_of[near[y, x]]
    return n, comp, lab


def tuft_counts(rgb: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hairs counted and boxes centred on each mask component that holds a box centre.

    A per-tuft check that the photo totals cannot give: hairs cut by the frame and
    unannotated hairs (both left without a box) do not enter, only how many hairs the
    counter finds in what the annotators boxed.

    Returns
    -------
    ours, boxed : (C,) float ndarrays
        Per component with a box centre on it (or within 3 working px): hairs counted
        (whole, whatever the frame rule) and boxes.
    """
    seg = segment_closeup(rgb)
    w = seg.shaft_width_px * seg.work_scale if np.isfinite(seg.shaft_width_px) else None
    work = seg.work_mask
    hc = count_hairs(work, shaft_width_px=w)
    n, comp, lab = box_components(work, boxes, seg.work_scale)
    boxed = np.bincount(lab[lab > 0], minlength=n).astype(float)
    ours = np.zeros(n)
    sel = hc.labels > 0
    mult = np.concatenate([[0], hc.multiplicity])
    pairs = np.unique(np.stack([hc.labels[sel], comp[sel]], 1), axis=0)
    for k in np.unique(pairs[:, 0]):  # a stroke belongs to one component
        ours[pairs[pairs[:, 0] == k, 1][0]] += mult[k]
    keep = boxed > 0
    return ours[keep], boxed[keep]


def measure_count(rgb: np.ndarray, count_border: str = "half") -> tuple[int, float]:
    """Segment and count one close-up; returns (count, median width in input px)."""
    seg = segment_closeup(rgb)
    w = seg.shaft_width_px * seg.work_scale if np.isfinite(seg.shaft_width_px) else None
    hc = count_hairs(
        seg.work_mask, shaft_width_px=w, pixel_size=1.0 / seg.work_scale, count_border=count_border
    )
    width = float(np.median(hc.widths_px)) if hc.count else float("nan")
    return hc.count, width


def count_all_borders(rgb: np.ndarray) -> dict[str, int]:
    """Counts of one close-up under each convention for hairs cut off by the frame."""
    seg = segment_closeup(rgb)
    w = seg.shaft_width_px * seg.work_scale if np.isfinite(seg.shaft_width_px) else None
    return {
        b: count_hairs(seg.work_mask, shaft_width_px=w, count_border=b).count
        for b in ("half", "exclude", "include")
    }


def bench_tiles(root: Path) -> None:
    """Dice on the 128x128 tiles."""
    ours, base = [], []
    for img_path in sorted(root.glob("[0-9]*.jpg")):
        if img_path.stem.endswith("_mask"):
            continue
        gt_path = img_path.with_name(img_path.stem + "_mask.jpg")
        if not gt_path.exists():
            continue
        gray = cv2.imread(str(img_path), cv2.IMREAD_GRAYSCALE)
        gt = cv2.imread(str(gt_path), cv2.IMREAD_GRAYSCALE) < 128
        ours.append(dice(segment_closeup(gray).mask, gt))
        base.append(dice(naive_mask(gray), gt))
    print(f"tiles ({len(ours)})")
    print(f"  {'':28s}{'median':>8s}{'mean':>8s}")
    print(f"  {'Dice, hairtrack':28s}{np.median(ours):8.3f}{np.mean(ours):8.3f}")
    print(f"  {'Dice, black-hat + Otsu':28s}{np.median(base):8.3f}{np.mean(base):8.3f}")


def bench_counts(root: Path) -> None:
    """Hair count vs annotated boxes, and time per photo."""
    truth, base, widths, times, decode = [], [], [], [], []
    t_ours, t_boxed = [], []
    ours: dict[str, list[int]] = {"half": [], "exclude": [], "include": []}
    for img_path in sorted(root.glob("*.jpg")):
        xml = img_path.with_suffix(".xml")
        if not xml.exists():
            continue
        t0 = time.perf_counter()
        bgr = cv2.imread(str(img_path))
        t1 = time.perf_counter()
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        _, w = measure_count(rgb)
        t2 = time.perf_counter()
        decode.append(t1 - t0)
        times.append(t2 - t1)
        widths.append(w)
        for b, n in count_all_borders(rgb).items():
            ours[b].append(n)
        truth.append(n_boxes(xml))
        base.append(naive_count(rgb))
        o, b = tuft_counts(rgb, boxes_xyxy(xml))
        t_ours.append(o)
        t_boxed.append(b)
    truth_a = np.asarray(truth, float)
    print(f"\ntrichoscopy ({len(truth_a)} photos, {truth_a.mean():.1f} boxes per photo)")
    print(f"  {'':36s}{'Spearman':>9s}{'MAD':>7s}{'mean diff':>11s}")
    rows = [(f"count, hairtrack (edge hairs {b})", ours[b]) for b in ours]
    rows.append(("count, naive components", base))
    for name, v in rows:
        v = np.asarray(v, float)
        rho = spearmanr(v, truth_a)[0]
        print(
            f"  {name:36s}{rho:9.3f}{np.mean(np.abs(v - truth_a)):7.2f}"
            f"{np.mean(v - truth_a):+11.2f}"
        )
    # 40 photos with box counts of 7-20 leave the rank correlation loose: its spread
    # over photos resampled with replacement, to read a change against
    v = np.asarray(ours["half"], float)
    idx = np.random.default_rng(0).integers(0, len(v), (2000, len(v)))
    boot = np.array([spearmanr(v[i], truth_a[i])[0] for i in idx])
    lo, hi = np.nanquantile(boot, [0.025, 0.975])
    print(f"  Spearman (edge hairs half), 95 % bootstrap interval over photos: {lo:.2f}-{hi:.2f}")
    o, b = np.concatenate(t_ours), np.concatenate(t_boxed)
    multi = b >= 2
    print(
        f"  per tuft (mask component with box centres, {len(b)}; frame-cut and unboxed hairs"
        f" left out): |count - boxes| summed {np.abs(o - b).sum():.0f}, equal in"
        f" {np.mean(o == b):.0%}; tufts of >= 2 boxes ({multi.sum()}): count / boxes"
        f" {o[multi].sum() / max(b[multi].sum(), 1):.2f}; 1-box tufts counted as more:"
        f" {np.mean(o[~multi] > 1):.1%}"
    )
    print(f"  median shaft width: {np.nanmedian(widths):.1f} px")
    print(
        f"  time per 1280x1024 photo (segment + count): {np.median(times) * 1e3:.0f} ms median "
        f"(JPEG decode {np.median(decode) * 1e3:.1f} ms, ratio "
        f"{np.median(times) / np.median(decode):.1f}x)"
    )


def bench_box_recall(roots: list[Path]) -> None:
    """Share of the hand boxes of each class whose centre lies on a mask component.

    The class 'undersize' (thin / vellus shafts) measures thin-hair recall on real
    photos; hairs without a box (incomplete annotation) do not enter.
    """
    for root in roots:
        found: dict[str, list[bool]] = {}
        for _, xml, rgb in annotated_photos(root):
            boxes, classes = box_classes(xml)
            seg = segment_closeup(rgb)
            _, _, lab = box_components(seg.work_mask, boxes, seg.work_scale)
            for c, on in zip(classes, lab > 0, strict=True):
                found.setdefault(c, []).append(bool(on))
        if found:
            print(
                f"  boxes on a mask component, {root.name}: "
                + ", ".join(f"{c} {sum(v)}/{len(v)}" for c, v in sorted(found.items()))
            )


def bench_12mp(root: Path) -> None:
    """Time on a 12 MP photo (a real close-up enlarged to 4000x3000) vs its decode."""
    img_path = next(iter(sorted(root.glob("*.jpg"))), None)
    if img_path is None:
        return
    big = cv2.resize(cv2.imread(str(img_path)), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    ok, buf = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])
    dec, run = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        measure_count(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        t2 = time.perf_counter()
        dec.append(t1 - t0)
        run.append(t2 - t1)
    print(
        f"  time per 12 MP photo (segment + count): {min(run) * 1e3:.0f} ms (JPEG decode "
        f"{min(dec) * 1e3:.0f} ms, ratio {min(run) / min(dec):.1f}x)"
    )


def bench_scale_bars(roots: list[Path]) -> None:
    """Scale-bar readings over all close-ups."""
    reads = []
    n = 0
    for root in roots:
        for img_path in sorted(root.rglob("*.jpg")):
            n += 1
            rgb = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
            v = read_scale_bar(rgb)
            if v is not None:
                reads.append((img_path.name, v))
    print(f"\nscale bar (1.0 mm): read in {len(reads)} of {n} photos")
    if reads:
        vals = np.array([v for _, v in reads])
        print(
            f"  px per mm: median {np.median(vals):.0f}, min {vals.min():.0f}, max {vals.max():.0f}"
        )
        for name, v in reads:
            print(f"    {name:28s}{v:7.0f}")


def main() -> int:
    """Run every benchmark whose data is present."""
    if not REALDATA.is_dir():
        print(f"real data not found at {REALDATA}; nothing to benchmark")
        return 0
    if (REALDATA / "tiles").is_dir():
        bench_tiles(REALDATA / "tiles")
    if (REALDATA / "trichoscopy").is_dir():
        bench_counts(REALDATA / "trichoscopy")
        series = sorted(p for p in (REALDATA / "trichoscopy_series").glob("*") if p.is_dir())
        bench_box_recall([REALDATA / "trichoscopy", *series])
        bench_12mp(REALDATA / "trichoscopy")
    roots = [REALDATA / d for d in ("trichoscopy", "trichoscopy_series")]
    bench_scale_bars([r for r in roots if r.is_dir()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
