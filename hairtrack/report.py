"""The batch report over a clinic's patients folder: an edge (reads photos, writes OUT).

``report(PATIENTS_DIR, OUT)`` scans the folder (:func:`hairtrack.scan.scan`), measures and
compares every session (:func:`hairtrack.series.analyse_patients`) and writes:

* ``OUT/index.html``: self-contained (charts embedded as PNG, photographs as JPEG), a
  section per patient;
* ``OUT/summary.csv``: one row per patient x view x session (:data:`CSV_COLUMNS`);
* ``OUT/summary.json``: the same rows, every series in full with trends, skipped inputs
  with their reasons and notes;
* ``OUT/run.json``: hairtrack's version, every parameter, the inputs with their sizes and
  SHA-256, start and end time;
* ``OUT/<patient>/``: the charts and pictures of each view, and ``OUT/cohort.png``.

Every file is written atomically and PNGs carry no metadata. Nothing is written inside
the patients folder. With ``anonymize``, each patient's name is replaced, everywhere in
OUT (text, paths, folder names), by a stable pseudonym (:func:`pseudonym`).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import os
import re
import secrets
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hairtrack.config import Params
from hairtrack.errors import HairtrackError
from hairtrack.files import write_atomic, write_json
from hairtrack.scan import Skipped, scan
from hairtrack.series import (
    CACHED_PICTURES,
    Cohort,
    ResultCache,
    SessionChange,
    ViewSeries,
    Workers,
    analyse_patients,
    default_workers,
)

__all__ = ["CSV_COLUMNS", "NothingToReport", "ReportResult", "pseudonym", "report"]

#: Columns of ``summary.csv`` (DESIGN.md's, then the change vs the previous session).
CSV_COLUMNS = (
    "patient",
    "view",
    "kind",
    "session",
    "date",
    "coverage",
    "coverage_change_pct",
    "coverage_change_ci_low",
    "coverage_change_ci_high",
    "verdict",
    "alignment_ok",
    "hair_count",
    "hair_per_cm2",
    "previous_change_pct",
    "previous_change_ci_low",
    "previous_change_ci_high",
    "previous_verdict",
    "fields",
)

#: Environment variable holding the key of the pseudonyms (else a key file is used).
KEY_ENV = "HAIRTRACK_ANONYMIZE_KEY"


class NothingToReport(HairtrackError):
    """No photo in the patients folder could be used (exit code 2)."""

    def __init__(self, message: str, skipped: tuple[Skipped, ...] = ()) -> None:
        self.skipped = skipped
        super().__init__(message)


@dataclass(frozen=True)
class ReportResult:
    """What a report run did.

    Attributes
    ----------
    out : Path
    patients : int
        Patients in the report.
    skipped : tuple of Skipped
        Inputs not used, with their reasons (paths as written in the report).
    notes : tuple of str
    files : tuple of Path
        Every file written.
    """

    out: Path
    patients: int
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...] = ()
    files: tuple[Path, ...] = field(default=(), repr=False)


def anonymize_key() -> bytes:
    """The secret key of the pseudonyms, stable across runs on this machine.

    Read from the environment variable ``HAIRTRACK_ANONYMIZE_KEY`` when set (share it to
    get the same pseudonyms on several machines); otherwise from
    ``$XDG_CONFIG_HOME/hairtrack/anonymize.key`` (``~/.config/...``), which is made with
    32 random bytes, readable by its owner only, on first use.

    Returns
    -------
    bytes
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    path = Path(base) / "hairtrack" / "anonymize.key"
    if not path.exists():
        write_atomic(path, secrets.token_hex(32).encode("ascii"))
        os.chmod(path, 0o600)
    return path.read_bytes().strip()


def pseudonym(name: str, key: bytes) -> str:
    """A patient's stable pseudonym: ``patient-`` and 8 hex digits of a keyed hash.

    Parameters
    ----------
    name : str
        The patient folder's name (Unicode-normalised first, so that the same name typed
        on two systems maps alike).
    key : bytes
        The secret key (:func:`anonymize_key`); without it the name cannot be guessed
        back from the pseudonym.

    Returns
    -------
    str

    Examples
    --------
    >>> pseudonym("jane-doe", b"k") == pseudonym("jane-doe", b"k")
    True
    >>> pseudonym("jane-doe", b"k").startswith("patient-")
    True
    """
    text = unicodedata.normalize("NFC", name).encode("utf-8")
    return "patient-" + hmac.new(key, text, hashlib.sha256).hexdigest()[:8]


