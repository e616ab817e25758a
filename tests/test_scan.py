"""The patient-folder scanner: dates in each place, views, fields, skips, hostile names."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hairtrack.errors import InputError
from hairtrack.scan import parse_date, scan


def _photo(path: Path, exif_date: str | None = None, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8))
    exif = Image.Exif()
    if exif_date:
        exif.get_ifd(0x8769)[36867] = exif_date
    im.save(path, exif=exif) if path.suffix == ".jpg" else im.save(path)


def _digest(root: Path) -> dict[str, tuple[str, float]]:
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(
    "text,want",
    [
        ("2026-01-15", date(2026, 1, 15)),
        ("2026_02_14", date(2026, 2, 14)),
        ("2026.3.16", date(2026, 3, 16)),
        ("20260416", date(2026, 4, 16)),
        ("220110_A366_1", date(2022, 1, 10)),
        ("crown", None),
        ("session-12", None),
        ("2026-13-40", None),
    ],
)
def test_parse_date(text, want):
    assert parse_date(text) == want


def test_dates_in_folder_file_name_and_exif(tmp_path):
    root = tmp_path / "patients"
    _photo(root / "jane" / "2026-01-15" / "crown.jpg")
    _photo(root / "jane" / "2026-03-16_crown.jpg")
    _photo(root / "jane" / "20260214" / "crown.png")
    _photo(root / "jane" / "later" / "crown.jpg", exif_date="2026:04:20 10:00:00")
    s = scan(root)
    (p,) = s.patients
    sessions = p.views["crown"]
    assert [x[0].date for x in sessions] == [
        date(2026, 1, 15),
        date(2026, 2, 14),
        date(2026, 3, 16),
        date(2026, 4, 20),
    ]
    assert [x[0].date_source for x in sessions] == ["folder", "folder", "file name", "exif"]


def test_undated_sessions_order_by_number_and_fields_group(tmp_path):
    root = tmp_path / "p"
    for n in (2, 1, 10):
        _photo(root / "john" / f"session-{n}" / "vertex.png", seed=n)
    _photo(root / "john" / "session-1" / "closeup-1.png")
    _photo(root / "john" / "session-1" / "closeup-2.png", seed=3)
    s = scan(root)
    (p,) = s.patients
    assert [x[0].session_number for x in p.views["vertex"]] == [1, 2, 10]
    (fields,) = p.views["closeup"]
    assert [f.field for f in fields] == [1, 2]


def test_single_session_missing_views_skips_and_hidden(tmp_path):
    root = tmp_path / "p"
    _photo(root / "solo" / "2026-01-01" / "crown.jpg")
    _photo(root / "two" / "2026-01-01" / "crown.jpg")
    _photo(root / "two" / "2026-02-01" / "hairline.jpg")
    (root / "two" / "2026-02-01" / "notes.txt").write_text("not a photo")
    (root / "two" / "2026-02-01" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (root / "two" / ".truth").mkdir()
    (root / "two" / ".truth" / "x.json").write_text("{}")
    (root / "loose.jpg").write_bytes(b"")
    s = scan(root)
    names = {p.name: p for p in s.patients}
    assert len(names["solo"].views["crown"]) == 1
    assert set(names["two"].views) == {"crown", "hairline"}
    reasons = {Path(k.path).name: k.reason for k in s.skipped}
    assert reasons["notes.txt"].startswith("not a photo")
    assert "broken.jpg" in reasons and reasons["broken.jpg"]
    assert reasons["loose.jpg"] == "not in a patient folder"
    assert "x.json" not in reasons


def test_hostile_and_non_ascii_names_and_input_untouched(tmp_path):
    root = tmp_path / "p"
    hostile = "<b>Zoë O'Brien & co<\\b>"  # a folder name cannot hold '/'
    _photo(root / hostile / "2026-01-15" / "crown.jpg")
    _photo(root / "Łukasz Żółć" / "2026-01-15" / "crown.jpg")
    before = _digest(root)
    s = scan(root)
    assert {p.name for p in s.patients} == {hostile, "Łukasz Żółć"}
    assert _digest(root) == before


def test_not_a_folder(tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        scan(tmp_path / "missing")
