"""A patient's sessions over time: the ``series`` stage.

For each patient and view (DESIGN.md, "Patient folders"), every session is compared with
the baseline (the view's first session) and with the session before it
(:func:`hairtrack.compare.compare`), and measured on its own
(:func:`hairtrack.measure.measure`). Several close-up fields of one session
(``closeup-1``, ``closeup-2`` ...) are each compared with the same field of the other
session and then averaged (:func:`combine_fields`). A :class:`Trend` sums a view up: the
slope of the coverage change per month with its 95 % interval (:func:`fit_trend`) and an
overall call (improving / stable / declining / unreliable) read from the verdicts.

The pure parts (:func:`combine_fields`, :func:`fit_trend`, :func:`patient_call`) work on
numbers; :func:`analyse_patients` is an edge: it loads the photos (in worker processes
when asked) and returns a :class:`Cohort`.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import logging
import math
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from hairtrack.compare import verdict_of
from hairtrack.config import Params
from hairtrack.errors import InputError
from hairtrack.scan import Patient, Photo, Scan, Skipped

__all__ = [
    "CALLS",
    "Cohort",
    "PatientSeries",
    "ResultCache",
    "SessionChange",
    "SessionResult",
    "Trend",
    "ViewSeries",
    "Workers",
    "analyse_patients",
    "combine_fields",
    "default_workers",
    "fit_trend",
    "patient_call",
]

log = logging.getLogger("hairtrack")

#: The overall calls of a view or a patient.
CALLS = ("improving", "stable", "declining", "unreliable")
_Z95 = 1.959964
_CALL_OF = {"gain": "improving", "loss": "declining", "no detectable change": "stable"}


def _r(v: float | None, n: int = 3) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), n)


@dataclass(frozen=True)
class SessionChange:
    """How coverage changed between two sessions of one view, fields averaged.

    Attributes
    ----------
    coverage_pct : float or None
        Relative change of coverage, % (mean over the compared fields).
    coverage_pct_ci : (float, float) or None
        Its 95 % interval.
    coverage_pp : float or None
        Change of coverage, percentage points.
    hair_count_pct : float or None
        Relative change of the hair count (close-ups), %.
    verdict : {'gain', 'loss', 'no detectable change', 'unreliable'}
    paired : bool
        Every field used was measured over the same patch of scalp.
    alignment_ok : bool
        Every compared field registered on its counterpart.
    n_fields : int
        Fields compared; ``n_paired`` of them registered.
    n_paired : int
    fields : tuple of dict
        Each field's comparison (``hairtrack compare --json``), with its ``field`` number.
    """

    coverage_pct: float | None
    coverage_pct_ci: tuple[float, float] | None
    coverage_pp: float | None
    hair_count_pct: float | None
    verdict: str
    paired: bool
    alignment_ok: bool
    n_fields: int
    n_paired: int
    fields: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        ci = self.coverage_pct_ci
        return {
            "coverage_pct": _r(self.coverage_pct, 2),
            "coverage_pct_ci": None if ci is None else [_r(ci[0], 2), _r(ci[1], 2)],
            "coverage_pp": _r(self.coverage_pp),
            "hair_count_pct": _r(self.hair_count_pct, 2),
            "verdict": self.verdict,
            "paired": self.paired,
            "alignment_ok": self.alignment_ok,
            "n_fields": self.n_fields,
            "n_paired": self.n_paired,
            "fields": list(self.fields),
        }


def combine_fields(changes: Sequence[dict[str, Any]], *, mdc_pct: float) -> SessionChange:
    """Average the changes of several fields of one session.

    Only the fields registered on their counterpart (``paired``) and whose hair could be
    read (their own verdict is not "unreliable": compare's contrast check) are averaged
    when there are any; a session none of whose fields registered, or none of whose
    registered fields could be read, is "unreliable". The standard
    error of the mean is the larger of the fields' own errors combined
    (``sqrt(sum se_i^2) / k``, with ``se_i`` read from each 95 % interval) and the spread
    between the fields (``sd / sqrt(k)``): fields of one scalp that changed differently
    widen the interval. One field is passed through unchanged.

    Parameters
    ----------
    changes : sequence of dict
        Each field's comparison as ``Comparison.to_dict()`` (``change`` and
        ``alignment`` are read), optionally with a ``field`` number.
    mdc_pct : float
        Minimal detectable change for the verdict, %.

    Returns
    -------
    SessionChange

    Examples
    --------
    >>> a = {"change": {"coverage_pct": 30.0, "coverage_pct_ci": [10.0, 50.0],
    ...                 "coverage_pp": 3.0, "hair_count_pct": 20.0, "paired": True,
    ...                 "verdict": "gain"}, "alignment": {"ok": True}}
    >>> b = {"change": {**a["change"], "coverage_pct": 40.0, "coverage_pct_ci": [20.0, 60.0]},
    ...      "alignment": {"ok": True}}
    >>> s = combine_fields([a, b], mdc_pct=25.0)
    >>> s.coverage_pct, s.verdict, s.n_fields
    (35.0, 'gain', 2)
    """
    if not changes:
        raise ValueError("no field to combine")
    ch = [c["change"] for c in changes]
    ok = [bool(c["alignment"]["ok"]) for c in changes]
    paired_idx = [i for i, c in enumerate(ch) if c["paired"] and c["coverage_pct_ci"]]
    # a paired field whose own verdict is "unreliable" had hair too faint to read
    # (compare's contrast check): it does not carry the session's figure either
    readable_idx = [i for i in paired_idx if ch[i]["verdict"] != "unreliable"]
    use = readable_idx or paired_idx or list(range(len(ch)))
    paired = bool(paired_idx)
    if len(changes) == 1:
        c = ch[0]
        ci = c["coverage_pct_ci"]
        return SessionChange(
            c["coverage_pct"],
            None if ci is None else (ci[0], ci[1]),
            c["coverage_pp"],
            c.get("hair_count_pct"),
            c["verdict"],
            bool(c["paired"]),
            ok[0],
            1,
            int(bool(c["paired"])),
            tuple(changes),
        )

    def mean(key: str) -> float | None:
        vals = [ch[i][key] for i in use if ch[i].get(key) is not None]
        return float(np.mean(vals)) if vals else None

    pct = mean("coverage_pct")
    cis = [ch[i]["coverage_pct_ci"] for i in use if ch[i]["coverage_pct_ci"] is not None]
    ci = None
    if pct is not None and cis:
        se_i = np.array([(hi - lo) / (2 * _Z95) for lo, hi in cis])
        k = len(se_i)
        se = float(np.sqrt(np.sum(se_i**2)) / k)
        pcts = [ch[i]["coverage_pct"] for i in use if ch[i]["coverage_pct"] is not None]
        if len(pcts) >= 2:
            se = max(se, float(np.std(pcts, ddof=1) / np.sqrt(len(pcts))))
        ci = (pct - _Z95 * se, pct + _Z95 * se)
    verdict = verdict_of(pct, ci, paired=paired, mdc_pct=mdc_pct, readable=bool(readable_idx))
    return SessionChange(
        pct,
        ci,
        mean("coverage_pp"),
        mean("hair_count_pct"),
        verdict,
        paired,
        all(ok),
        len(changes),
        len(paired_idx),
        tuple(changes),
    )


@dataclass(frozen=True)
class Trend:
    """A view's change over its sessions.

    Attributes
    ----------
    n_sessions : int
        Sessions, the baseline included.
    n_reliable : int
        Follow-up sessions registered on the baseline.
    slope_pct_per_month : float or None
        Coverage change vs baseline per month, % of the baseline coverage: a weighted
        least-squares line through the baseline (0 % at day 0) and the registered
        sessions, each weighted by its interval.
    slope_ci : (float, float) or None
        95 % interval of the slope, widened when the sessions scatter more about the line
        than their intervals say.
    call : {'improving', 'stable', 'declining', 'unreliable'} or None
        None with a single session (baseline only).
    basis : str
        What the call rests on, in words.
    """

    n_sessions: int
    n_reliable: int
    slope_pct_per_month: float | None
    slope_ci: tuple[float, float] | None
    call: str | None
    basis: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        ci = self.slope_ci
        return {
            "n_sessions": self.n_sessions,
            "n_reliable": self.n_reliable,
            "slope_pct_per_month": _r(self.slope_pct_per_month, 2),
            "slope_ci": None if ci is None else [_r(ci[0], 2), _r(ci[1], 2)],
            "call": self.call,
            "basis": self.basis,
        }


def fit_trend(
    days: Sequence[float],
    pct: Sequence[float | None],
    ci: Sequence[tuple[float, float] | None],
    verdicts: Sequence[str],
    *,
    mdc_pct: float | None = None,
    baseline_sd_pct: float = 0.0,
    min_reliable_share: float = 0.5,
    days_per_month: float = 30.4375,
) -> Trend:
    """The trend of a view from its follow-up sessions' changes vs the baseline.

    The slope is a generalised least-squares line through the baseline (0 % at day 0)
    and the registered sessions: each session's error is read from its interval, and
    ``baseline_sd_pct`` of it is shared by every session (they are all compared with
    the same baseline photo, so its own error moves them together). Its interval is
    widened when the sessions scatter more about the line than their errors say.

    The call is read from the verdicts first: the latest registered session's verdict
    against the baseline says improving (gain) or declining (loss). When it says "no
    detectable change", the sessions together can still show a change: the call is
    improving / declining when the slope's interval excludes zero and the line's change
    at the latest registered session reaches the minimal detectable change ``mdc_pct``;
    otherwise stable. It is "unreliable" when fewer than ``min_reliable_share`` of the
    follow-up sessions registered, or when the slope's interval lies wholly on the other
    side of zero from a gain or loss verdict.

    Parameters
    ----------
    days : sequence of float
        Days from the baseline to each follow-up session (the baseline itself left out).
    pct : sequence of float or None
        Coverage change vs the baseline, %.
    ci : sequence of (float, float) or None
        Its 95 % intervals.
    verdicts : sequence of str
        The verdicts vs the baseline.
    mdc_pct : float, optional
        Minimal detectable change, %; without it the trend alone never makes a call.
    baseline_sd_pct : float
        Standard deviation, %, of the error all sessions share through the baseline.
    min_reliable_share : float
    days_per_month : float

    Returns
    -------
    Trend

    Examples
    --------
    >>> t = fit_trend([30, 60, 90], [10.0, 22.0, 29.0], [(-10, 30), (2, 42), (9, 49)],
    ...               ["no detectable change", "no detectable change", "gain"])
    >>> t.call, round(t.slope_pct_per_month, 1)
    ('improving', 10.2)
    """
    n = len(verdicts)
    if n == 0:
        return Trend(1, 0, None, None, None, "one session: the baseline, nothing to compare yet")
    rel = [
        i
        for i in range(n)
        if verdicts[i] != "unreliable" and pct[i] is not None and ci[i] is not None
    ]
    slope = slope_ci = None
    months = [d / days_per_month for d in days]
    pts = [i for i in rel if months[i] > 0]
    if pts:
        t = np.array([months[i] for i in pts])
        y = np.array([pct[i] for i in pts], float)
        se = np.array([(ci[i][1] - ci[i][0]) / (2 * _Z95) for i in pts], float)
        shared = min(baseline_sd_pct**2, 0.9 * float(np.min(se**2)))
        cov = shared + np.diag(np.maximum(se**2 - shared, 1e-6))
        inv = np.linalg.inv(cov)
        var = 1.0 / float(t @ inv @ t)
        slope = var * float(t @ inv @ y)
        se_b = math.sqrt(var)
        q = _Z95
        if len(pts) >= 2:
            res = y - slope * t
            red = float(res @ inv @ res) / (len(pts) - 1)
            if red > 1.0:
                from scipy.stats import t as student

                se_b *= math.sqrt(red)
                q = float(student.ppf(0.975, len(pts) - 1))
        slope_ci = (slope - q * se_b, slope + q * se_b)
    n_rel = len(rel)
    if n_rel == 0:
        return Trend(
            n + 1, 0, slope, slope_ci, "unreliable", "no session registered on the baseline"
        )
    if n_rel < min_reliable_share * n:
        return Trend(
            n + 1,
            n_rel,
            slope,
            slope_ci,
            "unreliable",
            f"only {n_rel} of {n} sessions registered on the baseline",
        )
    last = rel[-1]
    call = _CALL_OF[verdicts[last]]
    basis = (
        f"session {last + 2} vs baseline: {verdicts[last]}"
        f" ({pct[last]:+.1f} %, 95 % interval {ci[last][0]:+.1f} to {ci[last][1]:+.1f} %)"
    )
    if slope_ci is not None and (
        (call == "improving" and slope_ci[1] < 0) or (call == "declining" and slope_ci[0] > 0)
    ):
        call = "unreliable"
        basis += "; the trend over all sessions points the other way"
    elif call == "stable" and slope is not None and slope_ci is not None and mdc_pct:
        fitted = slope * months[last]
        if (slope_ci[0] > 0 or slope_ci[1] < 0) and abs(fitted) >= mdc_pct:
            call = "improving" if slope > 0 else "declining"
            basis += (
                f"; but the trend over {len(pts)} registered sessions,"
                f" {slope:+.1f} % per month (95 % interval {slope_ci[0]:+.1f} to"
                f" {slope_ci[1]:+.1f}), reaches {fitted:+.1f} % by session {last + 2},"
                f" beyond the {mdc_pct:.0f} % a re-shoot can give"
            )
    return Trend(n + 1, n_rel, slope, slope_ci, call, basis)


def patient_call(calls: Sequence[str | None]) -> str | None:
    """One call for a patient from the calls of their views.

    Views without a call (baseline only) and "unreliable" views are left out; views that
    disagree (one improving, one declining) make the patient "unreliable"; otherwise a
    view that changed wins over a stable one (a stable view did not detect a change, it
    did not rule one out).

    Parameters
    ----------
    calls : sequence of str or None

    Returns
    -------
    str or None
        None when no view has a call.

    Examples
    --------
    >>> patient_call(["improving", "unreliable"]), patient_call(["improving", "declining"])
    ('improving', 'unreliable')
    """
    have = [c for c in calls if c is not None]
    if not have:
        return None
    sure = [c for c in have if c != "unreliable"]
    if not sure:
        return "unreliable"
    if "improving" in sure and "declining" in sure:
        return "unreliable"
    for c in ("improving", "declining"):
        if c in sure:
            return c
    return "stable"


# ---- results ----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionResult:
    """One session of one view: its photos measured, and its changes.

    Attributes
    ----------
    number : int
        1 for the baseline, in time order.
    date : datetime.date or None
    paths : tuple of str
        The session's photos (one per field).
    fields : tuple of int
    measurements : tuple of dict
        Each photo measured on its own (``hairtrack measure --json``).
    coverage, coverage_se : float or None
        Mean coverage (0-1) of the fields and its standard error (several fields).
    hair_count, hair_per_cm2 : float or None
        Means over the fields (close-ups).
    vs_baseline, vs_previous : SessionChange or None
        None for the baseline (and ``vs_previous`` for the session after it equals
        ``vs_baseline``).
    warnings : tuple of str
    """

    number: int
    date: date | None
    paths: tuple[str, ...]
    fields: tuple[int, ...]
    measurements: tuple[dict[str, Any], ...]
    coverage: float | None
    coverage_se: float | None
    hair_count: float | None
    hair_per_cm2: float | None
    vs_baseline: SessionChange | None = None
    vs_previous: SessionChange | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "session": self.number,
            "date": None if self.date is None else self.date.isoformat(),
            "paths": list(self.paths),
            "fields": list(self.fields),
            "coverage": _r(self.coverage, 6),
            "coverage_se": _r(self.coverage_se, 6),
            "hair_count": _r(self.hair_count, 2),
            "hair_per_cm2": _r(self.hair_per_cm2, 2),
            "vs_baseline": None if self.vs_baseline is None else self.vs_baseline.to_dict(),
            "vs_previous": None if self.vs_previous is None else self.vs_previous.to_dict(),
            "measurements": list(self.measurements),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ViewSeries:
    """A patient's sessions of one view.

    Attributes
    ----------
    patient : str
    view : str
        The view's name (file stem), e.g. 'crown', 'closeup'.
    kind : {'closeup', 'global'}
        Decided on the baseline photo, and used for every session.
    sessions : tuple of SessionResult
    trend : Trend
    mdc_pct : float
        Minimal detectable change of this kind of photo, %.
    pictures : dict of str to bytes
        The pictures of the latest session's first field against the baseline's
        (:func:`hairtrack.plots.comparison_pictures`: ``pair`` and ``change_map``, JPEG
        bytes, types in ``CACHED_PICTURES``), drawn where that comparison was computed;
        empty with a single session.
    """

    patient: str
    view: str
    kind: str
    sessions: tuple[SessionResult, ...]
    trend: Trend
    mdc_pct: float
    pictures: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "patient": self.patient,
            "view": self.view,
            "kind": self.kind,
            "mdc_pct": self.mdc_pct,
            "trend": self.trend.to_dict(),
            "sessions": [s.to_dict() for s in self.sessions],
        }


@dataclass(frozen=True)
class PatientSeries:
    """A patient's views and the overall call."""

    name: str
    views: tuple[ViewSeries, ...]
    call: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "patient": self.name,
            "call": self.call,
            "views": [v.to_dict() for v in self.views],
        }