class _Names:
    """How names and paths are shown: relative to the patients folder, pseudonymised."""

    def __init__(self, root: Path, names: list[str], key: bytes | None) -> None:
        self.prefixes = sorted({str(root) + os.sep, str(root.resolve()) + os.sep}, key=len)[::-1]
        self.map: dict[str, str] = {}
        if key is not None:
            n = 8
            while True:
                m = {nm: pseudonym(nm, key)[: len("patient-") + n] for nm in names}
                if len(set(m.values())) == len(m) or n >= 64:
                    break
                n += 4
            self.map = m
        self.rx = (
            re.compile("|".join(re.escape(k) for k in sorted(self.map, key=len, reverse=True)))
            if self.map
            else None
        )

    def text(self, s: str) -> str:
        for p in self.prefixes:
            s = s.replace(p, "")
        if self.rx is not None:
            s = self.rx.sub(lambda m: self.map[m.group(0)], s)
        return s

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self(k) if isinstance(k, str) else k: self(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self(v) for v in obj]
        return obj


#: File type of each picture of a view (``OUT/<patient>/<view>_<name>.<type>``).
PICTURE_TYPES = {"chart": "png", **CACHED_PICTURES}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fmt(v: float | None, spec: str) -> str:
    return "" if v is None else format(v, spec)


def _csv_rows(v: ViewSeries, names: _Names) -> list[dict[str, Any]]:
    rows = []
    for s in v.sessions:
        b, p = s.vs_baseline, s.vs_previous

        def ci(c: SessionChange | None, i: int) -> float | None:
            return (
                None if c is None or c.coverage_pct_ci is None else round(c.coverage_pct_ci[i], 2)
            )

        def r(x: float | None, n: int) -> float | None:
            return None if x is None else round(x, n)

        base = s.number == 1
        rows.append(
            {
                "patient": names.text(v.patient),
                "view": names.text(v.view),
                "kind": v.kind,
                "session": s.number,
                "date": None if s.date is None else s.date.isoformat(),
                "coverage": r(s.coverage, 6),
                "coverage_change_pct": 0.0
                if base
                else (None if b is None else r(b.coverage_pct, 2)),
                "coverage_change_ci_low": ci(b, 0),
                "coverage_change_ci_high": ci(b, 1),
                "verdict": "baseline" if base else ("unreliable" if b is None else b.verdict),
                "alignment_ok": None if base or b is None else b.alignment_ok,
                "hair_count": r(s.hair_count, 1) if v.kind == "closeup" else None,
                "hair_per_cm2": r(s.hair_per_cm2, 1) if v.kind == "closeup" else None,
                "previous_change_pct": None if p is None else r(p.coverage_pct, 2),
                "previous_change_ci_low": ci(p, 0),
                "previous_change_ci_high": ci(p, 1),
                "previous_verdict": None if p is None else p.verdict,
                "fields": len(s.paths),
            }
        )
    return rows


def _csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula.

    A text cell starting with ``= + - @``, a tab or a carriage return (a folder named
    ``=HYPERLINK(...)``) gets a leading apostrophe, as OWASP advises; numbers are kept.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: _csv_cell(row[k]) for k in CSV_COLUMNS})
    return buf.getvalue().encode("utf-8")


def _pct(c: SessionChange | None) -> str:
    if c is None or c.coverage_pct is None:
        return ""
    return f"{c.coverage_pct:+.1f} %"


