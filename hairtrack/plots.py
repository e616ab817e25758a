"""Pictures of results: they take results and never recompute them.

Image overlays are drawn with OpenCV into RGB arrays (the caller writes them, without
metadata, via :func:`hairtrack.load.save_png`); charts use matplotlib, imported inside
the functions that need it.
"""

from __future__ import annotations

import io

import cv2
import numpy as np

from hairtrack.compare import Comparison
from hairtrack.measure import Measurement

#: Tint of hair pixels on overlays (RGB): a cyan that stands out on skin and on hair.
HAIR_TINT = (0, 220, 255)
#: Outline of the measured region (RGB).
REGION_COLOUR = (255, 200, 0)


def hair_overlay(
    rgb: np.ndarray,
    measurement: Measurement,
    *,
    alpha: float = 0.55,
    numbers: bool = True,
    max_side: int = 2000,
) -> np.ndarray:
    """The photo with hair tinted, the region outlined and, on close-ups, hairs numbered.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
        The photo that was measured.
    measurement : Measurement
        Its measurement (masks at the photo's size).
    alpha : float
        Opacity of the tint.
    numbers : bool
        Number each counted hair (close-ups).
    max_side : int
        The picture is shrunk to this longer side, px, so that numbers stay readable.

    Returns
    -------
    (m, n, 3) uint8 ndarray
    """
    if measurement.hair_mask is None or measurement.hair_mask.shape != rgb.shape[:2]:
        raise ValueError("the measurement's masks do not match this photo's size")
    h, w = rgb.shape[:2]
    s = min(1.0, max_side / max(h, w))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    img = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if s < 1 else rgb.copy()
    hair = measurement.hair_mask.astype(np.uint8)
    region = measurement.region_mask.astype(np.uint8)
    if s < 1:
        hair = cv2.resize(hair, size, interpolation=cv2.INTER_NEAREST)
        region = cv2.resize(region, size, interpolation=cv2.INTER_NEAREST)
    tint = np.asarray(HAIR_TINT, np.float32)
    sel = hair.astype(bool)
    out = img.astype(np.float32)
    out[sel] = out[sel] * (1 - alpha) + tint * alpha
    out = np.clip(out, 0, 255).astype(np.uint8)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, REGION_COLOUR, max(1, round(2 * max(size) / 1000)))
    if numbers and measurement.hair_count and len(measurement.hair_xy):
        scale = max(0.35, max(size) / 2600)
        for i, (x, y) in enumerate(measurement.hair_xy * s, start=1):
            org = (int(x) + 3, int(y) - 3)
            cv2.putText(
                out, str(i), org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA
            )
            cv2.putText(
                out, str(i), org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
            )
    return out


def aligned_pair(
    before: np.ndarray,
    after: np.ndarray,
    comparison: Comparison,
    *,
    max_side: int = 1200,
) -> tuple[np.ndarray, np.ndarray]:
    """BEFORE and AFTER, AFTER resampled into BEFORE's frame when the pair is registered.

    Parameters
    ----------
    before, after : uint8 RGB ndarray
        The compared photos.
    comparison : Comparison
        Their comparison.
    max_side : int
        Longer side of the returned pictures, px.

    Returns
    -------
    before_view, after_view : (m, n, 3) uint8 ndarray
        Hair tinted on both (the hair each measurement counted, over the common region
        outlined). Unregistered pairs are shown side by side as they are.
    """
    from hairtrack.align import warp_to_reference

    b = hair_overlay(before, comparison.before, numbers=False, max_side=max_side)
    a = hair_overlay(after, comparison.after, numbers=False, max_side=10**6)
    if comparison.alignment.ok:
        a = warp_to_reference(a, comparison.alignment, before.shape)
        a = cv2.resize(a, b.shape[1::-1], interpolation=cv2.INTER_AREA)
    else:
        s = b.shape[0] / a.shape[0]
        a = cv2.resize(a, (max(1, round(a.shape[1] * s)), b.shape[0]), interpolation=cv2.INTER_AREA)
    return b, a


def side_by_side(left: np.ndarray, right: np.ndarray, *, gap: int = 8) -> np.ndarray:
    """Two pictures of equal height next to each other on white."""
    h = max(left.shape[0], right.shape[0])
    pad = [np.full((h, gap, 3), 255, np.uint8)]

    def fit(x: np.ndarray) -> np.ndarray:
        return np.vstack([x, np.full((h - x.shape[0], x.shape[1], 3), 255, np.uint8)])

    return np.hstack([fit(left), *pad, fit(right)])


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of a picture, with no metadata (charts).

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray

    Returns
    -------
    bytes
    """
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG")
    return buf.getvalue()


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of a picture (photographs), with no EXIF, no GPS and no comment.

    Parameters
    ----------
    rgb : (M, N, 3) uint8 ndarray
    quality : int
        JPEG quality, 1-95.

    Returns
    -------
    bytes
    """
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def comparison_pictures(
    before: np.ndarray,
    after: np.ndarray,
    comparison: Comparison,
    *,
    max_side: int = 900,
    quality: int = 90,
) -> dict[str, bytes]:
    """The report's pictures of a comparison, as JPEG bytes.

    Parameters
    ----------
    before, after : uint8 RGB ndarray
        The compared photos.
    comparison : Comparison
        Their comparison.
    max_side : int
        Longer side of each photo in the pictures, px.
    quality : int
        JPEG quality.

    Returns
    -------
    dict
        ``pair``: the aligned pair side by side (:func:`aligned_pair`); ``change_map``:
        :func:`change_map`.
    """
    b, a = aligned_pair(before, after, comparison, max_side=max_side)
    return {
        "pair": encode_jpeg(side_by_side(b, a), quality),
        "change_map": encode_jpeg(change_map(before, comparison, max_side=max_side), quality),
    }


