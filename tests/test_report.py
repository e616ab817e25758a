"""The batch report: sample patients against their truth, hostile names, privacy, skips.

Each report is run once per module (fixtures of scope "module") on small copies of the
bundled sample patients: the sample check uses every close-up session (the call may rest
on the trend over all of them); HAIRTRACK_FULL_SAMPLE=1 adds the crown photos.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from clihelp import run_cli
from PIL import Image

from hairtrack.config import Params
from hairtrack.series import combine_fields, fit_trend, patient_call

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_images"
HOSTILE = "<b>Zoë O'Brien & co<\\b>"
FULL = os.environ.get("HAIRTRACK_FULL_SAMPLE") == "1"
KEY = "test-key-not-secret"


def digest(root: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def truth_of(photo: Path) -> dict:
    return json.loads((photo.parent / ".truth" / f"{photo.stem}.json").read_text())


def sample_photos(patient: str, view: str) -> list[Path]:
    """A sample patient's photos of one view, in session order (by their truth)."""
    photos = [
        p
        for p in (SAMPLES / patient).rglob("*.jpg")
        if ".truth" not in p.parts and p.stem.endswith(view)
    ]
    return sorted(photos, key=lambda p: truth_of(p)["session"])


def rows_of(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ---- the sample patients against their truth ------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A copy of the sample patients' close-ups (and crowns with HAIRTRACK_FULL_SAMPLE=1),
    in their own folder conventions."""
    root = tmp_path_factory.mktemp("sample") / "patients"
    for patient in ("anna-improving", "ben-stable", "carla-declining"):
        for view in ("closeup", "crown") if FULL else ("closeup",):
            for p in sample_photos(patient, view):
                dst = root / p.relative_to(SAMPLES)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, dst)
    before = digest(root)
    out = root.parent / "out"
    r = run_cli("report", str(root), "-o", str(out), "--workers", "2")
    return root, out, r, before


def test_sample_calls_match_truth(sample):
    _, out, r, _ = sample
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    calls = {p["patient"]: p for p in summary["patients"]}
    assert set(calls) == {"anna-improving", "ben-stable", "carla-declining"}
    for name, p in calls.items():
        want = truth_of(sample_photos(name, "closeup")[0])["trend"]
        assert p["call"] == want, (name, p)
        for v in p["views"]:
            # a view either gets the truth's call or says it cannot tell; never the
            # wrong direction
            assert v["trend"]["call"] in (want, "unreliable"), (name, v["view"], v["trend"])


def test_sample_changes_cover_the_true_change(sample):
    """The true coverage change (from the phantoms' truth) lies in each registered
    close-up session's 95 % interval vs the baseline."""
    _, out, _, _ = sample
    rows = [r for r in rows_of(out) if r["view"] == "closeup"]
    checked = 0
    for patient in ("anna-improving", "ben-stable", "carla-declining"):
        truths = [truth_of(p) for p in sample_photos(patient, "closeup")]
        by_date = {t["date"]: t for t in truths}
        base = truths[0]
        for row in rows:
            if row["patient"] != patient or row["verdict"] in ("baseline", "unreliable"):
                continue
            t = by_date[row["date"]]
            true_pct = 100 * (t["coverage"] / base["coverage"] - 1)
            lo, hi = float(row["coverage_change_ci_low"]), float(row["coverage_change_ci_high"])
            assert lo <= true_pct <= hi, (patient, row["date"], true_pct, lo, hi)
            checked += 1
    assert checked >= 3


def test_sample_input_unchanged_and_outputs_complete(sample):
    root, out, _, before = sample
    assert digest(root) == before
    for name in ("index.html", "summary.csv", "summary.json", "run.json", "cohort.png"):
        assert (out / name).is_file(), name
    for patient in ("anna-improving", "ben-stable", "carla-declining"):
        files = {p.name for p in (out / patient).iterdir()}
        assert {"closeup_chart.png", "closeup_pair.jpg", "closeup_change_map.jpg"} <= files
    assert not list(out.rglob(".*.tmp"))


def test_summary_csv_has_the_design_columns(sample):
    _, out, _, _ = sample
    rows = rows_of(out)
    need = (
        "patient view session date coverage coverage_change_pct coverage_change_ci_low "
        "coverage_change_ci_high verdict alignment_ok hair_count hair_per_cm2"
    ).split()
    assert set(need) <= set(rows[0])
    for r in rows:
        assert len(r["date"]) == 10 and r["date"][4] == "-"
        assert 0 <= float(r["coverage"]) <= 1
        if r["verdict"] == "baseline":
            assert r["session"] == "1" and float(r["coverage_change_pct"]) == 0
        else:
            assert r["alignment_ok"] in ("True", "False")


def test_run_json_records_parameters_and_inputs(sample):
    root, out, _, _ = sample
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"] == json.loads(json.dumps(Params().to_dict()))
    assert run["started"] <= run["finished"]
    assert run["inputs"]
    for i in run["inputs"]:
        data = (root / i["path"]).read_bytes()
        assert i["size"] == len(data)
        assert i["sha256"] == hashlib.sha256(data).hexdigest()


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + n
    return kinds


def jpeg_markers(data: bytes) -> list[int]:
    """The marker of each segment before the image data (0xE0 APP0 ... 0xE1 EXIF/XMP)."""
    assert data[:2] == b"\xff\xd8"
    pos, kinds = 2, []
    while pos < len(data) and data[pos] == 0xFF:
        kind = data[pos + 1]
        kinds.append(kind)
        if kind == 0xDA:  # start of scan: image data follows
            break
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return kinds


def test_html_is_self_contained_and_pictures_carry_no_metadata(sample):
    _, out, _, _ = sample
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'name="viewport"' in html
    srcs = html.split('src="')[1:]
    assert srcs and all(
        s.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) for s in srcs
    )
    assert any(s.startswith("data:image/jpeg;base64,") for s in srcs)
    assert "http://" not in html and "https://" not in html
    for png in out.rglob("*.png"):
        assert set(png_chunks(png.read_bytes())) <= {b"IHDR", b"IDAT", b"IEND", b"PLTE"}, png
    jpegs = list(out.rglob("*.jpg"))
    assert jpegs
    for jpg in jpegs:
        # JFIF header, quantisation / Huffman tables, frame, scan: no APPn beyond APP0
        # (EXIF, GPS and XMP live in APP1), no comment
        assert set(jpeg_markers(jpg.read_bytes())) <= {0xE0, 0xDB, 0xC4, 0xC0, 0xDD, 0xDA}, jpg


# ---- hostile names, a missing view, a single session, skipped inputs ------------------


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    root = tmp_path_factory.mktemp("edge") / "patients"
    ben_c = sample_photos("ben-stable", "closeup")
    ben_g = sample_photos("ben-stable", "crown")
    hostile = root / HOSTILE
    carla_c = sample_photos("carla-declining", "closeup")
    for rel, src in (
        ("2026-01-12/closeup-1.jpg", ben_c[0]),
        ("2026-01-12/closeup-2.jpg", carla_c[0]),  # a second field: another patch
        ("2026-01-12/crown.jpg", ben_g[0]),  # the crown is only in the first session
        ("2026-05-10/closeup-1.jpg", ben_c[-1]),
        ("2026-05-10/closeup-2.jpg", carla_c[-1]),
    ):
        (hostile / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, hostile / rel)
    solo = root / "solo"
    solo.mkdir(parents=True)
    shutil.copy2(sample_photos("anna-improving", "closeup")[0], solo / "2026-03-01_closeup.jpg")
    (solo / "2026-04-01_closeup.jpg").write_bytes(b"this is not a photo")
    data = ben_g[1].read_bytes()
    (solo / "2026-04-02_crown.jpg").write_bytes(data[: len(data) // 3])  # truncated
    (root / "notes.txt").write_text("top-level file")
    before = digest(root)
    out = root.parent / "out"
    r = run_cli("report", str(root), "-o", str(out))
    return root, out, r, before


def test_skipped_inputs_exit_1_and_are_listed(edge):
    root, out, r, _ = edge
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("hairtrack: skipped")]
    names = ("2026-04-01_closeup.jpg", "2026-04-02_crown.jpg", "notes.txt")
    for name in names:
        assert sum(name in ln for ln in lines) == 1, (name, r.stderr)
    assert "Traceback" not in r.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    skipped = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
    assert set(names) <= set(skipped) and all(skipped[n] for n in names)
    html = (out / "index.html").read_text(encoding="utf-8")
    for name in names:
        assert name in html


def test_hostile_name_escaped_in_html_and_exact_in_csv(edge):
    _, out, _, _ = edge
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<b>Zo" not in html and "<\\b>" not in html
    assert "&lt;b&gt;Zoë O&#39;Brien &amp; co&lt;\\b&gt;" in html
    patients = {r["patient"] for r in rows_of(out)}
    assert patients == {HOSTILE, "solo"}
    assert (out / HOSTILE / "closeup_chart.png").is_file()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {p["patient"] for p in summary["patients"]} == {HOSTILE, "solo"}


def test_missing_view_and_single_session(edge):
    _, out, _, _ = edge
    rows = rows_of(out)
    h = [r for r in rows if r["patient"] == HOSTILE]
    assert [(r["view"], r["session"]) for r in h] == [
        ("closeup", "1"),
        ("closeup", "2"),
        ("crown", "1"),
    ]
    solo = [r for r in rows if r["patient"] == "solo"]
    assert [(r["view"], r["verdict"]) for r in solo] == [("closeup", "baseline")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    by = {p["patient"]: p for p in summary["patients"]}
    assert by["solo"]["call"] is None
    (v,) = by["solo"]["views"]
    assert v["trend"]["call"] is None and v["trend"]["slope_pct_per_month"] is None
    crown = next(v for v in by[HOSTILE]["views"] if v["view"] == "crown")
    assert crown["trend"]["n_sessions"] == 1
    assert by[HOSTILE]["call"] in ("stable", "unreliable")  # ben's truth: stable


def test_fields_of_a_session_are_averaged(edge):
    _, out, _, _ = edge
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (p,) = [p for p in summary["patients"] if p["patient"] == HOSTILE]
    closeup = next(v for v in p["views"] if v["view"] == "closeup")
    first, second = closeup["sessions"]
    assert first["fields"] == [1, 2] and second["fields"] == [1, 2]
    ch = second["vs_baseline"]
    assert ch["n_fields"] == 2
    pcts = [f["change"]["coverage_pct"] for f in ch["fields"] if f["change"]["paired"]]
    assert ch["coverage_pct"] == pytest.approx(sum(pcts) / len(pcts), abs=0.01)
    # the mean's interval is never narrower than the fields' own errors allow ...
    half = [
        (f["change"]["coverage_pct_ci"][1] - f["change"]["coverage_pct_ci"][0]) / 2
        for f in ch["fields"]
    ]
    lo, hi = ch["coverage_pct_ci"]
    assert (hi - lo) / 2 >= np.sqrt(np.sum(np.square(half))) / len(half) - 0.01
    # ... and covers the fields' mean true change (field 1 is ben's stable scalp, field 2
    # carla's declining one: they disagree, so the interval is wide)
    true = []
    for patient in ("ben-stable", "carla-declining"):
        photos = sample_photos(patient, "closeup")
        t0, t1 = truth_of(photos[0])["coverage"], truth_of(photos[-1])["coverage"]
        true.append(100 * (t1 / t0 - 1))
    assert lo <= np.mean(true) <= hi, (lo, hi, true)
    row = next(r for r in rows_of(out) if r["patient"] == HOSTILE and r["session"] == "2")
    assert row["fields"] == "2" and first["coverage_se"] is not None


def test_edge_input_unchanged(edge):
    root, _, _, before = edge
    assert digest(root) == before


# ---- privacy ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def anonymized(tmp_path_factory):
    root = tmp_path_factory.mktemp("anon") / "patients"
    for name in (HOSTILE, "jane-doe"):
        (root / name).mkdir(parents=True)
        shutil.copy2(
            sample_photos("carla-declining", "closeup")[0], root / name / "2026-01-12_closeup.jpg"
        )
    # a plain report first, into the folder the first anonymized one then replaces: its
    # files under the real names must go
    plain = run_cli("report", str(root), "-o", str(root.parent / "out0"))
    assert plain.returncode == 0 and (root.parent / "out0" / "jane-doe").is_dir(), plain.stderr
    outs, runs = [], []
    for i in range(2):
        out = root.parent / f"out{i}"
        runs.append(
            run_cli(
                "report",
                str(root),
                "-o",
                str(out),
                "--anonymize",
                env={"HAIRTRACK_ANONYMIZE_KEY": KEY},
            )
        )
        outs.append(out)
    return root, outs, runs


def test_anonymize_leaves_no_name_anywhere(anonymized):
    _, outs, runs = anonymized
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert "jane" not in r.stderr and "Zo" not in r.stderr
    secrets = ["jane", "doe", "Zoë", "Zo\\u00eb", "O'Brien", "Brien", "&lt;b&gt;"]
    for out in outs:
        for p in out.rglob("*"):
            rel = str(p.relative_to(out))
            assert not any(s in rel for s in secrets), rel
            if p.is_file():
                for data in _searchable(p):
                    for s in secrets:
                        assert s.encode("utf-8") not in data, (rel, s)


_DATA_URI = re.compile(rb"data:image/[a-z+]+;base64,([A-Za-z0-9+/=]+)")


def _image_metadata(data: bytes) -> bytes:
    """Every text an image file carries besides its pixels (PNG text chunks, EXIF...)."""
    with Image.open(io.BytesIO(data)) as im:
        return repr(im.info).encode("utf-8") + bytes(im.getexif().tobytes())


def _searchable(path: Path) -> list[bytes]:
    """What of an output file could carry a name: its bytes, except that an image's
    pixels (on disk or embedded in HTML as base64) are left out and its metadata kept;
    compressed pixels, read as text, hold any short name by chance ('doe' turned up in
    a base64 PNG)."""
    data = path.read_bytes()
    if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".webp"}:
        return [_image_metadata(data)]
    parts = [_DATA_URI.sub(b"data:image", data)]
    parts += [_image_metadata(base64.b64decode(m)) for m in _DATA_URI.findall(data)]
    return parts


def test_anonymize_pseudonyms_are_stable(anonymized):
    _, (a, b), _ = anonymized
    pa = sorted(r["patient"] for r in rows_of(a))
    pb = sorted(r["patient"] for r in rows_of(b))
    assert pa == pb and len(set(pa)) == 2
    assert all(p.startswith("patient-") and len(p) == len("patient-") + 8 for p in pa)
    assert sorted(p.name for p in a.iterdir() if p.is_dir() and p.name != ".cache") == pa


def test_second_run_recomputes_nothing(anonymized):
    """out0 was written by a plain run first; the anonymized run over it found every
    measurement in its cache (which names nobody: see the test above)."""
    _, (a, b), _ = anonymized
    assert json.loads((a / "run.json").read_text())["cache"] == {"hits": 2, "misses": 0}
    assert json.loads((b / "run.json").read_text())["cache"] == {"hits": 0, "misses": 2}
    assert (a / "summary.csv").read_bytes() == (b / "summary.csv").read_bytes()


# ---- bad usage ------------------------------------------------------------------------


def test_exit_2_for_missing_or_empty_folder(tmp_path, capsys):
    from hairtrack.cli import main

    assert main(["report", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nothing to report" in err
    assert not (tmp_path / "o").exists()


def test_exit_2_when_out_is_inside_the_patients_folder(tmp_path, capsys):
    from hairtrack.cli import main

    (tmp_path / "p" / "jane").mkdir(parents=True)
    assert main(["report", str(tmp_path / "p"), "-o", str(tmp_path / "p" / "out")]) == 2
    assert "must not be inside" in capsys.readouterr().err
    assert not (tmp_path / "p" / "out").exists()


# ---- the pure parts -------------------------------------------------------------------


def _cmp(pct, lo, hi, verdict="no detectable change", paired=True, ok=True):
    return {
        "change": {
            "coverage_pct": pct,
            "coverage_pct_ci": None if lo is None else [lo, hi],
            "coverage_pp": pct / 10,
            "hair_count_pct": None,
            "paired": paired,
            "verdict": verdict,
        },
        "alignment": {"ok": ok},
    }


def test_combine_fields_mean_and_widened_interval():
    one = combine_fields([_cmp(10.0, -10.0, 30.0)], mdc_pct=25.0)
    assert one.coverage_pct == 10.0 and one.coverage_pct_ci == (-10.0, 30.0)
    two = combine_fields([_cmp(30.0, 10.0, 50.0), _cmp(50.0, 30.0, 70.0)], mdc_pct=25.0)
    assert two.coverage_pct == 40.0 and two.n_fields == 2
    lo, hi = two.coverage_pct_ci
    assert lo < 40 < hi and (hi - lo) < 40  # two fields: narrower than one
    assert two.verdict == "gain"
    # fields that disagree widen the interval beyond their own errors
    split = combine_fields([_cmp(-40.0, -45.0, -35.0), _cmp(40.0, 35.0, 45.0)], mdc_pct=25.0)
    assert split.coverage_pct_ci[0] < -30 and split.verdict == "no detectable change"
    # an unregistered field is left out of the mean; none registered: unreliable
    mixed = combine_fields(
        [
            _cmp(30.0, 10.0, 50.0, "gain"),
            _cmp(-80.0, -99.0, 0.0, "unreliable", paired=False, ok=False),
        ],
        mdc_pct=25.0,
    )
    assert mixed.coverage_pct == 30.0 and not mixed.alignment_ok and mixed.n_paired == 1
    none = combine_fields(
        [_cmp(5.0, -20.0, 30.0, "unreliable", paired=False, ok=False)] * 2, mdc_pct=25.0
    )
    assert none.verdict == "unreliable"
    # a registered field whose hair was too faint to read (its own verdict "unreliable")
    # does not carry the session; only such fields: unreliable
    faint = _cmp(-60.0, -75.0, -45.0, "unreliable")
    one_readable = combine_fields([_cmp(30.0, 10.0, 50.0, "gain"), faint], mdc_pct=25.0)
    assert one_readable.coverage_pct == 30.0 and one_readable.verdict == "gain"
    all_faint = combine_fields([faint, faint], mdc_pct=25.0)
    assert all_faint.verdict == "unreliable" and all_faint.coverage_pct == -60.0


def test_fit_trend_calls():
    ndc, gain, loss, unrel = "no detectable change", "gain", "loss", "unreliable"
    t = fit_trend([], [], [], [])
    assert t.call is None and t.n_sessions == 1
    t = fit_trend([30, 60], [-20.0, -40.0], [(-40, 0), (-60, -20)], [ndc, loss])
    assert t.call == "declining" and t.slope_pct_per_month < 0 and t.slope_ci[1] < 0
    t = fit_trend([30, 60, 90], [1.0, -2.0, 3.0], [(-20, 22), (-23, 19), (-18, 24)], [ndc] * 3)
    assert t.call == "stable" and t.slope_ci[0] < 0 < t.slope_ci[1]
    t = fit_trend([30, 60, 90], [None, None, 40.0], [None, None, (20, 60)], [unrel, unrel, gain])
    assert t.call == "unreliable" and t.n_reliable == 1
    # the latest verdict and the trend over all sessions point different ways
    t = fit_trend(
        [30, 60, 90, 120],
        [-30.0, -35.0, -40.0, 30.0],
        [(-35, -25), (-40, -30), (-45, -35), (5, 55)],
        [loss, loss, loss, gain],
    )
    assert t.call == "unreliable"
    # no session alone is beyond the detectable change, but the sessions together are
    days, cis = [30, 60, 90, 120], [(-25, 32), (-12, 42), (-8, 55), (-4, 57)]
    t = fit_trend(days, [3.0, 15.0, 23.0, 27.0], cis, [ndc] * 4, mdc_pct=25.0, baseline_sd_pct=8)
    assert t.call == "improving" and "trend" in t.basis
    # ... unless the line stays below it, or no minimal detectable change is given
    t = fit_trend(days, [3.0, 8.0, 10.0, 14.0], cis, [ndc] * 4, mdc_pct=25.0, baseline_sd_pct=8)
    assert t.call == "stable"
    t = fit_trend(days, [3.0, 15.0, 23.0, 27.0], cis, [ndc] * 4)
    assert t.call == "stable"
    # the error shared through the baseline widens the slope's interval
    narrow = fit_trend(days, [3.0, 15.0, 23.0, 27.0], cis, [ndc] * 4)
    wide = fit_trend(days, [3.0, 15.0, 23.0, 27.0], cis, [ndc] * 4, baseline_sd_pct=8)
    assert np.ptp(wide.slope_ci) > np.ptp(narrow.slope_ci)


def test_patient_call():
    assert patient_call([None]) is None
    assert patient_call(["unreliable", None]) == "unreliable"
    assert patient_call(["stable", "unreliable"]) == "stable"
    assert patient_call(["improving", "stable"]) == "improving"
    assert patient_call(["improving", "declining"]) == "unreliable"


def test_csv_never_starts_a_formula():
    """A folder named like a spreadsheet formula is written as text; numbers stay numbers."""
    import csv
    import io

    from hairtrack.report import CSV_COLUMNS, _csv_bytes

    row = {k: None for k in CSV_COLUMNS}
    row.update(patient='=HYPERLINK("http://x","y")', view="@crown", coverage_change_pct=-12.5)
    rec = next(csv.DictReader(io.StringIO(_csv_bytes([row]).decode("utf-8"))))
    assert rec["patient"] == "'" + row["patient"]
    assert rec["view"] == "'@crown"
    assert rec["coverage_change_pct"] == "-12.5"


def test_adding_a_session_processes_only_its_photo(tmp_path):
    """A new session costs its own measurement and its two comparisons (with the baseline
    and with the session before); everything else comes from the cache."""
    photos = sample_photos("carla-declining", "closeup")[:3]
    root, out = tmp_path / "patients", tmp_path / "out"
    for i, photo in enumerate(photos[:2]):
        (root / "pat" / f"2026-0{i + 1}-10").mkdir(parents=True)
        shutil.copy(photo, root / "pat" / f"2026-0{i + 1}-10" / "closeup.jpg")
    first = run_cli("report", str(root), "-o", str(out))
    assert first.returncode == 0, first.stderr
    done = json.loads((out / "run.json").read_text())["cache"]
    assert done["hits"] == 0 and done["misses"] > 0
    (root / "pat" / "2026-03-10").mkdir()
    shutil.copy(photos[2], root / "pat" / "2026-03-10" / "closeup.jpg")
    second = run_cli("report", str(root), "-o", str(out))
    assert second.returncode == 0, second.stderr
    again = json.loads((out / "run.json").read_text())["cache"]
    assert again == {"hits": done["misses"], "misses": 3}
    assert [r["session"] for r in rows_of(out)] == ["1", "2", "3"]


def test_interrupted_run_leaves_the_last_report_whole(tmp_path):
    """Ctrl-C in the middle of a run: the report of the run before is still there, byte
    for byte, and no half-written (temporary) file is left behind."""
    from hairtrack.report import report

    photos = sample_photos("carla-declining", "closeup")
    root, out = tmp_path / "patients", tmp_path / "out"
    for i, photo in enumerate(photos[:2]):
        (root / "pat" / f"2026-0{i + 1}-10").mkdir(parents=True)
        shutil.copy(photo, root / "pat" / f"2026-0{i + 1}-10" / "closeup.jpg")
    report(root, out)
    before = {
        p.relative_to(out): p.read_bytes()
        for p in out.iterdir()
        if p.is_file()  # index.html, summary.csv, summary.json, run.json, cohort.png
    }
    (root / "pat" / "2026-03-10").mkdir()
    shutil.copy(photos[2], root / "pat" / "2026-03-10" / "closeup.jpg")

    def ctrl_c(done: int, total: int, what: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        report(root, out, progress=ctrl_c)
    after = {p.relative_to(out): p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in out.rglob("*.tmp")]


def _threads() -> tuple[int, int]:
    """OpenCV's threads, and the most threads any BLAS library numpy loaded may use."""
    import cv2
    import numpy as np
    from threadpoolctl import threadpool_info

    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS loaded
    blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return cv2.getNumThreads(), max(blas, default=1)


@pytest.mark.parametrize("n", [1, 2])
def test_each_worker_keeps_to_one_core(n):
    """N workers use N cores: OpenCV's and BLAS's own threads are off in every worker
    (and while one worker runs inline), and back as they were afterwards."""
    from hairtrack.series import Workers

    before = _threads()
    with Workers(n, None) as pool:
        seen = pool.map([(_threads, ())] * n, "threads")
    assert seen == [(1, 1)] * n
    assert _threads() == before


def test_default_workers_is_one_per_core_within_the_cap():
    from dataclasses import replace

    from hairtrack.series import default_workers

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_workers() == min(cores, Params().series.max_default_workers)
    capped = replace(Params(), series=replace(Params().series, max_default_workers=1))
    assert default_workers(capped) == 1


def _refuse(path: str) -> None:
    from hairtrack.errors import InputError

    raise InputError(path, "image data is truncated or corrupt")


def test_a_refused_photo_in_a_worker_is_skipped_not_fatal():
    """A worker's InputError comes back whole (it once broke the pool on unpickling)."""
    from hairtrack.errors import InputError
    from hairtrack.series import Workers

    with Workers(2, None) as pool:
        out = pool.map([(_refuse, ("a.jpg",)), (_threads, ())], "photos")
    assert isinstance(out[0], InputError)
    assert (out[0].path, out[0].reason) == ("a.jpg", "image data is truncated or corrupt")
    assert out[1] == (1, 1)