def _view_context(v: ViewSeries, names: _Names, pictures: dict[str, bytes]) -> dict[str, Any]:
    t = v.trend
    rows = []
    for s in v.sessions:
        b = s.vs_baseline
        base = s.number == 1
        verdict = "baseline" if base else ("unreliable" if b is None else b.verdict)
        rows.append(
            {
                "session": s.number,
                "date": "" if s.date is None else s.date.isoformat(),
                "coverage": _fmt(None if s.coverage is None else 100 * s.coverage, ".1f")
                + (" %" if s.coverage is not None else "")
                + (f" ± {100 * s.coverage_se:.1f}" if s.coverage_se is not None else ""),
                "hair_count": _fmt(s.hair_count, ".0f"),
                "hair_per_cm2": _fmt(s.hair_per_cm2, ".0f"),
                "change": "0 %" if base else _pct(b),
                "ci": ""
                if b is None or b.coverage_pct_ci is None
                else f"{b.coverage_pct_ci[0]:+.1f} to {b.coverage_pct_ci[1]:+.1f} %",
                "verdict": verdict,
                "verdict_class": {"gain": "gain", "loss": "loss", "unreliable": "unreliable"}.get(
                    verdict, ""
                ),
                "previous": ""
                if s.vs_previous is None
                else f"{_pct(s.vs_previous)} ({s.vs_previous.verdict})",
                "aligned": "" if b is None else ("yes" if b.alignment_ok else "no"),
            }
        )
    warnings = [names.text(f"session {s.number}: {w}") for s in v.sessions for w in s.warnings]
    slope = None
    if t.slope_pct_per_month is not None and "the trend over" not in t.basis:
        slope = f"{t.slope_pct_per_month:+.1f} % per month"
        if t.slope_ci is not None:
            slope += f" (95 % interval {t.slope_ci[0]:+.1f} to {t.slope_ci[1]:+.1f})"
    b64 = {k: base64.b64encode(d).decode("ascii") for k, d in pictures.items()}
    return {
        "view": names.text(v.view),
        "kind": v.kind,
        "n_sessions": len(v.sessions),
        "call": t.call,
        "basis": names.text(t.basis),
        "slope": slope,
        "rows": rows,
        "chart": b64.get("chart"),
        "pair": b64.get("pair"),
        "change_map": b64.get("change_map"),
        "aligned": _latest_aligned(v),
        "latest_session": len(v.sessions),
        "warnings": warnings,
    }


def _latest_aligned(v: ViewSeries) -> bool:
    last = v.sessions[-1].vs_baseline
    return bool(last is not None and last.fields and last.fields[0]["alignment"]["ok"])


def _chart_job(v: ViewSeries, title: str, dpi: int) -> bytes:
    """One view's chart as PNG bytes (run in a worker)."""
    from hairtrack import plots

    return plots.encode_png(plots.series_chart(v, title=title, dpi=dpi))