@dataclass(frozen=True)
class Cohort:
    """Every patient's series, and the inputs that were not used."""

    patients: tuple[PatientSeries, ...]
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]


# ---- the edge: load, measure, compare -------------------------------------------------


def _measure_job(path: str, view: str, params: Params) -> dict[str, Any]:
    from hairtrack.load import load_image
    from hairtrack.measure import measure

    img = load_image(path, **dataclasses.asdict(params.load))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notes travel in the result
        return measure(img.rgb, view=view, params=params, path=path).to_dict()


@dataclass(frozen=True)
class _Kept:
    """A comparison's result with the pictures drawn of it (a view's latest session)."""

    result: dict[str, Any]
    pictures: dict[str, bytes]


#: BEFORE photos this process read for its last comparisons, newest last: key ->
#: [loaded photo, its :class:`hairtrack.compare.Baseline` or None until read]
_BASELINES: collections.OrderedDict[tuple[Any, ...], list[Any]] = collections.OrderedDict()


def _baseline_entry(path: str, view: str, params: Params) -> list[Any]:
    """This process's entry for BEFORE photo ``path`` (read again when its file
    changed); the newest ``series.baseline_cache`` entries are kept."""
    from hairtrack.load import load_image

    st = os.stat(path)
    key = (os.path.abspath(path), st.st_mtime_ns, st.st_size, view, params)
    entry = _BASELINES.get(key)
    if entry is not None:
        _BASELINES.move_to_end(key)
        return entry
    entry = [load_image(path, **dataclasses.asdict(params.load)), None]
    if params.series.baseline_cache > 0:
        _BASELINES[key] = entry
        while len(_BASELINES) > params.series.baseline_cache:
            _BASELINES.popitem(last=False)
    return entry