def change_map(before: np.ndarray, comparison: Comparison, *, max_side: int = 1200) -> np.ndarray:
    """Where hair was gained (green) or lost (magenta), block by block, on the BEFORE photo.

    A block's colour strength is its coverage change in percentage points (full strength
    at 20 pp); blocks with less than 1 pp change are left clear.

    Parameters
    ----------
    before : (M, N, 3) uint8 ndarray
    comparison : Comparison
        A paired comparison (with blocks).
    max_side : int

    Returns
    -------
    (m, n, 3) uint8 ndarray
    """
    h, w = before.shape[:2]
    s = min(1.0, max_side / max(h, w))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    base = cv2.resize(before, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    grey = base.mean(axis=2, keepdims=True) * np.ones(3, np.float32)
    out = 0.6 * grey + 0.4 * base
    b = comparison.blocks
    if b is None or not comparison.alignment.ok or len(b.region_px) == 0:
        return np.clip(out, 0, 255).astype(np.uint8)
    delta = 100.0 * (b.after_px - b.before_px) / np.maximum(b.region_px, 1)
    gain, loss = np.array([40, 200, 80], np.float32), np.array([220, 40, 180], np.float32)
    for (x, y), d in zip(b.origin, delta, strict=True):
        if abs(d) < 1.0:
            continue
        x0, y0 = int(x * s), int(y * s)
        x1, y1 = int((x + b.size) * s), int((y + b.size) * s)
        a = min(1.0, abs(d) / 20.0) * 0.6
        tile = out[y0:y1, x0:x1]
        tile[:] = tile * (1 - a) + (gain if d > 0 else loss) * a
    out = np.clip(out, 0, 255).astype(np.uint8)
    for x, y in b.origin:
        x0, y0 = int(x * s), int(y * s)
        cv2.rectangle(
            out, (x0, y0), (int((x + b.size) * s), int((y + b.size) * s)), (255, 255, 255), 1
        )
    return out


def blink_gif(first: np.ndarray, second: np.ndarray, *, ms: int = 700) -> bytes:
    """An animated GIF that blinks between two pictures of the same size (no metadata).

    Parameters
    ----------
    first, second : (M, N, 3) uint8 ndarray
    ms : int
        How long each picture shows, milliseconds.

    Returns
    -------
    bytes
        The GIF file.
    """
    import io

    from PIL import Image

    frames = [Image.fromarray(first), Image.fromarray(second)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()


# ---- charts of a patient's sessions (the report) ------------------------------------

#: Marker colour and shape of each verdict on the report's charts.
VERDICT_STYLE = {
    "baseline": ("#333333", "s"),
    "gain": ("#1a9850", "^"),
    "loss": ("#c51b7d", "v"),
    "no detectable change": ("#7f7f7f", "o"),
    "unreliable": ("#e08214", "x"),
}


def _new_figure(figsize: tuple[float, float], dpi: int):
    """A matplotlib figure on the Agg canvas (no pyplot, no display, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _figure_rgb(fig) -> np.ndarray:
    """A matplotlib figure as an RGB array (the caller writes it without metadata)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def series_chart(series, *, title: str = "", dpi: int = 100) -> np.ndarray:
    """A view's sessions over time: coverage change vs baseline and coverage itself.

    The top panel shows the change vs the baseline (%) at each session with its 95 %
    interval (band and bars), a marker per verdict, the minimal detectable change (dashed)
    and the trend line; the lower panel(s) show each session's own coverage (and hairs per
    cm2 on close-ups) with their standard error when the session has several fields.

    Parameters
    ----------
    series : hairtrack.series.ViewSeries
        The results; nothing is recomputed.
    title : str
        Shown above the chart (e.g. the patient's name or pseudonym and the view).
    dpi : int

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):  # names may hold '$'
        return _series_chart(series, title=title, dpi=dpi)


def _series_chart(series, *, title: str, dpi: int) -> np.ndarray:
    from datetime import date, timedelta

    sessions = series.sessions
    d0 = sessions[0].date

    def x_of(s):
        if s.date is not None:
            return s.date
        base = d0 or date(2000, 1, 1)
        return base + timedelta(days=30 * (s.number - 1))

    xs = [x_of(s) for s in sessions]
    density = series.kind == "closeup" and any(s.hair_per_cm2 is not None for s in sessions)
    n = 3 if density else 2
    fig = _new_figure((7.2, 2.3 * n + 0.6), dpi)
    axes = fig.subplots(n, 1, sharex=True)
    ax = axes[0]
    ys, lo, hi, vx = [0.0], [0.0], [0.0], [xs[0]]
    for s, x in zip(sessions[1:], xs[1:], strict=True):
        c = s.vs_baseline
        if c is None or c.coverage_pct is None or c.verdict == "unreliable":
            continue  # the band joins registered sessions only
        vx.append(x)
        ys.append(c.coverage_pct)
        ci = c.coverage_pct_ci or (c.coverage_pct, c.coverage_pct)
        lo.append(ci[0])
        hi.append(ci[1])
    ax.fill_between(vx, lo, hi, color="#4575b4", alpha=0.15, lw=0, label="95 % interval")
    ax.plot(vx, ys, color="#4575b4", lw=1)
    ax.axhline(0, color="black", lw=0.8)
    for m in (series.mdc_pct, -series.mdc_pct):
        ax.axhline(m, color="#999999", lw=0.8, ls="--")
    ax.text(xs[0], series.mdc_pct, " detectable change", va="bottom", fontsize=7, color="#777")
    seen = set()
    for s, x in zip(sessions, xs, strict=True):
        if s.number == 1:
            verdict, y, e = "baseline", 0.0, None
        elif s.vs_baseline is None or s.vs_baseline.coverage_pct is None:
            continue
        else:
            c = s.vs_baseline
            verdict, y = c.verdict, c.coverage_pct
            e = None if c.coverage_pct_ci is None else c.coverage_pct_ci
        colour, marker = VERDICT_STYLE.get(verdict, ("black", "o"))
        if e is not None:
            ax.plot([x, x], e, color=colour, lw=1.2)
        ax.scatter(
            [x],
            [y],
            color=colour,
            marker=marker,
            s=46,
            zorder=3,
            label=None if verdict in seen else verdict,
        )
        seen.add(verdict)
    t = series.trend
    if t.slope_pct_per_month is not None and d0 is not None:
        end = xs[-1]
        months = (end - xs[0]).days / 30.4375
        ax.plot(
            [xs[0], end],
            [0, t.slope_pct_per_month * months],
            color="black",
            lw=1,
            ls=":",
            label=f"trend {t.slope_pct_per_month:+.1f} %/month",
        )
    ax.set_ylabel("coverage change\nvs baseline, %")
    ax.legend(fontsize=7, loc="best", framealpha=0.8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    cov = [None if s.coverage is None else 100 * s.coverage for s in sessions]
    err = [0 if s.coverage_se is None else 100 * s.coverage_se for s in sessions]
    ax.errorbar(
        xs,
        [np.nan if c is None else c for c in cov],
        yerr=err,
        fmt="o-",
        color="#4d4d4d",
        ms=4,
        capsize=3,
    )
    ax.set_ylabel("coverage, %\n(photo on its own)")
    ax.grid(alpha=0.3)
    if density:
        ax = axes[2]
        have = [(x, s.hair_per_cm2) for x, s in zip(xs, sessions, strict=True) if s.hair_per_cm2]
        ax.plot([h[0] for h in have], [h[1] for h in have], "o-", color="#4d4d4d", ms=4)
        ax.set_ylabel("hairs per cm²\n(where a scale was read)")
        ax.grid(alpha=0.3)
    if len(set(xs)) == 1:  # one session: a month either side, not matplotlib's years
        axes[-1].set_xlim(xs[0] - timedelta(days=30), xs[0] + timedelta(days=30))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _figure_rgb(fig)


def cohort_chart(rows, *, dpi: int = 100) -> np.ndarray:
    """Each patient's and view's latest change vs baseline, with its interval and verdict.

    Parameters
    ----------
    rows : sequence of (str, SessionChange or None)
        A label (patient and view, as shown in the report) and the latest session's
        change vs the baseline (None: baseline only).
    dpi : int

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):  # names may hold '$'
        return _cohort_chart(rows, dpi=dpi)


def _cohort_chart(rows, *, dpi: int) -> np.ndarray:
    n = max(1, len(rows))
    fig = _new_figure((7.2, 0.9 + 0.34 * n), dpi)
    ax = fig.subplots()
    seen = set()
    for i, (_label, c) in enumerate(rows):
        y = n - 1 - i
        if c is None or c.coverage_pct is None:
            ax.text(0, y, "  baseline only", va="center", fontsize=8, color="#777")
            continue
        colour, marker = VERDICT_STYLE.get(c.verdict, ("black", "o"))
        if c.coverage_pct_ci is not None:
            ax.plot(c.coverage_pct_ci, [y, y], color=colour, lw=2, alpha=0.6)
        ax.scatter(
            [c.coverage_pct],
            [y],
            color=colour,
            marker=marker,
            s=50,
            zorder=3,
            label=None if c.verdict in seen else c.verdict,
        )
        seen.add(c.verdict)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(n))
    ax.set_yticklabels([r[0] for r in rows][::-1] if rows else [""], fontsize=8)
    ax.set_xlabel("coverage change vs baseline at the latest session, % (95 % interval)")
    ax.grid(axis="x", alpha=0.3)
    if seen:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return _figure_rgb(fig)