def report(
    patients_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    params: Params | None = None,
    workers: int | None = None,
    anonymize: bool = False,
    key: bytes | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cache: bool = True,
) -> ReportResult:
    """Write the report of a patients folder.

    Parameters
    ----------
    patients_dir : str or path-like
        The patients folder (DESIGN.md, "Patient folders"); it is only read.
    out : str or path-like
        The output folder (created; files of an earlier report are replaced). It must not
        be inside ``patients_dir``.
    params : Params, optional
    workers : int, optional
        Worker processes for measuring, comparing and drawing, each on one core; by
        default one per core (:func:`hairtrack.series.default_workers`).
    anonymize : bool
        Replace every patient's name by its pseudonym in everything written.
    key : bytes, optional
        Key of the pseudonyms; by default :func:`anonymize_key`.
    progress : callable, optional
        ``progress(done, total, what)``.
    cache : bool
        Keep results in ``OUT/.cache`` (keyed by the photos' content and every
        parameter) and reuse them: a second run with nothing new recomputes nothing.

    Returns
    -------
    ReportResult

    Raises
    ------
    InputError
        If ``patients_dir`` is not a folder.
    HairtrackError
        If ``out`` is inside ``patients_dir``.
    NothingToReport
        If no photo could be used.
    """
    from hairtrack import __version__

    started = datetime.now(timezone.utc)
    params = params or Params()
    root = Path(patients_dir)
    out = Path(out)
    found = scan(root, max_pixels=params.load.max_pixels)
    r_root, r_out = root.resolve(), out.resolve()
    if r_out == r_root or r_root in r_out.parents:
        raise HairtrackError(
            f"{out}: the output folder must not be inside the patients folder "
            "(the photos' folder is never written to)"
        )
    store = ResultCache(out / ".cache", params) if cache else None
    names = _Names(
        root,
        [p.name for p in found.patients],
        (key or anonymize_key()) if anonymize else None,
    )
    if workers is None:
        workers = default_workers(params)
    with Workers(workers, progress) as pool:
        cohort: Cohort = analyse_patients(found, params=params, workers=pool, cache=store)
        titles = [
            (v, f"{names.text(p.name)} – {names.text(v.view)}")
            for p in cohort.patients
            for v in p.views
        ]
        pool.total += len(titles)
        dpi = params.series.chart_dpi
        drawn = pool.map([(_chart_job, (v, t, dpi)) for v, t in titles], "charts drawn")
    for chart in drawn:
        if isinstance(chart, BaseException):
            raise chart
    charts = {id(v): chart for (v, _), chart in zip(titles, drawn, strict=True)}
    skipped = tuple(Skipped(names.text(s.path), names.text(s.reason)) for s in cohort.skipped)
    notes = tuple(names.text(n) for n in cohort.warnings)
    if not cohort.patients:
        raise NothingToReport(
            f"{root}: nothing to report: no usable photo in any patient folder", skipped
        )
    stale = _previous_outputs(out)
    written: list[Path] = []

    def put(path: Path, data: bytes) -> None:
        write_atomic(path, data)
        written.append(path)

    rows: list[dict[str, Any]] = []
    patients_ctx = []
    cohort_rows = []
    view_names: list[str] = []
    for p in cohort.patients:
        shown = names.text(p.name)
        folder = out / shown
        views_ctx = []
        for v in p.views:
            view = names.text(v.view)
            if view not in view_names:
                view_names.append(view)
            pics = {"chart": charts[id(v)], **v.pictures}
            for k, data in pics.items():
                put(folder / f"{view}_{k}.{PICTURE_TYPES[k]}", data)
            rows += _csv_rows(v, names)
            views_ctx.append(_view_context(v, names, pics))
            cohort_rows.append(
                (f"{shown} · {view}", v.sessions[-1].vs_baseline if len(v.sessions) > 1 else None)
            )
        patients_ctx.append(
            {
                "name": shown,
                "anchor": "p-" + hashlib.sha1(shown.encode("utf-8")).hexdigest()[:10],
                "call": p.call,
                "calls": {names.text(v.view): v.trend.call for v in p.views},
                "views": views_ctx,
            }
        )
    from hairtrack import plots

    cohort_png = plots.encode_png(plots.cohort_chart(cohort_rows, dpi=params.series.chart_dpi))
    put(out / "cohort.png", cohort_png)
    put(out / "summary.csv", _csv_bytes(rows))
    summary = {
        "hairtrack_version": __version__,
        "anonymized": anonymize,
        "columns": list(CSV_COLUMNS),
        "rows": rows,
        "patients": names([p.to_dict() for p in cohort.patients]),
        "skipped": [s.to_dict() for s in skipped],
        "notes": list(notes),
    }
    write_json(out / "summary.json", summary)
    written.append(out / "summary.json")
    html = _render_html(
        {
            "created": started.strftime("%Y-%m-%d %H:%M UTC"),
            "version": __version__,
            "anonymized": anonymize,
            "n_patients": len(patients_ctx),
            "patients": patients_ctx,
            "view_names": view_names,
            "cohort_png": base64.b64encode(cohort_png).decode("ascii"),
            "skipped": [s.to_dict() for s in skipped],
            "notes": list(notes),
        }
    )
    put(out / "index.html", html.encode("utf-8"))
    inputs = []
    used = {pth for p in cohort.patients for v in p.views for s in v.sessions for pth in s.paths}
    for path in sorted(
        {str(ph.path) for p in found.patients for ss in p.views.values() for s in ss for ph in s}
        | {s.path for s in cohort.skipped}
    ):
        f = Path(path)
        if f.is_file():
            inputs.append(
                {
                    "path": names.text(path),
                    "size": f.stat().st_size,
                    "sha256": _sha256(f),
                    "used": path in used,
                }
            )
    run = {
        "hairtrack_version": __version__,
        "command": "report",
        "patients_dir": names.text(str(root)) if not anonymize else "(anonymized)",
        "anonymized": anonymize,
        "workers": workers,
        "python": sys.version.split()[0],
        "parameters": params.to_dict(),
        "inputs": inputs,
        "cache": None if store is None else {"hits": store.hits, "misses": store.misses},
        "skipped": [s.to_dict() for s in skipped],
        "started": started.isoformat(timespec="seconds"),
        "outputs": sorted(str(p.relative_to(out)) for p in written) + ["run.json"],
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(out / "run.json", run)
    written.append(out / "run.json")
    _remove_stale(out, stale, set(run["outputs"]))
    return ReportResult(out, len(cohort.patients), skipped, notes, tuple(written))


def _previous_outputs(out: Path) -> list[str]:
    """The files an earlier report wrote to ``out`` (from its run.json), if any."""
    import json

    try:
        old = json.loads((out / "run.json").read_text(encoding="utf-8"))
        return [str(p) for p in old.get("outputs", [])]
    except (OSError, ValueError, AttributeError):
        return []


def _remove_stale(out: Path, previous: list[str], current: set[str]) -> None:
    """Remove what an earlier report wrote and this one did not (e.g. a patient's folder
    under their real name before an ``--anonymize`` run); nothing else is touched."""
    base = out.resolve()
    for rel in previous:
        if rel in current:
            continue
        path = (out / rel).resolve()
        if base not in path.parents or not path.is_file():
            continue
        path.unlink()
        folder = path.parent
        while folder != base and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _render_html(ctx: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(**ctx)