def _compare_job(
    before: str, after: str, view: str, params: Params, keep: bool
) -> _Kept | dict[str, Any]:
    from hairtrack.compare import compare, read_baseline
    from hairtrack.load import load_image

    # a baseline is compared with every later session: what it gives alone is kept
    entry = _baseline_entry(before, view, params)
    b = entry[0]
    a = load_image(after, **dataclasses.asdict(params.load))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if entry[1] is None:
            entry[1] = read_baseline(b.rgb, view=view, params=params)
        c = compare(
            b.rgb,
            a.rgb,
            view=view,
            params=params,
            before_path=before,
            after_path=after,
            baseline=entry[1],
        )
    if not keep:
        return c.to_dict()
    # drawn here, in the worker that holds the photos and the masks: the main process
    # neither reloads the photos nor receives the masks
    from hairtrack.plots import comparison_pictures

    pictures = comparison_pictures(
        b.rgb,
        a.rgb,
        c,
        max_side=params.series.picture_side,
        quality=params.series.picture_jpeg_quality,
    )
    return _Kept(c.to_dict(), pictures)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, InputError):
        return exc.reason
    if isinstance(exc, ValueError):
        return f"could not be measured: {exc}"
    return f"could not be analysed: {type(exc).__name__}: {exc}"


def default_workers(params: Params | None = None) -> int:
    """Worker processes to use when none are asked for: one per core this process may
    run on, at most ``params.series.max_default_workers``.

    Parameters
    ----------
    params : Params, optional

    Returns
    -------
    int
    """
    params = params or Params()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, params.series.max_default_workers))


