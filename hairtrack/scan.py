"""Find patients, views and dated sessions in a clinic's folder: an edge (reads the disk).

Conventions (DESIGN.md, "Patient folders"):

* a patient is a first-level folder; files at the top level are skipped;
* a session is dated by the first of: a date in the session folder's name, a date in the
  file's name, the photo's EXIF DateTimeOriginal. Dates are read as YYYY-MM-DD,
  YYYY_MM_DD, YYYY.MM.DD, YYYYMMDD or YYMMDD; a folder or file named like
  ``session-3`` / ``visit 3`` / ``s3`` carries a session number, used to order undated
  sessions;
* the view is the file's stem without its date, matched across sessions (``crown``,
  ``vertex``, ``hairline``, ``part``, ``closeup`` ...); a trailing number (``closeup-2``)
  is a field: several fields of one view in one session are averaged;
* hidden files and folders (``.truth``, ``.DS_Store``) are ignored; anything else that is
  not a readable photo is listed as skipped, with its reason. Nothing is ever written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hairtrack.errors import InputError
from hairtrack.load import SUPPORTED_SUFFIXES, read_meta

__all__ = ["Patient", "Photo", "Scan", "Skipped", "parse_date", "scan"]

_DATE_PATTERNS = (
    # (regex, group order, two-digit year)
    (re.compile(r"(?<!\d)(\d{4})[-_.](\d{1,2})[-_.](\d{1,2})(?!\d)"), "ymd", False),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd", False),
    (re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})(?!\d)"), "ymd", True),
)
_SESSION = re.compile(r"(?i)(?:^|[^a-z])(?:session|visit|s|v)[-_ ]?(\d{1,3})(?!\d)")


@dataclass(frozen=True)
class Photo:
    """One photo of one view of one patient at one session.

    Attributes
    ----------
    path : Path
    patient : str
        The patient folder's name.
    view : str
        The file's stem without date and field number, lower case.
    field : int
        Field number within the view (1 when the name has none).
    date : datetime.date or None
    date_source : {'folder', 'file name', 'exif', None}
    session_number : int or None
        From a ``session-N`` style name.
    """

    path: Path
    patient: str
    view: str
    field: int
    date: date | None
    date_source: str | None
    session_number: int | None


@dataclass(frozen=True)
class Skipped:
    """An input that was not used, and why."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Patient:
    """A patient's photos, by view, each view's sessions in time order.

    Attributes
    ----------
    name : str
    views : dict of str to list of list of Photo
        For each view, its sessions in order (the first is the baseline); each session
        is the list of its fields.
    """

    name: str
    views: dict[str, list[list[Photo]]]


@dataclass(frozen=True)
class Scan:
    """What a patients folder holds."""

    root: Path
    patients: list[Patient]
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_date(text: str) -> date | None:
    """The first valid date in a name.

    Parameters
    ----------
    text : str
        A file or folder name.

    Returns
    -------
    datetime.date or None

    Examples
    --------
    >>> parse_date("2026-03-16_crown"), parse_date("20260214"), parse_date("220110_A366_1")
    (datetime.date(2026, 3, 16), datetime.date(2026, 2, 14), datetime.date(2022, 1, 10))
    >>> parse_date("closeup-2") is None
    True
    """
    for rx, _, short in _DATE_PATTERNS:
        for m in rx.finditer(text):
            y, mo, d = (int(g) for g in m.groups())
            if short:
                y += 2000
            try:
                found = date(y, mo, d)
            except ValueError:
                continue
            if 1990 <= found.year <= 2100:
                return found
    return None


def _strip_date(stem: str) -> str:
    for rx, _, _ in _DATE_PATTERNS:
        m = rx.search(stem)
        if m and parse_date(m.group(0)) is not None:
            return (stem[: m.start()] + stem[m.end() :]).strip(" _-.")
    return stem


def _view_and_field(stem: str) -> tuple[str, int]:
    rest = _strip_date(stem)
    m = re.match(r"^(.*?)[-_ ]?(\d{1,2})$", rest)
    if m and m.group(1):
        return m.group(1).strip(" _-.").lower(), int(m.group(2))
    return (rest.lower() or "photo"), 1


def _session_number(text: str) -> int | None:
    m = _SESSION.search(text)
    return int(m.group(1)) if m else None


def scan(root: str | os.PathLike[str], *, max_pixels: int = 100_000_000) -> Scan:
    """Find patients, views and sessions under ``root``.

    Parameters
    ----------
    root : str or path-like
        The patients folder.
    max_pixels : int
        Larger photos are skipped (see :func:`hairtrack.load.read_meta`).

    Returns
    -------
    Scan

    Raises
    ------
    InputError
        If ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "not a folder of patient folders")
    skipped: list[Skipped] = []
    notes: list[str] = []
    patients: list[Patient] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            skipped.append(Skipped(str(entry), "not in a patient folder"))
            continue
        photos = _photos_of(entry, skipped, notes, max_pixels)
        views = _sessions_by_view(photos, notes)
        if views:
            patients.append(Patient(entry.name, views))
        else:
            notes.append(f"{entry.name}: no photos")
    return Scan(root, patients, skipped, notes)


def _photos_of(folder: Path, skipped: list[Skipped], notes: list[str], max_pixels: int):
    photos = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = Path(dirpath).relative_to(folder)
        session_dir = rel.parts[0] if rel.parts else ""
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append(Skipped(str(path), f"not a photo ({path.suffix or 'no suffix'})"))
                continue
            try:
                meta = read_meta(path, max_pixels=max_pixels)
            except InputError as exc:
                skipped.append(Skipped(str(path), exc.reason))
                continue
            when, source = parse_date(session_dir), "folder"
            if when is None:
                when, source = parse_date(path.stem), "file name"
            if when is None and meta.datetime_original is not None:
                when, source = meta.datetime_original.date(), "exif"
            if when is None:
                source = None
            view, fld = _view_and_field(path.stem)
            number = _session_number(session_dir) or _session_number(path.stem)
            photos.append(Photo(path, folder.name, view, fld, when, source, number))
    return photos


def _sessions_by_view(photos: list[Photo], notes: list[str]) -> dict[str, list[list[Photo]]]:
    """Group photos into sessions per view and order them in time."""
    views: dict[str, dict[tuple, list[Photo]]] = {}
    for p in photos:
        key = (p.date, p.session_number) if p.date or p.session_number else (None, str(p.path))
        views.setdefault(p.view, {}).setdefault(key, []).append(p)
    out = {}
    for view, sessions in sorted(views.items()):
        dated = [k for k in sessions if k[0] is not None]
        undated = [k for k in sessions if k[0] is None]
        if dated and undated:
            notes.append(
                f"{photos[0].patient}/{view}: {len(undated)} session(s) have no date; "
                "they are placed after the dated ones"
            )
        order = sorted(dated, key=lambda k: (k[0], k[1] or 0)) + sorted(
            undated, key=lambda k: (k[1] if isinstance(k[1], int) else 10**6, str(k[1]))
        )
        seen_dates = [k[0] for k in dated]
        if len(set(seen_dates)) < len(seen_dates):
            notes.append(f"{photos[0].patient}/{view}: two sessions share a date")
        out[view] = [sorted(sessions[k], key=lambda p: (p.field, str(p.path))) for k in order]
    return out