def _one_thread() -> Any:
    """Keep a worker process to one core: OpenCV and numpy's BLAS would otherwise each
    start a thread per core in every worker (BLAS threads also spin between calls), and N
    workers would compete for the cores with N x cores threads.

    Returns the BLAS limiter, whose ``restore_original_limits()`` undoes its part."""
    import cv2
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(1)
    return threadpool_limits(limits=1, user_api="blas")


class Workers:
    """Runs jobs inline or in worker processes, and reports progress.

    A context manager: the processes start on entry and stop on exit (jobs not yet
    started are cancelled, e.g. on Ctrl-C). Each worker, and the inline run, keeps to one
    core (OpenCV's and BLAS's own threads are turned off while it runs), so that N
    workers use N cores: the parallelism is the processes'.

    Parameters
    ----------
    workers : int
        Worker processes; 1 runs every job here.
    progress : callable, optional
        Called as ``progress(done, total, what)`` after each job.
    """

    def __init__(self, workers: int, progress: Callable[[int, int, str], None] | None):
        self.workers = max(1, int(workers))
        self.progress = progress
        self.pool: ProcessPoolExecutor | None = None
        self.done = 0
        self.total = 0
        self._threads: int | None = None
        self._blas: Any = None

    def __enter__(self) -> Workers:
        if self.workers > 1:
            import multiprocessing as mp

            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=mp.get_context("spawn"), initializer=_one_thread
            )
        else:
            import cv2

            self._threads = cv2.getNumThreads()
            self._blas = _one_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        _BASELINES.clear()  # (the inline run's: photos are not kept past the run)
        if self._threads is not None:
            import cv2

            cv2.setNumThreads(self._threads)
            self._threads = None
        if self._blas is not None:
            self._blas.restore_original_limits()
            self._blas = None

    def map(self, jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]], what: str) -> list:
        """Each job's result, or the exception it raised."""
        out: list[Any] = []
        if self.pool is None:
            for fn, args in jobs:
                try:
                    out.append(fn(*args))
                except Exception as exc:  # noqa: BLE001 - one bad photo skips, not stops
                    out.append(exc)
                self._tick(what)
            return out
        futures = [self.pool.submit(fn, *args) for fn, args in jobs]
        for f in futures:
            try:
                out.append(f.result())
            except Exception as exc:  # noqa: BLE001
                out.append(exc)
            self._tick(what)
        return out

    def _tick(self, what: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, what)


class ResultCache:
    """Measurements and comparisons kept in a folder, keyed by the photos' content.

    A result's key is a SHA-256 of hairtrack's version and source code, every parameter,
    the job (measure or compare, the view) and the SHA-256 of each photo's bytes: a
    renamed or moved photo is found again, a changed photo, parameter or stage misses.
    Results are stored without their photos' paths (so an anonymized report's cache
    names nobody) and given the current paths when read back. The aligned pair and
    change map of a view's latest comparison are kept beside it, so that a run with
    nothing new recomputes nothing.

    Parameters
    ----------
    folder : path-like
    params : Params
    """

    def __init__(self, folder: str | os.PathLike[str], params: Params) -> None:
        import json

        from hairtrack import __version__

        self.folder = Path(folder)
        text = json.dumps([__version__, params.to_dict()], sort_keys=True, default=str)
        h = hashlib.sha256(text.encode("utf-8"))
        # the code itself too: a changed stage (same version number during development)
        # must not reuse results it would no longer give
        for src in sorted(Path(__file__).parent.glob("*.py")):
            h.update(src.name.encode("utf-8") + b"\0" + src.read_bytes())
        self.salt = h.hexdigest()
        self.hits = 0
        self.misses = 0
        self._sha: dict[str, str] = {}

    def _file_sha(self, path: str) -> str:
        if path not in self._sha:
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            self._sha[path] = h.hexdigest()
        return self._sha[path]

    def key(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> str | None:
        """The key of a job, or None when a photo cannot be read."""
        try:
            if fn is _measure_job:
                parts = ["measure", args[1], self._file_sha(args[0])]
            else:
                parts = ["compare", args[2], self._file_sha(args[0]), self._file_sha(args[1])]
        except OSError:
            return None
        return hashlib.sha256("|".join([self.salt, *parts]).encode("utf-8")).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        """A stored result, or None."""
        import json

        try:
            return json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Store a result (without paths)."""
        from hairtrack.files import write_json

        write_json(self.folder / f"{key}.json", result)

    def get_bytes(self, name: str) -> bytes | None:
        """A stored picture, or None."""
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None

    def put_bytes(self, name: str, data: bytes) -> None:
        """Store a picture."""
        from hairtrack.files import write_atomic

        write_atomic(self.folder / name, data)


#: Pictures kept beside a view's latest comparison in the cache (name, file type).
CACHED_PICTURES = {"pair": "jpg", "change_map": "jpg"}


def _strip_paths(fn: Callable[..., Any], result: dict[str, Any]) -> dict[str, Any]:
    if fn is _measure_job:
        return {**result, "path": None}
    return {
        **result,
        "before": {**result["before"], "path": None},
        "after": {**result["after"], "path": None},
    }


def _with_paths(fn: Callable[..., Any], args: tuple[Any, ...], result: dict[str, Any]):
    if fn is _measure_job:
        return {**result, "path": args[0]}
    return {
        **result,
        "before": {**result["before"], "path": args[0]},
        "after": {**result["after"], "path": args[1]},
    }


def _cached_map(
    run: Workers,
    cache: ResultCache | None,
    jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]],
    what: str,
) -> list:
    """``run.map`` that reads what the cache holds and stores what it computes."""
    if cache is None:
        return run.map(jobs, what)
    out: list[Any] = [None] * len(jobs)
    keys = [cache.key(fn, args) for fn, args in jobs]
    todo = []
    for i, ((fn, args), key) in enumerate(zip(jobs, keys, strict=True)):
        hit: Any = cache.get(key) if key else None
        if hit is not None:
            hit = _with_paths(fn, args, hit)
            if fn is _compare_job and args[4]:
                pics = {n: cache.get_bytes(f"{key}.{n}.{t}") for n, t in CACHED_PICTURES.items()}
                hit = _Kept(hit, pics) if all(pics.values()) else None
        if hit is None:
            todo.append(i)
            continue
        out[i] = hit
        cache.hits += 1
        run._tick(what)
    for i, res in zip(todo, run.map([jobs[i] for i in todo], what), strict=True):
        out[i] = res
        cache.misses += 1
        if keys[i] and not isinstance(res, BaseException):
            fn = jobs[i][0]
            if isinstance(res, _Kept):
                for name, kind in CACHED_PICTURES.items():
                    cache.put_bytes(f"{keys[i]}.{name}.{kind}", res.pictures[name])
                res = res.result
            cache.put(keys[i], _strip_paths(fn, res))
    return out


def _mean(vals: list[float | None]) -> float | None:
    v = [x for x in vals if x is not None]
    return float(np.mean(v)) if v else None


def analyse_patients(
    found: Scan,
    *,
    params: Params | None = None,
    workers: int | Workers | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cache: ResultCache | None = None,
) -> Cohort:
    """Measure and compare every session of every patient and view.

    Parameters
    ----------
    found : Scan
        What :func:`hairtrack.scan.scan` found.
    params : Params, optional
    workers : int or Workers, optional
        Worker processes (1: run here; by default :func:`default_workers`), or open
        :class:`Workers` to run on (their ``progress`` is used).
    progress : callable, optional
        Called as ``progress(done, total, what)`` after each photo or comparison.
    cache : ResultCache, optional
        Where results are looked up before being computed, and kept.

    Returns
    -------
    Cohort
        Photos that could not be read or measured are listed in ``skipped`` (with the
        scanner's skips) and left out of their session; a session left with no photo is
        dropped, so the baseline is the first session with a usable photo.
    """
    params = params or Params()
    skipped = list(found.skipped)
    bad: set[str] = set()
    series_in: list[tuple[Patient, str, list[list[Photo]]]] = [
        (p, view, [list(s) for s in sessions])
        for p in found.patients
        for view, sessions in p.views.items()
    ]
    n_photos = sum(len(s) for _, _, ss in series_in for s in ss)
    n_sessions = sum(len(ss) for _, _, ss in series_in)
    kinds: dict[int, str] = {}
    meas: dict[str, dict[str, Any]] = {}

    def skip(path: str, exc: BaseException) -> None:
        if path not in bad:
            bad.add(path)
            skipped.append(Skipped(path, _reason(exc)))
            log.debug("skipped %s", path, exc_info=exc)

    with contextlib.ExitStack() as stack:
        run = (
            workers
            if isinstance(workers, Workers)
            else stack.enter_context(
                Workers(default_workers(params) if workers is None else workers, progress)
            )
        )
        run.total = n_photos + 2 * max(0, n_sessions - len(series_in))
        # 1. baselines, measured with view 'auto': the first session with a usable photo
        pending = list(range(len(series_in)))
        while pending:
            jobs, owners = [], []
            for k in pending:
                for ph in series_in[k][2][0] if series_in[k][2] else []:
                    jobs.append((_measure_job, (str(ph.path), "auto", params)))
                    owners.append(k)
            results = _cached_map(run, cache, jobs, "photos measured")
            for (_, (path, _, _)), k, res in zip(jobs, owners, results, strict=True):
                if isinstance(res, BaseException):
                    skip(path, res)
                else:
                    meas[path] = res
                    kinds.setdefault(k, res["view"])
            nxt = []
            for k in pending:
                sessions = series_in[k][2]
                if not sessions:
                    continue
                sessions[0] = [ph for ph in sessions[0] if str(ph.path) not in bad]
                if not sessions[0]:
                    sessions.pop(0)
                    if sessions:
                        nxt.append(k)
            pending = nxt
        # 2. every other session, measured as the baseline's kind, and the comparisons,
        # in one batch (a comparison needs only the baseline's kind): the comparisons,
        # the longest jobs, go first so that the short ones fill the workers' last gaps
        mjobs = [
            (_measure_job, (str(ph.path), kinds[k], params))
            for k, (_, _, sessions) in enumerate(series_in)
            for s in sessions[1:]
            for ph in s
        ]
        cjobs = _comparison_jobs(series_in, kinds, params)
        run.total = run.done + len(mjobs) + len(cjobs)
        results = _cached_map(run, cache, cjobs + mjobs, "photos measured and compared")
        comps = {_pair(j): res for j, res in zip(cjobs, results[: len(cjobs)], strict=True)}
        for (_, (path, _, _)), res in zip(mjobs, results[len(cjobs) :], strict=True):
            if isinstance(res, BaseException):
                skip(path, res)
            else:
                meas[path] = res
        for _, _, sessions in series_in:
            sessions[:] = [
                s2 for s2 in ([p for p in s if str(p.path) not in bad] for s in sessions) if s2
            ]
        # 3. when a photo could not be measured, the sessions left may pair differently
        more = [
            j
            for j in _comparison_jobs(series_in, kinds, params)
            if j[1][:2] + j[1][4:] not in comps
        ]
        if more:
            run.total += len(more)
            for job, res in zip(more, _cached_map(run, cache, more, "pairs compared"), strict=True):
                comps[_pair(job)] = res
    notes = list(found.warnings)
    by_patient: dict[str, list[ViewSeries]] = {}
    for k, (patient, view, sessions) in enumerate(series_in):
        if not sessions:
            continue
        vs, more = _view_series(patient.name, view, kinds[k], sessions, meas, comps, params)
        notes += more
        by_patient.setdefault(patient.name, []).append(vs)
    patients = tuple(
        PatientSeries(name, tuple(views), patient_call([v.trend.call for v in views]))
        for name, views in by_patient.items()
    )
    return Cohort(patients, tuple(skipped), tuple(notes))


def _comparison_jobs(
    series_in: list[tuple[Patient, str, list[list[Photo]]]],
    kinds: dict[int, str],
    params: Params,
) -> list[tuple[Callable[..., Any], tuple[Any, ...]]]:
    """Each field of each session against the same field of the baseline and of the
    session before; the latest session's first field against the baseline is kept
    (its pictures are drawn)."""
    jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    for k, (_, _, sessions) in enumerate(series_in):
        last = len(sessions) - 1
        for i in range(1, len(sessions)):
            for ref_i in sorted({0, i - 1}):
                refs = {ph.field: ph for ph in sessions[ref_i]}
                for j, ph in enumerate(sessions[i]):
                    ref = refs.get(ph.field)
                    if ref is not None:
                        keep = i == last and ref_i == 0 and j == 0
                        jobs.append(
                            (_compare_job, (str(ref.path), str(ph.path), kinds[k], params, keep))
                        )
    return jobs


def _pair(job: tuple[Callable[..., Any], tuple[Any, ...]]) -> tuple[str, str, bool]:
    """A comparison job's photos (BEFORE, AFTER) and whether its pictures are drawn."""
    before, after, _, _, keep = job[1]
    return before, after, keep


def _view_series(
    patient: str,
    view: str,
    kind: str,
    sessions: list[list[Photo]],
    meas: dict[str, dict[str, Any]],
    comps: dict[tuple[str, str, bool], Any],
    params: Params,
) -> tuple[ViewSeries, list[str]]:
    p = params.compare
    mdc = p.mdc_pct_closeup if kind == "closeup" else p.mdc_pct_global
    notes: list[str] = []
    pictures: dict[str, bytes] = {}
    out: list[SessionResult] = []
    last = len(sessions) - 1

    def change(ref: list[Photo], cur: list[Photo], warn: list[str]) -> SessionChange | None:
        got = []
        refs = {ph.field: ph for ph in ref}
        for ph in cur:
            r = refs.get(ph.field)
            if r is None:
                when = ref[0].date.isoformat() if ref[0].date else ref[0].path.name
                warn.append(f"field {ph.field} has no counterpart in the session of {when}")
                continue
            keep = cur is sessions[last] and ref is sessions[0] and ph is cur[0]
            res = comps.get((str(r.path), str(ph.path), keep))
            if res is None:
                continue
            if isinstance(res, BaseException):
                warn.append(f"{ph.path.name}: comparison failed: {_reason(res)}")
                continue
            if isinstance(res, _Kept):
                pictures.update(res.pictures)
                res = res.result
            got.append({"field": ph.field, **res})
        return combine_fields(got, mdc_pct=mdc) if got else None

    base = sessions[0]
    for i, s in enumerate(sessions):
        ms = [meas[str(ph.path)] for ph in s]
        warn: list[str] = []
        for m in ms:
            if m["view"] != kind:
                warn.append(f"{m['path']}: looks like {m['view']}, unlike the baseline ({kind})")
        covs = [m["coverage"] for m in ms]
        se = float(np.std(covs, ddof=1) / np.sqrt(len(covs))) if len(covs) >= 2 else None
        vb = vp = None
        if i >= 1:
            vb = change(base, s, warn)
            vp = vb if i == 1 else change(sessions[i - 1], s, warn)
        out.append(
            SessionResult(
                number=i + 1,
                date=s[0].date,
                paths=tuple(str(ph.path) for ph in s),
                fields=tuple(ph.field for ph in s),
                measurements=tuple(ms),
                coverage=_mean(covs),
                coverage_se=se,
                hair_count=_mean([m.get("hair_count") for m in ms]) if kind == "closeup" else None,
                hair_per_cm2=_mean([m.get("hair_per_cm2") for m in ms])
                if kind == "closeup"
                else None,
                vs_baseline=vb,
                vs_previous=vp,
                warnings=tuple(warn),
            )
        )
    follow = [s for s in out[1:]]
    d0 = out[0].date
    days = [
        float((s.date - d0).days) if (s.date and d0) else float(30 * (s.number - 1)) for s in follow
    ]
    if follow and (d0 is None or any(s.date is None for s in follow)):
        notes.append(f"{patient}/{view}: undated sessions are placed a month apart in the trend")
    vbs = [s.vs_baseline for s in follow]
    # the baseline photo's share of a comparison's re-shoot error is shared by every
    # session: each session's interval is at least its re-shoot error (block bootstrap
    # and the re-shoot spread beyond it), so the narrowest one bounds it
    errors = [
        (v.coverage_pct_ci[1] - v.coverage_pct_ci[0]) / (2 * _Z95)
        for v in vbs
        if v is not None and v.verdict != "unreliable" and v.coverage_pct_ci is not None
    ]
    reshoot = min(errors, default=0.0)
    trend = fit_trend(
        days,
        [None if v is None else v.coverage_pct for v in vbs],
        [None if v is None else v.coverage_pct_ci for v in vbs],
        ["unreliable" if v is None else v.verdict for v in vbs],
        mdc_pct=mdc,
        baseline_sd_pct=reshoot * math.sqrt(params.series.baseline_share_of_reshoot),
        min_reliable_share=params.series.min_reliable_share,
        days_per_month=params.series.days_per_month,
    )
    return ViewSeries(patient, view, kind, tuple(out), trend, mdc, pictures), notes
